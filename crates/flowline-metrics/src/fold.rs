//! The incremental fold: events in, aggregates per local day and slice out.
//!
//! [`Fold::apply`] takes one event (with its business time) and does a bounded amount of work:
//! it updates the record of the one document the event concerns ([`OrderTrack`] for sales
//! orders, a purchase-order or return record) and adds the event's contribution to the
//! [`Bucket`] of its local day, for the whole tenant and for each slice it belongs to
//! (channel, center, carrier service, supplier, SKU, category, ship-to region). An order's
//! verdict is counted when it closes; a late fact (a return, a claim, a credit note) that
//! changes the verdict within the observation window takes the old verdict out and puts the new
//! one in. Records leave memory once no late fact can change them any more, so memory follows
//! open work and the number of days, not the length of history.

use crate::emissions::{EmissionFactorSet, EmissionScope};
use crate::geo::Place;
use crate::histogram::Histogram;
use crate::order::{
    self, Component, Judgement, LateFact, LineTrack, OrderTrack, Rules, Segments, ShipmentTrack,
};
use crate::period::Day;
use flowline_core::Event;
use flowline_core::documents::finance::FinanceEvent;
use flowline_core::documents::inventory::InventoryEvent;
use flowline_core::documents::purchase_order::PurchaseOrderEvent;
use flowline_core::documents::return_auth::ReturnEvent;
use flowline_core::documents::sales_order::{Initiator, SalesOrderEvent};
use flowline_core::documents::work_order::WorkOrderEvent;
use flowline_core::ledger::{Account, ScorProcess};
use flowline_core::master::TransportMode;
use flowline_core::money::{Currency, ExchangeRate};
use flowline_core::state::MasterEvent;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A slice of the tenant's figures: the whole, or one value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "dimension", content = "value", rename_all = "snake_case")]
pub enum Slice {
    /// Everything.
    All,
    /// A sales channel.
    Channel(String),
    /// A fulfillment center.
    Center(String),
    /// A carrier and service, `carrier/service`.
    CarrierService(String),
    /// A supplier.
    Supplier(String),
    /// An item.
    Sku(String),
    /// An item category.
    Category(String),
    /// A ship-to region.
    Region(String),
}

/// A dimension to slice by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Sales channel.
    Channel,
    /// Fulfillment center.
    Center,
    /// Carrier and service.
    CarrierService,
    /// Supplier.
    Supplier,
    /// Item.
    Sku,
    /// Item category.
    Category,
    /// Ship-to region.
    Region,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Self; 7] = [
        Self::Channel,
        Self::Center,
        Self::CarrierService,
        Self::Supplier,
        Self::Sku,
        Self::Category,
        Self::Region,
    ];

    /// Parses `channel`, `center` (or `fc`), `carrier` (or `carrier_service`), `supplier`,
    /// `sku`, `category`, `region`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "channel" => Some(Self::Channel),
            "center" | "fc" | "fulfillment_center" => Some(Self::Center),
            "carrier" | "carrier_service" => Some(Self::CarrierService),
            "supplier" => Some(Self::Supplier),
            "sku" | "item" => Some(Self::Sku),
            "category" => Some(Self::Category),
            "region" | "ship_to_region" => Some(Self::Region),
            _ => None,
        }
    }

    /// Whether a slice belongs to this dimension.
    pub fn owns(self, slice: &Slice) -> bool {
        matches!(
            (self, slice),
            (Self::Channel, Slice::Channel(_))
                | (Self::Center, Slice::Center(_))
                | (Self::CarrierService, Slice::CarrierService(_))
                | (Self::Supplier, Slice::Supplier(_))
                | (Self::Sku, Slice::Sku(_))
                | (Self::Category, Slice::Category(_))
                | (Self::Region, Slice::Region(_))
        )
    }
}

/// Counters of one day and slice. Every field is a sum, so buckets add over days and slices,
/// and a late fact is taken back by adding its contribution with the opposite sign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Orders closed for measurement.
    pub orders_closed: i64,
    /// Of those, out of the population (customer cancellations, excluded reasons).
    pub orders_excluded: i64,
    /// Closed orders in the population (the natural population of RL.2.1, RL.2.3, RL.2.4).
    pub orders_judged: i64,
    /// Of those, with a commitment (the population of RL.1.1 and RL.2.2).
    pub orders_with_commit: i64,
    /// Failures per component over the natural population (on time: over orders with a
    /// commitment).
    pub failures_natural: [i64; 4],
    /// Failures per component over orders with a commitment.
    pub failures_committed: [i64; 4],
    /// Orders with a commitment both on time and in full.
    pub on_time_in_full: i64,
    /// Orders with a commitment by failure signature (index = signature; 0 = perfect).
    pub signatures: [i64; 16],
    /// Orders with a commitment and a delivery (the population of on-time delivery among
    /// delivered orders, which leaves out orders closed by cancellation alone).
    pub delivered_with_commit: i64,
    /// Of those, late or delivered to the wrong place.
    pub delivered_late: i64,
    /// Closed orders with a delivery: the population of the cycle times.
    pub cycle_orders: i64,
    /// Their placement-to-last-delivery times, seconds.
    pub cycle_gross_seconds: i128,
    /// Their times per segment, seconds.
    pub cycle_segment_seconds: [i128; 7],
    /// Orders at their first allocation.
    pub fill_orders: i64,
    /// Of those, allocated complete at once.
    pub fill_orders_complete: i64,
    /// Lines at their order's first allocation.
    pub fill_lines: i64,
    /// Of those, allocated complete at once.
    pub fill_lines_complete: i64,
    /// Units ordered at the first allocation.
    pub fill_units_ordered: i64,
    /// Units allocated by it.
    pub fill_units_allocated: i64,
    /// Orders with a unit backordered at the first allocation.
    pub backordered_orders: i64,
    /// Orders whose first shipment left this day.
    pub orders_shipped: i64,
    /// Units shipped this day.
    pub units_shipped: i64,
    /// Units sold (ordered) this day: the sale cohort.
    pub cohort_units_sold: i64,
    /// Units of this day's sales later authorised for return.
    pub cohort_units_returned: i64,
    /// Units authorised for return this day.
    pub units_returned: i64,
    /// Returns refunded this day after being received.
    pub returns_processed: i64,
    /// Their receipt-to-refund times, seconds.
    pub return_processing_seconds: i128,
    /// Refunds issued before the goods came back (instant refunds), counted apart.
    pub returns_refunded_before_receipt: i64,
    /// Orders whose ship-by deadline fell this day.
    pub ship_deadlines: i64,
    /// Of those, handed to a carrier by the deadline.
    pub ship_on_time: i64,
    /// Purchase orders closed for measurement (received in full, or closed short).
    pub supplier_orders: i64,
    /// Of those, with a supplier commitment.
    pub supplier_orders_with_commit: i64,
    /// Failures per component over the supplier orders (on time: over those with a
    /// commitment).
    pub supplier_failures: [i64; 4],
    /// Supplier orders with a commitment and no failure.
    pub supplier_perfect: i64,
    /// Receipt lines put away.
    pub dock_lines: i64,
    /// Their dock-to-stock times, seconds.
    pub dock_seconds: i128,
    /// Shipments handed to carriers.
    pub shipments: i64,
    /// Of those, with a known distance and factor: the shipments [`Bucket::emissions_mg`]
    /// counts.
    pub emission_shipments: i64,
    /// Of those, left out of the emission figures: no distance (neither end located, or both on
    /// the same centroid) or no factor for the service's mode in the set.
    pub emission_shipments_left_out: i64,
    /// Emissions of the counted shipments, milligrams CO2e (each rounded half to even).
    pub emissions_mg: i128,
    /// Their gross mass × distance, gram-metres (10⁹ per tonne-kilometre).
    pub gram_metres: i128,
    /// Return legs (customer → the center that shipped the order) whose goods arrived, with a
    /// known distance and factor.
    pub return_legs: i64,
    /// Return legs left out of the emission figures, for the same reasons as shipments.
    pub return_legs_left_out: i64,
    /// Emissions of the counted return legs, milligrams CO2e.
    pub return_emissions_mg: i128,
    /// Their mass × distance, gram-metres.
    pub return_gram_metres: i128,
    /// Seconds items were stocked at centers (from an item's first arrival at a center on).
    pub stock_seconds: i128,
    /// Of those, seconds with nothing available (on hand less reserved at or below zero).
    pub stockout_seconds: i128,
    /// Counted item-locations.
    pub counted_lines: i64,
    /// Of those, matching the ledger.
    pub counted_lines_matching: i64,
    /// Value the ledger held for the counted items, at standard cost.
    pub counted_system_value: i128,
    /// Absolute value of the differences found, at standard cost.
    pub counted_difference_value: i128,
    /// Expensed supply chain cost per SCOR process (plan, source, make, deliver, return,
    /// enable), base currency minor units.
    pub cost: [i128; 6],
    /// Revenue earned (invoices less credit notes).
    pub revenue: i128,
    /// Refunds paid.
    pub refunds: i128,
    /// Cost of goods sold, write-downs included.
    pub cost_of_goods_sold: i128,
    /// Material purchases: the value of goods received from suppliers.
    pub purchases: i128,
    /// Net change of the inventory, receivables, payables and supply-chain fixed assets
    /// (net book value) balances this day.
    pub balance_change: [i128; 4],
    /// Σ change × seconds from the change to the end of the day, per balance: with the opening
    /// balance this gives the day's time-weighted integral exactly.
    pub balance_weighted: [i128; 4],
}

/// Indices into [`Bucket::balance_change`].
pub mod balance {
    /// Inventory at cost.
    pub const INVENTORY: usize = 0;
    /// Accounts receivable.
    pub const RECEIVABLES: usize = 1;
    /// Accounts payable (owed: positive).
    pub const PAYABLES: usize = 2;
    /// Net book value of supply-chain fixed assets.
    pub const FIXED_ASSETS: usize = 3;
}

fn add_array<const N: usize, T: Copy + std::ops::AddAssign>(into: &mut [T; N], from: &[T; N]) {
    for (target, value) in into.iter_mut().zip(from) {
        *target += *value;
    }
}

impl Bucket {
    /// Adds another bucket.
    pub fn merge(&mut self, other: &Self) {
        self.orders_closed += other.orders_closed;
        self.orders_excluded += other.orders_excluded;
        self.orders_judged += other.orders_judged;
        self.orders_with_commit += other.orders_with_commit;
        add_array(&mut self.failures_natural, &other.failures_natural);
        add_array(&mut self.failures_committed, &other.failures_committed);
        self.on_time_in_full += other.on_time_in_full;
        add_array(&mut self.signatures, &other.signatures);
        self.delivered_with_commit += other.delivered_with_commit;
        self.delivered_late += other.delivered_late;
        self.cycle_orders += other.cycle_orders;
        self.cycle_gross_seconds += other.cycle_gross_seconds;
        add_array(
            &mut self.cycle_segment_seconds,
            &other.cycle_segment_seconds,
        );
        self.fill_orders += other.fill_orders;
        self.fill_orders_complete += other.fill_orders_complete;
        self.fill_lines += other.fill_lines;
        self.fill_lines_complete += other.fill_lines_complete;
        self.fill_units_ordered += other.fill_units_ordered;
        self.fill_units_allocated += other.fill_units_allocated;
        self.backordered_orders += other.backordered_orders;
        self.orders_shipped += other.orders_shipped;
        self.units_shipped += other.units_shipped;
        self.cohort_units_sold += other.cohort_units_sold;
        self.cohort_units_returned += other.cohort_units_returned;
        self.units_returned += other.units_returned;
        self.returns_processed += other.returns_processed;
        self.return_processing_seconds += other.return_processing_seconds;
        self.returns_refunded_before_receipt += other.returns_refunded_before_receipt;
        self.ship_deadlines += other.ship_deadlines;
        self.ship_on_time += other.ship_on_time;
        self.supplier_orders += other.supplier_orders;
        self.supplier_orders_with_commit += other.supplier_orders_with_commit;
        add_array(&mut self.supplier_failures, &other.supplier_failures);
        self.supplier_perfect += other.supplier_perfect;
        self.dock_lines += other.dock_lines;
        self.dock_seconds += other.dock_seconds;
        self.shipments += other.shipments;
        self.emission_shipments += other.emission_shipments;
        self.emission_shipments_left_out += other.emission_shipments_left_out;
        self.emissions_mg += other.emissions_mg;
        self.gram_metres += other.gram_metres;
        self.return_legs += other.return_legs;
        self.return_legs_left_out += other.return_legs_left_out;
        self.return_emissions_mg += other.return_emissions_mg;
        self.return_gram_metres += other.return_gram_metres;
        self.stock_seconds += other.stock_seconds;
        self.stockout_seconds += other.stockout_seconds;
        self.counted_lines += other.counted_lines;
        self.counted_lines_matching += other.counted_lines_matching;
        self.counted_system_value += other.counted_system_value;
        self.counted_difference_value += other.counted_difference_value;
        add_array(&mut self.cost, &other.cost);
        self.revenue += other.revenue;
        self.refunds += other.refunds;
        self.cost_of_goods_sold += other.cost_of_goods_sold;
        self.purchases += other.purchases;
        add_array(&mut self.balance_change, &other.balance_change);
        add_array(&mut self.balance_weighted, &other.balance_weighted);
    }

    /// Whether every counter is zero.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The series kept as distributions (for medians and percentiles), tenant-wide only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// RS.1.1, net of dwell.
    CycleTime,
    /// Click-to-door, gross.
    ClickToDoor,
    /// Dock-to-stock.
    DockToStock,
    /// Return receipt to refund.
    ReturnProcessing,
}

/// How CO2e of shipments and return legs is estimated (SCOR-METRICS §8.2, default-data
/// method): each leg is `gross mass × distance × factor`, the distance the great-circle distance
/// between the center and the ship-to ([`crate::geo`]: coordinates, else the state's or the
/// country's centroid), the factor that of the carrier service's transport mode and the
/// distance's band ([`crate::emissions::factor_key`]). A leg whose distance or factor is not
/// known is left out and counted as such, never given a made-up length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionSettings {
    /// The factor set every figure is computed with; its name, version and scope are reported
    /// with every figure ([`EmissionSettings::label`]).
    pub set: EmissionFactorSet,
    /// Added to the great-circle distance of air legs, per thousand: cargo flights fly on
    /// average 6.3 % further than the great circle (§8.2, Dobruszkes & Peeters 2019), 63 ‰.
    /// Road, rail and sea legs take the great-circle distance as it is (no routing: this
    /// understates road distance).
    pub air_distance_uplift_per_mille: i64,
}

impl EmissionSettings {
    /// The DESNZ/Defra 2025 "Freighting goods" tank-to-wheel set of [`crate::emissions`]
    /// (road parcels by average diesel van; air by distance band without radiative forcing;
    /// rail; average container ship), air distances 6.3 % over the great circle.
    pub fn standard() -> Self {
        Self {
            set: crate::emissions::DEFRA_2025,
            air_distance_uplift_per_mille: 63,
        }
    }

    /// The factor set's name, version and scope, as reports show it
    /// (`DESNZ/Defra GHG conversion factors, 2025, tank-to-wheel`).
    pub fn label(&self) -> String {
        let scope = match self.set.scope {
            EmissionScope::TankToWheel => "tank-to-wheel",
            EmissionScope::WellToWheel => "well-to-wheel",
        };
        format!("{}, {}, {scope}", self.set.name, self.set.version)
    }

    /// One leg of `grams` by `mode` between two places: its emissions in milligrams (rounded
    /// half to even) and its gram-metres; `None` when its distance or its factor is not known
    /// (or, for an absurd mass, the product would not fit).
    ///
    /// `mg = g × m × (mg / t·km) / 10⁹`: grams over 10⁶ are tonnes, metres over 10³ kilometres.
    pub fn leg(
        &self,
        from: Option<&Place>,
        to: Option<&Place>,
        mode: TransportMode,
        grams: i64,
    ) -> Option<(i128, i128)> {
        let great_circle = crate::geo::distance_metres(from, to).ok()?;
        let metres = match mode {
            TransportMode::Air => {
                // Both factors fit in 64 bits, so their product fits in 128.
                let uplifted = i128::from(great_circle)
                    * (1_000 + i128::from(self.air_distance_uplift_per_mille.max(0)));
                crate::emissions::round_half_even(uplifted, 1_000)?
            }
            TransportMode::Road | TransportMode::Rail | TransportMode::Sea => {
                i128::from(great_circle)
            }
        };
        let factor = self
            .set
            .factor(crate::emissions::factor_key(mode, great_circle))?;
        let gram_metres = i128::from(grams.max(0)).checked_mul(metres)?;
        let milligrams = crate::emissions::round_half_even(
            gram_metres.checked_mul(i128::from(factor.milligrams_per_tonne_kilometre))?,
            1_000_000_000,
        )?;
        Some((milligrams, gram_metres))
    }
}

/// The fold's settings.
#[derive(Debug, Clone)]
pub struct FoldSettings {
    /// The tenant's reporting time zone: days are local days of this zone.
    pub reporting: TimeZone,
    /// The tenant's base currency: money figures are in it.
    pub base_currency: Currency,
    /// Judgement rules.
    pub rules: Rules,
    /// Emission estimation.
    pub emissions: EmissionSettings,
    /// Keep every order's record after it is settled (for drill-down and tests): memory then
    /// grows with history.
    pub keep_settled_orders: bool,
}

/// A purchase order as the supplier metrics see it.
#[derive(Debug, Clone, PartialEq)]
struct PurchaseTrack {
    supplier: String,
    location: String,
    skus: Vec<String>,
    ordered: Vec<i64>,
    accepted: Vec<i64>,
    rejected: Vec<i64>,
    committed_on: Option<Date>,
    last_arrival: Option<Timestamp>,
    rate: ExchangeRate,
    currency: Currency,
    billing_mismatch: bool,
    closed: bool,
    counted: Option<(Day, u8, bool)>,
    /// Billed and paid so far, in the order's currency: a foreign order's payments can only be
    /// converted while its rate is known, so the record stays until it is paid.
    billed_minor: i64,
    paid_minor: i64,
    /// Its latest event.
    last_activity: Timestamp,
}

/// A return as the return metrics see it.
#[derive(Debug, Clone, PartialEq)]
struct ReturnTrack {
    received_at: Option<Timestamp>,
    refunded: bool,
    /// Where the return leg runs and what it counts in, taken from the order when the return
    /// is authorised (the order's record may be gone by the time the goods arrive); `None`
    /// when the order was not known then.
    route: Option<ReturnRoute>,
    /// Per return line, the item's unit mass in grams (for the return leg's mass).
    unit_grams: Vec<i64>,
    /// The return label's carrier service, once issued.
    service: Option<(String, String)>,
}

/// The two ends of a return leg and the slices it counts in.
#[derive(Debug, Clone, PartialEq)]
struct ReturnRoute {
    /// The order's ship-to, as far as it is located.
    ship_to: Option<Place>,
    /// The center that shipped the order last.
    center: Option<String>,
    /// The order's slices, with that center's.
    slices: Vec<Slice>,
}

/// The ledger balances that leave the fold's bucket as time-weighted averages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Running {
    balances: [i128; 4],
}

/// The fold over a tenant's events.
#[derive(Debug, Clone)]
pub struct Fold {
    settings: FoldSettings,
    buckets: FxHashMap<Slice, FxHashMap<Day, Bucket>>,
    series: FxHashMap<(Day, Series), Histogram>,
    orders: FxHashMap<String, OrderTrack>,
    counted: FxHashMap<String, Judgement>,
    purchases: FxHashMap<String, PurchaseTrack>,
    returns: FxHashMap<String, ReturnTrack>,
    return_orders: FxHashMap<String, String>,
    /// The recorded rate of each sales order not in the base currency, by order id: its
    /// postings (revenue, receivables, refunds) are converted at it. Kept for the fold's life,
    /// since a refund may come long after the order settled; one entry per foreign order.
    order_rates: FxHashMap<String, (ExchangeRate, Currency)>,
    work_orders: FxHashMap<String, String>,
    categories: FxHashMap<String, String>,
    unit_costs: FxHashMap<String, i64>,
    modes: FxHashMap<(String, String), TransportMode>,
    zones: FxHashMap<String, TimeZone>,
    places: FxHashMap<String, Place>,
    weights: FxHashMap<String, i64>,
    asset_book: FxHashMap<String, (bool, i128)>,
    longest_return_window_days: i64,
    watermark: Option<Timestamp>,
    activity: Option<(Timestamp, Timestamp)>,
    running: Running,
    events: u64,
    events_since_sweep: u64,
    improvement: flowline_core::State,
    availability: FxHashMap<(String, String), Availability>,
    spells: Vec<Spell>,
    return_reasons: FxHashMap<(Day, String), i64>,
}

/// Availability spells over more local days than this are kept whole (see
/// [`Fold::accrue_availability`]).
const SPELL_DAYS_IN_BUCKETS: i64 = 3;

/// A spell of one item's availability at one center that lasted several days unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spell {
    sku: String,
    center: String,
    from: Timestamp,
    until: Timestamp,
    out: bool,
}

/// The availability of one item at one center since a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Availability {
    available: i64,
    since: Timestamp,
}

/// What an event carries besides its payload: when it happened in the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    /// Business time.
    pub at: Timestamp,
}

impl Fold {
    /// An empty fold.
    pub fn new(settings: FoldSettings) -> Self {
        Self {
            settings,
            buckets: FxHashMap::default(),
            series: FxHashMap::default(),
            orders: FxHashMap::default(),
            counted: FxHashMap::default(),
            purchases: FxHashMap::default(),
            returns: FxHashMap::default(),
            return_orders: FxHashMap::default(),
            order_rates: FxHashMap::default(),
            work_orders: FxHashMap::default(),
            categories: FxHashMap::default(),
            unit_costs: FxHashMap::default(),
            modes: FxHashMap::default(),
            zones: FxHashMap::default(),
            places: FxHashMap::default(),
            weights: FxHashMap::default(),
            asset_book: FxHashMap::default(),
            longest_return_window_days: 0,
            watermark: None,
            activity: None,
            running: Running::default(),
            events: 0,
            events_since_sweep: 0,
            improvement: flowline_core::State::default(),
            availability: FxHashMap::default(),
            spells: Vec::new(),
            return_reasons: FxHashMap::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &FoldSettings {
        &self.settings
    }

    /// Events folded so far.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// The latest business time seen.
    pub fn watermark(&self) -> Option<Timestamp> {
        self.watermark
    }

    /// The first and the latest business time of an operational event (a document, stock,
    /// money): what the data covers. Master data and targets are left out, so a tenant
    /// configured today over imported orders of 2018 has activity in 2018.
    pub fn activity(&self) -> Option<(Timestamp, Timestamp)> {
        self.activity
    }

    /// Every bucket with its day and slice.
    pub fn buckets(&self) -> impl Iterator<Item = (Day, &Slice, &Bucket)> {
        self.buckets
            .iter()
            .flat_map(|(slice, days)| days.iter().map(move |(day, bucket)| (*day, slice, bucket)))
    }

    /// The buckets of one slice, by day.
    pub fn slice_buckets(&self, slice: &Slice) -> impl Iterator<Item = (Day, &Bucket)> {
        self.buckets
            .get(slice)
            .into_iter()
            .flat_map(|days| days.iter().map(|(day, bucket)| (*day, bucket)))
    }

    /// The bucket of a day and slice.
    pub fn bucket(&self, day: Day, slice: &Slice) -> Option<&Bucket> {
        self.buckets.get(slice)?.get(&day)
    }

    /// The distribution of a series on a day.
    pub fn series(&self, day: Day, series: Series) -> Option<&Histogram> {
        self.series.get(&(day, series))
    }

    /// Orders held in memory (open, or still within their observation window).
    pub fn orders_in_memory(&self) -> usize {
        self.orders.len()
    }

    /// The record of an order, if it is in memory.
    pub fn order(&self, id: &str) -> Option<&OrderTrack> {
        self.orders.get(id)
    }

    /// The verdict currently counted for an order.
    pub fn counted_judgement(&self, id: &str) -> Option<&Judgement> {
        self.counted.get(id)
    }

    /// Every order in memory with the verdict counted for it.
    pub fn orders(&self) -> impl Iterator<Item = (&OrderTrack, Option<&Judgement>)> {
        self.orders
            .values()
            .map(|track| (track, self.counted.get(&track.id)))
    }

    /// Every order in memory that has a counted verdict, with that verdict, in no particular
    /// order. Walks the verdicts and looks up only the orders `keep` accepts, so asking for one
    /// range of a year of settled orders looks up that range's orders, not the year's.
    pub fn judged_orders<'a>(
        &'a self,
        mut keep: impl FnMut(&Judgement) -> bool + 'a,
    ) -> impl Iterator<Item = (&'a OrderTrack, &'a Judgement)> + 'a {
        self.counted
            .iter()
            .filter(move |(_, judgement)| keep(judgement))
            .filter_map(|(id, judgement)| self.orders.get(id).map(|track| (track, judgement)))
    }

    fn day(&self, at: Timestamp) -> Day {
        Day::of(at, &self.settings.reporting)
    }

    fn bucket_mut(&mut self, day: Day, slice: &Slice) -> &mut Bucket {
        // Looking the slice up before inserting spares a clone of its name on every event.
        if !self.buckets.contains_key(slice) {
            self.buckets.insert(slice.clone(), FxHashMap::default());
        }
        self.buckets
            .get_mut(slice)
            .map(|days| days.entry(day).or_default())
            .unwrap_or_else(|| unreachable!("the slice was inserted above"))
    }

    /// Applies `change` to the bucket of `day` for each slice.
    fn add(&mut self, day: Day, slices: &[Slice], change: impl Fn(&mut Bucket)) {
        for slice in slices {
            change(self.bucket_mut(day, slice));
        }
    }

    fn record(&mut self, day: Day, series: Series, seconds: i64, sign: i64) {
        let histogram = self.series.entry((day, series)).or_default();
        histogram.record(seconds, sign);
        if histogram.count() == 0 {
            self.series.remove(&(day, series));
        }
    }

    /// Folds one event.
    pub fn apply(&mut self, event: &Event, time: EventTime) {
        self.events += 1;
        if self.watermark.is_none_or(|seen| time.at > seen) {
            self.watermark = Some(time.at);
        }
        if !matches!(event, Event::Master(_) | Event::Improvement(_)) {
            self.activity = Some(match self.activity {
                None => (time.at, time.at),
                Some((first, last)) => (first.min(time.at), last.max(time.at)),
            });
        }
        if let Some(effects) = event.effects() {
            self.post_journal(event, &effects.journal, time.at);
            self.track_availability(effects, time.at);
        }
        match event {
            Event::Master(master) => self.master(master),
            Event::SalesOrder(sales) => self.sales(sales, time.at),
            Event::PurchaseOrder(purchase) => self.purchase(purchase, time.at),
            Event::WorkOrder(work) => self.work(work),
            Event::Return(returned) => self.returned(returned, time.at),
            Event::Inventory(inventory) => self.inventory(inventory, time.at),
            Event::Finance(finance) => self.finance(finance, time.at),
            // Targets and initiatives are kept as the domain folds them.
            Event::Improvement(_) => {
                flowline_core::retention::apply_document(&mut self.improvement, event);
            }
            Event::Transfer(_) => {}
        }
        // A sweep costs one look at every record in memory, so it runs once per that many events
        // (and at least every 4,096): a constant amount of work per event on average.
        self.events_since_sweep += 1;
        if !self.settings.keep_settled_orders
            && self.events_since_sweep >= (self.orders.len() as u64).max(4096)
        {
            self.forget_settled();
            self.events_since_sweep = 0;
        }
    }

    fn master(&mut self, event: &MasterEvent) {
        match event {
            MasterEvent::ItemDefined { item } => {
                let category = item.category.clone().unwrap_or_default();
                self.categories.insert(item.sku.to_string(), category);
                self.unit_costs
                    .insert(item.sku.to_string(), item.unit_cost.amount_minor);
                self.weights.insert(item.sku.to_string(), item.weight_g);
            }
            MasterEvent::CarrierDefined { carrier } => {
                for service in &carrier.services {
                    self.modes.insert(
                        (carrier.id.to_string(), service.code.to_string()),
                        service.mode,
                    );
                }
            }
            MasterEvent::LocationDefined { location } => {
                if let Ok(zone) = TimeZone::get(location.address.time_zone.as_str()) {
                    self.zones.insert(location.id.to_string(), zone);
                }
                match crate::geo::locate(&location.address) {
                    Some(place) => self.places.insert(location.id.to_string(), place),
                    None => self.places.remove(location.id.as_str()),
                };
            }
            MasterEvent::ReturnPolicySet { policy } => {
                self.longest_return_window_days =
                    self.longest_return_window_days.max(policy.window_days);
            }
            MasterEvent::TenantConfigured { .. } | MasterEvent::SupplierDefined { .. } => {}
        }
    }

    /// The slices an order's figures are counted in.
    fn order_slices(&self, track: &OrderTrack, judgement: Option<&Judgement>) -> Vec<Slice> {
        let mut slices = track.slices.clone();
        if let Some((center, (carrier, service))) =
            judgement.and_then(|judgement| judgement.last_shipment.as_ref())
        {
            slices.push(Slice::Center(center.to_string()));
            slices.push(Slice::CarrierService(format!("{carrier}/{service}")));
        }
        slices
    }

    /// The slices of an order that do not depend on its deliveries.
    fn placement_slices(&self, track: &OrderTrack) -> Vec<Slice> {
        let mut slices = vec![
            Slice::All,
            Slice::Channel(track.channel.to_string()),
            Slice::Region(track.region.clone()),
        ];
        let mut skus: Vec<String> = track.lines.iter().map(|l| l.sku.to_string()).collect();
        skus.sort();
        skus.dedup();
        let mut categories: Vec<String> = skus
            .iter()
            .filter_map(|sku| self.categories.get(sku))
            .filter(|category| !category.is_empty())
            .cloned()
            .collect();
        categories.sort();
        categories.dedup();
        slices.extend(skus.into_iter().map(Slice::Sku));
        slices.extend(categories.into_iter().map(Slice::Category));
        slices
    }

    /// Counts (`sign` 1) or takes back (`sign` −1) an order's verdict.
    fn count_judgement(&mut self, track: &OrderTrack, judgement: &Judgement, sign: i64) {
        let slices = self.order_slices(track, Some(judgement));
        let day = judgement.day;
        let excluded = judgement.excluded;
        let committed = judgement.has_commit;
        let signature = judgement.signature;
        let cycle = judgement.cycle;
        self.add(day, &slices, |bucket| {
            bucket.orders_closed += sign;
            if excluded {
                bucket.orders_excluded += sign;
                return;
            }
            bucket.orders_judged += sign;
            for (index, component) in Component::ALL.iter().enumerate() {
                let failed = signature & component.bit() != 0;
                if failed && (committed || *component != Component::OnTime) {
                    bucket.failures_natural[index] += sign;
                }
                if failed && committed {
                    bucket.failures_committed[index] += sign;
                }
            }
            if committed {
                bucket.orders_with_commit += sign;
                bucket.signatures[usize::from(signature)] += sign;
                let both = Component::InFull.bit() | Component::OnTime.bit();
                if signature & both == 0 {
                    bucket.on_time_in_full += sign;
                }
                if cycle.is_some() {
                    bucket.delivered_with_commit += sign;
                    if signature & Component::OnTime.bit() != 0 {
                        bucket.delivered_late += sign;
                    }
                }
            }
            if let Some(segments) = cycle {
                bucket.cycle_orders += sign;
                let gross: i64 = segments.iter().sum();
                bucket.cycle_gross_seconds += i128::from(sign) * i128::from(gross);
                for (total, seconds) in bucket.cycle_segment_seconds.iter_mut().zip(segments) {
                    *total += i128::from(sign) * i128::from(seconds);
                }
            }
        });
        if let (false, Some(segments)) = (excluded, cycle) {
            let gross: i64 = segments.iter().sum();
            let net = gross - segments[order::Segment::Dwell.index()];
            self.record(day, Series::CycleTime, net, sign);
            self.record(day, Series::ClickToDoor, gross, sign);
        }
    }

    /// Re-judges an order after a change and counts the difference.
    fn rejudge(&mut self, id: &str) {
        let Some(track) = self.orders.get(id).cloned() else {
            return;
        };
        let judgement = track.judge(&self.settings.rules, &self.settings.reporting);
        let previous = self.counted.get(id).cloned();
        if previous == judgement {
            return;
        }
        if let Some(previous) = &previous {
            self.count_judgement(&track, previous, -1);
        }
        match judgement {
            Some(judgement) => {
                self.count_judgement(&track, &judgement, 1);
                self.counted.insert(id.to_string(), judgement);
            }
            None => {
                self.counted.remove(id);
            }
        }
    }

    fn sales(&mut self, event: &SalesOrderEvent, at: Timestamp) {
        let id = event.order().to_string();
        match event {
            SalesOrderEvent::Placed {
                channel,
                ship_to,
                lines,
                promise,
                placed_at,
                currency,
                exchange_rate,
                ..
            } => {
                if let Some(rate) = exchange_rate {
                    self.order_rates.insert(id.clone(), (*rate, *currency));
                }
                let zone = TimeZone::get(ship_to.time_zone.as_str()).unwrap_or(TimeZone::UTC);
                let region = if ship_to.region.is_empty() {
                    ship_to.country.clone()
                } else {
                    ship_to.region.clone()
                };
                let track = OrderTrack {
                    id: id.clone(),
                    channel: channel.clone(),
                    region,
                    ship_to: crate::geo::locate(ship_to),
                    zone,
                    placed_at: *placed_at,
                    promise: promise.clone(),
                    lines: lines
                        .iter()
                        .map(|line| LineTrack {
                            sku: line.sku.clone(),
                            ordered: line.quantity,
                            basis: line.quantity,
                            cancelled_by_seller: 0,
                            cancelled_by_customer: 0,
                            first_allocated: None,
                            backordered: false,
                            allocated_at: None,
                            shipped: 0,
                            delivered: 0,
                            returned: 0,
                        })
                        .collect(),
                    holds: Vec::new(),
                    work: Vec::new(),
                    shipments: Vec::new(),
                    last_cancelled_at: None,
                    excluded_by_cancellation: false,
                    late_facts: Vec::new(),
                    slices: Vec::new(),
                };
                let mut track = track;
                track.slices = self.placement_slices(&track);
                let units: i64 = lines.iter().map(|line| line.quantity).sum();
                let day = self.day(*placed_at);
                let slices = self.order_slices(&track, None);
                self.add(day, &slices, |bucket| bucket.cohort_units_sold += units);
                if let Some(deadline) = promise.as_ref().and_then(|p| p.ship_by) {
                    let deadline_day = self.day(deadline);
                    self.add(deadline_day, &slices, |bucket| bucket.ship_deadlines += 1);
                }
                self.orders.insert(id, track);
            }
            SalesOrderEvent::Allocated {
                allocations,
                backordered,
                at,
                ..
            } => {
                let Some(track) = self.orders.get_mut(&id) else {
                    return;
                };
                let first = track
                    .lines
                    .iter()
                    .all(|line| line.first_allocated.is_none());
                for allocation in allocations {
                    if let Some(line) = track.lines.get_mut(allocation.line) {
                        line.allocated_at = Some(*at);
                        if first {
                            *line.first_allocated.get_or_insert(0) += allocation.quantity;
                        }
                    }
                }
                for shortfall in backordered {
                    if let Some(line) = track.lines.get_mut(shortfall.line) {
                        line.backordered = true;
                    }
                }
                if first {
                    let track = track.clone();
                    self.count_first_allocation(&track);
                }
            }
            SalesOrderEvent::Held { reason, at, .. } => {
                let dwell = order::hold_is_dwell(&self.settings.rules, reason);
                if let Some(track) = self.orders.get_mut(&id) {
                    track.holds.push((*at, None, dwell));
                }
            }
            SalesOrderEvent::Released { at, .. } => {
                if let Some(track) = self.orders.get_mut(&id)
                    && let Some(hold) = track.holds.iter_mut().rev().find(|h| h.1.is_none())
                {
                    hold.1 = Some(*at);
                }
            }
            SalesOrderEvent::Shipped {
                shipment,
                location,
                carrier,
                service,
                weight_g,
                lines,
                at,
                ..
            } => self.shipped(
                &id,
                shipment.to_string(),
                location,
                carrier,
                service,
                *weight_g,
                lines,
                *at,
            ),
            SalesOrderEvent::Delivered {
                shipment,
                delivered_at,
                condition,
                misdelivered,
                ..
            } => {
                if let Some(track) = self.orders.get_mut(&id)
                    && let Some(record) = track
                        .shipments
                        .iter_mut()
                        .find(|s| s.id == shipment.as_str())
                {
                    record.delivered_at = Some(*delivered_at);
                    record.damaged = order::is_damaged(*condition);
                    record.misdelivered = *misdelivered;
                    let lines = record.lines.clone();
                    for (line, quantity) in lines {
                        if let Some(line) = track.lines.get_mut(line) {
                            line.delivered += quantity;
                        }
                    }
                }
                self.rejudge(&id);
            }
            SalesOrderEvent::CarrierException { code, at, .. } => {
                let component = order::exception_component(&self.settings.rules, code);
                self.late_fact(&id, component, *at);
            }
            SalesOrderEvent::CreditNoteIssued { reason, at, .. } => {
                let component = order::credit_fails_documentation(&self.settings.rules, reason)
                    .then_some(Component::Documentation);
                self.late_fact(&id, component, *at);
            }
            SalesOrderEvent::Cancelled {
                initiator,
                reason,
                lines,
                at,
                ..
            } => {
                let excludes = *initiator == Initiator::Seller
                    && order::cancellation_excludes(&self.settings.rules, reason);
                if let Some(track) = self.orders.get_mut(&id) {
                    for cancelled in lines {
                        if let Some(line) = track.lines.get_mut(cancelled.line) {
                            order::cancel_line(line, *initiator, cancelled.quantity);
                        }
                    }
                    track.last_cancelled_at = Some(*at);
                    track.excluded_by_cancellation |= excludes;
                }
                self.rejudge(&id);
            }
            SalesOrderEvent::Amended {
                initiator,
                set_quantities,
                add_lines,
                promise,
                ..
            } => {
                if let Some(track) = self.orders.get_mut(&id) {
                    let by_customer = *initiator == Initiator::Customer;
                    for change in set_quantities {
                        if let Some(line) = track.lines.get_mut(change.line) {
                            let delta = change.quantity - line.ordered;
                            line.ordered = change.quantity;
                            if by_customer {
                                line.basis += delta;
                            }
                        }
                    }
                    for added in add_lines {
                        track.lines.push(LineTrack {
                            sku: added.sku.clone(),
                            ordered: added.quantity,
                            basis: if by_customer { added.quantity } else { 0 },
                            cancelled_by_seller: 0,
                            cancelled_by_customer: 0,
                            first_allocated: None,
                            backordered: false,
                            allocated_at: None,
                            shipped: 0,
                            delivered: 0,
                            returned: 0,
                        });
                    }
                    // A seller's re-promise leaves the original commitment standing.
                    if by_customer && promise.is_some() {
                        track.promise = promise.clone();
                    }
                }
                if let Some(track) = self.orders.get(&id).cloned() {
                    let slices = self.placement_slices(&track);
                    if let Some(tracked) = self.orders.get_mut(&id) {
                        tracked.slices = slices;
                    }
                }
                self.rejudge(&id);
            }
            SalesOrderEvent::Deallocated { .. }
            | SalesOrderEvent::Picked { .. }
            | SalesOrderEvent::Packed { .. }
            | SalesOrderEvent::Invoiced { .. }
            | SalesOrderEvent::PaymentReceived { .. }
            | SalesOrderEvent::PaymentRefunded { .. }
            | SalesOrderEvent::ReturnAuthorised { .. }
            | SalesOrderEvent::ReturnReleased { .. } => {}
        }
        let _ = at;
    }

    fn count_first_allocation(&mut self, track: &OrderTrack) {
        let slices = self.order_slices(track, None);
        let day = self.day(track.placed_at);
        let lines = track.lines.len() as i64;
        let ordered: i64 = track.lines.iter().map(|line| line.ordered).sum();
        let allocated: i64 = track
            .lines
            .iter()
            .map(|line| line.first_allocated.unwrap_or(0).min(line.ordered))
            .sum();
        let complete_lines = track
            .lines
            .iter()
            .filter(|line| line.first_allocated.unwrap_or(0) >= line.ordered)
            .count() as i64;
        let backordered = track.lines.iter().any(|line| line.backordered);
        self.add(day, &slices, |bucket| {
            bucket.fill_orders += 1;
            bucket.fill_lines += lines;
            bucket.fill_lines_complete += complete_lines;
            bucket.fill_units_ordered += ordered;
            bucket.fill_units_allocated += allocated;
            if complete_lines == lines {
                bucket.fill_orders_complete += 1;
            }
            if backordered {
                bucket.backordered_orders += 1;
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn shipped(
        &mut self,
        id: &str,
        shipment: String,
        location: &flowline_core::id::LocationId,
        carrier: &flowline_core::id::CarrierId,
        service: &flowline_core::id::ServiceCode,
        weight_g: i64,
        lines: &[flowline_core::documents::sales_order::LineQuantity],
        at: Timestamp,
    ) {
        let Some(track) = self.orders.get_mut(id) else {
            return;
        };
        let first_shipment = track.shipments.is_empty();
        let units: i64 = lines.iter().map(|line| line.quantity).sum();
        for line in lines {
            if let Some(tracked) = track.lines.get_mut(line.line) {
                tracked.shipped += line.quantity;
            }
        }
        track.shipments.push(ShipmentTrack {
            id: shipment,
            location: location.clone(),
            carrier: (carrier.clone(), service.clone()),
            shipped_at: at,
            lines: lines.iter().map(|l| (l.line, l.quantity)).collect(),
            weight_g,
            delivered_at: None,
            damaged: false,
            misdelivered: false,
        });
        let ship_by = track.promise.as_ref().and_then(|p| p.ship_by);
        let track = track.clone();
        let day = self.day(at);
        let mut slices = self.order_slices(&track, None);
        slices.push(Slice::Center(location.to_string()));
        slices.push(Slice::CarrierService(format!("{carrier}/{service}")));
        let mode = self
            .modes
            .get(&(carrier.to_string(), service.to_string()))
            .copied()
            .unwrap_or(TransportMode::Road);
        let leg = self.settings.emissions.leg(
            self.places.get(location.as_str()),
            track.ship_to.as_ref(),
            mode,
            weight_g,
        );
        self.add(day, &slices, |bucket| {
            bucket.shipments += 1;
            bucket.units_shipped += units;
            match leg {
                Some((milligrams, gram_metres)) => {
                    bucket.emission_shipments += 1;
                    bucket.emissions_mg += milligrams;
                    bucket.gram_metres += gram_metres;
                }
                None => bucket.emission_shipments_left_out += 1,
            }
            if first_shipment {
                bucket.orders_shipped += 1;
            }
        });
        if first_shipment && let Some(deadline) = ship_by {
            let deadline_day = self.day(deadline);
            let order_slices = self.order_slices(&track, None);
            if at <= deadline {
                self.add(deadline_day, &order_slices, |bucket| {
                    bucket.ship_on_time += 1
                });
            }
        }
    }

    fn late_fact(&mut self, id: &str, component: Option<Component>, at: Timestamp) {
        let Some(component) = component else {
            return;
        };
        if let Some(track) = self.orders.get_mut(id) {
            track.late_facts.push(LateFact { at, component });
            self.rejudge(id);
        }
    }

    fn returned(&mut self, event: &ReturnEvent, at: Timestamp) {
        let id = event.return_id().to_string();
        match event {
            ReturnEvent::Authorised {
                order, lines, at, ..
            } => {
                let order_id = order.to_string();
                self.return_orders.insert(id.clone(), order_id.clone());
                let unit_grams = lines
                    .iter()
                    .map(|line| self.weights.get(line.sku.as_str()).copied().unwrap_or(0))
                    .collect();
                let route = self.orders.get(&order_id).map(|order| {
                    let center = order.shipments.last().map(|s| s.location.to_string());
                    let mut slices = self.order_slices(order, None);
                    slices.extend(center.clone().map(Slice::Center));
                    ReturnRoute {
                        ship_to: order.ship_to.clone(),
                        center,
                        slices,
                    }
                });
                self.returns.insert(
                    id,
                    ReturnTrack {
                        received_at: None,
                        refunded: false,
                        route,
                        unit_grams,
                        service: None,
                    },
                );
                let units: i64 = lines.iter().map(|line| line.quantity).sum();
                let Some(track) = self.orders.get(&order_id).cloned() else {
                    return;
                };
                let slices = self.order_slices(&track, None);
                let today = self.day(*at);
                let sold_on = self.day(track.placed_at);
                self.add(today, &slices, |bucket| bucket.units_returned += units);
                self.add(sold_on, &slices, |bucket| {
                    bucket.cohort_units_returned += units
                });
                for line in lines {
                    *self
                        .return_reasons
                        .entry((today, line.reason.to_string()))
                        .or_default() += line.quantity;
                    let component = order::return_component(&self.settings.rules, &line.reason);
                    if let Some(track) = self.orders.get_mut(&order_id)
                        && let Some(tracked) = track.lines.get_mut(line.line)
                    {
                        tracked.returned += line.quantity;
                    }
                    self.late_fact(&order_id, component, *at);
                }
            }
            ReturnEvent::Received { lines, at, .. } => {
                if let Some(track) = self.returns.get_mut(&id)
                    && track.received_at.is_none()
                {
                    track.received_at = Some(*at);
                }
                self.return_leg(&id, lines, *at);
            }
            ReturnEvent::LabelIssued {
                carrier, service, ..
            } => {
                if let Some(track) = self.returns.get_mut(&id) {
                    track.service = Some((carrier.to_string(), service.to_string()));
                }
            }
            ReturnEvent::RefundIssued { at, .. } => {
                let Some(track) = self.returns.get_mut(&id) else {
                    return;
                };
                if track.refunded {
                    return;
                }
                track.refunded = true;
                let received = track.received_at;
                let day = self.day(*at);
                match received {
                    Some(received) if received <= *at => {
                        let seconds = at.duration_since(received).as_secs();
                        self.add(day, &[Slice::All], |bucket| {
                            bucket.returns_processed += 1;
                            bucket.return_processing_seconds += i128::from(seconds);
                        });
                        self.record(day, Series::ReturnProcessing, seconds, 1);
                    }
                    _ => self.add(day, &[Slice::All], |bucket| {
                        bucket.returns_refunded_before_receipt += 1;
                    }),
                }
            }
            ReturnEvent::Closed { .. } => {
                self.returns.remove(&id);
            }
            ReturnEvent::Inspected { .. } | ReturnEvent::Disposed { .. } => {}
        }
        let _ = at;
    }

    /// Counts the return leg of a parcel of returned goods that arrived: from the order's
    /// ship-to back to the center that shipped the order last (SCOR-METRICS §8.5: reverse legs
    /// computed like forward legs), by the return label's service (road without a label), its
    /// mass the returned units' item weights. Counted on the day it arrived, in the order's
    /// slices and its center's; left out (and counted as such) when the order was not known
    /// when the return was authorised.
    fn return_leg(
        &mut self,
        id: &str,
        lines: &[flowline_core::documents::sales_order::LineQuantity],
        at: Timestamp,
    ) {
        let Some(track) = self.returns.get(id) else {
            return;
        };
        let day = self.day(at);
        let Some(route) = &track.route else {
            self.add(day, &[Slice::All], |bucket| {
                bucket.return_legs_left_out += 1
            });
            return;
        };
        let grams: i64 = lines
            .iter()
            .filter_map(|line| track.unit_grams.get(line.line)?.checked_mul(line.quantity))
            .fold(0i64, i64::saturating_add);
        let mode = track
            .service
            .as_ref()
            .and_then(|service| self.modes.get(service).copied())
            .unwrap_or(TransportMode::Road);
        let leg = self.settings.emissions.leg(
            route.ship_to.as_ref(),
            route
                .center
                .as_ref()
                .and_then(|center| self.places.get(center)),
            mode,
            grams,
        );
        let slices = route.slices.clone();
        self.add(day, &slices, |bucket| match leg {
            Some((milligrams, gram_metres)) => {
                bucket.return_legs += 1;
                bucket.return_emissions_mg += milligrams;
                bucket.return_gram_metres += gram_metres;
            }
            None => bucket.return_legs_left_out += 1,
        });
    }

    fn work(&mut self, event: &WorkOrderEvent) {
        // Work for a sales order is Make time on its cycle; the order is found through the
        // link recorded when the work order was created.
        match event {
            WorkOrderEvent::Created {
                work_order,
                for_order: Some(order),
                ..
            } => {
                self.work_orders
                    .insert(work_order.to_string(), order.to_string());
                if let Some(track) = self.orders.get_mut(order.as_str()) {
                    track.work.push((None, None));
                }
            }
            WorkOrderEvent::Started { work_order, at, .. } => {
                if let Some(order) = self.work_orders.get(work_order.as_str()).cloned()
                    && let Some(track) = self.orders.get_mut(&order)
                    && let Some(slot) = track.work.iter_mut().find(|w| w.0.is_none())
                {
                    slot.0 = Some(*at);
                }
            }
            WorkOrderEvent::Completed { work_order, at, .. } => {
                if let Some(order) = self.work_orders.get(work_order.as_str()).cloned()
                    && let Some(track) = self.orders.get_mut(&order)
                    && let Some(slot) = track
                        .work
                        .iter_mut()
                        .find(|w| w.0.is_some() && w.1.is_none())
                {
                    slot.1 = Some(*at);
                }
            }
            _ => {}
        }
    }

    fn purchase(&mut self, event: &PurchaseOrderEvent, at: Timestamp) {
        let id = event.purchase_order().to_string();
        match event {
            PurchaseOrderEvent::Placed {
                supplier,
                location,
                currency,
                exchange_rate,
                lines,
                ..
            } => {
                self.purchases.insert(
                    id.clone(),
                    PurchaseTrack {
                        supplier: supplier.to_string(),
                        location: location.to_string(),
                        skus: lines.iter().map(|l| l.sku.to_string()).collect(),
                        ordered: lines.iter().map(|l| l.quantity).collect(),
                        accepted: vec![0; lines.len()],
                        rejected: vec![0; lines.len()],
                        committed_on: None,
                        last_arrival: None,
                        rate: *exchange_rate,
                        currency: *currency,
                        billing_mismatch: false,
                        closed: false,
                        counted: None,
                        billed_minor: 0,
                        paid_minor: 0,
                        last_activity: at,
                    },
                );
            }
            PurchaseOrderEvent::Confirmed { committed_on, .. } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.committed_on = Some(*committed_on);
                }
            }
            PurchaseOrderEvent::Received {
                lines,
                arrived_at,
                at,
                ..
            } => {
                let Some(track) = self.purchases.get_mut(&id) else {
                    return;
                };
                for line in lines {
                    if let (Some(accepted), Some(rejected)) = (
                        track.accepted.get_mut(line.line),
                        track.rejected.get_mut(line.line),
                    ) {
                        *accepted += line.accepted;
                        *rejected += line.rejected;
                    }
                }
                track.last_arrival = Some(
                    track
                        .last_arrival
                        .map_or(*arrived_at, |t| t.max(*arrived_at)),
                );
                let slices = vec![
                    Slice::All,
                    Slice::Supplier(track.supplier.clone()),
                    Slice::Center(track.location.clone()),
                ];
                let seconds = at.duration_since(*arrived_at).as_secs().max(0);
                let count = lines.iter().filter(|l| l.accepted > 0).count() as i64;
                let day = self.day(*at);
                self.add(day, &slices, |bucket| {
                    bucket.dock_lines += count;
                    bucket.dock_seconds += i128::from(count) * i128::from(seconds);
                });
                for _ in 0..count {
                    self.record(day, Series::DockToStock, seconds, 1);
                }
                self.rejudge_purchase(&id);
            }
            PurchaseOrderEvent::Billed {
                amount_minor,
                matched_minor,
                ..
            } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.billing_mismatch |= amount_minor != matched_minor;
                    track.billed_minor += amount_minor;
                }
                self.rejudge_purchase(&id);
            }
            PurchaseOrderEvent::Closed { .. } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.closed = true;
                }
                self.rejudge_purchase(&id);
            }
            PurchaseOrderEvent::Cancelled { .. } => {
                self.purchases.remove(&id);
            }
            PurchaseOrderEvent::Paid { amount_minor, .. } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.paid_minor += amount_minor;
                }
            }
        }
        if let Some(track) = self.purchases.get_mut(&id) {
            track.last_activity = track.last_activity.max(at);
        }
    }

    /// The verdict on a purchase order (RL.1.2, SCOR DS): closed when every unit is accepted or
    /// rejected, or when closed short. In full: every ordered unit accepted. On time: the last
    /// arrival before the end of the committed date in the center's zone. Condition: nothing
    /// rejected at quality control. Documentation: the bill matched what was received.
    fn rejudge_purchase(&mut self, id: &str) {
        let Some(track) = self.purchases.get(id).cloned() else {
            return;
        };
        let received_all = track
            .ordered
            .iter()
            .zip(track.accepted.iter().zip(&track.rejected))
            .all(|(ordered, (accepted, rejected))| accepted + rejected >= *ordered);
        let verdict = (received_all || track.closed).then(|| {
            let mut signature = 0u8;
            if track.accepted != track.ordered {
                signature |= Component::InFull.bit();
            }
            let zone = self
                .zones
                .get(&track.location)
                .cloned()
                .unwrap_or_else(|| self.settings.reporting.clone());
            let deadline = track.committed_on.and_then(|date| {
                date.tomorrow()
                    .ok()
                    .and_then(|next| next.to_zoned(zone).ok())
                    .map(|z| z.timestamp())
            });
            if let (Some(deadline), Some(arrived)) = (deadline, track.last_arrival)
                && arrived >= deadline
            {
                signature |= Component::OnTime.bit();
            }
            if track.rejected.iter().any(|r| *r > 0) {
                signature |= Component::Condition.bit();
            }
            if track.billing_mismatch {
                signature |= Component::Documentation.bit();
            }
            let closed_at = track.last_arrival.unwrap_or(Timestamp::UNIX_EPOCH);
            (self.day(closed_at), signature, deadline.is_some())
        });
        if verdict == track.counted {
            return;
        }
        let mut slices = vec![
            Slice::All,
            Slice::Supplier(track.supplier.clone()),
            Slice::Center(track.location.clone()),
        ];
        let mut skus = track.skus.clone();
        skus.sort();
        skus.dedup();
        slices.extend(skus.into_iter().map(Slice::Sku));
        for (verdict, sign) in [(track.counted, -1), (verdict, 1)] {
            let Some((day, signature, committed)) = verdict else {
                continue;
            };
            self.add(day, &slices, |bucket| {
                bucket.supplier_orders += sign;
                if committed {
                    bucket.supplier_orders_with_commit += sign;
                    if signature == 0 {
                        bucket.supplier_perfect += sign;
                    }
                }
                for (index, component) in Component::ALL.iter().enumerate() {
                    let failed = signature & component.bit() != 0;
                    if failed && (committed || *component != Component::OnTime) {
                        bucket.supplier_failures[index] += sign;
                    }
                }
            });
        }
        if let Some(track) = self.purchases.get_mut(id) {
            track.counted = verdict;
        }
    }

    fn inventory(&mut self, event: &InventoryEvent, at: Timestamp) {
        if let InventoryEvent::CountRecorded {
            location, lines, ..
        } = event
        {
            let day = self.day(at);
            for line in lines {
                let sku = line.sku.to_string();
                let unit_cost = i128::from(self.unit_costs.get(&sku).copied().unwrap_or(0));
                let mut slices = vec![Slice::All, Slice::Center(location.to_string())];
                slices.push(Slice::Sku(sku.clone()));
                if let Some(category) = self.categories.get(&sku).filter(|c| !c.is_empty()) {
                    slices.push(Slice::Category(category.clone()));
                }
                let matching = line.system == line.counted;
                let difference = i128::from((line.system - line.counted).abs()) * unit_cost;
                let system = i128::from(line.system.max(0)) * unit_cost;
                self.add(day, &slices, |bucket| {
                    bucket.counted_lines += 1;
                    if matching {
                        bucket.counted_lines_matching += 1;
                    }
                    bucket.counted_system_value += system;
                    bucket.counted_difference_value += difference;
                });
            }
        }
    }

    fn finance(&mut self, event: &FinanceEvent, at: Timestamp) {
        // The net book value of supply-chain assets, for ROSCFA: acquisition adds the cost,
        // depreciation takes it down, disposal removes what is left.
        let change = match event {
            FinanceEvent::AssetAcquired {
                asset,
                cost_minor,
                supply_chain,
                ..
            } => {
                self.asset_book
                    .insert(asset.to_string(), (*supply_chain, i128::from(*cost_minor)));
                supply_chain.then_some(i128::from(*cost_minor))
            }
            FinanceEvent::AssetDepreciated {
                asset,
                amount_minor,
                ..
            } => match self.asset_book.get_mut(asset.as_str()) {
                Some((supply_chain, book)) => {
                    *book -= i128::from(*amount_minor);
                    supply_chain.then_some(-i128::from(*amount_minor))
                }
                None => None,
            },
            FinanceEvent::AssetDisposed { asset, .. } => self
                .asset_book
                .remove(asset.as_str())
                .and_then(|(supply_chain, book)| supply_chain.then_some(-book)),
            FinanceEvent::CostPosted { .. } => None,
        };
        if let Some(change) = change {
            self.change_balance(balance::FIXED_ASSETS, change, at);
        }
    }

    fn change_balance(&mut self, index: usize, change: i128, at: Timestamp) {
        if change == 0 {
            return;
        }
        let day = self.day(at);
        let end = day.next().start(&self.settings.reporting);
        let seconds = i128::from(end.duration_since(at).as_secs().max(0));
        self.running.balances[index] += change;
        let bucket = self.bucket_mut(day, &Slice::All);
        bucket.balance_change[index] += change;
        bucket.balance_weighted[index] += change * seconds;
    }

    /// Money figures from an event's journal entry, in the base currency. A purchase or sales
    /// order in another currency posts in that currency; its postings (and its returns') are
    /// converted at the rate recorded on the order. A posting in a foreign currency with no
    /// recorded rate (a sales order recorded before rates were required) is left out.
    fn post_journal(
        &mut self,
        event: &Event,
        journal: &flowline_core::ledger::JournalEntry,
        at: Timestamp,
    ) {
        let base = self.settings.base_currency;
        let document_rate = match event {
            Event::PurchaseOrder(purchase) => self
                .purchases
                .get(purchase.purchase_order().as_str())
                .map(|track| (track.rate, track.currency)),
            Event::SalesOrder(sale) => self.order_rates.get(sale.order().as_str()).copied(),
            Event::Return(returned) => self
                .return_orders
                .get(returned.return_id().as_str())
                .and_then(|order| self.order_rates.get(order))
                .copied(),
            _ => None,
        };
        let receipt = matches!(
            event,
            Event::PurchaseOrder(PurchaseOrderEvent::Received { .. })
        );
        let day = self.day(at);
        let mut money = Bucket::default();
        let mut balances = [0i128; 4];
        for posting in &journal.postings {
            let amount = if posting.amount.currency == base {
                i128::from(posting.amount.amount_minor)
            } else {
                match document_rate {
                    Some((rate, currency)) if currency == posting.amount.currency => rate
                        .convert(posting.amount.amount_minor, currency, base)
                        .map_or(0, i128::from),
                    _ => continue,
                }
            };
            match posting.account {
                Account::Inventory => {
                    balances[balance::INVENTORY] += amount;
                    if receipt {
                        money.purchases += amount;
                    }
                }
                Account::Receivables => balances[balance::RECEIVABLES] += amount,
                Account::Payables => balances[balance::PAYABLES] -= amount,
                Account::Revenue => money.revenue -= amount,
                Account::Refunds => money.refunds += amount,
                Account::CostOfGoodsSold | Account::InventoryWriteOff => {
                    money.cost_of_goods_sold += amount;
                }
                Account::SupplyChainCost(process) => {
                    let index = ScorProcess::ALL
                        .iter()
                        .position(|known| *known == process)
                        .unwrap_or(0);
                    money.cost[index] += amount;
                }
                _ => {}
            }
        }
        if !money.is_empty() {
            self.bucket_mut(day, &Slice::All).merge(&money);
        }
        for (index, change) in balances.into_iter().enumerate() {
            self.change_balance(index, change, at);
        }
    }

    /// Lets records go that no late fact can change any more: orders closed before the
    /// observation window and the longest return window (sale cohorts) have passed, settled
    /// purchase orders, refunded returns.
    fn forget_settled(&mut self) {
        let Some(watermark) = self.watermark else {
            return;
        };
        let days = self
            .settings
            .rules
            .observation_window_days
            .max(self.longest_return_window_days)
            .saturating_add(1);
        let Some(horizon) = jiff::SignedDuration::try_from_hours(days.saturating_mul(24))
            .and_then(|span| watermark.checked_sub(span).ok())
        else {
            return;
        };
        let counted = &mut self.counted;
        self.orders.retain(|id, track| {
            let keep = track.closed_at().is_none_or(|closed| closed >= horizon);
            if !keep {
                counted.remove(id);
            }
            keep
        });
        // A purchase order stays while it can still change: units to come, a bill to match,
        // money owed (whose payment must be converted at its rate), or recent activity.
        self.purchases.retain(|_, track| {
            track.counted.is_none()
                || track.billing_mismatch
                || track.paid_minor < track.billed_minor
                || track.last_activity >= horizon
        });
        self.returns.retain(|_, track| !track.refunded);
        let live: rustc_hash::FxHashSet<&String> = self.orders.keys().collect();
        self.return_orders.retain(|_, order| live.contains(order));
        self.work_orders.retain(|_, order| live.contains(order));
    }

    /// The tenant's targets, active and retired, by id.
    pub fn targets(&self) -> impl Iterator<Item = &flowline_core::documents::improvement::Target> {
        self.improvement.targets.values()
    }

    /// The tenant's improvement initiatives, by id.
    pub fn initiatives(
        &self,
    ) -> impl Iterator<Item = &flowline_core::documents::improvement::Initiative> {
        self.improvement.initiatives.values()
    }

    /// Follows each item's availability at each center: the time it spent at or below zero
    /// (a stockout) and the time it was stocked at all, split over the local days it covers.
    fn track_availability(&mut self, effects: &flowline_core::effects::Effects, at: Timestamp) {
        let mut changes: Vec<((String, String), i64)> = Vec::new();
        let center = |location: &flowline_core::id::LocationId| {
            flowline_core::ledger::VirtualLocation::from_id(location).is_none()
        };
        for movement in &effects.moves {
            if center(&movement.to) {
                changes.push((
                    (movement.sku.to_string(), movement.to.to_string()),
                    movement.quantity,
                ));
            }
            if center(&movement.from) {
                changes.push((
                    (movement.sku.to_string(), movement.from.to_string()),
                    -movement.quantity,
                ));
            }
        }
        for change in &effects.reservations {
            if center(&change.location) {
                changes.push((
                    (change.sku.to_string(), change.location.to_string()),
                    -change.quantity,
                ));
            }
        }
        for (key, delta) in changes {
            let previous = self.availability.get(&key).copied();
            if let Some(previous) = previous {
                self.accrue_availability(&key, previous, at);
            }
            let available = previous.map_or(0, |p| p.available) + delta;
            let since = previous.map_or(at, |p| p.since.max(at));
            self.availability
                .insert(key, Availability { available, since });
        }
    }

    /// Adds the time from `state.since` to `until` to the stocked and stockout seconds of the
    /// days it covers. A spell over at most [`SPELL_DAYS_IN_BUCKETS`] local days goes into their
    /// buckets; a longer one is kept whole as a [`Spell`] and clipped to the range asked for when
    /// a scorecard is computed, so the cost of an event never depends on how far apart in time
    /// it is from the one before (an order dated centuries ahead costs one spell, not a bucket
    /// for every day in between).
    fn accrue_availability(
        &mut self,
        key: &(String, String),
        state: Availability,
        until: Timestamp,
    ) {
        if until <= state.since {
            return;
        }
        let zone = self.settings.reporting.clone();
        let out = state.available <= 0;
        let (first, last) = (Day::of(state.since, &zone), Day::of(until, &zone));
        if i64::from(last.0) - i64::from(first.0) >= SPELL_DAYS_IN_BUCKETS {
            self.spells.push(Spell {
                sku: key.0.clone(),
                center: key.1.clone(),
                from: state.since,
                until,
                out,
            });
            return;
        }
        let slices = [
            Slice::All,
            Slice::Center(key.1.clone()),
            Slice::Sku(key.0.clone()),
        ];
        let mut from = state.since;
        while from < until {
            let day = Day::of(from, &zone);
            let end = day.next().start(&zone).min(until);
            let seconds = i128::from(end.duration_since(from).as_secs().max(0));
            self.add(day, &slices, |bucket| {
                bucket.stock_seconds += seconds;
                if out {
                    bucket.stockout_seconds += seconds;
                }
            });
            if end <= from {
                break;
            }
            from = end;
        }
    }

    /// The stocked and stockout seconds not in any bucket, clipped to `range`: each item's time
    /// at a center since its last change (up to `until`, the moment of asking), and the spells
    /// kept whole.
    pub fn open_availability(
        &self,
        range: crate::period::Range,
        slice: &Slice,
        until: Timestamp,
    ) -> (i128, i128) {
        let zone = &self.settings.reporting;
        let start = range.from.start(zone);
        let end = range.to.start(zone);
        let matches = |sku: &str, center: &str| match slice {
            Slice::All => true,
            Slice::Center(wanted) => wanted == center,
            Slice::Sku(wanted) => wanted == sku,
            _ => false,
        };
        let (mut stocked, mut out) = (0i128, 0i128);
        let mut count = |from: Timestamp, to: Timestamp, is_out: bool| {
            let (from, to) = (from.max(start), to.min(end));
            if from < to {
                let seconds = i128::from(to.duration_since(from).as_secs());
                stocked += seconds;
                if is_out {
                    out += seconds;
                }
            }
        };
        for ((sku, center), state) in &self.availability {
            if matches(sku, center) {
                count(state.since, until, state.available <= 0);
            }
        }
        for spell in &self.spells {
            if matches(&spell.sku, &spell.center) {
                count(spell.from, spell.until, spell.out);
            }
        }
        (stocked, out)
    }

    /// Availability spells kept whole rather than in day buckets.
    pub fn spells_kept(&self) -> usize {
        self.spells.len()
    }

    /// Buckets held, over every day and slice.
    pub fn bucket_count(&self) -> usize {
        self.buckets.values().map(FxHashMap::len).sum()
    }

    /// Units authorised for return per reason code over a range, most first.
    pub fn return_reasons(&self, range: crate::period::Range) -> Vec<(String, i64)> {
        let mut totals: FxHashMap<&str, i64> = FxHashMap::default();
        for ((day, reason), units) in &self.return_reasons {
            if range.contains(*day) {
                *totals.entry(reason.as_str()).or_default() += units;
            }
        }
        let mut reasons: Vec<(String, i64)> = totals
            .into_iter()
            .filter(|(_, units)| *units != 0)
            .map(|(reason, units)| (reason.to_string(), units))
            .collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        reasons
    }

    /// The running balances (inventory, receivables, payables, supply-chain assets) now.
    pub fn balances_now(&self) -> [i128; 4] {
        self.running.balances
    }

    /// Every tracked order's id with the judgement a from-scratch computation gives now.
    pub fn recompute_judgements(&self) -> BTreeMap<String, Option<Judgement>> {
        self.orders
            .iter()
            .map(|(id, track)| {
                (
                    id.clone(),
                    track.judge(&self.settings.rules, &self.settings.reporting),
                )
            })
            .collect()
    }

    /// Every order's counted verdict.
    pub fn counted_judgements(&self) -> BTreeMap<String, Judgement> {
        self.counted
            .iter()
            .map(|(id, judgement)| (id.clone(), judgement.clone()))
            .collect()
    }

    /// The segments of a judgement, for callers outside the crate.
    pub fn segments(judgement: &Judgement) -> Option<Segments> {
        judgement.cycle
    }
}
