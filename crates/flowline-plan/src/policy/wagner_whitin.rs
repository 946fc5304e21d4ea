//! Dynamic lot sizing (Wagner & Whitin 1958; Snyder & Shen §3.7): known demands `d_1, …, d_T`
//! for `T` periods, a fixed cost `K` for each period in which an order is placed and a holding
//! cost `h` per unit on hand at the end of a period; no backorders, no lead time, no capacity.
//!
//! An optimal plan never orders while stock is left over (the zero-inventory property), so each
//! order covers the demand of a run of consecutive periods `j, …, i` exactly. With `F(i)` the
//! least cost of meeting the first `i` periods (`F(0) = 0`),
//!
//! `F(i) = min_{1 ≤ j ≤ i} F(j − 1) + K·[d_j + … + d_i > 0] + h Σ_{t=j}^{i} (t − j) d_t`,
//!
//! where the last term holds `d_t` for the `t − j` periods between its arrival in period `j` and
//! its use. `F(T)` is the optimal cost, and following the minimising `j` back from `T` gives the
//! orders. The recursion costs `O(T²)`, so the horizon is capped at [`MAX_LOT_SIZING_PERIODS`].

use serde::{Deserialize, Serialize};

use super::{PolicyError, finite_result, non_negative};

/// Longest horizon [`wagner_whitin`] plans: the recursion looks at every pair of periods.
pub const MAX_LOT_SIZING_PERIODS: usize = 10_000;

/// A lot-sizing plan: what to order in each period and what the plan costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotSizingPlan {
    /// The quantity ordered at the start of each period (0 where nothing is ordered), one per
    /// period of demand.
    pub order_quantities: Vec<f64>,
    /// The fixed costs of the orders plus the holding costs of the plan.
    pub total_cost: f64,
}

/// The optimal lot-sizing plan for `demands` (one per period, each finite and at least 0) with
/// `fixed_cost` `K ≥ 0` per order and `holding_cost` `h ≥ 0` per unit per period held.
///
/// Among plans of equal cost the one ordering later (holding less) is returned.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming a cost out of range; [`PolicyError::InvalidElement`]
/// naming the first demand that is negative or not finite; [`PolicyError::LimitExceeded`] when
/// there are more than [`MAX_LOT_SIZING_PERIODS`] periods.
pub fn wagner_whitin(
    fixed_cost: f64,
    holding_cost: f64,
    demands: &[f64],
) -> Result<LotSizingPlan, PolicyError> {
    let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
    let holding_cost = non_negative("holding_cost", holding_cost)?;
    let periods = demands.len();
    if periods > MAX_LOT_SIZING_PERIODS {
        return Err(PolicyError::LimitExceeded {
            field: "demands.len()",
            value: periods as f64,
            limit: MAX_LOT_SIZING_PERIODS as f64,
        });
    }
    for (index, &demand) in demands.iter().enumerate() {
        if !(demand.is_finite() && demand >= 0.0) {
            return Err(PolicyError::InvalidElement {
                field: "demands",
                index,
                value: demand,
                expected: "a finite number of at least 0",
            });
        }
    }

    // best[i] = F(i); first[i] = the period (1-based) whose order covers period i in the best
    // plan for the first i periods.
    let mut best = vec![0.0_f64; periods + 1];
    let mut first = vec![0_usize; periods + 1];
    for i in 1..=periods {
        let mut best_cost = f64::INFINITY;
        let mut best_first = i;
        // Moving the order from j + 1 back to j holds everything in j + 1..=i one more period.
        let mut later_demand = 0.0;
        let mut holding = 0.0;
        let mut quantity = 0.0;
        for j in (1..=i).rev() {
            if j < i {
                later_demand += demands[j];
                holding += holding_cost * later_demand;
            }
            quantity += demands[j - 1];
            let ordering = if quantity > 0.0 { fixed_cost } else { 0.0 };
            let cost = best[j - 1] + ordering + holding;
            if cost < best_cost {
                best_cost = cost;
                best_first = j;
            }
        }
        best[i] = finite_result("Wagner-Whitin", best_cost)?;
        first[i] = best_first;
    }

    let mut order_quantities = vec![0.0; periods];
    let mut last = periods;
    while last > 0 {
        let start = first[last];
        order_quantities[start - 1] = demands[start - 1..last].iter().sum();
        last = start - 1;
    }
    Ok(LotSizingPlan {
        order_quantities,
        total_cost: best[periods],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cost of a plan by simulating it: `K` per period with an order, `h` per unit left at
    /// the end of each period.
    fn simulated_cost(fixed_cost: f64, holding_cost: f64, demands: &[f64], orders: &[f64]) -> f64 {
        let mut stock = 0.0;
        let mut cost = 0.0;
        for (&demand, &order) in demands.iter().zip(orders) {
            if order > 0.0 {
                cost += fixed_cost;
            }
            stock += order - demand;
            assert!(stock >= -1e-9, "the plan runs short");
            cost += holding_cost * stock;
        }
        cost
    }

    #[test]
    fn wagner_whitin_matches_example_3_9() {
        // Snyder & Shen example 3.9: K = 500, h = 2, demands (90, 120, 80, 70).
        // Ordering 210 in period 1 (holding 120 for one period: 240) and 150 in period 3
        // (holding 70 for one period: 140) costs 2 · 500 + 240 + 140 = 1380; ordering all in
        // period 1 costs 500 + 2(270 + 150 + 70) = 1480, ordering every period 2000.
        let plan = wagner_whitin(500.0, 2.0, &[90.0, 120.0, 80.0, 70.0]).unwrap();
        assert_eq!(plan.order_quantities, vec![210.0, 0.0, 150.0, 0.0]);
        assert_eq!(plan.total_cost, 1380.0);
        assert_eq!(
            simulated_cost(
                500.0,
                2.0,
                &[90.0, 120.0, 80.0, 70.0],
                &plan.order_quantities
            ),
            1380.0
        );
    }

    #[test]
    fn the_plan_is_the_cheapest_of_all_plans() {
        // Every plan that orders exactly the demand of runs of periods: 2^(T−1) ways to cut the
        // horizon into runs.
        let demands = [20.0, 0.0, 55.0, 10.0, 80.0, 5.0, 0.0, 40.0];
        let (fixed_cost, holding_cost) = (60.0, 1.5);
        let plan = wagner_whitin(fixed_cost, holding_cost, &demands).unwrap();
        let cuts = demands.len() - 1;
        let mut cheapest = f64::INFINITY;
        for mask in 0..(1_u32 << cuts) {
            let mut orders = vec![0.0; demands.len()];
            let mut start = 0;
            for period in 0..demands.len() {
                let ends_run = period == demands.len() - 1 || mask & (1 << period) != 0;
                if ends_run {
                    orders[start] = demands[start..=period].iter().sum();
                    start = period + 1;
                }
            }
            cheapest = cheapest.min(simulated_cost(fixed_cost, holding_cost, &demands, &orders));
        }
        assert!((plan.total_cost - cheapest).abs() < 1e-9);
        assert!(
            (simulated_cost(fixed_cost, holding_cost, &demands, &plan.order_quantities)
                - plan.total_cost)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn periods_without_demand_cost_nothing() {
        let plan = wagner_whitin(100.0, 1.0, &[0.0, 0.0, 30.0]).unwrap();
        assert_eq!(plan.order_quantities, vec![0.0, 0.0, 30.0]);
        assert_eq!(plan.total_cost, 100.0);
        let empty = wagner_whitin(100.0, 1.0, &[]).unwrap();
        assert!(empty.order_quantities.is_empty());
        assert_eq!(empty.total_cost, 0.0);
    }

    #[test]
    fn a_negative_demand_is_refused_by_position() {
        assert_eq!(
            wagner_whitin(500.0, 2.0, &[90.0, -1.0]).unwrap_err(),
            PolicyError::InvalidElement {
                field: "demands",
                index: 1,
                value: -1.0,
                expected: "a finite number of at least 0",
            }
        );
    }

    #[test]
    fn a_horizon_beyond_the_limit_is_refused_not_computed() {
        let demands = vec![1.0; MAX_LOT_SIZING_PERIODS + 1];
        assert!(matches!(
            wagner_whitin(500.0, 2.0, &demands).unwrap_err(),
            PolicyError::LimitExceeded { .. }
        ));
    }
}
