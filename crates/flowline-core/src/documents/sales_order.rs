//! Deliver: the sales order, from placement to payment.
//!
//! Life cycle: placed → (held ⇄ released) → allocated per fulfillment center (partially, with
//! backorders) → picked → packed → shipped (several shipments, several centers) → delivered →
//! invoiced → paid, which closes the order. Customers and sellers may cancel what has not
//! shipped, with a reason; customers may amend lines, address and promise. Quantities are kept
//! per line and per fulfillment center, so every step checks exactly what is outstanding.

use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, add, mul, positive};
use crate::id::{
    CarrierId, ChannelId, CustomerId, InvoiceId, LocationId, PaymentId, ReasonCode, ReturnId,
    SalesOrderId, ServiceCode, ShipmentId, Sku,
};
use crate::ledger::{Account, VirtualLocation};
use crate::master::{Address, BomKind, Contact, Item};
use crate::money::{Currency, ExchangeRate, Money};
use crate::state::{Context, State};
use jiff::Timestamp;
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::SalesOrder;

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

/// An order line as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrderLine {
    /// The item.
    pub sku: Sku,
    /// Units ordered (current basis, after amendments).
    pub quantity: i64,
    /// Price per unit.
    pub unit_price_minor: i64,
    /// Tax per unit.
    pub unit_tax_minor: i64,
}

/// An allocation made at a fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllocationMade {
    /// Line index.
    pub line: usize,
    /// Fulfillment center.
    pub location: LocationId,
    /// Units of the line's item.
    pub quantity: i64,
    /// Stocked items reserved per unit of the line (the item itself, or a bundle's components).
    pub components: Vec<(Sku, i64)>,
}

/// Sales order events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type")]
pub enum SalesOrderEvent {
    /// The order was placed (`OrderPlaced` and `PromiseMade` of SCOR-METRICS §2.4).
    #[serde(rename = "SalesOrderPlaced")]
    Placed {
        /// Order id.
        order: SalesOrderId,
        /// Channel.
        channel: ChannelId,
        /// Customer.
        customer: CustomerId,
        /// The customer's name and contact details, if given (boxed: most orders have none, and
        /// every event of the log is as large as its largest kind).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact: Option<Box<Contact>>,
        /// Ship-to.
        ship_to: Address,
        /// Currency.
        currency: Currency,
        /// Base-currency units per unit of `currency`, for an order not in the base currency.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange_rate: Option<ExchangeRate>,
        /// Lines.
        lines: Vec<OrderLine>,
        /// Promise.
        promise: Option<Promise>,
        /// Service level.
        service_level: Option<String>,
        /// Shipping charge.
        shipping_charge_minor: i64,
        /// When the order was received.
        placed_at: Timestamp,
    },
    /// Stock was reserved, and/or quantities were backordered.
    #[serde(rename = "SalesOrderAllocated")]
    Allocated {
        /// Order id.
        order: SalesOrderId,
        /// Allocations made.
        allocations: Vec<AllocationMade>,
        /// Lines whose unallocated quantity is now waiting for stock (absolute quantities).
        backordered: Vec<LineQuantity>,
        /// When.
        at: Timestamp,
        /// Reservations.
        effects: Effects,
    },
    /// An allocation was released.
    #[serde(rename = "SalesOrderDeallocated")]
    Deallocated {
        /// Order id.
        order: SalesOrderId,
        /// Line.
        line: usize,
        /// Fulfillment center.
        location: LocationId,
        /// Units.
        quantity: i64,
        /// When.
        at: Timestamp,
        /// Released reservations.
        effects: Effects,
    },
    /// The order was put on hold.
    #[serde(rename = "SalesOrderHeld")]
    Held {
        /// Order id.
        order: SalesOrderId,
        /// Reason.
        reason: ReasonCode,
        /// When.
        at: Timestamp,
    },
    /// The hold was lifted.
    #[serde(rename = "SalesOrderReleased")]
    Released {
        /// Order id.
        order: SalesOrderId,
        /// When.
        at: Timestamp,
    },
    /// Units were picked.
    #[serde(rename = "SalesOrderPicked")]
    Picked {
        /// Order id.
        order: SalesOrderId,
        /// Center.
        location: LocationId,
        /// Lines.
        lines: Vec<LineQuantity>,
        /// When.
        at: Timestamp,
    },
    /// Units were packed.
    #[serde(rename = "SalesOrderPacked")]
    Packed {
        /// Order id.
        order: SalesOrderId,
        /// Center.
        location: LocationId,
        /// Lines.
        lines: Vec<LineQuantity>,
        /// Packaging.
        package: Option<Package>,
        /// When.
        at: Timestamp,
    },
    /// A shipment was handed to a carrier.
    #[serde(rename = "SalesOrderShipped")]
    Shipped {
        /// Order id.
        order: SalesOrderId,
        /// Shipment id.
        shipment: ShipmentId,
        /// Center.
        location: LocationId,
        /// Carrier.
        carrier: CarrierId,
        /// Service.
        service: ServiceCode,
        /// Tracking number.
        tracking: Option<String>,
        /// Gross weight, grams.
        weight_g: i64,
        /// Lines.
        lines: Vec<LineQuantity>,
        /// Value at cost of each line's units, base currency (parallel to `lines`).
        values_minor: Vec<i64>,
        /// When handed over.
        at: Timestamp,
        /// Moves to `customer`, released reservations, cost of goods sold.
        effects: Effects,
    },
    /// A shipment was delivered.
    #[serde(rename = "ShipmentDelivered")]
    Delivered {
        /// Order id.
        order: SalesOrderId,
        /// Shipment.
        shipment: ShipmentId,
        /// Proof-of-delivery time.
        delivered_at: Timestamp,
        /// Condition.
        condition: DeliveryCondition,
        /// Delivered to the wrong place.
        misdelivered: bool,
        /// Note.
        note: Option<String>,
    },
    /// A carrier exception was recorded.
    #[serde(rename = "CarrierExceptionRecorded")]
    CarrierException {
        /// Order id.
        order: SalesOrderId,
        /// Shipment.
        shipment: ShipmentId,
        /// Code.
        code: ReasonCode,
        /// When.
        at: Timestamp,
    },
    /// An invoice was issued.
    #[serde(rename = "SalesOrderInvoiced")]
    Invoiced {
        /// Order id.
        order: SalesOrderId,
        /// Invoice id.
        invoice: InvoiceId,
        /// Units invoiced per line.
        lines: Vec<LineQuantity>,
        /// Net amount (goods and shipping).
        net_minor: i64,
        /// Tax.
        tax_minor: i64,
        /// When.
        at: Timestamp,
        /// Receivable, revenue and tax.
        effects: Effects,
    },
    /// A credit note was issued.
    #[serde(rename = "CreditNoteIssued")]
    CreditNoteIssued {
        /// Order id.
        order: SalesOrderId,
        /// Credit note id.
        credit_note: InvoiceId,
        /// Amount.
        amount_minor: i64,
        /// Reason.
        reason: ReasonCode,
        /// When.
        at: Timestamp,
        /// Postings.
        effects: Effects,
    },
    /// A payment was received.
    #[serde(rename = "PaymentReceived")]
    PaymentReceived {
        /// Order id.
        order: SalesOrderId,
        /// Payment id.
        payment: PaymentId,
        /// Amount.
        amount_minor: i64,
        /// When.
        at: Timestamp,
        /// Postings.
        effects: Effects,
    },
    /// A payment was refunded.
    #[serde(rename = "PaymentRefunded")]
    PaymentRefunded {
        /// Order id.
        order: SalesOrderId,
        /// Refund id.
        refund: PaymentId,
        /// Amount.
        amount_minor: i64,
        /// Reason.
        reason: ReasonCode,
        /// When.
        at: Timestamp,
        /// Postings.
        effects: Effects,
    },
    /// Quantities were cancelled.
    #[serde(rename = "SalesOrderCancelled")]
    Cancelled {
        /// Order id.
        order: SalesOrderId,
        /// Who.
        initiator: Initiator,
        /// Why.
        reason: ReasonCode,
        /// Units cancelled per line.
        lines: Vec<LineQuantity>,
        /// When.
        at: Timestamp,
        /// Released reservations.
        effects: Effects,
    },
    /// The order was amended.
    #[serde(rename = "SalesOrderAmended")]
    Amended {
        /// Order id.
        order: SalesOrderId,
        /// Who.
        initiator: Initiator,
        /// New quantities of existing lines.
        set_quantities: Vec<LineQuantity>,
        /// Added lines.
        add_lines: Vec<OrderLine>,
        /// New ship-to.
        ship_to: Option<Address>,
        /// New promise.
        promise: Option<Promise>,
        /// When.
        at: Timestamp,
        /// Released reservations.
        effects: Effects,
    },
    /// Units of the order were authorised for return. Recorded on the order's own stream (beside
    /// the return's `ReturnAuthorised`), so an order is a fold of its own events.
    #[serde(rename = "SalesOrderReturnAuthorised")]
    ReturnAuthorised {
        /// Order id.
        order: SalesOrderId,
        /// The return authorisation.
        return_id: ReturnId,
        /// Units per order line.
        lines: Vec<LineQuantity>,
        /// When.
        at: Timestamp,
    },
    /// Units authorised for return that never came back were released when the return closed.
    #[serde(rename = "SalesOrderReturnReleased")]
    ReturnReleased {
        /// Order id.
        order: SalesOrderId,
        /// The return authorisation.
        return_id: ReturnId,
        /// Units per order line.
        lines: Vec<LineQuantity>,
        /// When.
        at: Timestamp,
    },
}

impl SalesOrderEvent {
    /// The order the event belongs to.
    pub fn order(&self) -> &SalesOrderId {
        match self {
            Self::Placed { order, .. }
            | Self::Allocated { order, .. }
            | Self::Deallocated { order, .. }
            | Self::Held { order, .. }
            | Self::Released { order, .. }
            | Self::Picked { order, .. }
            | Self::Packed { order, .. }
            | Self::Shipped { order, .. }
            | Self::Delivered { order, .. }
            | Self::CarrierException { order, .. }
            | Self::Invoiced { order, .. }
            | Self::CreditNoteIssued { order, .. }
            | Self::PaymentReceived { order, .. }
            | Self::PaymentRefunded { order, .. }
            | Self::Cancelled { order, .. }
            | Self::Amended { order, .. }
            | Self::ReturnAuthorised { order, .. }
            | Self::ReturnReleased { order, .. } => order,
        }
    }

    /// The ledger effects, if the event has any.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::Allocated { effects, .. }
            | Self::Deallocated { effects, .. }
            | Self::Shipped { effects, .. }
            | Self::Invoiced { effects, .. }
            | Self::CreditNoteIssued { effects, .. }
            | Self::PaymentReceived { effects, .. }
            | Self::PaymentRefunded { effects, .. }
            | Self::Cancelled { effects, .. }
            | Self::Amended { effects, .. } => Some(effects),
            _ => None,
        }
    }

    /// The event's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Placed { .. } => "SalesOrderPlaced",
            Self::Allocated { .. } => "SalesOrderAllocated",
            Self::Deallocated { .. } => "SalesOrderDeallocated",
            Self::Held { .. } => "SalesOrderHeld",
            Self::Released { .. } => "SalesOrderReleased",
            Self::Picked { .. } => "SalesOrderPicked",
            Self::Packed { .. } => "SalesOrderPacked",
            Self::Shipped { .. } => "SalesOrderShipped",
            Self::Delivered { .. } => "ShipmentDelivered",
            Self::CarrierException { .. } => "CarrierExceptionRecorded",
            Self::Invoiced { .. } => "SalesOrderInvoiced",
            Self::CreditNoteIssued { .. } => "CreditNoteIssued",
            Self::PaymentReceived { .. } => "PaymentReceived",
            Self::PaymentRefunded { .. } => "PaymentRefunded",
            Self::Cancelled { .. } => "SalesOrderCancelled",
            Self::Amended { .. } => "SalesOrderAmended",
            Self::ReturnAuthorised { .. } => "SalesOrderReturnAuthorised",
            Self::ReturnReleased { .. } => "SalesOrderReturnReleased",
        }
    }
}

/// Stock reserved for a line at one center, and how far it has been picked and packed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LineAllocation {
    /// Fulfillment center.
    pub location: LocationId,
    /// Stocked items per unit of the line.
    pub components: Vec<(Sku, i64)>,
    /// Units reserved and not yet shipped.
    pub allocated: i64,
    /// Of those, units picked.
    pub picked: i64,
    /// Of those, units packed.
    pub packed: i64,
}

/// The state of one order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SalesOrderLine {
    /// As ordered.
    pub line: OrderLine,
    /// Reservations per center.
    pub allocations: Vec<LineAllocation>,
    /// Units waiting for stock.
    pub backordered: i64,
    /// Units shipped.
    pub shipped: i64,
    /// Value at cost of the units shipped (base currency), for valuing returns.
    pub shipped_value_minor: i64,
    /// Units delivered.
    pub delivered: i64,
    /// Units cancelled.
    pub cancelled: i64,
    /// Units invoiced.
    pub invoiced: i64,
    /// Units authorised for return.
    pub returned: i64,
}

impl SalesOrderLine {
    fn new(line: OrderLine) -> Self {
        Self {
            line,
            allocations: Vec::new(),
            backordered: 0,
            shipped: 0,
            shipped_value_minor: 0,
            delivered: 0,
            cancelled: 0,
            invoiced: 0,
            returned: 0,
        }
    }

    /// Units reserved and not shipped.
    pub fn allocated(&self) -> i64 {
        self.allocations.iter().map(|a| a.allocated).sum()
    }

    /// Units neither cancelled, shipped nor allocated.
    pub fn unallocated(&self) -> i64 {
        self.line.quantity - self.cancelled - self.shipped - self.allocated()
    }

    /// Units neither cancelled nor shipped.
    pub fn open(&self) -> i64 {
        self.line.quantity - self.cancelled - self.shipped
    }
}

/// A shipment of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShipmentRecord {
    /// Shipment id.
    pub id: ShipmentId,
    /// Center shipped from.
    pub location: LocationId,
    /// Lines.
    pub lines: Vec<LineQuantity>,
    /// When it was handed to the carrier.
    #[serde(default)]
    pub shipped_at: Option<Timestamp>,
    /// When delivered.
    pub delivered_at: Option<Timestamp>,
}

/// A sales order's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SalesOrder {
    /// Order id.
    pub id: SalesOrderId,
    /// Channel.
    pub channel: ChannelId,
    /// Customer.
    pub customer: CustomerId,
    /// The customer's name and contact details, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Ship-to.
    pub ship_to: Address,
    /// Currency.
    pub currency: Currency,
    /// Base-currency units per unit of `currency`, for an order not in the base currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_rate: Option<ExchangeRate>,
    /// Promise.
    pub promise: Option<Promise>,
    /// Shipping charge.
    pub shipping_charge_minor: i64,
    /// When placed.
    pub placed_at: Timestamp,
    /// Hold reason, while held.
    pub hold: Option<ReasonCode>,
    /// Lines.
    pub lines: Vec<SalesOrderLine>,
    /// Shipments.
    pub shipments: Vec<ShipmentRecord>,
    /// Whether the shipping charge has been invoiced.
    pub shipping_invoiced: bool,
    /// Invoiced (net + tax) minus credit notes.
    pub invoiced_minor: i64,
    /// Received minus refunded.
    pub paid_minor: i64,
    /// Credit notes issued.
    #[serde(default)]
    pub credited_minor: i64,
}

impl SalesOrder {
    /// Value of the order as it stands: open and shipped units at price plus tax, and shipping.
    pub fn value_minor(&self) -> i64 {
        // Each line's value was checked to fit when it was placed or amended; the sum of many
        // lines is taken in i128 and saturates rather than wraps.
        let goods: i128 = self
            .lines
            .iter()
            .map(|l| {
                i128::from(l.line.quantity - l.cancelled)
                    * i128::from(l.line.unit_price_minor + l.line.unit_tax_minor)
            })
            .sum();
        let any_open = self.lines.iter().any(|l| l.line.quantity > l.cancelled);
        let shipping = if any_open {
            i128::from(self.shipping_charge_minor)
        } else {
            0
        };
        i64::try_from(goods + shipping).unwrap_or(i64::MAX)
    }

    fn everything_cancelled(&self) -> bool {
        self.lines.iter().all(|l| l.cancelled == l.line.quantity)
    }

    fn fulfilled(&self) -> bool {
        self.lines.iter().all(|l| l.open() == 0)
            && self.shipments.iter().all(|s| s.delivered_at.is_some())
    }

    fn settled(&self) -> bool {
        let everything_invoiced = self.lines.iter().all(|l| l.invoiced == l.shipped);
        everything_invoiced && self.paid_minor == self.invoiced_minor
    }

    /// Whether the order has reached a terminal state (cancelled or closed).
    pub fn is_terminal(&self) -> bool {
        self.everything_cancelled()
            || (self.fulfilled() && self.settled() && !self.shipments.is_empty())
    }

    /// The life-cycle state, derived from the quantities.
    pub fn state_name(&self) -> &'static str {
        if self.everything_cancelled() {
            return "cancelled";
        }
        if self.fulfilled() {
            return if self.settled() {
                "closed"
            } else {
                "delivered"
            };
        }
        if self.hold.is_some() {
            return "held";
        }
        let shipped: i64 = self.lines.iter().map(|l| l.shipped).sum();
        let open: i64 = self.lines.iter().map(SalesOrderLine::open).sum();
        if shipped > 0 {
            return if open > 0 {
                "partially_shipped"
            } else {
                "shipped"
            };
        }
        let allocated: i64 = self.lines.iter().map(SalesOrderLine::allocated).sum();
        let backordered: i64 = self.lines.iter().map(|l| l.backordered).sum();
        match (allocated > 0, backordered > 0) {
            (_, true) => "backordered",
            (true, false) if allocated == open => "allocated",
            (true, false) => "partially_allocated",
            (false, false) => "placed",
        }
    }
}

/// Why an open order needs a person to look at it: the exceptions queue's kinds, most urgent
/// first. An order is in at most one, the first that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// A shipment handed to the carrier more than [`LOST_AFTER_DAYS`] days ago and not
    /// delivered: probably lost in transit.
    LostInTransit,
    /// Not delivered, and the promised delivery date is before today.
    Late,
    /// Nothing shipped [`STUCK_AFTER_DAYS`] days after it was placed, with no promise that
    /// says when it is due.
    Stuck,
    /// Nothing shipped, and the ship-by deadline is less than a day away or the promised
    /// delivery date is today or tomorrow.
    AtRisk,
}

/// Days in transit after which an undelivered shipment counts as lost.
pub const LOST_AFTER_DAYS: i64 = 14;

/// Days after placing after which an unshipped order without a promise counts as stuck.
pub const STUCK_AFTER_DAYS: i64 = 3;

const SECONDS_PER_DAY: i64 = 86_400;

impl Attention {
    /// Every kind, most urgent first.
    pub const ALL: [Self; 4] = [Self::LostInTransit, Self::Late, Self::Stuck, Self::AtRisk];

    /// The name used in the API and the dashboard's addresses (`at_risk`).
    pub fn name(self) -> &'static str {
        match self {
            Self::LostInTransit => "lost_in_transit",
            Self::Late => "late",
            Self::Stuck => "stuck",
            Self::AtRisk => "at_risk",
        }
    }

    /// Parses [`Attention::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// A heading for people ("Lost in transit").
    pub fn title(self) -> &'static str {
        match self {
            Self::LostInTransit => "Lost in transit",
            Self::Late => "Late",
            Self::Stuck => "Stuck",
            Self::AtRisk => "At risk",
        }
    }
}

impl SalesOrder {
    /// Whether the order needs attention at `now` (`today` is `now`'s date in the tenant's
    /// reporting time zone), and why. Delivered, closed and cancelled orders never do.
    pub fn attention(&self, now: Timestamp, today: Date) -> Option<Attention> {
        if matches!(self.state_name(), "delivered" | "closed" | "cancelled") {
            return None;
        }
        let lost = self.shipments.iter().any(|shipment| {
            shipment.delivered_at.is_none()
                && shipment.shipped_at.is_some_and(|shipped| {
                    now.as_second() - shipped.as_second() > LOST_AFTER_DAYS * SECONDS_PER_DAY
                })
        });
        if lost {
            return Some(Attention::LostInTransit);
        }
        let deliver_by = self.promise.as_ref().and_then(|promise| promise.deliver_by);
        let ship_by = self.promise.as_ref().and_then(|promise| promise.ship_by);
        if deliver_by.is_some_and(|date| date < today) {
            return Some(Attention::Late);
        }
        if !self.shipments.is_empty() {
            return None;
        }
        let ship_deadline_near = ship_by
            .is_some_and(|deadline| deadline.as_second() - now.as_second() < SECONDS_PER_DAY);
        let delivery_near = deliver_by.is_some_and(|date| date <= today.tomorrow().unwrap_or(date));
        if ship_deadline_near || delivery_near {
            return Some(Attention::AtRisk);
        }
        let waited = now.as_second() - self.placed_at.as_second();
        if deliver_by.is_none() && ship_by.is_none() && waited > STUCK_AFTER_DAYS * SECONDS_PER_DAY
        {
            return Some(Attention::Stuck);
        }
        None
    }
}

fn order<'s>(state: &'s State, id: &SalesOrderId) -> Result<&'s SalesOrder, DomainError> {
    state
        .sales_orders
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "order"))
}

/// An order that can still change: not cancelled, not closed.
fn open_order<'s>(
    state: &'s State,
    id: &SalesOrderId,
    attempted: &'static str,
) -> Result<&'s SalesOrder, DomainError> {
    let found = order(state, id)?;
    if found.is_terminal() {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// An order whose warehouse work may proceed: open and not held.
fn workable_order<'s>(
    state: &'s State,
    id: &SalesOrderId,
    attempted: &'static str,
) -> Result<&'s SalesOrder, DomainError> {
    let found = open_order(state, id, attempted)?;
    if found.hold.is_some() {
        return Err(DomainError::illegal(KIND, id, "held", attempted));
    }
    Ok(found)
}

fn line(
    order: &SalesOrder,
    index: usize,
    field: impl FnOnce() -> String,
) -> Result<&SalesOrderLine, DomainError> {
    order.lines.get(index).ok_or_else(|| {
        DomainError::invalid(
            field(),
            format!(
                "order {} has no line {index} (it has {})",
                order.id,
                order.lines.len()
            ),
        )
    })
}

fn check_lines(
    state: &State,
    lines: &[OrderLineInput],
    field: &str,
) -> Result<Vec<OrderLine>, DomainError> {
    lines
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let at = |name: &str| format!("{field}[{index}].{name}");
            state.item(&input.sku, &at("sku"))?;
            positive(|| at("quantity"), input.quantity)?;
            if input.unit_price_minor < 0 {
                return Err(DomainError::invalid(
                    at("unit_price_minor"),
                    "must not be negative",
                ));
            }
            if input.unit_tax_minor < 0 {
                return Err(DomainError::invalid(
                    at("unit_tax_minor"),
                    "must not be negative",
                ));
            }
            let unit = add(input.unit_price_minor, input.unit_tax_minor, || {
                at("unit_price_minor")
            })?;
            mul(unit, input.quantity, || at("quantity"))?;
            Ok(OrderLine {
                sku: input.sku.clone(),
                quantity: input.quantity,
                unit_price_minor: input.unit_price_minor,
                unit_tax_minor: input.unit_tax_minor,
            })
        })
        .collect()
}

/// Place.
/// The rate an order records: none in the base currency, a positive one in any other.
fn order_rate(
    command: &PlaceSalesOrder,
    base: Currency,
) -> Result<Option<ExchangeRate>, DomainError> {
    match (command.currency == base, command.exchange_rate) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(DomainError::invalid(
            "exchange_rate",
            format!("the order is in {base}, the base currency; leave the rate out"),
        )),
        (false, None) => Err(DomainError::invalid(
            "exchange_rate",
            format!(
                "required: the order is in {} and the tenant accounts in {base}; give \
                 rate_micro, the {base} per 1 {} times 1,000,000",
                command.currency, command.currency
            ),
        )),
        (false, Some(rate)) => {
            positive(|| "exchange_rate.rate_micro".into(), rate.rate_micro)?;
            let total = command.lines.iter().try_fold(
                i128::from(command.shipping_charge_minor),
                |sum, line| {
                    let unit = i128::from(line.unit_price_minor) + i128::from(line.unit_tax_minor);
                    sum.checked_add(i128::from(line.quantity).checked_mul(unit)?)
                },
            );
            // The whole order must convert without overflow, as each line did when checked.
            let converts = total
                .and_then(|total| i64::try_from(total).ok())
                .and_then(|total| rate.convert(total, command.currency, base));
            if converts.is_none() {
                return Err(DomainError::overflow("exchange_rate.rate_micro"));
            }
            Ok(Some(rate))
        }
    }
}

pub(crate) fn place(
    state: &State,
    command: &PlaceSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    state.settings()?;
    if state.sales_orders.contains_key(&command.order) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.order.to_string(),
        });
    }
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "an order needs at least one line",
        ));
    }
    command.ship_to.validate("ship_to")?;
    if let Some(contact) = &command.contact {
        contact.validate("contact")?;
    }
    if command.shipping_charge_minor < 0 {
        return Err(DomainError::invalid(
            "shipping_charge_minor",
            "must not be negative",
        ));
    }
    let lines = check_lines(state, &command.lines, "lines")?;
    let exchange_rate = order_rate(command, state.settings()?.base_currency)?;
    let placed = SalesOrderEvent::Placed {
        order: command.order.clone(),
        channel: command.channel.clone(),
        customer: command.customer.clone(),
        contact: command.contact.clone().map(Box::new),
        ship_to: command.ship_to.clone(),
        currency: command.currency,
        exchange_rate,
        lines,
        promise: command.promise.clone(),
        service_level: command.service_level.clone(),
        shipping_charge_minor: command.shipping_charge_minor,
        placed_at: ctx.at,
    };
    let Some(shortage) = command.allocate else {
        return Ok(vec![placed]);
    };
    // Decide the allocation against the order as it will be once placed.
    let Some(preview) = order_from_placed(&placed) else {
        return Ok(vec![placed]);
    };
    let allocated = allocate_for(state, &preview, None, shortage, ctx)?;
    Ok(vec![placed, allocated])
}

/// Stocked items needed per unit of `sku`: the item itself, or a bundle's components,
/// exploded recursively and merged.
pub(crate) fn components(state: &State, sku: &Sku) -> Vec<(Sku, i64)> {
    explode(&|sku: &Sku| state.items.get(sku), sku)
}

/// The explosion of `sku` into stocked items per unit. Each bundle is exploded once and its
/// result reused wherever it recurs, so the cost is linear in the size of the tree, not in its
/// number of paths (a bundle of two bundles of the same two bundles ... has 2^n paths).
pub(crate) fn explode<'a>(
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
    sku: &Sku,
) -> Vec<(Sku, i64)> {
    let mut memo: FxHashMap<Sku, Vec<(Sku, i64)>> = FxHashMap::default();
    explode_into(lookup, sku, 0, &mut memo)
}

fn explode_into<'a>(
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
    sku: &Sku,
    depth: usize,
    memo: &mut FxHashMap<Sku, Vec<(Sku, i64)>>,
) -> Vec<(Sku, i64)> {
    if let Some(known) = memo.get(sku) {
        return known.clone();
    }
    // Bundles accepted today nest at most `BOM_DEPTH_MAX` levels; the bound keeps a log written
    // under older rules from recursing without end.
    let bundle = lookup(sku).and_then(|item| match &item.bom {
        Some(bom) if bom.kind == BomKind::Bundle && depth < 64 => Some(bom),
        _ => None,
    });
    let Some(bom) = bundle else {
        return vec![(sku.clone(), 1)];
    };
    let mut out: Vec<(Sku, i64)> = Vec::new();
    for component in &bom.components {
        for (leaf, per_unit) in explode_into(lookup, &component.sku, depth + 1, memo) {
            let quantity = per_unit.saturating_mul(component.quantity);
            match out.iter_mut().find(|(existing, _)| *existing == leaf) {
                Some((_, total)) => *total = total.saturating_add(quantity),
                None => out.push((leaf, quantity)),
            }
        }
    }
    memo.insert(sku.clone(), out.clone());
    out
}

/// How many whole units of a line fit at a location, given its components.
fn units_available(
    builder: &mut EffectsBuilder<'_>,
    components: &[(Sku, i64)],
    location: &LocationId,
) -> i64 {
    components
        .iter()
        .map(|(sku, per_unit)| builder.available(sku, location).max(0) / per_unit.max(&1))
        .min()
        .unwrap_or(0)
}

fn reserve_units(
    builder: &mut EffectsBuilder<'_>,
    components: &[(Sku, i64)],
    location: &LocationId,
    units: i64,
) -> Result<(), DomainError> {
    for (sku, per_unit) in components {
        builder.reserve(sku, location, per_unit.saturating_mul(units))?;
    }
    Ok(())
}

/// Allocate.
pub(crate) fn allocate(
    state: &State,
    command: &AllocateSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = workable_order(state, &command.order, "allocate")?;
    Ok(vec![allocate_for(
        state,
        found,
        command.lines.as_deref(),
        command.shortage,
        ctx,
    )?])
}

fn allocate_for(
    state: &State,
    found: &SalesOrder,
    requests: Option<&[AllocationRequest]>,
    shortage: ShortagePolicy,
    ctx: &Context,
) -> Result<SalesOrderEvent, DomainError> {
    let settings = state.settings()?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut allocations: Vec<AllocationMade> = Vec::new();
    let mut shortfall: Vec<LineQuantity> = Vec::new();
    match requests {
        Some(requests) => {
            allocate_explicit(
                state,
                found,
                requests,
                &mut builder,
                &mut allocations,
                shortage,
                &mut shortfall,
            )?;
        }
        None => allocate_automatically(
            state,
            found,
            &mut builder,
            &mut allocations,
            shortage,
            &mut shortfall,
        )?,
    }
    if allocations.is_empty() && shortfall.is_empty() {
        // Nothing unallocated, or nothing more available for what is backordered.
        return Err(DomainError::illegal(
            KIND,
            &found.id,
            found.state_name(),
            "allocate",
        ));
    }
    Ok(SalesOrderEvent::Allocated {
        order: found.id.clone(),
        allocations,
        backordered: shortfall,
        at: ctx.at,
        effects: builder.finish(),
    })
}

fn allocate_explicit(
    state: &State,
    found: &SalesOrder,
    requests: &[AllocationRequest],
    builder: &mut EffectsBuilder<'_>,
    allocations: &mut Vec<AllocationMade>,
    shortage: ShortagePolicy,
    shortfall: &mut Vec<LineQuantity>,
) -> Result<(), DomainError> {
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in requests.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let order_line = line(found, request.line, || at("line"))?;
        positive(|| at("quantity"), request.quantity)?;
        state.fulfillment_center(&request.location, &at("location"))?;
        asked[request.line] = add(asked[request.line], request.quantity, || at("quantity"))?;
        if asked[request.line] > order_line.unallocated() {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: asked[request.line],
                outstanding: order_line.unallocated(),
            });
        }
        let components = components(state, &order_line.line.sku);
        let fits = units_available(builder, &components, &request.location);
        let units = match shortage {
            ShortagePolicy::Reject => request.quantity,
            ShortagePolicy::Backorder => request.quantity.min(fits),
        };
        if units > 0 {
            reserve_units(builder, &components, &request.location, units)?;
            allocations.push(AllocationMade {
                line: request.line,
                location: request.location.clone(),
                quantity: units,
                components,
            });
        }
    }
    if shortage == ShortagePolicy::Backorder {
        for (index, order_line) in found.lines.iter().enumerate() {
            let made: i64 = allocations
                .iter()
                .filter(|a| a.line == index)
                .map(|a| a.quantity)
                .sum();
            let waiting = order_line.unallocated() - made;
            if asked[index] > made && waiting != order_line.backordered {
                shortfall.push(LineQuantity {
                    line: index,
                    quantity: waiting,
                });
            }
        }
    }
    Ok(())
}

/// A line to allocate: index, stocked items per unit, units.
type Wanted = (usize, Vec<(Sku, i64)>, i64);

fn allocate_automatically(
    state: &State,
    found: &SalesOrder,
    builder: &mut EffectsBuilder<'_>,
    allocations: &mut Vec<AllocationMade>,
    shortage: ShortagePolicy,
    shortfall: &mut Vec<LineQuantity>,
) -> Result<(), DomainError> {
    let wanted: Vec<Wanted> = found
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.unallocated() > 0)
        .map(|(index, l)| (index, components(state, &l.line.sku), l.unallocated()))
        .collect();
    // Centers in a fixed order: first those that can fill every line on their own (one parcel),
    // then the rest, each group by id. Ties broken by id keep decisions deterministic.
    let mut centers: Vec<&LocationId> = state.locations.keys().collect();
    centers.sort();
    let fills_all = |builder: &mut EffectsBuilder<'_>, center: &LocationId| {
        let mut probe: Vec<(Sku, i64)> = Vec::new();
        for (_, components, units) in &wanted {
            for (sku, per_unit) in components {
                let need = per_unit.saturating_mul(*units);
                match probe.iter_mut().find(|(s, _)| s == sku) {
                    Some((_, total)) => *total = total.saturating_add(need),
                    None => probe.push((sku.clone(), need)),
                }
            }
        }
        probe
            .iter()
            .all(|(sku, need)| builder.available(sku, center) >= *need)
    };
    let mut ordered: Vec<&LocationId> = Vec::with_capacity(centers.len());
    let (whole, partial): (Vec<&LocationId>, Vec<&LocationId>) = centers
        .into_iter()
        .partition(|center| fills_all(builder, center));
    ordered.extend(whole);
    ordered.extend(partial);
    for (index, components, units) in &wanted {
        let mut remaining = *units;
        for center in &ordered {
            if remaining == 0 {
                break;
            }
            let take = remaining.min(units_available(builder, components, center));
            if take > 0 {
                reserve_units(builder, components, center, take)?;
                allocations.push(AllocationMade {
                    line: *index,
                    location: (*center).clone(),
                    quantity: take,
                    components: components.clone(),
                });
                remaining -= take;
            }
        }
        if remaining > 0 {
            match shortage {
                ShortagePolicy::Reject => {
                    return Err(shortage_error(state, found, components));
                }
                ShortagePolicy::Backorder => {
                    if remaining != found.lines[*index].backordered {
                        shortfall.push(LineQuantity {
                            line: *index,
                            quantity: remaining,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// The error for an allocation that does not fit: the first stocked item of the failing line
/// whose demand over the whole order (every line and bundle component) exceeds what the best
/// center had available before the command.
fn shortage_error(
    state: &State,
    found: &SalesOrder,
    components_of_line: &[(Sku, i64)],
) -> DomainError {
    let mut centers: Vec<&LocationId> = state.locations.keys().collect();
    centers.sort();
    let demand_of = |sku: &Sku| -> i64 {
        found
            .lines
            .iter()
            .filter(|l| l.unallocated() > 0)
            .flat_map(|l| {
                components(state, &l.line.sku)
                    .into_iter()
                    .map(move |c| (c, l.unallocated()))
            })
            .filter(|((component, _), _)| component == sku)
            .map(|((_, per_unit), units)| per_unit.saturating_mul(units))
            .fold(0_i64, i64::saturating_add)
    };
    let best_for = |sku: &Sku| -> Option<(&LocationId, i64)> {
        centers
            .iter()
            .map(|center| (*center, state.stock.balance(sku, center).available().max(0)))
            .max_by_key(|(center, available)| (*available, std::cmp::Reverse(*center)))
    };
    let mut first = None;
    for (sku, _) in components_of_line {
        let requested = demand_of(sku);
        if let Some((center, available)) = best_for(sku) {
            let error = DomainError::InsufficientStock {
                sku: sku.clone(),
                location: center.clone(),
                requested,
                available,
            };
            if available < requested {
                return error;
            }
            first.get_or_insert(error);
        }
    }
    first.unwrap_or_else(|| DomainError::invalid("lines", "no fulfillment center is defined"))
}

/// Deallocate.
pub(crate) fn deallocate(
    state: &State,
    command: &DeallocateSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = open_order(state, &command.order, "deallocate")?;
    let order_line = line(found, command.line, || "line".into())?;
    positive(|| "quantity".into(), command.quantity)?;
    let unpicked: i64 = order_line
        .allocations
        .iter()
        .filter(|a| a.location == command.location)
        .map(|a| a.allocated - a.picked)
        .sum();
    if command.quantity > unpicked {
        return Err(DomainError::ExceedsOutstanding {
            field: "quantity".into(),
            requested: command.quantity,
            outstanding: unpicked,
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    release_allocations(
        &mut builder,
        order_line,
        Some(&command.location),
        command.quantity,
    );
    Ok(vec![SalesOrderEvent::Deallocated {
        order: command.order.clone(),
        line: command.line,
        location: command.location.clone(),
        quantity: command.quantity,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Releases `units` of a line's reservations, unpicked units first, in allocation order.
/// Returns per (allocation index, units) what was released, for `apply`.
fn release_allocations(
    builder: &mut EffectsBuilder<'_>,
    order_line: &SalesOrderLine,
    only_at: Option<&LocationId>,
    mut units: i64,
) {
    for pass_unpicked_only in [true, false] {
        for allocation in &order_line.allocations {
            if units == 0 {
                return;
            }
            if only_at.is_some_and(|location| *location != allocation.location) {
                continue;
            }
            let releasable = if pass_unpicked_only {
                allocation.allocated - allocation.picked
            } else {
                allocation.picked
            };
            let take = units.min(releasable);
            if take > 0 {
                for (sku, per_unit) in &allocation.components {
                    builder.release(sku, &allocation.location, per_unit * take);
                }
                units -= take;
            }
        }
    }
}

/// Mirrors [`release_allocations`] on the order's own counters.
fn apply_release(order_line: &mut SalesOrderLine, only_at: Option<&LocationId>, mut units: i64) {
    for pass_unpicked_only in [true, false] {
        for allocation in &mut order_line.allocations {
            if units == 0 {
                break;
            }
            if only_at.is_some_and(|location| *location != allocation.location) {
                continue;
            }
            let releasable = if pass_unpicked_only {
                allocation.allocated - allocation.picked
            } else {
                allocation.picked
            };
            let take = units.min(releasable);
            allocation.allocated -= take;
            if !pass_unpicked_only {
                allocation.picked -= take;
                allocation.packed = allocation.packed.min(allocation.picked);
            }
            units -= take;
        }
    }
    order_line.allocations.retain(|a| a.allocated > 0);
}

/// Hold.
pub(crate) fn hold(
    state: &State,
    command: &HoldSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = open_order(state, &command.order, "hold")?;
    if found.hold.is_some() {
        return Err(DomainError::illegal(KIND, &command.order, "held", "hold"));
    }
    Ok(vec![SalesOrderEvent::Held {
        order: command.order.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
    }])
}

/// Release a hold.
pub(crate) fn release(
    state: &State,
    command: &ReleaseSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = open_order(state, &command.order, "release")?;
    if found.hold.is_none() {
        return Err(DomainError::illegal(
            KIND,
            &command.order,
            found.state_name(),
            "release",
        ));
    }
    Ok(vec![SalesOrderEvent::Released {
        order: command.order.clone(),
        at: ctx.at,
    }])
}

/// Checks warehouse-step quantities against what the previous step left at the center.
fn check_step(
    found: &SalesOrder,
    location: &LocationId,
    lines: &[LineQuantity],
    outstanding: impl Fn(&LineAllocation) -> i64,
) -> Result<(), DomainError> {
    if lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "at least one line is required",
        ));
    }
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let order_line = line(found, request.line, || at("line"))?;
        positive(|| at("quantity"), request.quantity)?;
        asked[request.line] = add(asked[request.line], request.quantity, || at("quantity"))?;
        let available: i64 = order_line
            .allocations
            .iter()
            .filter(|a| a.location == *location)
            .map(&outstanding)
            .sum();
        if asked[request.line] > available {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: asked[request.line],
                outstanding: available,
            });
        }
    }
    Ok(())
}

/// Pick.
pub(crate) fn pick(
    state: &State,
    command: &PickSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = workable_order(state, &command.order, "pick")?;
    check_step(found, &command.location, &command.lines, |a| {
        a.allocated - a.picked
    })?;
    Ok(vec![SalesOrderEvent::Picked {
        order: command.order.clone(),
        location: command.location.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
    }])
}

/// Pack.
pub(crate) fn pack(
    state: &State,
    command: &PackSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = workable_order(state, &command.order, "pack")?;
    check_step(found, &command.location, &command.lines, |a| {
        a.picked - a.packed
    })?;
    if let Some(package) = &command.package
        && package.mass_g < 0
    {
        return Err(DomainError::invalid(
            "package.mass_g",
            "must not be negative",
        ));
    }
    Ok(vec![SalesOrderEvent::Packed {
        order: command.order.clone(),
        location: command.location.clone(),
        lines: command.lines.clone(),
        package: command.package.clone(),
        at: ctx.at,
    }])
}

/// Ship.
pub(crate) fn ship(
    state: &State,
    command: &ShipSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = workable_order(state, &command.order, "ship")?;
    if found.shipments.iter().any(|s| s.id == command.shipment) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Shipment,
            id: command.shipment.to_string(),
        });
    }
    state.carrier_service(&command.carrier, &command.service)?;
    if command.weight_g < 0 {
        return Err(DomainError::invalid("weight_g", "must not be negative"));
    }
    check_step(found, &command.location, &command.lines, |a| a.packed)?;
    let customer = VirtualLocation::Customer.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut values_minor = Vec::with_capacity(command.lines.len());
    let mut packed_used: Vec<(usize, usize, i64)> = Vec::new();
    for request in &command.lines {
        let order_line = &found.lines[request.line];
        let mut units = request.quantity;
        let mut value = 0;
        for (index, allocation) in order_line.allocations.iter().enumerate() {
            if allocation.location != command.location || units == 0 {
                continue;
            }
            // Two requests for the same line draw on what the first one left.
            let used: i64 = packed_used
                .iter()
                .filter(|(l, a, _)| *l == request.line && *a == index)
                .map(|(_, _, n)| n)
                .sum();
            let take = units.min(allocation.packed - used);
            if take <= 0 {
                continue;
            }
            for (sku, per_unit) in &allocation.components {
                value +=
                    builder.move_stock(sku, &command.location, &customer, per_unit * take, true)?;
            }
            packed_used.push((request.line, index, take));
            units -= take;
        }
        values_minor.push(value);
    }
    let cost = -builder.inventory_delta();
    builder.post(Account::CostOfGoodsSold, Account::Inventory, cost);
    Ok(vec![SalesOrderEvent::Shipped {
        order: command.order.clone(),
        shipment: command.shipment.clone(),
        location: command.location.clone(),
        carrier: command.carrier.clone(),
        service: command.service.clone(),
        tracking: command.tracking.clone(),
        weight_g: command.weight_g,
        lines: command.lines.clone(),
        values_minor,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

fn shipment<'o>(found: &'o SalesOrder, id: &ShipmentId) -> Result<&'o ShipmentRecord, DomainError> {
    found
        .shipments
        .iter()
        .find(|s| s.id == *id)
        .ok_or_else(|| DomainError::not_found(DocumentKind::Shipment, id, "shipment"))
}

/// Deliver.
pub(crate) fn deliver(
    state: &State,
    command: &DeliverShipment,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = order(state, &command.order)?;
    let record = shipment(found, &command.shipment)?;
    if record.delivered_at.is_some() {
        return Err(DomainError::illegal(
            DocumentKind::Shipment,
            &command.shipment,
            "delivered",
            "deliver",
        ));
    }
    let delivered_at = command.delivered_at.unwrap_or(ctx.at);
    if let Some(shipped_at) = record.shipped_at
        && delivered_at < shipped_at
    {
        return Err(DomainError::invalid(
            "delivered_at",
            format!(
                "{delivered_at} is before the shipment was handed to the carrier at {shipped_at}"
            ),
        ));
    }
    Ok(vec![SalesOrderEvent::Delivered {
        order: command.order.clone(),
        shipment: command.shipment.clone(),
        delivered_at,
        condition: command.condition,
        misdelivered: command.misdelivered,
        note: command.note.clone(),
    }])
}

/// Carrier exception.
pub(crate) fn carrier_exception(
    state: &State,
    command: &RecordCarrierException,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = order(state, &command.order)?;
    shipment(found, &command.shipment)?;
    Ok(vec![SalesOrderEvent::CarrierException {
        order: command.order.clone(),
        shipment: command.shipment.clone(),
        code: command.code.clone(),
        at: ctx.at,
    }])
}

/// Invoice.
pub(crate) fn invoice(
    state: &State,
    command: &InvoiceSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let mut lines = Vec::new();
    let mut net: i64 = 0;
    let mut tax: i64 = 0;
    for (index, order_line) in found.lines.iter().enumerate() {
        let units = order_line.shipped - order_line.invoiced;
        if units > 0 {
            lines.push(LineQuantity {
                line: index,
                quantity: units,
            });
            net = add(
                net,
                mul(units, order_line.line.unit_price_minor, || "lines".into())?,
                || "lines".into(),
            )?;
            tax = add(
                tax,
                mul(units, order_line.line.unit_tax_minor, || "lines".into())?,
                || "lines".into(),
            )?;
        }
    }
    if lines.is_empty() {
        return Err(DomainError::illegal(
            KIND,
            &command.order,
            found.state_name(),
            "invoice (nothing shipped is uninvoiced)",
        ));
    }
    if !found.shipping_invoiced {
        net = add(net, found.shipping_charge_minor, || {
            "shipping_charge_minor".into()
        })?;
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Receivables, Account::Revenue, net, found.currency);
    builder.post_in(
        Account::Receivables,
        Account::SalesTaxPayable,
        tax,
        found.currency,
    );
    Ok(vec![SalesOrderEvent::Invoiced {
        order: command.order.clone(),
        invoice: command.invoice.clone(),
        lines,
        net_minor: net,
        tax_minor: tax,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

fn check_amount(found: &SalesOrder, amount: &Money, field: &str) -> Result<i64, DomainError> {
    if amount.currency != found.currency {
        return Err(DomainError::CurrencyMismatch {
            field: field.into(),
            expected: found.currency,
            actual: amount.currency,
        });
    }
    positive(|| format!("{field}.amount_minor"), amount.amount_minor)
}

/// Credit note.
pub(crate) fn credit_note(
    state: &State,
    command: &IssueCreditNote,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let amount = check_amount(found, &command.amount, "amount")?;
    if amount > found.invoiced_minor {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: found.invoiced_minor,
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(
        Account::Revenue,
        Account::Receivables,
        amount,
        found.currency,
    );
    Ok(vec![SalesOrderEvent::CreditNoteIssued {
        order: command.order.clone(),
        credit_note: command.credit_note.clone(),
        amount_minor: amount,
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Payment received.
pub(crate) fn receive_payment(
    state: &State,
    command: &ReceivePayment,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let amount = check_amount(found, &command.amount, "amount")?;
    // A customer pays for the order as it stands or for what was invoiced, whichever is more.
    // The order as it stands less what was credited, or what was invoiced, whichever is more.
    let due =
        (found.value_minor() - found.credited_minor).max(found.invoiced_minor) - found.paid_minor;
    if amount > due {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: due.max(0),
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Cash, Account::Receivables, amount, found.currency);
    Ok(vec![SalesOrderEvent::PaymentReceived {
        order: command.order.clone(),
        payment: command.payment.clone(),
        amount_minor: amount,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Payment refunded.
pub(crate) fn refund_payment(
    state: &State,
    command: &RefundPayment,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let amount = check_amount(found, &command.amount, "amount")?;
    // Only money paid beyond what was invoiced can be handed back here; refunds of goods
    // go through returns.
    let refundable = found.paid_minor - found.invoiced_minor.max(0);
    if amount > refundable {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: refundable.max(0),
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Receivables, Account::Cash, amount, found.currency);
    Ok(vec![SalesOrderEvent::PaymentRefunded {
        order: command.order.clone(),
        refund: command.refund.clone(),
        amount_minor: amount,
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Cancel.
pub(crate) fn cancel(
    state: &State,
    command: &CancelSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = open_order(state, &command.order, "cancel")?;
    let requested: Vec<LineQuantity> = match &command.lines {
        Some(lines) => lines.clone(),
        None => found
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.open() > 0)
            .map(|(index, l)| LineQuantity {
                line: index,
                quantity: l.open(),
            })
            .collect(),
    };
    if requested.is_empty() {
        return Err(DomainError::illegal(
            KIND,
            &command.order,
            found.state_name(),
            "cancel (nothing is open)",
        ));
    }
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for (index, request) in requested.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let order_line = line(found, request.line, || at("line"))?;
        positive(|| at("quantity"), request.quantity)?;
        asked[request.line] = add(asked[request.line], request.quantity, || at("quantity"))?;
        if asked[request.line] > order_line.open() {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: asked[request.line],
                outstanding: order_line.open(),
            });
        }
    }
    for (index, units) in asked.iter().enumerate() {
        let order_line = &found.lines[index];
        let from_reservations = (units - order_line.unallocated()).max(0);
        release_allocations(&mut builder, order_line, None, from_reservations);
    }
    Ok(vec![SalesOrderEvent::Cancelled {
        order: command.order.clone(),
        initiator: command.initiator,
        reason: command.reason.clone(),
        lines: requested,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Amend.
pub(crate) fn amend(
    state: &State,
    command: &AmendSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = open_order(state, &command.order, "amend")?;
    if command.set_quantities.is_empty()
        && command.add_lines.is_empty()
        && command.ship_to.is_none()
        && command.promise.is_none()
    {
        return Err(DomainError::invalid(
            "set_quantities",
            "an amendment must change something",
        ));
    }
    if let Some(address) = &command.ship_to {
        address.validate("ship_to")?;
        if found.lines.iter().any(|l| l.shipped > 0) {
            return Err(DomainError::illegal(
                KIND,
                &command.order,
                found.state_name(),
                "change the address of a shipped order",
            ));
        }
    }
    let add_lines = check_lines(state, &command.add_lines, "add_lines")?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for (index, change) in command.set_quantities.iter().enumerate() {
        let at = |name: &str| format!("set_quantities[{index}].{name}");
        let order_line = line(found, change.line, || at("line"))?;
        if command.set_quantities[..index]
            .iter()
            .any(|other| other.line == change.line)
        {
            return Err(DomainError::invalid(at("line"), "line listed twice"));
        }
        let unit = add(
            order_line.line.unit_price_minor,
            order_line.line.unit_tax_minor,
            || at("quantity"),
        )?;
        mul(unit, change.quantity, || at("quantity"))?;
        let floor = order_line.shipped + order_line.cancelled;
        if change.quantity < floor.max(1) && !(change.quantity == 0 && floor == 0) {
            return Err(DomainError::invalid(
                at("quantity"),
                format!(
                    "must be at least {floor} (shipped {} + cancelled {})",
                    order_line.shipped, order_line.cancelled
                ),
            ));
        }
        // Reservations above the new quantity are released.
        let excess = (order_line.shipped + order_line.cancelled + order_line.allocated()
            - change.quantity)
            .max(0);
        release_allocations(&mut builder, order_line, None, excess);
    }
    Ok(vec![SalesOrderEvent::Amended {
        order: command.order.clone(),
        initiator: command.initiator,
        set_quantities: command.set_quantities.clone(),
        add_lines,
        ship_to: command.ship_to.clone(),
        promise: command.promise.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Applies a sales order event to the order (the ledgers are updated by the caller).
/// A new order from its `Placed` event.
fn order_from_placed(event: &SalesOrderEvent) -> Option<SalesOrder> {
    let SalesOrderEvent::Placed {
        order,
        channel,
        customer,
        contact,
        ship_to,
        currency,
        exchange_rate,
        lines,
        promise,
        shipping_charge_minor,
        placed_at,
        ..
    } = event
    else {
        return None;
    };
    Some(SalesOrder {
        id: order.clone(),
        channel: channel.clone(),
        customer: customer.clone(),
        contact: contact.as_deref().cloned(),
        ship_to: ship_to.clone(),
        currency: *currency,
        exchange_rate: *exchange_rate,
        promise: promise.clone(),
        shipping_charge_minor: *shipping_charge_minor,
        placed_at: *placed_at,
        hold: None,
        lines: lines.iter().cloned().map(SalesOrderLine::new).collect(),
        shipments: Vec::new(),
        shipping_invoiced: false,
        invoiced_minor: 0,
        paid_minor: 0,
        credited_minor: 0,
    })
}

/// Applies a sales order event to the order (the ledgers are updated by the caller).
pub(crate) fn apply(
    orders: &mut rustc_hash::FxHashMap<SalesOrderId, SalesOrder>,
    event: &SalesOrderEvent,
) {
    if let Some(placed) = order_from_placed(event) {
        orders.insert(placed.id.clone(), placed);
        return;
    }
    let Some(found) = orders.get_mut(event.order()) else {
        // An order that left memory (see `retention`): its stream holds the event for when it is
        // reloaded.
        return;
    };
    apply_to(found, event);
}

/// The order lines an event names.
fn lines_named(event: &SalesOrderEvent) -> Vec<usize> {
    let of = |lines: &[LineQuantity]| lines.iter().map(|l| l.line).collect::<Vec<_>>();
    match event {
        SalesOrderEvent::Allocated {
            allocations,
            backordered,
            ..
        } => allocations
            .iter()
            .map(|a| a.line)
            .chain(backordered.iter().map(|b| b.line))
            .collect(),
        SalesOrderEvent::Deallocated { line, .. } => vec![*line],
        SalesOrderEvent::Picked { lines, .. }
        | SalesOrderEvent::Packed { lines, .. }
        | SalesOrderEvent::Shipped { lines, .. }
        | SalesOrderEvent::Invoiced { lines, .. }
        | SalesOrderEvent::Cancelled { lines, .. }
        | SalesOrderEvent::ReturnAuthorised { lines, .. }
        | SalesOrderEvent::ReturnReleased { lines, .. } => of(lines),
        SalesOrderEvent::Amended { set_quantities, .. } => of(set_quantities),
        _ => Vec::new(),
    }
}

fn apply_to(found: &mut SalesOrder, event: &SalesOrderEvent) {
    // `decide` only names lines that exist; an event naming another line can only come from a
    // tampered log, and is left out rather than allowed to panic a replay or `flowline check`.
    if lines_named(event)
        .iter()
        .any(|line| *line >= found.lines.len())
    {
        return;
    }
    match event {
        SalesOrderEvent::Placed { .. } => {}
        SalesOrderEvent::Allocated {
            allocations,
            backordered,
            ..
        } => {
            for made in allocations {
                let order_line = &mut found.lines[made.line];
                match order_line
                    .allocations
                    .iter_mut()
                    .find(|a| a.location == made.location && a.components == made.components)
                {
                    Some(existing) => existing.allocated += made.quantity,
                    None => order_line.allocations.push(LineAllocation {
                        location: made.location.clone(),
                        components: made.components.clone(),
                        allocated: made.quantity,
                        picked: 0,
                        packed: 0,
                    }),
                }
                order_line.backordered = (order_line.backordered - made.quantity).max(0);
            }
            for waiting in backordered {
                found.lines[waiting.line].backordered = waiting.quantity;
            }
        }
        SalesOrderEvent::Deallocated {
            line,
            location,
            quantity,
            ..
        } => {
            apply_release(&mut found.lines[*line], Some(location), *quantity);
        }
        SalesOrderEvent::Held { reason, .. } => found.hold = Some(reason.clone()),
        SalesOrderEvent::Released { .. } => found.hold = None,
        SalesOrderEvent::Picked {
            location, lines, ..
        } => {
            for request in lines {
                advance(
                    &mut found.lines[request.line],
                    location,
                    request.quantity,
                    |a| a.allocated - a.picked,
                    |a, n| a.picked += n,
                );
            }
        }
        SalesOrderEvent::Packed {
            location, lines, ..
        } => {
            for request in lines {
                advance(
                    &mut found.lines[request.line],
                    location,
                    request.quantity,
                    |a| a.picked - a.packed,
                    |a, n| a.packed += n,
                );
            }
        }
        SalesOrderEvent::Shipped {
            shipment,
            location,
            lines,
            values_minor,
            at,
            ..
        } => {
            for (request, value) in lines.iter().zip(values_minor) {
                let order_line = &mut found.lines[request.line];
                advance(
                    order_line,
                    location,
                    request.quantity,
                    |a| a.packed,
                    |a, n| {
                        a.packed -= n;
                        a.picked -= n;
                        a.allocated -= n;
                    },
                );
                order_line.allocations.retain(|a| a.allocated > 0);
                order_line.shipped += request.quantity;
                order_line.shipped_value_minor += value;
            }
            found.shipments.push(ShipmentRecord {
                id: shipment.clone(),
                location: location.clone(),
                lines: lines.clone(),
                shipped_at: Some(*at),
                delivered_at: None,
            });
        }
        SalesOrderEvent::Delivered {
            shipment,
            delivered_at,
            ..
        } => {
            if let Some(record) = found.shipments.iter_mut().find(|s| s.id == *shipment) {
                record.delivered_at = Some(*delivered_at);
                for request in &record.lines {
                    found.lines[request.line].delivered += request.quantity;
                }
            }
        }
        SalesOrderEvent::CarrierException { .. } => {}
        SalesOrderEvent::Invoiced {
            lines,
            net_minor,
            tax_minor,
            ..
        } => {
            for request in lines {
                found.lines[request.line].invoiced += request.quantity;
            }
            found.shipping_invoiced = true;
            found.invoiced_minor += net_minor + tax_minor;
        }
        SalesOrderEvent::CreditNoteIssued { amount_minor, .. } => {
            found.invoiced_minor -= amount_minor;
            found.credited_minor += amount_minor;
        }
        SalesOrderEvent::PaymentReceived { amount_minor, .. } => found.paid_minor += amount_minor,
        SalesOrderEvent::PaymentRefunded { amount_minor, .. } => found.paid_minor -= amount_minor,
        SalesOrderEvent::Cancelled { lines, .. } => {
            let mut per_line: Vec<i64> = vec![0; found.lines.len()];
            for request in lines {
                per_line[request.line] += request.quantity;
            }
            for (index, units) in per_line.into_iter().enumerate() {
                let order_line = &mut found.lines[index];
                let from_reservations = (units - order_line.unallocated()).max(0);
                apply_release(order_line, None, from_reservations);
                order_line.cancelled += units;
                order_line.backordered = order_line.backordered.min(order_line.unallocated());
            }
        }
        SalesOrderEvent::ReturnAuthorised { lines, .. } => {
            for request in lines {
                if let Some(order_line) = found.lines.get_mut(request.line) {
                    order_line.returned += request.quantity;
                }
            }
        }
        SalesOrderEvent::ReturnReleased { lines, .. } => {
            for request in lines {
                if let Some(order_line) = found.lines.get_mut(request.line) {
                    order_line.returned -= request.quantity;
                }
            }
        }
        SalesOrderEvent::Amended {
            set_quantities,
            add_lines,
            ship_to,
            promise,
            ..
        } => {
            for change in set_quantities {
                let order_line = &mut found.lines[change.line];
                let excess = (order_line.shipped + order_line.cancelled + order_line.allocated()
                    - change.quantity)
                    .max(0);
                apply_release(order_line, None, excess);
                order_line.line.quantity = change.quantity;
                order_line.backordered = order_line.backordered.min(order_line.unallocated());
            }
            for added in add_lines {
                found.lines.push(SalesOrderLine::new(added.clone()));
            }
            if let Some(address) = ship_to {
                found.ship_to = address.clone();
            }
            if let Some(promise) = promise {
                found.promise = Some(promise.clone());
            }
        }
    }
}

/// Advances a warehouse step at a center across the line's allocations, in order.
fn advance(
    order_line: &mut SalesOrderLine,
    location: &LocationId,
    mut units: i64,
    outstanding: impl Fn(&LineAllocation) -> i64,
    step: impl Fn(&mut LineAllocation, i64),
) {
    for allocation in order_line
        .allocations
        .iter_mut()
        .filter(|a| a.location == *location)
    {
        if units == 0 {
            break;
        }
        let take = units.min(outstanding(allocation));
        step(allocation, take);
        units -= take;
    }
}
