//! `flowline import olist DIR --db FILE [--tenant olist]`: the Olist data set into a tenant,
//! all or nothing; `flowline import csv --kind K --map MAPPING.toml FILE --tenant T`: a CSV
//! file of any layout, through a mapping, the same way.
//!
//! The files are read and mapped first (`flowline_formats::olist`), so malformed input is
//! reported in full before the log is touched. Then the tenant is registered and configured
//! (BRL, America/Sao_Paulo) if it is not yet, and every command goes to the engine in one
//! atomic submission under the key `import:olist:<sha256 of the files>`: either all events are
//! appended or none, and importing the same content again replays the first outcome and
//! appends nothing.

use crate::backend;
use anyhow::Context as _;
use flowline_core::Command;
use flowline_core::id::TenantId;
use flowline_core::master::{BusinessTimeWindow, TimeZoneName};
use flowline_core::money::Currency;
use flowline_core::state::ConfigureTenant;
use flowline_engine::{
    AtomicAnswer, AtomicOutcome, Engine, EngineError, EngineOptions, Outcome, Submission,
};
use flowline_formats::olist::{self, FILE_NAMES, OlistFiles};
use flowline_store::TenantRecord;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `flowline import ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import a CSV file of any layout through a mapping file: items, fulfillment centers
    /// (locations), suppliers, opening stock, purchase orders or sales orders.
    ///
    /// MAP (TOML) says where each field is: `[columns]` maps a field to a header name, a
    /// position from 1 or `{ value = "…" }`; `delimiter`, `decimal` and `thousands` say how
    /// the file is written (docs/import.md lists every kind's fields). The whole file is read
    /// first: every malformed value is listed with its line and column and nothing is
    /// appended. Then all its commands are appended at once or none; the same file and
    /// mapping imported again append nothing and say so. Exit codes: 0 imported (or already
    /// imported), 1 input rejected, 2 could not run.
    Csv {
        /// What the file holds: items, locations, suppliers, opening-stock, purchase-orders or
        /// sales-orders.
        #[arg(long, value_name = "KIND", value_parser = parse_kind)]
        kind: flowline_formats::mapped::Kind,
        /// The mapping file (TOML); without it, the columns are the kind's own field names,
        /// as `flowline export` writes them.
        #[arg(long = "map", value_name = "MAPPING.toml")]
        mapping: Option<PathBuf>,
        /// The CSV file.
        file: PathBuf,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
        /// The tenant to import into; it must be registered and configured.
        #[arg(long)]
        tenant: String,
    },
    /// Import Olist's Brazilian e-commerce data set (eight CSV files).
    ///
    /// The eight CSV files of DIR (olist_orders_dataset.csv, ...,
    /// product_category_name_translation.csv). All or nothing:
    /// malformed input is listed (file, line, column) and nothing is appended; the same
    /// content imported again appends nothing and says "already imported". Exit codes: 0
    /// imported (or already imported), 1 input rejected, 2 could not run.
    Olist {
        /// The folder holding the eight files.
        dir: PathBuf,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
        /// The tenant to import into; registered and configured (BRL, America/Sao_Paulo) if
        /// it is not yet.
        #[arg(long, default_value = "olist")]
        tenant: String,
    },
}

/// The Olist data is in Brazilian reais and Brasília time.
const CURRENCY: &str = "BRL";
const TIME_ZONE: &str = "America/Sao_Paulo";

/// Runs `flowline import ...`.
pub fn run(command: ImportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ImportCommand::Olist { dir, db, tenant } => import_olist(&dir, &db, &tenant),
        ImportCommand::Csv {
            kind,
            mapping,
            file,
            db,
            tenant,
        } => import_csv(kind, mapping.as_deref(), &file, &db, &tenant),
    }
}

/// Says what an applied import appended, or that an earlier one with the same key (`same`)
/// had.
fn applied(events: u64, first_seq: u64, replayed: bool, same: &str) -> ExitCode {
    if replayed {
        outln!(
            "already imported ({same}): its {events} events were appended at sequence \
             {first_seq}; nothing was appended now"
        );
    } else {
        outln!("imported {events} events (from sequence {first_seq})");
    }
    ExitCode::SUCCESS
}

fn parse_kind(text: &str) -> Result<flowline_formats::mapped::Kind, String> {
    use flowline_formats::mapped::Kind;
    Kind::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Kind::ALL.iter().map(|(name, _)| *name).collect();
        format!("`{text}` is not a kind; the kinds are {}", names.join(", "))
    })
}

/// `flowline import csv`.
fn import_csv(
    kind: flowline_formats::mapped::Kind,
    mapping_path: Option<&Path>,
    path: &Path,
    db: &Path,
    tenant: &str,
) -> anyhow::Result<ExitCode> {
    use flowline_formats::mapped;
    let tenant =
        TenantId::parse(tenant).with_context(|| format!("`{tenant}` is not a valid tenant id"))?;
    let mapping_text = match mapping_path {
        Some(mapping_path) => std::fs::read_to_string(mapping_path)
            .with_context(|| format!("cannot read {}", mapping_path.display()))?,
        None => String::new(),
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let kind_name = mapped::Kind::ALL
        .iter()
        .find(|(_, known)| *known == kind)
        .map_or("csv", |(name, _)| *name);
    // The key covers the kind, the mapping and the file, framed as content_hash frames files.
    let mut hasher = Sha256::new();
    for part in [
        kind_name.as_bytes(),
        mapping_text.as_bytes(),
        bytes.as_slice(),
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let hash = hex::encode(hasher.finalize());
    let key = format!("import:csv:{kind_name}:{hash}");
    let file_name = path.display().to_string();
    let mapping = match mapping_path {
        Some(mapping_path) => {
            mapped::mapping(&mapping_path.display().to_string(), &mapping_text, kind)
        }
        None => Ok(mapped::native(kind, &bytes)),
    };
    let mapping = match mapping {
        Ok(mapping) => mapping,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::from(1));
        }
    };
    {
        let store =
            backend::read(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
        if store.registered_tenant(&tenant)?.is_none() {
            anyhow::bail!(
                "tenant `{tenant}` is not registered in {}: create it first (`flowline tenant \
                 create {tenant} --currency … --time-zone …`)",
                backend::name(db)
            );
        }
    }
    let engine = Engine::open(backend::durable(db)?, EngineOptions::default())
        .with_context(|| format!("cannot open {}", backend::name(db)))?;
    // Dates without a zone in the mapping are civil times of the tenant's reporting zone.
    let zone = engine
        .query(&tenant, |state| {
            state
                .settings
                .as_ref()
                .map(|settings| settings.reporting_time_zone.as_str().to_string())
        })
        .context("cannot read the tenant's settings")?
        .unwrap_or_else(|| "UTC".to_string());
    let read = match mapped::read(kind, &mapping, &file_name, &bytes, &hash[..12], &zone) {
        Ok(read) => read,
        Err(error) => {
            engine.shutdown();
            eprintln!("{error}");
            return Ok(ExitCode::from(1));
        }
    };
    let lines: Vec<u64> = read.commands.iter().map(|row| row.line).collect();
    let names: Vec<&'static str> = read.commands.iter().map(|row| row.command.name()).collect();
    let submissions: Vec<Submission> = read
        .commands
        .into_iter()
        .map(|row| match row.at {
            Some(at) => Submission::new(row.command).at(at),
            None => Submission::new(row.command),
        })
        .collect();
    let answer = engine.submit_atomically(&tenant, submissions, Some(key.clone()));
    engine.shutdown();
    outln!(
        "{file_name}: {} rows read, {} entirely empty rows skipped; {} commands",
        read.rows,
        read.empty_rows,
        lines.len()
    );
    outln!("import id: {key}");
    match answer {
        Ok(AtomicAnswer {
            outcome: AtomicOutcome::Applied {
                events, first_seq, ..
            },
            replayed,
        }) => Ok(applied(
            events,
            first_seq,
            replayed,
            "same file and mapping",
        )),
        Ok(AtomicAnswer {
            outcome:
                AtomicOutcome::Rejected {
                    index,
                    code,
                    message,
                    ..
                },
            ..
        }) => {
            eprintln!(
                "{file_name}:{}: the tenant refused the row's {}: {code}: {message}; nothing \
                 was appended",
                lines.get(index).copied().unwrap_or(0),
                names.get(index).copied().unwrap_or("command")
            );
            Ok(ExitCode::from(1))
        }
        Err(error) => Err(error).context("the import could not be appended"),
    }
}

fn import_olist(dir: &Path, db: &Path, tenant: &str) -> anyhow::Result<ExitCode> {
    let tenant =
        TenantId::parse(tenant).with_context(|| format!("`{tenant}` is not a valid tenant id"))?;
    let mut contents: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    for name in FILE_NAMES {
        let path = dir.join(name);
        let optional = olist::OPTIONAL.iter().any(|(file, _)| *file == name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                contents.insert(name, bytes);
            }
            // A partial export may lack a companion file: the report says what was assumed.
            Err(error) if optional && error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()));
            }
        }
    }
    let files = OlistFiles::from_export(|name| contents.get(name).map(Vec::as_slice));
    let import = match olist::import(&files) {
        Ok(import) => import,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::from(1));
        }
    };
    let key = format!("import:olist:{}", content_hash(&files));

    let mut store =
        backend::open(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
    if store
        .registered_tenant(&tenant)
        .with_context(|| format!("cannot read {}", crate::backend::name(db)))?
        .is_none()
    {
        store
            .register_tenant(&TenantRecord {
                tenant: tenant.clone(),
                name: format!("{tenant} (Olist import)"),
                created_at: Timestamp::now(),
            })
            .with_context(|| format!("cannot register tenant {tenant}"))?;
        outln!("registered tenant {tenant}");
    }
    drop(store);

    let engine = Engine::open(backend::durable(db)?, EngineOptions::default())
        .with_context(|| format!("cannot open {}", backend::name(db)))?;
    let settings = engine
        .query(&tenant, |state| state.settings.clone())
        .context("cannot read the tenant's settings")?;
    let currency = Currency::parse(CURRENCY).map_err(|error| anyhow::anyhow!("{error}"))?;
    match settings {
        None => {
            // Olist's orders were placed from 2016 to 2018: the tenant takes history as far
            // back as any allowance does.
            let configure = Command::ConfigureTenant(ConfigureTenant {
                business_time: Some(BusinessTimeWindow {
                    backfill_days: BusinessTimeWindow::BACKFILL_DAYS_MAX,
                    ..BusinessTimeWindow::default()
                }),
                base_currency: currency,
                reporting_time_zone: TimeZoneName::parse(TIME_ZONE)
                    .map_err(|error| anyhow::anyhow!(error))?,
            });
            let answer = engine
                .submit(&tenant, Submission::new(configure))
                .with_context(|| format!("cannot configure tenant {tenant}"))?;
            if let Outcome::Rejected { message, .. } = answer.outcome {
                anyhow::bail!("cannot configure tenant {tenant}: {message}");
            }
            outln!("configured tenant {tenant}: base currency {CURRENCY}, time zone {TIME_ZONE}");
        }
        Some(settings) if settings.base_currency != currency => {
            eprintln!(
                "tenant {tenant} keeps its books in {}; Olist amounts are in {CURRENCY}. \
                 Import into another tenant (--tenant). Nothing was appended.",
                settings.base_currency
            );
            return Ok(ExitCode::from(1));
        }
        Some(_) => {}
    }

    let names: Vec<(&'static str, Option<String>)> = import
        .submissions
        .iter()
        .map(|(command, _)| describe(command))
        .collect();
    let submissions: Vec<Submission> = import
        .submissions
        .into_iter()
        .map(|(command, at)| Submission::new(command).at(at))
        .collect();
    let answer = engine.submit_atomically(&tenant, submissions, Some(key.clone()));
    engine.shutdown();
    outln!("{}", import.report);
    outln!("import id: {key}");
    match answer {
        Ok(AtomicAnswer {
            outcome: AtomicOutcome::Applied {
                events, first_seq, ..
            },
            replayed,
        }) => Ok(applied(events, first_seq, replayed, "same content")),
        Ok(AtomicAnswer {
            outcome:
                AtomicOutcome::Rejected {
                    index,
                    code,
                    message,
                    ..
                },
            replayed,
        }) => {
            let (command, order) = names.get(index).cloned().unwrap_or(("command", None));
            let subject = order.map_or_else(String::new, |order| format!(" of order {order}"));
            eprintln!(
                "the tenant refused command {index} ({command}{subject}): {code}: {message}; \
                 nothing was appended{}",
                if replayed {
                    " (the outcome of an earlier attempt with the same content)"
                } else {
                    ""
                }
            );
            Ok(ExitCode::from(1))
        }
        Err(EngineError::IdempotencyKeyReused { .. }) => {
            eprintln!(
                "this content was imported before by an importer that mapped it to different \
                 commands (import id {key}); nothing was appended"
            );
            Ok(ExitCode::from(1))
        }
        Err(error) => Err(error).context("the import could not be appended"),
    }
}

/// SHA-256 over the eight files in the fixed order of `FILE_NAMES`, each as its name, a zero
/// byte, its length (8 bytes, little-endian) and its bytes: the framing keeps a byte moved from
/// the end of one file to the start of the next from giving the same hash.
fn content_hash(files: &OlistFiles<'_>) -> String {
    let mut hasher = Sha256::new();
    for file in files.in_order() {
        hasher.update(file.name.as_bytes());
        hasher.update([0]);
        hasher.update((file.bytes.len() as u64).to_le_bytes());
        hasher.update(file.bytes);
    }
    hex::encode(hasher.finalize())
}

/// A command's name and the order it concerns, for the message naming a refused command.
fn describe(command: &Command) -> (&'static str, Option<String>) {
    (
        command.name(),
        command.sales_order().map(ToString::to_string),
    )
}
