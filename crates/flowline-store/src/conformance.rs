//! The behaviour every backend's [`Store`] must have, as executable checks: the event log
//! ([`EventStore`]), the tenant and key directory ([`Directory`]) and the stream index
//! ([`LogIndex`]).
//!
//! Each check takes a fresh, empty store and returns `Ok(())` or a [`Failure`] describing the
//! first property that did not hold; none of them panics. A backend's tests call [`run_all`]
//! with a factory for fresh stores, or call the checks one by one (each is also listed in
//! [`ALL`]) to get one test per property:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use flowline_store::{Backend, conformance};
//! # fn fresh_backend() -> Box<dyn Backend> { unimplemented!() }
//! conformance::run_all(|| fresh_backend().open())?;
//! # Ok(())
//! # }
//! ```

use crate::{
    AppendOutcome, AppendRequest, BalanceRow, CommandRecord, EventStore, ExpectedVersion,
    IdempotencyLookup, IdempotencyRecord, KeyRecord, NewEvent, SessionRecord, Store, StoreError,
    StoredEvent, StreamSummary, TenantRecord,
};
use flowline_core::id::{IdError, TenantId};
use jiff::Timestamp;
use std::fmt;

/// A conformance check: runs against a fresh, empty store.
pub type Check = fn(&mut dyn Store) -> Result<(), Failure>;

/// A property that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The name of the check.
    pub check: &'static str,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance check `{}` failed: {}",
            self.check, self.message
        )
    }
}

impl std::error::Error for Failure {}

/// Why a check body failed, before it is named.
struct Fail(String);

impl From<StoreError> for Fail {
    fn from(error: StoreError) -> Self {
        Self(format!("unexpected store error: {error} ({error:?})"))
    }
}

impl From<IdError> for Fail {
    fn from(error: IdError) -> Self {
        Self(format!("bad test id: {error}"))
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self {
            check: "opening a fresh store",
            message: error.to_string(),
        }
    }
}

/// Runs every check in [`ALL`], each on a store made by `make`, and returns every failure.
///
/// `make` returns `Result` so that a backend's `open` can be passed directly; an error from it
/// is reported as a failure.
pub fn run_all<E>(mut make: impl FnMut() -> Result<Box<dyn Store>, E>) -> Result<(), Failures>
where
    E: fmt::Display,
{
    let mut failures = Vec::new();
    for (name, check) in ALL {
        let outcome = match make() {
            Ok(mut store) => check(store.as_mut()),
            Err(error) => Err(Failure {
                check: name,
                message: format!("cannot make a store: {error}"),
            }),
        };
        if let Err(failure) = outcome {
            failures.push(failure);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failures(failures))
    }
}

/// Every failure of a [`run_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures(pub Vec<Failure>);

impl fmt::Display for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} conformance check(s) failed:", self.0.len())?;
        for failure in &self.0 {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failures {}

macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(Fail(format!($($message)+)));
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($message:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err(Fail(format!(
                        "{}: expected {:?}, got {:?}",
                        format!($($message)+),
                        right,
                        left
                    )));
                }
            }
        }
    };
}

macro_rules! checks {
    ($($(#[$meta:meta])* $name:ident,)*) => {
        $(
            $(#[$meta])*
            pub fn $name(store: &mut dyn Store) -> Result<(), Failure> {
                body::$name(store)
                    .map_err(|Fail(message)| Failure { check: stringify!($name), message })
            }
        )*

        /// Every check, with its name, in a sensible order.
        pub const ALL: &[(&str, Check)] = &[$((stringify!($name), $name as Check)),*];
    };
}

const T0: Timestamp = Timestamp::constant(1_700_000_000, 0);
const T1: Timestamp = Timestamp::constant(1_700_000_100, 123_456_000);

fn tenant(name: &str) -> Result<TenantId, Fail> {
    Ok(TenantId::parse(name)?)
}

fn event(stream: &str, n: u32) -> NewEvent {
    NewEvent {
        stream: stream.to_string(),
        event_type: "Counted".to_string(),
        schema_version: 1,
        business_time: T0,
        payload: format!("{{\"n\":{n}}}"),
    }
}

fn command(events: Vec<NewEvent>) -> CommandRecord {
    CommandRecord {
        events,
        expected: Vec::new(),
        idempotency: None,
    }
}

fn expecting(events: Vec<NewEvent>, stream: &str, expected: ExpectedVersion) -> CommandRecord {
    CommandRecord {
        events,
        expected: vec![(stream.to_string(), expected)],
        idempotency: None,
    }
}

fn keyed(events: Vec<NewEvent>, key: &str, hash: &str, response: &str) -> CommandRecord {
    CommandRecord {
        events,
        expected: Vec::new(),
        idempotency: Some(IdempotencyRecord {
            key: key.to_string(),
            request_hash: hash.to_string(),
            response: response.to_string(),
        }),
    }
}

fn request(tenant: &TenantId, expected_seq: u64, commands: Vec<CommandRecord>) -> AppendRequest {
    AppendRequest {
        tenant: tenant.clone(),
        expected_seq,
        recorded_at: T1,
        commands,
        balances: Vec::new(),
    }
}

fn balance(item: &str, location: &str, on_hand: i64) -> BalanceRow {
    BalanceRow {
        item: item.to_string(),
        location: location.to_string(),
        on_hand,
        reserved: on_hand / 2,
        value_minor: on_hand * 100,
    }
}

/// Appends `count` single-event commands to `stream` of `tenant`, one request each.
fn append_singles(
    store: &mut dyn EventStore,
    tenant: &TenantId,
    stream: &str,
    count: u32,
) -> Result<(), Fail> {
    for n in 0..count {
        let head = store.tenant_head(tenant)?;
        store.append(&request(
            tenant,
            head,
            vec![command(vec![event(stream, n)])],
        ))?;
    }
    Ok(())
}

fn seqs(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|event| event.seq).collect()
}

fn positions(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|event| event.position).collect()
}

fn expect_nothing_appended(
    store: &dyn EventStore,
    tenant: &TenantId,
    head: u64,
    total: usize,
) -> Result<(), Fail> {
    ensure_eq!(
        store.tenant_head(tenant)?,
        head,
        "tenant head after a rejected request"
    );
    ensure_eq!(
        store.read_all(0, 1000)?.len(),
        total,
        "events stored after a rejected request"
    );
    Ok(())
}

checks! {
    /// An empty store has no events, no tenants, head 0, no stream versions and no balances.
    an_empty_store_has_nothing,
    /// Appending numbers events 1, 2, 3… per tenant and per stream, positions increase across
    /// tenants, and every field reads back as written.
    appended_events_get_contiguous_numbers_and_read_back_unchanged,
    /// A request whose third command hits a stream version conflict appends nothing from the
    /// first two: no events, no idempotency records, no balances, head unchanged.
    a_batch_whose_third_command_conflicts_appends_nothing,
    /// A request whose `expected_seq` is not the tenant's head is a seq conflict naming both,
    /// and appends nothing.
    a_stale_expected_seq_is_a_seq_conflict,
    /// `ExpectedVersion::Any` accepts a missing stream and a stream at any version.
    expected_version_any_accepts_every_stream_state,
    /// `ExpectedVersion::NoStream` accepts a stream without events and rejects one with events.
    expected_version_no_stream_rejects_an_existing_stream,
    /// `ExpectedVersion::Exact(n)` accepts only a stream whose last version is `n`.
    expected_version_exact_requires_the_current_version,
    /// Expectations are checked against the store plus the events of earlier commands in the
    /// same request.
    expectations_see_earlier_commands_of_the_same_request,
    /// Retrying a command with the same key and request hash is reported as a duplicate
    /// carrying the original response, and appends nothing.
    a_retried_key_with_the_same_hash_returns_the_original_response,
    /// Reusing a key for a different request (another hash) is rejected and appends nothing.
    a_reused_key_with_a_different_hash_is_rejected,
    /// A key repeated within one request makes the whole request a duplicate: nothing appended.
    a_key_repeated_within_one_request_rejects_the_request,
    /// Idempotency keys are scoped per tenant: another tenant may use the same key.
    idempotency_keys_are_scoped_per_tenant,
    /// A rejected command (no events, with a key) is remembered: its retry gets the saved
    /// error response, and the tenant's head does not move.
    a_rejected_command_without_events_is_remembered,
    /// A tenant's idempotency records page in key order (byte order, whatever the order they
    /// were written in), each with its hash and response, none of another tenant's.
    idempotency_records_page_in_key_order,
    /// Paging through `read_tenant` by `after_seq` returns every event of the tenant exactly
    /// once, in seq order, and none of another tenant's.
    read_tenant_pages_return_every_event_once_in_order,
    /// Paging through `read_all` by `after_position` returns every event of every tenant
    /// exactly once, in strictly increasing position order.
    read_all_pages_return_every_event_once_in_position_order,
    /// `read_stream` returns exactly the stream's events, in version order.
    read_stream_returns_the_stream_in_version_order,
    /// Balance rows are upserted with absolute values that replace the stored row, keyed by
    /// (tenant, item, location).
    balance_upserts_replace_rows,
    /// A request with no commands (and no balances) is a no-op with an empty outcome.
    a_request_without_commands_is_a_no_op,
    /// A tenant registers once; a key needs a registered tenant and a new id; keys list
    /// oldest first, each under its own tenant only.
    tenants_and_keys_register_once_and_stay_with_their_tenant,
    /// Revoking keeps the first revocation time and only touches the tenant's own key; a
    /// key's own rate is set and cleared only by its tenant.
    keys_are_revoked_and_rated_only_by_their_tenant,
    /// A session needs an existing key and a new id hash; it is found only until it expires,
    /// its expiry moves, it closes and is purged once expired; a key keeps at most its limit
    /// of sessions, the ones expiring soonest closed to make room, never another key's.
    sessions_live_until_they_expire_or_close,
    /// Streams of one kind list in name order a page at a time, never another kind's or
    /// another tenant's, with their first and latest business times.
    streams_of_a_kind_page_in_name_order_with_their_times,
    /// The log's latest business time is its last event's, not its greatest.
    the_latest_business_time_is_the_last_events,
    /// A snapshot reads back byte for byte as saved, the next save replaces it, and each
    /// (tenant, projection) keeps its own; none is there before the first save.
    snapshots_read_back_as_saved_and_the_latest_replaces_the_one_before,
}

/// The checks' bodies, which fail with a message the public wrappers name.
mod body {
    use super::*;

    pub(super) fn an_empty_store_has_nothing(store: &mut dyn EventStore) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        ensure_eq!(
            store.read_all(0, 10)?,
            Vec::<StoredEvent>::new(),
            "read_all"
        );
        ensure_eq!(
            store.read_tenant(&acme, 0, 10)?,
            Vec::<StoredEvent>::new(),
            "read_tenant"
        );
        ensure_eq!(
            store.read_stream(&acme, "s")?,
            Vec::<StoredEvent>::new(),
            "read_stream"
        );
        ensure_eq!(store.tenant_head(&acme)?, 0, "tenant_head");
        ensure_eq!(store.stream_version(&acme, "s")?, None, "stream_version");
        ensure_eq!(store.tenants()?, Vec::<TenantId>::new(), "tenants");
        ensure_eq!(store.balances(&acme)?, Vec::<BalanceRow>::new(), "balances");
        ensure_eq!(
            store.idempotency(&acme, "k", "h")?,
            IdempotencyLookup::Absent,
            "idempotency"
        );
        Ok(())
    }

    pub(super) fn appended_events_get_contiguous_numbers_and_read_back_unchanged(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        // acme: a1 a1 a2 (seq 1..3), globex: g1 (seq 1), acme: a1 (seq 4, a1 version 3).
        let first = store.append(&request(
            &acme,
            0,
            vec![
                command(vec![event("a1", 1), event("a1", 2)]),
                command(vec![event("a2", 3)]),
            ],
        ))?;
        ensure_eq!(
            first,
            AppendOutcome {
                first_seq: 1,
                last_seq: 3,
                first_position: 1,
                last_position: 3
            },
            "first outcome"
        );
        ensure_eq!(first.event_count(), 3, "first event count");
        let second = store.append(&request(&globex, 0, vec![command(vec![event("g1", 4)])]))?;
        ensure_eq!(second.first_seq, 1, "globex's first seq");
        ensure!(
            second.first_position > first.last_position,
            "positions must increase across tenants: {first:?} then {second:?}"
        );
        let third = store.append(&request(&acme, 3, vec![command(vec![event("a1", 5)])]))?;
        ensure_eq!((third.first_seq, third.last_seq), (4, 4), "acme's next seq");
        ensure!(
            third.first_position > second.last_position,
            "positions must follow commit order"
        );

        let acme_events = store.read_tenant(&acme, 0, 100)?;
        ensure_eq!(seqs(&acme_events), vec![1, 2, 3, 4], "acme seqs");
        let versions: Vec<(String, u64)> = acme_events
            .iter()
            .map(|e| (e.stream.clone(), e.stream_version))
            .collect();
        // seq 1: a1 v1, seq 2: a1 v2, seq 3: a2 v1, seq 4: a1 v3.
        let expected: Vec<(String, u64)> = [("a1", 1), ("a1", 2), ("a2", 1), ("a1", 3)]
            .iter()
            .map(|(s, v)| (s.to_string(), *v))
            .collect();
        ensure_eq!(versions, expected, "acme (stream, version) in seq order");
        let e = &acme_events[0];
        ensure_eq!(e.tenant, acme, "tenant");
        ensure_eq!(e.event_type, "Counted", "event_type");
        ensure_eq!(e.schema_version, 1, "schema_version");
        ensure_eq!(e.business_time, T0, "business_time");
        ensure_eq!(e.recorded_at, T1, "recorded_at (microsecond precision)");
        ensure_eq!(e.payload, "{\"n\":1}", "payload");
        ensure_eq!(store.tenant_head(&acme)?, 4, "acme head");
        ensure_eq!(store.tenant_head(&globex)?, 1, "globex head");
        ensure_eq!(store.stream_version(&acme, "a1")?, Some(3), "a1 version");
        ensure_eq!(
            store.stream_version(&globex, "a1")?,
            None,
            "streams are per tenant"
        );
        ensure_eq!(store.tenants()?, vec![acme, globex], "tenants, sorted");
        Ok(())
    }

    pub(super) fn a_batch_whose_third_command_conflicts_appends_nothing(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        append_singles(store, &acme, "s", 1)?; // head 1, s at version 1
        let mut batch = request(
            &acme,
            1,
            vec![
                keyed(vec![event("x", 1)], "k1", "h1", "ok1"),
                keyed(vec![event("s", 2)], "k2", "h2", "ok2"),
                // s is at version 2 after the second command, not 1: conflict.
                expecting(vec![event("s", 3)], "s", ExpectedVersion::Exact(1)),
            ],
        );
        batch.balances = vec![balance("sku", "fc1", 5)];
        match store.append(&batch) {
            Err(StoreError::StreamVersionConflict { stream, actual, .. }) => {
                ensure_eq!(stream, "s", "conflicting stream");
                ensure_eq!(
                    actual,
                    Some(2),
                    "version seen, counting the batch's own events"
                );
            }
            other => {
                return Err(Fail(format!(
                    "expected StreamVersionConflict, got {other:?}"
                )));
            }
        }
        expect_nothing_appended(store, &acme, 1, 1)?;
        ensure_eq!(store.stream_version(&acme, "x")?, None, "x must not exist");
        ensure_eq!(
            store.idempotency(&acme, "k1", "h1")?,
            IdempotencyLookup::Absent,
            "k1 must not be stored"
        );
        ensure_eq!(
            store.idempotency(&acme, "k2", "h2")?,
            IdempotencyLookup::Absent,
            "k2 must not be stored"
        );
        ensure_eq!(
            store.balances(&acme)?,
            Vec::<BalanceRow>::new(),
            "balances must not be stored"
        );
        Ok(())
    }

    pub(super) fn a_stale_expected_seq_is_a_seq_conflict(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        append_singles(store, &acme, "s", 2)?;
        for stale in [0, 1, 3] {
            match store.append(&request(&acme, stale, vec![command(vec![event("s", 9)])])) {
                Err(StoreError::SeqConflict {
                    tenant,
                    expected,
                    actual,
                }) => {
                    ensure_eq!(tenant, acme, "tenant");
                    ensure_eq!(expected, stale, "expected");
                    ensure_eq!(actual, 2, "actual");
                }
                other => {
                    return Err(Fail(format!(
                        "expected SeqConflict for {stale}, got {other:?}"
                    )));
                }
            }
        }
        expect_nothing_appended(store, &acme, 2, 2)?;
        // A tenant without events is at 0.
        let globex = tenant("globex")?;
        match store.append(&request(&globex, 5, vec![command(vec![event("s", 1)])])) {
            Err(StoreError::SeqConflict { actual: 0, .. }) => Ok(()),
            other => Err(Fail(format!(
                "expected SeqConflict with actual 0, got {other:?}"
            ))),
        }
    }

    pub(super) fn expected_version_any_accepts_every_stream_state(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        store.append(&request(
            &acme,
            0,
            vec![expecting(vec![event("s", 1)], "s", ExpectedVersion::Any)],
        ))?;
        store.append(&request(
            &acme,
            1,
            vec![expecting(vec![event("s", 2)], "s", ExpectedVersion::Any)],
        ))?;
        ensure_eq!(store.stream_version(&acme, "s")?, Some(2), "s version");
        Ok(())
    }

    pub(super) fn expected_version_no_stream_rejects_an_existing_stream(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        store.append(&request(
            &acme,
            0,
            vec![expecting(
                vec![event("s", 1)],
                "s",
                ExpectedVersion::NoStream,
            )],
        ))?;
        match store.append(&request(
            &acme,
            1,
            vec![expecting(
                vec![event("s", 2)],
                "s",
                ExpectedVersion::NoStream,
            )],
        )) {
            Err(StoreError::StreamVersionConflict {
                actual: Some(1), ..
            }) => {}
            other => {
                return Err(Fail(format!(
                    "expected a conflict at version 1, got {other:?}"
                )));
            }
        }
        // Exact(0) means NoStream too.
        store.append(&request(
            &acme,
            1,
            vec![expecting(
                vec![event("t", 1)],
                "t",
                ExpectedVersion::Exact(0),
            )],
        ))?;
        expect_nothing_appended(store, &acme, 2, 2)
    }

    pub(super) fn expected_version_exact_requires_the_current_version(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        append_singles(store, &acme, "s", 2)?; // s at version 2
        for wrong in [1, 3] {
            match store.append(&request(
                &acme,
                2,
                vec![expecting(
                    vec![event("s", 9)],
                    "s",
                    ExpectedVersion::Exact(wrong),
                )],
            )) {
                Err(StoreError::StreamVersionConflict {
                    tenant,
                    stream,
                    actual,
                    ..
                }) => {
                    ensure_eq!(
                        (tenant, stream, actual),
                        (acme.clone(), "s".to_string(), Some(2)),
                        "conflict details"
                    );
                }
                other => {
                    return Err(Fail(format!(
                        "expected a conflict for Exact({wrong}), got {other:?}"
                    )));
                }
            }
        }
        match store.append(&request(
            &acme,
            2,
            vec![expecting(
                vec![event("new", 9)],
                "new",
                ExpectedVersion::Exact(1),
            )],
        )) {
            Err(StoreError::StreamVersionConflict { actual: None, .. }) => {}
            other => {
                return Err(Fail(format!(
                    "expected a conflict on a missing stream, got {other:?}"
                )));
            }
        }
        let outcome = store.append(&request(
            &acme,
            2,
            vec![expecting(
                vec![event("s", 3)],
                "s",
                ExpectedVersion::Exact(2),
            )],
        ))?;
        ensure_eq!(outcome.last_seq, 3, "seq after the exact append");
        ensure_eq!(store.stream_version(&acme, "s")?, Some(3), "s version");
        Ok(())
    }

    pub(super) fn expectations_see_earlier_commands_of_the_same_request(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        store.append(&request(
            &acme,
            0,
            vec![
                expecting(vec![event("s", 1)], "s", ExpectedVersion::NoStream),
                expecting(
                    vec![event("s", 2), event("s", 3)],
                    "s",
                    ExpectedVersion::Exact(1),
                ),
                expecting(vec![event("s", 4)], "s", ExpectedVersion::Exact(3)),
            ],
        ))?;
        let versions: Vec<u64> = store
            .read_stream(&acme, "s")?
            .iter()
            .map(|e| e.stream_version)
            .collect();
        ensure_eq!(versions, vec![1, 2, 3, 4], "versions");
        Ok(())
    }

    pub(super) fn a_retried_key_with_the_same_hash_returns_the_original_response(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        store.append(&request(
            &acme,
            0,
            vec![keyed(vec![event("s", 1)], "k", "h", "{\"ok\":1}")],
        ))?;
        ensure_eq!(
            store.idempotency(&acme, "k", "h")?,
            IdempotencyLookup::Same {
                response: "{\"ok\":1}".to_string()
            },
            "lookup"
        );
        match store.append(&request(
            &acme,
            1,
            vec![keyed(vec![event("s", 2)], "k", "h", "{\"ok\":2}")],
        )) {
            Err(StoreError::DuplicateIdempotencyKey {
                tenant,
                key,
                response,
            }) => {
                ensure_eq!(
                    (tenant, key, response),
                    (acme.clone(), "k".to_string(), "{\"ok\":1}".to_string()),
                    "duplicate details"
                );
            }
            other => {
                return Err(Fail(format!(
                    "expected DuplicateIdempotencyKey, got {other:?}"
                )));
            }
        }
        expect_nothing_appended(store, &acme, 1, 1)
    }

    pub(super) fn a_reused_key_with_a_different_hash_is_rejected(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        store.append(&request(
            &acme,
            0,
            vec![keyed(vec![event("s", 1)], "k", "h1", "r1")],
        ))?;
        ensure_eq!(
            store.idempotency(&acme, "k", "h2")?,
            IdempotencyLookup::Different,
            "lookup"
        );
        match store.append(&request(
            &acme,
            1,
            vec![
                command(vec![event("s", 2)]),
                keyed(vec![event("s", 3)], "k", "h2", "r2"),
            ],
        )) {
            Err(StoreError::IdempotencyKeyReused { tenant, key }) => {
                ensure_eq!(
                    (tenant, key),
                    (acme.clone(), "k".to_string()),
                    "reuse details"
                );
            }
            other => {
                return Err(Fail(format!(
                    "expected IdempotencyKeyReused, got {other:?}"
                )));
            }
        }
        expect_nothing_appended(store, &acme, 1, 1)?;
        ensure_eq!(
            store.idempotency(&acme, "k", "h1")?,
            IdempotencyLookup::Same {
                response: "r1".to_string()
            },
            "original kept"
        );
        Ok(())
    }

    pub(super) fn a_key_repeated_within_one_request_rejects_the_request(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        match store.append(&request(
            &acme,
            0,
            vec![
                keyed(vec![event("s", 1)], "k", "h", "r"),
                keyed(vec![event("s", 2)], "k", "h", "r"),
            ],
        )) {
            Err(StoreError::DuplicateIdempotencyKey { .. }) => {}
            other => {
                return Err(Fail(format!(
                    "expected DuplicateIdempotencyKey, got {other:?}"
                )));
            }
        }
        expect_nothing_appended(store, &acme, 0, 0)?;
        ensure_eq!(
            store.idempotency(&acme, "k", "h")?,
            IdempotencyLookup::Absent,
            "key not stored"
        );
        Ok(())
    }

    pub(super) fn idempotency_keys_are_scoped_per_tenant(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        store.append(&request(
            &acme,
            0,
            vec![keyed(vec![event("s", 1)], "k", "h", "acme")],
        ))?;
        ensure_eq!(
            store.idempotency(&globex, "k", "h")?,
            IdempotencyLookup::Absent,
            "globex lookup"
        );
        store.append(&request(
            &globex,
            0,
            vec![keyed(vec![event("s", 1)], "k", "other", "globex")],
        ))?;
        ensure_eq!(
            store.idempotency(&acme, "k", "h")?,
            IdempotencyLookup::Same {
                response: "acme".to_string()
            },
            "acme's record"
        );
        ensure_eq!(
            store.idempotency(&globex, "k", "other")?,
            IdempotencyLookup::Same {
                response: "globex".to_string()
            },
            "globex's record"
        );
        ensure_eq!(store.read_all(0, 10)?.len(), 2, "both appended");
        Ok(())
    }

    pub(super) fn idempotency_records_page_in_key_order(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        ensure_eq!(
            store.idempotency_records(&acme, None, 10)?,
            Vec::<IdempotencyRecord>::new(),
            "no records before any"
        );
        // Written b, Z, a (one without events: a rejection remembered), then globex's a.
        // Byte order puts `Z` (0x5A) before `a` (0x61) and `b`.
        store.append(&request(
            &acme,
            0,
            vec![
                keyed(vec![event("s", 1)], "b", "hb", "rb"),
                keyed(vec![event("s", 2)], "Z", "hZ", "rZ"),
                keyed(Vec::new(), "a", "ha", "ra"),
            ],
        ))?;
        store.append(&request(
            &globex,
            0,
            vec![keyed(vec![event("s", 1)], "a", "other", "globex")],
        ))?;
        let record = |key: &str, hash: &str, response: &str| IdempotencyRecord {
            key: key.to_string(),
            request_hash: hash.to_string(),
            response: response.to_string(),
        };
        ensure_eq!(
            store.idempotency_records(&acme, None, 2)?,
            vec![record("Z", "hZ", "rZ"), record("a", "ha", "ra")],
            "the first page"
        );
        ensure_eq!(
            store.idempotency_records(&acme, Some("a"), 2)?,
            vec![record("b", "hb", "rb")],
            "the page after `a`"
        );
        ensure_eq!(
            store.idempotency_records(&acme, Some("b"), 2)?,
            Vec::<IdempotencyRecord>::new(),
            "nothing after the last"
        );
        ensure_eq!(
            store.idempotency_records(&globex, None, 10)?,
            vec![record("a", "other", "globex")],
            "globex's own"
        );
        Ok(())
    }

    pub(super) fn a_rejected_command_without_events_is_remembered(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let rejected = "{\"error\":\"insufficient stock\"}";
        let outcome = store.append(&request(
            &acme,
            0,
            vec![keyed(Vec::new(), "k", "h", rejected)],
        ))?;
        // No events: empty ranges, first = last + 1, head still 0.
        ensure!(outcome.is_empty(), "no events expected, got {outcome:?}");
        ensure_eq!(
            (outcome.first_seq, outcome.last_seq),
            (1, 0),
            "empty seq range"
        );
        ensure_eq!(store.tenant_head(&acme)?, 0, "head");
        ensure_eq!(
            store.idempotency(&acme, "k", "h")?,
            IdempotencyLookup::Same {
                response: rejected.to_string()
            },
            "lookup"
        );
        match store.append(&request(
            &acme,
            0,
            vec![keyed(Vec::new(), "k", "h", "again")],
        )) {
            Err(StoreError::DuplicateIdempotencyKey { response, .. }) => {
                ensure_eq!(response, rejected, "saved response")
            }
            other => {
                return Err(Fail(format!(
                    "expected DuplicateIdempotencyKey, got {other:?}"
                )));
            }
        }
        // Mixed with a successful command, the rejection costs no seq.
        let outcome = store.append(&request(
            &acme,
            0,
            vec![
                keyed(Vec::new(), "k2", "h", rejected),
                keyed(vec![event("s", 1)], "k3", "h", "ok"),
            ],
        ))?;
        ensure_eq!((outcome.first_seq, outcome.last_seq), (1, 1), "seq range");
        Ok(())
    }

    pub(super) fn read_tenant_pages_return_every_event_once_in_order(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        // 3 requests of 4 events for acme, interleaved with single events for globex.
        for round in 0..3u64 {
            store.append(&request(
                &acme,
                round * 4,
                vec![command((0..4).map(|n| event("a", n)).collect())],
            ))?;
            store.append(&request(&globex, round, vec![command(vec![event("g", 0)])]))?;
        }
        for page_size in [1, 5, 12, 100] {
            let mut seen = Vec::new();
            let mut after = 0;
            loop {
                let page = store.read_tenant(&acme, after, page_size)?;
                ensure!(
                    page.len() <= page_size,
                    "page of {} exceeds limit {page_size}",
                    page.len()
                );
                let Some(last) = page.last() else { break };
                after = last.seq;
                ensure!(
                    page.iter().all(|e| e.tenant == acme),
                    "another tenant's event leaked"
                );
                seen.extend(seqs(&page));
            }
            ensure_eq!(
                seen,
                (1..=12).collect::<Vec<u64>>(),
                "seqs with page size {page_size}"
            );
        }
        ensure_eq!(
            store.read_tenant(&acme, 12, 10)?.len(),
            0,
            "nothing after the head"
        );
        ensure_eq!(
            store.read_tenant(&acme, u64::MAX, 10)?.len(),
            0,
            "nothing after u64::MAX"
        );
        ensure_eq!(store.read_tenant(&acme, 0, 0)?.len(), 0, "limit 0");
        Ok(())
    }

    pub(super) fn read_all_pages_return_every_event_once_in_position_order(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        // 7 acme + 5 globex = 12 events.
        append_singles(store, &acme, "a", 3)?;
        append_singles(store, &globex, "g", 5)?;
        append_singles(store, &acme, "a", 4)?;
        for page_size in [1, 5, 12, 100] {
            let mut seen: Vec<StoredEvent> = Vec::new();
            let mut after = 0;
            loop {
                let page = store.read_all(after, page_size)?;
                ensure!(
                    page.len() <= page_size,
                    "page of {} exceeds limit {page_size}",
                    page.len()
                );
                let Some(last) = page.last() else { break };
                after = last.position;
                seen.extend(page);
            }
            ensure_eq!(seen.len(), 12, "events seen with page size {page_size}");
            let all = positions(&seen);
            ensure!(
                all.windows(2).all(|w| w[0] < w[1]),
                "positions not strictly increasing: {all:?}"
            );
            let acme_seqs: Vec<u64> = seen
                .iter()
                .filter(|e| e.tenant == acme)
                .map(|e| e.seq)
                .collect();
            ensure_eq!(
                acme_seqs,
                (1..=7).collect::<Vec<u64>>(),
                "acme seqs in position order"
            );
        }
        ensure_eq!(
            store.read_all(u64::MAX, 10)?.len(),
            0,
            "nothing after u64::MAX"
        );
        Ok(())
    }

    pub(super) fn read_stream_returns_the_stream_in_version_order(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        store.append(&request(
            &acme,
            0,
            vec![command(vec![event("s", 1), event("t", 2), event("s", 3)])],
        ))?;
        store.append(&request(
            &acme,
            3,
            vec![command(vec![event("t", 4), event("s", 5)])],
        ))?;
        let stream = store.read_stream(&acme, "s")?;
        let found: Vec<(u64, u64, String)> = stream
            .iter()
            .map(|e| (e.stream_version, e.seq, e.payload.clone()))
            .collect();
        // s got seq 1, 3 and 5, as versions 1, 2, 3.
        let expected = vec![
            (1, 1, "{\"n\":1}".to_string()),
            (2, 3, "{\"n\":3}".to_string()),
            (3, 5, "{\"n\":5}".to_string()),
        ];
        ensure_eq!(found, expected, "stream s");
        ensure_eq!(
            store.read_stream(&tenant("globex")?, "s")?.len(),
            0,
            "other tenant's stream"
        );
        Ok(())
    }

    pub(super) fn balance_upserts_replace_rows(store: &mut dyn EventStore) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        let mut first = request(&acme, 0, vec![command(vec![event("s", 1)])]);
        first.balances = vec![
            balance("b", "fc1", 10),
            balance("a", "fc2", 3),
            balance("a", "fc1", 7),
        ];
        store.append(&first)?;
        let mut second = request(&acme, 1, vec![command(vec![event("s", 2)])]);
        second.balances = vec![balance("a", "fc1", 2)];
        store.append(&second)?;
        let mut other = request(&globex, 0, vec![command(vec![event("s", 1)])]);
        other.balances = vec![balance("a", "fc1", 99)];
        store.append(&other)?;
        // a/fc1 replaced by 2 (not 7 + 2); sorted by item then location.
        ensure_eq!(
            store.balances(&acme)?,
            vec![
                balance("a", "fc1", 2),
                balance("a", "fc2", 3),
                balance("b", "fc1", 10)
            ],
            "acme balances"
        );
        ensure_eq!(
            store.balances(&globex)?,
            vec![balance("a", "fc1", 99)],
            "globex balances"
        );
        Ok(())
    }

    pub(super) fn a_request_without_commands_is_a_no_op(
        store: &mut dyn EventStore,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        append_singles(store, &acme, "s", 2)?;
        let outcome = store.append(&request(&acme, 2, Vec::new()))?;
        ensure!(
            outcome.is_empty(),
            "expected an empty outcome, got {outcome:?}"
        );
        ensure_eq!(
            (outcome.first_seq, outcome.last_seq),
            (3, 2),
            "empty seq range at the head"
        );
        ensure_eq!(outcome.last_position, 2, "last position");
        expect_nothing_appended(store, &acme, 2, 2)?;
        let globex = tenant("globex")?;
        store.append(&request(&globex, 0, Vec::new()))?;
        ensure_eq!(
            store.tenants()?,
            vec![acme],
            "a no-op does not create a tenant"
        );
        Ok(())
    }

    fn key(tenant: &TenantId, key_id: &str, created_at: Timestamp) -> KeyRecord {
        KeyRecord {
            tenant: tenant.clone(),
            key_id: key_id.to_string(),
            role: "operator".to_string(),
            label: format!("{key_id} label"),
            secret_hash: format!("hash-of-{key_id}"),
            created_at,
            revoked_at: None,
            requests_per_second: None,
        }
    }

    fn registered(tenant: &TenantId, at: Timestamp) -> TenantRecord {
        TenantRecord {
            tenant: tenant.clone(),
            name: format!("{tenant} Inc."),
            created_at: at,
        }
    }

    pub(super) fn tenants_and_keys_register_once_and_stay_with_their_tenant(
        store: &mut dyn Store,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        ensure_eq!(store.registered_tenant(&acme)?, None, "before registering");
        ensure!(
            matches!(
                store.insert_key(&key(&acme, "k1", T0)),
                Err(StoreError::NotFound { .. })
            ),
            "a key of an unregistered tenant must be refused as not found"
        );
        // Registered out of order; listed by id.
        store.register_tenant(&registered(&globex, T0))?;
        store.register_tenant(&registered(&acme, T1))?;
        ensure!(
            matches!(
                store.register_tenant(&registered(&acme, T1)),
                Err(StoreError::AlreadyExists { .. })
            ),
            "registering twice must be refused as already existing"
        );
        ensure_eq!(
            store.registered_tenants()?,
            vec![registered(&acme, T1), registered(&globex, T0)],
            "registered tenants, by id"
        );
        ensure_eq!(
            store.registered_tenant(&acme)?,
            Some(registered(&acme, T1)),
            "one registered tenant"
        );
        // Created later but inserted first: listed after.
        store.insert_key(&key(&acme, "k2", T1))?;
        store.insert_key(&key(&acme, "k1", T0))?;
        store.insert_key(&key(&globex, "g1", T0))?;
        ensure!(
            matches!(
                store.insert_key(&key(&globex, "k1", T1)),
                Err(StoreError::AlreadyExists { .. })
            ),
            "a key id is unique across tenants"
        );
        let ids = |keys: Vec<KeyRecord>| keys.into_iter().map(|k| k.key_id).collect::<Vec<_>>();
        ensure_eq!(ids(store.keys(&acme)?), vec!["k1", "k2"], "acme's keys");
        ensure_eq!(ids(store.keys(&globex)?), vec!["g1"], "globex's keys");
        ensure_eq!(
            store.find_key("k2")?,
            Some(key(&acme, "k2", T1)),
            "a key found by id, whole"
        );
        ensure_eq!(store.find_key("nope")?, None, "an unknown key id");
        Ok(())
    }

    fn session(
        id_hash: &str,
        tenant: &TenantId,
        key_id: &str,
        expires_at: Timestamp,
    ) -> SessionRecord {
        SessionRecord {
            id_hash: id_hash.to_string(),
            tenant: tenant.clone(),
            key_id: key_id.to_string(),
            csrf: format!("csrf-of-{id_hash}"),
            created_at: T0,
            expires_at,
        }
    }

    pub(super) fn sessions_live_until_they_expire_or_close(
        store: &mut dyn Store,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let at = |seconds: i64| Timestamp::constant(1_700_000_000 + seconds, 0);
        store.register_tenant(&registered(&acme, T0))?;
        store.insert_key(&key(&acme, "k1", T0))?;
        store.insert_key(&key(&acme, "k2", T0))?;
        ensure!(
            matches!(
                store.open_session(&session("s0", &acme, "nope", at(100)), 3),
                Err(StoreError::NotFound { .. })
            ),
            "a session of an unknown key must be refused as not found"
        );
        store.open_session(&session("s1", &acme, "k1", at(100)), 3)?;
        ensure!(
            matches!(
                store.open_session(&session("s1", &acme, "k1", at(200)), 3),
                Err(StoreError::AlreadyExists { .. })
            ),
            "an id hash is opened once"
        );
        ensure_eq!(
            store.find_session("s1", at(99))?,
            Some(session("s1", &acme, "k1", at(100))),
            "a live session, whole"
        );
        ensure_eq!(
            store.find_session("s1", at(100))?,
            None,
            "expired at its expiry"
        );
        ensure_eq!(
            store.find_session("nope", at(0))?,
            None,
            "an unknown session"
        );
        ensure!(store.extend_session("s1", at(500))?, "extended");
        ensure!(
            !store.extend_session("nope", at(500))?,
            "an unknown session is not extended"
        );
        ensure_eq!(
            store.find_session("s1", at(400))?.map(|s| s.expires_at),
            Some(at(500)),
            "live until its new expiry"
        );
        // k1 may hold 3: s1 (500), s2 (300), s3 (400); a fourth closes s2, the soonest to
        // expire. k2's session is never counted against k1.
        store.open_session(&session("k2s", &acme, "k2", at(50)), 3)?;
        store.open_session(&session("s2", &acme, "k1", at(300)), 3)?;
        store.open_session(&session("s3", &acme, "k1", at(400)), 3)?;
        store.open_session(&session("s4", &acme, "k1", at(600)), 3)?;
        let live = |store: &dyn Store, ids: &[&str]| -> Result<Vec<String>, Fail> {
            let mut found = Vec::new();
            for id in ids {
                if store.find_session(id, at(0))?.is_some() {
                    found.push((*id).to_string());
                }
            }
            Ok(found)
        };
        let all = ["s1", "s2", "s3", "s4", "k2s"];
        ensure_eq!(
            live(store, &all)?,
            vec!["s1", "s3", "s4", "k2s"],
            "the key's session expiring soonest made room"
        );
        ensure!(store.close_session("s3")?, "closed");
        ensure!(!store.close_session("s3")?, "closing again finds nothing");
        // At 500: k2s (50) and s1 (500) have expired; s4 (600) has not.
        ensure_eq!(store.purge_sessions(at(500))?, 2, "expired sessions purged");
        ensure_eq!(live(store, &all)?, vec!["s4"], "only the live one is left");
        Ok(())
    }

    pub(super) fn keys_are_revoked_and_rated_only_by_their_tenant(
        store: &mut dyn Store,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        store.register_tenant(&registered(&acme, T0))?;
        store.register_tenant(&registered(&globex, T0))?;
        store.insert_key(&key(&acme, "k1", T0))?;
        ensure!(
            !store.revoke_key(&globex, "k1", T1)?,
            "another tenant cannot revoke acme's key"
        );
        ensure_eq!(
            store.find_key("k1")?.and_then(|k| k.revoked_at),
            None,
            "not revoked"
        );
        ensure!(store.revoke_key(&acme, "k1", T1)?, "acme revokes its key");
        let later = Timestamp::constant(1_700_000_200, 0);
        ensure!(
            store.revoke_key(&acme, "k1", later)?,
            "revoking again still finds it"
        );
        ensure_eq!(
            store.find_key("k1")?.and_then(|k| k.revoked_at),
            Some(T1),
            "the first revocation time stays"
        );
        ensure!(
            !store.set_key_rate(&globex, "k1", Some(5))?,
            "another tenant cannot rate acme's key"
        );
        ensure!(
            store.set_key_rate(&acme, "k1", Some(5))?,
            "acme rates its key"
        );
        ensure_eq!(
            store.find_key("k1")?.and_then(|k| k.requests_per_second),
            Some(5),
            "the key's own rate"
        );
        ensure!(
            store.set_key_rate(&acme, "k1", None)?,
            "acme clears the rate"
        );
        ensure_eq!(
            store.find_key("k1")?.and_then(|k| k.requests_per_second),
            None,
            "the rate cleared"
        );
        ensure!(
            !store.set_key_rate(&acme, "nope", Some(1))?,
            "an unknown key is not rated"
        );
        Ok(())
    }

    fn at(name: &str, stream: &str, time: Timestamp) -> NewEvent {
        NewEvent {
            stream: stream.to_string(),
            event_type: name.to_string(),
            schema_version: 1,
            business_time: time,
            payload: "{}".to_string(),
        }
    }

    pub(super) fn streams_of_a_kind_page_in_name_order_with_their_times(
        store: &mut dyn Store,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        let globex = tenant("globex")?;
        let t = |seconds: i64| Timestamp::constant(1_700_000_000 + seconds, 0);
        // so/B first at t(5) then again at t(9) and t(7): its latest event (by version) is
        // at t(7). `sox/…` and `s/…` share a prefix with `so` but are other kinds.
        store.append(&request(
            &acme,
            0,
            vec![
                command(vec![
                    at("Placed", "so/B", t(5)),
                    at("Placed", "sox/A", t(1)),
                ]),
                command(vec![at("Placed", "so/A", t(3)), at("Placed", "s/A", t(1))]),
                command(vec![
                    at("Shipped", "so/B", t(9)),
                    at("Placed", "so/C", t(4)),
                ]),
                command(vec![at("Paid", "so/B", t(7))]),
            ],
        ))?;
        store.append(&request(
            &globex,
            0,
            vec![command(vec![at("Placed", "so/Z", t(2))])],
        ))?;
        ensure_eq!(
            store.streams_of_kind(&acme, "so", None, 2)?,
            vec!["so/A", "so/B"],
            "first page"
        );
        ensure_eq!(
            store.streams_of_kind(&acme, "so", Some("so/B"), 2)?,
            vec!["so/C"],
            "second page"
        );
        ensure_eq!(
            store.streams_of_kind(&acme, "po", None, 10)?,
            Vec::<String>::new(),
            "a kind without streams"
        );
        ensure_eq!(
            store.streams_of_kind(&tenant("nobody")?, "so", None, 10)?,
            Vec::<String>::new(),
            "a tenant without events"
        );
        let summary = |id: &str, created: i64, updated: i64| StreamSummary {
            id: id.to_string(),
            created: t(created),
            updated: t(updated),
        };
        ensure_eq!(
            store.stream_summaries(&acme, "so")?,
            vec![summary("A", 3, 3), summary("B", 5, 7), summary("C", 4, 4)],
            "summaries"
        );
        ensure_eq!(
            store.stream_summaries(&globex, "so")?,
            vec![summary("Z", 2, 2)],
            "globex's summaries"
        );
        Ok(())
    }

    pub(super) fn the_latest_business_time_is_the_last_events(
        store: &mut dyn Store,
    ) -> Result<(), Fail> {
        let acme = tenant("acme")?;
        ensure_eq!(store.latest_business_time(&acme)?, None, "no events");
        let later = Timestamp::constant(1_700_000_900, 0);
        store.append(&request(
            &acme,
            0,
            vec![command(vec![at("A", "s/1", later), at("B", "s/1", T1)])],
        ))?;
        ensure_eq!(
            store.latest_business_time(&acme)?,
            Some(T1),
            "the last event's business time"
        );
        Ok(())
    }

    pub(super) fn snapshots_read_back_as_saved_and_the_latest_replaces_the_one_before(
        store: &mut dyn Store,
    ) -> Result<(), Fail> {
        let (acme, other) = (tenant("acme")?, tenant("other")?);
        ensure_eq!(
            store.load_snapshot(&acme, "writer")?,
            None,
            "before any save"
        );
        // Every byte value, so a backend that treats snapshots as text fails.
        let first: Vec<u8> = (0..=255_u8).cycle().take(1_000).collect();
        let second = vec![7_u8; 3];
        store.save_snapshot(&acme, "writer", &first)?;
        ensure_eq!(
            store.load_snapshot(&acme, "writer")?,
            Some(first.clone()),
            "the saved bytes"
        );
        ensure_eq!(
            store.load_snapshot(&acme, "scorecard")?,
            None,
            "another projection of the same tenant"
        );
        ensure_eq!(
            store.load_snapshot(&other, "writer")?,
            None,
            "the same projection of another tenant"
        );
        store.save_snapshot(&other, "writer", &second)?;
        store.save_snapshot(&acme, "writer", &second)?;
        ensure_eq!(
            store.load_snapshot(&acme, "writer")?,
            Some(second.clone()),
            "the latest save, shorter than the one it replaced"
        );
        ensure_eq!(
            store.load_snapshot(&other, "writer")?,
            Some(second),
            "the other tenant's own"
        );
        Ok(())
    }
}
