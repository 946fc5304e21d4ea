//! Demand history: the units customers ordered each day, by stocked item and sales channel, as
//! orders were placed — what the planner forecasts from.
//!
//! Demand is counted when an order is placed, not when it ships: an order that waited for stock
//! is still the day's demand. A bundle (never stocked; a line for it reserves its components)
//! counts as the stocked components it is made of, exploded through nested bundles, since those
//! are what must be bought and placed; a kit is stocked and counts as itself. Days are the
//! tenant's reporting time zone's; a day with no order is a day of zero demand. Returns are not
//! netted here: they are a flow of their own.
//!
//! A [`Projection`] of the log: it folds events in order and is kept as a snapshot like the
//! scorecard. It holds one count per item, channel and day with orders, so it grows with the
//! days of history; [`HISTORY_DAYS_MAX`] bounds how far back it keeps.

use flowline_core::documents::sales_order::SalesOrderEvent;
use flowline_core::id::{ChannelId, Sku};
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
    /// The time zone resolved, kept between events.
    #[serde(skip)]
    zone: Option<TimeZone>,
}

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
                Some(DemandSeries {
                    sku: sku.clone(),
                    channel: channel.clone(),
                    start,
                    daily,
                })
            })
            .collect()
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
            self.forget_before(day);
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
    }
}

/// Whole days from `from` to `to`.
fn days_between(from: Date, to: Date) -> i64 {
    to.since(from).map_or(0, |span| i64::from(span.get_days()))
}

impl Projection for DemandHistory {
    const NAME: &'static str = "demand_history";
    const VERSION: u32 = 1;

    fn apply(&mut self, _position: Position, event: &Event) {
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
            Event::SalesOrder(SalesOrderEvent::Placed {
                channel,
                lines,
                placed_at,
                ..
            }) => {
                let day = self.day_of(*placed_at);
                for line in lines {
                    let stocked = stocked_components(&|sku| self.bundles.get(sku), &line.sku);
                    for (sku, per_unit) in stocked {
                        self.record(&sku, channel, day, per_unit.saturating_mul(line.quantity));
                    }
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
