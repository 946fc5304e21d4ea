//! `flowline bench dashboard`: server time of every dashboard page on a one-year database.
//!
//! Uses the log given with `--db` (a database made by `flowline demo`, for instance), or
//! writes one first when the file does not exist: the built-in brand simulated for a year, as
//! `flowline demo` does, at `--orders-per-day` if given. Starts the real server on a loopback
//! port, waits for its warm-up (each tenant's writer started and its folds built, as
//! `flowline serve` does at start) and prints how long that took, issues a viewer key, signs in
//! through the login form, then asks for every page once (the first request after warm-up) and
//! `--repeat` times more, reading the server's own time from each answer's `Server-Timing`
//! header. Prints the median and the maximum per page, and the peak RSS of the process while it
//! warmed up and served them.

use crate::backend;
use anyhow::Context as _;
use flowline_core::id::TenantId;
use flowline_engine::EngineOptions;
use flowline_server::auth::{Role, issue_key};
use flowline_server::{ServeOptions, start};
use flowline_sim::Options;
use flowline_sim::scenario::Scenario;
use flowline_store::TenantRecord;
use std::path::{Path, PathBuf};

/// Arguments of `flowline bench dashboard`.
#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// The log to measure; when it does not exist, a simulated year of the built-in brand is
    /// written to it first.
    #[arg(long, value_name = "FILE", default_value = "./dashboard-bench.db")]
    db: PathBuf,
    /// Orders a day at the start of the simulated year (the brand's other rates scale with
    /// it); the built-in brand's own 1,000 when not given.
    #[arg(long, value_name = "N")]
    orders_per_day: Option<f64>,
    /// Days simulated when `--db` does not exist.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Seed of the simulation when `--db` does not exist (`flowline demo` uses 1 too).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Warm requests per page.
    #[arg(long, default_value_t = 10)]
    repeat: usize,
}

/// Writes a simulated year of the built-in brand to `path` and registers its tenant, as
/// `flowline demo` does.
fn simulate(args: &DashboardArgs, path: &Path) -> anyhow::Result<()> {
    let scenario = match args.orders_per_day {
        None => Scenario::default_brand(),
        Some(n) if n.is_finite() && n > 0.0 => Scenario::default_brand().scaled(n),
        Some(n) => anyhow::bail!("--orders-per-day must be a positive number, is {n}"),
    };
    let tenant =
        TenantId::parse("demo").unwrap_or_else(|_| unreachable!("`demo` is a valid tenant id"));
    let options = Options {
        seed: args.seed,
        days: args.days,
        tenant: tenant.clone(),
    };
    outln!(
        "writing {}: {} for {} days at {:.0} orders/day (seed {})",
        path.display(),
        scenario.brand.name,
        args.days,
        scenario.demand.orders_per_day,
        args.seed
    );
    let mut bar = crate::progress::Progress::new("simulating", u64::from(args.days), "days");
    let summary = flowline_sim::run(
        &scenario,
        &backend::relaxed(path)?,
        &options,
        &mut |progress| {
            bar.update(
                u64::from(progress.done),
                format!("{} orders", progress.orders),
            );
        },
    )
    .with_context(|| format!("the simulation into {} failed", path.display()))?;
    bar.finish();
    anyhow::ensure!(
        summary.refused.is_empty(),
        "the engine refused commands the model expected to succeed: {:?}; first: {}",
        summary.refused,
        summary.refusal_samples.join("; ")
    );
    outln!(
        "wrote {} days in {:.1} s: {} orders, {} events",
        summary.days,
        summary.wall.as_secs_f64(),
        summary.counts.get("orders_placed").copied().unwrap_or(0),
        summary.events
    );
    let mut store = backend::open(path)?;
    store.register_tenant(&TenantRecord {
        tenant,
        name: scenario.brand.name.clone(),
        created_at: jiff::Timestamp::now(),
    })?;
    Ok(())
}

/// Resets the process's peak RSS to its current RSS (Linux: `clear_refs` value 5), so the
/// peak printed at the end is that of serving the pages, not of writing the log. Says whether
/// it could.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The pages measured; `{order}` and `{purchase}` are replaced by a sales order and a purchase
/// order of the log.
const PAGES: &[&str] = &[
    "/",
    "/?period=quarter",
    "/scorecard/rl.perfect_order",
    "/scorecard/rl.perfect_order/documents",
    "/documents/sales-orders/{order}",
    "/documents/purchase-orders/{purchase}",
    "/inventory",
    "/orders",
    "/source",
    "/make",
    "/return",
    "/cash",
    "/sustainability",
    "/targets",
];

fn server_ms(response: &reqwest::Response) -> Option<f64> {
    let value = response.headers().get("server-timing")?.to_str().ok()?;
    value.split("dur=").nth(1)?.parse().ok()
}

/// The value a response's `Set-Cookie` headers give a cookie (parsed here for the reason
/// `flowline_server::dashboard::session::cookie` gives).
pub(crate) fn cookie_of(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let (pair, _) = value.split_once(';').unwrap_or((value, ""));
            let (key, cookie) = pair.split_once('=')?;
            (key == name).then(|| cookie.to_string())
        })
}

/// Runs the benchmark and prints its figures.
pub fn dashboard(args: &DashboardArgs) -> anyhow::Result<()> {
    let wrote = !args.db.exists();
    if wrote {
        simulate(args, &args.db)?;
    }
    let mut store = backend::open(&args.db)
        .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
    let tenant: TenantId = match store.tenants()?.as_slice() {
        [first, ..] => first.clone(),
        [] => anyhow::bail!("{} holds no tenant", args.db.display()),
    };
    let events = store.tenant_head(&tenant)?;
    let key = issue_key(
        store.as_mut(),
        &tenant,
        Role::Viewer,
        "bench dashboard",
        jiff::Timestamp::now(),
    )?;
    let first = |kind: &str| -> anyhow::Result<String> {
        Ok(store
            .streams_of_kind(&tenant, kind, None, 1)?
            .first()
            .and_then(|stream| flowline_core::stream::StreamName::id_in(kind, stream))
            .map(str::to_string)
            .unwrap_or_default())
    };
    let (order, purchase) = (first("sales_order")?, first("purchase_order")?);
    drop(store);
    outln!(
        "flowline bench dashboard: {} cores, {}, tenant {tenant}: {events} events",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.db.display()
    );
    let peak_reset = reset_peak_rss();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let options = ServeOptions {
            primary: None,
            cors: Default::default(),
            limits: flowline_server::ServerLimits {
                rate: flowline_server::rate::RateLimits::UNLIMITED,
                ..Default::default()
            },
            bind: "127.0.0.1:0".parse()?,
            log: backend::durable(&args.db)?,
        };
        let started = std::time::Instant::now();
        let running = start(&options, EngineOptions::default()).await?;
        running.warmed().await;
        outln!(
            "warm-up at start: {:.1} s (writer replay and folds of the log)",
            started.elapsed().as_secs_f64()
        );
        let base = format!("http://{}", running.address);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let form = client.get(format!("{base}/login")).send().await?;
        let login = cookie_of(&form, "flowline_login").context("no sign-in cookie")?;
        let body = format!("csrf={login}&next=%2F&key={}", key.plaintext);
        let signed = client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("flowline_login={login}"))
            .body(body)
            .send()
            .await?;
        let session = cookie_of(&signed, "flowline_session").context("sign-in failed")?;
        outln!(
            "{:<44} {:>10} {:>10} {:>10}",
            "page",
            "first ms",
            "median ms",
            "max ms"
        );
        for page in PAGES {
            let path = page
                .replace("{order}", &order)
                .replace("{purchase}", &purchase);
            let mut times = Vec::with_capacity(args.repeat + 1);
            for _ in 0..=args.repeat {
                let response = client
                    .get(format!("{base}{path}"))
                    .header("cookie", format!("flowline_session={session}"))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "{path} answered {}",
                    response.status()
                );
                let milliseconds = server_ms(&response).context("no Server-Timing header")?;
                let _ = response.bytes().await?;
                times.push(milliseconds);
            }
            let first = times.remove(0);
            times.sort_by(f64::total_cmp);
            let median = times.get(times.len() / 2).copied().unwrap_or(first);
            let max = times.last().copied().unwrap_or(first);
            outln!("{path:<44} {first:>10.1} {median:>10.1} {max:>10.1}");
        }
        // Measured before the server stops, while its folds are still held.
        outln!(
            "peak RSS {:.0} MiB{}; at the end {:.0} MiB anonymous + {:.0} MiB of the mapped log",
            crate::bench::peak_rss_mib(),
            if wrote && !peak_reset {
                " (including writing the log)"
            } else {
                " while serving"
            },
            crate::bench::rss_mib(),
            crate::bench::file_mib()
        );
        running.shutdown().await?;
        anyhow::Ok(())
    })
}
