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
//! the cost of making the requests: a conservative measure of the server. Each client holds one
//! keep-alive HTTP/1.1 connection (hyper's, without a pool or URL parsing per request, as a
//! load generator such as `wrk` would), so that as little of the two cores as possible goes to
//! the clients; setting the tenant up and probing the scorecard use reqwest. They run on a tokio
//! runtime of their own, so that after each level the benchmark can say how long each part ran
//! (the tenant's committer and writer, the server's threads, the clients), from the time Linux
//! counts for each thread, and so what bounds the rate: one thread busy all the time, every
//! core busy, or neither (then the clients' round trips set the rate).

use crate::backend;
use crate::bench::ThreadTime;
use flowline_core::id::TenantId;
use flowline_engine::EngineOptions;
use flowline_server::auth::{Role, issue_key};
use flowline_server::{ServeOptions, start};
use flowline_store::TenantRecord;
use serde_json::{Value, json};
use std::collections::HashMap;
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
    /// Open the scorecard once before the levels, so its fold follows the orders as they
    /// commit (as it does once the dashboard or the API has asked for it), and after each level
    /// time the first scorecard asked for and count the events the fold took from the
    /// engine's batches and from the log.
    #[arg(long)]
    scorecard: bool,
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
    let durability = if backend::is_postgres() {
        "PostgreSQL, whose own processes are not counted below"
    } else {
        "synchronous=FULL"
    };
    outln!(
        "flowline bench api: {} cores, {} orders per level, {} items, log {} ({durability})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.orders,
        args.items,
        backend::name(&db)
    );
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name(SERVER_THREADS)
        .enable_all()
        .build()?;
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name(CLIENT_THREADS)
        .enable_all()
        .build()?;
    server.block_on(run(args, db, clients.handle()))
}

/// The names of the server's runtime threads (workers and blocking threads) and of the
/// clients'; at most 15 bytes, as Linux keeps them.
const SERVER_THREADS: &str = "server";
const CLIENT_THREADS: &str = "bench-client";

async fn run(args: &ApiArgs, db: PathBuf, clients: &tokio::runtime::Handle) -> anyhow::Result<()> {
    let options = ServeOptions {
        primary: None,
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
    let levels = Levels {
        address: running.address,
        clients: args.clients.clone(),
        orders: args.orders,
        items: args.items,
        scorecard: args.scorecard,
        base,
        key,
    };
    let measured = clients.spawn(drive(levels)).await;
    running.shutdown().await?;
    measured??;
    outln!(
        "peak RSS {:.0} MiB (server and clients, anonymous and file-backed); now {:.0} MiB anonymous + {:.0} MiB of the mapped log",
        crate::bench::peak_rss_mib(),
        crate::bench::rss_mib(),
        crate::bench::file_mib()
    );
    Ok(())
}

/// What the clients do: the levels to run against the server at `base`.
struct Levels {
    address: std::net::SocketAddr,
    clients: Vec<usize>,
    orders: u64,
    items: usize,
    scorecard: bool,
    base: String,
    key: String,
}

/// Sets the tenant up, then runs each level and prints its figures; on the clients' runtime.
async fn drive(levels: Levels) -> anyhow::Result<()> {
    let Levels {
        address,
        clients: concurrency,
        orders,
        items,
        scorecard,
        base,
        key,
    } = levels;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    setup(&client, &base, &key, items).await?;
    let mut folded = if scorecard {
        Some(Scorecard::probe(&client, &base, &key).await?.folded)
    } else {
        None
    };

    outln!("clients  orders/s   p50 ms   p90 ms   p99 ms   max ms");
    let next_order = Arc::new(AtomicU64::new(0));
    for &clients in &concurrency {
        let times_before = crate::bench::thread_times();
        let started = Instant::now();
        let goal = next_order.load(Ordering::Relaxed) + orders;
        let mut tasks = Vec::with_capacity(clients);
        for client_number in 0..clients.max(1) {
            let (key, next_order) = (key.clone(), next_order.clone());
            tasks.push(tokio::spawn(place_orders(
                address,
                key,
                client_number as u64,
                next_order,
                goal,
                items,
            )));
        }
        let mut latencies: Vec<Duration> = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = started.elapsed();
        let times_after = crate::bench::thread_times();
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
        let mean = latencies.iter().sum::<Duration>() / u32::try_from(latencies.len().max(1))?;
        let spent = Spent::between(&times_before, &times_after, elapsed);
        outln!("        {spent}");
        outln!("        bound by {}", spent.bound(clients, mean));
        if let Some(before) = folded {
            let probe = Scorecard::probe(&client, &base, &key).await?;
            let (fed, read) = probe.folded.since(before);
            outln!(
                "        first scorecard after the level: {:.1} ms; its fold took {fed} events from the engine's batches and read {read} from the log",
                probe.elapsed.as_secs_f64() * 1e3
            );
            folded = Some(probe.folded);
        }
    }
    Ok(())
}

/// One client: on a keep-alive connection to `address`, places orders numbered from the
/// shared counter `next` until it reaches `goal`, each answered before the next is sent;
/// the latency of each. An order refused is an error.
pub(crate) async fn place_orders(
    address: std::net::SocketAddr,
    key: String,
    client: u64,
    next: Arc<AtomicU64>,
    goal: u64,
    items: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut connection = Connection::open(address, &key).await?;
    let mut rng = Lcg(0x5EED ^ client);
    let mut latencies = Vec::new();
    loop {
        let number = next.fetch_add(1, Ordering::Relaxed);
        if number >= goal {
            return Ok(latencies);
        }
        let body = serde_json::to_vec(&order(number, items, &mut rng))?;
        let sent = Instant::now();
        let (status, text) = connection.post("/v1/sales-orders", body).await?;
        latencies.push(sent.elapsed());
        anyhow::ensure!(
            status.as_u16() == 201,
            "order refused: {status} {}",
            String::from_utf8_lossy(&text)
        );
    }
}

/// One client's keep-alive HTTP/1.1 connection to the server.
pub(crate) struct Connection {
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>,
    host: hyper::header::HeaderValue,
    authorization: hyper::header::HeaderValue,
}

impl Connection {
    /// Connects to `address`, sending `key` as the bearer of every request.
    pub(crate) async fn open(address: std::net::SocketAddr, key: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        // The connection's reads and writes run as their own task; it ends with the sender.
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: address.to_string().parse()?,
            authorization: format!("Bearer {key}").parse()?,
        })
    }

    /// Sends a JSON `body` to `path` and reads the whole answer.
    pub(crate) async fn post(
        &mut self,
        path: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(hyper::StatusCode, hyper::body::Bytes)> {
        use http_body_util::BodyExt;
        use hyper::header;
        let request = hyper::Request::post(path)
            .header(header::HOST, self.host.clone())
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let text = response.into_body().collect().await?.to_bytes();
        Ok((status, text))
    }
}

/// Events the server's scorecard fold has folded, as its counters say.
#[derive(Debug, Clone, Copy)]
struct Folded {
    /// All of them.
    total: u64,
    /// Those taken from the engine's durable batches.
    fed: u64,
}

impl Folded {
    /// Events folded since `before`: from the engine's batches, and read from the log.
    fn since(self, before: Folded) -> (u64, u64) {
        let fed = self.fed.saturating_sub(before.fed);
        (
            fed,
            self.total.saturating_sub(before.total).saturating_sub(fed),
        )
    }
}

/// One scorecard asked for, timed, with the fold's counters after it.
struct Scorecard {
    elapsed: Duration,
    folded: Folded,
}

impl Scorecard {
    async fn probe(client: &reqwest::Client, base: &str, key: &str) -> anyhow::Result<Self> {
        let sent = Instant::now();
        let response = client
            .get(format!("{base}/v1/scorecard?period=year"))
            .bearer_auth(key)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let elapsed = sent.elapsed();
        anyhow::ensure!(status.is_success(), "scorecard refused: {status} {text}");
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let series = |name: &str| {
            let wanted = format!("{name}{{fold=\"scorecard\"}} ");
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(&wanted)?.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("the server's metrics have no {wanted}"))
        };
        Ok(Self {
            elapsed,
            folded: Folded {
                total: series("flowline_events_folded_total")?,
                fed: series("flowline_events_fed_total")?,
            },
        })
    }
}

/// How long each part of the process ran during a level, as shares of the level's wall time
/// (a part with several threads may pass 100 %), and how long its threads waited for a CPU.
#[derive(Debug, Default)]
struct Spent {
    committer: f64,
    writer: f64,
    server: f64,
    clients: f64,
    other: f64,
    waiting: f64,
    cores: f64,
}

impl Spent {
    /// From two readings of [`crate::bench::thread_times`] `wall` apart. A thread is matched
    /// with itself by its id; one that started between the readings counts from zero.
    fn between(before: &[ThreadTime], after: &[ThreadTime], wall: Duration) -> Self {
        let mut spent = Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
            ..Self::default()
        };
        let wall = wall.as_nanos().max(1) as f64;
        let earlier: HashMap<u64, &ThreadTime> =
            before.iter().map(|thread| (thread.id, thread)).collect();
        for thread in after {
            let (ran_before, waited_before) = earlier
                .get(&thread.id)
                .map_or((0, 0), |earlier| (earlier.running, earlier.waiting));
            spent.waiting += thread.waiting.saturating_sub(waited_before) as f64 / wall;
            let name = thread.name.as_str();
            let part = if name.starts_with("committer-") {
                &mut spent.committer
            } else if name.starts_with("writer-") {
                &mut spent.writer
            } else if name == SERVER_THREADS {
                &mut spent.server
            } else if name == CLIENT_THREADS {
                &mut spent.clients
            } else {
                &mut spent.other
            };
            *part += thread.running.saturating_sub(ran_before) as f64 / wall;
        }
        spent
    }

    fn busy(&self) -> f64 {
        self.committer + self.writer + self.server + self.clients + self.other
    }

    /// What held the rate down, from the shares and the clients' mean round trip.
    fn bound(&self, clients: usize, mean: Duration) -> String {
        let round_trips = clients as f64 / mean.as_secs_f64().max(1e-9);
        if self.committer >= SATURATED {
            format!(
                "the committer: it appends and syncs one batch after another and ran {:.0} % of the time",
                self.committer * 100.0
            )
        } else if self.writer >= SATURATED {
            format!(
                "the tenant's writer: it decides one command after another and ran {:.0} % of the time",
                self.writer * 100.0
            )
        } else if self.busy() >= SATURATED * self.cores {
            let parts = [
                ("the server's threads", self.server),
                ("the clients", self.clients),
                ("the committer", self.committer),
                ("the writer", self.writer),
            ];
            let (largest, share) =
                parts.iter().copied().fold(
                    ("", 0.0),
                    |best, part| if part.1 > best.1 { part } else { best },
                );
            format!(
                "the CPU: {:.2} of {} cores busy, most of it in {largest} ({:.2} cores)",
                self.busy(),
                self.cores,
                share
            )
        } else if self.waiting >= WAVES * self.cores {
            format!(
                "the CPU, in waves: {:.2} of {} cores busy on average, yet threads waited for a CPU \
                 {:.0} % of the time; a batch's answers wake the server's and the clients' threads \
                 at once, too many for the cores, which then idle until the next batch is durable",
                self.busy(),
                self.cores,
                self.waiting * 100.0
            )
        } else {
            format!(
                "waiting: no thread and not the CPU is saturated ({:.2} of {} cores busy); each client \
                 waits for its answer before sending again, so {clients} {} over a mean round trip \
                 of {:.2} ms give {round_trips:.0} orders/s",
                self.busy(),
                self.cores,
                if clients == 1 { "client" } else { "clients" },
                mean.as_secs_f64() * 1e3
            )
        }
    }
}

/// The share of the time a thread (or all the cores) must run to count as the bound.
const SATURATED: f64 = 0.9;

/// Time spent waiting for a CPU, per core, from which the cores count as the bound even when
/// they are not busy on average: the work comes in waves larger than the cores.
const WAVES: f64 = 0.5;

impl std::fmt::Display for Spent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |share: f64| format!("{:.0} %", share * 100.0);
        write!(
            f,
            "ran: committer {}, writer {}, server {}, clients {}, other {} ({:.2} of {} cores); waited for a CPU: {}",
            percent(self.committer),
            percent(self.writer),
            percent(self.server),
            percent(self.clients),
            percent(self.other),
            self.busy(),
            self.cores,
            percent(self.waiting)
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_folded_during_a_level_split_into_fed_and_read_from_the_log() {
        // 1,000 folded before (all from the log at the warm-up), 1,500 after, 450 of the 500
        // new ones from the engine's batches: 50 were read from the log.
        let before = Folded {
            total: 1_000,
            fed: 0,
        };
        let after = Folded {
            total: 1_500,
            fed: 450,
        };
        assert_eq!(after.since(before), (450, 50));
        assert_eq!(after.since(after), (0, 0));
    }

    fn thread(id: u64, name: &str, running_ms: u64, waiting_ms: u64) -> ThreadTime {
        ThreadTime {
            id,
            name: name.to_string(),
            running: running_ms * 1_000_000,
            waiting: waiting_ms * 1_000_000,
        }
    }

    #[test]
    fn each_part_counts_the_time_its_threads_ran_during_the_level() {
        // Over one second: the committer ran 1,500 - 1,000 = 500 ms (50 %); the server's two
        // threads 1,000 + 300 ms (130 %); the writer started during the level and ran 200 ms
        // (20 %); the clients 0. Waiting for a CPU: 100 + 50 ms (15 %). Thread 3 ended during
        // the level, so the second reading lists thread 4 where thread 3 was: each is matched
        // by its id, not its place.
        let before = [
            thread(1, "committer-acme", 1_000, 0),
            thread(2, SERVER_THREADS, 2_000, 0),
            thread(3, SERVER_THREADS, 5_000, 0),
            thread(4, SERVER_THREADS, 100, 0),
            thread(5, CLIENT_THREADS, 400, 0),
        ];
        let after = [
            thread(1, "committer-acme", 1_500, 100),
            thread(2, SERVER_THREADS, 3_000, 0),
            thread(4, SERVER_THREADS, 400, 50),
            thread(5, CLIENT_THREADS, 400, 0),
            thread(6, "writer-acme", 200, 0),
        ];
        let spent = Spent::between(&before, &after, Duration::from_secs(1));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(spent.committer, 0.5), "{spent:?}");
        assert!(close(spent.server, 1.3), "{spent:?}");
        assert!(close(spent.writer, 0.2), "{spent:?}");
        assert!(close(spent.clients, 0.0), "{spent:?}");
        assert!(close(spent.waiting, 0.15), "{spent:?}");
        assert!(close(spent.busy(), 2.0), "{spent:?}");
    }

    #[test]
    fn the_bound_is_a_saturated_thread_then_the_cpu_then_the_round_trips() {
        let spent = |committer, writer, server, clients| Spent {
            committer,
            writer,
            server,
            clients,
            cores: 2.0,
            ..Spent::default()
        };
        let mean = Duration::from_millis(8);
        assert!(spent(0.95, 0.5, 0.3, 0.2).bound(64, mean).starts_with(
            "the committer: it appends and syncs one batch after another and ran 95 %"
        ));
        assert!(
            spent(0.4, 0.92, 0.3, 0.2)
                .bound(64, mean)
                .starts_with("the tenant's writer")
        );
        // 0.2 + 0.15 + 1.0 + 0.5 = 1.85 cores, past 90 % of two; the server's threads the most.
        assert_eq!(
            spent(0.2, 0.15, 1.0, 0.5).bound(64, mean),
            "the CPU: 1.85 of 2 cores busy, most of it in the server's threads (1.00 cores)"
        );
        // 1.2 cores busy, but threads waited for a CPU 1.5 thread-seconds a second, past half of
        // the two cores: waves.
        let waves = Spent {
            waiting: 1.5,
            ..spent(0.3, 0.3, 0.4, 0.2)
        };
        assert!(
            waves.bound(64, mean).starts_with(
                "the CPU, in waves: 1.20 of 2 cores busy on average, yet threads waited for a CPU 150 %"
            ),
            "{}",
            waves.bound(64, mean)
        );
        // 1.2 cores and little waiting: waiting. 64 clients over 8 ms each: 64 / 0.008 = 8,000
        // orders/s.
        let waiting = spent(0.3, 0.3, 0.4, 0.2).bound(64, mean);
        assert!(
            waiting.starts_with(
                "waiting: no thread and not the CPU is saturated (1.20 of 2 cores busy)"
            ),
            "{waiting}"
        );
        assert!(
            waiting.ends_with("64 clients over a mean round trip of 8.00 ms give 8000 orders/s"),
            "{waiting}"
        );
        assert!(
            spent(0.3, 0.3, 0.4, 0.2)
                .bound(1, mean)
                .contains(" 1 client over ")
        );
    }
}
