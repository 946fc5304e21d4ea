//! `flowline bench metrics`: the scorecard over many generated orders, cold and incremental,
//! side by side with DuckDB computing the same Level-1 numbers.
//!
//! Orders are generated through the real domain (`decide`, then `apply`) over one year: each is
//! placed and allocated, then either cancelled (by the customer, excluded; or by the seller, not
//! in full) or picked, packed, shipped and delivered, late or on time against its promise (or
//! without one), sometimes damaged; some get a credit note for a tax error, some a return for
//! damage in transit. Every event is folded as it is generated; the fold's time alone is the
//! cold figure (events per second, and the scorecard query on top). Optionally the events are
//! also appended to a SQLite log and the cold fold is measured again from the log (read,
//! decode, fold). Then one more day of orders is folded into the warm fold and the scorecard
//! queried again: the incremental figure.
//!
//! The same orders are written to a CSV file, one row per order with the facts the judgement
//! needs (placement, promise deadline, cancellation, delivery, damage, credit note and return
//! reasons and times), and DuckDB (the Python package, if installed) computes RL.1.1, RL.2.2 and
//! RS.1.1 from it with SQL; the bench prints both results and both times.

use crate::backend;
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::documents::return_auth::{AuthoriseReturn, ReturnLineInput};
use flowline_core::documents::sales_order::{
    CancelSalesOrder, DeliverShipment, DeliveryCondition, Initiator, InvoiceSalesOrder,
    IssueCreditNote, LineQuantity, OrderLineInput, PackSalesOrder, PickSalesOrder, PlaceSalesOrder,
    Promise, PromiseSource, ShipSalesOrder, ShortagePolicy,
};
use flowline_core::master::{
    Address, CarrierService, Condition, Coordinates, TimeZoneName, TransportMode,
};
use flowline_core::money::{Currency, Money};
use flowline_core::state::{
    ConfigureTenant, DefineCarrier, DefineItem, DefineLocation, SetReturnPolicy,
};
use flowline_core::{Command, Context, Event, State, apply, decide};
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::order::Rules;
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::scorecard;
use jiff::{SignedDuration, Timestamp};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `flowline bench metrics`.
#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// Orders generated over one year.
    #[arg(long, default_value_t = 1_000_000)]
    orders: u64,
    /// Also append the events to a SQLite log at this path and measure the cold fold from it.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Where to write the CSV export for DuckDB (a temporary file by default).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Skip DuckDB.
    #[arg(long)]
    no_duckdb: bool,
}

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound.max(1)
    }
}

fn id<T: std::str::FromStr>(text: &str) -> anyhow::Result<T> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("`{text}` is not a valid id"))
}

fn usd() -> anyhow::Result<Currency> {
    Currency::parse("USD").map_err(|error| anyhow::anyhow!("{}", error.0))
}

/// The generator: a tenant's state, deciding and applying commands, handing every event out.
struct Generator {
    state: State,
    events: u64,
}

impl Generator {
    /// Lets an order the script has finished with leave the generator's state: the generator
    /// only needs open work, and the fold's memory is what is measured.
    fn forget(&mut self, number: u64) {
        if let Ok(order) = format!("SO-{number}").parse::<flowline_core::id::SalesOrderId>() {
            self.state.sales_orders.remove(&order);
        }
        if let Ok(return_id) = format!("RMA-{number}").parse::<flowline_core::id::ReturnId>() {
            self.state.returns.remove(&return_id);
        }
    }

    fn run(&mut self, command: Command, at: Timestamp, sink: &mut Sink) -> anyhow::Result<()> {
        let events = decide(&self.state, &command, &Context { at })
            .map_err(|error| anyhow::anyhow!("generated command rejected: {error}"))?;
        for event in &events {
            apply(&mut self.state, event);
            sink.take(event, at);
            self.events += 1;
        }
        Ok(())
    }
}

/// What happened to one order, for the CSV.
struct Facts {
    placed_at: i64,
    deadline: Option<i64>,
    cancelled_by: &'static str,
    delivered_at: Option<i64>,
    damaged: bool,
    credit_reason: &'static str,
    return_reason: &'static str,
    return_at: Option<i64>,
}

const YEAR_START: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z

fn setup(generator: &mut Generator, sink: &mut Sink) -> anyhow::Result<()> {
    let at = Timestamp::from_second(YEAR_START - 86_400)?;
    let zone = TimeZoneName::parse("UTC").map_err(|error| anyhow::anyhow!(error))?;
    let commands = vec![
        Command::ConfigureTenant(ConfigureTenant {
            business_time: None,
            base_currency: usd()?,
            reporting_time_zone: zone.clone(),
        }),
        Command::DefineLocation(DefineLocation {
            capacity_orders_per_day: None,
            location: id("FC-1")?,
            name: "Central".into(),
            region: "us".into(),
            address: Address {
                recipient: None,
                lines: vec![],
                city: String::new(),
                region: String::new(),
                postal_code: String::new(),
                country: "US".into(),
                time_zone: zone.clone(),
                // Dallas, TX: every shipment's emissions take a great-circle distance.
                coordinates: Some(Coordinates {
                    latitude_microdegrees: 32_776_700,
                    longitude_microdegrees: -96_797_000,
                }),
            },
        }),
        Command::DefineCarrier(DefineCarrier {
            carrier: id("UPS")?,
            name: "UPS".into(),
            services: vec![CarrierService {
                code: id("ground")?,
                mode: TransportMode::Road,
                transit_days: 2,
            }],
        }),
        Command::SetReturnPolicy(SetReturnPolicy {
            policy: id("std")?,
            window_days: 30,
            refundable_conditions: vec![Condition::New],
        }),
        Command::DefineItem(DefineItem {
            sku: id("SKU")?,
            name: "Item".into(),
            unit: "each".into(),
            unit_cost: Money::new(500, usd()?),
            price: Money::new(1500, usd()?),
            weight_g: 800,
            dimensions: None,
            hs_code: None,
            country_of_origin: None,
            category: Some("general".into()),
            bom: None,
        }),
        Command::AdjustStock(AdjustStock {
            adjustment: id("OPENING")?,
            location: id("FC-1")?,
            reason: id("opening_balance")?,
            lines: vec![AdjustLineInput {
                sku: id("SKU")?,
                quantity: 1_000_000_000_000,
                unit_cost_minor: Some(500),
            }],
        }),
    ];
    for command in commands {
        generator.run(command, at, sink)?;
    }
    Ok(())
}

/// One order's life, through the domain; returns its facts.
fn order(
    generator: &mut Generator,
    number: u64,
    placed: Timestamp,
    rng: &mut Lcg,
    sink: &mut Sink,
) -> anyhow::Result<Facts> {
    let order: flowline_core::id::SalesOrderId = id(&format!("SO-{number}"))?;
    let zone = TimeZoneName::parse("UTC").map_err(|error| anyhow::anyhow!(error))?;
    let promised = rng.below(10) < 9;
    let deliver_by = placed
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(4))?;
    let deadline = deliver_by
        .tomorrow()?
        .to_zoned(jiff::tz::TimeZone::UTC)?
        .timestamp();
    generator.run(
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: order.clone(),
            channel: id(if number.is_multiple_of(3) {
                "marketplace"
            } else {
                "web"
            })?,
            customer: id("C-1")?,
            ship_to: Address {
                recipient: None,
                lines: vec![],
                city: String::new(),
                region: String::new(),
                postal_code: String::new(),
                country: "US".into(),
                time_zone: zone,
                // Ten ship-to points a degree of latitude apart, 30° to 39° N at 80° W.
                coordinates: Some(Coordinates {
                    latitude_microdegrees: 30_000_000 + (number % 10) as i32 * 1_000_000,
                    longitude_microdegrees: -80_000_000,
                }),
            },
            currency: usd()?,
            exchange_rate: None,
            lines: vec![OrderLineInput {
                sku: id("SKU")?,
                quantity: 1,
                unit_price_minor: 1500,
                unit_tax_minor: 0,
            }],
            promise: promised.then_some(Promise {
                source: PromiseSource::ShownAtCheckout,
                deliver_by: Some(deliver_by),
                window: None,
                ship_by: None,
            }),
            service_level: None,
            shipping_charge_minor: 0,
            allocate: Some(ShortagePolicy::Reject),
        }),
        placed,
        sink,
    )?;
    let mut facts = Facts {
        placed_at: placed.as_second(),
        deadline: promised.then(|| deadline.as_second()),
        cancelled_by: "",
        delivered_at: None,
        damaged: false,
        credit_reason: "",
        return_reason: "",
        return_at: None,
    };
    let roll = rng.below(100);
    if roll < 3 {
        let (initiator, reason, label) = if roll < 2 {
            (Initiator::Customer, "changed_mind", "customer")
        } else {
            (Initiator::Seller, "out_of_stock", "seller")
        };
        let at = placed + SignedDuration::from_hours(1);
        generator.run(
            Command::CancelSalesOrder(CancelSalesOrder {
                order,
                initiator,
                reason: id(reason)?,
                lines: None,
            }),
            at,
            sink,
        )?;
        facts.cancelled_by = label;
        return Ok(facts);
    }
    let lines = vec![LineQuantity {
        line: 0,
        quantity: 1,
    }];
    let shipped = placed + SignedDuration::from_mins(120 + rng.below(28 * 60) as i64);
    for command in [
        Command::PickSalesOrder(PickSalesOrder {
            order: order.clone(),
            location: id("FC-1")?,
            lines: lines.clone(),
        }),
        Command::PackSalesOrder(PackSalesOrder {
            order: order.clone(),
            location: id("FC-1")?,
            lines: lines.clone(),
            package: None,
        }),
        Command::ShipSalesOrder(ShipSalesOrder {
            order: order.clone(),
            shipment: id(&format!("SH-{number}"))?,
            location: id("FC-1")?,
            carrier: id("UPS")?,
            service: id("ground")?,
            tracking: None,
            weight_g: 900,
            lines,
        }),
    ] {
        generator.run(command, shipped, sink)?;
    }
    let delivered = shipped + SignedDuration::from_mins(24 * 60 + rng.below(72 * 60) as i64);
    let damaged = rng.below(100) < 3;
    generator.run(
        Command::DeliverShipment(DeliverShipment {
            order: order.clone(),
            shipment: id(&format!("SH-{number}"))?,
            delivered_at: Some(delivered),
            condition: if damaged {
                DeliveryCondition::Damaged
            } else {
                DeliveryCondition::Intact
            },
            misdelivered: false,
            note: None,
        }),
        delivered,
        sink,
    )?;
    facts.delivered_at = Some(delivered.as_second());
    facts.damaged = damaged;
    if rng.below(100) < 1 {
        let at = delivered + SignedDuration::from_hours(2);
        generator.run(
            Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: order.clone(),
                invoice: id(&format!("INV-{number}"))?,
            }),
            at,
            sink,
        )?;
        generator.run(
            Command::IssueCreditNote(IssueCreditNote {
                order: order.clone(),
                credit_note: id(&format!("CN-{number}"))?,
                amount: Money::new(100, usd()?),
                reason: id("tax_error")?,
            }),
            at,
            sink,
        )?;
        facts.credit_reason = "tax_error";
    }
    if rng.below(100) < 2 {
        let at = delivered + SignedDuration::from_hours(24 * (1 + rng.below(9) as i64));
        generator.run(
            Command::AuthoriseReturn(AuthoriseReturn {
                return_id: id(&format!("RMA-{number}"))?,
                order,
                policy: id("std")?,
                lines: vec![ReturnLineInput {
                    line: 0,
                    quantity: 1,
                    reason: id("damaged_in_transit")?,
                }],
            }),
            at,
            sink,
        )?;
        facts.return_reason = "damaged_in_transit";
        facts.return_at = Some(at.as_second());
    }
    Ok(facts)
}

fn fold_settings(keep: bool) -> anyhow::Result<FoldSettings> {
    Ok(FoldSettings {
        reporting: jiff::tz::TimeZone::UTC,
        base_currency: usd()?,
        rules: Rules::standard(),
        emissions: EmissionSettings::standard(),
        keep_settled_orders: keep,
    })
}

fn csv_row(out: &mut impl std::io::Write, number: u64, facts: &Facts) -> std::io::Result<()> {
    let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    writeln!(
        out,
        "SO-{number},{},{},{},{},{},{},{},{}",
        facts.placed_at,
        optional(facts.deadline),
        facts.cancelled_by,
        optional(facts.delivered_at),
        u8::from(facts.damaged),
        facts.credit_reason,
        facts.return_reason,
        optional(facts.return_at)
    )
}

const DUCKDB_SCRIPT: &str = r#"
import sys, time, duckdb
path = sys.argv[1]
query = """
WITH o AS (
  SELECT *,
    (delivered_at IS NOT NULL OR cancelled_by IS NOT NULL) AS closed,
    coalesce(cancelled_by = 'customer', false) AS excluded,
    (deadline IS NOT NULL) AS has_commit,
    coalesce(cancelled_by = 'seller', false) AS in_full_fail,
    coalesce(deadline IS NOT NULL AND delivered_at IS NOT NULL AND delivered_at >= deadline, false) AS late,
    coalesce(credit_reason IN ('billing_error', 'tax_error', 'price_error'), false) AS docs_fail,
    coalesce(damaged = 1, false)
      OR coalesce(return_reason IN ('damaged_in_transit', 'damaged', 'defective', 'not_as_described', 'expired')
                  AND return_at <= delivered_at + 30 * 86400, false) AS condition_fail
  FROM read_csv('PATH', header = true, columns = {
    'order_id': 'VARCHAR', 'placed_at': 'BIGINT', 'deadline': 'BIGINT', 'cancelled_by': 'VARCHAR',
    'delivered_at': 'BIGINT', 'damaged': 'INTEGER', 'credit_reason': 'VARCHAR',
    'return_reason': 'VARCHAR', 'return_at': 'BIGINT'})
)
SELECT
  count(*) FILTER (WHERE closed AND NOT excluded AND has_commit
                   AND NOT in_full_fail AND NOT late AND NOT docs_fail AND NOT condition_fail) AS perfect,
  count(*) FILTER (WHERE closed AND NOT excluded AND has_commit) AS committed,
  count(*) FILTER (WHERE closed AND NOT excluded AND has_commit AND NOT late) AS on_time,
  sum(delivered_at - placed_at) FILTER (WHERE closed AND NOT excluded AND delivered_at IS NOT NULL) AS cycle_seconds,
  count(*) FILTER (WHERE closed AND NOT excluded AND delivered_at IS NOT NULL) AS delivered
FROM o
""".replace('PATH', path)
start = time.perf_counter()
row = duckdb.sql(query).fetchall()[0]
elapsed = time.perf_counter() - start
print(f"{row[0]} {row[1]} {row[2]} {row[3]} {row[4]} {elapsed:.3f}")
"#;

/// Where generated events go: folded (timed) and, optionally, appended to a log.
struct Sink {
    fold: Fold,
    fold_time: Duration,
    log: Option<LogWriter>,
}

impl Sink {
    fn take(&mut self, event: &Event, at: Timestamp) {
        let started = Instant::now();
        self.fold.apply(event, EventTime { at });
        self.fold_time += started.elapsed();
        if let Some(log) = self.log.as_mut() {
            // A failed append ends the benchmark with the error at the next flush.
            log.push(event, at);
        }
    }
}

/// Appends generated events to a log file in batches, as the engine would have recorded them
/// (relaxed durability: the figure measured from it is reading, not writing).
struct LogWriter {
    store: Box<dyn flowline_store::Store>,
    tenant: flowline_core::id::TenantId,
    head: u64,
    pending: Vec<flowline_store::NewEvent>,
    failed: Option<String>,
}

impl LogWriter {
    fn create(path: &std::path::Path) -> anyhow::Result<Self> {
        if path.exists() {
            anyhow::bail!("{} exists; the benchmark writes a new log", path.display());
        }
        Ok(Self {
            store: backend::open_relaxed(path)?,
            tenant: flowline_core::id::TenantId::parse("bench")?,
            head: 0,
            pending: Vec::with_capacity(20_000),
            failed: None,
        })
    }

    fn push(&mut self, event: &Event, at: Timestamp) {
        self.pending.push(flowline_store::NewEvent {
            stream: event.stream(),
            event_type: event.type_name().to_string(),
            schema_version: Event::SCHEMA_VERSION,
            business_time: at,
            payload: event.to_json(),
        });
        if self.pending.len() >= 20_000
            && let Err(error) = self.flush()
        {
            self.failed = Some(error.to_string());
        }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(reason) = self.failed.take() {
            anyhow::bail!("appending to the log failed: {reason}");
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.pending);
        let count = events.len() as u64;
        self.store.append(&flowline_store::AppendRequest {
            tenant: self.tenant.clone(),
            expected_seq: self.head,
            recorded_at: Timestamp::from_second(YEAR_START)?,
            commands: vec![flowline_store::CommandRecord {
                events,
                expected: Vec::new(),
                idempotency: None,
            }],
            balances: Vec::new(),
        })?;
        self.head += count;
        Ok(())
    }
}

/// The payloads of the events this benchmark generates for `orders` orders over one year, with
/// the order mix drawn from `seed`, read back from a log as the cold-from-the-log figure reads
/// them. The same arguments give the same texts.
#[cfg(test)]
pub(crate) fn sample_payloads(seed: u64, orders: u64) -> anyhow::Result<Vec<String>> {
    let directory = tempfile::tempdir()?;
    let mut generator = Generator {
        state: State::default(),
        events: 0,
    };
    let mut sink = Sink {
        fold: Fold::new(fold_settings(false)?),
        fold_time: Duration::ZERO,
        log: Some(LogWriter::create(&directory.path().join("samples.db"))?),
    };
    setup(&mut generator, &mut sink)?;
    let mut rng = Lcg(seed);
    let seconds_per_order = (365 * 86_400) as f64 / orders.max(1) as f64;
    for number in 0..orders {
        let placed =
            Timestamp::from_second(YEAR_START + (number as f64 * seconds_per_order) as i64)?;
        order(&mut generator, number, placed, &mut rng, &mut sink)?;
        generator.forget(number);
    }
    let Some(mut log) = sink.log.take() else {
        anyhow::bail!("the sample log was not kept");
    };
    log.flush()?;
    let mut payloads = Vec::new();
    let mut after = 0;
    loop {
        let page = log.store.read_all(after, 10_000)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.position;
        payloads.extend(page.into_iter().map(|event| event.payload));
    }
    Ok(payloads)
}

/// Runs the benchmark and prints its figures.
pub fn metrics(args: &MetricsArgs) -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let csv_path = args
        .csv
        .clone()
        .unwrap_or_else(|| directory.path().join("orders.csv"));
    outln!(
        "flowline bench metrics: {} cores, {} orders over one year",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.orders
    );
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
    writeln!(
        csv,
        "order_id,placed_at,deadline,cancelled_by,delivered_at,damaged,credit_reason,return_reason,return_at"
    )?;
    let mut generator = Generator {
        state: State::default(),
        events: 0,
    };
    let log = match &args.log {
        Some(path) => Some(LogWriter::create(path)?),
        None => None,
    };
    let mut sink = Sink {
        fold: Fold::new(fold_settings(false)?),
        fold_time: Duration::ZERO,
        log,
    };
    setup(&mut generator, &mut sink)?;
    let mut rng = Lcg(2026);
    let seconds_per_order = (365 * 86_400) as f64 / args.orders.max(1) as f64;
    let generated = Instant::now();
    let warm_until = args.orders - args.orders / 365;
    for number in 0..warm_until {
        let placed =
            Timestamp::from_second(YEAR_START + (number as f64 * seconds_per_order) as i64)?;
        let facts = order(&mut generator, number, placed, &mut rng, &mut sink)?;
        csv_row(&mut csv, number, &facts)?;
        generator.forget(number);
    }
    let cold_events = generator.events;
    let cold_fold_time = sink.fold_time;
    let year = Range::of_dates(jiff::civil::date(2025, 1, 1), jiff::civil::date(2026, 2, 1));
    let as_of = Timestamp::from_second(YEAR_START + 400 * 86_400)?;
    let query_started = Instant::now();
    let cold = scorecard(&sink.fold, year, &Slice::All, as_of);
    let cold_query = query_started.elapsed();
    // The last day of orders, folded into the warm fold one event at a time.
    let before_increment = sink.fold_time;
    for number in warm_until..args.orders {
        let placed =
            Timestamp::from_second(YEAR_START + (number as f64 * seconds_per_order) as i64)?;
        let facts = order(&mut generator, number, placed, &mut rng, &mut sink)?;
        csv_row(&mut csv, number, &facts)?;
        generator.forget(number);
    }
    let increment_events = generator.events - cold_events;
    let increment_time = sink.fold_time - before_increment;
    let query_started = Instant::now();
    let warm = scorecard(&sink.fold, year, &Slice::All, as_of);
    let warm_query = query_started.elapsed();
    csv.flush()?;
    drop(csv);
    if let Some(log) = sink.log.as_mut() {
        log.flush()?;
    }
    let total_generation = generated.elapsed();
    outln!(
        "generated {} events ({} orders) in {:.1} s through the domain",
        generator.events,
        args.orders,
        total_generation.as_secs_f64()
    );
    outln!(
        "cold: folded {cold_events} events in {:.2} s ({:.0} events/s); scorecard of the year in {:.1} ms; {} orders in memory",
        cold_fold_time.as_secs_f64(),
        cold_events as f64 / cold_fold_time.as_secs_f64().max(1e-9),
        cold_query.as_secs_f64() * 1e3,
        sink.fold.orders_in_memory()
    );
    outln!(
        "incremental: folded the last day's {increment_events} events in {:.1} ms ({:.2} µs/event); scorecard again in {:.1} ms",
        increment_time.as_secs_f64() * 1e3,
        increment_time.as_secs_f64() * 1e6 / increment_events.max(1) as f64,
        warm_query.as_secs_f64() * 1e3
    );
    let perfect = warm.value("rl.perfect_order").map(|v| v.ratio);
    let on_time = warm.value("rl.on_time").map(|v| v.ratio);
    let cycle = warm.value("rs.order_cycle_time").map(|v| v.ratio);
    outln!("flowline: RL.1.1 {perfect:?}, RL.2.2 {on_time:?}, RS.1.1 seconds {cycle:?}");
    let _ = cold;
    let mut from_snapshot_time = None;
    if let Some(path) = &args.log {
        let store = backend::read(path)?;
        let tenant = flowline_core::id::TenantId::parse("bench")?;
        let started = Instant::now();
        let folded = flowline_server::scorecards::fold_log_cold(store.as_ref(), &tenant, false)?;
        let elapsed = started.elapsed();
        if let Some((from_log, head)) = folded {
            let card = scorecard(&from_log, year, &Slice::All, as_of);
            outln!(
                "cold from the log: read, decoded and folded {head} events in {:.2} s ({:.0} events/s); RL.1.1 {:?}",
                elapsed.as_secs_f64(),
                head as f64 / elapsed.as_secs_f64().max(1e-9),
                card.value("rl.perfect_order").map(|v| v.ratio)
            );
            // The same fold kept as a snapshot, then restored as a restarted process would.
            let (saved, restored, card) =
                from_snapshot(store.as_ref(), &tenant, &from_log, head, year, as_of)?;
            outln!(
                "cold from a snapshot: saved {head} events' fold ({:.1} MiB) in {:.2} s; restored it and computed the year's scorecard in {:.2} s; RL.1.1 {:?}",
                saved.1 as f64 / (1024.0 * 1024.0),
                saved.0.as_secs_f64(),
                restored.as_secs_f64(),
                card.value("rl.perfect_order").map(|v| v.ratio)
            );
            from_snapshot_time = Some(restored);
        }
    }
    if !args.no_duckdb {
        let script = directory.path().join("duckdb_scorecard.py");
        std::fs::write(&script, DUCKDB_SCRIPT)?;
        let output = std::process::Command::new("python3")
            .arg(&script)
            .arg(&csv_path)
            .output();
        match output {
            Ok(output) if output.status.success() => {
                let text = String::from_utf8_lossy(&output.stdout);
                let fields: Vec<&str> = text.split_whitespace().collect();
                if let [
                    perfect,
                    committed,
                    on_time,
                    cycle_seconds,
                    delivered,
                    seconds,
                ] = fields[..]
                {
                    outln!(
                        "duckdb: RL.1.1 {perfect}/{committed}, RL.2.2 {on_time}/{committed}, RS.1.1 seconds {cycle_seconds}/{delivered}, computed from {} in {seconds} s",
                        csv_path.display()
                    );
                    if let (Ok(duckdb_seconds), Some(restored)) =
                        (seconds.parse::<f64>(), from_snapshot_time)
                    {
                        outln!(
                            "ratio: duckdb scan / flowline restored from a snapshot with the scorecard = {:.2}",
                            duckdb_seconds / restored.as_secs_f64().max(1e-9)
                        );
                    }
                    if let Ok(duckdb_seconds) = seconds.parse::<f64>() {
                        outln!(
                            "ratio: duckdb scan / flowline cold fold = {:.2}; duckdb scan / flowline incremental scorecard = {:.0}",
                            duckdb_seconds / cold_fold_time.as_secs_f64().max(1e-9),
                            duckdb_seconds / (increment_time + warm_query).as_secs_f64().max(1e-9)
                        );
                    }
                } else {
                    outln!("duckdb printed: {text}");
                }
            }
            Ok(output) => outln!(
                "duckdb did not run (pip install duckdb): {}",
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
            Err(error) => outln!("duckdb did not run: {error}"),
        }
    }
    outln!(
        "peak RSS {:.0} MiB; now {:.0} MiB anonymous",
        crate::bench::peak_rss_mib(),
        crate::bench::rss_mib()
    );
    Ok(())
}

/// Saves `fold` (folded up to `head`) as the tenant's scorecard snapshot, then restores it as a
/// restarted process would and computes the scorecard of `range`: the time to save with the
/// snapshot's size, and the time to restore and compute.
fn from_snapshot(
    store: &dyn flowline_store::Store,
    tenant: &flowline_core::id::TenantId,
    fold: &Fold,
    head: u64,
    range: flowline_metrics::period::Range,
    as_of: Timestamp,
) -> anyhow::Result<(
    (std::time::Duration, usize),
    std::time::Duration,
    flowline_metrics::scorecard::Scorecard,
)> {
    let started = Instant::now();
    let bytes = flowline_engine::projections::save(store, tenant, fold, head)?;
    let saved = (started.elapsed(), bytes);
    let started = Instant::now();
    let Some((restored, restored_head)) =
        flowline_server::scorecards::fold_log(store, tenant, false)?
    else {
        anyhow::bail!("tenant {tenant} is not configured");
    };
    let card = scorecard(&restored, range, &Slice::All, as_of);
    let elapsed = started.elapsed();
    anyhow::ensure!(
        restored_head == head,
        "the restored fold reached event {restored_head}, not {head}"
    );
    Ok((saved, elapsed, card))
}
