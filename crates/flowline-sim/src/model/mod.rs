//! The model: demand, allocation, fulfilment waves, carriers, payments, returns and costs, as
//! actions on a simulated clock that become commands to the engine.
//!
//! This file holds the [`Model`] and its machinery: the [`Action`]s it schedules, the hour
//! loop that runs them in time order, sending commands, and reading availability back. What
//! the actions do is split as the SCOR processes divide the brand's work:
//!
//! - `setup`: Enable, the master data, opening stock, assets and targets a run starts from;
//! - `calendar`: what each day schedules, and the customers' arrivals by the demand rate;
//! - `orders`: Deliver, from an order placed to its allocation, backorders and cancellations;
//! - `fulfilment`: Deliver, from a pick wave to the carrier's delivery, invoice and payment;
//! - `returns`: Return, from a customer's request to inspection, disposition and refund;
//! - `costs`: Enable, the costs of running the chain posted by SCOR process;
//! - `run`: running a scenario to its end, and what the run did.
//!
//! Plan, Source and Make (the replenishment review, purchase orders, kitting work orders and
//! cycle counts) are in [`crate::supply`].

mod calendar;
mod costs;
mod fulfilment;
mod orders;
mod returns;
mod run;
mod setup;

pub use run::{log_hash, run, run_with_faults};

use crate::dice::Dice;
use crate::driver::{Driver, SimError, Then};
use crate::scenario::Scenario;
use crate::world::{Kind, World};
use costs::Accrued;
use flowline_core::Command;
use flowline_core::documents::sales_order::ReceivePayment;
use flowline_core::id::{LocationId, SalesOrderId, Sku, TenantId};
use flowline_core::master::TimeZoneName;
use flowline_core::money::Money;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use orders::Order;
use returns::Ret;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

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
    /// Bought items' replenishment cycles and the cycle service level achieved against the
    /// policy's target (see [`crate::service`]).
    pub cycle_service: crate::service::CycleService,
    /// The average value of the stock on hand (bought items and kits) at the daily reviews, at
    /// cost, in the brand's currency (major units).
    pub average_inventory_value: f64,
    /// The weeks the planner's capacity watch flagged during the run (planner policy only),
    /// with when each was first flagged and the orders it brought.
    pub capacity_warnings: Vec<crate::capacity::CapacityWarning>,
}

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
    /// The planner's weekly capacity watch (planner policy only).
    pub(crate) capacity: Option<crate::capacity::CapacityWatch>,
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
            capacity: (s.replenishment.policy == crate::scenario::ReorderPolicy::Planner)
                .then(crate::capacity::CapacityWatch::new),
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
        self.supply.observe(&self.avail);
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

    pub(crate) fn is_open(&self, center: usize) -> bool {
        let (date, _) = local(self.now, &self.w.centers[center].zone);
        self.s.centers[center].opens.is_none_or(|d| d <= date)
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
