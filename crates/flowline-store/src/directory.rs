//! Beside the log: the tenants the API serves, their API keys and the dashboard's sessions
//! ([`Directory`]), and the index of the log's streams that lists read ([`LogIndex`]).
//!
//! A key's secret is never stored: only its SHA-256 hash, computed by the caller. A key is
//! found by its public id (the part of the key before the secret), then its hash compared. A
//! session is kept the same way: by the hash of the id its cookie carries, so that a copy of
//! the database signs no one in.
//! Every record is keyed by tenant first, so no lookup other than the one by key id can cross
//! tenants.

use crate::StoreError;
use flowline_core::id::TenantId;
use jiff::Timestamp;

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
    /// The key's own rate limit in requests per second; `None` for the server's default.
    pub requests_per_second: Option<u32>,
}

/// A dashboard session as stored: signed in with an API key, open until it expires or is
/// closed. What it may do is the key's, read again on every request, so a revoked key or a
/// changed role takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the session id; the id itself is only in the person's cookie.
    pub id_hash: String,
    /// The tenant of the key it was opened with.
    pub tenant: TenantId,
    /// The key it was opened with.
    pub key_id: String,
    /// The token every form of the session carries.
    pub csrf: String,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it ends unless used before: the server moves it on as the session is used.
    pub expires_at: Timestamp,
}

/// One document's stream: its id and the business times of its first and latest events, the
/// keys a list sorts and filters by without reading the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    /// The document id (the stream name after `kind/`).
    pub id: String,
    /// When the document came into being: its first event's business time.
    pub created: Timestamp,
    /// When it last changed: its latest event's business time.
    pub updated: Timestamp,
}

/// The tenants the API serves and their API keys.
pub trait Directory {
    /// Registers a tenant. Fails with [`StoreError::AlreadyExists`] if it is registered.
    fn register_tenant(&mut self, record: &TenantRecord) -> Result<(), StoreError>;

    /// The registered tenant, if it is registered.
    fn registered_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError>;

    /// Every registered tenant, sorted by id.
    fn registered_tenants(&self) -> Result<Vec<TenantRecord>, StoreError>;

    /// Stores a new key. Its tenant must be registered ([`StoreError::NotFound`]); its id must
    /// be new ([`StoreError::AlreadyExists`]).
    fn insert_key(&mut self, record: &KeyRecord) -> Result<(), StoreError>;

    /// The key with this public id, whichever its tenant: the one lookup that is not scoped to
    /// a tenant, because the key is what tells the tenant.
    fn find_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;

    /// The tenant's keys, revoked ones included, oldest first (then by id).
    fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError>;

    /// Revokes one of the tenant's keys. Returns false if the tenant has no such key; revoking
    /// a revoked key keeps the first revocation time.
    fn revoke_key(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Sets one of the tenant's keys' own rate limit (`None`: the server's default). Returns
    /// false if the tenant has no such key.
    fn set_key_rate(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        requests_per_second: Option<u32>,
    ) -> Result<bool, StoreError>;

    /// Stores a new session. Its key must exist ([`StoreError::NotFound`]) and its id hash be
    /// new ([`StoreError::AlreadyExists`]). The key keeps at most `per_key` sessions: the ones
    /// that expire soonest are closed to make room, so signing in again and again with one
    /// key cannot grow the table.
    fn open_session(&mut self, record: &SessionRecord, per_key: usize) -> Result<(), StoreError>;

    /// The session with this id hash, if it is open and expires after `now`.
    fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Moves a session's expiry. Returns false if there is no such session.
    fn extend_session(&mut self, id_hash: &str, expires_at: Timestamp) -> Result<bool, StoreError>;

    /// Closes a session. Returns false if there was no such session.
    fn close_session(&mut self, id_hash: &str) -> Result<bool, StoreError>;

    /// Deletes every session that expires at or before `now`; returns how many.
    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError>;
}

/// The log's streams by document kind, for lists that page without reading documents.
pub trait LogIndex {
    /// Up to `limit` stream names of `tenant` that start with `kind/`, after `after` (a full
    /// stream name) in name order. A stream is listed once its first event is appended.
    fn streams_of_kind(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;

    /// Every stream of `kind` of `tenant`, in name order, with its first and latest business
    /// times.
    fn stream_summaries(
        &self,
        tenant: &TenantId,
        kind: &str,
    ) -> Result<Vec<StreamSummary>, StoreError>;

    /// The business time of the tenant's latest event (highest `seq`): the log's own "now",
    /// which a simulated or imported log keeps whatever the wall clock says. `None` before any
    /// event.
    fn latest_business_time(&self, tenant: &TenantId) -> Result<Option<Timestamp>, StoreError>;
}
