//! Compares replenishment policies on what `flowline simulate` does not show: the cycle service
//! level achieved against its target, the average inventory value, purchase orders placed, and
//! December's perfect order and on-time ship. The same seeds for every scenario.
//!
//! ```sh
//! cargo run --release -p flowline-sim --example policies -- \
//!     --scenario default --scenario scenarios/planner.toml --seeds 4 [--days 365] [--orders-per-day N]
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line report

use flowline_core::id::TenantId;
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::order::Rules;
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::scorecard;
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, Summary, run};
use flowline_store::SharedBackend;
use flowline_store_memory::MemoryBackend;
use jiff::civil::Date;
use std::path::Path;
use std::sync::Mutex;

/// What one run gives.
struct Outcome {
    summary: Summary,
    /// (metric, value) over the whole run and over December.
    year: Vec<Option<f64>>,
    december: Vec<Option<f64>>,
}

const METRICS: &[&str] = &[
    "rl.perfect_order",
    "ops.on_time_ship",
    "ops.unit_fill_rate",
    "am.inventory_days",
];

fn main() -> Result<(), String> {
    let mut scenarios = Vec::new();
    let mut seeds = 2u64;
    let mut days = 365u32;
    let mut scale = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--scenario" => scenarios.push(value()?),
            "--seeds" => seeds = value()?.parse().map_err(|e| format!("--seeds: {e}"))?,
            "--days" => days = value()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--orders-per-day" => {
                scale = Some(
                    value()?
                        .parse::<f64>()
                        .map_err(|e| format!("--orders-per-day: {e}"))?,
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let loaded: Vec<(String, Scenario)> = scenarios
        .iter()
        .map(|name| {
            let scenario = if name == "default" {
                Scenario::default_brand()
            } else {
                Scenario::load(Path::new(name)).map_err(|e| e.to_string())?
            };
            let scenario = match scale {
                Some(n) => scenario.scaled(n),
                None => scenario,
            };
            let label = Path::new(name)
                .file_stem()
                .map_or(name.clone(), |s| s.to_string_lossy().into_owned());
            Ok((label, scenario))
        })
        .collect::<Result<_, String>>()?;
    let runs: Vec<(usize, u64)> = (0..loaded.len())
        .flat_map(|s| (1..=seeds).map(move |seed| (s, seed)))
        .collect();
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..runs.len()).map(|_| None).collect());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(&(s, seed)) = runs.get(index) else {
                        break;
                    };
                    let (label, scenario) = &loaded[s];
                    match one(scenario, seed, days) {
                        Ok(outcome) => {
                            eprintln!(
                                "{label} seed {seed}: {:.1} s, log {}",
                                outcome.summary.wall.as_secs_f64(),
                                &outcome.summary.log_hash[..16]
                            );
                            results.lock().unwrap_or_else(|e| e.into_inner())[index] =
                                Some(outcome);
                        }
                        Err(error) => eprintln!("{label} seed {seed}: {error}"),
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    println!("{days} days, seeds 1–{seeds}; mean ± sd over the seeds");
    let mut rows: Vec<(String, Vec<Vec<f64>>)> = Vec::new();
    let mut add = |name: &str, s: usize, value: Option<f64>| {
        let position = rows.iter().position(|(n, _)| n == name).unwrap_or_else(|| {
            rows.push((name.to_string(), vec![Vec::new(); loaded.len()]));
            rows.len() - 1
        });
        if let Some(v) = value {
            rows[position].1[s].push(v);
        }
    };
    for (&(s, _), outcome) in runs.iter().zip(&results) {
        let Some(outcome) = outcome else { continue };
        let service = outcome.summary.cycle_service;
        add(
            "cycle service level target, %",
            s,
            Some(service.target * 100.0),
        );
        add(
            "cycle service level achieved, %",
            s,
            service.achieved().map(|a| a * 100.0),
        );
        add("replenishment cycles", s, Some(service.cycles as f64));
        add(
            "average inventory value (cost)",
            s,
            Some(outcome.summary.average_inventory_value),
        );
        let counts = &outcome.summary.counts;
        let count = |key: &str| counts.get(key).copied().map(|v| v as f64);
        add("purchase orders", s, count("purchase_orders"));
        add("orders placed", s, count("orders_placed"));
        add(
            "planner fell back to fixed",
            s,
            count("planner_fell_back_to_fixed"),
        );
        for (m, id) in METRICS.iter().enumerate() {
            add(&format!("{id} (run)"), s, outcome.year[m]);
        }
        for (m, id) in METRICS.iter().enumerate() {
            add(&format!("{id} (December)"), s, outcome.december[m]);
        }
    }
    let mut header = format!("{:<36}", "metric");
    for (label, _) in &loaded {
        header.push_str(&format!(" {label:>22}"));
    }
    println!("{header}");
    for (name, columns) in rows {
        let mut line = format!("{name:<36}");
        for values in columns {
            line.push_str(&format!(" {:>22}", show(&values)));
        }
        println!("{line}");
    }
    Ok(())
}

fn show(values: &[f64]) -> String {
    if values.is_empty() {
        return "—".into();
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return format!("{mean:.2}");
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    format!("{mean:.2} ± {sd:.2}")
}

fn one(scenario: &Scenario, seed: u64, days: u32) -> Result<Outcome, String> {
    let log: SharedBackend = MemoryBackend::shared();
    let tenant = TenantId::parse("demo").map_err(|e| e.to_string())?;
    let options = Options {
        seed,
        days,
        tenant: tenant.clone(),
    };
    let summary = run(scenario, &log, &options, &mut |_| {}).map_err(|e| e.to_string())?;
    if !summary.refused.is_empty() {
        return Err(format!("refused: {:?}", summary.refusal_samples));
    }
    let reporting =
        jiff::tz::TimeZone::get(&scenario.brand.reporting_time_zone).map_err(|e| e.to_string())?;
    let currency = flowline_core::money::Currency::parse(&scenario.brand.currency)
        .map_err(|e| format!("{e:?}"))?;
    let mut fold = Fold::new(FoldSettings {
        reporting: reporting.clone(),
        base_currency: currency,
        rules: Rules::standard(),
        emissions: EmissionSettings::standard(),
        keep_settled_orders: false,
    });
    let store = log.open_reader().map_err(|e| e.to_string())?;
    let mut after = 0;
    loop {
        let page = store
            .read_tenant(&tenant, after, 10_000)
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in page {
            let event = serde_json::from_str(&stored.payload).map_err(|e| e.to_string())?;
            fold.apply(
                &event,
                EventTime {
                    at: stored.business_time,
                },
            );
        }
    }
    drop(store);
    drop(log);
    let start = scenario.brand.start;
    let end = start
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .map_err(|e| e.to_string())?;
    let as_of = end
        .to_zoned(reporting)
        .map_err(|e| e.to_string())?
        .timestamp();
    let values = |range: Range| {
        let card = scorecard(&fold, range, &Slice::All, as_of);
        METRICS
            .iter()
            .map(|id| card.value(id).and_then(|v| v.value))
            .collect::<Vec<_>>()
    };
    let year = values(Range::of_dates(start, end));
    let december_start = Date::new(start.year(), 12, 1).map_err(|e| e.to_string())?;
    let december_end = Date::new(start.year() + 1, 1, 1).map_err(|e| e.to_string())?;
    let december = if end >= december_end {
        values(Range::of_dates(december_start, december_end))
    } else {
        vec![None; METRICS.len()]
    };
    Ok(Outcome {
        summary,
        year,
        december,
    })
}
