//! K-3 inventory record accuracy from counts (SCOR-METRICS §9.10).
//!
//! - Count-based: counted SKU-locations whose system quantity equals the count within
//!   tolerance / counted SKU-locations.
//! - Value-based absolute: `1 − Σ |system − counted| × unit cost / Σ system × unit cost`.
//!
//! Computed from count records, never from the adjustments a count posts, so a count that
//! found nothing wrong still counts as an accurate record.

use serde::{Deserialize, Serialize};

use super::{KpiError, count, share};
use crate::value::{MetricValue, Ratio, Unit};

/// One counted SKU-location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    /// The location counted.
    pub location: String,
    /// The SKU counted.
    pub sku: String,
    /// The quantity the system held before the count.
    pub system_quantity: u64,
    /// The quantity counted.
    pub counted_quantity: u64,
    /// Unit cost, minor units of the tenant's base currency.
    pub unit_cost_minor: u64,
}

/// How far a count may differ from the system and still be an accurate record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountTolerance {
    /// At most this many units either way (0 = exact match).
    Units(u64),
    /// At most this many basis points of the system quantity either way (so a system
    /// quantity of zero tolerates no difference).
    BasisPointsOfSystem(u64),
}

impl CountTolerance {
    fn accepts(self, system: u64, difference: u64) -> bool {
        match self {
            Self::Units(units) => difference <= units,
            Self::BasisPointsOfSystem(basis_points) => {
                u128::from(difference) * 10_000 <= u128::from(basis_points) * u128::from(system)
            }
        }
    }
}

/// Inventory record accuracy over the same counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryRecordAccuracy {
    /// Counted SKU-locations within tolerance / counted SKU-locations
    /// (`ops.inventory_record_accuracy`).
    pub count_accuracy: MetricValue,
    /// `(Σ system value − Σ |difference| value) / Σ system value`, never below zero
    /// (`ops.inventory_value_accuracy`).
    pub value_accuracy: MetricValue,
    /// Σ (counted − system) × unit cost, minor units: what the counts added (+) or removed (−)
    /// (`ops.inventory_net_difference`).
    pub net_difference: MetricValue,
    /// Σ |counted − system| × unit cost, minor units (`ops.inventory_absolute_difference`).
    pub absolute_difference: MetricValue,
}

/// Inventory record accuracy of `counts`; no counts (or no system value, for the value-based
/// measure) is no data.
pub fn inventory_record_accuracy(
    counts: &[CountLine],
    tolerance: CountTolerance,
) -> Result<InventoryRecordAccuracy, KpiError> {
    let population = count(counts.len());
    let mut accurate: u64 = 0;
    let mut system_value: i128 = 0;
    let mut net_difference: i128 = 0;
    let mut absolute_difference: i128 = 0;
    for line in counts {
        let difference = line.system_quantity.abs_diff(line.counted_quantity);
        if tolerance.accepts(line.system_quantity, difference) {
            accurate += 1;
        }
        let unit_cost = i128::from(line.unit_cost_minor);
        // A u64 quantity times a u64 cost can exceed i128 (2⁶⁴ × 2⁶⁴ = 2¹²⁸), so check.
        let value = |quantity: i128| quantity.checked_mul(unit_cost).ok_or(KpiError::Overflow);
        let counted_minus_system =
            i128::from(line.counted_quantity) - i128::from(line.system_quantity);
        system_value = system_value
            .checked_add(value(i128::from(line.system_quantity))?)
            .ok_or(KpiError::Overflow)?;
        net_difference = net_difference
            .checked_add(value(counted_minus_system)?)
            .ok_or(KpiError::Overflow)?;
        absolute_difference = absolute_difference
            .checked_add(value(counted_minus_system.abs())?)
            .ok_or(KpiError::Overflow)?;
    }
    let records = if counts.is_empty() { 0 } else { 1 };
    Ok(InventoryRecordAccuracy {
        count_accuracy: MetricValue::new(
            "ops.inventory_record_accuracy",
            share(accurate, population),
            Unit::Percent,
            population,
        ),
        // Differences larger than the whole system value would make the share negative, which
        // reads as nothing; the differences themselves are kept below.
        value_accuracy: MetricValue::new(
            "ops.inventory_value_accuracy",
            Ratio::new((system_value - absolute_difference).max(0), system_value),
            Unit::Percent,
            population,
        ),
        net_difference: MetricValue::new(
            "ops.inventory_net_difference",
            Ratio::new(net_difference, records),
            Unit::Money,
            population,
        ),
        absolute_difference: MetricValue::new(
            "ops.inventory_absolute_difference",
            Ratio::new(absolute_difference, records),
            Unit::Money,
            population,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(location: &str, system: u64, counted: u64) -> CountLine {
        CountLine {
            location: location.to_string(),
            sku: "SKU-1".to_string(),
            system_quantity: system,
            counted_quantity: counted,
            unit_cost_minor: 200,
        }
    }

    fn example_k3() -> Vec<CountLine> {
        vec![
            line("A-01", 10, 10),
            line("A-02", 5, 4),
            line("A-03", 0, 1),
            line("A-04", 8, 8),
        ]
    }

    #[test]
    fn worked_example_k3_count_and_value_accuracy() {
        // System (10, 5, 0, 8) vs counted (10, 4, 1, 8), tolerance 0, unit cost 2.00.
        // count accuracy: match → 2 / 4 = 50.00 %
        // system value: (10 + 5 + 0 + 8) × 200 = 4,600 minor (46.00)
        // |differences|: (0 + 1 + 1 + 0) × 200 = 400 minor (4.00)
        // value accuracy: 1 − 400/4,600 = 4,200 / 4,600 = 42/46 = 91.30 %
        // net difference: (0 − 1 + 1 + 0) × 200 = 0
        let accuracy = inventory_record_accuracy(&example_k3(), CountTolerance::Units(0)).unwrap();
        assert_eq!(accuracy.count_accuracy.ratio, Ratio::new(2, 4));
        assert_eq!(accuracy.count_accuracy.value, Some(50.0));
        assert_eq!(accuracy.value_accuracy.ratio, Ratio::new(4_200, 4_600));
        assert!(accuracy.value_accuracy.ratio.same_value(Ratio::new(42, 46)));
        assert_eq!(
            accuracy.value_accuracy.describe("USD"),
            "91.30 % (4200 of 4600)"
        );
        assert_eq!(accuracy.net_difference.ratio, Ratio::new(0, 1));
        assert_eq!(accuracy.absolute_difference.ratio, Ratio::new(400, 1));
        assert_eq!(
            accuracy.absolute_difference.describe("USD"),
            "4.00 USD (n = 4)"
        );
    }

    #[test]
    fn tolerance_widens_the_count_measure_only() {
        // One unit either way: A-02 (5 vs 4) and A-03 (0 vs 1) now pass → 4 / 4.
        let units = inventory_record_accuracy(&example_k3(), CountTolerance::Units(1)).unwrap();
        assert_eq!(units.count_accuracy.ratio, Ratio::new(4, 4));
        assert_eq!(units.value_accuracy.ratio, Ratio::new(4_200, 4_600));
        // 20 % of system: A-02 (1 ≤ 20 % × 5) passes, A-03 (system 0) does not → 3 / 4.
        let share =
            inventory_record_accuracy(&example_k3(), CountTolerance::BasisPointsOfSystem(2_000))
                .unwrap();
        assert_eq!(share.count_accuracy.ratio, Ratio::new(3, 4));
        let none = inventory_record_accuracy(&[], CountTolerance::Units(0)).unwrap();
        assert_eq!(none.count_accuracy.value, None);
        assert_eq!(none.value_accuracy.value, None);
    }
}
