//! Fuzzing of the Olist CSV importer and of the demand-series reader (RELIABILITY R5), as
//! proptest generators in the normal suite (cargo-fuzz needs a nightly toolchain). Through [`olist::import`] this reaches every
//! parser of the crate: CSV structure, UTF-8, headers, timestamps in all their forms (ISO, slash
//! dates with two- and four-digit years, fractions, daylight-saving gaps and folds), money and
//! whole numbers, identifiers and statuses.
//!
//! The generator writes a consistent data set of all eight files (orders of every status with
//! their items, payments, reviews, customers, products, sellers and category names), then
//! damages one file: byte-level damage and truncation, a byte order mark, CRLF line ends, quoted
//! fields with line breaks, a header column written twice, odd unicode in a text field, numbers
//! and dates at and past their limits; or replaces it with raw bytes.
//!
//! Asserted: no panic; every error lists problems that each name one of the eight files and,
//! where they have one, a line inside the file; no call takes over [`SLOW`]; an undamaged data set
//! is imported whole, as it is with a byte order mark or CRLF line ends; and every import that
//! succeeds is replayed through the domain's `decide` and `apply` without a panic.
//!
//! Case counts keep this file to about 10 s in a debug build; `FLOWLINE_SOAK=1` multiplies them by
//! 100 and `FLOWLINE_SEED` replays a run. Each target prints its figures on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::master::TimeZoneName;
use flowline_core::money::Currency;
use flowline_core::state::ConfigureTenant;
use flowline_core::{Command, Context, State, apply, decide};
use flowline_formats::olist::{self, FILE_NAMES, OlistFiles, OlistImport};
use flowline_formats::series;
use flowline_formats::{ImportError, PROBLEMS_SHOWN_MAX};
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
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

/// The peak resident memory of this test process, from `/proc/self/status` (Linux), in KiB.
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

    /// Runs one parse, timing it; a call over [`SLOW`] fails with a description of the input.
    fn time<T, E>(&mut self, input: &str, parse: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let started = Instant::now();
        let result = parse();
        let elapsed = started.elapsed();
        self.calls += 1;
        self.errors += u64::from(result.is_err());
        if elapsed > self.slowest {
            self.slowest = elapsed;
            self.slowest_input = input.to_string();
        }
        assert!(
            elapsed <= SLOW,
            "{}: one input took {elapsed:?} (bound {SLOW:?}): {input}",
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
        // R5's bound on memory: every target of this binary together stays under 512 MiB.
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

// ---------------------------------------------------------------------------------------------
// A consistent Olist data set.

const HEADERS: [&str; 8] = [
    "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,\
     order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date",
    "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value",
    "order_id,payment_sequential,payment_type,payment_installments,payment_value",
    "review_id,order_id,review_score,review_comment_title,review_comment_message,\
     review_creation_date,review_answer_timestamp",
    "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state",
    "product_id,product_category_name,product_name_lenght,product_description_lenght,\
     product_photos_qty,product_weight_g,product_length_cm,product_height_cm,product_width_cm",
    "seller_id,seller_zip_code_prefix,seller_city,seller_state",
    "product_category_name,product_category_name_english",
];

const STATUSES: &[&str] = &[
    "delivered",
    "shipped",
    "approved",
    "invoiced",
    "processing",
    "created",
    "canceled",
    "unavailable",
];

/// One order of the data set.
#[derive(Debug, Clone)]
struct OrderSpec {
    status: Index,
    /// Day of 2017 (1 to 300) and minute of the day it was placed.
    day: u16,
    minute: u16,
    items: Vec<(Index, Index, u32)>,
    payments: Vec<u32>,
    review: Option<u8>,
}

fn order_spec() -> impl Strategy<Value = OrderSpec> {
    (
        any::<Index>(),
        1..300u16,
        0..1440u16,
        prop::collection::vec((any::<Index>(), any::<Index>(), 1..500_000u32), 0..4),
        prop::collection::vec(1..900_000u32, 0..3),
        prop::option::of(1..=5u8),
    )
        .prop_map(|(status, day, minute, items, payments, review)| OrderSpec {
            status,
            day,
            minute,
            items,
            payments,
            review,
        })
}

/// The eight files' lines, headers first.
#[derive(Debug, Clone)]
struct DataSet {
    files: [Vec<String>; 8],
}

const PRODUCTS: &[&str] = &[
    "p1,beleza_saude,40,287,1,250,10,5,20",
    "p2,pc_gamer,40,287,1,1000,30,10,30",
    "p3,,,,,,,,",
    "00066f42aeeb9f3007548bb9d3f33c38,perfumaria,53,596,6,300,20,16,16",
];
const SELLERS: &[&str] = &[
    "s1,\"13023\",campinas,SP",
    "s2,\"20031\",rio de janeiro,RJ",
    "3442f8959a84dea7ee197c632cb2df15,13023,\"são paulo, centro\",SP",
];

/// A civil time of 2017 as Olist writes it: day of the year, minute of the day.
fn olist_time(day: u16, minute: u16) -> String {
    let date = jiff::civil::date(2017, 1, 1)
        .checked_add(jiff::Span::new().days(i64::from(day) - 1))
        .unwrap();
    format!("{date} {:02}:{:02}:00", minute / 60, minute % 60)
}

/// Centavos as Olist writes amounts: `58.90`.
fn amount(centavos: u32) -> String {
    format!("{}.{:02}", centavos / 100, centavos % 100)
}

fn data_set(orders: &[OrderSpec]) -> DataSet {
    let mut files: [Vec<String>; 8] = HEADERS.map(|header| vec![header.to_string()]);
    files[4].push("c1,u1,\"01151\",sao paulo,SP".into());
    files[4].push("c2,u2,69900,\"rio branco\",AC".into());
    files[5].extend(PRODUCTS.iter().map(|line| line.to_string()));
    files[6].extend(SELLERS.iter().map(|line| line.to_string()));
    files[7].push("beleza_saude,health_beauty".into());
    files[7].push("perfumaria,perfumery".into());
    for (index, order) in orders.iter().enumerate() {
        let id = format!("o{index}");
        let status = order.status.get(STATUSES);
        let placed = olist_time(order.day, order.minute);
        let approved = olist_time(order.day, order.minute.saturating_add(15).min(1439));
        let carrier = olist_time(order.day + 1, 600);
        let delivered = olist_time(order.day + 5, 700);
        let estimated = format!("{} 00:00:00", &olist_time(order.day + 20, 0)[..10]);
        let (approved, carrier, delivered) = match *status {
            "delivered" => (approved, carrier, delivered),
            "shipped" => (approved, carrier, String::new()),
            "created" => (String::new(), String::new(), String::new()),
            "canceled" if index % 2 == 0 => (approved, String::new(), String::new()),
            "canceled" => (String::new(), String::new(), String::new()),
            _ => (approved, String::new(), String::new()),
        };
        let customer = if index % 3 == 0 { "c2" } else { "c1" };
        files[0].push(format!(
            "{id},{customer},{status},{placed},{approved},{carrier},{delivered},{estimated}"
        ));
        for (number, (product, seller, price)) in order.items.iter().enumerate() {
            let product = &product.get(PRODUCTS)[..product.get(PRODUCTS).find(',').unwrap()];
            let seller = &seller.get(SELLERS)[..seller.get(SELLERS).find(',').unwrap()];
            files[1].push(format!(
                "{id},{},{product},{seller},{carrier},{},{}",
                number + 1,
                amount(*price),
                amount(price / 10)
            ));
        }
        for (number, value) in order.payments.iter().enumerate() {
            files[2].push(format!(
                "{id},{},credit_card,{},{}",
                number + 1,
                number + 1,
                amount(*value)
            ));
        }
        if let Some(score) = order.review {
            files[3].push(format!(
                "r{index},{id},{score},,\"Chegou, bem embalado\",{},{}",
                olist_time(order.day + 6, 0),
                olist_time(order.day + 7, 30)
            ));
        }
    }
    DataSet { files }
}

impl DataSet {
    fn bytes(&self) -> [Vec<u8>; 8] {
        self.files
            .clone()
            .map(|lines| lines.join("\n").into_bytes())
    }
}

fn import(files: &[Vec<u8>; 8]) -> Result<OlistImport, ImportError> {
    olist::import(&OlistFiles::from_contents(|name| {
        let index = FILE_NAMES.iter().position(|n| *n == name).unwrap();
        files[index].as_slice()
    }))
}

/// Every problem names one of the eight files, and a line inside it when it names one.
fn check_error(error: &ImportError, files: &[Vec<u8>; 8]) -> Result<(), TestCaseError> {
    prop_assert!(!error.problems().is_empty());
    prop_assert!(error.problems().len() <= PROBLEMS_SHOWN_MAX);
    prop_assert!(error.total() >= error.problems().len());
    for problem in error.problems() {
        let index = FILE_NAMES.iter().position(|name| *name == problem.file);
        prop_assert!(index.is_some(), "{}", problem);
        let bytes = &files[index.unwrap()];
        // Lines end at LF, CR or CRLF; a file of n line ends has at most n + 1 lines.
        let ends = bytes
            .iter()
            .filter(|b| **b == b'\n' || **b == b'\r')
            .count() as u64;
        if let Some(line) = problem.line {
            prop_assert!(
                line >= 1 && line <= ends + 1,
                "{} ({} line ends)",
                problem,
                ends
            );
        }
        // Every problem can be shown.
        prop_assert!(!problem.to_string().is_empty());
    }
    prop_assert!(error.to_string().starts_with("the input is malformed"));
    Ok(())
}

/// Decides and applies every command of an import on a tenant configured as `flowline import`
/// configures it: rejections are fine (the domain judges), panics are not.
fn replay(import: &OlistImport) -> (usize, usize) {
    let mut state = State::default();
    let configure = Command::ConfigureTenant(ConfigureTenant {
        business_time: None,
        base_currency: Currency::parse("BRL").unwrap(),
        reporting_time_zone: TimeZoneName::parse("America/Sao_Paulo").unwrap(),
    });
    let start = Context {
        at: Timestamp::UNIX_EPOCH,
    };
    for event in decide(&state, &configure, &start).unwrap() {
        apply(&mut state, &event);
    }
    let (mut applied, mut rejected) = (0, 0);
    for (command, at) in &import.submissions {
        match decide(&state, command, &Context { at: *at }) {
            Ok(events) => {
                applied += 1;
                for event in &events {
                    apply(&mut state, event);
                }
            }
            Err(_) => rejected += 1,
        }
    }
    (applied, rejected)
}

// ---------------------------------------------------------------------------------------------
// Damage.

/// Byte-level damage.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, &'static str),
    Delete(Index, usize),
    Repeat(Index, usize),
}

/// Fragments that break CSV and the values in it.
const TOKENS: &[&str] = &[
    ",",
    "\"",
    "\"\"",
    "\n",
    "\r\n",
    "\r",
    "\0",
    "\u{feff}",
    "\u{202e}",
    "e\u{301}",
    "\u{1d11e}",
    "\u{fffd}",
    "\u{10ffff}",
    "\u{a0}",
    "-",
    ".",
    "/",
    ":",
    " ",
    "T",
    "99999999999999999999",
    "1e308",
    "2017-02-29 10:00:00",
    "31/12/2017 9:05",
    "12/31/17",
    "2018-11-04 00:30:00",
    "2018-02-17 23:30:00",
    "9999-12-31 23:59:59",
    "0000-01-01",
    "24:00:00",
    "2017-06-01 10:00:00.123456789",
    "\u{c3}",
    ";",
];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::Truncate),
        (any::<Index>(), 1..=255u8).prop_map(|(at, bits)| Damage::Flip(at, bits)),
        (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(at, t)| Damage::Insert(at, t)),
        (any::<Index>(), 1..32usize).prop_map(|(at, n)| Damage::Delete(at, n)),
        (any::<Index>(), 1..128usize).prop_map(|(at, n)| Damage::Repeat(at, n)),
    ]
}

fn apply_damage(bytes: &mut Vec<u8>, damage: &Damage) {
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

/// Values for one cell: each a sound value of some column, or one at or past a limit.
const CELLS: &[&str] = &[
    "",
    "\"\"",
    "\"a\nb\"",
    "\"a\r\nb\"",
    "\"quoted, with comma\"",
    "\"never closed",
    "0",
    "-1",
    "1.999",
    "100000000000.00",
    "99999999999.99",
    "1000000000000",
    "1000000000001",
    "18446744073709551616",
    "12,50",
    "1e3",
    "2017-06-01 10:00:00",
    "2017-06-01T10:00:00",
    "2017-06-01",
    "2017-06-01 10:00",
    "1/6/2017 10:00",
    "13/6/2017 10:00",
    "6/13/2017 10:00",
    "13/13/2017 10:00",
    "1/6/17",
    "2017-02-29 10:00:00",
    "2016-10-16 00:30:00",
    "2017-02-18 23:30:00",
    "-009999-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "2017-06-01 10:00:00.",
    "2017-06-01 10:00:00.1234567890",
    "2017-06-01T10:00",
    "1/6/2017T10:00",
    "delivered",
    "lost",
    "credit_card",
    "S-UNLISTED",
    "OLIST-UNLISTED",
    "a/b",
    "..",
    "has space",
    "\u{202e}evil",
    "Zoë",
    "\u{1f600}",
];

/// How the data set is changed before it is imported.
#[derive(Debug, Clone)]
enum Change {
    /// Left sound.
    None,
    /// One file damaged byte by byte.
    Bytes(Index, Vec<Damage>),
    /// One cell of one file replaced.
    Cell(Index, Index, Index, &'static str),
    /// One file's first column written twice in its header.
    DuplicateColumn(Index),
    /// One file emptied.
    Empty(Index),
    /// One file replaced by raw bytes.
    Raw(Index, Vec<u8>),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => Just(Change::None),
        4 => (any::<Index>(), prop::collection::vec(damage(), 1..5))
            .prop_map(|(file, damages)| Change::Bytes(file, damages)),
        4 => (any::<Index>(), any::<Index>(), any::<Index>(), prop::sample::select(CELLS))
            .prop_map(|(file, row, column, cell)| Change::Cell(file, row, column, cell)),
        1 => any::<Index>().prop_map(Change::DuplicateColumn),
        1 => any::<Index>().prop_map(Change::Empty),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 0..2048))
            .prop_map(|(file, bytes)| Change::Raw(file, bytes)),
    ]
}

fn changed(set: &DataSet, change: &Change) -> [Vec<u8>; 8] {
    let mut files = set.bytes();
    match change {
        Change::None => {}
        Change::Bytes(file, damages) => {
            let bytes = file.get_mut(&mut files);
            for damage in damages {
                apply_damage(bytes, damage);
            }
        }
        Change::Cell(file, row, column, cell) => {
            let index = file.index(8);
            let lines = &set.files[index];
            // Row 0 is the header: a cell there names a column.
            let row = row.index(lines.len());
            let mut cells: Vec<String> = lines[row].split(',').map(String::from).collect();
            let column = column.index(cells.len());
            cells[column] = (*cell).to_string();
            let mut lines = lines.clone();
            lines[row] = cells.join(",");
            files[index] = lines.join("\n").into_bytes();
        }
        Change::DuplicateColumn(file) => {
            let index = file.index(8);
            let mut lines = set.files[index].clone();
            let first = lines[0].split(',').next().unwrap_or("").to_string();
            lines[0] = format!("{},{first}", lines[0]);
            for line in lines.iter_mut().skip(1) {
                line.push_str(",x");
            }
            files[index] = lines.join("\n").into_bytes();
        }
        Change::Empty(file) => file.get_mut(&mut files).clear(),
        Change::Raw(file, bytes) => *file.get_mut(&mut files) = bytes.clone(),
    }
    files
}

fn describe(change: &Change) -> String {
    let text = format!("{change:?}");
    text.chars().take(160).collect()
}

// ---------------------------------------------------------------------------------------------
// Targets.

#[test]
fn olist_import_never_panics_and_every_problem_is_located() {
    let figures = Figures::new("olist_import");
    let replayed = RefCell::new((0usize, 0usize, 0usize));
    let strategy = (prop::collection::vec(order_spec(), 0..12), change());
    let result = runner("olist_import", cases(2_000)).run(&strategy, |(orders, change)| {
        let set = data_set(&orders);
        let files = changed(&set, &change);
        let result = figures
            .borrow_mut()
            .time(&describe(&change), || import(&files));
        match &result {
            Err(error) => check_error(error, &files)?,
            Ok(imported) => {
                let (applied, rejected) = replay(imported);
                let mut counts = replayed.borrow_mut();
                counts.0 += 1;
                counts.1 += applied;
                counts.2 += rejected;
            }
        }
        if matches!(change, Change::None) {
            // A sound data set is imported whole: every order is placed (independently, the
            // generator wrote one order row per spec).
            let imported = result.as_ref().map_err(ToString::to_string);
            let imported = imported.map_err(TestCaseError::fail)?;
            let placed = imported
                .submissions
                .iter()
                .filter(|(command, _)| command.name() == "PlaceSalesOrder")
                .count();
            prop_assert_eq!(placed, orders.len());
        }
        Ok(())
    });
    figures.into_inner().finish();
    let (imports, applied, rejected) = replayed.into_inner();
    report(&format!(
        "fuzz olist_import: {imports} imports replayed through the domain, {applied} commands \
         applied, {rejected} rejected, 0 panics"
    ));
    failed(result);
}

#[test]
fn a_byte_order_mark_or_crlf_line_ends_change_nothing() {
    // Spreadsheets on Windows save CSV with a byte order mark and CRLF line ends; either way the
    // import must be the same commands as from the plain file.
    let figures = Figures::new("olist_bom_crlf");
    let strategy = (
        prop::collection::vec(order_spec(), 0..8),
        any::<Index>(),
        any::<bool>(),
        any::<bool>(),
    );
    let result =
        runner("olist_bom_crlf", cases(300)).run(&strategy, |(orders, file, bom, crlf)| {
            let set = data_set(&orders);
            let plain = set.bytes();
            let mut dressed = plain.clone();
            let bytes = file.get_mut(&mut dressed);
            if crlf {
                *bytes = String::from_utf8(bytes.clone())
                    .unwrap()
                    .replace('\n', "\r\n")
                    .into_bytes();
            }
            if bom {
                bytes.splice(0..0, *b"\xEF\xBB\xBF");
            }
            let expected = import(&plain).expect("a sound data set is imported");
            let imported = figures
                .borrow_mut()
                .time(&format!("bom {bom}, crlf {crlf}"), || import(&dressed))
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            prop_assert_eq!(
                format!("{:?}", imported.submissions),
                format!("{:?}", expected.submissions)
            );
            Ok(())
        });
    figures.into_inner().finish();
    failed(result);
}

#[test]
fn raw_bytes_in_every_file_never_panic() {
    let figures = Figures::new("olist_raw");
    let file = prop::collection::vec(any::<u8>(), 0..1024);
    let strategy = prop::array::uniform8(file);
    let result = runner("olist_raw", cases(1_000)).run(&strategy, |files| {
        let result = figures
            .borrow_mut()
            .time("eight files of raw bytes", || import(&files));
        if let Err(error) = &result {
            check_error(error, &files)?;
        }
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

#[test]
fn a_long_file_of_one_unclosed_quote_is_refused_quickly() {
    // The worst case for a CSV reader that tracks lines: one quote opened at the start of a
    // 2 MiB orders file, never closed, with a line break every 8 bytes.
    let mut files = data_set(&[]).bytes();
    let mut orders = files[0].clone();
    orders.extend_from_slice(b"\n\"");
    for _ in 0..(2 << 20) / 8 {
        orders.extend_from_slice(b"abc,de\r\n");
    }
    files[0] = orders;
    let mut figures = Figures::new("olist_unclosed_quote").into_inner();
    let error = figures
        .time("2 MiB after an unclosed quote", || import(&files))
        .expect_err("an unclosed quote is malformed");
    // The header is line 1, so the quote opens on line 2.
    assert_eq!(error.problems()[0].line, Some(2), "{error}");
    assert!(error.to_string().contains("never closed"), "{error}");
    figures.finish();
}

/// One order placed at `purchased`, with one item of `p1` from `s1` at `price`.
fn one_order(purchased: &str, price: &str) -> [Vec<u8>; 8] {
    let mut set = data_set(&[]);
    set.files[0].push(format!("o1,c1,created,{purchased},,,,2017-07-01 00:00:00"));
    // Quoted, so a decimal comma stays in the cell (`"12,50"`, as a pt-BR spreadsheet writes).
    set.files[1].push(format!("o1,1,p1,s1,2017-06-10 00:00:00,\"{price}\",0.00"));
    set.bytes()
}

#[test]
fn timestamps_of_every_form_never_panic_and_sound_ones_are_read_in_sao_paulo_time() {
    let figures = Figures::new("olist_timestamps");
    let strategy = prop_oneof![
        // Near the accepted forms, with field widths and ranges off by a little.
        "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}([ T][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?(\\.[0-9]{0,11})?)?",
        "[0-9]{1,3}/[0-9]{1,3}/[0-9]{1,5}( [0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?)?",
        // The accepted ISO form with every field in range, some of them in the clock changes.
        (
            2015..2020i32,
            1..=12i32,
            1..=31i32,
            0..24i32,
            0..60i32,
            0..60i32
        )
            .prop_map(|(y, mo, d, h, mi, s)| format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")),
        "[0-9 :/T.-]{0,24}",
    ];
    let result = runner("olist_timestamps", cases(1_500)).run(&strategy, |text| {
        let files = one_order(&text, "10.00");
        let result = figures.borrow_mut().time(&text, || import(&files));
        match &result {
            Err(error) => {
                check_error(error, &files)?;
                let problem = &error.problems()[0];
                // The header is line 1: the order is on line 2.
                prop_assert_eq!(problem.file.as_str(), olist::ORDERS);
                prop_assert_eq!(problem.line, Some(2));
                prop_assert_eq!(problem.column.as_deref(), Some("order_purchase_timestamp"));
            }
            Ok(imported) => {
                let placed = imported
                    .submissions
                    .iter()
                    .find(|(command, _)| command.name() == "PlaceSalesOrder")
                    .map(|(_, at)| *at);
                prop_assert!(placed.is_some());
                // A `YYYY-MM-DD HH:MM:SS` value is the civil time of America/Sao_Paulo, as jiff
                // reads it with its "compatible" rule for gaps and folds.
                if let Ok(civil) = text.parse::<jiff::civil::DateTime>()
                    && text.len() == 19
                    && text.as_bytes()[10] == b' '
                {
                    let zone = jiff::tz::TimeZone::get("America/Sao_Paulo").unwrap();
                    let expected = zone.to_ambiguous_timestamp(civil).compatible().unwrap();
                    prop_assert_eq!(placed, Some(expected));
                }
            }
        }
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

#[test]
fn amounts_are_read_exactly_or_refused_at_their_cell() {
    let figures = Figures::new("olist_amounts");
    let strategy = prop_oneof![
        "-?[0-9]{0,16}(\\.[0-9]{0,4})?",
        "[0-9]{1,3}([.,][0-9]{3}){0,3}([.,][0-9]{2})?",
        "[0-9.eE+ -]{0,8}",
    ];
    let result = runner("olist_amounts", cases(1_500)).run(&strategy, |price| {
        let files = one_order("2017-06-01 10:00:00", &price);
        let result = figures.borrow_mut().time(&price, || import(&files));
        // The model: digits, optionally a point and one or two digits, read as centavos in
        // exact integer arithmetic; at most 100 billion reais (10^13 centavos).
        let expected = (|| {
            let (whole, fraction) = price.split_once('.').unwrap_or((&price, ""));
            let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            if !digits(whole) || (price.contains('.') && (!digits(fraction) || fraction.len() > 2))
            {
                return None;
            }
            let whole: i128 = whole.parse().ok()?;
            let cents: i128 = format!("{fraction:0<2}").parse().ok()?;
            Some(whole * 100 + cents).filter(|value| *value <= 10_000_000_000_000)
        })();
        match (&result, expected) {
            (Ok(imported), Some(expected)) => {
                let line = imported
                    .submissions
                    .iter()
                    .find_map(|(command, _)| match command {
                        flowline_core::Command::PlaceSalesOrder(place) => {
                            place.lines.first().map(|line| line.unit_price_minor)
                        }
                        _ => None,
                    });
                prop_assert_eq!(line.map(i128::from), Some(expected), "{:?}", price);
            }
            (Err(error), None) => {
                check_error(error, &files)?;
                let problem = &error.problems()[0];
                prop_assert_eq!(problem.file.as_str(), olist::ITEMS);
                prop_assert_eq!(problem.line, Some(2));
                prop_assert_eq!(problem.column.as_deref(), Some("price"));
            }
            (Ok(_), None) => prop_assert!(false, "{:?} accepted", price),
            (Err(error), Some(_)) => prop_assert!(false, "{:?} refused: {}", price, error),
        }
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

// ---------------------------------------------------------------------------------------------
// Demand series (`flowline plan forecast --input`).

/// One generated series: its name, first day (days after 2020-01-01), and a quantity or a gap
/// for each day.
type SeriesSpec = (String, u16, Vec<Option<u16>>);

fn series_spec() -> impl Strategy<Value = SeriesSpec> {
    (
        "[A-Za-z0-9@_-]{1,12}",
        0u16..2_000,
        prop::collection::vec(prop::option::weighted(0.7, 0u16..500), 1..60),
    )
}

/// The rows of `specs` as a CSV file, shuffled by `order` (the reader takes rows in any order).
fn series_file(specs: &[SeriesSpec], order: &[Index]) -> (Vec<u8>, usize) {
    let start: jiff::civil::Date = "2020-01-01".parse().unwrap();
    let mut rows = Vec::new();
    for (name, first, values) in specs {
        for (offset, value) in values.iter().enumerate() {
            if let Some(quantity) = value {
                let day = start
                    .checked_add(jiff::Span::new().days(i64::from(*first) + offset as i64))
                    .unwrap();
                rows.push(format!("{name},{day},{quantity}\n"));
            }
        }
    }
    let count = rows.len();
    if count > 1 {
        for (index, pick) in order.iter().enumerate() {
            rows.swap(index % count, pick.index(count));
        }
    }
    let mut bytes = b"series,date,quantity\n".to_vec();
    for row in rows {
        bytes.extend_from_slice(row.as_bytes());
    }
    (bytes, count)
}

/// Well-formed series, written in any order, read back as exactly the quantities written: each
/// series from its first row's day to the file's last day, gaps and the days after its last row
/// as zero (worked out here from the specification, not by the reader). Series that share a
/// name are merged by the reader, so names are made distinct.
#[test]
fn series_written_in_any_order_read_back_as_written() {
    let figures = Figures::new("series_round_trip");
    let strategy = (
        prop::collection::vec(series_spec(), 1..6),
        prop::collection::vec(any::<Index>(), 0..40),
    );
    let result = runner("series_round_trip", cases(300)).run(&strategy, |(specs, order)| {
        let specs: Vec<SeriesSpec> = specs
            .into_iter()
            .enumerate()
            .map(|(number, (name, first, values))| (format!("{name}#{number}"), first, values))
            .filter(|(_, _, values)| values.iter().any(Option::is_some))
            .collect();
        prop_assume!(!specs.is_empty());
        let (bytes, _) = series_file(&specs, &order);
        let read = figures
            .borrow_mut()
            .time("generated series", || {
                series::read("s.csv", &bytes, Some(series::Frequency::Daily))
            })
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        // Each series' known days, by offset from 2020-01-01.
        let known: Vec<(String, Vec<(i64, u16)>)> = specs
            .iter()
            .map(|(name, first, values)| {
                let days = values
                    .iter()
                    .enumerate()
                    .filter_map(|(offset, value)| {
                        value.map(|q| (i64::from(*first) + offset as i64, q))
                    })
                    .collect();
                (name.clone(), days)
            })
            .collect();
        let file_last = known
            .iter()
            .flat_map(|(_, days)| days.iter().map(|(day, _)| *day))
            .max()
            .unwrap();
        let start: jiff::civil::Date = "2020-01-01".parse().unwrap();
        prop_assert_eq!(read.len(), known.len());
        for (name, days) in &known {
            let found = read.iter().find(|one| &one.name == name);
            let found = found.ok_or_else(|| TestCaseError::fail(format!("{name} missing")))?;
            let first = days[0].0;
            let mut expected = vec![0.0; usize::try_from(file_last - first + 1).unwrap()];
            for (day, quantity) in days {
                expected[usize::try_from(day - first).unwrap()] = f64::from(*quantity);
            }
            prop_assert_eq!(
                found.start,
                start.checked_add(jiff::Span::new().days(first)).unwrap()
            );
            prop_assert_eq!(&found.values, &expected);
        }
        Ok(())
    });
    figures.into_inner().finish();
    failed(result);
}

/// Raw bytes, and a well-formed file with bytes overwritten, never panic; every problem names
/// the file and a line inside it.
#[test]
fn damaged_series_files_never_panic_and_every_problem_is_located() {
    let figures = Figures::new("series_damaged");
    let strategy = (
        prop::collection::vec(series_spec(), 1..4),
        prop::collection::vec((any::<Index>(), any::<u8>()), 0..8),
        prop::collection::vec(any::<u8>(), 0..256),
        any::<bool>(),
    );
    let result =
        runner("series_damaged", cases(500)).run(&strategy, |(specs, damage, raw, use_raw)| {
            let bytes = if use_raw {
                raw
            } else {
                let (mut bytes, _) = series_file(&specs, &[]);
                for (at, byte) in &damage {
                    let index = at.index(bytes.len());
                    bytes[index] = *byte;
                }
                bytes
            };
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let result = figures
                .borrow_mut()
                .time("damaged series", || series::read("d.csv", &bytes, None));
            if let Err(error) = result {
                for problem in error.problems() {
                    prop_assert_eq!(&problem.file, "d.csv");
                    if let Some(line) = problem.line {
                        prop_assert!(
                            (1..=lines).contains(&line),
                            "line {} of {}: {}",
                            line,
                            lines,
                            problem
                        );
                    }
                }
            }
            Ok(())
        });
    figures.into_inner().finish();
    failed(result);
}
