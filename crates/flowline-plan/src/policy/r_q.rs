//! (r, Q) policies: watch the inventory position continuously; each time it falls to the reorder
//! point `r`, order `Q` units, which arrive after the lead time `L`.
//!
//! Notation (Snyder & Shen chapter 5): demand arrives at `λ` units per unit of time (say per
//! year) with standard deviation `τ` per unit of time; `h` is the holding cost per unit per unit
//! of time, `p` the backorder cost per unit per unit of time, `K` the cost of an order. Demand
//! over the lead time is `N(μ, σ)` with `μ = λL` and `σ = τ√L` for the normal model, or
//! `Poisson(λL)` for the Poisson model.
//!
//! Between orders the position runs uniformly over `r + 1, …, r + Q` (or the interval
//! `(r, r + Q]`), and a position `y` at some moment becomes net stock `y − D_L` one lead time
//! later, costing `G(y) = h E[(y − D_L)⁺] + p E[(D_L − y)⁺] = h(y − μ) + (h + p) n(y)` per unit of
//! time. The exact expected cost per unit of time (eq. 5.7) is therefore
//!
//! `g(r, Q) = [Kλ + ∫_r^{r+Q} G(y) dy] / Q
//!          = h(r − μ + Q/2) + Kλ/Q + (h + p)[n²(r) − n²(r + Q)]/Q`,
//!
//! with `n²` the second-order loss function of lead-time demand, `∫_r^{r+Q} n(y) dy = n²(r) −
//! n²(r + Q)`. For Poisson demand the integral is the sum `Σ_{y=r+1}^{r+Q} G(y)` (eq. 5.48).
//!
//! Besides the exact cost this module offers three classic approximations for normal demand (the
//! expected-inventory-level approximation, EOQ plus safety stock and the loss-function
//! approximation) and the exact optimum for Poisson demand (Federgruen & Zheng 1992).

use serde::{Deserialize, Serialize};

use super::newsvendor::{check_costs, poisson_cost, poisson_demand, poisson_optimum};
use super::{PolicyError, critical_ratio_z, finite, finite_result, non_negative, positive};
use crate::distribution::{MAX_POISSON_MEAN, Normal, Poisson, normal_quantile};

/// Most iterations the iterative approximations take before giving up.
pub const MAX_RQ_ITERATIONS: usize = 1000;

/// Largest order quantity the Poisson (r, Q) computations handle: the cost of a policy is a sum
/// over its `Q` positions, and the optimum is found one unit of `Q` at a time.
pub const MAX_RQ_POISSON_QUANTITY: u64 = 1_000_000;

/// An (r, Q) problem with normally distributed demand.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RqProblem {
    /// `h`, per unit held per unit of time (> 0).
    pub holding_cost: f64,
    /// `p`, per unit backordered per unit of time (> 0).
    pub stockout_cost: f64,
    /// `K`, per order (> 0).
    pub fixed_cost: f64,
    /// `λ`, mean demand per unit of time (> 0).
    pub demand_rate: f64,
    /// `τ`, standard deviation of demand per unit of time (≥ 0); over a span `t` it is `τ√t`.
    pub demand_sd: f64,
    /// `L`, the lead time in the same unit of time (≥ 0).
    pub lead_time: f64,
}

/// A (r, Q) policy for normal demand and its exact expected cost per unit of time `g(r, Q)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RqPolicy {
    /// The reorder point `r`.
    pub reorder_point: f64,
    /// The order quantity `Q`.
    pub order_quantity: f64,
    /// The exact expected cost per unit of time of this policy, `g(r, Q)` (eq. 5.7).
    pub expected_cost: f64,
}

/// The policy of the expected-inventory-level approximation, with the approximation's own cost
/// and the exact one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EilPolicy {
    /// The reorder point `r`.
    pub reorder_point: f64,
    /// The order quantity `Q`.
    pub order_quantity: f64,
    /// The cost the approximation minimises, `h(r − μ + Q/2) + Kλ/Q + pλ n(r)/Q`.
    pub approximate_cost: f64,
    /// The exact expected cost of the same policy, `g(r, Q)`.
    pub expected_cost: f64,
}

/// An (r, Q) problem with Poisson demand.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RqPoissonProblem {
    /// `h`, per unit held per unit of time (> 0).
    pub holding_cost: f64,
    /// `p`, per unit backordered per unit of time (> 0).
    pub stockout_cost: f64,
    /// `K`, per order (> 0).
    pub fixed_cost: f64,
    /// `λ`, mean demand per unit of time (> 0); demand is Poisson.
    pub demand_rate: f64,
    /// `L`, the lead time in the same unit of time (≥ 0); lead-time demand is `Poisson(λL)`,
    /// with `λL` at most 10⁷.
    pub lead_time: f64,
}

/// A (r, Q) policy for Poisson demand and its expected cost per unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RqPoissonPolicy {
    /// The reorder point `r`: order when the position falls to `r`.
    pub reorder_point: i64,
    /// The order quantity `Q`.
    pub order_quantity: u64,
    /// The expected cost per unit of time, `g(r, Q)` (eq. 5.48).
    pub cost: f64,
}

/// A checked normal (r, Q) problem.
struct NormalModel {
    holding_cost: f64,
    stockout_cost: f64,
    fixed_cost: f64,
    demand_rate: f64,
    /// Demand over the lead time, `N(λL, τ√L)`.
    lead_time_demand: Normal,
}

impl NormalModel {
    fn new(problem: &RqProblem) -> Result<Self, PolicyError> {
        check_costs(problem.holding_cost, problem.stockout_cost)?;
        let fixed_cost = positive("fixed_cost", problem.fixed_cost)?;
        let demand_rate = positive("demand_rate", problem.demand_rate)?;
        let demand_sd = non_negative("demand_sd", problem.demand_sd)?;
        let lead_time = non_negative("lead_time", problem.lead_time)?;
        let mean = finite_result("(r, Q)", demand_rate * lead_time)?;
        let sd = finite_result("(r, Q)", demand_sd * lead_time.sqrt())?;
        Ok(Self {
            holding_cost: problem.holding_cost,
            stockout_cost: problem.stockout_cost,
            fixed_cost,
            demand_rate,
            lead_time_demand: Normal::new(mean, sd)?,
        })
    }

    /// `g(r, Q) = h(r − μ + Q/2) + Kλ/Q + (h + p)[n²(r) − n²(r + Q)]/Q`.
    fn cost(&self, reorder_point: f64, order_quantity: f64) -> Result<f64, PolicyError> {
        let demand = &self.lead_time_demand;
        let shortfall = demand.second_order_loss(reorder_point)
            - demand.second_order_loss(reorder_point + order_quantity);
        finite_result(
            "(r, Q) cost",
            self.holding_cost * (reorder_point - demand.mean() + order_quantity / 2.0)
                + self.fixed_cost * self.demand_rate / order_quantity
                + (self.holding_cost + self.stockout_cost) * shortfall / order_quantity,
        )
    }

    /// The EOQ `√(2Kλ/h)`, the usual starting quantity.
    fn eoq(&self) -> Result<f64, PolicyError> {
        finite_result(
            "(r, Q)",
            (2.0 * self.fixed_cost * self.demand_rate / self.holding_cost).sqrt(),
        )
    }

    fn policy(&self, reorder_point: f64, order_quantity: f64) -> Result<RqPolicy, PolicyError> {
        Ok(RqPolicy {
            reorder_point,
            order_quantity,
            expected_cost: self.cost(reorder_point, order_quantity)?,
        })
    }
}

/// Whether two successive iterates agree to about ten significant digits.
fn settled(previous: f64, next: f64) -> bool {
    (next - previous).abs() <= 1e-12 * next.abs().max(1.0)
}

/// The exact expected cost per unit of time `g(r, Q)` of the policy (`reorder_point`,
/// `order_quantity`) under normal demand (eq. 5.7).
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range (`order_quantity` must be positive,
/// `reorder_point` finite).
pub fn rq_cost(
    problem: &RqProblem,
    reorder_point: f64,
    order_quantity: f64,
) -> Result<f64, PolicyError> {
    let model = NormalModel::new(problem)?;
    let reorder_point = finite("reorder_point", reorder_point)?;
    let order_quantity = positive("order_quantity", order_quantity)?;
    model.cost(reorder_point, order_quantity)
}

/// The expected-inventory-level (EIL) approximation (Hadley & Whitin 1963; Snyder & Shen
/// algorithm 5.1).
///
/// It prices stockouts per unit short (`p` once per unit, `λ/Q` cycles per unit of time) and
/// holding on the average net stock, `ĝ(r, Q) = h(r − μ + Q/2) + Kλ/Q + pλ n(r)/Q`, whose first
/// order conditions are
///
/// `r = F⁻¹(1 − Qh/(pλ))` and `Q = √(2λ[K + p n(r)]/h)`.
///
/// Starting from the EOQ, the two are applied in turn until both settle (at most
/// [`MAX_RQ_ITERATIONS`] rounds).
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::NoSolution`] when an
/// iterate has `Qh ≥ pλ` (holding one cycle's stock costs more than the shortfall it avoids, and
/// the approximation has no reorder point) or the iteration does not settle.
pub fn rq_eil_approximation(problem: &RqProblem) -> Result<EilPolicy, PolicyError> {
    const METHOD: &str = "(r, Q) EIL approximation";
    let model = NormalModel::new(problem)?;
    let demand = model.lead_time_demand;
    let (h, p, k, lambda) = (
        model.holding_cost,
        model.stockout_cost,
        model.fixed_cost,
        model.demand_rate,
    );
    let mut quantity = model.eoq()?;
    let mut reorder = f64::NAN;
    for _ in 0..MAX_RQ_ITERATIONS {
        let ratio = quantity * h / (p * lambda);
        // r = μ + σ Φ⁻¹(1 − ratio) = μ − σ Φ⁻¹(ratio), exact for tiny ratios.
        let z = normal_quantile(ratio).map_err(|_| PolicyError::NoSolution {
            method: METHOD,
            reason: "Qh/(pλ) is not below 1: the order quantity's holding cost exceeds the \
                     stockout cost it avoids",
        })?;
        let next_reorder = demand.mean() - demand.sd() * z;
        let next_quantity = finite_result(
            METHOD,
            (2.0 * lambda * (k + p * demand.loss(next_reorder)) / h).sqrt(),
        )?;
        let done = settled(reorder, next_reorder) && settled(quantity, next_quantity);
        reorder = next_reorder;
        quantity = next_quantity;
        if done {
            let approximate_cost = finite_result(
                METHOD,
                h * (reorder - demand.mean() + quantity / 2.0)
                    + k * lambda / quantity
                    + p * lambda * demand.loss(reorder) / quantity,
            )?;
            return Ok(EilPolicy {
                reorder_point: reorder,
                order_quantity: quantity,
                approximate_cost,
                expected_cost: model.cost(reorder, quantity)?,
            });
        }
    }
    Err(PolicyError::NoSolution {
        method: METHOD,
        reason: "the iteration did not settle within 1000 rounds",
    })
}

/// EOQ plus safety stock: `Q` is the EOQ `√(2Kλ/h)` and `r` the newsvendor level of lead-time
/// demand, `r = μ + σ Φ⁻¹(p/(p + h))` (Snyder & Shen §5.3), each chosen as if the other did not
/// matter.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::NoSolution`] when
/// `p/(p + h)` is too close to 0 or 1.
pub fn rq_eoq_plus_safety_stock(problem: &RqProblem) -> Result<RqPolicy, PolicyError> {
    let model = NormalModel::new(problem)?;
    let quantity = model.eoq()?;
    let z = critical_ratio_z(
        "(r, Q) EOQ plus safety stock",
        model.holding_cost,
        model.stockout_cost,
    )?;
    let demand = model.lead_time_demand;
    model.policy(demand.mean() + demand.sd() * z, quantity)
}

/// The loss-function approximation (Hadley & Whitin 1963; Snyder & Shen §5.2.3): the first-order
/// conditions of `g(r, Q)` with the term `n²(r + Q)` dropped (small when `Q` is large against the
/// spread of lead-time demand),
///
/// `n(r) = hQ/(h + p)` and `Q = √(2[Kλ + (h + p) n²(r)]/h)`,
///
/// applied in turn from the EOQ until both settle (at most [`MAX_RQ_ITERATIONS`] rounds).
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::NoSolution`] when
/// the iteration does not settle.
pub fn rq_loss_function_approximation(problem: &RqProblem) -> Result<RqPolicy, PolicyError> {
    const METHOD: &str = "(r, Q) loss-function approximation";
    let model = NormalModel::new(problem)?;
    let demand = model.lead_time_demand;
    let (h, p, k, lambda) = (
        model.holding_cost,
        model.stockout_cost,
        model.fixed_cost,
        model.demand_rate,
    );
    let mut quantity = model.eoq()?;
    let mut reorder = f64::NAN;
    for _ in 0..MAX_RQ_ITERATIONS {
        let next_reorder = demand.loss_inverse(h * quantity / (h + p))?;
        let next_quantity = finite_result(
            METHOD,
            (2.0 * (k * lambda + (h + p) * demand.second_order_loss(next_reorder)) / h).sqrt(),
        )?;
        let done = settled(reorder, next_reorder) && settled(quantity, next_quantity);
        reorder = next_reorder;
        quantity = next_quantity;
        if done {
            return model.policy(reorder, quantity);
        }
    }
    Err(PolicyError::NoSolution {
        method: METHOD,
        reason: "the iteration did not settle within 1000 rounds",
    })
}

/// A checked Poisson (r, Q) problem.
struct PoissonModel {
    holding_cost: f64,
    stockout_cost: f64,
    /// `Kλ`, the ordering cost per unit of time times `Q`.
    ordering: f64,
    lead_time_demand: Poisson,
}

impl PoissonModel {
    fn new(problem: &RqPoissonProblem) -> Result<Self, PolicyError> {
        check_costs(problem.holding_cost, problem.stockout_cost)?;
        let fixed_cost = positive("fixed_cost", problem.fixed_cost)?;
        let demand_rate = positive("demand_rate", problem.demand_rate)?;
        let lead_time = non_negative("lead_time", problem.lead_time)?;
        let mean = demand_rate * lead_time;
        if mean > MAX_POISSON_MEAN {
            return Err(PolicyError::OutOfRange {
                field: "demand_rate",
                value: demand_rate,
                expected: "at most 1e7 units over the lead time",
            });
        }
        Ok(Self {
            holding_cost: problem.holding_cost,
            stockout_cost: problem.stockout_cost,
            ordering: finite_result("(r, Q) Poisson", fixed_cost * demand_rate)?,
            lead_time_demand: poisson_demand("demand_rate", mean)?,
        })
    }

    fn g(&self, level: i64) -> f64 {
        poisson_cost(
            &self.lead_time_demand,
            level,
            self.holding_cost,
            self.stockout_cost,
        )
    }

    /// `[Kλ + Σ_{y=r+1}^{r+Q} G(y)] / Q`.
    fn cost(&self, reorder_point: i64, order_quantity: u64) -> Result<f64, PolicyError> {
        let mut total = self.ordering;
        let mut level = reorder_point;
        for _ in 0..order_quantity {
            level = level.saturating_add(1);
            total += self.g(level);
        }
        finite_result("(r, Q) Poisson cost", total / order_quantity as f64)
    }
}

/// The expected cost per unit of time `g(r, Q) = [Kλ + Σ_{y=r+1}^{r+Q} G(y)] / Q` of the policy
/// (`reorder_point`, `order_quantity`) under Poisson demand (eq. 5.48).
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range (`order_quantity` must be at least
/// 1); [`PolicyError::LimitExceeded`] when it exceeds [`MAX_RQ_POISSON_QUANTITY`].
pub fn rq_poisson_cost(
    problem: &RqPoissonProblem,
    reorder_point: i64,
    order_quantity: u64,
) -> Result<f64, PolicyError> {
    let model = PoissonModel::new(problem)?;
    if order_quantity == 0 {
        return Err(PolicyError::OutOfRange {
            field: "order_quantity",
            value: 0.0,
            expected: "at least 1",
        });
    }
    if order_quantity > MAX_RQ_POISSON_QUANTITY {
        return Err(PolicyError::LimitExceeded {
            field: "order_quantity",
            value: order_quantity as f64,
            limit: MAX_RQ_POISSON_QUANTITY as f64,
        });
    }
    model.cost(reorder_point, order_quantity)
}

/// The optimal (r, Q) policy for Poisson demand (Federgruen & Zheng 1992).
///
/// The best `Q` positions `r + 1, …, r + Q` for a given `Q` are the `Q` smallest values of the
/// convex `G`: a contiguous window around the newsvendor level `S*` (the smallest `S` with
/// `F(S) ≥ p/(p + h)`). Starting from the window `{S*}` (`Q = 1`, `r = S* − 1`), each step widens
/// it by the cheaper of its two neighbours `G(r)` and `G(r + Q + 1)`, and the search stops at the
/// first `Q` whose cost `g(r(Q), Q)` exceeds the previous one (the optimal costs are unimodal in
/// `Q`). `Q` is capped at [`MAX_RQ_POISSON_QUANTITY`].
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input out of range; [`PolicyError::LimitExceeded`] when
/// the optimal `Q` would exceed [`MAX_RQ_POISSON_QUANTITY`].
pub fn rq_poisson_exact(problem: &RqPoissonProblem) -> Result<RqPoissonPolicy, PolicyError> {
    let model = PoissonModel::new(problem)?;
    let newsvendor = poisson_optimum(
        &model.lead_time_demand,
        model.holding_cost,
        model.stockout_cost,
    )?;
    let mut reorder = newsvendor - 1;
    let mut quantity: u64 = 1;
    let mut window = model.g(newsvendor);
    let mut cost = model.ordering + window;
    loop {
        if quantity >= MAX_RQ_POISSON_QUANTITY {
            return Err(PolicyError::LimitExceeded {
                field: "order_quantity",
                value: quantity as f64,
                limit: MAX_RQ_POISSON_QUANTITY as f64,
            });
        }
        let below = model.g(reorder);
        let above_level = reorder
            .saturating_add(i64::try_from(quantity).unwrap_or(i64::MAX))
            .saturating_add(1);
        let above = model.g(above_level);
        let (next_reorder, added) = if below < above {
            (reorder - 1, below)
        } else {
            (reorder, above)
        };
        let next_window = window + added;
        let next_cost = (model.ordering + next_window) / (quantity + 1) as f64;
        if next_cost > cost {
            break;
        }
        reorder = next_reorder;
        quantity += 1;
        window = next_window;
        cost = next_cost;
    }
    Ok(RqPoissonPolicy {
        reorder_point: reorder,
        order_quantity: quantity,
        cost: model.cost(reorder, quantity)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    /// Snyder & Shen example 5.1: h = 0.225, p = 7.5, K = 8 per order, λ = 1300 per year with
    /// τ = 150 per year, L = 1/12 year. Lead-time demand is N(1300/12 = 108.333…,
    /// 150/√12 = 43.30127…).
    fn example_5_1() -> RqProblem {
        RqProblem {
            holding_cost: 0.225,
            stockout_cost: 7.5,
            fixed_cost: 8.0,
            demand_rate: 1300.0,
            demand_sd: 150.0,
            lead_time: 1.0 / 12.0,
        }
    }

    /// `∫_r^{r+Q} G(y) dy` by Simpson's rule, for checking the closed form of `g(r, Q)`.
    fn integrated_cost(problem: &RqProblem, reorder_point: f64, order_quantity: f64) -> f64 {
        let demand = Normal::new(
            problem.demand_rate * problem.lead_time,
            problem.demand_sd * problem.lead_time.sqrt(),
        )
        .unwrap();
        let g = |y: f64| {
            problem.holding_cost * demand.complementary_loss(y)
                + problem.stockout_cost * demand.loss(y)
        };
        let steps = 20_000;
        let width = order_quantity / f64::from(steps);
        let mut sum = g(reorder_point) + g(reorder_point + order_quantity);
        for i in 1..steps {
            let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += weight * g(reorder_point + width * f64::from(i));
        }
        let integral = sum * width / 3.0;
        (problem.fixed_cost * problem.demand_rate + integral) / order_quantity
    }

    #[test]
    fn rq_cost_matches_example_5_1() {
        // g(126.8, 328.5) = h(r − μ + Q/2) + Kλ/Q + (h + p)[n²(r) − n²(r + Q)]/Q
        // = 0.225 (126.8 − 108.333 + 164.25) + 10400/328.5 + 7.725 · [n²(126.8) − n²(455.3)]/328.5
        // = 41.11125 + 31.65906 + 5.30086 = 78.07116250928294.
        let problem = example_5_1();
        let cost = rq_cost(&problem, 126.8, 328.5).unwrap();
        assert_close(cost, 78.071_162_509_282_94, 1e-12);
        // The closed form agrees with integrating G numerically.
        assert_close(cost, integrated_cost(&problem, 126.8, 328.5), 1e-10);
    }

    #[test]
    fn rq_eil_approximation_matches_example_5_2() {
        // Iterating r = μ + σ Φ⁻¹(1 − 0.225 Q/(7.5 · 1300)) and
        // Q = √(2 · 1300 (8 + 7.5 n(r))/0.225) from Q = EOQ = 304.05 settles at
        // r = 213.9704421358024, Q = 318.5901810768729, where
        // ĝ = 0.225 (r − 108.333 + Q/2) + 10400/Q + 9750 n(r)/Q = 95.45114022285196.
        // The reference values come from an iteration stopped once both moved less than 1e−6;
        // this one runs to 1e−12, and the two agree to 1e−8 (5e−11 relative).
        let policy = rq_eil_approximation(&example_5_1()).unwrap();
        assert_close(policy.reorder_point, 213.970_442_135_802_4, 1e-9);
        assert_close(policy.order_quantity, 318.590_181_076_872_9, 1e-9);
        assert_close(policy.approximate_cost, 95.451_140_222_851_96, 1e-12);
        // The fixed point satisfies both conditions.
        let demand = Normal::new(1300.0 / 12.0, 150.0 / 12.0_f64.sqrt()).unwrap();
        let q = (2.0 * 1300.0 * (8.0 + 7.5 * demand.loss(policy.reorder_point)) / 0.225).sqrt();
        assert_close(policy.order_quantity, q, 1e-10);
        // Its exact cost is what rq_cost says.
        assert_close(
            policy.expected_cost,
            rq_cost(&example_5_1(), policy.reorder_point, policy.order_quantity).unwrap(),
            1e-14,
        );
    }

    #[test]
    fn rq_eoq_plus_safety_stock_matches_example_5_5() {
        // Q = EOQ = √(2 · 8 · 1300/0.225) = 304.0467800264368;
        // r = 108.333 + 43.30127 · Φ⁻¹(7.5/7.725) = 108.333 + 43.30127 · 1.893793 =
        // 190.3369965715624.
        let policy = rq_eoq_plus_safety_stock(&example_5_1()).unwrap();
        assert_close(policy.reorder_point, 190.336_996_571_562_4, 1e-12);
        assert_close(policy.order_quantity, 304.046_780_026_436_8, 1e-12);
    }

    #[test]
    fn rq_loss_function_approximation_matches_example_5_6() {
        // Iterating n(r) = 0.225 Q/7.725 and Q = √(2[10400 + 7.725 n²(r)]/0.225) from the EOQ
        // settles at r = 126.867063368, Q = 328.449142278; the reference values
        // r = 126.8670642878315, Q = 328.4491413581765 are those of an iteration stopped once
        // both moved less than 1e−6, 9.2e−7 away (relative 7e−9), hence the tolerance of 1e−5.
        let policy = rq_loss_function_approximation(&example_5_1()).unwrap();
        assert_close(policy.reorder_point, 126.867_064_287_831_5, 1e-5);
        assert_close(policy.order_quantity, 328.449_141_358_176_5, 1e-5);
        // The policy is close to the exact policy of example 5.1, whose cost is 78.07.
        assert!(policy.expected_cost < 78.072);
    }

    #[test]
    fn the_loss_function_approximation_satisfies_its_conditions() {
        let policy = rq_loss_function_approximation(&example_5_1()).unwrap();
        let demand = Normal::new(1300.0 / 12.0, 150.0 / 12.0_f64.sqrt()).unwrap();
        assert_close(
            demand.loss(policy.reorder_point),
            0.225 * policy.order_quantity / 7.725,
            1e-10,
        );
    }

    /// Snyder & Shen example 5.8: h = 20, p = 150, K = 100, λ = 1.5 per period, L = 2 periods:
    /// lead-time demand is Poisson(3).
    fn example_5_8() -> RqPoissonProblem {
        RqPoissonProblem {
            holding_cost: 20.0,
            stockout_cost: 150.0,
            fixed_cost: 100.0,
            demand_rate: 1.5,
            lead_time: 2.0,
        }
    }

    #[test]
    fn rq_poisson_exact_matches_example_5_8() {
        // S* = 5 (F(4) = 0.815 < 150/170 = 0.882 ≤ F(5) = 0.916); widening the window of
        // positions around 5 by the cheaper neighbour gives r = 3, Q = 5 (positions 4…8) with
        // g = [100 · 1.5 + Σ_{y=4}^{8} G(y)]/5 = 107.9235806331498; Q = 6 costs more.
        let policy = rq_poisson_exact(&example_5_8()).unwrap();
        assert_eq!(policy.reorder_point, 3);
        assert_eq!(policy.order_quantity, 5);
        assert_close(policy.cost, 107.923_580_633_149_8, 1e-12);
        assert_close(
            rq_poisson_cost(&example_5_8(), 3, 5).unwrap(),
            policy.cost,
            1e-14,
        );
    }

    #[test]
    fn the_poisson_optimum_beats_every_policy_nearby() {
        let best = rq_poisson_exact(&example_5_8()).unwrap();
        for r in -3..10 {
            for q in 1..20 {
                let cost = rq_poisson_cost(&example_5_8(), r, q).unwrap();
                assert!(cost >= best.cost - 1e-12, "g({r}, {q}) = {cost}");
            }
        }
    }

    #[test]
    fn a_lead_time_of_zero_needs_no_safety_stock() {
        // With L = 0 lead-time demand is 0 for sure: r = 0 and no backorders ever occur.
        let problem = RqProblem {
            lead_time: 0.0,
            ..example_5_1()
        };
        let policy = rq_eoq_plus_safety_stock(&problem).unwrap();
        assert_eq!(policy.reorder_point, 0.0);
        // g(0, Q*) = h Q/2 + Kλ/Q, the EOQ's cost.
        assert_close(policy.expected_cost, 68.410_525_505_948_27, 1e-12);
    }

    #[test]
    fn a_zero_order_quantity_has_no_rq_cost() {
        assert!(matches!(
            rq_cost(&example_5_1(), 100.0, 0.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "order_quantity",
                ..
            }
        ));
        assert!(matches!(
            rq_poisson_cost(&example_5_8(), 3, 0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "order_quantity",
                ..
            }
        ));
    }

    #[test]
    fn an_eil_problem_where_holding_a_cycle_outweighs_stockouts_has_no_solution() {
        // Qh/(pλ) = 304 · 0.225/(0.001 · 1300) > 1.
        let problem = RqProblem {
            stockout_cost: 0.001,
            ..example_5_1()
        };
        assert!(matches!(
            rq_eil_approximation(&problem).unwrap_err(),
            PolicyError::NoSolution { .. }
        ));
    }

    #[test]
    fn a_negative_demand_sd_is_refused() {
        let problem = RqProblem {
            demand_sd: -150.0,
            ..example_5_1()
        };
        assert!(matches!(
            rq_eil_approximation(&problem).unwrap_err(),
            PolicyError::OutOfRange {
                field: "demand_sd",
                ..
            }
        ));
    }

    #[test]
    fn an_absurd_poisson_order_quantity_is_refused_not_computed() {
        let error = rq_poisson_cost(&example_5_8(), 3, 10_000_000).unwrap_err();
        assert!(matches!(error, PolicyError::LimitExceeded { .. }));
        // A fixed cost whose optimal Q runs to tens of millions.
        let problem = RqPoissonProblem {
            fixed_cost: 1e15,
            ..example_5_8()
        };
        assert!(matches!(
            rq_poisson_exact(&problem).unwrap_err(),
            PolicyError::LimitExceeded { .. }
        ));
    }
}
