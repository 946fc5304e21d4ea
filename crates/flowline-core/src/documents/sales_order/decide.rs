//! `decide` for every sales order command except allocation (see `allocate`): placing, holds,
//! the warehouse steps (pick, pack, ship), delivery, invoicing, payments, cancellation and
//! amendment, with the look-ups and checks they share.

use super::allocate::{allocate_for, release_allocations};
use super::apply::order_from_placed;
use super::*;
use crate::effects::EffectsBuilder;
use crate::error::{DocumentKind, DomainError, add, mul, positive};
use crate::id::{LocationId, SalesOrderId, ShipmentId};
use crate::ledger::{Account, VirtualLocation};
use crate::money::{Currency, ExchangeRate, Money};
use crate::state::{Context, State};

pub(super) fn order<'s>(
    state: &'s State,
    id: &SalesOrderId,
) -> Result<&'s SalesOrder, DomainError> {
    state
        .sales_orders
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "order"))
}

/// An order that can still change: not cancelled, not closed.
pub(super) fn open_order<'s>(
    state: &'s State,
    id: &SalesOrderId,
    attempted: &'static str,
) -> Result<&'s SalesOrder, DomainError> {
    let found = order(state, id)?;
    if found.is_terminal() {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// An order whose warehouse work may proceed: open and not held.
pub(super) fn workable_order<'s>(
    state: &'s State,
    id: &SalesOrderId,
    attempted: &'static str,
) -> Result<&'s SalesOrder, DomainError> {
    let found = open_order(state, id, attempted)?;
    if found.hold.is_some() {
        return Err(DomainError::illegal(KIND, id, "held", attempted));
    }
    Ok(found)
}

pub(super) fn line(
    order: &SalesOrder,
    index: usize,
    field: impl FnOnce() -> String,
) -> Result<&SalesOrderLine, DomainError> {
    order.lines.get(index).ok_or_else(|| {
        DomainError::invalid(
            field(),
            format!(
                "order {} has no line {index} (it has {})",
                order.id,
                order.lines.len()
            ),
        )
    })
}

fn check_lines(
    state: &State,
    lines: &[OrderLineInput],
    field: &str,
) -> Result<Vec<OrderLine>, DomainError> {
    lines
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let at = |name: &str| format!("{field}[{index}].{name}");
            state.item(&input.sku, &at("sku"))?;
            positive(|| at("quantity"), input.quantity)?;
            if input.unit_price_minor < 0 {
                return Err(DomainError::invalid(
                    at("unit_price_minor"),
                    "must not be negative",
                ));
            }
            if input.unit_tax_minor < 0 {
                return Err(DomainError::invalid(
                    at("unit_tax_minor"),
                    "must not be negative",
                ));
            }
            let unit = add(input.unit_price_minor, input.unit_tax_minor, || {
                at("unit_price_minor")
            })?;
            mul(unit, input.quantity, || at("quantity"))?;
            Ok(OrderLine {
                sku: input.sku.clone(),
                quantity: input.quantity,
                unit_price_minor: input.unit_price_minor,
                unit_tax_minor: input.unit_tax_minor,
            })
        })
        .collect()
}

/// The rate an order records: none in the base currency, a positive one in any other.
fn order_rate(
    command: &PlaceSalesOrder,
    base: Currency,
) -> Result<Option<ExchangeRate>, DomainError> {
    match (command.currency == base, command.exchange_rate) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(DomainError::invalid(
            "exchange_rate",
            format!("the order is in {base}, the base currency; leave the rate out"),
        )),
        (false, None) => Err(DomainError::invalid(
            "exchange_rate",
            format!(
                "required: the order is in {} and the tenant accounts in {base}; give \
                 rate_micro, the {base} per 1 {} times 1,000,000",
                command.currency, command.currency
            ),
        )),
        (false, Some(rate)) => {
            positive(|| "exchange_rate.rate_micro".into(), rate.rate_micro)?;
            let total = command.lines.iter().try_fold(
                i128::from(command.shipping_charge_minor),
                |sum, line| {
                    let unit = i128::from(line.unit_price_minor) + i128::from(line.unit_tax_minor);
                    sum.checked_add(i128::from(line.quantity).checked_mul(unit)?)
                },
            );
            // The whole order must convert without overflow, as each line did when checked.
            let converts = total
                .and_then(|total| i64::try_from(total).ok())
                .and_then(|total| rate.convert(total, command.currency, base));
            if converts.is_none() {
                return Err(DomainError::overflow("exchange_rate.rate_micro"));
            }
            Ok(Some(rate))
        }
    }
}

/// Place.
pub(crate) fn place(
    state: &State,
    command: &PlaceSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    state.settings()?;
    if state.sales_orders.contains_key(&command.order) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.order.to_string(),
        });
    }
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "an order needs at least one line",
        ));
    }
    command.ship_to.validate("ship_to")?;
    if let Some(contact) = &command.contact {
        contact.validate("contact")?;
    }
    if command.shipping_charge_minor < 0 {
        return Err(DomainError::invalid(
            "shipping_charge_minor",
            "must not be negative",
        ));
    }
    let lines = check_lines(state, &command.lines, "lines")?;
    let exchange_rate = order_rate(command, state.settings()?.base_currency)?;
    let placed = SalesOrderEvent::Placed {
        order: command.order.clone(),
        channel: command.channel.clone(),
        customer: command.customer.clone(),
        contact: command.contact.clone().map(Box::new),
        ship_to: command.ship_to.clone(),
        currency: command.currency,
        exchange_rate,
        lines,
        promise: command.promise.clone(),
        service_level: command.service_level.clone(),
        shipping_charge_minor: command.shipping_charge_minor,
        placed_at: ctx.at,
    };
    let Some(shortage) = command.allocate else {
        return Ok(vec![placed]);
    };
    // Decide the allocation against the order as it will be once placed.
    let Some(preview) = order_from_placed(&placed) else {
        return Ok(vec![placed]);
    };
    let allocated = allocate_for(state, &preview, None, shortage, ctx)?;
    Ok(vec![placed, allocated])
}

/// Hold.
pub(crate) fn hold(
    state: &State,
    command: &HoldSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = open_order(state, &command.order, "hold")?;
    if found.hold.is_some() {
        return Err(DomainError::illegal(KIND, &command.order, "held", "hold"));
    }
    Ok(vec![SalesOrderEvent::Held {
        order: command.order.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
    }])
}

/// Release a hold.
pub(crate) fn release(
    state: &State,
    command: &ReleaseSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = open_order(state, &command.order, "release")?;
    if found.hold.is_none() {
        return Err(DomainError::illegal(
            KIND,
            &command.order,
            found.state_name(),
            "release",
        ));
    }
    Ok(vec![SalesOrderEvent::Released {
        order: command.order.clone(),
        at: ctx.at,
    }])
}

/// Checks warehouse-step quantities against what the previous step left at the center.
fn check_step(
    found: &SalesOrder,
    location: &LocationId,
    lines: &[LineQuantity],
    outstanding: impl Fn(&LineAllocation) -> i64,
) -> Result<(), DomainError> {
    if lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "at least one line is required",
        ));
    }
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let order_line = line(found, request.line, || at("line"))?;
        positive(|| at("quantity"), request.quantity)?;
        asked[request.line] = add(asked[request.line], request.quantity, || at("quantity"))?;
        let available: i64 = order_line
            .allocations
            .iter()
            .filter(|a| a.location == *location)
            .map(&outstanding)
            .sum();
        if asked[request.line] > available {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: asked[request.line],
                outstanding: available,
            });
        }
    }
    Ok(())
}

/// Pick.
pub(crate) fn pick(
    state: &State,
    command: &PickSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = workable_order(state, &command.order, "pick")?;
    check_step(found, &command.location, &command.lines, |a| {
        a.allocated - a.picked
    })?;
    Ok(vec![SalesOrderEvent::Picked {
        order: command.order.clone(),
        location: command.location.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
    }])
}

/// Pack.
pub(crate) fn pack(
    state: &State,
    command: &PackSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = workable_order(state, &command.order, "pack")?;
    check_step(found, &command.location, &command.lines, |a| {
        a.picked - a.packed
    })?;
    if let Some(package) = &command.package
        && package.mass_g < 0
    {
        return Err(DomainError::invalid(
            "package.mass_g",
            "must not be negative",
        ));
    }
    Ok(vec![SalesOrderEvent::Packed {
        order: command.order.clone(),
        location: command.location.clone(),
        lines: command.lines.clone(),
        package: command.package.clone(),
        at: ctx.at,
    }])
}

/// Ship.
pub(crate) fn ship(
    state: &State,
    command: &ShipSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = workable_order(state, &command.order, "ship")?;
    if found.shipments.iter().any(|s| s.id == command.shipment) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Shipment,
            id: command.shipment.to_string(),
        });
    }
    state.carrier_service(&command.carrier, &command.service)?;
    if command.weight_g < 0 {
        return Err(DomainError::invalid("weight_g", "must not be negative"));
    }
    check_step(found, &command.location, &command.lines, |a| a.packed)?;
    let customer = VirtualLocation::Customer.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut values_minor = Vec::with_capacity(command.lines.len());
    let mut packed_used: Vec<(usize, usize, i64)> = Vec::new();
    for request in &command.lines {
        let order_line = &found.lines[request.line];
        let mut units = request.quantity;
        let mut value = 0;
        for (index, allocation) in order_line.allocations.iter().enumerate() {
            if allocation.location != command.location || units == 0 {
                continue;
            }
            // Two requests for the same line draw on what the first one left.
            let used: i64 = packed_used
                .iter()
                .filter(|(l, a, _)| *l == request.line && *a == index)
                .map(|(_, _, n)| n)
                .sum();
            let take = units.min(allocation.packed - used);
            if take <= 0 {
                continue;
            }
            for (sku, per_unit) in &allocation.components {
                value +=
                    builder.move_stock(sku, &command.location, &customer, per_unit * take, true)?;
            }
            packed_used.push((request.line, index, take));
            units -= take;
        }
        values_minor.push(value);
    }
    let cost = -builder.inventory_delta();
    builder.post(Account::CostOfGoodsSold, Account::Inventory, cost);
    Ok(vec![SalesOrderEvent::Shipped {
        order: command.order.clone(),
        shipment: command.shipment.clone(),
        location: command.location.clone(),
        carrier: command.carrier.clone(),
        service: command.service.clone(),
        tracking: command.tracking.clone(),
        weight_g: command.weight_g,
        lines: command.lines.clone(),
        values_minor,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

fn shipment<'o>(found: &'o SalesOrder, id: &ShipmentId) -> Result<&'o ShipmentRecord, DomainError> {
    found
        .shipments
        .iter()
        .find(|s| s.id == *id)
        .ok_or_else(|| DomainError::not_found(DocumentKind::Shipment, id, "shipment"))
}

/// Deliver.
pub(crate) fn deliver(
    state: &State,
    command: &DeliverShipment,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = order(state, &command.order)?;
    let record = shipment(found, &command.shipment)?;
    if record.delivered_at.is_some() {
        return Err(DomainError::illegal(
            DocumentKind::Shipment,
            &command.shipment,
            "delivered",
            "deliver",
        ));
    }
    let delivered_at = command.delivered_at.unwrap_or(ctx.at);
    if let Some(shipped_at) = record.shipped_at
        && delivered_at < shipped_at
    {
        return Err(DomainError::invalid(
            "delivered_at",
            format!(
                "{delivered_at} is before the shipment was handed to the carrier at {shipped_at}"
            ),
        ));
    }
    Ok(vec![SalesOrderEvent::Delivered {
        order: command.order.clone(),
        shipment: command.shipment.clone(),
        delivered_at,
        condition: command.condition,
        misdelivered: command.misdelivered,
        note: command.note.clone(),
    }])
}

/// Carrier exception.
pub(crate) fn carrier_exception(
    state: &State,
    command: &RecordCarrierException,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = order(state, &command.order)?;
    shipment(found, &command.shipment)?;
    Ok(vec![SalesOrderEvent::CarrierException {
        order: command.order.clone(),
        shipment: command.shipment.clone(),
        code: command.code.clone(),
        at: ctx.at,
    }])
}

/// Invoice.
pub(crate) fn invoice(
    state: &State,
    command: &InvoiceSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let mut lines = Vec::new();
    let mut net: i64 = 0;
    let mut tax: i64 = 0;
    for (index, order_line) in found.lines.iter().enumerate() {
        let units = order_line.shipped - order_line.invoiced;
        if units > 0 {
            lines.push(LineQuantity {
                line: index,
                quantity: units,
            });
            net = add(
                net,
                mul(units, order_line.line.unit_price_minor, || "lines".into())?,
                || "lines".into(),
            )?;
            tax = add(
                tax,
                mul(units, order_line.line.unit_tax_minor, || "lines".into())?,
                || "lines".into(),
            )?;
        }
    }
    if lines.is_empty() {
        return Err(DomainError::illegal(
            KIND,
            &command.order,
            found.state_name(),
            "invoice (nothing shipped is uninvoiced)",
        ));
    }
    if !found.shipping_invoiced {
        net = add(net, found.shipping_charge_minor, || {
            "shipping_charge_minor".into()
        })?;
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Receivables, Account::Revenue, net, found.currency);
    builder.post_in(
        Account::Receivables,
        Account::SalesTaxPayable,
        tax,
        found.currency,
    );
    Ok(vec![SalesOrderEvent::Invoiced {
        order: command.order.clone(),
        invoice: command.invoice.clone(),
        lines,
        net_minor: net,
        tax_minor: tax,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

fn check_amount(found: &SalesOrder, amount: &Money, field: &str) -> Result<i64, DomainError> {
    if amount.currency != found.currency {
        return Err(DomainError::CurrencyMismatch {
            field: field.into(),
            expected: found.currency,
            actual: amount.currency,
        });
    }
    positive(|| format!("{field}.amount_minor"), amount.amount_minor)
}

/// Credit note.
pub(crate) fn credit_note(
    state: &State,
    command: &IssueCreditNote,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let amount = check_amount(found, &command.amount, "amount")?;
    if amount > found.invoiced_minor {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: found.invoiced_minor,
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(
        Account::Revenue,
        Account::Receivables,
        amount,
        found.currency,
    );
    Ok(vec![SalesOrderEvent::CreditNoteIssued {
        order: command.order.clone(),
        credit_note: command.credit_note.clone(),
        amount_minor: amount,
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Payment received.
pub(crate) fn receive_payment(
    state: &State,
    command: &ReceivePayment,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let amount = check_amount(found, &command.amount, "amount")?;
    // A customer pays for the order as it stands or for what was invoiced, whichever is more.
    // The order as it stands less what was credited, or what was invoiced, whichever is more.
    let due =
        (found.value_minor() - found.credited_minor).max(found.invoiced_minor) - found.paid_minor;
    if amount > due {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: due.max(0),
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Cash, Account::Receivables, amount, found.currency);
    Ok(vec![SalesOrderEvent::PaymentReceived {
        order: command.order.clone(),
        payment: command.payment.clone(),
        amount_minor: amount,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Payment refunded.
pub(crate) fn refund_payment(
    state: &State,
    command: &RefundPayment,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = order(state, &command.order)?;
    let amount = check_amount(found, &command.amount, "amount")?;
    // Only money paid beyond what was invoiced can be handed back here; refunds of goods
    // go through returns.
    let refundable = found.paid_minor - found.invoiced_minor.max(0);
    if amount > refundable {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: refundable.max(0),
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Receivables, Account::Cash, amount, found.currency);
    Ok(vec![SalesOrderEvent::PaymentRefunded {
        order: command.order.clone(),
        refund: command.refund.clone(),
        amount_minor: amount,
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Cancel.
pub(crate) fn cancel(
    state: &State,
    command: &CancelSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = open_order(state, &command.order, "cancel")?;
    let requested: Vec<LineQuantity> = match &command.lines {
        Some(lines) => lines.clone(),
        None => found
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.open() > 0)
            .map(|(index, l)| LineQuantity {
                line: index,
                quantity: l.open(),
            })
            .collect(),
    };
    if requested.is_empty() {
        return Err(DomainError::illegal(
            KIND,
            &command.order,
            found.state_name(),
            "cancel (nothing is open)",
        ));
    }
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for (index, request) in requested.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let order_line = line(found, request.line, || at("line"))?;
        positive(|| at("quantity"), request.quantity)?;
        asked[request.line] = add(asked[request.line], request.quantity, || at("quantity"))?;
        if asked[request.line] > order_line.open() {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: asked[request.line],
                outstanding: order_line.open(),
            });
        }
    }
    for (index, units) in asked.iter().enumerate() {
        let order_line = &found.lines[index];
        let from_reservations = (units - order_line.unallocated()).max(0);
        release_allocations(&mut builder, order_line, None, from_reservations);
    }
    Ok(vec![SalesOrderEvent::Cancelled {
        order: command.order.clone(),
        initiator: command.initiator,
        reason: command.reason.clone(),
        lines: requested,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Amend.
pub(crate) fn amend(
    state: &State,
    command: &AmendSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = open_order(state, &command.order, "amend")?;
    if command.set_quantities.is_empty()
        && command.add_lines.is_empty()
        && command.ship_to.is_none()
        && command.promise.is_none()
    {
        return Err(DomainError::invalid(
            "set_quantities",
            "an amendment must change something",
        ));
    }
    if let Some(address) = &command.ship_to {
        address.validate("ship_to")?;
        if found.lines.iter().any(|l| l.shipped > 0) {
            return Err(DomainError::illegal(
                KIND,
                &command.order,
                found.state_name(),
                "change the address of a shipped order",
            ));
        }
    }
    let add_lines = check_lines(state, &command.add_lines, "add_lines")?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for (index, change) in command.set_quantities.iter().enumerate() {
        let at = |name: &str| format!("set_quantities[{index}].{name}");
        let order_line = line(found, change.line, || at("line"))?;
        if command.set_quantities[..index]
            .iter()
            .any(|other| other.line == change.line)
        {
            return Err(DomainError::invalid(at("line"), "line listed twice"));
        }
        let unit = add(
            order_line.line.unit_price_minor,
            order_line.line.unit_tax_minor,
            || at("quantity"),
        )?;
        mul(unit, change.quantity, || at("quantity"))?;
        let floor = order_line.shipped + order_line.cancelled;
        if change.quantity < floor.max(1) && !(change.quantity == 0 && floor == 0) {
            return Err(DomainError::invalid(
                at("quantity"),
                format!(
                    "must be at least {floor} (shipped {} + cancelled {})",
                    order_line.shipped, order_line.cancelled
                ),
            ));
        }
        // Reservations above the new quantity are released.
        let excess = (order_line.shipped + order_line.cancelled + order_line.allocated()
            - change.quantity)
            .max(0);
        release_allocations(&mut builder, order_line, None, excess);
    }
    Ok(vec![SalesOrderEvent::Amended {
        order: command.order.clone(),
        initiator: command.initiator,
        set_quantities: command.set_quantities.clone(),
        add_lines,
        ship_to: command.ship_to.clone(),
        promise: command.promise.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}
