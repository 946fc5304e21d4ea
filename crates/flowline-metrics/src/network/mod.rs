//! The fulfillment network as the log shows it — where demand comes from, how long each lane
//! takes and what carriers charge per unit-kilometre — and the inventory placement plan computed
//! from it ([`plan()`]), with the transfer proposals that carry it out ([`proposals`]).
//!
//! # What the history keeps
//!
//! [`NetworkHistory`] is a [`Projection`] of the log:
//!
//! - **Regional demand.** Units ordered per stocked item, ship-to region and day, counted when
//!   an order is placed, as [`crate::demand`] counts them: a bundle counts as the stocked
//!   components it is made of, a kit as itself, an amendment or a cancellation does not change
//!   the day's demand. A region is the ship-to's country and region, `US-NJ` (the country alone,
//!   `DE`, when the address has no region; see [`region_key`]). Days are the tenant's reporting
//!   time zone's.
//! - **Region points.** Per region, the mean of the points of the ship-tos that carried
//!   coordinates (the mean direction on the sphere, so it is right across the antimeridian);
//!   a region whose ship-tos never had coordinates stands at its region's, else its country's,
//!   centroid ([`crate::geo`]).
//! - **Measured transit per lane** (center × region): from `SalesOrderShipped` to
//!   `ShipmentDelivered`, in whole minutes, as count, sum and sum of squares per delivery day.
//!   The region is the order's ship-to when the shipment left (`SalesOrderAmended` may move it
//!   before the first shipment; the core refuses it after).
//! - **Carrier cost calibration.** Per day, the base-currency carrier costs posted to Deliver
//!   (`CostPosted` with process `deliver` and type `carrier`), and the unit-metres shipped:
//!   stocked units moved from the center to the customer × the great-circle distance from the
//!   center to the order's ship-to (its coordinates, else its region's or country's centroid).
//!   Their ratio over a trailing window is the measured cost per unit-km. A cost posted in
//!   another currency carries no rate in the log and is left out (counted in
//!   [`NetworkHistory::costs_left_out`]).
//!
//! # Memory
//!
//! Everything per day is kept for the last [`NETWORK_DAYS_MAX`] days before the latest day of
//! the log's order activity (the latest business day of a sales order event or a carrier
//! charge), and older days are dropped as newer
//! ones arrive; a backfilled event older than that is not recorded. Region points and center
//! points are a few numbers per region and center. Resident memory otherwise grows with open
//! work only:
//!
//! - an **open order** (its region, ship-to point and per line the units ordered and the units
//!   shipped or cancelled) is held from `SalesOrderPlaced` until every unit of every line is
//!   shipped or cancelled — its shipments carry their own lane, so it need not wait for their
//!   delivery — or until more than [`NETWORK_DAYS_MAX`] days have passed since it was placed;
//! - a **shipment in transit** (center, region, when it left) is held from `SalesOrderShipped`
//!   until `ShipmentDelivered`, or until more than [`TRANSIT_DAYS_MAX`] days of the log have
//!   passed since the day it left. A carrier exception does not end it: a parcel delayed by an
//!   exception and then delivered took the time it took, and the lane's mean should know.
//!
//! Expiry is checked once per new day of the log, so the work is proportional to the open work,
//! not to the events. What is lost at the edges: units added by amendment (a raised quantity or
//! a new line) to an order whose every unit had already shipped, or a shipment of an order open
//! longer than [`NETWORK_DAYS_MAX`] days, finds no region and is neither measured nor counted in
//! the unit-kilometres ([`NetworkHistory::shipments_unmatched`]); a parcel delivered more than
//! [`TRANSIT_DAYS_MAX`] days after it left is not measured either.
//!
//! # The plan
//!
//! See [`plan()`]: the demand of the last `window_days` scaled to the horizon, the tenant's
//! fulfillment centers, lanes costed from the measured rate (or the settings' fallback) and
//! timed from the measured transit (or a distance prior), today's stock less what is reserved
//! (with what transfers are bringing), handed to [`flowline_plan::placement::place`]. The plan
//! weighs shipping to customers only: what moving the stock between centers costs is for the
//! person deciding the proposals to weigh against the saving.

mod plan;

#[cfg(test)]
mod tests;

pub use plan::{
    Basis, Calibration, Lane, NetworkError, PlacementPlan, PlacementSettings, PointSource,
    RegionDemand, SkippedSku, plan, proposals,
};

use crate::geo;
use flowline_core::documents::finance::{CostType, FinanceEvent};
use flowline_core::documents::sales_order::SalesOrderEvent;
use flowline_core::id::{LocationId, SalesOrderId, ShipmentId, Sku};
use flowline_core::ledger::{ScorProcess, VirtualLocation};
use flowline_core::master::{Address, Coordinates, Item, stocked_components};
use flowline_core::money::Currency;
use flowline_core::projection::{Position, Projection};
use flowline_core::state::{Event, MasterEvent};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many days before the latest day of order activity the history keeps: a year, so a trailing
/// window of any season fits and the measured lanes and carrier rate stay current.
pub const NETWORK_DAYS_MAX: i32 = 365;

/// How long a shipment may stay in transit before it is given up: one delivered later is not
/// measured.
pub const TRANSIT_DAYS_MAX: i32 = 90;

/// Unit vectors are summed in fixed point, so that a snapshot restores the sums exactly.
const UNIT_VECTOR_SCALE: f64 = 1e9;

/// Demand, lanes and carrier costs of the network, folded from the log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkHistory {
    /// The reporting time zone's name, once the tenant is configured (UTC before).
    time_zone: Option<String>,
    /// The base currency, once the tenant is configured.
    base_currency: Option<Currency>,
    /// Bundles, by SKU: their bills of materials, to explode lines into stocked items.
    bundles: BTreeMap<Sku, Item>,
    /// Each located fulfillment center's point, for the unit-kilometres of its shipments.
    centers: BTreeMap<LocationId, Coordinates>,
    /// Units ordered, by item, region and day.
    demand: BTreeMap<Sku, BTreeMap<String, BTreeMap<Date, i64>>>,
    /// Each region's ship-to points.
    regions: BTreeMap<String, RegionPoints>,
    /// Measured transit, by center, region and delivery day.
    transit: BTreeMap<LocationId, BTreeMap<String, BTreeMap<Date, TransitSums>>>,
    /// Carrier costs posted to Deliver, base currency minor units, by day.
    carrier_cost_minor: BTreeMap<Date, i64>,
    /// Stocked units shipped × metres from center to ship-to, by shipping day.
    unit_metres: BTreeMap<Date, i64>,
    /// Orders with units neither shipped nor cancelled.
    orders: BTreeMap<SalesOrderId, OpenOrder>,
    /// Shipments handed to a carrier and not yet delivered.
    shipments: BTreeMap<ShipmentId, InTransit>,
    /// The latest business day of a sales order event or a carrier charge.
    latest: Option<Date>,
    /// Shipments whose order was not open here (no region known): not measured.
    shipments_unmatched: u64,
    /// Shipments whose center or ship-to could not be located: no unit-kilometres.
    shipments_unlocated: u64,
    /// Carrier costs posted in a currency other than the base: not calibrated on.
    costs_left_out: u64,
    /// The time zone resolved, kept between events.
    #[serde(skip)]
    zone: ZoneCache,
}

/// The resolved time zone: a cache of `time_zone`, not part of the state (two histories that
/// differ only in it are equal).
#[derive(Debug, Clone, Default)]
struct ZoneCache(Option<TimeZone>);

impl PartialEq for ZoneCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The ship-to points of one region: the sum of their unit vectors, in fixed point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RegionPoints {
    /// The ISO 3166-1 country, upper case.
    country: String,
    /// The region as the address spelt it, trimmed (empty for a country alone).
    region: String,
    /// Σ unit vector × [`UNIT_VECTOR_SCALE`] of the ship-tos with coordinates.
    sum: [i64; 3],
    /// How many ship-tos had coordinates.
    located: u64,
}

/// Transit measured on one lane on one delivery day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitSums {
    /// Shipments delivered.
    pub count: u64,
    /// Σ minutes from handover to delivery.
    pub minutes: i64,
    /// Σ minutes².
    pub minutes_squared: i64,
}

impl TransitSums {
    fn add(&mut self, other: TransitSums) {
        self.count = self.count.saturating_add(other.count);
        self.minutes = self.minutes.saturating_add(other.minutes);
        self.minutes_squared = self.minutes_squared.saturating_add(other.minutes_squared);
    }

    /// The mean and sample standard deviation of the transit, in days, when any shipment was
    /// measured (the deviation is 0 with one).
    pub fn days(&self) -> Option<(f64, f64)> {
        if self.count == 0 {
            return None;
        }
        let n = self.count as f64;
        let mean = self.minutes as f64 / n;
        let variance = if self.count > 1 {
            ((self.minutes_squared as f64 - n * mean * mean) / (n - 1.0)).max(0.0)
        } else {
            0.0
        };
        Some((mean / MINUTES_PER_DAY, variance.sqrt() / MINUTES_PER_DAY))
    }
}

const MINUTES_PER_DAY: f64 = 1_440.0;

/// An order with units still to ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OpenOrder {
    /// The ship-to's region.
    region: String,
    /// The ship-to's point (coordinates, else a centroid), if located.
    point: Option<Coordinates>,
    /// The day it was placed.
    placed: Date,
    /// Per line: units ordered, units shipped or cancelled.
    lines: Vec<(i64, i64)>,
}

impl OpenOrder {
    fn finished(&self) -> bool {
        self.lines.iter().all(|(ordered, done)| done >= ordered)
    }
}

/// A shipment on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct InTransit {
    center: LocationId,
    region: String,
    shipped_at: Timestamp,
    day: Date,
}

/// The region of an address: its ISO country, upper case, then `-` and its region, upper case
/// and without a repeated country prefix (`us`, ` nj ` → `US-NJ`; `BR`, `br-sp` → `BR-SP`); the
/// country alone when the region is empty. `None` when the address has no country.
pub fn region_key(address: &Address) -> Option<String> {
    let country = address.country.trim().to_ascii_uppercase();
    if country.is_empty() {
        return None;
    }
    let region = address.region.trim().to_ascii_uppercase();
    let region = region
        .strip_prefix(country.as_str())
        .and_then(|rest| rest.strip_prefix('-'))
        .unwrap_or(&region);
    Some(if region.is_empty() {
        country
    } else {
        format!("{country}-{region}")
    })
}

fn unit_vector(point: Coordinates) -> [i64; 3] {
    let latitude = (f64::from(point.latitude_microdegrees) / 1e6).to_radians();
    let longitude = (f64::from(point.longitude_microdegrees) / 1e6).to_radians();
    let scaled = |value: f64| (value * UNIT_VECTOR_SCALE).round() as i64;
    [
        scaled(latitude.cos() * longitude.cos()),
        scaled(latitude.cos() * longitude.sin()),
        scaled(latitude.sin()),
    ]
}

/// The point a sum of unit vectors points to, unless they cancel out.
fn mean_point(sum: [i64; 3], count: u64) -> Option<Coordinates> {
    let [x, y, z] = sum.map(|value| value as f64 / UNIT_VECTOR_SCALE);
    let length = (x * x + y * y + z * z).sqrt();
    // Points spread around the globe have no meaningful mean.
    if count == 0 || length < 1e-6 * count as f64 {
        return None;
    }
    let latitude = z.atan2(x.hypot(y)).to_degrees();
    let longitude = y.atan2(x).to_degrees();
    let micro = |degrees: f64, limit: f64| (degrees * 1e6).round().clamp(-limit, limit) as i32;
    Some(Coordinates {
        latitude_microdegrees: micro(latitude, 90e6),
        longitude_microdegrees: micro(longitude, 180e6),
    })
}

/// Adds `units` to a per-day map.
fn add_on(days: &mut BTreeMap<Date, i64>, day: Date, units: i64) {
    let cell = days.entry(day).or_default();
    *cell = cell.saturating_add(units);
}

/// Σ of a per-day map over `from..=to`.
fn sum_over(days: &BTreeMap<Date, i64>, from: Date, to: Date) -> i64 {
    if from > to {
        return 0;
    }
    days.range(from..=to)
        .fold(0_i64, |sum, (_, value)| sum.saturating_add(*value))
}

impl NetworkHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The latest business day of a sales order event or a carrier charge, if any.
    pub fn latest(&self) -> Option<Date> {
        self.latest
    }

    /// The tenant's base currency, once configured.
    pub fn base_currency(&self) -> Option<Currency> {
        self.base_currency
    }

    /// Units ordered per stocked item and region over the days `from..=to`, items and regions
    /// without any left out.
    pub fn demand(&self, from: Date, to: Date) -> BTreeMap<Sku, BTreeMap<String, i64>> {
        let mut answer: BTreeMap<Sku, BTreeMap<String, i64>> = BTreeMap::new();
        for (sku, regions) in &self.demand {
            for (region, days) in regions {
                let units = sum_over(days, from, to);
                if units > 0 {
                    answer
                        .entry(sku.clone())
                        .or_default()
                        .insert(region.clone(), units);
                }
            }
        }
        answer
    }

    /// The region's representative point and where it came from: the mean of its ship-tos'
    /// coordinates when any had them, else its region's centroid, else its country's.
    pub fn region_point(&self, region: &str) -> Option<(Coordinates, PointSource)> {
        let points = self.regions.get(region)?;
        if let Some(point) = mean_point(points.sum, points.located) {
            return Some((
                point,
                PointSource::ShipTos {
                    count: points.located,
                },
            ));
        }
        if !points.region.is_empty()
            && let Some(point) = geo::region_centroid(&points.country, &points.region)
        {
            return Some((point, PointSource::RegionCentroid));
        }
        geo::country_centroid(&points.country).map(|point| (point, PointSource::CountryCentroid))
    }

    /// The transit measured from `center` to `region` over the kept days.
    pub fn transit(&self, center: &LocationId, region: &str) -> TransitSums {
        let mut total = TransitSums::default();
        if let Some(days) = self.transit.get(center).and_then(|r| r.get(region)) {
            for sums in days.values() {
                total.add(*sums);
            }
        }
        total
    }

    /// The carrier costs posted to Deliver over `from..=to`, base currency minor units, and the
    /// unit-metres shipped over the same days.
    pub fn carrier_calibration(&self, from: Date, to: Date) -> (i64, i64) {
        (
            sum_over(&self.carrier_cost_minor, from, to),
            sum_over(&self.unit_metres, from, to),
        )
    }

    /// Orders held open: some unit neither shipped nor cancelled.
    pub fn open_orders(&self) -> usize {
        self.orders.len()
    }

    /// Shipments held in transit.
    pub fn shipments_in_transit(&self) -> usize {
        self.shipments.len()
    }

    /// Days with any demand, item and region cells counted apart: what the demand costs in
    /// memory.
    pub fn demand_cells(&self) -> usize {
        self.demand
            .values()
            .flat_map(BTreeMap::values)
            .map(BTreeMap::len)
            .sum()
    }

    /// The first day with any demand kept.
    pub fn first_demand_day(&self) -> Option<Date> {
        self.demand
            .values()
            .flat_map(BTreeMap::values)
            .filter_map(|days| days.keys().next().copied())
            .min()
    }

    /// Shipments whose order was not held open, so no region was known: not measured.
    pub fn shipments_unmatched(&self) -> u64 {
        self.shipments_unmatched
    }

    /// Shipments whose center or ship-to could not be located: no unit-kilometres counted.
    pub fn shipments_unlocated(&self) -> u64 {
        self.shipments_unlocated
    }

    /// Carrier costs posted in a currency other than the base currency: left out of the
    /// calibration (the log holds no rate for them).
    pub fn costs_left_out(&self) -> u64 {
        self.costs_left_out
    }

    fn day_of(&mut self, at: Timestamp) -> Date {
        if self.zone.0.is_none() {
            self.zone.0 = Some(
                self.time_zone
                    .as_deref()
                    .and_then(|name| TimeZone::get(name).ok())
                    .unwrap_or(TimeZone::UTC),
            );
        }
        let zone = self.zone.0.clone().unwrap_or(TimeZone::UTC);
        at.to_zoned(zone).date()
    }

    /// The first day kept: [`NETWORK_DAYS_MAX`] days before the latest.
    fn horizon(&self) -> Option<Date> {
        self.latest?
            .checked_sub(jiff::Span::new().days(NETWORK_DAYS_MAX))
            .ok()
    }

    /// Whether `day` is recent enough to record.
    fn keeps(&self, day: Date) -> bool {
        self.horizon().is_none_or(|horizon| day >= horizon)
    }

    /// Moves the latest day on, and when it moves, forgets what fell out of the kept days and
    /// gives up the open work that expired.
    fn advance(&mut self, day: Date) {
        if self.latest.is_some_and(|latest| day <= latest) {
            return;
        }
        self.latest = Some(day);
        let Some(horizon) = self.horizon() else {
            return;
        };
        for regions in self.demand.values_mut() {
            for days in regions.values_mut() {
                if days.first_key_value().is_some_and(|(&d, _)| d < horizon) {
                    *days = days.split_off(&horizon);
                }
            }
            regions.retain(|_, days| !days.is_empty());
        }
        self.demand.retain(|_, regions| !regions.is_empty());
        for regions in self.transit.values_mut() {
            for days in regions.values_mut() {
                if days.first_key_value().is_some_and(|(&d, _)| d < horizon) {
                    *days = days.split_off(&horizon);
                }
            }
            regions.retain(|_, days| !days.is_empty());
        }
        self.transit.retain(|_, regions| !regions.is_empty());
        for days in [&mut self.carrier_cost_minor, &mut self.unit_metres] {
            if days.first_key_value().is_some_and(|(&d, _)| d < horizon) {
                *days = days.split_off(&horizon);
            }
        }
        self.orders.retain(|_, order| order.placed >= horizon);
        if let Ok(given_up) = day.checked_sub(jiff::Span::new().days(TRANSIT_DAYS_MAX)) {
            self.shipments
                .retain(|_, shipment| shipment.day >= given_up);
        }
    }

    fn placed(
        &mut self,
        order: &SalesOrderId,
        ship_to: &Address,
        lines: &[flowline_core::documents::sales_order::OrderLine],
        placed_at: Timestamp,
    ) {
        let day = self.day_of(placed_at);
        let Some(region) = self.locate_region(ship_to) else {
            return;
        };
        if self.keeps(day) {
            for line in lines {
                let stocked = stocked_components(&|sku| self.bundles.get(sku), &line.sku);
                for (sku, per_unit) in stocked {
                    let units = per_unit.saturating_mul(line.quantity);
                    if units > 0 {
                        let days = self
                            .demand
                            .entry(sku)
                            .or_default()
                            .entry(region.clone())
                            .or_default();
                        add_on(days, day, units);
                    }
                }
            }
        }
        let open = OpenOrder {
            region,
            point: geo::locate(ship_to).map(|place| place.coordinates),
            placed: day,
            lines: lines.iter().map(|line| (line.quantity, 0)).collect(),
        };
        if self.keeps(day) && !open.finished() {
            self.orders.insert(order.clone(), open);
        }
    }

    /// The region of a ship-to, its coordinates added to the region's points.
    fn locate_region(&mut self, ship_to: &Address) -> Option<String> {
        let region = region_key(ship_to)?;
        let points = self
            .regions
            .entry(region.clone())
            .or_insert_with(|| RegionPoints {
                country: ship_to.country.trim().to_ascii_uppercase(),
                region: ship_to.region.trim().to_string(),
                sum: [0; 3],
                located: 0,
            });
        if let Some(coordinates) = ship_to.coordinates {
            let vector = unit_vector(coordinates);
            for (sum, value) in points.sum.iter_mut().zip(vector) {
                *sum = sum.saturating_add(value);
            }
            points.located = points.located.saturating_add(1);
        }
        Some(region)
    }

    /// Counts units shipped or cancelled on an open order's lines, and lets the order go once
    /// nothing is left to ship.
    fn settle(&mut self, order: &SalesOrderId, lines: &[(usize, i64)]) {
        let Some(open) = self.orders.get_mut(order) else {
            return;
        };
        for (line, units) in lines {
            if let Some((_, done)) = open.lines.get_mut(*line) {
                *done = done.saturating_add(*units);
            }
        }
        if open.finished() {
            self.orders.remove(order);
        }
    }

    fn sales_order(&mut self, event: &SalesOrderEvent) {
        match event {
            SalesOrderEvent::Placed {
                order,
                ship_to,
                lines,
                placed_at,
                ..
            } => self.placed(order, ship_to, lines, *placed_at),
            SalesOrderEvent::Amended {
                order,
                set_quantities,
                add_lines,
                ship_to,
                ..
            } => {
                let region = ship_to
                    .as_ref()
                    .filter(|_| self.orders.contains_key(order))
                    .and_then(|address| {
                        Some((
                            self.locate_region(address)?,
                            geo::locate(address).map(|place| place.coordinates),
                        ))
                    });
                let Some(open) = self.orders.get_mut(order) else {
                    return;
                };
                for change in set_quantities {
                    if let Some((ordered, _)) = open.lines.get_mut(change.line) {
                        *ordered = change.quantity;
                    }
                }
                open.lines
                    .extend(add_lines.iter().map(|line| (line.quantity, 0)));
                if let Some((region, point)) = region {
                    open.region = region;
                    open.point = point;
                }
                if open.finished() {
                    self.orders.remove(order);
                }
            }
            SalesOrderEvent::Cancelled { order, lines, .. } => {
                let lines: Vec<(usize, i64)> = lines.iter().map(|l| (l.line, l.quantity)).collect();
                self.settle(order, &lines);
            }
            SalesOrderEvent::Shipped {
                order,
                shipment,
                location,
                lines,
                at,
                effects,
                ..
            } => {
                let day = self.day_of(*at);
                let customer = VirtualLocation::Customer.id();
                let units = effects
                    .moves
                    .iter()
                    .filter(|m| m.from == *location && m.to == customer)
                    .fold(0_i64, |sum, m| sum.saturating_add(m.quantity));
                match self.orders.get(order) {
                    Some(open) => {
                        let metres = self
                            .centers
                            .get(location)
                            .zip(open.point)
                            .map(|(center, point)| geo::great_circle_metres(*center, point));
                        match metres {
                            Some(metres) if self.keeps(day) => {
                                add_on(&mut self.unit_metres, day, units.saturating_mul(metres));
                            }
                            Some(_) => {}
                            None => self.shipments_unlocated += 1,
                        }
                        self.shipments.insert(
                            shipment.clone(),
                            InTransit {
                                center: location.clone(),
                                region: open.region.clone(),
                                shipped_at: *at,
                                day,
                            },
                        );
                    }
                    None => self.shipments_unmatched += 1,
                }
                let lines: Vec<(usize, i64)> = lines.iter().map(|l| (l.line, l.quantity)).collect();
                self.settle(order, &lines);
            }
            SalesOrderEvent::Delivered {
                shipment,
                delivered_at,
                ..
            } => {
                let Some(gone) = self.shipments.remove(shipment) else {
                    return;
                };
                let day = self.day_of(*delivered_at);
                if !self.keeps(day) {
                    return;
                }
                let minutes = delivered_at
                    .duration_since(gone.shipped_at)
                    .as_secs()
                    .max(0)
                    / 60;
                let sums = self
                    .transit
                    .entry(gone.center)
                    .or_default()
                    .entry(gone.region)
                    .or_default()
                    .entry(day)
                    .or_default();
                sums.add(TransitSums {
                    count: 1,
                    minutes,
                    minutes_squared: minutes.saturating_mul(minutes),
                });
            }
            _ => {}
        }
    }
}

impl Projection for NetworkHistory {
    const NAME: &'static str = "network_history";
    const VERSION: u32 = 1;

    fn apply(&mut self, position: Position, event: &Event) {
        // Only order activity and carrier charges move the history's day on: a target or a
        // stock count recorded today about a past period must not push every order out of the
        // window.
        if matches!(
            event,
            Event::SalesOrder(_)
                | Event::Finance(FinanceEvent::CostPosted {
                    process: ScorProcess::Deliver,
                    cost_type: CostType::Carrier,
                    ..
                })
        ) {
            let day = self.day_of(position.business_time);
            self.advance(day);
        }
        match event {
            Event::Master(MasterEvent::TenantConfigured { settings }) => {
                self.time_zone = Some(settings.reporting_time_zone.as_str().to_string());
                self.base_currency = Some(settings.base_currency);
                self.zone = ZoneCache::default();
            }
            Event::Master(MasterEvent::ItemDefined { item }) => {
                if item.is_bundle() {
                    self.bundles.insert(item.sku.clone(), item.clone());
                } else {
                    self.bundles.remove(&item.sku);
                }
            }
            Event::Master(MasterEvent::LocationDefined { location }) => {
                match geo::locate(&location.address) {
                    Some(place) => {
                        self.centers.insert(location.id.clone(), place.coordinates);
                    }
                    None => {
                        self.centers.remove(&location.id);
                    }
                }
            }
            Event::SalesOrder(sales_order) => self.sales_order(sales_order),
            Event::Finance(FinanceEvent::CostPosted {
                process: ScorProcess::Deliver,
                cost_type: CostType::Carrier,
                amount,
                at,
                ..
            }) => {
                if Some(amount.currency) != self.base_currency {
                    self.costs_left_out += 1;
                    return;
                }
                let day = self.day_of(*at);
                if self.keeps(day) {
                    add_on(&mut self.carrier_cost_minor, day, amount.amount_minor);
                }
            }
            _ => {}
        }
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(self).map_err(|error| error.to_string())
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }
}
