//! Where the log lives: the one module of the binary that names a backend. Every command opens
//! its log through here; the rest of Flowline knows only the `flowline_store` interfaces.
//!
//! Today a log is a SQLite file (the embedded default) or, for simulations, held in memory.

use flowline_store::{SharedBackend, Store, StoreError};
use flowline_store_memory::MemoryBackend;
use flowline_store_sqlite::{OpenOptions, SqliteBackend, SqliteStore};
use std::path::Path;

/// The log file at `path`, created if absent, every commit flushed to disk before it is
/// answered.
pub fn durable(path: &Path) -> Result<SharedBackend, StoreError> {
    SqliteBackend::shared(path, OpenOptions::durable())
}

/// The log file at `path`, created if absent, commits not flushed one by one: for logs that can
/// be made again (a simulation from its seed, a benchmark's).
pub fn relaxed(path: &Path) -> Result<SharedBackend, StoreError> {
    SqliteBackend::shared(path, OpenOptions::relaxed())
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
    Ok(Box::new(SqliteStore::open(path, &OpenOptions::durable())?))
}

/// A handle that writes the log file at `path` (created if absent), commits not flushed one by
/// one.
pub fn open_relaxed(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(SqliteStore::open(path, &OpenOptions::relaxed())?))
}

/// A handle that reads the existing log file at `path`; never creates one.
pub fn read(path: &Path) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(SqliteStore::open_read_only(path)?))
}

/// How the log file at `path` keeps commits, as its database reports it on a connection opened
/// as the engine opens its own: the journal mode and the `synchronous` level (2 is FULL).
pub fn durability(path: &Path) -> Result<(String, i64), StoreError> {
    SqliteStore::open(path, &OpenOptions::durable())?.durability_settings()
}

/// Where the snapshots of the log at `path` are kept.
pub fn snapshot_directory(path: &Path) -> std::path::PathBuf {
    flowline_store_sqlite::snapshot_directory(path)
}
