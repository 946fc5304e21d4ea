//! Flowline's append-only event log: the interfaces every backend implements.
//!
//! The log is the system of record: every change to a tenant's state is an event, appended once
//! and never altered. This crate defines the small interface the engine and the server use, and
//! the conformance suite every backend passes; the backends live in crates of their own
//! (`flowline-store-sqlite`, the embedded default, and `flowline-store-memory`, for simulations
//! and tests), and only the binary chooses one:
//!
//! - [`EventStore`]: the object-safe trait: [`EventStore::append`] one atomic
//!   [`AppendRequest`] (a group of [`CommandRecord`]s, each with its [`NewEvent`]s, stream
//!   version expectations ([`ExpectedVersion`]) and optional [`IdempotencyRecord`], plus
//!   [`BalanceRow`] upserts), and read [`StoredEvent`]s back by tenant, globally, or by stream.
//! - [`Directory`]: the tenants the API serves and their API keys ([`TenantRecord`],
//!   [`KeyRecord`]; key hashes only).
//! - [`LogIndex`]: the log's streams by document kind ([`StreamSummary`]) and its latest
//!   business time, for lists.
//! - [`Snapshots`]: the latest [`Snapshot`] of each projection of each tenant, a cache that
//!   start-up restores instead of folding the whole log (see [`snapshot`]).
//! - [`Leases`]: which process writes each tenant when several share a database (see
//!   [`lease`]).
//! - [`Store`]: all five together, one handle of a [`Backend`], which opens handles that read
//!   and write or only read.
//! - [`StoreError`]: what can go wrong, with the variants a caller must handle differently
//!   ([`StoreError::SeqConflict`], [`StoreError::StreamVersionConflict`],
//!   [`StoreError::DuplicateIdempotencyKey`], [`StoreError::IdempotencyKeyReused`],
//!   [`StoreError::Busy`], [`StoreError::Corrupt`]).
//! - [`conformance`]: the behavioural test suite every backend must pass.
//!
//! Numbering: every event gets a global `position`, a per-tenant `seq` (1, 2, 3, … without
//! gaps) and a per-stream `stream_version` (1, 2, 3, … without gaps within one
//! `(tenant, stream)`). Positions strictly increase across tenants in the order
//! [`EventStore::read_all`] returns events, and the promise a follower relies on is this: once
//! `read_all` has returned an event at position `p`, it will never later return an event below
//! `p`. A single-file backend meets it by numbering in commit order. A shared database, where
//! concurrent transactions take numbers before they commit, meets it by returning only events
//! below the lowest position still being written; positions may then have gaps (a rolled-back
//! transaction's), so a follower must never count on `p + 1` following `p`.
#![warn(missing_docs)]

pub mod conformance;
mod directory;
pub mod lease;
pub mod snapshot;

pub use directory::{Directory, KeyRecord, LogIndex, SessionRecord, StreamSummary, TenantRecord};
pub use lease::{LeaseClaim, LeaseState, Leases};
pub use snapshot::{Snapshot, SnapshotError, Snapshots};

use flowline_core::id::TenantId;
use jiff::Timestamp;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// An event to append: everything except the numbers the store assigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The stream (aggregate) the event belongs to, for example `so/SO-1`.
    pub stream: String,
    /// The event's type name, for example `SalesOrderPlaced`.
    pub event_type: String,
    /// The version of the payload's schema for this event type.
    pub schema_version: u32,
    /// When the event happened in the business's world (as opposed to when it was recorded).
    pub business_time: Timestamp,
    /// The payload as JSON text. The store does not parse it.
    pub payload: String,
}

/// What a command expects of a stream's current version before its events are appended.
///
/// Stream versions start at 1; a stream without events has no version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No expectation: append whatever the stream's version.
    Any,
    /// The stream must have no events.
    NoStream,
    /// The stream's last event must have exactly this version. `Exact(0)` means the same as
    /// [`ExpectedVersion::NoStream`].
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream whose current version is `actual` meets this expectation.
    pub fn is_met_by(self, actual: Option<u64>) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream | Self::Exact(0) => actual.is_none(),
            Self::Exact(version) => actual == Some(version),
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream | Self::Exact(0) => f.write_str("no stream"),
            Self::Exact(version) => write!(f, "version {version}"),
        }
    }
}

/// The idempotency key of a command, remembered with the response it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The caller's key, unique per tenant.
    pub key: String,
    /// A hash of the request, to tell a retry (same hash) from a key reused for another request.
    pub request_hash: String,
    /// The response to return to a retry, as text (typically JSON).
    pub response: String,
}

/// One command's effect: its events, the stream versions it relied on, and its idempotency key.
///
/// A command with no events but an idempotency record is valid: it remembers the response of a
/// rejected command so that a retry gets the same rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    /// The events, appended in this order.
    pub events: Vec<NewEvent>,
    /// Stream version expectations, checked against the store plus the events of earlier
    /// commands in the same request.
    pub expected: Vec<(String, ExpectedVersion)>,
    /// The idempotency record to store, if the command carried a key.
    pub idempotency: Option<IdempotencyRecord>,
}

/// The current balance of one item at one location: a projection row, replaced wholesale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRow {
    /// The item (SKU).
    pub item: String,
    /// The location.
    pub location: String,
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved.
    pub reserved: i64,
    /// The stock's value in minor currency units.
    pub value_minor: i64,
}

/// One atomic write for one tenant: all of it is committed, or none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// The tenant written to.
    pub tenant: TenantId,
    /// The tenant's last `seq` as the writer knows it (0 if the tenant has no events). If the
    /// store's differs, another writer got there first: [`StoreError::SeqConflict`].
    pub expected_seq: u64,
    /// The time of recording, stamped on every event and idempotency record.
    pub recorded_at: Timestamp,
    /// The commands, applied in order.
    pub commands: Vec<CommandRecord>,
    /// Balance rows to upsert (absolute values; they replace the stored row).
    pub balances: Vec<BalanceRow>,
}

/// `at` as a log keeps it: to the microsecond. Every backend stores times so, and reads back
/// the same; anything that hands out events without reading them back (a feed of durable
/// batches) rounds them the same way.
pub fn as_stored(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}

/// An event as stored, with the numbers the store assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Global position: strictly increasing across all tenants, in commit order.
    pub position: u64,
    /// The tenant.
    pub tenant: TenantId,
    /// Per-tenant sequence number: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The stream.
    pub stream: String,
    /// Per-stream version: 1, 2, 3, … without gaps within `(tenant, stream)`.
    pub stream_version: u64,
    /// The event's type name.
    pub event_type: String,
    /// The version of the payload's schema.
    pub schema_version: u32,
    /// When the event happened in the business's world.
    pub business_time: Timestamp,
    /// When the event was recorded (microsecond precision).
    pub recorded_at: Timestamp,
    /// The payload as JSON text.
    pub payload: String,
}

/// The numbers assigned by a successful [`EventStore::append`].
///
/// When the request appended no events (no commands, or only commands without events),
/// the ranges are empty: `first_seq == last_seq + 1` with `last_seq` the tenant's head, and
/// `first_position == last_position + 1` with `last_position` the store's last position.
/// Use [`AppendOutcome::event_count`] or [`AppendOutcome::is_empty`] rather than comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The `seq` of the first event appended.
    pub first_seq: u64,
    /// The `seq` of the last event appended: the tenant's new head.
    pub last_seq: u64,
    /// The position of the first event appended.
    pub first_position: u64,
    /// The position of the last event appended.
    pub last_position: u64,
}

impl AppendOutcome {
    /// The number of events appended.
    pub fn event_count(&self) -> u64 {
        (self.last_seq + 1).saturating_sub(self.first_seq)
    }

    /// Whether no events were appended.
    pub fn is_empty(&self) -> bool {
        self.event_count() == 0
    }

    /// The outcome of a request that appended no events, for a tenant at `head` and a store
    /// whose last position is `last_position`.
    pub fn empty(head: u64, last_position: u64) -> Self {
        Self {
            first_seq: head + 1,
            last_seq: head,
            first_position: last_position + 1,
            last_position,
        }
    }
}

/// What the store knows about an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyLookup {
    /// The key has not been used by this tenant.
    Absent,
    /// The key was used for the same request: return the saved response.
    Same {
        /// The response saved with the key.
        response: String,
    },
    /// The key was used for a different request.
    Different,
}

impl IdempotencyLookup {
    /// What a key's earlier use, (request hash, response) if any, means for a request with
    /// `request_hash`.
    pub fn of(earlier: Option<(&str, &str)>, request_hash: &str) -> Self {
        match earlier {
            None => Self::Absent,
            Some((hash, response)) if hash == request_hash => Self::Same {
                response: response.to_string(),
            },
            Some(_) => Self::Different,
        }
    }

    /// For an append carrying `key`: nothing if the key is new, otherwise the error that
    /// refuses the request ([`StoreError::DuplicateIdempotencyKey`] with the saved response,
    /// or [`StoreError::IdempotencyKeyReused`]).
    pub fn refuse(self, tenant: &TenantId, key: &str) -> Result<(), StoreError> {
        match self {
            Self::Absent => Ok(()),
            Self::Same { response } => Err(StoreError::DuplicateIdempotencyKey {
                tenant: tenant.clone(),
                key: key.to_string(),
                response,
            }),
            Self::Different => Err(StoreError::IdempotencyKeyReused {
                tenant: tenant.clone(),
                key: key.to_string(),
            }),
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer appended to the tenant: reload its state and retry.
    #[error("tenant {tenant}: expected last seq {expected} but the store is at {actual}")]
    SeqConflict {
        /// The tenant.
        tenant: TenantId,
        /// The `expected_seq` of the request.
        expected: u64,
        /// The tenant's actual last seq.
        actual: u64,
    },
    /// A stream was not at the version a command expected. Nothing was appended.
    #[error(
        "tenant {tenant}, stream `{stream}`: expected {expected} but found {}",
        describe_version(.actual)
    )]
    StreamVersionConflict {
        /// The tenant.
        tenant: TenantId,
        /// The stream.
        stream: String,
        /// The expectation, as text (see [`ExpectedVersion`]'s `Display`).
        expected: String,
        /// The stream's actual version (`None`: no events).
        actual: Option<u64>,
    },
    /// The idempotency key was already stored with the same request hash: this is a retry.
    /// Return `response`. Nothing was appended.
    #[error("tenant {tenant}: idempotency key `{key}` was already used for this request")]
    DuplicateIdempotencyKey {
        /// The tenant.
        tenant: TenantId,
        /// The key.
        key: String,
        /// The response saved with the key.
        response: String,
    },
    /// The idempotency key was already stored for a different request. Nothing was appended.
    #[error("tenant {tenant}: idempotency key `{key}` was already used for a different request")]
    IdempotencyKeyReused {
        /// The tenant.
        tenant: TenantId,
        /// The key.
        key: String,
    },
    /// The database stayed locked by another writer for longer than the busy timeout.
    #[error("the database is busy (locked by another connection)")]
    Busy,
    /// The database cannot be reached (a server that is down, restarting or refusing
    /// connections). Nothing was written that was not also committed; retry later.
    #[error("the database is unavailable: {reason}")]
    Unavailable {
        /// What the connection attempt or the broken connection reported.
        reason: String,
    },
    /// The append was made under a lease another process has since taken: this process is no
    /// longer the tenant's writer. Nothing was appended.
    #[error(
        "tenant {tenant}: the writer's lease (token {token}) was taken over by {holder}; \
         the append is refused"
    )]
    Fenced {
        /// The tenant.
        tenant: TenantId,
        /// The token the append was made under.
        token: u64,
        /// The lease's holder now.
        holder: String,
    },
    /// A stored event failed its checksum or could not be decoded.
    #[error("corrupt event at position {position}: {reason}")]
    Corrupt {
        /// The position of the bad row.
        position: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The database did not accept a durability setting that was asked for.
    #[error("the database reports {setting} = {actual} but {requested} was requested")]
    DurabilityNotHonoured {
        /// The pragma, `journal_mode` or `synchronous`.
        setting: &'static str,
        /// The value asked for.
        requested: String,
        /// The value read back.
        actual: String,
    },
    /// The store file does not exist (opening read-only never creates one).
    #[error("no event store at {}", .path.display())]
    Missing {
        /// The path looked for.
        path: PathBuf,
    },
    /// The file's schema is not one this version knows: a newer build's, or (for a read-only
    /// open) an older one that a writer has not migrated yet.
    #[error(
        "{} has schema version {found}; this build supports {supported}: {}",
        .path.display(),
        schema_advice(*found, *supported)
    )]
    UnsupportedSchema {
        /// The store's path.
        path: PathBuf,
        /// The schema version found (`PRAGMA user_version`).
        found: i64,
        /// The schema version this build writes.
        supported: i64,
    },
    /// The store was opened read-only and cannot be written.
    #[error("the event store was opened read-only")]
    ReadOnly,
    /// A record to create exists already (a registered tenant, an API key id).
    #[error("{what} already exists")]
    AlreadyExists {
        /// What, with its id.
        what: String,
    },
    /// A record referred to does not exist.
    #[error("{what} does not exist")]
    NotFound {
        /// What, with its id.
        what: String,
    },
    /// The address of the log cannot be used as given: a database URL that does not parse, a
    /// schema name that is not one.
    #[error("the database address is not usable: {reason}")]
    InvalidAddress {
        /// What is wrong with it.
        reason: String,
    },
    /// A request the store cannot carry out, and why: a number beyond the storable range, a
    /// read the backend cannot give, a tenant to move where it is already.
    #[error("{reason}")]
    InvalidRequest {
        /// Why.
        reason: String,
    },
    /// A file system error.
    #[error("I/O error: {0}")]
    Io(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn schema_advice(found: i64, supported: i64) -> &'static str {
    if found > supported {
        "it was written by a newer version of Flowline, which is needed to open it"
    } else {
        "opening it for writing migrates it to this build's version"
    }
}

fn describe_version(version: &Option<u64>) -> String {
    match version {
        None => "no stream".to_string(),
        Some(version) => format!("version {version}"),
    }
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error.to_string())
    }
}

/// An append-only event log, partitioned by tenant.
///
/// One writer per tenant is the design, but the store does not rely on it: a stale writer gets
/// [`StoreError::SeqConflict`].
pub trait EventStore: Send {
    /// Appends a request atomically: all commands' events, idempotency records and balance
    /// upserts in one transaction, or nothing.
    ///
    /// In order: the tenant's head must equal `expected_seq` ([`StoreError::SeqConflict`]);
    /// then for each command: its idempotency key must be new for the tenant
    /// ([`StoreError::DuplicateIdempotencyKey`] or [`StoreError::IdempotencyKeyReused`]), its
    /// stream expectations must hold ([`StoreError::StreamVersionConflict`]), and its events get
    /// the next `seq`, `stream_version` and `position`. A request with no commands and no
    /// balances is a no-op that does not check `expected_seq`.
    fn append(&mut self, request: &AppendRequest) -> Result<AppendOutcome, StoreError>;

    /// Up to `limit` events of `tenant` with `seq > after_seq`, in `seq` order.
    fn read_tenant(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Up to `limit` events of all tenants with `position > after_position`, in position order.
    fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every event of one stream, in `stream_version` order.
    fn read_stream(&self, tenant: &TenantId, stream: &str) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every event of several streams, each stream's in `stream_version` order (streams in
    /// any order): what [`EventStore::read_stream`] gives for each, in one read where the
    /// backend can (a database across a network pays a round trip per read).
    fn read_streams(
        &self,
        tenant: &TenantId,
        streams: &[&str],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut events = Vec::new();
        for stream in streams {
            events.extend(self.read_stream(tenant, stream)?);
        }
        Ok(events)
    }

    /// The stream's current version, `None` if it has no events.
    fn stream_version(&self, tenant: &TenantId, stream: &str) -> Result<Option<u64>, StoreError>;

    /// The tenant's last `seq`, 0 if it has no events.
    fn tenant_head(&self, tenant: &TenantId) -> Result<u64, StoreError>;

    /// Every tenant with at least one committed write (events, idempotency records or
    /// balances), sorted.
    fn tenants(&self) -> Result<Vec<TenantId>, StoreError>;

    /// What the store knows about an idempotency key of `tenant`.
    fn idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyLookup, StoreError>;

    /// The tenant's balance rows, sorted by item then location.
    fn balances(&self, tenant: &TenantId) -> Result<Vec<BalanceRow>, StoreError>;

    /// Up to `limit` of the tenant's idempotency records with keys after `after_key`, in key
    /// order: what a copy of the log to another backend carries over, so that a retry of a
    /// request answered before the copy is still answered the same after it.
    fn idempotency_records(
        &self,
        tenant: &TenantId,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError>;
}

/// One handle on a backend's log, tenants and keys, the snapshots of its projections and the
/// writers' leases.
pub trait Store: EventStore + Directory + LogIndex + Snapshots + Leases {}

impl<T: EventStore + Directory + LogIndex + Snapshots + Leases> Store for T {}

/// Where the log lives: opens handles on it. The engine takes one for each tenant's writer and
/// committer, the server a few for reading. Implemented by each backend crate; only the binary
/// chooses which.
pub trait Backend: Send + Sync + fmt::Debug {
    /// A handle that reads and writes, creating the log if there is none.
    fn open(&self) -> Result<Box<dyn Store>, StoreError>;

    /// A handle that only reads: appends and directory changes fail with
    /// [`StoreError::ReadOnly`].
    fn open_reader(&self) -> Result<Box<dyn Store>, StoreError>;

    /// Where the log is, for messages: a file's path, or `memory`.
    fn describe(&self) -> String;

    /// Calls `committed` with the tenant and its new head each time any process commits an
    /// append to the log, from a thread of the backend's own, until the returned watch is
    /// dropped. Notices may come late, twice or, while the backend reconnects, not at all:
    /// they are for waking readers sooner, and a reader that must not miss a commit still
    /// reads the log now and then. `None` (the default) when the backend gives no notice,
    /// because one process is all that writes it.
    fn watch_commits(&self, committed: OnCommit) -> Result<Option<CommitWatch>, StoreError> {
        let _ = committed;
        Ok(None)
    }

    /// How far the log this backend reads is behind the log as written, when it reads a copy
    /// (a read replica); `None` (the default) when it reads the written log itself.
    fn behind(&self) -> Result<Option<Behind>, StoreError> {
        Ok(None)
    }
}

/// How far a copy of the log is behind the original: what [`Backend::behind`] measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behind {
    /// Bytes of the original's write-ahead log the copy has not applied yet (at most).
    pub bytes: u64,
    /// While it has received more than it has applied, the seconds since the last commit it
    /// applied; 0 when it has applied all it received.
    pub seconds: f64,
}

/// What [`Backend::watch_commits`] calls: the tenant and its head after the commit.
pub type OnCommit = Arc<dyn Fn(&TenantId, u64) + Send + Sync>;

/// A running [`Backend::watch_commits`]; dropping it stops the watch.
pub struct CommitWatch {
    stop: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl CommitWatch {
    /// A watch that `stop` ends.
    pub fn new(stop: impl FnOnce() + Send + Sync + 'static) -> Self {
        Self {
            stop: Some(Box::new(stop)),
        }
    }
}

impl fmt::Debug for CommitWatch {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("CommitWatch")
    }
}

impl Drop for CommitWatch {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// A shared backend, as the engine and the server hold it.
pub type SharedBackend = Arc<dyn Backend>;

/// The CRC-32 of an event's identity and content, as every backend stores it beside the event
/// and checks it on every read. Every field is length-prefixed or fixed-width, so no two
/// different events encode to the same bytes. Names and the payload's JSON text go in as they
/// are, not a backend's ids or compressed form, so the checksum does not depend on how a
/// backend stores them, and an event copied from one backend to another keeps it.
/// `business_time` is in microseconds since the Unix epoch.
#[allow(clippy::too_many_arguments)]
pub fn event_checksum(
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
