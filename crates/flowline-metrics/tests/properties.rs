//! Property tests over random order histories.
//!
//! For random sequences of commands (placements with and without promises, holds, allocations,
//! partial shipments, deliveries damaged or not, cancellations by either side, amendments,
//! carrier exceptions, credit notes and returns) driven through the domain:
//! - the reliability and cycle-time counters the fold maintained incrementally (adding each
//!   verdict when an order closes, taking it back and adding the new one when a late fact
//!   changes it) equal counters built from scratch by judging every order once, at the end, in
//!   this test's own counting code;
//! - a second fold fed the same events in one go holds exactly the same buckets;
//! - the drill-down adds up: the failure signatures sum to the imperfect orders, each
//!   component's failures to the signatures that contain it, and the cycle-time segments to
//!   the gross cycle time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::{Story, address, id, ts};
use flowline_core::documents::sales_order::{
    DeliverShipment, DeliveryCondition, Initiator, OrderLineInput, PlaceSalesOrder, Promise,
    PromiseSource, RecordCarrierException, ShortagePolicy,
};
use flowline_core::{Command, Context, decide};
use flowline_metrics::fold::{EventTime, Fold, Slice};
use flowline_metrics::order::{Component, Segment};
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::{scorecard, total};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

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

        // The same events folded in one go give the same buckets, slice by slice.
        let mut again = Fold::new(fold.settings().clone());
        for (event, at) in &story.events {
            again.apply(event, EventTime { at: *at });
        }
        let mut first: Vec<_> = fold.buckets().map(|(d, s, v)| ((d, s.clone()), v.clone())).collect();
        let mut second: Vec<_> = again.buckets().map(|(d, s, v)| ((d, s.clone()), v.clone())).collect();
        first.retain(|(_, bucket)| !bucket.is_empty());
        second.retain(|(_, bucket)| !bucket.is_empty());
        first.sort_by(|a, b| a.0.cmp(&b.0));
        second.sort_by(|a, b| a.0.cmp(&b.0));
        prop_assert_eq!(first, second);

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
            .map(|(_, _, bucket)| bucket.orders_closed)
            .sum();
        prop_assert_eq!(channels, closed);
    }
}
