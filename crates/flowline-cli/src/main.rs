//! The `flowline` command.
//!
//! Exit codes: 0 success, 1 the input or the log was found wrong (`check` differences), 2 the
//! command could not run (bad arguments, unreadable file).

mod admin;
mod bench;
mod bench_api;
mod bench_dashboard;
mod bench_fairness;
mod bench_metrics;
mod demo;
#[cfg(test)]
mod dictionary;
mod import;
mod metrics;

/// mimalloc instead of the system allocator: the engine's writer allocates and frees many small
/// objects per command, and glibc's allocator was a quarter of its profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use flowline_store::SqliteStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flowline: supply chain operations, measured the SCOR way.
#[derive(Debug, Parser)]
#[command(name = "flowline", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Recompute every balance from the event log and compare with the stored balances and the
    /// ledger invariants. Exits 1 naming tenant, item, location, expected and actual on any
    /// difference. Never repairs.
    Check {
        /// The SQLite event log.
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
    },
    /// Serve the HTTP API (`/v1`, OpenAPI at `/v1/openapi.json`, metrics at `/metrics`) on the
    /// embedded log. Ctrl-C or SIGTERM stops it after the requests in flight are answered.
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
        #[arg(
            long,
            value_name = "FILE",
            default_value = "./flowline.db",
            env = "FLOWLINE_DB"
        )]
        db: PathBuf,
        /// Log lines as JSON objects instead of text.
        #[arg(long)]
        log_json: bool,
        #[command(flatten)]
        limits: admin::LimitArgs,
    },
    /// Tenants: the brands or 3PL clients the API serves.
    Tenant {
        #[command(subcommand)]
        which: admin::TenantCommand,
    },
    /// API keys: created with a role, shown once, stored only as a hash.
    Key {
        #[command(subcommand)]
        which: admin::KeyCommand,
    },
    /// Import third-party data into a tenant, all or nothing.
    Import {
        #[command(subcommand)]
        which: import::ImportCommand,
    },
    /// The SCOR scorecard of a tenant, computed from the log: Level-1 metrics with the Level-2
    /// metrics beneath, failure signatures, operational KPIs; by dimension; as JSON; with the
    /// documents behind a metric.
    Metrics(metrics::MetricsArgs),
    /// Simulate a year of an e-commerce brand (the built-in Harbor & Pine, or a scenario file)
    /// through the engine into a new database, and print its SCOR scorecard.
    Demo(demo::DemoArgs),
    /// Run scenarios with the same seeds and print their scorecards side by side, with the
    /// differences and their spread across seeds (a what-if on a digital twin).
    Simulate(demo::SimulateArgs),
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Events applied per second in memory, and durable events appended per second through the
    /// engine with group commit, with a log of a few events and with a long log.
    Ledger(bench::LedgerArgs),
    /// Orders per second placed and allocated over HTTP by 1, 16 and 64 concurrent clients
    /// against a server on loopback, with latency percentiles.
    Api(bench_api::ApiArgs),
    /// One tenant's order latency alone, then while another tenant floods the server with
    /// orders and ten-year scorecards: what rate limits and per-tenant serialisation buy.
    Fairness(bench_fairness::FairnessArgs),
    /// The scorecard over many generated orders, cold and incremental, beside DuckDB computing
    /// the same Level-1 numbers from a CSV export.
    Metrics(bench_metrics::MetricsArgs),
    /// Server time of every dashboard page on a one-year database (written first if missing).
    Dashboard(bench_dashboard::DashboardArgs),
    /// Simulated orders per second and wall time for a year of the built-in brand at a given
    /// size.
    Sim(demo::BenchSimArgs),
}

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
    match cli.command {
        Commands::Check { db } => check(&db),
        Commands::Bench {
            which: BenchCommand::Ledger(args),
        } => {
            bench::ledger(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Bench {
            which: BenchCommand::Api(args),
        } => {
            bench_api::api(&args)?;
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
        } => {
            admin::serve(bind, &db, log_json, limits.limits())?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::Tenant { which } => admin::tenant(which),
        Commands::Key { which } => admin::key(which),
        Commands::Import { which } => import::run(which),
        Commands::Metrics(args) => metrics::run(&args),
    }
}

fn check(db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store =
        SqliteStore::open_read_only(db).with_context(|| format!("cannot open {}", db.display()))?;
    let report = flowline_engine::check::check(&store)
        .with_context(|| format!("cannot read {}", db.display()))?;
    for finding in &report.findings {
        println!("{finding}");
    }
    println!(
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
