//! Short simulated runs checked against the scenario they were given: the same seed gives the
//! same log; demand follows the configured seasonality and peak; carriers are late, damage and
//! lose at their configured rates; every order ends or says why not; the ledger checks clean.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::Event;
use flowline_core::documents::sales_order::{DeliveryCondition, SalesOrderEvent};
use flowline_core::id::TenantId;
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, Summary, run};
use flowline_store::EventStore;
use flowline_store::SharedBackend;
use flowline_store_sqlite::{OpenOptions, SqliteBackend, SqliteStore};
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A log file at `path` whose commits are not flushed one by one: a simulated log can be made
/// again from its seed.
fn sqlite(path: &std::path::Path) -> SharedBackend {
    SqliteBackend::shared(path, OpenOptions::relaxed()).unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("demo").unwrap()
}

fn simulate(scenario: &Scenario, path: &Path, seed: u64, days: u32) -> Summary {
    let options = Options {
        seed,
        days,
        tenant: tenant(),
    };
    let summary = run(scenario, &sqlite(path), &options, &mut |_| {}).unwrap();
    assert!(
        summary.refused.is_empty(),
        "the engine refused commands: {:?} {:?}",
        summary.refused,
        summary.refusal_samples
    );
    summary
}

fn events(path: &Path) -> Vec<(Event, Timestamp)> {
    let store = SqliteStore::open_read_only(path).unwrap();
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_tenant(&tenant(), after, 10_000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in page {
            all.push((
                serde_json::from_str(&stored.payload).unwrap(),
                stored.business_time,
            ));
        }
    }
    all
}

/// The brand at 120 orders a day; flash sales off, so demand is what the formula says.
fn small() -> Scenario {
    let mut scenario = Scenario::default_brand().scaled(120.0);
    scenario.demand.flash_sales.per_year = 0.0;
    scenario
}

#[test]
fn the_same_seed_gives_the_same_log_and_another_seed_another() {
    let directory = tempfile::tempdir().unwrap();
    let scenario = small();
    let first = simulate(&scenario, &directory.path().join("a.db"), 7, 5);
    let again = simulate(&scenario, &directory.path().join("b.db"), 7, 5);
    let other = simulate(&scenario, &directory.path().join("c.db"), 8, 5);
    assert!(first.events > 1_000, "{} events", first.events);
    assert_eq!(first.log_hash, again.log_hash);
    assert_eq!(first.events, again.events);
    assert_ne!(first.log_hash, other.log_hash);
}

/// The log is the engine's, not the store's: the same seed run on the memory store writes, event
/// for event, the log it writes to a SQLite file (the hash covers every field of every event,
/// recorded times included), and the memory store hands back every event it was given.
#[test]
fn the_same_seed_gives_the_same_log_in_memory_as_in_a_file() {
    let directory = tempfile::tempdir().unwrap();
    let scenario = small();
    let path = directory.path().join("file.db");
    let in_file = simulate(&scenario, &path, 11, 4);
    let memory = flowline_store_memory::MemoryBackend::shared();
    let options = Options {
        seed: 11,
        days: 4,
        tenant: tenant(),
    };
    let in_memory = run(&scenario, &memory, &options, &mut |_| {}).unwrap();
    assert!(in_file.events > 1_000, "{} events", in_file.events);
    assert_eq!(in_memory.events, in_file.events);
    assert_eq!(in_memory.log_hash, in_file.log_hash);
    // And independently of the hash: the two logs read back equal, event by event.
    let file = SqliteStore::open_read_only(&path).unwrap();
    let memory = memory.open_reader().unwrap();
    let (mut after, mut compared) = (0, 0);
    loop {
        let from_file = file.read_tenant(&tenant(), after, 5_000).unwrap();
        let from_memory = memory.read_tenant(&tenant(), after, 5_000).unwrap();
        assert_eq!(from_memory, from_file, "events after seq {after}");
        let Some(last) = from_file.last() else { break };
        after = last.seq;
        compared += from_file.len() as u64;
    }
    assert_eq!(compared, in_file.events);
}

/// Four weeks around the holiday peak (Black Friday to Cyber Monday, ×2.8).
#[test]
fn a_month_of_the_brand_follows_its_scenario() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("month.db");
    let mut scenario = small();
    scenario.brand.start = Date::constant(2025, 11, 10);
    // Published transit times only (no distance term), so "late" can be read off the log.
    for carrier in &mut scenario.carriers {
        for service in &mut carrier.services {
            service.days_per_1000_km = 0.0;
        }
    }
    let days = 28;
    let summary = simulate(&scenario, &path, 3, days);
    let log = events(&path);

    // 1. Demand. The expected orders of each reporting day, worked out here from the scenario's
    // numbers: for every hour, each region's daily rate (base × trend × weekday × month ×
    // peak, in its own calendar) times its share of customers and the hour's share of the day.
    let reporting = TimeZone::get(&scenario.brand.reporting_time_zone).unwrap();
    let demand = &scenario.demand;
    let region_total: f64 = scenario.regions.iter().map(|r| r.share).sum();
    let hourly_total: f64 = demand.hourly.iter().sum();
    let start = scenario
        .brand
        .start
        .to_zoned(reporting.clone())
        .unwrap()
        .timestamp();
    let mut expected: BTreeMap<Date, f64> = BTreeMap::new();
    for hour in 0..(days as i64 * 24) {
        let at = start + jiff::SignedDuration::from_hours(hour);
        for region in &scenario.regions {
            let local = at.to_zoned(TimeZone::get(&region.time_zone).unwrap());
            let date = local.date();
            let elapsed = (date - Date::constant(2025, 11, 10)).get_days() as f64;
            let mut rate = demand.orders_per_day
                * (1.0 + demand.trend_per_year * elapsed / 365.0)
                * demand.weekly[date.weekday().to_monday_zero_offset() as usize]
                * demand.yearly[date.month() as usize - 1];
            for peak in &demand.peaks {
                let day = (date.month(), date.day());
                if (peak.from.month(), peak.from.day()) <= day
                    && day <= (peak.to.month(), peak.to.day())
                {
                    rate *= peak.multiplier;
                }
            }
            *expected
                .entry(at.to_zoned(reporting.clone()).date())
                .or_default() += rate * region.share / region_total
                * demand.hourly[local.hour() as usize]
                / hourly_total;
        }
    }
    let observed: BTreeMap<Date, u64> = summary.orders_by_day.iter().copied().collect();
    // Orders per day are Poisson: Σ (O − E)² / E is about chi-square with 28 degrees of freedom
    // (mean 28, sd 7.5); more than 28 + 4 × 7.5 means demand does not follow the scenario.
    let chi2: f64 = expected
        .iter()
        .map(|(date, e)| (observed.get(date).copied().unwrap_or(0) as f64 - e).powi(2) / e)
        .sum();
    eprintln!("demand: chi-square {chi2:.1} over {} days", expected.len());
    assert!(
        chi2 < 58.0,
        "chi-square {chi2:.1} over {} days",
        expected.len()
    );
    // The peak itself: the four days from Black Friday, against their expectation (± 4 sd).
    let peak_days = [
        Date::constant(2025, 11, 28),
        Date::constant(2025, 11, 29),
        Date::constant(2025, 11, 30),
        Date::constant(2025, 12, 1),
    ];
    let e: f64 = peak_days.iter().map(|d| expected[d]).sum();
    let o: f64 = peak_days.iter().map(|d| observed[d] as f64).sum();
    let before: f64 = (0..7)
        .map(|d| observed[&Date::constant(2025, 11, 17 + d)] as f64)
        .sum::<f64>()
        / 7.0;
    eprintln!("peak: {o} orders, {e:.0} expected; the week before {before:.0}/day");
    assert!(
        (o - e).abs() < 4.0 * e.sqrt(),
        "peak: {o} orders, {e:.0} expected"
    );
    // And it is a peak: its days have at least twice the orders of the week before.
    assert!(
        o / 4.0 > 2.0 * before,
        "peak {:.0}/day against {before:.0}/day",
        o / 4.0
    );

    let end = start + jiff::SignedDuration::from_hours(days as i64 * 24);
    // 2. Carriers: from the log, per service, the share delivered damaged, lost, and later
    // than the published transit (working days, Sundays off, in the ship-to zone), each
    // within four binomial standard deviations of the configured rate.
    let mut zone_of: BTreeMap<String, TimeZone> = BTreeMap::new();
    let mut shipped: BTreeMap<String, (String, Timestamp, String)> = BTreeMap::new();
    let mut outcome: BTreeMap<String, (bool, bool, Option<Timestamp>)> = BTreeMap::new();
    for (event, _) in &log {
        if let Event::SalesOrder(event) = event {
            match event {
                SalesOrderEvent::Placed { order, ship_to, .. } => {
                    zone_of.insert(
                        order.to_string(),
                        TimeZone::get(ship_to.time_zone.as_str()).unwrap(),
                    );
                }
                SalesOrderEvent::Shipped {
                    order,
                    shipment,
                    carrier,
                    service,
                    at,
                    ..
                } => {
                    shipped.insert(
                        shipment.to_string(),
                        (order.to_string(), *at, format!("{carrier}/{service}")),
                    );
                }
                SalesOrderEvent::Delivered {
                    shipment,
                    delivered_at,
                    condition,
                    ..
                } => {
                    outcome.insert(
                        shipment.to_string(),
                        (
                            *condition == DeliveryCondition::Damaged,
                            false,
                            Some(*delivered_at),
                        ),
                    );
                }
                SalesOrderEvent::CarrierException { shipment, code, .. }
                    if code.as_str() == "lost" =>
                {
                    outcome.insert(shipment.to_string(), (false, true, None));
                }
                _ => {}
            }
        }
    }
    let working_days = |from: Date, to: Date| {
        let mut n = 0;
        let mut day = from;
        while day < to {
            day = day.tomorrow().unwrap();
            if day.weekday() != Weekday::Sunday {
                n += 1;
            }
        }
        n
    };
    let within = |hits: u64, n: u64, p: f64, what: &str| {
        let share = hits as f64 / n as f64;
        let sd = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (share - p).abs() <= 4.0 * sd + 1.0 / n as f64,
            "{what}: {hits} of {n} = {share:.4}, configured {p}"
        );
    };
    for carrier in &scenario.carriers {
        for service in &carrier.services {
            let key = format!("{}/{}", carrier.id, service.code);
            let mut n = 0;
            let (mut damaged, mut lost, mut late, mut delivered) = (0, 0, 0, 0);
            for (shipment, (order, at, which)) in &shipped {
                // Only shipments with time to arrive (or be declared lost) before the end: late
                // and lost ones take longer, so counting the last days would undercount them.
                if *which != key || end.duration_since(*at) < jiff::SignedDuration::from_hours(240)
                {
                    continue;
                }
                let Some((was_damaged, was_lost, delivered_at)) = outcome.get(shipment) else {
                    panic!("{shipment} neither arrived nor was lost within ten days");
                };
                n += 1;
                if *was_lost {
                    lost += 1;
                    continue;
                }
                delivered += 1;
                damaged += u64::from(*was_damaged);
                let zone = &zone_of[order];
                let days = working_days(
                    at.to_zoned(zone.clone()).date(),
                    delivered_at.unwrap().to_zoned(zone.clone()).date(),
                );
                late += u64::from(days > service.transit_days);
            }
            if n < 150 {
                continue; // too few to judge (a service hardly used in a month)
            }
            eprintln!(
                "{key}: {n} shipments, {delivered} delivered, {late} late, {damaged} damaged, {lost} lost"
            );
            within(late, delivered, service.late_rate, &format!("{key} late"));
            within(
                damaged,
                delivered,
                service.damage_rate,
                &format!("{key} damaged"),
            );
            within(lost, n, service.loss_rate, &format!("{key} lost"));
        }
    }

    // 3. Every order ends — delivered or cancelled — or is still in progress at the end, or
    // carries a lost-shipment exception; the model's reasons account for exactly those.
    let mut ordered: BTreeMap<String, i64> = BTreeMap::new();
    let mut done: BTreeMap<String, i64> = BTreeMap::new();
    let mut last_activity: BTreeMap<String, Timestamp> = BTreeMap::new();
    let mut units_of_shipment: BTreeMap<String, i64> = BTreeMap::new();
    for (event, at) in &log {
        if let Event::SalesOrder(event) = event {
            let order = event.order().to_string();
            last_activity.insert(order.clone(), *at);
            match event {
                SalesOrderEvent::Placed { lines, .. } => {
                    ordered.insert(order, lines.iter().map(|l| l.quantity).sum());
                }
                SalesOrderEvent::Shipped {
                    shipment, lines, ..
                } => {
                    units_of_shipment
                        .insert(shipment.to_string(), lines.iter().map(|l| l.quantity).sum());
                }
                SalesOrderEvent::Delivered { shipment, .. } => {
                    *done.entry(order).or_default() += units_of_shipment[&shipment.to_string()];
                }
                SalesOrderEvent::Cancelled { lines, .. } => {
                    *done.entry(order).or_default() +=
                        lines.iter().map(|l| l.quantity).sum::<i64>();
                }
                _ => {}
            }
        }
    }
    let open: Vec<&String> = ordered
        .iter()
        .filter(|(order, units)| done.get(*order).copied().unwrap_or(0) < **units)
        .map(|(order, _)| order)
        .collect();
    assert_eq!(
        open.len() as u64,
        summary.open_orders.values().sum::<u64>(),
        "{:?}",
        summary.open_orders
    );
    let lost_orders: BTreeSet<&String> = shipped
        .iter()
        .filter(|(shipment, _)| outcome.get(*shipment).is_some_and(|o| o.1))
        .map(|(_, (order, _, _))| order)
        .collect();
    for order in &open {
        // Not lost, so still moving: something happened to it in the last ten days.
        if !lost_orders.contains(order) {
            let idle = end.duration_since(last_activity[*order]);
            assert!(
                idle < jiff::SignedDuration::from_hours(240),
                "{order} idle for {idle:?}"
            );
        }
    }
    assert!(
        summary.open_orders.keys().all(|why| *why != "other"),
        "{:?}",
        summary.open_orders
    );

    // 4. The ledger recomputes to the stored balances.
    let store = SqliteStore::open_read_only(&path).unwrap();
    let report = flowline_engine::check::check(&store).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn the_planner_policy_is_deterministic_and_reports_its_cycle_service() {
    let mut planner = small();
    planner.replenishment.policy = flowline_sim::scenario::ReorderPolicy::Planner;
    let tenant = TenantId::parse("demo").unwrap();
    let run_in_memory = |scenario: &Scenario| {
        let log = flowline_store_memory::MemoryBackend::shared();
        let options = Options {
            seed: 3,
            days: 90,
            tenant: tenant.clone(),
        };
        flowline_sim::run(scenario, &log, &options, &mut |_| {}).unwrap()
    };
    let first = run_in_memory(&planner);
    let again = run_in_memory(&planner);
    assert!(first.refused.is_empty(), "{:?}", first.refusal_samples);
    assert_eq!(first.log_hash, again.log_hash);
    assert_eq!(first.cycle_service, again.cycle_service);
    // The planner aims at its service level; the fixed rule at Φ(safety_z) = Φ(1.65), which
    // normal tables give as 0.95053.
    assert_eq!(first.cycle_service.target, 0.95);
    let fixed = run_in_memory(&small());
    assert!((fixed.cycle_service.target - 0.950_53).abs() < 5e-6);
    // Both replenish within 90 days (the shortest lead time is 9 days), so cycles end, and a
    // policy changes when and how much is bought, so the logs differ.
    for summary in [&first, &fixed] {
        let service = summary.cycle_service;
        assert!(service.cycles > 0 && service.without_stockout <= service.cycles);
        assert!(summary.average_inventory_value > 0.0);
    }
    assert_ne!(first.log_hash, fixed.log_hash);
}

/// The planner's Monday capacity watch flags the Black Friday week weeks ahead. The small brand
/// (120 orders a day) runs from Monday 6 October 2025 with the planner, its east center cut to
/// 130 orders a day (910 a week). The scenario's calendar is planned as promotions at the start
/// of the run: Black Friday to Cyber Monday (28 November to 1 December, 2.8 times ordinary
/// demand) and, as peak season, November and December (their `yearly` multipliers 1.25 and 1.40
/// over the mean month's 1.0167: 1.23 and 1.38). FC-EAST takes about 80 orders a day in
/// October, so an ordinary November week is about 80 × 1.23 × 7 ≈ 690 orders (under 910) and
/// the week of 24 November, with three sale days (28 to 30 November), about 80 × 1.23 × (4 +
/// 3 × 2.8) ≈ 1,220: over. With two weeks of orders allocated (the Monday of 20 October; seed 5
/// flags it then, at 1,186 orders) the watch must see it at least four weeks ahead; the ordinary
/// week of 10 November stays unflagged; and the week must then bring more orders than the
/// center can pick (seed 5: 943).
#[test]
fn the_planners_capacity_watch_flags_the_black_friday_week_weeks_ahead() {
    let mut planner = small();
    planner.replenishment.policy = flowline_sim::scenario::ReorderPolicy::Planner;
    planner.brand.start = "2025-10-06".parse().unwrap();
    let east = planner
        .centers
        .iter_mut()
        .find(|c| c.id == "FC-EAST")
        .unwrap();
    east.capacity_orders_per_day = 130;
    let log = flowline_store_memory::MemoryBackend::shared();
    let options = Options {
        seed: 5,
        days: 70,
        tenant: tenant(),
    };
    let summary = flowline_sim::run(&planner, &log, &options, &mut |_| {}).unwrap();
    assert!(summary.refused.is_empty(), "{:?}", summary.refusal_samples);
    let warnings = &summary.capacity_warnings;
    let week: Date = "2025-11-24".parse().unwrap();
    let found = warnings
        .iter()
        .find(|w| w.center == "FC-EAST" && w.week == week)
        .unwrap_or_else(|| panic!("no warning: {warnings:#?}"));
    assert!(found.days_ahead() >= 28, "{found:?}");
    assert_eq!(found.capacity, 910.0);
    assert!(
        found
            .actual
            .is_some_and(|orders| orders as f64 > found.capacity),
        "{found:?}"
    );
    let ordinary: Date = "2025-11-10".parse().unwrap();
    assert!(
        !warnings.iter().any(|w| w.week == ordinary),
        "{warnings:#?}"
    );
    // The fixed rule keeps no watch.
    let fixed = flowline_sim::run(
        &small(),
        &flowline_store_memory::MemoryBackend::shared(),
        &options,
        &mut |_| {},
    )
    .unwrap();
    assert!(fixed.capacity_warnings.is_empty());
}
