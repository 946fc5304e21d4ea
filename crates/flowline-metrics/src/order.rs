//! One sales order as the reliability and responsiveness metrics see it, and the judgement of
//! it once it closes (SCOR-METRICS §3 and §4).
//!
//! An [`OrderTrack`] collects the facts of one order from its events: what was ordered (on the
//! basis the customer agreed to), the promise, holds, allocations, shipments, deliveries,
//! cancellations, carrier exceptions, credit notes and returns. [`OrderTrack::judge`] turns them
//! into a [`Judgement`]: whether the order is in the population, which of the four perfect-order
//! components failed (its failure signature), and its cycle time cut into segments that tile the
//! time from placement to the last delivery exactly.

use crate::period::Day;
use flowline_core::documents::sales_order::{DeliveryCondition, Initiator, Promise};
use flowline_core::id::{CarrierId, ChannelId, LocationId, ReasonCode, ServiceCode, Sku};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A failed perfect-order component, as a bit of a failure signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// RL.2.1: not delivered in full.
    InFull,
    /// RL.2.2: late against the original commitment, or delivered to the wrong place.
    OnTime,
    /// RL.2.3: documentation wrong.
    Documentation,
    /// RL.2.4: not in perfect condition.
    Condition,
}

impl Component {
    /// The four components, in SCOR order.
    pub const ALL: [Self; 4] = [
        Self::InFull,
        Self::OnTime,
        Self::Documentation,
        Self::Condition,
    ];

    /// The component's bit in a signature.
    pub fn bit(self) -> u8 {
        match self {
            Self::InFull => 1,
            Self::OnTime => 2,
            Self::Documentation => 4,
            Self::Condition => 8,
        }
    }

    /// Short name used in signatures: `{late, condition}`.
    pub fn short(self) -> &'static str {
        match self {
            Self::InFull => "in_full",
            Self::OnTime => "late",
            Self::Documentation => "docs",
            Self::Condition => "condition",
        }
    }
}

/// Names a failure signature: `{late, condition}`; the empty signature is `{}` (perfect).
pub fn signature_name(signature: u8) -> String {
    let names: Vec<&str> = Component::ALL
        .iter()
        .filter(|component| signature & component.bit() != 0)
        .map(|component| component.short())
        .collect();
    format!("{{{}}}", names.join(", "))
}

/// The segments a cycle time is cut into (§4.2), in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Order entry and validation (Deliver).
    Entry,
    /// Waiting for stock (Source).
    SupplyWait,
    /// Waiting for the work order to start (Make).
    MakeQueue,
    /// The work order (Make).
    Make,
    /// Pick, pack and hand-over (Deliver).
    Warehouse,
    /// With the carrier (Deliver).
    Transit,
    /// Held at the customer's request: excluded from RS.1.1.
    Dwell,
}

impl Segment {
    /// Every segment.
    pub const ALL: [Self; 7] = [
        Self::Entry,
        Self::SupplyWait,
        Self::MakeQueue,
        Self::Make,
        Self::Warehouse,
        Self::Transit,
        Self::Dwell,
    ];

    /// Index into segment arrays.
    pub fn index(self) -> usize {
        match self {
            Self::Entry => 0,
            Self::SupplyWait => 1,
            Self::MakeQueue => 2,
            Self::Make => 3,
            Self::Warehouse => 4,
            Self::Transit => 5,
            Self::Dwell => 6,
        }
    }

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::SupplyWait => "supply_wait",
            Self::MakeQueue => "make_queue",
            Self::Make => "make",
            Self::Warehouse => "warehouse",
            Self::Transit => "transit",
            Self::Dwell => "dwell",
        }
    }

    /// The SCOR level-2 process the segment counts towards (`None` for dwell).
    pub fn process(self) -> Option<&'static str> {
        match self {
            Self::SupplyWait => Some("source"),
            Self::MakeQueue | Self::Make => Some("make"),
            Self::Entry | Self::Warehouse | Self::Transit => Some("deliver"),
            Self::Dwell => None,
        }
    }
}

/// Rules the judgement depends on, chosen by the tenant (SCOR-METRICS §3.1, §3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Days after a delivery during which a return, claim or credit note can still change the
    /// judgement of its order.
    pub observation_window_days: i64,
    /// Seller cancellation reasons that take an order out of the population (not a fulfilment
    /// failure): payment failure, fraud, duplicate.
    pub excluded_cancellation_reasons: Vec<String>,
    /// Hold reasons that are dwell (time held for the customer, excluded from RS.1.1).
    pub dwell_hold_reasons: Vec<String>,
    /// Return reasons that fail condition (RL.2.4).
    pub condition_return_reasons: Vec<String>,
    /// Return reasons that fail in-full (RL.2.1).
    pub in_full_return_reasons: Vec<String>,
    /// Credit note reasons that fail documentation (RL.2.3).
    pub documentation_credit_reasons: Vec<String>,
    /// Carrier exception codes that fail documentation (RL.2.3).
    pub documentation_exception_codes: Vec<String>,
    /// Carrier exception codes that fail condition (RL.2.4).
    pub condition_exception_codes: Vec<String>,
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

impl Rules {
    /// The defaults of SCOR-METRICS §3.1 and §3.5.
    pub fn standard() -> Self {
        Self {
            observation_window_days: 30,
            excluded_cancellation_reasons: strings(&["payment_failed", "fraud", "duplicate"]),
            dwell_hold_reasons: strings(&["customer_request", "preorder_release"]),
            condition_return_reasons: strings(&[
                "damaged_in_transit",
                "damaged",
                "defective",
                "not_as_described",
                "expired",
            ]),
            in_full_return_reasons: strings(&["wrong_item", "missing_item", "wrong_size_sent"]),
            documentation_credit_reasons: strings(&["billing_error", "tax_error", "price_error"]),
            documentation_exception_codes: strings(&[
                "address_error",
                "label_unreadable",
                "wrong_service",
                "customs_documentation",
                "packing_slip_mismatch",
                "tracking_invalid",
            ]),
            condition_exception_codes: strings(&["damaged"]),
        }
    }

    fn listed(list: &[String], code: &ReasonCode) -> bool {
        list.iter().any(|entry| entry == code.as_str())
    }
}

/// One line of a tracked order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTrack {
    /// The item.
    pub sku: Sku,
    /// The quantity on the order now, after every amendment.
    pub ordered: i64,
    /// The quantity the customer agreed to: as placed, changed only by the customer's own
    /// amendments and cancellations (SCOR: a customer's change supersedes the commitment, a
    /// seller's does not).
    pub basis: i64,
    /// Units cancelled by the seller.
    pub cancelled_by_seller: i64,
    /// Units cancelled by the customer (they leave the basis).
    pub cancelled_by_customer: i64,
    /// Units allocated at the first allocation.
    pub first_allocated: Option<i64>,
    /// Ever backordered.
    pub backordered: bool,
    /// When the line was last allocated.
    pub allocated_at: Option<Timestamp>,
    /// Units shipped.
    pub shipped: i64,
    /// Units whose shipment was delivered.
    pub delivered: i64,
    /// Units returned (authorised).
    pub returned: i64,
}

/// One shipment of a tracked order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentTrack {
    /// Shipment id.
    pub id: String,
    /// Center it left.
    pub location: LocationId,
    /// Carrier and service.
    pub carrier: (CarrierId, ServiceCode),
    /// When it was handed over.
    pub shipped_at: Timestamp,
    /// Units per line.
    pub lines: Vec<(usize, i64)>,
    /// Gross weight, grams.
    pub weight_g: i64,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
    /// Delivered damaged.
    pub damaged: bool,
    /// Delivered somewhere else.
    pub misdelivered: bool,
}

/// A late fact that may fail a component: when it happened, what it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateFact {
    /// When.
    pub at: Timestamp,
    /// The component it fails.
    pub component: Component,
}

/// Everything the metrics know about one sales order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTrack {
    /// Order id.
    pub id: String,
    /// Channel.
    pub channel: ChannelId,
    /// Ship-to region (state or province; the country when empty).
    pub region: String,
    /// Where the ship-to is, as far as it is known (coordinates, else a centroid).
    pub ship_to: Option<crate::geo::Place>,
    /// Ship-to time zone, in which a promise date is judged.
    #[serde(with = "flowline_core::codec::time_zone")]
    pub zone: TimeZone,
    /// When the order was received.
    pub placed_at: Timestamp,
    /// The commitment the order is judged against: the original one, or the customer's own
    /// change of it.
    pub promise: Option<Promise>,
    /// Lines.
    pub lines: Vec<LineTrack>,
    /// Hold intervals: start, end (open while held), dwell or not.
    pub holds: Vec<(Timestamp, Option<Timestamp>, bool)>,
    /// Work orders for the order: started, completed.
    pub work: Vec<(Option<Timestamp>, Option<Timestamp>)>,
    /// Shipments.
    pub shipments: Vec<ShipmentTrack>,
    /// The last cancellation.
    pub last_cancelled_at: Option<Timestamp>,
    /// Whether a cancellation takes the order out of the population.
    pub excluded_by_cancellation: bool,
    /// Documentation and condition failures, and returns failing in-full, with their times.
    pub late_facts: Vec<LateFact>,
    /// The slices the order counts in besides those of its deliveries (channel, region, SKUs,
    /// categories), worked out once when it is placed or amended.
    #[serde(with = "crate::fold::slice::pairs")]
    pub slices: Vec<crate::fold::Slice>,
}

/// How a cycle time splits, per segment, in seconds.
pub type Segments = [i64; 7];

/// The verdict on one order, as it is counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// The local day the order closed on (reporting time zone).
    pub day: Day,
    /// When it closed.
    pub closed_at: Timestamp,
    /// Out of the reliability population (cancelled by the customer, or for a reason that is
    /// not a fulfilment failure).
    pub excluded: bool,
    /// Whether it had a commitment to judge timeliness against.
    pub has_commit: bool,
    /// The failed components.
    pub signature: u8,
    /// Cycle time from placement to the last delivery, when something was delivered.
    pub cycle: Option<Segments>,
    /// The center and carrier service of the last delivery, for slicing.
    pub last_shipment: Option<(LocationId, (CarrierId, ServiceCode))>,
}

impl OrderTrack {
    /// Whether the order is closed for measurement: every unit of every line delivered or
    /// cancelled.
    pub fn is_closed(&self) -> bool {
        !self.lines.is_empty()
            && self.lines.iter().all(|line| {
                line.delivered + line.cancelled_by_seller + line.cancelled_by_customer
                    >= line.ordered
            })
    }

    /// The last delivery of any shipment.
    pub fn last_delivery(&self) -> Option<Timestamp> {
        self.shipments.iter().filter_map(|s| s.delivered_at).max()
    }

    /// When the order closed for measurement, if it has.
    pub fn closed_at(&self) -> Option<Timestamp> {
        if !self.is_closed() {
            return None;
        }
        [self.last_delivery(), self.last_cancelled_at]
            .into_iter()
            .flatten()
            .max()
    }

    /// Whether every unit the customer still wanted was cancelled before anything was
    /// delivered by the customer: the whole order withdrawn.
    fn withdrawn_by_customer(&self) -> bool {
        self.lines
            .iter()
            .all(|line| line.basis == 0 && line.delivered == 0)
    }

    /// The instant by which delivery was promised, in the ship-to zone: the end of the promised
    /// date, or the end of the window.
    pub fn deadline(&self) -> Option<Timestamp> {
        let promise = self.promise.as_ref()?;
        if let Some(date) = promise.deliver_by {
            let next = date.tomorrow().ok()?;
            return next.to_zoned(self.zone.clone()).ok().map(|z| z.timestamp());
        }
        promise.window.map(|(_, end)| end)
    }

    /// The verdict, once closed; `None` while open. `rules` decide which facts fail which
    /// component; facts after the observation window of the last delivery do not count.
    pub fn judge(&self, rules: &Rules, reporting: &TimeZone) -> Option<Judgement> {
        let closed_at = self.closed_at()?;
        let excluded = self.excluded_by_cancellation || self.withdrawn_by_customer();
        let mut signature = 0u8;
        let in_full = self
            .lines
            .iter()
            .all(|line| line.delivered == line.basis && line.cancelled_by_seller == 0);
        if !in_full {
            signature |= Component::InFull.bit();
        }
        let deadline = self.deadline();
        if let Some(deadline) = deadline {
            let last = self.last_delivery();
            let late = last.is_some_and(|at| at >= deadline);
            let misdelivered = self.shipments.iter().any(|s| s.misdelivered);
            if late || misdelivered {
                signature |= Component::OnTime.bit();
            }
        }
        if self.shipments.iter().any(|s| s.damaged) {
            signature |= Component::Condition.bit();
        }
        let window_end = self.last_delivery().and_then(|at| {
            jiff::SignedDuration::try_from_hours(rules.observation_window_days.saturating_mul(24))
                .and_then(|window| at.checked_add(window).ok())
        });
        for fact in &self.late_facts {
            if window_end.is_none_or(|end| fact.at <= end) {
                signature |= fact.component.bit();
            }
        }
        Some(Judgement {
            day: Day::of(closed_at, reporting),
            closed_at,
            excluded,
            has_commit: deadline.is_some(),
            signature,
            cycle: self.cycle_time(),
            last_shipment: self
                .shipments
                .iter()
                .filter(|s| s.delivered_at.is_some())
                .max_by_key(|s| s.delivered_at)
                .map(|s| (s.location.clone(), s.carrier.clone())),
        })
    }

    /// The cycle time from placement to the last delivery, cut into segments that tile it
    /// exactly (§4.2): the line that completed last sets the path; entry runs to the release of
    /// the last hold, waiting for stock to its allocation (if it was backordered), then the
    /// warehouse to its hand-over and the carrier to its delivery. Work orders for the order
    /// are Make time wherever they fall before the hand-over, and customer holds are dwell
    /// wherever they fall.
    pub fn cycle_time(&self) -> Option<Segments> {
        let end = self.last_delivery()?;
        let start = self.placed_at.min(end);
        let clamp = |at: Timestamp| at.clamp(start, end);
        // The critical line: the one whose units arrived last (the first such line on ties).
        let (critical, shipment) = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(index, _)| {
                self.shipments
                    .iter()
                    .filter(|s| s.delivered_at.is_some() && s.lines.iter().any(|l| l.0 == index))
                    .max_by_key(|s| s.delivered_at)
                    .map(|s| (index, s))
            })
            .max_by_key(|(index, s)| (s.delivered_at, std::cmp::Reverse(*index)))?;
        let line = &self.lines[critical];
        let shipped_at = clamp(shipment.shipped_at);
        let released = self
            .holds
            .iter()
            .filter_map(|(_, end, _)| *end)
            .filter(|at| *at <= shipped_at)
            .max()
            .map_or(start, clamp);
        let released = released.min(shipped_at);
        let allocated = line
            .allocated_at
            .map_or(released, |at| clamp(at).max(released))
            .min(shipped_at);
        // Base tiling, then overlays of higher priority.
        let wait = if line.backordered {
            Segment::SupplyWait
        } else {
            Segment::Entry
        };
        let mut pieces: Vec<(Timestamp, Timestamp, Segment, u8)> = vec![
            (start, released, Segment::Entry, 0),
            (released, allocated, wait, 0),
            (allocated, shipped_at, Segment::Warehouse, 0),
            (shipped_at, end, Segment::Transit, 0),
        ];
        for (started, completed) in &self.work {
            if let Some(started) = started {
                let started = clamp(*started).min(shipped_at);
                pieces.push((released, started, Segment::MakeQueue, 1));
                let completed = completed.map_or(shipped_at, |at| clamp(at).min(shipped_at));
                pieces.push((started, completed, Segment::Make, 2));
            }
        }
        for (held, released_at, dwell) in &self.holds {
            if *dwell {
                let to = released_at.map_or(end, clamp);
                pieces.push((clamp(*held), to, Segment::Dwell, 3));
            }
        }
        Some(paint(start, end, &pieces))
    }
}

/// Splits `[start, end)` at every piece boundary and gives each elementary interval the segment
/// of the highest-priority piece covering it, so the segments add up to `end − start` exactly.
fn paint(
    start: Timestamp,
    end: Timestamp,
    pieces: &[(Timestamp, Timestamp, Segment, u8)],
) -> Segments {
    let mut points: Vec<Timestamp> = vec![start, end];
    for (from, to, _, _) in pieces {
        points.push(*from);
        points.push(*to);
    }
    points.sort();
    points.dedup();
    let mut segments = [0i64; 7];
    for pair in points.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        if from < start || to > end || from >= to {
            continue;
        }
        let covering = pieces
            .iter()
            .filter(|(piece_from, piece_to, _, _)| *piece_from <= from && to <= *piece_to)
            .max_by_key(|(_, _, _, priority)| *priority);
        if let Some((_, _, segment, _)) = covering {
            segments[segment.index()] += to.duration_since(from).as_secs();
        }
    }
    segments
}

/// Applies a customer or seller cancellation to a line.
pub fn cancel_line(line: &mut LineTrack, initiator: Initiator, quantity: i64) {
    match initiator {
        Initiator::Customer => {
            line.cancelled_by_customer += quantity;
            line.basis -= quantity;
        }
        Initiator::Seller => line.cancelled_by_seller += quantity,
    }
}

/// Whether a delivery was damaged.
pub fn is_damaged(condition: DeliveryCondition) -> bool {
    condition == DeliveryCondition::Damaged
}

/// Which component a reason fails under `rules`, for the three kinds of late facts.
pub fn return_component(rules: &Rules, reason: &ReasonCode) -> Option<Component> {
    if Rules::listed(&rules.condition_return_reasons, reason) {
        Some(Component::Condition)
    } else if Rules::listed(&rules.in_full_return_reasons, reason) {
        Some(Component::InFull)
    } else {
        None
    }
}

/// The component a carrier exception fails, if any.
pub fn exception_component(rules: &Rules, code: &ReasonCode) -> Option<Component> {
    if Rules::listed(&rules.documentation_exception_codes, code) {
        Some(Component::Documentation)
    } else if Rules::listed(&rules.condition_exception_codes, code) {
        Some(Component::Condition)
    } else {
        None
    }
}

/// Whether a credit note's reason fails documentation.
pub fn credit_fails_documentation(rules: &Rules, reason: &ReasonCode) -> bool {
    Rules::listed(&rules.documentation_credit_reasons, reason)
}

/// Whether a seller cancellation's reason takes the order out of the population.
pub fn cancellation_excludes(rules: &Rules, reason: &ReasonCode) -> bool {
    Rules::listed(&rules.excluded_cancellation_reasons, reason)
}

/// Whether a hold's reason makes it dwell.
pub fn hold_is_dwell(rules: &Rules, reason: &ReasonCode) -> bool {
    Rules::listed(&rules.dwell_hold_reasons, reason)
}
