//! The expected cost, days and units of serving the demand from a placement: each SKU's demand
//! allocated to its stock at the least weighted cost (a [`Transport`] per SKU).

use super::PlacementError;
use super::network::Network;
use super::transport::Transport;

/// Totals of the units shipped from one placement.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Tally {
    /// Σ cost·units.
    pub(super) cost: f64,
    /// Σ days·units, in unit-days.
    pub(super) days: f64,
    /// Σ units.
    pub(super) units: f64,
    /// Σ (cost + w·days)·units, what the plan minimises.
    pub(super) weighted: f64,
}

/// The tally of serving each SKU's demand from `stock` (units at `k * centers + c`).
///
/// # Errors
///
/// [`PlacementError::Solver`] if the solver fails numerically.
pub(super) fn evaluate(network: &Network, stock: &[u64]) -> Result<Tally, PlacementError> {
    let centers = network.centers();
    let regions = network.regions();
    let problem = network.problem();
    let weight = network.weights();
    let mut tally = Tally::default();
    let mut supply = vec![0.0; centers];
    for sku in 0..network.skus() {
        let demand = network.served(sku);
        if demand.iter().all(|&units| units <= 0.0) {
            continue;
        }
        for (center, supply) in supply.iter_mut().enumerate() {
            *supply = stock[sku * centers + center] as f64;
        }
        let flow = Transport {
            weight,
            supply: &supply,
            demand,
        }
        .ship()?;
        for (lane, &units) in flow.iter().enumerate() {
            // Only lanes with a finite weight carry units, so no product below is ∞·0.
            if units > 0.0 {
                let (center, region) = (lane / regions, lane % regions);
                tally.cost += problem.cost[center][region] * units;
                tally.days += problem.days[center][region] * units;
                tally.units += units;
                tally.weighted += weight[lane] * units;
            }
        }
    }
    Ok(tally)
}

impl Tally {
    /// Whether a placement with this tally is better than one with `other`'s: more units served,
    /// or as many (within the solver's tolerance) at a lower weighted cost.
    pub(super) fn improves_on(&self, other: &Tally) -> bool {
        let unit_tolerance = TOLERANCE * other.units.max(1.0);
        if self.units > other.units + unit_tolerance {
            return true;
        }
        if self.units < other.units - unit_tolerance {
            return false;
        }
        self.weighted < other.weighted - TOLERANCE * other.weighted.max(1.0)
    }
}

/// Relative tolerance for comparing the figures of two placements: the solver meets its
/// constraints to within 10⁻⁷.
const TOLERANCE: f64 = 1e-7;
