//! `flowline bench processes`: orders per second with 1, 2 and 4 `flowline serve` processes
//! on one PostgreSQL database, and how far a read replica falls behind meanwhile.
//!
//! For each count of processes, the benchmark starts that many `flowline serve` children on
//! the database `--database-url` names (no rate limits), registers `--tenants` new tenants
//! and sets each up (a center, `--items` items with ample stock) through the process it is
//! assigned to, which so takes the tenant's writer lease: tenants are spread evenly over the
//! processes. Then `--clients` clients, each bound to one tenant and holding a keep-alive
//! connection to its writer, place orders with `"allocate": "reject"` until `--orders` are
//! placed. It prints orders/s, latency percentiles and each process's peak resident memory;
//! with `--replica-url`, it also samples every 100 ms how far the replica is behind the
//! primary (bytes of write-ahead log and seconds) and prints the largest.
//!
//! Clients, servers and PostgreSQL share the machine's cores, so more processes can only help
//! where one process's own work, not the cores, bounded the rate.

use crate::backend;
use crate::bench_api::{place_orders, setup};
use flowline_core::id::TenantId;
use flowline_server::auth::{Role, issue_key};
use flowline_store::TenantRecord;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `flowline bench processes`.
#[derive(Debug, clap::Args)]
pub struct ProcessesArgs {
    /// Counts of server processes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    processes: Vec<usize>,
    /// Tenants, spread over the processes.
    #[arg(long, default_value_t = 8)]
    tenants: usize,
    /// Clients in all, spread over the tenants.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Orders placed for each count of processes.
    #[arg(long, default_value_t = 20_000)]
    orders: u64,
    /// Distinct items per tenant.
    #[arg(long, default_value_t = 50)]
    items: usize,
    /// A streaming replica of the database, to measure how far behind it falls.
    #[arg(long, value_name = "URL")]
    replica_url: Option<String>,
}

/// One count of processes' figures.
struct Level {
    orders_per_second: f64,
    latencies: Vec<Duration>,
    peak_rss_mib: Vec<f64>,
    behind: Option<(u64, f64)>,
}

/// Runs the benchmark and prints its figures.
pub fn processes(args: &ProcessesArgs) -> anyhow::Result<()> {
    let Some(url) = backend::database_url() else {
        anyhow::bail!("bench processes runs on PostgreSQL: give --database-url");
    };
    // The primary's schema first: the replica's comes from it.
    backend::postgres_shared(&url)?;
    let replica = args
        .replica_url
        .as_deref()
        .map(|replica| replica_of(replica, &url))
        .transpose()?;
    outln!(
        "{} tenants, {} clients, {} orders per count of processes, on {} ({} cores)",
        args.tenants,
        args.clients,
        args.orders,
        backend::redact(&url),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    outln!(
        "processes  orders/s   p50 ms   p99 ms   max ms  peak RSS per process (MiB){}",
        if replica.is_some() {
            "  replica behind at most"
        } else {
            ""
        }
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let run = std::process::id();
    for &count in &args.processes {
        let count = count.max(1);
        let level = runtime.block_on(level(args, &url, replica.as_ref(), count, run))?;
        let percentile = |p: f64| {
            let index = ((level.latencies.len() as f64 - 1.0) * p).round() as usize;
            level
                .latencies
                .get(index)
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3
        };
        let rss: Vec<String> = level
            .peak_rss_mib
            .iter()
            .map(|mib| format!("{mib:.0}"))
            .collect();
        let behind = level.behind.map_or(String::new(), |(bytes, seconds)| {
            format!("  {:.1} KiB, {seconds:.3} s", bytes as f64 / 1024.0)
        });
        outln!(
            "{count:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.2}  {}{behind}",
            level.orders_per_second,
            percentile(0.50),
            percentile(0.99),
            level
                .latencies
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3,
            rss.join(" / ")
        );
    }
    Ok(())
}

/// The replica, once it has replayed the primary's schema (waiting up to 10 s for it).
fn replica_of(replica: &str, url: &str) -> anyhow::Result<flowline_store::SharedBackend> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match backend::postgres_replica(replica, url) {
            Ok(replica) => return Ok(replica),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(error) => return Err(error.into()),
        }
    }
}

/// Starts `count` servers, sets up the tenants, runs the clients, stops the servers.
async fn level(
    args: &ProcessesArgs,
    url: &str,
    replica: Option<&flowline_store::SharedBackend>,
    count: usize,
    run: u32,
) -> anyhow::Result<Level> {
    let directory = tempfile::tempdir()?;
    let mut servers = Vec::new();
    for index in 0..count {
        servers.push(Server::start(
            url,
            &directory.path().join(format!("{index}.log")),
        )?);
    }
    let outcome = drive(args, url, replica, &servers, run).await;
    let peak_rss_mib = servers.iter().map(Server::peak_rss_mib).collect();
    for server in &mut servers {
        server.stop();
    }
    let (orders_per_second, latencies, behind) = outcome?;
    Ok(Level {
        orders_per_second,
        latencies,
        peak_rss_mib,
        behind,
    })
}

type Driven = (f64, Vec<Duration>, Option<(u64, f64)>);

async fn drive(
    args: &ProcessesArgs,
    url: &str,
    replica: Option<&flowline_store::SharedBackend>,
    servers: &[Server],
    run: u32,
) -> anyhow::Result<Driven> {
    // New tenants for each count, so no lease of an earlier count's processes is in the way.
    let mut tenants = Vec::new();
    {
        let mut store = backend::postgres_shared(url)?.open()?;
        for number in 0..args.tenants.max(1) {
            let tenant = TenantId::parse(&format!("bench-{run}-{}-{number}", servers.len()))?;
            store.register_tenant(&TenantRecord {
                tenant: tenant.clone(),
                name: tenant.to_string(),
                created_at: jiff::Timestamp::now(),
            })?;
            let key = issue_key(
                store.as_mut(),
                &tenant,
                Role::Admin,
                "bench",
                jiff::Timestamp::now(),
            )?
            .plaintext;
            tenants.push((key, servers[number % servers.len()].address));
        }
    }
    let client = reqwest::Client::new();
    for (key, address) in &tenants {
        setup(&client, &format!("http://{address}"), key, args.items).await?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = replica.map(|replica| {
        let (replica, stop) = (replica.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut most = (0u64, 0f64);
            while !stop.load(Ordering::Relaxed) {
                if let Ok(Some(behind)) = replica.behind() {
                    most = (most.0.max(behind.bytes), most.1.max(behind.seconds));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            most
        })
    });

    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for number in 0..args.clients.max(1) {
        let (key, address) = tenants[number % tenants.len()].clone();
        let (next, goal, items) = (next.clone(), args.orders, args.items);
        tasks.push(tokio::spawn(place_orders(
            address,
            key,
            number as u64,
            next,
            goal,
            items,
        )));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let behind = sampler.and_then(|sampler| sampler.join().ok());
    latencies.sort();
    Ok((
        latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies,
        behind,
    ))
}

/// A `flowline serve` child on the database.
struct Server {
    child: Child,
    address: std::net::SocketAddr,
}

impl Server {
    fn start(url: &str, log: &std::path::Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let child = Command::new(std::env::current_exe()?)
            .args([
                "--database-url",
                url,
                "serve",
                "--bind",
                &address.to_string(),
            ])
            .args(["--rate-per-key", "0", "--rate-per-tenant", "0"])
            .env_remove("FLOWLINE_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        let mut server = Self { child, address };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !std::fs::read_to_string(log)?.contains("flowline serving") {
            if Instant::now() > deadline || server.child.try_wait()?.is_some() {
                server.stop();
                anyhow::bail!(
                    "a server did not start: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    fn peak_rss_mib(&self) -> f64 {
        crate::bench::status_mib(&self.child.id().to_string(), "VmHWM:")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
