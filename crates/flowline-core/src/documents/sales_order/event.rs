//! The sales order's events, as recorded in its stream, and the values only events carry
//! (the recorded order line, the allocation made).

use super::{DeliveryCondition, Initiator, LineQuantity, Package, Promise};
use crate::effects::Effects;
use crate::id::{
    CarrierId, ChannelId, CustomerId, InvoiceId, LocationId, PaymentId, ReasonCode, ReturnId,
    SalesOrderId, ServiceCode, ShipmentId, Sku,
};
use crate::master::{Address, Contact};
use crate::money::{Currency, ExchangeRate};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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

crate::registry::event_family! {
    /// Sales order events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum SalesOrderEvent {
        /// The order was placed (`OrderPlaced` and `PromiseMade` of SCOR-METRICS §2.4).
        "SalesOrderPlaced" => Placed {
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
        "SalesOrderAllocated" => Allocated {
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
        "SalesOrderDeallocated" => Deallocated {
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
        "SalesOrderHeld" => Held {
            /// Order id.
            order: SalesOrderId,
            /// Reason.
            reason: ReasonCode,
            /// When.
            at: Timestamp,
        },
        /// The hold was lifted.
        "SalesOrderReleased" => Released {
            /// Order id.
            order: SalesOrderId,
            /// When.
            at: Timestamp,
        },
        /// Units were picked.
        "SalesOrderPicked" => Picked {
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
        "SalesOrderPacked" => Packed {
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
        "SalesOrderShipped" => Shipped {
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
        "ShipmentDelivered" => Delivered {
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
        "CarrierExceptionRecorded" => CarrierException {
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
        "SalesOrderInvoiced" => Invoiced {
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
        "CreditNoteIssued" => CreditNoteIssued {
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
        "PaymentReceived" => PaymentReceived {
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
        "PaymentRefunded" => PaymentRefunded {
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
        "SalesOrderCancelled" => Cancelled {
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
        "SalesOrderAmended" => Amended {
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
        "SalesOrderReturnAuthorised" => ReturnAuthorised {
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
        "SalesOrderReturnReleased" => ReturnReleased {
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
}
