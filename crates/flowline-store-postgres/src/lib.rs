//! Flowline's event log on PostgreSQL: the [`flowline_store`] interfaces on a shared database.
//!
//! - [`PostgresBackend`]: a database (and, optionally, a schema in it) as a
//!   [`flowline_store::Backend`]. Making one connects once and brings the schema up to this
//!   build's version with the migrations in `migrations/`, run by `refinery` under an advisory
//!   lock so that processes starting together migrate once. Every handle it opens is a
//!   connection of its own.
//! - [`PostgresStore`]: one connection; it implements [`flowline_store::EventStore`],
//!   [`flowline_store::Directory`], [`flowline_store::LogIndex`] and
//!   [`flowline_store::Snapshots`]. A connection that breaks is opened again by the next call;
//!   the call that saw it break fails with [`StoreError::Unavailable`].
//!
//! What a shared database changes, and how the log keeps its promises anyway:
//!
//! - **A tenant's sequence.** An append locks its tenant's row (`SELECT … FOR UPDATE`) before it
//!   reads the head, so a tenant's `seq` stays contiguous and its appends commit in `seq` order
//!   however many processes write. A writer that is not the tenant's (a stale one, after another
//!   took over) finds the head moved and gets [`StoreError::SeqConflict`]; the `(tenant, seq)`
//!   unique constraint would refuse it even so.
//! - **Reading all tenants.** Positions come from a sequence, taken as an append's last step, and
//!   transactions commit in any order. [`flowline_store::EventStore::read_all`] returns only
//!   positions below the lowest one still in flight (the migration's `take_positions` and
//!   `readable_position` explain how), so a follower never skips an event; positions may have
//!   gaps where an append rolled back.
//! - **Checksums.** Every event carries [`flowline_store::event_checksum`], checked on every
//!   read, the same as in a SQLite file, so a log copied between backends keeps its checksums.
#![warn(missing_docs)]

mod append;
mod connection;
mod directory;
mod lease;
mod notify;
mod read;
pub mod routed;
pub mod testing;

use flowline_store::{Backend, Behind, CommitWatch, OnCommit, SharedBackend, Store, StoreError};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The table that records which migrations a database has had.
const MIGRATION_TABLE: &str = "flowline_schema_history";

/// The advisory lock held while migrating, so that processes starting together migrate once.
const MIGRATION_LOCK: i64 = 0x466c_6f77_6c69_6e65; // "Flowline"

/// How long a connection attempt may take before the database is reported unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL database as a [`Backend`]: every handle is a connection of its own.
#[derive(Clone)]
pub struct PostgresBackend {
    config: Config,
    described: String,
    /// When it reads a streaming replica: the primary the replica follows.
    primary: Option<Arc<Config>>,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration holds the password: only the description is shown.
        f.debug_struct("PostgresBackend")
            .field("database", &self.described)
            .finish()
    }
}

impl PostgresBackend {
    /// The database at `url` (`postgres://user:password@host:port/database`, or the key-value
    /// form `host=… dbname=…`). Connects once and migrates the schema, so a wrong address or a
    /// database written by a newer build fails here rather than at the first command.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config = parse(url)?;
        Self::from_config(config, None)
    }

    /// [`PostgresBackend::connect`], shared.
    pub fn shared(url: &str) -> Result<SharedBackend, StoreError> {
        Ok(Arc::new(Self::connect(url)?))
    }

    /// A read replica at `url` (a hot standby that PostgreSQL's streaming replication keeps
    /// from the primary at `primary_url`), for a process that only reads. Nothing is migrated:
    /// the replica's schema must be this build's, as the primary's migration made it. Handles
    /// only read ([`Backend::open`] is refused), reading every tenant in position order is
    /// refused (a standby cannot see which appends are in flight on the primary), and
    /// [`Backend::behind`] says how far the replica is behind the primary.
    pub fn replica(url: &str, primary_url: &str) -> Result<Self, StoreError> {
        let mut config = parse(url)?;
        let mut primary = parse(primary_url)?;
        for config in [&mut config, &mut primary] {
            config.application_name("flowline");
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(CONNECT_TIMEOUT);
            }
            config.keepalives(true);
        }
        let described = format!("{} (replica)", describe(&config, None));
        let backend = Self {
            config,
            described,
            primary: Some(Arc::new(primary)),
        };
        off_runtime(|| {
            let mut client = backend.config.connect(NoTls).map_err(db_error)?;
            check_schema(&mut client, &backend.described)
        })?;
        Ok(backend)
    }

    /// Whether it reads a replica.
    pub fn is_replica(&self) -> bool {
        self.primary.is_some()
    }

    /// The database at `url`, with the log's tables in `schema` (created if absent) instead of
    /// the connection's default: several logs in one database, as the tests keep them. The name
    /// is lower-case letters, digits and underscores, starting with a letter.
    pub fn in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let valid = schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase())
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::InvalidAddress {
                reason: format!(
                    "schema name `{schema}`: use lower-case letters, digits and underscores, \
                     starting with a letter, at most 63 characters"
                ),
            });
        }
        let mut config = parse(url)?;
        config.options(&format!("-c search_path={schema}"));
        Self::from_config(config, Some(schema))
    }

    fn from_config(mut config: Config, schema: Option<&str>) -> Result<Self, StoreError> {
        config.application_name("flowline");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives(true);
        let described = describe(&config, schema);
        let backend = Self {
            config,
            described,
            primary: None,
        };
        off_runtime(|| {
            let mut client = backend.config.connect(NoTls).map_err(db_error)?;
            if let Some(schema) = schema {
                client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .map_err(db_error)?;
            }
            migrate(&mut client, &backend.described)
        })?;
        Ok(backend)
    }

    fn connect_client(&self) -> Result<Client, StoreError> {
        off_runtime(|| self.config.connect(NoTls).map_err(db_error))
    }

    /// A handle that reads and writes.
    pub fn store(&self) -> Result<PostgresStore, StoreError> {
        PostgresStore::open(self.clone(), false)
    }
}

impl Backend for PostgresBackend {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        if self.is_replica() {
            return Err(StoreError::ReadOnly);
        }
        Ok(Box::new(self.store()?))
    }

    fn open_reader(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(PostgresStore::open(self.clone(), true)?))
    }

    fn describe(&self) -> String {
        self.described.clone()
    }

    /// Listens on the store's channel, on which every append's transaction notifies its
    /// tenant's new head as it commits.
    fn watch_commits(&self, committed: OnCommit) -> Result<Option<CommitWatch>, StoreError> {
        if self.is_replica() {
            // A standby cannot LISTEN; its readers read the log instead.
            return Ok(None);
        }
        notify::watch(self, committed).map(Some)
    }

    /// The primary's current write-ahead log position less the position the replica has
    /// replayed, measured on two connections opened for the purpose: the replica is read
    /// first, so the figure is an upper bound (it counts what the primary wrote between the two
    /// reads, a millisecond or so apart on one network). The seconds are those since the last
    /// commit the replica replayed while it has received more than it has replayed, else 0.
    fn behind(&self) -> Result<Option<Behind>, StoreError> {
        let Some(primary) = &self.primary else {
            return Ok(None);
        };
        off_runtime(|| {
            let row = self
                .config
                .connect(NoTls)
                .map_err(db_error)?
                .query_one(
                    "SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')::text, \
                     CASE WHEN pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() \
                     THEN coalesce(extract(epoch FROM clock_timestamp() \
                     - pg_last_xact_replay_timestamp()), 0) ELSE 0 END::float8",
                    &[],
                )
                .map_err(db_error)?;
            let replayed: String = row.get(0);
            let seconds: f64 = row.get(1);
            let bytes: i64 = primary
                .connect(NoTls)
                .map_err(db_error)?
                .query_one(
                    "SELECT greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn))::bigint",
                    &[&replayed],
                )
                .map_err(db_error)?
                .get(0);
            let bytes = stored_u64(bytes, "replica lag")?;
            Ok(Some(Behind {
                bytes,
                seconds: seconds.max(0.0),
            }))
        })
    }
}

/// Checks, without changing anything, that the schema is this build's: what a replica, which
/// cannot be migrated, must find.
fn check_schema(client: &mut Client, described: &str) -> Result<(), StoreError> {
    let supported = supported_version();
    let found = schema_version(client)?;
    if found != supported {
        return Err(StoreError::UnsupportedSchema {
            path: described.into(),
            found,
            supported,
        });
    }
    Ok(())
}

fn parse(url: &str) -> Result<Config, StoreError> {
    url.parse::<Config>()
        .map_err(|error| StoreError::InvalidAddress {
            reason: format!("database URL: {error}"),
        })
}

/// The database as messages name it: never the password.
fn describe(config: &Config, schema: Option<&str>) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_string());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    match schema {
        Some(schema) => format!("postgres://{host}:{port}/{database} (schema {schema})"),
        None => format!("postgres://{host}:{port}/{database}"),
    }
}

/// The schema version this build's migrations bring a database to.
fn supported_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|migration| i64::from(migration.version()))
        .max()
        .unwrap_or(0)
}

/// The schema version the database's migrations reached, 0 when none ran.
fn schema_version(client: &mut Client) -> Result<i64, StoreError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&MIGRATION_TABLE.to_string()],
        )
        .map_err(db_error)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let found: Option<i32> = client
        .query_one(&format!("SELECT max(version) FROM {MIGRATION_TABLE}"), &[])
        .map_err(db_error)?
        .get(0);
    Ok(i64::from(found.unwrap_or(0)))
}

/// Brings the schema up to this build's version; refuses a database a newer build migrated.
fn migrate(client: &mut Client, described: &str) -> Result<(), StoreError> {
    let supported = supported_version();
    client
        .query_one("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db_error)?;
    let outcome = (|| {
        let found = schema_version(client)?;
        if found > supported {
            return Err(StoreError::UnsupportedSchema {
                path: described.into(),
                found,
                supported,
            });
        }
        let mut runner = embedded::migrations::runner();
        runner.set_migration_table_name(MIGRATION_TABLE);
        runner
            .run(client)
            .map(|_| ())
            .map_err(|error| StoreError::Database(Box::new(error)))
    })();
    let unlocked = client
        .query_one("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .map_err(db_error);
    outcome.and(unlocked.map(|_| ()))
}

/// One connection to a [`PostgresBackend`]'s database.
pub struct PostgresStore {
    backend: PostgresBackend,
    /// `None` after the connection broke: the next call opens another. The store is used by
    /// one thread at a time; the lock lets reads, which the interfaces give `&self`, use the
    /// connection.
    client: Mutex<Option<connection::Connection>>,
    read_only: bool,
    /// The lease token each tenant's appends are made under ([`flowline_store::Leases::fence`]).
    fences: std::collections::HashMap<flowline_core::id::TenantId, u64>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.backend.described)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing the connection blocks on the client's runtime too.
        let client = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(client) = client {
            off_runtime(move || drop(client));
        }
    }
}

impl PostgresStore {
    fn open(backend: PostgresBackend, read_only: bool) -> Result<Self, StoreError> {
        let client = backend.connect_client()?;
        Ok(Self {
            backend,
            client: Mutex::new(Some(connection::Connection::new(client))),
            read_only,
            fences: std::collections::HashMap::new(),
        })
    }

    /// A handle that connects at its first use: a cluster that is down then fails only the
    /// calls about its own tenants.
    pub(crate) fn lazy(backend: PostgresBackend, read_only: bool) -> Self {
        Self {
            backend,
            client: Mutex::new(None),
            read_only,
            fences: std::collections::HashMap::new(),
        }
    }

    /// Runs `work` on the connection, opening one first if the last broke, and forgets a
    /// connection that breaks during it.
    pub(crate) fn with<T: Send>(
        &self,
        work: impl FnOnce(&mut connection::Connection) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| {
            let mut slot: MutexGuard<'_, Option<connection::Connection>> =
                self.client.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.as_ref().is_none_or(connection::Connection::is_closed) {
                *slot = Some(connection::Connection::new(self.backend.connect_client()?));
            }
            let Some(client) = slot.as_mut() else {
                return Err(StoreError::Unavailable {
                    reason: "no connection".into(),
                });
            };
            let outcome = work(client);
            if client.is_closed() {
                *slot = None;
            }
            outcome
        })
    }

    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::ReadOnly)
        } else {
            Ok(())
        }
    }
}

/// Runs `work`, which blocks on the database client's own runtime, where that is allowed: on
/// this thread, or, when this thread is running an async runtime's tasks (where blocking on
/// another runtime would panic), on a thread of its own for the call. The engine's writers and
/// the command line call from plain threads and pay nothing.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Turns a PostgreSQL error into a [`StoreError`]: a broken or refused connection is
/// [`StoreError::Unavailable`]; a serialization failure, a deadlock or a lock timeout is
/// [`StoreError::Busy`]; anything else [`StoreError::Database`].
pub(crate) fn db_error(error: postgres::Error) -> StoreError {
    if error.is_closed() {
        return StoreError::Unavailable {
            reason: error.to_string(),
        };
    }
    match error.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::LOCK_NOT_AVAILABLE =>
        {
            StoreError::Busy
        }
        Some(code)
            if *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || code.code().starts_with("08") =>
        {
            StoreError::Unavailable {
                reason: error.to_string(),
            }
        }
        Some(_) => StoreError::Database(Box::new(error)),
        // No SQL state: the connection failed (refused, timed out, reset), or the client did
        // (a value it could not encode or decode).
        None => {
            let io = std::error::Error::source(&error)
                .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some());
            if io {
                StoreError::Unavailable {
                    reason: error.to_string(),
                }
            } else {
                StoreError::Database(Box::new(error))
            }
        }
    }
}

/// `u64` → `bigint`, refusing what does not fit.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidRequest {
        reason: format!("{what} {value} is too large"),
    })
}

/// `u64` → `bigint` bound: values beyond `i64::MAX` match nothing stored anyway.
pub(crate) fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored `bigint` that must not be negative.
pub(crate) fn stored_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        position: 0,
        reason: format!("{what} {value} is negative"),
    })
}

impl PostgresBackend {
    /// How the server keeps commits: its `fsync` and `synchronous_commit` settings, as a
    /// connection of the log reads them.
    pub fn durability_settings(&self) -> Result<Vec<(&'static str, String)>, StoreError> {
        off_runtime(|| {
            let mut client = self.config.connect(NoTls).map_err(db_error)?;
            let mut settings = Vec::new();
            for name in ["fsync", "synchronous_commit"] {
                let row = client
                    .query_one(&format!("SHOW {name}"), &[])
                    .map_err(db_error)?;
                settings.push((name, row.get(0)));
            }
            Ok(settings)
        })
    }
}
