//! The tenants the API serves and their API keys.
//!
//! A key's secret is never stored: only its SHA-256 hash, computed by the caller. A key is
//! found by its public id (the part of the key before the secret), then its hash compared.
//! Every row is keyed by tenant first, so no lookup other than the one by key id can cross
//! tenants.

use crate::{SqliteStore, StoreError};
use flowline_core::id::TenantId;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};

/// A tenant registered to be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// The tenant.
    pub tenant: TenantId,
    /// Display name.
    pub name: String,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// An API key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The tenant the key acts for.
    pub tenant: TenantId,
    /// Public identifier, unique across tenants.
    pub key_id: String,
    /// Role name (`admin`, `operator`, `viewer`, `integration`).
    pub role: String,
    /// What the key is for, as its creator described it.
    pub label: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

const SELECT_KEY: &str = "SELECT tenant, key_id, role, label, secret_hash, created_at, revoked_at \
     FROM api_keys";

impl SqliteStore {
    /// Registers a tenant. Fails with [`StoreError::AlreadyExists`] if it is registered.
    pub fn register_tenant(&mut self, record: &TenantRecord) -> Result<(), StoreError> {
        self.writable()?;
        let inserted = self.connection.execute(
            "INSERT OR IGNORE INTO registered_tenants (tenant, name, created_at) \
             VALUES (?1, ?2, ?3)",
            params![
                record.tenant.as_str(),
                record.name,
                record.created_at.as_microsecond()
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        Ok(())
    }

    /// The registered tenant, if it is registered.
    pub fn registered_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT tenant, name, created_at FROM registered_tenants WHERE tenant = ?1",
            )?
            .query_row([tenant.as_str()], |row| Ok(decode_tenant(row)))
            .optional()?
            .transpose()
    }

    /// Every registered tenant, sorted by id.
    pub fn registered_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT tenant, name, created_at FROM registered_tenants ORDER BY tenant",
        )?;
        let rows = statement.query_map([], |row| Ok(decode_tenant(row)))?;
        let mut tenants = Vec::new();
        for row in rows {
            tenants.push(row??);
        }
        Ok(tenants)
    }

    /// Stores a new key. Its tenant must be registered; its id must be new.
    pub fn insert_key(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.writable()?;
        if self.registered_tenant(&record.tenant)?.is_none() {
            return Err(StoreError::NotFound {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        let inserted = self.connection.execute(
            "INSERT OR IGNORE INTO api_keys \
             (tenant, key_id, role, label, secret_hash, created_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.tenant.as_str(),
                record.key_id,
                record.role,
                record.label,
                record.secret_hash,
                record.created_at.as_microsecond(),
                record.revoked_at.map(|at| at.as_microsecond()),
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                what: format!("API key `{}`", record.key_id),
            });
        }
        Ok(())
    }

    /// The key with this public id, whichever its tenant: the one lookup that is not scoped to
    /// a tenant, because the key is what tells the tenant.
    pub fn find_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.connection
            .prepare_cached(&format!("{SELECT_KEY} WHERE key_id = ?1"))?
            .query_row([key_id], |row| Ok(decode_key(row)))
            .optional()?
            .transpose()
    }

    /// The tenant's keys, revoked ones included, oldest first.
    pub fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        let mut statement = self.connection.prepare_cached(&format!(
            "{SELECT_KEY} WHERE tenant = ?1 ORDER BY created_at, key_id"
        ))?;
        let rows = statement.query_map([tenant.as_str()], |row| Ok(decode_key(row)))?;
        let mut keys = Vec::new();
        for row in rows {
            keys.push(row??);
        }
        Ok(keys)
    }

    /// Revokes one of the tenant's keys. Returns false if the tenant has no such key; revoking
    /// a revoked key keeps the first revocation time.
    pub fn revoke_key(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let exists = self
            .connection
            .prepare_cached("SELECT 1 FROM api_keys WHERE tenant = ?1 AND key_id = ?2")?
            .query_row(params![tenant.as_str(), key_id], |_| Ok(()))
            .optional()?
            .is_some();
        self.connection.execute(
            "UPDATE api_keys SET revoked_at = ?3 \
             WHERE tenant = ?1 AND key_id = ?2 AND revoked_at IS NULL",
            params![tenant.as_str(), key_id, at.as_microsecond()],
        )?;
        Ok(exists)
    }
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
    let tenant: String = row.get(0)?;
    let created_at: i64 = row.get(2)?;
    Ok(TenantRecord {
        tenant: tenant_id(&tenant, "registered_tenants")?,
        name: row.get(1)?,
        created_at: timestamp(created_at, "created_at")?,
    })
}

fn decode_key(row: &Row<'_>) -> Result<KeyRecord, StoreError> {
    let tenant: String = row.get(0)?;
    let created_at: i64 = row.get(5)?;
    let revoked_at: Option<i64> = row.get(6)?;
    Ok(KeyRecord {
        tenant: tenant_id(&tenant, "api_keys")?,
        key_id: row.get(1)?,
        role: row.get(2)?,
        label: row.get(3)?,
        secret_hash: row.get(4)?,
        created_at: timestamp(created_at, "created_at")?,
        revoked_at: revoked_at
            .map(|micros| timestamp(micros, "revoked_at"))
            .transpose()?,
    })
}

/// Streams of one kind, for listing documents.
impl SqliteStore {
    /// Up to `limit` stream names of `tenant` that start with `kind/`, after `after` (a full
    /// stream name) in name order.
    pub fn streams_of_kind(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        // Stream names are `kind/id`; every name of the kind sorts between `kind/` and `kind0`
        // (`0` is the character after `/`). The (tenant, stream, stream_version) index serves
        // the range and the first version of each stream stands for it.
        let lower = match after {
            Some(after) => after.to_string(),
            None => format!("{kind}/"),
        };
        let upper = format!("{kind}0");
        let mut statement = self.connection.prepare_cached(
            "SELECT stream FROM events WHERE tenant = ?1 AND stream > ?2 AND stream < ?3 \
             AND stream_version = 1 ORDER BY stream LIMIT ?4",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![tenant.as_str(), lower, upper, limit], |row| {
            row.get::<_, String>(0)
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}
