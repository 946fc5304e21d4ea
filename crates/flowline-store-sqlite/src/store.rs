//! The SQLite (WAL) implementation of [`EventStore`].
//!
//! The tables are described in [`crate::schema`]. Names (tenants, streams, event types) are
//! stored once and referred to by integer ids; each connection keeps the ids of tenants and
//! event types it has met, which never change once assigned. Payloads and stored responses are
//! encoded by [`crate::codec`].

use crate::Db;
use crate::codec::{Codec, DecodeError};
use crate::schema::{
    self, INSERT_EVENT, INSERT_IDEMPOTENCY, MIGRATE_TO_2, MIGRATE_TO_4, MIGRATE_TO_5, SCHEMA_V1,
    SCHEMA_VERSION,
};
use flowline_core::id::TenantId;
use flowline_store::{
    AppendOutcome, AppendRequest, BalanceRow, EventStore, IdempotencyLookup, IdempotencyRecord,
    StoreError, StoredEvent,
};
use jiff::Timestamp;
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for another connection's lock before giving up with
/// [`StoreError::Busy`].
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// The page cache of a writing connection: 32 MiB (`PRAGMA cache_size` takes negative KiB),
/// allocated as used. A group commit touches pages all over the `(tenant_id, stream_id,
/// stream_version)` index; SQLite's default of 2 MiB would re-read them once the log grows.
const CACHE_SIZE: i64 = -32_768;

/// Bytes of the database file read through a memory map rather than `pread` into the page cache:
/// 8 GiB. Once the log outgrows the page cache, every group commit probes index pages all over
/// the file; through the map those reads cost a page-table lookup instead of a system call and a
/// copy, which kept durable appends at 64k events/s with 10M events in the log where they had
/// fallen from 95k to 43k. Mapped pages are the kernel's page cache, shared and reclaimable:
/// they show as file-backed resident memory, not as the process's own.
const MMAP_SIZE: i64 = 8 << 30;

/// `SELECT` of every event column with its stream's name, in the order [`decode_event`] reads
/// them. The stream is joined with `LEFT JOIN` so that an event whose stream row is missing is
/// reported as damaged instead of silently skipped; it also keeps `events` the outer loop.
macro_rules! select_events {
    ($rest:literal) => {
        concat!(
            "SELECT e.position, e.tenant_id, e.seq, s.name, e.stream_version, e.type_id, ",
            "e.schema_version, e.business_time, e.recorded_at, e.payload, e.checksum ",
            "FROM events AS e LEFT JOIN streams AS s ",
            "ON s.tenant_id = e.tenant_id AND s.stream_id = e.stream_id ",
            $rest
        )
    };
}

const SELECT_TENANT: &str =
    select_events!("WHERE e.tenant_id = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3");
const SELECT_ALL: &str = select_events!("WHERE e.position > ?1 ORDER BY e.position LIMIT ?2");
const SELECT_STREAM: &str =
    select_events!("WHERE e.tenant_id = ?1 AND e.stream_id = ?2 ORDER BY e.stream_version");
const SELECT_TENANT_ROW: &str = "SELECT id, head FROM tenants WHERE tenant = ?1";
const INSERT_TENANT: &str = "INSERT INTO tenants (tenant, head) VALUES (?1, 0)";
const UPDATE_HEAD: &str = "UPDATE tenants SET head = ?2 WHERE id = ?1";
const SELECT_LAST_POSITION: &str = "SELECT COALESCE(MAX(position), 0) FROM events";
/// A stream's id and current version (`NULL` while it has no events).
const SELECT_STREAM_STATE: &str = "SELECT s.stream_id, (SELECT MAX(e.stream_version) FROM events \
     AS e WHERE e.tenant_id = s.tenant_id AND e.stream_id = s.stream_id) \
     FROM streams AS s WHERE s.tenant_id = ?1 AND s.name = ?2";
const SELECT_LAST_STREAM_ID: &str =
    "SELECT COALESCE(MAX(stream_id), 0) FROM streams WHERE tenant_id = ?1";
const INSERT_STREAM: &str = "INSERT INTO streams (tenant_id, stream_id, name) VALUES (?1, ?2, ?3)";
const SELECT_TYPE_ID: &str = "SELECT id FROM event_types WHERE name = ?1";
const INSERT_TYPE: &str = "INSERT INTO event_types (name) VALUES (?1)";
const SELECT_IDEMPOTENCY: &str =
    "SELECT request_hash, response FROM idempotency WHERE tenant_id = ?1 AND key = ?2";
const UPSERT_BALANCE: &str = "INSERT INTO balances \
     (tenant_id, item, location, on_hand, reserved, value_minor) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (tenant_id, item, location) DO UPDATE SET on_hand = excluded.on_hand, \
     reserved = excluded.reserved, value_minor = excluded.value_minor";
const SELECT_BALANCES: &str = "SELECT item, location, on_hand, reserved, value_minor \
     FROM balances WHERE tenant_id = ?1 ORDER BY item, location";

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

/// The ids of the names a connection has met. A name's id never changes once committed, so
/// these are never stale; ids assigned by an append enter only after its commit.
#[derive(Debug, Default)]
struct Names {
    tenant_ids: HashMap<String, i64>,
    tenants: HashMap<i64, TenantId>,
    type_ids: HashMap<String, i64>,
    types: HashMap<i64, String>,
}

impl Names {
    fn add_tenant(&mut self, tenant: &TenantId, id: i64) {
        self.tenant_ids.insert(tenant.as_str().to_string(), id);
        self.tenants.insert(id, tenant.clone());
    }

    fn add_type(&mut self, name: &str, id: i64) {
        self.type_ids.insert(name.to_string(), id);
        self.types.insert(id, name.to_string());
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
    codec: RefCell<Codec>,
    names: RefCell<Names>,
}

impl SqliteStore {
    /// Opens the store at `path` for reading and writing, creating the file and its schema if
    /// absent (or migrating an older file's), and verifies that the database honours the
    /// requested durability (WAL journal, `synchronous` as asked).
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(|error| {
            StoreError::Io(format!("cannot open or create {}: {error}", path.display()))
        })?;
        configure(&connection)?;

        let journal_mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .db()?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::DurabilityNotHonoured {
                setting: "journal_mode",
                requested: "wal".to_string(),
                actual: journal_mode,
            });
        }
        let requested = options.durability.synchronous();
        connection
            .pragma_update(None, "synchronous", requested)
            .db()?;
        let synchronous: i64 = connection
            .pragma_query_value(None, "synchronous", |row| row.get(0))
            .db()?;
        if synchronous != requested {
            return Err(StoreError::DurabilityNotHonoured {
                setting: "synchronous",
                requested: requested.to_string(),
                actual: synchronous.to_string(),
            });
        }
        connection
            .pragma_update(None, "cache_size", CACHE_SIZE)
            .db()?;
        connection
            .pragma_update(None, "mmap_size", MMAP_SIZE)
            .db()?;

        let mut store = Self::new(connection, path, false);
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing store for reading only. Never creates a file: if `path` does not exist
    /// the error is [`StoreError::Missing`] naming it. [`EventStore::append`] on a read-only
    /// store fails with [`StoreError::ReadOnly`]. A file of an older schema must be opened for
    /// writing once, which migrates it.
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
        let found: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .db()?;
        if found != SCHEMA_VERSION {
            return Err(StoreError::UnsupportedSchema {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let store = Self::new(connection, path, true);
        schema::load_dictionaries(&store.connection, &mut store.codec.borrow_mut())?;
        Ok(store)
    }

    fn new(connection: Connection, path: &Path, read_only: bool) -> Self {
        Self {
            connection,
            path: path.to_path_buf(),
            read_only,
            codec: RefCell::new(Codec::new()),
            names: RefCell::new(Names::default()),
        }
    }

    /// The `(journal_mode, synchronous)` pragmas as the database reports them now, for example
    /// `("wal", 2)` for a [`Durability::Full`] store.
    pub fn durability_settings(&self) -> Result<(String, i64), StoreError> {
        let journal_mode: String = self
            .connection
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .db()?;
        let synchronous: i64 = self
            .connection
            .pragma_query_value(None, "synchronous", |row| row.get(0))
            .db()?;
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
    /// that an existing file's is this build's; then loads the file's dictionaries, adding this
    /// build's if the file lacks it.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        let found: i64 = transaction
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .db()?;
        let codec = self.codec.get_mut();
        match found {
            0 => {
                transaction.execute_batch(SCHEMA_V1).db()?;
                transaction.execute_batch(MIGRATE_TO_2).db()?;
                schema::migrate_to_3(&transaction, codec)?;
                transaction.execute_batch(MIGRATE_TO_4).db()?;
                transaction.execute_batch(MIGRATE_TO_5).db()?;
            }
            1 => {
                transaction.execute_batch(MIGRATE_TO_2).db()?;
                schema::migrate_to_3(&transaction, codec)?;
                transaction.execute_batch(MIGRATE_TO_4).db()?;
                transaction.execute_batch(MIGRATE_TO_5).db()?;
            }
            2 => {
                schema::migrate_to_3(&transaction, codec)?;
                transaction.execute_batch(MIGRATE_TO_4).db()?;
                transaction.execute_batch(MIGRATE_TO_5).db()?;
            }
            3 => {
                transaction.execute_batch(MIGRATE_TO_4).db()?;
                transaction.execute_batch(MIGRATE_TO_5).db()?;
                schema::register_built_in_dictionary(&transaction, codec)?;
            }
            4 => {
                transaction.execute_batch(MIGRATE_TO_5).db()?;
                schema::register_built_in_dictionary(&transaction, codec)?;
            }
            SCHEMA_VERSION => schema::register_built_in_dictionary(&transaction, codec)?,
            _ => {
                return Err(StoreError::UnsupportedSchema {
                    path: self.path.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        transaction.commit().db()?;
        Ok(())
    }

    fn last_position(connection: &Connection) -> Result<u64, StoreError> {
        let last: i64 = connection
            .prepare_cached(SELECT_LAST_POSITION)
            .db()?
            .query_row([], |row| row.get(0))
            .db()?;
        stored_u64(last, "last position")
    }

    /// The tenant's id and head, `None` if it has never written.
    fn tenant_row(
        connection: &Connection,
        tenant: &TenantId,
    ) -> Result<Option<(i64, u64)>, StoreError> {
        let row: Option<(i64, i64)> = connection
            .prepare_cached(SELECT_TENANT_ROW)
            .db()?
            .query_row([tenant.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .db()?;
        row.map(|(id, head)| Ok((id, stored_u64(head, "tenant head")?)))
            .transpose()
    }

    /// The tenant's id, `None` if it has never written.
    pub(crate) fn tenant_id(&self, tenant: &TenantId) -> Result<Option<i64>, StoreError> {
        if let Some(id) = self.names.borrow().tenant_ids.get(tenant.as_str()) {
            return Ok(Some(*id));
        }
        let Some((id, _)) = Self::tenant_row(&self.connection, tenant)? else {
            return Ok(None);
        };
        self.names.borrow_mut().add_tenant(tenant, id);
        Ok(Some(id))
    }

    fn read_events(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        capacity: usize,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut statement = self.connection.prepare_cached(sql).db()?;
        let mut rows = statement.query(params).db()?;
        let mut events = Vec::with_capacity(capacity.min(4096));
        let mut codec = self.codec.borrow_mut();
        let mut names = self.names.borrow_mut();
        let mut reader = Reader {
            connection: &self.connection,
            codec: &mut codec,
            names: &mut names,
            tenant,
        };
        while let Some(row) = rows.next().db()? {
            events.push(reader.decode_event(row)?);
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
            let head =
                Self::tenant_row(&self.connection, &request.tenant)?.map_or(0, |(_, head)| head);
            let last_position = Self::last_position(&self.connection)?;
            return Ok(AppendOutcome::empty(head, last_position));
        }
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        let mut appender = Appender {
            connection: &transaction,
            codec: self.codec.get_mut(),
            names: self.names.get_mut(),
            new_types: Vec::new(),
        };
        let (outcome, tenant_id) = appender.append(request)?;
        let new_types = std::mem::take(&mut appender.new_types);
        transaction.commit().db()?;
        let names = self.names.get_mut();
        names.add_tenant(&request.tenant, tenant_id);
        for (name, id) in new_types {
            names.add_type(&name, id);
        }
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
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(Vec::new());
        };
        self.read_events(
            SELECT_TENANT,
            params![tenant_id, clamp_u64(after_seq), clamp_usize(limit)],
            limit,
            Some(tenant),
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
            None,
        )
    }

    fn read_stream(&self, tenant: &TenantId, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(Vec::new());
        };
        let Some(state) = stream_state(&self.connection, tenant_id, stream)? else {
            return Ok(Vec::new());
        };
        self.read_events(
            SELECT_STREAM,
            params![tenant_id, state.id],
            16,
            Some(tenant),
        )
    }

    fn stream_version(&self, tenant: &TenantId, stream: &str) -> Result<Option<u64>, StoreError> {
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(None);
        };
        Ok(stream_state(&self.connection, tenant_id, stream)?.and_then(|state| state.version))
    }

    fn tenant_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        Ok(Self::tenant_row(&self.connection, tenant)?.map_or(0, |(_, head)| head))
    }

    fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT tenant FROM tenants ORDER BY tenant")
            .db()?;
        let mut rows = statement.query([]).db()?;
        let mut tenants = Vec::new();
        while let Some(row) = rows.next().db()? {
            let name: String = row.get(0).db()?;
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
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(IdempotencyLookup::Absent);
        };
        idempotency_in(
            &self.connection,
            &mut self.codec.borrow_mut(),
            tenant_id,
            key,
            request_hash,
        )
    }

    fn balances(&self, tenant: &TenantId) -> Result<Vec<BalanceRow>, StoreError> {
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(Vec::new());
        };
        let mut statement = self.connection.prepare_cached(SELECT_BALANCES).db()?;
        let rows = statement
            .query_map([tenant_id], |row| {
                Ok(BalanceRow {
                    item: row.get(0)?,
                    location: row.get(1)?,
                    on_hand: row.get(2)?,
                    reserved: row.get(3)?,
                    value_minor: row.get(4)?,
                })
            })
            .db()?;
        rows.collect::<Result<Vec<_>, _>>().db()
    }

    fn idempotency_records(
        &self,
        tenant: &TenantId,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(Vec::new());
        };
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT key, request_hash, response FROM idempotency \
                 WHERE tenant_id = ?1 AND (?2 IS NULL OR key > ?2) ORDER BY key LIMIT ?3",
            )
            .db()?;
        let mut rows = statement
            .query(params![tenant_id, after_key, clamp_usize(limit)])
            .db()?;
        let mut codec = self.codec.borrow_mut();
        let mut records = Vec::new();
        while let Some(row) = rows.next().db()? {
            let key: String = row.get(0).db()?;
            let corrupt = |reason: String| StoreError::Corrupt {
                position: 0,
                reason: format!("the response stored for idempotency key `{key}` {reason}"),
            };
            let response = match row.get_ref(2).db()? {
                ValueRef::Blob(bytes) => {
                    decode_value(&self.connection, &mut codec, bytes).map_err(corrupt)?
                }
                other => return Err(corrupt(format!("is {:?}, not a blob", other.data_type()))),
            };
            records.push(IdempotencyRecord {
                request_hash: row.get(1).db()?,
                key,
                response,
            });
        }
        Ok(records)
    }
}

/// A stream as an append sees it: its id (`None` until its first event is appended) and
/// version (`None` while it has no events).
#[derive(Debug, Clone, Copy)]
struct StreamState {
    id: Option<i64>,
    version: Option<u64>,
}

/// A stored stream's id and version.
struct StoredStream {
    id: i64,
    version: Option<u64>,
}

fn stream_state(
    connection: &Connection,
    tenant_id: i64,
    stream: &str,
) -> Result<Option<StoredStream>, StoreError> {
    let row: Option<(i64, Option<i64>)> = connection
        .prepare_cached(SELECT_STREAM_STATE)
        .db()?
        .query_row(params![tenant_id, stream], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .db()?;
    row.map(|(id, version)| {
        Ok(StoredStream {
            id,
            version: version
                .map(|version| stored_u64(version, "stream version"))
                .transpose()?,
        })
    })
    .transpose()
}

/// The body of [`SqliteStore::append`], inside an immediate transaction that the caller commits
/// on success and rolls back (by dropping it) on error.
struct Appender<'a> {
    connection: &'a Connection,
    codec: &'a mut Codec,
    names: &'a Names,
    /// Event types this append added to the file, to remember once it commits.
    new_types: Vec<(String, i64)>,
}

impl Appender<'_> {
    /// Appends the request; returns its outcome and the tenant's id.
    fn append(&mut self, request: &AppendRequest) -> Result<(AppendOutcome, i64), StoreError> {
        let connection = self.connection;
        let tenant = &request.tenant;
        let existing = SqliteStore::tenant_row(connection, tenant)?;
        let head = existing.map_or(0, |(_, head)| head);
        if head != request.expected_seq {
            return Err(StoreError::SeqConflict {
                tenant: tenant.clone(),
                expected: request.expected_seq,
                actual: head,
            });
        }
        let tenant_id = match existing {
            Some((id, _)) => id,
            None => {
                connection
                    .prepare_cached(INSERT_TENANT)
                    .db()?
                    .execute([tenant.as_str()])
                    .db()?;
                connection.last_insert_rowid()
            }
        };
        let last_position = SqliteStore::last_position(connection)?;
        let recorded_at = request.recorded_at.as_microsecond();

        // Streams as of the events appended so far in this request.
        let mut streams: HashMap<&str, StreamState> = HashMap::new();
        let mut last_stream_id: Option<i64> = None;
        let mut seq = head;
        let mut position = last_position;
        let mut insert_event = connection.prepare_cached(INSERT_EVENT).db()?;

        for command in &request.commands {
            if let Some(record) = &command.idempotency {
                idempotency_in(
                    connection,
                    self.codec,
                    tenant_id,
                    &record.key,
                    &record.request_hash,
                )?
                .refuse(tenant, &record.key)?;
            }
            for (stream, expected) in &command.expected {
                let actual = cached_stream(connection, &mut streams, tenant_id, stream)?.version;
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
                let current = cached_stream(connection, &mut streams, tenant_id, &event.stream)?;
                let stream_id = match current.id {
                    Some(id) => id,
                    None => {
                        let last = match last_stream_id {
                            Some(last) => last,
                            None => connection
                                .prepare_cached(SELECT_LAST_STREAM_ID)
                                .db()?
                                .query_row([tenant_id], |row| row.get(0))
                                .db()?,
                        };
                        let id = last
                            .checked_add(1)
                            .ok_or_else(|| StoreError::InvalidRequest {
                                reason: "stream id space exhausted".into(),
                            })?;
                        connection
                            .prepare_cached(INSERT_STREAM)
                            .db()?
                            .execute(params![tenant_id, id, event.stream])
                            .db()?;
                        last_stream_id = Some(id);
                        id
                    }
                };
                let version = next(current.version.unwrap_or(0), "stream version")?;
                seq = next(seq, "seq")?;
                position = next(position, "position")?;
                let seq_i64 = to_i64(seq, "seq")?;
                let version_i64 = to_i64(version, "stream version")?;
                let type_id = self.type_id(&event.event_type)?;
                let business_time = event.business_time.as_microsecond();
                let checksum = flowline_store::event_checksum(
                    tenant.as_str(),
                    seq_i64,
                    &event.stream,
                    version_i64,
                    &event.event_type,
                    event.schema_version,
                    business_time,
                    &event.payload,
                );
                insert_event
                    .execute(params![
                        to_i64(position, "position")?,
                        tenant_id,
                        seq_i64,
                        stream_id,
                        version_i64,
                        type_id,
                        i64::from(event.schema_version),
                        business_time,
                        recorded_at,
                        self.codec.encode(&event.payload),
                        checksum_column(checksum),
                    ])
                    .db()?;
                streams.insert(
                    event.stream.as_str(),
                    StreamState {
                        id: Some(stream_id),
                        version: Some(version),
                    },
                );
            }
            if let Some(record) = &command.idempotency {
                connection
                    .prepare_cached(INSERT_IDEMPOTENCY)
                    .db()?
                    .execute(params![
                        tenant_id,
                        record.key,
                        record.request_hash,
                        self.codec.encode(&record.response),
                        recorded_at,
                    ])
                    .db()?;
            }
        }

        if !request.balances.is_empty() {
            let mut upsert = connection.prepare_cached(UPSERT_BALANCE).db()?;
            for row in &request.balances {
                upsert
                    .execute(params![
                        tenant_id,
                        row.item,
                        row.location,
                        row.on_hand,
                        row.reserved,
                        row.value_minor,
                    ])
                    .db()?;
            }
        }
        connection
            .prepare_cached(UPDATE_HEAD)
            .db()?
            .execute(params![tenant_id, to_i64(seq, "seq")?])
            .db()?;

        if seq == head {
            return Ok((AppendOutcome::empty(head, last_position), tenant_id));
        }
        Ok((
            AppendOutcome {
                first_seq: head + 1,
                last_seq: seq,
                first_position: last_position + 1,
                last_position: position,
            },
            tenant_id,
        ))
    }

    /// The id of an event type, adding the type to the file if it is new.
    fn type_id(&mut self, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.names.type_ids.get(name) {
            return Ok(*id);
        }
        if let Some((_, id)) = self.new_types.iter().find(|(known, _)| known == name) {
            return Ok(*id);
        }
        let found: Option<i64> = self
            .connection
            .prepare_cached(SELECT_TYPE_ID)
            .db()?
            .query_row([name], |row| row.get(0))
            .optional()
            .db()?;
        let id = match found {
            Some(id) => id,
            None => {
                self.connection
                    .prepare_cached(INSERT_TYPE)
                    .db()?
                    .execute([name])
                    .db()?;
                self.connection.last_insert_rowid()
            }
        };
        self.new_types.push((name.to_string(), id));
        Ok(id)
    }
}

/// Decodes event rows, resolving ids to names.
struct Reader<'a> {
    connection: &'a Connection,
    codec: &'a mut Codec,
    names: &'a mut Names,
    /// The tenant every row belongs to, when the query is for one tenant.
    tenant: Option<&'a TenantId>,
}

impl Reader<'_> {
    fn decode_event(&mut self, row: &Row<'_>) -> Result<StoredEvent, StoreError> {
        let raw_position: i64 = row.get(0).db()?;
        let position = u64::try_from(raw_position).map_err(|_| StoreError::Corrupt {
            position: 0,
            reason: format!("negative position {raw_position}"),
        })?;
        let corrupt = |reason: String| StoreError::Corrupt { position, reason };
        let integer = |index: usize, name: &str| -> Result<i64, StoreError> {
            match row.get_ref(index).db()? {
                ValueRef::Integer(value) => Ok(value),
                other => Err(corrupt(format!(
                    "{name} is {:?}, not an integer",
                    other.data_type()
                ))),
            }
        };
        let tenant_id = integer(1, "tenant_id")?;
        let seq = integer(2, "seq")?;
        let stream = match row.get_ref(3).db()? {
            ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
                .map_err(|_| corrupt("stream is not valid UTF-8".into()))?,
            ValueRef::Null => return Err(corrupt("its stream id names no stream".into())),
            other => {
                return Err(corrupt(format!(
                    "stream is {:?}, not text",
                    other.data_type()
                )));
            }
        };
        let stream_version = integer(4, "stream_version")?;
        let type_id = integer(5, "type_id")?;
        let schema_version = integer(6, "schema_version")?;
        let business_time = integer(7, "business_time")?;
        let recorded_at = integer(8, "recorded_at")?;
        let payload = match row.get_ref(9).db()? {
            ValueRef::Blob(bytes) => self.decode_value(bytes),
            other => {
                return Err(corrupt(format!(
                    "payload is {:?}, not a blob",
                    other.data_type()
                )));
            }
        }
        .map_err(|reason| corrupt(format!("payload {reason}")))?;
        let stored_checksum = integer(10, "checksum")?;
        let tenant = match self.tenant {
            Some(tenant) => tenant.clone(),
            None => self
                .tenant_name(tenant_id)?
                .ok_or_else(|| corrupt(format!("its tenant id {tenant_id} names no tenant")))?,
        };
        let event_type = self
            .type_name(type_id)?
            .ok_or_else(|| corrupt(format!("its type id {type_id} names no event type")))?;

        let schema_version = u32::try_from(schema_version)
            .map_err(|_| corrupt(format!("schema_version {schema_version} is out of range")))?;
        let computed = flowline_store::event_checksum(
            tenant.as_str(),
            seq,
            &stream,
            stream_version,
            &event_type,
            schema_version,
            business_time,
            &payload,
        );
        if checksum_column(computed) != stored_checksum {
            return Err(corrupt(format!(
                "checksum mismatch: stored {stored_checksum:#010x}, computed {computed:#010x}"
            )));
        }
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

    /// The text of a stored value; a dictionary added to the file since this connection loaded
    /// its dictionaries is loaded on first use.
    fn decode_value(&mut self, stored: &[u8]) -> Result<String, String> {
        decode_value(self.connection, self.codec, stored)
    }

    fn tenant_name(&mut self, id: i64) -> Result<Option<TenantId>, StoreError> {
        if let Some(tenant) = self.names.tenants.get(&id) {
            return Ok(Some(tenant.clone()));
        }
        let name: Option<String> = self
            .connection
            .prepare_cached("SELECT tenant FROM tenants WHERE id = ?1")
            .db()?
            .query_row([id], |row| row.get(0))
            .optional()
            .db()?;
        let Some(name) = name else {
            return Ok(None);
        };
        let tenant = TenantId::parse(&name).map_err(|error| StoreError::Corrupt {
            position: 0,
            reason: format!("tenants table: {error}"),
        })?;
        self.names.add_tenant(&tenant, id);
        Ok(Some(tenant))
    }

    fn type_name(&mut self, id: i64) -> Result<Option<String>, StoreError> {
        if let Some(name) = self.names.types.get(&id) {
            return Ok(Some(name.clone()));
        }
        let name: Option<String> = self
            .connection
            .prepare_cached("SELECT name FROM event_types WHERE id = ?1")
            .db()?
            .query_row([id], |row| row.get(0))
            .optional()
            .db()?;
        if let Some(name) = &name {
            self.names.add_type(name, id);
        }
        Ok(name)
    }
}

/// The text of a stored value, loading the file's dictionaries again if it names one this
/// connection has not loaded (another connection may have added it).
fn decode_value(
    connection: &Connection,
    codec: &mut Codec,
    stored: &[u8],
) -> Result<String, String> {
    match codec.decode(stored) {
        Err(DecodeError::UnknownDictionary(_)) => {
            schema::load_dictionaries(connection, codec).map_err(|error| error.to_string())?;
            codec.decode(stored).map_err(|error| error.to_string())
        }
        other => other.map_err(|error| error.to_string()),
    }
}

/// Settings every connection gets, read-only or not.
fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(BUSY_TIMEOUT).db()?;
    connection.set_prepared_statement_cache_capacity(32);
    // The bundled SQLite is built with STAT4, under which a cached statement whose plan could
    // depend on a bound value is re-prepared on every rebinding: that was half of an append's
    // time. The query planner stability guarantee keeps the first plan; our queries have one
    // obviously right index each.
    connection
        .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .db()?;
    Ok(())
}

fn cached_stream<'a>(
    connection: &Connection,
    streams: &mut HashMap<&'a str, StreamState>,
    tenant_id: i64,
    stream: &'a str,
) -> Result<StreamState, StoreError> {
    if let Some(state) = streams.get(stream) {
        return Ok(*state);
    }
    let state = match stream_state(connection, tenant_id, stream)? {
        Some(stored) => StreamState {
            id: Some(stored.id),
            version: stored.version,
        },
        None => StreamState {
            id: None,
            version: None,
        },
    };
    streams.insert(stream, state);
    Ok(state)
}

fn idempotency_in(
    connection: &Connection,
    codec: &mut Codec,
    tenant_id: i64,
    key: &str,
    request_hash: &str,
) -> Result<IdempotencyLookup, StoreError> {
    let mut statement = connection.prepare_cached(SELECT_IDEMPOTENCY).db()?;
    let mut rows = statement.query(params![tenant_id, key]).db()?;
    let Some(row) = rows.next().db()? else {
        return Ok(IdempotencyLookup::Absent);
    };
    let stored_hash: String = row.get(0).db()?;
    if stored_hash != request_hash {
        return Ok(IdempotencyLookup::Different);
    }
    let corrupt = |reason: String| StoreError::Corrupt {
        position: 0,
        reason: format!("the response stored for idempotency key `{key}` {reason}"),
    };
    let response = match row.get_ref(1).db()? {
        ValueRef::Blob(bytes) => decode_value(connection, codec, bytes).map_err(corrupt)?,
        other => return Err(corrupt(format!("is {:?}, not a blob", other.data_type()))),
    };
    Ok(IdempotencyLookup::Same { response })
}

/// How a checksum is stored: its 32 bits as a signed integer, which SQLite keeps in 4 bytes.
pub(crate) fn checksum_column(checksum: u32) -> i64 {
    i64::from(i32::from_le_bytes(checksum.to_le_bytes()))
}

pub(crate) fn corrupt_at(position: i64, reason: String) -> StoreError {
    StoreError::Corrupt {
        position: u64::try_from(position).unwrap_or(0),
        reason,
    }
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
    use flowline_store::{CommandRecord, NewEvent, conformance};
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
        idempotency_records_page_in_key_order,
        read_tenant_pages_return_every_event_once_in_order,
        read_all_pages_return_every_event_once_in_position_order,
        read_stream_returns_the_stream_in_version_order,
        balance_upserts_replace_rows,
        a_request_without_commands_is_a_no_op,
        tenants_and_keys_register_once_and_stay_with_their_tenant,
        keys_are_revoked_and_rated_only_by_their_tenant,
        sessions_live_until_they_expire_or_close,
        streams_of_a_kind_page_in_name_order_with_their_times,
        the_latest_business_time_is_the_last_events,
        snapshots_read_back_as_saved_and_the_latest_replaces_the_one_before,
    );

    #[test]
    fn run_all_passes_on_fresh_sqlite_stores() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        let result = conformance::run_all(|| {
            n += 1;
            SqliteStore::open(&dir.path().join(format!("{n}.db")), &OpenOptions::relaxed())
                .map(|store| Box::new(store) as Box<dyn flowline_store::Store>)
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
        // The second event is at position 2; change its '5' to '7' behind the store's back (a
        // payload this short is stored as text after its encoding byte).
        let raw = Connection::open(dir.path().join("store.db")).unwrap();
        let changed = raw
            .execute(
                "UPDATE events SET payload = CAST(replace(payload, '5', '7') AS BLOB) \
                 WHERE position = 2",
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
    fn a_compressed_payload_damaged_on_disk_is_reported_as_corrupt_at_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = fresh(&dir, "store.db");
        let acme = tenant("acme");
        let payload = r#"{"type":"SalesOrderPicked","order":"SO-838","location":"FC-1","lines":[{"line":0,"quantity":1}],"at":"2025-01-05T00:04:31Z"}"#;
        store
            .append(&single(&acme, 0, event("s", payload)))
            .unwrap();
        let raw = Connection::open(dir.path().join("store.db")).unwrap();
        let stored: Vec<u8> = raw
            .query_row("SELECT payload FROM events WHERE position = 1", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(stored[0], 1, "compressed with dictionary 1");
        assert!(stored.len() < payload.len() / 2, "{} bytes", stored.len());
        // Every single damaged byte after the encoding byte is caught: the frame does not
        // decompress, or the text it gives fails the checksum.
        for index in 1..stored.len() {
            let mut damaged = stored.clone();
            damaged[index] ^= 0x20;
            raw.execute(
                "UPDATE events SET payload = ?1 WHERE position = 1",
                [&damaged],
            )
            .unwrap();
            match store.read_all(0, 10) {
                Err(StoreError::Corrupt { position: 1, .. }) => {}
                other => panic!("byte {index}: expected Corrupt at position 1, got {other:?}"),
            }
        }
        raw.execute(
            "UPDATE events SET payload = ?1 WHERE position = 1",
            [&stored],
        )
        .unwrap();
        assert_eq!(store.read_all(0, 10).unwrap()[0].payload, payload);
    }

    #[test]
    fn a_payload_that_is_not_utf8_is_reported_as_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = fresh(&dir, "store.db");
        let acme = tenant("acme");
        store.append(&single(&acme, 0, event("s", "{}"))).unwrap();
        let raw = Connection::open(dir.path().join("store.db")).unwrap();
        // Encoding byte 0 (text), then bytes that are not UTF-8.
        raw.execute(
            "UPDATE events SET payload = X'00FF7B' WHERE position = 1",
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
            .pragma_update(None, "user_version", 6)
            .unwrap();
        for result in [
            SqliteStore::open(&path, &OpenOptions::durable()),
            SqliteStore::open_read_only(&path),
        ] {
            match result {
                Err(
                    error @ StoreError::UnsupportedSchema {
                        found: 6,
                        supported: 5,
                        ..
                    },
                ) => assert_eq!(
                    error.to_string(),
                    format!(
                        "{} has schema version 6; this build supports 5: it was written by a \
                         newer version of Flowline, which is needed to open it",
                        path.display()
                    )
                ),
                other => panic!("expected UnsupportedSchema, got {other:?}"),
            }
        }
        // Refusing it changed nothing: still version 6, with its tables as they were.
        let raw = Connection::open(&path).unwrap();
        let version: i64 = raw
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, 6);
        let tables: i64 = raw
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('events', 'event_types')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 2);
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
