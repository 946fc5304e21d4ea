//! The sales order's commands and the values they carry (lines, promises, allocation requests,
//! packages): what a channel or a person asks the order to do.

use crate::id::{
    CarrierId, ChannelId, CustomerId, InvoiceId, LocationId, PaymentId, ReasonCode, SalesOrderId,
    ServiceCode, ShipmentId, Sku,
};
use crate::master::{Address, Contact};
use crate::money::{Currency, ExchangeRate, Money};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Where a delivery promise came from (SCOR-METRICS §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromiseSource {
    /// Shown to the customer at checkout.
    ShownAtCheckout,
    /// Derived from the channel's service level when the order was accepted.
    Derived,
}

/// A delivery promise: a local date in the ship-to time zone, or a window of instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Promise {
    /// Where the promise came from.
    pub source: PromiseSource,
    /// Deliver by the end of this date, in the ship-to time zone.
    #[serde(default)]
    pub deliver_by: Option<Date>,
    /// Or deliver within this window (start inclusive, end exclusive).
    #[serde(default)]
    pub window: Option<(Timestamp, Timestamp)>,
    /// Ship-by deadline given by the cut-off rule.
    #[serde(default)]
    pub ship_by: Option<Timestamp>,
}

/// Who asked for a change or cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    /// The customer.
    Customer,
    /// The seller (stock-out, fraud, cannot fulfil).
    Seller,
}

/// What to do when an allocation finds too little stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShortagePolicy {
    /// Allocate what fits and backorder the rest.
    Backorder,
    /// Refuse the whole allocation.
    Reject,
}

/// Condition in which a shipment was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryCondition {
    /// Delivered intact.
    Intact,
    /// Delivered damaged.
    Damaged,
}

/// A line as ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    /// The item.
    pub sku: Sku,
    /// Units ordered.
    pub quantity: i64,
    /// Price per unit, order currency minor units.
    pub unit_price_minor: i64,
    /// Sales tax per unit, order currency minor units.
    #[serde(default)]
    pub unit_tax_minor: i64,
}

/// A quantity against one order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    /// Index of the line in the order (0-based).
    pub line: usize,
    /// Units.
    pub quantity: i64,
}

/// A request to allocate a line at a given fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// Index of the line.
    pub line: usize,
    /// The fulfillment center.
    pub location: LocationId,
    /// Units.
    pub quantity: i64,
}

/// A package used at packing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Packaging type (`box-s`, `mailer`, ...).
    pub kind: String,
    /// Mass of the packaging, grams.
    pub mass_g: i64,
}

/// Place a sales order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceSalesOrder {
    /// New order id.
    pub order: SalesOrderId,
    /// Sales channel.
    pub channel: ChannelId,
    /// Customer.
    pub customer: CustomerId,
    /// How the customer is named and reached, for the people handling the order.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Ship-to address and time zone.
    pub ship_to: Address,
    /// Order currency.
    pub currency: Currency,
    /// Base-currency units per unit of the order's currency, when it is not the tenant's base
    /// currency: required then (and refused otherwise), so every amount of the order can be
    /// reported in the base currency at the rate of the day it was placed.
    #[serde(default)]
    pub exchange_rate: Option<ExchangeRate>,
    /// Lines.
    pub lines: Vec<OrderLineInput>,
    /// Delivery promise, if one was made.
    #[serde(default)]
    pub promise: Option<Promise>,
    /// Service level (`standard`, `next_day`).
    #[serde(default)]
    pub service_level: Option<String>,
    /// Shipping charged to the customer, order currency minor units.
    #[serde(default)]
    pub shipping_charge_minor: i64,
    /// Allocate in the same step, with this shortage policy.
    #[serde(default)]
    pub allocate: Option<ShortagePolicy>,
}

/// Allocate (reserve) stock for an order's unallocated quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AllocateSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// What to do on shortage.
    pub shortage: ShortagePolicy,
    /// Explicit allocations; when absent, every unallocated line is allocated automatically,
    /// preferring the center that can fill the whole order, then splitting across centers.
    #[serde(default)]
    pub lines: Option<Vec<AllocationRequest>>,
}

/// Release an allocation that has not been picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeallocateSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// Line index.
    pub line: usize,
    /// Fulfillment center.
    pub location: LocationId,
    /// Units to release.
    pub quantity: i64,
}

/// Put an order on hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HoldSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// Why (`payment`, `fraud_review`, `customer_request`, `preorder_release`).
    pub reason: ReasonCode,
}

/// Release a held order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReleaseSalesOrder {
    /// The order.
    pub order: SalesOrderId,
}

/// Pick allocated units at a fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PickSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// Fulfillment center.
    pub location: LocationId,
    /// Lines and units.
    pub lines: Vec<LineQuantity>,
}

/// Pack picked units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PackSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// Fulfillment center.
    pub location: LocationId,
    /// Lines and units.
    pub lines: Vec<LineQuantity>,
    /// Packaging used.
    #[serde(default)]
    pub package: Option<Package>,
}

/// Hand packed units to a carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// New shipment id.
    pub shipment: ShipmentId,
    /// Fulfillment center shipped from.
    pub location: LocationId,
    /// Carrier.
    pub carrier: CarrierId,
    /// Carrier service.
    pub service: ServiceCode,
    /// Tracking number.
    #[serde(default)]
    pub tracking: Option<String>,
    /// Gross weight, grams.
    pub weight_g: i64,
    /// Lines and units.
    pub lines: Vec<LineQuantity>,
}

/// Record the delivery of a shipment (proof of delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliverShipment {
    /// The order.
    pub order: SalesOrderId,
    /// The shipment.
    pub shipment: ShipmentId,
    /// When it was delivered; defaults to the command's business time.
    #[serde(default)]
    pub delivered_at: Option<Timestamp>,
    /// Condition on arrival.
    pub condition: DeliveryCondition,
    /// Delivered somewhere other than the ship-to address.
    #[serde(default)]
    pub misdelivered: bool,
    /// Free-text note (recipient, pickup point).
    #[serde(default)]
    pub note: Option<String>,
}

/// Record a carrier exception on a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordCarrierException {
    /// The order.
    pub order: SalesOrderId,
    /// The shipment.
    pub shipment: ShipmentId,
    /// Exception code (`address_error`, `damaged`, `lost`, `customs_documentation`).
    pub code: ReasonCode,
}

/// Invoice everything shipped and not yet invoiced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InvoiceSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// New invoice id.
    pub invoice: InvoiceId,
}

/// Issue a credit note correcting an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueCreditNote {
    /// The order.
    pub order: SalesOrderId,
    /// New credit note id.
    pub credit_note: InvoiceId,
    /// Amount credited.
    pub amount: Money,
    /// Why (`billing_error`, `tax_error`, `price_error`, `goodwill`).
    pub reason: ReasonCode,
}

/// Record a customer payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivePayment {
    /// The order.
    pub order: SalesOrderId,
    /// New payment id.
    pub payment: PaymentId,
    /// Amount received.
    pub amount: Money,
}

/// Give money back to the customer that was paid but not earned (cancelled lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundPayment {
    /// The order.
    pub order: SalesOrderId,
    /// New refund id.
    pub refund: PaymentId,
    /// Amount refunded.
    pub amount: Money,
    /// Why.
    pub reason: ReasonCode,
}

/// Cancel unshipped quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// Who cancelled.
    pub initiator: Initiator,
    /// Why (`changed_mind`, `out_of_stock`, `payment_failed`, `fraud`, `duplicate`).
    pub reason: ReasonCode,
    /// Lines and quantities; absent cancels everything not shipped.
    #[serde(default)]
    pub lines: Option<Vec<LineQuantity>>,
}

/// Amend an order before it ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AmendSalesOrder {
    /// The order.
    pub order: SalesOrderId,
    /// Who asked for the change.
    pub initiator: Initiator,
    /// New ordered quantities of existing lines.
    #[serde(default)]
    pub set_quantities: Vec<LineQuantity>,
    /// Lines to add.
    #[serde(default)]
    pub add_lines: Vec<OrderLineInput>,
    /// New ship-to address.
    #[serde(default)]
    pub ship_to: Option<Address>,
    /// New promise.
    #[serde(default)]
    pub promise: Option<Promise>,
}
