//! Snapshots of the writer's state and of the scorecard fold, on a short simulated run: a
//! snapshot reads back to the same state, and one taken part way through the log and fed the
//! rest is, byte for byte, what folding the whole log gives, so either can stand in for a
//! replay from the start.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::id::TenantId;
use flowline_core::state::MasterEvent;
use flowline_core::{Event, State, codec, snapshot};
use flowline_metrics::fold::{EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::period::{Day, Range};
use flowline_metrics::scorecard::scorecard;
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, run};
use flowline_store::SharedBackend;
use flowline_store_memory::MemoryBackend;
use jiff::Timestamp;
use std::sync::OnceLock;
use std::time::Instant;

fn tenant() -> TenantId {
    TenantId::parse("demo").unwrap()
}

/// A simulated run and its log, made once for every test here.
struct Run {
    backend: SharedBackend,
    log: Vec<(Event, Timestamp)>,
}

/// Sixteen days of the built-in brand at 45 orders a day: long enough for deliveries, returns,
/// refunds, supplier receipts and bills to reach the log, and for the fold to let settled
/// records go (it sweeps every 4,096 events), short enough to run in seconds.
fn simulated() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut scenario = Scenario::default_brand().scaled(45.0);
        scenario.demand.flash_sales.per_year = 0.0;
        let backend = MemoryBackend::shared();
        let options = Options {
            seed: 5,
            days: 16,
            tenant: tenant(),
        };
        let summary = run(&scenario, &backend, &options, &mut |_| {}).unwrap();
        assert!(summary.refused.is_empty(), "{:?}", summary.refusal_samples);
        let store = backend.open_reader().unwrap();
        let mut log = Vec::new();
        let mut after = 0;
        loop {
            let page = store.read_tenant(&tenant(), after, 10_000).unwrap();
            let Some(last) = page.last() else { break };
            after = last.seq;
            for stored in page {
                let event =
                    Event::from_json(&stored.event_type, stored.schema_version, &stored.payload)
                        .unwrap();
                log.push((event, stored.business_time));
            }
        }
        assert!(log.len() > 4_096, "{} events", log.len());
        Run { backend, log }
    })
}

/// Five cut positions in `1..len`, spread by a fixed seed so they land anywhere in the log, not
/// on round numbers.
fn cuts(len: usize) -> Vec<usize> {
    let mut state = 0x5eed_u64;
    let mut cuts: Vec<usize> = (0..5)
        .map(|_| {
            // SplitMix64.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            1 + usize::try_from(z % (len as u64 - 1)).unwrap()
        })
        .collect();
    cuts.sort_unstable();
    cuts
}

/// Asserts two encodings (or canonical JSON texts) are the same bytes, naming the first
/// difference rather than printing both.
fn assert_same_bytes(expected: &[u8], actual: &[u8], what: &str) {
    if expected == actual {
        return;
    }
    let at = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let window = |bytes: &[u8]| {
        String::from_utf8_lossy(&bytes[at.saturating_sub(40)..(at + 40).min(bytes.len())])
            .into_owned()
    };
    panic!(
        "{what}: the bytes differ from byte {at} (lengths {} and {}):\n  expected …{:?}…\n  actual   …{:?}…",
        expected.len(),
        actual.len(),
        window(expected),
        window(actual)
    );
}

fn state_of(events: &[(Event, Timestamp)]) -> State {
    let mut state = State::default();
    for (event, _) in events {
        flowline_core::apply(&mut state, event);
    }
    state
}

#[test]
fn a_replayed_state_reads_back_from_its_encoding() {
    let run = simulated();
    let store = run.backend.open_reader().unwrap();
    let (state, head) = flowline_engine::replay(store.as_ref(), &tenant()).unwrap();
    assert_eq!(head, run.log.len() as u64);
    assert!(!state.sales_orders.is_empty() && !state.purchase_orders.is_empty());

    let started = Instant::now();
    let bytes = codec::encode(&state).unwrap();
    let encoding = started.elapsed();
    let started = Instant::now();
    let decoded: State = codec::decode(&bytes).unwrap();
    let decoding = started.elapsed();
    eprintln!(
        "State after {} events: {} bytes (canonical JSON {} bytes), encode {encoding:?}, \
         decode {decoding:?}",
        run.log.len(),
        bytes.len(),
        snapshot::canonical(&state).len(),
    );

    assert_same_bytes(
        snapshot::canonical(&state).as_bytes(),
        snapshot::canonical(&decoded).as_bytes(),
        "canonical JSON of the decoded state",
    );
    // Field by field as well: a field left out of the encoding would be left out of both
    // encodings compared, but not out of the state.
    assert!(
        decoded == state,
        "the decoded state differs from the original"
    );
    assert_same_bytes(
        &bytes,
        &codec::encode(&decoded).unwrap(),
        "re-encoded state",
    );
    // The state the engine replays is the one `apply` builds event by event.
    assert_same_bytes(
        &bytes,
        &codec::encode(&state_of(&run.log)).unwrap(),
        "state applied event by event",
    );
}

#[test]
fn a_state_restored_from_a_snapshot_and_fed_the_rest_encodes_as_the_whole_log() {
    let log = &simulated().log;
    let whole_state = state_of(log);
    let whole = codec::encode(&whole_state).unwrap();
    for cut in cuts(log.len()) {
        let taken = codec::encode(&state_of(&log[..cut])).unwrap();
        let mut restored: State = codec::decode(&taken).unwrap();
        for (event, _) in &log[cut..] {
            flowline_core::apply(&mut restored, event);
        }
        let what = format!("state cut after event {cut} of {}", log.len());
        assert_same_bytes(&whole, &codec::encode(&restored).unwrap(), &what);
        assert_same_bytes(
            snapshot::canonical(&whole_state).as_bytes(),
            snapshot::canonical(&restored).as_bytes(),
            &format!("{what}, canonical JSON"),
        );
        assert!(restored == whole_state, "{what}: the states differ");
    }
}

/// The fold's settings as the server makes them from the tenant's configuration.
fn settings(log: &[(Event, Timestamp)]) -> FoldSettings {
    let configured = log.iter().find_map(|(event, _)| match event {
        Event::Master(MasterEvent::TenantConfigured { settings }) => Some(settings),
        _ => None,
    });
    FoldSettings::of_tenant(configured.expect("the log configures the tenant"))
}

fn fold_into(fold: &mut Fold, events: &[(Event, Timestamp)]) {
    for (event, at) in events {
        fold.apply(event, EventTime { at: *at });
    }
}

/// The scorecards of the whole tenant and of every slice the fold holds, over the days the log
/// covers, as JSON.
fn scorecards(fold: &Fold) -> Vec<String> {
    let zone = &fold.settings().reporting;
    let (first, last) = fold.activity().unwrap();
    let range = Range {
        from: Day::of(first, zone),
        to: Day(Day::of(last, zone).0 + 1),
    };
    let as_of = fold.watermark().unwrap();
    let mut slices: Vec<Slice> = fold.buckets().map(|(_, slice, _)| slice.clone()).collect();
    slices.sort();
    slices.dedup();
    assert!(slices.len() > 10, "{} slices", slices.len());
    slices
        .iter()
        .map(|slice| serde_json::to_string(&scorecard(fold, range, slice, as_of)).unwrap())
        .collect()
}

#[test]
fn a_fold_restored_from_a_snapshot_and_fed_the_rest_is_the_fold_of_the_whole_log() {
    let log = &simulated().log;
    let settings = settings(log);
    let mut whole = Fold::new(settings.clone());
    fold_into(&mut whole, log);
    assert!(whole.orders_in_memory() > 0);

    let started = Instant::now();
    let bytes = whole.encode().unwrap();
    let encoding = started.elapsed();
    let started = Instant::now();
    let decoded = Fold::decode(&bytes).unwrap();
    let decoding = started.elapsed();
    eprintln!(
        "Fold after {} events: {} bytes, {} buckets, {} orders in memory, encode {encoding:?}, \
         decode {decoding:?}",
        log.len(),
        bytes.len(),
        whole.bucket_count(),
        whole.orders_in_memory(),
    );
    assert!(
        decoded == whole,
        "the decoded fold differs from the original"
    );
    assert_same_bytes(&bytes, &decoded.encode().unwrap(), "re-encoded fold");

    let cards = scorecards(&whole);
    assert_eq!(scorecards(&decoded), cards);
    for cut in cuts(log.len()) {
        let mut head = Fold::new(settings.clone());
        fold_into(&mut head, &log[..cut]);
        let mut restored = Fold::decode(&head.encode().unwrap()).unwrap();
        fold_into(&mut restored, &log[cut..]);
        let what = format!("fold cut after event {cut} of {}", log.len());
        assert_same_bytes(&bytes, &restored.encode().unwrap(), &what);
        assert!(restored == whole, "{what}: the folds differ");
        assert!(
            scorecards(&restored) == cards,
            "{what}: the scorecards differ"
        );
    }
}
