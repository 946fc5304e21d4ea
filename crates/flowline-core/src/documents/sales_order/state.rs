//! The sales order's state as its events leave it: lines with their reservations per center,
//! shipments, amounts invoiced and paid; the life-cycle name derived from them, and the
//! exceptions queue's [`Attention`] kinds.

use super::{LineQuantity, OrderLine, Promise};
use crate::id::{ChannelId, CustomerId, LocationId, ReasonCode, SalesOrderId, ShipmentId, Sku};
use crate::master::{Address, Contact};
use crate::money::{Currency, ExchangeRate};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

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
    pub(super) fn new(line: OrderLine) -> Self {
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
