//! The `flowline` command.
//!
//! Exit codes: 0 success, 1 the input or the log was found wrong (`check` differences), 2 the
//! command could not run (bad arguments, unreadable file).

#[macro_use]
mod output;
mod progress;

mod admin;
mod backend;
mod bench;
mod bench_api;
mod bench_dashboard;
mod bench_fairness;
mod bench_forecast;
mod bench_import;
mod bench_metrics;
mod bench_policy;
mod bench_processes;
mod bench_reconcile;
mod bench_startup;
mod demo;
#[cfg(test)]
mod dictionary;
mod export;
mod import;
mod metrics;
mod migrate;
mod plan;

/// mimalloc instead of the system allocator: the engine's writer allocates and frees many small
/// objects per command, and glibc's allocator was a quarter of its profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flowline: supply chain operations, measured the SCOR way.
#[derive(Debug, Parser)]
#[command(name = "flowline", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,

    /// Keep the log on PostgreSQL instead of a SQLite file: `postgres://user:password@host:port/database`.
    /// It stands in for `--db` in every command that takes one; the schema is created or
    /// migrated on first use.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "FLOWLINE_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// With `--database-url`: another PostgreSQL cluster tenants may be placed on, as
    /// `NAME=postgres://…` (repeat it for each; or `FLOWLINE_CLUSTERS`, comma-separated). The
    /// `--database-url` database is the home one: it keeps tenants, keys, sessions and which
    /// cluster each tenant is on (`flowline tenant move`). Every process of the deployment must
    /// be given the same clusters.
    #[arg(
        long = "cluster",
        global = true,
        value_name = "NAME=URL",
        env = "FLOWLINE_CLUSTERS",
        value_delimiter = ',',
        hide_env_values = true,
        value_parser = parse_cluster
    )]
    clusters: Vec<(String, String)>,
}

/// `NAME=URL` of `--cluster`.
fn parse_cluster(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, url)) if !name.is_empty() && !url.is_empty() => {
            Ok((name.to_string(), url.to_string()))
        }
        _ => Err(format!(
            "`{}` is not NAME=postgres://…",
            backend::redact(text)
        )),
    }
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Audit a log: recompute every balance and check the ledger invariants.
    ///
    /// Every balance is recomputed from the event log and compared with the stored balances and
    /// the ledger invariants. Exits 1 naming tenant, item, location, expected and actual on any
    /// difference. Never repairs; never creates a file.
    Check {
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
    /// Serve the HTTP API and the dashboard on the log.
    ///
    /// The API is under `/v1` (OpenAPI at `/v1/openapi.json`), Prometheus metrics at `/metrics`
    /// and the dashboard at `/`. Ctrl-C or SIGTERM stops it after the requests in flight are
    /// answered.
    Serve {
        /// Address and port to listen on.
        #[arg(
            long,
            value_name = "ADDR:PORT",
            default_value = "127.0.0.1:8080",
            env = "FLOWLINE_BIND"
        )]
        bind: SocketAddr,
        /// The SQLite event log, created on first start.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
        /// Log lines as JSON objects instead of text.
        #[arg(long)]
        log_json: bool,
        #[command(flatten)]
        limits: admin::LimitArgs,
        #[command(flatten)]
        share: admin::ShareArgs,
        /// An origin whose browser pages may call the API (`https://app.example.com`, or `*`
        /// for any); repeat for several. None by default.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
    },
    /// Register, configure and list tenants (the brands or 3PL clients served).
    Tenant {
        #[command(subcommand)]
        which: admin::TenantCommand,
    },
    /// Create, list, limit and revoke API keys.
    ///
    /// A key is created with a role, shown once and stored only as a hash.
    Key {
        #[command(subcommand)]
        which: admin::KeyCommand,
    },
    /// Export a tenant's items, centers or stock as CSV or JSON lines.
    ///
    /// The columns are the import kinds' field names, so `flowline import csv` reads the
    /// files back without a mapping.
    Export(export::ExportArgs),
    /// Import third-party data into a tenant, all or nothing.
    Import {
        #[command(subcommand)]
        which: import::ImportCommand,
    },
    /// Copy a SQLite log to PostgreSQL, then verify the copy.
    ///
    /// Tenants, API keys, every event (same sequence numbers, stream versions, times and
    /// checksums), idempotency records and balances. The copy is compared with the source tenant
    /// by tenant (log SHA-256, event and record counts) and audited as `flowline check` does
    /// before the command reports success. The source is only read.
    Migrate(migrate::MigrateArgs),
    /// Print a tenant's SCOR scorecard, computed from the log.
    ///
    /// Level-1 metrics with the Level-2 metrics beneath, failure signatures and operational
    /// KPIs; by dimension; as JSON; with the documents behind a metric. Without --from and --to,
    /// the latest complete month of the tenant's data.
    Metrics(metrics::MetricsArgs),
    /// Simulate a year of a brand into a new database and print its scorecard.
    ///
    /// The built-in Harbor & Pine, or a scenario file, runs through the real engine on a
    /// simulated clock; --serve then serves the API and the dashboard on it.
    Demo(demo::DemoArgs),
    /// Plan: forecasts (and, to come, policies and proposals).
    Plan {
        #[command(subcommand)]
        which: plan::PlanCommand,
    },
    /// Compare scenarios: scorecards side by side over the same seeds.
    ///
    /// Prints the differences and their spread across seeds (a what-if on a digital twin).
    Simulate(demo::SimulateArgs),
    /// Run a benchmark that prints figures (see docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Events applied and appended per second, in memory and through the engine.
    ///
    /// Durable appends go through the engine with group commit, with a log of a few events and
    /// with a long log.
    Ledger(bench::LedgerArgs),
    /// Durable events per second on the SQLite file and on PostgreSQL, side by side.
    ///
    /// Through the engine with group commit, one tenant and then several written at once; the
    /// database is the one `--database-url` names.
    Backends(bench::BackendsArgs),
    /// Orders per second over HTTP by 1, 16 and 64 clients, with latencies.
    ///
    /// Each order is placed and allocated against a server on loopback.
    Api(bench_api::ApiArgs),
    /// Orders per second with 1, 2 and 4 server processes on one PostgreSQL database.
    ///
    /// Tenants spread over the processes, each written by the one holding its lease; with
    /// --replica-url, how far a streaming replica falls behind meanwhile.
    Processes(bench_processes::ProcessesArgs),
    /// CSV order lines read, checked and appended atomically per second, and peak memory.
    Import(bench_import::ImportArgs),
    /// One tenant's order latency alone and while another floods the server.
    ///
    /// The flood is orders and ten-year scorecards: what rate limits, per-tenant serialisation
    /// and the report lane buy.
    Fairness(bench_fairness::FairnessArgs),
    /// The scorecard over many generated orders, beside DuckDB.
    ///
    /// Cold and incremental, beside DuckDB computing the same Level-1 numbers from a CSV
    /// export.
    Metrics(bench_metrics::MetricsArgs),
    /// Server time of every dashboard page on a one-year database.
    ///
    /// The database is written first if it is missing.
    Dashboard(bench_dashboard::DashboardArgs),
    /// Simulated orders per second and wall time for a year of the built-in brand.
    Sim(demo::BenchSimArgs),
    /// Time from starting the server to its first page and first command, and its memory.
    ///
    /// Cold (no snapshot) and warm (with the snapshots the cold run left), on a copy of the
    /// log; then `flowline metrics` cold and warm.
    Startup(bench_startup::StartupArgs),
    /// Forecasts beside statsforecast's: wall time and MASE on M5 and generated series.
    ///
    /// The last --horizon days of each series are held out; Flowline's automatic choice and
    /// seasonal naive, and statsforecast's AutoETS and SeasonalNaive (in a Python child, on the
    /// same cores), forecast them.
    Forecast(bench_forecast::ForecastArgs),
    /// Inventory-policy functions beside stockpyl's: values and time per call on the
    /// textbook's worked examples.
    Policy(bench_policy::PolicyArgs),
    /// Item forecasts reconciled to their category's forecast, against their own: WAPE of
    /// items and categories over the last --holdout days of a tenant's log.
    Reconcile(bench_reconcile::ReconcileArgs),
}

/// The database every subcommand uses unless `--db` or `FLOWLINE_DB` names another.
pub const DEFAULT_DB: &str = "./flowline.db";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if !cli.clusters.is_empty() && cli.database_url.as_deref().is_none_or(str::is_empty) {
        anyhow::bail!(
            "--cluster needs --database-url (or FLOWLINE_DATABASE_URL) naming the home database"
        );
    }
    backend::use_clusters(cli.clusters);
    if let Some(url) = cli.database_url.filter(|url| !url.is_empty()) {
        backend::use_database(url);
    }
    match cli.command {
        Commands::Check { db } => {
            admin::init_warnings();
            check(&db)
        }
        Commands::Bench {
            which: BenchCommand::Ledger(args),
        } => {
            bench::ledger(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Backends(args),
        } => {
            bench::backends(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Api(args),
        } => {
            bench_api::api(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Import(args),
        } => {
            bench_import::import(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Processes(args),
        } => {
            bench_processes::processes(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Fairness(args),
        } => {
            bench_fairness::fairness(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Metrics(args),
        } => {
            bench_metrics::metrics(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Dashboard(args),
        } => {
            bench_dashboard::dashboard(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Startup(args),
        } => {
            bench_startup::startup(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Forecast(args),
        } => {
            bench_forecast::forecast(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Policy(args),
        } => {
            bench_policy::policy(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Reconcile(args),
        } => {
            bench_reconcile::reconcile(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Demo(args) => demo::demo(&args),
        Commands::Simulate(args) => demo::compare(&args),
        Commands::Bench {
            which: BenchCommand::Sim(args),
        } => demo::bench(&args),
        Commands::Serve {
            bind,
            db,
            log_json,
            limits,
            share,
            cors_origins,
        } => {
            let cors =
                flowline_server::cors::Origins::parse(cors_origins.iter().map(String::as_str))
                    .map_err(|error| anyhow::anyhow!("--cors-origin: {error}"))?;
            admin::serve(bind, &db, log_json, limits.limits(), &cors, &share)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Tenant { which } => admin::tenant(which),
        Commands::Key { which } => admin::key(which),
        Commands::Import { which } => import::run(which),
        Commands::Export(args) => export::run(&args),
        Commands::Migrate(args) => migrate::run(&args),
        Commands::Plan { which } => plan::run(which),
        Commands::Metrics(args) => {
            admin::init_warnings();
            metrics::run(&args)
        }
    }
}

fn check(db: &std::path::Path) -> anyhow::Result<ExitCode> {
    use flowline_engine::projections::Verdict;
    let store = backend::read(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
    let mut report = flowline_engine::check::check(store.as_ref())
        .with_context(|| format!("cannot read {}", crate::backend::name(db)))?;
    for tenant in store.tenants()? {
        if !report.is_readable(&tenant) {
            continue;
        }
        let verdict = flowline_server::scorecards::verify_snapshot(store.as_ref(), &tenant)
            .with_context(|| format!("cannot read {}", crate::backend::name(db)))?;
        if let Some(verdict) = verdict {
            report.record_snapshot(&tenant, "scorecard", verdict);
        }
    }
    for finding in &report.findings {
        outln!("{finding}");
    }
    for (tenant, projection, verdict) in &report.snapshots {
        match verdict {
            Verdict::NoSnapshot => {}
            Verdict::Equal { head, bytes } => outln!(
                "tenant {tenant}: the {projection} snapshot taken after event {head} ({bytes} bytes) equals a replay of the log"
            ),
            Verdict::Unusable(reason) => outln!(
                "tenant {tenant}: the {projection} snapshot cannot be used and will be rebuilt from the log: {reason}"
            ),
            Verdict::Differs { .. } => {}
        }
    }
    outln!(
        "checked {} tenant(s), {} event(s), {} balance(s): {}",
        report.tenants,
        report.events,
        report.balances,
        if report.is_clean() {
            "ok".to_string()
        } else {
            format!("{} difference(s)", report.findings.len())
        }
    );
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
