//! K-7 stock-out rate (SCOR-METRICS §9.8).
//!
//! - Time-based: active SKU-location-days with nothing available to sell / active
//!   SKU-location-days; in-stock rate = 1 − that. Active means sellable and not discontinued.
//! - Demand-based (better for e-commerce): demand on stock-out days / demand on all active
//!   days, where a day's demand is what the caller measured (add-to-cart attempts while
//!   unavailable, page views) or, failing that, the forecast for the day.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{KpiError, count};
use crate::value::{MetricValue, Ratio, Unit};

/// Whether a SKU-location counts towards stock-out rates on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssortmentStatus {
    /// Sellable and not discontinued: counted.
    Active,
    /// Not offered for sale that day (not yet launched, delisted from the channel): excluded.
    NotSellable,
    /// Discontinued: excluded, since running out is the plan.
    Discontinued,
}

/// One SKU at one location on one day. Each (SKU, location, date) is expected once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockDay {
    /// The SKU.
    pub sku: String,
    /// The location.
    pub location: String,
    /// The local date.
    pub on: Date,
    /// Whether it counts.
    pub status: AssortmentStatus,
    /// Units available to sell that day (the lowest of the day, or at the daily snapshot the
    /// caller chose); zero or less is a stock-out.
    pub available_units: i64,
    /// Demand that day in units: measured where possible, else forecast.
    pub demand_units: u64,
}

/// Stock-out rates over the same days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockoutRates {
    /// Stock-out days / active days (`ops.stockout_rate`); population = active days.
    pub time_based: MetricValue,
    /// Active days in stock / active days (`ops.in_stock_rate`).
    pub in_stock: MetricValue,
    /// Demand on stock-out days / demand on active days (`ops.lost_demand_share`).
    pub lost_demand_share: MetricValue,
}

/// Stock-out rates over `days`; no active day (or no demand, for the demand-based share) is
/// no data.
pub fn stockout_rates(days: &[StockDay]) -> Result<StockoutRates, KpiError> {
    let active: Vec<&StockDay> = days
        .iter()
        .filter(|day| day.status == AssortmentStatus::Active)
        .collect();
    let mut stockout_days: i128 = 0;
    let mut demand: i128 = 0;
    let mut lost_demand: i128 = 0;
    for day in &active {
        let day_demand = i128::from(day.demand_units);
        demand = demand.checked_add(day_demand).ok_or(KpiError::Overflow)?;
        if day.available_units <= 0 {
            stockout_days += 1;
            lost_demand = lost_demand
                .checked_add(day_demand)
                .ok_or(KpiError::Overflow)?;
        }
    }
    let population = count(active.len());
    let active_days = i128::from(population);
    Ok(StockoutRates {
        time_based: MetricValue::new(
            "ops.stockout_rate",
            Ratio::new(stockout_days, active_days),
            Unit::Percent,
            population,
        ),
        in_stock: MetricValue::new(
            "ops.in_stock_rate",
            Ratio::new(active_days - stockout_days, active_days),
            Unit::Percent,
            population,
        ),
        lost_demand_share: MetricValue::new(
            "ops.lost_demand_share",
            Ratio::new(lost_demand, demand),
            Unit::Percent,
            population,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn days(
        sku: &str,
        status: AssortmentStatus,
        demand_units: u64,
        out_of_stock_on: &[i8],
    ) -> Vec<StockDay> {
        (1..=10)
            .map(|day| StockDay {
                sku: sku.to_string(),
                location: "FC-1".to_string(),
                on: date(2025, 3, day),
                status,
                available_units: if out_of_stock_on.contains(&day) {
                    0
                } else {
                    12
                },
                demand_units,
            })
            .collect()
    }

    #[test]
    fn worked_example_k7_time_and_demand_based_stockout_rates() {
        // One location, 10 days. X (forecast 5/day) is out on 2 days; Y (3/day) never;
        // Z is discontinued and excluded even though it is out every day.
        // time-based: 2 stock-out days / 20 active days = 10.00 % (in stock 18/20 = 90 %)
        // demand-based: 2 × 5 = 10 lost / (10 × 5 + 10 × 3 = 80) = 12.50 %
        let mut sample = days("X", AssortmentStatus::Active, 5, &[4, 5]);
        sample.extend(days("Y", AssortmentStatus::Active, 3, &[]));
        sample.extend(days(
            "Z",
            AssortmentStatus::Discontinued,
            0,
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        ));
        let rates = stockout_rates(&sample).unwrap();
        assert_eq!(rates.time_based.ratio, Ratio::new(2, 20));
        assert_eq!(rates.time_based.value, Some(10.0));
        assert_eq!(rates.time_based.population, 20);
        assert_eq!(rates.in_stock.ratio, Ratio::new(18, 20));
        assert_eq!(rates.in_stock.value, Some(90.0));
        assert_eq!(rates.lost_demand_share.ratio, Ratio::new(10, 80));
        assert_eq!(
            rates.lost_demand_share.describe("USD"),
            "12.50 % (10 of 80)"
        );
    }

    #[test]
    fn nothing_active_is_no_data() {
        let rates = stockout_rates(&days("Z", AssortmentStatus::NotSellable, 1, &[1])).unwrap();
        assert_eq!(rates.time_based.value, None);
        assert_eq!(rates.lost_demand_share.value, None);
    }
}
