//! K-6 return rate by sale cohort and by period (SCOR-METRICS §9.6).
//!
//! - **By sale cohort** (the default): returns of what was sold in period P, observed so far /
//!   what was sold in P. Honest, but provisional until P's return window has closed.
//! - **By period**: returns received in P / sales in P. Quick, but biased whenever sales grow
//!   or peak, because the returns received in P mostly belong to earlier, smaller periods.
//!
//! Both in units and in value (NRF reports value, as % of sales).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{KpiError, Period, count};
use crate::value::{MetricValue, Ratio, Unit};

/// Units sold at one moment (one order line, or a day's sales of a SKU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecord {
    /// When they were sold.
    pub sold_at: Timestamp,
    /// Units sold.
    pub units: u64,
    /// Their sale value, minor units of the base currency.
    pub value_minor: u64,
}

/// Units returned, with the sale they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRecord {
    /// When the returned units were sold.
    pub sold_at: Timestamp,
    /// When the return was received.
    pub received_at: Timestamp,
    /// Units returned.
    pub units: u64,
    /// Their sale value, minor units of the base currency.
    pub value_minor: u64,
}

/// A return rate in units and in value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRates {
    /// Units returned / units sold (`ops.return_rate_units`, or `…_by_period`); population =
    /// sale records.
    pub units: MetricValue,
    /// Value returned / value sold (`ops.return_rate_value`, or `…_by_period`).
    pub value: MetricValue,
}

/// Return rate of the units sold in `cohort`, counting returns received before `as_of`.
/// Provisional while `as_of` is before `window_closes_at`, the instant the return window of the
/// cohort's last sale closes (the caller computes it in the tenant's calendar).
pub fn return_rate_by_sale_cohort(
    sales: &[SaleRecord],
    returns: &[ReturnRecord],
    cohort: Period,
    as_of: Timestamp,
    window_closes_at: Timestamp,
) -> Result<ReturnRates, KpiError> {
    let sold: Vec<&SaleRecord> = sales
        .iter()
        .filter(|sale| cohort.contains(sale.sold_at))
        .collect();
    let returned = returns
        .iter()
        .filter(|record| cohort.contains(record.sold_at) && record.received_at < as_of);
    let provisional = as_of < window_closes_at;
    rates(&sold, returned, "", provisional)
}

/// Return rate of `period` as returns received in it / sales made in it.
pub fn return_rate_by_period(
    sales: &[SaleRecord],
    returns: &[ReturnRecord],
    period: Period,
) -> Result<ReturnRates, KpiError> {
    let sold: Vec<&SaleRecord> = sales
        .iter()
        .filter(|sale| period.contains(sale.sold_at))
        .collect();
    let returned = returns
        .iter()
        .filter(|record| period.contains(record.received_at));
    rates(&sold, returned, "_by_period", false)
}

fn rates<'a>(
    sold: &[&SaleRecord],
    returned: impl Iterator<Item = &'a ReturnRecord>,
    id_suffix: &str,
    provisional: bool,
) -> Result<ReturnRates, KpiError> {
    let (mut units_sold, mut value_sold): (i128, i128) = (0, 0);
    for sale in sold {
        units_sold = add(units_sold, sale.units)?;
        value_sold = add(value_sold, sale.value_minor)?;
    }
    let (mut units_returned, mut value_returned): (i128, i128) = (0, 0);
    for record in returned {
        units_returned = add(units_returned, record.units)?;
        value_returned = add(value_returned, record.value_minor)?;
    }
    let population = count(sold.len());
    Ok(ReturnRates {
        units: MetricValue::new(
            &format!("ops.return_rate_units{id_suffix}"),
            Ratio::new(units_returned, units_sold),
            Unit::Percent,
            population,
        )
        .provisional(provisional),
        value: MetricValue::new(
            &format!("ops.return_rate_value{id_suffix}"),
            Ratio::new(value_returned, value_sold),
            Unit::Percent,
            population,
        )
        .provisional(provisional),
    })
}

fn add(sum: i128, amount: u64) -> Result<i128, KpiError> {
    sum.checked_add(i128::from(amount))
        .ok_or(KpiError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(instant: &str) -> Timestamp {
        instant.parse().unwrap()
    }

    fn sale(sold_at: &str, units: u64) -> SaleRecord {
        // 25.00 a unit, so value rates equal unit rates.
        SaleRecord {
            sold_at: at(sold_at),
            units,
            value_minor: units * 2_500,
        }
    }

    fn returned(sold_at: &str, received_at: &str, units: u64) -> ReturnRecord {
        ReturnRecord {
            sold_at: at(sold_at),
            received_at: at(received_at),
            units,
            value_minor: units * 2_500,
        }
    }

    fn january() -> Period {
        Period::new(at("2025-01-01T00:00:00Z"), at("2025-02-01T00:00:00Z")).unwrap()
    }

    fn february() -> Period {
        Period::new(at("2025-02-01T00:00:00Z"), at("2025-03-01T00:00:00Z")).unwrap()
    }

    /// Worked example K-6: January sells 1,000 units, February 2,000; January's units come
    /// back 150 times (50 in January, 100 in February), February's 300 times (60 in February,
    /// 240 in March).
    fn example_k6() -> (Vec<SaleRecord>, Vec<ReturnRecord>) {
        let sales = vec![
            sale("2025-01-15T12:00:00Z", 1_000),
            sale("2025-02-15T12:00:00Z", 2_000),
        ];
        let returns = vec![
            returned("2025-01-15T12:00:00Z", "2025-01-28T12:00:00Z", 50),
            returned("2025-01-15T12:00:00Z", "2025-02-05T12:00:00Z", 100),
            returned("2025-02-15T12:00:00Z", "2025-02-26T12:00:00Z", 60),
            returned("2025-02-15T12:00:00Z", "2025-03-10T12:00:00Z", 240),
        ];
        (sales, returns)
    }

    #[test]
    fn worked_example_k6_cohort_and_period_return_rates() {
        // Cohort January: 150 / 1,000 = 15.00 %; cohort February: 300 / 2,000 = 15.00 %.
        // Period February: returns received in February 100 + 60 = 160 / 2,000 sold = 8.00 %,
        // understated because most February returns have not arrived yet.
        let (sales, returns) = example_k6();
        let as_of = at("2025-05-01T00:00:00Z");
        let window_closes_at = at("2025-04-01T00:00:00Z");
        let january_cohort =
            return_rate_by_sale_cohort(&sales, &returns, january(), as_of, window_closes_at)
                .unwrap();
        assert_eq!(january_cohort.units.ratio, Ratio::new(150, 1_000));
        assert_eq!(january_cohort.units.value, Some(15.0));
        assert_eq!(january_cohort.value.ratio, Ratio::new(375_000, 2_500_000));
        assert!(!january_cohort.units.provisional);
        let february_cohort =
            return_rate_by_sale_cohort(&sales, &returns, february(), as_of, window_closes_at)
                .unwrap();
        assert_eq!(february_cohort.units.ratio, Ratio::new(300, 2_000));
        assert_eq!(february_cohort.units.value, Some(15.0));

        let february_period = return_rate_by_period(&sales, &returns, february()).unwrap();
        assert_eq!(february_period.units.ratio, Ratio::new(160, 2_000));
        assert_eq!(february_period.units.value, Some(8.0));
        assert_eq!(february_period.units.id, "ops.return_rate_units_by_period");
        assert_eq!(february_period.value.ratio, Ratio::new(400_000, 5_000_000));
    }

    #[test]
    fn a_cohort_is_provisional_and_counts_only_returns_seen_so_far() {
        // As of 1 March the February cohort has seen 60 of its returns: 60 / 2,000 = 3 %.
        let (sales, returns) = example_k6();
        let cohort = return_rate_by_sale_cohort(
            &sales,
            &returns,
            february(),
            at("2025-03-01T00:00:00Z"),
            at("2025-04-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(cohort.units.ratio, Ratio::new(60, 2_000));
        assert!(cohort.units.provisional);
        assert_eq!(
            cohort.units.describe("USD"),
            "3.00 % (60 of 2000), provisional"
        );
        let empty = return_rate_by_period(&[], &returns, february()).unwrap();
        assert_eq!(empty.units.value, None);
    }
}
