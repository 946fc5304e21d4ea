//! A process that only reads the log (a read replica's node): each tenant's state is kept by a
//! follower instead of a writer. It is restored like a writer's (snapshot, then the log's tail)
//! and, before every read, catches up with what the log has gained since, so a read sees
//! everything the log it reads holds at that moment. It never writes: a command is answered
//! with where the tenant's writer is (the holder of its lease, as the log it reads names it),
//! or as unavailable when no process writes the tenant now.

use crate::projections::{self, Tracked};
use crate::{
    EngineError, EngineOptions, Job, WriterState, projection_error, retention, return_horizon,
    unavailable,
};
use flowline_core::id::TenantId;
use flowline_store::{SharedBackend, Store};
use jiff::Timestamp;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;

/// One tenant's follower.
pub(crate) struct Follower {
    tenant: TenantId,
    store: Box<dyn Store>,
    options: EngineOptions,
    tracked: Tracked<WriterState>,
}

impl Follower {
    /// Restores the tenant's state from the log `backend` reads.
    pub(crate) fn new(
        tenant: TenantId,
        backend: &SharedBackend,
        options: EngineOptions,
    ) -> Result<Self, EngineError> {
        let store = backend.open_reader().map_err(unavailable)?;
        let started = std::time::Instant::now();
        let (tracked, origin) =
            projections::restore(store.as_ref(), &tenant, WriterState::default, |_| Ok(()))
                .map_err(projection_error)?;
        let mut follower = Self {
            tenant,
            store,
            options,
            tracked,
        };
        follower.catch_up()?;
        if let Some(observer) = &follower.options.observer {
            observer.restored(
                &follower.tenant,
                &origin,
                follower.tracked.head,
                started.elapsed(),
            );
        }
        Ok(follower)
    }

    /// Applies what the log holds after the state's head; settled documents leave memory after
    /// every page, as a writer's rebuild lets them.
    fn catch_up(&mut self) -> Result<(), EngineError> {
        let latest = self
            .store
            .latest_business_time(&self.tenant)
            .map_err(unavailable)?
            .unwrap_or(Timestamp::MIN);
        let now = self.options.clock.now().max(latest);
        projections::catch_up(
            self.store.as_ref(),
            &self.tenant,
            &mut self.tracked,
            &|| false,
            &mut |writer| {
                let horizon = return_horizon(&writer.state, now);
                retention::evict_settled(&mut writer.state, horizon);
            },
        )
        .map_err(projection_error)?;
        Ok(())
    }

    /// Where a command for the tenant should go.
    fn elsewhere(&self) -> EngineError {
        match self.store.lease_holder(&self.tenant) {
            Ok(Some((holder, address))) => EngineError::Elsewhere { holder, address },
            Ok(None) => EngineError::Unavailable(format!(
                "this process only reads, and no process writes tenant `{}` now; retry shortly",
                self.tenant
            )),
            Err(error) => unavailable(error),
        }
    }

    /// Answers reads and refuses commands until the engine drops the queue.
    pub(crate) fn run(mut self, receiver: &Receiver<Job>, queued: &AtomicUsize) {
        while let Ok(job) = receiver.recv() {
            queued.fetch_sub(1, Ordering::Relaxed);
            match job {
                Job::Query(read) => {
                    // A log that cannot be read now leaves the state as it last was: a replica
                    // is behind by nature, and the read says what it saw.
                    if let Err(error) = self.catch_up() {
                        tracing::warn!(tenant = %self.tenant, %error, "cannot catch up with the log; reading the state as it was");
                    }
                    read(&self.tracked.projection.state);
                }
                Job::Command(_, reply) => reply.send(Err(self.elsewhere())),
                Job::Atomic(job) => {
                    let _ = job.reply.send(Err(self.elsewhere()));
                }
            }
        }
    }
}
