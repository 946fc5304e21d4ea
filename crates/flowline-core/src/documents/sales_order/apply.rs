//! `apply`: folding a sales order event into the order's own state (the ledgers are updated by
//! the caller).

use super::*;
use crate::id::{LocationId, SalesOrderId};

/// A new order from its `Placed` event.
pub(super) fn order_from_placed(event: &SalesOrderEvent) -> Option<SalesOrder> {
    let SalesOrderEvent::Placed {
        order,
        channel,
        customer,
        contact,
        ship_to,
        currency,
        exchange_rate,
        lines,
        promise,
        shipping_charge_minor,
        placed_at,
        ..
    } = event
    else {
        return None;
    };
    Some(SalesOrder {
        id: order.clone(),
        channel: channel.clone(),
        customer: customer.clone(),
        contact: contact.as_deref().cloned(),
        ship_to: ship_to.clone(),
        currency: *currency,
        exchange_rate: *exchange_rate,
        promise: promise.clone(),
        shipping_charge_minor: *shipping_charge_minor,
        placed_at: *placed_at,
        hold: None,
        lines: lines.iter().cloned().map(SalesOrderLine::new).collect(),
        shipments: Vec::new(),
        shipping_invoiced: false,
        invoiced_minor: 0,
        paid_minor: 0,
        credited_minor: 0,
    })
}

/// Applies a sales order event to the order (the ledgers are updated by the caller).
pub(crate) fn apply(
    orders: &mut rustc_hash::FxHashMap<SalesOrderId, SalesOrder>,
    event: &SalesOrderEvent,
) {
    if let Some(placed) = order_from_placed(event) {
        orders.insert(placed.id.clone(), placed);
        return;
    }
    let Some(found) = orders.get_mut(event.order()) else {
        // An order that left memory (see `retention`): its stream holds the event for when it is
        // reloaded.
        return;
    };
    apply_to(found, event);
}

/// The order lines an event names.
fn lines_named(event: &SalesOrderEvent) -> Vec<usize> {
    let of = |lines: &[LineQuantity]| lines.iter().map(|l| l.line).collect::<Vec<_>>();
    match event {
        SalesOrderEvent::Allocated {
            allocations,
            backordered,
            ..
        } => allocations
            .iter()
            .map(|a| a.line)
            .chain(backordered.iter().map(|b| b.line))
            .collect(),
        SalesOrderEvent::Deallocated { line, .. } => vec![*line],
        SalesOrderEvent::Picked { lines, .. }
        | SalesOrderEvent::Packed { lines, .. }
        | SalesOrderEvent::Shipped { lines, .. }
        | SalesOrderEvent::Invoiced { lines, .. }
        | SalesOrderEvent::Cancelled { lines, .. }
        | SalesOrderEvent::ReturnAuthorised { lines, .. }
        | SalesOrderEvent::ReturnReleased { lines, .. } => of(lines),
        SalesOrderEvent::Amended { set_quantities, .. } => of(set_quantities),
        _ => Vec::new(),
    }
}

fn apply_to(found: &mut SalesOrder, event: &SalesOrderEvent) {
    // `decide` only names lines that exist; an event naming another line can only come from a
    // tampered log, and is left out rather than allowed to panic a replay or `flowline check`.
    if lines_named(event)
        .iter()
        .any(|line| *line >= found.lines.len())
    {
        return;
    }
    match event {
        SalesOrderEvent::Placed { .. } => {}
        SalesOrderEvent::Allocated {
            allocations,
            backordered,
            ..
        } => {
            for made in allocations {
                let order_line = &mut found.lines[made.line];
                match order_line
                    .allocations
                    .iter_mut()
                    .find(|a| a.location == made.location && a.components == made.components)
                {
                    Some(existing) => existing.allocated += made.quantity,
                    None => order_line.allocations.push(LineAllocation {
                        location: made.location.clone(),
                        components: made.components.clone(),
                        allocated: made.quantity,
                        picked: 0,
                        packed: 0,
                    }),
                }
                order_line.backordered = (order_line.backordered - made.quantity).max(0);
            }
            for waiting in backordered {
                found.lines[waiting.line].backordered = waiting.quantity;
            }
        }
        SalesOrderEvent::Deallocated {
            line,
            location,
            quantity,
            ..
        } => {
            apply_release(&mut found.lines[*line], Some(location), *quantity);
        }
        SalesOrderEvent::Held { reason, .. } => found.hold = Some(reason.clone()),
        SalesOrderEvent::Released { .. } => found.hold = None,
        SalesOrderEvent::Picked {
            location, lines, ..
        } => {
            for request in lines {
                advance(
                    &mut found.lines[request.line],
                    location,
                    request.quantity,
                    |a| a.allocated - a.picked,
                    |a, n| a.picked += n,
                );
            }
        }
        SalesOrderEvent::Packed {
            location, lines, ..
        } => {
            for request in lines {
                advance(
                    &mut found.lines[request.line],
                    location,
                    request.quantity,
                    |a| a.picked - a.packed,
                    |a, n| a.packed += n,
                );
            }
        }
        SalesOrderEvent::Shipped {
            shipment,
            location,
            lines,
            values_minor,
            at,
            ..
        } => {
            for (request, value) in lines.iter().zip(values_minor) {
                let order_line = &mut found.lines[request.line];
                advance(
                    order_line,
                    location,
                    request.quantity,
                    |a| a.packed,
                    |a, n| {
                        a.packed -= n;
                        a.picked -= n;
                        a.allocated -= n;
                    },
                );
                order_line.allocations.retain(|a| a.allocated > 0);
                order_line.shipped += request.quantity;
                order_line.shipped_value_minor += value;
            }
            found.shipments.push(ShipmentRecord {
                id: shipment.clone(),
                location: location.clone(),
                lines: lines.clone(),
                shipped_at: Some(*at),
                delivered_at: None,
            });
        }
        SalesOrderEvent::Delivered {
            shipment,
            delivered_at,
            ..
        } => {
            if let Some(record) = found.shipments.iter_mut().find(|s| s.id == *shipment) {
                record.delivered_at = Some(*delivered_at);
                for request in &record.lines {
                    found.lines[request.line].delivered += request.quantity;
                }
            }
        }
        SalesOrderEvent::CarrierException { .. } => {}
        SalesOrderEvent::Invoiced {
            lines,
            net_minor,
            tax_minor,
            ..
        } => {
            for request in lines {
                found.lines[request.line].invoiced += request.quantity;
            }
            found.shipping_invoiced = true;
            found.invoiced_minor += net_minor + tax_minor;
        }
        SalesOrderEvent::CreditNoteIssued { amount_minor, .. } => {
            found.invoiced_minor -= amount_minor;
            found.credited_minor += amount_minor;
        }
        SalesOrderEvent::PaymentReceived { amount_minor, .. } => found.paid_minor += amount_minor,
        SalesOrderEvent::PaymentRefunded { amount_minor, .. } => found.paid_minor -= amount_minor,
        SalesOrderEvent::Cancelled { lines, .. } => {
            let mut per_line: Vec<i64> = vec![0; found.lines.len()];
            for request in lines {
                per_line[request.line] += request.quantity;
            }
            for (index, units) in per_line.into_iter().enumerate() {
                let order_line = &mut found.lines[index];
                let from_reservations = (units - order_line.unallocated()).max(0);
                apply_release(order_line, None, from_reservations);
                order_line.cancelled += units;
                order_line.backordered = order_line.backordered.min(order_line.unallocated());
            }
        }
        SalesOrderEvent::ReturnAuthorised { lines, .. } => {
            for request in lines {
                if let Some(order_line) = found.lines.get_mut(request.line) {
                    order_line.returned += request.quantity;
                }
            }
        }
        SalesOrderEvent::ReturnReleased { lines, .. } => {
            for request in lines {
                if let Some(order_line) = found.lines.get_mut(request.line) {
                    order_line.returned -= request.quantity;
                }
            }
        }
        SalesOrderEvent::Amended {
            set_quantities,
            add_lines,
            ship_to,
            promise,
            ..
        } => {
            for change in set_quantities {
                let order_line = &mut found.lines[change.line];
                let excess = (order_line.shipped + order_line.cancelled + order_line.allocated()
                    - change.quantity)
                    .max(0);
                apply_release(order_line, None, excess);
                order_line.line.quantity = change.quantity;
                order_line.backordered = order_line.backordered.min(order_line.unallocated());
            }
            for added in add_lines {
                found.lines.push(SalesOrderLine::new(added.clone()));
            }
            if let Some(address) = ship_to {
                found.ship_to = address.clone();
            }
            if let Some(promise) = promise {
                found.promise = Some(promise.clone());
            }
        }
    }
}

/// Advances a warehouse step at a center across the line's allocations, in order.
fn advance(
    order_line: &mut SalesOrderLine,
    location: &LocationId,
    mut units: i64,
    outstanding: impl Fn(&LineAllocation) -> i64,
    step: impl Fn(&mut LineAllocation, i64),
) {
    for allocation in order_line
        .allocations
        .iter_mut()
        .filter(|a| a.location == *location)
    {
        if units == 0 {
            break;
        }
        let take = units.min(outstanding(allocation));
        step(allocation, take);
        units -= take;
    }
}

/// Mirrors [`super::allocate::release_allocations`] on the order's own counters.
fn apply_release(order_line: &mut SalesOrderLine, only_at: Option<&LocationId>, mut units: i64) {
    for pass_unpicked_only in [true, false] {
        for allocation in &mut order_line.allocations {
            if units == 0 {
                break;
            }
            if only_at.is_some_and(|location| *location != allocation.location) {
                continue;
            }
            let releasable = if pass_unpicked_only {
                allocation.allocated - allocation.picked
            } else {
                allocation.picked
            };
            let take = units.min(releasable);
            allocation.allocated -= take;
            if !pass_unpicked_only {
                allocation.picked -= take;
                allocation.packed = allocation.packed.min(allocation.picked);
            }
            units -= take;
        }
    }
    order_line.allocations.retain(|a| a.allocated > 0);
}
