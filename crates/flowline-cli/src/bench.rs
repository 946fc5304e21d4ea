//! `flowline bench ledger`.
//!
//! In memory: a generator state decides a stream of order life cycles; the events are applied, in
//! chunks, to a second state, and the apply time of each chunk gives events/s — for the first
//! chunk (a nearly empty log) and the last (a log of `--events`).
//!
//! Durable: the real engine on a SQLite file with `synchronous=FULL`. `--clients` threads each
//! submit order life cycles and wait for each answer, so commands queue up and the writer
//! group-commits them. Measured once on a fresh log, then the log is grown to `--log-events`
//! with the same workload appended straight to the store, the engine is reopened (replaying the
//! log, which is timed too) and the same load is measured again.

use crate::backend;
use flowline_core::id::{LocationId, Sku, TenantId};
use flowline_core::retention::{document_count, evict_settled};
use flowline_core::{Command, Context, Event, State, apply, decide};
use flowline_engine::workload::{self, Lcg, OrderScript};
use flowline_engine::{Engine, EngineOptions, Outcome, Submission, Ticket};
use flowline_store::{AppendRequest, BalanceRow, CommandRecord, NewEvent, SharedBackend, Store};
use jiff::{SignedDuration, Timestamp};
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `flowline bench ledger`.
#[derive(Debug, clap::Args)]
pub struct LedgerArgs {
    /// Events applied in memory.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Length of the log for the second durable measurement.
    #[arg(long, default_value_t = 10_000_000)]
    log_events: u64,
    /// Concurrent clients submitting to the engine.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Durable events to append in each measurement.
    #[arg(long, default_value_t = 400_000)]
    durable_events: u64,
    /// Commands each client keeps in flight (queued without waiting for their answers).
    #[arg(long, default_value_t = 256)]
    pipeline: usize,
    /// Distinct items.
    #[arg(long, default_value_t = 1_000)]
    items: usize,
    /// Where to put the log (a temporary directory by default, removed afterwards).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
}

const CENTER: &str = "FC-CENTRAL";
const UNITS_PER_ITEM: i64 = 1_000_000_000;

fn center() -> LocationId {
    match LocationId::parse(CENTER) {
        Ok(id) => id,
        Err(_) => unreachable!(),
    }
}

/// Runs the benchmark and prints its figures.
pub fn ledger(args: &LedgerArgs) -> anyhow::Result<()> {
    outln!(
        "flowline bench ledger: {} cores, items {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.items
    );
    in_memory(args)?;
    durable(args)?;
    outln!(
        "peak RSS {:.0} MiB (anonymous and file-backed together); now {:.0} MiB anonymous + {:.0} MiB of the mapped log",
        peak_rss_mib(),
        rss_mib(),
        file_mib()
    );
    Ok(())
}

/// Clock for generated business times: one second per command from a fixed start.
struct Ticker(Timestamp, i64);

impl Ticker {
    fn new() -> Self {
        Self(
            Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH),
            0,
        )
    }
    fn next(&mut self) -> Context {
        self.1 += 1;
        Context {
            at: self.0 + SignedDuration::from_secs(self.1),
        }
    }
}

/// Decides and applies a command on `state`, returning its events.
fn step(state: &mut State, command: &Command, ticker: &mut Ticker) -> anyhow::Result<Vec<Event>> {
    let events = decide(state, command, &ticker.next())
        .map_err(|error| anyhow::anyhow!("workload command rejected: {error}"))?;
    for event in &events {
        apply(state, event);
    }
    Ok(events)
}

/// Generates the events of orders until at least `count` events were produced.
fn generate(
    state: &mut State,
    ticker: &mut Ticker,
    rng: &mut Lcg,
    next_order: &mut u64,
    items: usize,
    count: u64,
) -> anyhow::Result<Vec<Event>> {
    let mut events = Vec::with_capacity(count as usize + 16);
    let center = center();
    while (events.len() as u64) < count {
        *next_order += 1;
        let script = OrderScript::random("SO", *next_order, items, rng);
        events.extend(step(state, &script.place(), ticker)?);
        for command in script.fulfil(&center) {
            events.extend(step(state, &command, ticker)?);
        }
    }
    Ok(events)
}

fn setup_events(
    state: &mut State,
    ticker: &mut Ticker,
    items: usize,
) -> anyhow::Result<Vec<Event>> {
    let mut events = Vec::new();
    for command in workload::setup(items, UNITS_PER_ITEM) {
        events.extend(step(state, &command, ticker)?);
    }
    Ok(events)
}

/// The payloads of the events the durable run writes: the setup of `items` items, then orders
/// drawn from `seed` until at least `count` more events. The same arguments give the same texts.
#[cfg(test)]
pub(crate) fn sample_payloads(seed: u64, items: usize, count: u64) -> anyhow::Result<Vec<String>> {
    let mut state = State::default();
    let mut ticker = Ticker::new();
    let mut rng = Lcg::new(seed);
    let mut next_order = 0;
    let mut events = setup_events(&mut state, &mut ticker, items)?;
    events.extend(generate(
        &mut state,
        &mut ticker,
        &mut rng,
        &mut next_order,
        items,
        count,
    )?);
    Ok(events.iter().map(Event::to_json).collect())
}

fn in_memory(args: &LedgerArgs) -> anyhow::Result<()> {
    const CHUNK: u64 = 1_000_000;
    let mut generator = State::default();
    let mut measured = State::default();
    let mut ticker = Ticker::new();
    let mut rng = Lcg::new(42);
    let mut next_order = 0;
    for event in setup_events(&mut generator, &mut ticker, args.items)? {
        apply(&mut measured, &event);
    }
    let chunks = args.events.div_ceil(CHUNK).max(1);
    let mut applied: u64 = 0;
    outln!(
        "in memory: applying {} events in chunks of {CHUNK}",
        chunks * CHUNK
    );
    for chunk in 0..chunks {
        let started = Instant::now();
        let events = generate(
            &mut generator,
            &mut ticker,
            &mut rng,
            &mut next_order,
            args.items,
            CHUNK,
        )?;
        let decided = started.elapsed();
        let started = Instant::now();
        for event in &events {
            apply(&mut measured, event);
        }
        let elapsed = started.elapsed();
        applied += events.len() as u64;
        // As the engine does: settled documents leave memory (the ticker's business time less a
        // day is past every delivery of a closed order here, as no return policy is defined).
        let horizon =
            ticker.0 + SignedDuration::from_secs(ticker.1) - SignedDuration::from_hours(24);
        evict_settled(&mut generator, horizon);
        evict_settled(&mut measured, horizon);
        if chunk == 0 || chunk + 1 == chunks {
            outln!(
                "  events {:>10}..{:<10} apply {:>10.0} events/s   (decide+apply {:>9.0} events/s)   open documents {:>6}   anonymous RSS {:.0} MiB",
                applied - events.len() as u64,
                applied,
                events.len() as f64 / elapsed.as_secs_f64(),
                events.len() as f64 / decided.as_secs_f64(),
                document_count(&measured),
                rss_mib()
            );
        }
    }
    Ok(())
}

fn durable(args: &LedgerArgs) -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let path = args
        .db
        .clone()
        .unwrap_or_else(|| directory.path().join("bench.db"));
    let tenant = TenantId::parse("bench")?;
    outln!(
        "durable: {} (synchronous=FULL, WAL), {} clients",
        path.display(),
        args.clients
    );
    let mut ticker = Ticker::new();
    let mut rng = Lcg::new(7);
    let mut next_order = 0;
    {
        let engine = Engine::open(backend::durable(&path)?, EngineOptions::default())?;
        for command in workload::setup(args.items, UNITS_PER_ITEM) {
            let answer = engine.submit(&tenant, Submission::new(command))?;
            if let Outcome::Rejected { message, .. } = answer.outcome {
                anyhow::bail!("setup rejected: {message}");
            }
        }
        measure(&engine, &tenant, args, "log of a few events")?;
    }
    // Grow the log with the same workload, straight into the store.
    let mut store = backend::open(&path)?;
    let (mut generator, mut head) = flowline_engine::replay(store.as_ref(), &tenant)?;
    let started = Instant::now();
    let mut appended = head;
    while appended < args.log_events {
        let batch = generate(
            &mut generator,
            &mut ticker,
            &mut rng,
            &mut next_order,
            args.items,
            20_000,
        )?;
        head = append_events(store.as_mut(), &tenant, &generator, &batch, head)?;
        appended = head;
        let horizon =
            ticker.0 + SignedDuration::from_secs(ticker.1) - SignedDuration::from_hours(24);
        evict_settled(&mut generator, horizon);
    }
    outln!(
        "  grew the log to {appended} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(generator);
    let started = Instant::now();
    let engine = Engine::open(backend::durable(&path)?, EngineOptions::default())?;
    // The first query starts the writer, which replays the log.
    let orders = engine.query(&tenant, |state: &State| state.sales_orders.len())?;
    outln!(
        "  reopened: replayed {appended} events in {:.1} s; {orders} orders in memory (open work), RSS {:.0} MiB anonymous + {:.0} MiB of the mapped log",
        started.elapsed().as_secs_f64(),
        rss_mib(),
        file_mib()
    );
    measure(&engine, &tenant, args, &format!("log of {appended} events"))?;
    // Stopping saves a snapshot of the writer's state; the next start restores it and folds
    // only what follows it (nothing, here).
    drop(engine);
    let started = Instant::now();
    let engine = Engine::open(backend::durable(&path)?, EngineOptions::default())?;
    let orders = engine.query(&tenant, |state: &State| state.sales_orders.len())?;
    outln!(
        "  restarted: restored the writer from the snapshot it saved when it stopped, ready in {:.2} s; {orders} orders in memory, RSS {:.0} MiB anonymous",
        started.elapsed().as_secs_f64(),
        rss_mib()
    );
    Ok(())
}

fn append_events(
    store: &mut dyn Store,
    tenant: &TenantId,
    state: &State,
    events: &[Event],
    head: u64,
) -> anyhow::Result<u64> {
    let at = Timestamp::from_second(1_735_689_600)?;
    let mut touched: HashSet<(Sku, LocationId)> = HashSet::new();
    let new_events: Vec<NewEvent> = events
        .iter()
        .map(|event| {
            if let Some(effects) = event.effects() {
                touched.extend(effects.moves.iter().flat_map(|m| {
                    [
                        (m.sku.clone(), m.from.clone()),
                        (m.sku.clone(), m.to.clone()),
                    ]
                }));
                touched.extend(
                    effects
                        .reservations
                        .iter()
                        .map(|r| (r.sku.clone(), r.location.clone())),
                );
            }
            NewEvent {
                stream: event.stream(),
                event_type: event.type_name().into(),
                schema_version: Event::SCHEMA_VERSION,
                business_time: at,
                payload: event.to_json(),
            }
        })
        .collect();
    let count = new_events.len() as u64;
    let balances = touched
        .into_iter()
        .map(|(sku, location)| {
            let balance = state.stock.balance(&sku, &location);
            BalanceRow {
                item: sku.to_string(),
                location: location.to_string(),
                on_hand: balance.on_hand,
                reserved: balance.reserved,
                value_minor: balance.value_minor,
            }
        })
        .collect();
    store.append(&AppendRequest {
        tenant: tenant.clone(),
        expected_seq: head,
        recorded_at: at,
        commands: vec![CommandRecord {
            events: new_events,
            expected: Vec::new(),
            idempotency: None,
        }],
        balances,
    })?;
    Ok(head + count)
}

fn measure(
    engine: &Engine,
    tenant: &TenantId,
    args: &LedgerArgs,
    label: &str,
) -> anyhow::Result<(u64, Duration)> {
    let events = Arc::new(AtomicU64::new(0));
    let target = args.durable_events;
    let started = Instant::now();
    let run = format!(
        "R{}",
        started.elapsed().as_nanos() ^ u128::from(std::process::id())
    );
    let latencies: Vec<Vec<Duration>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.clients)
            .map(|client| {
                let events = Arc::clone(&events);
                let run = run.clone();
                scope.spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let mut rng = Lcg::new(client as u64 + 1);
                    let mut latencies = Vec::new();
                    let mut in_flight: VecDeque<(Instant, Ticket)> = VecDeque::new();
                    let mut number = 0;
                    let settle = |(sent, ticket): (Instant, Ticket),
                                  latencies: &mut Vec<Duration>|
                     -> anyhow::Result<()> {
                        let answer = ticket.wait()?;
                        latencies.push(sent.elapsed());
                        match answer.outcome {
                            Outcome::Applied {
                                events: recorded, ..
                            } => {
                                events.fetch_add(recorded.len() as u64, Ordering::Relaxed);
                                Ok(())
                            }
                            Outcome::Rejected { message, .. } => {
                                anyhow::bail!("rejected: {message}")
                            }
                        }
                    };
                    while events.load(Ordering::Relaxed) < target {
                        number += 1;
                        let script = OrderScript::random(
                            &format!("{run}-{client}"),
                            number,
                            args.items,
                            &mut rng,
                        );
                        let mut commands = vec![script.place()];
                        commands.extend(script.fulfil(&center()));
                        // A tenant's commands apply in queue order, so the whole life cycle of
                        // an order can be queued before any answer comes back.
                        for command in commands {
                            if in_flight.len() >= args.pipeline.max(1)
                                && let Some(oldest) = in_flight.pop_front()
                            {
                                settle(oldest, &mut latencies)?;
                            }
                            in_flight.push_back((
                                Instant::now(),
                                engine.send(tenant, Submission::new(command))?,
                            ));
                        }
                    }
                    while let Some(oldest) = in_flight.pop_front() {
                        settle(oldest, &mut latencies)?;
                    }
                    Ok(latencies)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("client panicked")))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let elapsed = started.elapsed();
    let mut all: Vec<Duration> = latencies.into_iter().flatten().collect();
    all.sort();
    let percentile = |p: f64| {
        all.get(((all.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    outln!(
        "  {label}: {} events in {:.2} s = {:.0} durable events/s; command latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        events.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        events.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        percentile(0.50).as_secs_f64() * 1e3,
        percentile(0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    Ok((events.load(Ordering::Relaxed), elapsed))
}

/// A memory field of a process's `/proc/<process>/status` (`RssAnon:`, `VmHWM:`), MiB; 0 when
/// it cannot be read. `process` is a pid or `self`.
pub(crate) fn status_mib(process: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The process's own resident memory (anonymous pages), MiB. Pages of the log file mapped by
/// SQLite are page cache and are reported separately by [`file_mib`].
pub(crate) fn rss_mib() -> f64 {
    status_mib("self", "RssAnon:")
}

/// Resident pages of mapped files (the log), MiB.
pub(crate) fn file_mib() -> f64 {
    status_mib("self", "RssFile:")
}

pub(crate) fn peak_rss_mib() -> f64 {
    status_mib("self", "VmHWM:")
}

/// One thread's times, from Linux's `/proc/self/task/<id>/schedstat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThreadTime {
    /// The thread's id: unique among the process's live threads.
    pub id: u64,
    /// Its name (at most 15 bytes).
    pub name: String,
    /// Nanoseconds it has run on a CPU.
    pub running: u64,
    /// Nanoseconds it has waited, runnable, for a CPU.
    pub waiting: u64,
}

/// The times of each of this process's live threads. Threads that have ended are not counted;
/// elsewhere than on Linux nothing is.
pub(crate) fn thread_times() -> Vec<ThreadTime> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let id = task.file_name().to_str()?.parse().ok()?;
            let path = task.path();
            let name = std::fs::read_to_string(path.join("comm")).ok()?;
            let schedstat = std::fs::read_to_string(path.join("schedstat")).ok()?;
            let mut fields = schedstat.split_whitespace().map(str::parse::<u64>);
            let (Some(Ok(running)), Some(Ok(waiting))) = (fields.next(), fields.next()) else {
                return None;
            };
            Some(ThreadTime {
                id,
                name: name.trim_end().to_string(),
                running,
                waiting,
            })
        })
        .collect()
}

/// `flowline bench backends`.
#[derive(Debug, clap::Args)]
pub struct BackendsArgs {
    /// Durable events to append in each measurement (split among the tenants).
    #[arg(long, default_value_t = 200_000)]
    durable_events: u64,
    /// Tenants written at once in the second measurement.
    #[arg(long, default_value_t = 4)]
    tenants: usize,
    /// Clients submitting to the engine, spread over the tenants.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Commands each client keeps in flight.
    #[arg(long, default_value_t = 256)]
    pipeline: usize,
    /// Distinct items.
    #[arg(long, default_value_t = 1_000)]
    items: usize,
}

/// Durable events per second through the engine on the embedded SQLite file and on the
/// PostgreSQL database of `--database-url`, in one run: one tenant, then several written at
/// once (one writer each). The same workload as `bench ledger`'s durable part.
pub fn backends(args: &BackendsArgs) -> anyhow::Result<()> {
    let Some(url) = backend::database_url() else {
        anyhow::bail!(
            "bench backends compares SQLite with PostgreSQL: give the database with \
             --database-url or FLOWLINE_DATABASE_URL"
        );
    };
    outln!(
        "flowline bench backends: {} cores, {} clients, pipeline {}, items {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.clients,
        args.pipeline,
        args.items
    );
    let directory = tempfile::tempdir()?;
    let run = std::process::id();
    let logs: [(&str, SharedBackend); 2] = [
        (
            "SQLite (WAL, synchronous=FULL)",
            backend::sqlite_durable(&directory.path().join("bench.db"))?,
        ),
        ("PostgreSQL", backend::postgres_shared(&url)?),
    ];
    for (name, log) in logs {
        outln!("{name}: {}", log.describe());
        let mut counts = vec![1, args.tenants.max(1)];
        counts.dedup();
        for tenants in counts {
            let engine = Engine::open(log.clone(), EngineOptions::default())?;
            let ids: Vec<TenantId> = (0..tenants)
                .map(|n| TenantId::parse(&format!("bench-{run}-{tenants}-{n}")))
                .collect::<Result<_, _>>()?;
            for tenant in &ids {
                for command in workload::setup(args.items, UNITS_PER_ITEM) {
                    let answer = engine.submit(tenant, Submission::new(command))?;
                    if let Outcome::Rejected { message, .. } = answer.outcome {
                        anyhow::bail!("setup rejected: {message}");
                    }
                }
            }
            let each = LedgerArgs {
                events: 0,
                log_events: 0,
                clients: (args.clients / tenants).max(1),
                durable_events: args.durable_events / tenants as u64,
                pipeline: args.pipeline,
                items: args.items,
                db: None,
            };
            let started = Instant::now();
            let results = std::thread::scope(|scope| {
                let handles: Vec<_> = ids
                    .iter()
                    .map(|tenant| {
                        let engine = &engine;
                        let each = &each;
                        scope.spawn(move || {
                            measure(engine, tenant, each, &format!("tenant {tenant}"))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| {
                        handle
                            .join()
                            .unwrap_or_else(|_| Err(anyhow::anyhow!("a tenant's clients panicked")))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            })?;
            let wall = started.elapsed();
            let events: u64 = results.iter().map(|(events, _)| events).sum();
            outln!(
                "  {name}, {tenants} tenant(s) at once: {events} events in {:.2} s = {:.0} durable events/s",
                wall.as_secs_f64(),
                events as f64 / wall.as_secs_f64()
            );
        }
    }
    outln!(
        "peak RSS {:.0} MiB (this process: engine and clients)",
        peak_rss_mib()
    );
    Ok(())
}
