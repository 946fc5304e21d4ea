//! Order quantities for a steady, known demand: the economic order quantity (EOQ), the EOQ with
//! planned backorders and the economic production quantity (EPQ).
//!
//! Demand arrives at a constant rate `D` units per unit of time (say per year). Each order costs
//! `K` however large it is, and each unit in stock costs `h` per unit of time. Ordering `Q` at a
//! time means `D/Q` orders per year and an average stock of `Q/2`, so the cost per year is
//!
//! `g(Q) = K D / Q + h Q / 2`,
//!
//! smallest at `Q* = √(2KD/h)` where the two terms are equal and `g(Q*) = √(2KDh) = h Q*`
//! (Snyder & Shen §3.2). The cost is flat near the optimum: ordering 20% too much costs under 2%
//! more, which is why rounding the quantity (see [`super::rounding`]) is cheap.
//!
//! With planned backorders (§3.5) a fraction `x` of each cycle's demand waits for the next order
//! at `p` per unit per year of waiting: `g(Q, x) = h Q (1 − x)²/2 + p Q x²/2 + K D / Q`, smallest
//! at `x* = h/(h + p)` and `Q* = √(2KD(h + p)/(hp))`.
//!
//! When the order is produced at a finite rate `P > D` rather than delivered at once (§3.6), stock
//! builds up at `P − D` during a run and peaks at `Q(1 − ρ)` with `ρ = D/P`:
//! `g(Q) = K D / Q + h (1 − ρ) Q / 2`, `Q* = √(2KD/(h(1 − ρ)))`.

use serde::{Deserialize, Serialize};

use super::{PolicyError, finite_result, non_negative, positive};

/// An order quantity and its cost per unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Eoq {
    /// The quantity ordered (or produced) each time, `Q`.
    pub quantity: f64,
    /// The ordering and holding cost per unit of time at that quantity.
    pub cost: f64,
}

/// An order quantity with planned backorders and its cost per unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EoqWithBackorders {
    /// The quantity ordered each time, `Q`.
    pub quantity: f64,
    /// The fraction `x` of each cycle's demand that is backordered.
    pub stockout_fraction: f64,
    /// The ordering, holding and backorder cost per unit of time.
    pub cost: f64,
}

/// The economic order quantity `Q* = √(2KD/h)` and its cost `√(2KDh)` per unit of time.
///
/// `fixed_cost` `K ≥ 0` per order, `holding_cost` `h > 0` per unit per unit of time,
/// `demand_rate` `D ≥ 0` units per unit of time.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input that is negative, zero where it must be positive
/// (`holding_cost`), NaN or infinite.
pub fn eoq(fixed_cost: f64, holding_cost: f64, demand_rate: f64) -> Result<Eoq, PolicyError> {
    let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
    let holding_cost = positive("holding_cost", holding_cost)?;
    let demand_rate = non_negative("demand_rate", demand_rate)?;
    let quantity = finite_result(
        "EOQ",
        (2.0 * fixed_cost / holding_cost).sqrt() * demand_rate.sqrt(),
    )?;
    let cost = finite_result(
        "EOQ",
        (2.0 * fixed_cost * holding_cost).sqrt() * demand_rate.sqrt(),
    )?;
    Ok(Eoq { quantity, cost })
}

/// The cost per unit of time `K D / Q + h Q / 2` of ordering `order_quantity` `Q > 0` at a time.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] as for [`eoq`], or naming `order_quantity` unless it is positive
/// and finite.
pub fn eoq_cost(
    fixed_cost: f64,
    holding_cost: f64,
    demand_rate: f64,
    order_quantity: f64,
) -> Result<f64, PolicyError> {
    let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
    let holding_cost = positive("holding_cost", holding_cost)?;
    let demand_rate = non_negative("demand_rate", demand_rate)?;
    let quantity = positive("order_quantity", order_quantity)?;
    finite_result(
        "EOQ cost",
        fixed_cost * demand_rate / quantity + holding_cost * quantity / 2.0,
    )
}

/// The EOQ with planned backorders: `Q* = √(2KD(h + p)/(hp))`, stockout fraction
/// `x* = h/(h + p)` and cost `√(2KDhp/(h + p))` per unit of time.
///
/// `stockout_cost` `p > 0` is the cost of one unit backordered for one unit of time.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming the input that is negative, zero where it must be positive
/// (`holding_cost`, `stockout_cost`), NaN or infinite.
pub fn eoq_with_backorders(
    fixed_cost: f64,
    holding_cost: f64,
    stockout_cost: f64,
    demand_rate: f64,
) -> Result<EoqWithBackorders, PolicyError> {
    let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
    let holding_cost = positive("holding_cost", holding_cost)?;
    let stockout_cost = positive("stockout_cost", stockout_cost)?;
    let demand_rate = non_negative("demand_rate", demand_rate)?;
    let total = holding_cost + stockout_cost;
    // (h + p)/(hp) = 1/h + 1/p and hp/(h + p) = 1/(1/h + 1/p), computed without overflow.
    let inverse_sum = 1.0 / holding_cost + 1.0 / stockout_cost;
    let quantity = finite_result(
        "EOQ with backorders",
        (2.0 * fixed_cost * inverse_sum).sqrt() * demand_rate.sqrt(),
    )?;
    let cost = finite_result(
        "EOQ with backorders",
        (2.0 * fixed_cost / inverse_sum).sqrt() * demand_rate.sqrt(),
    )?;
    Ok(EoqWithBackorders {
        quantity,
        stockout_fraction: holding_cost / total,
        cost,
    })
}

/// The cost per unit of time `h Q (1 − x)²/2 + p Q x²/2 + K D / Q` of ordering `order_quantity`
/// `Q > 0` at a time with a fraction `stockout_fraction` `x` (between 0 and 1) of demand
/// backordered.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] as for [`eoq_with_backorders`], or naming `order_quantity` or
/// `stockout_fraction` when out of range.
pub fn eoq_with_backorders_cost(
    fixed_cost: f64,
    holding_cost: f64,
    stockout_cost: f64,
    demand_rate: f64,
    order_quantity: f64,
    stockout_fraction: f64,
) -> Result<f64, PolicyError> {
    let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
    let holding_cost = positive("holding_cost", holding_cost)?;
    let stockout_cost = positive("stockout_cost", stockout_cost)?;
    let demand_rate = non_negative("demand_rate", demand_rate)?;
    let quantity = positive("order_quantity", order_quantity)?;
    if !(0.0..=1.0).contains(&stockout_fraction) {
        return Err(PolicyError::OutOfRange {
            field: "stockout_fraction",
            value: stockout_fraction,
            expected: "between 0 and 1",
        });
    }
    let x = stockout_fraction;
    finite_result(
        "EOQ with backorders cost",
        holding_cost * quantity * (1.0 - x) * (1.0 - x) / 2.0
            + stockout_cost * quantity * x * x / 2.0
            + fixed_cost * demand_rate / quantity,
    )
}

/// Checks the EPQ's inputs and returns `(K, h, D, 1 − ρ)`.
fn epq_inputs(
    fixed_cost: f64,
    holding_cost: f64,
    demand_rate: f64,
    production_rate: f64,
) -> Result<(f64, f64, f64, f64), PolicyError> {
    let fixed_cost = non_negative("fixed_cost", fixed_cost)?;
    let holding_cost = positive("holding_cost", holding_cost)?;
    let demand_rate = non_negative("demand_rate", demand_rate)?;
    let production_rate = positive("production_rate", production_rate)?;
    if production_rate <= demand_rate {
        return Err(PolicyError::OutOfRange {
            field: "production_rate",
            value: production_rate,
            expected: "greater than demand_rate",
        });
    }
    Ok((
        fixed_cost,
        holding_cost,
        demand_rate,
        1.0 - demand_rate / production_rate,
    ))
}

/// The economic production quantity `Q* = √(2KD/(h(1 − ρ)))`, `ρ = D/P`, and its cost
/// `√(2KDh(1 − ρ))` per unit of time.
///
/// `production_rate` `P` units per unit of time must exceed the demand rate `D`.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] as for [`eoq`], or naming `production_rate` unless it is finite
/// and greater than `demand_rate`.
pub fn epq(
    fixed_cost: f64,
    holding_cost: f64,
    demand_rate: f64,
    production_rate: f64,
) -> Result<Eoq, PolicyError> {
    let (fixed_cost, holding_cost, demand_rate, idle) =
        epq_inputs(fixed_cost, holding_cost, demand_rate, production_rate)?;
    let effective_holding = holding_cost * idle;
    let quantity = finite_result(
        "EPQ",
        (2.0 * fixed_cost / effective_holding).sqrt() * demand_rate.sqrt(),
    )?;
    let cost = finite_result(
        "EPQ",
        (2.0 * fixed_cost * effective_holding).sqrt() * demand_rate.sqrt(),
    )?;
    Ok(Eoq { quantity, cost })
}

/// The cost per unit of time `K D / Q + h (1 − ρ) Q / 2` of producing `order_quantity` `Q > 0`
/// per run.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] as for [`epq`], or naming `order_quantity` unless it is positive
/// and finite.
pub fn epq_cost(
    fixed_cost: f64,
    holding_cost: f64,
    demand_rate: f64,
    production_rate: f64,
    order_quantity: f64,
) -> Result<f64, PolicyError> {
    let (fixed_cost, holding_cost, demand_rate, idle) =
        epq_inputs(fixed_cost, holding_cost, demand_rate, production_rate)?;
    let quantity = positive("order_quantity", order_quantity)?;
    finite_result(
        "EPQ cost",
        fixed_cost * demand_rate / quantity + holding_cost * idle * quantity / 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::assert_close;

    #[test]
    fn eoq_matches_example_3_1() {
        // Snyder & Shen example 3.1: K = 8, h = 0.225, D = 1300.
        // Q* = √(2 · 8 · 1300 / 0.225) = √92444.44… = 304.0467800264368;
        // g* = √(2 · 8 · 1300 · 0.225) = √4680 = 68.41052550594827.
        let optimum = eoq(8.0, 0.225, 1300.0).unwrap();
        assert_close(optimum.quantity, 304.046_780_026_436_8, 1e-12);
        assert_close(optimum.cost, 68.410_525_505_948_27, 1e-12);
        // At the optimum the ordering and holding terms are equal: g(Q*) = h Q*.
        assert_close(optimum.cost, 0.225 * optimum.quantity, 1e-12);
    }

    #[test]
    fn eoq_cost_at_250_matches_example_3_1() {
        // g(250) = 8 · 1300 / 250 + 0.225 · 250 / 2 = 41.6 + 28.125 = 69.725.
        assert_close(eoq_cost(8.0, 0.225, 1300.0, 250.0).unwrap(), 69.725, 1e-12);
    }

    #[test]
    fn eoq_with_backorders_matches_example_3_8() {
        // Snyder & Shen example 3.8: K = 8, h = 0.225, p = 5, D = 1300.
        // Q* = √(2 · 8 · 1300 · 5.225 / (0.225 · 5)) = √96604.44… = 310.8125551589646;
        // x* = 0.225 / 5.225 = 0.043062200956938;
        // g* = √(2 · 8 · 1300 · 0.225 · 5 / 5.225) = √4478.47 = 66.92136355097325.
        let optimum = eoq_with_backorders(8.0, 0.225, 5.0, 1300.0).unwrap();
        assert_close(optimum.quantity, 310.812_555_158_964_6, 1e-12);
        assert_close(optimum.stockout_fraction, 0.043_062_200_956_938, 1e-12);
        assert_close(optimum.cost, 66.921_363_550_973_25, 1e-12);
        // The cost function agrees at the optimum.
        let cost = eoq_with_backorders_cost(
            8.0,
            0.225,
            5.0,
            1300.0,
            optimum.quantity,
            optimum.stockout_fraction,
        )
        .unwrap();
        assert_close(cost, optimum.cost, 1e-12);
    }

    #[test]
    fn epq_matches_example_3_1_with_a_production_rate_of_2000() {
        // ρ = 1300/2000 = 0.65, so 1 − ρ = 0.35:
        // Q* = √(2 · 8 · 1300 / (0.225 · 0.35)) = √264126.98… = 513.9328595516969;
        // g* = √(2 · 8 · 1300 · 0.225 · 0.35) = √1638 = 40.47221268969612.
        let optimum = epq(8.0, 0.225, 1300.0, 2000.0).unwrap();
        assert_close(optimum.quantity, 513.932_859_551_696_9, 1e-12);
        assert_close(optimum.cost, 40.472_212_689_696_12, 1e-12);
        assert_close(
            epq_cost(8.0, 0.225, 1300.0, 2000.0, optimum.quantity).unwrap(),
            optimum.cost,
            1e-12,
        );
    }

    #[test]
    fn the_eoq_is_the_cheapest_quantity() {
        let optimum = eoq(8.0, 0.225, 1300.0).unwrap();
        for factor in [0.5, 0.9, 0.99, 1.01, 1.1, 2.0] {
            let cost = eoq_cost(8.0, 0.225, 1300.0, optimum.quantity * factor).unwrap();
            assert!(cost > optimum.cost);
        }
    }

    #[test]
    fn a_negative_fixed_cost_is_refused() {
        assert_eq!(
            eoq(-8.0, 0.225, 1300.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "fixed_cost",
                value: -8.0,
                expected: "a finite number of at least 0",
            }
        );
    }

    #[test]
    fn a_zero_holding_cost_is_refused() {
        let error = eoq(8.0, 0.0, 1300.0).unwrap_err();
        assert!(matches!(
            error,
            PolicyError::OutOfRange {
                field: "holding_cost",
                ..
            }
        ));
    }

    #[test]
    fn a_nan_demand_rate_is_refused() {
        let error = eoq(8.0, 0.225, f64::NAN).unwrap_err();
        assert!(matches!(
            error,
            PolicyError::OutOfRange {
                field: "demand_rate",
                ..
            }
        ));
    }

    #[test]
    fn a_production_rate_below_demand_is_refused() {
        let error = epq(8.0, 0.225, 1300.0, 1300.0).unwrap_err();
        assert!(matches!(
            error,
            PolicyError::OutOfRange {
                field: "production_rate",
                expected: "greater than demand_rate",
                ..
            }
        ));
    }

    #[test]
    fn a_zero_order_quantity_has_no_cost() {
        assert!(matches!(
            eoq_cost(8.0, 0.225, 1300.0, 0.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "order_quantity",
                ..
            }
        ));
    }

    #[test]
    fn a_stockout_fraction_above_one_is_refused() {
        assert!(matches!(
            eoq_with_backorders_cost(8.0, 0.225, 5.0, 1300.0, 300.0, 1.5).unwrap_err(),
            PolicyError::OutOfRange {
                field: "stockout_fraction",
                ..
            }
        ));
    }

    #[test]
    fn inputs_that_overflow_the_closed_form_are_refused() {
        let error = eoq(1e300, 1e-300, 1e300).unwrap_err();
        assert!(matches!(error, PolicyError::NoSolution { .. }));
    }
}
