//! K-1 fill rates and backorders at the first allocation/shipment wave (SCOR-METRICS §9.3).
//!
//! "First-time fill": what the first wave shipped, not what eventually arrived (that is
//! RL.2.1), so a line shipped complete by a later wave still counts as not filled here.

use serde::{Deserialize, Serialize};

use super::share;
use crate::value::{MetricValue, Unit};

/// One order line at its first allocation/shipment wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstWaveLine {
    /// Units ordered.
    pub units_ordered: u64,
    /// Units shipped by the first wave; more than ordered counts as ordered (over-shipping does
    /// not fill another line).
    pub units_shipped_first_wave: u64,
    /// Units backordered at allocation.
    pub units_backordered: u64,
}

/// One order's lines at the first wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstWaveOrder {
    /// The order.
    pub order: String,
    /// Its lines; lines of zero units ordered are not lines to fill and are ignored.
    pub lines: Vec<FirstWaveLine>,
}

/// Fill and backorder rates over the same orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillRates {
    /// Units shipped by the first wave / units ordered (`ops.unit_fill_rate`).
    pub unit_fill_rate: MetricValue,
    /// Lines shipped complete by the first wave / lines (`ops.line_fill_rate`).
    pub line_fill_rate: MetricValue,
    /// Orders all of whose lines shipped complete by the first wave / orders
    /// (`ops.order_fill_rate`).
    pub order_fill_rate: MetricValue,
    /// Orders with at least one unit backordered at allocation / orders
    /// (`ops.order_backorder_rate`).
    pub order_backorder_rate: MetricValue,
    /// Lines with at least one unit backordered / lines (`ops.line_backorder_rate`).
    pub line_backorder_rate: MetricValue,
    /// Units backordered / units ordered (`ops.unit_backorder_rate`).
    pub unit_backorder_rate: MetricValue,
}

/// Fill and backorder rates at the first wave; orders without lines to fill are left out, and
/// nothing to fill is no data.
pub fn fill_rates(orders: &[FirstWaveOrder]) -> FillRates {
    let mut units_ordered: u64 = 0;
    let mut units_filled: u64 = 0;
    let mut units_backordered: u64 = 0;
    let mut lines: u64 = 0;
    let mut lines_filled: u64 = 0;
    let mut lines_backordered: u64 = 0;
    let mut orders_counted: u64 = 0;
    let mut orders_filled: u64 = 0;
    let mut orders_backordered: u64 = 0;
    for order in orders {
        let order_lines: Vec<&FirstWaveLine> = order
            .lines
            .iter()
            .filter(|line| line.units_ordered > 0)
            .collect();
        if order_lines.is_empty() {
            continue;
        }
        orders_counted += 1;
        let mut order_filled = true;
        let mut order_backordered = false;
        for line in order_lines {
            let filled = line.units_shipped_first_wave.min(line.units_ordered);
            units_ordered = units_ordered.saturating_add(line.units_ordered);
            units_filled = units_filled.saturating_add(filled);
            units_backordered = units_backordered.saturating_add(line.units_backordered);
            lines += 1;
            if filled == line.units_ordered {
                lines_filled += 1;
            } else {
                order_filled = false;
            }
            if line.units_backordered > 0 {
                lines_backordered += 1;
                order_backordered = true;
            }
        }
        orders_filled += u64::from(order_filled);
        orders_backordered += u64::from(order_backordered);
    }
    FillRates {
        unit_fill_rate: MetricValue::new(
            "ops.unit_fill_rate",
            share(units_filled, units_ordered),
            Unit::Percent,
            lines,
        ),
        line_fill_rate: MetricValue::new(
            "ops.line_fill_rate",
            share(lines_filled, lines),
            Unit::Percent,
            lines,
        ),
        order_fill_rate: MetricValue::new(
            "ops.order_fill_rate",
            share(orders_filled, orders_counted),
            Unit::Percent,
            orders_counted,
        ),
        order_backorder_rate: MetricValue::new(
            "ops.order_backorder_rate",
            share(orders_backordered, orders_counted),
            Unit::Percent,
            orders_counted,
        ),
        line_backorder_rate: MetricValue::new(
            "ops.line_backorder_rate",
            share(lines_backordered, lines),
            Unit::Percent,
            lines,
        ),
        unit_backorder_rate: MetricValue::new(
            "ops.unit_backorder_rate",
            share(units_backordered, units_ordered),
            Unit::Percent,
            lines,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Ratio;

    fn line(ordered: u64, shipped: u64, backordered: u64) -> FirstWaveLine {
        FirstWaveLine {
            units_ordered: ordered,
            units_shipped_first_wave: shipped,
            units_backordered: backordered,
        }
    }

    fn order(name: &str, lines: Vec<FirstWaveLine>) -> FirstWaveOrder {
        FirstWaveOrder {
            order: name.to_string(),
            lines,
        }
    }

    #[test]
    fn worked_example_k1_fill_rates_at_the_first_wave() {
        // A = {L1 2 ordered / 2 shipped, L2 1 / 0, backordered}
        // B = {L1 5 / 4, 1 backordered}
        // C = {L1 1 / 1, L2 3 / 3}
        // units:  shipped 2 + 0 + 4 + 1 + 3 = 10 of 2 + 1 + 5 + 1 + 3 = 12 → 83.33 %
        // lines:  complete A.L1, C.L1, C.L2 = 3 of 5 → 60.00 %
        // orders: complete C = 1 of 3 → 33.33 %
        // backordered orders: A, B = 2 of 3 → 66.67 %
        let orders = vec![
            order("A", vec![line(2, 2, 0), line(1, 0, 1)]),
            order("B", vec![line(5, 4, 1)]),
            order("C", vec![line(1, 1, 0), line(3, 3, 0)]),
        ];
        let rates = fill_rates(&orders);
        assert_eq!(rates.unit_fill_rate.ratio, Ratio::new(10, 12));
        assert_eq!(rates.unit_fill_rate.describe("USD"), "83.33 % (10 of 12)");
        assert_eq!(rates.line_fill_rate.ratio, Ratio::new(3, 5));
        assert_eq!(rates.line_fill_rate.value, Some(60.0));
        assert_eq!(rates.order_fill_rate.ratio, Ratio::new(1, 3));
        assert_eq!(rates.order_fill_rate.describe("USD"), "33.33 % (1 of 3)");
        assert_eq!(rates.order_backorder_rate.ratio, Ratio::new(2, 3));
        assert_eq!(
            rates.order_backorder_rate.describe("USD"),
            "66.67 % (2 of 3)"
        );
        assert_eq!(rates.order_fill_rate.population, 3);
        // Line and unit backorder rates: 2 of 5 lines, 2 of 12 units.
        assert_eq!(rates.line_backorder_rate.ratio, Ratio::new(2, 5));
        assert_eq!(rates.unit_backorder_rate.ratio, Ratio::new(2, 12));
    }

    #[test]
    fn over_shipping_does_not_fill_and_empty_orders_are_no_data() {
        let rates = fill_rates(&[order("A", vec![line(2, 3, 0), line(2, 1, 0)])]);
        assert_eq!(rates.unit_fill_rate.ratio, Ratio::new(3, 4));
        assert_eq!(
            fill_rates(&[order("B", vec![])]).order_fill_rate.value,
            None
        );
    }
}
