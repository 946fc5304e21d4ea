//! K-5 dock-to-stock time (SCOR-METRICS §9.4).
//!
//! `put away (available to sell) − arrived (dock check-in)` per receipt line, reported as
//! median, mean and p90 (nearest rank), weighted by lines (the default) or by units. Quality
//! holds count: they are the organisation's own time.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{count, weighted_nearest_rank};
use crate::value::{Coverage, MetricValue, Ratio, Unit};

/// One receipt line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// The receipt line.
    pub receipt_line: String,
    /// Dock check-in.
    pub arrived_at: Timestamp,
    /// Put away and available to sell, if it is yet.
    pub put_away_at: Option<Timestamp>,
    /// Units on the line (used when weighting by units).
    pub units: u64,
}

/// What each duration weighs in the distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DockToStockWeighting {
    /// Each receipt line once (the default).
    Lines,
    /// Each unit once: a 100-unit line weighs 100 times a 1-unit line.
    Units,
}

/// Dock-to-stock statistics over the same lines, in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DockToStock {
    /// Nearest-rank median (`ops.dock_to_stock_median`).
    pub median: MetricValue,
    /// Mean (`ops.dock_to_stock_mean`): Σ seconds × weight / Σ weight.
    pub mean: MetricValue,
    /// Nearest-rank 90th percentile (`ops.dock_to_stock_p90`).
    pub p90: MetricValue,
}

/// Dock-to-stock time of `lines`. Lines not yet put away, or put away before they arrived (bad
/// data), are not judged and are counted in the coverage. Durations are whole seconds.
pub fn dock_to_stock(lines: &[ReceiptLine], weighting: DockToStockWeighting) -> DockToStock {
    let mut durations: Vec<(i64, u64)> = Vec::with_capacity(lines.len());
    let mut not_put_away: u64 = 0;
    let mut put_away_before_arrival: u64 = 0;
    for line in lines {
        let Some(put_away_at) = line.put_away_at else {
            not_put_away += 1;
            continue;
        };
        let seconds = put_away_at.duration_since(line.arrived_at).as_secs();
        if seconds < 0 {
            put_away_before_arrival += 1;
            continue;
        }
        let weight = match weighting {
            DockToStockWeighting::Lines => 1,
            DockToStockWeighting::Units => line.units,
        };
        durations.push((seconds, weight));
    }
    durations.sort_unstable();
    let judged = count(durations.len());
    let candidates = count(lines.len());
    let mut notes = Vec::new();
    if not_put_away > 0 {
        notes.push(format!("{not_put_away} not yet put away"));
    }
    if put_away_before_arrival > 0 {
        notes.push(format!("{put_away_before_arrival} put away before arrival"));
    }
    let coverage = Coverage {
        judged,
        candidates,
        note: notes.join(", "),
    };
    let total_weight: i128 = durations
        .iter()
        .map(|(_, weight)| i128::from(*weight))
        .sum();
    // Seconds fit in i64 and weights in u64, so each product fits in i128; the sum of fewer
    // than 2⁶³ of them does too.
    let weighted_seconds: i128 = durations
        .iter()
        .map(|(seconds, weight)| i128::from(*seconds) * i128::from(*weight))
        .sum();
    let percentile = |id: &str, percent: u32| {
        let ratio = match weighted_nearest_rank(&durations, percent) {
            Some(seconds) => Ratio::new(i128::from(seconds), 1),
            None => Ratio::new(0, 0),
        };
        MetricValue::new(id, ratio, Unit::Hours, judged).covering(coverage.clone())
    };
    DockToStock {
        median: percentile("ops.dock_to_stock_median", 50),
        mean: MetricValue::new(
            "ops.dock_to_stock_mean",
            Ratio::new(weighted_seconds, total_weight),
            Unit::Hours,
            judged,
        )
        .covering(coverage.clone()),
        p90: percentile("ops.dock_to_stock_p90", 90),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, arrived_at: &str, put_away_at: Option<&str>, units: u64) -> ReceiptLine {
        ReceiptLine {
            receipt_line: name.to_string(),
            arrived_at: arrived_at.parse().unwrap(),
            put_away_at: put_away_at.map(|at| at.parse().unwrap()),
            units,
        }
    }

    fn example_k5() -> Vec<ReceiptLine> {
        vec![
            // 08:00 → 11:00: 3 h.
            line(
                "R1-1",
                "2025-03-03T08:00:00Z",
                Some("2025-03-03T11:00:00Z"),
                10,
            ),
            // 08:00 → QC hold → 20:00: 12 h (the hold counts).
            line(
                "R1-2",
                "2025-03-03T08:00:00Z",
                Some("2025-03-03T20:00:00Z"),
                10,
            ),
            // 13:00 → next day 09:00: 20 h.
            line(
                "R2-1",
                "2025-03-03T13:00:00Z",
                Some("2025-03-04T09:00:00Z"),
                80,
            ),
        ]
    }

    #[test]
    fn worked_example_k5_dock_to_stock_median_mean_and_p90() {
        // Durations (3 h, 12 h, 20 h) = (10,800 s, 43,200 s, 72,000 s).
        // median: rank ⌈0.5 × 3⌉ = 2 → 12 h; p90: rank ⌈0.9 × 3⌉ = 3 → 20 h
        // mean: (3 + 12 + 20) / 3 = 35 / 3 = 11.67 h = 126,000 s / 3
        let result = dock_to_stock(&example_k5(), DockToStockWeighting::Lines);
        assert_eq!(result.median.ratio, Ratio::new(43_200, 1));
        assert_eq!(result.median.value, Some(12.0));
        assert_eq!(result.mean.ratio, Ratio::new(126_000, 3));
        assert_eq!(result.mean.describe("USD"), "11.67 h (n = 3)");
        assert_eq!(result.p90.ratio, Ratio::new(72_000, 1));
        assert_eq!(result.p90.value, Some(20.0));
        assert_eq!(result.p90.population, 3);
    }

    #[test]
    fn weighting_by_units_lets_big_lines_dominate() {
        // Units 10, 10, 80: p50 rank ⌈0.5 × 100⌉ = 50 falls in the 80-unit 20 h line;
        // mean (3 × 10 + 12 × 10 + 20 × 80) / 100 = 1,750 / 100 = 17.5 h.
        let result = dock_to_stock(&example_k5(), DockToStockWeighting::Units);
        assert_eq!(result.median.value, Some(20.0));
        assert!(result.mean.ratio.same_value(Ratio::new(63_000, 1)));
    }

    #[test]
    fn lines_not_put_away_or_with_bad_times_are_not_judged() {
        let mut lines = example_k5();
        lines.push(line("R3-1", "2025-03-04T08:00:00Z", None, 5));
        lines.push(line(
            "R3-2",
            "2025-03-04T08:00:00Z",
            Some("2025-03-04T07:00:00Z"),
            5,
        ));
        let result = dock_to_stock(&lines, DockToStockWeighting::Lines);
        assert_eq!(result.median.value, Some(12.0));
        assert_eq!(
            result.median.describe("USD"),
            "12.00 h (n = 3; 1 not yet put away, 1 put away before arrival)"
        );
        let empty = dock_to_stock(&[], DockToStockWeighting::Lines);
        assert_eq!(empty.median.value, None);
        assert_eq!(empty.mean.value, None);
    }
}
