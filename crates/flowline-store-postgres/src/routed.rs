//! Tenants spread over several PostgreSQL clusters: partitioning by tenant.
//!
//! One database is the home ([`Clusters::home`]): it keeps the directory (tenants, API keys,
//! dashboard sessions) and the routing table `tenant_routes`, which names the cluster each
//! tenant's log is on; a tenant without a row is on the home database. The other clusters are
//! given to every process by name (`--cluster NAME=URL`), so the table holds names, never the
//! URLs with their passwords. A [`RoutedStore`] sends each call about a tenant (its log,
//! index, snapshots and writer lease) to that tenant's cluster and every directory call home.
//!
//! A tenant is moved ([`move_tenant`]) by copying its log to the new cluster, fencing the old
//! cluster's writer by seizing its lease, copying what was appended meanwhile, verifying the
//! copy, switching the route, and leaving on the old cluster a lease that never expires and
//! names the new cluster: no process can write the tenant there again, and one that still
//! routes it there finds the new route when it tries.
//!
//! Routes are cached for [`ROUTE_TTL`]; a claim of a writer's lease always reads the route
//! afresh, so a writer starts only on the tenant's current cluster.

use crate::{PostgresBackend, PostgresStore, db_error};
use flowline_core::id::TenantId;
use flowline_store::{
    AppendOutcome, AppendRequest, Backend, BalanceRow, CommitWatch, Directory, EventStore,
    IdempotencyLookup, IdempotencyRecord, KeyRecord, LeaseClaim, LeaseState, Leases, LogIndex,
    OnCommit, SessionRecord, SharedBackend, Snapshots, Store, StoreError, StoredEvent,
    StreamSummary, TenantRecord,
};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a route read from the home database is used before it is read again.
pub const ROUTE_TTL: Duration = Duration::from_secs(1);

/// The holder a moved tenant's lease names on the cluster it left, before the new cluster's
/// name.
pub const MOVED_TO: &str = "moved to ";

/// The holder a tenant's lease names while the tenant is being moved, before the target's
/// name.
pub const MOVING_TO: &str = "moving to ";

/// The home database and the other clusters, by name.
#[derive(Clone)]
pub struct Clusters {
    home: PostgresBackend,
    others: BTreeMap<String, PostgresBackend>,
    routes: Arc<Mutex<HashMap<TenantId, (usize, Instant)>>>,
}

impl std::fmt::Debug for Clusters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clusters")
            .field("home", &self.home.described)
            .field("others", &self.others.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Clusters {
    /// The home database and the named clusters (each connected and migrated).
    pub fn new(home: PostgresBackend, others: BTreeMap<String, PostgresBackend>) -> Self {
        Self {
            home,
            others,
            routes: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Connects to the home database at `home_url` and to each `NAME=URL` in `clusters`.
    pub fn connect(home_url: &str, clusters: &[(String, String)]) -> Result<Self, StoreError> {
        let home = PostgresBackend::connect(home_url)?;
        let mut others = BTreeMap::new();
        for (name, url) in clusters {
            if !valid_name(name) {
                return Err(StoreError::InvalidAddress {
                    reason: format!(
                        "cluster name `{name}`: use lower-case letters, digits, `-` and `_`"
                    ),
                });
            }
            others.insert(name.clone(), PostgresBackend::connect(url)?);
        }
        Ok(Self::new(home, others))
    }

    /// The home database.
    pub fn home(&self) -> &PostgresBackend {
        &self.home
    }

    /// The cluster named `name` (`None` for the home database), if it is one of these.
    pub fn cluster(&self, name: Option<&str>) -> Option<&PostgresBackend> {
        match name {
            None => Some(&self.home),
            Some(name) => self.others.get(name),
        }
    }

    /// The names of the other clusters.
    pub fn names(&self) -> Vec<String> {
        self.others.keys().cloned().collect()
    }

    /// The cluster's index in [`Clusters::backends`] order (0: home).
    fn index_of(&self, name: Option<&str>) -> Option<usize> {
        match name {
            None => Some(0),
            Some(name) => self
                .others
                .keys()
                .position(|other| other == name)
                .map(|index| index + 1),
        }
    }

    /// Every database, home first.
    fn backends(&self) -> Vec<&PostgresBackend> {
        std::iter::once(&self.home)
            .chain(self.others.values())
            .collect()
    }

    fn forget(&self, tenant: &TenantId) {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }

    fn cached(&self, tenant: &TenantId) -> Option<usize> {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes
            .get(tenant)
            .filter(|(_, read)| read.elapsed() < ROUTE_TTL)
            .map(|(index, _)| *index)
    }

    fn remember(&self, tenant: &TenantId, index: usize) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if routes.len() > 100_000 {
            routes.retain(|_, (_, read)| read.elapsed() < ROUTE_TTL);
        }
        routes.insert(tenant.clone(), (index, Instant::now()));
    }
}

/// A cluster's name: lower-case letters, digits, `-` and `_`, at most 63 characters.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The cluster a tenant's route names, read from the home database (`None`: home).
pub fn route(home: &PostgresStore, tenant: &TenantId) -> Result<Option<String>, StoreError> {
    home.with(|client| {
        use crate::connection::Sql as _;
        Ok(client
            .query_opt(
                "SELECT cluster FROM tenant_routes WHERE tenant = $1",
                &[&tenant.as_str()],
            )
            .map_err(db_error)?
            .map(|row| row.get(0)))
    })
}

/// Routes the tenant to `cluster` (`None`: home), in the home database.
pub fn set_route(
    home: &PostgresStore,
    tenant: &TenantId,
    cluster: Option<&str>,
) -> Result<(), StoreError> {
    home.writable()?;
    home.with(|client| {
        use crate::connection::Sql as _;
        match cluster {
            Some(cluster) => client.execute(
                "INSERT INTO tenant_routes (tenant, cluster) VALUES ($1, $2) \
                 ON CONFLICT (tenant) DO UPDATE SET cluster = EXCLUDED.cluster",
                &[&tenant.as_str(), &cluster],
            ),
            None => client.execute(
                "DELETE FROM tenant_routes WHERE tenant = $1",
                &[&tenant.as_str()],
            ),
        }
        .map_err(db_error)
        .map(|_| ())
    })
}

impl Backend for Clusters {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(RoutedStore::new(self.clone(), false)?))
    }

    fn open_reader(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(RoutedStore::new(self.clone(), true)?))
    }

    fn describe(&self) -> String {
        let others: Vec<String> = self
            .others
            .iter()
            .map(|(name, backend)| format!("{name}: {}", backend.described))
            .collect();
        format!("{} (home; {})", self.home.described, others.join(", "))
    }

    /// Every cluster's notices, as one.
    fn watch_commits(&self, committed: OnCommit) -> Result<Option<CommitWatch>, StoreError> {
        let mut watches = Vec::new();
        for backend in self.backends() {
            if let Some(watch) = backend.watch_commits(committed.clone())? {
                watches.push(watch);
            }
        }
        Ok(Some(CommitWatch::new(move || drop(watches))))
    }
}

/// A handle on every cluster: calls about a tenant go to its cluster, directory calls home.
pub struct RoutedStore {
    clusters: Clusters,
    /// One handle per cluster, home first, each connecting at its first use.
    stores: Vec<PostgresStore>,
}

impl RoutedStore {
    fn new(clusters: Clusters, read_only: bool) -> Result<Self, StoreError> {
        // The home database is connected to at once, so that one that cannot be reached fails
        // here.
        let mut stores = vec![PostgresStore::open(clusters.home.clone(), read_only)?];
        for backend in clusters.others.values() {
            stores.push(PostgresStore::lazy(backend.clone(), read_only));
        }
        Ok(Self { clusters, stores })
    }

    /// The index of the tenant's cluster, from the cache or read afresh.
    fn index(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        if let Some(index) = self.clusters.cached(tenant) {
            return Ok(index);
        }
        self.fresh_index(tenant)
    }

    /// The index of the tenant's cluster, read from the home database now.
    fn fresh_index(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        let name = route(&self.stores[0], tenant)?;
        let index =
            self.clusters
                .index_of(name.as_deref())
                .ok_or_else(|| StoreError::Unavailable {
                    reason: format!(
                        "tenant `{tenant}` is on cluster `{}`, which this process was not given \
                     (--cluster {}=postgres://…)",
                        name.as_deref().unwrap_or_default(),
                        name.as_deref().unwrap_or_default()
                    ),
                })?;
        self.clusters.remember(tenant, index);
        Ok(index)
    }

    fn of(&self, tenant: &TenantId) -> Result<&PostgresStore, StoreError> {
        let index = self.index(tenant)?;
        Ok(&self.stores[index])
    }

    fn of_mut(&mut self, tenant: &TenantId) -> Result<&mut PostgresStore, StoreError> {
        let index = self.index(tenant)?;
        Ok(&mut self.stores[index])
    }

    fn home(&self) -> &PostgresStore {
        &self.stores[0]
    }

    fn home_mut(&mut self) -> &mut PostgresStore {
        &mut self.stores[0]
    }
}

impl EventStore for RoutedStore {
    fn append(&mut self, request: &AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.of_mut(&request.tenant)?.append(request)
    }

    fn read_tenant(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.of(tenant)?.read_tenant(tenant, after_seq, limit)
    }

    /// The home database's alone when there is no other cluster; positions of several
    /// clusters do not make one order.
    fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        if self.stores.len() > 1 {
            return Err(StoreError::InvalidRequest {
                reason: "the events of tenants on several clusters have no one position order: \
                         read each tenant's log"
                    .into(),
            });
        }
        self.home().read_all(after_position, limit)
    }

    fn read_stream(&self, tenant: &TenantId, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        self.of(tenant)?.read_stream(tenant, stream)
    }

    fn read_streams(
        &self,
        tenant: &TenantId,
        streams: &[&str],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.of(tenant)?.read_streams(tenant, streams)
    }

    fn stream_version(&self, tenant: &TenantId, stream: &str) -> Result<Option<u64>, StoreError> {
        self.of(tenant)?.stream_version(tenant, stream)
    }

    fn tenant_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        self.of(tenant)?.tenant_head(tenant)
    }

    /// The tenants each cluster holds a log of and that are routed to it: a moved tenant's
    /// old copy is not counted.
    fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut tenants = Vec::new();
        for (index, store) in self.stores.iter().enumerate() {
            for tenant in store.tenants()? {
                if self.index(&tenant)? == index {
                    tenants.push(tenant);
                }
            }
        }
        tenants.sort();
        tenants.dedup();
        Ok(tenants)
    }

    fn idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyLookup, StoreError> {
        self.of(tenant)?.idempotency(tenant, key, request_hash)
    }

    fn balances(&self, tenant: &TenantId) -> Result<Vec<BalanceRow>, StoreError> {
        self.of(tenant)?.balances(tenant)
    }

    fn idempotency_records(
        &self,
        tenant: &TenantId,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        self.of(tenant)?
            .idempotency_records(tenant, after_key, limit)
    }
}

impl Directory for RoutedStore {
    fn register_tenant(&mut self, record: &TenantRecord) -> Result<(), StoreError> {
        self.home_mut().register_tenant(record)
    }

    fn registered_tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        self.home().registered_tenant(tenant)
    }

    fn registered_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.home().registered_tenants()
    }

    fn insert_key(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.home_mut().insert_key(record)
    }

    fn find_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.home().find_key(key_id)
    }

    fn keys(&self, tenant: &TenantId) -> Result<Vec<KeyRecord>, StoreError> {
        self.home().keys(tenant)
    }

    fn revoke_key(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.home_mut().revoke_key(tenant, key_id, at)
    }

    fn set_key_rate(
        &mut self,
        tenant: &TenantId,
        key_id: &str,
        requests_per_second: Option<u32>,
    ) -> Result<bool, StoreError> {
        self.home_mut()
            .set_key_rate(tenant, key_id, requests_per_second)
    }

    fn open_session(&mut self, record: &SessionRecord, per_key: usize) -> Result<(), StoreError> {
        self.home_mut().open_session(record, per_key)
    }

    fn find_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.home().find_session(id_hash, now)
    }

    fn extend_session(&mut self, id_hash: &str, expires_at: Timestamp) -> Result<bool, StoreError> {
        self.home_mut().extend_session(id_hash, expires_at)
    }

    fn close_session(&mut self, id_hash: &str) -> Result<bool, StoreError> {
        self.home_mut().close_session(id_hash)
    }

    fn purge_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        self.home_mut().purge_sessions(now)
    }
}

impl LogIndex for RoutedStore {
    fn streams_of_kind(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.of(tenant)?.streams_of_kind(tenant, kind, after, limit)
    }

    fn stream_summaries(
        &self,
        tenant: &TenantId,
        kind: &str,
    ) -> Result<Vec<StreamSummary>, StoreError> {
        self.of(tenant)?.stream_summaries(tenant, kind)
    }

    fn latest_business_time(&self, tenant: &TenantId) -> Result<Option<Timestamp>, StoreError> {
        self.of(tenant)?.latest_business_time(tenant)
    }
}

impl Snapshots for RoutedStore {
    fn save_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.of(tenant)?.save_snapshot(tenant, projection, bytes)
    }

    fn load_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.of(tenant)?.load_snapshot(tenant, projection)
    }
}

impl Leases for RoutedStore {
    /// Claimed on the tenant's cluster as the home database names it now. A cluster the tenant
    /// has left answers with its "moved to" lease: the route is read again and the claim made
    /// there. While the tenant is being moved, the answer names no address: the caller is told
    /// to retry shortly.
    fn claim_lease(
        &mut self,
        tenant: &TenantId,
        claim: &LeaseClaim,
    ) -> Result<LeaseState, StoreError> {
        for _ in 0..3 {
            let index = self.fresh_index(tenant)?;
            let state = self.stores[index].claim_lease(tenant, claim)?;
            match &state {
                LeaseState::Elsewhere { holder, .. } if holder.starts_with(MOVED_TO) => {
                    // The route was read before the move's switch landed, or the switch is
                    // about to: read it again.
                    self.clusters.forget(tenant);
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return Ok(state),
            }
        }
        Err(StoreError::Busy)
    }

    fn release_lease(&mut self, tenant: &TenantId, holder: &str) -> Result<(), StoreError> {
        self.of_mut(tenant)?.release_lease(tenant, holder)
    }

    /// Fenced on every cluster: whichever one the appends go to checks the token.
    fn fence(&mut self, tenant: &TenantId, token: u64) {
        for store in &mut self.stores {
            store.fence(tenant, token);
        }
    }

    fn lease_holder(&self, tenant: &TenantId) -> Result<Option<(String, String)>, StoreError> {
        self.of(tenant)?.lease_holder(tenant)
    }
}

impl PostgresStore {
    /// Takes the tenant's lease from whoever holds it, with the token one higher, so that the
    /// holder's next append is refused: for moving the tenant. Waits for an append in flight
    /// under the old token to commit (it holds the lease row share-locked).
    pub fn seize_lease(
        &mut self,
        tenant: &TenantId,
        holder: &str,
        ttl: Duration,
    ) -> Result<u64, StoreError> {
        self.writable()?;
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.with(|client| {
            use crate::connection::Sql as _;
            let row = client
                .query_one(
                    "INSERT INTO writer_leases AS l (tenant, holder, address, token, expires_at) \
                     VALUES ($1, $2, '', 1, clock_timestamp() + $3::bigint * interval '1 millisecond') \
                     ON CONFLICT (tenant) DO UPDATE SET holder = EXCLUDED.holder, address = '', \
                         token = l.token + 1, expires_at = EXCLUDED.expires_at \
                     RETURNING token",
                    &[&tenant.as_str(), &holder, &ttl],
                )
                .map_err(db_error)?;
            crate::stored_u64(row.get(0), "lease token")
        })
    }

    /// Leaves the tenant's lease to `holder` for good (it never expires) with a token no writer
    /// holds: nothing can be appended for the tenant here again.
    pub fn retire_lease(&mut self, tenant: &TenantId, holder: &str) -> Result<(), StoreError> {
        self.writable()?;
        self.with(|client| {
            use crate::connection::Sql as _;
            client
                .execute(
                    "UPDATE writer_leases SET holder = $2, address = '', \
                     token = 9223372036854775807, expires_at = 'infinity' WHERE tenant = $1",
                    &[&tenant.as_str(), &holder],
                )
                .map_err(db_error)
                .map(|_| ())
        })
    }
}

/// Shares clusters as a backend.
pub fn shared(clusters: Clusters) -> SharedBackend {
    Arc::new(clusters)
}

/// What [`move_tenant`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The cluster it left (`None`: home).
    pub from: Option<String>,
    /// The cluster it is on now (`None`: home).
    pub to: Option<String>,
    /// The head of a copy an earlier, unfinished move left on the new cluster (0: none).
    pub resumed_at: u64,
    /// Events copied while the old cluster's writer still wrote.
    pub copied_before_fence: u64,
    /// Events appended meanwhile, copied once the writer was fenced.
    pub copied_after_fence: u64,
}

/// A step of a move: given the source, the target and a head, copies (or checks) something.
pub type CopyStep<'a, T, E> = &'a mut dyn FnMut(&dyn Store, &mut dyn Store, u64) -> Result<T, E>;

/// Moves a tenant's log to the cluster `to` (`None`: home); see the module's documentation.
/// `copy_events` copies the tenant's events after a head from the first store to the second
/// and returns the new head (the caller's, shared with `flowline migrate`); `finish` copies
/// what else the log holds (idempotency records, balances) and verifies the copy, once the
/// writer is fenced and before the route is switched.
pub fn move_tenant<E: From<StoreError>>(
    clusters: &Clusters,
    tenant: &TenantId,
    to: Option<&str>,
    copy_events: CopyStep<'_, u64, E>,
    finish: CopyStep<'_, (), E>,
) -> Result<Moved, E> {
    let home = PostgresStore::open(clusters.home.clone(), false)?;
    let from = route(&home, tenant)?;
    if from.as_deref() == to {
        return Err(StoreError::InvalidRequest {
            reason: format!(
                "tenant `{tenant}` is on {} already",
                to.map_or("the home database".to_string(), |name| format!(
                    "cluster `{name}`"
                ))
            ),
        }
        .into());
    }
    let name = |cluster: Option<&str>| cluster.unwrap_or("home").to_string();
    let unknown = |cluster: Option<&str>| StoreError::InvalidRequest {
        reason: format!("no cluster named `{}` was given", name(cluster)),
    };
    let source_backend = clusters
        .cluster(from.as_deref())
        .ok_or_else(|| unknown(from.as_deref()))?;
    let target_backend = clusters.cluster(to).ok_or_else(|| unknown(to))?;
    let mut source = source_backend.store()?;
    let mut target = target_backend.store()?;
    // A move that stopped half way left a copy of the log's beginning: it goes on from there
    // (the verification before the switch compares the whole log).
    let resumed = target.tenant_head(tenant)?;
    // While the writer still writes: everything up to now.
    let before = copy_events(&source, &mut target, resumed)?;
    // Fence the writer; from here the source's log no longer grows.
    source.seize_lease(
        tenant,
        &format!("{MOVING_TO}{}", name(to)),
        Duration::from_secs(300),
    )?;
    let head = copy_events(&source, &mut target, before)?;
    finish(&source, &mut target, head)?;
    set_route(&home, tenant, to)?;
    source.retire_lease(tenant, &format!("{MOVED_TO}{}", name(to)))?;
    clusters.forget(tenant);
    Ok(Moved {
        from,
        to: to.map(str::to_string),
        resumed_at: resumed,
        copied_before_fence: before - resumed,
        copied_after_fence: head - before,
    })
}
