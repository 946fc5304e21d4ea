//! Drill-down to the documents behind a number (SCOR-METRICS §1.3): from a reliability or
//! cycle-time figure of a range and slice to the orders it counted, sorted by impact.
//!
//! The orders come from the fold's verdicts ([`Fold::verdicts`]): those of orders still in
//! memory and those of settled orders, kept packed after their records go, so any range can be
//! drilled into.

use crate::fold::{Fold, Slice};
use crate::order::{Component, Segment, signature_name};
use crate::period::Range;
use serde::{Deserialize, Serialize};

/// Which orders to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "filter", content = "value")]
pub enum Filter {
    /// Orders with a commitment that were not perfect (RL.1.1's failures).
    Imperfect,
    /// Orders failing one component.
    Failing(Component),
    /// Orders with exactly this failure signature.
    Signature(u8),
    /// Delivered orders, slowest first (RS.1.1).
    CycleTime,
    /// Every closed order of the population.
    All,
}

impl Filter {
    /// The filter that explains a metric id: `rl.perfect_order` → imperfect orders,
    /// `rl.on_time` → late orders, `rs.*` → cycle times; anything else lists every order.
    pub fn for_metric(id: &str) -> Self {
        match id.split('.').take(2).collect::<Vec<_>>().join(".").as_str() {
            "rl.perfect_order" | "rl.otif" => Self::Imperfect,
            "rl.in_full" => Self::Failing(Component::InFull),
            "rl.on_time" => Self::Failing(Component::OnTime),
            "rl.documentation" => Self::Failing(Component::Documentation),
            "rl.condition" => Self::Failing(Component::Condition),
            prefix if prefix.starts_with("rs.") => Self::CycleTime,
            _ => Self::All,
        }
    }
}

/// One order behind a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    /// The sales order.
    pub order: String,
    /// Its channel.
    pub channel: String,
    /// When it closed for measurement.
    pub closed_at: String,
    /// Its failure signature (`{}` when perfect or not judged for timeliness).
    pub signature: String,
    /// The components it failed.
    pub failed: Vec<Component>,
    /// Whether it had a commitment.
    pub has_commit: bool,
    /// Cycle time net of dwell, hours.
    pub cycle_hours: Option<f64>,
    /// Placement to last delivery, hours.
    pub click_to_door_hours: Option<f64>,
}

/// The orders of `range` and `slice` that `filter` selects, most impact first: most components
/// failed (then latest closed) for failures, longest cycle time for cycle times.
pub fn orders(
    fold: &Fold,
    range: Range,
    slice: &Slice,
    filter: Filter,
    limit: usize,
) -> Vec<OrderRow> {
    let mut rows: Vec<(i64, OrderRow)> = Vec::new();
    for verdict in fold.verdicts(range) {
        let in_slice = match slice {
            Slice::All => true,
            Slice::Channel(channel) => verdict.channel == channel.as_str(),
            Slice::Region(region) => verdict.region == region.as_str(),
            Slice::Center(center) => verdict
                .last_shipment
                .is_some_and(|(location, _, _)| location == center.as_str()),
            Slice::CarrierService(name) => {
                verdict.last_shipment.is_some_and(|(_, carrier, service)| {
                    name.strip_prefix(carrier)
                        .and_then(|rest| rest.strip_prefix('/'))
                        == Some(service)
                })
            }
            Slice::Sku(sku) => verdict.skus.contains(&sku.as_str()),
            Slice::Category(_) | Slice::Supplier(_) => false,
        };
        if !in_slice {
            continue;
        }
        let failed: Vec<Component> = Component::ALL
            .into_iter()
            .filter(|component| verdict.signature & component.bit() != 0)
            .collect();
        let selected = match filter {
            Filter::Imperfect => verdict.has_commit && verdict.signature != 0,
            Filter::Failing(component) => {
                verdict.signature & component.bit() != 0
                    && (verdict.has_commit || component != Component::OnTime)
            }
            Filter::Signature(bits) => verdict.has_commit && verdict.signature == bits,
            Filter::CycleTime => verdict.cycle.is_some(),
            Filter::All => true,
        };
        if !selected {
            continue;
        }
        let gross = verdict.cycle.map(|segments| segments.iter().sum::<i64>());
        let net = verdict
            .cycle
            .map(|segments| segments.iter().sum::<i64>() - segments[Segment::Dwell.index()]);
        let impact = match filter {
            Filter::CycleTime => net.unwrap_or(0),
            _ => failed.len() as i64 * 1_000_000_000_000 + verdict.closed_at.as_second(),
        };
        rows.push((
            impact,
            OrderRow {
                order: verdict.order.to_string(),
                channel: verdict.channel.to_string(),
                closed_at: verdict.closed_at.to_string(),
                signature: signature_name(verdict.signature),
                failed,
                has_commit: verdict.has_commit,
                cycle_hours: net.map(|seconds| seconds as f64 / 3600.0),
                click_to_door_hours: gross.map(|seconds| seconds as f64 / 3600.0),
            },
        ));
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.order.cmp(&b.1.order)));
    rows.into_iter().take(limit).map(|(_, row)| row).collect()
}
