//! The tenants the API serves, their API keys and the dashboard's sessions ([`Directory`]),
//! and the streams index
//! ([`LogIndex`]), in the SQLite file beside the log.
//!
//! Every row is keyed by tenant first, so no lookup other than the one by key id can cross
//! tenants.

use crate::{Db, SqliteStore};
use flowline_core::id::TenantId;
use flowline_core::stream::StreamName;
use flowline_store::{
    Directory, KeyRecord, LogIndex, SessionRecord, StoreError, StreamSummary, TenantRecord,
};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};

const SELECT_KEY: &str = "SELECT tenant, key_id, role, label, secret_hash, created_at, revoked_at, \
     requests_per_second FROM api_keys";

impl Directory for SqliteStore {
    /// Registers a tenant. Fails with [`StoreError::AlreadyExists`] if it is registered.
    fn register_tenant(&mut self, record: &TenantRecord) -> Result<(), StoreError> {
        self.writable()?;
        let inserted = self
            .connection
            .execute(
                "INSERT OR IGNORE INTO registered_tenants (tenant, name, created_at) \
             VALUES (?1, ?2, ?3)",
                params![
                    record.tenant.as_str(),
                    record.name,
                    record.created_at.as_microsecond()
                ],
            )
            .db()?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        Ok(())
    }

    /// The registered tenant, if it is registered.
    fn registered_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT tenant, name, created_at FROM registered_tenants WHERE tenant = ?1",
            )
            .db()?
            .query_row([tenant.as_str()], |row| Ok(decode_tenant(row)))
            .optional()
            .db()?
            .transpose()
    }

    /// Every registered tenant, sorted by id.
    fn registered_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT tenant, name, created_at FROM registered_tenants ORDER BY tenant",
            )
            .db()?;
        let rows = statement.query_map([], |row| Ok(decode_tenant(row))).db()?;
        let mut tenants = Vec::new();
        for row in rows {
            tenants.push(row.db()??);
        }
        Ok(tenants)
    }

    /// Stores a new key. Its tenant must be registered; its id must be new.
    fn insert_key(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.writable()?;
        if self.registered_tenant(&record.tenant)?.is_none() {
            return Err(StoreError::NotFound {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        let inserted = self
            .connection
            .execute(
                "INSERT OR IGNORE INTO api_keys \
             (tenant, key_id, role, label, secret_hash, created_at, revoked_at, \
              requests_per_second) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    record.tenant.as_str(),
                    record.key_id,
                    record.role,
                    record.label,
                    record.secret_hash,
                    record.created_at.as_microsecond(),
                    record.revoked_at.map(|at| at.as_microsecond()),
                    record.requests_per_second,
                ],
            )
            .db()?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                what: format!("API key `{}`", record.key_id),
            });
        }
        Ok(())
    }

    /// The key with this public id, whichever its tenant: the one lookup that is not scoped to
    /// a tenant, because the key is what tells the tenant.
    fn find_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.connection
            .prepare_cached(&format!("{SELECT_KEY} WHERE key_id = ?1"))
            .db()?
            .query_row([key_id], |row| Ok(decode_key(row)))
            .optional()
            .db()?
            .transpose()
    }

    /// The tenant's keys, revoked ones included, oldest first.
    fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(&format!(
                "{SELECT_KEY} WHERE tenant = ?1 ORDER BY created_at, key_id"
            ))
            .db()?;
        let rows = statement
            .query_map([tenant.as_str()], |row| Ok(decode_key(row)))
            .db()?;
        let mut keys = Vec::new();
        for row in rows {
            keys.push(row.db()??);
        }
        Ok(keys)
    }

    /// Revokes one of the tenant's keys. Returns false if the tenant has no such key; revoking
    /// a revoked key keeps the first revocation time.
    fn revoke_key(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let exists = self
            .connection
            .prepare_cached("SELECT 1 FROM api_keys WHERE tenant = ?1 AND key_id = ?2")
            .db()?
            .query_row(params![tenant.as_str(), key_id], |_| Ok(()))
            .optional()
            .db()?
            .is_some();
        self.connection
            .execute(
                "UPDATE api_keys SET revoked_at = ?3 \
             WHERE tenant = ?1 AND key_id = ?2 AND revoked_at IS NULL",
                params![tenant.as_str(), key_id, at.as_microsecond()],
            )
            .db()?;
        Ok(exists)
    }

    /// Sets one of the tenant's keys' own rate limit (`None`: the server's default). Returns
    /// false if the tenant has no such key. A running server applies it from the key's next
    /// request, since every request's key is read from the store.
    fn set_key_rate(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        requests_per_second: Option<u32>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let changed = self
            .connection
            .execute(
                "UPDATE api_keys SET requests_per_second = ?3 WHERE tenant = ?1 AND key_id = ?2",
                params![tenant.as_str(), key_id, requests_per_second],
            )
            .db()?;
        Ok(changed == 1)
    }

    fn open_session(&mut self, record: &SessionRecord, per_key: usize) -> Result<(), StoreError> {
        self.writable()?;
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .db()?;
        let key_exists = transaction
            .prepare_cached("SELECT 1 FROM api_keys WHERE key_id = ?1")
            .db()?
            .query_row([&record.key_id], |_| Ok(()))
            .optional()
            .db()?
            .is_some();
        if !key_exists {
            return Err(StoreError::NotFound {
                what: format!("API key `{}`", record.key_id),
            });
        }
        // Room for the new one: the key's sessions that expire soonest go.
        let keep = i64::try_from(per_key.max(1) - 1).unwrap_or(i64::MAX);
        transaction
            .prepare_cached(
                "DELETE FROM sessions WHERE key_id = ?1 AND id_hash NOT IN \
                 (SELECT id_hash FROM sessions WHERE key_id = ?1 \
                  ORDER BY expires_at DESC, id_hash DESC LIMIT ?2)",
            )
            .db()?
            .execute(params![record.key_id, keep])
            .db()?;
        let inserted = transaction
            .prepare_cached(
                "INSERT OR IGNORE INTO sessions \
                 (id_hash, tenant, key_id, csrf, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .db()?
            .execute(params![
                record.id_hash,
                record.tenant.as_str(),
                record.key_id,
                record.csrf,
                record.created_at.as_microsecond(),
                record.expires_at.as_microsecond(),
            ])
            .db()?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                what: "session".to_string(),
            });
        }
        transaction.commit().db()
    }

    fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT id_hash, tenant, key_id, csrf, created_at, expires_at FROM sessions \
                 WHERE id_hash = ?1 AND expires_at > ?2",
            )
            .db()?
            .query_row(params![id_hash, now.as_microsecond()], |row| {
                Ok(decode_session(row))
            })
            .optional()
            .db()?
            .transpose()
    }

    fn extend_session(&mut self, id_hash: &str, expires_at: Timestamp) -> Result<bool, StoreError> {
        self.writable()?;
        let changed = self
            .connection
            .prepare_cached("UPDATE sessions SET expires_at = ?2 WHERE id_hash = ?1")
            .db()?
            .execute(params![id_hash, expires_at.as_microsecond()])
            .db()?;
        Ok(changed == 1)
    }

    fn close_session(&mut self, id_hash: &str) -> Result<bool, StoreError> {
        self.writable()?;
        let changed = self
            .connection
            .prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")
            .db()?
            .execute([id_hash])
            .db()?;
        Ok(changed == 1)
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        self.writable()?;
        let deleted = self
            .connection
            .prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")
            .db()?
            .execute([now.as_microsecond()])
            .db()?;
        Ok(deleted as u64)
    }
}

fn decode_session(row: &Row<'_>) -> Result<SessionRecord, StoreError> {
    let tenant: String = row.get(1).db()?;
    let created_at: i64 = row.get(4).db()?;
    let expires_at: i64 = row.get(5).db()?;
    Ok(SessionRecord {
        id_hash: row.get(0).db()?,
        tenant: tenant_id(&tenant, "sessions")?,
        key_id: row.get(2).db()?,
        csrf: row.get(3).db()?,
        created_at: timestamp(created_at, "created_at")?,
        expires_at: timestamp(expires_at, "expires_at")?,
    })
}

fn timestamp(micros: i64, what: &str) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros).map_err(|error| StoreError::Corrupt {
        position: 0,
        reason: format!("{what} {micros} is out of range: {error}"),
    })
}

fn tenant_id(text: &str, table: &str) -> Result<TenantId, StoreError> {
    TenantId::parse(text).map_err(|error| StoreError::Corrupt {
        position: 0,
        reason: format!("{table} table: {error}"),
    })
}

fn decode_tenant(row: &Row<'_>) -> Result<TenantRecord, StoreError> {
    let tenant: String = row.get(0).db()?;
    let created_at: i64 = row.get(2).db()?;
    Ok(TenantRecord {
        tenant: tenant_id(&tenant, "registered_tenants")?,
        name: row.get(1).db()?,
        created_at: timestamp(created_at, "created_at")?,
    })
}

fn decode_key(row: &Row<'_>) -> Result<KeyRecord, StoreError> {
    let tenant: String = row.get(0).db()?;
    let created_at: i64 = row.get(5).db()?;
    let revoked_at: Option<i64> = row.get(6).db()?;
    let requests_per_second: Option<i64> = row.get(7).db()?;
    Ok(KeyRecord {
        tenant: tenant_id(&tenant, "api_keys")?,
        key_id: row.get(1).db()?,
        role: row.get(2).db()?,
        label: row.get(3).db()?,
        secret_hash: row.get(4).db()?,
        created_at: timestamp(created_at, "created_at")?,
        revoked_at: revoked_at
            .map(|micros| timestamp(micros, "revoked_at"))
            .transpose()?,
        requests_per_second: requests_per_second
            .map(|rate| {
                u32::try_from(rate).map_err(|_| StoreError::Corrupt {
                    position: 0,
                    reason: format!("api_keys table: requests_per_second {rate} is out of range"),
                })
            })
            .transpose()?,
    })
}

impl LogIndex for SqliteStore {
    /// Up to `limit` stream names of `tenant` that start with `kind/`, after `after` (a full
    /// stream name) in name order.
    fn streams_of_kind(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        // Stream names are `kind/id`; every name of the kind sorts between `kind/` and `kind0`
        // (`0` is the character after `/`). The streams' (tenant_id, name) index serves the
        // range; a stream has a row once its first event is appended.
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(Vec::new());
        };
        let lower = match after {
            Some(after) => after.to_string(),
            None => StreamName::prefix(kind),
        };
        let upper = StreamName::end(kind);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT name FROM streams WHERE tenant_id = ?1 AND name > ?2 AND name < ?3 \
             ORDER BY name LIMIT ?4",
            )
            .db()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(params![tenant_id, lower, upper, limit], |row| {
                row.get::<_, String>(0)
            })
            .db()?;
        rows.collect::<Result<Vec<_>, _>>().db()
    }

    /// Every stream of `kind` of `tenant`, in name order, with its first and latest business
    /// times. Each time is one lookup in the events' (tenant, stream, version) index, so this
    /// costs one step per document of the kind, however long each document's history is.
    fn stream_summaries(
        &self,
        tenant: &TenantId,
        kind: &str,
    ) -> Result<Vec<StreamSummary>, StoreError> {
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(Vec::new());
        };
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT s.name, \
               (SELECT e.business_time FROM events e WHERE e.tenant_id = s.tenant_id \
                  AND e.stream_id = s.stream_id ORDER BY e.stream_version LIMIT 1), \
               (SELECT e.business_time FROM events e WHERE e.tenant_id = s.tenant_id \
                  AND e.stream_id = s.stream_id ORDER BY e.stream_version DESC LIMIT 1) \
             FROM streams s WHERE s.tenant_id = ?1 AND s.name > ?2 AND s.name < ?3 \
             ORDER BY s.name",
            )
            .db()?;
        let rows = statement
            .query_map(
                params![tenant_id, StreamName::prefix(kind), StreamName::end(kind)],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                },
            )
            .db()?;
        let mut summaries = Vec::new();
        for row in rows {
            let (name, created, updated) = row.db()?;
            let time = |micros: Option<i64>| {
                micros
                    .and_then(|micros| Timestamp::from_microsecond(micros).ok())
                    .ok_or_else(|| StoreError::Corrupt {
                        position: 0,
                        reason: format!("stream {name} has no readable business time"),
                    })
            };
            summaries.push(StreamSummary {
                created: time(created)?,
                updated: time(updated)?,
                id: StreamName::id_in(kind, &name).unwrap_or(&name).to_string(),
            });
        }
        Ok(summaries)
    }

    /// The business time of the tenant's latest event: the log's own "now", which a
    /// simulated or imported log keeps whatever the wall clock says. `None` before any event.
    fn latest_business_time(&self, tenant: &TenantId) -> Result<Option<Timestamp>, StoreError> {
        let Some(tenant_id) = self.tenant_id(tenant)? else {
            return Ok(None);
        };
        let micros: Option<i64> = self
            .connection
            .prepare_cached(
                "SELECT business_time FROM events WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1",
            )
            .db()?
            .query_row(params![tenant_id], |row| row.get(0))
            .optional()
            .db()?;
        Ok(micros.and_then(|micros| Timestamp::from_microsecond(micros).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpenOptions;
    use flowline_store::EventStore;

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_764_547_200 + second).unwrap()
    }

    fn key(tenant_name: &str, key_id: &str) -> KeyRecord {
        KeyRecord {
            tenant: tenant(tenant_name),
            key_id: key_id.to_string(),
            role: "operator".into(),
            label: "warehouse scanner".into(),
            secret_hash: "ab".repeat(32),
            created_at: at(10),
            revoked_at: None,
            requests_per_second: None,
        }
    }

    #[test]
    fn a_key_is_found_by_its_id_and_belongs_to_exactly_one_tenant() {
        let directory = tempfile::tempdir().unwrap();
        let mut store =
            SqliteStore::open(&directory.path().join("keys.db"), &OpenOptions::durable()).unwrap();
        for name in ["acme", "globex"] {
            store
                .register_tenant(&TenantRecord {
                    tenant: tenant(name),
                    name: name.to_uppercase(),
                    created_at: at(0),
                })
                .unwrap();
        }
        // Registering twice is refused; so is a key for a tenant nobody registered.
        assert!(matches!(
            store.register_tenant(&TenantRecord {
                tenant: tenant("acme"),
                name: "again".into(),
                created_at: at(1),
            }),
            Err(StoreError::AlreadyExists { .. })
        ));
        assert!(matches!(
            store.insert_key(&key("initech", "0000000000000001")),
            Err(StoreError::NotFound { .. })
        ));
        store.insert_key(&key("acme", "00000000000000a1")).unwrap();
        store
            .insert_key(&key("globex", "00000000000000b1"))
            .unwrap();
        // Key ids are unique across tenants.
        assert!(matches!(
            store.insert_key(&key("globex", "00000000000000a1")),
            Err(StoreError::AlreadyExists { .. })
        ));
        assert_eq!(
            store.find_key("00000000000000a1").unwrap(),
            Some(key("acme", "00000000000000a1"))
        );
        assert_eq!(store.find_key("ffffffffffffffff").unwrap(), None);
        assert_eq!(store.keys(&tenant("acme")).unwrap().len(), 1);
        // A tenant cannot revoke another tenant's key.
        assert!(
            !store
                .revoke_key(&tenant("globex"), "00000000000000a1", at(20))
                .unwrap()
        );
        assert_eq!(
            store
                .find_key("00000000000000a1")
                .unwrap()
                .unwrap()
                .revoked_at,
            None
        );
        assert!(
            store
                .revoke_key(&tenant("acme"), "00000000000000a1", at(20))
                .unwrap()
        );
        // A second revocation keeps the first time.
        assert!(
            store
                .revoke_key(&tenant("acme"), "00000000000000a1", at(30))
                .unwrap()
        );
        assert_eq!(
            store
                .find_key("00000000000000a1")
                .unwrap()
                .unwrap()
                .revoked_at,
            Some(at(20))
        );
        let names: Vec<String> = store
            .registered_tenants()
            .unwrap()
            .into_iter()
            .map(|record| record.name)
            .collect();
        assert_eq!(names, ["ACME", "GLOBEX"]);
    }

    #[test]
    fn a_keys_own_rate_is_set_and_cleared_only_by_its_tenant() {
        let directory = tempfile::tempdir().unwrap();
        let mut store =
            SqliteStore::open(&directory.path().join("rates.db"), &OpenOptions::durable()).unwrap();
        for name in ["acme", "globex"] {
            store
                .register_tenant(&TenantRecord {
                    tenant: tenant(name),
                    name: name.into(),
                    created_at: at(0),
                })
                .unwrap();
        }
        // Issued with a rate of its own, which reads back.
        let limited = KeyRecord {
            requests_per_second: Some(5),
            ..key("acme", "00000000000000a1")
        };
        store.insert_key(&limited).unwrap();
        store
            .insert_key(&key("globex", "00000000000000b1"))
            .unwrap();
        assert_eq!(store.find_key("00000000000000a1").unwrap(), Some(limited));
        let rate = |store: &SqliteStore, key_id: &str| {
            store.find_key(key_id).unwrap().unwrap().requests_per_second
        };
        // Another tenant cannot change it; its own tenant can, and can clear it.
        assert!(
            !store
                .set_key_rate(&tenant("globex"), "00000000000000a1", Some(1_000))
                .unwrap()
        );
        assert_eq!(rate(&store, "00000000000000a1"), Some(5));
        assert!(
            store
                .set_key_rate(&tenant("acme"), "00000000000000a1", Some(1_000))
                .unwrap()
        );
        assert_eq!(rate(&store, "00000000000000a1"), Some(1_000));
        assert!(
            store
                .set_key_rate(&tenant("acme"), "00000000000000a1", None)
                .unwrap()
        );
        assert_eq!(rate(&store, "00000000000000a1"), None);
        assert!(
            !store
                .set_key_rate(&tenant("acme"), "ffffffffffffffff", Some(1))
                .unwrap()
        );
        assert_eq!(rate(&store, "00000000000000b1"), None);
    }

    /// A file with tenant `acme` and its key `…a1`, taken back to an older schema by `downgrade`.
    fn older_file(path: &std::path::Path, downgrade: &str) {
        let mut store = SqliteStore::open(path, &OpenOptions::durable()).unwrap();
        store
            .register_tenant(&TenantRecord {
                tenant: tenant("acme"),
                name: "Acme".into(),
                created_at: at(0),
            })
            .unwrap();
        store.insert_key(&key("acme", "00000000000000a1")).unwrap();
        store.connection.execute_batch(downgrade).unwrap();
    }

    /// Opens the older file at `path`, refused read-only until migrated, and checks that its
    /// key is kept and that it keeps sessions, which version 5 added.
    fn migrated(path: &std::path::Path, found_before: i64) -> SqliteStore {
        assert!(matches!(
            SqliteStore::open_read_only(path),
            Err(StoreError::UnsupportedSchema { found, .. }) if found == found_before
        ));
        let mut store = SqliteStore::open(path, &OpenOptions::durable()).unwrap();
        assert_eq!(
            store.find_key("00000000000000a1").unwrap(),
            Some(key("acme", "00000000000000a1"))
        );
        let session = SessionRecord {
            id_hash: "h1".to_string(),
            tenant: tenant("acme"),
            key_id: "00000000000000a1".to_string(),
            csrf: "c1".to_string(),
            created_at: at(0),
            expires_at: at(100),
        };
        store.open_session(&session, 10).unwrap();
        assert_eq!(store.find_session("h1", at(99)).unwrap(), Some(session));
        assert_eq!(store.find_session("h1", at(100)).unwrap(), None);
        let version: i64 = store
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, crate::schema::SCHEMA_VERSION);
        store
    }

    #[test]
    fn a_version_three_file_gains_key_rates_and_sessions_and_keeps_its_keys() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("v3.db");
        // Version 3's shape: the key table without its rate column, no sessions.
        older_file(
            &path,
            "DROP TABLE sessions;
             ALTER TABLE api_keys DROP COLUMN requests_per_second;
             UPDATE meta SET value = '3' WHERE key = 'schema_version';
             PRAGMA user_version = 3;",
        );
        let mut store = migrated(&path, 3);
        assert!(
            store
                .set_key_rate(&tenant("acme"), "00000000000000a1", Some(7))
                .unwrap()
        );
        let reader = SqliteStore::open_read_only(&path).unwrap();
        assert_eq!(
            reader
                .find_key("00000000000000a1")
                .unwrap()
                .unwrap()
                .requests_per_second,
            Some(7)
        );
    }

    #[test]
    fn a_version_four_file_gains_sessions_and_keeps_its_keys() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("four.db");
        // Version 4's shape: no sessions table.
        older_file(
            &path,
            "DROP TABLE sessions;
             UPDATE meta SET value = '4' WHERE key = 'schema_version';
             PRAGMA user_version = 4;",
        );
        migrated(&path, 4);
    }

    #[test]
    fn a_version_one_file_gains_the_key_tables_and_keeps_its_events() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("old.db");
        // A file as version 1 wrote it: the schema of version 1 and one event.
        {
            let connection = rusqlite::Connection::open(&path).unwrap();
            connection
                .pragma_update(None, "journal_mode", "WAL")
                .unwrap();
            connection.execute_batch(crate::schema::SCHEMA_V1).unwrap();
        }
        {
            let mut store = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
            store
                .append(&flowline_store::AppendRequest {
                    tenant: tenant("acme"),
                    expected_seq: 0,
                    recorded_at: at(0),
                    commands: vec![flowline_store::CommandRecord {
                        events: vec![flowline_store::NewEvent {
                            stream: "item/MUG".into(),
                            event_type: "ItemDefined".into(),
                            schema_version: 1,
                            business_time: at(0),
                            payload: "{}".into(),
                        }],
                        expected: Vec::new(),
                        idempotency: None,
                    }],
                    balances: Vec::new(),
                })
                .unwrap();
            store
                .register_tenant(&TenantRecord {
                    tenant: tenant("acme"),
                    name: "Acme".into(),
                    created_at: at(0),
                })
                .unwrap();
        }
        let reader = SqliteStore::open_read_only(&path).unwrap();
        assert_eq!(reader.tenant_head(&tenant("acme")).unwrap(), 1);
        assert_eq!(reader.registered_tenants().unwrap().len(), 1);
        let version: i64 = reader
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, crate::schema::SCHEMA_VERSION);
    }

    /// Appends one event to `stream` as the tenant's event number `seq + 1`.
    fn append_one(
        store: &mut SqliteStore,
        tenant: &TenantId,
        seq: usize,
        stream: &str,
        business_time: Timestamp,
    ) {
        store
            .append(&flowline_store::AppendRequest {
                tenant: tenant.clone(),
                expected_seq: seq as u64,
                recorded_at: at(0),
                commands: vec![flowline_store::CommandRecord {
                    events: vec![flowline_store::NewEvent {
                        stream: stream.into(),
                        event_type: "Anything".into(),
                        schema_version: 1,
                        business_time,
                        payload: "{}".into(),
                    }],
                    expected: Vec::new(),
                    idempotency: None,
                }],
                balances: Vec::new(),
            })
            .unwrap();
    }

    #[test]
    fn documents_of_a_kind_list_in_id_order_a_page_at_a_time() {
        let directory = tempfile::tempdir().unwrap();
        let mut store =
            SqliteStore::open(&directory.path().join("list.db"), &OpenOptions::durable()).unwrap();
        let acme = tenant("acme");
        // Streams of three kinds, the sales orders written out of order and one of them twice.
        let streams = [
            "sales_order/SO-2",
            "item/MUG",
            "sales_order/SO-1",
            "sales_order/SO-2",
            "sales_order_line/X",
            "sales_order/SO-3",
        ];
        for (seq, stream) in streams.iter().enumerate() {
            append_one(&mut store, &acme, seq, stream, at(0));
        }
        // `sales_order_line/X` is another kind: `sales_order_line` sorts after `sales_order0`
        // and must not be listed.
        let first = store
            .streams_of_kind(&acme, "sales_order", None, 2)
            .unwrap();
        assert_eq!(first, ["sales_order/SO-1", "sales_order/SO-2"]);
        let rest = store
            .streams_of_kind(&acme, "sales_order", Some("sales_order/SO-2"), 2)
            .unwrap();
        assert_eq!(rest, ["sales_order/SO-3"]);
        assert!(
            store
                .streams_of_kind(&tenant("globex"), "sales_order", None, 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_kinds_streams_are_summarised_with_their_first_and_latest_business_times() {
        let directory = tempfile::tempdir().unwrap();
        let mut store =
            SqliteStore::open(&directory.path().join("sum.db"), &OpenOptions::durable()).unwrap();
        let acme = tenant("acme");
        // (stream, business second after the base): SO-2 is written at 50 and again at 70,
        // SO-1 once at 10 (recorded after SO-2's first event: business time, not log order,
        // is what the summary reports), and an item that is not a sales order.
        let events = [
            ("sales_order/SO-2", 50),
            ("sales_order/SO-1", 10),
            ("item/MUG", 5),
            ("sales_order/SO-2", 70),
        ];
        for (seq, (stream, second)) in events.iter().enumerate() {
            append_one(&mut store, &acme, seq, stream, at(*second));
        }
        let summaries = store.stream_summaries(&acme, "sales_order").unwrap();
        assert_eq!(
            summaries,
            [
                StreamSummary {
                    id: "SO-1".into(),
                    created: at(10),
                    updated: at(10)
                },
                StreamSummary {
                    id: "SO-2".into(),
                    created: at(50),
                    updated: at(70)
                },
            ]
        );
        // The last event appended is SO-2's second, at 70.
        assert_eq!(store.latest_business_time(&acme).unwrap(), Some(at(70)));
        assert_eq!(store.latest_business_time(&tenant("globex")).unwrap(), None);
        assert!(
            store
                .stream_summaries(&tenant("globex"), "sales_order")
                .unwrap()
                .is_empty()
        );
    }
}
