//! The SQLite schema, its versions (`PRAGMA user_version`) and the migrations between them.
//!
//! - Version 1: events, tenant heads, idempotency records and balances, keyed by tenant name;
//!   events carry their stream and type names and their payload as JSON text.
//! - Version 2: adds the registered tenants and their API keys.
//! - Version 3: tenants, streams and event types get integer ids, so an event row
//!   and its two index entries hold small integers instead of names; payloads and stored
//!   responses are compressed with a dictionary kept in the file ([`crate::codec`]). Event
//!   checksums are computed as before, over the names and the JSON text, so a migrated event
//!   keeps its checksum and damage done before the migration is still reported after it.
//! - Version 4: an API key may carry its own rate limit.
//! - Version 5 (this build): the dashboard's sessions, so that they outlive a restart.
//!
//! A new file is created as version 1 and migrated like any old file, so the migrations run on
//! every new store.

use crate::Db;
use crate::codec::{BUILT_IN, Codec};
use crate::store::{checksum_column, corrupt_at};
use flowline_store::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// The schema version this build creates and understands.
pub(crate) const SCHEMA_VERSION: i64 = 5;

/// The schema as version 1 created it.
pub(crate) const SCHEMA_V1: &str = "
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

/// Version 2: the tenants the API serves and their API keys (only a hash of each secret).
pub(crate) const MIGRATE_TO_2: &str = "
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

/// Version 3's tables, created beside version 2's renamed ones, and the rows SQL alone can
/// carry over. Events and idempotency records are copied by [`migrate_to_3`], which compresses
/// them.
///
/// - `tenants.id`, `streams.stream_id` (numbered per tenant in order of first event) and
///   `event_types.id` replace the names in every event row and index entry; `streams` keeps the
///   names, with the `(tenant_id, name)` index serving look-ups by name and listings by kind.
/// - `events` keeps `position` as its rowid and two narrow unique indexes: `(tenant_id, seq)` for
///   reading a tenant in order, `(tenant_id, stream_id, stream_version)` for a stream's version
///   and events. `payload` is a stored value of [`crate::codec`]; `checksum` is the CRC-32 as a
///   signed 32-bit integer, which SQLite stores in 4 bytes where an unsigned one may take 6.
/// - `dictionaries` holds every compression dictionary the file's values were written with.
const CREATE_V3: &str = "
ALTER TABLE tenants RENAME TO tenants_v2;
ALTER TABLE events RENAME TO events_v2;
ALTER TABLE idempotency RENAME TO idempotency_v2;
ALTER TABLE balances RENAME TO balances_v2;
CREATE TABLE tenants (
    id     INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL UNIQUE,
    head   INTEGER NOT NULL
);
CREATE TABLE event_types (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE streams (
    tenant_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, stream_id),
    UNIQUE (tenant_id, name)
) WITHOUT ROWID;
CREATE TABLE dictionaries (
    id    INTEGER PRIMARY KEY,
    bytes BLOB NOT NULL
);
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    stream_id      INTEGER NOT NULL,
    stream_version INTEGER NOT NULL,
    type_id        INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    business_time  INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    payload        BLOB NOT NULL,
    checksum       INTEGER NOT NULL,
    UNIQUE (tenant_id, seq),
    UNIQUE (tenant_id, stream_id, stream_version)
);
CREATE TABLE idempotency (
    tenant_id    INTEGER NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;
CREATE TABLE balances (
    tenant_id   INTEGER NOT NULL,
    item        TEXT NOT NULL,
    location    TEXT NOT NULL,
    on_hand     INTEGER NOT NULL,
    reserved    INTEGER NOT NULL,
    value_minor INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, item, location)
) WITHOUT ROWID;
INSERT INTO tenants (tenant, head) SELECT tenant, head FROM tenants_v2 ORDER BY tenant;
INSERT INTO streams (tenant_id, stream_id, name)
    SELECT t.id, ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY s.first_position), s.stream
    FROM (SELECT tenant, stream, MIN(position) AS first_position
          FROM events_v2 GROUP BY tenant, stream) AS s
    JOIN tenants AS t ON t.tenant = s.tenant;
INSERT INTO balances (tenant_id, item, location, on_hand, reserved, value_minor)
    SELECT t.id, b.item, b.location, b.on_hand, b.reserved, b.value_minor
    FROM balances_v2 AS b JOIN tenants AS t ON t.tenant = b.tenant;
";

const DROP_V2: &str = "
DROP TABLE events_v2;
DROP TABLE idempotency_v2;
DROP TABLE balances_v2;
DROP TABLE tenants_v2;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
PRAGMA user_version = 3;
";

/// Version 4: a key's own rate limit in requests per second (`NULL`: the server's default).
pub(crate) const MIGRATE_TO_4: &str = "
ALTER TABLE api_keys ADD COLUMN requests_per_second INTEGER;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
PRAGMA user_version = 4;
";

/// Version 5: the dashboard's sessions, by the hash of their id.
pub(crate) const MIGRATE_TO_5: &str = "
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_key ON sessions (key_id, expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
UPDATE meta SET value = '5' WHERE key = 'schema_version';
PRAGMA user_version = 5;
";

/// The `INSERT` of one event row of version 3.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (position, tenant_id, seq, stream_id, \
     stream_version, type_id, schema_version, business_time, recorded_at, payload, checksum) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// The `INSERT` of one idempotency record of version 3.
pub(crate) const INSERT_IDEMPOTENCY: &str = "INSERT INTO idempotency \
     (tenant_id, key, request_hash, response, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Streams whose ids the event copy keeps at hand; a stream's events are close together in the
/// log, so a bounded memory finds most of them without a query.
const STREAM_MEMORY: usize = 100_000;

/// Brings a version 2 file to version 3 inside the caller's transaction: new tables beside the
/// old, every row carried over (events and idempotency responses compressed on the way), the
/// old tables dropped. Their pages go to the file's free list and are reused as the log grows.
pub(crate) fn migrate_to_3(connection: &Connection, codec: &mut Codec) -> Result<(), StoreError> {
    connection.execute_batch(CREATE_V3).db()?;
    register_built_in_dictionary(connection, codec)?;
    let balances_before: i64 = connection
        .query_row("SELECT COUNT(*) FROM balances_v2", [], |row| row.get(0))
        .db()?;
    let balances_after: i64 = connection
        .query_row("SELECT COUNT(*) FROM balances", [], |row| row.get(0))
        .db()?;
    if balances_before != balances_after {
        return Err(StoreError::Corrupt {
            position: 0,
            reason: format!(
                "{} balance rows name a tenant with no head",
                balances_before - balances_after
            ),
        });
    }
    let tenants = tenant_ids(connection)?;
    copy_events(connection, codec, &tenants)?;
    copy_idempotency(connection, codec, &tenants)?;
    connection.execute_batch(DROP_V2).db()?;
    Ok(())
}

/// Makes sure the built-in dictionary is in the file and loads every dictionary of the file
/// into `codec`.
pub(crate) fn register_built_in_dictionary(
    connection: &Connection,
    codec: &mut Codec,
) -> Result<(), StoreError> {
    let known: Option<i64> = connection
        .query_row(
            "SELECT id FROM dictionaries WHERE bytes = ?1",
            [BUILT_IN],
            |row| row.get(0),
        )
        .optional()
        .db()?;
    if known.is_none() {
        // Ids fit the one byte that names a value's dictionary; with 255 taken, this build
        // writes text.
        let next: i64 = connection
            .query_row(
                "SELECT COALESCE(MAX(id), 0) + 1 FROM dictionaries",
                [],
                |row| row.get(0),
            )
            .db()?;
        if next <= i64::from(u8::MAX) {
            connection
                .execute(
                    "INSERT INTO dictionaries (id, bytes) VALUES (?1, ?2)",
                    params![next, BUILT_IN],
                )
                .db()?;
        }
    }
    load_dictionaries(connection, codec)
}

/// Loads every dictionary of the file that `codec` does not know yet.
pub(crate) fn load_dictionaries(
    connection: &Connection,
    codec: &mut Codec,
) -> Result<(), StoreError> {
    let mut statement = connection
        .prepare("SELECT id, bytes FROM dictionaries ORDER BY id")
        .db()?;
    let mut rows = statement.query([]).db()?;
    while let Some(row) = rows.next().db()? {
        let id: i64 = row.get(0).db()?;
        let Ok(id) = u8::try_from(id) else {
            continue;
        };
        if codec.knows(id) {
            continue;
        }
        let bytes: Vec<u8> = row.get(1).db()?;
        if !codec.load(id, &bytes) {
            return Err(StoreError::Corrupt {
                position: 0,
                reason: format!("dictionary {id} cannot be loaded"),
            });
        }
    }
    Ok(())
}

fn tenant_ids(connection: &Connection) -> Result<HashMap<String, i64>, StoreError> {
    let mut statement = connection.prepare("SELECT tenant, id FROM tenants").db()?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .db()?;
    rows.collect::<Result<HashMap<_, _>, _>>().db()
}

/// Copies every event of version 2 in position order. Names become ids and payloads are
/// compressed; everything else, the checksum included, is kept as it was, so an event that was
/// damaged before still fails its checksum after.
fn copy_events(
    connection: &Connection,
    codec: &mut Codec,
    tenants: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    let mut select = connection
        .prepare(
            "SELECT position, tenant, seq, stream, stream_version, event_type, schema_version, \
         business_time, recorded_at, payload, checksum FROM events_v2 ORDER BY position",
        )
        .db()?;
    let mut insert = connection.prepare(INSERT_EVENT).db()?;
    let mut find_stream = connection
        .prepare("SELECT stream_id FROM streams WHERE tenant_id = ?1 AND name = ?2")
        .db()?;
    let mut insert_type = connection
        .prepare("INSERT INTO event_types (name) VALUES (?1)")
        .db()?;
    let mut types: HashMap<String, i64> = HashMap::new();
    let mut streams: HashMap<(i64, String), i64> = HashMap::new();
    let mut rows = select.query([]).db()?;
    while let Some(row) = rows.next().db()? {
        let position: i64 = row.get(0).db()?;
        let corrupt = |what: &str| corrupt_at(position, format!("{what} (found while migrating)"));
        let text = |index: usize, name: &str| match row.get_ref(index) {
            Ok(ValueRef::Text(bytes)) => std::str::from_utf8(bytes)
                .map(str::to_string)
                .map_err(|_| corrupt(&format!("{name} is not valid UTF-8"))),
            _ => Err(corrupt(&format!("{name} is not text"))),
        };
        let tenant = text(1, "tenant")?;
        let stream = text(3, "stream")?;
        let event_type = text(5, "event_type")?;
        let tenant_id = *tenants
            .get(&tenant)
            .ok_or_else(|| corrupt(&format!("tenant `{tenant}` has no head")))?;
        if streams.len() >= STREAM_MEMORY {
            streams.clear();
        }
        let key = (tenant_id, stream);
        let stream_id = match streams.get(&key) {
            Some(id) => *id,
            None => {
                let id: i64 = find_stream
                    .query_row(params![tenant_id, key.1], |row| row.get(0))
                    .db()?;
                streams.insert(key, id);
                id
            }
        };
        let type_id = match types.get(&event_type) {
            Some(id) => *id,
            None => {
                insert_type.execute([&event_type]).db()?;
                let id = connection.last_insert_rowid();
                types.insert(event_type, id);
                id
            }
        };
        // A payload that is not valid UTF-8 was damaged before; it is kept as it is, so reading
        // it reports the damage as before.
        let payload: Vec<u8> = match row.get_ref(9).db()? {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => codec.encode(text).to_vec(),
                Err(_) => [&[0u8][..], bytes].concat(),
            },
            _ => return Err(corrupt("payload is not text")),
        };
        let stored_checksum: i64 = row.get(10).db()?;
        insert
            .execute(params![
                position,
                tenant_id,
                row.get::<_, i64>(2).db()?,
                stream_id,
                row.get::<_, i64>(4).db()?,
                type_id,
                row.get::<_, i64>(6).db()?,
                row.get::<_, i64>(7).db()?,
                row.get::<_, i64>(8).db()?,
                payload,
                u32::try_from(stored_checksum).map_or(stored_checksum, checksum_column),
            ])
            .db()?;
    }
    Ok(())
}

/// Copies every idempotency record of version 2, compressing the responses.
fn copy_idempotency(
    connection: &Connection,
    codec: &mut Codec,
    tenants: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    let mut select = connection
        .prepare("SELECT tenant, key, request_hash, response, recorded_at FROM idempotency_v2")
        .db()?;
    let mut insert = connection.prepare(INSERT_IDEMPOTENCY).db()?;
    let mut rows = select.query([]).db()?;
    while let Some(row) = rows.next().db()? {
        let tenant: String = row.get(0).db()?;
        let tenant_id = *tenants.get(&tenant).ok_or_else(|| {
            corrupt_at(
                0,
                format!("idempotency records of tenant `{tenant}`, which has no head"),
            )
        })?;
        let key: String = row.get(1).db()?;
        let request_hash: String = row.get(2).db()?;
        let response: String = row.get(3).db()?;
        let recorded_at: i64 = row.get(4).db()?;
        insert
            .execute(params![
                tenant_id,
                key,
                request_hash,
                codec.encode(&response),
                recorded_at
            ])
            .db()?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail by panicking.
mod tests {
    use super::*;
    use crate::{OpenOptions, SqliteStore};
    use flowline_core::id::TenantId;
    use flowline_store::event_checksum as checksum;
    use flowline_store::{
        AppendRequest, BalanceRow, CommandRecord, Directory, EventStore, IdempotencyLookup,
        LogIndex, NewEvent, StoredEvent,
    };
    use jiff::Timestamp;
    use std::path::Path;

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    fn at(micros: i64) -> Timestamp {
        Timestamp::from_microsecond(1_764_547_200_000_000 + micros).unwrap()
    }

    const SHIPPED: &str = r#"{"type":"SalesOrderShipped","order":"SO-1","shipment":"SH-1","location":"FC-1","carrier":"UPS","service":"ground","tracking":null,"weight_g":900,"lines":[{"line":0,"quantity":1}],"values_minor":[500],"at":"2025-12-01T00:00:00Z","effects":{"moves":[{"sku":"MUG","from":"FC-1","to":"customer","quantity":1,"value_minor":500}],"reservations":[{"sku":"MUG","location":"FC-1","quantity":-1}],"journal":{"postings":[{"account":{"account":"cost_of_goods_sold"},"amount":{"amount_minor":500,"currency":"USD"}},{"account":{"account":"inventory"},"amount":{"amount_minor":-500,"currency":"USD"}}]}}}"#;

    /// The events of the fixture, in position order, as the store must return them.
    fn fixture_events() -> Vec<StoredEvent> {
        let rows: [(&str, u64, &str, u64, &str, &str); 7] = [
            (
                "acme",
                1,
                "item/MUG",
                1,
                "ItemDefined",
                r#"{"type":"ItemDefined","item":{"sku":"MUG","name":"Mug ☕"}}"#,
            ),
            (
                "acme",
                2,
                "sales_order/SO-1",
                1,
                "SalesOrderPlaced",
                r#"{"type":"SalesOrderPlaced","order":"SO-1"}"#,
            ),
            (
                "globex",
                1,
                "sales_order/SO-1",
                1,
                "SalesOrderPlaced",
                r#"{"type":"SalesOrderPlaced","order":"SO-1","note":"globex's own SO-1"}"#,
            ),
            (
                "acme",
                3,
                "sales_order/SO-1",
                2,
                "SalesOrderShipped",
                SHIPPED,
            ),
            ("acme", 4, "sales_order/SO-2", 1, "SalesOrderPlaced", "{}"),
            (
                "globex",
                2,
                "item/CUP",
                1,
                "ItemDefined",
                r#"{"type":"ItemDefined","item":{"sku":"CUP"}}"#,
            ),
            (
                "acme",
                5,
                "sales_order/SO-1",
                3,
                "ShipmentDelivered",
                r#"{"type":"ShipmentDelivered","order":"SO-1"}"#,
            ),
        ];
        rows.into_iter()
            .enumerate()
            .map(
                |(index, (name, seq, stream, version, event_type, payload))| {
                    let position = index as u64 + 1;
                    StoredEvent {
                        position,
                        tenant: tenant(name),
                        seq,
                        stream: stream.to_string(),
                        stream_version: version,
                        event_type: event_type.to_string(),
                        schema_version: 1,
                        business_time: at(position as i64 * 1_000_001),
                        recorded_at: at(position as i64 * 2_000_003),
                        payload: payload.to_string(),
                    }
                },
            )
            .collect()
    }

    /// A file as versions 1 or 2 wrote it, with rows written by hand as those versions did.
    fn legacy_file(path: &Path, version: i64) {
        let connection = Connection::open(path).unwrap();
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .unwrap();
        connection.execute_batch(SCHEMA_V1).unwrap();
        if version == 2 {
            connection.execute_batch(MIGRATE_TO_2).unwrap();
            connection
                .execute_batch(
                    "INSERT INTO registered_tenants VALUES ('acme', 'Acme', 5);
                     INSERT INTO api_keys VALUES
                         ('acme', '00000000000000a1', 'admin', 'ops', 'ab', 6, NULL);",
                )
                .unwrap();
        }
        for event in fixture_events() {
            let crc = checksum(
                event.tenant.as_str(),
                event.seq as i64,
                &event.stream,
                event.stream_version as i64,
                &event.event_type,
                event.schema_version,
                event.business_time.as_microsecond(),
                &event.payload,
            );
            connection
                .execute(
                    "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        event.position as i64,
                        event.tenant.as_str(),
                        event.seq as i64,
                        event.stream,
                        event.stream_version as i64,
                        event.event_type,
                        1,
                        event.business_time.as_microsecond(),
                        event.recorded_at.as_microsecond(),
                        event.payload,
                        i64::from(crc),
                    ],
                )
                .unwrap();
        }
        connection
            .execute_batch(
                r#"INSERT INTO tenants VALUES ('acme', 5), ('globex', 2), ('initech', 0);
                INSERT INTO idempotency VALUES
                    ('acme', 'order-1', 'hash-1', '{"outcome":"applied","events":[{"seq":2}],"document":{"customer":"Zoë"}}', 7),
                    ('initech', 'order-1', 'hash-9', '{"outcome":"rejected","code":"not_found"}', 8);
                INSERT INTO balances VALUES
                    ('acme', 'MUG', 'FC-1', 9, 1, 4500),
                    ('acme', 'MUG', 'customer', -1, 0, -500),
                    ('globex', 'CUP', 'FC-2', 3, 0, 900);"#,
            )
            .unwrap();
    }

    fn assert_everything_reads_back(store: &SqliteStore) {
        let expected = fixture_events();
        assert_eq!(store.read_all(0, 100).unwrap(), expected);
        assert_eq!(store.read_all(3, 2).unwrap(), expected[3..5].to_vec());
        for name in ["acme", "globex"] {
            let mine: Vec<StoredEvent> = expected
                .iter()
                .filter(|event| event.tenant.as_str() == name)
                .cloned()
                .collect();
            assert_eq!(store.read_tenant(&tenant(name), 0, 100).unwrap(), mine);
            assert_eq!(store.tenant_head(&tenant(name)).unwrap(), mine.len() as u64);
        }
        let acme = tenant("acme");
        let so1 = store.read_stream(&acme, "sales_order/SO-1").unwrap();
        assert_eq!(
            so1.iter().map(|event| event.position).collect::<Vec<_>>(),
            [2, 4, 7]
        );
        assert_eq!(
            store.stream_version(&acme, "sales_order/SO-1").unwrap(),
            Some(3)
        );
        assert_eq!(
            store
                .stream_version(&tenant("globex"), "sales_order/SO-1")
                .unwrap(),
            Some(1)
        );
        assert_eq!(store.stream_version(&acme, "item/CUP").unwrap(), None);
        assert_eq!(
            store.tenants().unwrap(),
            [tenant("acme"), tenant("globex"), tenant("initech")]
        );
        assert_eq!(
            store.idempotency(&acme, "order-1", "hash-1").unwrap(),
            IdempotencyLookup::Same {
                response:
                    r#"{"outcome":"applied","events":[{"seq":2}],"document":{"customer":"Zoë"}}"#
                        .into()
            }
        );
        assert_eq!(
            store.idempotency(&acme, "order-1", "hash-2").unwrap(),
            IdempotencyLookup::Different
        );
        assert_eq!(
            store
                .idempotency(&tenant("initech"), "order-1", "hash-9")
                .unwrap(),
            IdempotencyLookup::Same {
                response: r#"{"outcome":"rejected","code":"not_found"}"#.into()
            }
        );
        assert_eq!(
            store
                .idempotency(&tenant("globex"), "order-1", "hash-1")
                .unwrap(),
            IdempotencyLookup::Absent
        );
        let balance = |item: &str, location: &str, on_hand, reserved, value_minor| BalanceRow {
            item: item.into(),
            location: location.into(),
            on_hand,
            reserved,
            value_minor,
        };
        assert_eq!(
            store.balances(&acme).unwrap(),
            [
                balance("MUG", "FC-1", 9, 1, 4500),
                balance("MUG", "customer", -1, 0, -500)
            ]
        );
        assert_eq!(
            store.balances(&tenant("globex")).unwrap(),
            [balance("CUP", "FC-2", 3, 0, 900)]
        );
        assert_eq!(
            store
                .streams_of_kind(&acme, "sales_order", None, 10)
                .unwrap(),
            ["sales_order/SO-1", "sales_order/SO-2"]
        );
    }

    fn one_event(
        tenant_name: &str,
        expected_seq: u64,
        stream: &str,
        event_type: &str,
    ) -> AppendRequest {
        AppendRequest {
            tenant: tenant(tenant_name),
            expected_seq,
            recorded_at: at(99_000_000),
            commands: vec![CommandRecord {
                events: vec![NewEvent {
                    stream: stream.into(),
                    event_type: event_type.into(),
                    schema_version: 1,
                    business_time: at(98_000_000),
                    payload: SHIPPED.into(),
                }],
                expected: Vec::new(),
                idempotency: None,
            }],
            balances: Vec::new(),
        }
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_version_two_file_reads_back_everything_after_migrating_and_goes_on_numbering() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("v2.db");
        legacy_file(&path, 2);
        // A version 2 file is not read until a writer has migrated it.
        assert!(matches!(
            SqliteStore::open_read_only(&path),
            Err(StoreError::UnsupportedSchema {
                found: 2,
                supported: SCHEMA_VERSION,
                ..
            })
        ));
        let mut store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        assert_everything_reads_back(&store);
        assert_everything_reads_back(&SqliteStore::open_read_only(&path).unwrap());
        let keys = store.keys(&tenant("acme")).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key_id, "00000000000000a1");
        assert_eq!(store.registered_tenants().unwrap().len(), 1);

        // Numbering goes on where it stopped: seq, position, stream version; a new stream and a
        // new event type get ids of their own.
        let outcome = store
            .append(&one_event(
                "acme",
                5,
                "sales_order/SO-1",
                "SalesOrderInvoiced",
            ))
            .unwrap();
        assert_eq!((outcome.first_seq, outcome.first_position), (6, 8));
        assert_eq!(
            store
                .stream_version(&tenant("acme"), "sales_order/SO-1")
                .unwrap(),
            Some(4)
        );
        store
            .append(&one_event(
                "globex",
                2,
                "sales_order/SO-9",
                "SalesOrderPlaced",
            ))
            .unwrap();
        let tail = store.read_all(7, 10).unwrap();
        assert_eq!(
            tail.iter()
                .map(|e| (
                    e.tenant.as_str(),
                    e.seq,
                    e.stream.as_str(),
                    e.stream_version
                ))
                .collect::<Vec<_>>(),
            [
                ("acme", 6, "sales_order/SO-1", 4),
                ("globex", 3, "sales_order/SO-9", 1)
            ]
        );
        assert!(tail.iter().all(|event| event.payload == SHIPPED));
        // Reopened, it is version 3 already and opens as it is.
        drop(store);
        let store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        assert_eq!(store.read_all(0, 100).unwrap().len(), 9);
    }

    /// A log written by the `flowline` binary of commit e1e7533 (schema version 2), as
    /// `fixtures/README.md` describes.
    const E1E7533_LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/v2-e1e7533.db");

    /// An event row of version 2, read with plain SQL.
    #[derive(Debug)]
    struct RawEvent {
        position: i64,
        tenant: String,
        seq: i64,
        stream: String,
        stream_version: i64,
        event_type: String,
        schema_version: i64,
        business_time: i64,
        recorded_at: i64,
        payload: String,
        checksum: i64,
    }

    fn rows<T>(
        connection: &Connection,
        sql: &str,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Vec<T> {
        let mut statement = connection.prepare(sql).unwrap();
        statement
            .query_map([], map)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_log_written_by_the_previous_release_migrates_and_reads_back_byte_identical() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("v2.db");
        std::fs::copy(E1E7533_LOG, &path).unwrap();

        // What the file holds, read with SQL before the store touches it.
        let raw = Connection::open(&path).unwrap();
        assert_eq!(
            raw.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
                .unwrap(),
            2
        );
        let events = rows(
            &raw,
            "SELECT position, tenant, seq, stream, stream_version, event_type, schema_version, \
             business_time, recorded_at, payload, checksum FROM events ORDER BY position",
            |row| {
                Ok(RawEvent {
                    position: row.get(0)?,
                    tenant: row.get(1)?,
                    seq: row.get(2)?,
                    stream: row.get(3)?,
                    stream_version: row.get(4)?,
                    event_type: row.get(5)?,
                    schema_version: row.get(6)?,
                    business_time: row.get(7)?,
                    recorded_at: row.get(8)?,
                    payload: row.get(9)?,
                    checksum: row.get(10)?,
                })
            },
        );
        let heads: Vec<(String, i64)> = rows(
            &raw,
            "SELECT tenant, head FROM tenants ORDER BY tenant",
            |row| Ok((row.get(0)?, row.get(1)?)),
        );
        let responses: Vec<(String, String, String, String)> = rows(
            &raw,
            "SELECT tenant, key, request_hash, response FROM idempotency ORDER BY tenant, key",
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        );
        let balances: Vec<(String, String, String, i64, i64, i64)> = rows(
            &raw,
            "SELECT tenant, item, location, on_hand, reserved, value_minor FROM balances \
             ORDER BY tenant, item, location",
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        );
        let key_ids: Vec<(String, String)> = rows(
            &raw,
            "SELECT tenant, key_id FROM api_keys ORDER BY tenant, created_at, key_id",
            |row| Ok((row.get(0)?, row.get(1)?)),
        );
        drop(raw);
        // The fixture has what the migration must carry: two tenants with events, responses
        // of applied and rejected commands, balances and keys.
        // (As e1e7533's `flowline check` counts them: 2 tenants, 57 events, 6 balances.)
        assert_eq!(heads.len(), 2, "{heads:?}");
        assert_eq!(events.len(), 57);
        assert_eq!(balances.len(), 6);
        assert_eq!(key_ids.len(), 2);
        assert_eq!(responses.len(), 2);
        assert!(responses[0].3.starts_with(r#"{"outcome":"applied""#));
        assert!(responses[1].3.starts_with(r#"{"outcome":"rejected""#));

        let store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        // Every event, its checksum verified against the one e1e7533 stored.
        let read = store.read_all(0, usize::MAX).unwrap();
        assert_eq!(read.len(), events.len());
        for (event, raw) in read.iter().zip(&events) {
            assert_eq!(event.position as i64, raw.position);
            assert_eq!(event.tenant.as_str(), raw.tenant);
            assert_eq!(event.seq as i64, raw.seq);
            assert_eq!(event.stream, raw.stream);
            assert_eq!(event.stream_version as i64, raw.stream_version);
            assert_eq!(event.event_type, raw.event_type);
            assert_eq!(i64::from(event.schema_version), raw.schema_version);
            assert_eq!(event.business_time.as_microsecond(), raw.business_time);
            assert_eq!(event.recorded_at.as_microsecond(), raw.recorded_at);
            assert_eq!(event.payload.as_bytes(), raw.payload.as_bytes());
            // The CRC-32 e1e7533 stored, as an unsigned 32-bit value, is the one of the text.
            let crc = version_two_checksum(raw);
            assert_eq!(i64::from(crc), raw.checksum, "position {}", raw.position);
        }
        for (name, head) in &heads {
            let tenant = tenant(name);
            assert_eq!(store.tenant_head(&tenant).unwrap() as i64, *head);
            let mine: Vec<i64> = events
                .iter()
                .filter(|raw| &raw.tenant == name)
                .map(|raw| raw.position)
                .collect();
            let read: Vec<i64> = store
                .read_tenant(&tenant, 0, usize::MAX)
                .unwrap()
                .iter()
                .map(|event| event.position as i64)
                .collect();
            assert_eq!(read, mine);
        }
        // Every stream reads back whole, in version order.
        let mut streams: Vec<(&str, &str)> = events
            .iter()
            .map(|raw| (raw.tenant.as_str(), raw.stream.as_str()))
            .collect();
        streams.sort();
        streams.dedup();
        for (name, stream) in streams {
            let expected: Vec<i64> = events
                .iter()
                .filter(|raw| raw.tenant == name && raw.stream == stream)
                .map(|raw| raw.position)
                .collect();
            let read: Vec<i64> = store
                .read_stream(&tenant(name), stream)
                .unwrap()
                .iter()
                .map(|event| event.position as i64)
                .collect();
            assert_eq!(read, expected, "{name} {stream}");
        }
        for (name, key, hash, response) in &responses {
            assert_eq!(
                store.idempotency(&tenant(name), key, hash).unwrap(),
                IdempotencyLookup::Same {
                    response: response.clone()
                }
            );
        }
        let mut read_balances = Vec::new();
        for (name, _) in &heads {
            for row in store.balances(&tenant(name)).unwrap() {
                read_balances.push((
                    name.clone(),
                    row.item,
                    row.location,
                    row.on_hand,
                    row.reserved,
                    row.value_minor,
                ));
            }
        }
        assert_eq!(read_balances, balances);
        let mut read_keys = Vec::new();
        for record in store.registered_tenants().unwrap() {
            for key in store.keys(&record.tenant).unwrap() {
                read_keys.push((key.tenant.as_str().to_string(), key.key_id));
            }
        }
        assert_eq!(read_keys, key_ids);
        let integrity: String = store
            .connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }

    /// The CRC-32 of an event as versions 1 and 2 defined it, computed here from the raw row
    /// rather than by the store: each text as its length (8 bytes, little-endian) then its
    /// bytes, each integer as 8 bytes little-endian, the schema version as 4.
    fn version_two_checksum(raw: &RawEvent) -> u32 {
        let mut bytes = Vec::new();
        let text = |bytes: &mut Vec<u8>, value: &str| {
            bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
            bytes.extend_from_slice(value.as_bytes());
        };
        text(&mut bytes, &raw.tenant);
        bytes.extend_from_slice(&raw.seq.to_le_bytes());
        text(&mut bytes, &raw.stream);
        bytes.extend_from_slice(&raw.stream_version.to_le_bytes());
        text(&mut bytes, &raw.event_type);
        bytes.extend_from_slice(&(raw.schema_version as u32).to_le_bytes());
        bytes.extend_from_slice(&raw.business_time.to_le_bytes());
        text(&mut bytes, &raw.payload);
        crc32fast::hash(&bytes)
    }

    #[test]
    fn a_version_one_file_migrates_through_version_two() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("v1.db");
        legacy_file(&path, 1);
        let store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        assert_everything_reads_back(&store);
        assert!(store.registered_tenants().unwrap().is_empty());
    }

    #[test]
    fn an_event_damaged_before_the_migration_is_still_reported_after_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("damaged.db");
        legacy_file(&path, 2);
        Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE events SET payload = replace(payload, '500', '700') WHERE position = 4",
                [],
            )
            .unwrap();
        let store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        assert_eq!(
            store.read_all(0, 3).unwrap(),
            fixture_events()[..3].to_vec()
        );
        match store.read_all(3, 1) {
            Err(StoreError::Corrupt { position, reason }) => {
                assert_eq!(position, 4);
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("expected Corrupt at position 4, got {other:?}"),
        }
    }

    #[test]
    fn migrated_payloads_and_responses_are_stored_compressed() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("v2.db");
        legacy_file(&path, 2);
        drop(SqliteStore::open(&path, &OpenOptions::durable()).unwrap());
        let connection = Connection::open(&path).unwrap();
        let (first_byte, length): (i64, i64) = connection
            .query_row(
                "SELECT unicode(CAST(substr(payload, 1, 1) AS TEXT)), length(payload) \
                 FROM events WHERE position = 4",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(first_byte, 1, "dictionary 1, the built-in one");
        assert!(length < SHIPPED.len() as i64 / 4, "{length} bytes");
        let dictionaries: Vec<u8> = connection
            .query_row("SELECT bytes FROM dictionaries WHERE id = 1", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(dictionaries, BUILT_IN);
        // Nothing of version 2 is left.
        let old_tables: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE '%_v2%'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(old_tables, 0);
    }

    #[test]
    fn a_value_compressed_with_a_dictionary_this_build_does_not_ship_still_reads() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("other.db");
        let mut store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        store
            .append(&one_event(
                "acme",
                0,
                "sales_order/SO-1",
                "SalesOrderShipped",
            ))
            .unwrap();
        drop(store);
        let early_reader = SqliteStore::open_read_only(&path).unwrap();
        // As a later build with another dictionary would: dictionary 7 (raw content here) in
        // the file, and the event's payload compressed with it. The checksum covers the text,
        // not its encoding, so it still holds.
        let other: Vec<u8> = SHIPPED.replace("SO-1", "SO-0").into_bytes();
        let mut frame = Vec::with_capacity(zstd_safe::compress_bound(SHIPPED.len()));
        zstd_safe::CCtx::create()
            .compress_using_cdict(
                &mut frame,
                SHIPPED.as_bytes(),
                &zstd_safe::CDict::create(&other, 3),
            )
            .unwrap();
        let stored = [&[7u8][..], &frame[4..]].concat();
        let connection = Connection::open(&path).unwrap();
        connection
            .execute(
                "INSERT INTO dictionaries (id, bytes) VALUES (7, ?1)",
                [&other],
            )
            .unwrap();
        connection
            .execute(
                "UPDATE events SET payload = ?1 WHERE position = 1",
                [&stored],
            )
            .unwrap();
        drop(connection);
        // A reader opened before the dictionary was added loads it when it meets it.
        assert_eq!(early_reader.read_all(0, 10).unwrap()[0].payload, SHIPPED);
        let reader = SqliteStore::open_read_only(&path).unwrap();
        assert_eq!(reader.read_all(0, 10).unwrap()[0].payload, SHIPPED);
        // A writer keeps writing with the built-in dictionary, id 1.
        let mut store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
        store
            .append(&one_event(
                "acme",
                1,
                "sales_order/SO-1",
                "SalesOrderShipped",
            ))
            .unwrap();
        let events = store.read_all(0, 10).unwrap();
        assert!(events.iter().all(|event| event.payload == SHIPPED));
        let encodings: Vec<(i64, i64)> = {
            let connection = Connection::open(&path).unwrap();
            let mut statement = connection
                .prepare(
                    "SELECT position, unicode(CAST(substr(payload, 1, 1) AS TEXT)) FROM events \
                     ORDER BY position",
                )
                .unwrap();
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(encodings, [(1, 7), (2, 1)]);
    }
}
