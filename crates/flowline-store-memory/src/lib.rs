//! Flowline's event log in memory: the [`flowline_store`] interfaces with nothing written to
//! disk.
//!
//! A simulation, a what-if or a test needs the engine's behaviour but not a durable log: a
//! [`MemoryBackend`] keeps the log, the tenant and key directory and the stream index in the
//! process, behind one lock, and passes the same conformance suite as the SQLite file. Every
//! handle it opens ([`MemoryStore`]) sees the same log; a read-only handle refuses writes as a
//! read-only file does. Nothing survives the process.
//!
//! Memory: each event keeps its payload text and a few numbers; stream names and event type
//! names are stored once and shared by every event that carries them.
#![warn(missing_docs)]

use flowline_core::id::TenantId;
use flowline_core::stream::StreamName;
use flowline_store::{
    AppendOutcome, AppendRequest, Backend, BalanceRow, Directory, EventStore, IdempotencyLookup,
    IdempotencyRecord, KeyRecord, LogIndex, SessionRecord, SharedBackend, Snapshots, Store,
    StoreError, StoredEvent, StreamSummary, TenantRecord,
};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A log kept in memory, shared by every handle opened on it.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    log: Arc<RwLock<Log>>,
    snapshots: Arc<Mutex<SnapshotMap>>,
}

/// The latest snapshot of each (tenant, projection).
type SnapshotMap = HashMap<(TenantId, String), Arc<[u8]>>;

impl MemoryBackend {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log, shared.
    pub fn shared() -> SharedBackend {
        Arc::new(Self::new())
    }

    /// About how many bytes the log takes: every event's payload and fixed fields, and the
    /// stream index. Walks the whole log.
    pub fn bytes(&self) -> u64 {
        let log = self.log.read().unwrap_or_else(PoisonError::into_inner);
        let record = std::mem::size_of::<Record>() as u64;
        let mut bytes = 0u64;
        for (_, tenant) in &log.tenants {
            for event in &tenant.events {
                bytes += record + event.payload.len() as u64;
            }
            for (name, events) in &tenant.streams {
                bytes += name.len() as u64 + 8 * events.capacity() as u64 + 48;
            }
        }
        bytes + 16 * log.global.capacity() as u64
    }

    /// A handle that reads and writes.
    pub fn store(&self) -> MemoryStore {
        MemoryStore {
            log: self.log.clone(),
            snapshots: self.snapshots.clone(),
            read_only: false,
        }
    }
}

impl Backend for MemoryBackend {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(self.store()))
    }

    fn open_reader(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(MemoryStore {
            log: self.log.clone(),
            snapshots: self.snapshots.clone(),
            read_only: true,
        }))
    }

    fn describe(&self) -> String {
        "memory".to_string()
    }
}

/// One handle on a [`MemoryBackend`]'s log.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    log: Arc<RwLock<Log>>,
    /// Apart from the log: saving a snapshot never waits for an append. Snapshots are a cache,
    /// so a handle that only reads the log may still save them.
    snapshots: Arc<Mutex<SnapshotMap>>,
    read_only: bool,
}

impl MemoryStore {
    fn read(&self) -> RwLockReadGuard<'_, Log> {
        // A writer that panicked mid-append left nothing half-done: an append changes the log
        // only after every check has passed, in steps that cannot fail.
        self.log.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Log>, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        Ok(self.log.write().unwrap_or_else(PoisonError::into_inner))
    }
}

/// One stored event; the tenant and the sequence number are where it is kept.
#[derive(Debug)]
struct Record {
    position: u64,
    stream: Arc<str>,
    stream_version: u64,
    event_type: Arc<str>,
    schema_version: u32,
    business_time: Timestamp,
    recorded_at: Timestamp,
    payload: Box<str>,
}

/// One tenant's part of the log.
#[derive(Debug, Default)]
struct TenantLog {
    /// Events by `seq - 1`.
    events: Vec<Record>,
    /// Each stream's events, as indexes into `events`, in version order.
    streams: BTreeMap<Arc<str>, Vec<usize>>,
    /// Idempotency key → (request hash, response).
    idempotency: HashMap<String, (String, String)>,
    /// (item, location) → row.
    balances: BTreeMap<(String, String), BalanceRow>,
}

#[derive(Debug, Default)]
struct Log {
    tenants: Vec<(TenantId, TenantLog)>,
    /// Tenant → index into `tenants`, for tenants with a committed write.
    by_tenant: HashMap<TenantId, usize>,
    /// Position `p` is `global[p - 1]`: (index into `tenants`, index into its events).
    global: Vec<(usize, usize)>,
    event_types: HashMap<Box<str>, Arc<str>>,
    registered: BTreeMap<TenantId, TenantRecord>,
    /// Key id → key.
    keys: BTreeMap<String, KeyRecord>,
    /// Session id hash → session.
    sessions: HashMap<String, SessionRecord>,
}

impl Log {
    fn tenant(&self, tenant: &TenantId) -> Option<&TenantLog> {
        self.by_tenant
            .get(tenant)
            .map(|&index| &self.tenants[index].1)
    }

    fn event_type(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.event_types.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        self.event_types.insert(Box::from(name), shared.clone());
        shared
    }

    fn stored(&self, tenant: &TenantId, log: &TenantLog, index: usize) -> StoredEvent {
        let record = &log.events[index];
        StoredEvent {
            position: record.position,
            tenant: tenant.clone(),
            seq: index as u64 + 1,
            stream: record.stream.to_string(),
            stream_version: record.stream_version,
            event_type: record.event_type.to_string(),
            schema_version: record.schema_version,
            business_time: record.business_time,
            recorded_at: record.recorded_at,
            payload: record.payload.to_string(),
        }
    }

    fn last_position(&self) -> u64 {
        self.global.len() as u64
    }

    /// Checks the request against the log and returns the versions its events take, without
    /// changing anything: an append either passes every check here or changes nothing.
    fn check(&self, request: &AppendRequest) -> Result<Vec<u64>, StoreError> {
        let tenant = &request.tenant;
        let log = self.tenant(tenant);
        let head = log.map_or(0, |log| log.events.len() as u64);
        if head != request.expected_seq {
            return Err(StoreError::SeqConflict {
                tenant: tenant.clone(),
                expected: request.expected_seq,
                actual: head,
            });
        }
        let version_of = |stream: &str| {
            log.and_then(|log| log.streams.get(stream))
                .map(|events| events.len() as u64)
        };
        // Keys and stream versions as of the commands checked so far.
        let mut keys: HashMap<&str, (&str, &str)> = HashMap::new();
        let mut versions: HashMap<&str, u64> = HashMap::new();
        let mut assigned = Vec::new();
        for command in &request.commands {
            if let Some(record) = &command.idempotency {
                let earlier = keys.get(record.key.as_str()).copied().or_else(|| {
                    log.and_then(|log| log.idempotency.get(&record.key))
                        .map(|(hash, response)| (hash.as_str(), response.as_str()))
                });
                IdempotencyLookup::of(earlier, &record.request_hash).refuse(tenant, &record.key)?;
            }
            for (stream, expected) in &command.expected {
                let actual = versions
                    .get(stream.as_str())
                    .copied()
                    .or_else(|| version_of(stream));
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
                let version = versions
                    .get(event.stream.as_str())
                    .copied()
                    .or_else(|| version_of(&event.stream))
                    .unwrap_or(0)
                    + 1;
                versions.insert(&event.stream, version);
                assigned.push(version);
            }
            if let Some(record) = &command.idempotency {
                keys.insert(&record.key, (&record.request_hash, &record.response));
            }
        }
        Ok(assigned)
    }

    fn append(&mut self, request: &AppendRequest) -> Result<AppendOutcome, StoreError> {
        let head = self
            .tenant(&request.tenant)
            .map_or(0, |log| log.events.len() as u64);
        let last_position = self.last_position();
        if request.commands.is_empty() && request.balances.is_empty() {
            return Ok(AppendOutcome::empty(head, last_position));
        }
        let versions = self.check(request)?;
        let index = match self.by_tenant.get(&request.tenant) {
            Some(&index) => index,
            None => {
                self.tenants
                    .push((request.tenant.clone(), TenantLog::default()));
                let index = self.tenants.len() - 1;
                self.by_tenant.insert(request.tenant.clone(), index);
                index
            }
        };
        let events = request.commands.iter().flat_map(|command| &command.events);
        // Kept to the microsecond, as a file keeps it, so both backends read back the same.
        let recorded_at = flowline_store::as_stored(request.recorded_at);
        let mut position = last_position;
        for (event, stream_version) in events.zip(versions) {
            let event_type = self.event_type(&event.event_type);
            let log = &mut self.tenants[index].1;
            let at = log.events.len();
            let stream = match log.streams.get_key_value(event.stream.as_str()) {
                Some((name, _)) => name.clone(),
                None => Arc::from(event.stream.as_str()),
            };
            log.streams.entry(stream.clone()).or_default().push(at);
            position += 1;
            log.events.push(Record {
                position,
                stream,
                stream_version,
                event_type,
                schema_version: event.schema_version,
                business_time: flowline_store::as_stored(event.business_time),
                recorded_at,
                payload: Box::from(event.payload.as_str()),
            });
            self.global.push((index, at));
        }
        let log = &mut self.tenants[index].1;
        for command in &request.commands {
            if let Some(record) = &command.idempotency {
                log.idempotency.insert(
                    record.key.clone(),
                    (record.request_hash.clone(), record.response.clone()),
                );
            }
        }
        for row in &request.balances {
            log.balances
                .insert((row.item.clone(), row.location.clone()), row.clone());
        }
        let last_seq = log.events.len() as u64;
        if last_seq == head {
            return Ok(AppendOutcome::empty(head, last_position));
        }
        Ok(AppendOutcome {
            first_seq: head + 1,
            last_seq,
            first_position: last_position + 1,
            last_position: position,
        })
    }
}

impl EventStore for MemoryStore {
    fn append(&mut self, request: &AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.write()?.append(request)
    }

    fn read_tenant(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let log = self.read();
        let Some(events) = log.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let from = usize::try_from(after_seq).unwrap_or(usize::MAX);
        let to = from.saturating_add(limit).min(events.events.len());
        Ok((from.min(to)..to)
            .map(|index| log.stored(tenant, events, index))
            .collect())
    }

    fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let log = self.read();
        let from = usize::try_from(after_position).unwrap_or(usize::MAX);
        let to = from.saturating_add(limit).min(log.global.len());
        Ok(log.global[from.min(to)..to]
            .iter()
            .map(|&(tenant, index)| {
                let (id, events) = &log.tenants[tenant];
                log.stored(id, events, index)
            })
            .collect())
    }

    fn read_stream(&self, tenant: &TenantId, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let log = self.read();
        let Some(events) = log.tenant(tenant) else {
            return Ok(Vec::new());
        };
        Ok(events
            .streams
            .get(stream)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&index| log.stored(tenant, events, index))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn stream_version(&self, tenant: &TenantId, stream: &str) -> Result<Option<u64>, StoreError> {
        let log = self.read();
        Ok(log
            .tenant(tenant)
            .and_then(|events| events.streams.get(stream))
            .map(|indexes| indexes.len() as u64))
    }

    fn tenant_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        Ok(self
            .read()
            .tenant(tenant)
            .map_or(0, |events| events.events.len() as u64))
    }

    fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut tenants: Vec<TenantId> = self.read().by_tenant.keys().cloned().collect();
        tenants.sort();
        Ok(tenants)
    }

    fn idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyLookup, StoreError> {
        let log = self.read();
        let stored = log
            .tenant(tenant)
            .and_then(|events| events.idempotency.get(key))
            .map(|(hash, response)| (hash.as_str(), response.as_str()));
        Ok(IdempotencyLookup::of(stored, request_hash))
    }

    fn balances(&self, tenant: &TenantId) -> Result<Vec<BalanceRow>, StoreError> {
        Ok(self
            .read()
            .tenant(tenant)
            .map(|events| events.balances.values().cloned().collect())
            .unwrap_or_default())
    }

    fn idempotency_records(
        &self,
        tenant: &TenantId,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        let log = self.read();
        let Some(events) = log.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let mut keys: Vec<&String> = events
            .idempotency
            .keys()
            .filter(|key| after_key.is_none_or(|after| key.as_str() > after))
            .collect();
        keys.sort_unstable();
        Ok(keys
            .into_iter()
            .take(limit)
            .map(|key| {
                let (hash, response) = &events.idempotency[key];
                IdempotencyRecord {
                    key: key.clone(),
                    request_hash: hash.clone(),
                    response: response.clone(),
                }
            })
            .collect())
    }
}

impl Directory for MemoryStore {
    fn register_tenant(&mut self, record: &TenantRecord) -> Result<(), StoreError> {
        let mut log = self.write()?;
        if log.registered.contains_key(&record.tenant) {
            return Err(StoreError::AlreadyExists {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        log.registered.insert(record.tenant.clone(), record.clone());
        Ok(())
    }

    fn registered_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        Ok(self.read().registered.get(tenant).cloned())
    }

    fn registered_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Ok(self.read().registered.values().cloned().collect())
    }

    fn insert_key(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        let mut log = self.write()?;
        if !log.registered.contains_key(&record.tenant) {
            return Err(StoreError::NotFound {
                what: format!("tenant `{}`", record.tenant),
            });
        }
        if log.keys.contains_key(&record.key_id) {
            return Err(StoreError::AlreadyExists {
                what: format!("API key `{}`", record.key_id),
            });
        }
        log.keys.insert(record.key_id.clone(), record.clone());
        Ok(())
    }

    fn find_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.read().keys.get(key_id).cloned())
    }

    fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        let mut keys: Vec<KeyRecord> = self
            .read()
            .keys
            .values()
            .filter(|key| key.tenant == *tenant)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        Ok(keys)
    }

    fn revoke_key(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut log = self.write()?;
        match log.keys.get_mut(key_id) {
            Some(key) if key.tenant == *tenant => {
                key.revoked_at.get_or_insert(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn set_key_rate(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        requests_per_second: Option<u32>,
    ) -> Result<bool, StoreError> {
        let mut log = self.write()?;
        match log.keys.get_mut(key_id) {
            Some(key) if key.tenant == *tenant => {
                key.requests_per_second = requests_per_second;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn open_session(&mut self, record: &SessionRecord, per_key: usize) -> Result<(), StoreError> {
        let mut log = self.write()?;
        if !log.keys.contains_key(&record.key_id) {
            return Err(StoreError::NotFound {
                what: format!("API key `{}`", record.key_id),
            });
        }
        if log.sessions.contains_key(&record.id_hash) {
            return Err(StoreError::AlreadyExists {
                what: "session".to_string(),
            });
        }
        let mut of_key: Vec<(Timestamp, String)> = log
            .sessions
            .values()
            .filter(|session| session.key_id == record.key_id)
            .map(|session| (session.expires_at, session.id_hash.clone()))
            .collect();
        of_key.sort();
        let excess = (of_key.len() + 1).saturating_sub(per_key.max(1));
        for (_, id_hash) in of_key.into_iter().take(excess) {
            log.sessions.remove(&id_hash);
        }
        log.sessions.insert(record.id_hash.clone(), record.clone());
        Ok(())
    }

    fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .read()
            .sessions
            .get(id_hash)
            .filter(|session| session.expires_at > now)
            .cloned())
    }

    fn extend_session(&mut self, id_hash: &str, expires_at: Timestamp) -> Result<bool, StoreError> {
        let mut log = self.write()?;
        Ok(match log.sessions.get_mut(id_hash) {
            Some(session) => {
                session.expires_at = expires_at;
                true
            }
            None => false,
        })
    }

    fn close_session(&mut self, id_hash: &str) -> Result<bool, StoreError> {
        Ok(self.write()?.sessions.remove(id_hash).is_some())
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let mut log = self.write()?;
        let before = log.sessions.len();
        log.sessions.retain(|_, session| session.expires_at > now);
        Ok((before - log.sessions.len()) as u64)
    }
}

impl LogIndex for MemoryStore {
    fn streams_of_kind(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let log = self.read();
        let Some(events) = log.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let prefix = StreamName::prefix(kind);
        let lower = after.map_or_else(|| prefix.clone(), str::to_string);
        let end = StreamName::end(kind);
        Ok(events
            .streams
            .range::<str, _>((
                std::ops::Bound::Excluded(lower.as_str()),
                std::ops::Bound::Excluded(end.as_str()),
            ))
            .take(limit)
            .map(|(name, _)| name.to_string())
            .collect())
    }

    fn stream_summaries(
        &self,
        tenant: &TenantId,
        kind: &str,
    ) -> Result<Vec<StreamSummary>, StoreError> {
        let log = self.read();
        let Some(events) = log.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let prefix = StreamName::prefix(kind);
        let end = StreamName::end(kind);
        Ok(events
            .streams
            .range::<str, _>((
                std::ops::Bound::Excluded(prefix.as_str()),
                std::ops::Bound::Excluded(end.as_str()),
            ))
            .filter_map(|(name, indexes)| {
                let first = events.events.get(*indexes.first()?)?;
                let last = events.events.get(*indexes.last()?)?;
                Some(StreamSummary {
                    id: StreamName::id_in(kind, name).unwrap_or(name).to_string(),
                    created: first.business_time,
                    updated: last.business_time,
                })
            })
            .collect())
    }

    fn latest_business_time(&self, tenant: &TenantId) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .read()
            .tenant(tenant)
            .and_then(|events| events.events.last())
            .map(|record| record.business_time))
    }
}

/// A log in memory has one process: its leases are always held.
impl flowline_store::Leases for MemoryStore {}

impl Snapshots for MemoryStore {
    fn save_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        snapshots.insert((tenant.clone(), projection.to_owned()), Arc::from(bytes));
        Ok(())
    }

    fn load_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(snapshots
            .get(&(tenant.clone(), projection.to_owned()))
            .map(|bytes| bytes.to_vec()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail by panicking.
mod tests {
    use super::*;
    use flowline_store::conformance;

    #[test]
    fn a_memory_store_passes_the_conformance_suite() {
        if let Err(failures) = conformance::run_all(|| MemoryBackend::new().open()) {
            panic!("{failures}");
        }
    }

    #[test]
    fn every_handle_sees_one_log_and_a_reader_cannot_write() {
        let backend = MemoryBackend::new();
        let mut writer = backend.open().unwrap();
        let reader = backend.open_reader().unwrap();
        let acme = TenantId::parse("acme").unwrap();
        let record = TenantRecord {
            tenant: acme.clone(),
            name: "Acme".into(),
            created_at: Timestamp::UNIX_EPOCH,
        };
        writer.register_tenant(&record).unwrap();
        assert_eq!(reader.registered_tenant(&acme).unwrap(), Some(record));
        let mut reader = reader;
        assert!(matches!(
            reader.append(&AppendRequest {
                tenant: acme,
                expected_seq: 0,
                recorded_at: Timestamp::UNIX_EPOCH,
                commands: vec![flowline_store::CommandRecord {
                    events: Vec::new(),
                    expected: Vec::new(),
                    idempotency: None,
                }],
                balances: Vec::new(),
            }),
            Err(StoreError::ReadOnly)
        ));
    }
}
