//! The scorecard: the fold's buckets summed over a range of days for one slice, turned into
//! Level-1 metrics with the Level-2 metrics that explain them (on the same population) and the
//! operational KPIs beside them.
//!
//! Every value is a [`MetricValue`]: an exact ratio, its population and, where some candidates
//! cannot be judged, its coverage. Reliability and return figures of a range are provisional
//! until the observation window after its last day has passed (late returns, claims and credit
//! notes can still change them).

use crate::fold::{Bucket, EmissionSettings, Fold, Series, Slice, balance};
use crate::order::{Component, Segment, signature_name};
use crate::period::Range;
use crate::value::{Coverage, MetricValue, Ratio, Unit};
use flowline_core::ledger::ScorProcess;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The SCOR reference of a metric: version and code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorReference {
    /// SCOR version (`12.0`, `DS`).
    pub version: String,
    /// Code (`RL.1.1`).
    pub code: String,
}

/// A metric's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    /// Stable Flowline id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// SCOR code in SCOR 12 numbering (or DS where it only exists there); empty if none.
    pub scor_code: &'static str,
    /// Whether higher values are better.
    pub higher_is_better: bool,
}

/// Every metric the scorecard computes, with its name and SCOR code.
#[rustfmt::skip]
pub const METRICS: &[MetricInfo] = &[
    MetricInfo { id: "rl.perfect_order", name: "Perfect Order Fulfillment", scor_code: "RL.1.1", higher_is_better: true },
    MetricInfo { id: "rl.in_full", name: "% of Orders Delivered in Full", scor_code: "RL.2.1", higher_is_better: true },
    MetricInfo { id: "rl.on_time", name: "Delivery Performance to Original Commit Date", scor_code: "RL.2.2", higher_is_better: true },
    MetricInfo { id: "rl.documentation", name: "Documentation Accuracy", scor_code: "RL.2.3", higher_is_better: true },
    MetricInfo { id: "rl.condition", name: "Perfect Condition", scor_code: "RL.2.4", higher_is_better: true },
    MetricInfo { id: "rl.otif", name: "On Time In Full", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.on_time.delivered", name: "On time, delivered orders with a commitment", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.perfect_order.product", name: "Product of the four components (comparison only)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.perfect_supplier_order", name: "Perfect Supplier Order Fulfillment", scor_code: "RL.1.2", higher_is_better: true },
    MetricInfo { id: "rs.order_cycle_time", name: "Order Fulfillment Cycle Time", scor_code: "RS.1.1", higher_is_better: false },
    MetricInfo { id: "rs.source_cycle_time", name: "Source Cycle Time", scor_code: "RS.2.1", higher_is_better: false },
    MetricInfo { id: "rs.make_cycle_time", name: "Make Cycle Time", scor_code: "RS.2.2", higher_is_better: false },
    MetricInfo { id: "rs.deliver_cycle_time", name: "Deliver Cycle Time", scor_code: "RS.2.3", higher_is_better: false },
    MetricInfo { id: "rs.click_to_door", name: "Click-to-door (gross)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "co.total_cost", name: "Total Supply Chain Management Cost", scor_code: "CO.1.001", higher_is_better: false },
    MetricInfo { id: "co.total_cost.share_of_revenue", name: "Total SC Management Cost, % of revenue", scor_code: "CO.1.001", higher_is_better: false },
    MetricInfo { id: "co.cost_of_goods_sold", name: "Cost of Goods Sold", scor_code: "CO.1.002", higher_is_better: false },
    MetricInfo { id: "co.cost_of_goods_sold.share_of_revenue", name: "Cost of Goods Sold, % of revenue", scor_code: "CO.1.002", higher_is_better: false },
    MetricInfo { id: "co.cost_per_order", name: "Deliver cost per order shipped", scor_code: "", higher_is_better: false },
    MetricInfo { id: "co.total_cost_per_order", name: "Total SC management cost per order shipped", scor_code: "", higher_is_better: false },
    MetricInfo { id: "am.cash_to_cash", name: "Cash-to-Cash Cycle Time", scor_code: "AM.1.1", higher_is_better: false },
    MetricInfo { id: "am.inventory_days", name: "Inventory Days of Supply", scor_code: "AM.2.2", higher_is_better: false },
    MetricInfo { id: "am.receivable_days", name: "Days Sales Outstanding", scor_code: "AM.2.1", higher_is_better: false },
    MetricInfo { id: "am.payable_days", name: "Days Payable Outstanding", scor_code: "AM.2.3", higher_is_better: true },
    MetricInfo { id: "am.return_on_fixed_assets", name: "Return on Supply Chain Fixed Assets", scor_code: "AM.1.2", higher_is_better: true },
    MetricInfo { id: "am.return_on_working_capital", name: "Return on Working Capital", scor_code: "AM.1.3", higher_is_better: true },
    MetricInfo { id: "am.inventory_turns", name: "Inventory turns (annualised)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "env.ghg_per_shipment", name: "CO2e per shipment", scor_code: "", higher_is_better: false },
    MetricInfo { id: "env.ghg_per_order", name: "CO2e per order shipped", scor_code: "", higher_is_better: false },
    MetricInfo { id: "env.ghg_total", name: "CO2e of shipments and return legs", scor_code: "", higher_is_better: false },
    MetricInfo { id: "env.ghg_returns", name: "CO2e of return legs", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.unit_fill_rate", name: "Unit fill rate (first allocation)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "ops.line_fill_rate", name: "Line fill rate (first allocation)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "ops.order_fill_rate", name: "Order fill rate (first allocation)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "ops.backorder_rate", name: "Backorder rate", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.on_time_ship", name: "On-time ship rate", scor_code: "", higher_is_better: true },
    MetricInfo { id: "ops.dock_to_stock", name: "Dock-to-stock time", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.return_rate", name: "Return rate (units, by period)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.return_rate.cohort", name: "Return rate (units, by sale cohort)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.return_processing_time", name: "Return processing time (receipt to refund)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.inventory_accuracy", name: "Inventory record accuracy (count-based)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "ops.stockout_rate", name: "Stockout rate (stocked item-center time with nothing available)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.inventory_accuracy.value", name: "Inventory record accuracy (value-based)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.in_full.natural", name: "Delivered in full, all judged orders", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.on_time.natural", name: "On time, all orders with a commitment", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.documentation.natural", name: "Documentation accurate, all judged orders", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.condition.natural", name: "Perfect condition, all judged orders", scor_code: "", higher_is_better: true },
    MetricInfo { id: "rl.supplier_in_full", name: "Supplier orders delivered in full", scor_code: "RL.2.5", higher_is_better: true },
    MetricInfo { id: "rl.supplier_on_time", name: "Supplier delivery to original commit date", scor_code: "RL.2.6", higher_is_better: true },
    MetricInfo { id: "rl.supplier_documentation", name: "Supplier order documentation accuracy", scor_code: "RL.2.7", higher_is_better: true },
    MetricInfo { id: "rl.supplier_condition", name: "Supplier order perfect condition", scor_code: "RL.2.8", higher_is_better: true },
    MetricInfo { id: "rs.order_cycle_time.median", name: "Order fulfillment cycle time, median", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.order_cycle_time.p90", name: "Order fulfillment cycle time, 90th percentile", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.click_to_door.median", name: "Click-to-door, median", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.click_to_door.p90", name: "Click-to-door, 90th percentile", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.entry", name: "Segment: order entry (Deliver)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.supply_wait", name: "Segment: waiting for stock (Source)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.make_queue", name: "Segment: waiting for the work order (Make)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.make", name: "Segment: work order (Make)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.warehouse", name: "Segment: pick, pack, hand-over (Deliver)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.transit", name: "Segment: carrier transit (Deliver)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "rs.segment.dwell", name: "Segment: customer dwell (excluded)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "co.cost.plan", name: "Cost to Plan", scor_code: "CO.2.001", higher_is_better: false },
    MetricInfo { id: "co.cost.source", name: "Cost to Source", scor_code: "CO.2.002", higher_is_better: false },
    MetricInfo { id: "co.cost.make", name: "Cost to Make", scor_code: "CO.2.003", higher_is_better: false },
    MetricInfo { id: "co.cost.deliver", name: "Cost to Deliver", scor_code: "CO.2.004", higher_is_better: false },
    MetricInfo { id: "co.cost.return", name: "Cost to Return", scor_code: "CO.2.005", higher_is_better: false },
    MetricInfo { id: "co.cost.enable", name: "Cost to Enable (incl. mitigation)", scor_code: "", higher_is_better: false },
    MetricInfo { id: "co.revenue", name: "Net revenue (invoiced less credit notes and refunds)", scor_code: "", higher_is_better: true },
    MetricInfo { id: "env.ghg_per_tonne_km", name: "CO2e per tonne-kilometre", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.dock_to_stock.median", name: "Dock-to-stock time, median", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.dock_to_stock.p90", name: "Dock-to-stock time, 90th percentile", scor_code: "", higher_is_better: false },
    MetricInfo { id: "ops.return_processing_time.median", name: "Return processing time, median", scor_code: "", higher_is_better: false },
];

/// The identity of a metric id, if it is one.
pub fn metric_info(id: &str) -> Option<&'static MetricInfo> {
    METRICS.iter().find(|info| info.id == id)
}

/// One Level-1 metric with what explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level1 {
    /// The L1 value.
    pub value: MetricValue,
    /// Its L2 values, on the same population.
    pub level2: Vec<MetricValue>,
}

/// A failure signature and how many orders have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureCount {
    /// `{late, condition}`.
    pub signature: String,
    /// The bits.
    pub bits: u8,
    /// Orders.
    pub orders: i64,
}

/// A return reason and the units authorised for return with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReason {
    /// The reason code, `damaged_in_transit`.
    pub reason: String,
    /// Units.
    pub units: i64,
}

/// The scorecard of one range and slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// The days covered.
    pub range: Range,
    /// The slice.
    pub slice: Slice,
    /// Whether late facts can still change reliability and return figures.
    pub provisional: bool,
    /// The Level-1 metrics with their Level-2 metrics.
    pub level1: Vec<Level1>,
    /// The imperfect orders by failure signature (they add up to the imperfect count).
    pub signatures: Vec<SignatureCount>,
    /// Operational KPIs.
    pub operational: Vec<MetricValue>,
    /// Units authorised for return by reason, most first (a Pareto).
    pub return_reasons: Vec<ReturnReason>,
}

impl Scorecard {
    /// Every value, Level 1, Level 2 and operational, in order.
    pub fn values(&self) -> impl Iterator<Item = &MetricValue> {
        self.level1
            .iter()
            .flat_map(|l1| std::iter::once(&l1.value).chain(l1.level2.iter()))
            .chain(self.operational.iter())
    }

    /// The value of a metric id.
    pub fn value(&self, id: &str) -> Option<&MetricValue> {
        self.values().find(|value| value.id == id)
    }
}

/// The bucket of a slice summed over a range of days.
pub fn total(fold: &Fold, range: Range, slice: &Slice) -> Bucket {
    let mut total = Bucket::default();
    for (day, bucket) in fold.slice_buckets(slice) {
        if range.contains(day) {
            bucket.add_to(&mut total);
        }
    }
    total
}

/// Time-weighted average balances over the range (inventory, receivables, payables, supply-chain
/// fixed assets), as exact (integral in minor-unit-seconds, seconds) pairs.
pub fn average_balances(fold: &Fold, range: Range) -> [Ratio; 4] {
    let zone = &fold.settings().reporting;
    let mut by_day: Vec<(crate::period::Day, Bucket)> = fold
        .slice_buckets(&Slice::All)
        .map(|(day, bucket)| (day, bucket.bucket().into_owned()))
        .collect();
    by_day.sort_by_key(|(day, _)| *day);
    let mut opening = [0i128; 4];
    for (day, bucket) in &by_day {
        if *day < range.from {
            for (balance, change) in opening.iter_mut().zip(bucket.balance_change) {
                *balance += change;
            }
        }
    }
    let seconds = i128::from(range.seconds(zone));
    // ∫ balance dt = opening × length + Σ change × (seconds from the change to the range's end),
    // and a change at t on day d reaches the range's end through the rest of d and the days
    // after it: Σ_d [weighted(d) + change(d) × seconds(end of d → end of range)].
    let mut integral = opening.map(|balance| balance * seconds);
    let range_end = range.to.start(zone);
    for (day, bucket) in &by_day {
        if range.contains(*day) {
            let after = i128::from(range_end.duration_since(day.next().start(zone)).as_secs());
            for ((sum, weighted), change) in integral
                .iter_mut()
                .zip(bucket.balance_weighted)
                .zip(bucket.balance_change)
            {
                *sum += weighted + change * after;
            }
        }
    }
    integral.map(|value| Ratio::new(value, seconds))
}

fn share(id: &str, good: i64, population: i64) -> MetricValue {
    MetricValue::new(
        id,
        Ratio::new(i128::from(good), i128::from(population)),
        Unit::Percent,
        population.max(0) as u64,
    )
}

fn duration(id: &str, seconds: i128, count: i64, unit: Unit) -> MetricValue {
    MetricValue::new(
        id,
        Ratio::new(seconds, i128::from(count)),
        unit,
        count.max(0) as u64,
    )
}

fn money(id: &str, amount: i128, population: u64) -> MetricValue {
    MetricValue::new(id, Ratio::new(amount, 1), Unit::Money, population)
}

fn seconds_value(id: &str, seconds: Option<f64>, count: i64, unit: Unit) -> MetricValue {
    // A percentile is a sample (or the mean of two): kept as milliseconds over 1000.
    let ratio = match seconds {
        Some(value) => Ratio::new((value * 1000.0).round() as i128, 1000),
        None => Ratio::new(0, 0),
    };
    MetricValue::new(id, ratio, unit, count.max(0) as u64)
}

/// The distribution of a series over the range (tenant-wide).
pub fn distribution(fold: &Fold, range: Range, series: Series) -> crate::histogram::Histogram {
    let days = std::iter::successors(Some(range.from), |day| Some(day.next()))
        .take_while(|day| *day < range.to);
    crate::histogram::Histogram::total(days.filter_map(|day| fold.series(day, series)))
}

/// The scorecard of `range` for `slice`, as of `as_of` (which decides what is provisional).
pub fn scorecard(fold: &Fold, range: Range, slice: &Slice, as_of: Timestamp) -> Scorecard {
    let mut bucket = total(fold, range, slice);
    let (stocked, out) = fold.open_availability(range, slice, as_of);
    bucket.stock_seconds += stocked;
    bucket.stockout_seconds += out;
    let zone = &fold.settings().reporting;
    let window = fold.settings().rules.observation_window_days;
    let provisional = jiff::SignedDuration::try_from_hours(window.saturating_mul(24))
        .and_then(|span| range.to.start(zone).checked_add(span).ok())
        .is_none_or(|settled| as_of < settled);
    let mut level1 = vec![
        reliability(&bucket, provisional),
        responsiveness(fold, range, slice, &bucket),
        cost(&bucket),
        cost_of_goods_sold(&bucket),
    ];
    if *slice == Slice::All {
        level1.extend(assets(fold, range, &bucket));
    }
    level1.push(supplier(&bucket));
    level1.push(emissions(&bucket, &fold.settings().emissions));
    let signatures = (1u8..16)
        .filter(|bits| bucket.signatures[usize::from(*bits)] != 0)
        .map(|bits| SignatureCount {
            signature: signature_name(bits),
            bits,
            orders: bucket.signatures[usize::from(bits)],
        })
        .collect();
    Scorecard {
        range,
        slice: slice.clone(),
        provisional,
        level1,
        signatures,
        operational: operational(fold, range, slice, &bucket, provisional),
        return_reasons: if *slice == Slice::All {
            fold.return_reasons(range)
                .into_iter()
                .map(|(reason, units)| ReturnReason { reason, units })
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn reliability(bucket: &Bucket, provisional: bool) -> Level1 {
    let committed = bucket.orders_with_commit;
    let judged = bucket.orders_judged;
    let no_commit = judged - committed;
    let coverage = Coverage {
        judged: committed.max(0) as u64,
        candidates: judged.max(0) as u64,
        note: format!(
            "{no_commit} order{} had no commitment to judge timeliness against",
            if no_commit == 1 { "" } else { "s" }
        ),
    };
    let perfect = share("rl.perfect_order", bucket.signatures[0], committed)
        .covering(coverage.clone())
        .provisional(provisional);
    let ids = [
        "rl.in_full",
        "rl.on_time",
        "rl.documentation",
        "rl.condition",
    ];
    let mut level2: Vec<MetricValue> = Component::ALL
        .iter()
        .enumerate()
        .map(|(index, _)| {
            share(
                ids[index],
                committed - bucket.failures_committed[index],
                committed,
            )
            .provisional(provisional)
        })
        .collect();
    level2.push(share("rl.otif", bucket.on_time_in_full, committed).provisional(provisional));
    level2.push(share(
        "rl.on_time.delivered",
        bucket.delivered_with_commit - bucket.delivered_late,
        bucket.delivered_with_commit,
    ));
    // Each component on its own natural population: every judged order (on time: those with a
    // commitment), labelled apart from the figures on the RL.1.1 population.
    for (index, id) in ids.iter().enumerate() {
        let population = if Component::ALL[index] == Component::OnTime {
            committed
        } else {
            judged
        };
        level2.push(
            share(
                &format!("{id}.natural"),
                population - bucket.failures_natural[index],
                population,
            )
            .provisional(provisional),
        );
    }
    // The product of the four components, shown only to contrast it with the joint measure.
    let product = if committed > 0 {
        let passes: Vec<i128> = (0..4)
            .map(|index| i128::from(committed - bucket.failures_committed[index]))
            .collect();
        Ratio::new(passes.iter().product(), i128::from(committed).pow(4))
    } else {
        Ratio::new(0, 0)
    };
    level2.push(MetricValue::new(
        "rl.perfect_order.product",
        product,
        Unit::Percent,
        committed.max(0) as u64,
    ));
    Level1 {
        value: perfect,
        level2,
    }
}

fn responsiveness(fold: &Fold, range: Range, slice: &Slice, bucket: &Bucket) -> Level1 {
    let count = bucket.cycle_orders;
    let segment = |segment: Segment| bucket.cycle_segment_seconds[segment.index()];
    let dwell = segment(Segment::Dwell);
    let mut value = duration(
        "rs.order_cycle_time",
        bucket.cycle_gross_seconds - dwell,
        count,
        Unit::Days,
    );
    value.coverage = None;
    let mut level2 = vec![
        duration(
            "rs.source_cycle_time",
            segment(Segment::SupplyWait),
            count,
            Unit::Days,
        ),
        duration(
            "rs.make_cycle_time",
            segment(Segment::MakeQueue) + segment(Segment::Make),
            count,
            Unit::Days,
        ),
        duration(
            "rs.deliver_cycle_time",
            segment(Segment::Entry) + segment(Segment::Warehouse) + segment(Segment::Transit),
            count,
            Unit::Days,
        ),
    ];
    for segment_kind in Segment::ALL {
        level2.push(duration(
            &format!("rs.segment.{}", segment_kind.name()),
            segment(segment_kind),
            count,
            Unit::Hours,
        ));
    }
    level2.push(duration(
        "rs.click_to_door",
        bucket.cycle_gross_seconds,
        count,
        Unit::Days,
    ));
    if *slice == Slice::All {
        let net = distribution(fold, range, Series::CycleTime);
        let gross = distribution(fold, range, Series::ClickToDoor);
        level2.push(seconds_value(
            "rs.order_cycle_time.median",
            net.median(),
            net.count(),
            Unit::Days,
        ));
        level2.push(seconds_value(
            "rs.order_cycle_time.p90",
            net.percentile(90),
            net.count(),
            Unit::Days,
        ));
        level2.push(seconds_value(
            "rs.click_to_door.median",
            gross.median(),
            gross.count(),
            Unit::Days,
        ));
        level2.push(seconds_value(
            "rs.click_to_door.p90",
            gross.percentile(90),
            gross.count(),
            Unit::Days,
        ));
    }
    Level1 { value, level2 }
}

/// CO.1.001 with its process costs, its share of revenue and the cost per order; CO.1.002 with
/// its share: from a range's totals (the inputs of worked example C-1).
pub fn cost_metrics(
    process_costs: [i128; 6],
    revenue: i128,
    cost_of_goods_sold: i128,
    orders_shipped: i64,
) -> Vec<MetricValue> {
    let total: i128 = process_costs.iter().sum();
    let mut values = vec![money("co.total_cost", total, 0)];
    values.extend(
        ScorProcess::ALL
            .iter()
            .zip(process_costs)
            .map(|(process, amount)| money(&format!("co.cost.{}", process.as_str()), amount, 0)),
    );
    let orders = i128::from(orders_shipped);
    let population = orders_shipped.max(0) as u64;
    values.push(MetricValue::new(
        "co.total_cost.share_of_revenue",
        Ratio::new(total, revenue.max(0)),
        Unit::Percent,
        0,
    ));
    values.push(MetricValue::new(
        "co.cost_per_order",
        Ratio::new(process_costs[3], orders),
        Unit::Money,
        population,
    ));
    values.push(MetricValue::new(
        "co.total_cost_per_order",
        Ratio::new(total, orders),
        Unit::Money,
        population,
    ));
    values.push(money("co.revenue", revenue, 0));
    values.push(money("co.cost_of_goods_sold", cost_of_goods_sold, 0));
    values.push(MetricValue::new(
        "co.cost_of_goods_sold.share_of_revenue",
        Ratio::new(cost_of_goods_sold, revenue.max(0)),
        Unit::Percent,
        0,
    ));
    values
}

fn cost(bucket: &Bucket) -> Level1 {
    let mut values = cost_metrics(
        bucket.cost,
        bucket.revenue - bucket.refunds,
        bucket.cost_of_goods_sold,
        bucket.orders_shipped,
    )
    .into_iter()
    .filter(|value| !value.id.starts_with("co.cost_of_goods_sold"));
    let value = values
        .next()
        .unwrap_or_else(|| money("co.total_cost", 0, 0));
    Level1 {
        value,
        level2: values.collect(),
    }
}

fn cost_of_goods_sold(bucket: &Bucket) -> Level1 {
    let revenue = bucket.revenue - bucket.refunds;
    Level1 {
        value: money("co.cost_of_goods_sold", bucket.cost_of_goods_sold, 0),
        level2: vec![MetricValue::new(
            "co.cost_of_goods_sold.share_of_revenue",
            Ratio::new(bucket.cost_of_goods_sold, revenue.max(0)),
            Unit::Percent,
            0,
        )],
    }
}

/// The cash and asset figures of a range from its flows and time-weighted average balances
/// (SCOR-METRICS §7): the inputs of worked example F-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashInputs {
    /// Days in the range.
    pub days: i64,
    /// Net revenue.
    pub revenue: i128,
    /// Cost of goods sold.
    pub cost_of_goods_sold: i128,
    /// Material purchases.
    pub purchases: i128,
    /// Total supply chain management cost.
    pub total_cost: i128,
    /// Average inventory, receivables, payables and supply-chain fixed assets (net book value).
    pub averages: [Ratio; 4],
}

/// AM.1.1 with its components, AM.1.2, AM.1.3 and inventory turns.
pub fn cash_metrics(inputs: &CashInputs) -> Vec<MetricValue> {
    let days = i128::from(inputs.days);
    // Days of X = average X / (flow / days) = average.numerator × days / (average.denominator ×
    // flow), exactly.
    let days_of = |id: &str, average: Ratio, flow: i128| {
        MetricValue::new(
            id,
            Ratio::new(
                average.numerator * days * 86_400,
                average.denominator * flow,
            ),
            Unit::Days,
            0,
        )
    };
    let inventory_days = days_of(
        "am.inventory_days",
        inputs.averages[balance::INVENTORY],
        inputs.cost_of_goods_sold,
    );
    let receivable_days = days_of(
        "am.receivable_days",
        inputs.averages[balance::RECEIVABLES],
        inputs.revenue,
    );
    let payable_days = days_of(
        "am.payable_days",
        inputs.averages[balance::PAYABLES],
        inputs.purchases,
    );
    let cash_to_cash = match (
        inventory_days.value,
        receivable_days.value,
        payable_days.value,
    ) {
        (Some(inventory), Some(receivable), Some(payable)) => {
            // A sum of three exact ratios: kept to the millisecond of a day.
            let days = inventory + receivable - payable;
            MetricValue::new(
                "am.cash_to_cash",
                Ratio::new((days * 86_400_000.0).round() as i128, 1000),
                Unit::Days,
                0,
            )
        }
        _ => MetricValue::new("am.cash_to_cash", Ratio::new(0, 0), Unit::Days, 0),
    };
    let margin = inputs.revenue - inputs.cost_of_goods_sold - inputs.total_cost;
    // Annualised: × 365 / days. Average over the range: numerator / denominator.
    let annualised = |average: Ratio| {
        if average.numerator <= 0 || days == 0 {
            return Ratio::new(0, 0);
        }
        Ratio::new(margin * 365 * average.denominator, days * average.numerator)
    };
    let fixed_assets = annualised(inputs.averages[balance::FIXED_ASSETS]);
    let working = {
        let [inventory, receivables, payables, _] = inputs.averages;
        // All three averages share the range's length as denominator.
        Ratio::new(
            inventory.numerator + receivables.numerator - payables.numerator,
            inventory.denominator,
        )
    };
    let mut return_on_working_capital = MetricValue::new(
        "am.return_on_working_capital",
        annualised(working),
        Unit::Percent,
        0,
    );
    if working.numerator <= 0 {
        return_on_working_capital.coverage = Some(Coverage {
            judged: 0,
            candidates: 1,
            note:
                "working capital was zero or negative over the range, so no return on it is shown"
                    .into(),
        });
    }
    let inventory = inputs.averages[balance::INVENTORY];
    let turns = if inventory.numerator > 0 && days > 0 {
        Ratio::new(
            inputs.cost_of_goods_sold * inventory.denominator * 365,
            inventory.numerator * days,
        )
    } else {
        Ratio::new(0, 0)
    };
    vec![
        cash_to_cash,
        inventory_days,
        receivable_days,
        payable_days,
        MetricValue::new("am.return_on_fixed_assets", fixed_assets, Unit::Percent, 0),
        return_on_working_capital,
        MetricValue::new("am.inventory_turns", turns, Unit::Number, 0),
    ]
}

fn assets(fold: &Fold, range: Range, bucket: &Bucket) -> Vec<Level1> {
    let inputs = CashInputs {
        days: range.days(),
        revenue: bucket.revenue - bucket.refunds,
        cost_of_goods_sold: bucket.cost_of_goods_sold,
        purchases: bucket.purchases,
        total_cost: bucket.cost.iter().sum(),
        averages: average_balances(fold, range),
    };
    let mut values = cash_metrics(&inputs).into_iter();
    let cash_to_cash = values.next();
    let components: Vec<MetricValue> = values.by_ref().take(3).collect();
    let rest: Vec<MetricValue> = values.collect();
    let mut level1 = Vec::new();
    if let Some(cash_to_cash) = cash_to_cash {
        level1.push(Level1 {
            value: cash_to_cash,
            level2: components,
        });
    }
    for value in rest {
        if value.id == "am.inventory_turns" {
            if let Some(first) = level1.first_mut() {
                first.level2.push(value);
            }
        } else {
            level1.push(Level1 {
                value,
                level2: Vec::new(),
            });
        }
    }
    level1
}

fn supplier(bucket: &Bucket) -> Level1 {
    let committed = bucket.supplier_orders_with_commit;
    let all = bucket.supplier_orders;
    let ids = [
        "rl.supplier_in_full",
        "rl.supplier_on_time",
        "rl.supplier_documentation",
        "rl.supplier_condition",
    ];
    let level2 = ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let population = if Component::ALL[index] == Component::OnTime {
                committed
            } else {
                all
            };
            share(id, population - bucket.supplier_failures[index], population)
        })
        .collect();
    let no_commit = all - committed;
    Level1 {
        value: share(
            "rl.perfect_supplier_order",
            bucket.supplier_perfect,
            committed,
        )
        .covering(Coverage {
            judged: committed.max(0) as u64,
            candidates: all.max(0) as u64,
            note: format!("{no_commit} purchase order(s) had no supplier commitment"),
        }),
        level2,
    }
}

/// CO2e (SCOR-METRICS §8): per shipment, per order shipped, in all (shipments and return
/// legs), of return legs alone, and per tonne-kilometre. Each figure's coverage counts the legs
/// left out for want of a distance or a factor and names the factor set.
fn emissions(bucket: &Bucket, settings: &EmissionSettings) -> Level1 {
    let label = settings.label();
    let coverage = |counted: i64, left_out: i64, what: &str| Coverage {
        judged: counted.max(0) as u64,
        candidates: (counted + left_out).max(0) as u64,
        note: format!(
            "{label}; great-circle distance from the center to the ship-to (its coordinates, \
             else its state's or country's centroid); {left_out} {what} left out: distance \
             unknown"
        ),
    };
    let shipments = coverage(
        bucket.emission_shipments,
        bucket.emission_shipments_left_out,
        "shipment(s)",
    );
    let returns = coverage(
        bucket.return_legs,
        bucket.return_legs_left_out,
        "return leg(s)",
    );
    let legs = bucket.emission_shipments + bucket.return_legs;
    let all = coverage(
        legs,
        bucket.emission_shipments_left_out + bucket.return_legs_left_out,
        "shipment(s) and return leg(s)",
    );
    // Milligrams to grams: ÷ 1000 in the denominator.
    let grams = |id: &str, milligrams: i128, count: i64| {
        MetricValue::new(
            id,
            Ratio::new(milligrams, 1000 * i128::from(count.max(0))),
            Unit::Grams,
            count.max(0) as u64,
        )
    };
    let total_mg = bucket.emissions_mg + bucket.return_emissions_mg;
    let total_gram_metres = bucket.gram_metres + bucket.return_gram_metres;
    Level1 {
        value: grams(
            "env.ghg_per_shipment",
            bucket.emissions_mg,
            bucket.emission_shipments,
        )
        .covering(shipments.clone()),
        level2: vec![
            grams(
                "env.ghg_per_order",
                bucket.emissions_mg,
                bucket.orders_shipped,
            )
            .covering(shipments),
            // A total over no counted leg is no data, not 0 g.
            MetricValue::new(
                "env.ghg_total",
                Ratio::new(total_mg, if legs > 0 { 1000 } else { 0 }),
                Unit::Grams,
                legs.max(0) as u64,
            )
            .covering(all.clone()),
            MetricValue::new(
                "env.ghg_returns",
                Ratio::new(
                    bucket.return_emissions_mg,
                    if bucket.return_legs > 0 { 1000 } else { 0 },
                ),
                Unit::Grams,
                bucket.return_legs.max(0) as u64,
            )
            .covering(returns),
            // g / (t · km) = (mg / 10³) / (g·m / 10⁹) = mg × 10⁶ / g·m.
            MetricValue::new(
                "env.ghg_per_tonne_km",
                Ratio::new(total_mg * 1_000_000, total_gram_metres),
                Unit::Grams,
                legs.max(0) as u64,
            )
            .covering(all),
        ],
    }
}

fn operational(
    fold: &Fold,
    range: Range,
    slice: &Slice,
    bucket: &Bucket,
    provisional: bool,
) -> Vec<MetricValue> {
    let mut values = vec![
        share(
            "ops.unit_fill_rate",
            bucket.fill_units_allocated,
            bucket.fill_units_ordered,
        ),
        share(
            "ops.line_fill_rate",
            bucket.fill_lines_complete,
            bucket.fill_lines,
        ),
        share(
            "ops.order_fill_rate",
            bucket.fill_orders_complete,
            bucket.fill_orders,
        ),
        share(
            "ops.backorder_rate",
            bucket.backordered_orders,
            bucket.fill_orders,
        ),
        share(
            "ops.on_time_ship",
            bucket.ship_on_time,
            bucket.ship_deadlines,
        ),
        duration(
            "ops.dock_to_stock",
            bucket.dock_seconds,
            bucket.dock_lines,
            Unit::Hours,
        ),
        share(
            "ops.return_rate",
            bucket.units_returned,
            bucket.units_shipped,
        ),
        share(
            "ops.return_rate.cohort",
            bucket.cohort_units_returned,
            bucket.cohort_units_sold,
        )
        .provisional(provisional),
        duration(
            "ops.return_processing_time",
            bucket.return_processing_seconds,
            bucket.returns_processed,
            Unit::Days,
        ),
        share(
            "ops.inventory_accuracy",
            bucket.counted_lines_matching,
            bucket.counted_lines,
        ),
        MetricValue::new(
            "ops.stockout_rate",
            Ratio::new(bucket.stockout_seconds, bucket.stock_seconds),
            Unit::Percent,
            0,
        ),
        MetricValue::new(
            "ops.inventory_accuracy.value",
            Ratio::new(
                bucket.counted_system_value - bucket.counted_difference_value,
                bucket.counted_system_value,
            ),
            Unit::Percent,
            bucket.counted_lines.max(0) as u64,
        ),
    ];
    if *slice == Slice::All {
        let dock = distribution(fold, range, Series::DockToStock);
        values.push(seconds_value(
            "ops.dock_to_stock.median",
            dock.median(),
            dock.count(),
            Unit::Hours,
        ));
        values.push(seconds_value(
            "ops.dock_to_stock.p90",
            dock.percentile(90),
            dock.count(),
            Unit::Hours,
        ));
        let processing = distribution(fold, range, Series::ReturnProcessing);
        values.push(seconds_value(
            "ops.return_processing_time.median",
            processing.median(),
            processing.count(),
            Unit::Days,
        ));
    }
    values
}
