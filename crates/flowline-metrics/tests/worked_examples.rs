//! The worked examples of SCOR-METRICS.md, built as real events through the domain and folded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::{Story, id, ts};
use flowline_core::Command;
use flowline_core::documents::sales_order::{Initiator, ShortagePolicy};
use flowline_core::documents::work_order::{
    CompleteWorkOrder, CreateWorkOrder, StartWorkOrder, WorkOrderKind,
};
use flowline_core::ledger::ScorProcess;
use flowline_core::master::{Bom, BomComponent, BomKind};
use flowline_metrics::fold::Slice;
use flowline_metrics::period::{Day, Granularity, Range};
use flowline_metrics::scorecard::{CashInputs, Scorecard, cash_metrics, scorecard};
use flowline_metrics::value::{MetricValue, Ratio};

fn march_2025() -> Range {
    Granularity::Month.period_of(jiff::civil::date(2025, 3, 1))
}

fn value<'s>(card: &'s Scorecard, id: &str) -> &'s MetricValue {
    card.value(id).unwrap_or_else(|| panic!("no {id}"))
}

#[track_caller]
fn ratio(card: &Scorecard, id: &str, numerator: i128, denominator: i128) {
    let found = value(card, id).ratio;
    assert!(
        found.same_value(Ratio::new(numerator, denominator)),
        "{id}: {found:?}, expected {numerator}/{denominator}"
    );
}

/// R-1 (SCOR-METRICS §3.8): seven orders in March 2025, reporting zone UTC.
fn r1(return_of_o3_at: &str) -> Story {
    let mut story = Story::new(
        "UTC",
        &[
            ("A", 10),
            ("B", 10),
            ("C", 2),
            ("D", 10),
            ("E", 10),
            ("F", 10),
            ("G", 10),
            ("I", 10),
            ("J", 0),
            ("K", 10),
        ],
    );
    let reject = Some(ShortagePolicy::Reject);
    let backorder = Some(ShortagePolicy::Backorder);
    // O1: commit 03-05 in New York, delivered 2025-03-06T02:30Z = 21:30 on 03-05 there: on time.
    story.place(
        "O1",
        &[("A", 2), ("B", 1)],
        "America/New_York",
        Some("2025-03-05"),
        reject,
        "2025-03-01T10:00:00Z",
    );
    story.ship("O1", "O1-S1", &[(0, 2), (1, 1)], "2025-03-04T10:00:00Z");
    story.deliver("O1", "O1-S1", "2025-03-06T02:30:00Z");
    // O2: 3 C, only 2 in stock: 2 delivered 03-05T21:00Z, 1 backordered; the seller re-promises
    // 03-08 (which does not move the original commit of 03-05 in Los Angeles, ending
    // 2025-03-06T08:00Z); the last unit arrives 2025-03-07T20:00Z: late.
    story.place(
        "O2",
        &[("C", 3)],
        "America/Los_Angeles",
        Some("2025-03-05"),
        backorder,
        "2025-03-01T10:00:00Z",
    );
    story.ship("O2", "O2-S1", &[(0, 2)], "2025-03-04T10:00:00Z");
    story.deliver("O2", "O2-S1", "2025-03-05T21:00:00Z");
    story.repromise(
        "O2",
        Initiator::Seller,
        "2025-03-08",
        "2025-03-05T22:00:00Z",
    );
    story.stock("C", 1, "2025-03-06T08:00:00Z");
    story.allocate("O2", "2025-03-06T08:00:00Z");
    story.ship("O2", "O2-S2", &[(0, 1)], "2025-03-06T09:00:00Z");
    story.deliver("O2", "O2-S2", "2025-03-07T20:00:00Z");
    // O3: commit 03-06 in Berlin, delivered 10:15Z; a return opened later as damaged in transit.
    story.place(
        "O3",
        &[("D", 1)],
        "Europe/Berlin",
        Some("2025-03-06"),
        reject,
        "2025-03-01T10:00:00Z",
    );
    story.ship("O3", "O3-S1", &[(0, 1)], "2025-03-05T10:00:00Z");
    story.deliver("O3", "O3-S1", "2025-03-06T10:15:00Z");
    // O4: E×2, F×1; the customer changes E to 1 before shipping (the new basis); delivered on
    // 03-06, then an invoice corrected for a tax error: documentation fails.
    story.place(
        "O4",
        &[("E", 2), ("F", 1)],
        "Europe/London",
        Some("2025-03-07"),
        reject,
        "2025-03-01T10:00:00Z",
    );
    story.amend_quantity("O4", Initiator::Customer, 0, 1, "2025-03-02T10:00:00Z");
    story.ship("O4", "O4-S1", &[(0, 1), (1, 1)], "2025-03-05T10:00:00Z");
    story.deliver("O4", "O4-S1", "2025-03-06T12:00:00Z");
    story.invoice("O4", "INV-4", "2025-03-06T13:00:00Z");
    story.credit_note("O4", "CN-4", 100, "tax_error", "2025-03-10T13:00:00Z");
    // O5: cancelled by the customer before shipping: excluded.
    story.place(
        "O5",
        &[("G", 2)],
        "UTC",
        Some("2025-03-08"),
        reject,
        "2025-03-01T10:00:00Z",
    );
    story.cancel(
        "O5",
        Initiator::Customer,
        "changed_mind",
        None,
        "2025-03-02T10:00:00Z",
    );
    // O6: I delivered on time, J cancelled by the seller out of stock: not in full.
    story.place(
        "O6",
        &[("I", 1), ("J", 1)],
        "America/Chicago",
        Some("2025-03-10"),
        backorder,
        "2025-03-01T10:00:00Z",
    );
    story.ship("O6", "O6-S1", &[(0, 1)], "2025-03-08T10:00:00Z");
    story.deliver("O6", "O6-S1", "2025-03-09T18:00:00Z");
    story.cancel(
        "O6",
        Initiator::Seller,
        "out_of_stock",
        Some(&[(1, 1)]),
        "2025-03-09T19:00:00Z",
    );
    // O7: a marketplace order with no promise: judged on everything but timeliness.
    story.place(
        "O7",
        &[("K", 1)],
        "UTC",
        None,
        reject,
        "2025-03-01T10:00:00Z",
    );
    story.ship("O7", "O7-S1", &[(0, 1)], "2025-03-11T10:00:00Z");
    story.deliver("O7", "O7-S1", "2025-03-12T09:00:00Z");
    story.open_return("RMA-3", "O3", 0, 1, "damaged_in_transit", return_of_o3_at);
    story
}

#[test]
fn r1_perfect_order_is_the_joint_measure_with_its_components_and_signatures() {
    let story = r1("2025-03-09T12:00:00Z");
    let card = scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    );
    // RL.1.1: 1 of 5 (O1; O5 excluded; O7 has no commitment), coverage 5 of 6.
    ratio(&card, "rl.perfect_order", 1, 5);
    let coverage = value(&card, "rl.perfect_order").coverage.clone().unwrap();
    assert_eq!((coverage.judged, coverage.candidates), (5, 6));
    assert!(!card.provisional);
    // Natural populations: in full 5/6 (O6 fails), documentation 5/6 (O4), condition 5/6 (O3);
    // on time 4/5 (O2) over the orders with a commitment.
    ratio(&card, "rl.in_full.natural", 5, 6);
    ratio(&card, "rl.documentation.natural", 5, 6);
    ratio(&card, "rl.condition.natural", 5, 6);
    ratio(&card, "rl.on_time", 4, 5);
    // On the RL.1.1 population (O1–O4, O6) each component is 4/5, their product 0.8⁴ = 40.96 %
    // (256/625), which is not the joint 20 %.
    for id in [
        "rl.in_full",
        "rl.on_time",
        "rl.documentation",
        "rl.condition",
    ] {
        ratio(&card, id, 4, 5);
    }
    ratio(&card, "rl.perfect_order.product", 256, 625);
    assert_eq!(value(&card, "rl.perfect_order.product").value, Some(40.96));
    // OTIF: O1, O3, O4 = 3/5.
    ratio(&card, "rl.otif", 3, 5);
    // Signatures: one order each with {in_full}, {late}, {docs}, {condition}: 4 = 5 − 1.
    let signatures: Vec<(String, i64)> = card
        .signatures
        .iter()
        .map(|s| (s.signature.clone(), s.orders))
        .collect();
    assert_eq!(
        signatures,
        [
            ("{in_full}".to_string(), 1),
            ("{late}".to_string(), 1),
            ("{docs}".to_string(), 1),
            ("{condition}".to_string(), 1)
        ]
    );
    assert_eq!(
        value(&card, "rl.perfect_order").describe("USD"),
        "20.00 % (1 of 5; 1 order had no commitment to judge timeliness against)"
    );
    // The Pareto of return reasons: O3's one unit, damaged in transit, authorised 03-09.
    let reasons: Vec<(&str, i64)> = card
        .return_reasons
        .iter()
        .map(|r| (r.reason.as_str(), r.units))
        .collect();
    assert_eq!(reasons, [("damaged_in_transit", 1)]);
    let february = Granularity::Month.period_of(jiff::civil::date(2025, 2, 1));
    let before = scorecard(
        &story.fold,
        february,
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    );
    assert!(before.return_reasons.is_empty());
}

#[test]
fn r1_a_late_return_makes_march_provisional_then_final() {
    // O3's return is opened on 2025-04-02 instead, inside its window (delivered 03-06, window
    // ends 04-05). Before it, March shows 2/5 (O1 and O3 perfect), provisional.
    let mut story = r1("2025-04-02T09:00:00Z");
    let events_before_return = story.events.len() - 2;
    let mut before = Story::new("UTC", &[]);
    for (event, at) in &story.events[..events_before_return] {
        before
            .fold
            .apply(event, flowline_metrics::fold::EventTime { at: *at });
    }
    let early = scorecard(
        &before.fold,
        march_2025(),
        &Slice::All,
        ts("2025-03-31T12:00:00Z"),
    );
    ratio(&early, "rl.perfect_order", 2, 5);
    assert!(early.provisional);
    let after = scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-04-02T12:00:00Z"),
    );
    ratio(&after, "rl.perfect_order", 1, 5);
    assert!(after.provisional);
    // Final once every March delivery's window has closed (March 31 + 30 days).
    let settled = scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-05-01T00:00:00Z"),
    );
    assert!(!settled.provisional);
    // A return on 2025-04-20, outside O3's window (ends 04-05), changes nothing.
    let mut outside = r1("2025-04-20T09:00:00Z");
    let card = scorecard(
        &outside.fold,
        march_2025(),
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    );
    ratio(&card, "rl.perfect_order", 2, 5);
    let _ = (&mut story, &mut outside);
}

#[test]
fn t_tz_2_a_promise_date_is_judged_in_the_ship_to_zone_not_utc() {
    // Commit 2025-03-06 in Berlin, delivered 2025-03-06T23:30Z = 00:30 on 03-07 there: late,
    // although its UTC date equals the commit date.
    let mut story = Story::new("UTC", &[("A", 5)]);
    story.place(
        "T2",
        &[("A", 1)],
        "Europe/Berlin",
        Some("2025-03-06"),
        Some(ShortagePolicy::Reject),
        "2025-03-01T10:00:00Z",
    );
    story.ship("T2", "T2-S1", &[(0, 1)], "2025-03-05T10:00:00Z");
    story.deliver("T2", "T2-S1", "2025-03-06T23:30:00Z");
    let card = scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    );
    ratio(&card, "rl.on_time", 0, 1);
}

#[test]
fn t_tz_3_an_order_closes_on_its_local_day_in_the_reporting_zone() {
    // Reporting in New York: an order delivered 2025-03-10T04:30Z (00:30 local, the day after
    // DST started) closes on 03-10, not 03-09.
    let mut story = Story::new("America/New_York", &[("A", 5)]);
    story.place(
        "T3",
        &[("A", 1)],
        "America/New_York",
        Some("2025-03-12"),
        Some(ShortagePolicy::Reject),
        "2025-03-05T10:00:00Z",
    );
    story.ship("T3", "T3-S1", &[(0, 1)], "2025-03-08T10:00:00Z");
    story.deliver("T3", "T3-S1", "2025-03-10T04:30:00Z");
    let judgement = story.fold.counted_judgement("T3").unwrap();
    assert_eq!(judgement.day, Day::of_date(jiff::civil::date(2025, 3, 10)));
    let ninth = Range::of_dates(
        jiff::civil::date(2025, 3, 9),
        jiff::civil::date(2025, 3, 10),
    );
    let card = scorecard(&story.fold, ninth, &Slice::All, ts("2025-06-01T00:00:00Z"));
    assert_eq!(value(&card, "rl.perfect_order").value, None);
}

/// S-1 (§4.4): four orders and their cycle times.
#[test]
fn s1_cycle_time_segments_add_up_to_the_order_cycle_time() {
    let mut story = Story::new(
        "UTC",
        &[("A", 10), ("B", 0), ("P", 10), ("MUG", 10), ("LID", 10)],
    );
    story.define(
        "KIT",
        Some(Bom {
            kind: BomKind::Kit,
            components: vec![
                BomComponent {
                    sku: id("MUG"),
                    quantity: 2,
                },
                BomComponent {
                    sku: id("LID"),
                    quantity: 1,
                },
            ],
        }),
    );
    // R1 in stock: placed 03-01 10:00, payment hold released 10:05, shipped 16:00, delivered
    // 03-03 12:00. Entry 0.08 h, warehouse 5.92 h, transit 44 h: 50 h.
    story.place("R1", &[("A", 1)], "UTC", None, None, "2025-03-01T10:00:00Z");
    story.hold("R1", "payment", "2025-03-01T10:00:00Z");
    story.release("R1", "2025-03-01T10:05:00Z");
    story.allocate("R1", "2025-03-01T10:05:00Z");
    story.ship("R1", "R1-S", &[(0, 1)], "2025-03-01T16:00:00Z");
    story.deliver("R1", "R1-S", "2025-03-03T12:00:00Z");
    // R2 backordered: released 12:10, stock arrives and is allocated 03-04 09:00, shipped
    // 15:00, delivered 03-06 11:00. Entry 0.17, supply wait 68.83, warehouse 6, transit 44: 119 h.
    story.place("R2", &[("B", 1)], "UTC", None, None, "2025-03-01T12:00:00Z");
    story.hold("R2", "payment", "2025-03-01T12:00:00Z");
    story.release("R2", "2025-03-01T12:10:00Z");
    story.allocate("R2", "2025-03-01T12:10:00Z");
    story.stock("B", 1, "2025-03-04T09:00:00Z");
    story.allocate("R2", "2025-03-04T09:00:00Z");
    story.ship("R2", "R2-S", &[(0, 1)], "2025-03-04T15:00:00Z");
    story.deliver("R2", "R2-S", "2025-03-06T11:00:00Z");
    // R3 pre-order: placed 02-20 08:00 and held for its release date, 03-02 00:00 (232 h of
    // dwell), shipped 14:00, delivered 03-04 10:00: 290 h gross, 58 h net.
    story.place("R3", &[("P", 1)], "UTC", None, None, "2025-02-20T08:00:00Z");
    story.hold("R3", "preorder_release", "2025-02-20T08:00:00Z");
    story.release("R3", "2025-03-02T00:00:00Z");
    story.allocate("R3", "2025-03-02T00:00:00Z");
    story.ship("R3", "R3-S", &[(0, 1)], "2025-03-02T14:00:00Z");
    story.deliver("R3", "R3-S", "2025-03-04T10:00:00Z");
    // R4 kitted to order: released 09:30, work order started 13:00 and done 03-03 11:00,
    // shipped 17:00, delivered 03-05 09:00. Entry 0.5, make queue 3.5, make 22, warehouse 6,
    // transit 40: 72 h.
    story.place(
        "R4",
        &[("KIT", 1)],
        "UTC",
        None,
        None,
        "2025-03-02T09:00:00Z",
    );
    story.hold("R4", "payment", "2025-03-02T09:00:00Z");
    story.release("R4", "2025-03-02T09:30:00Z");
    story.allocate("R4", "2025-03-02T09:30:00Z");
    story.run(
        Command::CreateWorkOrder(CreateWorkOrder {
            work_order: id("WO-R4"),
            kind: WorkOrderKind::Kitting,
            item: id("KIT"),
            quantity: 1,
            location: id("FC-1"),
            for_order: Some(id("R4")),
        }),
        "2025-03-02T09:30:00Z",
    );
    story.run(
        Command::StartWorkOrder(StartWorkOrder {
            work_order: id("WO-R4"),
        }),
        "2025-03-02T13:00:00Z",
    );
    story.run(
        Command::CompleteWorkOrder(CompleteWorkOrder {
            work_order: id("WO-R4"),
            passed: 1,
            failed: 0,
            note: None,
        }),
        "2025-03-03T11:00:00Z",
    );
    story.allocate("R4", "2025-03-03T11:00:00Z");
    story.ship("R4", "R4-S", &[(0, 1)], "2025-03-03T17:00:00Z");
    story.deliver("R4", "R4-S", "2025-03-05T09:00:00Z");

    let card = scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    );
    let hours = |id: &str| value(&card, id).ratio.quotient().unwrap() / 3600.0;
    // RS.1.1 mean (50 + 119 + 58 + 72) / 4 = 74.75 h = 3.11 days; median (58 + 72) / 2 = 65 h;
    // p90 by nearest rank (rank 4 of 4) 119 h.
    assert_eq!(hours("rs.order_cycle_time"), 74.75);
    assert_eq!(
        value(&card, "rs.order_cycle_time").describe("USD"),
        "3.11 days (n = 4)"
    );
    assert_eq!(hours("rs.order_cycle_time.median"), 65.0);
    assert_eq!(hours("rs.order_cycle_time.p90"), 119.0);
    // Click-to-door (gross): (50 + 119 + 290 + 72) / 4 = 132.75 h = 5.53 days; median
    // (72 + 119) / 2 = 95.5 h.
    assert_eq!(hours("rs.click_to_door"), 132.75);
    assert_eq!(hours("rs.click_to_door.median"), 95.5);
    // Level 2 (seconds summed exactly, then divided by 4): Source 68 h 50 min / 4 = 17.21 h;
    // Make (3.5 + 22) / 4 = 6.375 h; Deliver (entry 5 + 10 + 0 + 30 min, warehouse 5 h 55 +
    // 6 + 14 + 6 h, transit 44 + 44 + 44 + 40 h) / 4 = 51.17 h; the three add up to 74.75 h.
    let source = value(&card, "rs.source_cycle_time").ratio;
    let make = value(&card, "rs.make_cycle_time").ratio;
    let deliver = value(&card, "rs.deliver_cycle_time").ratio;
    assert_eq!(source, Ratio::new(68 * 3600 + 50 * 60, 4));
    assert_eq!(make, Ratio::new((3 * 3600 + 30 * 60) + 22 * 3600, 4));
    assert_eq!(
        deliver,
        Ratio::new(45 * 60 + (5 * 3600 + 55 * 60 + 26 * 3600) + 172 * 3600, 4)
    );
    assert_eq!(
        source.numerator + make.numerator + deliver.numerator,
        299 * 3600
    );
    assert_eq!(format!("{:.2}", hours("rs.source_cycle_time")), "17.21");
    assert_eq!(format!("{:.2}", hours("rs.deliver_cycle_time")), "51.17");
}

/// C-1 (§6.4), the cost postings of a quarter: CO.1.001 = 145,000.00.
#[test]
fn c1_total_supply_chain_cost_sums_expensed_costs_by_process() {
    let mut story = Story::new("UTC", &[]);
    for (cost, process, amount) in [
        ("plan", ScorProcess::Plan, 1_000_000),
        ("source", ScorProcess::Source, 2_500_000),
        ("make", ScorProcess::Make, 1_500_000),
        ("pick", ScorProcess::Deliver, 3_000_000),
        ("postage", ScorProcess::Deliver, 4_500_000),
        ("packaging", ScorProcess::Deliver, 500_000),
        ("returns", ScorProcess::Return, 1_200_000),
        ("backup-carrier", ScorProcess::Enable, 300_000),
    ] {
        story.cost(cost, process, amount, "2025-02-10T12:00:00Z");
    }
    let quarter = Granularity::Quarter.period_of(jiff::civil::date(2025, 1, 1));
    let card = scorecard(
        &story.fold,
        quarter,
        &Slice::All,
        ts("2025-06-01T00:00:00Z"),
    );
    // 10,000 + 25,000 + 15,000 + 80,000 + 12,000 + 3,000 = 145,000.00.
    assert_eq!(
        value(&card, "co.total_cost").ratio,
        Ratio::new(14_500_000, 1)
    );
    assert_eq!(
        value(&card, "co.cost.deliver").ratio,
        Ratio::new(8_000_000, 1)
    );
    // Mitigation has no process of its own in Flowline's ledger; it is posted to Enable here.
    assert_eq!(value(&card, "co.cost.enable").ratio, Ratio::new(300_000, 1));
}

/// C-1 (§6.4) as ratios: the quarter's process costs against its revenue, COGS and orders.
#[test]
fn c1_cost_ratios_match_the_worked_example() {
    use flowline_metrics::scorecard::cost_metrics;
    // Plan 10,000; source 25,000; make 15,000; deliver 80,000; return 12,000; mitigation
    // (posted to Enable) 3,000 — in cents. COGS 560,000 − 15,000 + 5,000 = 550,000.00.
    let values = cost_metrics(
        [
            1_000_000, 2_500_000, 1_500_000, 8_000_000, 1_200_000, 300_000,
        ],
        100_000_000,
        55_000_000,
        20_000,
    );
    let find = |id: &str| values.iter().find(|v| v.id == id).unwrap().clone();
    // 145,000 / 1,000,000 = 14.50 %; 550,000 / 1,000,000 = 55.00 %.
    assert_eq!(find("co.total_cost").ratio, Ratio::new(14_500_000, 1));
    assert!(
        find("co.total_cost.share_of_revenue")
            .ratio
            .same_value(Ratio::new(145, 1000))
    );
    assert!(
        find("co.cost_of_goods_sold.share_of_revenue")
            .ratio
            .same_value(Ratio::new(55, 100))
    );
    // Deliver 80,000.00 / 20,000 orders = 4.00 (400 cents); TSCMC 145,000.00 / 20,000 = 7.25.
    assert!(
        find("co.cost_per_order")
            .ratio
            .same_value(Ratio::new(400, 1))
    );
    assert!(
        find("co.total_cost_per_order")
            .ratio
            .same_value(Ratio::new(725, 1))
    );
}

/// K-7 (§9.8), time-based, from real stock events: one center, ten days (1–10 March); X runs
/// out for two of them, Y never does, Z is never stocked there and so is not counted.
#[test]
fn k7_stockout_rate_is_stockout_time_over_stocked_time() {
    let mut story = Story::new("UTC", &[("X", 5), ("Y", 30)]);
    story.define("Z", None);
    // An order reserves all five X on 3 March; the restock lands on 5 March: two days at zero.
    story.place(
        "O1",
        &[("X", 5)],
        "UTC",
        None,
        Some(ShortagePolicy::Backorder),
        "2025-03-03T00:00:00Z",
    );
    story.stock("X", 10, "2025-03-05T00:00:00Z");
    let days = Range::of_dates(
        jiff::civil::date(2025, 3, 1),
        jiff::civil::date(2025, 3, 11),
    );
    // Asked after the range: Y's and X's last spells are clipped to its end.
    let as_of = ts("2025-04-01T00:00:00Z");
    let center = scorecard(&story.fold, days, &Slice::All, as_of);
    // 2 item-days out of 2 items × 10 days = 10.00 %.
    ratio(&center, "ops.stockout_rate", 2, 20);
    let x = scorecard(&story.fold, days, &Slice::Sku("X".into()), as_of);
    ratio(&x, "ops.stockout_rate", 2, 10);
    let y = scorecard(&story.fold, days, &Slice::Sku("Y".into()), as_of);
    ratio(&y, "ops.stockout_rate", 0, 10);

    // The same month asked at noon on 4 March, before any restock: 3.5 days × 2 items so far,
    // X out since 3 March, so 1.5 of the 7 item-days.
    let mut early = Story::new("UTC", &[("X", 5), ("Y", 30)]);
    early.place(
        "O1",
        &[("X", 5)],
        "UTC",
        None,
        Some(ShortagePolicy::Backorder),
        "2025-03-03T00:00:00Z",
    );
    let midway = scorecard(&early.fold, days, &Slice::All, ts("2025-03-04T12:00:00Z"));
    ratio(&midway, "ops.stockout_rate", 3, 14);
}

/// K-1 (§9.3): fill is taken once per order, at its first allocation, even when that first
/// allocation found nothing. O1 wants 2 C and O2 1 D on 3 March; C is out of stock, so O1's
/// first allocation backorders both units, while O2 is filled at once. C comes in on 4 March
/// and O1 is allocated then, but its fill was already taken: 0 of 2 units.
/// Units: (0 + 1) / (2 + 1) = 1/3; lines 1/2; orders 1/2; backordered orders 1/2.
#[test]
fn k1_fill_is_taken_once_at_the_first_allocation_even_when_it_found_nothing() {
    let mut story = Story::new("UTC", &[("C", 0), ("D", 5)]);
    let placed = "2025-03-03T10:00:00Z";
    let backorder = Some(ShortagePolicy::Backorder);
    story.place("O1", &[("C", 2)], "UTC", None, backorder, placed);
    story.place("O2", &[("D", 1)], "UTC", None, backorder, placed);
    story.stock("C", 5, "2025-03-04T09:00:00Z");
    story.allocate("O1", "2025-03-04T10:00:00Z");
    let card = scorecard(
        &story.fold,
        march_2025(),
        &Slice::All,
        ts("2025-05-01T00:00:00Z"),
    );
    ratio(&card, "ops.unit_fill_rate", 1, 3);
    ratio(&card, "ops.line_fill_rate", 1, 2);
    ratio(&card, "ops.order_fill_rate", 1, 2);
    ratio(&card, "ops.backorder_rate", 1, 2);
}

/// C-1's ratios and F-1 (§7.5) from their stated flows and averages.
#[test]
fn f1_cash_to_cash_and_returns_on_assets_from_a_quarter_of_flows() {
    let average = |amount: i128| Ratio::new(amount, 1);
    let values = cash_metrics(&CashInputs {
        days: 90,
        revenue: 90_000_000,
        cost_of_goods_sold: 54_000_000,
        purchases: 60_000_000,
        total_cost: 13_500_000,
        averages: [
            average(18_000_000),
            average(3_000_000),
            average(12_000_000),
            average(45_000_000),
        ],
    });
    let find = |id: &str| values.iter().find(|v| v.id == id).unwrap().clone();
    // IDS 180,000 / (540,000 / 90) = 30 days; DSO 30,000 / (900,000 / 90) = 3; DPO
    // 120,000 / (600,000 / 90) = 18; C2C 30 + 3 − 18 = 15.
    assert_eq!(find("am.inventory_days").value, Some(30.0));
    assert_eq!(find("am.receivable_days").value, Some(3.0));
    assert_eq!(find("am.payable_days").value, Some(18.0));
    assert_eq!(find("am.cash_to_cash").value, Some(15.0));
    // Turns 540,000 / 180,000 × 365 / 90 = 12.17; ROWC (900,000 − 540,000 − 135,000) × 365/90
    // / (180,000 + 30,000 − 120,000) = 10.14 = 1,013.9 %; ROSCFA 912,500 / 450,000 = 202.8 %.
    assert_eq!(
        format!("{:.2}", find("am.inventory_turns").value.unwrap()),
        "12.17"
    );
    assert_eq!(
        format!("{:.1}", find("am.return_on_working_capital").value.unwrap()),
        "1013.9"
    );
    assert_eq!(
        format!("{:.1}", find("am.return_on_fixed_assets").value.unwrap()),
        "202.8"
    );
    // Working capital at or below zero: no data, with the reason.
    let none = cash_metrics(&CashInputs {
        days: 90,
        revenue: 90_000_000,
        cost_of_goods_sold: 54_000_000,
        purchases: 60_000_000,
        total_cost: 13_500_000,
        averages: [
            average(1_000_000),
            average(0),
            average(5_000_000),
            average(0),
        ],
    });
    let rowc = none
        .iter()
        .find(|v| v.id == "am.return_on_working_capital")
        .unwrap();
    assert_eq!(rowc.value, None);
    assert_eq!(
        rowc.coverage.as_ref().unwrap().note,
        "working capital was zero or negative over the range, so no return on it is shown"
    );
}

#[test]
fn r1_drills_from_the_figure_to_the_orders_behind_it() {
    use flowline_metrics::drill::{Filter, orders};
    let story = r1("2025-03-09T12:00:00Z");
    // RL.1.1's four imperfect orders, one failed component each, latest closed first: O3 and
    // O4 close with their deliveries (03-06 10:15 and 12:00), O2 on 03-07 20:00, O6 with the
    // cancellation of J on 03-09 19:00.
    let imperfect = orders(
        &story.fold,
        march_2025(),
        &Slice::All,
        Filter::for_metric("rl.perfect_order"),
        10,
    );
    let ids: Vec<&str> = imperfect.iter().map(|row| row.order.as_str()).collect();
    assert_eq!(ids, ["O6", "O2", "O4", "O3"]);
    let late = orders(
        &story.fold,
        march_2025(),
        &Slice::All,
        Filter::for_metric("rl.on_time"),
        10,
    );
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].order, "O2");
    assert_eq!(late[0].signature, "{late}");
    // Cycle times, slowest first, all placed 03-01 10:00: O7 delivered 03-12 09:00 (263 h),
    // O6's I on 03-09 18:00 (200 h), O2's last unit on 03-07 20:00 (154 h).
    let slowest = orders(&story.fold, march_2025(), &Slice::All, Filter::CycleTime, 3);
    let hours: Vec<(&str, Option<f64>)> = slowest
        .iter()
        .map(|row| (row.order.as_str(), row.cycle_hours))
        .collect();
    assert_eq!(
        hours,
        [
            ("O7", Some(263.0)),
            ("O6", Some(200.0)),
            ("O2", Some(154.0))
        ]
    );
}

#[test]
fn a_target_is_met_or_missed_with_its_trend_baseline_and_an_initiative_review() {
    use flowline_metrics::targets::{Direction, Status, TargetSpec, Trend, evaluate, review};
    let story = r1("2025-03-09T12:00:00Z");
    let as_of = ts("2025-06-01T00:00:00Z");
    // March: RL.1.1 = 20 %; February had no orders (no data).
    let target = TargetSpec {
        metric: "rl.perfect_order".into(),
        slice: Slice::All,
        value_milli: 95_000,
        direction: Direction::AtLeast,
        baseline: Some(march_2025()),
    };
    let report = evaluate(&story.fold, &target, march_2025(), as_of);
    assert_eq!(report.status, Status::Missed);
    assert_eq!(report.trend, Trend::Unknown);
    assert_eq!(report.baseline.unwrap().value, Some(20.0));
    let lower = TargetSpec {
        value_milli: 15_000,
        ..target.clone()
    };
    assert_eq!(
        evaluate(&story.fold, &lower, march_2025(), as_of).status,
        Status::Met
    );
    let april = Granularity::Month.period_of(jiff::civil::date(2025, 4, 1));
    assert_eq!(
        evaluate(&story.fold, &target, april, as_of).status,
        Status::NoData
    );
    // An initiative that ran 03-05 to 03-09 (4 days): the 4 days before it (03-01 to 03-05)
    // closed no order with a commitment (O5 was withdrawn); during it O1 (perfect), O3
    // (condition) and O4 (docs) closed on 03-06 and O2 (late) on 03-07; O6 closed on 03-09,
    // after it.
    let reviewed = review(
        &story.fold,
        "rl.perfect_order",
        &Slice::All,
        jiff::civil::date(2025, 3, 5),
        Some(jiff::civil::date(2025, 3, 9)),
        as_of,
    );
    assert_eq!(reviewed.before.unwrap().value, None);
    // O1 perfect of O1, O2, O3, O4: 1 of 4.
    assert!(reviewed.after.unwrap().ratio.same_value(Ratio::new(1, 4)));
    assert_eq!(reviewed.trend, Trend::Unknown);
    // The windows stop where the data does. The story's operational events run from the
    // opening stock on 2025-01-01 to O7's delivery on 2025-03-12. An initiative started 03-05
    // and still running when reviewed on 06-01 is judged over 03-05 to 03-13 (8 days, not the
    // 89 to 06-02), against the 8 days before it, 02-25 to 03-05.
    let days = |range: flowline_metrics::period::Range| (range.from.date(), range.to.date());
    let d = jiff::civil::date;
    let running = review(
        &story.fold,
        "rl.perfect_order",
        &Slice::All,
        d(2025, 3, 5),
        None,
        as_of,
    );
    assert_eq!(days(running.after_range), (d(2025, 3, 5), d(2025, 3, 13)));
    assert_eq!(days(running.before_range), (d(2025, 2, 25), d(2025, 3, 5)));
    // One from 01-10 to 03-01 (50 days) has only the 9 days of data before it, from 01-01.
    let early = review(
        &story.fold,
        "rl.perfect_order",
        &Slice::All,
        d(2025, 1, 10),
        Some(d(2025, 3, 1)),
        as_of,
    );
    assert_eq!(days(early.after_range), (d(2025, 1, 10), d(2025, 3, 1)));
    assert_eq!(days(early.before_range), (d(2025, 1, 1), d(2025, 1, 10)));
}

/// Demand history, worked by hand. A New York tenant; GIFT is a bundle of 2 MUG and 1 CANDLE.
/// - SO-1, web, 2025-01-05 03:00 UTC = 4 January 22:00 in New York: 1 MUG and 2 GIFT, so
///   1 + 2 × 2 = 5 MUG and 2 × 1 = 2 CANDLE on the 4th.
/// - SO-2, web, 7 January 15:00 UTC (10:00 New York): 3 MUG on the 7th.
/// - SO-3, store, 7 January: 1 CANDLE.
///
/// Every series runs to the latest day with an order, the 7th; the bundle never appears.
#[test]
fn demand_history_counts_placed_units_per_local_day_with_bundles_as_their_components() {
    use common::address;
    use flowline_core::documents::sales_order::{OrderLineInput, PlaceSalesOrder};
    use flowline_core::money::Currency;
    use flowline_core::projection::{Position, Projection};
    use flowline_metrics::demand::DemandHistory;

    let mut story = Story::new("America/New_York", &[("MUG", 100), ("CANDLE", 100)]);
    story.define(
        "GIFT",
        Some(Bom {
            kind: BomKind::Bundle,
            components: vec![
                BomComponent {
                    sku: id("MUG"),
                    quantity: 2,
                },
                BomComponent {
                    sku: id("CANDLE"),
                    quantity: 1,
                },
            ],
        }),
    );
    story.place(
        "SO-1",
        &[("MUG", 1), ("GIFT", 2)],
        "America/New_York",
        None,
        None,
        "2025-01-05T03:00:00Z",
    );
    story.place(
        "SO-2",
        &[("MUG", 3)],
        "America/New_York",
        None,
        None,
        "2025-01-07T15:00:00Z",
    );
    story.run(
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: id("SO-3"),
            channel: id("store"),
            customer: id("C-2"),
            ship_to: address("America/New_York"),
            currency: Currency::parse("USD").unwrap(),
            exchange_rate: None,
            lines: vec![OrderLineInput {
                sku: id("CANDLE"),
                quantity: 1,
                unit_price_minor: 1000,
                unit_tax_minor: 0,
            }],
            promise: None,
            service_level: None,
            shipping_charge_minor: 0,
            allocate: None,
        }),
        "2025-01-07T16:00:00Z",
    );

    let history = demand_of(&story);
    let shown = |history: &DemandHistory| -> Vec<(String, String, String, Vec<i64>)> {
        history
            .series()
            .into_iter()
            .map(|s| {
                (
                    s.sku.to_string(),
                    s.channel.to_string(),
                    s.start.to_string(),
                    s.daily,
                )
            })
            .collect()
    };
    let expected = vec![
        (
            "CANDLE".into(),
            "store".into(),
            "2025-01-07".into(),
            vec![1],
        ),
        (
            "CANDLE".into(),
            "web".into(),
            "2025-01-04".into(),
            vec![2, 0, 0, 0],
        ),
        (
            "MUG".into(),
            "web".into(),
            "2025-01-04".into(),
            vec![5, 0, 0, 3],
        ),
    ];
    assert_eq!(shown(&history), expected);

    // Kept as a snapshot and restored, it answers the same and folds on: a fourth order, one
    // MUG on the web on the 8th (8 January 12:00 UTC is 07:00 in New York), lengthens every
    // series by a day.
    let mut restored = DemandHistory::decode(&history.encode().unwrap()).unwrap();
    assert_eq!(shown(&restored), expected);
    story.place(
        "SO-4",
        &[("MUG", 1)],
        "America/New_York",
        None,
        None,
        "2025-01-08T12:00:00Z",
    );
    let (event, at) = story.events.last().cloned().unwrap();
    let position = Position {
        seq: story.events.len() as u64,
        business_time: at,
        recorded_at: at,
    };
    restored.apply(position, &event);
    assert_eq!(
        shown(&restored)[2],
        (
            "MUG".into(),
            "web".into(),
            "2025-01-04".into(),
            vec![5, 0, 0, 3, 1]
        )
    );
    assert_eq!(shown(&restored)[0].3, vec![1, 0]);
}

/// The history keeps eight years (2,922 days) before its latest day: an order on 5 January 2025
/// is dropped once one arrives on 1 June 2033 (more than 2,922 days later), and the series
/// starts at the later order.
#[test]
fn demand_history_forgets_days_older_than_its_horizon() {
    use flowline_metrics::demand::HISTORY_DAYS_MAX;

    assert_eq!(HISTORY_DAYS_MAX, 2_922);
    let mut story = Story::new("UTC", &[("MUG", 100)]);
    story.place(
        "SO-1",
        &[("MUG", 1)],
        "UTC",
        None,
        None,
        "2025-01-05T12:00:00Z",
    );
    story.place(
        "SO-2",
        &[("MUG", 2)],
        "UTC",
        None,
        None,
        "2033-06-01T12:00:00Z",
    );
    let history = demand_of(&story);
    let series = history.series();
    assert_eq!(series.len(), 1);
    assert_eq!(
        (series[0].start.to_string(), series[0].daily.clone()),
        ("2033-06-01".to_string(), vec![2])
    );
}

/// The demand history folded from a story's events.
fn demand_of(story: &Story) -> flowline_metrics::demand::DemandHistory {
    use flowline_core::projection::{Position, Projection};
    let mut history = flowline_metrics::demand::DemandHistory::new();
    for (seq, (event, at)) in story.events.iter().enumerate() {
        let position = Position {
            seq: seq as u64 + 1,
            business_time: *at,
            recorded_at: *at,
        };
        history.apply(position, event);
    }
    history
}

/// Stock-out days are censored. MUG starts with 10 on hand; 4 are reserved on 5 January (6
/// left), the other 6 on the 6th (0 left: out from the 6th), 2 more are ordered and backordered
/// on the 7th, and 20 arrive on the 9th, which ends the run: the 6th to the 9th are censored
/// (the 9th was out until the delivery), the 5th and the 10th are not. CANDLE was never in
/// stock, so its backordered days are not stock-outs of an item customers could once buy: they
/// stay observed.
#[test]
fn stock_out_days_are_censored_once_an_item_has_been_in_stock() {
    use flowline_core::documents::sales_order::ShortagePolicy;
    let mut story = Story::new("UTC", &[("MUG", 10), ("CANDLE", 0)]);
    let backorder = Some(ShortagePolicy::Backorder);
    let days = [
        ("SO-1", "MUG", 4, "2025-01-05T10:00:00Z"),
        ("SO-2", "MUG", 6, "2025-01-06T10:00:00Z"),
        ("SO-3", "MUG", 2, "2025-01-07T10:00:00Z"),
        ("SO-4", "CANDLE", 1, "2025-01-07T11:00:00Z"),
    ];
    for (order, sku, quantity, at) in days {
        story.place(order, &[(sku, quantity)], "UTC", None, backorder, at);
    }
    story.stock("MUG", 20, "2025-01-09T10:00:00Z");
    story.place(
        "SO-5",
        &[("MUG", 1)],
        "UTC",
        None,
        backorder,
        "2025-01-10T10:00:00Z",
    );
    let history = demand_of(&story);
    let series = history.series();
    let mug = series.iter().find(|s| s.sku.as_str() == "MUG").unwrap();
    assert_eq!(mug.start.to_string(), "2025-01-05");
    assert_eq!(mug.daily, vec![4, 6, 2, 0, 0, 1]);
    assert_eq!(mug.censored, vec![false, true, true, true, true, false]);
    assert_eq!(
        mug.observed(),
        vec![Some(4.0), None, None, None, None, Some(1.0)]
    );
    let candle = series.iter().find(|s| s.sku.as_str() == "CANDLE").unwrap();
    assert_eq!(candle.daily, vec![1, 0, 0, 0]);
    assert_eq!(candle.censored, vec![false; 4]);
}

/// A published forecast is scored day by day once each day has passed. MUG sells 4, 6, 4, 6, …
/// from 1 to 10 January, so the seasonal naive scale (7 days) is the mean of |y8 − y1|,
/// |y9 − y2|, |y10 − y3| = (2 + 2 + 2) / 3 = 2. The forecast from 11 January says 5 a day for
/// three days; customers order 4, 7 and 5. Errors +1, −2, 0: Σ|e| = 3, Σe = −1, Σ actual = 16,
/// so WAPE = 3/16 = 0.1875, accuracy 0.8125, bias −1/16 = −0.0625, MASE = (1/2 + 2/2 + 0)/3 =
/// 0.5. The 13th is scored only once an order arrives on the 14th (before, it had not passed).
#[test]
fn a_published_forecast_is_scored_against_the_days_that_follow() {
    use flowline_core::documents::forecast::{ForecastLine, PublishForecast};
    use flowline_core::documents::sales_order::ShortagePolicy;
    let mut story = Story::new("UTC", &[("MUG", 1000)]);
    let backorder = Some(ShortagePolicy::Backorder);
    let mut order = 0;
    let mut sell = |story: &mut Story, day: u32, units: i64| {
        order += 1;
        let at = format!("2025-01-{day:02}T10:00:00Z");
        story.place(
            &format!("SO-{order}"),
            &[("MUG", units)],
            "UTC",
            None,
            backorder,
            &at,
        );
    };
    for day in 1..=10 {
        sell(&mut story, day, if day % 2 == 1 { 4 } else { 6 });
    }
    story.run(
        Command::PublishForecast(PublishForecast {
            forecast: id("F-1"),
            first_day: "2025-01-11".parse().unwrap(),
            lines: vec![ForecastLine {
                sku: id("MUG"),
                location: None,
                channel: None,
                model: Some("naive".into()),
                daily_milli: vec![5000, 5000, 5000],
            }],
        }),
        "2025-01-11T08:00:00Z",
    );
    sell(&mut story, 11, 4);
    sell(&mut story, 12, 7);
    sell(&mut story, 13, 5);
    let history = demand_of(&story);
    let from = "2025-01-11".parse().unwrap();
    let to = "2025-01-14".parse().unwrap();
    let two_days = history.accuracy().report(from, to).overall;
    assert_eq!(two_days.figures, 2, "the 13th has not passed yet");
    assert!((two_days.wape.unwrap() - 3.0 / 11.0).abs() < 1e-12);
    sell(&mut story, 14, 1);
    let history = demand_of(&story);
    let report = history.accuracy().report(from, to);
    let overall = report.overall;
    assert_eq!(overall.figures, 3);
    assert!((overall.wape.unwrap() - 0.1875).abs() < 1e-12);
    assert!((overall.accuracy.unwrap() - 0.8125).abs() < 1e-12);
    assert!((overall.bias.unwrap() + 0.0625).abs() < 1e-12);
    assert!((overall.mase.unwrap() - 0.5).abs() < 1e-12);
    assert_eq!(overall.actual, 16.0);
    assert_eq!(report.by_lag.len(), 1);
    assert_eq!(report.by_lag[0].0, "days 0-6");
    assert_eq!(report.worst[0].0.as_str(), "MUG");
    // Kept as a snapshot and restored, it reports the same.
    use flowline_core::projection::Projection;
    let restored =
        flowline_metrics::demand::DemandHistory::decode(&history.encode().unwrap()).unwrap();
    assert_eq!(restored.accuracy().report(from, to), report);
}

/// Places an order of `units` MUG in `channel` at `at` and allocates it at `center`.
fn sell_at(story: &mut Story, order: &str, channel: &str, center: &str, units: i64, at: &str) {
    use common::address;
    use flowline_core::documents::sales_order::{
        AllocateSalesOrder, AllocationRequest, OrderLineInput, PlaceSalesOrder,
    };
    use flowline_core::money::Currency;
    story.run(
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: id(order),
            channel: id(channel),
            customer: id("C-1"),
            ship_to: address("UTC"),
            currency: Currency::parse("USD").unwrap(),
            exchange_rate: None,
            lines: vec![OrderLineInput {
                sku: id("MUG"),
                quantity: units,
                unit_price_minor: 1000,
                unit_tax_minor: 0,
            }],
            promise: None,
            service_level: None,
            shipping_charge_minor: 0,
            allocate: None,
        }),
        at,
    );
    story.run(
        Command::AllocateSalesOrder(AllocateSalesOrder {
            order: id(order),
            shortage: ShortagePolicy::Backorder,
            lines: Some(vec![AllocationRequest {
                line: 0,
                location: id(center),
                quantity: units,
            }]),
        }),
        at,
    );
}

/// Two centers and two channels, ten days of MUG, then a forecast with its splits.
///
/// Every day of 1–10 January: 2 units in `web` served from FC-1, 1 in `web` from FC-2 and 1 in
/// `shop` from FC-2 (so 4 a day; centers 2 and 2, channels 3 and 1). The forecast from the 11th
/// says, for two days, 4 a day for the network, 2 at each center (shares 0.5, 0.5) and 3 in
/// `web`, 1 in `shop` (shares 0.75, 0.25). Then:
///
/// | day | web@FC-1 | web@FC-2 | shop@FC-2 | shop@FC-1 | network | FC-1 | FC-2 | web | shop |
/// |-----|----------|----------|-----------|-----------|---------|------|------|-----|------|
/// | 11  | 2        | 2        | 1         | 0         | 5       | 2    | 3    | 4   | 1    |
/// | 12  | 1        | 0        | 0         | 2         | 3       | 3    | 0    | 1   | 2    |
///
/// An order on the 13th lets the 12th pass. Errors (forecast − actual), then Σ|e|/ΣA and Σe/ΣA:
///
/// - network: −1, +1 → WAPE 2/8 = 0.25, bias 0 (the headline, as without the split lines);
/// - FC-1: 0, −1 → WAPE 1/5 = 0.2, bias −0.2; FC-2: −1, +2 → WAPE 3/3 = 1, bias +1/3;
/// - web: −1, +2 → WAPE 3/5 = 0.6, bias +0.2; shop: 0, −1 → WAPE 1/3, bias −1/3.
///
/// Worst first: FC-2 then FC-1, web then shop. Every place sold the same each day before, so
/// the seasonal naive scale is 0 and MASE is left out everywhere.
#[test]
fn accuracy_is_judged_at_each_center_and_in_each_channel_beside_the_headline() {
    use flowline_core::documents::forecast::{ForecastLine, PublishForecast};
    use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
    use flowline_core::state::DefineLocation;
    let story_with = |split: bool| {
        let mut story = Story::new("UTC", &[("MUG", 1000)]);
        story.run(
            Command::DefineLocation(DefineLocation {
                capacity_orders_per_day: None,
                location: id("FC-2"),
                name: "Two".into(),
                region: "us".into(),
                address: common::address("UTC"),
            }),
            "2025-01-01T00:00:00Z",
        );
        story.run(
            Command::AdjustStock(AdjustStock {
                adjustment: id("ADJ-FC-2"),
                location: id("FC-2"),
                reason: id("opening_balance"),
                lines: vec![AdjustLineInput {
                    sku: id("MUG"),
                    quantity: 1000,
                    unit_cost_minor: Some(100),
                }],
            }),
            "2025-01-01T00:00:00Z",
        );
        let mut n = 0;
        let mut sell = |story: &mut Story, channel: &str, center: &str, units: i64, day: u32| {
            n += 1;
            let at = format!("2025-01-{day:02}T10:00:00Z");
            sell_at(story, &format!("SO-{n}"), channel, center, units, &at);
        };
        for day in 1..=10 {
            sell(&mut story, "web", "FC-1", 2, day);
            sell(&mut story, "web", "FC-2", 1, day);
            sell(&mut story, "shop", "FC-2", 1, day);
        }
        let line = |location: Option<&str>, channel: Option<&str>, units: i64| ForecastLine {
            sku: id("MUG"),
            location: location.map(id),
            channel: channel.map(id),
            model: Some("naive".into()),
            daily_milli: vec![units * 1000; 2],
        };
        let mut lines = vec![line(None, None, 4)];
        if split {
            lines.extend([
                line(Some("FC-1"), None, 2),
                line(Some("FC-2"), None, 2),
                line(None, Some("web"), 3),
                line(None, Some("shop"), 1),
            ]);
        }
        story.run(
            Command::PublishForecast(PublishForecast {
                forecast: id("F-1"),
                first_day: "2025-01-11".parse().unwrap(),
                lines,
            }),
            "2025-01-11T08:00:00Z",
        );
        sell(&mut story, "web", "FC-1", 2, 11);
        sell(&mut story, "web", "FC-2", 2, 11);
        sell(&mut story, "shop", "FC-2", 1, 11);
        sell(&mut story, "web", "FC-1", 1, 12);
        sell(&mut story, "shop", "FC-1", 2, 12);
        sell(&mut story, "web", "FC-1", 1, 13);
        demand_of(&story)
    };
    let history = story_with(true);
    let from = "2025-01-11".parse().unwrap();
    let to = "2025-01-13".parse().unwrap();
    let report = history.accuracy().report(from, to);
    let close = |value: Option<f64>, expected: f64| {
        assert!(
            value.is_some_and(|v| (v - expected).abs() < 1e-12),
            "{value:?} != {expected}"
        )
    };
    close(report.overall.wape, 0.25);
    close(report.overall.bias, 0.0);
    assert_eq!(report.overall.figures, 2);
    assert_eq!(report.overall.actual, 8.0);

    let centers: Vec<&str> = report.by_center.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(centers, ["FC-2", "FC-1"]);
    let (fc2, fc1) = (&report.by_center[0].1, &report.by_center[1].1);
    close(fc2.wape, 1.0);
    close(fc2.accuracy, 0.0);
    close(fc2.bias, 1.0 / 3.0);
    assert_eq!((fc2.actual, fc2.forecast, fc2.figures), (3.0, 4.0, 2));
    close(fc1.wape, 0.2);
    close(fc1.accuracy, 0.8);
    close(fc1.bias, -0.2);
    assert_eq!((fc1.actual, fc1.forecast), (5.0, 4.0));

    let channels: Vec<&str> = report.by_channel.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(channels, ["web", "shop"]);
    let (web, shop) = (&report.by_channel[0].1, &report.by_channel[1].1);
    close(web.wape, 0.6);
    close(web.bias, 0.2);
    assert_eq!((web.actual, web.forecast), (5.0, 6.0));
    close(shop.wape, 1.0 / 3.0);
    close(shop.bias, -1.0 / 3.0);
    assert_eq!((shop.actual, shop.forecast), (3.0, 2.0));
    let places = report.by_center.iter().map(|(_, f)| f);
    for figures in places.chain(report.by_channel.iter().map(|(_, f)| f)) {
        assert_eq!(figures.mase, None, "a flat history has no naive scale");
    }

    // The split lines leave every headline figure as the network line alone gives it.
    let alone = story_with(false).accuracy().report(from, to);
    assert!(alone.by_center.is_empty() && alone.by_channel.is_empty());
    assert_eq!(alone.overall, report.overall);
    assert_eq!(alone.by_week, report.by_week);
    assert_eq!(alone.by_lag, report.by_lag);
    assert_eq!(alone.worst, report.worst);

    // The shares the planner splits by: allocations per center, orders per channel, over the
    // last 90 days to the 13th: FC-1 20 + 2 + 3 + 1 = 26 of 49 units (FC-2 20 + 3 = 23); web
    // 30 + 4 + 1 + 1 = 36 of 49 (shop 10 + 1 + 2 = 13).
    let shares = history.shares(&id("MUG"), 90);
    close(Some(shares[0].1), 26.0 / 49.0);
    close(Some(shares[1].1), 23.0 / 49.0);
    let channels = history.channel_shares(&id("MUG"), 90);
    assert_eq!(channels[0].0.as_str(), "shop");
    close(Some(channels[0].1), 13.0 / 49.0);
    close(Some(channels[1].1), 36.0 / 49.0);

    // Kept as a snapshot and restored, it reports the same.
    use flowline_core::projection::Projection;
    let restored =
        flowline_metrics::demand::DemandHistory::decode(&history.encode().unwrap()).unwrap();
    assert_eq!(restored.accuracy().report(from, to), report);
}

/// A return counts on the day it is received, on the stocked components, in the order's
/// channel and at the center that shipped it, and is never taken off demand.
///
/// SET is a bundle of 1 MUG and 2 LID. SO-1 (web) orders 2 SET on 1 January: 2 MUG and 4 LID
/// of demand that day. It ships from FC-1 on the 2nd and is delivered on the 4th; one SET is
/// authorised for return on the 6th (nothing counted yet: it may never come) and received on the
/// 9th: 1 MUG and 2 LID returned on the 9th. SO-2 orders 1 MUG on the 10th (the latest day).
/// Over the last 30 days MUG was ordered 2 + 1 = 3 times and returned once: a return rate of
/// 1/3; LID 2 of 4 = 1/2.
#[test]
fn a_returned_bundle_counts_on_its_components_the_day_it_is_received() {
    use flowline_core::documents::return_auth::ReceiveReturn;
    use flowline_core::documents::sales_order::LineQuantity;
    let mut story = Story::new("UTC", &[("MUG", 100), ("LID", 100)]);
    story.define(
        "SET",
        Some(Bom {
            kind: BomKind::Bundle,
            components: vec![
                BomComponent {
                    sku: id("MUG"),
                    quantity: 1,
                },
                BomComponent {
                    sku: id("LID"),
                    quantity: 2,
                },
            ],
        }),
    );
    let backorder = Some(ShortagePolicy::Backorder);
    story.place(
        "SO-1",
        &[("SET", 2)],
        "UTC",
        None,
        backorder,
        "2025-01-01T10:00:00Z",
    );
    story.ship("SO-1", "SH-1", &[(0, 2)], "2025-01-02T10:00:00Z");
    story.deliver("SO-1", "SH-1", "2025-01-04T10:00:00Z");
    story.open_return(
        "RMA-1",
        "SO-1",
        0,
        1,
        "changed_mind",
        "2025-01-06T10:00:00Z",
    );
    let authorised = demand_of(&story);
    assert!(authorised.returned_units(&id("MUG")).is_empty());
    story.run(
        Command::ReceiveReturn(ReceiveReturn {
            return_id: id("RMA-1"),
            lines: vec![LineQuantity {
                line: 0,
                quantity: 1,
            }],
        }),
        "2025-01-09T15:00:00Z",
    );
    story.place(
        "SO-2",
        &[("MUG", 1)],
        "UTC",
        None,
        backorder,
        "2025-01-10T10:00:00Z",
    );
    let history = demand_of(&story);
    let ninth: jiff::civil::Date = "2025-01-09".parse().unwrap();
    assert_eq!(
        history.returned_units(&id("MUG")),
        vec![(id("web"), id("FC-1"), ninth, 1)]
    );
    assert_eq!(
        history.returned_units(&id("LID")),
        vec![(id("web"), id("FC-1"), ninth, 2)]
    );
    let series = history.series();
    let mug = series.iter().find(|s| s.sku.as_str() == "MUG").unwrap();
    assert_eq!(
        mug.daily,
        vec![2, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        "demand stays gross"
    );
    assert_eq!(mug.returned, vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    let lid = series.iter().find(|s| s.sku.as_str() == "LID").unwrap();
    assert_eq!(lid.daily[0], 4);
    assert_eq!(lid.returned[8], 2);
    assert_eq!(history.return_rate(&id("MUG"), 30), Some(1.0 / 3.0));
    assert_eq!(history.return_rate(&id("LID"), 30), Some(0.5));
    assert_eq!(
        history.return_rate(&id("SET"), 30),
        None,
        "a bundle has no series"
    );
    // Kept as a snapshot and restored, it reads the same.
    use flowline_core::projection::Projection;
    let restored =
        flowline_metrics::demand::DemandHistory::decode(&history.encode().unwrap()).unwrap();
    assert_eq!(restored.series(), series);
}

/// Plans a promotion of every item in every channel (or `channels`), without an uplift unless
/// one is given.
fn promote(
    story: &mut Story,
    promotion: &str,
    (first, last): (&str, &str),
    channels: &[&str],
    uplift_milli: Option<i64>,
    at: &str,
) {
    use flowline_core::documents::promotion::PlanPromotion;
    story.run(
        Command::PlanPromotion(PlanPromotion {
            promotion: id(promotion),
            name: promotion.into(),
            first_day: first.parse().unwrap(),
            last_day: last.parse().unwrap(),
            items: vec![],
            channels: channels.iter().map(|c| id(c)).collect(),
            uplift_milli,
            note: None,
        }),
        at,
    );
}

/// A promotion's days are left out of the ordinary demand, and what it achieved becomes the
/// uplift of a later promotion planned without one. MUG sells 10 a day from 1 to 28 January;
/// PROMO-1 (every item, no uplift given) runs 29 to 31 January, when it sells 30 a day; 10 again
/// on 1 February. PROMO-1 achieved (30 × 3 / 3) / (10 × 28 / 28) = 3.0 against the 28 days
/// before it (1 to 28 January). PROMO-2 (10 and 11 February, no uplift) is counted at 3.0, the
/// mean of the promotions that have ended; PROMO-3 runs only on the marketplace, where MUG has
/// sold nothing in the last 28 days, so its planned 2.0 lifts MUG by 1 + (2 − 1) × 0 = 1;
/// PROMO-4 is cancelled and counts for nothing.
#[test]
fn promotions_are_left_out_of_ordinary_demand_and_lift_the_days_they_cover() {
    use flowline_core::documents::promotion::CancelPromotion;
    use flowline_core::documents::sales_order::ShortagePolicy;
    use flowline_metrics::demand::UpliftSource;
    let mut story = Story::new("UTC", &[("MUG", 10_000)]);
    let backorder = Some(ShortagePolicy::Backorder);
    promote(
        &mut story,
        "PROMO-1",
        ("2025-01-29", "2025-01-31"),
        &[],
        None,
        "2025-01-01T00:00:00Z",
    );
    let day = |d: i64| {
        "2025-01-01"
            .parse::<jiff::civil::Date>()
            .unwrap()
            .checked_add(jiff::Span::new().days(d))
            .unwrap()
    };
    for d in 0..32 {
        let units = if (28..31).contains(&d) { 30 } else { 10 };
        let at = format!("{}T10:00:00Z", day(d));
        story.place(
            &format!("SO-{d}"),
            &[("MUG", units)],
            "UTC",
            None,
            backorder,
            &at,
        );
    }
    promote(
        &mut story,
        "PROMO-2",
        ("2025-02-10", "2025-02-11"),
        &[],
        None,
        "2025-02-01T12:00:00Z",
    );
    promote(
        &mut story,
        "PROMO-3",
        ("2025-02-10", "2025-02-11"),
        &["marketplace"],
        Some(2000),
        "2025-02-01T12:00:00Z",
    );
    promote(
        &mut story,
        "PROMO-4",
        ("2025-02-05", "2025-02-06"),
        &[],
        Some(5000),
        "2025-02-01T12:00:00Z",
    );
    story.run(
        Command::CancelPromotion(CancelPromotion {
            promotion: id("PROMO-4"),
            reason: Some("called off".into()),
        }),
        "2025-02-01T13:00:00Z",
    );
    let history = demand_of(&story);
    let series = history.series();
    let mug = &series[0];
    assert_eq!(mug.daily.len(), 32);
    let promoted: Vec<usize> = (0..32).filter(|d| mug.promoted[*d]).collect();
    assert_eq!(promoted, vec![28, 29, 30]);
    assert_eq!(mug.observed()[28], None);
    assert_eq!(mug.observed()[27], Some(10.0));
    assert_eq!(history.achieved_uplift("PROMO-1"), Some(3.0));
    assert_eq!(
        history.achieved_uplift("PROMO-2"),
        None,
        "it has not run yet"
    );
    let lifts = history.lifts();
    assert_eq!(lifts.uplifts["PROMO-2"], (3.0, UpliftSource::Past));
    assert_eq!(lifts.uplifts["PROMO-3"], (2.0, UpliftSource::Planned));
    assert!(!lifts.uplifts.contains_key("PROMO-4"));
    let sku = id("MUG");
    assert_eq!(lifts.factor(&history, &sku, day(40)), 3.0, "10 February");
    assert_eq!(lifts.factor(&history, &sku, day(39)), 1.0, "9 February");
    assert_eq!(
        lifts.factor(&history, &sku, day(35)),
        1.0,
        "PROMO-4 was cancelled"
    );
    assert_eq!(lifts.order_factor(&history, day(41)), 3.0);
}

/// The capacity plan flags the week a promotion will load past the center's capacity. FC-1
/// picks 12 orders a day and gets 10 one-unit orders a day from Monday 6 January to Sunday 2
/// March 2025 (8 weeks); over the last three weeks it ships one of them a day, Monday to
/// Saturday, never on Sunday, so it works six days: 6 × 12 = 72 orders a week. The plan starts
/// Monday 3 March; PROMO-1 doubles every item from Monday 17 to Sunday 23 March. An ordinary
/// week is 7 × 10 = 70 orders, under 72: not flagged; the promotion's week is 140, 68 over:
/// flagged. The constant history leaves no forecast error, so the probability of exceeding is 0
/// or 1.
#[test]
fn the_capacity_plan_flags_the_week_a_promotion_loads_past_capacity() {
    use flowline_core::documents::sales_order::ShortagePolicy;
    use flowline_metrics::capacity::{CapacitySettings, plan};
    let mut story = Story::new("UTC", &[("MUG", 10_000)]);
    // The story's center is defined without a capacity and a location is defined once: the
    // plan reads the capacity from the state.
    story
        .state
        .locations
        .get_mut(&id("FC-1"))
        .unwrap()
        .capacity_orders_per_day = Some(12);
    promote(
        &mut story,
        "PROMO-1",
        ("2025-03-17", "2025-03-23"),
        &[],
        Some(2000),
        "2025-01-02T00:00:00Z",
    );
    let first: jiff::civil::Date = "2025-01-06".parse().unwrap();
    for d in 0..56 {
        let date = first.checked_add(jiff::Span::new().days(d)).unwrap();
        for n in 0..10 {
            let at = format!("{date}T{:02}:00:00Z", 8 + n);
            let order = format!("SO-{d}-{n}");
            story.place(
                &order,
                &[("MUG", 1)],
                "UTC",
                None,
                Some(ShortagePolicy::Backorder),
                &at,
            );
            // Monday 6 January is day 0, so day `d` is a Sunday when d % 7 == 6.
            if n == 0 && d >= 35 && d % 7 != 6 {
                let at = format!("{date}T20:00:00Z");
                story.ship(&order, &format!("SH-{d}"), &[(0, 1)], &at);
            }
        }
    }
    let history = demand_of(&story);
    let settings = CapacitySettings {
        horizon_days: 28,
        ..CapacitySettings::default()
    };
    let capacity = plan(&story.state, &history, &settings).unwrap();
    assert_eq!(capacity.today.unwrap().to_string(), "2025-03-03");
    let center = &capacity.centers[0];
    assert_eq!(center.recent_per_day, 10.0);
    let weeks: Vec<(String, f64, f64, bool)> = center
        .weeks
        .iter()
        .map(|w| {
            (
                w.from.to_string(),
                (w.week.forecast * 1000.0).round() / 1000.0,
                w.week.capacity,
                w.week.flagged,
            )
        })
        .collect();
    assert_eq!(
        weeks,
        vec![
            ("2025-03-03".to_string(), 70.0, 72.0, false),
            ("2025-03-10".to_string(), 70.0, 72.0, false),
            ("2025-03-17".to_string(), 140.0, 72.0, true),
            ("2025-03-24".to_string(), 70.0, 72.0, false),
        ]
    );
    let warnings: Vec<_> = capacity.warnings().collect();
    assert_eq!(warnings.len(), 1);
    assert!((warnings[0].1.week.shortfall - 68.0).abs() < 1e-3);
    assert_eq!(capacity.promotions.len(), 1);
    // A bad setting is named.
    let bad = CapacitySettings {
        level: 1.0,
        ..CapacitySettings::default()
    };
    assert_eq!(plan(&story.state, &history, &bad).unwrap_err().0, "level");
}

/// The item forecast shown by `GET /v1/plan/forecast`: MUG sells exactly 10 a day from 1 to 28
/// January 2025, so any of the candidate models forecasts 10 a day (a constant series has no
/// trend, season or error to learn); PROMO-1 (every item, planned at 2.0) covers 30 and 31
/// January, the 2nd and 3rd days ahead, which are lifted to 20 with their interval. The actual
/// orders drawn against it are the last 7 days' 10s.
#[test]
fn the_item_forecast_lifts_the_days_of_a_planned_promotion() {
    use flowline_core::documents::sales_order::ShortagePolicy;
    use flowline_metrics::replenishment::forecast_items;
    let mut story = Story::new("UTC", &[("MUG", 10_000)]);
    for d in 1..=28 {
        let at = format!("2025-01-{d:02}T10:00:00Z");
        story.place(
            &format!("SO-{d}"),
            &[("MUG", 10)],
            "UTC",
            None,
            Some(ShortagePolicy::Backorder),
            &at,
        );
    }
    promote(
        &mut story,
        "PROMO-1",
        ("2025-01-30", "2025-01-31"),
        &[],
        Some(2000),
        "2025-01-28T12:00:00Z",
    );
    let history = demand_of(&story);
    let (items, unforecast) = forecast_items(&history, &[id("MUG"), id("NONE")], 7, 0.8, 365);
    assert_eq!(unforecast.len(), 1);
    assert_eq!(unforecast[0].sku.as_str(), "NONE");
    let mug = &items[0];
    assert_eq!(mug.first_day.unwrap().to_string(), "2025-01-29");
    let mean: Vec<f64> = mug
        .mean
        .iter()
        .map(|m| (m * 1000.0).round() / 1000.0)
        .collect();
    assert_eq!(mean, [10.0, 20.0, 20.0, 10.0, 10.0, 10.0, 10.0]);
    assert!(mug.model.ends_with("with promotions"), "{}", mug.model);
    assert!(mug.lower.iter().zip(&mug.upper).all(|(l, u)| l <= u));
    assert_eq!(mug.actual, vec![10; 7]);
    assert_eq!(mug.returned, vec![0; 7]);
    assert_eq!(mug.return_rate, Some(0.0));
}

/// The forecast published with a plan: each item's network-wide line, then its share at each
/// center and in each channel. MUG's 4 a day split 0.5 / 0.5 between the centers is 2 at each;
/// 0.75 / 0.25 between the channels is 3 in `web` and 1 in `shop`.
#[test]
fn the_published_forecast_carries_each_items_center_and_channel_shares() {
    use flowline_metrics::replenishment::{ItemForecast, Plan, Split, publish_forecast};
    let mut plan = Plan {
        today: Some("2025-01-11".parse().unwrap()),
        forecasts: vec![ItemForecast {
            sku: id("MUG"),
            model: "naive".into(),
            daily: vec![4.0, 4.0],
        }],
        ..Plan::default()
    };
    plan.splits.insert(
        id("MUG"),
        Split {
            centers: vec![(id("FC-1"), 0.5), (id("FC-2"), 0.5)],
            channels: vec![(id("shop"), 0.25), (id("web"), 0.75)],
        },
    );
    let command = publish_forecast(&plan, "F-1").unwrap();
    let lines: Vec<(Option<&str>, Option<&str>, &[i64])> = command
        .lines
        .iter()
        .map(|l| {
            (
                l.location.as_ref().map(|c| c.as_str()),
                l.channel.as_ref().map(|c| c.as_str()),
                l.daily_milli.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (None, None, &[4000, 4000][..]),
            (Some("FC-1"), None, &[2000, 2000][..]),
            (Some("FC-2"), None, &[2000, 2000][..]),
            (None, Some("shop"), &[1000, 1000][..]),
            (None, Some("web"), &[3000, 3000][..]),
        ]
    );
}

/// The document's limits are spent on the headline first. 600 items forecast 366 days take
/// 219 600 of the 500 000 figures; each item's four split lines take 1 464 more, so the
/// remaining 280 400 hold the splits of 191 items (191 × 1 464 = 279 624): 600 + 764 lines.
/// With 1 400 items only 1 366 network lines fit (1 366 × 366 = 499 956) and no split.
#[test]
fn the_published_forecast_keeps_within_the_documents_limits_headline_first() {
    use flowline_core::documents::forecast::{FORECAST_FIGURES_MAX, FORECAST_LINES_MAX};
    use flowline_metrics::replenishment::{ItemForecast, Plan, Split, publish_forecast};
    let plan_of = |items: usize| {
        let mut plan = Plan {
            today: Some("2025-01-11".parse().unwrap()),
            ..Plan::default()
        };
        for n in 0..items {
            let sku: flowline_core::id::Sku = id(&format!("I-{n:04}"));
            plan.forecasts.push(ItemForecast {
                sku: sku.clone(),
                model: "naive".into(),
                daily: vec![1.0; 400],
            });
            plan.splits.insert(
                sku,
                Split {
                    centers: vec![(id("FC-1"), 0.5), (id("FC-2"), 0.5)],
                    channels: vec![(id("shop"), 0.5), (id("web"), 0.5)],
                },
            );
        }
        plan
    };
    let command = publish_forecast(&plan_of(600), "F-1").unwrap();
    let figures: usize = command.lines.iter().map(|l| l.daily_milli.len()).sum();
    assert_eq!(command.lines.len(), 600 + 191 * 4);
    assert!(figures <= FORECAST_FIGURES_MAX && command.lines.len() <= FORECAST_LINES_MAX);
    assert!(
        command.lines[..600]
            .iter()
            .all(|l| l.location.is_none() && l.channel.is_none())
    );
    let command = publish_forecast(&plan_of(1_400), "F-2").unwrap();
    assert_eq!(command.lines.len(), 1_366);
    assert!(
        command
            .lines
            .iter()
            .all(|l| l.location.is_none() && l.channel.is_none())
    );
}
