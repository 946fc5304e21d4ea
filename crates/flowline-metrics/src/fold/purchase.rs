//! The purchase-order sub-fold: supplier deliveries judged perfect or not (RL.1.2) when a
//! purchase order closes, and dock-to-stock times of the lines received.

use super::{Fold, Series, Slice};
use crate::order::Component;
use crate::period::Day;
use flowline_core::documents::purchase_order::PurchaseOrderEvent;
use flowline_core::money::{Currency, ExchangeRate};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A purchase order as the supplier metrics see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PurchaseTrack {
    pub(super) supplier: String,
    pub(super) location: String,
    pub(super) skus: Vec<String>,
    pub(super) ordered: Vec<i64>,
    pub(super) accepted: Vec<i64>,
    pub(super) rejected: Vec<i64>,
    pub(super) committed_on: Option<Date>,
    pub(super) last_arrival: Option<Timestamp>,
    pub(super) rate: ExchangeRate,
    pub(super) currency: Currency,
    pub(super) billing_mismatch: bool,
    pub(super) closed: bool,
    pub(super) counted: Option<(Day, u8, bool)>,
    /// Billed and paid so far, in the order's currency: a foreign order's payments can only be
    /// converted while its rate is known, so the record stays until it is paid.
    pub(super) billed_minor: i64,
    pub(super) paid_minor: i64,
    /// Its latest event.
    pub(super) last_activity: Timestamp,
}

impl Fold {
    pub(super) fn purchase(&mut self, event: &PurchaseOrderEvent, at: Timestamp) {
        let id = event.purchase_order().to_string();
        match event {
            PurchaseOrderEvent::Placed {
                supplier,
                location,
                currency,
                exchange_rate,
                lines,
                ..
            } => {
                self.purchases.insert(
                    id.clone(),
                    PurchaseTrack {
                        supplier: supplier.to_string(),
                        location: location.to_string(),
                        skus: lines.iter().map(|l| l.sku.to_string()).collect(),
                        ordered: lines.iter().map(|l| l.quantity).collect(),
                        accepted: vec![0; lines.len()],
                        rejected: vec![0; lines.len()],
                        committed_on: None,
                        last_arrival: None,
                        rate: *exchange_rate,
                        currency: *currency,
                        billing_mismatch: false,
                        closed: false,
                        counted: None,
                        billed_minor: 0,
                        paid_minor: 0,
                        last_activity: at,
                    },
                );
            }
            PurchaseOrderEvent::Confirmed { committed_on, .. } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.committed_on = Some(*committed_on);
                }
            }
            PurchaseOrderEvent::Received {
                lines,
                arrived_at,
                at,
                ..
            } => {
                let Some(track) = self.purchases.get_mut(&id) else {
                    return;
                };
                for line in lines {
                    if let (Some(accepted), Some(rejected)) = (
                        track.accepted.get_mut(line.line),
                        track.rejected.get_mut(line.line),
                    ) {
                        *accepted += line.accepted;
                        *rejected += line.rejected;
                    }
                }
                track.last_arrival = Some(
                    track
                        .last_arrival
                        .map_or(*arrived_at, |t| t.max(*arrived_at)),
                );
                let slices = vec![
                    Slice::All,
                    Slice::Supplier(track.supplier.clone()),
                    Slice::Center(track.location.clone()),
                ];
                let seconds = at.duration_since(*arrived_at).as_secs().max(0);
                let count = lines.iter().filter(|l| l.accepted > 0).count() as i64;
                let day = self.day(*at);
                self.add(day, &slices, |bucket| {
                    bucket.dock_lines += count;
                    bucket.dock_seconds += i128::from(count) * i128::from(seconds);
                });
                for _ in 0..count {
                    self.record(day, Series::DockToStock, seconds, 1);
                }
                self.rejudge_purchase(&id);
            }
            PurchaseOrderEvent::Billed {
                amount_minor,
                matched_minor,
                ..
            } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.billing_mismatch |= amount_minor != matched_minor;
                    track.billed_minor += amount_minor;
                }
                self.rejudge_purchase(&id);
            }
            PurchaseOrderEvent::Closed { .. } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.closed = true;
                }
                self.rejudge_purchase(&id);
            }
            PurchaseOrderEvent::Cancelled { .. } => {
                self.purchases.remove(&id);
            }
            PurchaseOrderEvent::Paid { amount_minor, .. } => {
                if let Some(track) = self.purchases.get_mut(&id) {
                    track.paid_minor += amount_minor;
                }
            }
        }
        if let Some(track) = self.purchases.get_mut(&id) {
            track.last_activity = track.last_activity.max(at);
        }
    }

    /// The verdict on a purchase order (RL.1.2, SCOR DS): closed when every unit is accepted or
    /// rejected, or when closed short. In full: every ordered unit accepted. On time: the last
    /// arrival before the end of the committed date in the center's zone. Condition: nothing
    /// rejected at quality control. Documentation: the bill matched what was received.
    fn rejudge_purchase(&mut self, id: &str) {
        let Some(track) = self.purchases.get(id).cloned() else {
            return;
        };
        let received_all = track
            .ordered
            .iter()
            .zip(track.accepted.iter().zip(&track.rejected))
            .all(|(ordered, (accepted, rejected))| accepted + rejected >= *ordered);
        let verdict = (received_all || track.closed).then(|| {
            let mut signature = 0u8;
            if track.accepted != track.ordered {
                signature |= Component::InFull.bit();
            }
            let zone = self
                .zones
                .get(&track.location)
                .cloned()
                .unwrap_or_else(|| self.settings.reporting.clone());
            let deadline = track.committed_on.and_then(|date| {
                date.tomorrow()
                    .ok()
                    .and_then(|next| next.to_zoned(zone).ok())
                    .map(|z| z.timestamp())
            });
            if let (Some(deadline), Some(arrived)) = (deadline, track.last_arrival)
                && arrived >= deadline
            {
                signature |= Component::OnTime.bit();
            }
            if track.rejected.iter().any(|r| *r > 0) {
                signature |= Component::Condition.bit();
            }
            if track.billing_mismatch {
                signature |= Component::Documentation.bit();
            }
            let closed_at = track.last_arrival.unwrap_or(Timestamp::UNIX_EPOCH);
            (self.day(closed_at), signature, deadline.is_some())
        });
        if verdict == track.counted {
            return;
        }
        let mut slices = vec![
            Slice::All,
            Slice::Supplier(track.supplier.clone()),
            Slice::Center(track.location.clone()),
        ];
        let mut skus = track.skus.clone();
        skus.sort();
        skus.dedup();
        slices.extend(skus.into_iter().map(Slice::Sku));
        for (verdict, sign) in [(track.counted, -1), (verdict, 1)] {
            let Some((day, signature, committed)) = verdict else {
                continue;
            };
            self.add(day, &slices, |bucket| {
                bucket.supplier_orders += sign;
                if committed {
                    bucket.supplier_orders_with_commit += sign;
                    if signature == 0 {
                        bucket.supplier_perfect += sign;
                    }
                }
                for (index, component) in Component::ALL.iter().enumerate() {
                    let failed = signature & component.bit() != 0;
                    if failed && (committed || *component != Component::OnTime) {
                        bucket.supplier_failures[index] += sign;
                    }
                }
            });
        }
        if let Some(track) = self.purchases.get_mut(id) {
            track.counted = verdict;
        }
    }
}
