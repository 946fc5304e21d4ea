//! The one runner for every [`Projection`]: restore the latest good snapshot, fold the tail of
//! the log, and save snapshots.
//!
//! A snapshot is a cache and the log is the truth. [`restore`] takes the latest snapshot only if
//! its envelope is whole (magic, length, checksum), it was taken by this build, of this
//! projection at this version, for this tenant, the log reaches its position, and the event at
//! that position is the one it was taken after; otherwise it starts from nothing and says why,
//! and [`catch_up`] folds the whole log. Either way the result is the same state.
//!
//! Once caught up, a projection may follow the log as the engine commits it: [`feed`] applies
//! each durable batch from a [`crate::Engine::subscribe`]d feed, and says when batches were
//! missed, so the projection catches up from the log again.

use crate::feed::DurableBatch;
use flowline_core::Event;
use flowline_core::id::TenantId;
use flowline_core::projection::{Position, Projection};
use flowline_store::snapshot::{self, Snapshot, SnapshotError};
use flowline_store::{EventStore, Store, StoreError, StoredEvent};

/// The software that writes snapshots, with its version: a snapshot from another release is
/// rebuilt.
pub const BUILD: &str = concat!("flowline ", env!("CARGO_PKG_VERSION"));

/// Events read per page while catching up.
pub const PAGE: usize = 10_000;

/// Why a projection could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The log or the snapshots could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event in the log could not be decoded.
    #[error("event {seq} of tenant {tenant} cannot be decoded: {reason}")]
    Decode {
        /// The tenant.
        tenant: String,
        /// The event's sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// The projection could not encode itself for a snapshot.
    #[error("projection {projection} cannot be encoded: {reason}")]
    Encode {
        /// The projection.
        projection: &'static str,
        /// Why.
        reason: String,
    },
}

/// Where a restored projection came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A snapshot taken after this event.
    Snapshot {
        /// Its head.
        head: u64,
    },
    /// No snapshot was kept.
    Nothing,
    /// A snapshot was kept but could not be used: the projection starts from nothing.
    Ignored(SnapshotError),
}

/// A projection and the last event it reflects.
#[derive(Debug)]
pub struct Tracked<P> {
    /// The projection.
    pub projection: P,
    /// The sequence number of the last event applied (0: none).
    pub head: u64,
}

/// The projection restored from the tenant's latest good snapshot, or `fresh()` at head 0 when
/// there is none; with where it came from. `accept` may refuse a decoded snapshot (one taken
/// with settings other than those wanted now) with a reason.
pub fn restore<P: Projection>(
    store: &dyn Store,
    tenant: &TenantId,
    fresh: impl FnOnce() -> P,
    accept: impl FnOnce(&P) -> Result<(), String>,
) -> Result<(Tracked<P>, Origin), ProjectionError> {
    let origin = match load::<P>(store, tenant)? {
        Ok(Some((projection, head))) => match accept(&projection) {
            Ok(()) => return Ok((Tracked { projection, head }, Origin::Snapshot { head })),
            Err(reason) => Origin::Ignored(SnapshotError::Payload(reason)),
        },
        Ok(None) => Origin::Nothing,
        Err(error) => Origin::Ignored(error),
    };
    Ok((
        Tracked {
            projection: fresh(),
            head: 0,
        },
        origin,
    ))
}

/// The latest snapshot of `P` for the tenant, decoded and checked against the log.
fn load<P: Projection>(
    store: &dyn Store,
    tenant: &TenantId,
) -> Result<Result<Option<(P, u64)>, SnapshotError>, StoreError> {
    // A snapshot that cannot even be read is a cache miss, not a failure: the log is there.
    let bytes = match store.load_snapshot(tenant, P::NAME) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(Ok(None)),
        Err(error) => return Ok(Err(SnapshotError::Unreadable(error.to_string()))),
    };
    let snapshot = match Snapshot::open_owned(bytes) {
        Ok(snapshot) => snapshot,
        Err(error) => return Ok(Err(error)),
    };
    if let Err(error) = snapshot.check_identity(BUILD, P::NAME, P::VERSION, tenant) {
        return Ok(Err(error));
    }
    if let Err(error) = check_against_log(store, tenant, &snapshot)? {
        return Ok(Err(error));
    }
    Ok(match P::decode(&snapshot.payload) {
        Ok(projection) => Ok(Some((projection, snapshot.head))),
        Err(reason) => Err(SnapshotError::Payload(reason)),
    })
}

/// Checks that the log reaches the snapshot's head and holds there the event it was taken
/// after.
fn check_against_log(
    store: &dyn Store,
    tenant: &TenantId,
    snapshot: &Snapshot,
) -> Result<Result<(), SnapshotError>, StoreError> {
    let log_head = store.tenant_head(tenant)?;
    if snapshot.head > log_head {
        return Ok(Err(SnapshotError::AheadOfLog {
            head: snapshot.head,
            log_head,
        }));
    }
    let anchor = anchor_at(store, tenant, snapshot.head)?;
    Ok(if anchor == snapshot.anchor {
        Ok(())
    } else {
        Err(SnapshotError::OtherLog {
            head: snapshot.head,
        })
    })
}

/// The anchor of the tenant's event at `head` (0 for head 0 or a missing event).
fn anchor_at(store: &dyn Store, tenant: &TenantId, head: u64) -> Result<u32, StoreError> {
    if head == 0 {
        return Ok(0);
    }
    let events = store.read_tenant(tenant, head - 1, 1)?;
    Ok(events
        .first()
        .filter(|event| event.seq == head)
        .map_or(0, snapshot::anchor))
}

/// How far [`catch_up`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// The head of the log, as it was when the last page was read.
    End,
    /// A page boundary where `stop` asked to stop; what was applied is a prefix of the log.
    Stopped,
}

/// Applies the tenant's events after `tracked.head`, page by page, calling `after_page` after
/// each page and asking `stop` before each.
pub fn catch_up<P: Projection>(
    store: &dyn EventStore,
    tenant: &TenantId,
    tracked: &mut Tracked<P>,
    stop: &dyn Fn() -> bool,
    after_page: &mut dyn FnMut(&mut P),
) -> Result<Reached, ProjectionError> {
    loop {
        if stop() {
            return Ok(Reached::Stopped);
        }
        let page = store.read_tenant(tenant, tracked.head, PAGE)?;
        if page.is_empty() {
            return Ok(Reached::End);
        }
        for stored in &page {
            let event = decode(tenant, stored)?;
            tracked.projection.apply(position_of(stored), &event);
            tracked.head = stored.seq;
        }
        after_page(&mut tracked.projection);
    }
}

/// What [`feed`] did with a durable batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// Its events after the projection's head were applied: this many.
    Applied(u64),
    /// The batch starts past the event after the projection's head: batches between were
    /// missed, and the projection must catch up from the log (which holds this batch too).
    Gap,
}

/// Applies a durable batch's events that come after `tracked.head`, decoded as a read of the
/// log decodes them; nothing if the batch does not follow on from the head.
pub fn feed<P: Projection>(
    tracked: &mut Tracked<P>,
    batch: &DurableBatch,
) -> Result<Fed, ProjectionError> {
    if batch.first() > tracked.head + 1 {
        return Ok(Fed::Gap);
    }
    let mut applied = 0;
    for (position, event) in batch.events() {
        if position.seq <= tracked.head {
            continue;
        }
        let decoded = decode_payload(
            batch.tenant(),
            position.seq,
            &event.event_type,
            event.schema_version,
            &event.payload,
        )?;
        tracked.projection.apply(position, &decoded);
        tracked.head = position.seq;
        applied += 1;
    }
    Ok(Fed::Applied(applied))
}

/// Reads the tenant's events after `after`, page by page, decoding each once; `visit` sees
/// each, `after_page` runs after each page, `stop` is asked before each.
pub fn read_events(
    store: &dyn EventStore,
    tenant: &TenantId,
    after: u64,
    stop: &dyn Fn() -> bool,
    visit: &mut dyn FnMut(Position, &Event),
    after_page: &mut dyn FnMut(),
) -> Result<Reached, ProjectionError> {
    let mut head = after;
    loop {
        if stop() {
            return Ok(Reached::Stopped);
        }
        let page = store.read_tenant(tenant, head, PAGE)?;
        if page.is_empty() {
            return Ok(Reached::End);
        }
        for stored in &page {
            let event = decode(tenant, stored)?;
            visit(position_of(stored), &event);
            head = stored.seq;
        }
        after_page();
    }
}

/// An event's position.
pub fn position_of(stored: &StoredEvent) -> Position {
    Position {
        seq: stored.seq,
        business_time: stored.business_time,
        recorded_at: stored.recorded_at,
    }
}

/// Decodes a stored event.
pub fn decode(tenant: &TenantId, stored: &StoredEvent) -> Result<Event, ProjectionError> {
    decode_payload(
        tenant,
        stored.seq,
        &stored.event_type,
        stored.schema_version,
        &stored.payload,
    )
}

/// Decodes the event `seq` of `tenant` from its type, schema version and payload.
fn decode_payload(
    tenant: &TenantId,
    seq: u64,
    event_type: &str,
    schema_version: u32,
    payload: &str,
) -> Result<Event, ProjectionError> {
    Event::from_json(event_type, schema_version, payload).map_err(|reason| {
        ProjectionError::Decode {
            tenant: tenant.to_string(),
            seq,
            reason,
        }
    })
}

/// The sealed snapshot of a projection at `head`.
pub fn seal<P: Projection>(
    store: &dyn Store,
    tenant: &TenantId,
    projection: &P,
    head: u64,
) -> Result<Vec<u8>, ProjectionError> {
    let payload = projection
        .encode()
        .map_err(|reason| ProjectionError::Encode {
            projection: P::NAME,
            reason,
        })?;
    Ok(Snapshot {
        build: BUILD.to_owned(),
        projection: P::NAME.to_owned(),
        version: P::VERSION,
        tenant: tenant.to_string(),
        head,
        anchor: anchor_at(store, tenant, head)?,
        payload,
    }
    .seal())
}

/// Saves a snapshot of the projection at `head`, which must be durable in the log; returns its
/// size in bytes.
pub fn save<P: Projection>(
    store: &dyn Store,
    tenant: &TenantId,
    projection: &P,
    head: u64,
) -> Result<usize, ProjectionError> {
    let sealed = seal(store, tenant, projection, head)?;
    store.save_snapshot(tenant, P::NAME, &sealed)?;
    Ok(sealed.len())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No snapshot is kept.
    NoSnapshot,
    /// A snapshot is kept but would be ignored at start-up (and rebuilt from the log).
    Unusable(SnapshotError),
    /// The snapshot equals the projection folded from nothing to its head, byte for byte.
    Equal {
        /// Its head.
        head: u64,
        /// The size of its encoding.
        bytes: usize,
    },
    /// The snapshot differs from the projection folded from nothing to its head.
    Differs {
        /// Its head.
        head: u64,
    },
}

/// Checks the tenant's latest snapshot of `P` against the log: folds a new projection from
/// nothing up to the snapshot's head and compares the two encodings byte for byte, after
/// `normalise` has been applied to both (and to the new one after every page, so the fold
/// needs no more memory than running does).
pub fn verify<P: Projection>(
    store: &dyn Store,
    tenant: &TenantId,
    fresh: impl FnOnce() -> P,
    normalise: &dyn Fn(&mut P),
) -> Result<Verdict, ProjectionError> {
    let (mut restored, head) = match load::<P>(store, tenant)? {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(Verdict::NoSnapshot),
        Err(error) => return Ok(Verdict::Unusable(error)),
    };
    let mut replayed = Tracked {
        projection: fresh(),
        head: 0,
    };
    while replayed.head < head {
        let wanted = usize::try_from(head - replayed.head)
            .unwrap_or(PAGE)
            .min(PAGE);
        let page = store.read_tenant(tenant, replayed.head, wanted)?;
        if page.is_empty() {
            break;
        }
        for stored in &page {
            let event = decode(tenant, stored)?;
            replayed.projection.apply(position_of(stored), &event);
            replayed.head = stored.seq;
        }
        normalise(&mut replayed.projection);
    }
    normalise(&mut restored);
    normalise(&mut replayed.projection);
    let encode = |projection: &P| {
        projection
            .encode()
            .map_err(|reason| ProjectionError::Encode {
                projection: P::NAME,
                reason,
            })
    };
    let (ours, theirs) = (encode(&restored)?, encode(&replayed.projection)?);
    Ok(if replayed.head == head && ours == theirs {
        Verdict::Equal {
            head,
            bytes: ours.len(),
        }
    } else {
        Verdict::Differs { head }
    })
}
