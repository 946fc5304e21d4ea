//! The return sub-fold: units authorised for return (by day, by sale cohort and by reason),
//! the late facts a return adds to its order's verdict, return processing times, and the
//! emissions of return legs.

use super::{Fold, Series, Slice};
use crate::geo::Place;
use crate::order;
use flowline_core::documents::return_auth::ReturnEvent;
use flowline_core::master::TransportMode;
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// A return as the return metrics see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ReturnTrack {
    pub(super) received_at: Option<Timestamp>,
    pub(super) refunded: bool,
    /// Where the return leg runs and what it counts in, taken from the order when the return
    /// is authorised (the order's record may be gone by the time the goods arrive); `None`
    /// when the order was not known then.
    pub(super) route: Option<ReturnRoute>,
    /// Per return line, the item's unit mass in grams (for the return leg's mass).
    pub(super) unit_grams: Vec<i64>,
    /// The return label's carrier service, once issued.
    pub(super) service: Option<(String, String)>,
}

/// The two ends of a return leg and the slices it counts in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ReturnRoute {
    /// The order's ship-to, as far as it is located.
    pub(super) ship_to: Option<Place>,
    /// The center that shipped the order last.
    pub(super) center: Option<String>,
    /// The order's slices, with that center's.
    pub(super) slices: Vec<Slice>,
}

impl Fold {
    /// Units authorised for return per reason code over a range, most first.
    pub fn return_reasons(&self, range: crate::period::Range) -> Vec<(String, i64)> {
        let mut totals: FxHashMap<&str, i64> = FxHashMap::default();
        for ((day, reason), units) in &self.return_reasons {
            if range.contains(*day) {
                *totals.entry(reason.as_str()).or_default() += units;
            }
        }
        let mut reasons: Vec<(String, i64)> = totals
            .into_iter()
            .filter(|(_, units)| *units != 0)
            .map(|(reason, units)| (reason.to_string(), units))
            .collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        reasons
    }

    pub(super) fn returned(&mut self, event: &ReturnEvent, at: Timestamp) {
        let id = event.return_id().to_string();
        match event {
            ReturnEvent::Authorised {
                order, lines, at, ..
            } => {
                let order_id = order.to_string();
                self.return_orders.insert(id.clone(), order_id.clone());
                let unit_grams = lines
                    .iter()
                    .map(|line| self.weights.get(line.sku.as_str()).copied().unwrap_or(0))
                    .collect();
                let route = self.orders.get(&order_id).map(|order| {
                    let center = order.shipments.last().map(|s| s.location.to_string());
                    let mut slices = self.order_slices(order, None);
                    slices.extend(center.clone().map(Slice::Center));
                    ReturnRoute {
                        ship_to: order.ship_to.clone(),
                        center,
                        slices,
                    }
                });
                self.returns.insert(
                    id,
                    ReturnTrack {
                        received_at: None,
                        refunded: false,
                        route,
                        unit_grams,
                        service: None,
                    },
                );
                let units: i64 = lines.iter().map(|line| line.quantity).sum();
                let Some(track) = self.orders.get(&order_id).cloned() else {
                    return;
                };
                let slices = self.order_slices(&track, None);
                let today = self.day(*at);
                let sold_on = self.day(track.placed_at);
                self.add(today, &slices, |bucket| bucket.units_returned += units);
                self.add(sold_on, &slices, |bucket| {
                    bucket.cohort_units_returned += units
                });
                for line in lines {
                    *self
                        .return_reasons
                        .entry((today, line.reason.to_string()))
                        .or_default() += line.quantity;
                    let component = order::return_component(&self.settings.rules, &line.reason);
                    if let Some(track) = self.orders.get_mut(&order_id)
                        && let Some(tracked) = track.lines.get_mut(line.line)
                    {
                        tracked.returned += line.quantity;
                    }
                    self.late_fact(&order_id, component, *at);
                }
            }
            ReturnEvent::Received { lines, at, .. } => {
                if let Some(track) = self.returns.get_mut(&id)
                    && track.received_at.is_none()
                {
                    track.received_at = Some(*at);
                }
                self.return_leg(&id, lines, *at);
            }
            ReturnEvent::LabelIssued {
                carrier, service, ..
            } => {
                if let Some(track) = self.returns.get_mut(&id) {
                    track.service = Some((carrier.to_string(), service.to_string()));
                }
            }
            ReturnEvent::RefundIssued { at, .. } => {
                let Some(track) = self.returns.get_mut(&id) else {
                    return;
                };
                if track.refunded {
                    return;
                }
                track.refunded = true;
                let received = track.received_at;
                let day = self.day(*at);
                match received {
                    Some(received) if received <= *at => {
                        let seconds = at.duration_since(received).as_secs();
                        self.add(day, &[Slice::All], |bucket| {
                            bucket.returns_processed += 1;
                            bucket.return_processing_seconds += i128::from(seconds);
                        });
                        self.record(day, Series::ReturnProcessing, seconds, 1);
                    }
                    _ => self.add(day, &[Slice::All], |bucket| {
                        bucket.returns_refunded_before_receipt += 1;
                    }),
                }
            }
            ReturnEvent::Closed { .. } => {
                self.returns.remove(&id);
            }
            ReturnEvent::Inspected { .. } | ReturnEvent::Disposed { .. } => {}
        }
        let _ = at;
    }

    /// Counts the return leg of a parcel of returned goods that arrived: from the order's
    /// ship-to back to the center that shipped the order last (SCOR-METRICS §8.5: reverse legs
    /// computed like forward legs), by the return label's service (road without a label), its
    /// mass the returned units' item weights. Counted on the day it arrived, in the order's
    /// slices and its center's; left out (and counted as such) when the order was not known
    /// when the return was authorised.
    fn return_leg(
        &mut self,
        id: &str,
        lines: &[flowline_core::documents::sales_order::LineQuantity],
        at: Timestamp,
    ) {
        let Some(track) = self.returns.get(id) else {
            return;
        };
        let day = self.day(at);
        let Some(route) = &track.route else {
            self.add(day, &[Slice::All], |bucket| {
                bucket.return_legs_left_out += 1
            });
            return;
        };
        let grams: i64 = lines
            .iter()
            .filter_map(|line| track.unit_grams.get(line.line)?.checked_mul(line.quantity))
            .fold(0i64, i64::saturating_add);
        let mode = track
            .service
            .as_ref()
            .and_then(|service| self.modes.get(service).copied())
            .unwrap_or(TransportMode::Road);
        let leg = self.settings.emissions.leg(
            route.ship_to.as_ref(),
            route
                .center
                .as_ref()
                .and_then(|center| self.places.get(center)),
            mode,
            grams,
        );
        let slices = route.slices.clone();
        self.add(day, &slices, |bucket| match leg {
            Some((milligrams, gram_metres)) => {
                bucket.return_legs += 1;
                bucket.return_emissions_mg += milligrams;
                bucket.return_gram_metres += gram_metres;
            }
            None => bucket.return_legs_left_out += 1,
        });
    }
}
