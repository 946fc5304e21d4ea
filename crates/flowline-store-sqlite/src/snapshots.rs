//! Snapshots beside the log: files in a directory next to the database file
//! (`flowline.db.snapshots/<tenant>/<projection>.snapshot`), not rows in it, so saving a large
//! snapshot never holds the database's write lock while the engine is appending.
//!
//! A save writes a temporary file, syncs it, renames it over the previous snapshot and syncs
//! the directory: a crash leaves the old snapshot or the new one, never a torn file (and a torn
//! file would fail its checksum and be rebuilt from the log anyway).

use crate::store::SqliteStore;
use flowline_core::id::TenantId;
use flowline_store::{Snapshots, StoreError};
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The directory holding the snapshots of the database at `database`.
pub fn directory_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".snapshots");
    PathBuf::from(name)
}

fn file_of(database: &Path, tenant: &TenantId, projection: &str) -> Result<PathBuf, StoreError> {
    // Projection names come from the code; refuse anything that could leave the directory.
    let plain = !projection.is_empty()
        && projection
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !plain {
        return Err(StoreError::Io(format!(
            "{projection:?} is not a projection name (lowercase letters, digits and _)"
        )));
    }
    // Tenant ids are validated: ASCII letters, digits, `.`, `_`, `-`, `:`, never starting with
    // a dot, so they are plain directory names.
    Ok(directory_of(database)
        .join(tenant.as_str())
        .join(format!("{projection}.snapshot")))
}

fn io(what: &str, path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Io(format!("cannot {what} {}: {error}", path.display()))
}

impl Snapshots for SqliteStore {
    fn save_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let path = file_of(self.path(), tenant, projection)?;
        let Some(folder) = path.parent() else {
            return Err(StoreError::Io(format!(
                "{} has no directory",
                path.display()
            )));
        };
        fs::create_dir_all(folder).map_err(|error| io("create", folder, error))?;
        let temporary = path.with_extension("snapshot.partial");
        let mut file = File::create(&temporary).map_err(|error| io("create", &temporary, error))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|error| io("write", &temporary, error))?;
        drop(file);
        fs::rename(&temporary, &path).map_err(|error| io("rename", &temporary, error))?;
        File::open(folder)
            .and_then(|directory| directory.sync_all())
            .map_err(|error| io("sync", folder, error))
    }

    fn load_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let path = file_of(self.path(), tenant, projection)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io("read", &path, error)),
        }
    }
}

/// A file has one process writing it (SQLite serializes writers, and a stale writer's append is
/// refused by the tenant's sequence): its leases are always held, with token 0.
impl flowline_store::Leases for SqliteStore {}
