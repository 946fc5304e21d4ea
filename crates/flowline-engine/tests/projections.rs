//! The projection runner: restore from a snapshot then fold the tail, catch up after a gap, and
//! rebuild from the log whenever a snapshot cannot be trusted, with the same answer every time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::Event;
use flowline_core::id::TenantId;
use flowline_core::projection::{Position, Projection};
use flowline_engine::projections::{self, Origin, Reached, Tracked};
use flowline_engine::{Engine, EngineOptions, Submission, workload};
use flowline_store::{SharedBackend, SnapshotError, Store};
use flowline_store_sqlite::{OpenOptions, SqliteBackend, snapshot_directory};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// A projection simple enough to be worked out by hand: how many events of each type, the sum
/// of their sequence numbers, and the first and last business times.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Tally {
    by_type: BTreeMap<String, u64>,
    seq_sum: u64,
    first_seen: Option<jiff::Timestamp>,
    last_seen: Option<jiff::Timestamp>,
}

impl Projection for Tally {
    const NAME: &'static str = "tally";
    const VERSION: u32 = 1;

    fn apply(&mut self, position: Position, event: &Event) {
        *self
            .by_type
            .entry(event.type_name().to_owned())
            .or_default() += 1;
        self.seq_sum += position.seq;
        self.first_seen = self.first_seen.or(Some(position.business_time));
        self.last_seen = Some(position.business_time);
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(self).map_err(|error| error.to_string())
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }
}

/// The same projection at the next version: its snapshots are not [`Tally`]'s.
#[derive(Debug, Default)]
struct TallyNext(Tally);

impl Projection for TallyNext {
    const NAME: &'static str = "tally";
    const VERSION: u32 = 2;

    fn apply(&mut self, position: Position, event: &Event) {
        self.0.apply(position, event);
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        self.0.encode()
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        Tally::decode(bytes).map(Self)
    }
}

struct Log {
    _dir: tempfile::TempDir,
    path: PathBuf,
    backend: SharedBackend,
}

impl Log {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowline.db");
        let backend = SqliteBackend::shared(&path, OpenOptions::durable()).unwrap();
        Self {
            _dir: dir,
            path,
            backend,
        }
    }

    /// Records the workload's set-up (the first call) and `orders` more orders.
    fn record(&self, from: u64, orders: u64) {
        let engine = Engine::open(
            self.backend.clone(),
            EngineOptions {
                snapshot_every_events: None,
                ..EngineOptions::default()
            },
        )
        .unwrap();
        if from == 0 {
            for command in workload::setup(4, 1_000) {
                engine.submit(&tenant(), Submission::new(command)).unwrap();
            }
        }
        let mut rng = workload::Lcg::new(from);
        for number in from..from + orders {
            let order = workload::OrderScript::random("SO", number, 4, &mut rng);
            engine
                .submit(&tenant(), Submission::new(order.place()))
                .unwrap();
        }
        engine.shutdown();
    }

    fn store(&self) -> Box<dyn Store> {
        self.backend.open_reader().unwrap()
    }

    fn snapshot_file(&self) -> PathBuf {
        snapshot_directory(&self.path)
            .join("acme")
            .join("tally.snapshot")
    }
}

/// The tally folded from nothing.
fn from_nothing(store: &dyn Store) -> Tracked<Tally> {
    let mut tracked = Tracked {
        projection: Tally::default(),
        head: 0,
    };
    let reached =
        projections::catch_up(store, &tenant(), &mut tracked, &|| false, &mut |_| {}).unwrap();
    assert_eq!(reached, Reached::End);
    tracked
}

/// Restores the tally and folds the tail.
fn restored(store: &dyn Store) -> (Tracked<Tally>, Origin) {
    let (mut tracked, origin) =
        projections::restore(store, &tenant(), Tally::default, |_| Ok(())).unwrap();
    projections::catch_up(store, &tenant(), &mut tracked, &|| false, &mut |_| {}).unwrap();
    (tracked, origin)
}

fn encoded(tracked: &Tracked<Tally>) -> Vec<u8> {
    tracked.projection.encode().unwrap()
}

#[test]
fn a_tally_restored_from_a_snapshot_and_fed_the_tail_equals_one_folded_from_nothing() {
    let log = Log::new();
    log.record(0, 30);
    let store = log.store();
    let first = from_nothing(store.as_ref());
    let snapshot_head = first.head;
    projections::save(store.as_ref(), &tenant(), &first.projection, first.head).unwrap();
    log.record(30, 20);

    let store = log.store();
    let (tracked, origin) = restored(store.as_ref());
    assert_eq!(
        origin,
        Origin::Snapshot {
            head: snapshot_head
        }
    );
    let full = from_nothing(store.as_ref());
    // Worked independently: events are numbered 1..=head without gaps, so their sequence
    // numbers sum to head × (head + 1) / 2 whichever way they were folded; and 50 orders
    // were placed, one `SalesOrderPlaced` each.
    assert_eq!(tracked.head, full.head);
    assert_eq!(tracked.projection.seq_sum, full.head * (full.head + 1) / 2);
    assert_eq!(
        tracked.projection.by_type.get("SalesOrderPlaced"),
        Some(&50)
    );
    assert_eq!(encoded(&tracked), encoded(&full));
}

#[test]
fn catching_up_after_a_gap_folds_only_the_new_events() {
    let log = Log::new();
    log.record(0, 10);
    let store = log.store();
    let mut tracked = from_nothing(store.as_ref());
    let before = tracked.head;
    log.record(10, 5);
    let mut applied = 0;
    let mut pages = 0;
    // Counting what a second catch-up applies: only the events recorded since.
    let mut counting = Tracked {
        projection: Tally::default(),
        head: before,
    };
    projections::catch_up(
        store.as_ref(),
        &tenant(),
        &mut counting,
        &|| false,
        &mut |_| pages += 1,
    )
    .unwrap();
    applied += counting.projection.by_type.values().sum::<u64>();
    projections::catch_up(
        store.as_ref(),
        &tenant(),
        &mut tracked,
        &|| false,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(applied, tracked.head - before);
    assert_eq!(
        counting.projection.by_type.get("SalesOrderPlaced"),
        Some(&5)
    );
    assert_eq!(pages, 1);
    assert_eq!(encoded(&tracked), encoded(&from_nothing(store.as_ref())));
    // Asked to stop, it stops before reading anything.
    let mut stopped = Tracked {
        projection: Tally::default(),
        head: 0,
    };
    let reached = projections::catch_up(
        store.as_ref(),
        &tenant(),
        &mut stopped,
        &|| true,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((reached, stopped.head), (Reached::Stopped, 0));
}

/// Saves a good snapshot, damages it with `damage`, then restores: the snapshot must be
/// ignored for the reason `expected` accepts, and the rebuilt tally must equal a fold from
/// nothing byte for byte.
fn ignored_and_rebuilt(
    damage: impl FnOnce(&Log, &dyn Store),
    expected: impl FnOnce(&SnapshotError) -> bool,
) {
    let log = Log::new();
    log.record(0, 12);
    let store = log.store();
    let first = from_nothing(store.as_ref());
    projections::save(store.as_ref(), &tenant(), &first.projection, first.head).unwrap();
    damage(&log, store.as_ref());
    let (tracked, origin) = restored(store.as_ref());
    match &origin {
        Origin::Ignored(error) => assert!(expected(error), "ignored for another reason: {error}"),
        other => panic!("the damaged snapshot was not ignored: {other:?}"),
    }
    assert_eq!(encoded(&tracked), encoded(&from_nothing(store.as_ref())));
}

fn rewrite(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    change(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_snapshot_with_one_byte_flipped_is_ignored_and_rebuilt() {
    ignored_and_rebuilt(
        |log, _| {
            rewrite(&log.snapshot_file(), |bytes| {
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x01;
            })
        },
        |error| matches!(error, SnapshotError::Checksum { .. }),
    );
}

#[test]
fn a_truncated_snapshot_is_ignored_and_rebuilt() {
    ignored_and_rebuilt(
        |log, _| {
            rewrite(&log.snapshot_file(), |bytes| {
                bytes.truncate(bytes.len() - 9)
            })
        },
        |error| matches!(error, SnapshotError::Truncated { .. }),
    );
}

#[test]
fn a_snapshot_of_another_version_is_ignored_and_rebuilt() {
    ignored_and_rebuilt(
        |_, store| {
            let mut next = TallyNext::default();
            next.0.seq_sum = 999;
            let head = store.tenant_head(&tenant()).unwrap();
            projections::save(store, &tenant(), &next, head).unwrap();
        },
        |error| {
            matches!(
                error,
                SnapshotError::Foreign {
                    found_version: 2,
                    wanted_version: 1,
                    ..
                }
            )
        },
    );
}

#[test]
fn a_snapshot_ahead_of_the_log_is_ignored_and_rebuilt() {
    ignored_and_rebuilt(
        |_, store| {
            let head = store.tenant_head(&tenant()).unwrap();
            let tally = Tally::default();
            projections::save(store, &tenant(), &tally, head + 5).unwrap();
        },
        |error| matches!(error, SnapshotError::AheadOfLog { .. }),
    );
}

#[test]
fn a_snapshot_left_beside_another_log_is_ignored_and_rebuilt() {
    ignored_and_rebuilt(
        |log, _| {
            // Another log recorded the same commands at other times: same numbering, other
            // events. Its snapshot is copied over this log's.
            let other = Log::new();
            other.record(0, 12);
            let store = other.store();
            let tally = from_nothing(store.as_ref());
            projections::save(store.as_ref(), &tenant(), &tally.projection, tally.head).unwrap();
            std::fs::copy(other.snapshot_file(), log.snapshot_file()).unwrap();
        },
        |error| matches!(error, SnapshotError::OtherLog { .. }),
    );
}

#[test]
fn a_snapshot_that_cannot_be_read_is_ignored_and_rebuilt() {
    ignored_and_rebuilt(
        |log, _| {
            // Something that is not a file where the snapshot should be.
            let file = log.snapshot_file();
            std::fs::remove_file(&file).unwrap();
            std::fs::create_dir(&file).unwrap();
        },
        |error| matches!(error, SnapshotError::Unreadable(_)),
    );
}

#[test]
fn a_snapshot_refused_by_the_caller_is_ignored_and_rebuilt() {
    let log = Log::new();
    log.record(0, 3);
    let store = log.store();
    let first = from_nothing(store.as_ref());
    projections::save(store.as_ref(), &tenant(), &first.projection, first.head).unwrap();
    let (tracked, origin) = projections::restore(store.as_ref(), &tenant(), Tally::default, |_| {
        Err("taken with other settings".to_owned())
    })
    .unwrap();
    assert_eq!(tracked.head, 0);
    assert_eq!(
        origin,
        Origin::Ignored(SnapshotError::Payload("taken with other settings".into()))
    );
}

/// Remembers where each writer's state came from.
#[derive(Default)]
struct Origins(std::sync::Mutex<Vec<(Origin, u64)>>);

impl flowline_engine::Observer for Origins {
    fn committed(&self, _: &TenantId, _: u64, _: usize, _: usize) {}

    fn restored(&self, _: &TenantId, origin: &Origin, head: u64, _: std::time::Duration) {
        self.0.lock().unwrap().push((origin.clone(), head));
    }
}

/// Opens an engine on the log with the default snapshot schedule, starts the tenant's writer
/// and returns where its state came from, with the state's canonical encoding once every
/// settled document has left it (the writer lets them go when it likes; they come back from
/// the log when named).
fn writer_started(log: &Log) -> (Origin, u64, String) {
    let origins = std::sync::Arc::new(Origins::default());
    let engine = Engine::open(
        log.backend.clone(),
        EngineOptions {
            observer: Some(origins.clone()),
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let canonical = engine
        .query(&tenant(), |state| {
            let mut state = state.clone();
            flowline_core::retention::evict_settled(&mut state, jiff::Timestamp::MAX);
            flowline_core::snapshot::canonical(&state)
        })
        .unwrap();
    engine.shutdown();
    let (origin, head) = origins.0.lock().unwrap()[0].clone();
    (origin, head, canonical)
}

/// The state replayed from the whole log, in the same canonical form.
fn replayed(log: &Log) -> (u64, String) {
    let store = log.store();
    let (mut state, head) = flowline_engine::replay(store.as_ref(), &tenant()).unwrap();
    flowline_core::retention::evict_settled(&mut state, jiff::Timestamp::MAX);
    (head, flowline_core::snapshot::canonical(&state))
}

fn writer_snapshot_file(log: &Log) -> PathBuf {
    snapshot_directory(&log.path)
        .join("acme")
        .join("writer.snapshot")
}

#[test]
fn a_stopped_writer_leaves_a_snapshot_that_the_next_start_restores_and_check_verifies() {
    let log = Log::new();
    log.record(0, 40);
    // The first start has no snapshot; it saves one when it stops.
    let (origin, head, _) = writer_started(&log);
    assert_eq!(origin, Origin::Nothing);
    assert!(writer_snapshot_file(&log).exists());
    // More orders, recorded without snapshots: the snapshot is now behind the log.
    log.record(40, 25);
    let (origin, restored_head, canonical) = writer_started(&log);
    assert_eq!(origin, Origin::Snapshot { head });
    let (replay_head, replay) = replayed(&log);
    assert_eq!(restored_head, replay_head);
    assert_eq!(canonical, replay);
    // `flowline check` compares the latest snapshot (saved by that second stop) with a replay.
    let store = log.store();
    let report = flowline_engine::check::check(store.as_ref()).unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    assert!(matches!(
        report.snapshots.as_slice(),
        [(_, name, projections::Verdict::Equal { head, .. })] if name == "writer" && *head == replay_head
    ));
}

#[test]
fn a_damaged_writer_snapshot_is_ignored_and_the_state_rebuilt_from_the_log_is_the_same() {
    let log = Log::new();
    log.record(0, 20);
    writer_started(&log);
    log.record(20, 10);
    rewrite(&writer_snapshot_file(&log), |bytes| {
        let last = bytes.len() - 1;
        bytes[last / 3] ^= 0x40;
    });
    let (origin, _, canonical) = writer_started(&log);
    assert!(
        matches!(origin, Origin::Ignored(SnapshotError::Checksum { .. })),
        "{origin:?}"
    );
    assert_eq!(canonical, replayed(&log).1);
}

#[test]
fn check_reports_a_writer_snapshot_that_differs_from_the_log() {
    let log = Log::new();
    log.record(0, 5);
    let store = log.store();
    let (mut state, head) = flowline_engine::replay(store.as_ref(), &tenant()).unwrap();
    // A snapshot whose state lost an item: well formed, of this log, and wrong.
    let removed = state.items.keys().next().cloned().unwrap();
    state.items.remove(&removed);
    let wrong = flowline_engine::WriterState {
        state,
        started: None,
    };
    projections::save(store.as_ref(), &tenant(), &wrong, head).unwrap();
    let report = flowline_engine::check::check(store.as_ref()).unwrap();
    assert!(
        matches!(
            report.findings.as_slice(),
            [flowline_engine::check::Finding::SnapshotDiffers { head: at, .. }] if *at == head
        ),
        "{:?}",
        report.findings
    );
}

/// A clock stopped at an instant with nanoseconds, which a log keeps only to the microsecond.
struct Stopped(jiff::Timestamp);

impl flowline_engine::Clock for Stopped {
    fn now(&self) -> jiff::Timestamp {
        self.0
    }
}

/// An engine on `backend` whose clock and business times carry nanoseconds.
fn engine_with_nanoseconds(backend: SharedBackend) -> Engine {
    Engine::open(
        backend,
        EngineOptions {
            snapshot_every_events: None,
            clock: std::sync::Arc::new(Stopped("2025-03-01T12:00:00.123456789Z".parse().unwrap())),
            ..EngineOptions::default()
        },
    )
    .unwrap()
}

/// Submits the set-up and `orders` orders placed `at` plus a nanosecond each.
fn submit_orders(engine: &Engine, setup: bool, from: u64, orders: u64) {
    let at: jiff::Timestamp = "2025-03-01T11:00:00.000000001Z".parse().unwrap();
    if setup {
        for command in workload::setup(4, 1_000) {
            engine
                .submit(&tenant(), Submission::new(command).at(at))
                .unwrap();
        }
    }
    let mut rng = workload::Lcg::new(from);
    for number in from..from + orders {
        let order = workload::OrderScript::random("SO", number, 4, &mut rng);
        let at = at + jiff::SignedDuration::from_nanos(i64::try_from(number).unwrap());
        engine
            .submit(&tenant(), Submission::new(order.place()).at(at))
            .unwrap();
    }
}

#[test]
fn a_tally_fed_durable_batches_equals_one_folded_from_the_log_on_both_stores() {
    let file = Log::new();
    for backend in [
        file.backend.clone(),
        flowline_store_memory::MemoryBackend::shared(),
    ] {
        let engine = engine_with_nanoseconds(backend.clone());
        let mut subscription = engine.subscribe(&tenant(), 4_096);
        // The subscriber runs beside the writer, and checks that every batch it is handed is
        // already in the log.
        let reader = backend.open_reader().unwrap();
        let subscriber = std::thread::spawn(move || {
            let mut fed = Tracked {
                projection: Tally::default(),
                head: 0,
            };
            let mut batches = 0;
            while let Some(batch) = subscription.blocking_next() {
                assert!(reader.tenant_head(&tenant()).unwrap() >= batch.last());
                let applied = projections::feed(&mut fed, &batch).unwrap();
                assert_eq!(
                    applied,
                    projections::Fed::Applied(batch.last() - batch.first() + 1)
                );
                batches += 1;
            }
            (fed, batches)
        });
        submit_orders(&engine, true, 0, 20);
        let commands = workload::setup(4, 1_000).len() + 20;
        drop(engine);
        let (fed, batches) = subscriber.join().unwrap();
        // One command at a time, each waited for: one batch each.
        assert_eq!(batches, commands);
        let store = backend.open_reader().unwrap();
        let full = from_nothing(store.as_ref());
        assert_eq!(fed.head, full.head);
        assert_eq!(fed.projection.by_type.get("SalesOrderPlaced"), Some(&20));
        // The first business time as the log keeps it: 11:00:00.000000001 to the microsecond.
        assert_eq!(
            fed.projection.first_seen,
            Some("2025-03-01T11:00:00Z".parse().unwrap())
        );
        assert_eq!(encoded(&fed), encoded(&full));
    }
}

#[test]
fn a_fed_projection_that_missed_batches_finds_the_gap_and_catches_up_from_the_log() {
    let log = Log::new();
    let engine = engine_with_nanoseconds(log.backend.clone());
    submit_orders(&engine, true, 0, 3);
    let store = log.store();
    let mut fed = from_nothing(store.as_ref());
    // Room for one batch, and nobody taking it while six orders are placed: the first is
    // kept, the other five are missed.
    let mut subscription = engine.subscribe(&tenant(), 1);
    submit_orders(&engine, false, 3, 6);
    let first = subscription.try_next().unwrap();
    assert_eq!(first.first(), fed.head + 1);
    assert_eq!(
        projections::feed(&mut fed, &first).unwrap(),
        projections::Fed::Applied(first.last() - first.first() + 1)
    );
    assert!(subscription.try_next().is_none());
    submit_orders(&engine, false, 9, 1);
    let after_gap = subscription.try_next().unwrap();
    assert!(after_gap.first() > fed.head + 1);
    let head_before = fed.head;
    assert_eq!(
        projections::feed(&mut fed, &after_gap).unwrap(),
        projections::Fed::Gap
    );
    assert_eq!(fed.head, head_before, "nothing is applied past a gap");
    projections::catch_up(store.as_ref(), &tenant(), &mut fed, &|| false, &mut |_| {}).unwrap();
    assert_eq!(fed.head, after_gap.last());
    // The batch the log already gave it is not applied twice.
    assert_eq!(
        projections::feed(&mut fed, &after_gap).unwrap(),
        projections::Fed::Applied(0)
    );
    let full = from_nothing(store.as_ref());
    assert_eq!(fed.projection.by_type.get("SalesOrderPlaced"), Some(&10));
    assert_eq!(encoded(&fed), encoded(&full));
    drop(engine);
}
