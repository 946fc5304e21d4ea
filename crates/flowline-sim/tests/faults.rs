//! The simulator with seeded faults in the engine's appends (RELIABILITY.md R8): I/O errors
//! before the transaction, transactions that commit but lose their acknowledgement, and crashes
//! after which the engine is opened again from the log. Every command carries an idempotency
//! key and is retried with it until answered. For every seed the test checks that
//!
//! 1. every ledger invariant holds on the log (`flowline_engine::check`);
//! 2. every acknowledged command's events are in the log exactly once, and every event in the
//!    log belongs to exactly one acknowledged command; an unknown outcome that had in fact
//!    committed is answered from the stored outcome, one that had not is applied by the retry;
//! 3. the writer failed stop and recovered after every fault (and the run saw faults);
//! 4. the scorecard of a fold fed day by day along the run equals the one of a cold fold of the
//!    finished log;
//! 5. the same seed gives the same log byte for byte, and the log is the one a run without
//!    faults writes (faults leave no trace).
//!
//! 20 seeds × 30 days of a brand at 8 orders a day by default; `FLOWLINE_SOAK=1` runs 1,000
//! seeds × 365 days; `FLOWLINE_SIM_SEED=n` runs seed n alone (to replay a failure);
//! `FLOWLINE_SIM_SEEDS` and `FLOWLINE_SIM_DAYS` override the counts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::Event;
use flowline_core::id::TenantId;
use flowline_engine::check::check;
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::order::Rules;
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::scorecard;
use flowline_sim::faults::{FaultKind, FaultRates, FaultReport, Faults};
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, Summary, run, run_with_faults};
use flowline_store::SharedBackend;
use flowline_store::{EventStore, StoredEvent};
use flowline_store_sqlite::{OpenOptions, SqliteBackend, SqliteStore};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// A log file at `path` whose commits are not flushed one by one: a simulated log can be made
/// again from its seed.
fn sqlite(path: &std::path::Path) -> SharedBackend {
    SqliteBackend::shared(path, OpenOptions::relaxed()).unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("demo").unwrap()
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}

/// The fault stream's seed: a different stream from the model's for the same run seed.
fn fault_seed(seed: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xFA17_5EED
}

/// Every event of the tenant after `after`, in log order.
fn events_after(store: &SqliteStore, after: u64) -> Vec<StoredEvent> {
    let mut all = Vec::new();
    let mut after = after;
    loop {
        let page = store.read_tenant(&tenant(), after, 10_000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        all.extend(page);
    }
    all
}

fn new_fold(zone: &TimeZone) -> Fold {
    Fold::new(FoldSettings {
        reporting: zone.clone(),
        base_currency: flowline_core::money::Currency::parse("USD").unwrap(),
        rules: Rules::standard(),
        emissions: EmissionSettings::standard(),
        keep_settled_orders: false,
    })
}

fn feed(fold: &mut Fold, events: &[StoredEvent]) {
    for stored in events {
        let event =
            Event::from_json(&stored.event_type, stored.schema_version, &stored.payload).unwrap();
        fold.apply(
            &event,
            EventTime {
                at: stored.business_time,
            },
        );
    }
}

/// The scorecard over the whole run and over each of its weeks, as JSON (so two scorecards
/// compare byte for byte, ratios as their exact numerators and denominators).
fn scorecards(fold: &Fold, zone: &TimeZone, from: Date, days: u32) -> String {
    let to = from
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .unwrap();
    let as_of = to.to_zoned(zone.clone()).unwrap().timestamp();
    let mut ranges = vec![Range::of_dates(from, to)];
    let mut week = from;
    while week < to {
        let next = week.checked_add(jiff::Span::new().days(7)).unwrap().min(to);
        ranges.push(Range::of_dates(week, next));
        week = next;
    }
    ranges
        .into_iter()
        .map(|range| serde_json::to_string(&scorecard(fold, range, &Slice::All, as_of)).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What one seed's run with faults gave, after its checks.
struct Checked {
    summary: Summary,
    report: FaultReport,
    invariant_findings: usize,
}

/// Runs `seed` with faults into `path`, feeding a fold day by day, and checks 1 to 4.
fn run_and_check(scenario: &Scenario, path: &Path, seed: u64, days: u32) -> Checked {
    let options = Options {
        seed,
        days,
        tenant: tenant(),
    };
    let zone = TimeZone::get(&scenario.brand.reporting_time_zone).unwrap();
    let faults = Arc::new(Faults::new(fault_seed(seed), FaultRates::standard()));
    // The fold built along the way: after every simulated day it reads what the log gained.
    let mut incremental = new_fold(&zone);
    let mut fed = 0;
    let summary = run_with_faults(
        scenario,
        &sqlite(path),
        &options,
        faults.clone(),
        &mut |_| {
            let store = SqliteStore::open_read_only(path).unwrap();
            let new = events_after(&store, fed);
            if let Some(last) = new.last() {
                fed = last.seq;
            }
            feed(&mut incremental, &new);
        },
    )
    .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
    let report = faults.report();
    assert!(
        summary.refused.is_empty(),
        "seed {seed}: the engine refused commands: {:?}",
        summary.refusal_samples
    );

    // 1. Every ledger invariant holds on the log.
    let store = SqliteStore::open_read_only(path).unwrap();
    let checked = check(&store).unwrap();
    assert!(
        checked.is_clean(),
        "seed {seed}: {}",
        checked
            .findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );

    // 2. Exactly once. The client's record of every answer against the log.
    let log = events_after(&store, 0);
    assert_eq!(log.len() as u64, summary.events, "seed {seed}");
    assert_eq!(
        report.acknowledged.len() as u64,
        summary.commands,
        "seed {seed}: every command sent has an answer"
    );
    let by_seq: BTreeMap<u64, &StoredEvent> = log.iter().map(|e| (e.seq, e)).collect();
    let mut claimed: BTreeMap<u64, &str> = BTreeMap::new();
    for answer in &report.acknowledged {
        for recorded in &answer.events {
            let stored = by_seq.get(&recorded.seq).unwrap_or_else(|| {
                panic!(
                    "seed {seed}: `{}` was acknowledged with event {}, which is not in the log",
                    answer.key, recorded.seq
                )
            });
            assert_eq!(
                (&stored.stream, &stored.event_type),
                (&recorded.stream, &recorded.event_type),
                "seed {seed}: event {} is not the one `{}` was told of",
                recorded.seq,
                answer.key
            );
            if let Some(other) = claimed.insert(recorded.seq, &answer.key) {
                panic!(
                    "seed {seed}: event {} was acknowledged to `{other}` and `{}`",
                    recorded.seq, answer.key
                );
            }
        }
        // A committed attempt's retry must get the stored outcome (a second application would
        // be a duplicate); an attempt that wrote nothing must be applied by the retry.
        assert_eq!(
            answer.replayed, answer.committed_before,
            "seed {seed}: `{}` after {} unavailable answers (committed before: {})",
            answer.key, answer.unavailable, answer.committed_before
        );
    }
    let orphans: Vec<u64> = by_seq
        .keys()
        .filter(|seq| !claimed.contains_key(seq))
        .copied()
        .collect();
    assert!(
        orphans.is_empty(),
        "seed {seed}: {} events in the log belong to no acknowledged command (first {:?})",
        orphans.len(),
        orphans.first()
    );

    // 3. Fail-stop and recovery: every fault made the writer rebuild its state from the log
    // once (a crash too: the writer being shut down rebuilds before it stops), and every crash
    // reopened the engine. Nothing else answered "unavailable".
    let crashes = report
        .injected
        .get(&FaultKind::CrashBeforeCommit)
        .copied()
        .unwrap_or(0)
        + report
            .injected
            .get(&FaultKind::CrashAfterCommit)
            .copied()
            .unwrap_or(0);
    assert_eq!(report.recoveries, report.total_injected(), "seed {seed}");
    assert_eq!(report.reopens, crashes, "seed {seed}");
    assert_eq!(report.unexplained_unavailable, 0, "seed {seed}");
    let unavailable: u64 = report
        .acknowledged
        .iter()
        .map(|a| u64::from(a.unavailable))
        .sum();
    assert_eq!(unavailable, report.total_injected(), "seed {seed}");

    // 4. The fold fed along the way (plus what the last day added) equals a cold fold.
    feed(&mut incremental, &events_after(&store, fed));
    let mut cold = new_fold(&zone);
    feed(&mut cold, &log);
    let start = scenario.brand.start;
    assert_eq!(
        scorecards(&incremental, &zone, start, days),
        scorecards(&cold, &zone, start, days),
        "seed {seed}: the incremental scorecard differs from the cold one"
    );
    Checked {
        summary,
        report,
        invariant_findings: checked.findings.len(),
    }
}

const ORDERS_PER_DAY: f64 = 8.0;

/// A small brand, so that 20 seeds × 30 days stay within a few minutes on two cores.
fn small() -> Scenario {
    Scenario::default_brand().scaled(ORDERS_PER_DAY)
}

#[test]
fn faults_in_the_log_lose_nothing_duplicate_nothing_and_leave_no_trace() {
    let soak = std::env::var("FLOWLINE_SOAK").is_ok_and(|v| v == "1");
    let (default_seeds, default_days) = if soak { (1_000, 365) } else { (20, 30) };
    let seeds: Vec<u64> = match env_number("FLOWLINE_SIM_SEED") {
        Some(seed) => vec![seed],
        None => (1..=env_number("FLOWLINE_SIM_SEEDS").unwrap_or(default_seeds)).collect(),
    };
    let days = env_number("FLOWLINE_SIM_DAYS")
        .and_then(|d| u32::try_from(d).ok())
        .unwrap_or(default_days);
    let scenario = small();
    let started = Instant::now();
    let mut commands = 0;
    let mut events = 0;
    let mut appends = 0;
    let mut injected: BTreeMap<FaultKind, u64> = BTreeMap::new();
    let mut recoveries = 0;
    let mut reopens = 0;
    let mut unknown = 0;
    let mut unknown_committed = 0;
    let mut invariant_findings = 0;
    let mut hashes = BTreeSet::new();
    for &seed in &seeds {
        let directory = tempfile::tempdir().unwrap();
        let timer = Instant::now();
        let first = run_and_check(&scenario, &directory.path().join("a.db"), seed, days);
        let faulty_wall = timer.elapsed();
        // 5. The same seed without faults (commands pipelined, no keys, other batches) gives the
        // same log, byte for byte: the faults left no trace and the run depends on its seed
        // alone.
        let timer = Instant::now();
        let options = Options {
            seed,
            days,
            tenant: tenant(),
        };
        let clean = run(
            &scenario,
            &flowline_store_memory::MemoryBackend::shared(),
            &options,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(first.summary.log_hash, clean.log_hash, "seed {seed}");
        let clean_wall = timer.elapsed();
        // ... and the first seed again with the same faults gives the same log and the same
        // faults at the same commands.
        if seed == seeds[0] {
            let again = run_and_check(&scenario, &directory.path().join("c.db"), seed, days);
            assert_eq!(
                first.summary.log_hash, again.summary.log_hash,
                "seed {seed}"
            );
            assert_eq!(first.report, again.report, "seed {seed}: the faults differ");
        }
        eprintln!(
            "seed {seed}: {} commands, {} faults, log {}; with faults and checks {:.1} s, \
             without faults {:.1} s",
            first.summary.commands,
            first.report.total_injected(),
            &first.summary.log_hash[..16],
            faulty_wall.as_secs_f64(),
            clean_wall.as_secs_f64()
        );
        hashes.insert(first.summary.log_hash.clone());

        let report = &first.report;
        commands += first.summary.commands;
        events += first.summary.events;
        appends += report.appends;
        for (kind, count) in &report.injected {
            *injected.entry(*kind).or_default() += count;
        }
        recoveries += report.recoveries;
        reopens += report.reopens;
        unknown += report.unknown_outcomes();
        unknown_committed += report
            .acknowledged
            .iter()
            .filter(|a| a.committed_before)
            .count();
        invariant_findings += first.invariant_findings;
    }
    let by_kind: Vec<String> = injected
        .iter()
        .map(|(kind, count)| format!("{} {count}", kind.name()))
        .collect();
    eprintln!(
        "simulation with faults: {} seeds × {days} days, {commands} commands, {events} events, \
         {appends} appends; faults injected: {}; writer recoveries {recoveries}, engine reopens \
         {reopens}; unknown outcomes {unknown} ({unknown_committed} had committed and were \
         answered from the stored outcome, {} were applied by the retry); invariant findings \
         {invariant_findings}; {} distinct logs; every seed run with and without faults, the first twice with faults, {:.1} s",
        seeds.len(),
        by_kind.join(", "),
        unknown - unknown_committed,
        hashes.len(),
        started.elapsed().as_secs_f64()
    );
    // 3. The run must have seen every kind of fault, and the writer recover from them.
    for kind in [
        FaultKind::IoError,
        FaultKind::LostAcknowledgement,
        FaultKind::CrashBeforeCommit,
        FaultKind::CrashAfterCommit,
    ] {
        if seeds.len() >= 20 {
            assert!(injected.get(&kind).copied().unwrap_or(0) > 0, "no {kind:?}");
        }
    }
    assert!(recoveries > 0 && unknown_committed > 0);
    // Different seeds, different brands' months.
    assert_eq!(hashes.len(), seeds.len());
}
