//! The operation table: every route of the API, once.
//!
//! Each [`Operation`] carries its method, path, the access it needs, what its body and
//! response look like (as schema functions) and its handler. The router is built from this table
//! and so is the OpenAPI document, so the two cannot disagree; `tests/api.rs` checks it anyway,
//! by sending a request to every documented operation and comparing the router's registrations
//! with the document.
//!
//! Master data is written with `PUT /v1/<collection>/{id}` (define: create or replace);
//! documents are created with `POST /v1/<collection>` (ids are chosen by the client, so a
//! retried create names the same document); every later step of a document's life cycle is a
//! `POST` on a sub-resource (`POST /v1/sales-orders/{id}/shipments`), never a status field a
//! client overwrites.

use crate::App;
use crate::auth::Access;
use crate::handlers;
use crate::render::Collection;
use axum::http::{Method, StatusCode};
use axum::routing::MethodRouter;
use flowline_core::Command;
use flowline_core::documents::{
    finance as fi, forecast as fc, improvement as im, inventory as inv, promotion as pm,
    purchase_order as po, replenishment as rp, return_auth as ra, sales_order as so,
    transfer as tr, work_order as wo,
};
use flowline_core::state as st;
use schemars::{JsonSchema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A schema, registered with the generator (which collects the named components).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Value;

/// A query parameter an operation accepts.
#[derive(Debug, Clone, Copy)]
pub struct QueryParameter {
    /// Its name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// The values it takes.
    pub json_type: QueryType,
}

/// The values a query parameter takes, as the OpenAPI document states them.
#[derive(Debug, Clone, Copy)]
pub enum QueryType {
    /// Any string (the handler parses and checks it).
    String,
    /// A whole number in `minimum..=maximum`: exactly the range the handler accepts, so a
    /// client (or a contract fuzzer) reading the document cannot be surprised by a refusal.
    Integer {
        /// The smallest value accepted.
        minimum: u64,
        /// The largest value accepted.
        maximum: u64,
    },
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

/// `limit`: a page of 1 to [`crate::handlers::PAGE_LIMIT_MAX`] records.
pub const PAGE_SIZE: QueryType = QueryType::Integer {
    minimum: 1,
    maximum: crate::handlers::PAGE_LIMIT_MAX as u64,
};

/// A sequence number of the tenant's log, 0 for "before the first event". Sequence numbers are
/// stored as SQLite's signed 64-bit integers, so none is above `i64::MAX`.
pub const SEQUENCE_NUMBER: QueryType = QueryType::Integer {
    minimum: 0,
    maximum: i64::MAX as u64,
};

/// What an operation answers with when it succeeds.
#[derive(Debug, Clone)]
pub enum Success {
    /// JSON of this schema.
    Json(SchemaFn),
    /// One record of a collection.
    Document(Collection),
    /// A page of a collection's records.
    List(Collection),
    /// A command's outcome: the events recorded and the document of this collection (the
    /// tenant's settings when `None`) as it stands after the command.
    Command(Option<Collection>),
    /// Server-sent events.
    EventStream,
    /// Plain text (the Prometheus exposition).
    Text,
}

/// The body an operation takes.
#[derive(Debug, Clone)]
pub struct Body {
    /// The command's schema (a `$ref` to a named component).
    pub schema: SchemaFn,
    /// Path parameters and the body fields they fill: `("id", "order")`.
    pub path_fields: &'static [(&'static str, &'static str)],
}

/// One operation of the API.
pub struct Operation {
    /// HTTP method.
    pub method: Method,
    /// Path, in the router's and OpenAPI's shared syntax (`/v1/sales-orders/{id}`).
    pub path: String,
    /// Stable operation id (`ship_sales_order`).
    pub id: String,
    /// One-line summary; for commands, the command's own description when empty.
    pub summary: String,
    /// The SCOR process it belongs to (or `Platform`), the OpenAPI tag.
    pub tag: &'static str,
    /// What access it needs.
    pub access: Access,
    /// Its body, for commands.
    pub body: Option<Body>,
    /// Query parameters.
    pub query: &'static [QueryParameter],
    /// The success status.
    pub status: StatusCode,
    /// The success response.
    pub success: Success,
    /// The handler.
    pub handler: MethodRouter<App>,
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// A command operation: the body is `C` without the fields the path gives.
#[allow(clippy::too_many_arguments)]
fn command<C>(
    method: Method,
    path: &str,
    id: &'static str,
    path_fields: &'static [(&'static str, &'static str)],
    access: Access,
    status: StatusCode,
    tag: &'static str,
    wrap: fn(C) -> Command,
) -> Operation
where
    C: DeserializeOwned + JsonSchema + Send + 'static,
{
    Operation {
        handler: handlers::command_handler(method.clone(), id, path_fields, access, status, wrap),
        method,
        path: path.to_string(),
        id: id.to_string(),
        summary: String::new(),
        tag,
        access,
        body: Some(Body {
            schema: schema_of::<C>,
            path_fields,
        }),
        query: &[],
        status,
        success: Success::Command(
            Collection::ALL
                .into_iter()
                .find(|c| path.split('/').nth(2) == Some(c.segment())),
        ),
    }
}

const NONE: &[(&str, &str)] = &[];
const ITEM: &[(&str, &str)] = &[("id", "sku")];
const LOCATION: &[(&str, &str)] = &[("id", "location")];
const SUPPLIER: &[(&str, &str)] = &[("id", "supplier")];
const CARRIER: &[(&str, &str)] = &[("id", "carrier")];
const POLICY: &[(&str, &str)] = &[("id", "policy")];
const SALES_ORDER: &[(&str, &str)] = &[("id", "order")];
const SHIPMENT: &[(&str, &str)] = &[("id", "order"), ("shipment", "shipment")];
const PURCHASE_ORDER: &[(&str, &str)] = &[("id", "purchase_order")];
const WORK_ORDER: &[(&str, &str)] = &[("id", "work_order")];
const RETURN: &[(&str, &str)] = &[("id", "return_id")];
const TRANSFER: &[(&str, &str)] = &[("id", "transfer")];
const FIXED_ASSET: &[(&str, &str)] = &[("id", "asset")];
const TARGET: &[(&str, &str)] = &[("id", "target")];
const INITIATIVE: &[(&str, &str)] = &[("id", "initiative")];
const PROPOSAL: &[(&str, &str)] = &[("id", "proposal")];
const PROMOTION: &[(&str, &str)] = &[("id", "promotion")];

/// One row per command: method, path, operation id, the path's body fields, access, success
/// status, OpenAPI tag, and the command (variant and type).
macro_rules! command_table {
    ($($method:ident $path:literal $id:ident $fields:ident $access:ident $status:ident $tag:ident
        $variant:ident($($type:ident)::+);)*) => {
        vec![$(
            command::<$($type)::+>(
                Method::$method,
                $path,
                stringify!($id),
                $fields,
                Access::$access,
                StatusCode::$status,
                stringify!($tag),
                Command::$variant,
            )
        ),*]
    };
}

/// Every command operation.
fn commands() -> Vec<Operation> {
    command_table! {
        // Enable: settings and master data.
        PUT "/v1/settings" configure_tenant NONE Administer OK Enable ConfigureTenant(st::ConfigureTenant);
        PUT "/v1/items/{id}" define_item ITEM Administer OK Enable DefineItem(st::DefineItem);
        PUT "/v1/locations/{id}" define_location LOCATION Administer OK Enable DefineLocation(st::DefineLocation);
        PUT "/v1/suppliers/{id}" define_supplier SUPPLIER Administer OK Source DefineSupplier(st::DefineSupplier);
        PUT "/v1/carriers/{id}" define_carrier CARRIER Administer OK Deliver DefineCarrier(st::DefineCarrier);
        PUT "/v1/return-policies/{id}" set_return_policy POLICY Administer OK Return SetReturnPolicy(st::SetReturnPolicy);
        // Plan: an item's inventory policy, set by hand over the planner's settings.
        PUT "/v1/items/{id}/policy" set_inventory_policy ITEM Operate OK Plan SetInventoryPolicy(st::SetInventoryPolicy);
        POST "/v1/items/{id}/policy/clearances" clear_inventory_policy ITEM Operate OK Plan ClearInventoryPolicy(st::ClearInventoryPolicy);
        // Deliver: sales orders.
        POST "/v1/sales-orders" place_sales_order NONE Operate CREATED Deliver PlaceSalesOrder(so::PlaceSalesOrder);
        POST "/v1/sales-orders/{id}/allocations" allocate_sales_order SALES_ORDER Operate OK Deliver AllocateSalesOrder(so::AllocateSalesOrder);
        POST "/v1/sales-orders/{id}/deallocations" deallocate_sales_order SALES_ORDER Operate OK Deliver DeallocateSalesOrder(so::DeallocateSalesOrder);
        POST "/v1/sales-orders/{id}/holds" hold_sales_order SALES_ORDER Operate OK Deliver HoldSalesOrder(so::HoldSalesOrder);
        POST "/v1/sales-orders/{id}/releases" release_sales_order SALES_ORDER Operate OK Deliver ReleaseSalesOrder(so::ReleaseSalesOrder);
        POST "/v1/sales-orders/{id}/picks" pick_sales_order SALES_ORDER Operate OK Deliver PickSalesOrder(so::PickSalesOrder);
        POST "/v1/sales-orders/{id}/packs" pack_sales_order SALES_ORDER Operate OK Deliver PackSalesOrder(so::PackSalesOrder);
        POST "/v1/sales-orders/{id}/shipments" ship_sales_order SALES_ORDER Operate CREATED Deliver ShipSalesOrder(so::ShipSalesOrder);
        POST "/v1/sales-orders/{id}/shipments/{shipment}/deliveries" deliver_shipment SHIPMENT Operate OK Deliver DeliverShipment(so::DeliverShipment);
        POST "/v1/sales-orders/{id}/shipments/{shipment}/exceptions" record_carrier_exception SHIPMENT Operate OK Deliver RecordCarrierException(so::RecordCarrierException);
        POST "/v1/sales-orders/{id}/invoices" invoice_sales_order SALES_ORDER Operate CREATED Deliver InvoiceSalesOrder(so::InvoiceSalesOrder);
        POST "/v1/sales-orders/{id}/credit-notes" issue_credit_note SALES_ORDER Operate CREATED Deliver IssueCreditNote(so::IssueCreditNote);
        POST "/v1/sales-orders/{id}/payments" receive_payment SALES_ORDER Operate CREATED Deliver ReceivePayment(so::ReceivePayment);
        POST "/v1/sales-orders/{id}/refunds" refund_payment SALES_ORDER Operate CREATED Deliver RefundPayment(so::RefundPayment);
        POST "/v1/sales-orders/{id}/cancellations" cancel_sales_order SALES_ORDER Operate OK Deliver CancelSalesOrder(so::CancelSalesOrder);
        POST "/v1/sales-orders/{id}/amendments" amend_sales_order SALES_ORDER Operate OK Deliver AmendSalesOrder(so::AmendSalesOrder);
        // Source: purchase orders.
        POST "/v1/purchase-orders" place_purchase_order NONE Operate CREATED Source PlacePurchaseOrder(po::PlacePurchaseOrder);
        POST "/v1/purchase-orders/{id}/confirmations" confirm_purchase_order PURCHASE_ORDER Operate OK Source ConfirmPurchaseOrder(po::ConfirmPurchaseOrder);
        POST "/v1/purchase-orders/{id}/receipts" receive_purchase_order PURCHASE_ORDER Operate CREATED Source ReceivePurchaseOrder(po::ReceivePurchaseOrder);
        POST "/v1/purchase-orders/{id}/bills" bill_purchase_order PURCHASE_ORDER Operate CREATED Source BillPurchaseOrder(po::BillPurchaseOrder);
        POST "/v1/purchase-orders/{id}/payments" pay_purchase_order PURCHASE_ORDER Operate CREATED Source PayPurchaseOrder(po::PayPurchaseOrder);
        POST "/v1/purchase-orders/{id}/cancellations" cancel_purchase_order PURCHASE_ORDER Operate OK Source CancelPurchaseOrder(po::CancelPurchaseOrder);
        POST "/v1/purchase-orders/{id}/closures" close_purchase_order PURCHASE_ORDER Operate OK Source ClosePurchaseOrder(po::ClosePurchaseOrder);
        // Make: work orders.
        POST "/v1/work-orders" create_work_order NONE Operate CREATED Make CreateWorkOrder(wo::CreateWorkOrder);
        POST "/v1/work-orders/{id}/starts" start_work_order WORK_ORDER Operate OK Make StartWorkOrder(wo::StartWorkOrder);
        POST "/v1/work-orders/{id}/completions" complete_work_order WORK_ORDER Operate OK Make CompleteWorkOrder(wo::CompleteWorkOrder);
        POST "/v1/work-orders/{id}/cancellations" cancel_work_order WORK_ORDER Operate OK Make CancelWorkOrder(wo::CancelWorkOrder);
        // Return: return authorisations.
        POST "/v1/returns" authorise_return NONE Operate CREATED Return AuthoriseReturn(ra::AuthoriseReturn);
        POST "/v1/returns/{id}/labels" issue_return_label RETURN Operate CREATED Return IssueReturnLabel(ra::IssueReturnLabel);
        POST "/v1/returns/{id}/receipts" receive_return RETURN Operate CREATED Return ReceiveReturn(ra::ReceiveReturn);
        POST "/v1/returns/{id}/inspections" inspect_return RETURN Operate CREATED Return InspectReturn(ra::InspectReturn);
        POST "/v1/returns/{id}/dispositions" dispose_return RETURN Operate CREATED Return DisposeReturn(ra::DisposeReturn);
        POST "/v1/returns/{id}/refunds" refund_return RETURN Operate CREATED Return RefundReturn(ra::RefundReturn);
        POST "/v1/returns/{id}/closures" close_return RETURN Operate OK Return CloseReturn(ra::CloseReturn);
        // Deliver: transfers between fulfillment centers.
        POST "/v1/transfers" create_transfer NONE Operate CREATED Deliver CreateTransfer(tr::CreateTransfer);
        POST "/v1/transfers/{id}/shipments" ship_transfer TRANSFER Operate CREATED Deliver ShipTransfer(tr::ShipTransfer);
        POST "/v1/transfers/{id}/receipts" receive_transfer TRANSFER Operate CREATED Deliver ReceiveTransfer(tr::ReceiveTransfer);
        POST "/v1/transfers/{id}/closures" close_transfer TRANSFER Operate OK Deliver CloseTransfer(tr::CloseTransfer);
        POST "/v1/transfers/{id}/cancellations" cancel_transfer TRANSFER Operate OK Deliver CancelTransfer(tr::CancelTransfer);
        // Enable: counts, adjustments, costs, fixed assets.
        POST "/v1/counts" record_count NONE Operate CREATED Enable RecordCount(inv::RecordCount);
        POST "/v1/adjustments" adjust_stock NONE Operate CREATED Enable AdjustStock(inv::AdjustStock);
        POST "/v1/costs" post_cost NONE Administer CREATED Enable PostCost(fi::PostCost);
        POST "/v1/fixed-assets" acquire_fixed_asset NONE Administer CREATED Enable AcquireFixedAsset(fi::AcquireFixedAsset);
        POST "/v1/fixed-assets/{id}/depreciations" depreciate_fixed_asset FIXED_ASSET Administer CREATED Enable DepreciateFixedAsset(fi::DepreciateFixedAsset);
        POST "/v1/fixed-assets/{id}/disposals" dispose_fixed_asset FIXED_ASSET Administer CREATED Enable DisposeFixedAsset(fi::DisposeFixedAsset);
        // Enable: targets say what good looks like for the whole tenant, so setting and
        // retiring them is an administrator's decision; initiatives are the improvement work
        // itself, planned and run by operators.
        PUT "/v1/targets/{id}" set_target TARGET Administer OK Enable SetTarget(im::SetTarget);
        POST "/v1/targets/{id}/retirements" retire_target TARGET Administer OK Enable RetireTarget(im::RetireTarget);
        POST "/v1/initiatives" create_initiative NONE Operate CREATED Enable CreateInitiative(im::CreateInitiative);
        POST "/v1/initiatives/{id}/updates" update_initiative INITIATIVE Operate OK Enable UpdateInitiative(im::UpdateInitiative);
        // Plan: replenishment proposals. The planner records them (POST /v1/plan/replenishment);
        // a person approves one, which places its purchase order or creates its transfer, or
        // rejects it with a reason.
        POST "/v1/proposals" propose_replenishment NONE Operate CREATED Plan ProposeReplenishment(rp::ProposeReplenishment);
        POST "/v1/proposals/{id}/approvals" approve_proposal PROPOSAL Operate OK Plan ApproveProposal(rp::ApproveProposal);
        POST "/v1/proposals/{id}/rejections" reject_proposal PROPOSAL Operate OK Plan RejectProposal(rp::RejectProposal);
        // Plan: a forecast published from elsewhere is measured like the planner's own.
        POST "/v1/forecasts" publish_forecast NONE Operate CREATED Plan PublishForecast(fc::PublishForecast);
        // Plan: promotions planned ahead, which the forecasts lift on their days.
        POST "/v1/promotions" plan_promotion NONE Operate CREATED Plan PlanPromotion(pm::PlanPromotion);
        POST "/v1/promotions/{id}/cancellations" cancel_promotion PROMOTION Operate OK Plan CancelPromotion(pm::CancelPromotion);
    }
}

/// The reads of every collection: list, get one, and the document's own events.
fn collection_reads() -> Vec<Operation> {
    let mut operations = Vec::new();
    for collection in Collection::ALL {
        let segment = collection.segment();
        let kind = collection.kind().as_str();
        let singular = collection.singular();
        operations.push(Operation {
            method: Method::GET,
            path: format!("/v1/{segment}"),
            id: format!("list_{}", segment.replace('-', "_")),
            summary: format!("List {singular} records: filtered, sorted, a page at a time"),
            tag: collection.process(),
            access: Access::Read,
            body: None,
            query: crate::lists::parameters(collection),
            status: StatusCode::OK,
            success: Success::List(collection),
            handler: handlers::list_handler(collection),
        });
        operations.push(Operation {
            method: Method::GET,
            path: format!("/v1/{segment}/{{id}}"),
            id: format!("get_{kind}"),
            summary: format!("Get one {singular}"),
            tag: collection.process(),
            access: Access::Read,
            body: None,
            query: &[],
            status: StatusCode::OK,
            success: Success::Document(collection),
            handler: handlers::get_handler(collection),
        });
        operations.push(Operation {
            method: Method::GET,
            path: format!("/v1/{segment}/{{id}}/events"),
            id: format!("list_{kind}_events"),
            summary: format!("The {singular}'s own events, oldest first: its whole history"),
            tag: collection.process(),
            access: Access::Read,
            body: None,
            query: &[],
            status: StatusCode::OK,
            success: Success::Json(crate::openapi::event_list),
            handler: handlers::document_events_handler(collection),
        });
    }
    operations
}

/// The filters of `GET /v1/inventory`.
pub const INVENTORY_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "item",
        description: "Only this SKU.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "location",
        description: "Only this fulfillment center.",
        json_type: QueryType::String,
    },
];

/// The cursor and page size of `GET /v1/events`.
pub const FEED_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "after",
        description: "Return events with a sequence number above this one (default 0).",
        json_type: SEQUENCE_NUMBER,
    },
    QueryParameter {
        name: "limit",
        description: "Events per page: 1 to 1000, default 100.",
        json_type: PAGE_SIZE,
    },
];

/// The starting point of `GET /v1/events/stream`.
pub const STREAM_QUERY: &[QueryParameter] = &[QueryParameter {
    name: "after",
    description: "Start after this sequence number; `Last-Event-ID` takes precedence.",
    json_type: SEQUENCE_NUMBER,
}];

/// One row per read: path, operation id, tag, access, query parameters, success response,
/// handler and summary.
macro_rules! read_table {
    ($($path:literal $id:ident $tag:ident $access:ident $query:ident $success:expr, $handler:expr,
        $summary:literal;)*) => {
        vec![$(
            Operation {
                method: Method::GET,
                path: $path.to_string(),
                id: stringify!($id).to_string(),
                summary: $summary.to_string(),
                tag: stringify!($tag),
                access: Access::$access,
                body: None,
                query: $query,
                status: StatusCode::OK,
                success: $success,
                handler: $handler,
            }
        ),*]
    };
}

const NO_QUERY: &[QueryParameter] = &[];

/// Reads that are not per collection, and the platform's own routes.
fn other_reads() -> Vec<Operation> {
    use crate::feed::{page_handler, stream_handler};
    use crate::openapi as doc;
    use crate::plan_routes::{
        ACCURACY_QUERY, CAPACITY_QUERY, FORECAST_QUERY, PLACEMENT_QUERY, REPLENISHMENT_QUERY,
    };
    use crate::scorecard_routes::{
        METRIC_QUERY, SCORECARD_QUERY, metric_handler, scorecard_handler,
    };
    use handlers::*;
    read_table! {
        "/v1/settings" get_settings Enable Read NO_QUERY Success::Json(doc::settings_schema), settings_handler(),
            "The tenant's base currency and reporting time zone";
        "/v1/inventory" list_inventory Plan Feed INVENTORY_QUERY Success::Json(doc::inventory_schema), inventory_handler(),
            "Inventory positions per item and fulfillment center: on hand, reserved, available, in transit, on order, value";
        "/v1/accounts" list_accounts Enable Read NO_QUERY Success::Json(doc::accounts_schema), accounts_handler(),
            "Money ledger balances per account and currency (debit positive)";
        "/v1/events" list_events Enable Feed FEED_QUERY Success::Json(doc::event_page), page_handler(),
            "The tenant's events in order, a page at a time: the information flow";
        "/v1/events/stream" stream_events Enable Feed STREAM_QUERY Success::EventStream, stream_handler(),
            "The tenant's events as server-sent events, from a position on, live; resumes with Last-Event-ID";
        "/v1/scorecard" get_scorecard Enable Read SCORECARD_QUERY Success::Json(doc::scorecard_schema), scorecard_handler(),
            "The SCOR scorecard of a range: Level-1 metrics with the Level-2 metrics that explain them, failure signatures, operational KPIs, optionally by dimension";
        "/v1/metrics/{id}" get_scorecard_metric Enable Read METRIC_QUERY Success::Json(doc::metric_schema), metric_handler(),
            "One metric of the scorecard with its Level-2 metrics, failure signatures, or the documents behind it";
        "/v1/plan/replenishment" preview_replenishment Plan Read REPLENISHMENT_QUERY Success::Json(doc::any_object), crate::plan_routes::preview_handler(),
            "What the planner would order now, per item and center, each quantity with its explanation (forecast over the protection interval + safety stock − position, lot sizing, rounding) and the suppliers it weighed; records nothing";
        "/v1/plan/policy" get_inventory_policies Plan Read REPLENISHMENT_QUERY Success::Json(doc::any_object), crate::plan_routes::policy_handler(),
            "The inventory policy in force at every item and center: the planner's settings (from the query) under the policies set by hand on the items, each figure with where it came from (center, item or planner), and what it orders today with its figures (protection interval, forecast over it, safety stock, order-up-to level, position, economic order quantity, rounding); records nothing";
        "/v1/plan/accuracy" get_forecast_accuracy Plan Read ACCURACY_QUERY Success::Json(doc::any_object), crate::plan_routes::accuracy_handler(),
            "How the published forecasts did against what customers then ordered: WAPE, forecast accuracy (1 − WAPE), bias and MASE over a range of days, by week, by lag, for the worst items, and by center and by channel (the forecast's shares judged where they were made)";
        "/v1/plan/forecast" get_demand_forecast Plan Read FORECAST_QUERY Success::Json(doc::any_object), crate::plan_routes::forecast_handler(),
            "Each stocked item's daily demand forecast over every channel (stock-out and promotion days left out of the fit, the days of planned promotions lifted), with its interval, the model chosen, the last days' actual orders and units received back, and the item's return rate; a page of items at a time; records nothing";
        "/v1/plan/placement" preview_placement Plan Read PLACEMENT_QUERY Success::Json(doc::any_object), crate::plan_routes::placement_preview_handler(),
            "Where stock should sit: each item's units per center that serve the regions' recent demand at the least shipping cost and transit time (a linear program), the expected cost and days before and after, each lane's cost and transit (measured from the log or assumed from the distance) and the transfers that get there; records nothing";
        "/v1/plan/capacity" get_capacity_plan Plan Read CAPACITY_QUERY Success::Json(doc::any_object), crate::plan_routes::capacity_handler(),
            "Each fulfillment center's orders forecast week by week (promotions included) against the orders it can pick and pack a day, with the weeks likely to exceed it flagged and their shortfall";
        "/v1/me" get_me Platform Feed NO_QUERY Success::Json(doc::me_schema), me_handler(),
            "The tenant and role of the calling key";
        "/v1/openapi.json" get_openapi Platform Public NO_QUERY Success::Json(doc::any_object), openapi_handler(),
            "This OpenAPI document";
        "/health" get_health Platform Public NO_QUERY Success::Json(doc::any_object), health_handler(),
            "Whether the server is up and its log readable";
        "/metrics" get_metrics Platform Public NO_QUERY Success::Text, metrics_handler(),
            "Counters in the Prometheus text format";
    }
}

/// Every operation of the API, in the order the OpenAPI document lists them.
pub fn operations() -> Vec<Operation> {
    let mut all = other_reads();
    all.push(Operation {
        method: Method::POST,
        path: "/v1/plan/replenishment".to_string(),
        id: "record_replenishment".to_string(),
        summary: "Run the planner and record its proposals (one per supplier and center, ids \
                  `RP-<log position>-<n>`), all or none; an item and center with a proposal \
                  still waiting for a decision is skipped"
            .to_string(),
        tag: "Plan",
        access: Access::Operate,
        body: None,
        query: crate::plan_routes::REPLENISHMENT_QUERY,
        status: StatusCode::CREATED,
        success: Success::Json(crate::openapi::any_object),
        handler: crate::plan_routes::record_handler(),
    });
    all.push(Operation {
        method: Method::POST,
        path: "/v1/plan/placement".to_string(),
        id: "record_placement".to_string(),
        summary: "Plan where stock should sit and record each transfer that gets there as a \
                  proposal to approve (ids `PL-<log position>-<n>`), all or none; an item with a \
                  transfer proposal still waiting for a decision is skipped"
            .to_string(),
        tag: "Plan",
        access: Access::Operate,
        body: None,
        query: crate::plan_routes::PLACEMENT_QUERY,
        status: StatusCode::CREATED,
        success: Success::Json(crate::openapi::any_object),
        handler: crate::plan_routes::placement_record_handler(),
    });
    all.extend(collection_reads());
    all.extend(commands());
    all
}
