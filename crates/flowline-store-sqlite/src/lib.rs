//! Flowline's embedded event log: the [`flowline_store`] interfaces on one SQLite file.
//!
//! - [`SqliteStore`]: one connection to the file, opened with [`OpenOptions`] and a
//!   [`Durability`] level whose settings are read back and verified; it implements
//!   [`flowline_store::EventStore`], [`flowline_store::Directory`] and
//!   [`flowline_store::LogIndex`]; its [`flowline_store::Snapshots`] are files in a directory
//!   beside the database (see [`snapshot_directory`]).
//! - [`SqliteBackend`]: the file as a [`flowline_store::Backend`], which opens a connection for
//!   each handle asked of it. Any number of connections, in any number of processes, may open
//!   the same file: writes serialize through `BEGIN IMMEDIATE`, and reads never block writes.
//!
//! The file's tables are described in `schema.rs`, the encoding of payloads (checksums and
//! dictionary compression) in `codec.rs`.
#![warn(missing_docs)]

mod codec;
mod keys;
mod schema;
mod snapshots;
mod store;

pub use snapshots::directory_of as snapshot_directory;
pub use store::{Durability, OpenOptions, SqliteStore};

use flowline_store::{Backend, SharedBackend, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One SQLite file as a [`Backend`]: every handle is a connection of its own.
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    path: PathBuf,
    options: OpenOptions,
}

impl SqliteBackend {
    /// The file at `path`, opened with `options`. Opens one connection to check that the file
    /// can be created or migrated and honours the durability asked for, so a bad path fails
    /// here rather than at the first command.
    pub fn open(path: &Path, options: OpenOptions) -> Result<Self, StoreError> {
        SqliteStore::open(path, &options)?;
        Ok(Self {
            path: path.to_path_buf(),
            options,
        })
    }

    /// [`SqliteBackend::open`], shared.
    pub fn shared(path: &Path, options: OpenOptions) -> Result<SharedBackend, StoreError> {
        Ok(Arc::new(Self::open(path, options)?))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Backend for SqliteBackend {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(SqliteStore::open(&self.path, &self.options)?))
    }

    fn open_reader(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(SqliteStore::open_read_only(&self.path)?))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// Turns a SQLite error into a [`StoreError`]: a lock held past the busy timeout is
/// [`StoreError::Busy`], anything else [`StoreError::Database`].
pub(crate) fn db_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Busy
        }
        _ => StoreError::Database(Box::new(error)),
    }
}

/// `.db()?` on a SQLite result: its error as a [`StoreError`].
pub(crate) trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(db_error)
    }
}
