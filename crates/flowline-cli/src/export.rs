//! `flowline export items|locations|inventory --tenant T [--format csv|jsonl]`: a tenant's
//! master data and stock as files an analyst's tools read, and as `flowline import csv` reads
//! them back without a mapping.
//!
//! The columns are the import kinds' own field names (`flowline_formats::mapped::Kind`), so
//! exporting a tenant and importing the files into an empty one gives the same items, centers
//! and stock. Amounts are written with two decimals after a point (`1234.50`); in JSON lines
//! they are strings, so no reader turns them into binary fractions. Rows are sorted by their
//! key, so the same state always exports to the same bytes.
//!
//! The tenant's state is followed from the log read-only (the engine's follow mode): an export
//! never takes a tenant's writer from a running server.

use crate::backend;
use anyhow::Context as _;
use flowline_core::id::TenantId;
use flowline_core::ledger::VirtualLocation;
use flowline_engine::{Engine, EngineOptions};
use serde_json::{Map, Value};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `flowline export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Items: sku, name, currency, unit_cost, price, unit, weight_g, category, hs_code,
    /// country_of_origin.
    Items,
    /// Fulfillment centers: location, name, country, time_zone, region, city, state,
    /// postal_code, address_line, capacity_orders_per_day.
    Locations,
    /// Stock on hand at each center: location, sku, quantity, unit_cost (the average cost,
    /// rounded to the cent).
    Inventory,
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated, with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `flowline export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// What to export.
    what: What,
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// The file format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Where to write (standard output when absent).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The SQLite event log.
    #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
    db: PathBuf,
}

/// A cell: text, a whole number, an amount in minor units, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cell {
    Text(String),
    Whole(i64),
    Amount(i64),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Whole(number) => number.to_string(),
            Cell::Amount(minor) => amount(*minor),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(text) => Value::String(text.clone()),
            Cell::Whole(number) => Value::from(*number),
            Cell::Amount(minor) => Value::String(amount(*minor)),
            Cell::Empty => Value::Null,
        }
    }
}

/// Minor units as `1234.50` (`-0.05` below zero).
fn amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:02}", minor / 100, minor % 100)
}

fn optional(text: Option<&String>) -> Cell {
    text.map_or(Cell::Empty, |text| Cell::Text(text.clone()))
}

fn text(value: &str) -> Cell {
    if value.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(value.to_string())
    }
}

/// Runs `flowline export`.
pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let tenant = TenantId::parse(&args.tenant)
        .with_context(|| format!("`{}` is not a valid tenant id", args.tenant))?;
    let log = backend::durable(&args.db)
        .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
    let engine = Engine::open(
        log,
        EngineOptions {
            follow: true,
            ..EngineOptions::default()
        },
    )
    .with_context(|| format!("cannot open {}", backend::name(&args.db)))?;
    let what = args.what;
    let (header, rows) = engine
        .query(&tenant, move |state| table(state, what))
        .with_context(|| format!("cannot read tenant {tenant}"))?;
    engine.shutdown();
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer.write_record(header)?;
            for row in &rows {
                writer.write_record(row.iter().map(Cell::text))?;
            }
            writer.flush()?;
        }
        Format::Jsonl => {
            for row in &rows {
                let object: Map<String, Value> = header
                    .iter()
                    .zip(row)
                    .map(|(name, cell)| ((*name).to_string(), cell.json()))
                    .collect();
                serde_json::to_writer(&mut out, &object)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The header and rows of `what`, sorted by key.
fn table(state: &flowline_core::State, what: What) -> (&'static [&'static str], Vec<Vec<Cell>>) {
    match what {
        What::Items => {
            let mut items: Vec<_> = state.items.values().collect();
            items.sort_by(|a, b| a.sku.cmp(&b.sku));
            let rows = items
                .into_iter()
                .map(|item| {
                    vec![
                        Cell::Text(item.sku.to_string()),
                        Cell::Text(item.name.clone()),
                        Cell::Text(item.unit_cost.currency.to_string()),
                        Cell::Amount(item.unit_cost.amount_minor),
                        Cell::Amount(item.price.amount_minor),
                        Cell::Text(item.unit.clone()),
                        Cell::Whole(item.weight_g),
                        optional(item.category.as_ref()),
                        optional(item.hs_code.as_ref()),
                        optional(item.country_of_origin.as_ref()),
                    ]
                })
                .collect();
            (
                &[
                    "sku",
                    "name",
                    "currency",
                    "unit_cost",
                    "price",
                    "unit",
                    "weight_g",
                    "category",
                    "hs_code",
                    "country_of_origin",
                ],
                rows,
            )
        }
        What::Locations => {
            let mut locations: Vec<_> = state.locations.values().collect();
            locations.sort_by(|a, b| a.id.cmp(&b.id));
            let rows = locations
                .into_iter()
                .map(|location| {
                    let address = &location.address;
                    vec![
                        Cell::Text(location.id.to_string()),
                        Cell::Text(location.name.clone()),
                        Cell::Text(address.country.clone()),
                        Cell::Text(address.time_zone.as_str().to_string()),
                        text(&location.region),
                        text(&address.city),
                        text(&address.region),
                        text(&address.postal_code),
                        address
                            .lines
                            .first()
                            .map_or(Cell::Empty, |line| Cell::Text(line.clone())),
                        location
                            .capacity_orders_per_day
                            .map_or(Cell::Empty, Cell::Whole),
                    ]
                })
                .collect();
            (
                &[
                    "location",
                    "name",
                    "country",
                    "time_zone",
                    "region",
                    "city",
                    "state",
                    "postal_code",
                    "address_line",
                    "capacity_orders_per_day",
                ],
                rows,
            )
        }
        What::Inventory => {
            let mut balances: Vec<_> = state
                .stock
                .iter()
                .filter(|((_, location), balance)| {
                    balance.on_hand > 0 && VirtualLocation::from_id(location).is_none()
                })
                .collect();
            balances.sort_by(|a, b| (&a.0.1, &a.0.0).cmp(&(&b.0.1, &b.0.0)));
            let rows = balances
                .into_iter()
                .map(|((sku, location), balance)| {
                    // The average cost, rounded half up to the cent.
                    let average =
                        (2 * balance.value_minor + balance.on_hand).div_euclid(2 * balance.on_hand);
                    vec![
                        Cell::Text(location.to_string()),
                        Cell::Text(sku.to_string()),
                        Cell::Whole(balance.on_hand),
                        Cell::Amount(average),
                    ]
                })
                .collect();
            (&["location", "sku", "quantity", "unit_cost"], rows)
        }
    }
}
