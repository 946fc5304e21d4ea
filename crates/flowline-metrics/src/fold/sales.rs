//! The sales-order sub-fold: each order's [`OrderTrack`] from placement to its verdict, the
//! verdict counted when the order closes and taken back and counted again when a late fact
//! changes it, fill rate at the first allocation, shipments and their emissions, ship-by
//! deadlines, and the work orders whose time is Make time on an order's cycle.

use super::{Archive, Fold, Series, Slice, Verdict};
use crate::order::{
    self, Component, Judgement, LateFact, LineTrack, OrderTrack, Segments, ShipmentTrack,
};
use crate::period::Range;
use flowline_core::documents::sales_order::{Initiator, SalesOrderEvent};
use flowline_core::documents::work_order::WorkOrderEvent;
use flowline_core::master::TransportMode;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

impl Fold {
    /// Orders held in memory (open, or still within their observation window).
    pub fn orders_in_memory(&self) -> usize {
        self.orders.len()
    }

    /// The record of an order, if it is in memory.
    pub fn order(&self, id: &str) -> Option<&OrderTrack> {
        self.orders.get(id)
    }

    /// The verdict currently counted for an order.
    pub fn counted_judgement(&self, id: &str) -> Option<&Judgement> {
        self.counted.get(id)
    }

    /// The verdict of every order in the reliability population that closed on a day of
    /// `range`: those whose records are still in memory, then the settled ones from the
    /// archive. Each order once, in no particular order.
    pub fn verdicts(&self, range: Range) -> impl Iterator<Item = Verdict<'_>> {
        self.judged_orders(move |judgement| !judgement.excluded && range.contains(judgement.day))
            .map(|(track, judgement)| Verdict::of(track, judgement))
            .chain(self.archive.verdicts(range))
    }

    /// The settled orders kept for drill-down after their records went.
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Every order in memory with the verdict counted for it.
    pub fn orders(&self) -> impl Iterator<Item = (&OrderTrack, Option<&Judgement>)> {
        self.orders
            .values()
            .map(|track| (track, self.counted.get(&track.id)))
    }

    /// Every order in memory that has a counted verdict, with that verdict, in no particular
    /// order. Walks the verdicts and looks up only the orders `keep` accepts, so asking for one
    /// range of a year of settled orders looks up that range's orders, not the year's.
    pub fn judged_orders<'a>(
        &'a self,
        mut keep: impl FnMut(&Judgement) -> bool + 'a,
    ) -> impl Iterator<Item = (&'a OrderTrack, &'a Judgement)> + 'a {
        self.counted
            .iter()
            .filter(move |(_, judgement)| keep(judgement))
            .filter_map(|(id, judgement)| self.orders.get(id).map(|track| (track, judgement)))
    }

    /// Every tracked order's id with the judgement a from-scratch computation gives now.
    pub fn recompute_judgements(&self) -> BTreeMap<String, Option<Judgement>> {
        self.orders
            .iter()
            .map(|(id, track)| {
                (
                    id.clone(),
                    track.judge(&self.settings.rules, &self.settings.reporting),
                )
            })
            .collect()
    }

    /// Every order's counted verdict.
    pub fn counted_judgements(&self) -> BTreeMap<String, Judgement> {
        self.counted
            .iter()
            .map(|(id, judgement)| (id.clone(), judgement.clone()))
            .collect()
    }

    /// The segments of a judgement, for callers outside the crate.
    pub fn segments(judgement: &Judgement) -> Option<Segments> {
        judgement.cycle
    }

    /// The slices an order's figures are counted in.
    pub(super) fn order_slices(
        &self,
        track: &OrderTrack,
        judgement: Option<&Judgement>,
    ) -> Vec<Slice> {
        let mut slices = track.slices.clone();
        if let Some((center, (carrier, service))) =
            judgement.and_then(|judgement| judgement.last_shipment.as_ref())
        {
            slices.push(Slice::Center(center.to_string()));
            slices.push(Slice::CarrierService(format!("{carrier}/{service}")));
        }
        slices
    }

    /// The slices of an order that do not depend on its deliveries.
    fn placement_slices(&self, track: &OrderTrack) -> Vec<Slice> {
        let mut slices = vec![
            Slice::All,
            Slice::Channel(track.channel.to_string()),
            Slice::Region(track.region.clone()),
        ];
        let mut skus: Vec<String> = track.lines.iter().map(|l| l.sku.to_string()).collect();
        skus.sort();
        skus.dedup();
        let mut categories: Vec<String> = skus
            .iter()
            .filter_map(|sku| self.categories.get(sku))
            .filter(|category| !category.is_empty())
            .cloned()
            .collect();
        categories.sort();
        categories.dedup();
        slices.extend(skus.into_iter().map(Slice::Sku));
        slices.extend(categories.into_iter().map(Slice::Category));
        slices
    }

    /// Counts (`sign` 1) or takes back (`sign` −1) an order's verdict.
    fn count_judgement(&mut self, track: &OrderTrack, judgement: &Judgement, sign: i64) {
        let slices = self.order_slices(track, Some(judgement));
        let day = judgement.day;
        let excluded = judgement.excluded;
        let committed = judgement.has_commit;
        let signature = judgement.signature;
        let cycle = judgement.cycle;
        self.add(day, &slices, |bucket| {
            bucket.orders_closed += sign;
            if excluded {
                bucket.orders_excluded += sign;
                return;
            }
            bucket.orders_judged += sign;
            for (index, component) in Component::ALL.iter().enumerate() {
                let failed = signature & component.bit() != 0;
                if failed && (committed || *component != Component::OnTime) {
                    bucket.failures_natural[index] += sign;
                }
                if failed && committed {
                    bucket.failures_committed[index] += sign;
                }
            }
            if committed {
                bucket.orders_with_commit += sign;
                bucket.signatures[usize::from(signature)] += sign;
                let both = Component::InFull.bit() | Component::OnTime.bit();
                if signature & both == 0 {
                    bucket.on_time_in_full += sign;
                }
                if cycle.is_some() {
                    bucket.delivered_with_commit += sign;
                    if signature & Component::OnTime.bit() != 0 {
                        bucket.delivered_late += sign;
                    }
                }
            }
            if let Some(segments) = cycle {
                bucket.cycle_orders += sign;
                let gross: i64 = segments.iter().sum();
                bucket.cycle_gross_seconds += i128::from(sign) * i128::from(gross);
                for (total, seconds) in bucket.cycle_segment_seconds.iter_mut().zip(segments) {
                    *total += i128::from(sign) * i128::from(seconds);
                }
            }
        });
        if let (false, Some(segments)) = (excluded, cycle) {
            let gross: i64 = segments.iter().sum();
            let net = gross - segments[order::Segment::Dwell.index()];
            self.record(day, Series::CycleTime, net, sign);
            self.record(day, Series::ClickToDoor, gross, sign);
        }
    }

    /// Re-judges an order after a change and counts the difference.
    fn rejudge(&mut self, id: &str) {
        let Some(track) = self.orders.get(id).cloned() else {
            return;
        };
        let judgement = track.judge(&self.settings.rules, &self.settings.reporting);
        let previous = self.counted.get(id).cloned();
        if previous == judgement {
            return;
        }
        if let Some(previous) = &previous {
            self.count_judgement(&track, previous, -1);
        }
        match judgement {
            Some(judgement) => {
                self.count_judgement(&track, &judgement, 1);
                self.counted.insert(id.to_string(), judgement);
            }
            None => {
                self.counted.remove(id);
            }
        }
    }

    pub(super) fn sales(&mut self, event: &SalesOrderEvent, at: Timestamp) {
        let id = event.order().to_string();
        match event {
            SalesOrderEvent::Placed {
                channel,
                ship_to,
                lines,
                promise,
                placed_at,
                currency,
                exchange_rate,
                ..
            } => {
                if let Some(rate) = exchange_rate {
                    self.order_rates.insert(id.clone(), (*rate, *currency));
                }
                let zone = TimeZone::get(ship_to.time_zone.as_str()).unwrap_or(TimeZone::UTC);
                let region = if ship_to.region.is_empty() {
                    ship_to.country.clone()
                } else {
                    ship_to.region.clone()
                };
                let track = OrderTrack {
                    id: id.clone(),
                    channel: channel.clone(),
                    region,
                    ship_to: crate::geo::locate(ship_to),
                    zone,
                    placed_at: *placed_at,
                    promise: promise.clone(),
                    lines: lines
                        .iter()
                        .map(|line| LineTrack {
                            sku: line.sku.clone(),
                            ordered: line.quantity,
                            basis: line.quantity,
                            cancelled_by_seller: 0,
                            cancelled_by_customer: 0,
                            first_allocated: None,
                            backordered: false,
                            allocated_at: None,
                            shipped: 0,
                            delivered: 0,
                            returned: 0,
                        })
                        .collect(),
                    holds: Vec::new(),
                    work: Vec::new(),
                    shipments: Vec::new(),
                    last_cancelled_at: None,
                    excluded_by_cancellation: false,
                    late_facts: Vec::new(),
                    slices: Vec::new(),
                };
                let mut track = track;
                track.slices = self.placement_slices(&track);
                let units: i64 = lines.iter().map(|line| line.quantity).sum();
                let day = self.day(*placed_at);
                let slices = self.order_slices(&track, None);
                self.add(day, &slices, |bucket| bucket.cohort_units_sold += units);
                if let Some(deadline) = promise.as_ref().and_then(|p| p.ship_by) {
                    let deadline_day = self.day(deadline);
                    self.add(deadline_day, &slices, |bucket| bucket.ship_deadlines += 1);
                }
                self.orders.insert(id, track);
            }
            SalesOrderEvent::Allocated {
                allocations,
                backordered,
                at,
                ..
            } => {
                let Some(track) = self.orders.get_mut(&id) else {
                    return;
                };
                let first = track
                    .lines
                    .iter()
                    .all(|line| line.first_allocated.is_none());
                for allocation in allocations {
                    if let Some(line) = track.lines.get_mut(allocation.line) {
                        line.allocated_at = Some(*at);
                        if first {
                            *line.first_allocated.get_or_insert(0) += allocation.quantity;
                        }
                    }
                }
                if first {
                    // A first allocation that found nothing for a line is still the line's
                    // first allocation: the order's fill is taken once, here.
                    for line in &mut track.lines {
                        line.first_allocated.get_or_insert(0);
                    }
                }
                for shortfall in backordered {
                    if let Some(line) = track.lines.get_mut(shortfall.line) {
                        line.backordered = true;
                    }
                }
                if first {
                    let track = track.clone();
                    self.count_first_allocation(&track);
                }
            }
            SalesOrderEvent::Held { reason, at, .. } => {
                let dwell = order::hold_is_dwell(&self.settings.rules, reason);
                if let Some(track) = self.orders.get_mut(&id) {
                    track.holds.push((*at, None, dwell));
                }
            }
            SalesOrderEvent::Released { at, .. } => {
                if let Some(track) = self.orders.get_mut(&id)
                    && let Some(hold) = track.holds.iter_mut().rev().find(|h| h.1.is_none())
                {
                    hold.1 = Some(*at);
                }
            }
            SalesOrderEvent::Shipped {
                shipment,
                location,
                carrier,
                service,
                weight_g,
                lines,
                at,
                ..
            } => self.shipped(
                &id,
                shipment.to_string(),
                location,
                carrier,
                service,
                *weight_g,
                lines,
                *at,
            ),
            SalesOrderEvent::Delivered {
                shipment,
                delivered_at,
                condition,
                misdelivered,
                ..
            } => {
                if let Some(track) = self.orders.get_mut(&id)
                    && let Some(record) = track
                        .shipments
                        .iter_mut()
                        .find(|s| s.id == shipment.as_str())
                {
                    record.delivered_at = Some(*delivered_at);
                    record.damaged = order::is_damaged(*condition);
                    record.misdelivered = *misdelivered;
                    let lines = record.lines.clone();
                    for (line, quantity) in lines {
                        if let Some(line) = track.lines.get_mut(line) {
                            line.delivered += quantity;
                        }
                    }
                }
                self.rejudge(&id);
            }
            SalesOrderEvent::CarrierException { code, at, .. } => {
                let component = order::exception_component(&self.settings.rules, code);
                self.late_fact(&id, component, *at);
            }
            SalesOrderEvent::CreditNoteIssued { reason, at, .. } => {
                let component = order::credit_fails_documentation(&self.settings.rules, reason)
                    .then_some(Component::Documentation);
                self.late_fact(&id, component, *at);
            }
            SalesOrderEvent::Cancelled {
                initiator,
                reason,
                lines,
                at,
                ..
            } => {
                let excludes = *initiator == Initiator::Seller
                    && order::cancellation_excludes(&self.settings.rules, reason);
                if let Some(track) = self.orders.get_mut(&id) {
                    for cancelled in lines {
                        if let Some(line) = track.lines.get_mut(cancelled.line) {
                            order::cancel_line(line, *initiator, cancelled.quantity);
                        }
                    }
                    track.last_cancelled_at = Some(*at);
                    track.excluded_by_cancellation |= excludes;
                }
                self.rejudge(&id);
            }
            SalesOrderEvent::Amended {
                initiator,
                set_quantities,
                add_lines,
                promise,
                ..
            } => {
                if let Some(track) = self.orders.get_mut(&id) {
                    let by_customer = *initiator == Initiator::Customer;
                    for change in set_quantities {
                        if let Some(line) = track.lines.get_mut(change.line) {
                            let delta = change.quantity - line.ordered;
                            line.ordered = change.quantity;
                            if by_customer {
                                line.basis += delta;
                            }
                        }
                    }
                    for added in add_lines {
                        track.lines.push(LineTrack {
                            sku: added.sku.clone(),
                            ordered: added.quantity,
                            basis: if by_customer { added.quantity } else { 0 },
                            cancelled_by_seller: 0,
                            cancelled_by_customer: 0,
                            first_allocated: None,
                            backordered: false,
                            allocated_at: None,
                            shipped: 0,
                            delivered: 0,
                            returned: 0,
                        });
                    }
                    // A seller's re-promise leaves the original commitment standing.
                    if by_customer && promise.is_some() {
                        track.promise = promise.clone();
                    }
                }
                if let Some(track) = self.orders.get(&id).cloned() {
                    let slices = self.placement_slices(&track);
                    if let Some(tracked) = self.orders.get_mut(&id) {
                        tracked.slices = slices;
                    }
                }
                self.rejudge(&id);
            }
            SalesOrderEvent::Deallocated { .. }
            | SalesOrderEvent::Picked { .. }
            | SalesOrderEvent::Packed { .. }
            | SalesOrderEvent::Invoiced { .. }
            | SalesOrderEvent::PaymentReceived { .. }
            | SalesOrderEvent::PaymentRefunded { .. }
            | SalesOrderEvent::ReturnAuthorised { .. }
            | SalesOrderEvent::ReturnReleased { .. } => {}
        }
        let _ = at;
    }

    fn count_first_allocation(&mut self, track: &OrderTrack) {
        let slices = self.order_slices(track, None);
        let day = self.day(track.placed_at);
        let lines = track.lines.len() as i64;
        let ordered: i64 = track.lines.iter().map(|line| line.ordered).sum();
        let allocated: i64 = track
            .lines
            .iter()
            .map(|line| line.first_allocated.unwrap_or(0).min(line.ordered))
            .sum();
        let complete_lines = track
            .lines
            .iter()
            .filter(|line| line.first_allocated.unwrap_or(0) >= line.ordered)
            .count() as i64;
        let backordered = track.lines.iter().any(|line| line.backordered);
        self.add(day, &slices, |bucket| {
            bucket.fill_orders += 1;
            bucket.fill_lines += lines;
            bucket.fill_lines_complete += complete_lines;
            bucket.fill_units_ordered += ordered;
            bucket.fill_units_allocated += allocated;
            if complete_lines == lines {
                bucket.fill_orders_complete += 1;
            }
            if backordered {
                bucket.backordered_orders += 1;
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn shipped(
        &mut self,
        id: &str,
        shipment: String,
        location: &flowline_core::id::LocationId,
        carrier: &flowline_core::id::CarrierId,
        service: &flowline_core::id::ServiceCode,
        weight_g: i64,
        lines: &[flowline_core::documents::sales_order::LineQuantity],
        at: Timestamp,
    ) {
        let Some(track) = self.orders.get_mut(id) else {
            return;
        };
        let first_shipment = track.shipments.is_empty();
        let units: i64 = lines.iter().map(|line| line.quantity).sum();
        for line in lines {
            if let Some(tracked) = track.lines.get_mut(line.line) {
                tracked.shipped += line.quantity;
            }
        }
        track.shipments.push(ShipmentTrack {
            id: shipment,
            location: location.clone(),
            carrier: (carrier.clone(), service.clone()),
            shipped_at: at,
            lines: lines.iter().map(|l| (l.line, l.quantity)).collect(),
            weight_g,
            delivered_at: None,
            damaged: false,
            misdelivered: false,
        });
        let ship_by = track.promise.as_ref().and_then(|p| p.ship_by);
        let track = track.clone();
        let day = self.day(at);
        let mut slices = self.order_slices(&track, None);
        slices.push(Slice::Center(location.to_string()));
        slices.push(Slice::CarrierService(format!("{carrier}/{service}")));
        let mode = self
            .modes
            .get(&(carrier.to_string(), service.to_string()))
            .copied()
            .unwrap_or(TransportMode::Road);
        let leg = self.settings.emissions.leg(
            self.places.get(location.as_str()),
            track.ship_to.as_ref(),
            mode,
            weight_g,
        );
        self.add(day, &slices, |bucket| {
            bucket.shipments += 1;
            bucket.units_shipped += units;
            match leg {
                Some((milligrams, gram_metres)) => {
                    bucket.emission_shipments += 1;
                    bucket.emissions_mg += milligrams;
                    bucket.gram_metres += gram_metres;
                }
                None => bucket.emission_shipments_left_out += 1,
            }
            if first_shipment {
                bucket.orders_shipped += 1;
            }
        });
        if first_shipment && let Some(deadline) = ship_by {
            let deadline_day = self.day(deadline);
            let order_slices = self.order_slices(&track, None);
            if at <= deadline {
                self.add(deadline_day, &order_slices, |bucket| {
                    bucket.ship_on_time += 1
                });
            }
        }
    }

    pub(super) fn late_fact(&mut self, id: &str, component: Option<Component>, at: Timestamp) {
        let Some(component) = component else {
            return;
        };
        if let Some(track) = self.orders.get_mut(id) {
            track.late_facts.push(LateFact { at, component });
            self.rejudge(id);
        }
    }

    pub(super) fn work(&mut self, event: &WorkOrderEvent) {
        // Work for a sales order is Make time on its cycle; the order is found through the
        // link recorded when the work order was created.
        match event {
            WorkOrderEvent::Created {
                work_order,
                for_order: Some(order),
                ..
            } => {
                self.work_orders
                    .insert(work_order.to_string(), order.to_string());
                if let Some(track) = self.orders.get_mut(order.as_str()) {
                    track.work.push((None, None));
                }
            }
            WorkOrderEvent::Started { work_order, at, .. } => {
                if let Some(order) = self.work_orders.get(work_order.as_str()).cloned()
                    && let Some(track) = self.orders.get_mut(&order)
                    && let Some(slot) = track.work.iter_mut().find(|w| w.0.is_none())
                {
                    slot.0 = Some(*at);
                }
            }
            WorkOrderEvent::Completed { work_order, at, .. } => {
                if let Some(order) = self.work_orders.get(work_order.as_str()).cloned()
                    && let Some(track) = self.orders.get_mut(&order)
                    && let Some(slot) = track
                        .work
                        .iter_mut()
                        .find(|w| w.0.is_some() && w.1.is_none())
                {
                    slot.1 = Some(*at);
                }
            }
            _ => {}
        }
    }
}
