//! The `flowline` command.
//!
//! Exit codes: 0 success, 1 the input or the log was found wrong (`check` differences), 2 the
//! command could not run (bad arguments, unreadable file).

mod bench;

/// mimalloc instead of the system allocator: the engine's writer allocates and frees many small
/// objects per command, and glibc's allocator was a quarter of its profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use flowline_store::SqliteStore;
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
