//! The checked problem, flattened for the solver: lane weights, the demand to serve and the
//! stock, each in one vector.

use std::collections::BTreeSet;

use super::evaluate::Tally;
use super::{Figures, MAX_LANES, MAX_MAGNITUDE, MAX_UNITS, MAX_VARIABLES, PlacementError, Problem};

/// A problem whose inputs have all been checked, with what the solution needs derived from them.
#[derive(Debug)]
pub(super) struct Network<'a> {
    problem: &'a Problem,
    /// `cost[c][r] + w·days[c][r]`, at `c * regions + r`; infinite where `c` does not serve `r`.
    weight: Vec<f64>,
    /// `served[k][r]`, the demand scaled to what the network holds, at `k * regions + r`.
    served: Vec<f64>,
    /// `Σ_k Σ_r demand[k][r]`.
    total_demand: f64,
    /// `current[k][c]` at `k * centers + c`.
    current: Vec<u64>,
    /// `available[k] = Σ_c current[k][c]`.
    available: Vec<u64>,
    /// `capacity[c]`, no more than the network's units (a larger capacity changes nothing).
    capacity: Vec<u64>,
}

impl<'a> Network<'a> {
    /// Checks `problem` and derives the network from it.
    pub(super) fn new(problem: &'a Problem) -> Result<Self, PlacementError> {
        check_lengths(problem)?;
        check_size(problem)?;
        check_names("skus", &problem.skus)?;
        check_names("centers", &problem.centers)?;
        check_names("regions", &problem.regions)?;
        check_numbers(problem)?;
        let (current, available, units) = stock(problem)?;
        let capacity: Vec<u64> = problem.capacity.iter().map(|&c| c.min(units)).collect();
        // Each clamped capacity is at most MAX_UNITS and there are at most MAX_VARIABLES of
        // them, so the sum fits a u64.
        let total_capacity: u64 = capacity.iter().sum();
        if total_capacity < units {
            return Err(PlacementError::InsufficientCapacity {
                capacity: total_capacity,
                units,
            });
        }
        let weight = problem
            .cost
            .iter()
            .zip(&problem.days)
            .flat_map(|(costs, days)| costs.iter().zip(days))
            .map(|(&cost, &days)| {
                if cost.is_finite() {
                    cost + problem.days_weight * days
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let mut served = Vec::with_capacity(problem.skus.len() * problem.regions.len());
        let mut total_demand = 0.0;
        for (demands, &held) in problem.demand.iter().zip(&available) {
            let demanded: f64 = demands.iter().sum();
            total_demand += demanded;
            let share = if demanded > held as f64 {
                held as f64 / demanded
            } else {
                1.0
            };
            served.extend(demands.iter().map(|&demand| demand * share));
        }
        Ok(Self {
            problem,
            weight,
            served,
            total_demand,
            current,
            available,
            capacity,
        })
    }

    /// The number of SKUs.
    pub(super) fn skus(&self) -> usize {
        self.problem.skus.len()
    }

    /// The number of centers.
    pub(super) fn centers(&self) -> usize {
        self.problem.centers.len()
    }

    /// The number of regions.
    pub(super) fn regions(&self) -> usize {
        self.problem.regions.len()
    }

    /// The problem checked.
    pub(super) fn problem(&self) -> &Problem {
        self.problem
    }

    /// Lane weights `cost + w·days` at `c * regions + r`, infinite where there is no lane.
    pub(super) fn weights(&self) -> &[f64] {
        &self.weight
    }

    /// The demand of SKU `sku` to serve in each region.
    pub(super) fn served(&self, sku: usize) -> &[f64] {
        let regions = self.regions();
        &self.served[sku * regions..(sku + 1) * regions]
    }

    /// Today's stock at `k * centers + c`.
    pub(super) fn current(&self) -> &[u64] {
        &self.current
    }

    /// The units of each SKU the network holds.
    pub(super) fn available(&self) -> &[u64] {
        &self.available
    }

    /// Each center's capacity, at most the network's units.
    pub(super) fn capacity(&self) -> &[u64] {
        &self.capacity
    }

    /// Whether today's stock fits every center's capacity.
    pub(super) fn current_fits(&self) -> bool {
        let centers = self.centers();
        (0..centers).all(|center| {
            let held: u64 = (0..self.skus())
                .map(|sku| self.current[sku * centers + center])
                .sum();
            held <= self.capacity[center]
        })
    }

    /// The figures of a tally of shipments.
    pub(super) fn figures(&self, tally: &Tally) -> Figures {
        Figures {
            expected_cost: tally.cost,
            expected_days: if tally.units > 0.0 {
                tally.days / tally.units
            } else {
                0.0
            },
            units: tally.units,
            unserved: (self.total_demand - tally.units).max(0.0),
        }
    }
}

/// Each matrix has one row per SKU or center and one entry per center or region.
fn check_lengths(problem: &Problem) -> Result<(), PlacementError> {
    let skus = problem.skus.len();
    let centers = problem.centers.len();
    let regions = problem.regions.len();
    check_length(problem.demand.len(), skus, "SKU", || "demand".to_owned())?;
    check_length(problem.capacity.len(), centers, "center", || {
        "capacity".to_owned()
    })?;
    check_length(problem.cost.len(), centers, "center", || "cost".to_owned())?;
    check_length(problem.days.len(), centers, "center", || "days".to_owned())?;
    check_length(problem.current.len(), skus, "SKU", || "current".to_owned())?;
    for (sku, row) in problem.demand.iter().enumerate() {
        check_length(row.len(), regions, "region", || format!("demand[{sku}]"))?;
    }
    for (center, (costs, days)) in problem.cost.iter().zip(&problem.days).enumerate() {
        check_length(costs.len(), regions, "region", || format!("cost[{center}]"))?;
        check_length(days.len(), regions, "region", || format!("days[{center}]"))?;
    }
    for (sku, row) in problem.current.iter().enumerate() {
        check_length(row.len(), centers, "center", || format!("current[{sku}]"))?;
    }
    Ok(())
}

/// `Ok` if `length` is `expected`; the field's name is only written for the error.
fn check_length(
    length: usize,
    expected: usize,
    per: &'static str,
    field: impl FnOnce() -> String,
) -> Result<(), PlacementError> {
    if length == expected {
        Ok(())
    } else {
        Err(PlacementError::WrongLength {
            field: field(),
            length,
            expected,
            per,
        })
    }
}

/// The triples and lanes within [`MAX_VARIABLES`] and [`MAX_LANES`]; an empty dimension counts
/// as one, so a problem with no regions still cannot have millions of SKUs and centers.
fn check_size(problem: &Problem) -> Result<(), PlacementError> {
    let dimension = |length: usize| u64::try_from(length.max(1)).unwrap_or(u64::MAX);
    let skus = dimension(problem.skus.len());
    let centers = dimension(problem.centers.len());
    let regions = dimension(problem.regions.len());
    let lanes = centers.saturating_mul(regions);
    let triples = skus.saturating_mul(lanes);
    let limit = |field, value, limit: usize| {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        if value > limit {
            Err(PlacementError::LimitExceeded {
                field,
                value,
                limit,
            })
        } else {
            Ok(())
        }
    };
    limit("skus × centers × regions", triples, MAX_VARIABLES)?;
    limit("centers × regions", lanes, MAX_LANES)
}

/// Every name non-empty and none repeated.
fn check_names(list: &str, names: &[String]) -> Result<(), PlacementError> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (index, name) in names.iter().enumerate() {
        let reason = if name.trim().is_empty() {
            "is blank: expected a name".to_owned()
        } else if !seen.insert(name) {
            let first = names
                .iter()
                .position(|other| other == name)
                .unwrap_or(index);
            format!("repeats {list}[{first}]: expected each name once")
        } else {
            continue;
        };
        return Err(PlacementError::InvalidName {
            field: format!("{list}[{index}]"),
            name: name.clone(),
            reason,
        });
    }
    Ok(())
}

/// What a demand, cost or transit time must be.
const EXPECTED_QUANTITY: &str = "a finite number from 0 to 1e12";
/// What a cost must be.
const EXPECTED_COST: &str = "a number from 0 to 1e12, or infinity where the center does not \
                             serve the region";
/// What a transit time must be.
const EXPECTED_DAYS: &str = "a number from 0 to 1e12 (or any number of at least 0 where the \
                             cost is infinite)";

/// Demand, costs, transit times and the days weight within their ranges.
fn check_numbers(problem: &Problem) -> Result<(), PlacementError> {
    let quantity = |value: f64| (0.0..=MAX_MAGNITUDE).contains(&value);
    let out_of_range = |field: String, value, expected| PlacementError::OutOfRange {
        field,
        value,
        expected,
    };
    if !quantity(problem.days_weight) {
        let field = "days_weight".to_owned();
        return Err(out_of_range(field, problem.days_weight, EXPECTED_QUANTITY));
    }
    for (sku, row) in problem.demand.iter().enumerate() {
        if let Some(region) = row.iter().position(|&value| !quantity(value)) {
            let field = format!("demand[{sku}][{region}]");
            return Err(out_of_range(field, row[region], EXPECTED_QUANTITY));
        }
    }
    for (center, (costs, days)) in problem.cost.iter().zip(&problem.days).enumerate() {
        for (region, (&cost, &time)) in costs.iter().zip(days).enumerate() {
            if !(quantity(cost) || cost == f64::INFINITY) {
                let field = format!("cost[{center}][{region}]");
                return Err(out_of_range(field, cost, EXPECTED_COST));
            }
            if !(quantity(time) || (cost == f64::INFINITY && time >= 0.0)) {
                let field = format!("days[{center}][{region}]");
                return Err(out_of_range(field, time, EXPECTED_DAYS));
            }
        }
    }
    Ok(())
}

/// Today's stock flattened, each SKU's total, and the network's, within [`MAX_UNITS`].
fn stock(problem: &Problem) -> Result<(Vec<u64>, Vec<u64>, u64), PlacementError> {
    let too_many = |value: u64| PlacementError::LimitExceeded {
        field: "Σ current (units in the network)",
        value,
        limit: MAX_UNITS,
    };
    let mut current = Vec::with_capacity(problem.skus.len() * problem.centers.len());
    let mut available = Vec::with_capacity(problem.skus.len());
    let mut units: u64 = 0;
    for row in &problem.current {
        let mut held: u64 = 0;
        for &quantity in row {
            held = held.saturating_add(quantity);
        }
        units = units.saturating_add(held);
        if units > MAX_UNITS {
            return Err(too_many(units));
        }
        current.extend_from_slice(row);
        available.push(held);
    }
    Ok((current, available, units))
}
