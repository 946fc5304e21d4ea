//! A simulated year of the built-in brand (at 100 orders a day, centers scaled alike) gives a
//! plausible SCOR scorecard: what a brand like it would see, inside the bounds its scenario
//! implies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::id::TenantId;
use flowline_metrics::drill::{self, Filter};
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::order::Component;
use flowline_metrics::order::Rules;
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::scorecard;
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, run};
use flowline_store_memory::MemoryBackend;
use jiff::civil::Date;

#[test]
fn a_simulated_year_has_a_plausible_scorecard() {
    let log = MemoryBackend::shared();
    let scenario = Scenario::default_brand().scaled(100.0);
    let tenant = TenantId::parse("demo").unwrap();
    let options = Options {
        seed: 1,
        days: 365,
        tenant: tenant.clone(),
    };
    let summary = run(&scenario, &log, &options, &mut |_| {}).unwrap();
    assert!(summary.refused.is_empty(), "{:?}", summary.refusal_samples);
    // Fold the log as the scorecard does.
    let reporting = jiff::tz::TimeZone::get(&scenario.brand.reporting_time_zone).unwrap();
    let settings = FoldSettings {
        reporting: reporting.clone(),
        base_currency: flowline_core::money::Currency::parse("USD").unwrap(),
        rules: Rules::standard(),
        emissions: EmissionSettings::standard(),
        keep_settled_orders: false,
    };
    let mut fold = Fold::new(settings.clone());
    // The same fold keeping every order's record, for drill-down to compare with.
    let mut every_order = Fold::new(FoldSettings {
        keep_settled_orders: true,
        ..settings
    });
    let store = log.open_reader().unwrap();
    let mut after = 0;
    loop {
        let page = store.read_tenant(&tenant, after, 10_000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in page {
            let event = serde_json::from_str(&stored.payload).unwrap();
            let time = EventTime {
                at: stored.business_time,
            };
            fold.apply(&event, time);
            every_order.apply(&event, time);
        }
    }
    let year = Range::of_dates(Date::constant(2025, 1, 1), Date::constant(2026, 1, 1));
    let end = Date::constant(2026, 1, 1)
        .to_zoned(reporting)
        .unwrap()
        .timestamp();
    let card = scorecard(&fold, year, &Slice::All, end);
    let value = |id: &str| {
        card.value(id)
            .and_then(|v| v.value)
            .unwrap_or_else(|| panic!("{id}: no data"))
    };
    let report: Vec<String> = card
        .values()
        .map(|v| format!("{} = {:?}", v.id, v.value))
        .collect();
    eprintln!("{}", report.join("\n"));
    let within = |id: &str, low: f64, high: f64| {
        let found = value(id);
        assert!(
            (low..=high).contains(&found),
            "{id} = {found}, expected between {low} and {high}"
        );
    };
    // Reliability: most orders perfect, not all (late carriers, damage, returns for condition,
    // stock-outs at peak).
    within("rl.perfect_order", 80.0, 98.0);
    within("rl.on_time", 85.0, 99.5);
    within("rl.in_full", 90.0, 100.0);
    // A few days from click to door (promises are one to seven working days).
    within("rs.order_cycle_time", 1.0, 8.0);
    // Cash: customers pay at shipment or on 30-day terms (wholesale is 8 % of orders), so DSO is
    // between 0 and 30 days; suppliers are paid on their terms (30 to 60 days), so DPO is
    // between them; inventory is days of supply at cost.
    within("am.receivable_days", 0.0, 30.0);
    within("am.payable_days", 20.0, 60.0);
    within("am.inventory_days", 15.0, 150.0);
    let c2c = value("am.cash_to_cash");
    let expected =
        value("am.inventory_days") + value("am.receivable_days") - value("am.payable_days");
    assert!(
        (c2c - expected).abs() < 1e-6,
        "C2C {c2c} is not IDS + DSO − DPO {expected}"
    );
    // The unit return rate over a year is near the category rates weighted by their share of
    // units sold (mugs 5 %, candles 4 %, textiles 12 %, kitchen 6 %; shares .25/.20/.30/.25 →
    // 7.3 %), give or take the kits' mix and returns still to come at the end.
    within("ops.return_rate", 5.5, 9.0);
    within("ops.unit_fill_rate", 85.0, 100.0);
    within("ops.stockout_rate", 0.0, 20.0);
    // Costs are a plausible share of revenue; goods cost about 40 % of list price.
    within("co.total_cost.share_of_revenue", 5.0, 40.0);
    within("co.cost_of_goods_sold.share_of_revenue", 25.0, 60.0);
    assert!(value("env.ghg_per_order") > 0.0);
    // Every center and region of the brand has coordinates, so every shipment and return leg
    // has a distance: nothing is left out of the emission figures.
    for id in ["env.ghg_per_shipment", "env.ghg_returns"] {
        let coverage = card.value(id).and_then(|v| v.coverage.clone()).unwrap();
        assert!(coverage.judged > 0, "{id}: {coverage:?}");
        assert_eq!(coverage.judged, coverage.candidates, "{id}: {coverage:?}");
    }
    assert!(value("am.return_on_fixed_assets") > 0.0);

    drill_down_reads_settled_orders_from_the_archive(&fold, &every_order);
}

/// The fold lets settled orders' records go and keeps their verdicts packed: drill-down lists
/// exactly what the fold that kept every record lists, for any range, slice and filter, and a
/// snapshot of the fold reads back equal, byte for byte.
fn drill_down_reads_settled_orders_from_the_archive(fold: &Fold, every_order: &Fold) {
    // Most of the year's ~36,500 orders have settled (closed more than the observation and
    // return windows ago); only the last weeks' are still held.
    assert!(fold.archive().rows() > 25_000, "{:?}", fold.archive());
    assert!(
        fold.orders_in_memory() * 4 < every_order.orders_in_memory(),
        "{} of {} records held",
        fold.orders_in_memory(),
        every_order.orders_in_memory()
    );
    let day = |m: i8, d: i8| Date::constant(2025, m, d);
    let ranges = [
        Range::of_dates(day(1, 1), day(2, 1)),
        Range::of_dates(day(3, 10), day(3, 11)),
        Range::of_dates(day(6, 1), day(9, 1)),
        Range::of_dates(day(1, 1), Date::constant(2026, 1, 1)),
        // Settled and open orders together.
        Range::of_dates(day(11, 1), Date::constant(2026, 1, 1)),
    ];
    // The whole tenant and two values of each dimension.
    let mut slices: Vec<Slice> = every_order
        .buckets()
        .map(|(_, slice, _)| slice.clone())
        .collect();
    slices.sort();
    slices.dedup();
    let mut per_dimension = std::collections::HashMap::new();
    slices.retain(|slice| {
        let seen = per_dimension
            .entry(std::mem::discriminant(slice))
            .or_insert(0);
        *seen += 1;
        *seen <= 2
    });
    let filters = [
        Filter::Imperfect,
        Filter::Failing(Component::OnTime),
        Filter::Failing(Component::Condition),
        Filter::Signature(Component::OnTime.bit()),
        Filter::CycleTime,
        Filter::All,
    ];
    let mut listed = 0;
    for range in ranges {
        for slice in &slices {
            for filter in filters {
                let expected = drill::orders(every_order, range, slice, filter, usize::MAX);
                let found = drill::orders(fold, range, slice, filter, usize::MAX);
                assert_eq!(found, expected, "{range:?} {slice:?} {filter:?}");
                listed += found.len();
            }
        }
    }
    assert!(listed > 50_000, "{listed}");

    let bytes = fold.encode().unwrap();
    let restored = Fold::decode(&bytes).unwrap();
    assert_eq!(&restored, fold);
    assert_eq!(restored.encode().unwrap(), bytes);
}
