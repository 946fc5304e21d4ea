//! The API's collections of documents, with their paths. How a document is shown is the
//! domain's ([`flowline_core::rendered`], re-exported here): the same shape for `GET` and for the
//! response to the command that changed the document.

use flowline_core::error::DocumentKind;

pub use flowline_core::rendered::{document, from_stream, target, with_state};

/// A kind of record the API lists and reads, with its path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// Items (SKUs), kits and bundles.
    Items,
    /// Fulfillment centers.
    Locations,
    /// Suppliers.
    Suppliers,
    /// Carriers and their services.
    Carriers,
    /// Return policies.
    ReturnPolicies,
    /// Sales orders.
    SalesOrders,
    /// Purchase orders.
    PurchaseOrders,
    /// Work orders.
    WorkOrders,
    /// Return authorisations.
    Returns,
    /// Transfers between fulfillment centers.
    Transfers,
    /// Stock counts.
    Counts,
    /// Stock adjustments.
    Adjustments,
    /// Supply chain costs.
    Costs,
    /// Fixed assets.
    FixedAssets,
    /// Performance targets.
    Targets,
    /// Improvement initiatives.
    Initiatives,
    /// Replenishment proposals.
    Proposals,
    /// Published demand forecasts.
    Forecasts,
    /// Planned promotions.
    Promotions,
}

impl Collection {
    /// Every collection.
    pub const ALL: [Self; 19] = [
        Self::Items,
        Self::Locations,
        Self::Suppliers,
        Self::Carriers,
        Self::ReturnPolicies,
        Self::SalesOrders,
        Self::PurchaseOrders,
        Self::WorkOrders,
        Self::Returns,
        Self::Transfers,
        Self::Counts,
        Self::Adjustments,
        Self::Costs,
        Self::FixedAssets,
        Self::Targets,
        Self::Initiatives,
        Self::Proposals,
        Self::Forecasts,
        Self::Promotions,
    ];

    /// The path segment under `/v1`.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Items => "items",
            Self::Locations => "locations",
            Self::Suppliers => "suppliers",
            Self::Carriers => "carriers",
            Self::ReturnPolicies => "return-policies",
            Self::SalesOrders => "sales-orders",
            Self::PurchaseOrders => "purchase-orders",
            Self::WorkOrders => "work-orders",
            Self::Returns => "returns",
            Self::Transfers => "transfers",
            Self::Counts => "counts",
            Self::Adjustments => "adjustments",
            Self::Costs => "costs",
            Self::FixedAssets => "fixed-assets",
            Self::Targets => "targets",
            Self::Initiatives => "initiatives",
            Self::Proposals => "proposals",
            Self::Forecasts => "forecasts",
            Self::Promotions => "promotions",
        }
    }

    /// The document kind, which names its streams (`sales_order/SO-1`).
    pub fn kind(self) -> DocumentKind {
        match self {
            Self::Items => DocumentKind::Item,
            Self::Locations => DocumentKind::Location,
            Self::Suppliers => DocumentKind::Supplier,
            Self::Carriers => DocumentKind::Carrier,
            Self::ReturnPolicies => DocumentKind::ReturnPolicy,
            Self::SalesOrders => DocumentKind::SalesOrder,
            Self::PurchaseOrders => DocumentKind::PurchaseOrder,
            Self::WorkOrders => DocumentKind::WorkOrder,
            Self::Returns => DocumentKind::Return,
            Self::Transfers => DocumentKind::Transfer,
            Self::Counts => DocumentKind::Count,
            Self::Adjustments => DocumentKind::Adjustment,
            Self::Costs => DocumentKind::Cost,
            Self::FixedAssets => DocumentKind::FixedAsset,
            Self::Targets => DocumentKind::Target,
            Self::Initiatives => DocumentKind::Initiative,
            Self::Proposals => DocumentKind::Proposal,
            Self::Forecasts => DocumentKind::Forecast,
            Self::Promotions => DocumentKind::Promotion,
        }
    }

    /// The collection of a document kind.
    pub fn of_kind(kind: DocumentKind) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.kind() == kind)
    }

    /// The name of the SCOR process the collection belongs to, used as the OpenAPI tag.
    pub fn process(self) -> &'static str {
        match self {
            Self::Items | Self::Locations | Self::Carriers | Self::ReturnPolicies => "Enable",
            Self::Counts | Self::Adjustments | Self::Costs | Self::FixedAssets => "Enable",
            Self::Targets | Self::Initiatives => "Enable",
            Self::Suppliers | Self::PurchaseOrders => "Source",
            Self::WorkOrders => "Make",
            Self::SalesOrders | Self::Transfers => "Deliver",
            Self::Returns => "Return",
            Self::Proposals | Self::Forecasts | Self::Promotions => "Plan",
        }
    }

    /// The singular name of one record, for messages and summaries.
    pub fn singular(self) -> &'static str {
        match self {
            Self::Items => "item",
            Self::Locations => "location",
            Self::Suppliers => "supplier",
            Self::Carriers => "carrier",
            Self::ReturnPolicies => "return policy",
            Self::SalesOrders => "sales order",
            Self::PurchaseOrders => "purchase order",
            Self::WorkOrders => "work order",
            Self::Returns => "return",
            Self::Transfers => "transfer",
            Self::Counts => "count",
            Self::Adjustments => "adjustment",
            Self::Costs => "cost",
            Self::FixedAssets => "fixed asset",
            Self::Targets => "target",
            Self::Initiatives => "initiative",
            Self::Proposals => "replenishment proposal",
            Self::Forecasts => "forecast",
            Self::Promotions => "promotion",
        }
    }
}
