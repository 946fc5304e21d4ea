//! Replenishment proposals that explain themselves: what to order for one SKU at one center,
//! from whom, and every term of the arithmetic that led there.
//!
//! A [`Request`] brings a daily demand forecast, the [`StockPosition`], the supplier [`Offer`]s
//! and a [`ServiceTarget`]; [`propose`] answers a [`Proposal`] whose [`Explanation`] lists each
//! term separately so that a person can redo the sum, and whose `alternatives` list every offer
//! with its [`OfferScore`], best first. [`Explanation::check`] redoes the arithmetic and names
//! the term that does not add up ([`ExplanationError`]). [`propose_all`] proposes for a batch of
//! requests under a cap on any one supplier's share of the value ordered.
//!
//! # The order-up-to rule
//!
//! The plan runs every `R` days (`review_period_days`) and an order placed today arrives after
//! the chosen offer's lead time `L`, so today's order must cover demand over the *protection
//! interval* `P = L + R` (periodic review, order up to `S`; Snyder & Shen §4.4):
//!
//! - `forecast` = expected demand over `[0, P)`: `demand[0] + … + demand[⌊P⌋ − 1]` plus the
//!   fraction `P − ⌊P⌋` of `demand[⌊P⌋]`. Days beyond the end of `demand` are taken at the mean
//!   of the days given, so a forecast shorter than the protection interval is extended flat.
//! - `demand_sd_over_protection` `σ = √(P σ_d² + d̄² σ_L²)`, with `d̄ = forecast / P` the mean daily
//!   demand over the interval, `σ_d` the one-day forecast error and `σ_L` the offer's lead-time
//!   spread ([`lead_time_demand`]).
//! - `safety_stock` `= max(0, z σ)`: for a [`ServiceTarget::CycleServiceLevel`] `α`,
//!   `z = Φ⁻¹(α)`; for a [`ServiceTarget::FillRate`] `β`, the `z` with `σ L(z) = (1 − β) Q`
//!   ([`safety_stock_for_fill_rate`]) where `Q` is
//!   the expected quantity per replenishment cycle, `cycle_quantity = max(EOQ, d R)` (see
//!   below). Safety stock is never negative: a `z` below 0 (a cycle service level under ½, or a
//!   fill rate that cycle stock alone meets) is shown as computed in `safety_factor`, but the
//!   stock held is 0.
//! - `order_up_to` `S = forecast + safety_stock`.
//! - `position` = `on_hand − reserved − backordered + on_order + inbound_transfers`
//!   ([`StockPosition::inventory_position`]).
//! - `need` = `S − position`. Nothing is ordered unless `need > 0`.
//! - `lot_sizing` = `max(0, EOQ − need)`: when an order is placed anyway it is made at least an
//!   economic lot. `EOQ = √(2 K D / h)` ([`eoq`](crate::policy::eoq())) with `K = order_cost`,
//!   `h = holding_rate × unit_price` per unit per year and `D = 365 d`, where `d` is the mean of
//!   *all* the days of `demand` (the longest view of the demand rate the request carries; the
//!   same `D` for every offer). The EOQ is 0, and there is no lot sizing, unless `K`, `h` and
//!   `D` are all greater than 0.
//! - `rounding`: what raising `need + lot_sizing` to the offer's minimum order quantity and then
//!   to whole case packs added ([`round_order_quantity`]).
//! - `quantity = need + lot_sizing + rounding`, a whole number of case packs, at least the MOQ.
//!
//! When `need ≤ 0`, `quantity`, `lot_sizing` and `rounding` are 0 and `need` is shown as
//! computed. [`Proposal::order_by_day`] then says on which day, as the forecast draws the position
//! down, an order would become due (see there).
//!
//! The fill rate's `Q` is the quantity an order brings *in steady state*, not today's order: an
//! order-up-to policy orders about one review period's demand `d R` each time, or the EOQ when lot
//! sizing makes orders larger. Using today's quantity instead would make the safety stock depend
//! on today's position (and on itself, through `need`).
//!
//! # Which supplier
//!
//! Each offer is scored by its expected cost per unit of demand,
//!
//! `score = unit_price × (1 + holding_rate × safety_stock / D) / in_full_rate`,
//!
//! the price, plus the holding cost per unit of demand of the safety stock the offer's lead time
//! and lead-time spread call for (`holding_rate × unit_price × safety_stock` per year over `D`
//! units a year), inflated by short deliveries (an offer received in full 90% of the time needs
//! about 1/0.9 times the orders, and the shortfalls are met at its price again). An unmeasured
//! `in_full_rate` counts as 1. `on_time_rate` is shown but not scored: lateness is already in the
//! measured lead-time spread. With `D = 0` the holding term is left out (there is no demand to
//! spread it over). The lowest score wins; ties go to the shorter mean lead time, then the
//! smaller supplier id, then the earlier offer. An `in_full_rate` of 0 makes an offer unusable:
//! its score is `None` (infinite), and it is chosen only when every offer is unusable.
//!
//! # A cap on one supplier's share
//!
//! [`propose_all`] first proposes each request on its own. With a cap `c < 1` on any supplier's
//! share of the value ordered (quantity × unit price), it then reassigns greedily, in one
//! deterministic pass:
//!
//! 1. `T` = the batch's value with every request at its best offer; each supplier's budget is
//!    `c T`.
//! 2. Requests are taken in order of that value, largest first (ties: earlier request first).
//! 3. Each goes to the best-scored usable offer whose supplier can take its value (at that offer's
//!    own quantity and price) within the budget, counting what the supplier was given before.
//! 4. When no offer fits, it goes to the usable offer that leaves its supplier with the least
//!    value assigned (ties: the better score): the cap is then exceeded, as little as this pass
//!    can manage. So a request with a single offer always gets it.
//!
//! Proposals come back in request order; a proposal moved by the cap has its `chosen` offer below
//! the first of its `alternatives`. A cap of 1 changes nothing.
//!
//! # Bounds
//!
//! Every input is checked and an invalid one is refused with a [`ReplenishError`] naming the
//! field (`demand[3]`, `offers[1].unit_price`, `service`), never a panic. Work is bounded:
//! at most [`MAX_DEMAND_DAYS`] days of demand, [`MAX_OFFERS`] offers and protection intervals of
//! [`MAX_PROTECTION_DAYS`]; quantities (position terms, MOQ, case pack, the quantity ordered)
//! beyond [`MAX_QUANTITY`] = 2⁵³, where a double stops counting whole units exactly, are refused.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::distribution::normal_quantile;
use crate::policy::{
    LeadTimeDemand, PolicyError, eoq, lead_time_demand, round_order_quantity,
    safety_stock_for_fill_rate,
};

mod batch;
mod explanation;
#[cfg(test)]
mod tests;

pub use batch::propose_all;
pub use explanation::{Explanation, ExplanationError};

/// Longest demand forecast accepted, in days (ten years).
pub const MAX_DEMAND_DAYS: usize = 3660;

/// Most offers accepted in one request.
pub const MAX_OFFERS: usize = 64;

/// Longest protection interval (lead time plus review period) accepted, in days.
pub const MAX_PROTECTION_DAYS: f64 = 3660.0;

/// Largest quantity accepted or proposed, 2⁵³: up to here a double counts whole units exactly, so
/// a quantity converts between `f64` and `i64` without loss.
pub const MAX_QUANTITY: f64 = 9_007_199_254_740_992.0;

/// Days in the year the EOQ's demand rate and the holding rate are expressed in.
const DAYS_PER_YEAR: f64 = 365.0;

/// How a proposal's safety stock is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "target")]
pub enum ServiceTarget {
    /// The probability that a replenishment cycle has no stockout (type 1), in (0, 1).
    CycleServiceLevel(f64),
    /// The fraction of demand met from stock (type 2), in (0, 1).
    FillRate(f64),
}

impl ServiceTarget {
    /// The target, whichever kind it is.
    #[must_use]
    pub fn target(&self) -> f64 {
        match *self {
            Self::CycleServiceLevel(target) | Self::FillRate(target) => target,
        }
    }
}

/// What is on hand and on the way for one SKU at one center, in whole units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockPosition {
    /// Units physically there (≥ 0).
    pub on_hand: i64,
    /// Of `on_hand`, units promised to open sales orders (≥ 0). A figure above `on_hand` (a count
    /// may have lowered the stock after the reservation) is accepted and counted in full.
    pub reserved: i64,
    /// Demand taken but not reserved for lack of stock (≥ 0).
    pub backordered: i64,
    /// Open purchase order units not yet received (≥ 0), whatever their due date.
    pub on_order: i64,
    /// Units shipped or planned towards this center by transfers (≥ 0).
    pub inbound_transfers: i64,
}

impl StockPosition {
    /// The inventory position `on_hand − reserved − backordered + on_order + inbound_transfers`,
    /// or `None` if the sum overflows an `i64`.
    #[must_use]
    pub fn inventory_position(&self) -> Option<i64> {
        self.on_hand
            .checked_sub(self.reserved)?
            .checked_sub(self.backordered)?
            .checked_add(self.on_order)?
            .checked_add(self.inbound_transfers)
    }
}

/// One supplier's terms for the SKU, as measured from the log (or quoted when nothing is
/// measured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// The supplier's id.
    pub supplier: String,
    /// Price per unit in the base currency, > 0.
    pub unit_price: f64,
    /// Mean lead time in days, ≥ 0.
    pub lead_time_days: f64,
    /// Standard deviation of the lead time in days, ≥ 0.
    pub lead_time_sd_days: f64,
    /// Measured share of order lines received in full, in [0, 1]; `None` when unmeasured
    /// (treated as 1).
    pub in_full_rate: Option<f64>,
    /// Measured share of order lines received by the due date, in [0, 1]; `None` when
    /// unmeasured. Shown, not scored: lateness is already in the measured lead-time spread.
    pub on_time_rate: Option<f64>,
    /// The smallest quantity the supplier accepts, ≥ 0.
    pub minimum_order_quantity: i64,
    /// Units per case; orders are whole cases. ≥ 1 (1 for items sold singly).
    pub case_pack: i64,
    /// How many past orders the figures come from (0 = quoted terms).
    pub measured_orders: u32,
}

/// What one proposal is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Expected demand for each coming day, day 0 = today (a forecast); each finite and ≥ 0, at
    /// least one day and at most [`MAX_DEMAND_DAYS`]. Extended by the mean of its days when
    /// shorter than the protection interval.
    pub demand: Vec<f64>,
    /// Standard deviation of one day's demand (the forecast's one-step error), ≥ 0.
    pub demand_sd: f64,
    /// What is on hand and on the way.
    pub position: StockPosition,
    /// The offers to choose from: at least one, at most [`MAX_OFFERS`].
    pub offers: Vec<Offer>,
    /// The service the safety stock is set for.
    pub service: ServiceTarget,
    /// `R`: how often the plan is run, in days, > 0 (1 for daily).
    pub review_period_days: f64,
    /// Annual holding cost as a fraction of the unit price (0.25 for 25% a year), ≥ 0.
    pub holding_rate: f64,
    /// Fixed cost per purchase order in the base currency, ≥ 0 (0 = no lot sizing).
    pub order_cost: f64,
}

/// One offer's score and the terms that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferScore {
    /// The offer's position in [`Request::offers`].
    pub offer: usize,
    /// The supplier's id.
    pub supplier: String,
    /// Price per unit.
    pub unit_price: f64,
    /// Mean lead time in days.
    pub lead_time_days: f64,
    /// Standard deviation of the lead time in days.
    pub lead_time_sd_days: f64,
    /// The safety stock this offer's lead time calls for.
    pub safety_stock: f64,
    /// The in-full rate scored: the measured one, or 1 when unmeasured.
    pub in_full_rate: f64,
    /// The measured on-time rate, shown but not scored.
    pub on_time_rate: Option<f64>,
    /// How many past orders the figures come from (0 = quoted terms).
    pub measured_orders: u32,
    /// Expected cost per unit of demand,
    /// `unit_price × (1 + holding_rate × safety_stock / D) / in_full_rate`; `None` (an infinite
    /// score) when the offer is unusable because its in-full rate is 0. `None` rather than
    /// infinity so the score survives JSON, which has no infinity.
    pub score: Option<f64>,
    /// Whether the proposal orders from this offer.
    pub chosen: bool,
}

/// A replenishment proposal for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The chosen offer's supplier.
    pub supplier: String,
    /// Units to order now: 0, or at least the chosen offer's MOQ in whole case packs.
    pub quantity: i64,
    /// Days from today by which to order: 0 when the position is below the order-up-to level now
    /// (and `quantity > 0`); otherwise the first day `t` (up to the length of the demand
    /// forecast) on which the position, drawn down by the forecast, falls below the order-up-to
    /// level of an interval starting that day, `position < forecast over [0, t + P) +
    /// safety_stock` (today's safety stock); `None` when that does not happen within the
    /// forecast.
    pub order_by_day: Option<u32>,
    /// Every term of the quantity, for the chosen offer.
    pub explanation: Explanation,
    /// Every offer with its score, best first.
    pub alternatives: Vec<OfferScore>,
}

/// Why a proposal could not be made.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReplenishError {
    /// `demand` has no days.
    EmptyDemand,
    /// `offers` is empty.
    NoOffers,
    /// An input is outside its range.
    OutOfRange {
        /// The input, e.g. `demand[3]` or `offers[1].unit_price`.
        field: String,
        /// The value given.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// An input is valid but would cost work out of proportion, or a quantity would not be
    /// counted exactly: the proposal is refused rather than computed.
    LimitExceeded {
        /// What is too large, e.g. `demand.len()` or `quantity`.
        field: String,
        /// Its value.
        value: f64,
        /// The largest value accepted.
        limit: f64,
    },
    /// A computed term is too large to represent, though each input is valid.
    Overflow {
        /// The term, e.g. `position` or `offers[0].forecast`.
        field: String,
    },
    /// A policy computation has no answer for these inputs.
    Policy {
        /// The offer or term it was computed for, e.g. `offers[2].safety_stock`.
        field: String,
        /// The policy's error.
        error: PolicyError,
    },
}

impl ReplenishError {
    /// The field or term the error is about.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            Self::EmptyDemand => "demand",
            Self::NoOffers => "offers",
            Self::OutOfRange { field, .. }
            | Self::LimitExceeded { field, .. }
            | Self::Overflow { field }
            | Self::Policy { field, .. } => field,
        }
    }
}

impl fmt::Display for ReplenishError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyDemand => formatter.write_str("demand is empty: expected at least one day"),
            Self::NoOffers => formatter.write_str("offers is empty: expected at least one offer"),
            Self::OutOfRange {
                field,
                value,
                expected,
            } => write!(
                formatter,
                "{field} = {value} is out of range: expected {expected}"
            ),
            Self::LimitExceeded {
                field,
                value,
                limit,
            } => write!(
                formatter,
                "{field} = {value} is beyond what is computed: at most {limit}"
            ),
            Self::Overflow { field } => write!(formatter, "{field} is too large to represent"),
            Self::Policy { field, error } => write!(formatter, "{field}: {error}"),
        }
    }
}

impl std::error::Error for ReplenishError {}

/// The replenishment proposal for `request`: the best-scored offer, the quantity to order from
/// it now and every term of that quantity (see the [module docs](self) for the rule).
///
/// # Errors
///
/// [`ReplenishError`] naming the field that is empty, out of range (negative, NaN, infinite, a
/// service target outside (0, 1), a case pack below 1) or beyond the limits
/// ([`MAX_DEMAND_DAYS`], [`MAX_OFFERS`], [`MAX_PROTECTION_DAYS`], [`MAX_QUANTITY`]), or the term
/// that overflows.
pub fn propose(request: &Request) -> Result<Proposal, ReplenishError> {
    let plan = Plan::new(request)?;
    plan.proposal(plan.best())
}

/// A validated request with each offer's terms computed and the offers ranked.
struct Plan<'a> {
    /// The request.
    request: &'a Request,
    /// Cumulative demand.
    demand: CumulativeDemand,
    /// The inventory position.
    position: i64,
    /// `D`: the mean daily demand over all the days given, times 365.
    annual_demand: f64,
    /// Each offer's terms, in request order.
    offers: Vec<OfferTerms>,
    /// Offer indices, best first.
    ranking: Vec<usize>,
}

/// What one offer implies, whether or not it is chosen.
struct OfferTerms {
    /// `P = L + R`.
    protection_days: f64,
    /// Expected demand over `[0, P)`.
    forecast: f64,
    /// `√(P σ_d² + d̄² σ_L²)`.
    sd: f64,
    /// `z`.
    safety_factor: f64,
    /// `max(0, z σ)`.
    safety_stock: f64,
    /// `√(2KD/h)`, or 0 when `K`, `h` or `D` is 0.
    economic_order_quantity: f64,
    /// `max(EOQ, d R)`.
    cycle_quantity: f64,
    /// The in-full rate scored.
    in_full_rate: f64,
    /// The score; `None` when unusable.
    score: Option<f64>,
}

impl<'a> Plan<'a> {
    /// Checks `request` and computes every offer's terms and the ranking.
    fn new(request: &'a Request) -> Result<Self, ReplenishError> {
        let position = validate(request)?;
        let demand = CumulativeDemand::new(&request.demand);
        let annual_demand = finite_term("annual_demand", demand.mean * DAYS_PER_YEAR)?;
        let offers = request
            .offers
            .iter()
            .enumerate()
            .map(|(index, offer)| offer_terms(request, &demand, annual_demand, index, offer))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ranking: Vec<usize> = (0..offers.len()).collect();
        ranking.sort_by(|&a, &b| {
            let (terms_a, terms_b) = (&offers[a], &offers[b]);
            let (offer_a, offer_b) = (&request.offers[a], &request.offers[b]);
            // `None` (unusable) sorts after every score.
            let score_a = terms_a.score.unwrap_or(f64::INFINITY);
            let score_b = terms_b.score.unwrap_or(f64::INFINITY);
            score_a
                .total_cmp(&score_b)
                .then(offer_a.lead_time_days.total_cmp(&offer_b.lead_time_days))
                .then_with(|| offer_a.supplier.cmp(&offer_b.supplier))
                .then(a.cmp(&b))
        });
        Ok(Self {
            request,
            demand,
            position,
            annual_demand,
            offers,
            ranking,
        })
    }

    /// The best offer's index.
    fn best(&self) -> usize {
        // `validate` refuses a request without offers, so the ranking has a first entry.
        self.ranking.first().copied().unwrap_or(0)
    }

    /// Whether the offer at `index` can be ordered from (its in-full rate is above 0).
    fn usable(&self, index: usize) -> bool {
        self.offers
            .get(index)
            .is_some_and(|terms| terms.score.is_some())
    }

    /// The proposal that orders from the offer at `index`.
    fn proposal(&self, index: usize) -> Result<Proposal, ReplenishError> {
        let (Some(offer), Some(terms)) = (self.request.offers.get(index), self.offers.get(index))
        else {
            return Err(ReplenishError::NoOffers);
        };
        let explanation = self.explain(index, offer, terms)?;
        let order_by_day = if explanation.quantity > 0 {
            Some(0)
        } else {
            self.order_by_day(terms)
        };
        let alternatives = self
            .ranking
            .iter()
            .map(|&rank_index| self.score(rank_index, rank_index == index))
            .collect();
        Ok(Proposal {
            supplier: offer.supplier.clone(),
            quantity: explanation.quantity,
            order_by_day,
            explanation,
            alternatives,
        })
    }

    /// The explanation of ordering from `offer`.
    fn explain(
        &self,
        index: usize,
        offer: &Offer,
        terms: &OfferTerms,
    ) -> Result<Explanation, ReplenishError> {
        let order_up_to = finite_term("order_up_to", terms.forecast + terms.safety_stock)?;
        #[allow(
            clippy::cast_precision_loss,
            reason = "validate keeps |position| within 2^53, where the conversion is exact"
        )]
        let position = self.position as f64;
        let need = finite_term("need", order_up_to - position)?;
        let (lot_sizing, rounding, quantity) = if need > 0.0 {
            let lot_sizing = (terms.economic_order_quantity - need).max(0.0);
            let required = need + lot_sizing;
            if required > MAX_QUANTITY {
                return Err(ReplenishError::LimitExceeded {
                    field: "quantity".into(),
                    value: required,
                    limit: MAX_QUANTITY,
                });
            }
            #[allow(
                clippy::cast_precision_loss,
                reason = "validate keeps both within 2^53, where the conversion is exact"
            )]
            let rounded = round_order_quantity(
                required,
                offer.minimum_order_quantity as f64,
                offer.case_pack as f64,
            )
            .map_err(|error| ReplenishError::Policy {
                field: format!("offers[{index}].rounding"),
                error,
            })?;
            if rounded.quantity > MAX_QUANTITY {
                return Err(ReplenishError::LimitExceeded {
                    field: "quantity".into(),
                    value: rounded.quantity,
                    limit: MAX_QUANTITY,
                });
            }
            #[allow(
                clippy::cast_possible_truncation,
                reason = "a whole number of cases between 0 and 2^53, checked above"
            )]
            let quantity = rounded.quantity as i64;
            (lot_sizing, rounded.quantity - need - lot_sizing, quantity)
        } else {
            (0.0, 0.0, 0)
        };
        let stock = self.request.position;
        Ok(Explanation {
            protection_days: terms.protection_days,
            forecast: terms.forecast,
            demand_sd_over_protection: terms.sd,
            safety_factor: terms.safety_factor,
            safety_stock: terms.safety_stock,
            order_up_to,
            on_hand: stock.on_hand,
            reserved: stock.reserved,
            backordered: stock.backordered,
            on_order: stock.on_order,
            inbound_transfers: stock.inbound_transfers,
            position: self.position,
            need,
            annual_demand: self.annual_demand,
            economic_order_quantity: terms.economic_order_quantity,
            cycle_quantity: terms.cycle_quantity,
            lot_sizing,
            minimum_order_quantity: offer.minimum_order_quantity,
            case_pack: offer.case_pack,
            rounding,
            quantity,
        })
    }

    /// The first day `t ≥ 1` within the forecast on which
    /// `position < forecast over [0, t + P) + safety_stock`.
    fn order_by_day(&self, terms: &OfferTerms) -> Option<u32> {
        #[allow(
            clippy::cast_precision_loss,
            reason = "validate keeps |position| within 2^53, where the conversion is exact"
        )]
        let position = self.position as f64;
        // `demand.len()` is at most MAX_DEMAND_DAYS, so the loop is bounded and `t` fits in u32.
        (1..=self.request.demand.len())
            .find(|&day| {
                #[allow(
                    clippy::cast_precision_loss,
                    reason = "a day index of at most MAX_DEMAND_DAYS"
                )]
                let start = day as f64;
                let due =
                    self.demand.cumulative(start + terms.protection_days) + terms.safety_stock;
                position < due
            })
            .and_then(|day| u32::try_from(day).ok())
    }

    /// The offer at `index` as an alternative.
    fn score(&self, index: usize, chosen: bool) -> OfferScore {
        let offer = &self.request.offers[index];
        let terms = &self.offers[index];
        OfferScore {
            offer: index,
            supplier: offer.supplier.clone(),
            unit_price: offer.unit_price,
            lead_time_days: offer.lead_time_days,
            lead_time_sd_days: offer.lead_time_sd_days,
            safety_stock: terms.safety_stock,
            in_full_rate: terms.in_full_rate,
            on_time_rate: offer.on_time_rate,
            measured_orders: offer.measured_orders,
            score: terms.score,
            chosen,
        }
    }
}

/// Demand accumulated over time, `C(x)` = expected demand over `[0, x)` for any `x ≥ 0`: whole
/// days summed, a fraction of the next day, and beyond the days given the mean of the days given.
struct CumulativeDemand {
    /// The days given.
    days: Vec<f64>,
    /// `prefix[i]` = `days[0] + … + days[i − 1]`; one longer than `days`.
    prefix: Vec<f64>,
    /// The mean of the days given.
    mean: f64,
}

impl CumulativeDemand {
    /// Accumulates `days` (checked: finite, ≥ 0, not empty).
    fn new(days: &[f64]) -> Self {
        let mut prefix = Vec::with_capacity(days.len() + 1);
        let mut total = 0.0;
        prefix.push(total);
        for &day in days {
            total += day;
            prefix.push(total);
        }
        #[allow(
            clippy::cast_precision_loss,
            reason = "a count of at most MAX_DEMAND_DAYS"
        )]
        let mean = total / days.len().max(1) as f64;
        Self {
            days: days.to_vec(),
            prefix,
            mean,
        }
    }

    /// `C(x)`: expected demand over `[0, x)`, `x` finite and ≥ 0.
    fn cumulative(&self, x: f64) -> f64 {
        let total = self.prefix.last().copied().unwrap_or(0.0);
        #[allow(
            clippy::cast_precision_loss,
            reason = "a count of at most MAX_DEMAND_DAYS"
        )]
        let length = self.days.len() as f64;
        let whole = x.floor();
        if whole >= length {
            return total + (x - length) * self.mean;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a whole number between 0 and the number of days"
        )]
        let day = whole.max(0.0) as usize;
        match (self.prefix.get(day), self.days.get(day)) {
            (Some(before), Some(today)) => before + (x - whole) * today,
            _ => total,
        }
    }
}

/// The terms of one offer.
fn offer_terms(
    request: &Request,
    demand: &CumulativeDemand,
    annual_demand: f64,
    index: usize,
    offer: &Offer,
) -> Result<OfferTerms, ReplenishError> {
    let term = |name: &str| format!("offers[{index}].{name}");
    let protection_days = offer.lead_time_days + request.review_period_days;
    let forecast = demand.cumulative(protection_days);
    if !forecast.is_finite() {
        return Err(ReplenishError::Overflow {
            field: term("forecast"),
        });
    }
    let policy = |name: &str| {
        let field = term(name);
        move |error| ReplenishError::Policy { field, error }
    };
    let mean_over_protection = forecast / protection_days;
    let LeadTimeDemand { sd, .. } = lead_time_demand(
        mean_over_protection,
        request.demand_sd,
        protection_days,
        offer.lead_time_sd_days,
    )
    .map_err(policy("demand_sd_over_protection"))?;
    let holding_cost = request.holding_rate * offer.unit_price;
    if !holding_cost.is_finite() {
        return Err(ReplenishError::Overflow {
            field: term("holding_cost"),
        });
    }
    let economic_order_quantity =
        if request.order_cost > 0.0 && holding_cost > 0.0 && annual_demand > 0.0 {
            eoq(request.order_cost, holding_cost, annual_demand)
                .map_err(policy("economic_order_quantity"))?
                .quantity
        } else {
            0.0
        };
    let cycle_quantity = economic_order_quantity.max(demand.mean * request.review_period_days);
    if !cycle_quantity.is_finite() {
        return Err(ReplenishError::Overflow {
            field: term("cycle_quantity"),
        });
    }
    let safety_factor = match request.service {
        ServiceTarget::CycleServiceLevel(level) => normal_quantile(level)
            .map_err(|error| policy("safety_factor")(PolicyError::from(error)))?,
        // With no demand expected there is no demand to fill and no safety stock to hold.
        ServiceTarget::FillRate(_) if cycle_quantity <= 0.0 => 0.0,
        ServiceTarget::FillRate(rate) => {
            let over_protection = LeadTimeDemand { mean: forecast, sd };
            safety_stock_for_fill_rate(rate, cycle_quantity, over_protection)
                .map_err(policy("safety_stock"))?
                .safety_factor
        }
    };
    let safety_stock = (safety_factor * sd).max(0.0);
    if !safety_stock.is_finite() {
        return Err(ReplenishError::Overflow {
            field: term("safety_stock"),
        });
    }
    let in_full_rate = offer.in_full_rate.unwrap_or(1.0);
    let score = if in_full_rate > 0.0 {
        let holding_per_unit = if annual_demand > 0.0 {
            request.holding_rate * safety_stock / annual_demand
        } else {
            0.0
        };
        let score = offer.unit_price * (1.0 + holding_per_unit) / in_full_rate;
        if !score.is_finite() {
            return Err(ReplenishError::Overflow {
                field: term("score"),
            });
        }
        Some(score)
    } else {
        None
    };
    Ok(OfferTerms {
        protection_days,
        forecast,
        sd,
        safety_factor,
        safety_stock,
        economic_order_quantity,
        cycle_quantity,
        in_full_rate,
        score,
    })
}

/// Checks every input of `request` and returns its inventory position.
fn validate(request: &Request) -> Result<i64, ReplenishError> {
    if request.demand.is_empty() {
        return Err(ReplenishError::EmptyDemand);
    }
    limit("demand.len()", request.demand.len(), MAX_DEMAND_DAYS)?;
    for (index, &day) in request.demand.iter().enumerate() {
        non_negative(|| format!("demand[{index}]"), day)?;
    }
    non_negative(|| "demand_sd".into(), request.demand_sd)?;

    let stock = request.position;
    for (name, value) in [
        ("on_hand", stock.on_hand),
        ("reserved", stock.reserved),
        ("backordered", stock.backordered),
        ("on_order", stock.on_order),
        ("inbound_transfers", stock.inbound_transfers),
    ] {
        count(|| format!("position.{name}"), value, 0)?;
    }
    let position = stock
        .inventory_position()
        .ok_or_else(|| ReplenishError::Overflow {
            field: "position".into(),
        })?;
    if position.unsigned_abs() > 1 << 53 {
        #[allow(
            clippy::cast_precision_loss,
            reason = "for the message only: the value is refused"
        )]
        return Err(ReplenishError::LimitExceeded {
            field: "position".into(),
            value: position as f64,
            limit: MAX_QUANTITY,
        });
    }

    if request.offers.is_empty() {
        return Err(ReplenishError::NoOffers);
    }
    limit("offers.len()", request.offers.len(), MAX_OFFERS)?;
    for (index, offer) in request.offers.iter().enumerate() {
        let field = |name: &'static str| move || format!("offers[{index}].{name}");
        positive(field("unit_price"), offer.unit_price)?;
        non_negative(field("lead_time_days"), offer.lead_time_days)?;
        non_negative(field("lead_time_sd_days"), offer.lead_time_sd_days)?;
        if let Some(rate) = offer.in_full_rate {
            unit_interval(field("in_full_rate"), rate)?;
        }
        if let Some(rate) = offer.on_time_rate {
            unit_interval(field("on_time_rate"), rate)?;
        }
        count(
            field("minimum_order_quantity"),
            offer.minimum_order_quantity,
            0,
        )?;
        count(field("case_pack"), offer.case_pack, 1)?;
    }

    let target = request.service.target();
    if !(target > 0.0 && target < 1.0) {
        return Err(ReplenishError::OutOfRange {
            field: "service".into(),
            value: target,
            expected: "between 0 and 1, exclusive",
        });
    }
    positive(|| "review_period_days".into(), request.review_period_days)?;
    if request.review_period_days > MAX_PROTECTION_DAYS {
        return Err(ReplenishError::LimitExceeded {
            field: "review_period_days".into(),
            value: request.review_period_days,
            limit: MAX_PROTECTION_DAYS,
        });
    }
    non_negative(|| "holding_rate".into(), request.holding_rate)?;
    non_negative(|| "order_cost".into(), request.order_cost)?;

    // The protection interval L + R is at most MAX_PROTECTION_DAYS: each lead time at most the
    // rest.
    let longest_lead_time = MAX_PROTECTION_DAYS - request.review_period_days;
    for (index, offer) in request.offers.iter().enumerate() {
        if offer.lead_time_days > longest_lead_time {
            return Err(ReplenishError::LimitExceeded {
                field: format!("offers[{index}].lead_time_days"),
                value: offer.lead_time_days,
                limit: longest_lead_time,
            });
        }
    }
    Ok(position)
}

/// A term computed from valid inputs, unless it overflowed.
fn finite_term(field: &str, value: f64) -> Result<f64, ReplenishError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ReplenishError::Overflow {
            field: field.into(),
        })
    }
}

/// Refuses a list longer than `maximum`.
fn limit(field: &str, length: usize, maximum: usize) -> Result<(), ReplenishError> {
    if length > maximum {
        #[allow(
            clippy::cast_precision_loss,
            reason = "for the message only; lengths that large are refused anyway"
        )]
        return Err(ReplenishError::LimitExceeded {
            field: field.into(),
            value: length as f64,
            limit: maximum as f64,
        });
    }
    Ok(())
}

/// `value` if it is finite and at least 0.
fn non_negative(field: impl FnOnce() -> String, value: f64) -> Result<(), ReplenishError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ReplenishError::OutOfRange {
            field: field(),
            value,
            expected: "a finite number of at least 0",
        })
    }
}

/// `value` if it is finite and greater than 0.
fn positive(field: impl FnOnce() -> String, value: f64) -> Result<(), ReplenishError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ReplenishError::OutOfRange {
            field: field(),
            value,
            expected: "a finite number greater than 0",
        })
    }
}

/// `value` if it is between 0 and 1 inclusive.
fn unit_interval(field: impl FnOnce() -> String, value: f64) -> Result<(), ReplenishError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ReplenishError::OutOfRange {
            field: field(),
            value,
            expected: "between 0 and 1",
        })
    }
}

/// A whole quantity of at least `minimum` whose magnitude is at most [`MAX_QUANTITY`].
fn count(field: impl FnOnce() -> String, value: i64, minimum: i64) -> Result<(), ReplenishError> {
    #[allow(
        clippy::cast_precision_loss,
        reason = "for the message and the limit test; 2^53 itself converts exactly"
    )]
    let as_float = value as f64;
    if value < minimum {
        return Err(ReplenishError::OutOfRange {
            field: field(),
            value: as_float,
            expected: if minimum == 0 {
                "at least 0"
            } else {
                "at least 1"
            },
        });
    }
    if value.unsigned_abs() > 1 << 53 {
        return Err(ReplenishError::LimitExceeded {
            field: field(),
            value: as_float,
            limit: MAX_QUANTITY,
        });
    }
    Ok(())
}
