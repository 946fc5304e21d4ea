//! Property tests over random order histories.
//!
//! For random sequences of commands (placements with and without promises, holds, allocations,
//! partial shipments, deliveries damaged or not, cancellations by either side, amendments,
//! carrier exceptions, credit notes and returns) driven through the domain:
//! - the reliability and cycle-time counters the fold maintained incrementally (adding each
//!   verdict when an order closes, taking it back and adding the new one when a late fact
//!   changes it) equal counters built from scratch by judging every order once, at the end, in
//!   this test's own counting code;
//! - the counters that do not depend on a verdict (fill at the first allocation, sale cohorts,
//!   shipments, returns, revenue, cost of goods sold) equal, day by day, for the whole tenant
//!   and for each channel, a naive recount of the log written in this test;
//! - the drill-down adds up: the failure signatures sum to the imperfect orders, each
//!   component's failures to the signatures that contain it, and the cycle-time segments to
//!   the gross cycle time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::{Story, address, id, ts};
use flowline_core::Event;
use flowline_core::documents::return_auth::ReturnEvent;
use flowline_core::documents::sales_order::SalesOrderEvent;
use flowline_core::documents::sales_order::{
    DeliverShipment, DeliveryCondition, Initiator, OrderLineInput, PlaceSalesOrder, Promise,
    PromiseSource, RecordCarrierException, ShortagePolicy,
};
use flowline_core::{Command, Context, decide};
use flowline_metrics::fold::{Bucket, Fold, Slice};
use flowline_metrics::order::{Component, Segment};
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::{scorecard, total};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
enum Op {
    Place {
        lines: Vec<(u8, i64)>,
        promise_days: Option<i64>,
        zone: u8,
        hold: Option<u8>,
    },
    Release(usize),
    Allocate(usize),
    Ship(usize, i64),
    Deliver(usize, bool, bool),
    Cancel(usize, bool, u8),
    Amend(usize, bool, i64),
    Exception(usize, u8),
    Credit(usize, u8),
    Return(usize, u8),
    Restock(u8, i64),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (prop::collection::vec((0u8..4, 1i64..4), 1..3), prop::option::of(1i64..6), 0u8..3, prop::option::of(0u8..3))
            .prop_map(|(lines, promise_days, zone, hold)| Op::Place { lines, promise_days, zone, hold }),
        2 => (0usize..64).prop_map(Op::Release),
        2 => (0usize..64).prop_map(Op::Allocate),
        4 => (0usize..64, 1i64..4).prop_map(|(o, q)| Op::Ship(o, q)),
        4 => (0usize..64, prop::bool::weighted(0.15), prop::bool::weighted(0.05)).prop_map(|(o, d, m)| Op::Deliver(o, d, m)),
        1 => (0usize..64, any::<bool>(), 0u8..3).prop_map(|(o, c, r)| Op::Cancel(o, c, r)),
        1 => (0usize..64, any::<bool>(), 1i64..4).prop_map(|(o, c, q)| Op::Amend(o, c, q)),
        1 => (0usize..64, 0u8..3).prop_map(|(o, c)| Op::Exception(o, c)),
        1 => (0usize..64, 0u8..3).prop_map(|(o, r)| Op::Credit(o, r)),
        1 => (0usize..64, 0u8..4).prop_map(|(o, r)| Op::Return(o, r)),
        1 => (0u8..4, 1i64..6).prop_map(|(s, q)| Op::Restock(s, q)),
        2 => (1i64..48).prop_map(Op::Wait),
    ]
}

const SKUS: [&str; 4] = ["A", "B", "C", "D"];
const ZONES: [&str; 3] = ["UTC", "America/New_York", "Asia/Tokyo"];

/// Runs a command if the domain accepts it; a refusal is part of random histories.
fn attempt(story: &mut Story, command: Command, at: Timestamp) {
    if decide(&story.state, &command, &Context { at }).is_ok() {
        story.run(command, &at.to_string());
    }
}

/// The `pick`-th order (by id) among those `wanted` accepts.
fn nth_where(
    story: &Story,
    pick: usize,
    wanted: impl Fn(&flowline_core::documents::sales_order::SalesOrder) -> bool,
) -> Option<String> {
    let mut ids: Vec<String> = story
        .state
        .sales_orders
        .iter()
        .filter(|(_, order)| wanted(order))
        .map(|(id, _)| id.to_string())
        .collect();
    ids.sort();
    (!ids.is_empty()).then(|| ids[pick % ids.len()].clone())
}

fn nth_order(story: &Story, pick: usize) -> Option<String> {
    nth_where(story, pick, |_| true)
}

fn play(ops: &[Op]) -> Story {
    let mut story = Story::new(
        "America/New_York",
        &[("A", 30), ("B", 12), ("C", 0), ("D", 60)],
    );
    let mut now: Timestamp = ts("2025-03-01T12:00:00Z");
    story.lenient = true;
    let mut placed = 0;
    for op in ops {
        now += SignedDuration::from_mins(37);
        match op {
            Op::Wait(hours) => now += SignedDuration::from_hours(*hours),
            Op::Place {
                lines,
                promise_days,
                zone,
                hold,
            } => {
                placed += 1;
                let order = format!("SO-{placed:03}");
                let promise = promise_days.map(|days| Promise {
                    source: PromiseSource::ShownAtCheckout,
                    deliver_by: Some(
                        (now + SignedDuration::from_hours(24 * days))
                            .to_zoned(jiff::tz::TimeZone::UTC)
                            .date(),
                    ),
                    window: None,
                    ship_by: None,
                });
                let command = Command::PlaceSalesOrder(PlaceSalesOrder {
                    contact: None,
                    order: id(&order),
                    channel: id(if placed % 2 == 0 {
                        "web"
                    } else {
                        "marketplace"
                    }),
                    customer: id("C-1"),
                    ship_to: address(ZONES[usize::from(*zone)]),
                    currency: flowline_core::money::Currency::parse("USD").unwrap(),
                    exchange_rate: None,
                    lines: lines
                        .iter()
                        .map(|(sku, quantity)| OrderLineInput {
                            sku: id(SKUS[usize::from(*sku)]),
                            quantity: *quantity,
                            unit_price_minor: 1000,
                            unit_tax_minor: 0,
                        })
                        .collect(),
                    promise,
                    service_level: None,
                    shipping_charge_minor: 0,
                    allocate: hold.is_none().then_some(ShortagePolicy::Backorder),
                });
                attempt(&mut story, command, now);
                if let Some(reason) = hold {
                    let reason =
                        ["payment", "customer_request", "preorder_release"][usize::from(*reason)];
                    if story.state.sales_orders.contains_key(&id(&order)) {
                        story.hold(&order, reason, &now.to_string());
                    }
                }
            }
            Op::Release(pick) => {
                if let Some(order) = nth_where(&story, *pick, |o| o.hold.is_some()) {
                    story.release(&order, &now.to_string());
                }
            }
            Op::Allocate(pick) => {
                if let Some(order) = nth_order(&story, *pick) {
                    let command = Command::AllocateSalesOrder(
                        flowline_core::documents::sales_order::AllocateSalesOrder {
                            order: id(&order),
                            shortage: ShortagePolicy::Backorder,
                            lines: None,
                        },
                    );
                    attempt(&mut story, command, now);
                }
            }
            Op::Ship(pick, quantity) => {
                let shippable = |o: &flowline_core::documents::sales_order::SalesOrder| {
                    o.hold.is_none()
                        && o.lines
                            .iter()
                            .any(|l| l.allocations.iter().any(|a| a.allocated > a.picked))
                };
                if let Some(order) = nth_where(&story, *pick, shippable) {
                    let found = story.state.sales_orders[&id(&order)].clone();
                    let lines: Vec<(usize, i64)> = found
                        .lines
                        .iter()
                        .enumerate()
                        .filter_map(|(index, line)| {
                            let allocated: i64 = line
                                .allocations
                                .iter()
                                .map(|a| a.allocated - a.picked)
                                .sum();
                            (allocated > 0).then_some((index, allocated.min(*quantity)))
                        })
                        .collect();
                    let shipment = format!("{order}-S{}", found.shipments.len() + 1);
                    if !lines.is_empty() && found.hold.is_none() {
                        story.ship(&order, &shipment, &lines, &now.to_string());
                    }
                }
            }
            Op::Deliver(pick, damaged, misdelivered) => {
                let in_transit = |o: &flowline_core::documents::sales_order::SalesOrder| {
                    o.shipments.iter().any(|s| s.delivered_at.is_none())
                };
                if let Some(order) = nth_where(&story, *pick, in_transit) {
                    let found = &story.state.sales_orders[&id(&order)];
                    if let Some(shipment) =
                        found.shipments.iter().find(|s| s.delivered_at.is_none())
                    {
                        let command = Command::DeliverShipment(DeliverShipment {
                            order: id(&order),
                            shipment: shipment.id.clone(),
                            delivered_at: None,
                            condition: if *damaged {
                                DeliveryCondition::Damaged
                            } else {
                                DeliveryCondition::Intact
                            },
                            misdelivered: *misdelivered,
                            note: None,
                        });
                        attempt(&mut story, command, now);
                    }
                }
            }
            Op::Cancel(pick, by_customer, reason) => {
                if let Some(order) = nth_order(&story, *pick) {
                    let initiator = if *by_customer {
                        Initiator::Customer
                    } else {
                        Initiator::Seller
                    };
                    let reason = ["changed_mind", "out_of_stock", "fraud"][usize::from(*reason)];
                    let command = Command::CancelSalesOrder(
                        flowline_core::documents::sales_order::CancelSalesOrder {
                            order: id(&order),
                            initiator,
                            reason: id(reason),
                            lines: None,
                        },
                    );
                    attempt(&mut story, command, now);
                }
            }
            Op::Amend(pick, by_customer, quantity) => {
                if let Some(order) = nth_order(&story, *pick) {
                    let initiator = if *by_customer {
                        Initiator::Customer
                    } else {
                        Initiator::Seller
                    };
                    let command = Command::AmendSalesOrder(
                        flowline_core::documents::sales_order::AmendSalesOrder {
                            order: id(&order),
                            initiator,
                            set_quantities: vec![
                                flowline_core::documents::sales_order::LineQuantity {
                                    line: 0,
                                    quantity: *quantity,
                                },
                            ],
                            add_lines: vec![],
                            ship_to: None,
                            promise: None,
                        },
                    );
                    attempt(&mut story, command, now);
                }
            }
            Op::Exception(pick, code) => {
                if let Some(order) = nth_order(&story, *pick) {
                    let found = &story.state.sales_orders[&id(&order)];
                    if let Some(shipment) = found.shipments.first() {
                        let code = ["address_error", "damaged", "lost"][usize::from(*code)];
                        let command = Command::RecordCarrierException(RecordCarrierException {
                            order: id(&order),
                            shipment: shipment.id.clone(),
                            code: id(code),
                        });
                        attempt(&mut story, command, now);
                    }
                }
            }
            Op::Credit(pick, reason) => {
                if let Some(order) = nth_order(&story, *pick) {
                    let invoice = format!("INV-{}", story.events.len());
                    attempt(
                        &mut story,
                        Command::InvoiceSalesOrder(
                            flowline_core::documents::sales_order::InvoiceSalesOrder {
                                order: id(&order),
                                invoice: id(&invoice),
                            },
                        ),
                        now,
                    );
                    let reason = ["tax_error", "goodwill", "billing_error"][usize::from(*reason)];
                    let note = format!("CN-{}", story.events.len());
                    attempt(
                        &mut story,
                        Command::IssueCreditNote(
                            flowline_core::documents::sales_order::IssueCreditNote {
                                order: id(&order),
                                credit_note: id(&note),
                                amount: common::usd(100),
                                reason: id(reason),
                            },
                        ),
                        now,
                    );
                }
            }
            Op::Return(pick, reason) => {
                if let Some(order) = nth_order(&story, *pick) {
                    let reason = [
                        "damaged_in_transit",
                        "wrong_item",
                        "changed_mind",
                        "defective",
                    ][usize::from(*reason)];
                    let return_id = format!("RMA-{}", story.events.len());
                    let command = Command::AuthoriseReturn(
                        flowline_core::documents::return_auth::AuthoriseReturn {
                            return_id: id(&return_id),
                            order: id(&order),
                            policy: id("std"),
                            lines: vec![flowline_core::documents::return_auth::ReturnLineInput {
                                line: 0,
                                quantity: 1,
                                reason: id(reason),
                            }],
                        },
                    );
                    attempt(&mut story, command, now);
                }
            }
            Op::Restock(sku, quantity) => {
                story.stock(SKUS[usize::from(*sku)], *quantity, &now.to_string())
            }
        }
    }
    story
}

/// The counters of a day and slice that do not depend on an order's verdict: fill at the first
/// allocation, sale cohorts, shipments, returns, revenue and cost of goods sold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Counters {
    cohort_units_sold: i64,
    fill_orders: i64,
    fill_orders_complete: i64,
    fill_lines: i64,
    fill_lines_complete: i64,
    fill_units_ordered: i64,
    fill_units_allocated: i64,
    backordered_orders: i64,
    shipments: i64,
    units_shipped: i64,
    orders_shipped: i64,
    units_returned: i64,
    cohort_units_returned: i64,
    revenue: i128,
    cost_of_goods_sold: i128,
}

impl Counters {
    fn of(bucket: &Bucket) -> Self {
        Self {
            cohort_units_sold: bucket.cohort_units_sold,
            fill_orders: bucket.fill_orders,
            fill_orders_complete: bucket.fill_orders_complete,
            fill_lines: bucket.fill_lines,
            fill_lines_complete: bucket.fill_lines_complete,
            fill_units_ordered: bucket.fill_units_ordered,
            fill_units_allocated: bucket.fill_units_allocated,
            backordered_orders: bucket.backordered_orders,
            shipments: bucket.shipments,
            units_shipped: bucket.units_shipped,
            orders_shipped: bucket.orders_shipped,
            units_returned: bucket.units_returned,
            cohort_units_returned: bucket.cohort_units_returned,
            revenue: bucket.revenue,
            cost_of_goods_sold: bucket.cost_of_goods_sold,
        }
    }

    fn add(&mut self, other: &Self) {
        self.cohort_units_sold += other.cohort_units_sold;
        self.fill_orders += other.fill_orders;
        self.fill_orders_complete += other.fill_orders_complete;
        self.fill_lines += other.fill_lines;
        self.fill_lines_complete += other.fill_lines_complete;
        self.fill_units_ordered += other.fill_units_ordered;
        self.fill_units_allocated += other.fill_units_allocated;
        self.backordered_orders += other.backordered_orders;
        self.shipments += other.shipments;
        self.units_shipped += other.units_shipped;
        self.orders_shipped += other.orders_shipped;
        self.units_returned += other.units_returned;
        self.cohort_units_returned += other.cohort_units_returned;
        self.revenue += other.revenue;
        self.cost_of_goods_sold += other.cost_of_goods_sold;
    }
}

/// The fold's [`Counters`] per local day, for the whole tenant and per channel, without empty
/// days.
fn folded(fold: &Fold) -> BTreeMap<(Date, Slice), Counters> {
    fold.buckets()
        .filter(|(_, slice, _)| matches!(slice, Slice::All | Slice::Channel(_)))
        .map(|(day, slice, bucket)| ((day.date(), slice.clone()), Counters::of(&bucket.bucket())))
        .filter(|(_, counters)| *counters != Counters::default())
        .collect()
}

/// An order as the recount follows it.
struct Recounted {
    channel: String,
    placed_on: Date,
    /// Units ordered per line, as amended.
    ordered: Vec<i64>,
    allocated_once: bool,
    shipped_once: bool,
}

/// The same [`Counters`] recounted from the log by this test's own, naive reading of
/// docs/metrics.md ("Operational KPIs"), sharing no code with the fold: each order's fill is
/// taken at its first allocation and counted on its day of placement, with the order's lines
/// and quantities as they stand then; units sold on the day of placement; shipments, units
/// shipped and first shipments on the day of shipping; units authorised for return on that day
/// and on the sale's day; revenue as invoiced net less credit notes and cost of goods sold as
/// the value shipped, on the day of each (tenant-wide only). Days are local days of the
/// reporting zone.
fn recounted(events: &[(Event, Timestamp)], zone: &TimeZone) -> BTreeMap<(Date, Slice), Counters> {
    let on = |at: &Timestamp| at.to_zoned(zone.clone()).date();
    let mut orders: BTreeMap<String, Recounted> = BTreeMap::new();
    let mut per_channel: BTreeMap<(Date, String), Counters> = BTreeMap::new();
    let mut tenant_wide: BTreeMap<Date, Counters> = BTreeMap::new();
    for (event, at) in events {
        match event {
            Event::SalesOrder(sale) => {
                let id = sale.order().to_string();
                match sale {
                    SalesOrderEvent::Placed {
                        channel,
                        lines,
                        placed_at,
                        ..
                    } => {
                        let order = Recounted {
                            channel: channel.to_string(),
                            placed_on: on(placed_at),
                            ordered: lines.iter().map(|line| line.quantity).collect(),
                            allocated_once: false,
                            shipped_once: false,
                        };
                        let counters = per_channel
                            .entry((order.placed_on, order.channel.clone()))
                            .or_default();
                        counters.cohort_units_sold += order.ordered.iter().sum::<i64>();
                        orders.insert(id, order);
                    }
                    SalesOrderEvent::Amended { set_quantities, .. } => {
                        let order = orders.get_mut(&id).unwrap();
                        for change in set_quantities {
                            order.ordered[change.line] = change.quantity;
                        }
                    }
                    SalesOrderEvent::Allocated {
                        allocations,
                        backordered,
                        ..
                    } => {
                        let order = orders.get_mut(&id).unwrap();
                        if order.allocated_once {
                            continue;
                        }
                        order.allocated_once = true;
                        let mut allocated = vec![0i64; order.ordered.len()];
                        for made in allocations {
                            allocated[made.line] += made.quantity;
                        }
                        let counters = per_channel
                            .entry((order.placed_on, order.channel.clone()))
                            .or_default();
                        let complete = order
                            .ordered
                            .iter()
                            .zip(&allocated)
                            .filter(|(ordered, allocated)| allocated >= ordered)
                            .count() as i64;
                        counters.fill_orders += 1;
                        counters.fill_lines += order.ordered.len() as i64;
                        counters.fill_lines_complete += complete;
                        if complete == order.ordered.len() as i64 {
                            counters.fill_orders_complete += 1;
                        }
                        counters.fill_units_ordered += order.ordered.iter().sum::<i64>();
                        counters.fill_units_allocated += order
                            .ordered
                            .iter()
                            .zip(&allocated)
                            .map(|(ordered, allocated)| (*allocated).min(*ordered))
                            .sum::<i64>();
                        if !backordered.is_empty() {
                            counters.backordered_orders += 1;
                        }
                    }
                    SalesOrderEvent::Shipped {
                        lines,
                        values_minor,
                        ..
                    } => {
                        let order = orders.get_mut(&id).unwrap();
                        let counters = per_channel
                            .entry((on(at), order.channel.clone()))
                            .or_default();
                        counters.shipments += 1;
                        counters.units_shipped += lines.iter().map(|l| l.quantity).sum::<i64>();
                        if !order.shipped_once {
                            order.shipped_once = true;
                            counters.orders_shipped += 1;
                        }
                        tenant_wide.entry(on(at)).or_default().cost_of_goods_sold +=
                            values_minor.iter().map(|v| i128::from(*v)).sum::<i128>();
                    }
                    SalesOrderEvent::Invoiced { net_minor, .. } => {
                        tenant_wide.entry(on(at)).or_default().revenue += i128::from(*net_minor);
                    }
                    SalesOrderEvent::CreditNoteIssued { amount_minor, .. } => {
                        tenant_wide.entry(on(at)).or_default().revenue -= i128::from(*amount_minor);
                    }
                    _ => {}
                }
            }
            Event::Return(ReturnEvent::Authorised { order, lines, .. }) => {
                let order = &orders[&order.to_string()];
                let units: i64 = lines.iter().map(|line| line.quantity).sum();
                per_channel
                    .entry((on(at), order.channel.clone()))
                    .or_default()
                    .units_returned += units;
                per_channel
                    .entry((order.placed_on, order.channel.clone()))
                    .or_default()
                    .cohort_units_returned += units;
            }
            _ => {}
        }
    }
    let mut counted: BTreeMap<(Date, Slice), Counters> = BTreeMap::new();
    for ((date, channel), counters) in per_channel {
        counted
            .entry((date, Slice::All))
            .or_default()
            .add(&counters);
        counted.insert((date, Slice::Channel(channel)), counters);
    }
    for (date, counters) in tenant_wide {
        counted
            .entry((date, Slice::All))
            .or_default()
            .add(&counters);
    }
    counted.retain(|_, counters| *counters != Counters::default());
    counted
}

fn everything() -> Range {
    Range::of_dates(jiff::civil::date(2025, 1, 1), jiff::civil::date(2026, 1, 1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn incremental_counters_equal_a_recount_and_the_drill_down_adds_up(ops in prop::collection::vec(op(), 60..220)) {
        let story = play(&ops);
        let fold = &story.fold;
        let counted = total(fold, everything(), &Slice::All);

        // The recount: every order judged once, now, and counted by this test's own rules.
        let mut closed = 0;
        let mut excluded = 0;
        let mut committed = 0;
        let mut perfect = 0;
        let mut failures = [0i64; 4];
        let mut signatures = [0i64; 16];
        let mut cycle_orders = 0;
        let mut gross: i128 = 0;
        let mut segments = [0i128; 7];
        for (_, judgement) in fold.recompute_judgements() {
            let Some(judgement) = judgement else { continue };
            closed += 1;
            if judgement.excluded {
                excluded += 1;
                continue;
            }
            if let Some(cycle) = judgement.cycle {
                cycle_orders += 1;
                for (index, seconds) in cycle.iter().enumerate() {
                    segments[index] += i128::from(*seconds);
                    gross += i128::from(*seconds);
                }
            }
            if judgement.has_commit {
                committed += 1;
                signatures[usize::from(judgement.signature)] += 1;
                if judgement.signature == 0 {
                    perfect += 1;
                }
                for (index, component) in Component::ALL.iter().enumerate() {
                    if judgement.signature & component.bit() != 0 {
                        failures[index] += 1;
                    }
                }
            }
        }
        prop_assert_eq!(counted.orders_closed, closed);
        prop_assert_eq!(counted.orders_excluded, excluded);
        prop_assert_eq!(counted.orders_with_commit, committed);
        prop_assert_eq!(counted.signatures, signatures);
        prop_assert_eq!(counted.failures_committed, failures);
        prop_assert_eq!(counted.cycle_orders, cycle_orders);
        prop_assert_eq!(counted.cycle_gross_seconds, gross);
        prop_assert_eq!(counted.cycle_segment_seconds, segments);
        prop_assert_eq!(fold.counted_judgements().len(), closed as usize);

        // The counters that do not depend on a verdict equal a naive recount of the log, day by
        // day, for the whole tenant and for each channel.
        let zone = TimeZone::get("America/New_York").unwrap();
        let (folded, recounted) = (folded(fold), recounted(&story.events, &zone));
        let days: BTreeSet<&(Date, Slice)> = folded.keys().chain(recounted.keys()).collect();
        for day in days {
            prop_assert_eq!(
                folded.get(day),
                recounted.get(day),
                "{:?}: the fold (left) and the recount (right) differ",
                day
            );
        }

        // The drill-down adds up.
        let card = scorecard(fold, everything(), &Slice::All, ts("2027-01-01T00:00:00Z"));
        let imperfect: i64 = card.signatures.iter().map(|s| s.orders).sum();
        prop_assert_eq!(imperfect, committed - perfect);
        for (index, component) in Component::ALL.iter().enumerate() {
            let with_component: i64 = card
                .signatures
                .iter()
                .filter(|s| s.bits & component.bit() != 0)
                .map(|s| s.orders)
                .sum();
            prop_assert_eq!(with_component, failures[index]);
        }
        let segment_total: i128 = Segment::ALL.iter().map(|s| counted.cycle_segment_seconds[s.index()]).sum();
        prop_assert_eq!(segment_total, counted.cycle_gross_seconds);
        // Slices add up to the whole where each order is in exactly one slice: channels.
        let channels: i64 = fold
            .buckets()
            .filter(|(_, slice, _)| matches!(slice, Slice::Channel(_)))
            .map(|(_, _, bucket)| bucket.bucket().orders_closed)
            .sum();
        prop_assert_eq!(channels, closed);
    }
}
