//! `flowline bench api`: orders placed and allocated per second over HTTP.
//!
//! Starts the real server on a loopback port with a fresh, fully durable log in a temporary
//! directory, sets up one tenant (a center, `--items` items with ample stock) through the API,
//! then for each concurrency level runs that many clients, each sending `POST
//! /v1/sales-orders` with `"allocate": "reject"` (1 to 3 lines) and waiting for the answer
//! before sending the next, until `--orders` orders are placed. Prints orders/s and latency
//! percentiles per level, then peak memory.
//!
//! The clients run in the same process as the server, on the same cores, so the figures include
//! the cost of making the requests: a conservative measure of the server.

use crate::backend;
use flowline_core::id::TenantId;
use flowline_engine::EngineOptions;
use flowline_server::auth::{Role, issue_key};
use flowline_server::{ServeOptions, start};
use flowline_store::TenantRecord;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `flowline bench api`.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Orders placed at each concurrency level.
    #[arg(long, default_value_t = 20_000)]
    orders: u64,
    /// Concurrency levels (clients), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Distinct items ordered.
    #[arg(long, default_value_t = 200)]
    items: usize,
    /// Where to put the log (a temporary directory by default, removed afterwards).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
}

/// A deterministic generator (Knuth's MMIX constants).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// Runs the benchmark and prints its figures.
pub fn api(args: &ApiArgs) -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| directory.path().join("bench-api.db"));
    outln!(
        "flowline bench api: {} cores, {} orders per level, {} items, log {} (synchronous=FULL)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.orders,
        args.items,
        db.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args, db))
}

async fn run(args: &ApiArgs, db: PathBuf) -> anyhow::Result<()> {
    let options = ServeOptions {
        cors: Default::default(),
        limits: flowline_server::ServerLimits {
            rate: flowline_server::rate::RateLimits::UNLIMITED,
            ..Default::default()
        },
        bind: "127.0.0.1:0".parse()?,
        log: backend::durable(&db)?,
    };
    let running = start(&options, EngineOptions::default()).await?;
    let base = format!("http://{}", running.address);
    let tenant = TenantId::parse("bench")?;
    let key = {
        let mut store = backend::open(&db)?;
        store.register_tenant(&TenantRecord {
            tenant: tenant.clone(),
            name: "bench".into(),
            created_at: jiff::Timestamp::now(),
        })?;
        issue_key(
            store.as_mut(),
            &tenant,
            Role::Admin,
            "bench",
            jiff::Timestamp::now(),
        )?
        .plaintext
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    setup(&client, &base, &key, args.items).await?;

    outln!("clients  orders/s   p50 ms   p90 ms   p99 ms   max ms");
    let next_order = Arc::new(AtomicU64::new(0));
    for &clients in &args.clients {
        let started = Instant::now();
        let goal = next_order.load(Ordering::Relaxed) + args.orders;
        let mut tasks = Vec::with_capacity(clients);
        for client_number in 0..clients.max(1) {
            let (client, base, key, next_order) = (
                client.clone(),
                base.clone(),
                key.clone(),
                next_order.clone(),
            );
            let items = args.items;
            tasks.push(tokio::spawn(async move {
                let mut rng = Lcg(0x5EED ^ client_number as u64);
                let mut latencies = Vec::new();
                loop {
                    let number = next_order.fetch_add(1, Ordering::Relaxed);
                    if number >= goal {
                        return anyhow::Ok(latencies);
                    }
                    let body = order(number, items, &mut rng);
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{base}/v1/sales-orders"))
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await?;
                    let status = response.status();
                    let text = response.text().await?;
                    latencies.push(sent.elapsed());
                    anyhow::ensure!(status.as_u16() == 201, "order refused: {status} {text}");
                }
            }));
        }
        let mut latencies: Vec<Duration> = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let percentile = |p: f64| {
            let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies
                .get(index)
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3
        };
        outln!(
            "{clients:>7} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(0.50),
            percentile(0.90),
            percentile(0.99),
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
    running.shutdown().await?;
    outln!(
        "peak RSS {:.0} MiB (server and clients, anonymous and file-backed); now {:.0} MiB anonymous + {:.0} MiB of the mapped log",
        crate::bench::peak_rss_mib(),
        crate::bench::rss_mib(),
        crate::bench::file_mib()
    );
    Ok(())
}

pub(crate) fn order(number: u64, items: usize, rng: &mut Lcg) -> Value {
    let lines: Vec<Value> = (0..1 + rng.below(3))
        .map(|_| {
            json!({ "sku": format!("SKU-{}", rng.below(items as u64)),
                    "quantity": 1 + rng.below(3), "unit_price_minor": 1500 })
        })
        .collect();
    json!({ "order": format!("SO-{number}"), "channel": "web", "customer": "C-1",
            "ship_to": { "country": "US", "time_zone": "America/New_York" },
            "currency": "USD", "allocate": "reject", "lines": lines })
}

pub(crate) async fn setup(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    items: usize,
) -> anyhow::Result<()> {
    let send = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let check = |response: reqwest::Response| async move {
        let status = response.status();
        anyhow::ensure!(
            status.is_success(),
            "setup refused: {status} {}",
            response.text().await.unwrap_or_default()
        );
        anyhow::Ok(())
    };
    let usd = |amount: i64| json!({ "amount_minor": amount, "currency": "USD" });
    check(
        send(
            reqwest::Method::PUT,
            "/v1/settings",
            json!({ "base_currency": "USD", "reporting_time_zone": "UTC" }),
        )
        .await?,
    )
    .await?;
    check(
        send(
            reqwest::Method::PUT,
            "/v1/locations/FC-1",
            json!({ "name": "Central", "region": "us",
                    "address": { "country": "US", "time_zone": "America/Chicago" } }),
        )
        .await?,
    )
    .await?;
    let mut lines = Vec::with_capacity(items);
    for item in 0..items {
        let sku = format!("SKU-{item}");
        check(
            send(
                reqwest::Method::PUT,
                &format!("/v1/items/{sku}"),
                json!({ "name": sku, "unit_cost": usd(500), "price": usd(1500) }),
            )
            .await?,
        )
        .await?;
        lines.push(json!({ "sku": sku, "quantity": 1_000_000_000, "unit_cost_minor": 500 }));
    }
    check(
        send(
            reqwest::Method::POST,
            "/v1/adjustments",
            json!({ "adjustment": "OPENING", "location": "FC-1", "reason": "opening_balance",
                    "lines": lines }),
        )
        .await?,
    )
    .await?;
    Ok(())
}
