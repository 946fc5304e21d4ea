//! K-0 order accuracy (SCOR-METRICS §9.1; SCOR RL.3.33 / RL.3.35).
//!
//! `orders shipped without a picking/packing error / orders shipped`, in two readings: the
//! customer-facing one counts only errors that left the building, the first-pass one also
//! counts errors the pack-station scan caught and corrected ("internal catches").

use serde::{Deserialize, Serialize};

use super::{count, share};
use crate::value::{MetricValue, Unit};

/// One shipped order and the picking/packing errors found on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedOrderCheck {
    /// The order.
    pub order: String,
    /// Errors the pack-station scan caught (wrong SKU or quantity) and corrected before
    /// shipping.
    pub errors_caught_at_pack: u32,
    /// Errors that reached the customer: customer reports, returns with reason `wrong_item` or
    /// `missing_item`, carrier weight mismatches.
    pub errors_after_shipping: u32,
}

/// Both readings of order accuracy over the same shipped orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAccuracy {
    /// Orders with no error after shipping / orders shipped (`ops.order_accuracy`).
    pub customer_facing: MetricValue,
    /// Orders with no error at all, caught or not / orders shipped
    /// (`ops.first_pass_pick_accuracy`).
    pub first_pass: MetricValue,
}

/// Order accuracy over shipped orders; no orders is no data. An order with several errors is
/// one inaccurate order.
pub fn order_accuracy(orders: &[ShippedOrderCheck]) -> OrderAccuracy {
    let shipped = count(orders.len());
    let accurate_for_customer = count(
        orders
            .iter()
            .filter(|order| order.errors_after_shipping == 0)
            .count(),
    );
    let accurate_first_pass = count(
        orders
            .iter()
            .filter(|order| order.errors_after_shipping == 0 && order.errors_caught_at_pack == 0)
            .count(),
    );
    OrderAccuracy {
        customer_facing: MetricValue::new(
            "ops.order_accuracy",
            share(accurate_for_customer, shipped),
            Unit::Percent,
            shipped,
        ),
        first_pass: MetricValue::new(
            "ops.first_pass_pick_accuracy",
            share(accurate_first_pass, shipped),
            Unit::Percent,
            shipped,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Ratio;

    fn check(index: usize, caught_at_pack: u32, after_shipping: u32) -> ShippedOrderCheck {
        ShippedOrderCheck {
            order: format!("SO-{index}"),
            errors_caught_at_pack: caught_at_pack,
            errors_after_shipping: after_shipping,
        }
    }

    #[test]
    fn worked_example_k0_customer_facing_and_first_pass_accuracy() {
        // 200 orders shipped; 5 had an error caught at the pack scan and corrected; 3 other
        // orders were later reported by customers as wrong/missing item.
        // customer-facing: (200 − 3) / 200 = 197 / 200 = 98.50 %
        // first pass:      (200 − 5 − 3) / 200 = 192 / 200 = 96.00 %
        let orders: Vec<ShippedOrderCheck> = (0..200)
            .map(|index| match index {
                0..5 => check(index, 1, 0),
                5..8 => check(index, 0, 1),
                _ => check(index, 0, 0),
            })
            .collect();
        let accuracy = order_accuracy(&orders);
        assert_eq!(accuracy.customer_facing.ratio, Ratio::new(197, 200));
        assert_eq!(accuracy.customer_facing.value, Some(98.5));
        assert_eq!(accuracy.customer_facing.population, 200);
        assert_eq!(
            accuracy.customer_facing.describe("USD"),
            "98.50 % (197 of 200)"
        );
        assert_eq!(accuracy.first_pass.ratio, Ratio::new(192, 200));
        assert_eq!(accuracy.first_pass.value, Some(96.0));
    }

    #[test]
    fn an_order_with_errors_both_caught_and_missed_counts_once() {
        let accuracy = order_accuracy(&[check(1, 2, 1), check(2, 0, 0)]);
        assert_eq!(accuracy.customer_facing.ratio, Ratio::new(1, 2));
        assert_eq!(accuracy.first_pass.ratio, Ratio::new(1, 2));
        assert_eq!(order_accuracy(&[]).first_pass.value, None);
    }
}
