//! Fuzzing of the core's parsers of untrusted input (RELIABILITY R5), as proptest generators in
//! the normal suite (cargo-fuzz needs a nightly toolchain): identifiers ([`Sku::parse`] and
//! every other id type, which share one check), currency codes, and money as JSON
//! (`{"amount_minor": …, "currency": …}`) with its display and conversion.
//!
//! Each parse is compared with a model written here from the documented rules, not from the
//! code; no call may take over [`SLOW`]. `FLOWLINE_SOAK=1` multiplies the case counts by 100 and
//! `FLOWLINE_SEED` replays a run. Each target prints its figures on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::id::{ID_LENGTH_MAX, IdError, LocationId, SalesOrderId, Sku, TenantId};
use flowline_core::money::{Currency, ExchangeRate, Money};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

/// The bound on one call: far above what any input takes, so only a pathological one fails it.
const SLOW: Duration = Duration::from_secs(1);

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

/// What one target saw: calls, errors, and the slowest call.
struct Figures {
    target: &'static str,
    calls: u64,
    errors: u64,
    slowest: Duration,
}

impl Figures {
    fn new(target: &'static str) -> RefCell<Self> {
        RefCell::new(Self {
            target,
            calls: 0,
            errors: 0,
            slowest: Duration::ZERO,
        })
    }

    fn time<T, E>(&mut self, input: &str, parse: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let started = Instant::now();
        let result = parse();
        let elapsed = started.elapsed();
        self.calls += 1;
        self.errors += u64::from(result.is_err());
        self.slowest = self.slowest.max(elapsed);
        assert!(
            elapsed <= SLOW,
            "{}: {elapsed:?} for {input:?}",
            self.target
        );
        result
    }

    fn finish(&self) {
        report(&format!(
            "fuzz {}: {} calls, {} refused with an error, 0 panics, slowest {:.3} ms",
            self.target,
            self.calls,
            self.errors,
            self.slowest.as_secs_f64() * 1000.0
        ));
    }
}

fn failed(result: Result<(), proptest::test_runner::TestError<impl std::fmt::Debug>>) {
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

/// The documented rule for ids, written from `id.rs`'s module comment: 1 to 64 bytes of
/// `A-Z a-z 0-9 . _ - :`, the first a letter or digit.
fn id_is_valid(text: &str) -> bool {
    let mut bytes = text.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok && text.len() <= 64 && bytes.all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
}

/// Strings near the rule's edges: valid ids, ids with one odd character, lengths around 64.
fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9][A-Za-z0-9._:-]{0,70}",
        "[A-Za-z0-9._:/\\\\ -]{0,8}",
        "[A-Za-z0-9]{60,68}",
        "\\PC{0,12}",
        "[.]{1,3}",
        any::<String>(),
        prop::sample::select(vec![
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "..a",
            "a..",
            "-a",
            "_a",
            ":a",
            "a\u{0}",
            "é",
            "\u{feff}a",
            "a\u{202e}",
            "SO-1",
            "a:b",
            "a.b",
        ])
        .prop_map(String::from),
    ]
}

#[test]
fn ids_accept_exactly_the_documented_characters() {
    let figures = Figures::new("ids");
    let result = runner("ids", cases(4_000)).run(&id_text(), |text| {
        let parsed = figures.borrow_mut().time(&text, || Sku::parse(&text));
        prop_assert_eq!(parsed.is_ok(), id_is_valid(&text), "{:?}", text);
        match parsed {
            Ok(sku) => prop_assert_eq!(sku.as_str(), text.as_str()),
            Err(IdError::Empty { .. }) => prop_assert!(text.is_empty()),
            Err(IdError::TooLong { length, .. }) => {
                prop_assert_eq!(length, text.len());
                prop_assert!(length > ID_LENGTH_MAX);
            }
            Err(IdError::BadCharacter {
                character, offset, ..
            }) => {
                // The named character is at the named offset, and everything before it is fine.
                prop_assert_eq!(text[offset..].chars().next(), Some(character));
                prop_assert!(offset == 0 || id_is_valid(&text[..offset]));
            }
        }
        // Every id type shares the check, and JSON strings deserialize through it.
        let json = serde_json::to_string(&text).unwrap();
        let as_json = figures
            .borrow_mut()
            .time(&json, || serde_json::from_str::<LocationId>(&json));
        prop_assert_eq!(as_json.is_ok(), id_is_valid(&text));
        prop_assert_eq!(TenantId::parse(&text).is_ok(), id_is_valid(&text));
        prop_assert_eq!(SalesOrderId::parse(&text).is_ok(), id_is_valid(&text));
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

/// Numbers written in JSON as clients write them, at and past every integer width.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "1.0",
    "1.5",
    "1e2",
    "1e999",
    "-1e999",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "\"100\"",
    "null",
    "[]",
    "{}",
];

#[test]
fn money_from_json_is_an_exact_integer_amount_and_a_currency_code() {
    let figures = Figures::new("money_json");
    let strategy = (
        prop_oneof![
            prop::sample::select(NUMBERS).prop_map(String::from),
            any::<i64>().prop_map(|n| n.to_string()),
        ],
        prop_oneof![
            "[A-Z]{3}",
            "[A-Za-z]{2,4}",
            prop::sample::select(vec![
                "USD",
                "JPY",
                "KWD",
                "EUR",
                "BHD",
                "XAU",
                "XTS",
                "usd",
                "",
                "US$",
                "\u{feff}USD"
            ])
            .prop_map(String::from),
            any::<String>(),
        ],
        0..4usize,
    );
    let result = runner("money_json", cases(4_000)).run(&strategy, |(amount, code, shape)| {
        let code_json = serde_json::to_string(&code).unwrap();
        let body = match shape {
            0 => format!(r#"{{"amount_minor": {amount}, "currency": {code_json}}}"#),
            1 => format!(r#"{{"currency": {code_json}, "amount_minor": {amount}}}"#),
            2 => format!(r#"{{"amount_minor": {amount}}}"#),
            _ => format!(r#"{{"amount_minor": {amount}, "currency": {code_json}, "x": 1}}"#),
        };
        let parsed = figures
            .borrow_mut()
            .time(&body, || serde_json::from_str::<Money>(&body));
        // The model: an integer literal that fits an i64, and three ASCII upper-case letters
        // that ISO 4217's table (the iso_currency crate's) gives a minor unit.
        // JSON's `-0` reads as the float -0.0, not an integer: refused, like `1.0`.
        let exact = amount.parse::<i64>().ok().filter(|_| amount != "-0");
        let code_ok = code.len() == 3
            && code.bytes().all(|b| b.is_ascii_uppercase())
            && iso_currency::Currency::from_code(&code).is_some_and(|c| c.exponent().is_some());
        if let Ok(money) = &parsed {
            prop_assert_eq!(Some(money.amount_minor), exact, "{}", body);
            prop_assert!(code_ok, "{}", body);
            prop_assert_eq!(money.currency.as_str(), code.as_str());
            // Displayed with the currency's exponent, the digits are the amount's digits.
            let shown = money.to_string();
            let digits: String = shown
                .split(' ')
                .next()
                .unwrap()
                .chars()
                .filter(|c| *c != '.')
                .collect();
            prop_assert_eq!(
                digits.parse::<i128>().ok(),
                Some(i128::from(money.amount_minor))
            );
        } else if shape < 2 {
            prop_assert!(exact.is_none() || !code_ok, "{} refused", body);
        }
        let currency = figures.borrow_mut().time(&code, || Currency::parse(&code));
        prop_assert_eq!(currency.is_ok(), code_ok);
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

#[test]
fn conversion_of_any_amount_at_any_rate_is_a_value_or_none() {
    let figures = Figures::new("money_convert");
    let codes = ["USD", "JPY", "KWD", "EUR"];
    // Amounts and rates of real orders, and any i64 at all (mostly overflowing).
    let strategy = (
        prop_oneof![any::<i64>(), -1_000_000_000_000..1_000_000_000_000i64],
        prop_oneof![any::<i64>(), 0..100_000_000i64, -100_000_000..0i64],
        0..4usize,
        0..4usize,
    );
    let result =
        runner("money_convert", cases(4_000)).run(&strategy, |(amount, rate, from, to)| {
            let (from, to) = (
                Currency::parse(codes[from]).unwrap(),
                Currency::parse(codes[to]).unwrap(),
            );
            let rate = ExchangeRate { rate_micro: rate };
            let converted = figures.borrow_mut().time("convert", || {
                rate.convert(amount, from, to).ok_or("overflow")
            });
            if let Ok(value) = converted {
                // The model in exact arithmetic: amount × rate × 10^to / (10^6 × 10^from), rounded
                // half away from zero, compared within the rounding step.
                let numerator =
                    i128::from(amount) * i128::from(rate.rate_micro) * 10_i128.pow(to.exponent());
                let denominator = 1_000_000_i128 * 10_i128.pow(from.exponent());
                // (2|n| + d) / 2d is |n| / d rounded half up; skipped where it would overflow.
                if let Some(doubled) = numerator
                    .checked_abs()
                    .and_then(|n| n.checked_mul(2))
                    .and_then(|n| n.checked_add(denominator))
                {
                    let rounded = (doubled / (2 * denominator)) * numerator.signum();
                    prop_assert_eq!(i128::from(value), rounded);
                }
            }
            Ok(())
        });
    figures.into_inner().finish();
    failed(result);
}
