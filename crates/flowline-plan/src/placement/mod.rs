//! Inventory placement across fulfillment centers: how many units of each SKU each center should
//! hold so that the expected demand of each region is shipped at the least cost and the fewest
//! days, what that changes, and the transfers that get there.
//!
//! [`place`] takes a [`Problem`] and answers a [`Placement`]: a [`Target`] for every SKU and
//! center, the [`Figures`] of today's placement and of the target one, and the [`Move`]s that turn
//! one into the other. Inputs are refused with a [`PlacementError`] naming the field
//! (`demand[2][1]`, `capacity[0]`), never with a panic.
//!
//! # The model
//!
//! SKUs `k`, centers `c` and regions `r`, with
//!
//! - `demand[k][r]` the expected units of `k` demanded from region `r` over the planning
//!   horizon;
//! - `capacity[c]` the units center `c` can hold, all SKUs together;
//! - `cost[c][r]` the shipping cost of one unit from `c` to `r` (`∞` where `c` does not serve
//!   `r`: reachability is a finite cost) and `days[c][r]` its transit time;
//! - `days_weight` `w` the cost of one unit-day in transit, which turns days into cost, so a lane
//!   weighs `cost[c][r] + w·days[c][r]` per unit;
//! - `current[k][c]` the units of `k` at `c` now, and `available[k] = Σ_c current[k][c]`: the
//!   placement redistributes stock, it neither buys nor disposes of any, so what the network holds
//!   after is what it holds now.
//!
//! The decision is `x[k][c][r] ≥ 0`, the expected units of `k` shipped from `c` to `r`, with
//! `hold[k][c] = Σ_r x[k][c][r]` plus whatever of `k` beyond its demand `c` keeps. The linear
//! program is
//!
//! ```text
//! minimise   Σ_k Σ_c Σ_r (cost[c][r] + w·days[c][r]) · x[k][c][r]
//! subject to Σ_c x[k][c][r] = served[k][r]               for every k, r
//!            Σ_k hold[k][c]  ≤ capacity[c]               for every c
//!            Σ_c hold[k][c]  = available[k]              for every k
//! ```
//!
//! where `served[k][r] = demand[k][r] · min(1, available[k] / Σ_r demand[k][r])`: when a SKU is
//! short, every region gets the same share of its demand (no region is favoured for being cheap
//! to serve, and the program stays feasible). Demand that cannot be served at all, because no
//! center reaches the region or the centers that do are full, is served in the same share for
//! every SKU of the region, as much as the capacities allow; it shows as `unserved` in the
//! [`Figures`]. The only problem refused as infeasible is one whose centers cannot hold the
//! network's units: `Σ_c capacity[c] < Σ_k available[k]`.
//!
//! # How it is solved
//!
//! A lane's weight does not depend on the SKU and the SKUs share only the capacities, so the
//! program is solved exactly through its aggregate: a transportation problem over lanes `f[c][r]`
//! with each region's demand `Σ_k served[k][r]` and each center's capacity, solved by the simplex
//! method of `microlp` (`centers × regions` variables, whatever the number of SKUs). Any split of
//! `f[c][r]` among the SKUs that meets each SKU's demand of region `r` has the same cost, and such
//! a split always exists (`x[k][c][r] = served[k][r] · f[c][r] / Σ_c f[c][r]` is one), so an
//! optimal aggregate is an optimal plan. The split is chosen to leave stock where it is: each
//! region's lanes are first filled with the SKUs the center holds now, then with the others in
//! order. Stock beyond demand stays where it is as far as the capacities left allow; the rest goes
//! to the centers with room, in the order given.
//!
//! Measured on a 2-core machine, release build: the single program over `x[k][c][r]` took 1.1 s
//! for 500 SKUs × 3 centers × 10 regions (15,000 variables), 4 s for 1,000 SKUs and 24 s for
//! 2,000 with `microlp`, where the aggregate takes 80 µs. The whole of [`place`] for 500 × 3 × 10,
//! both evaluations included, takes 20 to 50 ms, and 6 to 16 s at [`MAX_VARIABLES`] (66,666 × 3
//! × 10, 20,000 × 10 × 10, 200 × 20 × 500, 40 × 100 × 500), most of it in the evaluations, one
//! small transportation problem per SKU.
//!
//! # Whole units and transfers
//!
//! Each SKU's holdings are rounded to whole units keeping its total (largest remainder, ties to
//! the center that holds more of it now), without filling a center beyond its capacity: a unit a
//! full center cannot take goes to the next largest remainder of that SKU, and failing that to a
//! center with room, first one where the SKU is now. Transfers go, SKU by SKU, from the centers
//! that hold more than their target to those that hold less, in the order the centers are given
//! (the problem has no cost between centers to order them by). Applying the transfers to
//! `current` gives the targets exactly. Transfers are not costed: a plan is worth what it saves
//! in shipping over the horizon, which is for the caller to weigh against moving the stock.
//!
//! # Before and after
//!
//! Both [`Figures`] are the expected cost, days and units of serving `served` from a placement at
//! the least weighted cost: a region is served from its cheapest center that holds the SKU, and
//! where that center runs short, from the next, with the allocation over all regions exact (a
//! transportation problem per SKU, with a shortcut when every region's cheapest center has
//! enough). "Before" is today's stock, "after" the whole-unit targets. An exact allocation for
//! both, rather than a greedy one for today's stock, keeps the saving from being overstated by a
//! weak baseline. When today's stock fits the capacities and the targets would serve no more
//! units at no lower weighted cost, today's placement is kept: no transfers, "after" equal to
//! "before". So where today's stock fits, "after" never serves fewer units, nor the same units at
//! a higher weighted cost.
//!
//! # Limits
//!
//! At most [`MAX_VARIABLES`] SKU-center-region triples and [`MAX_LANES`] center-region lanes, at
//! most [`MAX_UNITS`] units in the network, and every number at most [`MAX_MAGNITUDE`].

mod evaluate;
mod network;
mod plan;
mod round;
mod transport;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use evaluate::evaluate;
use network::Network;

/// The most SKU × center × region triples a problem may have: the work of splitting the plan
/// among SKUs and of evaluating it grows with their number (6 to 16 s at this bound on a 2-core
/// machine).
pub const MAX_VARIABLES: usize = 2_000_000;

/// The most center × region lanes a problem may have: each is a variable of the aggregate
/// program and of each SKU's evaluation (50,000 lanes took 0.4 s to solve once).
pub const MAX_LANES: usize = 50_000;

/// The most units the network may hold, all SKUs and centers together: beyond this a double no
/// longer resolves the fractions the rounding works with.
pub const MAX_UNITS: u64 = 1_000_000_000_000;

/// The largest demand, cost, transit time or days weight accepted, so that no sum of their
/// products overflows.
pub const MAX_MAGNITUDE: f64 = 1e12;

/// What to place: the names, the demand, the network and where the stock is now.
///
/// Matrices are indexed by position in the name lists: `demand[k][r]` is the SKU `skus[k]` in
/// region `regions[r]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The SKUs' names, each non-empty and different from the others.
    pub skus: Vec<String>,
    /// The fulfillment centers' names, each non-empty and different from the others.
    pub centers: Vec<String>,
    /// The demand regions' names, each non-empty and different from the others.
    pub regions: Vec<String>,
    /// `demand[k][r]`: expected units of SKU `k` demanded from region `r` over the horizon, each
    /// finite, at least 0 and at most [`MAX_MAGNITUDE`].
    pub demand: Vec<Vec<f64>>,
    /// `capacity[c]`: units center `c` can hold, all SKUs together (`u64::MAX` for no limit).
    pub capacity: Vec<u64>,
    /// `cost[c][r]`: shipping cost per unit from center `c` to region `r`, at least 0 and at
    /// most [`MAX_MAGNITUDE`], or `f64::INFINITY` where `c` does not serve `r`.
    pub cost: Vec<Vec<f64>>,
    /// `days[c][r]`: transit days from center `c` to region `r`, at least 0 and at most
    /// [`MAX_MAGNITUDE`] (any non-negative value, `f64::INFINITY` too, where the cost is
    /// infinite).
    pub days: Vec<Vec<f64>>,
    /// Cost of one unit-day in transit, in the currency of `cost`: `0` to minimise cost alone.
    pub days_weight: f64,
    /// `current[k][c]`: units of SKU `k` at center `c` now.
    pub current: Vec<Vec<u64>>,
}

/// The target placement, its figures and the transfers that reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// One target for every SKU and center, SKU by SKU in the order given, centers in order
    /// within each SKU (`targets[k * centers + c]`).
    pub targets: Vec<Target>,
    /// The figures of serving the demand from today's stock.
    pub before: Figures,
    /// The figures of serving the demand from the targets.
    pub after: Figures,
    /// Transfers that turn today's stock into the targets, SKU by SKU.
    pub transfers: Vec<Move>,
}

/// How many units of one SKU one center holds now and should hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The SKU's name.
    pub sku: String,
    /// The center's name.
    pub center: String,
    /// Units there now.
    pub current: u64,
    /// Units there in the target placement.
    pub target: u64,
}

/// The expected figures of serving the horizon's demand from a placement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Total shipping cost of the units shipped, in the currency of `cost` (transit days not
    /// included).
    pub expected_cost: f64,
    /// Mean transit days of a unit shipped (0 when none is).
    pub expected_days: f64,
    /// Units shipped.
    pub units: f64,
    /// Units demanded and not shipped: a SKU's demand beyond what the network holds, and demand
    /// the placement's stock cannot reach or its centers cannot hold.
    pub unserved: f64,
}

/// A transfer of stock between two centers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// The SKU's name.
    pub sku: String,
    /// The center the units leave.
    pub from: String,
    /// The center the units go to.
    pub to: String,
    /// Units moved, at least 1.
    pub quantity: u64,
}

/// Why a placement could not be computed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlacementError {
    /// A list does not have one entry per SKU, center or region.
    WrongLength {
        /// The list, such as `demand[2]`.
        field: String,
        /// Its number of entries.
        length: usize,
        /// The number expected.
        expected: usize,
        /// What there is one of per entry: `"SKU"`, `"center"` or `"region"`.
        per: &'static str,
    },
    /// A number is outside its range.
    OutOfRange {
        /// The input, such as `demand[2][1]`.
        field: String,
        /// The value given.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// A name is empty or repeats an earlier one of the same list.
    InvalidName {
        /// The name's place, such as `centers[2]`.
        field: String,
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The problem is larger than is solved.
    LimitExceeded {
        /// What is too large.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// The centers cannot hold the units the network has.
    InsufficientCapacity {
        /// `Σ_c capacity[c]`.
        capacity: u64,
        /// `Σ_k Σ_c current[k][c]`, the units to place.
        units: u64,
    },
    /// The solver failed on a problem the checks let through: a numerical failure it reports
    /// rather than an answer it could not verify.
    Solver {
        /// The solver's message.
        reason: String,
    },
}

impl fmt::Display for PlacementError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength {
                field,
                length,
                expected,
                per,
            } => write!(
                formatter,
                "{field} has {length} entries: expected {expected}, one per {per}"
            ),
            Self::OutOfRange {
                field,
                value,
                expected,
            } => write!(
                formatter,
                "{field} = {value} is out of range: expected {expected}"
            ),
            Self::InvalidName {
                field,
                name,
                reason,
            } => write!(formatter, "{field} = {name:?} {reason}"),
            Self::LimitExceeded {
                field,
                value,
                limit,
            } => write!(
                formatter,
                "{field} = {value} is beyond what is placed: at most {limit}"
            ),
            Self::InsufficientCapacity { capacity, units } => write!(
                formatter,
                "capacity: the centers hold {capacity} units in all, fewer than the {units} \
                 units of current stock to place"
            ),
            Self::Solver { reason } => write!(formatter, "the LP solver failed: {reason}"),
        }
    }
}

impl std::error::Error for PlacementError {}

/// The target placement of `problem`, its figures before and after, and the transfers.
///
/// # Errors
///
/// [`PlacementError::WrongLength`] naming the first list whose length does not match its names;
/// [`PlacementError::LimitExceeded`] beyond [`MAX_VARIABLES`], [`MAX_LANES`] or [`MAX_UNITS`];
/// [`PlacementError::InvalidName`] for an empty or repeated name;
/// [`PlacementError::OutOfRange`] naming the first number that is negative, NaN, too large or
/// infinite where it may not be; [`PlacementError::InsufficientCapacity`] when the centers
/// cannot hold the current stock; [`PlacementError::Solver`] if the solver fails numerically.
pub fn place(problem: &Problem) -> Result<Placement, PlacementError> {
    let network = Network::new(problem)?;
    let before = evaluate(&network, network.current())?;
    let holdings = plan::holdings(&network)?;
    let rounded = round::to_units(&network, &holdings)?;
    let rounded_after = evaluate(&network, &rounded)?;
    let keep_current = network.current_fits() && !rounded_after.improves_on(&before);
    let (targets, after) = if keep_current {
        (network.current().to_vec(), before)
    } else {
        (rounded, rounded_after)
    };
    let transfers = round::transfers(&network, &targets);
    let centers = network.centers();
    let targets = targets
        .iter()
        .enumerate()
        .map(|(index, &target)| Target {
            sku: problem.skus[index / centers].clone(),
            center: problem.centers[index % centers].clone(),
            current: network.current()[index],
            target,
        })
        .collect();
    Ok(Placement {
        targets,
        before: network.figures(&before),
        after: network.figures(&after),
        transfers,
    })
}
