//! Inventory policies: how much to order and when, from costs, demand and service targets.
//!
//! The models and their notation follow Snyder & Shen, *Fundamentals of Supply Chain Theory*
//! (chapters 3 to 5):
//!
//! - `K` the fixed cost of placing an order (or setting up a production run);
//! - `h` the cost of holding one unit in stock for one unit of time;
//! - `p` the cost of a unit of demand that cannot be met from stock (backordered);
//! - `D` or `λ` the demand rate, `μ` and `σ` the mean and standard deviation of demand in a period;
//! - `L` the lead time between ordering and receiving, in the same unit of time as the rates.
//!
//! Costs are per unit of time of the rates given: with `h` per unit per year and `D` per year
//! the EOQ's cost is per year; with a newsvendor's `h` and `p` per period it is per period.
//!
//! | seam | models |
//! |---|---|
//! | [`eoq`](mod@eoq) | EOQ, EOQ with planned backorders, EPQ (deterministic demand) |
//! | [`newsvendor`] | one period of random demand, normal or Poisson |
//! | [`base_stock`] | order up to `S` every period, with a lead time |
//! | [`s_s`] | (s, S): order up to `S` when the position falls to `s` or below |
//! | [`r_q`] | (r, Q): order `Q` when the position reaches `r`, continuous review |
//! | [`wagner_whitin`](mod@wagner_whitin) | dynamic lot sizing over a finite horizon |
//! | [`safety_stock`] | safety stock and reorder point for a service level or a fill rate |
//! | [`rounding`] | order quantities rounded to a minimum and whole case packs |
//!
//! Every function checks its inputs and answers a [`PolicyError`] naming the input and what it
//! must be (a service level of 1, a negative cost or a NaN are refused, never a panic), and every
//! search is bounded: an input that would need more work than the limits stated on each function
//! is refused with [`PolicyError::LimitExceeded`].

use std::fmt;

use crate::distribution::DistributionError;

pub mod base_stock;
pub mod eoq;
pub mod newsvendor;
pub mod r_q;
pub mod rounding;
pub mod s_s;
pub mod safety_stock;
pub mod wagner_whitin;

pub use base_stock::{base_stock_normal, base_stock_normal_cost};
pub use eoq::{
    Eoq, EoqWithBackorders, eoq, eoq_cost, eoq_with_backorders, eoq_with_backorders_cost, epq,
    epq_cost,
};
pub use newsvendor::{
    DiscreteNewsvendor, Newsvendor, newsvendor_normal, newsvendor_normal_cost, newsvendor_poisson,
    newsvendor_poisson_cost,
};
pub use r_q::{
    EilPolicy, MAX_RQ_ITERATIONS, MAX_RQ_POISSON_QUANTITY, RqPoissonPolicy, RqPoissonProblem,
    RqPolicy, RqProblem, rq_cost, rq_eil_approximation, rq_eoq_plus_safety_stock,
    rq_loss_function_approximation, rq_poisson_cost, rq_poisson_exact,
};
pub use rounding::{MAX_CASE_PACKS, RoundedOrder, round_order_quantity};
pub use s_s::{
    MAX_SS_GAP, SsApproximation, SsPolicy, ss_poisson_cost, ss_poisson_exact,
    ss_power_approximation,
};
pub use safety_stock::{
    LeadTimeDemand, SafetyStock, lead_time_demand, safety_stock_for_cycle_service_level,
    safety_stock_for_fill_rate,
};
pub use wagner_whitin::{LotSizingPlan, MAX_LOT_SIZING_PERIODS, wagner_whitin};

/// Why a policy could not be computed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum PolicyError {
    /// An input is outside the range the model is defined on.
    OutOfRange {
        /// The input's name.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What the input must be.
        expected: &'static str,
    },
    /// One element of a list input is outside its range.
    InvalidElement {
        /// The list's name.
        field: &'static str,
        /// The element's position, from 0.
        index: usize,
        /// The value given.
        value: f64,
        /// What each element must be.
        expected: &'static str,
    },
    /// An input is valid but would cost work out of proportion: the computation is refused
    /// rather than run.
    LimitExceeded {
        /// What is too large.
        field: &'static str,
        /// Its value.
        value: f64,
        /// The largest value accepted.
        limit: f64,
    },
    /// The inputs are each valid but the method has no answer for them.
    NoSolution {
        /// The method.
        method: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange {
                field,
                value,
                expected,
            } => write!(
                formatter,
                "{field} = {value} is out of range: expected {expected}"
            ),
            Self::InvalidElement {
                field,
                index,
                value,
                expected,
            } => write!(
                formatter,
                "{field}[{index}] = {value} is out of range: expected {expected}"
            ),
            Self::LimitExceeded {
                field,
                value,
                limit,
            } => write!(
                formatter,
                "{field} = {value} is beyond what is computed: at most {limit}"
            ),
            Self::NoSolution { method, reason } => write!(formatter, "{method}: {reason}"),
        }
    }
}

impl std::error::Error for PolicyError {}

impl From<DistributionError> for PolicyError {
    fn from(error: DistributionError) -> Self {
        Self::OutOfRange {
            field: error.field,
            value: error.value,
            expected: error.expected,
        }
    }
}

/// `value` if it is finite and greater than 0.
pub(crate) fn positive(field: &'static str, value: f64) -> Result<f64, PolicyError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PolicyError::OutOfRange {
            field,
            value,
            expected: "a finite number greater than 0",
        })
    }
}

/// `value` if it is finite and at least 0.
pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<f64, PolicyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PolicyError::OutOfRange {
            field,
            value,
            expected: "a finite number of at least 0",
        })
    }
}

/// `value` if it is finite.
pub(crate) fn finite(field: &'static str, value: f64) -> Result<f64, PolicyError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PolicyError::OutOfRange {
            field,
            value,
            expected: "a finite number",
        })
    }
}

/// `value` if it is strictly between 0 and 1.
pub(crate) fn open_unit(field: &'static str, value: f64) -> Result<f64, PolicyError> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(PolicyError::OutOfRange {
            field,
            value,
            expected: "between 0 and 1, exclusive",
        })
    }
}

/// `value` if the computation produced a finite number; inputs near the limits of a double can
/// overflow a closed form even when each is finite.
pub(crate) fn finite_result(method: &'static str, value: f64) -> Result<f64, PolicyError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PolicyError::NoSolution {
            method,
            reason: "the result is too large to represent",
        })
    }
}

/// The standard normal `z` of the newsvendor's critical ratio `p/(p + h)`, computed from the
/// smaller of `p/(p + h)` and `h/(p + h)` so that a ratio within 10⁻¹⁶ of 1 keeps its accuracy.
pub(crate) fn critical_ratio_z(
    method: &'static str,
    holding_cost: f64,
    stockout_cost: f64,
) -> Result<f64, PolicyError> {
    let total = holding_cost + stockout_cost;
    let overage = holding_cost / total;
    let underage = stockout_cost / total;
    let z = if underage <= overage {
        crate::distribution::normal_quantile(underage)
    } else {
        crate::distribution::normal_quantile(overage).map(|z| -z)
    };
    z.map_err(|_| PolicyError::NoSolution {
        method,
        reason: "the critical ratio p/(p + h) is too close to 0 or 1 to represent",
    })
}

/// Asserts `actual` is within `tolerance` of `expected`, relative to `expected` (absolute below
/// 1): the one comparison every policy's tests use.
#[cfg(test)]
pub(crate) fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    let error = (actual - expected).abs();
    assert!(
        error <= tolerance * expected.abs().max(1.0),
        "{actual} differs from {expected} by {error:e}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_and_what_it_must_be() {
        let error = open_unit("service_level", 1.0).unwrap_err();
        assert_eq!(
            error,
            PolicyError::OutOfRange {
                field: "service_level",
                value: 1.0,
                expected: "between 0 and 1, exclusive",
            }
        );
        assert_eq!(
            error.to_string(),
            "service_level = 1 is out of range: expected between 0 and 1, exclusive"
        );
        assert_eq!(
            positive("holding_cost", -0.5).unwrap_err().to_string(),
            "holding_cost = -0.5 is out of range: expected a finite number greater than 0"
        );
        let element = PolicyError::InvalidElement {
            field: "demands",
            index: 2,
            value: f64::NAN,
            expected: "a finite number of at least 0",
        };
        assert_eq!(
            element.to_string(),
            "demands[2] = NaN is out of range: expected a finite number of at least 0"
        );
    }

    #[test]
    fn nan_and_infinity_are_refused_by_every_check() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(positive("x", value).is_err());
            assert!(non_negative("x", value).is_err());
            assert!(finite("x", value).is_err());
            assert!(open_unit("x", value).is_err());
        }
        assert!(non_negative("x", 0.0).is_ok());
        assert!(positive("x", 0.0).is_err());
    }

    #[test]
    fn the_critical_ratio_keeps_its_accuracy_near_one() {
        // p/(p + h) = 1 − 10⁻²⁰ is 1 in a double, but h/(p + h) = 10⁻²⁰ is not:
        // z = −Φ⁻¹(10⁻²⁰) = 9.262340089798408.
        let z = critical_ratio_z("test", 1e-20, 1.0).unwrap();
        assert!((z - 9.262_340_089_798_408).abs() < 1e-13);
        // h = p: the ratio is ½ and z = 0.
        assert_eq!(critical_ratio_z("test", 2.0, 2.0).unwrap(), 0.0);
    }
}
