//! `flowline bench import`: CSV order lines read, checked and appended per second, and the
//! memory it takes.
//!
//! Generates a sales-orders file of `--lines` order lines (orders of 1 to 3 lines over
//! `--items` items, placed over the last 300 days, as `flowline export` would write it), then
//! times the two halves of `flowline import csv --kind sales-orders` on a fresh, durable SQLite
//! log: reading and checking the whole file (`flowline_formats::mapped::read`), then the one
//! atomic append of every order (`Engine::submit_atomically`). Prints rows/s for each, the
//! events appended and the peak resident memory, which grows with the file: the whole file is
//! checked before anything is appended, and appended in one transaction.

use crate::backend;
use crate::bench_api::Lcg;
use flowline_core::Command;
use flowline_core::id::{Sku, TenantId};
use flowline_core::master::{BusinessTimeWindow, TimeZoneName};
use flowline_core::money::{Currency, Money};
use flowline_core::state::{ConfigureTenant, DefineItem};
use flowline_engine::{AtomicOutcome, Engine, EngineOptions, Submission};
use flowline_formats::mapped;
use std::fmt::Write as _;
use std::time::Instant;

/// Arguments of `flowline bench import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Order lines in the file.
    #[arg(long, default_value_t = 1_000_000)]
    lines: usize,
    /// Distinct items ordered.
    #[arg(long, default_value_t = 1_000)]
    items: usize,
}

/// Runs the benchmark and prints its figures.
pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let db = directory.path().join("bench-import.db");
    let tenant = TenantId::parse("bench")?;
    let usd = Currency::parse("USD").map_err(|error| anyhow::anyhow!("{error}"))?;

    let started = Instant::now();
    let now = jiff::Timestamp::now();
    let mut text = String::from(
        "order,placed_at,channel,customer,currency,sku,quantity,unit_price,ship_country,ship_time_zone\n",
    );
    let mut rng = Lcg(0x1E5);
    let (mut lines, mut orders) = (0, 0u64);
    while lines < args.lines {
        orders += 1;
        let seconds = i64::try_from(rng.below(300 * 86_400))?;
        let placed = now
            .checked_sub(jiff::SignedDuration::from_secs(seconds + 3_600))?
            .strftime("%Y-%m-%d %H:%M:%S");
        for _ in 0..(1 + rng.below(3)).min((args.lines - lines) as u64) {
            let sku = rng.below(args.items as u64);
            let quantity = 1 + rng.below(3);
            writeln!(
                text,
                "SO-{orders},{placed},web,C-{},USD,SKU-{sku},{quantity},12.50,US,America/Chicago",
                rng.below(50_000)
            )?;
            lines += 1;
        }
    }
    let bytes = text.into_bytes();
    outln!(
        "generated {lines} order lines in {orders} orders ({:.1} MiB) in {:.1} s",
        bytes.len() as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );

    let read_started = Instant::now();
    let mapping = mapped::native(mapped::Kind::SalesOrders, &bytes);
    let read = mapped::read(
        mapped::Kind::SalesOrders,
        &mapping,
        "orders.csv",
        &bytes,
        "bench",
        "UTC",
    )
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    let read_seconds = read_started.elapsed().as_secs_f64();
    outln!(
        "read and checked: {} rows in {read_seconds:.2} s = {:.0} rows/s ({} orders); peak RSS {:.0} MiB",
        read.rows,
        read.rows as f64 / read_seconds,
        read.commands.len(),
        crate::bench::peak_rss_mib()
    );
    drop(bytes);

    // A tenant that takes history back as far as any allowance does, with the items.
    {
        let mut store = backend::open(&db)?;
        store.register_tenant(&flowline_store::TenantRecord {
            tenant: tenant.clone(),
            name: "bench".into(),
            created_at: now,
        })?;
    }
    let engine = Engine::open(backend::durable(&db)?, EngineOptions::default())?;
    let mut setup = vec![
        Submission::new(Command::ConfigureTenant(ConfigureTenant {
            business_time: Some(BusinessTimeWindow {
                backfill_days: BusinessTimeWindow::BACKFILL_DAYS_MAX,
                ..BusinessTimeWindow::default()
            }),
            base_currency: usd,
            reporting_time_zone: TimeZoneName::parse("America/Chicago")
                .map_err(|error| anyhow::anyhow!(error))?,
        }))
        .at(now.checked_sub(jiff::SignedDuration::from_hours(24 * 400))?),
    ];
    for item in 0..args.items {
        setup.push(
            Submission::new(Command::DefineItem(DefineItem {
                sku: Sku::parse(&format!("SKU-{item}"))?,
                name: format!("Item {item}"),
                unit: "each".into(),
                unit_cost: Money {
                    amount_minor: 500,
                    currency: usd,
                },
                price: Money {
                    amount_minor: 1250,
                    currency: usd,
                },
                weight_g: 300,
                dimensions: None,
                hs_code: None,
                country_of_origin: None,
                category: None,
                bom: None,
            }))
            .at(now.checked_sub(jiff::SignedDuration::from_hours(24 * 400))?),
        );
    }
    let answer = engine.submit_atomically(&tenant, setup, None)?;
    anyhow::ensure!(
        matches!(answer.outcome, AtomicOutcome::Applied { .. }),
        "setup refused: {:?}",
        answer.outcome
    );

    let append_started = Instant::now();
    let submissions: Vec<Submission> = read
        .commands
        .into_iter()
        .map(|row| match row.at {
            Some(at) => Submission::new(row.command).at(at),
            None => Submission::new(row.command),
        })
        .collect();
    let answer =
        engine.submit_atomically(&tenant, submissions, Some("import:csv:bench".to_string()))?;
    let append_seconds = append_started.elapsed().as_secs_f64();
    engine.shutdown();
    let AtomicOutcome::Applied { events, .. } = answer.outcome else {
        anyhow::bail!("the import was refused: {:?}", answer.outcome);
    };
    outln!(
        "appended atomically: {events} events for {lines} rows in {append_seconds:.2} s = {:.0} rows/s",
        lines as f64 / append_seconds
    );
    outln!(
        "whole import: {:.0} rows/s; peak RSS {:.0} MiB; log {:.0} MiB",
        lines as f64 / (read_seconds + append_seconds),
        crate::bench::peak_rss_mib(),
        std::fs::metadata(&db).map_or(0, |metadata| metadata.len()) as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
