//! The scorecard of the public Olist sample against the independent reference figures of
//! ../shared/data/README.md (computed there with pandas).
//!
//! The sample is imported as `flowline import olist` does (the importer's commands, decided and
//! applied through the domain in order) and every event folded. Reference: of the 3,964 delivered
//! orders with a delivery time, 0.9311 are on time comparing calendar dates (delivered date ≤
//! estimated date); the median from purchase to delivery is 10.15 days. Flowline judges a promise
//! date in the ship-to time zone — Brasília time for Olist, whose timestamps and estimated dates
//! are Brasília civil times — which is the calendar-date rule. The README's p90 (23.66 days) is
//! pandas' linear interpolation; the scorecard's p90 is the nearest rank, checked here against the
//! nearest rank computed straight from the CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::master::TimeZoneName;
use flowline_core::money::Currency;
use flowline_core::state::ConfigureTenant;
use flowline_core::{Command, Context, State, apply, decide};
use flowline_formats::olist::{self, FILE_NAMES, OlistFiles};
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::order::Rules;
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::scorecard;
use flowline_metrics::value::Ratio;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn data_folder() -> Option<PathBuf> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/olist");
    if folder.is_dir() {
        Some(folder)
    } else {
        eprintln!(
            "skipping: the Olist sample is not at {} (it lives in the team's shared/ folder)",
            folder.display()
        );
        None
    }
}

/// Purchase-to-delivery days of the delivered orders, straight from the CSV with naive civil
/// arithmetic (as pandas does), sorted.
fn durations_from_csv(orders_csv: &str) -> Vec<f64> {
    let mut lines = orders_csv.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| h.trim_matches(['"', '\u{feff}']))
        .collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (status, purchased, delivered) = (
        column("order_status"),
        column("order_purchase_timestamp"),
        column("order_delivered_customer_date"),
    );
    let mut days: Vec<f64> = lines
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
            if fields[status] != "delivered" || fields[delivered].is_empty() {
                return None;
            }
            let parse = |text: &str| {
                text.replace(' ', "T")
                    .parse::<jiff::civil::DateTime>()
                    .unwrap()
            };
            let span = parse(fields[delivered]).duration_since(parse(fields[purchased]));
            Some(span.as_secs_f64() / 86_400.0)
        })
        .collect();
    days.sort_by(f64::total_cmp);
    days
}

#[test]
fn olist_on_time_and_cycle_time_match_the_reference_figures() {
    let Some(folder) = data_folder() else { return };
    let contents: BTreeMap<&str, Vec<u8>> = FILE_NAMES
        .iter()
        .map(|name| (*name, std::fs::read(folder.join(name)).unwrap()))
        .collect();
    let import = olist::import(&OlistFiles::from_contents(|name| contents[name].as_slice()))
        .unwrap_or_else(|error| panic!("{error}"));
    let zone = "America/Sao_Paulo";
    let mut fold = Fold::new(FoldSettings {
        reporting: jiff::tz::TimeZone::get(zone).unwrap(),
        base_currency: Currency::parse("BRL").unwrap(),
        rules: Rules::standard(),
        emissions: EmissionSettings::standard(),
        keep_settled_orders: false,
    });
    let mut state = State::default();
    let configure = Command::ConfigureTenant(ConfigureTenant {
        business_time: None,
        base_currency: Currency::parse("BRL").unwrap(),
        reporting_time_zone: TimeZoneName::parse(zone).unwrap(),
    });
    let mut commands = vec![(configure, Timestamp::UNIX_EPOCH)];
    commands.extend(import.submissions.iter().cloned());
    for (command, at) in &commands {
        let events = decide(&state, command, &Context { at: *at }).unwrap();
        for event in &events {
            apply(&mut state, event);
            fold.apply(event, EventTime { at: *at });
        }
    }
    let everything = Range::of_dates(jiff::civil::date(2016, 1, 1), jiff::civil::date(2019, 1, 1));
    let card = scorecard(
        &fold,
        everything,
        &Slice::All,
        "2019-06-01T00:00:00Z".parse().unwrap(),
    );

    // On time among delivered orders: 3,691 of 3,964 = 0.9311 (README, calendar dates).
    let on_time = card.value("rl.on_time.delivered").unwrap();
    assert_eq!(on_time.ratio, Ratio::new(3691, 3964));
    assert_eq!(
        format!("{:.4}", on_time.ratio.quotient().unwrap()),
        "0.9311"
    );

    // Purchase to delivery, every delivered order: the median is 10.15 days (README); the 90th
    // percentile by nearest rank equals the one taken from the CSV directly.
    let durations =
        durations_from_csv(std::str::from_utf8(&contents["olist_orders_dataset.csv"]).unwrap());
    assert_eq!(durations.len(), 3964);
    let median = card.value("rs.click_to_door.median").unwrap();
    assert_eq!(median.population, 3964);
    assert_eq!(format!("{:.2}", median.value.unwrap()), "10.15");
    let rank = (90 * durations.len()).div_ceil(100);
    let p90 = card.value("rs.click_to_door.p90").unwrap().value.unwrap();
    assert_eq!(format!("{p90:.2}"), format!("{:.2}", durations[rank - 1]));
    assert_eq!(format!("{p90:.2}"), "23.67");
}
