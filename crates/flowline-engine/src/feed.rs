//! Durable batches handed to projections as they are committed.
//!
//! A projection that subscribes to a tenant ([`crate::Engine::subscribe`]) receives each of the
//! tenant's batches once it is durable in the log, with its events as the log holds them, so it
//! can fold them without reading the log back. The committer never waits for a subscriber: a
//! subscriber whose queue is full misses that batch, and finds the gap when the next one comes
//! ([`crate::projections::feed`] says so); it then catches up from the log, which is the truth.
//! Everything a subscriber applies is durable, so a snapshot of it may be saved at once.

use flowline_core::id::TenantId;
use flowline_core::projection::Position;
use flowline_store::{AppendRequest, NewEvent};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// One of a tenant's batches, durable in its log.
#[derive(Debug)]
pub struct DurableBatch {
    request: AppendRequest,
    first: u64,
    last: u64,
}

impl DurableBatch {
    /// The batch `request`, whose events the log numbered `first..=last`.
    pub(crate) fn new(request: AppendRequest, first: u64, last: u64) -> Self {
        Self {
            request,
            first,
            last,
        }
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.request.tenant
    }

    /// The sequence number of its first event.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The sequence number of its last event: the tenant's head once it was durable.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Its events in order, each with its position as a read of the log gives it (times kept
    /// to the microsecond, as the log keeps them).
    pub fn events(&self) -> impl Iterator<Item = (Position, &NewEvent)> {
        let recorded_at = flowline_store::as_stored(self.request.recorded_at);
        self.request
            .commands
            .iter()
            .flat_map(|command| &command.events)
            .zip(self.first..)
            .map(move |(event, seq)| {
                (
                    Position {
                        seq,
                        business_time: flowline_store::as_stored(event.business_time),
                        recorded_at,
                    },
                    event,
                )
            })
    }
}

/// A subscription to a tenant's durable batches, in log order, some possibly missed.
#[derive(Debug)]
pub struct Subscription {
    receiver: mpsc::Receiver<Arc<DurableBatch>>,
}

impl Subscription {
    /// The next batch, waiting for one; `None` once the engine has stopped.
    pub async fn next(&mut self) -> Option<Arc<DurableBatch>> {
        self.receiver.recv().await
    }

    /// The next batch if one is waiting.
    pub fn try_next(&mut self) -> Option<Arc<DurableBatch>> {
        self.receiver.try_recv().ok()
    }

    /// The next batch, blocking the thread until there is one; `None` once the engine has
    /// stopped. Not for a thread of an async runtime.
    pub fn blocking_next(&mut self) -> Option<Arc<DurableBatch>> {
        self.receiver.blocking_recv()
    }
}

/// The subscribers of one tenant's batches.
#[derive(Debug, Default)]
pub(crate) struct TenantFeed {
    /// Whether there is any subscriber: checked for every batch without taking the lock.
    any: AtomicBool,
    subscribers: Mutex<Vec<mpsc::Sender<Arc<DurableBatch>>>>,
}

impl TenantFeed {
    /// Whether anyone may want the next batch.
    pub(crate) fn wanted(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Hands `batch` to every subscriber that has room for it, never waiting; forgets the
    /// subscribers that are gone.
    pub(crate) fn publish(&self, batch: DurableBatch) {
        let Ok(mut subscribers) = self.subscribers.lock() else {
            return;
        };
        let batch = Arc::new(batch);
        subscribers.retain(|subscriber| match subscriber.try_send(batch.clone()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        self.any.store(!subscribers.is_empty(), Ordering::Release);
    }

    fn subscribe(&self, capacity: usize) -> Subscription {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        if let Ok(mut subscribers) = self.subscribers.lock() {
            subscribers.push(sender);
            self.any.store(true, Ordering::Release);
        }
        Subscription { receiver }
    }
}

/// Every tenant's subscribers, whether or not its writer has started.
#[derive(Debug, Default)]
pub(crate) struct Feeds {
    tenants: Mutex<FxHashMap<TenantId, Arc<TenantFeed>>>,
}

impl Feeds {
    /// The tenant's feed, made on first use.
    pub(crate) fn of(&self, tenant: &TenantId) -> Arc<TenantFeed> {
        match self.tenants.lock() {
            Ok(mut tenants) => tenants.entry(tenant.clone()).or_default().clone(),
            // A poisoned map: a feed nobody subscribes to, so batches go nowhere.
            Err(_) => Arc::default(),
        }
    }

    /// A new subscription to the tenant's batches, holding up to `capacity` not yet taken.
    pub(crate) fn subscribe(&self, tenant: &TenantId, capacity: usize) -> Subscription {
        self.of(tenant).subscribe(capacity)
    }
}
