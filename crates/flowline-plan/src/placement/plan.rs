//! The fractional holdings of an optimal plan: the aggregate transportation problem over lanes,
//! split among the SKUs so as to leave stock where it is, and the stock beyond demand placed.

use super::PlacementError;
use super::network::Network;
use super::transport::Transport;

/// Holdings `hold[k][c]` at `k * centers + c`, each SKU's summing to what the network holds of it
/// and each center's within its capacity, up to the solver's tolerance.
///
/// # Errors
///
/// [`PlacementError::Solver`] if the solver fails numerically.
pub(super) fn holdings(network: &Network) -> Result<Vec<f64>, PlacementError> {
    let skus = network.skus();
    let centers = network.centers();
    let regions = network.regions();
    let mut demand = vec![0.0; regions];
    for sku in 0..skus {
        for (total, &units) in demand.iter_mut().zip(network.served(sku)) {
            *total += units;
        }
    }
    let supply: Vec<f64> = network
        .capacity()
        .iter()
        .map(|&units| units as f64)
        .collect();
    let flow = Transport {
        weight: network.weights(),
        supply: &supply,
        demand: &demand,
    }
    .ship()?;
    let mut split = Split {
        network,
        unused: network
            .current()
            .iter()
            .map(|&units| units as f64)
            .collect(),
        hold: vec![0.0; skus * centers],
    };
    for region in 0..regions {
        let lanes: Vec<f64> = (0..centers)
            .map(|center| flow[center * regions + region])
            .collect();
        split.region(region, lanes, demand[region]);
    }
    split.leftover();
    Ok(split.hold)
}

/// Which units a pass of the split or of the rounding may place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    /// Only the SKU's stock at the center today that the plan has not used yet.
    Held,
    /// Any units, as far as the lane or the room allows.
    Any,
}

/// Holdings being built, and the stock of today not yet used by them.
struct Split<'a> {
    network: &'a Network<'a>,
    /// Today's units at `k * centers + c` that no holding has used yet.
    unused: Vec<f64>,
    /// The holdings so far at `k * centers + c`.
    hold: Vec<f64>,
}

impl Split<'_> {
    /// Splits the units shipped to `region` on each lane (`lanes[c]`) among the SKUs, each SKU
    /// getting the same share of its demand there (all of it unless the lanes fall short of
    /// `demand`). Each lane is filled first with SKUs its center holds now, then with the others
    /// in order; the cost is the same whichever SKU a lane carries.
    fn region(&mut self, region: usize, mut lanes: Vec<f64>, demand: f64) {
        let shipped: f64 = lanes.iter().sum();
        if shipped <= 0.0 || demand <= 0.0 {
            return;
        }
        let share = (shipped / demand).min(1.0);
        let skus = self.network.skus();
        let mut wanted: Vec<f64> = (0..skus)
            .map(|sku| self.network.served(sku)[region] * share)
            .collect();
        for pass in [Pass::Held, Pass::Any] {
            for (sku, wanted) in wanted.iter_mut().enumerate() {
                self.fill(sku, wanted, &mut lanes, pass);
            }
        }
    }

    /// Puts up to `wanted` units of `sku` on the lanes with units left, in the centers' order.
    fn fill(&mut self, sku: usize, wanted: &mut f64, lanes: &mut [f64], pass: Pass) {
        let centers = lanes.len();
        for (center, lane) in lanes.iter_mut().enumerate() {
            if *wanted <= 0.0 {
                return;
            }
            let cell = sku * centers + center;
            let mut units = wanted.min(*lane);
            if pass == Pass::Held {
                units = units.min(self.unused[cell]);
            }
            if units > 0.0 {
                self.hold[cell] += units;
                self.unused[cell] = (self.unused[cell] - units).max(0.0);
                *lane -= units;
                *wanted -= units;
            }
        }
    }

    /// Places each SKU's units beyond its holdings so far: first where they are now, then at the
    /// centers with room in order, and any rounding residue at the center with the most room.
    fn leftover(&mut self) {
        let network = self.network;
        let centers = network.centers();
        let mut room: Vec<f64> = network
            .capacity()
            .iter()
            .map(|&units| units as f64)
            .collect();
        let mut left: Vec<f64> = network
            .available()
            .iter()
            .map(|&units| units as f64)
            .collect();
        for (cell, &units) in self.hold.iter().enumerate() {
            room[cell % centers] -= units;
            left[cell / centers] -= units;
        }
        for pass in [Pass::Held, Pass::Any] {
            for (sku, left) in left.iter_mut().enumerate() {
                for (center, room) in room.iter_mut().enumerate() {
                    let cell = sku * centers + center;
                    let mut units = left.min(*room);
                    if pass == Pass::Held {
                        units = units.min(self.unused[cell]);
                    }
                    if units > 0.0 {
                        self.hold[cell] += units;
                        *room -= units;
                        *left -= units;
                    }
                }
            }
        }
        for (sku, &left) in left.iter().enumerate() {
            let roomiest = (0..centers).max_by(|&one, &other| room[one].total_cmp(&room[other]));
            if let (true, Some(center)) = (left > 0.0, roomiest) {
                self.hold[sku * centers + center] += left;
                room[center] -= left;
            }
        }
    }
}
