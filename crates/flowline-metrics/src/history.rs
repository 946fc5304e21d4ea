//! What the operational pages show that the scorecard's fold does not keep: supplier lead
//! times and quality rejects per receipt, completed work orders with their quality checks,
//! return dispositions, and recent shipments per item and center (for days of supply).
//!
//! [`History`] is part of the scorecard's fold ([`crate::fold::Fold::history`]), so it is
//! folded from the same events in the same pass and kept in the same snapshot. Its memory is
//! bounded: per-receipt and per-work-order records keep the latest [`RECORDS_MAX`], shipments
//! the last [`SHIPPED_DAYS`] days; purchase orders are held from placement to payment and work
//! orders while open.

use flowline_core::Event;
use flowline_core::documents::purchase_order::PurchaseOrderEvent;
use flowline_core::documents::return_auth::{Disposition, ReturnEvent};
use flowline_core::documents::sales_order::SalesOrderEvent;
use flowline_core::documents::work_order::{WorkOrderEvent, WorkOrderKind};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Records of receipts and work orders kept.
pub const RECORDS_MAX: usize = 20_000;

/// Days of shipments kept per item and center.
pub const SHIPPED_DAYS: i64 = 90;

/// One receipt against a purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    /// The purchase order.
    pub purchase_order: String,
    /// Its supplier.
    pub supplier: String,
    /// When the goods arrived.
    pub arrived_at: Timestamp,
    /// From placement to arrival, seconds (the first receipt of an order only).
    pub lead_seconds: Option<i64>,
    /// Units accepted.
    pub accepted: i64,
    /// Units rejected at quality control.
    pub rejected: i64,
}

/// A completed work order with its quality check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkRecord {
    /// The work order.
    pub work_order: String,
    /// Kitting, assembly, ...
    pub kind: String,
    /// The item made.
    pub item: String,
    /// Where.
    pub location: String,
    /// Units passed.
    pub passed: i64,
    /// Units failed.
    pub failed: i64,
    /// The inspector's note.
    pub note: Option<String>,
    /// Created, started and completed.
    pub created_at: Timestamp,
    /// Started.
    pub started_at: Option<Timestamp>,
    /// Completed.
    pub completed_at: Timestamp,
}

/// The operational history of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(with = "flowline_core::codec::sorted")]
    placed: HashMap<String, (String, Timestamp, bool)>,
    receipts: VecDeque<ReceiptRecord>,
    #[serde(with = "flowline_core::codec::sorted")]
    open_work: HashMap<String, (String, String, String, Timestamp, Option<Timestamp>)>,
    work: VecDeque<WorkRecord>,
    dispositions: BTreeMap<(i64, String), i64>,
    shipped: BTreeMap<i64, BTreeMap<(String, String), i64>>,
    /// The latest business time folded, from which recent shipments are counted and older ones
    /// let go (the fold's watermark, which pages read as [`crate::fold::Fold::watermark`]).
    latest: Option<Timestamp>,
}

fn kind_name(kind: WorkOrderKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(String::from))
        .unwrap_or_default()
}

fn disposition_name(disposition: &Disposition) -> &'static str {
    match disposition {
        Disposition::Restock { .. } => "restock",
        Disposition::Scrap => "scrap",
        Disposition::ReturnToVendor { .. } => "return_to_vendor",
        Disposition::Repair { .. } => "repair",
    }
}

/// The UTC day number of an instant (for keeping and pruning; pages label by date).
fn day(at: Timestamp) -> i64 {
    at.as_second().div_euclid(86_400)
}

fn push_bounded<T>(records: &mut VecDeque<T>, record: T) {
    if records.len() >= RECORDS_MAX {
        records.pop_front();
    }
    records.push_back(record);
}

impl History {
    /// Folds one event recorded at business time `at`.
    pub fn apply(&mut self, event: &Event, at: Timestamp) {
        self.latest = Some(self.latest.map_or(at, |latest| latest.max(at)));
        match event {
            Event::PurchaseOrder(event) => self.purchase(event, at),
            Event::WorkOrder(event) => self.work_order(event, at),
            Event::Return(ReturnEvent::Disposed { lines, .. }) => {
                for line in lines {
                    *self
                        .dispositions
                        .entry((day(at), disposition_name(&line.disposition).to_string()))
                        .or_default() += line.quantity;
                }
            }
            Event::SalesOrder(SalesOrderEvent::Shipped {
                location, effects, ..
            }) => {
                let today = day(at);
                let shipped = self.shipped.entry(today).or_default();
                for movement in &effects.moves {
                    if movement.from == *location {
                        *shipped
                            .entry((movement.sku.to_string(), location.to_string()))
                            .or_default() += movement.quantity;
                    }
                }
                let oldest = today - SHIPPED_DAYS;
                while let Some((&first, _)) = self.shipped.first_key_value() {
                    if first >= oldest {
                        break;
                    }
                    self.shipped.remove(&first);
                }
            }
            _ => {}
        }
    }

    fn purchase(&mut self, event: &PurchaseOrderEvent, at: Timestamp) {
        match event {
            PurchaseOrderEvent::Placed {
                purchase_order,
                supplier,
                ..
            } => {
                self.placed.insert(
                    purchase_order.to_string(),
                    (supplier.to_string(), at, false),
                );
            }
            PurchaseOrderEvent::Received {
                purchase_order,
                lines,
                arrived_at,
                ..
            } => {
                let id = purchase_order.to_string();
                let (supplier, lead_seconds) = match self.placed.get_mut(&id) {
                    Some((supplier, placed_at, received_before)) => {
                        let lead = (!*received_before)
                            .then(|| arrived_at.as_second() - placed_at.as_second());
                        *received_before = true;
                        (supplier.clone(), lead)
                    }
                    None => (String::new(), None),
                };
                push_bounded(
                    &mut self.receipts,
                    ReceiptRecord {
                        purchase_order: id,
                        supplier,
                        arrived_at: *arrived_at,
                        lead_seconds,
                        accepted: lines.iter().map(|line| line.accepted).sum(),
                        rejected: lines.iter().map(|line| line.rejected).sum(),
                    },
                );
            }
            PurchaseOrderEvent::Paid { purchase_order, .. } => {
                // Paid is the last step of an order's life; its placement is no longer needed.
                self.placed.remove(&purchase_order.to_string());
            }
            _ => {}
        }
    }

    fn work_order(&mut self, event: &WorkOrderEvent, at: Timestamp) {
        match event {
            WorkOrderEvent::Created {
                work_order,
                kind,
                item,
                location,
                ..
            } => {
                self.open_work.insert(
                    work_order.to_string(),
                    (
                        kind_name(*kind),
                        item.to_string(),
                        location.to_string(),
                        at,
                        None,
                    ),
                );
            }
            WorkOrderEvent::Started { work_order, .. } => {
                if let Some(open) = self.open_work.get_mut(&work_order.to_string()) {
                    open.4 = Some(at);
                }
            }
            WorkOrderEvent::Completed {
                work_order,
                passed,
                failed,
                note,
                ..
            } => {
                let id = work_order.to_string();
                if let Some((kind, item, location, created_at, started_at)) =
                    self.open_work.remove(&id)
                {
                    push_bounded(
                        &mut self.work,
                        WorkRecord {
                            work_order: id,
                            kind,
                            item,
                            location,
                            passed: *passed,
                            failed: *failed,
                            note: note.clone(),
                            created_at,
                            started_at,
                            completed_at: at,
                        },
                    );
                }
            }
            WorkOrderEvent::Cancelled { work_order, .. } => {
                self.open_work.remove(&work_order.to_string());
            }
        }
    }

    /// Receipts, oldest first.
    pub fn receipts(&self) -> impl DoubleEndedIterator<Item = &ReceiptRecord> {
        self.receipts.iter()
    }

    /// Completed work orders, oldest first.
    pub fn work(&self) -> impl DoubleEndedIterator<Item = &WorkRecord> {
        self.work.iter()
    }

    /// Units disposed of by disposition between two instants.
    pub fn dispositions(&self, from: Timestamp, to: Timestamp) -> BTreeMap<String, i64> {
        let mut totals = BTreeMap::new();
        for ((on, kind), units) in &self.dispositions {
            if *on >= day(from) && *on < day(to) {
                *totals.entry(kind.clone()).or_default() += units;
            }
        }
        totals
    }

    /// Units shipped per (item, center) over the `days` days up to the latest event.
    pub fn shipped_recently(&self, days: i64) -> HashMap<(String, String), i64> {
        let mut totals = HashMap::new();
        let Some(latest) = self.latest else {
            return totals;
        };
        let first = day(latest) - days + 1;
        for (_, per_day) in self.shipped.range(first..) {
            for (key, units) in per_day {
                *totals.entry(key.clone()).or_default() += units;
            }
        }
        totals
    }
}
