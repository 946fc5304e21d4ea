//! Writer leases, when several processes share the log (see [`flowline_store::lease`]): a
//! tenant's writer starts only under the tenant's lease, its appends carry the lease's token,
//! and a keeper thread renews the leases of the running writers every third of their
//! time-to-live. A writer whose lease is lost (taken over after this process stalled, or not
//! renewable for a whole time-to-live) is stopped; the next command for its tenant is told
//! where the tenant's writer now is.

use crate::{EngineError, Writer, unavailable};
use flowline_core::id::TenantId;
use flowline_store::{LeaseClaim, LeaseState, SharedBackend, Store};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The running writers, by tenant, as the engine and the keeper share them.
pub(crate) type Writers = Arc<Mutex<FxHashMap<TenantId, Writer>>>;

/// Claims the tenant's lease: its token, or where the tenant's writer is.
pub(crate) fn claim(
    backend: &SharedBackend,
    tenant: &TenantId,
    claim: &LeaseClaim,
) -> Result<u64, EngineError> {
    let mut store = backend.open().map_err(unavailable)?;
    match store.claim_lease(tenant, claim).map_err(unavailable)? {
        LeaseState::Held { token } => Ok(token),
        LeaseState::Elsewhere {
            holder, address, ..
        } => Err(EngineError::Elsewhere { holder, address }),
    }
}

/// Gives up the leases of tenants whose writers have stopped, so another process may take
/// them at once.
pub(crate) fn release(backend: &SharedBackend, tenants: &[TenantId], holder: &str) {
    let Ok(mut store) = backend.open() else {
        return;
    };
    for tenant in tenants {
        if let Err(error) = store.release_lease(tenant, holder) {
            tracing::warn!(%tenant, %error, "cannot release the writer lease; it will expire");
        }
    }
}

/// The thread renewing the running writers' leases.
pub(crate) struct Keeper {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Keeper {
    pub(crate) fn start(
        backend: SharedBackend,
        claim: LeaseClaim,
        writers: Writers,
    ) -> Result<Self, EngineError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("lease-keeper".into())
            .spawn(move || keep(&backend, &claim, &writers, &stopping))
            .map_err(|error| {
                EngineError::Unavailable(format!("cannot start the lease keeper: {error}"))
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn stop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.stop();
    }
}

fn keep(
    backend: &SharedBackend,
    claim: &LeaseClaim,
    writers: &Writers,
    stop: &(Mutex<bool>, Condvar),
) {
    let interval = (claim.ttl / 3).max(Duration::from_millis(50));
    let mut store: Option<Box<dyn Store>> = None;
    // When each tenant's lease was last renewed.
    let mut renewed: FxHashMap<TenantId, Instant> = FxHashMap::default();
    loop {
        {
            let (stopped, wake) = stop;
            let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
            let (guard, _) = wake
                .wait_timeout_while(guard, interval, |stopped| !*stopped)
                .unwrap_or_else(PoisonError::into_inner);
            if *guard {
                return;
            }
        }
        let held: Vec<(TenantId, Option<u64>)> = writers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(tenant, writer)| (tenant.clone(), writer.lease_token))
            .collect();
        renewed.retain(|tenant, _| held.iter().any(|(held, _)| held == tenant));
        for (tenant, token) in held {
            let Some(token) = token else { continue };
            let since = *renewed.entry(tenant.clone()).or_insert_with(Instant::now);
            if store.is_none() {
                store = backend.open().ok();
            }
            let answer = match store.as_mut() {
                Some(store) => store.claim_lease(&tenant, claim),
                None => Err(flowline_store::StoreError::Unavailable {
                    reason: "cannot open the log".into(),
                }),
            };
            let lost = match answer {
                Ok(LeaseState::Held { token: now }) if now == token => {
                    renewed.insert(tenant.clone(), Instant::now());
                    None
                }
                Ok(LeaseState::Held { token: now }) => Some(format!(
                    "the lease was taken and given back meanwhile (token {token}, now {now})"
                )),
                Ok(LeaseState::Elsewhere { holder, .. }) => Some(format!("{holder} took it")),
                Err(error) => {
                    store = None;
                    (since.elapsed() >= claim.ttl)
                        .then(|| format!("not renewed for {:?}: {error}", since.elapsed()))
                }
            };
            if let Some(why) = lost {
                tracing::warn!(%tenant, %why, "writer lease lost; the writer stops");
                let writer = writers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&tenant);
                // Dropping the writer's queue ends its thread once it has answered what is
                // queued (its appends are refused now: the token is stale).
                drop(writer);
                renewed.remove(&tenant);
            }
        }
    }
}
