//! What the fold produces per local day and slice: the [`Bucket`] of counters (every field a
//! sum, so buckets add over days and slices), the indices of its ledger balances
//! ([`balance`]), and the [`Series`] kept as distributions beside it.

use serde::{Deserialize, Serialize};

/// Counters of one day and slice. Every field is a sum, so buckets add over days and slices,
/// and a late fact is taken back by adding its contribution with the opposite sign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Orders closed for measurement.
    pub orders_closed: i64,
    /// Of those, out of the population (customer cancellations, excluded reasons).
    pub orders_excluded: i64,
    /// Closed orders in the population (the natural population of RL.2.1, RL.2.3, RL.2.4).
    pub orders_judged: i64,
    /// Of those, with a commitment (the population of RL.1.1 and RL.2.2).
    pub orders_with_commit: i64,
    /// Failures per component over the natural population (on time: over orders with a
    /// commitment).
    pub failures_natural: [i64; 4],
    /// Failures per component over orders with a commitment.
    pub failures_committed: [i64; 4],
    /// Orders with a commitment both on time and in full.
    pub on_time_in_full: i64,
    /// Orders with a commitment by failure signature (index = signature; 0 = perfect).
    pub signatures: [i64; 16],
    /// Orders with a commitment and a delivery (the population of on-time delivery among
    /// delivered orders, which leaves out orders closed by cancellation alone).
    pub delivered_with_commit: i64,
    /// Of those, late or delivered to the wrong place.
    pub delivered_late: i64,
    /// Closed orders with a delivery: the population of the cycle times.
    pub cycle_orders: i64,
    /// Their placement-to-last-delivery times, seconds.
    pub cycle_gross_seconds: i128,
    /// Their times per segment, seconds.
    pub cycle_segment_seconds: [i128; 7],
    /// Orders at their first allocation.
    pub fill_orders: i64,
    /// Of those, allocated complete at once.
    pub fill_orders_complete: i64,
    /// Lines at their order's first allocation.
    pub fill_lines: i64,
    /// Of those, allocated complete at once.
    pub fill_lines_complete: i64,
    /// Units ordered at the first allocation.
    pub fill_units_ordered: i64,
    /// Units allocated by it.
    pub fill_units_allocated: i64,
    /// Orders with a unit backordered at the first allocation.
    pub backordered_orders: i64,
    /// Orders whose first shipment left this day.
    pub orders_shipped: i64,
    /// Units shipped this day.
    pub units_shipped: i64,
    /// Units sold (ordered) this day: the sale cohort.
    pub cohort_units_sold: i64,
    /// Units of this day's sales later authorised for return.
    pub cohort_units_returned: i64,
    /// Units authorised for return this day.
    pub units_returned: i64,
    /// Returns refunded this day after being received.
    pub returns_processed: i64,
    /// Their receipt-to-refund times, seconds.
    pub return_processing_seconds: i128,
    /// Refunds issued before the goods came back (instant refunds), counted apart.
    pub returns_refunded_before_receipt: i64,
    /// Orders whose ship-by deadline fell this day.
    pub ship_deadlines: i64,
    /// Of those, handed to a carrier by the deadline.
    pub ship_on_time: i64,
    /// Purchase orders closed for measurement (received in full, or closed short).
    pub supplier_orders: i64,
    /// Of those, with a supplier commitment.
    pub supplier_orders_with_commit: i64,
    /// Failures per component over the supplier orders (on time: over those with a
    /// commitment).
    pub supplier_failures: [i64; 4],
    /// Supplier orders with a commitment and no failure.
    pub supplier_perfect: i64,
    /// Receipt lines put away.
    pub dock_lines: i64,
    /// Their dock-to-stock times, seconds.
    pub dock_seconds: i128,
    /// Shipments handed to carriers.
    pub shipments: i64,
    /// Of those, with a known distance and factor: the shipments [`Bucket::emissions_mg`]
    /// counts.
    pub emission_shipments: i64,
    /// Of those, left out of the emission figures: no distance (neither end located, or both on
    /// the same centroid) or no factor for the service's mode in the set.
    pub emission_shipments_left_out: i64,
    /// Emissions of the counted shipments, milligrams CO2e (each rounded half to even).
    pub emissions_mg: i128,
    /// Their gross mass × distance, gram-metres (10⁹ per tonne-kilometre).
    pub gram_metres: i128,
    /// Return legs (customer → the center that shipped the order) whose goods arrived, with a
    /// known distance and factor.
    pub return_legs: i64,
    /// Return legs left out of the emission figures, for the same reasons as shipments.
    pub return_legs_left_out: i64,
    /// Emissions of the counted return legs, milligrams CO2e.
    pub return_emissions_mg: i128,
    /// Their mass × distance, gram-metres.
    pub return_gram_metres: i128,
    /// Seconds items were stocked at centers (from an item's first arrival at a center on).
    pub stock_seconds: i128,
    /// Of those, seconds with nothing available (on hand less reserved at or below zero).
    pub stockout_seconds: i128,
    /// Counted item-locations.
    pub counted_lines: i64,
    /// Of those, matching the ledger.
    pub counted_lines_matching: i64,
    /// Value the ledger held for the counted items, at standard cost.
    pub counted_system_value: i128,
    /// Absolute value of the differences found, at standard cost.
    pub counted_difference_value: i128,
    /// Expensed supply chain cost per SCOR process (plan, source, make, deliver, return,
    /// enable), base currency minor units.
    pub cost: [i128; 6],
    /// Revenue earned (invoices less credit notes).
    pub revenue: i128,
    /// Refunds paid.
    pub refunds: i128,
    /// Cost of goods sold, write-downs included.
    pub cost_of_goods_sold: i128,
    /// Material purchases: the value of goods received from suppliers.
    pub purchases: i128,
    /// Net change of the inventory, receivables, payables and supply-chain fixed assets
    /// (net book value) balances this day.
    pub balance_change: [i128; 4],
    /// Σ change × seconds from the change to the end of the day, per balance: with the opening
    /// balance this gives the day's time-weighted integral exactly.
    pub balance_weighted: [i128; 4],
}

/// Indices into [`Bucket::balance_change`].
pub mod balance {
    /// Inventory at cost.
    pub const INVENTORY: usize = 0;
    /// Accounts receivable.
    pub const RECEIVABLES: usize = 1;
    /// Accounts payable (owed: positive).
    pub const PAYABLES: usize = 2;
    /// Net book value of supply-chain fixed assets.
    pub const FIXED_ASSETS: usize = 3;
}

fn add_array<const N: usize, T: Copy + std::ops::AddAssign>(into: &mut [T; N], from: &[T; N]) {
    for (target, value) in into.iter_mut().zip(from) {
        *target += *value;
    }
}

impl Bucket {
    /// Adds another bucket.
    pub fn merge(&mut self, other: &Self) {
        self.orders_closed += other.orders_closed;
        self.orders_excluded += other.orders_excluded;
        self.orders_judged += other.orders_judged;
        self.orders_with_commit += other.orders_with_commit;
        add_array(&mut self.failures_natural, &other.failures_natural);
        add_array(&mut self.failures_committed, &other.failures_committed);
        self.on_time_in_full += other.on_time_in_full;
        add_array(&mut self.signatures, &other.signatures);
        self.delivered_with_commit += other.delivered_with_commit;
        self.delivered_late += other.delivered_late;
        self.cycle_orders += other.cycle_orders;
        self.cycle_gross_seconds += other.cycle_gross_seconds;
        add_array(
            &mut self.cycle_segment_seconds,
            &other.cycle_segment_seconds,
        );
        self.fill_orders += other.fill_orders;
        self.fill_orders_complete += other.fill_orders_complete;
        self.fill_lines += other.fill_lines;
        self.fill_lines_complete += other.fill_lines_complete;
        self.fill_units_ordered += other.fill_units_ordered;
        self.fill_units_allocated += other.fill_units_allocated;
        self.backordered_orders += other.backordered_orders;
        self.orders_shipped += other.orders_shipped;
        self.units_shipped += other.units_shipped;
        self.cohort_units_sold += other.cohort_units_sold;
        self.cohort_units_returned += other.cohort_units_returned;
        self.units_returned += other.units_returned;
        self.returns_processed += other.returns_processed;
        self.return_processing_seconds += other.return_processing_seconds;
        self.returns_refunded_before_receipt += other.returns_refunded_before_receipt;
        self.ship_deadlines += other.ship_deadlines;
        self.ship_on_time += other.ship_on_time;
        self.supplier_orders += other.supplier_orders;
        self.supplier_orders_with_commit += other.supplier_orders_with_commit;
        add_array(&mut self.supplier_failures, &other.supplier_failures);
        self.supplier_perfect += other.supplier_perfect;
        self.dock_lines += other.dock_lines;
        self.dock_seconds += other.dock_seconds;
        self.shipments += other.shipments;
        self.emission_shipments += other.emission_shipments;
        self.emission_shipments_left_out += other.emission_shipments_left_out;
        self.emissions_mg += other.emissions_mg;
        self.gram_metres += other.gram_metres;
        self.return_legs += other.return_legs;
        self.return_legs_left_out += other.return_legs_left_out;
        self.return_emissions_mg += other.return_emissions_mg;
        self.return_gram_metres += other.return_gram_metres;
        self.stock_seconds += other.stock_seconds;
        self.stockout_seconds += other.stockout_seconds;
        self.counted_lines += other.counted_lines;
        self.counted_lines_matching += other.counted_lines_matching;
        self.counted_system_value += other.counted_system_value;
        self.counted_difference_value += other.counted_difference_value;
        add_array(&mut self.cost, &other.cost);
        self.revenue += other.revenue;
        self.refunds += other.refunds;
        self.cost_of_goods_sold += other.cost_of_goods_sold;
        self.purchases += other.purchases;
        add_array(&mut self.balance_change, &other.balance_change);
        add_array(&mut self.balance_weighted, &other.balance_weighted);
    }

    /// Whether every counter is zero.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The series kept as distributions (for medians and percentiles), tenant-wide only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// RS.1.1, net of dwell.
    CycleTime,
    /// Click-to-door, gross.
    ClickToDoor,
    /// Dock-to-stock.
    DockToStock,
    /// Return receipt to refund.
    ReturnProcessing,
}
