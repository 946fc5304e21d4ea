//! The terms of a proposal's quantity, and the check that they add up.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Every term of a proposal's quantity, separately, so that a person can redo the sum (the
/// [module docs](super) give each formula). [`Explanation::check`] redoes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// `P`: the chosen offer's mean lead time plus the review period, in days.
    pub protection_days: f64,
    /// Expected demand over the protection interval `[0, P)`.
    pub forecast: f64,
    /// `σ = √(P σ_d² + d̄² σ_L²)`, the standard deviation of demand over the protection interval,
    /// with `d̄ = forecast / P`.
    pub demand_sd_over_protection: f64,
    /// `z`, as computed for the service target; may be below 0.
    pub safety_factor: f64,
    /// `max(0, z σ)`: safety stock is never negative.
    pub safety_stock: f64,
    /// `S = forecast + safety_stock`.
    pub order_up_to: f64,
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved for open sales orders.
    pub reserved: i64,
    /// Units backordered.
    pub backordered: i64,
    /// Units on open purchase orders.
    pub on_order: i64,
    /// Units on inbound transfers.
    pub inbound_transfers: i64,
    /// `on_hand − reserved − backordered + on_order + inbound_transfers`.
    pub position: i64,
    /// `order_up_to − position`; an order is placed only when it is above 0.
    pub need: f64,
    /// `D`: 365 times the mean daily demand over all the days of the forecast.
    pub annual_demand: f64,
    /// `√(2 K D / h)` for the chosen offer, or 0 when the order cost, the holding cost or `D` is 0.
    pub economic_order_quantity: f64,
    /// `max(EOQ, d R)`: the expected quantity per replenishment cycle, the `Q` a fill-rate
    /// safety stock is computed for (shown, unused, for a cycle service level).
    pub cycle_quantity: f64,
    /// `max(0, economic_order_quantity − need)` when `need > 0`, else 0: units added to make the
    /// order an economic lot.
    pub lot_sizing: f64,
    /// The chosen offer's minimum order quantity.
    pub minimum_order_quantity: i64,
    /// The chosen offer's case pack.
    pub case_pack: i64,
    /// What raising `need + lot_sizing` to the MOQ and then to whole case packs added: in
    /// `[0, case_pack)` unless the MOQ set the quantity. It may be a hair below 0 (at most 10⁻⁹
    /// of the quantity) when `need + lot_sizing` was a whole number of cases but for float noise.
    pub rounding: f64,
    /// `need + lot_sizing + rounding` when `need > 0`, else 0.
    pub quantity: i64,
}

/// Absolute slack of [`Explanation::check`]'s comparisons.
const ABSOLUTE_TOLERANCE: f64 = 1e-6;

/// Slack of [`Explanation::check`]'s comparisons relative to the magnitudes of the terms.
const RELATIVE_TOLERANCE: f64 = 1e-9;

/// A term of an [`Explanation`] that does not add up.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ExplanationError {
    /// A term is NaN or infinite.
    NotFinite {
        /// The term.
        term: &'static str,
        /// Its value.
        value: f64,
    },
    /// A term differs from the formula it is made of.
    Mismatch {
        /// The term.
        term: &'static str,
        /// Its value.
        value: f64,
        /// What the formula gives.
        expected: f64,
        /// The formula, in the explanation's own terms.
        formula: &'static str,
    },
    /// A term breaks a rule: `{term} = {value} {rule} {bound}`.
    Invalid {
        /// The term.
        term: &'static str,
        /// Its value.
        value: f64,
        /// The rule, worded to be followed by `bound`.
        rule: &'static str,
        /// The bound the rule sets.
        bound: f64,
    },
    /// The terms of the position overflow an `i64`.
    Overflow {
        /// The term.
        term: &'static str,
    },
}

impl ExplanationError {
    /// The term that is wrong.
    #[must_use]
    pub fn term(&self) -> &'static str {
        match *self {
            Self::NotFinite { term, .. }
            | Self::Mismatch { term, .. }
            | Self::Invalid { term, .. }
            | Self::Overflow { term } => term,
        }
    }
}

impl fmt::Display for ExplanationError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotFinite { term, value } => {
                write!(formatter, "{term} = {value} is not a finite number")
            }
            Self::Mismatch {
                term,
                value,
                expected,
                formula,
            } => write!(
                formatter,
                "{term} = {value} but {formula} = {expected}: off by {}",
                value - expected
            ),
            Self::Invalid {
                term,
                value,
                rule,
                bound,
            } => write!(formatter, "{term} = {value} {rule} {bound}"),
            Self::Overflow { term } => {
                write!(formatter, "the terms of {term} overflow a 64-bit integer")
            }
        }
    }
}

impl std::error::Error for ExplanationError {}

/// Whether `value` equals `expected` within the slack for terms of the magnitudes given.
fn agrees(value: f64, expected: f64, magnitudes: &[f64]) -> bool {
    (value - expected).abs() <= slack(magnitudes)
}

/// `10⁻⁶ + 10⁻⁹ Σ |magnitude|`.
fn slack(magnitudes: &[f64]) -> f64 {
    ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * magnitudes.iter().map(|m| m.abs()).sum::<f64>()
}

/// A rule broken.
fn invalid(term: &'static str, value: f64, rule: &'static str, bound: f64) -> ExplanationError {
    ExplanationError::Invalid {
        term,
        value,
        rule,
        bound,
    }
}

/// `value` as a float, for comparisons and messages.
#[allow(
    clippy::cast_precision_loss,
    reason = "whole quantities of at most 2^53 convert exactly; beyond, only messages use them"
)]
fn float(value: i64) -> f64 {
    value as f64
}

impl Explanation {
    /// Redoes the arithmetic: every term finite and in range, the position the sum of its five
    /// terms, `safety_stock = max(0, safety_factor × demand_sd_over_protection)`,
    /// `order_up_to = forecast + safety_stock`, `need = order_up_to − position`, and then either
    /// `need ≤ 0` with `quantity`, `lot_sizing` and `rounding` all 0, or `need > 0` with
    /// `lot_sizing = max(0, economic_order_quantity − need)`,
    /// `quantity = need + lot_sizing + rounding`, `quantity > 0`, at least the MOQ and a multiple
    /// of the case pack, and `rounding` in `[0, case_pack)` unless the MOQ set the quantity (then
    /// the quantity is the first whole number of cases at or above the MOQ).
    ///
    /// Sums agree within `10⁻⁶ + 10⁻⁹ × (the sum of the magnitudes of their terms)`; the
    /// position is compared exactly. `protection_days`, `forecast`, `safety_factor`,
    /// `demand_sd_over_protection`, `annual_demand`, `economic_order_quantity` and
    /// `cycle_quantity` come from the request and are checked only for range: a change to one
    /// shows up in the terms computed from it.
    ///
    /// # Errors
    ///
    /// The first [`ExplanationError`] found, naming the term and, for a sum, by how much it is
    /// off.
    pub fn check(&self) -> Result<(), ExplanationError> {
        self.check_ranges()?;

        let position = self
            .on_hand
            .checked_sub(self.reserved)
            .and_then(|sum| sum.checked_sub(self.backordered))
            .and_then(|sum| sum.checked_add(self.on_order))
            .and_then(|sum| sum.checked_add(self.inbound_transfers))
            .ok_or(ExplanationError::Overflow { term: "position" })?;
        if position != self.position {
            return Err(ExplanationError::Mismatch {
                term: "position",
                value: float(self.position),
                expected: float(position),
                formula: "on_hand − reserved − backordered + on_order + inbound_transfers",
            });
        }

        let unclamped = self.safety_factor * self.demand_sd_over_protection;
        let safety_stock = unclamped.max(0.0);
        if !agrees(
            self.safety_stock,
            safety_stock,
            &[self.safety_stock, unclamped],
        ) {
            return Err(ExplanationError::Mismatch {
                term: "safety_stock",
                value: self.safety_stock,
                expected: safety_stock,
                formula: "max(0, safety_factor × demand_sd_over_protection)",
            });
        }

        let order_up_to = self.forecast + self.safety_stock;
        if !agrees(
            self.order_up_to,
            order_up_to,
            &[self.order_up_to, self.forecast, self.safety_stock],
        ) {
            return Err(ExplanationError::Mismatch {
                term: "order_up_to",
                value: self.order_up_to,
                expected: order_up_to,
                formula: "forecast + safety_stock",
            });
        }

        let position = float(self.position);
        let need = self.order_up_to - position;
        if !agrees(self.need, need, &[self.need, self.order_up_to, position]) {
            return Err(ExplanationError::Mismatch {
                term: "need",
                value: self.need,
                expected: need,
                formula: "order_up_to − position",
            });
        }

        if self.need > 0.0 {
            self.check_order()
        } else {
            self.check_no_order()
        }
    }

    /// Every term finite and in its range.
    fn check_ranges(&self) -> Result<(), ExplanationError> {
        for (term, value) in [
            ("protection_days", self.protection_days),
            ("forecast", self.forecast),
            ("demand_sd_over_protection", self.demand_sd_over_protection),
            ("safety_factor", self.safety_factor),
            ("safety_stock", self.safety_stock),
            ("order_up_to", self.order_up_to),
            ("need", self.need),
            ("annual_demand", self.annual_demand),
            ("economic_order_quantity", self.economic_order_quantity),
            ("cycle_quantity", self.cycle_quantity),
            ("lot_sizing", self.lot_sizing),
            ("rounding", self.rounding),
        ] {
            if !value.is_finite() {
                return Err(ExplanationError::NotFinite { term, value });
            }
        }
        if self.protection_days <= 0.0 {
            return Err(invalid(
                "protection_days",
                self.protection_days,
                "must be greater than",
                0.0,
            ));
        }
        for (term, value) in [
            ("forecast", self.forecast),
            ("demand_sd_over_protection", self.demand_sd_over_protection),
            ("safety_stock", self.safety_stock),
            ("annual_demand", self.annual_demand),
            ("economic_order_quantity", self.economic_order_quantity),
            ("cycle_quantity", self.cycle_quantity),
            ("lot_sizing", self.lot_sizing),
        ] {
            if value < 0.0 {
                return Err(invalid(term, value, "must be at least", 0.0));
            }
        }
        for (term, value, minimum) in [
            ("on_hand", self.on_hand, 0),
            ("reserved", self.reserved, 0),
            ("backordered", self.backordered, 0),
            ("on_order", self.on_order, 0),
            ("inbound_transfers", self.inbound_transfers, 0),
            ("minimum_order_quantity", self.minimum_order_quantity, 0),
            ("case_pack", self.case_pack, 1),
            ("quantity", self.quantity, 0),
        ] {
            if value < minimum {
                return Err(invalid(
                    term,
                    float(value),
                    "must be at least",
                    float(minimum),
                ));
            }
        }
        Ok(())
    }

    /// The terms of an order placed (`need > 0`).
    fn check_order(&self) -> Result<(), ExplanationError> {
        let lot_sizing = (self.economic_order_quantity - self.need).max(0.0);
        if !agrees(
            self.lot_sizing,
            lot_sizing,
            &[self.lot_sizing, self.economic_order_quantity, self.need],
        ) {
            return Err(ExplanationError::Mismatch {
                term: "lot_sizing",
                value: self.lot_sizing,
                expected: lot_sizing,
                formula: "max(0, economic_order_quantity − need)",
            });
        }

        let quantity = float(self.quantity);
        let terms = [quantity, self.need, self.lot_sizing, self.rounding];
        let sum = self.need + self.lot_sizing + self.rounding;
        if !agrees(quantity, sum, &terms) {
            return Err(ExplanationError::Mismatch {
                term: "quantity",
                value: quantity,
                expected: sum,
                formula: "need + lot_sizing + rounding",
            });
        }
        if self.quantity == 0 {
            return Err(invalid(
                "quantity",
                quantity,
                "must be above 0 when need is above 0; need =",
                self.need,
            ));
        }
        if self.quantity < self.minimum_order_quantity {
            return Err(invalid(
                "quantity",
                quantity,
                "must be at least minimum_order_quantity =",
                float(self.minimum_order_quantity),
            ));
        }
        // case_pack ≥ 1 was checked, so the remainder is defined.
        if self.quantity.checked_rem(self.case_pack) != Some(0) {
            return Err(invalid(
                "quantity",
                quantity,
                "must be a whole number of case packs of case_pack =",
                float(self.case_pack),
            ));
        }

        let slack = slack(&terms);
        if self.rounding < -slack {
            return Err(invalid("rounding", self.rounding, "must be at least", 0.0));
        }
        let required = self.need + self.lot_sizing;
        let minimum = float(self.minimum_order_quantity);
        let case_pack = float(self.case_pack);
        if required >= minimum - slack {
            if self.rounding >= case_pack + slack {
                return Err(invalid(
                    "rounding",
                    self.rounding,
                    "must be less than case_pack =",
                    case_pack,
                ));
            }
        } else if quantity >= minimum + case_pack {
            // The MOQ set the quantity: it must be the first whole number of cases at or above
            // the MOQ.
            return Err(invalid(
                "quantity",
                quantity,
                "must be less than minimum_order_quantity + case_pack =",
                minimum + case_pack,
            ));
        }
        Ok(())
    }

    /// The terms when nothing is ordered (`need ≤ 0`).
    fn check_no_order(&self) -> Result<(), ExplanationError> {
        for (term, value) in [
            ("quantity", float(self.quantity)),
            ("lot_sizing", self.lot_sizing),
            ("rounding", self.rounding),
        ] {
            if value != 0.0 {
                return Err(invalid(
                    term,
                    value,
                    "must be 0 when need is at most 0; need =",
                    self.need,
                ));
            }
        }
        Ok(())
    }
}
