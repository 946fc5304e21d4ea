//! Fuzzing of scenario files (RELIABILITY R5), as proptest generators in the normal suite
//! (cargo-fuzz needs a nightly toolchain): [`Scenario::parse`] on the shipped scenarios and
//! on overrides of the built-in brand (`base = "default"`, which takes the merge path), damaged
//! byte by byte, with values replaced by numbers at and past their limits, keys written twice,
//! tables and arrays nested deep, odd unicode, a byte order mark and CRLF line ends; and on
//! raw bytes.
//!
//! Asserted: no panic; every error names the file and a location in it (`line L, column C`
//! for syntax, the dotted key for the rest) and says why; a scenario that parses has no
//! problems left; no call takes over [`SLOW`]. Case counts keep this file to about 3 s in a debug
//! build; `FLOWLINE_SOAK=1` multiplies them by 100 and `FLOWLINE_SEED` replays a run. Each target
//! prints its figures on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_sim::scenario::{DEFAULT, Scenario, ScenarioErrors};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

/// The bound on one call: far above what any input takes, so only a pathological one fails it.
const SLOW: Duration = Duration::from_secs(1);

/// The name errors must carry.
const FILE: &str = "fuzz.toml";

fn seed() -> u64 {
    std::env::var("FLOWLINE_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_261_206)
}

/// `base` cases, or 100 times as many with `FLOWLINE_SOAK=1`.
fn cases(base: u32) -> u32 {
    if std::env::var("FLOWLINE_SOAK").is_ok_and(|value| value == "1") {
        base * 100
    } else {
        base
    }
}

fn runner(target: &str, cases: u32) -> TestRunner {
    let seed = seed();
    report(&format!(
        "fuzz {target}: FLOWLINE_SEED={seed}, {cases} cases"
    ));
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = target.len() as u8;
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_time: 30_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Written to stderr directly, so the figures show although the harness captures `println!`.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What one target saw: calls, errors, and the slowest call.
struct Figures {
    target: &'static str,
    calls: u64,
    errors: u64,
    slowest: Duration,
    slowest_input: String,
}

impl Figures {
    fn new(target: &'static str) -> RefCell<Self> {
        RefCell::new(Self {
            target,
            calls: 0,
            errors: 0,
            slowest: Duration::ZERO,
            slowest_input: String::new(),
        })
    }

    /// Parses one text, timing it; a call over [`SLOW`] fails with the start of the text.
    fn parse(&mut self, text: &str) -> Result<Scenario, ScenarioErrors> {
        let started = Instant::now();
        let result = Scenario::parse(text, FILE);
        let elapsed = started.elapsed();
        self.calls += 1;
        self.errors += u64::from(result.is_err());
        let shown: String = text.chars().take(100).collect();
        if elapsed > self.slowest {
            self.slowest = elapsed;
            self.slowest_input = format!("{shown:?} ({} bytes)", text.len());
        }
        assert!(
            elapsed <= SLOW,
            "{}: one input took {elapsed:?} (bound {SLOW:?}): {shown:?}",
            self.target
        );
        result
    }

    fn finish(&self) {
        let rss = peak_rss_kib().map_or("unknown".to_string(), |kib| format!("{} MiB", kib / 1024));
        report(&format!(
            "fuzz {}: {} calls, {} refused with an error, 0 panics, slowest {:.2} ms ({}), \
             peak RSS of the test process {rss}",
            self.target,
            self.calls,
            self.errors,
            self.slowest.as_secs_f64() * 1000.0,
            self.slowest_input
        ));
        if let Some(kib) = peak_rss_kib() {
            assert!(kib < 512 * 1024, "peak RSS {kib} KiB");
        }
    }
}

fn failed(result: Result<(), proptest::test_runner::TestError<impl std::fmt::Debug>>) {
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

/// Every error names the file, a location and a reason; a scenario that parses is sound.
fn check(result: &Result<Scenario, ScenarioErrors>) -> Result<(), TestCaseError> {
    match result {
        Ok(scenario) => prop_assert_eq!(scenario.problems(), Vec::<(String, String)>::new()),
        Err(errors) => {
            prop_assert!(!errors.0.is_empty());
            for error in &errors.0 {
                prop_assert_eq!(&error.file, FILE);
                prop_assert!(!error.location.is_empty(), "{:?}", error);
                prop_assert!(!error.why.is_empty(), "{:?}", error);
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Documents and their damage.

/// The shipped scenarios: the built-in brand, and overrides of it.
const SCENARIOS: &[&str] = &[
    DEFAULT,
    include_str!("../../../scenarios/faster-carrier.toml"),
    include_str!("../../../scenarios/fourth-fc.toml"),
    include_str!("../../../scenarios/more-safety-stock.toml"),
    include_str!("../../../scenarios/planner.toml"),
];

#[derive(Debug, Clone)]
enum Damage {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, &'static str),
    Delete(Index, usize),
    Repeat(Index, usize),
}

/// Fragments that break TOML and the values in it.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    ",",
    ".",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\0",
    "\\",
    "\\u0000",
    "\\uD800",
    "\u{feff}",
    "\u{202e}",
    "e\u{301}",
    "\u{1d11e}",
    "inf",
    "-inf",
    "nan",
    "1e999",
    "-0",
    "0x7fffffffffffffff",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
    "true",
    "base = \"default\"\n",
    " ",
];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::Truncate),
        (any::<Index>(), 1..=255u8).prop_map(|(at, bits)| Damage::Flip(at, bits)),
        (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(at, t)| Damage::Insert(at, t)),
        (any::<Index>(), 1..32usize).prop_map(|(at, n)| Damage::Delete(at, n)),
        (any::<Index>(), 1..256usize).prop_map(|(at, n)| Damage::Repeat(at, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let at = |index: &Index, len: usize| index.index(len + 1);
    match damage {
        Damage::Truncate(index) => bytes.truncate(at(index, bytes.len())),
        Damage::Flip(index, bits) => {
            if !bytes.is_empty() {
                let i = index.index(bytes.len());
                bytes[i] ^= bits;
            }
        }
        Damage::Insert(index, token) => {
            let i = at(index, bytes.len());
            bytes.splice(i..i, token.bytes());
        }
        Damage::Delete(index, count) => {
            let i = at(index, bytes.len());
            let end = (i + count).min(bytes.len());
            bytes.drain(i..end);
        }
        Damage::Repeat(index, count) => {
            let i = at(index, bytes.len());
            let end = (i + count).min(bytes.len());
            let piece = bytes[i..end].to_vec();
            bytes.splice(end..end, piece);
        }
    }
}

/// Values for the right-hand side of a `key = value` line.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "1e999",
    "-1e999",
    "inf",
    "-inf",
    "nan",
    "1e-320",
    "4294967295",
    "4294967296",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "0.5",
    "1.5",
    "-0.0",
    "\"\"",
    "\"XXX\"",
    "\"usd\"",
    "\"Mars/Olympus_Mons\"",
    "\"../../etc\"",
    "\"\u{202e}\"",
    "[]",
    "[1, 2, 3]",
    "{}",
    "true",
    "1979-05-27T07:32:00Z",
];

/// How a scenario text is changed before it is parsed.
#[derive(Debug, Clone)]
enum Change {
    None,
    Bytes(Vec<Damage>),
    /// The value of one `key = value` line replaced.
    Value(Index, &'static str),
    /// One `key = value` line written twice.
    DuplicateKey(Index),
    /// A key whose value is arrays (or inline tables) nested this deep.
    Nest(usize, bool),
    /// A byte order mark in front.
    Bom,
    /// CRLF line ends.
    Crlf,
    /// Raw bytes (read as UTF-8 with replacement characters, as a file read would refuse the
    /// rest).
    Raw(Vec<u8>),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => Just(Change::None),
        4 => prop::collection::vec(damage(), 1..5).prop_map(Change::Bytes),
        4 => (any::<Index>(), prop::sample::select(VALUES))
            .prop_map(|(line, value)| Change::Value(line, value)),
        1 => any::<Index>().prop_map(Change::DuplicateKey),
        1 => (1..2000usize, any::<bool>()).prop_map(|(depth, arrays)| Change::Nest(depth, arrays)),
        1 => Just(Change::Bom),
        1 => Just(Change::Crlf),
        1 => prop::collection::vec(any::<u8>(), 0..2048).prop_map(Change::Raw),
    ]
}

/// The lines of a text that assign a value (`key = value`, not a table header or comment).
fn assignments(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim_start();
            !line.starts_with('#') && !line.starts_with('[') && line.contains(" = ")
        })
        .map(|(index, _)| index)
        .collect()
}

fn changed(text: &str, change: &Change) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let with_line = |index: usize, line: String| -> String {
        let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        lines[index] = line;
        lines.join("\n")
    };
    let assigned = assignments(text);
    match change {
        Change::None => text.to_string(),
        Change::Bytes(damages) => {
            let mut bytes = text.as_bytes().to_vec();
            for damage in damages {
                apply(&mut bytes, damage);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Change::Value(line, value) if !assigned.is_empty() => {
            let index = *line.get(&assigned);
            let key = lines[index].split(" = ").next().unwrap_or("x");
            with_line(index, format!("{key} = {value}"))
        }
        Change::DuplicateKey(line) if !assigned.is_empty() => {
            let index = *line.get(&assigned);
            with_line(index, format!("{}\n{}", lines[index], lines[index]))
        }
        Change::Value(..) | Change::DuplicateKey(..) => text.to_string(),
        Change::Nest(depth, arrays) => {
            let nested = if *arrays {
                format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth))
            } else {
                format!("{}{}", "{ a = ".repeat(*depth), "}".repeat(*depth)).replacen(
                    "{ a = }",
                    "{ a = 1 }",
                    1,
                )
            };
            format!("deep = {nested}\n{text}")
        }
        Change::Bom => format!("\u{feff}{text}"),
        Change::Crlf => text.replace('\n', "\r\n"),
        Change::Raw(bytes) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Targets.

#[test]
fn scenario_files_never_panic_and_every_error_is_located() {
    let figures = Figures::new("scenario_files");
    let strategy = (0..SCENARIOS.len(), change());
    let result = runner("scenario_files", cases(2_000)).run(&strategy, |(which, change)| {
        let text = changed(SCENARIOS[which], &change);
        let result = figures.borrow_mut().parse(&text);
        check(&result)?;
        match change {
            // The shipped scenarios are valid, with CRLF line ends too.
            Change::None | Change::Crlf => prop_assert!(result.is_ok(), "{:?}", result.err()),
            // TOML refuses a key defined twice.
            Change::DuplicateKey(_) => prop_assert!(result.is_err()),
            _ => {}
        }
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

#[test]
fn overrides_of_the_built_in_brand_never_panic() {
    // `base = "default"` merges the override into the built-in brand, table by table and
    // array element by element, before the types are checked: a second path to every value.
    let figures = Figures::new("scenario_overrides");
    let keys = [
        "demand.orders_per_day",
        "demand.customers",
        "catalog.items",
        "catalog.popularity_exponent",
        "brand.currency",
        "brand.reporting_time_zone",
        "demand.weekly",
    ];
    let strategy = (
        prop::collection::vec((0..keys.len(), prop::sample::select(VALUES)), 0..4),
        prop::collection::vec(damage(), 0..3),
    );
    let result = runner("scenario_overrides", cases(1_000)).run(&strategy, |(sets, damages)| {
        let mut text = String::from("base = \"default\"\n");
        for (key, value) in &sets {
            let (table, field) = keys[*key].split_once('.').unwrap();
            text.push_str(&format!("[{table}]\n{field} = {value}\n"));
        }
        let mut bytes = text.into_bytes();
        for damage in &damages {
            apply(&mut bytes, damage);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let result = figures.borrow_mut().parse(&text);
        check(&result)?;
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

// Found by fuzzing: parsing costs time in proportion to the file, and nothing bounded the
// file, so a generated scenario of a million array elements (2 MB) took 3.9 s to refuse, and
// 400 KB of them about 1 s, before any check of ours ran. Scenario files are now refused over
// `SCENARIO_BYTES_MAX` before they are parsed.

#[test]
fn a_scenario_file_of_a_million_array_elements_is_refused_at_once() {
    let text = format!("x = [{}]\n", vec!["1"; 1_000_000].join(","));
    let mut figures = Figures::new("scenario_oversized").into_inner();
    let errors = figures
        .parse(&text)
        .expect_err("an oversized file is refused");
    // 2,000,006 bytes: "x = [" (5), a million "1" and 999,999 commas, "]\n" (2).
    assert_eq!(text.len(), 2_000_006);
    assert_eq!(errors.0[0].location, "file");
    assert!(errors.0[0].why.contains("2000006 bytes"), "{errors}");
    figures.finish();
}

#[test]
fn the_worst_shapes_just_under_the_size_limit_parse_within_the_bound() {
    // The shapes that cost the parser most per byte: array elements, dotted key segments and
    // table headers of dotted keys, each filling the file to just under the limit.
    let limit = flowline_sim::scenario::SCENARIO_BYTES_MAX;
    // One-byte pieces and a one-byte separator: (limit - the text around them) / 2 pieces.
    let count = |around: usize| (limit - around) / 2;
    let shapes = [
        format!("x = [{}]\n", vec!["1"; count(8)].join(",")),
        format!("{} = 1\n", vec!["a"; count(8)].join(".")),
        format!("[{}]\nb = 1\n", vec!["a"; count(12)].join(".")),
    ];
    let mut figures = Figures::new("scenario_largest").into_inner();
    for text in &shapes {
        assert!(text.len() <= limit, "{}", text.len());
        // Refused or not, within the bound; `parse` fails the test on a call over it.
        let _ = figures.parse(text);
    }
    figures.finish();
}
