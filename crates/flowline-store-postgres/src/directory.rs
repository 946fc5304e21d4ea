//! Beside the log: the tenants, their API keys and the dashboard's sessions ([`Directory`]),
//! and the projections'
//! snapshots ([`Snapshots`]), in tables of the same database, so every process sees the same.

use crate::connection::Sql as _;
use crate::{PostgresStore, db_error};
use flowline_core::id::TenantId;
use flowline_store::{Directory, KeyRecord, SessionRecord, Snapshots, StoreError, TenantRecord};
use jiff::Timestamp;
use postgres::Row;

fn time(micros: i64, what: &str) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros).map_err(|error| StoreError::Corrupt {
        position: 0,
        reason: format!("{what} {micros}: {error}"),
    })
}

fn tenant_id(name: &str) -> Result<TenantId, StoreError> {
    TenantId::parse(name).map_err(|error| StoreError::Corrupt {
        position: 0,
        reason: format!("tenant `{name}`: {error}"),
    })
}

fn tenant_record(row: &Row) -> Result<TenantRecord, StoreError> {
    let tenant: String = row.get(0);
    Ok(TenantRecord {
        tenant: tenant_id(&tenant)?,
        name: row.get(1),
        created_at: time(row.get(2), "tenant creation time")?,
    })
}

/// The columns [`key_record`] reads.
const KEY_COLUMNS: &str = "tenant, key_id, role, label, secret_hash, created_at, revoked_at, \
     requests_per_second FROM api_keys";

fn key_record(row: &Row) -> Result<KeyRecord, StoreError> {
    let tenant: String = row.get(0);
    let rate: Option<i32> = row.get(7);
    Ok(KeyRecord {
        tenant: tenant_id(&tenant)?,
        key_id: row.get(1),
        role: row.get(2),
        label: row.get(3),
        secret_hash: row.get(4),
        created_at: time(row.get(5), "key creation time")?,
        revoked_at: row
            .get::<_, Option<i64>>(6)
            .map(|micros| time(micros, "key revocation time"))
            .transpose()?,
        requests_per_second: rate
            .map(|rate| {
                u32::try_from(rate).map_err(|_| StoreError::Corrupt {
                    position: 0,
                    reason: format!("key rate {rate} is negative"),
                })
            })
            .transpose()?,
    })
}

impl Directory for PostgresStore {
    fn register_tenant(&mut self, record: &TenantRecord) -> Result<(), StoreError> {
        self.writable()?;
        let inserted = self.with(|client| {
            client
                .execute(
                    "INSERT INTO registered_tenants (tenant, name, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (tenant) DO NOTHING",
                    &[
                        &record.tenant.as_str(),
                        &record.name,
                        &record.created_at.as_microsecond(),
                    ],
                )
                .map_err(db_error)
        })?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        Ok(())
    }

    fn registered_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        self.with(|client| {
            client
                .query_opt(
                    "SELECT tenant, name, created_at FROM registered_tenants WHERE tenant = $1",
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?
                .map(|row| tenant_record(&row))
                .transpose()
        })
    }

    fn registered_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.with(|client| {
            client
                .query(
                    "SELECT tenant, name, created_at FROM registered_tenants ORDER BY tenant",
                    &[],
                )
                .map_err(db_error)?
                .iter()
                .map(tenant_record)
                .collect()
        })
    }

    fn insert_key(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.writable()?;
        let rate = record
            .requests_per_second
            .map(|rate| {
                i32::try_from(rate).map_err(|_| StoreError::InvalidRequest {
                    reason: format!("key rate {rate} is too large"),
                })
            })
            .transpose()?;
        let inserted = self.with(|client| {
            let mut transaction = client.transaction().map_err(db_error)?;
            let registered = transaction
                .query_opt(
                    "SELECT 1 FROM registered_tenants WHERE tenant = $1 FOR SHARE",
                    &[&record.tenant.as_str()],
                )
                .map_err(db_error)?
                .is_some();
            if !registered {
                return Ok(None);
            }
            let inserted = transaction
                .execute(
                    "INSERT INTO api_keys (tenant, key_id, role, label, secret_hash, created_at, \
                     revoked_at, requests_per_second) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (key_id) DO NOTHING",
                    &[
                        &record.tenant.as_str(),
                        &record.key_id,
                        &record.role,
                        &record.label,
                        &record.secret_hash,
                        &record.created_at.as_microsecond(),
                        &record.revoked_at.map(|at| at.as_microsecond()),
                        &rate,
                    ],
                )
                .map_err(db_error)?;
            transaction.commit().map_err(db_error)?;
            Ok(Some(inserted))
        })?;
        inserted_under(
            inserted,
            || format!("tenant `{}`", record.tenant),
            || format!("API key `{}`", record.key_id),
        )
    }

    fn find_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.with(|client| {
            client
                .query_opt(
                    &format!("SELECT {KEY_COLUMNS} WHERE key_id = $1"),
                    &[&key_id],
                )
                .map_err(db_error)?
                .map(|row| key_record(&row))
                .transpose()
        })
    }

    fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        self.with(|client| {
            client
                .query(
                    &format!("SELECT {KEY_COLUMNS} WHERE tenant = $1 ORDER BY created_at, key_id"),
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?
                .iter()
                .map(key_record)
                .collect()
        })
    }

    fn revoke_key(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let changed = self.with(|client| {
            client
                .execute(
                    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) \
                     WHERE tenant = $1 AND key_id = $2",
                    &[&tenant.as_str(), &key_id, &at.as_microsecond()],
                )
                .map_err(db_error)
        })?;
        Ok(changed > 0)
    }

    fn set_key_rate(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        requests_per_second: Option<u32>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let rate = requests_per_second
            .map(|rate| {
                i32::try_from(rate).map_err(|_| StoreError::InvalidRequest {
                    reason: format!("key rate {rate} is too large"),
                })
            })
            .transpose()?;
        let changed = self.with(|client| {
            client
                .execute(
                    "UPDATE api_keys SET requests_per_second = $3 \
                     WHERE tenant = $1 AND key_id = $2",
                    &[&tenant.as_str(), &key_id, &rate],
                )
                .map_err(db_error)
        })?;
        Ok(changed > 0)
    }

    fn open_session(&mut self, record: &SessionRecord, per_key: usize) -> Result<(), StoreError> {
        self.writable()?;
        let keep = i64::try_from(per_key.max(1) - 1).unwrap_or(i64::MAX);
        let inserted = self.with(|client| {
            let mut transaction = client.transaction().map_err(db_error)?;
            // The key's row is locked so that two sign-ins with one key make room in turn.
            let key_exists = transaction
                .query_opt(
                    "SELECT 1 FROM api_keys WHERE key_id = $1 FOR UPDATE",
                    &[&record.key_id],
                )
                .map_err(db_error)?
                .is_some();
            if !key_exists {
                return Ok(None);
            }
            transaction
                .execute(
                    "DELETE FROM sessions WHERE key_id = $1 AND id_hash NOT IN \
                     (SELECT id_hash FROM sessions WHERE key_id = $1 \
                      ORDER BY expires_at DESC, id_hash DESC LIMIT $2)",
                    &[&record.key_id, &keep],
                )
                .map_err(db_error)?;
            let inserted = transaction
                .execute(
                    "INSERT INTO sessions (id_hash, tenant, key_id, csrf, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id_hash) DO NOTHING",
                    &[
                        &record.id_hash,
                        &record.tenant.as_str(),
                        &record.key_id,
                        &record.csrf,
                        &record.created_at.as_microsecond(),
                        &record.expires_at.as_microsecond(),
                    ],
                )
                .map_err(db_error)?;
            transaction.commit().map_err(db_error)?;
            Ok(Some(inserted))
        })?;
        inserted_under(
            inserted,
            || format!("API key `{}`", record.key_id),
            || "session".to_string(),
        )
    }

    fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.with(|client| {
            client
                .query_opt(
                    "SELECT id_hash, tenant, key_id, csrf, created_at, expires_at FROM sessions \
                     WHERE id_hash = $1 AND expires_at > $2",
                    &[&id_hash, &now.as_microsecond()],
                )
                .map_err(db_error)?
                .map(|row| session_record(&row))
                .transpose()
        })
    }

    fn extend_session(&mut self, id_hash: &str, expires_at: Timestamp) -> Result<bool, StoreError> {
        self.writable()?;
        let changed = self.with(|client| {
            client
                .execute(
                    "UPDATE sessions SET expires_at = $2 WHERE id_hash = $1",
                    &[&id_hash, &expires_at.as_microsecond()],
                )
                .map_err(db_error)
        })?;
        Ok(changed > 0)
    }

    fn close_session(&mut self, id_hash: &str) -> Result<bool, StoreError> {
        self.writable()?;
        let changed = self.with(|client| {
            client
                .execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash])
                .map_err(db_error)
        })?;
        Ok(changed > 0)
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        self.writable()?;
        self.with(|client| {
            client
                .execute(
                    "DELETE FROM sessions WHERE expires_at <= $1",
                    &[&now.as_microsecond()],
                )
                .map_err(db_error)
        })
    }
}

/// An insert of a row under a parent: `None` when the parent (`parent`) was missing, `Some(0)`
/// when a row with its key (`row`) was there already.
fn inserted_under(
    inserted: Option<u64>,
    parent: impl FnOnce() -> String,
    row: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    match inserted {
        None => Err(StoreError::NotFound { what: parent() }),
        Some(0) => Err(StoreError::AlreadyExists { what: row() }),
        Some(_) => Ok(()),
    }
}

fn session_record(row: &Row) -> Result<SessionRecord, StoreError> {
    let tenant: String = row.get(1);
    Ok(SessionRecord {
        id_hash: row.get(0),
        tenant: tenant_id(&tenant)?,
        key_id: row.get(2),
        csrf: row.get(3),
        created_at: time(row.get(4), "session creation time")?,
        expires_at: time(row.get(5), "session expiry")?,
    })
}

impl Snapshots for PostgresStore {
    /// Saved in one statement, so a reader finds the old snapshot or the new one. A handle
    /// that only reads may save too: a snapshot is a cache, not the log.
    fn save_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.with(|client| {
            client
                .execute(
                    "INSERT INTO snapshots (tenant, projection, bytes) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant, projection) DO UPDATE SET bytes = EXCLUDED.bytes",
                    &[&tenant.as_str(), &projection, &bytes],
                )
                .map_err(db_error)
                .map(|_| ())
        })
    }

    fn load_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|client| {
            Ok(client
                .query_opt(
                    "SELECT bytes FROM snapshots WHERE tenant = $1 AND projection = $2",
                    &[&tenant.as_str(), &projection],
                )
                .map_err(db_error)?
                .map(|row| row.get(0)))
        })
    }
}
