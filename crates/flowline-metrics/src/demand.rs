//! Demand history: the units customers ordered each day, by stocked item and sales channel, as
//! orders were placed — what the planner forecasts from.
//!
//! Demand is counted when an order is placed, not when it ships: an order that waited for stock
//! is still the day's demand. A bundle (never stocked; a line for it reserves its components)
//! counts as the stocked components it is made of, exploded through nested bundles, since those
//! are what must be bought and placed; a kit is stocked and counts as itself. Days are the
//! tenant's reporting time zone's; a day with no order is a day of zero demand.
//!
//! **Returns** are a flow of their own, kept beside demand and never netted from it: forecasts
//! are of gross demand (what customers ordered), and what comes back is a supply the planner can
//! restock. Units count on the day a return is *received* (the RMA's `ReturnReceived`), not
//! when it is authorised: an authorisation is a promise the customer may not keep (the RMA is
//! closed with the rest unreceived), while received units are in hand. They are counted per
//! stocked component like orders (a bundle's return is its components, from the return line),
//! in the order's channel and at the center that shipped the order last (where the parcel goes
//! back, as the scorecard's return leg assumes) ([`DemandSeries::returned`],
//! [`DemandHistory::return_rate`]). For that the history remembers each order's channel and
//! shipping center until the longest return window (plus [`ORIGIN_GRACE_DAYS`]) has passed
//! since its last shipment or delivery, and each authorised return until it is received in
//! full or closed; a return whose order it no longer remembers is not counted.
//!
//! **Stock-outs.** A day on which an item's stock available to sell (on hand less reserved,
//! over every fulfillment center) was at or below zero at some moment, after the item had first
//! been in stock, is a stock-out day: what customers ordered that day is what they could order,
//! not what they wanted, so the forecast treats it as censored ([`DemandSeries::censored`]) and
//! fills it from the days around it instead of learning a dip.
//!
//! Beside the demand it keeps what replenishment needs from the past and the state does not
//! hold once documents close:
//!
//! - **where demand was served**: units allocated per stocked item, fulfillment center and day,
//!   from which a forecast made per item is split between centers ([`DemandHistory::shares`]);
//! - **how suppliers deliver**: per supplier and item, the last price, the lead times measured
//!   from placement to the receipt that completed each line, and the lines received on time
//!   (by the supplier's committed date, or the requested one) and in full
//!   ([`DemandHistory::supplier_record`]).
//!
//! - **where orders are picked**: orders allocated per fulfillment center and day, each
//!   allocation of an order at a center counting once (a backorder allocated later at the same
//!   center is another pick), which the capacity plan forecasts ([`DemandHistory::center_orders`]),
//!   and shipments per center and day, which tell the weekdays a center works
//!   ([`DemandHistory::working_weekdays`]);
//! - **promotions**: those planned, with their items, channels, days and expected uplift, until
//!   their last day is older than the history keeps ([`DemandHistory::promotions`]).
//!
//! **Promotions.** A promotion's days are demand made on purpose, not the item's ordinary
//! demand: the forecast leaves them out of the history it fits ([`DemandSeries::promoted`]), so
//! a sale neither lifts nor distorts the ordinary level, and lifts the days a promotion will
//! cover by its uplift ([`DemandHistory::factor`]). A promotion planned without an uplift gets
//! the mean of what past promotions achieved ([`DemandHistory::achieved_uplift`]): units ordered
//! of its items per day while it ran, over the same per day in the 28 days before it (days of
//! other promotions and stock-out days left out of both).
//!
//! A [`Projection`] of the log: it folds events in order and is kept as a snapshot like the
//! scorecard. It holds one count per item, channel (or center) and day with orders, and per
//! item, channel, center and day with returns, so it grows with the days of history;
//! [`HISTORY_DAYS_MAX`] bounds how far back it keeps. Open purchase
//! orders are held until they are received, closed or cancelled; supplier records are a few
//! sums each.

use crate::accuracy::Place;
use flowline_core::documents::promotion::PromotionEvent;
use flowline_core::documents::purchase_order::PurchaseOrderEvent;
use flowline_core::documents::return_auth::ReturnEvent;
use flowline_core::documents::sales_order::LineQuantity;
use flowline_core::documents::sales_order::SalesOrderEvent;
use flowline_core::id::{
    ChannelId, LocationId, PurchaseOrderId, ReturnId, SalesOrderId, Sku, SupplierId,
};
use flowline_core::master::{Item, stocked_components};
use flowline_core::projection::{Position, Projection};
use flowline_core::state::{Event, MasterEvent};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many days before the latest order day the history keeps: eight years, enough for any
/// seasonal model; older days are dropped as newer ones arrive.
pub const HISTORY_DAYS_MAX: i32 = 2_922;

/// Days past the longest return window an order's channel and center are remembered after its
/// last shipment or delivery, for a return authorised late in its window (the window runs from
/// delivery, and the day an event carries may trail the history's latest day).
pub const ORIGIN_GRACE_DAYS: i64 = 60;

/// Units ordered per day, by stocked item and channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DemandHistory {
    /// The reporting time zone's name, once the tenant is configured (UTC before).
    time_zone: Option<String>,
    /// Bundles, by SKU: their bills of materials, to explode lines into stocked items.
    bundles: BTreeMap<Sku, Item>,
    /// Units ordered, by item, channel and day.
    cells: BTreeMap<Sku, BTreeMap<ChannelId, BTreeMap<Date, i64>>>,
    /// The latest day with an order.
    latest: Option<Date>,
    /// Units allocated, by item, center and day.
    #[serde(default)]
    allocated: BTreeMap<Sku, BTreeMap<LocationId, BTreeMap<Date, i64>>>,
    /// Stock available to sell per item over the fulfillment centers (on hand − reserved).
    #[serde(default)]
    available: BTreeMap<Sku, i64>,
    /// Items that have been in stock at least once.
    #[serde(default)]
    stocked: std::collections::BTreeSet<Sku>,
    /// Items out of stock now, with the day they ran out.
    #[serde(default)]
    out_since: BTreeMap<Sku, Date>,
    /// Past stock-out days per item (those before a run that is still open are in `out_since`).
    #[serde(default)]
    stockout_days: BTreeMap<Sku, std::collections::BTreeSet<Date>>,
    /// Published forecasts with days still to pass.
    #[serde(default)]
    pending: Vec<crate::accuracy::Pending>,
    /// How the forecasts have done ([`crate::accuracy`]).
    #[serde(default)]
    accuracy: crate::accuracy::Accuracy,
    /// Purchase orders not yet received in full, closed or cancelled.
    #[serde(default)]
    open_purchases: BTreeMap<PurchaseOrderId, OpenPurchase>,
    /// How each supplier has delivered each item.
    #[serde(default)]
    suppliers: BTreeMap<SupplierId, BTreeMap<Sku, SupplierRecord>>,
    /// Orders allocated per center and day.
    #[serde(default)]
    center_orders: BTreeMap<LocationId, BTreeMap<Date, i64>>,
    /// Shipments handed to carriers per center and day: the days a center works.
    #[serde(default)]
    center_shipments: BTreeMap<LocationId, BTreeMap<Date, i64>>,
    /// Promotions planned and not cancelled, by id.
    #[serde(default)]
    promotions: BTreeMap<String, Promotion>,
    /// Units received back from customers, by item, channel, center and day.
    #[serde(default)]
    returned: BTreeMap<Sku, BTreeMap<ChannelId, ByCenter>>,
    /// Orders that may still be returned: their channel and shipping center.
    #[serde(default)]
    origins: BTreeMap<SalesOrderId, Origin>,
    /// Returns authorised and not yet received in full or closed.
    #[serde(default)]
    open_returns: BTreeMap<ReturnId, OpenReturn>,
    /// The longest return window of any policy, days.
    #[serde(default)]
    longest_return_window_days: i64,
    /// The time zone resolved, kept between events.
    #[serde(skip)]
    zone: Option<TimeZone>,
}

/// A promotion as the planner reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// Its name.
    pub name: String,
    /// Its first day.
    pub first_day: Date,
    /// Its last day, inclusive.
    pub last_day: Date,
    /// The stocked items it lifts (bundles named in it exploded to their components); every
    /// item when empty.
    pub items: Vec<Sku>,
    /// The channels it runs in; every channel when empty.
    pub channels: Vec<ChannelId>,
    /// The uplift it was planned with, as a multiple of ordinary demand.
    pub uplift: Option<f64>,
}

impl Promotion {
    /// Whether it covers `day`.
    pub fn covers(&self, day: Date) -> bool {
        self.first_day <= day && day <= self.last_day
    }

    /// Whether it lifts `sku`.
    pub fn lifts(&self, sku: &Sku) -> bool {
        self.items.is_empty() || self.items.contains(sku)
    }
}

/// Where a promotion's uplift comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpliftSource {
    /// Planned with the promotion.
    Planned,
    /// The mean of what past promotions achieved.
    Past,
    /// Nothing is known: no uplift is assumed.
    Unknown,
}

/// The uplift counted on for each promotion, and each item's recent units to weigh them by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifts {
    /// Each promotion's uplift and where it comes from, by id.
    pub uplifts: BTreeMap<String, (f64, UpliftSource)>,
    /// Units ordered of each item over the last [`BASELINE_DAYS`] days of the history.
    weights: BTreeMap<Sku, i64>,
}

impl Lifts {
    /// The multiple of ordinary demand for `sku` on `day` the promotions covering it bring:
    /// the product over them of `1 + (uplift − 1) × s`, `s` the share of the item's units of
    /// the last [`BASELINE_DAYS`] days ordered in the promotion's channels (1 for every
    /// channel); 1 when none covers it.
    pub fn factor(&self, history: &DemandHistory, sku: &Sku, day: Date) -> f64 {
        history
            .promotions
            .iter()
            .filter(|(_, p)| p.covers(day) && p.lifts(sku))
            .map(|(id, promotion)| {
                let uplift = self.uplifts.get(id).map_or(1.0, |(uplift, _)| *uplift);
                1.0 + (uplift - 1.0) * history.channel_share(sku, &promotion.channels)
            })
            .product()
    }

    /// The multiple of ordinary orders on `day` the promotions bring: each item's
    /// [`Lifts::factor`] weighted by its units of the last [`BASELINE_DAYS`] days.
    pub fn order_factor(&self, history: &DemandHistory, day: Date) -> f64 {
        if !history.promotions.values().any(|p| p.covers(day)) {
            return 1.0;
        }
        let total: i64 = self.weights.values().sum();
        if total <= 0 {
            return 1.0;
        }
        self.weights
            .iter()
            .map(|(sku, units)| *units as f64 * self.factor(history, sku, day))
            .sum::<f64>()
            / total as f64
    }
}

/// Days before a promotion whose demand is its baseline.
const BASELINE_DAYS: i64 = 28;

/// One series of the history: an item's daily demand in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandSeries {
    /// The stocked item.
    pub sku: Sku,
    /// The sales channel.
    pub channel: ChannelId,
    /// The first day with an order.
    pub start: Date,
    /// Units ordered each day from `start` to the history's latest day, zero on days without.
    pub daily: Vec<i64>,
    /// Whether each day of `daily` was a stock-out day of the item: its demand is censored.
    pub censored: Vec<bool>,
    /// Whether a promotion of the item in the channel covered each day of `daily`.
    pub promoted: Vec<bool>,
    /// Units of the item sold in the channel received back each day of `daily`, over every
    /// center: a flow of its own, never taken off `daily`.
    pub returned: Vec<i64>,
}

impl DemandSeries {
    /// The series as the forecast of ordinary demand reads it: a censored or promoted day is
    /// unknown (`None`).
    pub fn observed(&self) -> Vec<Option<f64>> {
        self.daily
            .iter()
            .zip(self.censored.iter().zip(&self.promoted))
            .map(|(units, (censored, promoted))| (!censored && !promoted).then_some(*units as f64))
            .collect()
    }
}

/// Units per center and day.
type ByCenter = BTreeMap<LocationId, BTreeMap<Date, i64>>;

/// Where an order came from and went out: what a return of it counts against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Origin {
    channel: ChannelId,
    /// The center that shipped it last, once shipped.
    center: Option<LocationId>,
    /// Its last day placed, shipped or delivered.
    last_on: Date,
}

/// A return being received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OpenReturn {
    channel: ChannelId,
    center: LocationId,
    /// Per return line: the stocked items per unit, and the units still to come.
    lines: Vec<(Vec<(Sku, i64)>, i64)>,
}

/// A purchase order being received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OpenPurchase {
    supplier: SupplierId,
    placed_at: Timestamp,
    /// The day the goods are due: the supplier's commitment, else the requested day.
    due_on: Option<Date>,
    /// Per line: the item, units ordered, units received so far.
    lines: Vec<(Sku, i64, i64)>,
}

/// How a supplier has delivered one item: sums over the lines received in full or closed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplierRecord {
    /// Price per unit of the last order, supplier currency minor units.
    pub last_price_minor: i64,
    /// The last order's rate into the base currency, times one million.
    pub last_rate_micro: i64,
    /// Orders placed for the item.
    pub orders: u32,
    /// Lines finished (received in full, or closed short).
    pub lines: u32,
    /// Lines received in full.
    pub in_full: u32,
    /// Lines whose last receipt came by the due day (lines with a due day only).
    pub on_time: u32,
    /// Lines with a due day.
    pub with_due_day: u32,
    /// Sum of the lead times of the lines received in full, days.
    pub lead_days: f64,
    /// Sum of their squares.
    pub lead_days_squared: f64,
}

impl SupplierRecord {
    /// The mean and standard deviation of the measured lead time, in days, when at least one
    /// line was received in full (the deviation is 0 with one).
    pub fn lead_time(&self) -> Option<(f64, f64)> {
        if self.in_full == 0 {
            return None;
        }
        let n = f64::from(self.in_full);
        let mean = self.lead_days / n;
        let variance = if self.in_full > 1 {
            ((self.lead_days_squared - n * mean * mean) / (n - 1.0)).max(0.0)
        } else {
            0.0
        };
        Some((mean, variance.sqrt()))
    }

    /// The share of finished lines received in full.
    pub fn in_full_rate(&self) -> Option<f64> {
        (self.lines > 0).then(|| f64::from(self.in_full) / f64::from(self.lines))
    }

    /// The share of lines with a due day received by it.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.with_due_day > 0).then(|| f64::from(self.on_time) / f64::from(self.with_due_day))
    }
}

impl DemandHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The latest day with an order, if any.
    pub fn latest(&self) -> Option<Date> {
        self.latest
    }

    /// Every series, in item then channel order, each running to the latest day with an order
    /// (of any item), so that an item that has stopped selling ends in zeros.
    pub fn series(&self) -> Vec<DemandSeries> {
        let Some(latest) = self.latest else {
            return Vec::new();
        };
        self.cells
            .iter()
            .flat_map(|(sku, channels)| {
                channels
                    .iter()
                    .map(move |(channel, days)| (sku, channel, days))
            })
            .filter_map(|(sku, channel, days)| {
                let (&start, _) = days.first_key_value()?;
                let length = usize::try_from(days_between(start, latest)).ok()? + 1;
                let mut daily = vec![0; length];
                for (&day, &units) in days {
                    if let Some(slot) = usize::try_from(days_between(start, day))
                        .ok()
                        .and_then(|index| daily.get_mut(index))
                    {
                        *slot = units;
                    }
                }
                let day_of = |index: usize| start.checked_add(jiff::Span::new().days(index as i64));
                let censored = (0..length)
                    .map(|index| day_of(index).is_ok_and(|day| self.is_stockout_day(sku, day)))
                    .collect();
                let promoted = (0..length)
                    .map(|index| {
                        day_of(index).is_ok_and(|day| self.is_promoted(sku, Some(channel), day))
                    })
                    .collect();
                let mut returned: Vec<i64> = vec![0; length];
                let centers = self.returned.get(sku).and_then(|by| by.get(channel));
                for (&day, &units) in centers.into_iter().flat_map(|c| c.values()).flatten() {
                    if let Some(slot) = usize::try_from(days_between(start, day))
                        .ok()
                        .filter(|_| day >= start)
                        .and_then(|index| returned.get_mut(index))
                    {
                        *slot = (*slot).saturating_add(units);
                    }
                }
                Some(DemandSeries {
                    sku: sku.clone(),
                    channel: channel.clone(),
                    start,
                    daily,
                    censored,
                    promoted,
                    returned,
                })
            })
            .collect()
    }

    /// Each center's share of the units of `sku` allocated over the `days` days up to the
    /// latest order day, in center order; empty when none was allocated then.
    pub fn shares(&self, sku: &Sku, days: i32) -> Vec<(LocationId, f64)> {
        self.allocated
            .get(sku)
            .map_or_else(Vec::new, |centers| self.recent_shares(centers, days))
    }

    /// Each channel's share of the units of `sku` ordered over the `days` days up to the latest
    /// order day, in channel order; empty when none was ordered then. The same recent window
    /// as [`DemandHistory::shares`] gives the centers'.
    pub fn channel_shares(&self, sku: &Sku, days: i32) -> Vec<(ChannelId, f64)> {
        self.cells
            .get(sku)
            .map_or_else(Vec::new, |channels| self.recent_shares(channels, days))
    }

    /// Each key's share of the units of `by_key` over the `days` days up to the latest order
    /// day, in key order, keys without units left out; empty when there were none.
    fn recent_shares<K: Clone>(
        &self,
        by_key: &BTreeMap<K, BTreeMap<Date, i64>>,
        days: i32,
    ) -> Vec<(K, f64)> {
        let since = self
            .latest
            .and_then(|latest| latest.checked_sub(jiff::Span::new().days(days)).ok());
        let units: Vec<(K, i64)> = by_key
            .iter()
            .map(|(key, by_day)| {
                let total = by_day
                    .iter()
                    .filter(|(day, _)| since.is_none_or(|since| **day > since))
                    .map(|(_, units)| *units)
                    .fold(0_i64, i64::saturating_add);
                (key.clone(), total)
            })
            .filter(|(_, units)| *units > 0)
            .collect();
        let total = units.iter().map(|(_, u)| *u as f64).sum::<f64>();
        if total <= 0.0 {
            return Vec::new();
        }
        units
            .into_iter()
            .map(|(key, u)| (key, u as f64 / total))
            .collect()
    }

    /// The units of `sku` received back over the units ordered, both over the `days` days up
    /// to the latest order day and every channel (the period view: what came back in the
    /// window, whenever it was sold); `None` when none was ordered then.
    pub fn return_rate(&self, sku: &Sku, days: i32) -> Option<f64> {
        let latest = self.latest?;
        let from = latest
            .checked_sub(jiff::Span::new().days(days))
            .ok()?
            .tomorrow()
            .ok()?;
        let window = |by_day: &BTreeMap<Date, i64>| -> i64 {
            by_day
                .range(from..=latest)
                .fold(0_i64, |sum, (_, units)| sum.saturating_add(*units))
        };
        let ordered: i64 = self
            .cells
            .get(sku)?
            .values()
            .map(window)
            .fold(0, i64::saturating_add);
        let returned: i64 = self
            .returned
            .get(sku)
            .into_iter()
            .flat_map(BTreeMap::values)
            .flat_map(BTreeMap::values)
            .map(window)
            .fold(0, i64::saturating_add);
        (ordered > 0).then(|| returned as f64 / ordered as f64)
    }

    /// Units of `sku` received back, as (channel, center, day, units), in that order.
    pub fn returned_units(&self, sku: &Sku) -> Vec<(ChannelId, LocationId, Date, i64)> {
        let Some(channels) = self.returned.get(sku) else {
            return Vec::new();
        };
        channels
            .iter()
            .flat_map(|(channel, centers)| {
                centers.iter().flat_map(move |(center, days)| {
                    days.iter()
                        .map(move |(day, units)| (channel.clone(), center.clone(), *day, *units))
                })
            })
            .collect()
    }

    /// Orders allocated at `center` each day from its first day with one to the history's
    /// latest day: the first day and the counts, zero on days without.
    pub fn center_orders(&self, center: &LocationId) -> Option<(Date, Vec<i64>)> {
        let days = self.center_orders.get(center)?;
        let latest = self.latest?;
        let (&start, _) = days.first_key_value()?;
        let length = usize::try_from(days_between(start, latest)).ok()? + 1;
        let mut daily = vec![0; length];
        for (&day, &orders) in days {
            if let Some(slot) = usize::try_from(days_between(start, day))
                .ok()
                .and_then(|index| daily.get_mut(index))
            {
                *slot = orders;
            }
        }
        Some((start, daily))
    }

    /// The weekdays (Monday first) on which `center` handed shipments to carriers over the last
    /// `days` days of the history; every weekday when it has shipped on fewer than 14 days then
    /// (too little to tell a closed day from a quiet one).
    pub fn working_weekdays(&self, center: &LocationId, days: i64) -> [bool; 7] {
        let since = self
            .latest
            .and_then(|latest| latest.checked_sub(jiff::Span::new().days(days)).ok());
        let Some(shipped) = self.center_shipments.get(center) else {
            return [true; 7];
        };
        let recent: Vec<Date> = shipped
            .iter()
            .filter(|(day, count)| since.is_none_or(|since| **day > since) && **count > 0)
            .map(|(day, _)| *day)
            .collect();
        if recent.len() < 14 {
            return [true; 7];
        }
        let mut open = [false; 7];
        for day in recent {
            let weekday = usize::try_from(day.weekday().to_monday_zero_offset()).unwrap_or(0);
            if let Some(slot) = open.get_mut(weekday) {
                *slot = true;
            }
        }
        open
    }

    /// The promotions planned and not cancelled, by id, in id order.
    pub fn promotions(&self) -> impl Iterator<Item = (&str, &Promotion)> {
        self.promotions.iter().map(|(id, p)| (id.as_str(), p))
    }

    /// Whether a promotion lifting `sku` (in `channel`, or in any channel when `None`) covers
    /// `day`.
    pub fn is_promoted(&self, sku: &Sku, channel: Option<&ChannelId>, day: Date) -> bool {
        self.promotions.values().any(|promotion| {
            promotion.covers(day)
                && promotion.lifts(sku)
                && channel.is_none_or(|channel| {
                    promotion.channels.is_empty() || promotion.channels.contains(channel)
                })
        })
    }

    /// What the promotion `id` achieved, once its last day has passed: for each item it lifts,
    /// the units ordered per day in its channels while it ran and in the [`BASELINE_DAYS`] days
    /// before it (the item's stock-out days left out of both, and days of other promotions of
    /// the item out of the baseline); the uplift is the sum over the items of the first over the
    /// sum of the second. `None` when it has not ended or no item has days on both sides.
    pub fn achieved_uplift(&self, id: &str) -> Option<f64> {
        let promotion = self.promotions.get(id)?;
        if self
            .latest
            .is_none_or(|latest| promotion.last_day >= latest)
        {
            return None;
        }
        let baseline_from = promotion
            .first_day
            .checked_sub(jiff::Span::new().days(BASELINE_DAYS))
            .ok()?;
        let mut during = 0.0;
        let mut before = 0.0;
        for sku in self.cells.keys().filter(|sku| promotion.lifts(sku)) {
            let mean = |from: Date, to: Date, baseline: bool| -> Option<f64> {
                let (mut units, mut days) = (0_i64, 0_i64);
                let mut day = from;
                while day <= to {
                    let promoted = baseline && self.is_promoted(sku, None, day);
                    if !promoted && !self.is_stockout_day(sku, day) {
                        units =
                            units.saturating_add(self.ordered_in(sku, &promotion.channels, day));
                        days += 1;
                    }
                    day = day.tomorrow().ok()?;
                }
                (days > 0).then(|| units as f64 / days as f64)
            };
            let inside = mean(promotion.first_day, promotion.last_day, false);
            let outside = mean(baseline_from, promotion.first_day.yesterday().ok()?, true);
            if let (Some(inside), Some(outside)) = (inside, outside) {
                during += inside;
                before += outside;
            }
        }
        (before > 0.0).then(|| during / before)
    }

    /// The uplift the planner counts on for each promotion: the one it was planned with, else
    /// the mean of what the promotions that have ended achieved, else none (1).
    pub fn lifts(&self) -> Lifts {
        let achieved: Vec<f64> = self
            .promotions
            .keys()
            .filter_map(|id| self.achieved_uplift(id))
            .collect();
        let past =
            (!achieved.is_empty()).then(|| achieved.iter().sum::<f64>() / achieved.len() as f64);
        let uplifts = self
            .promotions
            .iter()
            .map(|(id, promotion)| {
                let chosen = match (promotion.uplift, past) {
                    (Some(uplift), _) => (uplift, UpliftSource::Planned),
                    (None, Some(past)) => (past, UpliftSource::Past),
                    (None, None) => (1.0, UpliftSource::Unknown),
                };
                (id.clone(), chosen)
            })
            .collect();
        let weights = self
            .cells
            .keys()
            .map(|sku| (sku.clone(), self.recent_units(sku, &[])))
            .filter(|(_, units)| *units > 0)
            .collect();
        Lifts { uplifts, weights }
    }

    /// Units of `sku` ordered in `channels` (every channel when empty) over the last
    /// [`BASELINE_DAYS`] days of the history.
    fn recent_units(&self, sku: &Sku, channels: &[ChannelId]) -> i64 {
        let Some(latest) = self.latest else { return 0 };
        let Ok(since) = latest.checked_sub(jiff::Span::new().days(BASELINE_DAYS)) else {
            return 0;
        };
        self.cells.get(sku).map_or(0, |by_channel| {
            by_channel
                .iter()
                .filter(|(channel, _)| channels.is_empty() || channels.contains(channel))
                .flat_map(|(_, days)| days.range(since.tomorrow().unwrap_or(since)..))
                .fold(0_i64, |sum, (_, units)| sum.saturating_add(*units))
        })
    }

    /// The share of `sku`'s recent units ordered in `channels`: 1 for every channel, and when
    /// the item has no recent units.
    fn channel_share(&self, sku: &Sku, channels: &[ChannelId]) -> f64 {
        if channels.is_empty() {
            return 1.0;
        }
        let all = self.recent_units(sku, &[]);
        if all <= 0 {
            return 1.0;
        }
        self.recent_units(sku, channels) as f64 / all as f64
    }

    /// Units of `sku` ordered on `day` in `channels` (every channel when empty).
    fn ordered_in(&self, sku: &Sku, channels: &[ChannelId], day: Date) -> i64 {
        self.cells.get(sku).map_or(0, |by_channel| {
            by_channel
                .iter()
                .filter(|(channel, _)| channels.is_empty() || channels.contains(channel))
                .filter_map(|(_, days)| days.get(&day))
                .fold(0_i64, |sum, units| sum.saturating_add(*units))
        })
    }

    /// How `supplier` has delivered `sku`, if it has been ordered from it.
    pub fn supplier_record(&self, supplier: &SupplierId, sku: &Sku) -> Option<&SupplierRecord> {
        self.suppliers.get(supplier)?.get(sku)
    }

    /// The suppliers `sku` has been ordered from, with their records.
    pub fn suppliers_of<'h>(
        &'h self,
        sku: &'h Sku,
    ) -> impl Iterator<Item = (&'h SupplierId, &'h SupplierRecord)> + 'h {
        self.suppliers
            .iter()
            .filter_map(move |(supplier, items)| items.get(sku).map(|record| (supplier, record)))
    }

    /// How the published forecasts have done against the days that have passed.
    pub fn accuracy(&self) -> &crate::accuracy::Accuracy {
        &self.accuracy
    }

    /// Units of `sku` ordered on `day`, over every channel.
    fn ordered_on(&self, sku: &Sku, day: Date) -> i64 {
        self.cells.get(sku).map_or(0, |channels| {
            channels
                .values()
                .filter_map(|days| days.get(&day))
                .fold(0_i64, |sum, units| sum.saturating_add(*units))
        })
    }

    /// The actuals a line for `place` is judged against: units of `sku` ordered on `day` over
    /// every channel (the network) or in one channel, or allocated at one center.
    fn actual_at(&self, place: &Place, sku: &Sku, day: Date) -> i64 {
        match place {
            Place::Network => self.ordered_on(sku, day),
            Place::Channel(channel) => self
                .cells
                .get(sku)
                .and_then(|channels| channels.get(channel))
                .and_then(|days| days.get(&day))
                .copied()
                .unwrap_or(0),
            Place::Center(center) => self
                .allocated
                .get(sku)
                .and_then(|centers| centers.get(center))
                .and_then(|days| days.get(&day))
                .copied()
                .unwrap_or(0),
        }
    }

    /// The first day with actuals of `sku` at `place`.
    fn first_at(&self, place: &Place, sku: &Sku) -> Option<Date> {
        let first = |days: &BTreeMap<Date, i64>| days.first_key_value().map(|(day, _)| *day);
        match place {
            Place::Network => self.cells.get(sku)?.values().filter_map(first).min(),
            Place::Channel(channel) => first(self.cells.get(sku)?.get(channel)?),
            Place::Center(center) => first(self.allocated.get(sku)?.get(center)?),
        }
    }

    /// Takes a published forecast's lines to be scored as their days pass, each where it was
    /// made (the network, a center, a channel).
    fn published(
        &mut self,
        forecast: &flowline_core::id::ForecastId,
        first_day: Date,
        lines: &[flowline_core::documents::forecast::ForecastLine],
    ) {
        let mut pending = Vec::new();
        for line in lines {
            let place = match (&line.location, &line.channel) {
                (None, None) => Place::Network,
                (Some(center), None) => Place::Center(center.clone()),
                (None, Some(channel)) => Place::Channel(channel.clone()),
                // Refused when published; a line for both is judged nowhere.
                (Some(_), Some(_)) => continue,
            };
            let first = self.first_at(&place, &line.sku);
            let before: Vec<f64> = (1..=365)
                .rev()
                .filter_map(|back| first_day.checked_sub(jiff::Span::new().days(back)).ok())
                .skip_while(|day| first.is_none_or(|first| *day < first))
                .map(|day| self.actual_at(&place, &line.sku, day) as f64)
                .collect();
            pending.push(crate::accuracy::PendingLine {
                sku: line.sku.clone(),
                place,
                daily: line
                    .daily_milli
                    .iter()
                    .map(|m| *m as f64 / 1000.0)
                    .collect(),
                next: 0,
                scale: crate::accuracy::naive_scale(&before),
            });
        }
        if !pending.is_empty() {
            self.pending.push(crate::accuracy::Pending {
                forecast: forecast.to_string(),
                first_day,
                lines: pending,
            });
            if let Some(latest) = self.latest {
                self.score_until(latest);
            }
        }
    }

    /// Scores every pending figure of a day before `latest` (the days that have passed).
    fn score_until(&mut self, latest: Date) {
        let mut pending = std::mem::take(&mut self.pending);
        for forecast in &mut pending {
            for line in &mut forecast.lines {
                while let Some(&figure) = line.daily.get(line.next) {
                    let Ok(day) = forecast
                        .first_day
                        .checked_add(jiff::Span::new().days(line.next as i64))
                    else {
                        line.next = line.daily.len();
                        break;
                    };
                    if day >= latest {
                        break;
                    }
                    if !self.is_stockout_day(&line.sku, day) {
                        let actual = self.actual_at(&line.place, &line.sku, day) as f64;
                        self.accuracy.score(
                            &line.place,
                            &line.sku,
                            day,
                            line.next as u32,
                            figure,
                            actual,
                            line.scale,
                        );
                    }
                    line.next += 1;
                }
            }
            forecast.lines.retain(|line| line.next < line.daily.len());
        }
        pending.retain(|forecast| !forecast.lines.is_empty());
        self.pending = pending;
    }

    /// Counts units of a return received on `day`.
    fn return_received(&mut self, id: &ReturnId, lines: &[LineQuantity], day: Date) {
        let Some(mut open) = self.open_returns.remove(id) else {
            return;
        };
        for received in lines {
            let Some((components, to_come)) = open.lines.get_mut(received.line) else {
                continue;
            };
            *to_come = to_come.saturating_sub(received.quantity);
            for (sku, per_unit) in components.iter() {
                let units = per_unit.saturating_mul(received.quantity);
                if units <= 0 {
                    continue;
                }
                let cell = self
                    .returned
                    .entry(sku.clone())
                    .or_default()
                    .entry(open.channel.clone())
                    .or_default()
                    .entry(open.center.clone())
                    .or_default()
                    .entry(day)
                    .or_default();
                *cell = cell.saturating_add(units);
            }
        }
        if open.lines.iter().any(|(_, to_come)| *to_come > 0) {
            self.open_returns.insert(id.clone(), open);
        }
    }

    /// Forgets the channel and center of orders whose return window (the longest, plus
    /// [`ORIGIN_GRACE_DAYS`]) has passed since they were last shipped or delivered.
    fn forget_origins(&mut self, latest: Date) {
        let keep = self
            .longest_return_window_days
            .max(0)
            .saturating_add(ORIGIN_GRACE_DAYS);
        let Ok(horizon) = latest.checked_sub(jiff::Span::new().days(keep)) else {
            return;
        };
        self.origins.retain(|_, origin| origin.last_on >= horizon);
    }

    /// Whether `day` was a stock-out day of `sku`.
    pub fn is_stockout_day(&self, sku: &Sku, day: Date) -> bool {
        self.out_since.get(sku).is_some_and(|since| day >= *since)
            || self
                .stockout_days
                .get(sku)
                .is_some_and(|days| days.contains(&day))
    }

    /// Follows the stock available to sell through an event's moves and reservations, at the
    /// fulfillment centers only (virtual locations are not for sale).
    fn track_availability(&mut self, effects: &flowline_core::effects::Effects, day: Date) {
        use flowline_core::ledger::VirtualLocation;
        let at_center = |location: &LocationId| VirtualLocation::from_id(location).is_none();
        let mut touched: Vec<Sku> = Vec::new();
        for movement in &effects.moves {
            let change = i64::from(at_center(&movement.to)) - i64::from(at_center(&movement.from));
            if change != 0 {
                let entry = self.available.entry(movement.sku.clone()).or_default();
                *entry = entry.saturating_add(change.saturating_mul(movement.quantity));
                touched.push(movement.sku.clone());
            }
        }
        for change in &effects.reservations {
            if at_center(&change.location) {
                let entry = self.available.entry(change.sku.clone()).or_default();
                *entry = entry.saturating_sub(change.quantity);
                touched.push(change.sku.clone());
            }
        }
        for sku in touched {
            let available = self.available.get(&sku).copied().unwrap_or(0);
            if available > 0 {
                self.stocked.insert(sku.clone());
                if let Some(since) = self.out_since.remove(&sku) {
                    let days = self.stockout_days.entry(sku).or_default();
                    let mut cursor = since;
                    // The run's days, the day it ended included (it was out for part of it).
                    while cursor <= day {
                        days.insert(cursor);
                        match cursor.tomorrow() {
                            Ok(next) => cursor = next,
                            Err(_) => break,
                        }
                    }
                }
            } else if self.stocked.contains(&sku) {
                self.out_since.entry(sku).or_insert(day);
            }
        }
    }

    fn purchase(&mut self, event: &PurchaseOrderEvent) {
        match event {
            PurchaseOrderEvent::Placed {
                purchase_order,
                supplier,
                lines,
                requested_on,
                exchange_rate,
                at,
                ..
            } => {
                for line in lines {
                    let record = self
                        .suppliers
                        .entry(supplier.clone())
                        .or_default()
                        .entry(line.sku.clone())
                        .or_default();
                    record.last_price_minor = line.unit_price_minor;
                    record.last_rate_micro = exchange_rate.rate_micro;
                    record.orders = record.orders.saturating_add(1);
                }
                self.open_purchases.insert(
                    purchase_order.clone(),
                    OpenPurchase {
                        supplier: supplier.clone(),
                        placed_at: *at,
                        due_on: *requested_on,
                        lines: lines
                            .iter()
                            .map(|l| (l.sku.clone(), l.quantity, 0))
                            .collect(),
                    },
                );
            }
            PurchaseOrderEvent::Confirmed {
                purchase_order,
                committed_on,
                ..
            } => {
                if let Some(open) = self.open_purchases.get_mut(purchase_order) {
                    open.due_on = Some(*committed_on);
                }
            }
            PurchaseOrderEvent::Received {
                purchase_order,
                lines,
                arrived_at,
                ..
            } => {
                let Some(mut open) = self.open_purchases.remove(purchase_order) else {
                    return;
                };
                let arrived_day = self.day_of(*arrived_at);
                let lead = arrived_at.duration_since(open.placed_at).as_secs_f64() / 86_400.0;
                for received in lines {
                    let Some((sku, ordered, so_far)) = open.lines.get_mut(received.line) else {
                        continue;
                    };
                    let before = *so_far;
                    *so_far = so_far
                        .saturating_add(received.accepted)
                        .saturating_add(received.rejected);
                    if before < *ordered && *so_far >= *ordered {
                        let on_time = open.due_on.map(|due| arrived_day <= due);
                        let record = self
                            .suppliers
                            .entry(open.supplier.clone())
                            .or_default()
                            .entry(sku.clone())
                            .or_default();
                        record.lines = record.lines.saturating_add(1);
                        record.in_full = record.in_full.saturating_add(1);
                        record.lead_days += lead.max(0.0);
                        record.lead_days_squared += lead.max(0.0).powi(2);
                        if let Some(on_time) = on_time {
                            record.with_due_day = record.with_due_day.saturating_add(1);
                            record.on_time = record.on_time.saturating_add(u32::from(on_time));
                        }
                    }
                }
                if open.lines.iter().any(|(_, ordered, got)| got < ordered) {
                    self.open_purchases.insert(purchase_order.clone(), open);
                }
            }
            PurchaseOrderEvent::Closed { purchase_order, .. } => {
                // Lines still short when the order is closed count as not in full.
                if let Some(open) = self.open_purchases.remove(purchase_order) {
                    for (sku, ordered, got) in &open.lines {
                        if got < ordered {
                            let record = self
                                .suppliers
                                .entry(open.supplier.clone())
                                .or_default()
                                .entry(sku.clone())
                                .or_default();
                            record.lines = record.lines.saturating_add(1);
                            if open.due_on.is_some() {
                                record.with_due_day = record.with_due_day.saturating_add(1);
                            }
                        }
                    }
                }
            }
            PurchaseOrderEvent::Cancelled { purchase_order, .. } => {
                self.open_purchases.remove(purchase_order);
            }
            _ => {}
        }
    }

    fn day_of(&mut self, at: Timestamp) -> Date {
        if self.zone.is_none() {
            self.zone = Some(
                self.time_zone
                    .as_deref()
                    .and_then(|name| TimeZone::get(name).ok())
                    .unwrap_or(TimeZone::UTC),
            );
        }
        let zone = self.zone.clone().unwrap_or(TimeZone::UTC);
        at.to_zoned(zone).date()
    }

    fn record(&mut self, sku: &Sku, channel: &ChannelId, day: Date, units: i64) {
        if units <= 0 {
            return;
        }
        let cell = self
            .cells
            .entry(sku.clone())
            .or_default()
            .entry(channel.clone())
            .or_default()
            .entry(day)
            .or_default();
        *cell = cell.saturating_add(units);
        if self.latest.is_none_or(|latest| day > latest) {
            self.latest = Some(day);
            self.score_until(day);
            self.forget_before(day);
            self.forget_origins(day);
        }
    }

    /// Drops days more than [`HISTORY_DAYS_MAX`] before `latest`.
    fn forget_before(&mut self, latest: Date) {
        let Ok(horizon) = latest.checked_sub(jiff::Span::new().days(HISTORY_DAYS_MAX)) else {
            return;
        };
        let stale = self.cells.values().flat_map(BTreeMap::values).any(|days| {
            days.first_key_value()
                .is_some_and(|(&day, _)| day < horizon)
        });
        if !stale {
            return;
        }
        for channels in self.cells.values_mut() {
            for days in channels.values_mut() {
                *days = days.split_off(&horizon);
            }
            channels.retain(|_, days| !days.is_empty());
        }
        self.cells.retain(|_, channels| !channels.is_empty());
        for centers in self.allocated.values_mut() {
            for days in centers.values_mut() {
                *days = days.split_off(&horizon);
            }
            centers.retain(|_, days| !days.is_empty());
        }
        self.allocated.retain(|_, centers| !centers.is_empty());
        for channels in self.returned.values_mut() {
            for centers in channels.values_mut() {
                for days in centers.values_mut() {
                    *days = days.split_off(&horizon);
                }
                centers.retain(|_, days| !days.is_empty());
            }
            channels.retain(|_, centers| !centers.is_empty());
        }
        self.returned.retain(|_, channels| !channels.is_empty());
        for days in self.center_orders.values_mut() {
            *days = days.split_off(&horizon);
        }
        self.center_orders.retain(|_, days| !days.is_empty());
        for days in self.center_shipments.values_mut() {
            *days = days.split_off(&horizon);
        }
        self.center_shipments.retain(|_, days| !days.is_empty());
        self.promotions
            .retain(|_, promotion| promotion.last_day >= horizon);
        for days in self.stockout_days.values_mut() {
            *days = days.split_off(&horizon);
        }
        self.accuracy.forget_before(horizon);
        self.stockout_days.retain(|_, days| !days.is_empty());
    }
}

/// Whole days from `from` to `to`.
fn days_between(from: Date, to: Date) -> i64 {
    to.since(from).map_or(0, |span| i64::from(span.get_days()))
}

impl Projection for DemandHistory {
    const NAME: &'static str = "demand_history";
    const VERSION: u32 = 4;

    fn apply(&mut self, position: Position, event: &Event) {
        if let Some(effects) = event.effects() {
            let day = self.day_of(position.business_time);
            self.track_availability(effects, day);
        }
        match event {
            Event::Master(MasterEvent::TenantConfigured { settings }) => {
                self.time_zone = Some(settings.reporting_time_zone.as_str().to_string());
                self.zone = None;
            }
            Event::Master(MasterEvent::ItemDefined { item }) => {
                if item.is_bundle() {
                    self.bundles.insert(item.sku.clone(), item.clone());
                } else {
                    self.bundles.remove(&item.sku);
                }
            }
            Event::Master(MasterEvent::ReturnPolicySet { policy }) => {
                self.longest_return_window_days =
                    self.longest_return_window_days.max(policy.window_days);
            }
            Event::SalesOrder(SalesOrderEvent::Placed {
                order,
                channel,
                lines,
                placed_at,
                ..
            }) => {
                let day = self.day_of(*placed_at);
                self.origins.insert(
                    order.clone(),
                    Origin {
                        channel: channel.clone(),
                        center: None,
                        last_on: day,
                    },
                );
                for line in lines {
                    let stocked = stocked_components(&|sku| self.bundles.get(sku), &line.sku);
                    for (sku, per_unit) in stocked {
                        self.record(&sku, channel, day, per_unit.saturating_mul(line.quantity));
                    }
                }
            }
            Event::SalesOrder(SalesOrderEvent::Allocated {
                allocations, at, ..
            }) => {
                let day = self.day_of(*at);
                let mut centers: Vec<&LocationId> =
                    allocations.iter().map(|a| &a.location).collect();
                centers.sort();
                centers.dedup();
                for center in centers {
                    let cell = self
                        .center_orders
                        .entry(center.clone())
                        .or_default()
                        .entry(day)
                        .or_default();
                    *cell = cell.saturating_add(1);
                }
                for allocation in allocations {
                    for (sku, per_unit) in &allocation.components {
                        let units = per_unit.saturating_mul(allocation.quantity);
                        if units <= 0 {
                            continue;
                        }
                        let cell = self
                            .allocated
                            .entry(sku.clone())
                            .or_default()
                            .entry(allocation.location.clone())
                            .or_default()
                            .entry(day)
                            .or_default();
                        *cell = cell.saturating_add(units);
                    }
                }
            }
            Event::SalesOrder(SalesOrderEvent::Shipped {
                order,
                location,
                at,
                ..
            }) => {
                let day = self.day_of(*at);
                if let Some(origin) = self.origins.get_mut(order) {
                    origin.center = Some(location.clone());
                    origin.last_on = origin.last_on.max(day);
                }
                let cell = self
                    .center_shipments
                    .entry(location.clone())
                    .or_default()
                    .entry(day)
                    .or_default();
                *cell = cell.saturating_add(1);
            }
            Event::SalesOrder(SalesOrderEvent::Delivered {
                order,
                delivered_at,
                ..
            }) => {
                let day = self.day_of(*delivered_at);
                if let Some(origin) = self.origins.get_mut(order) {
                    origin.last_on = origin.last_on.max(day);
                }
            }
            Event::Return(ReturnEvent::Authorised {
                return_id,
                order,
                lines,
                ..
            }) => {
                let origin = self.origins.get(order);
                if let Some((channel, Some(center))) = origin.map(|o| (&o.channel, &o.center)) {
                    let open = OpenReturn {
                        channel: channel.clone(),
                        center: center.clone(),
                        lines: lines
                            .iter()
                            .map(|line| (line.components.clone(), line.quantity))
                            .collect(),
                    };
                    self.open_returns.insert(return_id.clone(), open);
                }
            }
            Event::Return(ReturnEvent::Received {
                return_id,
                lines,
                at,
                ..
            }) => {
                let day = self.day_of(*at);
                self.return_received(return_id, lines, day);
            }
            Event::Return(ReturnEvent::Closed { return_id, .. }) => {
                self.open_returns.remove(return_id);
            }
            Event::PurchaseOrder(purchase) => self.purchase(purchase),
            Event::Promotion(PromotionEvent::Planned {
                promotion,
                name,
                first_day,
                last_day,
                items,
                channels,
                uplift_milli,
                ..
            }) => {
                let mut stocked: Vec<Sku> = items
                    .iter()
                    .flat_map(|sku| stocked_components(&|sku| self.bundles.get(sku), sku))
                    .map(|(sku, _)| sku)
                    .collect();
                stocked.sort();
                stocked.dedup();
                self.promotions.insert(
                    promotion.to_string(),
                    Promotion {
                        name: name.clone(),
                        first_day: *first_day,
                        last_day: *last_day,
                        items: stocked,
                        channels: channels.clone(),
                        uplift: uplift_milli.map(|milli| milli as f64 / 1000.0),
                    },
                );
            }
            Event::Promotion(PromotionEvent::Cancelled { promotion, .. }) => {
                self.promotions.remove(promotion.as_str());
            }
            Event::Forecast(flowline_core::documents::forecast::ForecastEvent::Published {
                forecast,
                first_day,
                lines,
                ..
            }) => self.published(forecast, *first_day, lines),
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
