//! `flowline bench fairness`: how much one tenant's flood moves another tenant's latency.
//!
//! Starts the real server on loopback with a fresh, fully durable log and two tenants, `calm`
//! and `flood`, each with a center and items in ample stock. Then:
//! 1. **alone**: `calm` places and allocates `--orders` orders one after another, at
//!    `--calm-rate` a second (an integrator within its budget);
//! 2. **contended**: `flood` runs `--flooders` clients sending orders as fast as they are
//!    answered and `--reporters` clients asking for ten-year scorecards back to back, while
//!    `calm` places the same number of orders again.
//!
//! Both phases run on a server with the default limits and again on one with no rate limits,
//! and print `calm`'s p50/p99, the ratio of contended to alone, and what `flood` was answered
//! (201s, 429s, 503s). The clients share the server's process and cores, so the figures
//! include the cost of making the flood: a conservative measure.

use crate::backend;
use crate::bench_api::{Lcg, order, setup};
use flowline_core::id::TenantId;
use flowline_engine::EngineOptions;
use flowline_server::auth::{Role, issue_key};
use flowline_server::{ServeOptions, ServerLimits, start};
use flowline_store::TenantRecord;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `flowline bench fairness`.
#[derive(Debug, clap::Args)]
pub struct FairnessArgs {
    /// Orders the calm tenant places in each phase.
    #[arg(long, default_value_t = 500)]
    orders: u64,
    /// Clients of the flooding tenant sending orders.
    #[arg(long, default_value_t = 32)]
    flooders: usize,
    /// Clients of the flooding tenant asking for ten-year scorecards.
    #[arg(long, default_value_t = 4)]
    reporters: usize,
    /// Orders a second the calm tenant sends (within its rate limit).
    #[arg(long, default_value_t = 50)]
    calm_rate: u32,
}

/// Runs the benchmark and prints its figures.
pub fn fairness(args: &FairnessArgs) -> anyhow::Result<()> {
    outln!(
        "flowline bench fairness: {} cores, {} calm orders per phase, {} flooding clients, {} reporting clients (synchronous=FULL)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.orders,
        args.flooders,
        args.reporters
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    outln!(
        "limits            calm alone p50/p99 ms   calm contended p50/p99 ms   p99 ratio   flood 201 / 429 / 503 / other   scorecards"
    );
    for (name, limits) in [
        ("default", ServerLimits::default()),
        (
            "no rate limits",
            ServerLimits {
                rate: flowline_server::rate::RateLimits::UNLIMITED,
                ..ServerLimits::default()
            },
        ),
    ] {
        let directory = tempfile::tempdir()?;
        let db = directory.path().join("bench-fairness.db");
        runtime.block_on(run(args, &db, name, limits))?;
    }
    outln!(
        "peak RSS {:.0} MiB (server and clients)",
        crate::bench::peak_rss_mib()
    );
    Ok(())
}

/// Registers a tenant and issues an admin key for it.
fn tenant_key(db: &Path, name: &str) -> anyhow::Result<String> {
    let tenant = TenantId::parse(name)?;
    let mut store = backend::open(db)?;
    store.register_tenant(&TenantRecord {
        tenant: tenant.clone(),
        name: name.into(),
        created_at: jiff::Timestamp::now(),
    })?;
    Ok(issue_key(
        store.as_mut(),
        &tenant,
        Role::Admin,
        "bench",
        jiff::Timestamp::now(),
    )?
    .plaintext)
}

/// What the flooding tenant was answered.
#[derive(Default)]
struct Answers {
    created: AtomicU64,
    limited: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
    scorecards: AtomicU64,
}

impl Answers {
    fn count(&self, status: u16) {
        let counter = match status {
            200 | 201 => &self.created,
            429 => &self.limited,
            503 => &self.busy,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

async fn run(
    args: &FairnessArgs,
    db: &Path,
    name: &str,
    limits: ServerLimits,
) -> anyhow::Result<()> {
    let options = ServeOptions {
        primary: None,
        cors: Default::default(),
        bind: "127.0.0.1:0".parse()?,
        log: backend::durable(db)?,
        limits,
    };
    let running = start(&options, EngineOptions::default()).await?;
    let base = format!("http://{}", running.address);
    let (calm, flood) = (tenant_key(db, "calm")?, tenant_key(db, "flood")?);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    // Setting up 50 items takes a few dozen requests a tenant, within any budget.
    setup(&client, &base, &calm, 50).await?;
    setup(&client, &base, &flood, 50).await?;

    let pace = Duration::from_secs_f64(1.0 / f64::from(args.calm_rate.max(1)));
    let alone = calm_orders(&client, &base, &calm, args.orders, 0, pace).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Answers::default());
    let mut tasks = Vec::new();
    let next = Arc::new(AtomicU64::new(0));
    for number in 0..args.flooders {
        let (client, base, key, stop, answers, next) = (
            client.clone(),
            base.clone(),
            flood.clone(),
            stop.clone(),
            answers.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(0xF100D ^ number as u64);
            while !stop.load(Ordering::Relaxed) {
                let body = order(next.fetch_add(1, Ordering::Relaxed), 50, &mut rng);
                let sent = client
                    .post(format!("{base}/v1/sales-orders"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        answers.count(response.status().as_u16());
                        let _ = response.bytes().await;
                    }
                    Err(_) => answers.count(0),
                }
            }
        }));
    }
    let today = jiff::Zoned::now().date();
    let from = today
        .checked_sub(jiff::Span::new().days(3_650))
        .unwrap_or(today);
    let to = today.tomorrow().unwrap_or(today);
    for _ in 0..args.reporters {
        let (client, base, key, stop, answers) = (
            client.clone(),
            base.clone(),
            flood.clone(),
            stop.clone(),
            answers.clone(),
        );
        let url = format!("{base}/v1/scorecard?from={from}&to={to}&by=sku");
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(response) = client.get(&url).bearer_auth(&key).send().await {
                    if response.status().is_success() {
                        answers.scorecards.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = response.bytes().await;
                }
            }
        }));
    }
    // Let the flood build up before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let contended = calm_orders(&client, &base, &calm, args.orders, args.orders, pace).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let contended = contended?;
    running.shutdown().await?;
    let (alone_50, alone_99) = (percentile(&alone, 0.50), percentile(&alone, 0.99));
    let (busy_50, busy_99) = (percentile(&contended, 0.50), percentile(&contended, 0.99));
    outln!(
        "{name:<16} {alone_50:>10.2} / {alone_99:<10.2} {busy_50:>14.2} / {busy_99:<12.2} {:>9.2}   {:>7} / {} / {} / {}   {:>10}",
        busy_99 / alone_99.max(f64::MIN_POSITIVE),
        answers.created.load(Ordering::Relaxed),
        answers.limited.load(Ordering::Relaxed),
        answers.busy.load(Ordering::Relaxed),
        answers.other.load(Ordering::Relaxed),
        answers.scorecards.load(Ordering::Relaxed),
    );
    Ok(())
}

/// Places `count` orders for the calm tenant one after another; their latencies.
async fn calm_orders(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    count: u64,
    first: u64,
    pace: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let mut rng = Lcg(0xCA1);
    let mut latencies = Vec::with_capacity(count as usize);
    let mut ticks = tokio::time::interval(pace);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for number in first..first + count {
        ticks.tick().await;
        let body = order(number, 50, &mut rng);
        let sent = Instant::now();
        let response = client
            .post(format!("{base}/v1/sales-orders"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        latencies.push(sent.elapsed());
        anyhow::ensure!(
            status.as_u16() == 201,
            "calm order refused: {status} {text}"
        );
    }
    latencies.sort();
    Ok(latencies)
}

/// The `p` percentile of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default().as_secs_f64() * 1e3
}
