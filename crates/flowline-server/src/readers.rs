//! Read-only connections to the log, for the reads that do not go through a tenant's writer:
//! API keys, the event feed and documents folded from their streams.
//!
//! SQLite reads in WAL mode never block the writer and see only committed transactions, so
//! what they return is durable. Connections are pooled (a connection caches prepared
//! statements) and used on tokio's blocking threads, because SQLite calls block.

use crate::error::ApiError;
use flowline_store::{SqliteStore, StoreError};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Connections kept open between requests; more are opened under load and closed after.
const POOL_SIZE_MAX: usize = 64;

/// A pool of read-only stores on one log file.
#[derive(Debug, Clone)]
pub struct Readers {
    path: PathBuf,
    idle: Arc<Mutex<Vec<SqliteStore>>>,
}

impl Readers {
    /// A pool on the log at `path` (which must exist).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `read` on a connection on a blocking thread. Store errors become 500s whose cause is
    /// logged; `read` may return an [`ApiError`] of its own.
    pub async fn read<R, F>(&self, read: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&SqliteStore) -> Result<R, ApiError> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = pool.take().map_err(ApiError::internal)?;
            let result = read(&store);
            pool.give_back(store);
            result
        })
        .await
        .map_err(ApiError::internal)?
    }

    fn take(&self) -> Result<SqliteStore, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(store) => Ok(store),
            None => SqliteStore::open_read_only(&self.path),
        }
    }

    fn give_back(&self, store: SqliteStore) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < POOL_SIZE_MAX
        {
            idle.push(store);
        }
    }
}

/// A store error as an API error: always internal.
pub fn store_error(error: StoreError) -> ApiError {
    ApiError::internal(error)
}
