//! (s, S) policies: review the inventory position every period; when it is at or below the
//! reorder point `s`, order up to `S`.
//!
//! With a fixed cost `K` per order, ordering every period (a base-stock policy) is too dear, and
//! the (s, S) policy is optimal among all policies for the periodic-review problem with fixed cost
//! (Scarf 1960). Its expected cost per period (Snyder & Shen §4.6, after Zheng & Federgruen 1991),
//! for discrete demand `D` per period with pmf `f`, is
//!
//! `c(s, S) = [K + Σ_{d=0}^{S−s−1} m(d) G(S − d)] / M(S − s)`,
//!
//! where `G(y) = h n̄(y) + p n(y)` is the newsvendor cost of ending the period with position `y`
//! (taken over the demand of `L + 1` periods when orders take `L` periods to arrive), `m(j)` is
//! the expected number of periods the position spends `j` units below `S` in one cycle and
//! `M(j) = m(0) + … + m(j − 1)` the expected length of a cycle that ends once demand since the
//! order exceeds `j − 1`:
//!
//! `m(0) = 1/(1 − f(0))`, `m(j) = m(0) Σ_{l=1}^{j} f(l) m(j − l)`.
//!
//! [`ss_poisson_exact`] finds the optimal `(s, S)` for Poisson demand by Zheng & Federgruen's
//! algorithm, which evaluates `c` only along a path of neighbouring policies;
//! [`ss_power_approximation`] is Ehrhardt & Mosier's (1984) closed-form fit for normal demand.

use serde::{Deserialize, Serialize};

use super::newsvendor::{check_costs, poisson_cost, poisson_demand, poisson_optimum};
use super::{PolicyError, finite_result, non_negative, positive};
use crate::distribution::{MAX_POISSON_MEAN, Poisson};

/// Largest gap `S − s` the exact (s, S) computations handle. The renewal function `m` costs
/// `O(gap × √λ)` and each evaluation of `c(s, S)` costs `O(gap)`; beyond this gap the power
/// approximation is the tool.
pub const MAX_SS_GAP: i64 = 10_000;

/// An (s, S) policy for demand in whole units and its expected cost per period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SsPolicy {
    /// The reorder point `s`: order when the inventory position is at or below it.
    pub reorder_point: i64,
    /// The order-up-to level `S`.
    pub order_up_to_level: i64,
    /// The expected ordering, holding and stockout cost per period.
    pub cost: f64,
}

/// An approximate (s, S) policy for normal demand.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SsApproximation {
    /// The reorder point `s`.
    pub reorder_point: f64,
    /// The order-up-to level `S = s + Q`.
    pub order_up_to_level: f64,
    /// The gap `Q = S − s`.
    pub order_quantity: f64,
}

/// The pieces of `c(s, S)` for Poisson demand, with the renewal function grown as needed.
struct SsModel {
    holding_cost: f64,
    stockout_cost: f64,
    fixed_cost: f64,
    /// Demand per period (drives the cycle).
    period: Poisson,
    /// Demand over the lead time plus one period (drives the costs).
    protection: Poisson,
    /// `m(0), m(1), …`.
    renewal: Vec<f64>,
    /// `M(0) = 0, M(1), …`.
    cumulative: Vec<f64>,
}

impl SsModel {
    /// Checks the inputs and tabulates both demand distributions.
    fn new(
        holding_cost: f64,
        stockout_cost: f64,
        fixed_cost: f64,
        demand_mean: f64,
        lead_time: f64,
    ) -> Result<Self, PolicyError> {
        check_costs(holding_cost, stockout_cost)?;
        let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
        let demand_mean = positive("demand_mean", demand_mean)?;
        let lead_time = non_negative("lead_time", lead_time)?;
        let protection_mean = demand_mean * (lead_time + 1.0);
        if protection_mean > MAX_POISSON_MEAN {
            return Err(PolicyError::OutOfRange {
                field: "demand_mean",
                value: demand_mean,
                expected: "at most 1e7 units over lead_time + 1 periods",
            });
        }
        let period = poisson_demand("demand_mean", demand_mean)?;
        let protection = poisson_demand("demand_mean", protection_mean)?;
        // 1 − f(0) = 1 − e^{−λ}, without cancellation for small λ.
        let first = 1.0 / -libm::expm1(-demand_mean);
        Ok(Self {
            holding_cost,
            stockout_cost,
            fixed_cost,
            period,
            protection,
            renewal: vec![first],
            cumulative: vec![0.0, first],
        })
    }

    /// `G(y)`.
    fn g(&self, level: i64) -> f64 {
        poisson_cost(
            &self.protection,
            level,
            self.holding_cost,
            self.stockout_cost,
        )
    }

    /// Grows `m` and `M` to cover a gap of `gap` units.
    fn ensure(&mut self, gap: usize) {
        let first = self.renewal[0];
        let (low, high) = self.period.support();
        while self.renewal.len() < gap {
            let j = self.renewal.len();
            // m(j) = m(0) Σ_{l=1}^{j} f(l) m(j − l), with f(l) = 0 outside the table.
            let j_signed = i64::try_from(j).unwrap_or(i64::MAX);
            let mut sum = 0.0;
            for l in low.max(1)..=high.min(j_signed) {
                let back = usize::try_from(j_signed - l).unwrap_or(0);
                sum += self.period.pmf(l) * self.renewal[back];
            }
            let value = first * sum;
            self.renewal.push(value);
            let total = self.cumulative[j] + value;
            self.cumulative.push(total);
        }
    }

    /// `c(s, S)`, for `S > s`.
    fn cost(&mut self, reorder_point: i64, order_up_to_level: i64) -> Result<f64, PolicyError> {
        let gap = order_up_to_level.saturating_sub(reorder_point);
        if gap > MAX_SS_GAP {
            return Err(PolicyError::LimitExceeded {
                field: "order_up_to_level - reorder_point",
                value: gap as f64,
                limit: MAX_SS_GAP as f64,
            });
        }
        let gap = usize::try_from(gap).map_err(|_| PolicyError::OutOfRange {
            field: "order_up_to_level",
            value: order_up_to_level as f64,
            expected: "greater than reorder_point",
        })?;
        if gap == 0 {
            return Err(PolicyError::OutOfRange {
                field: "order_up_to_level",
                value: order_up_to_level as f64,
                expected: "greater than reorder_point",
            });
        }
        self.ensure(gap);
        let mut total = self.fixed_cost;
        for (d, level) in (reorder_point + 1..=order_up_to_level).rev().enumerate() {
            total += self.renewal[d] * self.g(level);
        }
        finite_result("(s, S) cost", total / self.cumulative[gap])
    }
}

/// The expected cost per period `c(s, S)` of the (s, S) policy `(reorder_point,
/// order_up_to_level)` under Poisson demand of mean `demand_mean` per period, with orders arriving
/// `lead_time` periods after they are placed.
///
/// `holding_cost` `h > 0` and `stockout_cost` `p > 0` per unit per period, `fixed_cost` `K ≥ 0`
/// per order.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range (`order_up_to_level` must exceed
/// `reorder_point`); [`PolicyError::LimitExceeded`] when `S − s` exceeds [`MAX_SS_GAP`].
pub fn ss_poisson_cost(
    reorder_point: i64,
    order_up_to_level: i64,
    holding_cost: f64,
    stockout_cost: f64,
    fixed_cost: f64,
    demand_mean: f64,
    lead_time: f64,
) -> Result<f64, PolicyError> {
    let mut model = SsModel::new(
        holding_cost,
        stockout_cost,
        fixed_cost,
        demand_mean,
        lead_time,
    )?;
    model.cost(reorder_point, order_up_to_level)
}

/// The optimal (s, S) policy for Poisson demand of mean `demand_mean` per period (Zheng &
/// Federgruen 1991; Snyder & Shen algorithm 4.2).
///
/// Starting from the newsvendor level `y*` (the minimum of `G`): lower `s` from `y*` until
/// `c(s, y*) ≤ G(s)`; then raise `S` one unit at a time while `G(S)` is no more than the best cost
/// found, and whenever `c(s, S)` improves on it, take that `S` and raise `s` while
/// `c(s, S) ≤ G(s + 1)`. Every step keeps the gap `S − s` within [`MAX_SS_GAP`].
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range (`demand_mean` must be positive and
/// at most 10⁷ over the lead time plus one period); [`PolicyError::LimitExceeded`] when the
/// search would need a gap `S − s` beyond [`MAX_SS_GAP`].
pub fn ss_poisson_exact(
    holding_cost: f64,
    stockout_cost: f64,
    fixed_cost: f64,
    demand_mean: f64,
    lead_time: f64,
) -> Result<SsPolicy, PolicyError> {
    let mut model = SsModel::new(
        holding_cost,
        stockout_cost,
        fixed_cost,
        demand_mean,
        lead_time,
    )?;
    let newsvendor = poisson_optimum(&model.protection, holding_cost, stockout_cost)?;

    // s(y*): the first s below y* with c(s, y*) ≤ G(s).
    let mut order_up_to = newsvendor;
    let mut reorder = newsvendor - 1;
    while model.cost(reorder, order_up_to)? > model.g(reorder) {
        reorder -= 1;
    }
    let mut best = model.cost(reorder, order_up_to)?;

    let mut candidate = order_up_to + 1;
    while model.g(candidate) <= best {
        if model.cost(reorder, candidate)? < best {
            order_up_to = candidate;
            while reorder + 1 < order_up_to
                && model.cost(reorder, order_up_to)? <= model.g(reorder + 1)
            {
                reorder += 1;
            }
            best = model.cost(reorder, order_up_to)?;
        }
        candidate += 1;
        if candidate - reorder > MAX_SS_GAP {
            return Err(PolicyError::LimitExceeded {
                field: "order_up_to_level - reorder_point",
                value: (candidate - reorder) as f64,
                limit: MAX_SS_GAP as f64,
            });
        }
    }
    Ok(SsPolicy {
        reorder_point: reorder,
        order_up_to_level: order_up_to,
        cost: best,
    })
}

/// The power approximation for (s, S) under normal demand `N(demand_mean, demand_sd)` per period
/// (Ehrhardt & Mosier 1984, as in Snyder & Shen eqs. 4.77–4.80):
///
/// - `Q = 1.30 μ^0.494 (K/h)^0.506 (1 + σ_L²/μ²)^0.116`,
/// - `z = √(Q h / (σ_L p))`,
/// - `s = 0.973 μ_L + σ_L (0.183/z + 1.063 − 2.192 z)`, `S = s + Q`,
///
/// where `μ_L = (L + 1)μ` and `σ_L = σ√(L + 1)` describe demand over the lead time plus one
/// period (with `L = 0`, one period's demand). These are the fitted formulas as the book gives
/// them; Ehrhardt & Mosier further cap `s` and `S` at the newsvendor level when `Q/μ` is small,
/// which is not applied here.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range: the costs, the mean and the
/// standard deviation must be positive and finite (the fit divides by each), the lead time at
/// least 0.
pub fn ss_power_approximation(
    holding_cost: f64,
    stockout_cost: f64,
    fixed_cost: f64,
    demand_mean: f64,
    demand_sd: f64,
    lead_time: f64,
) -> Result<SsApproximation, PolicyError> {
    check_costs(holding_cost, stockout_cost)?;
    let fixed_cost = positive("fixed_cost", fixed_cost)?;
    let mean = positive("demand_mean", demand_mean)?;
    let sd = positive("demand_sd", demand_sd)?;
    let periods = non_negative("lead_time", lead_time)? + 1.0;
    let protection_mean = mean * periods;
    let protection_sd = sd * periods.sqrt();
    let variability = 1.0 + (protection_sd / mean) * (protection_sd / mean);
    let quantity =
        1.30 * mean.powf(0.494) * (fixed_cost / holding_cost).powf(0.506) * variability.powf(0.116);
    let z = (quantity / protection_sd * (holding_cost / stockout_cost)).sqrt();
    let reorder_point = 0.973 * protection_mean + protection_sd * (0.183 / z + 1.063 - 2.192 * z);
    let reorder_point = finite_result("(s, S) power approximation", reorder_point)?;
    let quantity = finite_result("(s, S) power approximation", quantity)?;
    Ok(SsApproximation {
        reorder_point,
        order_up_to_level: finite_result("(s, S) power approximation", reorder_point + quantity)?,
        order_quantity: quantity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    /// `m(0) = 1/(1 − f(0))`, `m(j) = m(0) Σ_{l=1}^{j} f(l) m(j − l)`, term by term.
    fn brute_force_renewal(pmf: &[f64], count: usize) -> Vec<f64> {
        let first = 1.0 / (1.0 - pmf[0]);
        let mut renewal = vec![first];
        for j in 1..count {
            let mut sum = 0.0;
            for l in 1..=j {
                sum += pmf.get(l).copied().unwrap_or(0.0) * renewal[j - l];
            }
            renewal.push(first * sum);
        }
        renewal
    }

    #[test]
    fn ss_exact_matches_example_4_7() {
        // Snyder & Shen example 4.7: h = 1, p = 4, K = 5, D ~ Poisson(6) per period, no lead
        // time. The newsvendor level is y* = 8; lowering s from 8 stops at 4, the first s with
        // c(s, 8) ≤ G(s) (c(4, 8) = 8.195 ≤ G(4) = 9.165); raising S then improves the cost at
        // S = 9 (8.044) and S = 10 (8.034) and at no larger S before G(S) exceeds 8.034.
        // c(4, 10) = [5 + Σ_{d=0}^{5} m(d) G(10 − d)] / M(6) = 8.034111561471644.
        let policy = ss_poisson_exact(1.0, 4.0, 5.0, 6.0, 0.0).unwrap();
        assert_eq!(policy.reorder_point, 4);
        assert_eq!(policy.order_up_to_level, 10);
        assert_close(policy.cost, 8.034_111_561_471_644, 1e-12);
        assert_close(
            ss_poisson_cost(4, 10, 1.0, 4.0, 5.0, 6.0, 0.0).unwrap(),
            policy.cost,
            1e-14,
        );
    }

    #[test]
    fn the_exact_ss_policy_beats_every_neighbour() {
        // A full search over a box around the optimum finds nothing cheaper.
        let policy = ss_poisson_exact(1.0, 4.0, 5.0, 6.0, 0.0).unwrap();
        for s in -2..12 {
            for big_s in (s + 1)..25 {
                let cost = ss_poisson_cost(s, big_s, 1.0, 4.0, 5.0, 6.0, 0.0).unwrap();
                assert!(cost >= policy.cost - 1e-12, "c({s}, {big_s}) = {cost}");
            }
        }
    }

    #[test]
    fn the_renewal_function_matches_its_recursion() {
        let mut model = SsModel::new(1.0, 4.0, 5.0, 6.0, 0.0).unwrap();
        model.ensure(30);
        let pmf: Vec<f64> = (0..40).map(|k| model.period.pmf(k)).collect();
        let expected = brute_force_renewal(&pmf, 30);
        for (j, (&actual, &wanted)) in model.renewal.iter().zip(&expected).enumerate() {
            assert_close(actual, wanted, 1e-13);
            // M(j + 1) − M(j) = m(j).
            assert_close(model.cumulative[j + 1] - model.cumulative[j], wanted, 1e-12);
        }
        // In the long run a cycle of j units lasts j/λ periods: m(j) → 1/λ.
        assert!((model.renewal[29] * 6.0 - 1.0).abs() < 1e-4);
    }

    #[test]
    fn with_no_fixed_cost_the_best_policy_is_base_stock() {
        // K = 0: ordering every period costs nothing extra, so S is the newsvendor level and the
        // cost is G(S*) = 3.570106945770946 (example 4.7's newsvendor).
        let policy = ss_poisson_exact(1.0, 4.0, 0.0, 6.0, 0.0).unwrap();
        assert_eq!(policy.order_up_to_level, 8);
        assert_close(policy.cost, 3.570_106_945_770_946, 1e-12);
    }

    #[test]
    fn ss_power_approximation_matches_example_4_8() {
        // Snyder & Shen example 4.8: h = 0.18, p = 0.70, K = 2.5, D ~ N(50, 8), no lead time.
        // Q = 1.30 · 50^0.494 · (2.5/0.18)^0.506 · (1 + 64/2500)^0.116 = 34.09555…;
        // z = √(34.0956/8 · 0.18/0.70) = 1.046866…;
        // s = 0.973 · 50 + 8 (0.183/1.046866 + 1.063 − 2.192 · 1.046866) = 40.19461695647407;
        // S = s + Q = 74.29017010980579.
        let policy = ss_power_approximation(0.18, 0.70, 2.5, 50.0, 8.0, 0.0).unwrap();
        assert_close(policy.reorder_point, 40.194_616_956_474_07, 1e-12);
        assert_close(policy.order_up_to_level, 74.290_170_109_805_79, 1e-12);
        assert_close(
            policy.order_quantity,
            policy.order_up_to_level - policy.reorder_point,
            1e-12,
        );
    }

    #[test]
    fn a_gap_beyond_the_limit_is_refused_not_computed() {
        let error = ss_poisson_cost(0, 50_000, 1.0, 4.0, 5.0, 6.0, 0.0).unwrap_err();
        assert!(matches!(error, PolicyError::LimitExceeded { .. }));
        // A fixed cost so large that S − s would run to hundreds of thousands of units.
        let error = ss_poisson_exact(1.0, 4.0, 1e12, 6.0, 0.0).unwrap_err();
        assert!(matches!(error, PolicyError::LimitExceeded { .. }));
    }

    #[test]
    fn an_order_up_to_level_at_the_reorder_point_is_refused() {
        assert!(matches!(
            ss_poisson_cost(5, 5, 1.0, 4.0, 5.0, 6.0, 0.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "order_up_to_level",
                ..
            }
        ));
    }

    #[test]
    fn a_zero_mean_has_no_ss_policy() {
        assert!(matches!(
            ss_poisson_exact(1.0, 4.0, 5.0, 0.0, 0.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "demand_mean",
                ..
            }
        ));
        assert!(matches!(
            ss_power_approximation(0.18, 0.7, 2.5, 50.0, 0.0, 0.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "demand_sd",
                ..
            }
        ));
    }
}
