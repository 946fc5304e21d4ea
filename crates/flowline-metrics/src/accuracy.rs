//! Forecast accuracy: every published forecast measured against what customers then ordered.
//!
//! A published forecast ([`flowline_core::documents::forecast`]) gives each item's expected
//! demand for each day of its horizon. Once a day has passed — the demand history has an order
//! on a later day — each network-wide line's figure for it is compared with the units ordered
//! that day over every channel, and the error is added to sums kept by day, by item and month,
//! and by lag (how many days after the forecast's first day the figure was for). Stock-out days
//! are left out: what customers could order then says nothing about the forecast.
//!
//! A line for one center or one channel (the item's forecast times the share the planner gave
//! it) is judged where it was made, apart from the headline: a channel's line against the units
//! ordered in that channel, a center's line against the units allocated at that center that day
//! (where demand was served: the orders name a channel, not a center, and a backorder counts
//! on the day it found stock). Their errors go to sums by center and month and by channel and
//! month, never into the network-wide sums above, so publishing them leaves the headline
//! figures as they were. Stock-out days are left out of them too.
//!
//! From the sums:
//!
//! - **WAPE** = Σ|forecast − actual| / Σ actual, and **forecast accuracy** = 1 − WAPE (the Plan
//!   metric the scorecard shows; it can fall below zero when errors exceed demand);
//! - **bias** = Σ(forecast − actual) / Σ actual (positive: over-forecast);
//! - **MASE** = the mean of |forecast − actual| / s over the scored days, where `s` is the
//!   in-sample mean absolute error of the seasonal naive forecast (7 days) of the actuals the
//!   line is judged against (the item's orders, or its orders in the channel, or its units
//!   allocated at the center) over up to 365 days before the forecast's first day; left out
//!   for a line with fewer than 8 such days or `s = 0`.
//!
//! What is pending holds only the figures of days not yet passed: memory follows the open
//! horizons, and the sums are a few numbers per day, per item and month, per lag and month,
//! and per center or channel and month.

use flowline_core::id::{ChannelId, LocationId, Sku};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sums of errors over some scored days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Errors {
    /// Σ |forecast − actual|, units.
    pub absolute: f64,
    /// Σ (forecast − actual), units.
    pub signed: f64,
    /// Σ actual, units.
    pub actual: f64,
    /// Σ forecast, units.
    pub forecast: f64,
    /// Σ |forecast − actual| / s over the figures with a scale.
    pub scaled: f64,
    /// Figures with a scale.
    pub scaled_count: u64,
    /// Figures scored.
    pub figures: u64,
}

impl Errors {
    fn add(&mut self, forecast: f64, actual: f64, scale: Option<f64>) {
        let error = forecast - actual;
        self.absolute += error.abs();
        self.signed += error;
        self.actual += actual;
        self.forecast += forecast;
        if let Some(scale) = scale {
            self.scaled += error.abs() / scale;
            self.scaled_count += 1;
        }
        self.figures += 1;
    }

    fn merge(&mut self, other: &Self) {
        self.absolute += other.absolute;
        self.signed += other.signed;
        self.actual += other.actual;
        self.forecast += other.forecast;
        self.scaled += other.scaled;
        self.scaled_count += other.scaled_count;
        self.figures += other.figures;
    }

    /// The figures as a planner reads them.
    pub fn figures(&self) -> Figures {
        let per_actual = |value: f64| (self.actual > 0.0).then(|| value / self.actual);
        let wape = per_actual(self.absolute);
        Figures {
            wape,
            accuracy: wape.map(|wape| 1.0 - wape),
            bias: per_actual(self.signed),
            mase: (self.scaled_count > 0).then(|| self.scaled / self.scaled_count as f64),
            actual: self.actual,
            forecast: self.forecast,
            figures: self.figures,
        }
    }
}

/// Accuracy figures of some scored days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// Weighted absolute percentage error, a share; none without demand.
    pub wape: Option<f64>,
    /// 1 − WAPE.
    pub accuracy: Option<f64>,
    /// Σ(forecast − actual) / Σ actual.
    pub bias: Option<f64>,
    /// Mean absolute scaled error.
    pub mase: Option<f64>,
    /// Units ordered.
    pub actual: f64,
    /// Units forecast.
    pub forecast: f64,
    /// Daily figures scored.
    pub figures: u64,
}

/// The lag buckets, by their first day ahead: the first week, the second, weeks 3–4, 5–8, and
/// later.
pub const LAG_BUCKETS: [(u32, &str); 5] = [
    (0, "days 0-6"),
    (7, "days 7-13"),
    (14, "days 14-27"),
    (28, "days 28-55"),
    (56, "days 56+"),
];

fn lag_bucket(lag: u32) -> u32 {
    LAG_BUCKETS
        .iter()
        .rev()
        .find(|(first, _)| lag >= *first)
        .map_or(0, |(first, _)| *first)
}

fn month_of(day: Date) -> Date {
    day.first_of_month()
}

/// Where a line of a published forecast is judged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Place {
    /// The whole network: the headline.
    #[default]
    Network,
    /// One fulfillment center.
    Center(LocationId),
    /// One sales channel.
    Channel(ChannelId),
}

/// One line of a published forecast, waiting for its days to pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingLine {
    pub(crate) sku: Sku,
    /// Where it is judged.
    #[serde(default)]
    pub(crate) place: Place,
    /// Expected units per day from `first_day`.
    pub(crate) daily: Vec<f64>,
    /// The next day to score, as an index into `daily`.
    pub(crate) next: usize,
    /// The seasonal naive scale, if the item had one.
    pub(crate) scale: Option<f64>,
}

/// A published forecast, waiting for its days to pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub(crate) forecast: String,
    pub(crate) first_day: Date,
    pub(crate) lines: Vec<PendingLine>,
}

/// The sums of every forecast's scored days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    by_day: BTreeMap<Date, Errors>,
    by_item: BTreeMap<Sku, BTreeMap<Date, Errors>>,
    by_lag: BTreeMap<u32, BTreeMap<Date, Errors>>,
    /// Centers' lines, by center and month.
    #[serde(default)]
    by_center: BTreeMap<LocationId, BTreeMap<Date, Errors>>,
    /// Channels' lines, by channel and month.
    #[serde(default)]
    by_channel: BTreeMap<ChannelId, BTreeMap<Date, Errors>>,
}

/// Accuracy over a range of days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// First day, inclusive.
    pub from: Date,
    /// Last day, exclusive.
    pub to: Date,
    /// Over every scored figure of the range.
    pub overall: Figures,
    /// By week (Monday first), for the trend.
    pub by_week: Vec<(Date, Figures)>,
    /// By lag bucket, over the months the range touches.
    pub by_lag: Vec<(&'static str, Figures)>,
    /// The items with the largest absolute error over the months the range touches, worst
    /// first (at most 20): where to look first.
    pub worst: Vec<(Sku, Figures)>,
    /// Each center's lines over the months the range touches, the highest WAPE first (centers
    /// without demand last).
    pub by_center: Vec<(LocationId, Figures)>,
    /// Each channel's lines over the months the range touches, the highest WAPE first
    /// (channels without demand last).
    pub by_channel: Vec<(ChannelId, Figures)>,
}

impl Accuracy {
    /// Adds one scored figure of a line for `place`: a center's or a channel's go to their own
    /// sums only.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn score(
        &mut self,
        place: &Place,
        sku: &Sku,
        day: Date,
        lag: u32,
        forecast: f64,
        actual: f64,
        scale: Option<f64>,
    ) {
        let by_place = match place {
            Place::Network => None,
            Place::Center(center) => Some(self.by_center.entry(center.clone()).or_default()),
            Place::Channel(channel) => Some(self.by_channel.entry(channel.clone()).or_default()),
        };
        if let Some(months) = by_place {
            months
                .entry(month_of(day))
                .or_default()
                .add(forecast, actual, scale);
            return;
        }
        self.by_day
            .entry(day)
            .or_default()
            .add(forecast, actual, scale);
        self.by_item
            .entry(sku.clone())
            .or_default()
            .entry(month_of(day))
            .or_default()
            .add(forecast, actual, scale);
        self.by_lag
            .entry(lag_bucket(lag))
            .or_default()
            .entry(month_of(day))
            .or_default()
            .add(forecast, actual, scale);
    }

    /// Drops sums before `horizon`.
    pub(crate) fn forget_before(&mut self, horizon: Date) {
        self.by_day = self.by_day.split_off(&horizon);
        let month = month_of(horizon);
        for months in self.by_item.values_mut() {
            *months = months.split_off(&month);
        }
        self.by_item.retain(|_, months| !months.is_empty());
        for months in self.by_lag.values_mut() {
            *months = months.split_off(&month);
        }
        self.by_lag.retain(|_, months| !months.is_empty());
        for months in self.by_center.values_mut() {
            *months = months.split_off(&month);
        }
        self.by_center.retain(|_, months| !months.is_empty());
        for months in self.by_channel.values_mut() {
            *months = months.split_off(&month);
        }
        self.by_channel.retain(|_, months| !months.is_empty());
    }

    /// Whether any figure was scored.
    pub fn is_empty(&self) -> bool {
        self.by_day.is_empty()
    }

    /// The accuracy of the days in `[from, to)`.
    pub fn report(&self, from: Date, to: Date) -> Report {
        let mut overall = Errors::default();
        let mut weeks: BTreeMap<Date, Errors> = BTreeMap::new();
        for (day, errors) in self.by_day.range(from..to) {
            overall.merge(errors);
            let monday = day
                .checked_sub(
                    jiff::Span::new().days(i64::from(day.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(*day);
            weeks.entry(monday).or_default().merge(errors);
        }
        let months = month_of(from)..to;
        let by_lag = LAG_BUCKETS
            .iter()
            .filter_map(|(first, label)| {
                let mut sum = Errors::default();
                for errors in self
                    .by_lag
                    .get(first)?
                    .range(months.clone())
                    .map(|(_, e)| e)
                {
                    sum.merge(errors);
                }
                (sum.figures > 0).then(|| (*label, sum.figures()))
            })
            .collect();
        let mut worst: Vec<(Sku, Errors)> = self
            .by_item
            .iter()
            .map(|(sku, by_month)| {
                let mut sum = Errors::default();
                for errors in by_month.range(months.clone()).map(|(_, e)| e) {
                    sum.merge(errors);
                }
                (sku.clone(), sum)
            })
            .filter(|(_, sum)| sum.figures > 0)
            .collect();
        worst.sort_by(|a, b| b.1.absolute.total_cmp(&a.1.absolute).then(a.0.cmp(&b.0)));
        worst.truncate(20);
        Report {
            from,
            to,
            overall: overall.figures(),
            by_week: weeks.into_iter().map(|(w, e)| (w, e.figures())).collect(),
            by_lag,
            worst: worst
                .into_iter()
                .map(|(sku, sum)| (sku, sum.figures()))
                .collect(),
            by_center: worst_first(&self.by_center, &months),
            by_channel: worst_first(&self.by_channel, &months),
        }
    }
}

/// Each place's sums over `months`, the highest WAPE first (none last), then by place.
fn worst_first<K: Clone + Ord>(
    places: &BTreeMap<K, BTreeMap<Date, Errors>>,
    months: &std::ops::Range<Date>,
) -> Vec<(K, Figures)> {
    let mut figures: Vec<(K, Figures)> = places
        .iter()
        .filter_map(|(place, by_month)| {
            let mut sum = Errors::default();
            for errors in by_month.range(months.clone()).map(|(_, e)| e) {
                sum.merge(errors);
            }
            (sum.figures > 0).then(|| (place.clone(), sum.figures()))
        })
        .collect();
    figures.sort_by(|a, b| {
        let wape = |f: &Figures| f.wape.unwrap_or(f64::NEG_INFINITY);
        wape(&b.1).total_cmp(&wape(&a.1)).then(a.0.cmp(&b.0))
    });
    figures
}

/// The seasonal naive (7 days) in-sample mean absolute error of `daily`, when it has at least
/// 8 days and is not 0.
pub(crate) fn naive_scale(daily: &[f64]) -> Option<f64> {
    if daily.len() < 8 {
        return None;
    }
    let errors: Vec<f64> = daily
        .windows(8)
        .map(|window| (window[7] - window[0]).abs())
        .collect();
    let scale = errors.iter().sum::<f64>() / errors.len() as f64;
    (scale > 0.0).then_some(scale)
}
