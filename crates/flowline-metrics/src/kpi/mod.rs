//! E-commerce operational KPIs near SCOR (SCOR-METRICS §9), as pure functions over small
//! typed samples.
//!
//! One submodule per KPI, each with the worked example of the specification as a unit test:
//! - K-0 [`order_accuracy`](mod@order_accuracy): customer-facing and first-pass accuracy;
//! - K-1 [`fill_rate`](mod@fill_rate): unit, line and order fill at the first wave, backorders;
//! - K-2 [`forecast`](mod@forecast): MAPE, WAPE, bias, MAE and forecast accuracy;
//! - K-3 [`inventory_accuracy`](mod@inventory_accuracy): count- and value-based record accuracy;
//! - K-4 [`on_time_ship`](mod@on_time_ship): on-time ship rate against an FC cut-off calendar;
//! - K-5 [`dock_to_stock`](mod@dock_to_stock): median, mean and p90 of receipt to available;
//! - K-6 [`return_rate`](mod@return_rate): return rate by sale cohort and by period;
//! - K-7 [`stockout`](mod@stockout): time-based and demand-based stock-out rates.
//!
//! Shared here: [`Period`], [`KpiError`] and the nearest-rank percentile
//! ([`nearest_rank_percentile`]) that SCOR-METRICS §4.1 prescribes. Every result is a
//! [`MetricValue`](crate::value::MetricValue) with its exact numerator, denominator and
//! population; ids are `ops.*`.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub mod dock_to_stock;
pub mod fill_rate;
pub mod forecast;
pub mod inventory_accuracy;
pub mod on_time_ship;
pub mod order_accuracy;
pub mod return_rate;
pub mod stockout;

pub use dock_to_stock::{DockToStock, DockToStockWeighting, ReceiptLine, dock_to_stock};
pub use fill_rate::{FillRates, FirstWaveLine, FirstWaveOrder, fill_rates};
pub use forecast::{
    ForecastAccuracy, ForecastPoint, ForecastScope, MapePrecision, forecast_accuracy,
};
pub use inventory_accuracy::{
    CountLine, CountTolerance, InventoryRecordAccuracy, inventory_record_accuracy,
};
pub use on_time_ship::{
    FulfillmentCenterCalendar, OnTimeShipRate, ShipByDeadline, ShipJudgement, ShipOutcome,
    ShipSample, on_time_ship_rate,
};
pub use order_accuracy::{OrderAccuracy, ShippedOrderCheck, order_accuracy};
pub use return_rate::{
    ReturnRates, ReturnRecord, SaleRecord, return_rate_by_period, return_rate_by_sale_cohort,
};
pub use stockout::{AssortmentStatus, StockDay, StockoutRates, stockout_rates};

/// A reporting period: the half-open interval `[start, end)` of instants (SCOR-METRICS §2.1;
/// the caller converts local wall time in the tenant's zone to instants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First instant in the period.
    pub start: Timestamp,
    /// First instant after it.
    pub end: Timestamp,
}

impl Period {
    /// A period; `end` must not be before `start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, KpiError> {
        if end < start {
            return Err(KpiError::PeriodEndsBeforeItStarts { start, end });
        }
        Ok(Self { start, end })
    }

    /// Whether `at` is in `[start, end)`.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// Why a KPI could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KpiError {
    /// A period's end is before its start.
    PeriodEndsBeforeItStarts {
        /// Start.
        start: Timestamp,
        /// End.
        end: Timestamp,
    },
    /// The time zone name is not in the bundled IANA database.
    UnknownTimeZone {
        /// The name given.
        name: String,
        /// What jiff said.
        reason: String,
    },
    /// A calendar works no weekday.
    NoWorkingWeekday,
    /// No working day within ten years after a date (every day a holiday).
    NoWorkingDayAhead {
        /// The date searched from.
        after: jiff::civil::Date,
    },
    /// A date or instant is outside what jiff can represent.
    CalendarOutOfRange {
        /// What jiff said.
        reason: String,
    },
    /// A figure does not fit in 128 bits.
    Overflow,
}

impl fmt::Display for KpiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PeriodEndsBeforeItStarts { start, end } => {
                write!(formatter, "period ends ({end}) before it starts ({start})")
            }
            Self::UnknownTimeZone { name, reason } => {
                write!(formatter, "unknown time zone {name:?}: {reason}")
            }
            Self::NoWorkingWeekday => write!(formatter, "the calendar works no weekday"),
            Self::NoWorkingDayAhead { after } => {
                write!(formatter, "no working day within ten years after {after}")
            }
            Self::CalendarOutOfRange { reason } => {
                write!(formatter, "date out of range: {reason}")
            }
            Self::Overflow => write!(formatter, "a figure does not fit in 128 bits"),
        }
    }
}

impl std::error::Error for KpiError {}

impl From<jiff::Error> for KpiError {
    fn from(error: jiff::Error) -> Self {
        Self::CalendarOutOfRange {
            reason: error.to_string(),
        }
    }
}

/// The nearest-rank percentile (SCOR-METRICS §4.1): the smallest value with at least
/// `percent` % of the values at or below it, i.e. the value of rank `⌈percent × n / 100⌉`
/// (at least 1) in ascending order. `sorted` must be ascending; `percent` is clamped to
/// 1..=100. The median is `percent = 50`: for an even count it is the lower middle value, a
/// value that occurred, never an average of two. `None` for no values.
pub fn nearest_rank_percentile(sorted: &[i64], percent: u32) -> Option<i64> {
    let weighted: Vec<(i64, u64)> = sorted.iter().map(|value| (*value, 1)).collect();
    weighted_nearest_rank(&weighted, percent)
}

/// Nearest rank over `(value, weight)` pairs sorted by value: the smallest value whose
/// cumulative weight reaches `⌈percent × total / 100⌉`. Zero weights take no rank.
pub(crate) fn weighted_nearest_rank(sorted: &[(i64, u64)], percent: u32) -> Option<i64> {
    let total: u128 = sorted.iter().map(|(_, weight)| u128::from(*weight)).sum();
    if total == 0 {
        return None;
    }
    let percent = u128::from(percent.clamp(1, 100));
    let rank = (percent * total).div_ceil(100).max(1);
    let mut cumulative: u128 = 0;
    for (value, weight) in sorted {
        cumulative += u128::from(*weight);
        if cumulative >= rank {
            return Some(*value);
        }
    }
    None
}

/// A count as a population; counts of records in memory always fit in u64.
pub(crate) fn count(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}

/// A share of counts as an exact ratio; a zero denominator stays "no data".
pub(crate) fn share(numerator: u64, denominator: u64) -> crate::value::Ratio {
    crate::value::Ratio::new(i128::from(numerator), i128::from(denominator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_takes_the_value_at_the_ceiling_rank() {
        // n = 3: p50 rank ⌈1.5⌉ = 2, p90 rank ⌈2.7⌉ = 3, p1 rank ⌈0.03⌉ = 1.
        assert_eq!(nearest_rank_percentile(&[3, 12, 20], 50), Some(12));
        assert_eq!(nearest_rank_percentile(&[3, 12, 20], 90), Some(20));
        assert_eq!(nearest_rank_percentile(&[3, 12, 20], 1), Some(3));
        // n = 4: the median is the lower middle (rank 2), not 7.5.
        assert_eq!(nearest_rank_percentile(&[1, 5, 10, 20], 50), Some(5));
        // n = 10: p90 rank 9.
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank_percentile(&values, 90), Some(9));
        assert_eq!(nearest_rank_percentile(&[], 50), None);
    }

    #[test]
    fn weighted_nearest_rank_counts_each_unit() {
        // 1 unit at 3, 1 unit at 12, 8 units at 20: total 10, p50 rank 5 → 20.
        assert_eq!(
            weighted_nearest_rank(&[(3, 1), (12, 1), (20, 8)], 50),
            Some(20)
        );
        assert_eq!(weighted_nearest_rank(&[(3, 0)], 50), None);
    }

    #[test]
    fn a_period_is_half_open() {
        let start: Timestamp = "2025-03-01T05:00:00Z".parse().unwrap();
        let end: Timestamp = "2025-04-01T04:00:00Z".parse().unwrap();
        let period = Period::new(start, end).unwrap();
        assert!(period.contains(start));
        assert!(!period.contains(end));
        assert!(Period::new(end, start).is_err());
    }
}
