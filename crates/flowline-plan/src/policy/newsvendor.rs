//! The newsvendor: how much to have on hand for one period of random demand.
//!
//! Stock `S` is set before demand `D` is seen. Each unit left over costs `h` (the overage cost),
//! each unit short costs `p` (the underage cost). The expected cost is
//!
//! `g(S) = h E[(S − D)⁺] + p E[(D − S)⁺] = h n̄(S) + p n(S)`,
//!
//! with `n` and `n̄` the loss and complementary loss functions of demand (Snyder & Shen §4.3).
//! `g` is convex and its slope is `(h + p)F(S) − p`, so the best stock is the quantile at the
//! critical ratio `α = p/(p + h)`: `F(S*) = α`. For normal demand `N(μ, σ)` this is
//! `S* = μ + σ Φ⁻¹(α)` and the cost there is `(h + p) σ φ(Φ⁻¹(α))`; for discrete demand `S*` is
//! the smallest `S` with `F(S) ≥ α`.

use serde::{Deserialize, Serialize};

use super::{PolicyError, critical_ratio_z, finite, non_negative, positive};
use crate::distribution::{Normal, Poisson, normal_pdf};

/// A base-stock level for continuous demand and its expected cost per period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Newsvendor {
    /// The level stock is raised to, `S`.
    pub base_stock_level: f64,
    /// The expected holding and stockout cost per period at that level.
    pub cost: f64,
}

/// A base-stock level for demand in whole units and its expected cost per period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DiscreteNewsvendor {
    /// The level stock is raised to, `S`.
    pub base_stock_level: i64,
    /// The expected holding and stockout cost per period at that level.
    pub cost: f64,
}

/// Checks `h > 0` and `p > 0`.
pub(crate) fn check_costs(holding_cost: f64, stockout_cost: f64) -> Result<(), PolicyError> {
    positive("holding_cost", holding_cost)?;
    positive("stockout_cost", stockout_cost)?;
    Ok(())
}

/// Checks a normal demand's mean (at least 0) and standard deviation (at least 0).
pub(crate) fn normal_demand(mean: f64, sd: f64) -> Result<Normal, PolicyError> {
    non_negative("demand_mean", mean)?;
    non_negative("demand_sd", sd)?;
    Ok(Normal::new(mean, sd)?)
}

/// `g(S) = h n̄(S) + p n(S)` for any demand with those loss functions.
pub(crate) fn normal_cost(
    demand: &Normal,
    level: f64,
    holding_cost: f64,
    stockout_cost: f64,
) -> f64 {
    holding_cost * demand.complementary_loss(level) + stockout_cost * demand.loss(level)
}

/// The optimal level and cost for normal demand, checked inputs.
pub(crate) fn normal_optimum(
    method: &'static str,
    demand: &Normal,
    holding_cost: f64,
    stockout_cost: f64,
) -> Result<Newsvendor, PolicyError> {
    let z = critical_ratio_z(method, holding_cost, stockout_cost)?;
    Ok(Newsvendor {
        base_stock_level: demand.mean() + demand.sd() * z,
        cost: (holding_cost + stockout_cost) * demand.sd() * normal_pdf(z),
    })
}

/// The newsvendor with normal demand `N(demand_mean, demand_sd)`: `S* = μ + σ Φ⁻¹(p/(p + h))`
/// and its expected cost `(h + p) σ φ(Φ⁻¹(p/(p + h)))`.
///
/// `holding_cost` `h > 0` per unit left over, `stockout_cost` `p > 0` per unit short; the mean
/// and standard deviation must be at least 0 (a standard deviation of 0 gives `S* = μ` at no
/// cost).
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::NoSolution`] when
/// `p/(p + h)` is too close to 0 or 1 for its quantile to be a double.
pub fn newsvendor_normal(
    holding_cost: f64,
    stockout_cost: f64,
    demand_mean: f64,
    demand_sd: f64,
) -> Result<Newsvendor, PolicyError> {
    check_costs(holding_cost, stockout_cost)?;
    let demand = normal_demand(demand_mean, demand_sd)?;
    normal_optimum("normal newsvendor", &demand, holding_cost, stockout_cost)
}

/// The expected cost `g(S) = h n̄(S) + p n(S)` of stocking `base_stock_level` `S` against normal
/// demand `N(demand_mean, demand_sd)`.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range (`base_stock_level` must be finite).
pub fn newsvendor_normal_cost(
    base_stock_level: f64,
    holding_cost: f64,
    stockout_cost: f64,
    demand_mean: f64,
    demand_sd: f64,
) -> Result<f64, PolicyError> {
    let level = finite("base_stock_level", base_stock_level)?;
    check_costs(holding_cost, stockout_cost)?;
    let demand = normal_demand(demand_mean, demand_sd)?;
    Ok(normal_cost(&demand, level, holding_cost, stockout_cost))
}

/// Checks a Poisson mean and tabulates the distribution, naming `field` if it is refused.
pub(crate) fn poisson_demand(field: &'static str, mean: f64) -> Result<Poisson, PolicyError> {
    non_negative(field, mean)?;
    Poisson::new(mean).map_err(|error| PolicyError::OutOfRange {
        field,
        value: mean,
        expected: error.expected,
    })
}

/// `g(S) = h n̄(S) + p n(S)` for Poisson demand.
pub(crate) fn poisson_cost(
    demand: &Poisson,
    level: i64,
    holding_cost: f64,
    stockout_cost: f64,
) -> f64 {
    holding_cost * demand.complementary_loss(level) + stockout_cost * demand.loss(level)
}

/// The smallest `S` with `F(S) ≥ p/(p + h)` for Poisson demand, checked inputs.
pub(crate) fn poisson_optimum(
    demand: &Poisson,
    holding_cost: f64,
    stockout_cost: f64,
) -> Result<i64, PolicyError> {
    // F(S) ≥ p/(p + h) ⇔ P(D > S) ≤ h/(p + h), decided on the upper tail for accuracy.
    let tail = holding_cost / (holding_cost + stockout_cost);
    demand
        .upper_quantile(tail)
        .map_err(|_| PolicyError::NoSolution {
            method: "Poisson newsvendor",
            reason: "the critical ratio p/(p + h) is too close to 0 or 1 to represent",
        })
}

/// The newsvendor with Poisson demand of mean `demand_mean` (`0 ≤ λ ≤ 10⁷`): the smallest `S` with
/// `F(S) ≥ p/(p + h)` and its expected cost `h n̄(S) + p n(S)`.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::NoSolution`] when
/// `h/(p + h)` underflows.
pub fn newsvendor_poisson(
    holding_cost: f64,
    stockout_cost: f64,
    demand_mean: f64,
) -> Result<DiscreteNewsvendor, PolicyError> {
    check_costs(holding_cost, stockout_cost)?;
    let demand = poisson_demand("demand_mean", demand_mean)?;
    let level = poisson_optimum(&demand, holding_cost, stockout_cost)?;
    Ok(DiscreteNewsvendor {
        base_stock_level: level,
        cost: poisson_cost(&demand, level, holding_cost, stockout_cost),
    })
}

/// The expected cost `h n̄(S) + p n(S)` of stocking `base_stock_level` `S` against Poisson demand.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range.
pub fn newsvendor_poisson_cost(
    base_stock_level: i64,
    holding_cost: f64,
    stockout_cost: f64,
    demand_mean: f64,
) -> Result<f64, PolicyError> {
    check_costs(holding_cost, stockout_cost)?;
    let demand = poisson_demand("demand_mean", demand_mean)?;
    Ok(poisson_cost(
        &demand,
        base_stock_level,
        holding_cost,
        stockout_cost,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    #[test]
    fn the_normal_newsvendor_matches_example_4_3() {
        // Snyder & Shen example 4.3: h = 0.18, p = 0.70, D ~ N(50, 8).
        // α = 0.70/0.88 = 0.7954545…, Φ⁻¹(α) = 0.8254944909, S* = 50 + 8 · 0.82549 =
        // 56.603955927433887 (the double nearest, 56.60395592743389, is written below);
        // g* = 0.88 · 8 · φ(0.82549) = 7.04 · 0.28375 = 1.997605193176645.
        let optimum = newsvendor_normal(0.18, 0.70, 50.0, 8.0).unwrap();
        assert_close(optimum.base_stock_level, 56.603_955_927_433_89, 1e-12);
        assert_close(optimum.cost, 1.997_605_193_176_645, 1e-12);
        // The cost function agrees with the closed form at the optimum.
        assert_close(
            newsvendor_normal_cost(optimum.base_stock_level, 0.18, 0.70, 50.0, 8.0).unwrap(),
            optimum.cost,
            1e-12,
        );
    }

    #[test]
    fn the_normal_newsvendor_cost_at_40_matches_example_4_3() {
        // g(40) = 0.18 n̄(40) + 0.70 n(40) with z = (40 − 50)/8 = −1.25:
        // n(40) = 8 L(−1.25) = 8 · 1.3005869 = 10.404695, n̄(40) = n(40) − 10 = 0.404695,
        // g(40) = 0.18 · 0.404695 + 0.70 · 10.404695 = 7.356131552870388.
        let cost = newsvendor_normal_cost(40.0, 0.18, 0.70, 50.0, 8.0).unwrap();
        assert_close(cost, 7.356_131_552_870_388, 1e-12);
    }

    #[test]
    fn the_poisson_newsvendor_matches_example_4_7() {
        // Snyder & Shen example 4.7 (newsvendor part): h = 1, p = 4, D ~ Poisson(6).
        // α = 4/5 = 0.8; F(7) = 0.7440 < 0.8 ≤ F(8) = 0.8472, so S* = 8.
        // g(8) = 1 · n̄(8) + 4 · n(8) with n(8) = (6 − 8)(1 − F(8)) + 6 f(8) = 0.3140214 and
        // n̄(8) = n(8) + 8 − 6 = 2.3140214: g(8) = 2.3140214 + 1.2560856 = 3.570106945770946.
        let optimum = newsvendor_poisson(1.0, 4.0, 6.0).unwrap();
        assert_eq!(optimum.base_stock_level, 8);
        assert_close(optimum.cost, 3.570_106_945_770_946, 1e-12);
    }

    #[test]
    fn the_poisson_newsvendor_level_is_the_cheapest() {
        let optimum = newsvendor_poisson(1.0, 4.0, 6.0).unwrap();
        for level in 0..20 {
            let cost = newsvendor_poisson_cost(level, 1.0, 4.0, 6.0).unwrap();
            assert!(cost >= optimum.cost - 1e-12, "g({level}) = {cost}");
        }
        // Example 4.7 also gives g(5) = 6.590296024616343.
        assert_close(
            newsvendor_poisson_cost(5, 1.0, 4.0, 6.0).unwrap(),
            6.590_296_024_616_343,
            1e-12,
        );
    }

    #[test]
    fn a_certain_demand_is_met_exactly() {
        let optimum = newsvendor_normal(1.0, 3.0, 40.0, 0.0).unwrap();
        assert_eq!(optimum.base_stock_level, 40.0);
        assert_eq!(optimum.cost, 0.0);
        // Two short: 3 · 2.
        assert_eq!(
            newsvendor_normal_cost(38.0, 1.0, 3.0, 40.0, 0.0).unwrap(),
            6.0
        );
    }

    #[test]
    fn a_negative_stockout_cost_is_refused() {
        assert!(matches!(
            newsvendor_normal(0.18, -0.7, 50.0, 8.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "stockout_cost",
                ..
            }
        ));
    }

    #[test]
    fn a_nan_standard_deviation_is_refused() {
        assert!(matches!(
            newsvendor_normal(0.18, 0.7, 50.0, f64::NAN).unwrap_err(),
            PolicyError::OutOfRange {
                field: "demand_sd",
                ..
            }
        ));
    }

    #[test]
    fn an_absurd_poisson_mean_is_refused() {
        let error = newsvendor_poisson(1.0, 4.0, 1e9).unwrap_err();
        assert_eq!(
            error,
            PolicyError::OutOfRange {
                field: "demand_mean",
                value: 1e9,
                expected: "a finite number between 0 and 1e7",
            }
        );
    }
}
