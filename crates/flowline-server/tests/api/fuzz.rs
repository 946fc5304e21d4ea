//! Fuzzing of the server's parsers of untrusted input (RELIABILITY R5), as proptest generators in
//! the normal suite (cargo-fuzz needs a nightly toolchain):
//!
//! - `json_bodies`: every command of the operation table through [`body::command`], with bodies
//!   generated from the command's own schema in the OpenAPI document (so they reach the typed
//!   fields) and then mutated: byte-level damage, truncation, deep nesting, huge numbers,
//!   duplicate keys, odd unicode, a byte order mark, CRLF line ends; plus raw bytes.
//! - `api_queries`: [`handlers::query_params`] and [`handlers::page_limit`] on generated query
//!   strings, for the parameters of every operation.
//! - `json_largest`, `json_keys`: bodies filling the 1 MiB limit in their costliest shapes.
//! - `dashboard_queries`: the dashboard's [`dashboard::params`] and [`Picks::parse`], and the
//!   query it writes back; `dashboard_values`: [`parse_slice`] and [`parse_milli`].
//! - `scorecard_queries`: the scorecard's and metric drill-down's `from`, `to`, `period`, `by`,
//!   `slice`, `drill`, `limit` and `as_of` over real HTTP (their parsing is private to the
//!   handlers), against the real server on 127.0.0.1.
//!
//! Each call is timed, and one over [`SLOW`] fails the test: a bound on pathological inputs, not
//! a measure of speed. Every error must be a client error with the location its parser promises
//! (line and column, field path, or parameter name). Case counts keep the whole file to 6–25 s
//! in a debug build; `FLOWLINE_SOAK=1` multiplies them by 100, and `FLOWLINE_SEED`
//! replays a run. Each target prints its figures (cases, errors, slowest call) on stderr.

use crate::helpers::spawn_app;
use axum::extract::Query;
use axum::http::Uri;
use flowline_core::documents::{
    finance as fi, forecast as fc, improvement as im, inventory as inv, promotion as pm,
    purchase_order as po, replenishment as rp, return_auth as ra, sales_order as so,
    transfer as tr, work_order as wo,
};
use flowline_core::state as st;
use flowline_server::body;
use flowline_server::dashboard::plans::parse_milli;
use flowline_server::dashboard::{self, Picks, parse_slice};
use flowline_server::error::ApiError;
use flowline_server::handlers::{self, PAGE_LIMIT_MAX};
use flowline_server::routes::{self, QueryParameter};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The harness: seed, case counts, timing and figures.

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
    // Each target draws its own stream from the seed.
    let salt = target
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    bytes[8..16].copy_from_slice(&salt.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_time: 30_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Written to the process's stderr directly, so the figures show in CI logs although the test
/// harness captures `println!`.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// What one target saw: cases, errors, and the slowest call.
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

    /// Runs one parse, timing it; a call over [`SLOW`] fails with the input that caused it.
    fn time<T, E>(&mut self, input: &[u8], parse: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let started = Instant::now();
        let result = parse();
        let elapsed = started.elapsed();
        self.calls += 1;
        self.errors += u64::from(result.is_err());
        if elapsed > self.slowest {
            self.slowest = elapsed;
            self.slowest_input = shown(input);
        }
        assert!(
            elapsed <= SLOW,
            "{}: one input took {elapsed:?} (bound {SLOW:?}): {}",
            self.target,
            shown(input)
        );
        result
    }

    fn finish(&self) {
        report(&format!(
            "fuzz {}: {} calls, {} refused with an error, 0 panics, slowest {:.2} ms ({})",
            self.target,
            self.calls,
            self.errors,
            self.slowest.as_secs_f64() * 1000.0,
            self.slowest_input
        ));
    }
}

/// The start of an input, escaped, for messages.
fn shown(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(&input[..input.len().min(120)]).into_owned();
    let more = if input.len() > 120 {
        format!("… ({} bytes)", input.len())
    } else {
        String::new()
    };
    format!("{text:?}{more}")
}

/// A small deterministic generator for the schema walk (splitmix64), seeded by proptest.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Byte-level damage to a document.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, &'static str),
    Delete(Index, usize),
    Repeat(Index, usize),
}

/// Fragments that break parsers: structure, quotes, line ends, numbers at and past every
/// integer width, escapes of invalid code points, and unicode that is valid but unusual.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "\\",
    "\r\n",
    "\n",
    "\0",
    "null",
    "true",
    "-",
    "1e999",
    "-1e999",
    "1E400",
    "-0",
    "0.0000000000000000000001",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\u{feff}",
    "\u{202e}",
    "\u{200d}",
    "e\u{301}",
    "\u{1d11e}",
    "\u{fffd}",
    "\u{10ffff}",
    "%",
    "%FF",
    "%00",
    "&",
    "=",
    "+",
    "T",
    "/",
    ".",
    "..",
    "\t",
    " ",
];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::Truncate),
        (any::<Index>(), 1..=255u8).prop_map(|(at, bits)| Damage::Flip(at, bits)),
        (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(at, t)| Damage::Insert(at, t)),
        (any::<Index>(), 1..16usize).prop_map(|(at, n)| Damage::Delete(at, n)),
        (any::<Index>(), 1..64usize).prop_map(|(at, n)| Damage::Repeat(at, n)),
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

// ---------------------------------------------------------------------------------------------
// JSON command bodies.

type ParseFn = fn(&[u8], &[(&str, String)]) -> Result<(), ApiError>;

fn parse<C: DeserializeOwned>(bytes: &[u8], fields: &[(&str, String)]) -> Result<(), ApiError> {
    body::command::<C>(bytes, fields).map(|_| ())
}

/// Every command of the operation table with its type, as `routes.rs` lists them; a test below
/// fails if the table has a command this list lacks.
macro_rules! parsers {
    ($($id:ident => $($type:ident)::+,)*) => {
        &[$((stringify!($id), parse::<$($type)::+> as ParseFn)),*]
    };
}

const PARSERS: &[(&str, ParseFn)] = parsers! {
    configure_tenant => st::ConfigureTenant,
    define_item => st::DefineItem,
    define_location => st::DefineLocation,
    define_supplier => st::DefineSupplier,
    define_carrier => st::DefineCarrier,
    set_return_policy => st::SetReturnPolicy,
    place_sales_order => so::PlaceSalesOrder,
    allocate_sales_order => so::AllocateSalesOrder,
    deallocate_sales_order => so::DeallocateSalesOrder,
    hold_sales_order => so::HoldSalesOrder,
    release_sales_order => so::ReleaseSalesOrder,
    pick_sales_order => so::PickSalesOrder,
    pack_sales_order => so::PackSalesOrder,
    ship_sales_order => so::ShipSalesOrder,
    deliver_shipment => so::DeliverShipment,
    record_carrier_exception => so::RecordCarrierException,
    invoice_sales_order => so::InvoiceSalesOrder,
    issue_credit_note => so::IssueCreditNote,
    receive_payment => so::ReceivePayment,
    refund_payment => so::RefundPayment,
    cancel_sales_order => so::CancelSalesOrder,
    amend_sales_order => so::AmendSalesOrder,
    place_purchase_order => po::PlacePurchaseOrder,
    confirm_purchase_order => po::ConfirmPurchaseOrder,
    receive_purchase_order => po::ReceivePurchaseOrder,
    bill_purchase_order => po::BillPurchaseOrder,
    pay_purchase_order => po::PayPurchaseOrder,
    cancel_purchase_order => po::CancelPurchaseOrder,
    close_purchase_order => po::ClosePurchaseOrder,
    create_work_order => wo::CreateWorkOrder,
    start_work_order => wo::StartWorkOrder,
    complete_work_order => wo::CompleteWorkOrder,
    cancel_work_order => wo::CancelWorkOrder,
    authorise_return => ra::AuthoriseReturn,
    issue_return_label => ra::IssueReturnLabel,
    receive_return => ra::ReceiveReturn,
    inspect_return => ra::InspectReturn,
    dispose_return => ra::DisposeReturn,
    refund_return => ra::RefundReturn,
    close_return => ra::CloseReturn,
    create_transfer => tr::CreateTransfer,
    ship_transfer => tr::ShipTransfer,
    receive_transfer => tr::ReceiveTransfer,
    close_transfer => tr::CloseTransfer,
    cancel_transfer => tr::CancelTransfer,
    record_count => inv::RecordCount,
    adjust_stock => inv::AdjustStock,
    post_cost => fi::PostCost,
    acquire_fixed_asset => fi::AcquireFixedAsset,
    depreciate_fixed_asset => fi::DepreciateFixedAsset,
    dispose_fixed_asset => fi::DisposeFixedAsset,
    set_target => im::SetTarget,
    retire_target => im::RetireTarget,
    create_initiative => im::CreateInitiative,
    update_initiative => im::UpdateInitiative,
    propose_replenishment => rp::ProposeReplenishment,
    approve_proposal => rp::ApproveProposal,
    reject_proposal => rp::RejectProposal,
    publish_forecast => fc::PublishForecast,
    plan_promotion => pm::PlanPromotion,
    cancel_promotion => pm::CancelPromotion,
    set_inventory_policy => st::SetInventoryPolicy,
    clear_inventory_policy => st::ClearInventoryPolicy,
};

/// One command operation: its parser, the body fields its path gives, and its body schema.
struct CommandTarget {
    id: String,
    parse: ParseFn,
    path_fields: Vec<&'static str>,
    schema: Value,
}

/// The command operations of the table, each with its body schema from the OpenAPI document
/// and the component schemas it refers to.
fn command_targets() -> (Vec<CommandTarget>, Map<String, Value>) {
    let operations = routes::operations();
    let document = flowline_server::openapi::document(&operations);
    let components = document["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut targets = Vec::new();
    for operation in &operations {
        let Some(body) = &operation.body else {
            continue;
        };
        let parse = PARSERS
            .iter()
            .find(|(id, _)| *id == operation.id)
            .map(|(_, parse)| *parse)
            .unwrap_or_else(|| panic!("{} has no parser in the fuzz table", operation.id));
        let method = operation.method.as_str().to_ascii_lowercase();
        let schema = document["paths"][&operation.path][&method]["requestBody"]["content"]
            ["application/json"]["schema"]
            .clone();
        assert!(schema.is_object(), "{}: no body schema", operation.id);
        targets.push(CommandTarget {
            id: operation.id.clone(),
            parse,
            path_fields: body.path_fields.iter().map(|(_, field)| *field).collect(),
            schema,
        });
    }
    (targets, components)
}

/// Values drawn from the JSON Schema of a body: valid documents to start mutating from.
struct Generator<'a> {
    components: &'a Map<String, Value>,
    dice: Dice,
}

impl Generator<'_> {
    fn value(&mut self, schema: &Value, name: &str, depth: usize) -> Value {
        if depth > 12 {
            return Value::Null;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name_of = reference.rsplit('/').next().unwrap_or("");
            let target = self.components.get(name_of).cloned().unwrap_or(json!({}));
            return self.value(&target, name, depth + 1);
        }
        if let Some(constant) = schema.get("const") {
            return constant.clone();
        }
        if let Some(Value::Array(choices)) = schema.get("enum") {
            return self.dice.pick(choices).clone();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(choices)) = schema.get(key) {
                let choice = self.dice.pick(choices).clone();
                let mut merged = schema.clone();
                if let Some(object) = merged.as_object_mut() {
                    object.remove(key);
                    if let Some(choice) = choice.as_object() {
                        for (k, v) in choice {
                            object.insert(k.clone(), v.clone());
                        }
                    }
                }
                return self.value(&merged, name, depth + 1);
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(fields) = self.value(part, name, depth + 1) {
                    merged.extend(fields);
                }
            }
            return Value::Object(merged);
        }
        let kind = match schema.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            Some(Value::Array(kinds)) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                let non_null: Vec<&str> = kinds.iter().copied().filter(|k| *k != "null").collect();
                if non_null.is_empty() || self.dice.chance(6) {
                    (*self.dice.pick(&kinds)).to_string()
                } else {
                    (*self.dice.pick(&non_null)).to_string()
                }
            }
            _ if schema.get("properties").is_some() => "object".to_string(),
            _ => "string".to_string(),
        };
        match kind.as_str() {
            "object" => self.object(schema, depth),
            "array" => {
                let low = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
                let high = schema
                    .get("maxItems")
                    .and_then(Value::as_u64)
                    .map_or(low + 3, |high| (high as usize).min(low + 3));
                let count = low + self.dice.below(high - low + 1);
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                Value::Array(
                    (0..count)
                        .map(|_| self.value(&items, name, depth + 1))
                        .collect(),
                )
            }
            "integer" => Value::from(self.integer(schema)),
            "number" => json!(self.dice.below(10_000) as f64 / 100.0),
            "boolean" => Value::Bool(self.dice.chance(2)),
            "null" => Value::Null,
            _ => Value::String(self.string(schema, name)),
        }
    }

    fn object(&mut self, schema: &Value, depth: usize) -> Value {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut object = Map::new();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                if required.contains(&name.as_str()) || self.dice.chance(2) {
                    let value = self.value(property, name, depth + 1);
                    object.insert(name.clone(), value);
                }
            }
        }
        Value::Object(object)
    }

    fn integer(&mut self, schema: &Value) -> i64 {
        let low = schema
            .get("minimum")
            .and_then(Value::as_i64)
            .or_else(|| {
                schema
                    .get("exclusiveMinimum")
                    .and_then(Value::as_i64)
                    .map(|low| low + 1)
            })
            .unwrap_or(0);
        let high = schema
            .get("maximum")
            .and_then(Value::as_i64)
            .unwrap_or(low.saturating_add(1000));
        match self.dice.below(8) {
            0 => low,
            1 => high,
            _ => {
                let span = high.saturating_sub(low).clamp(0, 1000) as usize;
                low + self.dice.below(span + 1) as i64
            }
        }
    }

    fn string(&mut self, schema: &Value, name: &str) -> String {
        let pattern = schema.get("pattern").and_then(Value::as_str).unwrap_or("");
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        if pattern == "^[A-Z]{3}$" {
            return (*self.dice.pick(&["USD", "EUR", "BRL", "JPY", "KWD"])).to_string();
        }
        if format == "date-time" || name.ends_with("_at") {
            let day = 1 + self.dice.below(28);
            return format!("2026-0{}-{day:02}T10:00:00Z", 1 + self.dice.below(9));
        }
        if format == "date" || name.ends_with("_on") || name.ends_with("_by") {
            return format!("2026-03-{:02}", 1 + self.dice.below(28));
        }
        if name.contains("time_zone") {
            return (*self
                .dice
                .pick(&["UTC", "America/Sao_Paulo", "Europe/Berlin"]))
            .to_string();
        }
        if name == "country" {
            return (*self.dice.pick(&["DE", "US", "BR"])).to_string();
        }
        if pattern.starts_with("^[A-Za-z0-9]") {
            let stems = ["SO", "PO", "FC", "SKU", "A", "x"];
            return format!("{}-{}", self.dice.pick(&stems), self.dice.below(50));
        }
        let words = ["mug", "Harbor & Pine", "note", "a", "Zoë", "東京"];
        let word = (*self.dice.pick(&words)).to_string();
        let max = schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .unwrap_or(64) as usize;
        word.chars().take(max.max(1)).collect()
    }
}

/// The pointers of every leaf (and of every object and array) of a value.
fn pointers(value: &Value, at: String, into: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                pointers(
                    field,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    into,
                );
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{index}"), into);
            }
        }
        _ => {}
    }
    into.push(at);
}

/// How a generated body is changed before it is parsed.
#[derive(Debug, Clone)]
enum Change {
    /// Left valid.
    None,
    /// Damaged byte by byte.
    Bytes(Vec<Damage>),
    /// One value replaced by arrays or objects nested this deep.
    Nest(usize, bool),
    /// One value replaced by a number at or past the limits of every integer width.
    Huge(&'static str),
    /// A top-level key written twice.
    DuplicateKey,
    /// One value replaced by a string of unusual unicode.
    Unicode(&'static str, usize),
    /// A byte order mark in front.
    Bom,
    /// Pretty-printed with CRLF line ends.
    Crlf,
    /// Raw bytes instead of the body.
    Raw(Vec<u8>),
}

const HUGE: &[&str] = &[
    "1e999",
    "-1e999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890123456789",
    "0.1e-999",
    "4.9e-324",
    "-0",
    "1.0",
];

const ODD: &[&str] = &[
    "\u{202e}gnp.exe",
    "a\u{200d}b",
    "e\u{301}\u{301}\u{301}",
    "\u{1f600}",
    "\u{feff}",
    "\u{0}",
    "\u{fffd}",
    "\u{10ffff}",
    "\r\n",
    "..",
    "a/b",
    "",
    " ",
];

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => Just(Change::None),
        4 => prop::collection::vec(damage(), 1..5).prop_map(Change::Bytes),
        1 => (1..400usize, any::<bool>()).prop_map(|(depth, arrays)| Change::Nest(depth, arrays)),
        1 => prop::sample::select(HUGE).prop_map(Change::Huge),
        1 => Just(Change::DuplicateKey),
        1 => (prop::sample::select(ODD), 1..1200usize).prop_map(|(text, n)| Change::Unicode(text, n)),
        1 => Just(Change::Bom),
        1 => Just(Change::Crlf),
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Change::Raw),
    ]
}

/// The body as bytes after the change, and the nesting depth it added, if any.
fn changed(value: &Value, change: &Change, dice: &mut Dice) -> Vec<u8> {
    let compact = serde_json::to_vec(value).unwrap();
    let mut leaves = Vec::new();
    pointers(value, String::new(), &mut leaves);
    let mut replace = |replacement: Value| -> Value {
        let mut copy = value.clone();
        let pointer = dice.pick(&leaves).clone();
        if pointer.is_empty() {
            return replacement;
        }
        if let Some(slot) = copy.pointer_mut(&pointer) {
            *slot = replacement;
        }
        copy
    };
    const MARK: &str = "@@HUGE@@";
    match change {
        Change::None => compact,
        Change::Bytes(damages) => {
            let mut bytes = compact;
            for damage in damages {
                apply(&mut bytes, damage);
            }
            bytes
        }
        Change::Nest(depth, arrays) => {
            let mut nested = json!(1);
            for _ in 0..*depth {
                nested = if *arrays {
                    json!([nested])
                } else {
                    json!({ "a": nested })
                };
            }
            // serde_json's own writer recurses too, but 400 levels is far from its stack's limit.
            serde_json::to_vec(&replace(nested)).unwrap()
        }
        Change::Huge(number) => {
            let text = serde_json::to_string(&replace(Value::String(MARK.into()))).unwrap();
            text.replace(&format!("\"{MARK}\""), number).into_bytes()
        }
        Change::DuplicateKey => {
            let text = String::from_utf8(compact).unwrap();
            let Some(Value::Object(fields)) = Some(value) else {
                return text.into_bytes();
            };
            let Some((key, field)) = fields.iter().next() else {
                return text.into_bytes();
            };
            let pair = format!("{}:{},", serde_json::to_string(key).unwrap(), field);
            text.replacen('{', &format!("{{{pair}"), 1).into_bytes()
        }
        Change::Unicode(text, count) => {
            serde_json::to_vec(&replace(Value::String(text.repeat(*count)))).unwrap()
        }
        Change::Bom => [b"\xEF\xBB\xBF".as_slice(), &compact].concat(),
        Change::Crlf => serde_json::to_string_pretty(value)
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes(),
        Change::Raw(bytes) => bytes.clone(),
    }
}

/// Every error of a body parser is a client error with the location it promises.
fn check_body_error(error: &ApiError, target: &CommandTarget, input: &[u8]) {
    let problem = error.problem();
    let context = || format!("{}: {:?} for {}", target.id, problem, shown(input));
    assert!(error.status().is_client_error(), "{}", context());
    match error.code().as_str() {
        "malformed_json" => {
            assert!(problem.details["line"].as_u64() >= Some(1), "{}", context());
            assert!(problem.details["column"].is_u64(), "{}", context());
        }
        "invalid_body" => {
            assert!(problem.details["field"].is_string(), "{}", context());
            assert!(
                problem.details["reason"]
                    .as_str()
                    .is_some_and(|reason| !reason.is_empty()),
                "{}",
                context()
            );
        }
        "field_in_path" => {
            let field = problem.details["field"].as_str().unwrap_or("");
            assert!(target.path_fields.contains(&field), "{}", context());
        }
        other => panic!("unexpected code {other}: {}", context()),
    }
}

#[test]
fn every_command_type_of_the_operation_table_is_fuzzed() {
    let (targets, _) = command_targets();
    // One parser per command operation, and no parser for an operation that is gone.
    assert_eq!(targets.len(), PARSERS.len());
}

#[test]
fn generated_bodies_reach_every_commands_typed_fields() {
    // Unchanged bodies drawn from each command's schema are mostly accepted: the generator
    // gets past the shape checks, so the mutations below damage documents the parser would
    // otherwise take whole, not ones it refuses at the first field.
    let (targets, components) = command_targets();
    for target in &targets {
        let mut generator = Generator {
            components: &components,
            dice: Dice(seed() ^ target.id.len() as u64),
        };
        let fields: Vec<(&str, String)> = target
            .path_fields
            .iter()
            .map(|field| (*field, "ID-1".to_string()))
            .collect();
        let mut accepted = 0;
        let mut last_error = None;
        for _ in 0..20 {
            let value = generator.value(&target.schema, "", 0);
            let bytes = serde_json::to_vec(&value).unwrap();
            match (target.parse)(&bytes, &fields) {
                Ok(()) => accepted += 1,
                Err(error) => last_error = Some((error.problem(), value)),
            }
        }
        assert!(
            accepted > 0,
            "{}: none of 20 accepted; last {last_error:?}",
            target.id
        );
    }
}

#[test]
fn json_command_bodies_never_panic_and_every_error_is_located() {
    let (targets, components) = command_targets();
    let figures = Figures::new("json_bodies");
    let accepted = RefCell::new(0u64);
    let strategy = (0..targets.len(), any::<u64>(), change(), any::<bool>());
    let result =
        runner("json_bodies", cases(6_000)).run(&strategy, |(which, dice, change, with_time)| {
            let target = &targets[which];
            let mut generator = Generator {
                components: &components,
                dice: Dice(dice),
            };
            let mut value = generator.value(&target.schema, "", 0);
            if with_time && let Value::Object(fields) = &mut value {
                fields.insert(
                    "occurred_at".into(),
                    json!(*generator.dice.pick(&[
                        "2026-03-01T09:30:00Z",
                        "9999-12-31T23:59:59Z",
                        "-009999-01-01T00:00:00Z",
                        "2026-02-30T00:00:00Z",
                        "2026-03-01T09:30:00+25:00",
                        "yesterday",
                    ])),
                );
            }
            let bytes = changed(&value, &change, &mut generator.dice);
            let fields: Vec<(&str, String)> = target
                .path_fields
                .iter()
                .map(|field| (*field, format!("P-{}", generator.dice.below(9))))
                .collect();
            let result = figures
                .borrow_mut()
                .time(&bytes, || (target.parse)(&bytes, &fields));
            match &result {
                Ok(()) => *accepted.borrow_mut() += 1,
                Err(error) => check_body_error(error, target, &bytes),
            }
            match change {
                // An object naming a key twice is refused at the parser, whatever the key.
                Change::DuplicateKey if value.as_object().is_some_and(|o| !o.is_empty()) => {
                    let error = result.as_ref().expect_err("a duplicate key was accepted");
                    prop_assert_eq!(error.code(), "malformed_json");
                    prop_assert!(error.message().contains("appears twice"), "{:?}", error);
                }
                // serde_json stops at 128 levels; the body's own object is one of them.
                Change::Nest(depth, _) if depth > 130 => {
                    let error = result.as_ref().expect_err("deep nesting was accepted");
                    prop_assert_eq!(error.code(), "malformed_json");
                }
                _ => {}
            }
            if matches!(change, Change::Crlf) {
                // CRLF and indentation are whitespace: the outcome is the compact body's.
                let compact = serde_json::to_vec(&value).unwrap();
                let plain = (target.parse)(&compact, &fields);
                prop_assert_eq!(
                    plain.as_ref().map_err(ApiError::code).err(),
                    result.as_ref().map_err(ApiError::code).err()
                );
            }
            Ok(())
        });
    let figures = figures.into_inner();
    figures.finish();
    report(&format!(
        "fuzz json_bodies: {} bodies accepted",
        accepted.into_inner()
    ));
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

#[test]
fn raw_bytes_as_json_never_panic() {
    let figures = Figures::new("json_raw");
    let result = runner("json_raw", cases(3_000)).run(
        &prop::collection::vec(any::<u8>(), 0..4096),
        |bytes| {
            let result = figures
                .borrow_mut()
                .time(&bytes, || body::parse_json(&bytes));
            if let Err(error) = result {
                prop_assert_eq!(error.code(), "malformed_json");
                prop_assert!(error.problem().details["line"].as_u64() >= Some(1));
            }
            Ok(())
        },
    );
    figures.into_inner().finish();
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

#[test]
fn bodies_of_the_largest_size_in_their_worst_shapes_parse_within_the_bound() {
    // The shapes that cost the JSON reader most per byte, each filling the 1 MiB body limit:
    // one long array of numbers, many strings of the longest length accepted, and nesting to
    // just under the depth limit, repeated. Each is read as the body of one command in eleven.
    let limit = body::BODY_LIMIT_BYTES;
    let numbers = format!("{{\"lines\": [{}]}}", vec!["1"; (limit - 16) / 2].join(","));
    let longest = format!("\"{}\"", "s".repeat(body::STRING_LENGTH_MAX));
    let strings = format!("{{\"note\": [{}]}}", vec![longest; limit / 4200].join(","));
    let nest = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    let nested = format!("{{\"lines\": [{}]}}", vec![nest; limit / 250].join(","));
    let (targets, _) = command_targets();
    let mut figures = Figures::new("json_largest").into_inner();
    for text in [numbers, strings, nested] {
        assert!(text.len() <= limit, "{}", text.len());
        // The reading is the same for every command; a few of them cover the typed step.
        for target in targets.iter().step_by(11) {
            // Refused or not (none of these is a command), within the bound.
            let _ = figures.time(text.as_bytes(), || (target.parse)(text.as_bytes(), &[]));
        }
    }
    figures.finish();
}

#[test]
fn an_object_of_many_keys_costs_time_in_proportion_to_its_keys() {
    // Every key is checked against those before it (duplicates are refused), so a quadratic
    // check would make 65,536 keys (the most a 1 MiB body holds) cost 16 times what 4 times
    // fewer cost, not 4. A debug build reads the full body in 0.2 s, and in 0.6 s under load
    // (plain serde_json into a `Value`: 0.35 s), too close to the 1 s bound to assert it, so
    // this target bounds the growth instead: the full body may cost at most 8 times the quarter (twice linear, for
    // noise), plus 50 ms.
    let object = |count: usize| {
        let pairs: Vec<String> = (0..count).map(|i| format!("\"k{i:07}\":1")).collect();
        format!("{{{}}}", pairs.join(","))
    };
    let full = object(body::BODY_LIMIT_BYTES / 16);
    let quarter = object(body::BODY_LIMIT_BYTES / 64);
    assert!(full.len() <= body::BODY_LIMIT_BYTES);
    // The fastest of five runs each: a run slowed by another process on a shared machine
    // says nothing about the parser.
    let time = |text: &str| {
        (0..5)
            .map(|_| {
                let started = Instant::now();
                let parsed = body::parse_json(text.as_bytes());
                assert!(parsed.is_ok());
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let (quarter_time, full_time) = (time(&quarter), time(&full));
    report(&format!(
        "fuzz json_keys: 16,384 keys {quarter_time:?}, 65,536 keys {full_time:?}"
    ));
    assert!(
        full_time <= quarter_time * 8 + Duration::from_millis(50),
        "{quarter_time:?} then {full_time:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Query strings.

/// Values that query parameters get wrong: numbers at and past every limit, dates that do not
/// exist or lie at the ends of the calendar, encodings that decode to nothing sound.
const QUERY_VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "100",
    "1000",
    "1001",
    "-1",
    "+5",
    "18446744073709551616",
    "1e3",
    "0x10",
    "2026-03-01",
    "2026-02-30",
    "2026-13-01",
    "9999-12-31",
    "-009999-01-01",
    "0000-01-01",
    "2026-3-1",
    "2016-10-16",
    "2026-03-01T09:30:00Z",
    "2026-03-01T25:00:00Z",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "DAY",
    "channel",
    "center",
    "carrier",
    "supplier",
    "sku",
    "category",
    "region",
    "all",
    "channel:web",
    "channel:",
    ":web",
    "sku:%FF",
    "center:FC-1",
    "level2",
    "signatures",
    "documents",
    "%00",
    "%FF%FE",
    "%E2%80%AE",
    "%F0%9F%98%80",
    "%",
    "%%",
    "%2",
    "a+b",
    "..",
    "a/b",
    "é",
    "SO-1",
];

/// Names: the operation's own, and some it does not take.
const OTHER_NAMES: &[&str] = &[
    "unknown", "LIMIT", "api_key", "limit[]", "%6Cimit", "", "from ",
];

#[derive(Debug, Clone)]
struct QueryCase {
    pairs: Vec<(Index, Index, Option<String>)>,
    separator: &'static str,
    damages: Vec<Damage>,
}

fn query_case() -> impl Strategy<Value = QueryCase> {
    (
        prop::collection::vec(
            (
                any::<Index>(),
                any::<Index>(),
                prop::option::weighted(0.15, "[a-zA-Z0-9%+:/.é-]{0,40}"),
            ),
            0..6,
        ),
        prop::sample::select(&["&", "&", "&", ";", "&&"][..]),
        prop::collection::vec(damage(), 0..3),
    )
        .prop_map(|(pairs, separator, damages)| QueryCase {
            pairs,
            separator,
            damages,
        })
}

/// The query string of a case, for an operation taking `names`.
fn query_text(case: &QueryCase, names: &[&str]) -> Vec<u8> {
    let mut all: Vec<&str> = names.to_vec();
    all.extend(names);
    all.extend(OTHER_NAMES);
    let pairs: Vec<String> = case
        .pairs
        .iter()
        .map(|(name, value, free)| {
            let value = free
                .clone()
                .unwrap_or_else(|| value.get(QUERY_VALUES).to_string());
            format!("{}={value}", name.get(&all))
        })
        .collect();
    let mut bytes = pairs.join(case.separator).into_bytes();
    for damage in &case.damages {
        apply(&mut bytes, damage);
    }
    bytes
}

/// A request target `/x?<query>`, if the bytes can be one (hyper refuses the rest before any
/// handler sees them).
fn target_of(query: &[u8]) -> Option<Uri> {
    let mut target = b"/x?".to_vec();
    target.extend_from_slice(query);
    Uri::try_from(target).ok()
}

#[test]
fn api_query_strings_never_panic_and_name_the_parameter() {
    let operations = routes::operations();
    let queries: Vec<(String, &'static [QueryParameter])> = operations
        .iter()
        .map(|operation| (operation.id.clone(), operation.query))
        .collect();
    let figures = Figures::new("api_queries");
    let result = runner("api_queries", cases(6_000)).run(
        &(any::<Index>(), query_case()),
        |(which, case)| {
            let (id, allowed) = which.get(&queries);
            let names: Vec<&str> = allowed.iter().map(|parameter| parameter.name).collect();
            let query = query_text(&case, &names);
            let Some(uri) = target_of(&query) else {
                return Ok(());
            };
            let parsed = figures.borrow_mut().time(&query, || {
                let params = handlers::query_params(Query::try_from_uri(&uri), allowed)?;
                let limit = names
                    .contains(&"limit")
                    .then(|| handlers::page_limit(&params))
                    .transpose()?;
                Ok::<_, ApiError>((params, limit))
            });
            match parsed {
                Ok((params, limit)) => {
                    for name in params.keys() {
                        prop_assert!(names.contains(&name.as_str()), "{id}: took {name}");
                    }
                    if let Some(limit) = limit {
                        prop_assert!((1..=PAGE_LIMIT_MAX).contains(&limit), "{id}: {limit}");
                        // No `limit` asked for: the default of 100.
                        if !params.contains_key("limit") {
                            prop_assert_eq!(limit, 100);
                        }
                    }
                }
                Err(error) => {
                    prop_assert_eq!(error.code(), "invalid_query");
                    prop_assert!(error.status().is_client_error());
                    let parameter = error.problem().details["parameter"].clone();
                    prop_assert!(parameter.is_string(), "{:?}", error);
                }
            }
            Ok(())
        },
    );
    figures.into_inner().finish();
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

/// The dashboard's custom ranges are at most ten years of days (`RANGE_DAYS_MAX`).
const RANGE_DAYS_MAX: i64 = 3_660;

#[test]
fn dashboard_query_strings_never_panic_and_name_the_parameter() {
    let names = ["period", "at", "from", "to", "slice", "as_of", "next"];
    let figures = Figures::new("dashboard_queries");
    let result = runner("dashboard_queries", cases(6_000)).run(&query_case(), |case| {
        let query = query_text(&case, &names);
        let Some(uri) = target_of(&query) else {
            return Ok(());
        };
        let picks = figures.borrow_mut().time(&query, || {
            let params = dashboard::params(Query::try_from_uri(&uri))?;
            Picks::parse(&params)
        });
        match picks {
            Ok(picks) => {
                if let (Some(from), Some(to)) = (picks.from, picks.to) {
                    // Worked independently of the parser: the span between the dates in days.
                    let days = to.since(from).unwrap().get_days();
                    prop_assert!(days >= 1 && i64::from(days) <= RANGE_DAYS_MAX, "{days}");
                }
                // The query the dashboard writes for these picks reads back as the same picks.
                let range = match (picks.from, picks.to) {
                    (Some(from), Some(to)) => flowline_metrics::period::Range::of_dates(from, to),
                    _ => picks
                        .granularity
                        .period_of(picks.at.unwrap_or(jiff::civil::date(2026, 3, 1))),
                };
                let written = picks.query(range);
                let uri =
                    target_of(written.as_bytes()).expect("the dashboard writes a valid query");
                let params = dashboard::params(Query::try_from_uri(&uri));
                let again = params.and_then(|params| Picks::parse(&params));
                let again = again.unwrap_or_else(|error| panic!("{written}: {error:?}"));
                prop_assert_eq!(again.slice, picks.slice);
                if picks.from.is_none() {
                    prop_assert_eq!(again.granularity, picks.granularity);
                } else {
                    prop_assert_eq!((again.from, again.to), (picks.from, picks.to));
                }
            }
            Err(error) => {
                prop_assert_eq!(error.code(), "invalid_query");
                let parameter = error.problem().details["parameter"].clone();
                let parameter = parameter.as_str().unwrap_or("?").to_string();
                // A repeated name is refused whatever it is; otherwise a parameter of the picks.
                let repeated = error.message().contains("given more than once");
                prop_assert!(
                    repeated
                        || ["", "period", "at", "from", "to", "slice", "as_of"]
                            .contains(&parameter.as_str()),
                    "{parameter}"
                );
            }
        }
        Ok(())
    });
    figures.into_inner().finish();
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

#[test]
fn slices_and_decimals_of_the_dashboard_read_back_as_written() {
    let figures = Figures::new("dashboard_values");
    let strategy = prop_oneof![
        "[a-z]{0,9}:?[a-zA-Z0-9 :é-]{0,12}",
        "-?[0-9]{0,22}(\\.[0-9]{0,5})?",
        " ?-?[0-9.eE+,-]{0,12} ?",
        any::<String>(),
    ];
    let result = runner("dashboard_values", cases(6_000)).run(&strategy, |text| {
        let slice = figures
            .borrow_mut()
            .time(text.as_bytes(), || parse_slice(&text));
        match slice {
            // A slice is `all` or `dimension:value`; it writes back with the dimension's own
            // name (an alias such as `fc` for `center` becomes the name) and the same value, and
            // what it writes reads back as the same slice.
            Ok(slice) => {
                let written = slice.to_string();
                let value = |text: &str| text.split_once(':').map(|(_, value)| value.to_string());
                prop_assert_eq!(value(&written), value(&text));
                prop_assert_eq!(parse_slice(&written).ok(), Some(slice));
            }
            Err(error) => prop_assert_eq!(error.code(), "invalid_query"),
        }
        let milli = figures
            .borrow_mut()
            .time(text.as_bytes(), || parse_milli(&text));
        if let Ok(milli) = milli {
            // Written back as a decimal with three places, the value must equal the input read
            // as a decimal: compare digit strings, the whole part without leading zeros and the
            // fraction padded to three places.
            let trimmed = text.trim();
            let (negative, digits) = match trimmed.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, trimmed),
            };
            let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
            let whole = whole.trim_start_matches('0');
            let expected = format!("{}{whole}.{fraction:0<3}", if negative { "-" } else { "" });
            let magnitude = milli.unsigned_abs();
            let sign = if milli < 0 || (negative && milli == 0) {
                "-"
            } else {
                ""
            };
            let whole_written = (magnitude / 1000).to_string();
            let whole_written = whole_written.trim_start_matches('0');
            let written = format!("{sign}{whole_written}.{:03}", magnitude % 1000);
            prop_assert_eq!(written, expected, "{:?}", text);
        }
        Ok(())
    });
    figures.into_inner().finish();
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

/// Percent-encodes all but the unreserved characters, so the query reaches the server as sent.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scorecard_query_strings_over_http_never_fail_the_server() {
    // The scorecard's own parsing (dates, range, period, dimension, slice, drill, as_of) is
    // private to its handlers, so this target asks the real server, with a configured tenant
    // and no events: every answer is 200, 400 naming a parameter, or 404 for an unknown metric.
    let app = spawn_app().await;
    let tenant = app.tenant("fuzz", Some("USD")).await;
    let names = [
        "from", "to", "period", "by", "as_of", "slice", "drill", "limit",
    ];
    let mut values: Vec<String> = QUERY_VALUES.iter().map(|value| value.to_string()).collect();
    values.extend(["2016-01-01", "2025-12-31", "2026-01-01", "1970-01-01"].map(String::from));
    let metrics = [
        "rl.perfect_order",
        "rs.order_cycle_time",
        "rs.segment.x",
        "co.cost.y",
        "x",
    ];
    let count = cases(400) as usize;
    let mut dice = Dice(seed());
    let mut figures = Figures::new("scorecard_queries").into_inner();
    let mut statuses = BTreeMap::new();
    for case in 0..count {
        let pairs: Vec<String> = (0..dice.below(5))
            .map(|_| {
                let value: &String = dice.pick(&values);
                let value = encoded(value);
                format!("{}={value}", dice.pick(&names))
            })
            .collect();
        let query = pairs.join("&");
        let path = if case % 2 == 0 {
            format!("/v1/scorecard?{query}")
        } else {
            format!("/v1/metrics/{}?{query}", dice.pick(&metrics))
        };
        let started = Instant::now();
        let reply = app.get(&tenant.viewer, &path).await;
        let elapsed = started.elapsed();
        figures.calls += 1;
        figures.errors += u64::from(reply.status != 200);
        if elapsed > figures.slowest {
            figures.slowest = elapsed;
            figures.slowest_input = path.clone();
        }
        assert!(elapsed <= SLOW, "{path} took {elapsed:?}");
        *statuses.entry(reply.status.as_u16()).or_insert(0u32) += 1;
        match reply.status.as_u16() {
            200 => {}
            400 => {
                assert_eq!(reply.code(), "invalid_query", "{path}: {}", reply.text());
                let parameter = reply.json()["details"]["parameter"].clone();
                let parameter = parameter.as_str().unwrap_or("?").to_string();
                assert!(
                    parameter.is_empty() || names.contains(&parameter.as_str()),
                    "{path}: {parameter}"
                );
            }
            404 => assert_eq!(reply.code(), "not_found", "{path}"),
            other => panic!("{path}: {other} {}", reply.text()),
        }
    }
    figures.finish();
    report(&format!("fuzz scorecard_queries: statuses {statuses:?}"));
    app.finish().await;
}
