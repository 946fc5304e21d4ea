//! The model: demand, allocation, fulfilment waves, carriers, payments, returns and costs, as
//! actions on a simulated clock that become commands to the engine.

use crate::dice::Dice;
use crate::driver::{Driver, SimError, Then};
use crate::faults::Faults;
use crate::scenario::{Payment, PromiseRule, Scenario, parse_cost_type, parse_process};
use crate::world::{GIFT_SHARE, Kind, World};
use flowline_core::Command;
use flowline_core::documents::finance::{AcquireFixedAsset, CostType, PostCost, Settlement};
use flowline_core::documents::improvement::{
    CreateInitiative, InitiativeStatus, SetTarget, TargetDirection, TargetScope, UpdateInitiative,
};
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::documents::return_auth::{
    AuthoriseReturn, CloseReturn, DisposeReturn, Disposition, DispositionLine, InspectReturn,
    InspectionLine, IssueReturnLabel, ReceiveReturn, RefundReturn, ReturnLineInput,
};
use flowline_core::documents::sales_order::{
    AllocateSalesOrder, AllocationRequest, CancelSalesOrder, DeliverShipment, DeliveryCondition,
    Initiator, InvoiceSalesOrder, LineQuantity, OrderLineInput, PackSalesOrder, Package,
    PickSalesOrder, PlaceSalesOrder, Promise, PromiseSource, ReceivePayment,
    RecordCarrierException, ShipSalesOrder, ShortagePolicy,
};
use flowline_core::id::{LocationId, ReasonCode, SalesOrderId, Sku, TenantId};
use flowline_core::ledger::ScorProcess;
use flowline_core::master::{
    Address, Bom, BomComponent, BomKind, CarrierService, Condition, TimeZoneName, TransportMode,
};
use flowline_core::money::Money;
use flowline_core::state::{
    ConfigureTenant, DefineCarrier, DefineItem, DefineLocation, DefineSupplier, SetReturnPolicy,
};
use flowline_store::{EventStore, SharedBackend};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The seed: the same seed gives the same log.
    pub seed: u64,
    /// Days to simulate.
    pub days: u32,
    /// The tenant the brand is recorded under.
    pub tenant: TenantId,
}

/// Where a run is, for a progress display.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The simulated day just finished.
    pub day: Date,
    /// Days done.
    pub done: u32,
    /// Days in all.
    pub days: u32,
    /// Orders placed so far.
    pub orders: u64,
    /// Commands sent so far.
    pub commands: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// Days simulated.
    pub days: u32,
    /// First and last simulated day.
    pub from: Option<Date>,
    /// Last simulated day (inclusive).
    pub to: Option<Date>,
    /// Commands sent to the engine.
    pub commands: u64,
    /// Events in the tenant's log.
    pub events: u64,
    /// Counts by what happened (`orders_placed`, `shipments`, `deliveries_late`, ...).
    pub counts: BTreeMap<&'static str, u64>,
    /// Orders placed per simulated day.
    pub orders_by_day: Vec<(Date, u64)>,
    /// Orders still open at the end, by why.
    pub open_orders: BTreeMap<&'static str, u64>,
    /// Commands the engine refused, by command and code (a consistent model has none).
    pub refused: BTreeMap<String, u64>,
    /// The first refusals in full.
    pub refusal_samples: Vec<String>,
    /// SHA-256 of the tenant's log (see [`log_hash`]).
    pub log_hash: String,
    /// Wall time of the simulation, until the engine had committed its last command.
    pub wall: Duration,
    /// Wall time spent reading the log back to hash it, after the simulation.
    pub hash_wall: Duration,
}

/// The reason codes the model uses.
const ORDER_CANCEL_CUSTOMER: &str = "changed_mind";
const ORDER_CANCEL_STOCK: &str = "out_of_stock";

/// An action due at a time.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Schedules a center's local day: waves and, on Mondays, a cycle count.
    CenterDay { center: usize },
    /// Schedules the brand's day: review, costs, month end.
    BrandDay,
    /// A customer places an order.
    Arrival { region: usize },
    /// Backordered orders get what has come in since.
    Backorders,
    /// A pick wave.
    Wave { center: usize, left: u32 },
    /// Picks and packs one order at a center.
    PickPack { order: u32, center: usize },
    /// Hands packed units to the carrier.
    Ship { order: u32, center: usize },
    /// A shipment arrives (or is lost).
    Arrive {
        order: u32,
        shipment: u32,
        lines: Vec<(usize, i64)>,
        damaged: bool,
        lost: bool,
    },
    /// A customer on terms pays an invoice.
    CustomerPays {
        order: SalesOrderId,
        payment: String,
        amount: i64,
    },
    /// A customer cancels before anything ships.
    CustomerCancels { order: u32 },
    /// A customer asks to return.
    ReturnRequested { ret: u32 },
    /// A return reaches the center.
    ReturnArrives { ret: u32 },
    /// A return is inspected, disposed of and refunded.
    ReturnInspected { ret: u32 },
    /// An improvement initiative of the scenario starts.
    Initiative { index: usize },
    /// The daily replenishment review.
    Review,
    /// The day's variable costs are posted.
    DailyCosts,
    /// Monthly costs, storage and depreciation.
    MonthEnd,
    /// A cycle count at a center.
    Count { center: usize },
    /// A supplier confirms a purchase order.
    PoConfirm { po: u32 },
    /// A purchase order's goods arrive.
    PoArrive { po: u32, part: u32, arrived: i64 },
    /// A supplier is paid a bill.
    PoPay { po: u32, bill: u32, amount: i64 },
    /// A kitting work order starts.
    WorkStart { wo: u32 },
    /// A kitting work order completes.
    WorkComplete { wo: u32 },
}

struct Scheduled {
    at: i64,
    seq: u64,
    action: Action,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// One order line as the model follows it.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub item: usize,
    pub qty: i64,
    pub price: i64,
    /// Allocated and not yet picked, per center.
    pub allocated: Vec<(usize, i64)>,
    /// Picked and packed, waiting for the carrier, per center.
    pub packed: Vec<(usize, i64)>,
    pub shipped: i64,
    pub backordered: i64,
    pub cancelled: i64,
}

/// An order as the model follows it, until nothing more can happen to it.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: SalesOrderId,
    pub channel: usize,
    pub level: usize,
    pub region: usize,
    pub customer: u32,
    pub lines: Vec<Line>,
    pub shipments: u32,
    pub in_transit: u32,
    pub shipping_invoiced: bool,
    pub backordered_since: Option<i64>,
    /// Centers whose queue holds it.
    pub queued: u32,
    /// The center it would ship from if it could choose.
    pub preferred: usize,
    /// Waiting for the model to read back what the engine allocated.
    pub syncing: bool,
    pub lost: bool,
}

impl Order {
    fn open_units(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.qty - l.shipped - l.cancelled)
            .sum()
    }
}

/// A return as the model follows it.
#[derive(Debug, Clone)]
pub(crate) struct Ret {
    pub id: String,
    pub order: SalesOrderId,
    /// (order line, units, reason, unit price, item).
    pub lines: Vec<(usize, i64, String, i64, usize)>,
    pub region: usize,
    pub abusive: bool,
}

/// Variable costs accumulated through the day, in base minor units (fractions kept).
#[derive(Debug, Default)]
struct Accrued {
    carrier: Vec<f64>,
    pick_pack: Vec<f64>,
    packaging: f64,
    return_labour: f64,
    kitting_labour: f64,
    duties: f64,
}

/// The model.
pub(crate) struct Model<'s> {
    pub s: &'s Scenario,
    pub w: World,
    pub dice: Dice,
    pub d: Driver,
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    /// The time of the action being run.
    pub now: i64,
    /// The end of the hour being run: no command may be dated later.
    pub hour_end: i64,
    /// (item, center) keys of stocked items, index `item * centers + center`.
    keys: Arc<Vec<(Sku, LocationId)>>,
    /// Available units (on hand less reserved) as of the last read, less what the model has
    /// allocated or reserved since.
    pub avail: Vec<i64>,
    /// On hand as of the last read.
    pub on_hand: Vec<i64>,
    /// Ordered from suppliers and not yet received.
    pub on_order: Vec<i64>,
    /// Kits in production.
    pub wip: Vec<i64>,
    /// Orders whose allocation is to be read back from the engine at the end of the hour.
    to_sync: Vec<u32>,
    /// Units wanted since the last review.
    pub demand: Vec<f64>,
    /// Forecast of daily units.
    pub forecast: Vec<f64>,
    /// Variance of daily units around the forecast.
    pub variance: Vec<f64>,
    pub orders: FxHashMap<u32, Order>,
    next_order: u32,
    /// Per center: express and standard queues of order numbers.
    queues: Vec<(VecDeque<u32>, VecDeque<u32>)>,
    /// Per center: the local date and the orders shipped on it.
    shipped_today: Vec<(Option<Date>, u32)>,
    backordered: BTreeSet<u32>,
    pub returns: FxHashMap<u32, Ret>,
    next_return: u32,
    accrued: Accrued,
    pub counters: BTreeMap<&'static str, u64>,
    orders_by_day: BTreeMap<Date, u64>,
    next_cost: u32,
    /// Flash sales: first day, last day, featured category.
    flash: Vec<(Date, Date, usize)>,
    start: Date,
    pub supply: crate::supply::Supply,
}

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The instant of a local time.
pub(crate) fn at_local(date: Date, hour: i64, minute: i64, zone: &TimeZone) -> i64 {
    let base = date
        .at(0, 0, 0, 0)
        .to_zoned(zone.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(0);
    base + hour * 3600 + minute * 60
}

/// The local date and hour of an instant.
pub(crate) fn local(second: i64, zone: &TimeZone) -> (Date, i64) {
    let zoned = ts(second).to_zoned(zone.clone());
    (zoned.date(), i64::from(zoned.hour()))
}

/// Whether centers work and carriers deliver on a date (Monday to Saturday).
pub(crate) fn working(date: Date) -> bool {
    date.weekday() != Weekday::Sunday
}

/// `days` working days after `date`.
pub(crate) fn add_working_days(mut date: Date, days: i64) -> Date {
    let mut left = days;
    while left > 0 {
        date = date.tomorrow().unwrap_or(date);
        if working(date) {
            left -= 1;
        }
    }
    date
}

pub(crate) fn id<T: std::str::FromStr>(text: &str) -> Result<T, SimError> {
    text.parse()
        .map_err(|_| SimError::Scenario(format!("`{text}` is not a valid identifier")))
}

pub(crate) fn currency(code: &str) -> Result<flowline_core::money::Currency, SimError> {
    flowline_core::money::Currency::parse(code)
        .map_err(|_| SimError::Scenario(format!("`{code}` is not a currency")))
}

pub(crate) fn zone_name(name: &str) -> Result<TimeZoneName, SimError> {
    TimeZoneName::parse(name)
        .map_err(|_| SimError::Scenario(format!("`{name}` is not a time zone")))
}

pub(crate) fn minor(amount: f64, world: &World) -> i64 {
    (amount * 10f64.powi(world.currency.exponent() as i32)).round() as i64
}

/// Runs `scenario` into `log`, calling `progress` after each simulated day.
pub fn run(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, SimError> {
    run_with(scenario, log, options, None, progress)
}

/// Runs `scenario` like [`run`] with `faults` injected into the engine's appends: every
/// command carries an idempotency key and is retried with it until answered, and the engine is
/// opened again after each crash. The model's draws do not depend on the faults, so the log is
/// the one [`run`] writes for the same seed; `faults` ends up holding what the client saw.
pub fn run_with_faults(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    faults: Arc<Faults>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, SimError> {
    run_with(scenario, log, options, Some(faults), progress)
}

fn run_with(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    faults: Option<Arc<Faults>>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, SimError> {
    let started = Instant::now();
    let mut dice = Dice::new(options.seed);
    let world = World::build(scenario, &mut dice)?;
    let start_date = scenario.brand.start;
    let first_hour = at_local(start_date, 0, 0, &world.zone);
    let tenant = options.tenant.clone();
    let driver = match faults {
        None => Driver::open(log.clone(), tenant, first_hour)?,
        Some(faults) => Driver::open_with_faults(log.clone(), tenant, first_hour, faults)?,
    };
    let mut model = Model::new(scenario, world, dice, driver)?;
    model.setup(first_hour - 3600)?;
    let end = at_local(
        start_date
            .checked_add(jiff::Span::new().days(i64::from(options.days)))
            .map_err(|e| SimError::Scenario(format!("too many days: {e}")))?,
        0,
        0,
        &model.w.zone,
    );
    let mut hour = first_hour;
    let mut done = 0;
    while hour < end {
        model.run_hour(hour)?;
        hour += 3600;
        let (date, local_hour) = local(hour, &model.w.zone);
        if local_hour == 0 || hour >= end {
            done += 1;
            let yesterday = date.yesterday().unwrap_or(date);
            progress(&Progress {
                day: yesterday,
                done,
                days: options.days,
                orders: u64::from(model.next_order),
                commands: model.d.commands,
            });
        }
    }
    for (then, applied) in model.d.set_clock(end)? {
        model.answer(then, applied);
    }
    model.now = end;
    model.sync()?;
    let mut summary = model.summarise(options, start_date);
    let tenant = options.tenant.clone();
    model.d.finish()?;
    summary.wall = started.elapsed();
    let hashing = Instant::now();
    let (hash, events) = log_hash(log.open_reader()?.as_ref(), &tenant)?;
    summary.log_hash = hash;
    summary.events = events;
    summary.hash_wall = hashing.elapsed();
    Ok(summary)
}

/// SHA-256 over every event of `tenant` in log order — sequence, stream, stream version, type,
/// schema version, business and recorded times and payload — and the number of events.
pub fn log_hash(store: &dyn EventStore, tenant: &TenantId) -> Result<(String, u64), SimError> {
    let mut hasher = Sha256::new();
    let mut after = 0;
    let mut count = 0u64;
    loop {
        let page = store.read_tenant(tenant, after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in &page {
            count += 1;
            hasher.update(event.seq.to_le_bytes());
            hasher.update(event.stream.as_bytes());
            hasher.update([0]);
            hasher.update(event.stream_version.to_le_bytes());
            hasher.update(event.event_type.as_bytes());
            hasher.update([0]);
            hasher.update(event.schema_version.to_le_bytes());
            hasher.update(event.business_time.as_nanosecond().to_le_bytes());
            hasher.update(event.recorded_at.as_nanosecond().to_le_bytes());
            hasher.update(event.payload.as_bytes());
            hasher.update([0]);
        }
    }
    let digest = hasher.finalize();
    Ok((digest.iter().map(|b| format!("{b:02x}")).collect(), count))
}

impl<'s> Model<'s> {
    fn new(s: &'s Scenario, w: World, mut dice: Dice, d: Driver) -> Result<Self, SimError> {
        let centers = w.centers.len();
        let keys: Vec<(Sku, LocationId)> = w
            .items
            .iter()
            .flat_map(|item| {
                w.centers
                    .iter()
                    .map(move |c| (item.sku.clone(), c.id.clone()))
            })
            .collect();
        let cells = keys.len();
        let forecast: Vec<f64> = w
            .expected
            .iter()
            .flat_map(|row| row.iter().copied())
            .collect();
        let variance = forecast.iter().map(|f| f.max(0.1)).collect();
        // Flash sales: Poisson many, on days drawn uniformly over the year, each featuring a
        // category.
        let start = s.brand.start;
        let count = dice.poisson(s.demand.flash_sales.per_year);
        let mut flash = Vec::new();
        for _ in 0..count {
            let offset = dice.between(0, 364);
            let first = start
                .checked_add(jiff::Span::new().days(offset))
                .unwrap_or(start);
            let last = first
                .checked_add(
                    jiff::Span::new().days(i64::from(s.demand.flash_sales.days.max(1)) - 1),
                )
                .unwrap_or(first);
            let featured = dice.pick(&s.categories.iter().map(|c| c.share).collect::<Vec<_>>());
            flash.push((first, last, featured));
        }
        let supply = crate::supply::Supply::new(s, &w);
        Ok(Self {
            s,
            dice,
            d,
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0,
            hour_end: 0,
            keys: Arc::new(keys),
            avail: vec![0; cells],
            on_hand: vec![0; cells],
            on_order: vec![0; cells],
            wip: vec![0; cells],
            to_sync: Vec::new(),
            demand: vec![0.0; cells],
            forecast,
            variance,
            orders: FxHashMap::default(),
            next_order: 0,
            queues: vec![(VecDeque::new(), VecDeque::new()); centers],
            shipped_today: vec![(None, 0); centers],
            backordered: BTreeSet::new(),
            returns: FxHashMap::default(),
            next_return: 0,
            accrued: Accrued {
                carrier: vec![0.0; s.carriers.len()],
                pick_pack: vec![0.0; centers],
                ..Accrued::default()
            },
            counters: BTreeMap::new(),
            orders_by_day: BTreeMap::new(),
            next_cost: 0,
            flash,
            start,
            supply,
            w,
        })
    }

    pub(crate) fn cell(&self, item: usize, center: usize) -> usize {
        item * self.w.centers.len() + center
    }

    pub(crate) fn count(&mut self, what: &'static str, n: u64) {
        *self.counters.entry(what).or_default() += n;
    }

    pub(crate) fn schedule(&mut self, at: i64, action: Action) {
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            action,
        }));
    }

    /// Sends a command dated `at` (never after the end of the current hour).
    pub(crate) fn send(&mut self, at: i64, command: Command, then: Then) -> Result<(), SimError> {
        let at = at
            .min(self.hour_end - 1)
            .max(self.now.min(self.hour_end - 1));
        for (then, applied) in self.d.send(at, command, then)? {
            self.answer(then, applied);
        }
        Ok(())
    }

    fn answer(&mut self, then: Then, applied: bool) {
        if let Then::Allocated { order } = then
            && !applied
        {
            // The engine knows better: read what it allocated when the hour ends.
            self.count("allocations_refused", 1);
            if let Some(found) = self.orders.get_mut(&order)
                && !found.syncing
            {
                found.syncing = true;
                self.to_sync.push(order);
            }
        }
    }

    /// Reads back the allocations of orders whose allocation the model could not predict
    /// (a shortage was backordered by the engine, or a request was refused), and releases
    /// them to the centers that hold their stock.
    fn sync(&mut self) -> Result<(), SimError> {
        if self.to_sync.is_empty() {
            return Ok(());
        }
        let numbers = std::mem::take(&mut self.to_sync);
        let wanted: Vec<(u32, SalesOrderId)> = numbers
            .iter()
            .filter_map(|n| self.orders.get(n).map(|o| (*n, o.id.clone())))
            .collect();
        let read = self.d.engine().query(self.d.tenant(), move |state| {
            wanted
                .into_iter()
                .map(|(number, id)| {
                    let lines: Vec<Vec<(LocationId, i64)>> = state
                        .sales_orders
                        .get(&id)
                        .map(|order| {
                            order
                                .lines
                                .iter()
                                .map(|line| {
                                    line.allocations
                                        .iter()
                                        .map(|a| (a.location.clone(), a.allocated - a.picked))
                                        .filter(|(_, q)| *q > 0)
                                        .collect()
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (number, lines)
                })
                .collect::<Vec<_>>()
        })?;
        for (number, lines) in read {
            let centers: Vec<Vec<(usize, i64)>> = lines
                .into_iter()
                .map(|line| {
                    line.into_iter()
                        .filter_map(|(location, q)| {
                            self.w
                                .centers
                                .iter()
                                .position(|c| c.id == location)
                                .map(|c| (c, q))
                        })
                        .collect()
                })
                .collect();
            let Some(order) = self.orders.get_mut(&number) else {
                continue;
            };
            order.syncing = false;
            let mut queue_at = Vec::new();
            for (line, truth) in order.lines.iter_mut().zip(centers) {
                line.allocated = truth;
                for (center, _) in &line.allocated {
                    if order.queued & (1 << center) == 0 && !queue_at.contains(center) {
                        queue_at.push(*center);
                    }
                }
                let packed: i64 = line.packed.iter().map(|(_, q)| q).sum();
                let allocated: i64 = line.allocated.iter().map(|(_, q)| q).sum();
                line.backordered =
                    (line.qty - line.shipped - line.cancelled - packed - allocated).max(0);
            }
            let backordered = order.lines.iter().any(|l| l.backordered > 0);
            let express = self.s.channels[order.channel].services[order.level].promise_days <= 1;
            for center in queue_at {
                order.queued |= 1 << center;
                let queue = &mut self.queues[center];
                if express {
                    queue.0.push_back(number);
                } else {
                    queue.1.push_back(number);
                }
            }
            if backordered {
                if order.backordered_since.is_none() {
                    order.backordered_since = Some(self.now);
                }
                self.backordered.insert(number);
            } else {
                order.backordered_since = None;
                self.backordered.remove(&number);
            }
        }
        Ok(())
    }

    /// Units backordered per item and center (at the center each order would ship from).
    pub(crate) fn backorder_need(&self) -> Vec<i64> {
        let mut need = vec![0; self.avail.len()];
        for number in &self.backordered {
            let Some(order) = self.orders.get(number) else {
                continue;
            };
            for line in &order.lines {
                if line.backordered > 0 {
                    for (stocked, per) in self.stocked(line.item) {
                        need[self.cell(stocked, order.preferred)] += line.backordered * per;
                    }
                }
            }
        }
        need
    }

    /// The stocked items a unit of `item` takes: itself, or a bundle's components.
    pub(crate) fn stocked(&self, item: usize) -> Vec<(usize, i64)> {
        match &self.w.items[item].kind {
            Kind::Bundle(components) => components.clone(),
            _ => vec![(item, 1)],
        }
    }

    /// Reads availability and on-hand quantities from the engine.
    fn refresh(&mut self) -> Result<(), SimError> {
        let keys = self.keys.clone();
        let read = self.d.engine().query(self.d.tenant(), move |state| {
            keys.iter()
                .map(|(sku, location)| {
                    let balance = state.stock.balance(sku, location);
                    (balance.available(), balance.on_hand)
                })
                .collect::<Vec<_>>()
        })?;
        for (i, (available, on_hand)) in read.into_iter().enumerate() {
            self.avail[i] = available;
            self.on_hand[i] = on_hand;
        }
        Ok(())
    }

    /// Runs one hour: the clock moves to its end, every action due in it runs, every answer
    /// is collected, availability is read again.
    fn run_hour(&mut self, hour: i64) -> Result<(), SimError> {
        for (then, applied) in self.d.set_clock(hour + 3600)? {
            self.answer(then, applied);
        }
        self.refresh()?;
        self.now = hour;
        self.hour_end = hour + 3600;
        self.sync()?;
        if local(hour, &self.w.zone).1 == 0 {
            self.schedule(hour, Action::BrandDay);
        }
        for center in 0..self.w.centers.len() {
            if local(hour, &self.w.centers[center].zone).1 == 0 {
                self.schedule(hour, Action::CenterDay { center });
            }
        }
        self.schedule(hour, Action::Backorders);
        self.arrivals(hour);
        while let Some(Reverse(next)) = self.heap.peek() {
            if next.at >= self.hour_end {
                break;
            }
            let Some(Reverse(next)) = self.heap.pop() else {
                break;
            };
            self.now = next.at.max(hour);
            self.act(next.action)?;
        }
        Ok(())
    }

    fn act(&mut self, action: Action) -> Result<(), SimError> {
        match action {
            Action::CenterDay { center } => self.center_day(center),
            Action::BrandDay => self.brand_day(),
            Action::Arrival { region } => self.arrival(region)?,
            Action::Backorders => self.backorders()?,
            Action::Wave { center, left } => self.wave(center, left),
            Action::PickPack { order, center } => self.pick_pack(order, center)?,
            Action::Ship { order, center } => self.ship(order, center)?,
            Action::Arrive {
                order,
                shipment,
                lines,
                damaged,
                lost,
            } => self.arrive(order, shipment, &lines, damaged, lost)?,
            Action::CustomerPays {
                order,
                payment,
                amount,
            } => {
                let command = Command::ReceivePayment(ReceivePayment {
                    order,
                    payment: id(&payment)?,
                    amount: Money::new(amount, self.w.currency),
                });
                self.send(self.now, command, Then::Nothing)?;
                self.count("customer_payments_on_terms", 1);
            }
            Action::CustomerCancels { order } => self.customer_cancels(order)?,
            Action::ReturnRequested { ret } => self.return_requested(ret)?,
            Action::ReturnArrives { ret } => self.return_arrives(ret)?,
            Action::ReturnInspected { ret } => self.return_inspected(ret)?,
            Action::Initiative { index } => self.initiative(index)?,
            Action::Review => self.review()?,
            Action::DailyCosts => self.daily_costs()?,
            Action::MonthEnd => self.month_end()?,
            Action::Count { center } => self.cycle_count(center)?,
            Action::PoConfirm { po } => self.po_confirm(po)?,
            Action::PoArrive { po, part, arrived } => self.po_arrive(po, part, arrived)?,
            Action::PoPay { po, bill, amount } => self.po_pay(po, bill, amount)?,
            Action::WorkStart { wo } => self.work_start(wo)?,
            Action::WorkComplete { wo } => self.work_complete(wo)?,
        }
        Ok(())
    }

    // ------------------------------------------------------------------ set-up

    fn setup(&mut self, at: i64) -> Result<(), SimError> {
        self.now = at;
        self.hour_end = at + 3600;
        let s = self.s;
        let base = self.w.currency;
        self.send(
            at,
            Command::ConfigureTenant(ConfigureTenant {
                business_time: None,
                base_currency: base,
                reporting_time_zone: zone_name(&s.brand.reporting_time_zone)?,
            }),
            Then::Nothing,
        )?;
        for center in &s.centers {
            let region = s.regions.iter().find(|r| r.id == center.region);
            self.send(
                at,
                Command::DefineLocation(DefineLocation {
                    location: id(&center.id)?,
                    name: center.name.clone(),
                    region: center.region.clone(),
                    address: Address {
                        recipient: None,
                        lines: vec![format!("{} fulfillment center", center.name)],
                        city: center.city.clone(),
                        region: center.region.clone(),
                        postal_code: String::new(),
                        country: region.map_or("US".to_string(), |r| r.country.clone()),
                        time_zone: zone_name(&center.time_zone)?,
                        coordinates: coordinates(center.coordinates),
                    },
                }),
                Then::Nothing,
            )?;
        }
        for supplier in &s.suppliers {
            self.send(
                at,
                Command::DefineSupplier(DefineSupplier {
                    supplier: id(&supplier.id)?,
                    name: supplier.name.clone(),
                    currency: currency(&supplier.currency)?,
                    lead_time_days: supplier.lead_time_days.mean.round() as i64,
                    minimum_order_quantity: supplier.minimum_order_quantity,
                    payment_terms_days: supplier.payment_terms_days,
                    country: supplier.country.clone(),
                }),
                Then::Nothing,
            )?;
        }
        for carrier in &s.carriers {
            let services = carrier
                .services
                .iter()
                .map(|service| {
                    Ok(CarrierService {
                        code: id(&service.code)?,
                        mode: match service.mode.as_str() {
                            "air" => TransportMode::Air,
                            "rail" => TransportMode::Rail,
                            "sea" => TransportMode::Sea,
                            _ => TransportMode::Road,
                        },
                        transit_days: service.transit_days,
                    })
                })
                .collect::<Result<Vec<_>, SimError>>()?;
            self.send(
                at,
                Command::DefineCarrier(DefineCarrier {
                    carrier: id(&carrier.id)?,
                    name: carrier.name.clone(),
                    services,
                }),
                Then::Nothing,
            )?;
        }
        self.send(
            at,
            Command::SetReturnPolicy(SetReturnPolicy {
                policy: id("STANDARD")?,
                window_days: s.returns.window_days,
                refundable_conditions: vec![
                    Condition::New,
                    Condition::LikeNew,
                    Condition::Damaged,
                    Condition::Defective,
                ],
            }),
            Then::Nothing,
        )?;
        for index in 0..self.w.items.len() {
            let item = &self.w.items[index];
            let bom = match &item.kind {
                Kind::Bought(_) => None,
                Kind::Kit(components) | Kind::Bundle(components) => Some(Bom {
                    kind: if matches!(item.kind, Kind::Kit(_)) {
                        BomKind::Kit
                    } else {
                        BomKind::Bundle
                    },
                    components: components
                        .iter()
                        .map(|(c, q)| BomComponent {
                            sku: self.w.items[*c].sku.clone(),
                            quantity: *q,
                        })
                        .collect(),
                }),
            };
            let country = match &item.kind {
                Kind::Bought(suppliers) => suppliers
                    .first()
                    .map(|s| self.s.suppliers[*s].country.clone()),
                _ => Some("US".to_string()),
            };
            let command = Command::DefineItem(DefineItem {
                sku: item.sku.clone(),
                name: format!("{} {}", item.label.replace('_', " "), item.sku),
                unit: "each".into(),
                unit_cost: Money::new(item.cost, base),
                price: Money::new(item.price, base),
                weight_g: item.weight_g,
                dimensions: None,
                hs_code: None,
                country_of_origin: country,
                category: Some(item.label.clone()),
                bom,
            });
            self.send(at, command, Then::Nothing)?;
        }
        // Opening stock: the given days of expected demand at each center open on day one.
        let days = s.catalog.opening_stock_days;
        for center in 0..self.w.centers.len() {
            if s.centers[center].opens.is_some_and(|d| d > s.brand.start) {
                continue;
            }
            let mut lines = Vec::new();
            for (index, item) in self.w.items.iter().enumerate() {
                if matches!(item.kind, Kind::Bundle(_)) {
                    continue;
                }
                let quantity = (self.w.expected[index][center] * days).ceil() as i64;
                if quantity > 0 {
                    lines.push(AdjustLineInput {
                        sku: item.sku.clone(),
                        quantity,
                        unit_cost_minor: Some(item.cost),
                    });
                }
            }
            if !lines.is_empty() {
                self.send(
                    at,
                    Command::AdjustStock(AdjustStock {
                        adjustment: id(&format!("OPEN-{}", s.centers[center].id))?,
                        location: self.w.centers[center].id.clone(),
                        reason: id("opening_balance")?,
                        lines,
                    }),
                    Then::Nothing,
                )?;
            }
        }
        for asset in &s.fixed_assets {
            let command = Command::AcquireFixedAsset(AcquireFixedAsset {
                asset: id(&asset.id)?,
                name: asset.name.clone(),
                cost: Money::new(minor(asset.cost, &self.w), base),
                supply_chain: true,
                process: parse_process(&asset.process),
                useful_life_months: asset.life_months,
                salvage_minor: 0,
                settlement: Settlement::Paid,
            });
            self.send(at, command, Then::Nothing)?;
        }
        for target in &s.targets {
            let command = Command::SetTarget(SetTarget {
                target: id(&target.id)?,
                metric: target.metric.clone(),
                scope: target.scope.as_ref().map(|scope| TargetScope {
                    dimension: scope.dimension.clone(),
                    value: scope.value.clone(),
                }),
                value_milli: (target.value * 1000.0).round() as i64,
                direction: if target.direction == "at_most" {
                    TargetDirection::AtMost
                } else {
                    TargetDirection::AtLeast
                },
                baseline: None,
                due_on: None,
                source: target.source.clone(),
                note: None,
            });
            self.send(at, command, Then::Nothing)?;
        }
        for (index, initiative) in s.initiatives.iter().enumerate() {
            let day = self
                .start
                .saturating_add(initiative.starts_after_days.days());
            self.schedule(
                at_local(day, 9, 0, &self.w.zone),
                Action::Initiative { index },
            );
        }
        Ok(())
    }

    /// Creates an initiative of the scenario and puts it in progress.
    fn initiative(&mut self, index: usize) -> Result<(), SimError> {
        let Some(spec) = self.s.initiatives.get(index) else {
            return Ok(());
        };
        let (today, _) = local(self.now, &self.w.zone);
        let initiative: flowline_core::id::InitiativeId = id(&spec.id)?;
        let create = Command::CreateInitiative(CreateInitiative {
            initiative: initiative.clone(),
            name: spec.name.clone(),
            metrics: spec.metrics.clone(),
            owner: spec.owner.clone(),
            expected_effect: spec.expected_effect.clone(),
            expected_change_milli: None,
            starts_on: today,
            ends_on: None,
        });
        self.send(self.now, create, Then::Nothing)?;
        let update = Command::UpdateInitiative(UpdateInitiative {
            initiative,
            status: Some(InitiativeStatus::InProgress),
            ends_on: None,
            note: Some("started".into()),
        });
        self.send(self.now + 60, update, Then::Nothing)
    }

    // ------------------------------------------------------------------ calendar

    fn brand_day(&mut self) {
        let (date, _) = local(self.now, &self.w.zone);
        let zone = self.w.zone.clone();
        let review = at_local(date, i64::from(self.s.replenishment.review_hour), 0, &zone);
        self.schedule(review, Action::Review);
        self.schedule(at_local(date, 23, 30, &zone), Action::DailyCosts);
        if date.day() == 1 && date > self.start {
            self.schedule(at_local(date, 0, 30, &zone), Action::MonthEnd);
        }
    }

    fn center_day(&mut self, center: usize) {
        let zone = self.w.centers[center].zone.clone();
        let (date, _) = local(self.now, &zone);
        if self.s.centers[center].opens.is_some_and(|d| d > date) || !working(date) {
            return;
        }
        let waves = &self.s.centers[center].waves;
        let count = waves.len() as u32;
        for (i, hour) in waves.clone().into_iter().enumerate() {
            let left = count - i as u32;
            self.schedule(
                at_local(date, i64::from(hour), 0, &zone),
                Action::Wave { center, left },
            );
        }
        if date.weekday() == Weekday::Monday && self.s.counts.items_per_week > 0 {
            self.schedule(at_local(date, 9, 0, &zone), Action::Count { center });
        }
    }

    /// The day's order rate in a region's local calendar.
    fn rate(&self, date: Date) -> (f64, Option<usize>) {
        let demand = &self.s.demand;
        let elapsed = (date - self.start).get_days() as f64;
        let trend = 1.0 + demand.trend_per_year * elapsed / 365.0;
        let weekday = demand.weekly[date.weekday().to_monday_zero_offset() as usize];
        let month = demand.yearly[(date.month() - 1) as usize];
        let mut peak = 1.0;
        for p in &demand.peaks {
            let (from, to) = ((p.from.month(), p.from.day()), (p.to.month(), p.to.day()));
            let today = (date.month(), date.day());
            if from <= today && today <= to {
                peak *= p.multiplier;
            }
        }
        let mut featured = None;
        for (first, last, category) in &self.flash {
            if *first <= date && date <= *last {
                peak *= demand.flash_sales.multiplier;
                featured = Some(*category);
            }
        }
        (
            demand.orders_per_day * trend * weekday * month * peak,
            featured,
        )
    }

    /// Draws the hour's customer orders in every region.
    fn arrivals(&mut self, hour: i64) {
        let total_share: f64 = self.s.regions.iter().map(|r| r.share).sum();
        let hourly_total: f64 = self.s.demand.hourly.iter().sum();
        for region in 0..self.s.regions.len() {
            let (date, local_hour) = local(hour, &self.w.region_zones[region]);
            let (rate, _) = self.rate(date);
            let lambda = rate * self.s.regions[region].share / total_share
                * self.s.demand.hourly[local_hour as usize]
                / hourly_total;
            let n = self.dice.poisson(lambda);
            for _ in 0..n {
                let at = hour + self.dice.between(0, 3599);
                self.schedule(at, Action::Arrival { region });
            }
        }
    }

    // ------------------------------------------------------------------ orders

    fn arrival(&mut self, region: usize) -> Result<(), SimError> {
        let s = self.s;
        let channel = self
            .dice
            .pick(&s.channels.iter().map(|c| c.share).collect::<Vec<_>>());
        let level = self.dice.pick(
            &s.channels[channel]
                .services
                .iter()
                .map(|l| l.share)
                .collect::<Vec<_>>(),
        );
        let (low, high) = self.w.region_customers[region];
        let customer =
            self.dice
                .between(i64::from(low), i64::from(high.max(low + 1)) - 1) as u32;
        let (date, _) = local(self.now, &self.w.region_zones[region]);
        let (_, featured) = self.rate(date);
        // Lines: distinct items; categories by share, or the featured one in a flash sale.
        let n_lines = 1 + self.dice.poisson(s.catalog.lines_per_order - 1.0) as usize;
        let mut lines: Vec<Line> = Vec::new();
        let channel_spec = &s.channels[channel];
        let mut tries = 0;
        while lines.len() < n_lines && tries < n_lines * 4 {
            tries += 1;
            let item = if self.dice.chance(GIFT_SHARE) && !self.w.gift_items.0.is_empty() {
                self.w.gift_items.0[self.dice.pick_cumulative(&self.w.gift_items.1)]
            } else {
                let category = match featured {
                    Some(f) if self.dice.chance(s.demand.flash_sales.featured_share) => f,
                    _ => self.dice.pick_cumulative(&self.w.category_shares),
                };
                let (members, popularity) = &self.w.category_items[category];
                if members.is_empty() {
                    continue;
                }
                members[self.dice.pick_cumulative(popularity)]
            };
            if lines.iter().any(|l| l.item == item) {
                continue;
            }
            let qty = 1 + self.dice.poisson(channel_spec.units_per_line - 1.0) as i64;
            let price = (self.w.items[item].price as f64 * channel_spec.price_share).round() as i64;
            lines.push(Line {
                item,
                qty,
                price,
                allocated: Vec::new(),
                packed: Vec::new(),
                shipped: 0,
                backordered: 0,
                cancelled: 0,
            });
        }
        if lines.is_empty() {
            return Ok(());
        }
        self.next_order += 1;
        let number = self.next_order;
        let order_id: SalesOrderId = id(&format!("SO-{number:07}"))?;
        let level_spec = &channel_spec.services[level];
        let preferred = self.w.nearest[region]
            .iter()
            .copied()
            .find(|c| self.is_open(*c))
            .unwrap_or(0);
        let promise = self.promise(channel, level, region, preferred);
        let ship_to = self.address(region, customer)?;
        let command = Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: order_id.clone(),
            channel: id(&channel_spec.id)?,
            customer: id(&format!("C-{customer:06}"))?,
            ship_to,
            currency: self.w.currency,
            exchange_rate: None,
            lines: lines
                .iter()
                .map(|l| OrderLineInput {
                    sku: self.w.items[l.item].sku.clone(),
                    quantity: l.qty,
                    unit_price_minor: l.price,
                    unit_tax_minor: 0,
                })
                .collect(),
            promise,
            service_level: Some(level_spec.name.clone()),
            shipping_charge_minor: minor(channel_spec.shipping_charge, &self.w),
            allocate: None,
        });
        self.send(self.now, command, Then::Nothing)?;
        self.count("orders_placed", 1);
        *self
            .orders_by_day
            .entry(local(self.now, &self.w.zone).0)
            .or_default() += 1;
        // Demand as the planner sees it: at the center the order would ship from.
        for line in &lines {
            for (stocked, per) in self.stocked(line.item) {
                let cell = self.cell(stocked, preferred);
                self.demand[cell] += (line.qty * per) as f64;
            }
        }
        let order = Order {
            id: order_id,
            channel,
            level,
            region,
            customer,
            lines,
            shipments: 0,
            in_transit: 0,
            shipping_invoiced: false,
            backordered_since: None,
            queued: 0,
            preferred,
            syncing: false,
            lost: false,
        };
        self.orders.insert(number, order);
        self.allocate(number, true)?;
        if self.dice.chance(s.demand.customer_cancel_rate) {
            let after = (self.dice.positive(3.0, 2.0) * 3600.0) as i64;
            self.schedule(
                self.now + after.max(60),
                Action::CustomerCancels { order: number },
            );
        }
        Ok(())
    }

    pub(crate) fn is_open(&self, center: usize) -> bool {
        let (date, _) = local(self.now, &self.w.centers[center].zone);
        self.s.centers[center].opens.is_none_or(|d| d <= date)
    }

    fn address(&self, region: usize, customer: u32) -> Result<Address, SimError> {
        let spec = &self.s.regions[region];
        Ok(Address {
            recipient: None,
            lines: vec![format!("{} Customer Street", customer % 997 + 1)],
            city: format!("{} city {}", spec.id, customer % 40 + 1),
            region: spec.id.clone(),
            postal_code: format!("{:05}", customer % 100_000),
            country: spec.country.clone(),
            time_zone: zone_name(&spec.time_zone)?,
            coordinates: coordinates(spec.coordinates),
        })
    }

    /// The promise a channel's service level makes for an order placed now.
    fn promise(
        &self,
        channel: usize,
        level: usize,
        region: usize,
        center: usize,
    ) -> Option<Promise> {
        let spec = &self.s.channels[channel].services[level];
        if spec.promise == PromiseRule::None {
            return None;
        }
        let zone = &self.w.centers[center].zone;
        let (today, hour) = local(self.now, zone);
        let mut ship_day = today;
        if hour >= i64::from(spec.cutoff_hour) || !working(today) {
            ship_day = add_working_days(today, 1);
        }
        while !working(ship_day) {
            ship_day = add_working_days(ship_day, 1);
        }
        let deliver_by = add_working_days(ship_day, spec.promise_days.max(1));
        let pickup = at_local(
            ship_day,
            i64::from(self.s.centers[center].pickup_hour),
            0,
            zone,
        );
        let _ = region;
        Some(Promise {
            source: match spec.promise {
                PromiseRule::Checkout => PromiseSource::ShownAtCheckout,
                _ => PromiseSource::Derived,
            },
            deliver_by: Some(deliver_by),
            window: None,
            ship_by: Some(ts(pickup)),
        })
    }

    /// Centers in the order to try for a region: nearest first, a center a day or more behind
    /// its capacity pushed back by the distance that day is worth.
    fn preference(&self, region: usize) -> Vec<usize> {
        let mut scored: Vec<(f64, usize)> = self.w.nearest[region]
            .iter()
            .copied()
            .filter(|c| self.is_open(*c))
            .map(|c| {
                let km = self.s.distance_km(region, c);
                let backlog = (self.queues[c].0.len() + self.queues[c].1.len()) as f64
                    / f64::from(self.s.centers[c].capacity_orders_per_day.max(1));
                (km + 2_000.0 * (backlog - 1.0).max(0.0), c)
            })
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, c)| c).collect()
    }

    /// Units of `item` a center can supply now (a bundle: as many as its components make).
    fn can_supply(&self, item: usize, center: usize) -> i64 {
        self.stocked(item)
            .into_iter()
            .map(|(stocked, per)| self.avail[self.cell(stocked, center)].max(0) / per.max(1))
            .min()
            .unwrap_or(0)
    }

    /// Allocates what is missing: the whole order from one center if one can, else line by
    /// line from the nearest that can. What no center can supply is asked of the preferred
    /// center with the shortage backordered by the engine; the model then reads back what was
    /// allocated when the hour ends.
    fn allocate(&mut self, number: u32, first: bool) -> Result<(), SimError> {
        let Some(order) = self.orders.get(&number) else {
            return Ok(());
        };
        if order.syncing {
            return Ok(());
        }
        let region = order.region;
        let needs: Vec<(usize, usize, i64)> = order
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let held: i64 = l.allocated.iter().map(|(_, q)| q).sum::<i64>()
                    + l.packed.iter().map(|(_, q)| q).sum::<i64>();
                (i, l.item, l.qty - l.shipped - l.cancelled - held)
            })
            .filter(|(_, _, need)| *need > 0)
            .collect();
        if needs.is_empty() {
            return Ok(());
        }
        let centers = self.preference(region);
        let Some(&preferred) = centers.first() else {
            return Ok(());
        };
        let whole = centers.iter().copied().find(|c| {
            needs
                .iter()
                .all(|(_, item, need)| self.can_supply(*item, *c) >= *need)
        });
        let mut plan: Vec<(usize, usize, i64)> = Vec::new();
        let mut missing: Vec<(usize, usize, i64)> = Vec::new();
        match whole {
            Some(center) => {
                for (line, item, need) in &needs {
                    plan.push((*line, center, *need));
                    self.take(*item, center, *need);
                }
            }
            None => {
                for (line, item, need) in &needs {
                    let mut left = *need;
                    for center in &centers {
                        let take = self.can_supply(*item, *center).min(left);
                        if take > 0 {
                            plan.push((*line, *center, take));
                            self.take(*item, *center, take);
                            left -= take;
                        }
                        if left == 0 {
                            break;
                        }
                    }
                    if left > 0 {
                        missing.push((*line, *item, left));
                    }
                }
            }
        }
        // A later sweep only asks when some stock has come in for it.
        if plan.is_empty() && !first {
            return Ok(());
        }
        let mut requests: Vec<AllocationRequest> = plan
            .iter()
            .map(|(line, center, quantity)| AllocationRequest {
                line: *line,
                location: self.w.centers[*center].id.clone(),
                quantity: *quantity,
            })
            .collect();
        for (line, item, quantity) in &missing {
            requests.push(AllocationRequest {
                line: *line,
                location: self.w.centers[preferred].id.clone(),
                quantity: *quantity,
            });
            // Whatever the engine finds there is taken; the model does not count on it.
            self.take(*item, preferred, *quantity);
        }
        let express = self.s.channels[self.orders[&number].channel].services
            [self.orders[&number].level]
            .promise_days
            <= 1;
        let now = self.now;
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let order_id = order.id.clone();
        let shortage = if missing.is_empty() {
            // Certain: the model knows what it asked for is there.
            let mut queue_at = Vec::new();
            for (line, center, quantity) in &plan {
                let l = &mut order.lines[*line];
                match l.allocated.iter_mut().find(|(c, _)| c == center) {
                    Some(entry) => entry.1 += quantity,
                    None => l.allocated.push((*center, *quantity)),
                }
                l.backordered = 0;
                if order.queued & (1 << center) == 0 && !queue_at.contains(center) {
                    queue_at.push(*center);
                }
            }
            order.backordered_since = None;
            for center in queue_at {
                order.queued |= 1 << center;
                let queue = &mut self.queues[center];
                if express {
                    queue.0.push_back(number);
                } else {
                    queue.1.push_back(number);
                }
            }
            self.backordered.remove(&number);
            ShortagePolicy::Reject
        } else {
            order.syncing = true;
            if order.backordered_since.is_none() {
                order.backordered_since = Some(now);
                if first {
                    *self.counters.entry("orders_backordered").or_default() += 1;
                }
            }
            self.to_sync.push(number);
            ShortagePolicy::Backorder
        };
        self.send(
            self.now,
            Command::AllocateSalesOrder(AllocateSalesOrder {
                order: order_id,
                shortage,
                lines: Some(requests),
            }),
            Then::Allocated { order: number },
        )
    }

    /// Counts units of `item` (a bundle: its components) as taken from a center's
    /// availability.
    fn take(&mut self, item: usize, center: usize, units: i64) {
        for (stocked, per) in self.stocked(item) {
            let cell = self.cell(stocked, center);
            self.avail[cell] -= units * per;
        }
    }

    /// Allocates backordered orders, oldest first; cancels what waited too long.
    fn backorders(&mut self) -> Result<(), SimError> {
        let waiting: Vec<u32> = self.backordered.iter().copied().collect();
        let limit = self.s.replenishment.backorder_cancel_days * 86_400;
        for number in waiting {
            let Some(order) = self.orders.get(&number) else {
                self.backordered.remove(&number);
                continue;
            };
            if order.syncing {
                continue;
            }
            let since = order.backordered_since.unwrap_or(self.now);
            if self.now - since >= limit {
                self.cancel_backordered(number)?;
            } else {
                self.allocate(number, false)?;
            }
        }
        Ok(())
    }

    fn cancel_backordered(&mut self, number: u32) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        for (i, l) in order.lines.iter_mut().enumerate() {
            if l.backordered > 0 {
                lines.push(LineQuantity {
                    line: i,
                    quantity: l.backordered,
                });
                l.cancelled += l.backordered;
                l.backordered = 0;
            }
        }
        order.backordered_since = None;
        let order_id = order.id.clone();
        self.backordered.remove(&number);
        if lines.is_empty() {
            return Ok(());
        }
        self.send(
            self.now,
            Command::CancelSalesOrder(CancelSalesOrder {
                order: order_id,
                initiator: Initiator::Seller,
                reason: id(ORDER_CANCEL_STOCK)?,
                lines: Some(lines),
            }),
            Then::Nothing,
        )?;
        self.count("lines_cancelled_out_of_stock", 1);
        self.forget_if_done(number);
        Ok(())
    }

    fn customer_cancels(&mut self, number: u32) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        // Only while nothing has been picked or shipped.
        if order
            .lines
            .iter()
            .any(|l| l.shipped > 0 || !l.packed.is_empty())
        {
            return Ok(());
        }
        if order.syncing {
            return Ok(());
        }
        for l in &mut order.lines {
            l.cancelled = l.qty;
            l.allocated.clear();
            l.backordered = 0;
        }
        order.backordered_since = None;
        let order_id = order.id.clone();
        self.backordered.remove(&number);
        self.send(
            self.now,
            Command::CancelSalesOrder(CancelSalesOrder {
                order: order_id,
                initiator: Initiator::Customer,
                reason: id(ORDER_CANCEL_CUSTOMER)?,
                lines: None,
            }),
            Then::Nothing,
        )?;
        self.count("orders_cancelled_by_customer", 1);
        self.forget_if_done(number);
        Ok(())
    }

    /// Drops an order the model has nothing more to do for.
    fn forget_if_done(&mut self, number: u32) {
        if let Some(order) = self.orders.get(&number)
            && order.open_units() == 0
            && order.in_transit == 0
        {
            self.orders.remove(&number);
            self.backordered.remove(&number);
        }
    }

    // ------------------------------------------------------------------ fulfilment

    fn wave(&mut self, center: usize, left: u32) {
        let zone = self.w.centers[center].zone.clone();
        let (date, _) = local(self.now, &zone);
        if self.shipped_today[center].0 != Some(date) {
            self.shipped_today[center] = (Some(date), 0);
        }
        let capacity = self.s.centers[center].capacity_orders_per_day;
        let remaining = capacity.saturating_sub(self.shipped_today[center].1);
        let mut budget = remaining.div_ceil(left.max(1));
        let mut minute = 0i64;
        while budget > 0 {
            let next = match self.queues[center].0.pop_front() {
                Some(n) => Some(n),
                None => self.queues[center].1.pop_front(),
            };
            let Some(number) = next else { break };
            let Some(order) = self.orders.get_mut(&number) else {
                continue;
            };
            order.queued &= !(1 << center);
            let has_work = order
                .lines
                .iter()
                .any(|l| l.allocated.iter().any(|(c, q)| *c == center && *q > 0));
            if !has_work {
                continue;
            }
            budget -= 1;
            self.shipped_today[center].1 += 1;
            // Picks spread over the wave's first ninety minutes.
            minute = (minute + self.dice.between(0, 2)).min(89);
            let at = self.now + minute * 60 + self.dice.between(0, 59);
            self.schedule(
                at,
                Action::PickPack {
                    order: number,
                    center,
                },
            );
        }
    }

    fn pick_pack(&mut self, number: u32, center: usize) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        let mut units = 0;
        let mut weight = 0;
        for (i, l) in order.lines.iter_mut().enumerate() {
            if let Some(pos) = l.allocated.iter().position(|(c, q)| *c == center && *q > 0) {
                let quantity = l.allocated[pos].1;
                l.allocated.remove(pos);
                match l.packed.iter_mut().find(|(c, _)| *c == center) {
                    Some(entry) => entry.1 += quantity,
                    None => l.packed.push((center, quantity)),
                }
                lines.push(LineQuantity { line: i, quantity });
                units += quantity;
                weight += quantity * self.w.items[l.item].weight_g;
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let order_id = order.id.clone();
        let location = self.w.centers[center].id.clone();
        self.send(
            self.now,
            Command::PickSalesOrder(PickSalesOrder {
                order: order_id.clone(),
                location: location.clone(),
                lines: lines.clone(),
            }),
            Then::Nothing,
        )?;
        let packed_at = self.now + self.dice.between(300, 1500);
        let package = if weight > 3_000 {
            ("box-l", 450)
        } else if weight > 1_000 {
            ("box-m", 250)
        } else {
            ("mailer", 60)
        };
        self.send(
            packed_at,
            Command::PackSalesOrder(PackSalesOrder {
                order: order_id,
                location,
                lines,
                package: Some(Package {
                    kind: package.0.into(),
                    mass_g: package.1,
                }),
            }),
            Then::Nothing,
        )?;
        let spec = &self.s.centers[center];
        self.accrued.pick_pack[center] += minor(spec.pick_fee_per_unit, &self.w) as f64
            * units as f64
            + minor(spec.pack_fee_per_order, &self.w) as f64;
        self.accrued.packaging += minor(self.s.costs.packaging_per_shipment, &self.w) as f64;
        // The carrier collects in the twenty minutes before its pick-up hour, today if that is
        // still to come.
        let zone = self.w.centers[center].zone.clone();
        let (date, _) = local(self.now, &zone);
        let mut pickup = at_local(date, i64::from(spec.pickup_hour), 0, &zone);
        if pickup - 1200 <= packed_at {
            pickup = at_local(
                add_working_days(date, 1),
                i64::from(spec.pickup_hour),
                0,
                &zone,
            );
        }
        let at = pickup - self.dice.between(0, 1200);
        self.schedule(
            at,
            Action::Ship {
                order: number,
                center,
            },
        );
        Ok(())
    }

    fn ship(&mut self, number: u32, center: usize) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        let mut carried = Vec::new();
        let mut weight = 0;
        let mut value = 0;
        for (i, l) in order.lines.iter_mut().enumerate() {
            if let Some(pos) = l.packed.iter().position(|(c, _)| *c == center) {
                let quantity = l.packed[pos].1;
                l.packed.remove(pos);
                l.shipped += quantity;
                lines.push(LineQuantity { line: i, quantity });
                carried.push((i, quantity));
                weight += quantity * self.w.items[l.item].weight_g;
                value += quantity * l.price;
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        order.shipments += 1;
        order.in_transit += 1;
        let shipment = order.shipments;
        let first_invoice = !order.shipping_invoiced;
        order.shipping_invoiced = true;
        let (channel, level, region) = (order.channel, order.level, order.region);
        let order_id = order.id.clone();
        let level_spec = &self.s.channels[channel].services[level];
        let carrier_index = self
            .s
            .carriers
            .iter()
            .position(|c| c.id == level_spec.carrier)
            .unwrap_or(0);
        let carrier = &self.s.carriers[carrier_index];
        let service = carrier
            .services
            .iter()
            .find(|s| s.code == level_spec.service)
            .unwrap_or(&carrier.services[0]);
        let weight = weight + 200;
        let shipment_id = format!("{}-{shipment}", order_id);
        self.send(
            self.now,
            Command::ShipSalesOrder(ShipSalesOrder {
                order: order_id.clone(),
                shipment: id(&shipment_id)?,
                location: self.w.centers[center].id.clone(),
                carrier: id(&carrier.id)?,
                service: id(&service.code)?,
                tracking: Some(format!(
                    "{}{:010}",
                    &carrier.id[..carrier.id.len().min(2)],
                    u64::from(number) * 7 + u64::from(shipment)
                )),
                weight_g: weight,
                lines,
            }),
            Then::Nothing,
        )?;
        self.count("shipments", 1);
        let km = self.s.distance_km(region, center);
        self.accrued.carrier[carrier_index] +=
            minor(service.price(carrier.zone(km), weight), &self.w) as f64;
        // Invoice what shipped; card customers are charged now, shops on their terms.
        let channel_spec = &self.s.channels[channel];
        let amount = value
            + if first_invoice {
                minor(channel_spec.shipping_charge, &self.w)
            } else {
                0
            };
        self.send(
            self.now + 1,
            Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: order_id.clone(),
                invoice: id(&format!("INV-{number:07}-{shipment}"))?,
            }),
            Then::Nothing,
        )?;
        let payment = format!("PAY-{number:07}-{shipment}");
        match channel_spec.payment {
            Payment::AtOrder => {
                self.send(
                    self.now + 2,
                    Command::ReceivePayment(ReceivePayment {
                        order: order_id.clone(),
                        payment: id(&payment)?,
                        amount: Money::new(amount, self.w.currency),
                    }),
                    Then::Nothing,
                )?;
            }
            Payment::OnTerms => {
                let delay = channel_spec
                    .payment_delay_days
                    .map_or(0.0, |d| self.dice.normal(d.mean, d.sd));
                let days = channel_spec.terms_days as f64 + delay;
                let at = self.now + (days.max(1.0) * 86_400.0) as i64;
                self.schedule(
                    at,
                    Action::CustomerPays {
                        order: order_id.clone(),
                        payment,
                        amount,
                    },
                );
            }
        }
        // Transit: published days, more for distance, sometimes late; Sundays do not count.
        let km = self.s.distance_km(region, center);
        let mut days = service.transit_days as f64
            + service.days_per_1000_km * ((km - 500.0).max(0.0) / 1000.0)
            + self.dice.uniform(-0.5, 0.5);
        let late = self.dice.chance(service.late_rate);
        if late {
            days += self.dice.between(1, 3) as f64;
        }
        let days = days
            .round()
            .max(if service.transit_days == 0 { 0.0 } else { 1.0 }) as i64;
        let zone = self.w.region_zones[region].clone();
        let (ship_date, _) = local(self.now, &zone);
        let arrival_date = add_working_days(ship_date, days);
        let mut arrival = at_local(
            arrival_date,
            self.dice.between(9, 19),
            self.dice.between(0, 59),
            &zone,
        );
        if arrival <= self.now {
            arrival = self.now + 3_600;
        }
        let lost = self.dice.chance(service.loss_rate);
        let damaged = !lost && self.dice.chance(service.damage_rate);
        if lost {
            arrival += 5 * 86_400;
        }
        self.schedule(
            arrival,
            Action::Arrive {
                order: number,
                shipment,
                lines: carried,
                damaged,
                lost,
            },
        );
        self.forget_if_done(number);
        Ok(())
    }

    fn arrive(
        &mut self,
        number: u32,
        shipment: u32,
        carried: &[(usize, i64)],
        damaged: bool,
        lost: bool,
    ) -> Result<(), SimError> {
        let Some(order) = self.orders.get_mut(&number) else {
            return Ok(());
        };
        order.in_transit = order.in_transit.saturating_sub(1);
        let order_id = order.id.clone();
        let shipment_id: flowline_core::id::ShipmentId = id(&format!("{order_id}-{shipment}"))?;
        if lost {
            order.lost = true;
            self.send(
                self.now,
                Command::RecordCarrierException(RecordCarrierException {
                    order: order_id,
                    shipment: shipment_id,
                    code: id("lost")?,
                }),
                Then::Nothing,
            )?;
            self.count("shipments_lost", 1);
            return Ok(());
        }
        self.send(
            self.now,
            Command::DeliverShipment(DeliverShipment {
                order: order_id.clone(),
                shipment: shipment_id,
                delivered_at: None,
                condition: if damaged {
                    DeliveryCondition::Damaged
                } else {
                    DeliveryCondition::Intact
                },
                misdelivered: false,
                note: None,
            }),
            Then::Nothing,
        )?;
        self.count("deliveries", 1);
        if damaged {
            self.count("deliveries_damaged", 1);
        }
        self.plan_returns(number, carried, damaged)?;
        self.forget_if_done(number);
        Ok(())
    }

    // ------------------------------------------------------------------ returns

    /// Decides whether the customer sends anything of this shipment back.
    fn plan_returns(
        &mut self,
        number: u32,
        carried: &[(usize, i64)],
        damaged: bool,
    ) -> Result<(), SimError> {
        let Some(order) = self.orders.get(&number) else {
            return Ok(());
        };
        let abusive = self
            .w
            .abusive
            .get(order.customer as usize)
            .copied()
            .unwrap_or(false);
        let share = self.s.returns.abusive_customer_share;
        let multiplier = self.s.returns.abusive_multiplier;
        // Scaled so the average over all customers is the category's return rate.
        let scale = if abusive { multiplier } else { 1.0 } / (1.0 - share + share * multiplier);
        let mut lines = Vec::new();
        let shipped: Vec<(usize, usize, i64, i64)> = carried
            .iter()
            .filter_map(|(line, units)| {
                order
                    .lines
                    .get(*line)
                    .map(|l| (*line, l.item, *units, l.price))
            })
            .collect();
        let (region, order_id) = (order.region, order.id.clone());
        for (i, (line, item, units, price)) in shipped.into_iter().enumerate() {
            let category = &self.s.categories[self.w.items[item].category];
            let returned = if damaged && i == 0 {
                units
            } else {
                self.dice
                    .binomial(units as u64, (category.return_rate * scale).min(1.0))
                    as i64
            };
            if returned == 0 {
                continue;
            }
            let reason = if damaged && i == 0 {
                "damaged_in_transit".to_string()
            } else {
                let reasons: Vec<(&String, &f64)> = category.return_reasons.iter().collect();
                let pick = self
                    .dice
                    .pick(&reasons.iter().map(|(_, w)| **w).collect::<Vec<_>>());
                reasons
                    .get(pick)
                    .map_or("changed_mind".to_string(), |(r, _)| (*r).clone())
            };
            lines.push((line, returned, reason, price, item));
        }
        if lines.is_empty() {
            return Ok(());
        }
        // A shipment's lines come back together: one return per delivery.
        self.next_return += 1;
        let ret = self.next_return;
        let wait = if damaged {
            self.dice.uniform(0.2, 2.0)
        } else {
            self.dice.positive(
                self.s.returns.request_days.mean,
                self.s.returns.request_days.sd,
            )
        };
        if wait >= self.s.returns.window_days as f64 {
            return Ok(());
        }
        self.returns.insert(
            ret,
            Ret {
                id: format!("RMA-{ret:07}"),
                order: order_id,
                lines,
                region,
                abusive,
            },
        );
        self.schedule(
            self.now + (wait * 86_400.0) as i64,
            Action::ReturnRequested { ret },
        );
        Ok(())
    }

    fn return_requested(&mut self, ret: u32) -> Result<(), SimError> {
        let Some(found) = self.returns.get(&ret).cloned() else {
            return Ok(());
        };
        let lines = found
            .lines
            .iter()
            .map(|(line, quantity, reason, _, _)| {
                Ok(ReturnLineInput {
                    line: *line,
                    quantity: *quantity,
                    reason: id::<ReasonCode>(reason)?,
                })
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        self.send(
            self.now,
            Command::AuthoriseReturn(AuthoriseReturn {
                return_id: id(&found.id)?,
                order: found.order.clone(),
                policy: id("STANDARD")?,
                lines,
            }),
            Then::Nothing,
        )?;
        self.send(
            self.now + 60,
            Command::IssueReturnLabel(IssueReturnLabel {
                return_id: id(&found.id)?,
                carrier: id(&self.s.returns.carrier)?,
                service: id(&self.s.returns.service)?,
                tracking: format!("RT{ret:010}"),
                cost: Some(Money::new(
                    minor(self.s.returns.label_cost, &self.w),
                    self.w.currency,
                )),
            }),
            Then::Nothing,
        )?;
        self.count("returns_authorised", 1);
        let transit = self
            .dice
            .positive(
                self.s.returns.transit_days.mean,
                self.s.returns.transit_days.sd,
            )
            .max(0.5);
        self.schedule(
            self.now + (transit * 86_400.0) as i64,
            Action::ReturnArrives { ret },
        );
        Ok(())
    }

    fn return_arrives(&mut self, ret: u32) -> Result<(), SimError> {
        let Some(found) = self.returns.get(&ret).cloned() else {
            return Ok(());
        };
        let lines = found
            .lines
            .iter()
            .enumerate()
            .map(|(i, (_, quantity, _, _, _))| LineQuantity {
                line: i,
                quantity: *quantity,
            })
            .collect();
        self.send(
            self.now,
            Command::ReceiveReturn(ReceiveReturn {
                return_id: id(&found.id)?,
                lines,
            }),
            Then::Nothing,
        )?;
        let wait = self
            .dice
            .positive(
                self.s.returns.inspection_days.mean,
                self.s.returns.inspection_days.sd,
            )
            .max(0.1);
        self.schedule(
            self.now + (wait * 86_400.0) as i64,
            Action::ReturnInspected { ret },
        );
        Ok(())
    }

    fn return_inspected(&mut self, ret: u32) -> Result<(), SimError> {
        let Some(found) = self.returns.remove(&ret) else {
            return Ok(());
        };
        let return_id: flowline_core::id::ReturnId = id(&found.id)?;
        let restock_at = self.w.nearest[found.region]
            .iter()
            .copied()
            .find(|c| self.is_open(*c))
            .unwrap_or(0);
        let conditions = [
            Condition::New,
            Condition::LikeNew,
            Condition::Used,
            Condition::Damaged,
            Condition::Defective,
        ];
        let mut inspections = Vec::new();
        let mut dispositions = Vec::new();
        let mut refund = 0;
        let mut units_handled = 0;
        for (index, (_, quantity, reason, price, item)) in found.lines.iter().enumerate() {
            let weights = self
                .s
                .returns
                .conditions
                .get(reason)
                .or_else(|| self.s.returns.conditions.get("default"))
                .copied()
                .unwrap_or([1.0, 0.0, 0.0, 0.0, 0.0]);
            let mut by_condition = [0i64; 5];
            for _ in 0..*quantity {
                let mut c = self.dice.pick(&weights);
                // Abusive returners send back used goods more often than the reason suggests.
                if found.abusive && c < 2 && self.dice.chance(0.5) {
                    c = 2;
                }
                by_condition[c] += 1;
            }
            for (c, units) in by_condition.iter().enumerate() {
                if *units == 0 {
                    continue;
                }
                inspections.push(InspectionLine {
                    line: index,
                    quantity: *units,
                    condition: conditions[c],
                });
                let disposition = match conditions[c] {
                    Condition::New | Condition::LikeNew => Disposition::Restock {
                        location: self.w.centers[restock_at].id.clone(),
                    },
                    Condition::Defective => match &self.w.items[*item].kind {
                        Kind::Bought(suppliers) if !suppliers.is_empty() => {
                            Disposition::ReturnToVendor {
                                supplier: self.w.suppliers[suppliers[0]].id.clone(),
                            }
                        }
                        _ => Disposition::Scrap,
                    },
                    Condition::Used | Condition::Damaged => Disposition::Scrap,
                };
                dispositions.push(DispositionLine {
                    line: index,
                    quantity: *units,
                    disposition,
                });
                if conditions[c] != Condition::Used {
                    refund += units * price;
                }
                units_handled += units;
            }
        }
        self.send(
            self.now,
            Command::InspectReturn(InspectReturn {
                return_id: return_id.clone(),
                lines: inspections,
            }),
            Then::Nothing,
        )?;
        self.send(
            self.now + 60,
            Command::DisposeReturn(DisposeReturn {
                return_id: return_id.clone(),
                lines: dispositions,
            }),
            Then::Nothing,
        )?;
        if refund > 0 {
            self.send(
                self.now + 120,
                Command::RefundReturn(RefundReturn {
                    return_id: return_id.clone(),
                    refund: id(&format!("RF-{ret:07}"))?,
                    amount: Money::new(refund, self.w.currency),
                }),
                Then::Nothing,
            )?;
        } else {
            // Nothing to refund (used goods): the return is closed instead.
            self.send(
                self.now + 180,
                Command::CloseReturn(CloseReturn {
                    return_id,
                    reason: id("not_refundable")?,
                }),
                Then::Nothing,
            )?;
        }
        self.accrued.return_labour +=
            minor(self.s.costs.return_labour_per_unit, &self.w) as f64 * units_handled as f64;
        self.count("returns_closed", 1);
        self.count("units_returned", units_handled as u64);
        Ok(())
    }

    // ------------------------------------------------------------------ costs

    pub(crate) fn post_cost(
        &mut self,
        process: ScorProcess,
        cost_type: CostType,
        amount: i64,
        note: &str,
    ) -> Result<(), SimError> {
        if amount <= 0 {
            return Ok(());
        }
        self.next_cost += 1;
        let command = Command::PostCost(PostCost {
            cost: id(&format!("COST-{:06}", self.next_cost))?,
            process,
            cost_type,
            amount: Money::new(amount, self.w.currency),
            settlement: Settlement::Paid,
            reference: None,
            note: Some(note.to_string()),
        });
        self.send(self.now, command, Then::Nothing)
    }

    fn daily_costs(&mut self) -> Result<(), SimError> {
        for carrier in 0..self.s.carriers.len() {
            let amount = std::mem::take(&mut self.accrued.carrier[carrier]).round() as i64;
            let note = format!("{} charges", self.s.carriers[carrier].name);
            self.post_cost(ScorProcess::Deliver, CostType::Carrier, amount, &note)?;
        }
        for center in 0..self.w.centers.len() {
            let amount = std::mem::take(&mut self.accrued.pick_pack[center]).round() as i64;
            let note = format!("pick and pack fees, {}", self.s.centers[center].name);
            self.post_cost(ScorProcess::Deliver, CostType::PickPack, amount, &note)?;
        }
        let packaging = std::mem::take(&mut self.accrued.packaging).round() as i64;
        self.post_cost(
            ScorProcess::Deliver,
            CostType::Packaging,
            packaging,
            "packaging",
        )?;
        let returns = std::mem::take(&mut self.accrued.return_labour).round() as i64;
        self.post_cost(
            ScorProcess::Return,
            CostType::Labour,
            returns,
            "return handling",
        )?;
        let kitting = std::mem::take(&mut self.accrued.kitting_labour).round() as i64;
        self.post_cost(
            ScorProcess::Make,
            CostType::Labour,
            kitting,
            "kitting labour",
        )?;
        let duties = std::mem::take(&mut self.accrued.duties).round() as i64;
        self.post_cost(
            ScorProcess::Source,
            CostType::Duties,
            duties,
            "import duties",
        )?;
        Ok(())
    }

    pub(crate) fn accrue_kitting(&mut self, units: i64) {
        self.accrued.kitting_labour +=
            minor(self.s.costs.kitting_labour_per_unit, &self.w) as f64 * units as f64;
    }

    pub(crate) fn accrue_duties(&mut self, amount: f64) {
        self.accrued.duties += amount;
    }

    fn month_end(&mut self) -> Result<(), SimError> {
        let s = self.s;
        for cost in &s.costs.monthly {
            let (process, cost_type) = match (
                parse_process(&cost.process),
                parse_cost_type(&cost.cost_type),
            ) {
                (Some(p), Some(t)) => (p, t),
                _ => continue,
            };
            let amount = minor(cost.amount, &self.w);
            self.post_cost(process, cost_type, amount, &cost.name)?;
        }
        for center in 0..self.w.centers.len() {
            let units: i64 = (0..self.w.items.len())
                .map(|item| self.on_hand[self.cell(item, center)].max(0))
                .sum();
            let fee = minor(
                self.s.centers[center].storage_fee_per_unit_month * 100.0,
                &self.w,
            ) as f64
                / 100.0;
            let amount = (units as f64 * fee).round() as i64;
            let note = format!("storage, {}", self.s.centers[center].name);
            self.post_cost(ScorProcess::Deliver, CostType::Storage, amount, &note)?;
        }
        for asset in &s.fixed_assets {
            let command = Command::DepreciateFixedAsset(
                flowline_core::documents::finance::DepreciateFixedAsset {
                    asset: id(&asset.id)?,
                    amount_minor: None,
                },
            );
            self.send(self.now, command, Then::Nothing)?;
        }
        Ok(())
    }

    fn summarise(&self, options: &Options, start: Date) -> Summary {
        let mut open = BTreeMap::new();
        for order in self.orders.values() {
            let why = if order.lost {
                "a shipment was lost in transit (carrier exception recorded)"
            } else if order.in_transit > 0 {
                "in transit at the end of the run"
            } else if order.lines.iter().any(|l| !l.packed.is_empty()) {
                "packed, waiting for the carrier at the end of the run"
            } else if order.lines.iter().any(|l| !l.allocated.is_empty()) {
                "allocated, waiting for a pick wave at the end of the run"
            } else if order.lines.iter().any(|l| l.backordered > 0) {
                "backordered at the end of the run"
            } else {
                "other"
            };
            *open.entry(why).or_default() += 1;
        }
        let mut counts = self.counters.clone();
        for (key, value) in &self.supply.counters {
            *counts.entry(key).or_default() += value;
        }
        Summary {
            seed: options.seed,
            days: options.days,
            from: Some(start),
            to: start
                .checked_add(jiff::Span::new().days(i64::from(options.days) - 1))
                .ok(),
            commands: self.d.commands,
            events: 0,
            counts,
            orders_by_day: self.orders_by_day.iter().map(|(d, n)| (*d, *n)).collect(),
            open_orders: open,
            refused: self.d.refused.clone(),
            refusal_samples: self.d.refusal_samples.clone(),
            log_hash: String::new(),
            wall: Duration::ZERO,
            hash_wall: Duration::ZERO,
        }
    }
}

/// Scenario degrees as microdegrees, rounded to the nearest. The scenario check keeps them on
/// the globe; a value past it would saturate here and be refused by the domain.
fn coordinates(degrees: Option<[f64; 2]>) -> Option<flowline_core::master::Coordinates> {
    degrees.map(|[latitude, longitude]| flowline_core::master::Coordinates {
        latitude_microdegrees: (latitude * 1_000_000.0).round() as i32,
        longitude_microdegrees: (longitude * 1_000_000.0).round() as i32,
    })
}
