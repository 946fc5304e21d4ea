//! Whole units: each SKU's fractional holdings rounded keeping its total and every center's
//! capacity, and the transfers from today's stock to the rounded targets.

use super::network::Network;
use super::plan::Pass;
use super::{Move, PlacementError};

/// Whole-unit targets at `k * centers + c` from fractional holdings `hold`: each SKU's summing to
/// what the network holds of it, each center's within its capacity.
///
/// Floors first; then the units each SKU still needs, one at a time to its largest remainders
/// (ties to the center that holds more of the SKU now, then to the first SKU and center), skipping
/// full centers; then any unit still needed to a center with room, first one that holds more of
/// the SKU now than its target, then in order. A capacity the floors exceed, which only the
/// solver's tolerance can cause, is first brought back by taking units off the first SKUs there.
///
/// # Errors
///
/// [`PlacementError::Solver`] if the capacities cannot take the units, which the checks on the
/// problem rule out.
pub(super) fn to_units(network: &Network, hold: &[f64]) -> Result<Vec<u64>, PlacementError> {
    let mut rounding = Rounding::floors(network, hold);
    rounding.largest_remainders(hold);
    rounding.place_missing()?;
    Ok(rounding.units)
}

/// Whole units being rounded, with what each SKU still needs and each center still has room for.
struct Rounding<'a> {
    network: &'a Network<'a>,
    /// Units at `k * centers + c`.
    units: Vec<u64>,
    /// Units each SKU still needs to reach what the network holds of it.
    missing: Vec<u64>,
    /// Units each center can still take.
    room: Vec<u64>,
}

impl<'a> Rounding<'a> {
    /// The floors of `hold`, within each SKU's total and each center's capacity.
    fn floors(network: &'a Network<'a>, hold: &[f64]) -> Self {
        let centers = network.centers();
        let available = network.available();
        let mut units: Vec<u64> = hold
            .iter()
            .enumerate()
            .map(|(cell, &held)| held.clamp(0.0, available[cell / centers] as f64).floor() as u64)
            .collect();
        let mut missing = Vec::with_capacity(available.len());
        for (row, &available) in units.chunks_mut(centers.max(1)).zip(available) {
            let mut excess = row.iter().sum::<u64>().saturating_sub(available);
            for units in row.iter_mut() {
                let taken = excess.min(*units);
                *units -= taken;
                excess -= taken;
            }
            missing.push(available - row.iter().sum::<u64>());
        }
        let mut room = Vec::with_capacity(centers);
        for (center, &capacity) in network.capacity().iter().enumerate() {
            let cells = (center..units.len()).step_by(centers);
            let held: u64 = cells.clone().map(|cell| units[cell]).sum();
            let mut excess = held.saturating_sub(capacity);
            for cell in cells.clone() {
                let taken = excess.min(units[cell]);
                units[cell] -= taken;
                missing[cell / centers] += taken;
                excess -= taken;
            }
            room.push(capacity - cells.map(|cell| units[cell]).sum::<u64>());
        }
        Self {
            network,
            units,
            missing,
            room,
        }
    }

    /// One unit to each of the largest remainders `hold − units` whose SKU still needs one and
    /// whose center has room, largest first (ties to more stock there now, then in order).
    fn largest_remainders(&mut self, hold: &[f64]) {
        let centers = self.network.centers();
        let current = self.network.current();
        let mut remainders: Vec<(f64, u64, usize)> = hold
            .iter()
            .enumerate()
            .map(|(cell, &held)| (held - self.units[cell] as f64, current[cell], cell))
            .filter(|&(remainder, _, _)| remainder > 0.0)
            .collect();
        remainders.sort_by(|one, other| {
            (other.0.total_cmp(&one.0))
                .then(other.1.cmp(&one.1))
                .then(one.2.cmp(&other.2))
        });
        for (_, _, cell) in remainders {
            let (sku, center) = (cell / centers, cell % centers);
            if self.missing[sku] > 0 && self.room[center] > 0 {
                self.units[cell] += 1;
                self.missing[sku] -= 1;
                self.room[center] -= 1;
            }
        }
    }

    /// The units still missing to centers with room: first where the SKU has more now than its
    /// units, then in order.
    fn place_missing(&mut self) -> Result<(), PlacementError> {
        let centers = self.network.centers();
        let current = self.network.current();
        for (sku, missing) in self.missing.iter_mut().enumerate() {
            let row = sku * centers..(sku + 1) * centers;
            for pass in [Pass::Held, Pass::Any] {
                for (center, cell) in row.clone().enumerate() {
                    let mut given = (*missing).min(self.room[center]);
                    if pass == Pass::Held {
                        given = given.min(current[cell].saturating_sub(self.units[cell]));
                    }
                    self.units[cell] += given;
                    self.room[center] -= given;
                    *missing -= given;
                }
            }
            if *missing > 0 {
                // The capacities hold every unit (checked on the problem): unreachable.
                return Err(PlacementError::Solver {
                    reason: format!("rounding found no room for {missing} units of SKU {sku}"),
                });
            }
        }
        Ok(())
    }
}

/// Transfers that turn today's stock into `targets` (at `k * centers + c`): for each SKU, from
/// the centers above their target to those below it, both in the order the centers are given.
pub(super) fn transfers(network: &Network, targets: &[u64]) -> Vec<Move> {
    let problem = network.problem();
    let centers = network.centers();
    let current = network.current();
    let mut moves = Vec::new();
    for sku in 0..network.skus() {
        let row = sku * centers..(sku + 1) * centers;
        let mut surplus: Vec<(usize, u64)> = Vec::new();
        let mut deficit: Vec<(usize, u64)> = Vec::new();
        for (center, cell) in row.enumerate() {
            if current[cell] > targets[cell] {
                surplus.push((center, current[cell] - targets[cell]));
            } else if targets[cell] > current[cell] {
                deficit.push((center, targets[cell] - current[cell]));
            }
        }
        let mut receivers = deficit.into_iter();
        let mut receiver = receivers.next();
        for (from, mut quantity) in surplus {
            while let (true, Some((to, wanted))) = (quantity > 0, receiver.as_mut()) {
                let moved = quantity.min(*wanted);
                moves.push(Move {
                    sku: problem.skus[sku].clone(),
                    from: problem.centers[from].clone(),
                    to: problem.centers[*to].clone(),
                    quantity: moved,
                });
                quantity -= moved;
                *wanted -= moved;
                if *wanted == 0 {
                    receiver = receivers.next();
                }
            }
        }
    }
    moves
}
