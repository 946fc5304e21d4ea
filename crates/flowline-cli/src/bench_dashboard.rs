//! `flowline bench dashboard`: server time of every dashboard page on a one-year database.
//!
//! Uses the log given with `--db`, or writes one first when the file does not exist (the
//! deterministic year of `flowline_engine::year`; a database made by `flowline demo` can be
//! given instead). Starts the real server on a loopback port, issues a viewer key, signs in
//! through the login form, then asks for every page once cold (the first request of a tenant
//! folds its log) and `--repeat` times warm, reading the server's own time from each answer's
//! `Server-Timing` header. Prints the median and the maximum per page.

use anyhow::Context as _;
use flowline_core::id::TenantId;
use flowline_engine::EngineOptions;
use flowline_engine::year::{self, YearOptions};
use flowline_server::auth::{Role, issue_key};
use flowline_server::{ServeOptions, start};
use flowline_store::{EventStore, OpenOptions, SqliteStore};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `flowline bench dashboard`.
#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// The log to measure; written first (a year of a small brand) when it does not exist.
    #[arg(long, value_name = "FILE", default_value = "./dashboard-bench.db")]
    db: PathBuf,
    /// Mean sales orders per day of the year written when `--db` does not exist.
    #[arg(long, default_value_t = 60)]
    orders_per_day: u64,
    /// Days of the year written when `--db` does not exist.
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Warm requests per page.
    #[arg(long, default_value_t = 10)]
    repeat: usize,
}

/// The pages measured; `{order}` is replaced by an order of the log.
const PAGES: &[&str] = &[
    "/",
    "/?period=quarter",
    "/scorecard/rl.perfect_order",
    "/scorecard/rl.perfect_order/documents",
    "/documents/sales-orders/{order}",
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

fn cookie_of(response: &reqwest::Response, name: &str) -> Option<String> {
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
    if !args.db.exists() {
        let started = Instant::now();
        let options = YearOptions {
            tenant: "demo".into(),
            days: args.days,
            orders_per_day: args.orders_per_day,
            seed: 7,
        };
        let summary = year::write(&args.db, &options)
            .with_context(|| format!("cannot write {}", args.db.display()))?;
        println!(
            "wrote {}: {} orders, {} commands applied, {} refused, in {:.1} s",
            args.db.display(),
            summary.orders,
            summary.applied,
            summary.rejected,
            started.elapsed().as_secs_f64()
        );
    }
    let mut store = SqliteStore::open(&args.db, &OpenOptions::durable())?;
    let tenant: TenantId = match store.tenants()?.as_slice() {
        [first, ..] => first.clone(),
        [] => anyhow::bail!("{} holds no tenant", args.db.display()),
    };
    let events = store.tenant_head(&tenant)?;
    let key = issue_key(
        &mut store,
        &tenant,
        Role::Viewer,
        "bench dashboard",
        jiff::Timestamp::now(),
    )?;
    let order = store
        .streams_of_kind(&tenant, "sales_order", None, 1)?
        .first()
        .and_then(|stream| stream.split_once('/').map(|(_, id)| id.to_string()))
        .unwrap_or_default();
    drop(store);
    println!("tenant {tenant}: {events} events");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let options = ServeOptions {
            bind: "127.0.0.1:0".parse()?,
            db: args.db.clone(),
        };
        let running = start(&options, EngineOptions::durable()).await?;
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
        println!(
            "{:<44} {:>10} {:>10} {:>10}",
            "page", "cold ms", "median ms", "max ms"
        );
        for page in PAGES {
            let path = page.replace("{order}", &order);
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
            let cold = times.remove(0);
            times.sort_by(f64::total_cmp);
            let median = times.get(times.len() / 2).copied().unwrap_or(cold);
            let max = times.last().copied().unwrap_or(cold);
            println!("{path:<44} {cold:>10.1} {median:>10.1} {max:>10.1}");
        }
        running.shutdown().await?;
        anyhow::Ok(())
    })
}
