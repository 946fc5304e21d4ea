//! Trains the store's compression dictionary (`crates/flowline-store/dictionary/payload.dict`)
//! from what the benchmarks write, and checks that the committed file is what training gives.
//!
//! ```text
//! cargo test -p flowline-cli --bin flowline -- --ignored --nocapture the_payload_dictionary_is_reproducible
//! FLOWLINE_WRITE_DICTIONARY=1 cargo test -p flowline-cli --bin flowline -- --ignored the_payload_dictionary_is_reproducible
//! ```
//!
//! The first checks, the second writes the file. `dictionary/README.md` says what goes in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail by panicking.

use flowline_core::id::{LocationId, TenantId};
use flowline_engine::workload::{self, Lcg, OrderScript};
use flowline_engine::{Engine, EngineOptions, Submission};
use jiff::{SignedDuration, Timestamp};
use std::path::PathBuf;
use zstd_safe::{CCtx, CDict, CParameter};

/// The dictionary's size. Measured on the held-out samples, 16 KiB and 64 KiB stored the
/// events within 2 bytes of 32 KiB (ledger 50 and 48 bytes against 49, metrics 37 and 39
/// against 38) and the responses in 96 and 103 bytes against 103.
const CAPACITY: usize = 32 * 1024;

/// Items in the ledger and response samples, as in `flowline bench ledger`.
const ITEMS: usize = 1_000;

/// The samples, by kind: about 2 MB of the ledger benchmark's event payloads, 1.4 MB of the
/// metrics benchmark's and 3.5 MB of stored responses, over 100 times the dictionary's size as
/// zstd advises. With a third as many responses, the dictionary stored them in 338 bytes
/// instead of 103.
fn samples(seed: u64) -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            "ledger events",
            // The setup's 1,000 item definitions and receipts, then about 3,000 order events.
            crate::bench::sample_payloads(seed, ITEMS, 3_000).unwrap(),
        ),
        (
            "metrics events",
            crate::bench_metrics::sample_payloads(seed, 800).unwrap(),
        ),
        ("stored responses", responses(seed, 3_000)),
    ]
}

/// The outcomes the engine stores for idempotency keys, as the API asks for them (with the
/// changed document rendered): the ledger workload's setup and orders until `count` commands.
fn responses(seed: u64, count: usize) -> Vec<String> {
    let engine = Engine::open(crate::backend::memory(), EngineOptions::default()).unwrap();
    let tenant = TenantId::parse("bench").unwrap();
    let center = LocationId::parse("FC-CENTRAL").unwrap();
    let start = Timestamp::from_second(1_735_689_600).unwrap();
    let mut rng = Lcg::new(seed);
    let mut commands = workload::setup(ITEMS, 1_000_000_000);
    let mut number = 0;
    while commands.len() < count + ITEMS * 2 {
        number += 1;
        let script = OrderScript::random("SO", number, ITEMS, &mut rng);
        commands.push(script.place());
        commands.extend(script.fulfil(&center));
    }
    // The setup's commands stand for a small share: most stored responses are of orders.
    let skip = commands.len() - count;
    let mut responses = Vec::with_capacity(count);
    for (index, command) in commands.into_iter().enumerate() {
        let submission = Submission::new(command)
            .at(start + SignedDuration::from_secs(index as i64))
            .key(format!("key-{index}"))
            .rendering();
        let answer = engine.submit(&tenant, submission).unwrap();
        if index >= skip || index % 20 == 0 {
            responses.push(serde_json::to_string(&answer.outcome).unwrap());
        }
    }
    engine.shutdown();
    responses
}

fn train(samples: &[(&str, Vec<String>)]) -> Vec<u8> {
    let texts = samples.iter().flat_map(|(_, texts)| texts);
    let sizes: Vec<usize> = texts.clone().map(String::len).collect();
    let buffer: Vec<u8> = texts.flat_map(|text| text.bytes()).collect();
    let mut dictionary = Vec::with_capacity(CAPACITY);
    zstd_safe::train_from_buffer(&mut dictionary, &buffer, &sizes)
        .map_err(zstd_safe::get_error_name)
        .unwrap();
    dictionary
}

/// The mean size of the texts, and of their stored form (a zstd frame at level 3 without magic
/// number, checksum or dictionary id, plus the store's byte naming the dictionary).
fn mean_sizes(dictionary: &[u8], texts: &[String]) -> (f64, f64) {
    let prepared = CDict::create(dictionary, 3);
    let mut compressor = CCtx::create();
    compressor.ref_cdict(&prepared).unwrap();
    compressor
        .set_parameter(CParameter::ChecksumFlag(false))
        .unwrap();
    compressor
        .set_parameter(CParameter::DictIdFlag(false))
        .unwrap();
    let mut frame = Vec::new();
    let (mut raw, mut stored) = (0, 0);
    for text in texts {
        frame.clear();
        frame.reserve(zstd_safe::compress_bound(text.len()));
        let written = compressor.compress2(&mut frame, text.as_bytes()).unwrap();
        raw += text.len();
        stored += (written - 3).min(text.len() + 1);
    }
    let count = texts.len().max(1) as f64;
    (raw as f64 / count, stored as f64 / count)
}

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../flowline-store/dictionary/payload.dict")
}

#[test]
#[ignore = "generates and trains for about 10 s; run when events or responses change shape"]
fn the_payload_dictionary_is_reproducible() {
    let dictionary = train(&samples(7));
    assert_eq!(dictionary.len(), CAPACITY);
    let path = committed_path();
    let committed = std::fs::read(&path).unwrap_or_default();
    // Measured on other orders than the ones trained on.
    for (kind, texts) in samples(8) {
        let (raw, stored) = mean_sizes(&dictionary, &texts);
        let (_, with_committed) = mean_sizes(&committed, &texts);
        let (_, alone) = mean_sizes(&[], &texts);
        eprintln!(
            "{kind}: {} samples, {raw:.0} bytes of JSON → {stored:.0} stored \
             ({with_committed:.0} with the committed dictionary, {alone:.0} without one)",
            texts.len()
        );
    }
    if std::env::var_os("FLOWLINE_WRITE_DICTIONARY").is_some() {
        std::fs::write(&path, &dictionary).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    assert!(
        committed == dictionary,
        "{} is not what training gives; set FLOWLINE_WRITE_DICTIONARY=1 to rewrite it",
        path.display()
    );
}
