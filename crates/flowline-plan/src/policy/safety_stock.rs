//! Safety stock and reorder point for a service target, when both demand and the lead time vary.
//!
//! Units: demand `d` (mean) and `σ_d` (standard deviation) are per period (say per day), and the
//! lead time `L` (mean) and `σ_L` (standard deviation) are in the same periods. With demands
//! independent from period to period and independent of the lead time, demand over the lead time
//! has mean `d·L` and standard deviation
//!
//! `σ_LTD = √(L σ_d² + d² σ_L²)`
//!
//! (the first term is demand's own variability over `L` periods, the second the variability the
//! uncertain lead time adds). Taking lead-time demand as normal, a reorder point `R = d·L + SS`
//! with safety stock `SS = z σ_LTD` gives:
//!
//! - a **cycle service level** (type 1: the probability that a replenishment cycle has no
//!   stockout) of `Φ(z)`, so a target `α` needs `z = Φ⁻¹(α)`;
//! - an expected shortage per cycle of `σ_LTD L(z)` units, with `L` the standard normal loss
//!   function. Each cycle brings in `Q` units, so the **fill rate** (type 2: the fraction of
//!   demand met from stock) is `1 − σ_LTD L(z)/Q`, and a target `β` needs
//!   `L(z) = (1 − β)Q/σ_LTD`.
//!
//! The fill-rate `z` can be negative (a large `Q` meets most demand from cycle stock alone), and
//! then so is the safety stock: the reorder point falls below mean lead-time demand. It is
//! returned as computed; a planner who wants no negative safety stock can take `max(0, SS)`.

use serde::{Deserialize, Serialize};

use super::{PolicyError, finite_result, non_negative, open_unit, positive};
use crate::distribution::{normal_loss, normal_loss_inverse, normal_quantile};

/// Demand over the lead time: its mean `d·L` and standard deviation `√(L σ_d² + d² σ_L²)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeDemand {
    /// Mean demand over the lead time.
    pub mean: f64,
    /// Standard deviation of demand over the lead time.
    pub sd: f64,
}

/// A safety stock and the reorder point it gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SafetyStock {
    /// The safety factor `z`: safety stock in standard deviations of lead-time demand.
    pub safety_factor: f64,
    /// The safety stock `z σ_LTD`.
    pub safety_stock: f64,
    /// The reorder point: mean lead-time demand plus the safety stock.
    pub reorder_point: f64,
    /// The expected shortage per replenishment cycle, `σ_LTD L(z)` units.
    pub expected_shortage_per_cycle: f64,
    /// The lead-time demand the stock covers.
    pub lead_time_demand: LeadTimeDemand,
}

/// Demand over the lead time from per-period demand (`demand_mean` `d`, `demand_sd` `σ_d`) and
/// the lead time in periods (`lead_time` `L`, `lead_time_sd` `σ_L`): mean `d·L`, standard
/// deviation `√(L σ_d² + d² σ_L²)`.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input that is negative, NaN or infinite.
pub fn lead_time_demand(
    demand_mean: f64,
    demand_sd: f64,
    lead_time: f64,
    lead_time_sd: f64,
) -> Result<LeadTimeDemand, PolicyError> {
    let d = non_negative("demand_mean", demand_mean)?;
    let sd_d = non_negative("demand_sd", demand_sd)?;
    let l = non_negative("lead_time", lead_time)?;
    let sd_l = non_negative("lead_time_sd", lead_time_sd)?;
    // √(L σ_d² + d² σ_L²) as a hypotenuse, so that large inputs do not overflow the squares.
    let sd = (l.sqrt() * sd_d).hypot(d * sd_l);
    Ok(LeadTimeDemand {
        mean: finite_result("lead-time demand", d * l)?,
        sd: finite_result("lead-time demand", sd)?,
    })
}

/// Checks a lead-time demand given directly.
fn check(demand: LeadTimeDemand) -> Result<LeadTimeDemand, PolicyError> {
    non_negative("lead_time_demand.mean", demand.mean)?;
    non_negative("lead_time_demand.sd", demand.sd)?;
    Ok(demand)
}

/// Builds the result for safety factor `z`.
fn with_factor(z: f64, demand: LeadTimeDemand) -> Result<SafetyStock, PolicyError> {
    let safety_stock = finite_result("safety stock", z * demand.sd)?;
    Ok(SafetyStock {
        safety_factor: z,
        safety_stock,
        reorder_point: finite_result("safety stock", demand.mean + safety_stock)?,
        expected_shortage_per_cycle: demand.sd * normal_loss(z),
        lead_time_demand: demand,
    })
}

/// The safety stock for a cycle service level (type 1) `service_level` `α` (strictly between 0
/// and 1): `z = Φ⁻¹(α)`, `SS = z σ_LTD`, reorder point `d·L + SS`.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming `service_level` unless `0 < α < 1`, or the lead-time demand
/// field that is negative or not finite.
pub fn safety_stock_for_cycle_service_level(
    service_level: f64,
    lead_time_demand: LeadTimeDemand,
) -> Result<SafetyStock, PolicyError> {
    let service_level = open_unit("service_level", service_level)?;
    let demand = check(lead_time_demand)?;
    with_factor(normal_quantile(service_level)?, demand)
}

/// The safety stock for a fill rate (type 2) `fill_rate` `β` (strictly between 0 and 1) when
/// `order_quantity` `Q > 0` units arrive each cycle: the `z` with `σ_LTD L(z) = (1 − β)Q`, so that
/// the expected shortage per cycle is the `(1 − β)` share of the cycle's demand that may go
/// unmet. With no variability (`σ_LTD = 0`) nothing is ever short and the safety stock is 0.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming `fill_rate` unless `0 < β < 1`, `order_quantity` unless it
/// is positive and finite, or the lead-time demand field out of range.
pub fn safety_stock_for_fill_rate(
    fill_rate: f64,
    order_quantity: f64,
    lead_time_demand: LeadTimeDemand,
) -> Result<SafetyStock, PolicyError> {
    let fill_rate = open_unit("fill_rate", fill_rate)?;
    let quantity = positive("order_quantity", order_quantity)?;
    let demand = check(lead_time_demand)?;
    if demand.sd == 0.0 {
        return with_factor(0.0, demand);
    }
    let target = (1.0 - fill_rate) * quantity / demand.sd;
    let z = normal_loss_inverse(target).map_err(|_| PolicyError::NoSolution {
        method: "fill-rate safety stock",
        reason: "(1 − fill_rate) × order_quantity is too small against the spread of \
                 lead-time demand to resolve",
    })?;
    with_factor(z, demand)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    /// d = 100 per day, σ_d = 20 per day, L = 4 days, σ_L = 1 day.
    fn worked_example() -> LeadTimeDemand {
        lead_time_demand(100.0, 20.0, 4.0, 1.0).unwrap()
    }

    #[test]
    fn lead_time_demand_combines_demand_and_lead_time_variability() {
        // Mean 100 · 4 = 400; σ_LTD = √(4 · 20² + 100² · 1²) = √(1600 + 10000) = √11600
        // = 107.70329614269008.
        let demand = worked_example();
        assert_eq!(demand.mean, 400.0);
        assert_close(demand.sd, 107.703_296_142_690_08, 1e-14);
        // With a fixed lead time only demand varies: σ_LTD = σ_d √L = 20 · 2 = 40.
        assert_eq!(lead_time_demand(100.0, 20.0, 4.0, 0.0).unwrap().sd, 40.0);
    }

    #[test]
    fn a_95_percent_cycle_service_level_matches_the_hand_calculation() {
        // z = Φ⁻¹(0.95) = 1.6448536269514727 (often printed 1.6448536269514722, one unit in the
        // last place lower); SS = 1.6448536269514727 · 107.70329614269008 = 177.15615729493234;
        // reorder point = 400 + 177.15615729493234 = 577.1561572949323.
        let stock = safety_stock_for_cycle_service_level(0.95, worked_example()).unwrap();
        assert_close(stock.safety_factor, 1.644_853_626_951_472_7, 1e-15);
        assert_close(stock.safety_stock, 177.156_157_294_932_34, 1e-13);
        assert_close(stock.reorder_point, 577.156_157_294_932_3, 1e-13);
        // The expected shortage per cycle is σ_LTD L(z) = 107.7033 · 0.0208929590 = 2.25024055.
        assert_close(
            stock.expected_shortage_per_cycle,
            2.250_240_553_467_982,
            1e-13,
        );
    }

    #[test]
    fn a_fill_rate_target_sets_the_expected_shortage_per_cycle() {
        // β = 0.98 with Q = 500: the expected shortage per cycle must be (1 − 0.98) · 500 = 10
        // units, so L(z) = 10/107.70329614269008 = 0.09284766908852593. L(0.9) = 0.1004 and
        // L(1.0) = 0.0833 bracket it; the root is z = 0.942489308607907, so
        // SS = 0.942489308607907 · 107.7033 = 101.50920511631663 and the reorder point is
        // 501.50920511631663.
        let stock = safety_stock_for_fill_rate(0.98, 500.0, worked_example()).unwrap();
        assert_close(stock.expected_shortage_per_cycle, 10.0, 1e-12);
        assert_close(stock.safety_factor, 0.942_489_308_607_907, 1e-13);
        assert_close(stock.safety_stock, 101.509_205_116_316_63, 1e-12);
        assert_close(stock.reorder_point, 501.509_205_116_316_63, 1e-12);
    }

    #[test]
    fn a_large_order_quantity_can_call_for_negative_safety_stock() {
        // Q = 50,000 at β = 0.98 allows 1000 units short per cycle, more than σ_LTD L(0) = 43:
        // z < 0.
        let stock = safety_stock_for_fill_rate(0.98, 50_000.0, worked_example()).unwrap();
        assert!(stock.safety_stock < 0.0);
        assert_close(stock.expected_shortage_per_cycle, 1000.0, 1e-12);
    }

    #[test]
    fn no_variability_needs_no_safety_stock() {
        let certain = lead_time_demand(100.0, 0.0, 4.0, 0.0).unwrap();
        let stock = safety_stock_for_fill_rate(0.99, 500.0, certain).unwrap();
        assert_eq!(stock.safety_stock, 0.0);
        assert_eq!(stock.reorder_point, 400.0);
        let stock = safety_stock_for_cycle_service_level(0.99, certain).unwrap();
        assert_eq!(stock.safety_stock, 0.0);
    }

    #[test]
    fn a_service_level_of_one_is_refused() {
        assert_eq!(
            safety_stock_for_cycle_service_level(1.0, worked_example()).unwrap_err(),
            PolicyError::OutOfRange {
                field: "service_level",
                value: 1.0,
                expected: "between 0 and 1, exclusive",
            }
        );
    }

    #[test]
    fn a_fill_rate_of_zero_or_nan_is_refused() {
        for fill_rate in [0.0, f64::NAN] {
            assert!(matches!(
                safety_stock_for_fill_rate(fill_rate, 500.0, worked_example()).unwrap_err(),
                PolicyError::OutOfRange {
                    field: "fill_rate",
                    ..
                }
            ));
        }
    }

    #[test]
    fn a_negative_lead_time_sd_is_refused() {
        assert!(matches!(
            lead_time_demand(100.0, 20.0, 4.0, -1.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "lead_time_sd",
                ..
            }
        ));
    }

    #[test]
    fn a_lead_time_demand_built_by_hand_is_checked_too() {
        let bad = LeadTimeDemand {
            mean: 400.0,
            sd: f64::NAN,
        };
        assert!(matches!(
            safety_stock_for_cycle_service_level(0.95, bad).unwrap_err(),
            PolicyError::OutOfRange {
                field: "lead_time_demand.sd",
                ..
            }
        ));
    }
}
