//! Where the log lives: the one module of the binary that names a backend. Every command opens
//! its log through here; the rest of Flowline knows only the `flowline_store` interfaces.
//!
//! A log is a SQLite file (the embedded default), a PostgreSQL database (when the command is
//! given `--database-url`, which then stands in for every `--db` file), or, for simulations,
//! held in memory.

use flowline_store::{Backend, SharedBackend, Store, StoreError};
use flowline_store_memory::MemoryBackend;
use flowline_store_postgres::PostgresBackend;
use flowline_store_postgres::routed::Clusters;
use flowline_store_sqlite::{OpenOptions, SqliteBackend, SqliteStore};
use std::path::Path;
use std::sync::OnceLock;

/// The PostgreSQL database every command's log is on instead of its `--db` file, when the
/// command line (or `FLOWLINE_DATABASE_URL`) names one; set once, before any command runs.
static DATABASE_URL: OnceLock<String> = OnceLock::new();

/// The other PostgreSQL clusters tenants may be on, by name, when `--cluster` names any.
static CLUSTERS: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// From now on, tenants may be on these clusters as well as on the database of
/// [`use_database`] (the home one).
pub fn use_clusters(clusters: Vec<(String, String)>) {
    let _ = CLUSTERS.set(clusters);
}

/// Whether `--cluster` named other clusters.
pub fn has_clusters() -> bool {
    !clusters().is_empty()
}

/// The clusters `--cluster` named, if any.
fn clusters() -> &'static [(String, String)] {
    CLUSTERS.get().map_or(&[], Vec::as_slice)
}

/// The PostgreSQL log at `url`: one database, or, when `--cluster` names others, the home
/// database `url` and those, each tenant on the one the home database routes it to.
fn postgres_log(url: &str) -> Result<SharedBackend, StoreError> {
    if clusters().is_empty() {
        PostgresBackend::shared(url)
    } else {
        Ok(std::sync::Arc::new(Clusters::connect(url, clusters())?))
    }
}

/// What `flowline tenant move` did.
pub use flowline_store_postgres::routed::Moved;

/// Moves `tenant` to the cluster `to` (`None`: the home database) among the home database and
/// the clusters of `--cluster`; see `flowline_store_postgres::routed::move_tenant` for the
/// steps. The tenant must be registered and the cluster one of those given.
pub fn move_tenant<E: From<StoreError>>(
    tenant: &flowline_core::id::TenantId,
    to: Option<&str>,
    copy_events: flowline_store_postgres::routed::CopyStep<'_, u64, E>,
    finish: flowline_store_postgres::routed::CopyStep<'_, (), E>,
) -> Result<Moved, E> {
    let clusters = postgres_clusters()?;
    if clusters.cluster(to).is_none() {
        let known: String = clusters
            .names()
            .iter()
            .map(|name| format!(", {name}"))
            .collect();
        let name = to.unwrap_or("home");
        return Err(StoreError::InvalidRequest {
            reason: format!(
                "no cluster named `{name}`: give it with --cluster {name}=postgres://… (known: \
                 home{known})"
            ),
        }
        .into());
    }
    let home = clusters.home().open_reader()?;
    if home.registered_tenant(tenant)?.is_none() {
        return Err(StoreError::NotFound {
            what: format!("tenant `{tenant}` in the home database"),
        }
        .into());
    }
    flowline_store_postgres::routed::move_tenant(&clusters, tenant, to, copy_events, finish)
}

/// The home database and the clusters of `--cluster`, for moving tenants between them.
fn postgres_clusters() -> Result<Clusters, StoreError> {
    let Some(url) = postgres() else {
        return Err(StoreError::InvalidAddress {
            reason: "moving a tenant needs --database-url (or FLOWLINE_DATABASE_URL) naming the \
                     home database, and --cluster NAME=URL for the others"
                .into(),
        });
    };
    Clusters::connect(url, clusters())
}

/// From now on, every log this module opens is the PostgreSQL database at `url`.
pub fn use_database(url: String) {
    // Set once, from `main`; a second call (a test running commands in one process) keeps the
    // first.
    let _ = DATABASE_URL.set(url);
}

/// The PostgreSQL database logs are on, if one was named.
pub fn database_url() -> Option<String> {
    postgres().map(str::to_string)
}

/// The SQLite file at `path`, durably, whatever `--database-url` says: a benchmark's baseline.
pub fn sqlite_durable(path: &Path) -> Result<SharedBackend, StoreError> {
    SqliteBackend::shared(path, OpenOptions::durable())
}

/// The PostgreSQL database at `url`.
pub fn postgres_shared(url: &str) -> Result<SharedBackend, StoreError> {
    PostgresBackend::shared(url)
}

/// The streaming replica at `url` of the PostgreSQL database at `primary_url`, for reading.
pub fn postgres_replica(url: &str, primary_url: &str) -> Result<SharedBackend, StoreError> {
    Ok(std::sync::Arc::new(PostgresBackend::replica(
        url,
        primary_url,
    )?))
}

/// Whether logs are on PostgreSQL rather than in files.
pub fn is_postgres() -> bool {
    DATABASE_URL.get().is_some()
}

fn postgres() -> Option<&'static str> {
    DATABASE_URL.get().map(String::as_str)
}

/// The log as messages name it: the file's path, or the database (never its password).
pub fn name(path: &Path) -> String {
    match postgres() {
        Some(url) => redact(url),
        None => path.display().to_string(),
    }
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The log file at `path`, created if absent, every commit flushed to disk before it is
/// answered; or the database, whose commits are as durable as its server is set to make them.
pub fn durable(path: &Path) -> Result<SharedBackend, StoreError> {
    match postgres() {
        Some(url) => postgres_log(url),
        None => SqliteBackend::shared(path, OpenOptions::durable()),
    }
}

/// The log file at `path`, created if absent, commits not flushed one by one: for logs that can
/// be made again (a simulation from its seed, a benchmark's). On PostgreSQL, as [`durable`].
pub fn relaxed(path: &Path) -> Result<SharedBackend, StoreError> {
    match postgres() {
        Some(url) => postgres_log(url),
        None => SqliteBackend::shared(path, OpenOptions::relaxed()),
    }
}

/// A log held in memory, gone when the process ends.
pub fn memory() -> SharedBackend {
    MemoryBackend::shared()
}

/// A log held in memory, with a way to ask how many bytes it holds (a walk of the whole log).
pub fn memory_sized() -> (SharedBackend, impl Fn() -> u64) {
    let log = MemoryBackend::new();
    let sized = log.clone();
    (std::sync::Arc::new(log), move || sized.bytes())
}

/// A handle that writes the log file at `path` (created if absent), durably.
pub fn open(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    match postgres() {
        Some(url) => postgres_log(url)?.open(),
        None => Ok(Box::new(SqliteStore::open(path, &OpenOptions::durable())?)),
    }
}

/// A handle that writes the log file at `path` (created if absent), commits not flushed one by
/// one.
pub fn open_relaxed(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    match postgres() {
        Some(url) => postgres_log(url)?.open(),
        None => Ok(Box::new(SqliteStore::open(path, &OpenOptions::relaxed())?)),
    }
}

/// A handle that reads the existing log file at `path`; never creates one.
pub fn read(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    match postgres() {
        Some(url) => postgres_log(url)?.open_reader(),
        None => Ok(Box::new(SqliteStore::open_read_only(path)?)),
    }
}

/// A handle that reads the SQLite log file at `path`, whatever `--database-url` says: the
/// source of a copy to PostgreSQL.
pub fn sqlite_reader(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(SqliteStore::open_read_only(path)?))
}

/// A handle that writes the PostgreSQL database at `url`, its schema migrated first.
pub fn postgres_writer(url: &str) -> Result<Box<dyn Store>, StoreError> {
    PostgresBackend::connect(url)?.open()
}

/// How the log keeps commits, as its database reports it on a connection opened as the engine
/// opens its own: for a file, the journal mode and the `synchronous` level (`journal_mode=wal
/// synchronous=FULL (2)`); for PostgreSQL, the server's `fsync` and `synchronous_commit`.
pub fn durability(path: &Path) -> Result<String, StoreError> {
    match postgres() {
        Some(url) => {
            let settings = PostgresBackend::connect(url)?.durability_settings()?;
            Ok(settings
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join(" "))
        }
        None => {
            let (journal_mode, synchronous) =
                SqliteStore::open(path, &OpenOptions::durable())?.durability_settings()?;
            Ok(format!(
                "journal_mode={journal_mode} synchronous={} ({synchronous})",
                synchronous_name(synchronous)
            ))
        }
    }
}

fn synchronous_name(value: i64) -> &'static str {
    match value {
        0 => "OFF",
        1 => "NORMAL",
        2 => "FULL",
        3 => "EXTRA",
        _ => "unknown",
    }
}

/// Where the snapshots of the log at `path` are kept.
pub fn snapshot_directory(path: &Path) -> std::path::PathBuf {
    flowline_store_sqlite::snapshot_directory(path)
}
