//! A tenant's state, and the two pure functions over it: [`decide`] turns a command into events
//! (or a typed error, appending nothing), [`apply`] folds an event into the state.

use crate::documents::{
    finance, forecast, improvement, inventory, promotion, purchase_order, replenishment,
    return_auth, sales_order, transfer, work_order,
};
use crate::effects::Effects;
use crate::error::{DocumentKind, DomainError, positive};
use crate::id::{
    AdjustmentId, CarrierId, CostId, CountId, FixedAssetId, ForecastId, InitiativeId, LocationId,
    PromotionId, ProposalId, PurchaseOrderId, ReturnId, ReturnPolicyId, SalesOrderId, ServiceCode,
    Sku, SupplierId, TargetId, TransferId, WorkOrderId,
};
use crate::ledger::{Account, Balance, MoneyLedger, StockLedger, VirtualLocation};
use crate::master::{
    Address, Bom, BusinessTimeWindow, Carrier, CarrierService, Condition, Dimensions,
    InventoryPolicy, Item, Location, ReturnPolicy, Supplier, TenantSettings, TimeZoneName,
    check_bom,
};
use crate::money::{Currency, Money};
use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// What a decision may depend on besides the state and the command: the business time.
/// Passing it in keeps `decide` free of clocks, so the same inputs always give the same events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// When the command takes effect in business time.
    pub at: Timestamp,
}

/// Everything a tenant's writer holds in memory.
///
/// Its serde form is for snapshots ([`crate::codec`]): hash maps and sets are written in sorted
/// key order so equal states encode alike, and the ledgers' tuple keys need a format with
/// non-string map keys (JSON has none; [`crate::snapshot::canonical`] is the JSON view).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Tenant settings, once configured.
    pub settings: Option<TenantSettings>,
    /// Items by SKU.
    #[serde(with = "crate::codec::sorted")]
    pub items: FxHashMap<Sku, Item>,
    /// Physical locations by id.
    #[serde(with = "crate::codec::sorted")]
    pub locations: FxHashMap<LocationId, Location>,
    /// Suppliers.
    #[serde(with = "crate::codec::sorted")]
    pub suppliers: FxHashMap<SupplierId, Supplier>,
    /// Carriers.
    #[serde(with = "crate::codec::sorted")]
    pub carriers: FxHashMap<CarrierId, Carrier>,
    /// Return policies.
    #[serde(with = "crate::codec::sorted")]
    pub return_policies: FxHashMap<ReturnPolicyId, ReturnPolicy>,
    /// Inventory policies set by hand, by item: the one for every center first, then one per
    /// center.
    #[serde(default, with = "crate::codec::sorted")]
    pub inventory_policies: FxHashMap<Sku, Vec<InventoryPolicy>>,
    /// Sales orders.
    #[serde(with = "crate::codec::sorted")]
    pub sales_orders: FxHashMap<SalesOrderId, sales_order::SalesOrder>,
    /// Purchase orders.
    #[serde(with = "crate::codec::sorted")]
    pub purchase_orders: FxHashMap<PurchaseOrderId, purchase_order::PurchaseOrder>,
    /// Work orders.
    #[serde(with = "crate::codec::sorted")]
    pub work_orders: FxHashMap<WorkOrderId, work_order::WorkOrder>,
    /// Return authorisations.
    #[serde(with = "crate::codec::sorted")]
    pub returns: FxHashMap<ReturnId, return_auth::Return>,
    /// Transfers between fulfillment centers.
    #[serde(with = "crate::codec::sorted")]
    pub transfers: FxHashMap<TransferId, transfer::Transfer>,
    /// Ids of recorded stock counts.
    #[serde(with = "crate::codec::sorted")]
    pub counts: FxHashSet<CountId>,
    /// Ids of recorded stock adjustments.
    #[serde(with = "crate::codec::sorted")]
    pub adjustments: FxHashSet<AdjustmentId>,
    /// Posted supply chain costs.
    #[serde(with = "crate::codec::sorted")]
    pub costs: FxHashMap<CostId, finance::CostRecord>,
    /// Fixed assets.
    #[serde(with = "crate::codec::sorted")]
    pub fixed_assets: FxHashMap<FixedAssetId, finance::FixedAsset>,
    /// Performance targets, retired ones included.
    #[serde(with = "crate::codec::sorted")]
    pub targets: FxHashMap<TargetId, improvement::Target>,
    /// Improvement initiatives, closed ones included.
    #[serde(with = "crate::codec::sorted")]
    pub initiatives: FxHashMap<InitiativeId, improvement::Initiative>,
    /// Replenishment proposals: open ones, and decided ones until they leave memory.
    #[serde(with = "crate::codec::sorted")]
    pub proposals: FxHashMap<ProposalId, replenishment::Proposal>,
    /// Ids of published forecasts (their figures are in the log).
    #[serde(with = "crate::codec::sorted")]
    pub forecasts: FxHashSet<ForecastId>,
    /// Promotions, cancelled ones included.
    #[serde(default, with = "crate::codec::sorted")]
    pub promotions: FxHashMap<PromotionId, promotion::Promotion>,
    /// The stock ledger.
    pub stock: StockLedger,
    /// The money ledger.
    pub money: MoneyLedger,
}

impl State {
    pub(crate) fn settings(&self) -> Result<&TenantSettings, DomainError> {
        self.settings
            .as_ref()
            .ok_or(DomainError::TenantNotConfigured)
    }

    pub(crate) fn item(&self, sku: &Sku, field: &str) -> Result<&Item, DomainError> {
        self.items
            .get(sku)
            .ok_or_else(|| DomainError::not_found(DocumentKind::Item, sku, field))
    }

    /// A stocked (non-bundle) item.
    pub(crate) fn stocked_item(&self, sku: &Sku, field: &str) -> Result<&Item, DomainError> {
        let item = self.item(sku, field)?;
        if item.is_bundle() {
            return Err(DomainError::invalid(
                field,
                format!("{sku} is a bundle and is never stocked; use its components"),
            ));
        }
        Ok(item)
    }

    pub(crate) fn fulfillment_center(
        &self,
        id: &LocationId,
        field: &str,
    ) -> Result<&Location, DomainError> {
        match self.locations.get(id) {
            Some(location) => Ok(location),
            None if VirtualLocation::from_id(id).is_some() => {
                Err(DomainError::NotAFulfillmentCenter {
                    field: field.into(),
                    location: id.clone(),
                })
            }
            None => Err(DomainError::not_found(DocumentKind::Location, id, field)),
        }
    }

    pub(crate) fn carrier_service(
        &self,
        carrier: &CarrierId,
        service: &ServiceCode,
    ) -> Result<&CarrierService, DomainError> {
        let found = self
            .carriers
            .get(carrier)
            .ok_or_else(|| DomainError::not_found(DocumentKind::Carrier, carrier, "carrier"))?;
        found
            .services
            .iter()
            .find(|s| s.code == *service)
            .ok_or_else(|| {
                DomainError::invalid(
                    "service",
                    format!("carrier {carrier} has no service `{service}`"),
                )
            })
    }

    pub(crate) fn supplier(&self, id: &SupplierId, field: &str) -> Result<&Supplier, DomainError> {
        self.suppliers
            .get(id)
            .ok_or_else(|| DomainError::not_found(DocumentKind::Supplier, id, field))
    }
}

/// Configure the tenant's base currency and reporting time zone. Accepted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfigureTenant {
    /// Base currency.
    pub base_currency: Currency,
    /// Reporting time zone.
    pub reporting_time_zone: TimeZoneName,
    /// The business times commands may carry; by default ten years before the tenant's start
    /// to a day ahead of the present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_time: Option<BusinessTimeWindow>,
}

/// Define (create or update) an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DefineItem {
    /// The SKU.
    pub sku: Sku,
    /// Name.
    pub name: String,
    /// Unit of measure.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// Standard unit cost, base currency.
    pub unit_cost: Money,
    /// List price.
    pub price: Money,
    /// Weight, grams.
    #[serde(default)]
    pub weight_g: i64,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    /// HS code.
    #[serde(default)]
    pub hs_code: Option<String>,
    /// Country of origin.
    #[serde(default)]
    pub country_of_origin: Option<String>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Bill of materials (kit or bundle).
    #[serde(default)]
    pub bom: Option<Bom>,
}

fn default_unit() -> String {
    "each".into()
}

/// Define a physical location (fulfillment center or warehouse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DefineLocation {
    /// Location id.
    pub location: LocationId,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Address.
    pub address: Address,
    /// Orders the center can pick, pack and ship in a day, for capacity plans (1 to 10,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_orders_per_day: Option<i64>,
}

/// Define (create or update) a supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DefineSupplier {
    /// Supplier id.
    pub supplier: SupplierId,
    /// Name.
    pub name: String,
    /// Currency.
    pub currency: Currency,
    /// Lead time, days.
    pub lead_time_days: i64,
    /// Minimum order quantity per line.
    #[serde(default = "one")]
    pub minimum_order_quantity: i64,
    /// Payment terms, days.
    #[serde(default)]
    pub payment_terms_days: i64,
    /// Country.
    pub country: String,
}

fn one() -> i64 {
    1
}

/// Define (create or update) a carrier and its services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DefineCarrier {
    /// Carrier id.
    pub carrier: CarrierId,
    /// Name.
    pub name: String,
    /// Services.
    pub services: Vec<CarrierService>,
}

/// Define (create or update) a return policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetReturnPolicy {
    /// Policy id.
    pub policy: ReturnPolicyId,
    /// Return window, days after delivery.
    pub window_days: i64,
    /// Refundable conditions.
    pub refundable_conditions: Vec<Condition>,
}

/// The longest note on an inventory policy, in bytes.
pub const POLICY_NOTE_MAX: usize = 2_000;

/// The largest minimum order quantity or case pack a policy may set.
pub const POLICY_QUANTITY_MAX: i64 = 1_000_000_000;

/// The longest review period a policy may set, in days.
pub const POLICY_REVIEW_DAYS_MAX: i64 = 365;

/// Set an item's inventory policy at one center, or at every center: the figures given
/// replace the planner's own for that item (see [`InventoryPolicy`]). Setting it again
/// replaces the whole policy at that place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetInventoryPolicy {
    /// The item (stocked, not a bundle).
    pub sku: Sku,
    /// The fulfillment center; every center when absent.
    #[serde(default)]
    pub location: Option<LocationId>,
    /// Service target, thousandths (1 to 999).
    #[serde(default)]
    pub service_level_milli: Option<i64>,
    /// Whether the service target is a fill rate rather than a cycle service level.
    #[serde(default)]
    pub fill_rate: bool,
    /// Review period, days (1 to 365).
    #[serde(default)]
    pub review_period_days: Option<i64>,
    /// Minimum order quantity, units (1 to 1,000,000,000).
    #[serde(default)]
    pub minimum_order_quantity: Option<i64>,
    /// Units per case (1 to 1,000,000,000).
    #[serde(default)]
    pub case_pack: Option<i64>,
    /// `false` to stop proposing orders for it.
    #[serde(default)]
    pub replenish: Option<bool>,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
}

/// Remove an item's inventory policy at one center, or its policy for every center; the
/// planner's own figures apply again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClearInventoryPolicy {
    /// The item.
    pub sku: Sku,
    /// The center whose policy goes; the policy for every center when absent.
    #[serde(default)]
    pub location: Option<LocationId>,
}

crate::registry::commands! {
    /// A command: one request to change a tenant's state.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[serde(tag = "command", rename_all = "snake_case")]
    #[allow(missing_docs)]
    pub enum Command {
        ConfigureTenant(ConfigureTenant),
        DefineItem(DefineItem),
        DefineLocation(DefineLocation),
        DefineSupplier(DefineSupplier),
        DefineCarrier(DefineCarrier),
        SetReturnPolicy(SetReturnPolicy),
        SetInventoryPolicy(SetInventoryPolicy),
        ClearInventoryPolicy(ClearInventoryPolicy),
        PlaceSalesOrder(sales_order::PlaceSalesOrder),
        AllocateSalesOrder(sales_order::AllocateSalesOrder),
        DeallocateSalesOrder(sales_order::DeallocateSalesOrder),
        HoldSalesOrder(sales_order::HoldSalesOrder),
        ReleaseSalesOrder(sales_order::ReleaseSalesOrder),
        PickSalesOrder(sales_order::PickSalesOrder),
        PackSalesOrder(sales_order::PackSalesOrder),
        ShipSalesOrder(sales_order::ShipSalesOrder),
        DeliverShipment(sales_order::DeliverShipment),
        RecordCarrierException(sales_order::RecordCarrierException),
        InvoiceSalesOrder(sales_order::InvoiceSalesOrder),
        IssueCreditNote(sales_order::IssueCreditNote),
        ReceivePayment(sales_order::ReceivePayment),
        RefundPayment(sales_order::RefundPayment),
        CancelSalesOrder(sales_order::CancelSalesOrder),
        AmendSalesOrder(sales_order::AmendSalesOrder),
        PlacePurchaseOrder(purchase_order::PlacePurchaseOrder),
        ConfirmPurchaseOrder(purchase_order::ConfirmPurchaseOrder),
        ReceivePurchaseOrder(purchase_order::ReceivePurchaseOrder),
        BillPurchaseOrder(purchase_order::BillPurchaseOrder),
        PayPurchaseOrder(purchase_order::PayPurchaseOrder),
        CancelPurchaseOrder(purchase_order::CancelPurchaseOrder),
        ClosePurchaseOrder(purchase_order::ClosePurchaseOrder),
        CreateWorkOrder(work_order::CreateWorkOrder),
        StartWorkOrder(work_order::StartWorkOrder),
        CompleteWorkOrder(work_order::CompleteWorkOrder),
        CancelWorkOrder(work_order::CancelWorkOrder),
        AuthoriseReturn(return_auth::AuthoriseReturn),
        IssueReturnLabel(return_auth::IssueReturnLabel),
        ReceiveReturn(return_auth::ReceiveReturn),
        InspectReturn(return_auth::InspectReturn),
        DisposeReturn(return_auth::DisposeReturn),
        RefundReturn(return_auth::RefundReturn),
        CloseReturn(return_auth::CloseReturn),
        CreateTransfer(transfer::CreateTransfer),
        ShipTransfer(transfer::ShipTransfer),
        ReceiveTransfer(transfer::ReceiveTransfer),
        CloseTransfer(transfer::CloseTransfer),
        CancelTransfer(transfer::CancelTransfer),
        RecordCount(inventory::RecordCount),
        AdjustStock(inventory::AdjustStock),
        PostCost(finance::PostCost),
        AcquireFixedAsset(finance::AcquireFixedAsset),
        DepreciateFixedAsset(finance::DepreciateFixedAsset),
        DisposeFixedAsset(finance::DisposeFixedAsset),
        SetTarget(improvement::SetTarget),
        RetireTarget(improvement::RetireTarget),
        CreateInitiative(improvement::CreateInitiative),
        UpdateInitiative(improvement::UpdateInitiative),
        ProposeReplenishment(replenishment::ProposeReplenishment),
        ApproveProposal(replenishment::ApproveProposal),
        RejectProposal(replenishment::RejectProposal),
        PublishForecast(forecast::PublishForecast),
        PlanPromotion(promotion::PlanPromotion),
        CancelPromotion(promotion::CancelPromotion),
    }
}

impl Command {
    /// The sales order the command concerns, if it is a sales order's.
    pub fn sales_order(&self) -> Option<&SalesOrderId> {
        match self {
            Self::PlaceSalesOrder(c) => Some(&c.order),
            Self::AllocateSalesOrder(c) => Some(&c.order),
            Self::DeallocateSalesOrder(c) => Some(&c.order),
            Self::HoldSalesOrder(c) => Some(&c.order),
            Self::ReleaseSalesOrder(c) => Some(&c.order),
            Self::PickSalesOrder(c) => Some(&c.order),
            Self::PackSalesOrder(c) => Some(&c.order),
            Self::ShipSalesOrder(c) => Some(&c.order),
            Self::DeliverShipment(c) => Some(&c.order),
            Self::RecordCarrierException(c) => Some(&c.order),
            Self::InvoiceSalesOrder(c) => Some(&c.order),
            Self::IssueCreditNote(c) => Some(&c.order),
            Self::ReceivePayment(c) => Some(&c.order),
            Self::RefundPayment(c) => Some(&c.order),
            Self::CancelSalesOrder(c) => Some(&c.order),
            Self::AmendSalesOrder(c) => Some(&c.order),
            _ => None,
        }
    }
}

crate::registry::event_family! {
    /// Master data events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum MasterEvent {
        /// The tenant was configured.
        "TenantConfigured" => TenantConfigured {
            /// Settings.
            settings: TenantSettings,
        },
        /// An item was defined or redefined.
        "ItemDefined" => ItemDefined {
            /// The item.
            item: Item,
        },
        /// A location was defined.
        "LocationDefined" => LocationDefined {
            /// The location.
            location: Location,
        },
        /// A supplier was defined or redefined.
        "SupplierDefined" => SupplierDefined {
            /// The supplier.
            supplier: Supplier,
        },
        /// A carrier was defined or redefined.
        "CarrierDefined" => CarrierDefined {
            /// The carrier.
            carrier: Carrier,
        },
        /// A return policy was defined or redefined.
        "ReturnPolicySet" => ReturnPolicySet {
            /// The policy.
            policy: ReturnPolicy,
        },
        /// An item's inventory policy was set at a center, or at every center.
        "InventoryPolicySet" => InventoryPolicySet {
            /// The policy.
            policy: InventoryPolicy,
        },
        /// An item's inventory policy at a center (or for every center) was removed.
        "InventoryPolicyCleared" => InventoryPolicyCleared {
            /// The item.
            sku: Sku,
            /// The center; every center when absent.
            location: Option<LocationId>,
        },
    }
}

crate::registry::events! {
    /// An event: one recorded fact.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[serde(untagged)]
    pub enum Event {
        /// Master data.
        Master(MasterEvent),
        /// Sales orders.
        SalesOrder(sales_order::SalesOrderEvent),
        /// Purchase orders.
        PurchaseOrder(purchase_order::PurchaseOrderEvent),
        /// Work orders.
        WorkOrder(work_order::WorkOrderEvent),
        /// Return authorisations.
        Return(return_auth::ReturnEvent),
        /// Transfers.
        Transfer(transfer::TransferEvent),
        /// Counts and adjustments.
        Inventory(inventory::InventoryEvent),
        /// Costs and fixed assets.
        Finance(finance::FinanceEvent),
        /// Targets and improvement initiatives.
        Improvement(improvement::ImprovementEvent),
        /// Replenishment proposals.
        Proposal(replenishment::ProposalEvent),
        /// Published forecasts.
        Forecast(forecast::ForecastEvent),
        /// Promotions.
        Promotion(promotion::PromotionEvent),
    }
}

impl Event {
    /// The version of the payload encoding, stored beside every event.
    pub const SCHEMA_VERSION: u32 = 1;

    /// The stream (document) the event belongs to, as `kind/id`.
    pub fn stream(&self) -> String {
        let (kind, id): (DocumentKind, &str) = match self {
            Self::Master(event) => match event {
                MasterEvent::TenantConfigured { .. } => (DocumentKind::Tenant, "settings"),
                MasterEvent::ItemDefined { item } => (DocumentKind::Item, item.sku.as_str()),
                MasterEvent::LocationDefined { location } => {
                    (DocumentKind::Location, location.id.as_str())
                }
                MasterEvent::SupplierDefined { supplier } => {
                    (DocumentKind::Supplier, supplier.id.as_str())
                }
                MasterEvent::CarrierDefined { carrier } => {
                    (DocumentKind::Carrier, carrier.id.as_str())
                }
                MasterEvent::ReturnPolicySet { policy } => {
                    (DocumentKind::ReturnPolicy, policy.id.as_str())
                }
                // A policy is the item's: its changes are read on the item's stream.
                MasterEvent::InventoryPolicySet { policy } => {
                    (DocumentKind::Item, policy.sku.as_str())
                }
                MasterEvent::InventoryPolicyCleared { sku, .. } => {
                    (DocumentKind::Item, sku.as_str())
                }
            },
            Self::SalesOrder(event) => (DocumentKind::SalesOrder, event.order().as_str()),
            Self::PurchaseOrder(event) => {
                (DocumentKind::PurchaseOrder, event.purchase_order().as_str())
            }
            Self::WorkOrder(event) => (DocumentKind::WorkOrder, event.work_order().as_str()),
            Self::Return(event) => (DocumentKind::Return, event.return_id().as_str()),
            Self::Transfer(event) => (DocumentKind::Transfer, event.transfer().as_str()),
            Self::Inventory(event) => event.stream(),
            Self::Finance(event) => event.stream(),
            Self::Improvement(event) => event.stream(),
            Self::Proposal(event) => (DocumentKind::Proposal, event.proposal().as_str()),
            Self::Forecast(event) => (DocumentKind::Forecast, event.forecast().as_str()),
            Self::Promotion(event) => (DocumentKind::Promotion, event.promotion().as_str()),
        };
        crate::stream::StreamName::new(kind, id).to_string()
    }

    /// The event's effects on the ledgers, if any.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::Master(_)
            | Self::Improvement(_)
            | Self::Proposal(_)
            | Self::Forecast(_)
            | Self::Promotion(_) => None,
            Self::SalesOrder(event) => event.effects(),
            Self::PurchaseOrder(event) => event.effects(),
            Self::WorkOrder(event) => event.effects(),
            Self::Return(event) => event.effects(),
            Self::Transfer(event) => event.effects(),
            Self::Inventory(event) => event.effects(),
            Self::Finance(event) => event.effects(),
        }
    }

    /// Encodes the payload as JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes a payload written by [`Event::to_json`] for the given type and schema version.
    /// The stored type name picks the family, so the payload is parsed once, without buffering.
    pub fn from_json(event_type: &str, schema_version: u32, payload: &str) -> Result<Self, String> {
        Currency::decoding_recorded(|| Self::decode(event_type, schema_version, payload))
    }

    fn decode(event_type: &str, schema_version: u32, payload: &str) -> Result<Self, String> {
        if schema_version != Self::SCHEMA_VERSION {
            return Err(format!(
                "{event_type}: unknown schema version {schema_version}"
            ));
        }
        let event = Self::decode_payload(event_type, payload)?;
        if event.type_name() != event_type {
            return Err(format!(
                "payload is a {} but the row says {event_type}",
                event.type_name()
            ));
        }
        Ok(event)
    }
}

fn lift<E>(
    wrap: impl Fn(E) -> Event,
    result: Result<Vec<E>, DomainError>,
) -> Result<Vec<Event>, DomainError> {
    result.map(|events| events.into_iter().map(wrap).collect())
}

/// Decides what a command means in the given state: the events to record, or why not.
/// Pure: the same state, command and context always give the same result.
pub fn decide(state: &State, command: &Command, ctx: &Context) -> Result<Vec<Event>, DomainError> {
    let events = decide_command(state, command, ctx)?;
    within_ledger_range(state, &events)?;
    Ok(events)
}

/// Refuses (`overflow`) effects that would take a ledger balance past the range of `i64`.
///
/// Every amount and quantity a command carries fits in an `i64`, but a balance is the sum of
/// many: two costs of 2^62 minor units each already overflow the cash account. `apply` cannot
/// fail, so it is checked here, against the balances the events would leave one after another,
/// before anything is recorded.
fn within_ledger_range(state: &State, events: &[Event]) -> Result<(), DomainError> {
    let mut money: FxHashMap<(Account, Currency), i64> = FxHashMap::default();
    let mut stock: FxHashMap<(Sku, LocationId), Balance> = FxHashMap::default();
    let step = |balance: i64, change: Option<i64>, field: &str| {
        change
            .and_then(|change| balance.checked_add(change))
            .ok_or_else(|| DomainError::overflow(field))
    };
    for effects in events.iter().filter_map(Event::effects) {
        for posting in &effects.journal.postings {
            let (account, currency) = (posting.account, posting.amount.currency);
            let balance = money
                .entry((account, currency))
                .or_insert_with(|| state.money.balance(account, currency));
            *balance = step(*balance, Some(posting.amount.amount_minor), "amount_minor")?;
        }
        for movement in &effects.moves {
            let leaving = (-1, &movement.from);
            let arriving = (1, &movement.to);
            for (sign, location) in [leaving, arriving] {
                let balance = stock
                    .entry((movement.sku.clone(), location.clone()))
                    .or_insert_with(|| state.stock.balance(&movement.sku, location));
                let quantity = movement.quantity.checked_mul(sign);
                balance.on_hand = step(balance.on_hand, quantity, "quantity")?;
                let value = movement.value_minor.checked_mul(sign);
                balance.value_minor = step(balance.value_minor, value, "value_minor")?;
            }
        }
        for change in &effects.reservations {
            let balance = stock
                .entry((change.sku.clone(), change.location.clone()))
                .or_insert_with(|| state.stock.balance(&change.sku, &change.location));
            balance.reserved = step(balance.reserved, Some(change.quantity), "quantity")?;
        }
    }
    Ok(())
}

fn decide_command(
    state: &State,
    command: &Command,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    use sales_order as so;
    let sales = Event::SalesOrder;
    let purchase = Event::PurchaseOrder;
    let work = Event::WorkOrder;
    let returns = Event::Return;
    let transfers = Event::Transfer;
    let stock = Event::Inventory;
    let finances = Event::Finance;
    let improvements = Event::Improvement;
    match command {
        Command::ConfigureTenant(c) => configure_tenant(state, c),
        Command::DefineItem(c) => define_item(state, c),
        Command::DefineLocation(c) => define_location(state, c),
        Command::DefineSupplier(c) => define_supplier(state, c),
        Command::DefineCarrier(c) => define_carrier(state, c),
        Command::SetReturnPolicy(c) => set_return_policy(state, c),
        Command::SetInventoryPolicy(c) => set_inventory_policy(state, c),
        Command::ClearInventoryPolicy(c) => clear_inventory_policy(state, c),
        Command::PlaceSalesOrder(c) => lift(sales, so::place(state, c, ctx)),
        Command::AllocateSalesOrder(c) => lift(sales, so::allocate(state, c, ctx)),
        Command::DeallocateSalesOrder(c) => lift(sales, so::deallocate(state, c, ctx)),
        Command::HoldSalesOrder(c) => lift(sales, so::hold(state, c, ctx)),
        Command::ReleaseSalesOrder(c) => lift(sales, so::release(state, c, ctx)),
        Command::PickSalesOrder(c) => lift(sales, so::pick(state, c, ctx)),
        Command::PackSalesOrder(c) => lift(sales, so::pack(state, c, ctx)),
        Command::ShipSalesOrder(c) => lift(sales, so::ship(state, c, ctx)),
        Command::DeliverShipment(c) => lift(sales, so::deliver(state, c, ctx)),
        Command::RecordCarrierException(c) => lift(sales, so::carrier_exception(state, c, ctx)),
        Command::InvoiceSalesOrder(c) => lift(sales, so::invoice(state, c, ctx)),
        Command::IssueCreditNote(c) => lift(sales, so::credit_note(state, c, ctx)),
        Command::ReceivePayment(c) => lift(sales, so::receive_payment(state, c, ctx)),
        Command::RefundPayment(c) => lift(sales, so::refund_payment(state, c, ctx)),
        Command::CancelSalesOrder(c) => lift(sales, so::cancel(state, c, ctx)),
        Command::AmendSalesOrder(c) => lift(sales, so::amend(state, c, ctx)),
        Command::PlacePurchaseOrder(c) => lift(purchase, purchase_order::place(state, c, ctx)),
        Command::ConfirmPurchaseOrder(c) => lift(purchase, purchase_order::confirm(state, c, ctx)),
        Command::ReceivePurchaseOrder(c) => lift(purchase, purchase_order::receive(state, c, ctx)),
        Command::BillPurchaseOrder(c) => lift(purchase, purchase_order::bill(state, c, ctx)),
        Command::PayPurchaseOrder(c) => lift(purchase, purchase_order::pay(state, c, ctx)),
        Command::CancelPurchaseOrder(c) => lift(purchase, purchase_order::cancel(state, c, ctx)),
        Command::ClosePurchaseOrder(c) => lift(purchase, purchase_order::close(state, c, ctx)),
        Command::CreateWorkOrder(c) => lift(work, work_order::create(state, c, ctx)),
        Command::StartWorkOrder(c) => lift(work, work_order::start(state, c, ctx)),
        Command::CompleteWorkOrder(c) => lift(work, work_order::complete(state, c, ctx)),
        Command::CancelWorkOrder(c) => lift(work, work_order::cancel(state, c, ctx)),
        Command::AuthoriseReturn(c) => return_auth::authorise(state, c, ctx),
        Command::IssueReturnLabel(c) => lift(returns, return_auth::issue_label(state, c, ctx)),
        Command::ReceiveReturn(c) => lift(returns, return_auth::receive(state, c, ctx)),
        Command::InspectReturn(c) => lift(returns, return_auth::inspect(state, c, ctx)),
        // A repair disposition also opens a work order: the module returns tenant events.
        Command::DisposeReturn(c) => return_auth::dispose(state, c, ctx),
        Command::RefundReturn(c) => lift(returns, return_auth::refund(state, c, ctx)),
        Command::CloseReturn(c) => return_auth::close(state, c, ctx),
        Command::CreateTransfer(c) => lift(transfers, transfer::create(state, c, ctx)),
        Command::ShipTransfer(c) => lift(transfers, transfer::ship(state, c, ctx)),
        Command::ReceiveTransfer(c) => lift(transfers, transfer::receive(state, c, ctx)),
        Command::CloseTransfer(c) => lift(transfers, transfer::close(state, c, ctx)),
        Command::CancelTransfer(c) => lift(transfers, transfer::cancel(state, c, ctx)),
        Command::RecordCount(c) => lift(stock, inventory::record_count(state, c, ctx)),
        Command::AdjustStock(c) => lift(stock, inventory::adjust(state, c, ctx)),
        Command::PostCost(c) => lift(finances, finance::post_cost(state, c, ctx)),
        Command::AcquireFixedAsset(c) => lift(finances, finance::acquire(state, c, ctx)),
        Command::DepreciateFixedAsset(c) => lift(finances, finance::depreciate(state, c, ctx)),
        Command::DisposeFixedAsset(c) => lift(finances, finance::dispose(state, c, ctx)),
        Command::SetTarget(c) => lift(improvements, improvement::set_target(state, c, ctx)),
        Command::RetireTarget(c) => lift(improvements, improvement::retire_target(state, c, ctx)),
        Command::CreateInitiative(c) => {
            lift(improvements, improvement::create_initiative(state, c, ctx))
        }
        Command::UpdateInitiative(c) => {
            lift(improvements, improvement::update_initiative(state, c, ctx))
        }
        Command::ProposeReplenishment(c) => {
            lift(Event::Proposal, replenishment::propose(state, c, ctx))
        }
        Command::ApproveProposal(c) => {
            use replenishment::Decided;
            Ok(match replenishment::approve(state, c, ctx)? {
                Decided::Purchase(approved, placed) => std::iter::once(Event::Proposal(approved))
                    .chain(placed.into_iter().map(purchase))
                    .collect(),
                Decided::Transfer(approved, created) => std::iter::once(Event::Proposal(approved))
                    .chain(created.into_iter().map(transfers))
                    .collect(),
            })
        }
        Command::RejectProposal(c) => lift(Event::Proposal, replenishment::reject(state, c, ctx)),
        Command::PublishForecast(c) => lift(Event::Forecast, forecast::publish(state, c, ctx)),
        Command::PlanPromotion(c) => lift(Event::Promotion, promotion::plan(state, c, ctx)),
        Command::CancelPromotion(c) => lift(Event::Promotion, promotion::cancel(state, c, ctx)),
    }
}

/// Folds an event into the state: first its ledger effects, then the document.
pub fn apply(state: &mut State, event: &Event) {
    if let Some(effects) = event.effects() {
        for movement in &effects.moves {
            state.stock.apply_move(movement);
        }
        for change in &effects.reservations {
            state
                .stock
                .reserve(&change.sku, &change.location, change.quantity);
        }
        state.money.post(&effects.journal);
    }
    apply_document_only(state, event);
}

/// Folds an event into its document only (see [`crate::retention::apply_document`]).
pub(crate) fn apply_document_only(state: &mut State, event: &Event) {
    match event {
        Event::Master(event) => apply_master(state, event),
        Event::SalesOrder(event) => sales_order::apply(&mut state.sales_orders, event),
        Event::PurchaseOrder(event) => purchase_order::apply(&mut state.purchase_orders, event),
        Event::WorkOrder(event) => work_order::apply(&mut state.work_orders, event),
        Event::Return(event) => {
            return_auth::apply(&mut state.returns, event);
        }
        Event::Transfer(event) => transfer::apply(&mut state.transfers, event),
        Event::Inventory(event) => {
            inventory::apply(&mut state.counts, &mut state.adjustments, event);
        }
        Event::Finance(event) => finance::apply(&mut state.costs, &mut state.fixed_assets, event),
        Event::Improvement(event) => {
            improvement::apply(&mut state.targets, &mut state.initiatives, event);
        }
        Event::Proposal(event) => replenishment::apply(&mut state.proposals, event),
        Event::Forecast(event) => forecast::apply(&mut state.forecasts, event),
        Event::Promotion(event) => promotion::apply(&mut state.promotions, event),
    }
}

fn apply_master(state: &mut State, event: &MasterEvent) {
    match event {
        MasterEvent::TenantConfigured { settings } => state.settings = Some(settings.clone()),
        MasterEvent::ItemDefined { item } => {
            state.items.insert(item.sku.clone(), item.clone());
        }
        MasterEvent::LocationDefined { location } => {
            state
                .locations
                .insert(location.id.clone(), location.clone());
        }
        MasterEvent::SupplierDefined { supplier } => {
            state
                .suppliers
                .insert(supplier.id.clone(), supplier.clone());
        }
        MasterEvent::CarrierDefined { carrier } => {
            state.carriers.insert(carrier.id.clone(), carrier.clone());
        }
        MasterEvent::ReturnPolicySet { policy } => {
            state
                .return_policies
                .insert(policy.id.clone(), policy.clone());
        }
        MasterEvent::InventoryPolicySet { policy } => {
            let policies = state
                .inventory_policies
                .entry(policy.sku.clone())
                .or_default();
            policies.retain(|held| held.location != policy.location);
            policies.push(policy.clone());
            // The policy for every center first, then the centers in order.
            policies.sort_by(|a, b| a.location.cmp(&b.location));
        }
        MasterEvent::InventoryPolicyCleared { sku, location } => {
            if let Some(policies) = state.inventory_policies.get_mut(sku) {
                policies.retain(|held| held.location != *location);
                if policies.is_empty() {
                    state.inventory_policies.remove(sku);
                }
            }
        }
    }
}

fn master(event: MasterEvent) -> Result<Vec<Event>, DomainError> {
    Ok(vec![Event::Master(event)])
}

fn configure_tenant(state: &State, command: &ConfigureTenant) -> Result<Vec<Event>, DomainError> {
    if state.settings.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Tenant,
            id: "settings".into(),
        });
    }
    let business_time = command.business_time.unwrap_or_default();
    business_time.validate("business_time")?;
    master(MasterEvent::TenantConfigured {
        settings: TenantSettings {
            base_currency: command.base_currency,
            reporting_time_zone: command.reporting_time_zone.clone(),
            business_time,
        },
    })
}

fn check_country(field: &str, country: &str) -> Result<(), DomainError> {
    if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("`{country}` is not an ISO 3166-1 alpha-2 code (e.g. US)"),
        ))
    }
}

fn define_item(state: &State, command: &DefineItem) -> Result<Vec<Event>, DomainError> {
    let settings = state.settings()?;
    if command.unit_cost.currency != settings.base_currency {
        return Err(DomainError::CurrencyMismatch {
            field: "unit_cost".into(),
            expected: settings.base_currency,
            actual: command.unit_cost.currency,
        });
    }
    if command.unit_cost.amount_minor < 0 {
        return Err(DomainError::invalid(
            "unit_cost.amount_minor",
            "must not be negative",
        ));
    }
    if command.price.amount_minor < 0 {
        return Err(DomainError::invalid(
            "price.amount_minor",
            "must not be negative",
        ));
    }
    if command.weight_g < 0 {
        return Err(DomainError::invalid("weight_g", "must not be negative"));
    }
    if let Some(dimensions) = &command.dimensions {
        for (name, value) in [
            ("length_mm", dimensions.length_mm),
            ("width_mm", dimensions.width_mm),
            ("height_mm", dimensions.height_mm),
        ] {
            positive(|| format!("dimensions.{name}"), value)?;
        }
    }
    if let Some(country) = &command.country_of_origin {
        check_country("country_of_origin", country)?;
    }
    if let Some(bom) = &command.bom {
        check_bom(&command.sku, bom, &|sku: &Sku| state.items.get(sku))?;
    }
    if let Some(existing) = state.items.get(&command.sku) {
        // Stock of an item cannot turn into a bundle (bundles are never stocked).
        let becomes_bundle = !existing.is_bundle()
            && matches!(
                &command.bom,
                Some(Bom {
                    kind: crate::master::BomKind::Bundle,
                    ..
                })
            );
        let stocked = state.stock.iter().any(|((sku, location), balance)| {
            sku == &command.sku && crate::effects::is_valued(location) && balance.on_hand != 0
        });
        if becomes_bundle && stocked {
            return Err(DomainError::invalid(
                "bom.kind",
                format!("{} has stock and cannot become a bundle", command.sku),
            ));
        }
    }
    master(MasterEvent::ItemDefined {
        item: Item {
            sku: command.sku.clone(),
            name: command.name.clone(),
            unit: command.unit.clone(),
            unit_cost: command.unit_cost,
            price: command.price,
            weight_g: command.weight_g,
            dimensions: command.dimensions,
            hs_code: command.hs_code.clone(),
            country_of_origin: command.country_of_origin.clone(),
            category: command.category.clone(),
            bom: command.bom.clone(),
        },
    })
}

/// The largest pick/pack capacity a center may state, orders a day.
pub const CAPACITY_ORDERS_PER_DAY_MAX: i64 = 10_000_000;

fn define_location(state: &State, command: &DefineLocation) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    if VirtualLocation::from_id(&command.location).is_some() {
        return Err(DomainError::invalid(
            "location",
            format!("`{}` is reserved for a virtual location", command.location),
        ));
    }
    if state.locations.contains_key(&command.location) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Location,
            id: command.location.to_string(),
        });
    }
    command.address.validate("address")?;
    if let Some(capacity) = command.capacity_orders_per_day
        && !(1..=CAPACITY_ORDERS_PER_DAY_MAX).contains(&capacity)
    {
        return Err(DomainError::invalid(
            "capacity_orders_per_day",
            format!("must be from 1 to {CAPACITY_ORDERS_PER_DAY_MAX} orders a day, is {capacity}"),
        ));
    }
    master(MasterEvent::LocationDefined {
        location: Location {
            id: command.location.clone(),
            name: command.name.clone(),
            region: command.region.clone(),
            address: command.address.clone(),
            capacity_orders_per_day: command.capacity_orders_per_day,
        },
    })
}

fn define_supplier(state: &State, command: &DefineSupplier) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    if command.lead_time_days < 0 {
        return Err(DomainError::invalid(
            "lead_time_days",
            "must not be negative",
        ));
    }
    positive(
        || "minimum_order_quantity".into(),
        command.minimum_order_quantity,
    )?;
    if command.payment_terms_days < 0 {
        return Err(DomainError::invalid(
            "payment_terms_days",
            "must not be negative",
        ));
    }
    check_country("country", &command.country)?;
    master(MasterEvent::SupplierDefined {
        supplier: Supplier {
            id: command.supplier.clone(),
            name: command.name.clone(),
            currency: command.currency,
            lead_time_days: command.lead_time_days,
            minimum_order_quantity: command.minimum_order_quantity,
            payment_terms_days: command.payment_terms_days,
            country: command.country.clone(),
        },
    })
}

impl State {
    /// The policy in force for `sku` at `location`: the center's own over the item's policy
    /// for every center; `None` when neither is set.
    pub fn inventory_policy(&self, sku: &Sku, location: &LocationId) -> Option<InventoryPolicy> {
        let policies = self.inventory_policies.get(sku)?;
        let every = policies.iter().find(|p| p.location.is_none());
        let own = policies
            .iter()
            .find(|p| p.location.as_ref() == Some(location));
        match (own, every) {
            (Some(own), Some(every)) => Some(own.over(every)),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        }
    }
}

fn set_inventory_policy(
    state: &State,
    command: &SetInventoryPolicy,
) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    state.stocked_item(&command.sku, "sku")?;
    if let Some(location) = &command.location {
        state.fulfillment_center(location, "location")?;
    }
    if let Some(level) = command.service_level_milli
        && !(1..=999).contains(&level)
    {
        return Err(DomainError::invalid(
            "service_level_milli",
            format!("must be from 1 to 999 thousandths (0.1 % to 99.9 %), is {level}"),
        ));
    }
    if command.fill_rate && command.service_level_milli.is_none() {
        return Err(DomainError::invalid(
            "fill_rate",
            "says the service level is a fill rate, but no service_level_milli is given",
        ));
    }
    if let Some(days) = command.review_period_days
        && !(1..=POLICY_REVIEW_DAYS_MAX).contains(&days)
    {
        return Err(DomainError::invalid(
            "review_period_days",
            format!("must be from 1 to {POLICY_REVIEW_DAYS_MAX} days, is {days}"),
        ));
    }
    for (field, value) in [
        ("minimum_order_quantity", command.minimum_order_quantity),
        ("case_pack", command.case_pack),
    ] {
        if let Some(value) = value
            && !(1..=POLICY_QUANTITY_MAX).contains(&value)
        {
            return Err(DomainError::invalid(
                field,
                format!("must be from 1 to {POLICY_QUANTITY_MAX} units, is {value}"),
            ));
        }
    }
    if let Some(note) = &command.note
        && note.len() > POLICY_NOTE_MAX
    {
        return Err(DomainError::invalid(
            "note",
            format!("is {} bytes; the limit is {POLICY_NOTE_MAX}", note.len()),
        ));
    }
    let sets_nothing = command.service_level_milli.is_none()
        && command.review_period_days.is_none()
        && command.minimum_order_quantity.is_none()
        && command.case_pack.is_none()
        && command.replenish.is_none();
    if sets_nothing {
        return Err(DomainError::invalid(
            "service_level_milli",
            "the policy sets nothing: give at least one of service_level_milli, review_period_days, minimum_order_quantity, case_pack or replenish (ClearInventoryPolicy removes one)",
        ));
    }
    master(MasterEvent::InventoryPolicySet {
        policy: InventoryPolicy {
            sku: command.sku.clone(),
            location: command.location.clone(),
            service_level_milli: command.service_level_milli,
            fill_rate: command.fill_rate,
            review_period_days: command.review_period_days,
            minimum_order_quantity: command.minimum_order_quantity,
            case_pack: command.case_pack,
            replenish: command.replenish,
            note: command.note.clone(),
        },
    })
}

fn clear_inventory_policy(
    state: &State,
    command: &ClearInventoryPolicy,
) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    state.item(&command.sku, "sku")?;
    let held = state
        .inventory_policies
        .get(&command.sku)
        .is_some_and(|policies| policies.iter().any(|p| p.location == command.location));
    if !held {
        let place = command
            .location
            .as_ref()
            .map_or_else(|| "every center".to_string(), |l| l.to_string());
        return Err(DomainError::invalid(
            "location",
            format!("{} has no inventory policy set for {place}", command.sku),
        ));
    }
    master(MasterEvent::InventoryPolicyCleared {
        sku: command.sku.clone(),
        location: command.location.clone(),
    })
}

fn define_carrier(state: &State, command: &DefineCarrier) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    if command.services.is_empty() {
        return Err(DomainError::invalid(
            "services",
            "a carrier needs at least one service",
        ));
    }
    for (index, service) in command.services.iter().enumerate() {
        if command.services[..index]
            .iter()
            .any(|other| other.code == service.code)
        {
            return Err(DomainError::invalid(
                format!("services[{index}].code"),
                format!("`{}` is listed twice", service.code),
            ));
        }
        if service.transit_days < 0 {
            return Err(DomainError::invalid(
                format!("services[{index}].transit_days"),
                "must not be negative",
            ));
        }
    }
    master(MasterEvent::CarrierDefined {
        carrier: Carrier {
            id: command.carrier.clone(),
            name: command.name.clone(),
            services: command.services.clone(),
        },
    })
}

fn set_return_policy(state: &State, command: &SetReturnPolicy) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    if command.window_days < 0 {
        return Err(DomainError::invalid("window_days", "must not be negative"));
    }
    master(MasterEvent::ReturnPolicySet {
        policy: ReturnPolicy {
            id: command.policy.clone(),
            window_days: command.window_days,
            refundable_conditions: command.refundable_conditions.clone(),
        },
    })
}

#[cfg(test)]
mod inventory_policy_tests {
    use super::*;
    use crate::documents::testkit::{T0, id, ok, rejected, tenant};

    fn set(sku: &str, location: Option<&str>) -> SetInventoryPolicy {
        SetInventoryPolicy {
            sku: id(sku),
            location: location.map(id),
            service_level_milli: None,
            fill_rate: false,
            review_period_days: None,
            minimum_order_quantity: None,
            case_pack: None,
            replenish: None,
            note: None,
        }
    }

    #[test]
    fn a_centers_policy_takes_what_it_leaves_out_from_the_items_policy_for_every_center() {
        let mut state = tenant();
        ok(
            &mut state,
            Command::SetInventoryPolicy(SetInventoryPolicy {
                service_level_milli: Some(980),
                case_pack: Some(12),
                note: Some("cartons of a dozen".into()),
                ..set("MUG", None)
            }),
            T0,
        );
        ok(
            &mut state,
            Command::SetInventoryPolicy(SetInventoryPolicy {
                service_level_milli: Some(900),
                fill_rate: true,
                review_period_days: Some(7),
                ..set("MUG", Some("FC-WEST"))
            }),
            T0,
        );
        let (mug, east, west) = (id("MUG"), id("FC-EAST"), id("FC-WEST"));
        // East has no policy of its own: the item's applies whole.
        let at_east = state.inventory_policy(&mug, &east).unwrap();
        assert_eq!(
            (
                at_east.service_level_milli,
                at_east.fill_rate,
                at_east.case_pack
            ),
            (Some(980), false, Some(12))
        );
        // West sets a 90 % fill rate and a weekly review; the case pack of 12 comes from the
        // item's policy.
        let at_west = state.inventory_policy(&mug, &west).unwrap();
        assert_eq!(
            (
                at_west.service_level_milli,
                at_west.fill_rate,
                at_west.review_period_days,
                at_west.case_pack,
            ),
            (Some(900), true, Some(7), Some(12))
        );
        assert_eq!(state.inventory_policy(&id("LID"), &east), None);

        // Clearing the item's policy leaves West's own.
        let cleared = ok(
            &mut state,
            Command::ClearInventoryPolicy(ClearInventoryPolicy {
                sku: id("MUG"),
                location: None,
            }),
            T0,
        );
        assert_eq!(cleared[0].stream(), "item/MUG");
        assert_eq!(state.inventory_policy(&mug, &east), None);
        assert_eq!(state.inventory_policy(&mug, &west).unwrap().case_pack, None);
    }

    #[test]
    fn a_policy_for_an_unknown_item_or_out_of_range_figure_is_refused_naming_the_field() {
        let mut state = tenant();
        let cases: Vec<(SetInventoryPolicy, &str)> = vec![
            (
                SetInventoryPolicy {
                    service_level_milli: Some(950),
                    ..set("NOPE", None)
                },
                "sku",
            ),
            (
                SetInventoryPolicy {
                    service_level_milli: Some(950),
                    ..set("DUO", None)
                },
                "sku",
            ),
            (
                SetInventoryPolicy {
                    service_level_milli: Some(950),
                    ..set("MUG", Some("FC-NOWHERE"))
                },
                "location",
            ),
            (
                SetInventoryPolicy {
                    service_level_milli: Some(1000),
                    ..set("MUG", None)
                },
                "service_level_milli",
            ),
            (
                SetInventoryPolicy {
                    fill_rate: true,
                    case_pack: Some(6),
                    ..set("MUG", None)
                },
                "fill_rate",
            ),
            (
                SetInventoryPolicy {
                    review_period_days: Some(0),
                    ..set("MUG", None)
                },
                "review_period_days",
            ),
            (
                SetInventoryPolicy {
                    case_pack: Some(0),
                    ..set("MUG", None)
                },
                "case_pack",
            ),
            (
                SetInventoryPolicy {
                    minimum_order_quantity: Some(POLICY_QUANTITY_MAX + 1),
                    ..set("MUG", None)
                },
                "minimum_order_quantity",
            ),
            (set("MUG", None), "service_level_milli"),
        ];
        for (command, field) in cases {
            let error = rejected(&mut state, Command::SetInventoryPolicy(command.clone()), T0);
            let named = serde_json::to_value(&error).unwrap()["field"].clone();
            assert_eq!(named, field, "{command:?}: {error}");
        }
        assert!(state.inventory_policies.is_empty());
        let error = rejected(
            &mut state,
            Command::ClearInventoryPolicy(ClearInventoryPolicy {
                sku: id("MUG"),
                location: Some(id("FC-EAST")),
            }),
            T0,
        );
        assert!(
            error
                .to_string()
                .contains("no inventory policy set for FC-EAST"),
            "{error}"
        );
    }
}
