//! Base-stock policies: every period, order enough to bring the inventory position (on hand plus
//! on order minus backorders) back up to `S`.
//!
//! With a lead time of `L` whole periods, what is ordered now arrives `L` periods later, and the
//! stock left at the end of that period is `S` minus the demand of the `L + 1` periods in between
//! (Snyder & Shen §4.3.4). So the problem is a newsvendor against the demand over `L + 1`
//! periods: with per-period demand `N(μ, σ)`, independent from period to period, that demand is
//! `N((L + 1)μ, σ√(L + 1))` and `S* = (L + 1)μ + σ√(L + 1) Φ⁻¹(p/(p + h))`, with `h` and `p` the
//! holding and backorder costs per unit per period.

use super::newsvendor::{Newsvendor, check_costs, normal_cost, normal_demand, normal_optimum};
use super::{PolicyError, finite, finite_result, non_negative};
use crate::distribution::Normal;

/// The demand over `lead_time + 1` periods, checked.
fn protection_period_demand(
    demand_mean: f64,
    demand_sd: f64,
    lead_time: f64,
) -> Result<Normal, PolicyError> {
    let per_period = normal_demand(demand_mean, demand_sd)?;
    let lead_time = non_negative("lead_time", lead_time)?;
    let periods = lead_time + 1.0;
    let mean = finite_result("base stock", per_period.mean() * periods)?;
    let sd = finite_result("base stock", per_period.sd() * periods.sqrt())?;
    Ok(Normal::new(mean, sd)?)
}

/// The optimal base-stock level with lead time `lead_time` periods and per-period demand
/// `N(demand_mean, demand_sd)`, and its expected cost per period:
/// `S* = (L + 1)μ + σ√(L + 1) Φ⁻¹(p/(p + h))`, cost `(h + p) σ√(L + 1) φ(Φ⁻¹(p/(p + h)))`.
///
/// A lead time of 0 is the plain newsvendor; fractional lead times are accepted and treated the
/// same way (demand over `L + 1` periods).
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::NoSolution`] when
/// the critical ratio is too close to 0 or 1 or the demand over the lead time overflows.
pub fn base_stock_normal(
    holding_cost: f64,
    stockout_cost: f64,
    demand_mean: f64,
    demand_sd: f64,
    lead_time: f64,
) -> Result<Newsvendor, PolicyError> {
    check_costs(holding_cost, stockout_cost)?;
    let demand = protection_period_demand(demand_mean, demand_sd, lead_time)?;
    normal_optimum("base stock", &demand, holding_cost, stockout_cost)
}

/// The expected cost per period `h n̄(S) + p n(S)` of base-stock level `base_stock_level` with
/// lead time `lead_time`, the loss functions taken over the demand of `L + 1` periods.
///
/// # Errors
///
/// As [`base_stock_normal`], and naming `base_stock_level` unless it is finite.
pub fn base_stock_normal_cost(
    base_stock_level: f64,
    holding_cost: f64,
    stockout_cost: f64,
    demand_mean: f64,
    demand_sd: f64,
    lead_time: f64,
) -> Result<f64, PolicyError> {
    let level = finite("base_stock_level", base_stock_level)?;
    check_costs(holding_cost, stockout_cost)?;
    let demand = protection_period_demand(demand_mean, demand_sd, lead_time)?;
    Ok(normal_cost(&demand, level, holding_cost, stockout_cost))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    #[test]
    fn base_stock_with_lead_time_matches_example_4_4() {
        // Snyder & Shen example 4.4: h = 0.18, p = 0.70, N(50, 8) per period, L = 4.
        // Demand over L + 1 = 5 periods is N(250, 8√5 = 17.88854…);
        // S* = 250 + 17.88854 · Φ⁻¹(0.70/0.88) = 250 + 17.88854 · 0.8254945 = 264.7668943741548;
        // g* = 0.88 · 17.88854 · φ(0.8254945) = 4.466781004149578.
        let optimum = base_stock_normal(0.18, 0.70, 50.0, 8.0, 4.0).unwrap();
        assert_close(optimum.base_stock_level, 264.766_894_374_154_8, 1e-12);
        assert_close(optimum.cost, 4.466_781_004_149_578, 1e-12);
        assert_close(
            base_stock_normal_cost(optimum.base_stock_level, 0.18, 0.70, 50.0, 8.0, 4.0).unwrap(),
            optimum.cost,
            1e-12,
        );
    }

    #[test]
    fn a_lead_time_of_zero_is_the_newsvendor() {
        let base = base_stock_normal(0.18, 0.70, 50.0, 8.0, 0.0).unwrap();
        let newsvendor = super::super::newsvendor_normal(0.18, 0.70, 50.0, 8.0).unwrap();
        assert_eq!(base, newsvendor);
    }

    #[test]
    fn a_negative_lead_time_is_refused() {
        assert!(matches!(
            base_stock_normal(0.18, 0.70, 50.0, 8.0, -1.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "lead_time",
                ..
            }
        ));
    }
}
