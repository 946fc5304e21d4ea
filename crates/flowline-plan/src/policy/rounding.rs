//! Rounding an order quantity to what a supplier will accept: at least a minimum order quantity
//! (MOQ), in whole case packs.
//!
//! The required quantity is first raised to the MOQ, then up to the next whole number of case
//! packs, so the result meets both constraints and is the smallest quantity that does. Nothing is
//! ordered when nothing is required: the MOQ applies only to orders that are placed. Because the
//! EOQ cost curve is flat near its minimum, rounding up a computed quantity usually costs little.

use serde::{Deserialize, Serialize};

use super::{PolicyError, finite, non_negative, positive};

/// Largest number of case packs an order may hold: beyond 2⁵³ a double no longer counts whole
/// cases exactly.
pub const MAX_CASE_PACKS: f64 = 9_007_199_254_740_992.0;

/// Relative slack under which a quantity counts as a whole number of case packs already: a
/// required 36.000000000001 with cases of 12 is 3 cases, not 4.
const WHOLE_CASE_SLACK: f64 = 1e-9;

/// An order quantity after rounding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoundedOrder {
    /// The quantity to order: 0, or at least the MOQ and a whole number of case packs.
    pub quantity: f64,
    /// The number of case packs, `quantity / case_pack`.
    pub case_packs: u64,
    /// Whether the MOQ, rather than the requirement, set the quantity before rounding to cases.
    pub raised_to_minimum: bool,
}

/// Rounds `required` up to at least `minimum_order_quantity` (≥ 0) and then up to a whole number
/// of `case_pack` (> 0; 1 for items sold singly). A requirement of 0 or less orders nothing.
///
/// Example: 37 required, MOQ 50, cases of 12 → raised to 50, then to 5 cases = 60.
///
/// # Errors
///
/// [`PolicyError::OutOfRange`] naming `required` unless it is finite,
/// `minimum_order_quantity` unless it is finite and at least 0, or `case_pack` unless it is
/// finite and positive; [`PolicyError::LimitExceeded`] when the order would exceed
/// [`MAX_CASE_PACKS`] cases.
pub fn round_order_quantity(
    required: f64,
    minimum_order_quantity: f64,
    case_pack: f64,
) -> Result<RoundedOrder, PolicyError> {
    let required = finite("required", required)?;
    let minimum = non_negative("minimum_order_quantity", minimum_order_quantity)?;
    let case_pack = positive("case_pack", case_pack)?;
    if required <= 0.0 {
        return Ok(RoundedOrder {
            quantity: 0.0,
            case_packs: 0,
            raised_to_minimum: false,
        });
    }
    let raised_to_minimum = minimum > required;
    let target = required.max(minimum);
    let cases = target / case_pack;
    if cases > MAX_CASE_PACKS {
        return Err(PolicyError::LimitExceeded {
            field: "required / case_pack",
            value: cases,
            limit: MAX_CASE_PACKS,
        });
    }
    let whole = cases.floor();
    let cases = if cases - whole <= WHOLE_CASE_SLACK * cases.max(1.0) {
        whole.max(1.0)
    } else {
        whole + 1.0
    };
    // `cases` is a whole number between 1 and 2⁵³, so the conversion is exact.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked above: a whole number between 1 and 2^53"
    )]
    let case_packs = cases as u64;
    Ok(RoundedOrder {
        quantity: cases * case_pack,
        case_packs,
        raised_to_minimum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_need_is_raised_to_the_minimum_then_to_whole_cases() {
        // 37 < MOQ 50 → 50; 50/12 = 4.17 cases → 5 cases = 60.
        let order = round_order_quantity(37.0, 50.0, 12.0).unwrap();
        assert_eq!(order.quantity, 60.0);
        assert_eq!(order.case_packs, 5);
        assert!(order.raised_to_minimum);
    }

    #[test]
    fn a_need_above_the_minimum_is_only_rounded_to_cases() {
        // 73 > MOQ 50; 73/12 = 6.08 cases → 7 cases = 84.
        let order = round_order_quantity(73.0, 50.0, 12.0).unwrap();
        assert_eq!(order.quantity, 84.0);
        assert_eq!(order.case_packs, 7);
        assert!(!order.raised_to_minimum);
    }

    #[test]
    fn a_whole_number_of_cases_is_kept() {
        assert_eq!(
            round_order_quantity(36.0, 0.0, 12.0).unwrap().quantity,
            36.0
        );
        // Float noise just above a whole number of cases does not add a case.
        let noisy = 0.1 + 0.2; // 0.30000000000000004
        let order = round_order_quantity(noisy * 120.0, 0.0, 12.0).unwrap();
        assert_eq!(order.case_packs, 3);
    }

    #[test]
    fn the_eoq_of_example_3_1_rounds_to_whole_cases() {
        // Q* = 304.05 with cases of 25 → 13 cases = 325.
        let eoq = super::super::eoq(8.0, 0.225, 1300.0).unwrap();
        let order = round_order_quantity(eoq.quantity, 100.0, 25.0).unwrap();
        assert_eq!(order.quantity, 325.0);
    }

    #[test]
    fn nothing_required_orders_nothing() {
        for required in [0.0, -5.0] {
            let order = round_order_quantity(required, 50.0, 12.0).unwrap();
            assert_eq!(order.quantity, 0.0);
            assert_eq!(order.case_packs, 0);
        }
    }

    #[test]
    fn a_zero_case_pack_is_refused() {
        assert!(matches!(
            round_order_quantity(37.0, 50.0, 0.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "case_pack",
                ..
            }
        ));
    }

    #[test]
    fn a_nan_requirement_is_refused() {
        assert!(matches!(
            round_order_quantity(f64::NAN, 50.0, 12.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "required",
                ..
            }
        ));
    }

    #[test]
    fn a_negative_minimum_is_refused() {
        assert!(matches!(
            round_order_quantity(37.0, -1.0, 12.0).unwrap_err(),
            PolicyError::OutOfRange {
                field: "minimum_order_quantity",
                ..
            }
        ));
    }

    #[test]
    fn an_order_of_more_cases_than_a_double_counts_is_refused() {
        assert!(matches!(
            round_order_quantity(1e300, 0.0, 1e-10).unwrap_err(),
            PolicyError::LimitExceeded { .. }
        ));
    }
}
