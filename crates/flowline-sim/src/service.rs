//! The cycle service level a run achieved, as a planner measures it against a target.
//!
//! A replenishment cycle of a bought item at a center runs from the receipt of one purchase
//! order of it there to the receipt of the next (the first part of a delivery: the balance of a
//! short delivery belongs to the same order). The cycle had a stock-out if, at any hour of it,
//! nothing of the item was available there (on hand less reserved, read from the engine at the
//! start of every hour). The cycle service level achieved is the share of cycles without a
//! stock-out. The time before an item's first receipt at a center (the opening stock, which no
//! policy chose) and each item's last cycle, still open when the run ends, are not counted.

use serde::Serialize;

/// Replenishment cycles and the cycle service level they achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CycleService {
    /// Cycles that ended (by the next receipt) during the run.
    pub cycles: u64,
    /// Of those, the ones in which the item never ran out at the center.
    pub without_stockout: u64,
    /// The cycle service level the policy aims for (the `planner`'s `service_level`, or
    /// `Φ(safety_z)` for the `fixed` rule).
    pub target: f64,
}

impl CycleService {
    /// The share of cycles without a stock-out, 0 to 1; `None` before any cycle ended.
    pub fn achieved(&self) -> Option<f64> {
        (self.cycles > 0).then(|| self.without_stockout as f64 / self.cycles as f64)
    }
}

/// Follows every item × center's cycles.
#[derive(Debug, Clone)]
pub(crate) struct CycleTracker {
    /// Per cell: whether a cycle is open (a receipt has started one).
    open: Vec<bool>,
    /// Per cell: whether the open cycle has had a stock-out.
    short: Vec<bool>,
    pub(crate) service: CycleService,
}

impl CycleTracker {
    pub(crate) fn new(cells: usize, target: f64) -> Self {
        Self {
            open: vec![false; cells],
            short: vec![false; cells],
            service: CycleService {
                target,
                ..CycleService::default()
            },
        }
    }

    /// What was available at `cell` at the start of an hour.
    pub(crate) fn observe(&mut self, cell: usize, available: i64) {
        if available <= 0 && self.open[cell] {
            self.short[cell] = true;
        }
    }

    /// A purchase order's first receipt at `cell`: the open cycle ends, a new one starts.
    /// Returns whether the cycle that ended had a stock-out (`None` if none was open).
    pub(crate) fn receipt(&mut self, cell: usize) -> Option<bool> {
        let ended = self.open[cell].then_some(self.short[cell]);
        if let Some(short) = ended {
            self.service.cycles += 1;
            if !short {
                self.service.without_stockout += 1;
            }
        }
        self.open[cell] = true;
        self.short[cell] = false;
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::CycleTracker;

    #[test]
    fn cycles_are_counted_from_receipt_to_receipt() {
        // One item at one center, hour by hour (available units at the start of the hour, R a
        // receipt during that hour):
        //   opening stock 5, 0 (out before any receipt: no cycle yet), R
        //   cycle 1: 40, 12, 3, R                 -> no stock-out
        //   cycle 2: 30, 0, 0, 8, R               -> stock-out
        //   cycle 3: 25, 1, R                     -> no stock-out
        //   cycle 4: 20, 0 (the run ends)         -> still open, not counted
        // Three cycles ended, two without a stock-out: 2 / 3 = 66.7 %.
        let mut tracker = CycleTracker::new(1, 0.95);
        let hours: &[(i64, bool)] = &[
            (5, false),
            (0, true),
            (40, false),
            (12, false),
            (3, true),
            (30, false),
            (0, false),
            (0, false),
            (8, true),
            (25, false),
            (1, true),
            (20, false),
            (0, false),
        ];
        for &(available, received) in hours {
            tracker.observe(0, available);
            if received {
                tracker.receipt(0);
            }
        }
        let service = tracker.service;
        assert_eq!((service.cycles, service.without_stockout), (3, 2));
        let achieved = service.achieved().unwrap_or(f64::NAN);
        assert!((achieved - 2.0 / 3.0).abs() < 1e-12, "{achieved}");
        assert_eq!(service.target, 0.95);
    }

    #[test]
    fn cells_are_followed_apart_and_no_cycle_means_no_level() {
        // Cell 0 runs out in its only cycle; cell 1 never does; cell 2 has no receipt at all.
        let mut tracker = CycleTracker::new(3, 0.9);
        assert_eq!(tracker.service.achieved(), None);
        for cell in 0..3 {
            tracker.observe(cell, 0);
        }
        tracker.receipt(0);
        tracker.receipt(1);
        tracker.observe(0, 0);
        tracker.observe(1, 7);
        tracker.observe(2, 0);
        tracker.receipt(0);
        tracker.receipt(1);
        // Two cycles ended (one per cell with two receipts), one without a stock-out.
        assert_eq!(
            (tracker.service.cycles, tracker.service.without_stockout),
            (2, 1)
        );
        assert_eq!(tracker.service.achieved(), Some(0.5));
    }
}
