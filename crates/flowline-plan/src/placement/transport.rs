//! The transportation problem both the plan and its evaluation rest on: supplies at centers,
//! demands at regions and a weight per unit on each lane; the shipments of least total weight
//! that serve as much of the demand as the supplies and the lanes allow.
//!
//! When every region's cheapest lane comes from a center with enough supply for all the regions
//! that pick it, those lanes are the answer and no program is solved. Otherwise the simplex
//! method of `microlp` solves
//!
//! ```text
//! minimise   Σ weight[c][r]·f[c][r] + P·Σ u[r]
//! subject to Σ_c f[c][r] + u[r] = demand[r]   for every region with a lane
//!            Σ_r f[c][r] ≤ supply[c]          for every center with a lane
//! ```
//!
//! with the unserved units `u[r]` penalised by `P`. Weights are divided by the largest, so each
//! is at most 1, and `P = 2·(min(centers, regions) + 1)`: serving one more unit of a region may
//! reroute units along a chain of lanes, which adds at most `min(centers, regions)` lanes'
//! weight, so with this penalty the program serves all it can before it saves on weight.
//! Regions with no lane from a center with supply are left unserved without a variable.

use microlp::{ComparisonOp, OptimizationDirection, Variable};

use super::PlacementError;

/// A transportation problem over `supply.len()` centers and `demand.len()` regions.
#[derive(Debug, Clone, Copy)]
pub(super) struct Transport<'a> {
    /// The weight of one unit on each lane at `c * regions + r`, infinite where there is no lane.
    pub(super) weight: &'a [f64],
    /// What each center can ship, at least 0.
    pub(super) supply: &'a [f64],
    /// What each region demands, at least 0.
    pub(super) demand: &'a [f64],
}

impl Transport<'_> {
    /// The shipments of least weight at `c * regions + r`, each at least 0.
    ///
    /// # Errors
    ///
    /// [`PlacementError::Solver`] if the solver fails numerically.
    pub(super) fn ship(&self) -> Result<Vec<f64>, PlacementError> {
        debug_assert_eq!(self.weight.len(), self.supply.len() * self.demand.len());
        match self.cheapest_lanes() {
            Some(flow) => Ok(flow),
            None => self.solve(),
        }
    }

    /// Whether center `center` can ship to `region`.
    fn usable(&self, center: usize, region: usize) -> bool {
        self.supply[center] > 0.0 && self.weight[center * self.demand.len() + region].is_finite()
    }

    /// Each region's demand on its cheapest usable lane (the first center among equals), if no
    /// center is then asked for more than its supply.
    fn cheapest_lanes(&self) -> Option<Vec<f64>> {
        let centers = self.supply.len();
        let regions = self.demand.len();
        let mut flow = vec![0.0; centers * regions];
        let mut load = vec![0.0; centers];
        for (region, &demand) in self.demand.iter().enumerate() {
            if demand <= 0.0 {
                continue;
            }
            let lane = |center: usize| self.weight[center * regions + region];
            let cheapest = (0..centers)
                .filter(|&center| self.usable(center, region))
                .min_by(|&one, &other| lane(one).total_cmp(&lane(other)));
            if let Some(center) = cheapest {
                flow[center * regions + region] = demand;
                load[center] += demand;
            }
        }
        let fits = load
            .iter()
            .zip(self.supply)
            .all(|(load, supply)| load <= supply);
        fits.then_some(flow)
    }

    /// The shipments from the linear program in the module's documentation.
    fn solve(&self) -> Result<Vec<f64>, PlacementError> {
        let centers = self.supply.len();
        let regions = self.demand.len();
        let mut scale: f64 = 0.0;
        for region in (0..regions).filter(|&region| self.demand[region] > 0.0) {
            for center in (0..centers).filter(|&center| self.usable(center, region)) {
                scale = scale.max(self.weight[center * regions + region]);
            }
        }
        if scale <= 0.0 {
            scale = 1.0;
        }
        // Lossless: both counts are at most MAX_LANES.
        let penalty = 2.0 * (centers.min(regions) as f64 + 1.0);
        let mut program = microlp::Problem::new(OptimizationDirection::Minimize);
        let mut lanes: Vec<(usize, Variable)> = Vec::new();
        let mut by_center: Vec<Vec<(Variable, f64)>> = vec![Vec::new(); centers];
        for (region, &demand) in self.demand.iter().enumerate() {
            if demand <= 0.0 {
                continue;
            }
            let mut row = Vec::new();
            for center in (0..centers).filter(|&center| self.usable(center, region)) {
                let lane = center * regions + region;
                let variable = program.add_var(self.weight[lane] / scale, (0.0, f64::INFINITY));
                row.push((variable, 1.0));
                by_center[center].push((variable, 1.0));
                lanes.push((lane, variable));
            }
            if row.is_empty() {
                continue;
            }
            let unserved = program.add_var(penalty, (0.0, f64::INFINITY));
            row.push((unserved, 1.0));
            program.add_constraint(row, ComparisonOp::Eq, demand);
        }
        for (center, row) in by_center.into_iter().enumerate() {
            if !row.is_empty() {
                program.add_constraint(row, ComparisonOp::Le, self.supply[center]);
            }
        }
        let failed = |reason: String| PlacementError::Solver { reason };
        let solution = program
            .solve()
            .map_err(|error| failed(error.to_string()))?
            .into_solution()
            .map_err(|_| failed("the solve stopped before it had an answer".to_owned()))?;
        let mut flow = vec![0.0; centers * regions];
        for (lane, variable) in lanes {
            flow[lane] = solution.var_value(variable).max(0.0);
        }
        Ok(flow)
    }
}
