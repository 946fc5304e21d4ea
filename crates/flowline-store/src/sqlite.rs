//! The SQLite (WAL) implementation of [`EventStore`].

use crate::{
    AppendOutcome, AppendRequest, BalanceRow, EventStore, IdempotencyLookup, StoreError,
    StoredEvent,
};
use flowline_core::id::TenantId;
use jiff::Timestamp;
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema version this build creates and understands (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 2;

/// How long a connection waits for another connection's lock before giving up with
/// [`StoreError::Busy`].
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// The page cache of a writing connection: 32 MiB (`PRAGMA cache_size` takes negative KiB),
/// allocated as used. A group commit touches pages all over the `(tenant, stream,
/// stream_version)` index; SQLite's default of 2 MiB would re-read them once the log grows.
const CACHE_SIZE: i64 = -32_768;

/// Bytes of the database file read through a memory map rather than `pread` into the page cache:
/// 8 GiB. Once the log outgrows the page cache, every group commit probes index pages all over
/// the file; through the map those reads cost a page-table lookup instead of a system call and a
/// copy, which kept durable appends at 64k events/s with 10M events in the log where they had
/// fallen from 95k to 43k. Mapped pages are the kernel's page cache, shared and reclaimable:
/// they show as file-backed resident memory, not as the process's own.
const MMAP_SIZE: i64 = 8 << 30;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    tenant         TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    stream         TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    business_time  INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    payload        TEXT NOT NULL,
    checksum       INTEGER NOT NULL,
    UNIQUE (tenant, seq),
    UNIQUE (tenant, stream, stream_version)
);
CREATE TABLE IF NOT EXISTS tenants (
    tenant TEXT PRIMARY KEY,
    head   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
    tenant       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balances (
    tenant      TEXT NOT NULL,
    item        TEXT NOT NULL,
    location    TEXT NOT NULL,
    on_hand     INTEGER NOT NULL,
    reserved    INTEGER NOT NULL,
    value_minor INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, location)
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
PRAGMA user_version = 1;
";

/// The schema as version 1 created it, for the migration test.
#[cfg(test)]
pub(crate) fn schema_version_one() -> String {
    SCHEMA.to_string()
}

/// Version 2: the tenants the API serves and their API keys (only a hash of each secret).
const MIGRATE_TO_2: &str = "
CREATE TABLE IF NOT EXISTS registered_tenants (
    tenant     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
    tenant      TEXT NOT NULL,
    key_id      TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    label       TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    PRIMARY KEY (tenant, key_id)
) WITHOUT ROWID;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
PRAGMA user_version = 2;
";

/// `SELECT` of every event column, in the order [`decode_event`] reads them.
macro_rules! select_events {
    ($rest:literal) => {
        concat!(
            "SELECT position, tenant, seq, stream, stream_version, event_type, schema_version, ",
            "business_time, recorded_at, payload, checksum FROM events ",
            $rest
        )
    };
}

const SELECT_TENANT: &str = select_events!("WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
const SELECT_ALL: &str = select_events!("WHERE position > ?1 ORDER BY position LIMIT ?2");
const SELECT_STREAM: &str =
    select_events!("WHERE tenant = ?1 AND stream = ?2 ORDER BY stream_version");
const INSERT_EVENT: &str = "INSERT INTO events (position, tenant, seq, stream, stream_version, \
     event_type, schema_version, business_time, recorded_at, payload, checksum) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const SELECT_HEAD: &str = "SELECT head FROM tenants WHERE tenant = ?1";
const UPSERT_HEAD: &str = "INSERT INTO tenants (tenant, head) VALUES (?1, ?2) \
     ON CONFLICT (tenant) DO UPDATE SET head = excluded.head";
const SELECT_LAST_POSITION: &str = "SELECT COALESCE(MAX(position), 0) FROM events";
const SELECT_STREAM_VERSION: &str =
    "SELECT MAX(stream_version) FROM events WHERE tenant = ?1 AND stream = ?2";
const SELECT_IDEMPOTENCY: &str =
    "SELECT request_hash, response FROM idempotency WHERE tenant = ?1 AND key = ?2";
const INSERT_IDEMPOTENCY: &str = "INSERT INTO idempotency \
     (tenant, key, request_hash, response, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)";
const UPSERT_BALANCE: &str = "INSERT INTO balances \
     (tenant, item, location, on_hand, reserved, value_minor) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (tenant, item, location) DO UPDATE SET on_hand = excluded.on_hand, \
     reserved = excluded.reserved, value_minor = excluded.value_minor";
const SELECT_BALANCES: &str = "SELECT item, location, on_hand, reserved, value_minor \
     FROM balances WHERE tenant = ?1 ORDER BY item, location";

/// How hard a commit works to survive a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: a committed append survives power loss. The default.
    Full,
    /// `synchronous = NORMAL`: a committed append survives a crash of the process but the last
    /// commits may be lost on power loss. Only for explicit opt-in (tests, benchmarks, imports).
    Relaxed,
}

impl Durability {
    /// The value of `PRAGMA synchronous` this level requires (FULL = 2, NORMAL = 1).
    pub fn synchronous(self) -> i64 {
        match self {
            Self::Full => 2,
            Self::Relaxed => 1,
        }
    }
}

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// The durability level; see [`Durability`].
    pub durability: Durability,
}

impl OpenOptions {
    /// Options for a production store: [`Durability::Full`].
    pub fn durable() -> Self {
        Self {
            durability: Durability::Full,
        }
    }

    /// Options that trade power-loss durability for speed: [`Durability::Relaxed`].
    pub fn relaxed() -> Self {
        Self {
            durability: Durability::Relaxed,
        }
    }
}

impl Default for OpenOptions {
    /// The same as [`OpenOptions::durable`].
    fn default() -> Self {
        Self::durable()
    }
}

/// An [`EventStore`] in one SQLite database file, in WAL mode.
///
/// Each instance owns one connection. Several instances (in different threads or processes)
/// may open the same file: writes serialize through `BEGIN IMMEDIATE` and a 5 s busy timeout,
/// and reads never block writes.
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) connection: Connection,
    path: PathBuf,
    read_only: bool,
}

impl SqliteStore {
    /// Opens the store at `path` for reading and writing, creating the file and its schema if
    /// absent, and verifies that the database honours the requested durability (WAL journal,
    /// `synchronous` as asked).
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(|error| {
            StoreError::Io(format!("cannot open or create {}: {error}", path.display()))
        })?;
        configure(&connection)?;

        let journal_mode: String =
            connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::DurabilityNotHonoured {
                setting: "journal_mode",
                requested: "wal".to_string(),
                actual: journal_mode,
            });
        }
        let requested = options.durability.synchronous();
        connection.pragma_update(None, "synchronous", requested)?;
        let synchronous: i64 =
            connection.pragma_query_value(None, "synchronous", |row| row.get(0))?;
        if synchronous != requested {
            return Err(StoreError::DurabilityNotHonoured {
                setting: "synchronous",
                requested: requested.to_string(),
                actual: synchronous.to_string(),
            });
        }
        connection.pragma_update(None, "cache_size", CACHE_SIZE)?;
        connection.pragma_update(None, "mmap_size", MMAP_SIZE)?;

        let mut store = Self {
            connection,
            path: path.to_path_buf(),
            read_only: false,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing store for reading only. Never creates a file: if `path` does not exist
    /// the error is [`StoreError::Missing`] naming it. [`EventStore::append`] on a read-only
    /// store fails with [`StoreError::ReadOnly`].
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => {
                return Err(StoreError::Io(format!("{} is not a file", path.display())));
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing {
                    path: path.to_path_buf(),
                });
            }
            Err(error) => {
                return Err(StoreError::Io(format!(
                    "cannot read {}: {error}",
                    path.display()
                )));
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)
            .map_err(|error| StoreError::Io(format!("cannot open {}: {error}", path.display())))?;
        configure(&connection)?;
        let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if found != SCHEMA_VERSION {
            return Err(StoreError::UnsupportedSchema {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Self {
            connection,
            path: path.to_path_buf(),
            read_only: true,
        })
    }

    /// The `(journal_mode, synchronous)` pragmas as the database reports them now, for example
    /// `("wal", 2)` for a [`Durability::Full`] store.
    pub fn durability_settings(&self) -> Result<(String, i64), StoreError> {
        let journal_mode: String =
            self.connection
                .pragma_query_value(None, "journal_mode", |row| row.get(0))?;
        let synchronous: i64 = self
            .connection
            .pragma_query_value(None, "synchronous", |row| row.get(0))?;
        Ok((journal_mode.to_ascii_lowercase(), synchronous))
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the store was opened with [`SqliteStore::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        Ok(())
    }

    /// Creates the schema in a new file, brings an older file's up to this build's, or checks
    /// that an existing file's is this build's.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match found {
            0 => {
                transaction.execute_batch(SCHEMA)?;
                transaction.execute_batch(MIGRATE_TO_2)?;
            }
            1 => transaction.execute_batch(MIGRATE_TO_2)?,
            SCHEMA_VERSION => {}
            _ => {
                return Err(StoreError::UnsupportedSchema {
                    path: self.path.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        transaction.commit()?;
        Ok(())
    }

    fn last_position(connection: &Connection) -> Result<u64, StoreError> {
        let last: i64 = connection
            .prepare_cached(SELECT_LAST_POSITION)?
            .query_row([], |row| row.get(0))?;
        stored_u64(last, "last position")
    }

    fn head(connection: &Connection, tenant: &TenantId) -> Result<u64, StoreError> {
        let head: Option<i64> = connection
            .prepare_cached(SELECT_HEAD)?
            .query_row([tenant.as_str()], |row| row.get(0))
            .optional()?;
        stored_u64(head.unwrap_or(0), "tenant head")
    }

    fn read_events(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        capacity: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut events = Vec::with_capacity(capacity.min(4096));
        while let Some(row) = rows.next()? {
            events.push(decode_event(row)?);
        }
        Ok(events)
    }
}

impl EventStore for SqliteStore {
    fn append(&mut self, request: &AppendRequest) -> Result<AppendOutcome, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        if request.commands.is_empty() && request.balances.is_empty() {
            let head = Self::head(&self.connection, &request.tenant)?;
            let last_position = Self::last_position(&self.connection)?;
            return Ok(empty_outcome(head, last_position));
        }
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = append_in(&transaction, request)?;
        transaction.commit()?;
        Ok(outcome)
    }

    fn read_tenant(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read_events(
            SELECT_TENANT,
            params![tenant.as_str(), clamp_u64(after_seq), clamp_usize(limit)],
            limit,
        )
    }

    fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read_events(
            SELECT_ALL,
            params![clamp_u64(after_position), clamp_usize(limit)],
            limit,
        )
    }

    fn read_stream(&self, tenant: &TenantId, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        self.read_events(SELECT_STREAM, params![tenant.as_str(), stream], 16)
    }

    fn stream_version(&self, tenant: &TenantId, stream: &str) -> Result<Option<u64>, StoreError> {
        stream_version_in(&self.connection, tenant, stream)
    }

    fn tenant_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        Self::head(&self.connection, tenant)
    }

    fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT tenant FROM tenants ORDER BY tenant")?;
        let mut rows = statement.query([])?;
        let mut tenants = Vec::new();
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let tenant = TenantId::parse(&name).map_err(|error| StoreError::Corrupt {
                position: 0,
                reason: format!("tenants table: {error}"),
            })?;
            tenants.push(tenant);
        }
        Ok(tenants)
    }

    fn idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyLookup, StoreError> {
        idempotency_in(&self.connection, tenant, key, request_hash)
    }

    fn balances(&self, tenant: &TenantId) -> Result<Vec<BalanceRow>, StoreError> {
        let mut statement = self.connection.prepare_cached(SELECT_BALANCES)?;
        let rows = statement.query_map([tenant.as_str()], |row| {
            Ok(BalanceRow {
                item: row.get(0)?,
                location: row.get(1)?,
                on_hand: row.get(2)?,
                reserved: row.get(3)?,
                value_minor: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// The body of [`SqliteStore::append`], inside an immediate transaction that the caller commits
/// on success and rolls back (by dropping it) on error.
fn append_in(
    connection: &Connection,
    request: &AppendRequest,
) -> Result<AppendOutcome, StoreError> {
    let tenant = &request.tenant;
    let head = SqliteStore::head(connection, tenant)?;
    if head != request.expected_seq {
        return Err(StoreError::SeqConflict {
            tenant: tenant.clone(),
            expected: request.expected_seq,
            actual: head,
        });
    }
    let last_position = SqliteStore::last_position(connection)?;
    let recorded_at = request.recorded_at.as_microsecond();

    // Stream versions as of the events appended so far in this request.
    let mut versions: HashMap<&str, Option<u64>> = HashMap::new();
    let mut seq = head;
    let mut position = last_position;
    let mut insert_event = connection.prepare_cached(INSERT_EVENT)?;

    for command in &request.commands {
        if let Some(record) = &command.idempotency {
            match idempotency_in(connection, tenant, &record.key, &record.request_hash)? {
                IdempotencyLookup::Absent => {}
                IdempotencyLookup::Same { response } => {
                    return Err(StoreError::DuplicateIdempotencyKey {
                        tenant: tenant.clone(),
                        key: record.key.clone(),
                        response,
                    });
                }
                IdempotencyLookup::Different => {
                    return Err(StoreError::IdempotencyKeyReused {
                        tenant: tenant.clone(),
                        key: record.key.clone(),
                    });
                }
            }
        }
        for (stream, expected) in &command.expected {
            let actual = cached_version(connection, &mut versions, tenant, stream)?;
            if !expected.is_met_by(actual) {
                return Err(StoreError::StreamVersionConflict {
                    tenant: tenant.clone(),
                    stream: stream.clone(),
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        for event in &command.events {
            let current = cached_version(connection, &mut versions, tenant, &event.stream)?;
            let version = next(current.unwrap_or(0), "stream version")?;
            seq = next(seq, "seq")?;
            position = next(position, "position")?;
            let seq_i64 = to_i64(seq, "seq")?;
            let version_i64 = to_i64(version, "stream version")?;
            let business_time = event.business_time.as_microsecond();
            let checksum = checksum(
                tenant.as_str(),
                seq_i64,
                &event.stream,
                version_i64,
                &event.event_type,
                event.schema_version,
                business_time,
                &event.payload,
            );
            insert_event.execute(params![
                to_i64(position, "position")?,
                tenant.as_str(),
                seq_i64,
                event.stream,
                version_i64,
                event.event_type,
                i64::from(event.schema_version),
                business_time,
                recorded_at,
                event.payload,
                i64::from(checksum),
            ])?;
            versions.insert(event.stream.as_str(), Some(version));
        }
        if let Some(record) = &command.idempotency {
            connection
                .prepare_cached(INSERT_IDEMPOTENCY)?
                .execute(params![
                    tenant.as_str(),
                    record.key,
                    record.request_hash,
                    record.response,
                    recorded_at,
                ])?;
        }
    }

    if !request.balances.is_empty() {
        let mut upsert = connection.prepare_cached(UPSERT_BALANCE)?;
        for row in &request.balances {
            upsert.execute(params![
                tenant.as_str(),
                row.item,
                row.location,
                row.on_hand,
                row.reserved,
                row.value_minor,
            ])?;
        }
    }
    connection
        .prepare_cached(UPSERT_HEAD)?
        .execute(params![tenant.as_str(), to_i64(seq, "seq")?])?;

    if seq == head {
        return Ok(empty_outcome(head, last_position));
    }
    Ok(AppendOutcome {
        first_seq: head + 1,
        last_seq: seq,
        first_position: last_position + 1,
        last_position: position,
    })
}

/// Settings every connection gets, read-only or not.
fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(32);
    // The bundled SQLite is built with STAT4, under which a cached statement whose plan could
    // depend on a bound value is re-prepared on every rebinding: that was half of an append's
    // time. The query planner stability guarantee keeps the first plan; our queries have one
    // obviously right index each.
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn empty_outcome(head: u64, last_position: u64) -> AppendOutcome {
    AppendOutcome {
        first_seq: head.saturating_add(1),
        last_seq: head,
        first_position: last_position.saturating_add(1),
        last_position,
    }
}

fn cached_version<'a>(
    connection: &Connection,
    versions: &mut HashMap<&'a str, Option<u64>>,
    tenant: &TenantId,
    stream: &'a str,
) -> Result<Option<u64>, StoreError> {
    if let Some(version) = versions.get(stream) {
        return Ok(*version);
    }
    let version = stream_version_in(connection, tenant, stream)?;
    versions.insert(stream, version);
    Ok(version)
}

fn stream_version_in(
    connection: &Connection,
    tenant: &TenantId,
    stream: &str,
) -> Result<Option<u64>, StoreError> {
    let version: Option<i64> = connection
        .prepare_cached(SELECT_STREAM_VERSION)?
        .query_row(params![tenant.as_str(), stream], |row| row.get(0))?;
    version
        .map(|version| stored_u64(version, "stream version"))
        .transpose()
}

fn idempotency_in(
    connection: &Connection,
    tenant: &TenantId,
    key: &str,
    request_hash: &str,
) -> Result<IdempotencyLookup, StoreError> {
    let found: Option<(String, String)> = connection
        .prepare_cached(SELECT_IDEMPOTENCY)?
        .query_row(params![tenant.as_str(), key], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(match found {
        None => IdempotencyLookup::Absent,
        Some((stored_hash, response)) if stored_hash == request_hash => {
            IdempotencyLookup::Same { response }
        }
        Some(_) => IdempotencyLookup::Different,
    })
}

/// The CRC-32 of an event's identity and content. Every field is length-prefixed or fixed-width,
/// so no two different events encode to the same bytes.
#[allow(clippy::too_many_arguments)]
fn checksum(
    tenant: &str,
    seq: i64,
    stream: &str,
    stream_version: i64,
    event_type: &str,
    schema_version: u32,
    business_time: i64,
    payload: &str,
) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    update_text(&mut hasher, tenant);
    hasher.update(&seq.to_le_bytes());
    update_text(&mut hasher, stream);
    hasher.update(&stream_version.to_le_bytes());
    update_text(&mut hasher, event_type);
    hasher.update(&schema_version.to_le_bytes());
    hasher.update(&business_time.to_le_bytes());
    update_text(&mut hasher, payload);
    hasher.finalize()
}

fn update_text(hasher: &mut crc32fast::Hasher, value: &str) {
    hasher.update(&(value.len() as u64).to_le_bytes());
    hasher.update(value.as_bytes());
}

fn decode_event(row: &Row<'_>) -> Result<StoredEvent, StoreError> {
    let raw_position: i64 = row.get(0)?;
    let position = u64::try_from(raw_position).map_err(|_| StoreError::Corrupt {
        position: 0,
        reason: format!("negative position {raw_position}"),
    })?;
    let corrupt = |reason: String| StoreError::Corrupt { position, reason };
    let text = |index: usize, name: &str| -> Result<String, StoreError> {
        match row.get_ref(index)? {
            ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
                .map_err(|_| corrupt(format!("{name} is not valid UTF-8"))),
            other => Err(corrupt(format!(
                "{name} is {:?}, not text",
                other.data_type()
            ))),
        }
    };
    let integer = |index: usize, name: &str| -> Result<i64, StoreError> {
        match row.get_ref(index)? {
            ValueRef::Integer(value) => Ok(value),
            other => Err(corrupt(format!(
                "{name} is {:?}, not an integer",
                other.data_type()
            ))),
        }
    };
    let tenant_text = text(1, "tenant")?;
    let seq = integer(2, "seq")?;
    let stream = text(3, "stream")?;
    let stream_version = integer(4, "stream_version")?;
    let event_type = text(5, "event_type")?;
    let schema_version = integer(6, "schema_version")?;
    let business_time = integer(7, "business_time")?;
    let recorded_at = integer(8, "recorded_at")?;
    let payload = text(9, "payload")?;
    let stored_checksum = integer(10, "checksum")?;

    let schema_version = u32::try_from(schema_version)
        .map_err(|_| corrupt(format!("schema_version {schema_version} is out of range")))?;
    let computed = checksum(
        &tenant_text,
        seq,
        &stream,
        stream_version,
        &event_type,
        schema_version,
        business_time,
        &payload,
    );
    if i64::from(computed) != stored_checksum {
        return Err(corrupt(format!(
            "checksum mismatch: stored {stored_checksum:#010x}, computed {computed:#010x}"
        )));
    }
    let tenant = TenantId::parse(&tenant_text).map_err(|error| corrupt(error.to_string()))?;
    let seq = u64::try_from(seq).map_err(|_| corrupt(format!("seq {seq} is negative")))?;
    let stream_version = u64::try_from(stream_version)
        .map_err(|_| corrupt(format!("stream_version {stream_version} is negative")))?;
    let timestamp = |micros: i64, name: &str| {
        Timestamp::from_microsecond(micros)
            .map_err(|error| corrupt(format!("{name} {micros} is out of range: {error}")))
    };
    Ok(StoredEvent {
        position,
        tenant,
        seq,
        stream,
        stream_version,
        event_type,
        schema_version,
        business_time: timestamp(business_time, "business_time")?,
        recorded_at: timestamp(recorded_at, "recorded_at")?,
        payload,
    })
}

fn next(value: u64, what: &str) -> Result<u64, StoreError> {
    let next = value
        .checked_add(1)
        .filter(|next| i64::try_from(*next).is_ok());
    next.ok_or_else(|| StoreError::InvalidRequest {
        reason: format!("{what} space exhausted"),
    })
}

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidRequest {
        reason: format!("{what} {value} is too large"),
    })
}

pub(crate) fn stored_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        position: 0,
        reason: format!("{what} {value} is negative"),
    })
}

/// A `u64` bound as an SQLite integer; values beyond `i64::MAX` match nothing stored anyway.
fn clamp_u64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn clamp_usize(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail by panicking.
mod tests {
    use super::*;
    use crate::{CommandRecord, NewEvent, conformance};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    fn fresh(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
        SqliteStore::open(&dir.path().join(name), &OpenOptions::durable()).unwrap()
    }

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    fn event(stream: &str, payload: &str) -> NewEvent {
        NewEvent {
            stream: stream.to_string(),
            event_type: "Counted".to_string(),
            schema_version: 1,
            business_time: Timestamp::constant(1_700_000_000, 0),
            payload: payload.to_string(),
        }
    }

    fn single(tenant: &TenantId, expected_seq: u64, event: NewEvent) -> AppendRequest {
        AppendRequest {
            tenant: tenant.clone(),
            expected_seq,
            recorded_at: Timestamp::constant(1_700_000_001, 0),
            commands: vec![CommandRecord {
                events: vec![event],
                expected: Vec::new(),
                idempotency: None,
            }],
            balances: Vec::new(),
        }
    }

    /// One test per conformance check, so each property reports on its own.
    macro_rules! conformance_tests {
        ($($check:ident),* $(,)?) => {
            $(
                #[test]
                fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let mut store = fresh(&dir, "store.db");
                    if let Err(failure) = conformance::$check(&mut store) {
                        panic!("{failure}");
                    }
                }
            )*

            #[test]
            fn every_conformance_check_has_a_sqlite_test() {
                let listed = [$(stringify!($check)),*];
                let all: Vec<&str> = conformance::ALL.iter().map(|(name, _)| *name).collect();
                assert_eq!(listed.to_vec(), all);
            }
        };
    }

    conformance_tests!(
        an_empty_store_has_nothing,
        appended_events_get_contiguous_numbers_and_read_back_unchanged,
        a_batch_whose_third_command_conflicts_appends_nothing,
        a_stale_expected_seq_is_a_seq_conflict,
        expected_version_any_accepts_every_stream_state,
        expected_version_no_stream_rejects_an_existing_stream,
        expected_version_exact_requires_the_current_version,
        expectations_see_earlier_commands_of_the_same_request,
        a_retried_key_with_the_same_hash_returns_the_original_response,
        a_reused_key_with_a_different_hash_is_rejected,
        a_key_repeated_within_one_request_rejects_the_request,
        idempotency_keys_are_scoped_per_tenant,
        a_rejected_command_without_events_is_remembered,
        read_tenant_pages_return_every_event_once_in_order,
        read_all_pages_return_every_event_once_in_position_order,
        read_stream_returns_the_stream_in_version_order,
        balance_upserts_replace_rows,
        a_request_without_commands_is_a_no_op,
    );

    #[test]
    fn run_all_passes_on_fresh_sqlite_stores() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        let result = conformance::run_all(|| {
            n += 1;
            SqliteStore::open(&dir.path().join(format!("{n}.db")), &OpenOptions::relaxed())
        });
        if let Err(failures) = result {
            panic!("{failures}");
        }
        assert_eq!(n, conformance::ALL.len());
    }

    #[test]
    fn a_sqlite_store_can_be_moved_to_another_thread_as_a_boxed_event_store() {
        let dir = tempfile::tempdir().unwrap();
        let store: Box<dyn EventStore> = Box::new(fresh(&dir, "store.db"));
        let head = std::thread::spawn(move || store.tenant_head(&tenant("acme")).unwrap());
        assert_eq!(head.join().unwrap(), 0);
    }

    #[test]
    fn a_payload_byte_flipped_on_disk_is_reported_as_corrupt_at_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = fresh(&dir, "store.db");
        let acme = tenant("acme");
        for (n, payload) in ["{\"qty\":1}", "{\"qty\":5}", "{\"qty\":3}"]
            .into_iter()
            .enumerate()
        {
            store
                .append(&single(&acme, n as u64, event("s", payload)))
                .unwrap();
        }
        // The second event is at position 2; change its '5' to '7' behind the store's back.
        let raw = Connection::open(dir.path().join("store.db")).unwrap();
        let changed = raw
            .execute(
                "UPDATE events SET payload = replace(payload, '5', '7') WHERE position = 2",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);

        for result in [
            store.read_all(0, 10),
            store.read_tenant(&acme, 0, 10),
            store.read_stream(&acme, "s"),
        ] {
            match result {
                Err(StoreError::Corrupt { position, reason }) => {
                    assert_eq!(position, 2);
                    assert!(reason.contains("checksum"), "{reason}");
                }
                other => panic!("expected Corrupt at position 2, got {other:?}"),
            }
        }
        // Rows before the damage still read: position 1 alone is fine.
        assert_eq!(store.read_all(0, 1).unwrap().len(), 1);
    }

    #[test]
    fn a_payload_that_is_not_utf8_is_reported_as_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = fresh(&dir, "store.db");
        let acme = tenant("acme");
        store.append(&single(&acme, 0, event("s", "{}"))).unwrap();
        let raw = Connection::open(dir.path().join("store.db")).unwrap();
        raw.execute(
            "UPDATE events SET payload = CAST(X'FF7B' AS TEXT) WHERE position = 1",
            [],
        )
        .unwrap();
        match store.read_all(0, 10) {
            Err(StoreError::Corrupt { position: 1, .. }) => {}
            other => panic!("expected Corrupt at position 1, got {other:?}"),
        }
    }

    #[test]
    fn a_durable_store_reads_back_wal_and_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let store = fresh(&dir, "store.db");
        assert_eq!(store.durability_settings().unwrap(), ("wal".to_string(), 2));
        let relaxed =
            SqliteStore::open(&dir.path().join("relaxed.db"), &OpenOptions::relaxed()).unwrap();
        assert_eq!(
            relaxed.durability_settings().unwrap(),
            ("wal".to_string(), 1)
        );
        assert_eq!(OpenOptions::default(), OpenOptions::durable());
    }

    #[test]
    fn opening_a_missing_path_read_only_names_it_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.db");
        match SqliteStore::open_read_only(&path) {
            Err(error @ StoreError::Missing { .. }) => {
                assert!(error.to_string().contains("absent.db"), "{error}");
            }
            other => panic!("expected Missing, got {other:?}"),
        }
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_read_only_store_reads_events_but_refuses_to_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let acme = tenant("acme");
        {
            let mut store = fresh(&dir, "store.db");
            store.append(&single(&acme, 0, event("s", "{}"))).unwrap();
        }
        let mut reader = SqliteStore::open_read_only(&path).unwrap();
        assert!(reader.is_read_only());
        assert_eq!(reader.tenant_head(&acme).unwrap(), 1);
        assert_eq!(reader.read_all(0, 10).unwrap().len(), 1);
        assert!(matches!(
            reader.append(&single(&acme, 1, event("s", "{}"))),
            Err(StoreError::ReadOnly)
        ));
    }

    #[test]
    fn reopening_a_store_keeps_its_events_and_numbering() {
        let dir = tempfile::tempdir().unwrap();
        let acme = tenant("acme");
        {
            let mut store = fresh(&dir, "store.db");
            store.append(&single(&acme, 0, event("s", "{}"))).unwrap();
        }
        let mut store = fresh(&dir, "store.db");
        let outcome = store.append(&single(&acme, 1, event("s", "{}"))).unwrap();
        // Second event overall: seq 2, position 2, stream version 2.
        assert_eq!((outcome.last_seq, outcome.last_position), (2, 2));
        assert_eq!(store.stream_version(&acme, "s").unwrap(), Some(2));
    }

    #[test]
    fn a_file_with_a_newer_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        drop(fresh(&dir, "store.db"));
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 3)
            .unwrap();
        for result in [
            SqliteStore::open(&path, &OpenOptions::durable()),
            SqliteStore::open_read_only(&path),
        ] {
            match result {
                Err(StoreError::UnsupportedSchema {
                    found: 3,
                    supported: 2,
                    ..
                }) => {}
                other => panic!("expected UnsupportedSchema, got {other:?}"),
            }
        }
    }

    #[test]
    fn eight_writers_on_one_file_never_see_busy_and_a_follower_sees_every_event_once() {
        const WRITERS: usize = 8;
        const PER_WRITER: u64 = 2_000;
        let total = WRITERS * PER_WRITER as usize; // 8 × 2,000 = 16,000
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        // Relaxed durability keeps 16,000 commits fast on any disk (Full took 2.4 s instead of
        // 1.4 s here, but one fsync per commit could take a minute on slow disks); locking and
        // numbering do not depend on it.
        drop(SqliteStore::open(&path, &OpenOptions::relaxed()).unwrap());
        let busy = AtomicUsize::new(0);
        let started = Instant::now();

        std::thread::scope(|scope| {
            for writer in 0..WRITERS {
                let (path, busy) = (&path, &busy);
                scope.spawn(move || {
                    let mut store = SqliteStore::open(path, &OpenOptions::relaxed()).unwrap();
                    let tenant = tenant(&format!("tenant-{writer}"));
                    for n in 0..PER_WRITER {
                        let request = single(&tenant, n, event("s", &format!("{{\"n\":{n}}}")));
                        match store.append(&request) {
                            Ok(outcome) => assert_eq!(outcome.last_seq, n + 1),
                            Err(StoreError::Busy) => {
                                busy.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                            Err(other) => panic!("writer {writer}: {other}"),
                        }
                    }
                });
            }
            let follower = scope.spawn(|| {
                let store = SqliteStore::open(&path, &OpenOptions::relaxed()).unwrap();
                let mut seen: Vec<StoredEvent> = Vec::with_capacity(total);
                let mut after = 0;
                while seen.len() < total && started.elapsed() < Duration::from_secs(60) {
                    let page = store.read_all(after, 1_000).unwrap();
                    match page.last() {
                        Some(last) => after = last.position,
                        None => std::thread::sleep(Duration::from_millis(1)),
                    }
                    seen.extend(page);
                }
                seen
            });
            let seen = follower.join().unwrap();
            assert_eq!(busy.load(Ordering::Relaxed), 0, "a writer saw Busy");
            assert_eq!(seen.len(), total);
            assert!(seen.windows(2).all(|w| w[0].position < w[1].position));
            // Every (tenant, seq) exactly once, each tenant's seqs 1..=2,000 in order.
            for writer in 0..WRITERS {
                let name = tenant(&format!("tenant-{writer}"));
                let seqs: Vec<u64> = seen
                    .iter()
                    .filter(|e| e.tenant == name)
                    .map(|e| e.seq)
                    .collect();
                assert_eq!(seqs, (1..=PER_WRITER).collect::<Vec<_>>(), "{name}");
            }
        });
        eprintln!(
            "16,000 contended single-event commits in {:?}",
            started.elapsed()
        );
    }
}
