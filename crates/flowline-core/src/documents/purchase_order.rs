//! Source: the purchase order, from placement to payment.
//!
//! Life cycle: placed → confirmed by the supplier (commit date) → received, possibly in several
//! receipts, each line with a quality check that accepts or rejects units → billed → paid.
//! A PO with nothing received may be cancelled; one partly received may be closed short.
//!
//! Accepted units enter stock valued at the PO price converted to the base currency at the PO's
//! rate (`Dr inventory / Cr goods received not invoiced`). The bill clears that accrual at the
//! value received; any difference is purchase price variance (a three-way-match failure the
//! metrics count). Foreign-currency entries pass through a currency-exchange clearing account so
//! each currency's postings balance on their own.

use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, add, mul, positive};
use crate::id::{
    BillId, LocationId, PaymentId, PurchaseOrderId, ReasonCode, ReceiptId, Sku, SupplierId,
};
use crate::ledger::{Account, VirtualLocation};
use crate::money::{Currency, ExchangeRate, Money};
use crate::state::{Context, State};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::PurchaseOrder;

/// A line as ordered from the supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PurchaseLine {
    /// The item.
    pub sku: Sku,
    /// Units ordered.
    pub quantity: i64,
    /// Price per unit in the PO currency, minor units.
    pub unit_price_minor: i64,
}

/// Place a purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PlacePurchaseOrder {
    /// New PO id.
    pub purchase_order: PurchaseOrderId,
    /// Supplier.
    pub supplier: SupplierId,
    /// Fulfillment center receiving the goods.
    pub location: LocationId,
    /// Currency: must be the supplier's.
    pub currency: Currency,
    /// Rate into the base currency; required when the currency is not the base currency.
    #[serde(default)]
    pub exchange_rate: Option<ExchangeRate>,
    /// Lines.
    pub lines: Vec<PurchaseLine>,
    /// Date the goods are wanted.
    #[serde(default)]
    pub requested_on: Option<Date>,
}

/// The supplier confirms the order and commits to a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmPurchaseOrder {
    /// The PO.
    pub purchase_order: PurchaseOrderId,
    /// Supplier's committed delivery date.
    pub committed_on: Date,
}

/// Units received on one line, with the quality check result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    /// Line index.
    pub line: usize,
    /// Units that passed the quality check and enter stock.
    pub accepted: i64,
    /// Units that failed it and are refused.
    #[serde(default)]
    pub rejected: i64,
    /// Why units were rejected.
    #[serde(default)]
    pub reject_reason: Option<ReasonCode>,
}

/// Receive goods against the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivePurchaseOrder {
    /// The PO.
    pub purchase_order: PurchaseOrderId,
    /// New receipt id.
    pub receipt: ReceiptId,
    /// Lines.
    pub lines: Vec<ReceiptLine>,
    /// When the goods arrived at the dock; defaults to the command's business time.
    #[serde(default)]
    pub arrived_at: Option<Timestamp>,
}

/// Record the supplier's bill for what was received and not yet billed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BillPurchaseOrder {
    /// The PO.
    pub purchase_order: PurchaseOrderId,
    /// New bill id.
    pub bill: BillId,
    /// Amount billed, PO currency.
    pub amount: Money,
    /// Due date.
    pub due_on: Date,
}

/// Pay the supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PayPurchaseOrder {
    /// The PO.
    pub purchase_order: PurchaseOrderId,
    /// New payment id.
    pub payment: PaymentId,
    /// Amount, PO currency.
    pub amount: Money,
}

/// Cancel an order nothing has been received on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelPurchaseOrder {
    /// The PO.
    pub purchase_order: PurchaseOrderId,
    /// Why.
    pub reason: ReasonCode,
}

/// Close an order short: nothing more will be received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClosePurchaseOrder {
    /// The PO.
    pub purchase_order: PurchaseOrderId,
    /// Why.
    pub reason: ReasonCode,
}

crate::registry::event_family! {
    /// Purchase order events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum PurchaseOrderEvent {
        /// The order was placed.
        "PurchaseOrderPlaced" => Placed {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Supplier.
            supplier: SupplierId,
            /// Receiving center.
            location: LocationId,
            /// Currency.
            currency: Currency,
            /// Rate into the base currency.
            exchange_rate: ExchangeRate,
            /// Lines.
            lines: Vec<PurchaseLine>,
            /// Requested date.
            requested_on: Option<Date>,
            /// When placed.
            at: Timestamp,
        },
        /// The supplier confirmed.
        "SupplierConfirmed" => Confirmed {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Committed date.
            committed_on: Date,
            /// When.
            at: Timestamp,
        },
        /// Goods were received and checked.
        "PurchaseOrderReceived" => Received {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Receipt id.
            receipt: ReceiptId,
            /// Lines.
            lines: Vec<ReceiptLine>,
            /// Value accepted, PO currency.
            value_minor: i64,
            /// When the goods arrived.
            arrived_at: Timestamp,
            /// When they were checked and put away.
            at: Timestamp,
            /// Moves from `supplier`, inventory and accrual postings.
            effects: Effects,
        },
        /// The supplier's bill was recorded.
        "BillReceived" => Billed {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Bill id.
            bill: BillId,
            /// Amount billed.
            amount_minor: i64,
            /// Value received that the bill covers.
            matched_minor: i64,
            /// Units billed per line.
            lines: Vec<(usize, i64)>,
            /// Due date.
            due_on: Date,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
        /// The supplier was paid.
        "PaymentMade" => Paid {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Payment id.
            payment: PaymentId,
            /// Amount.
            amount_minor: i64,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
        /// The order was cancelled.
        "PurchaseOrderCancelled" => Cancelled {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Why.
            reason: ReasonCode,
            /// When.
            at: Timestamp,
        },
        /// The order was closed short.
        "PurchaseOrderClosed" => Closed {
            /// PO id.
            purchase_order: PurchaseOrderId,
            /// Why.
            reason: ReasonCode,
            /// When.
            at: Timestamp,
        },
    }
}

impl PurchaseOrderEvent {
    /// The PO the event belongs to.
    pub fn purchase_order(&self) -> &PurchaseOrderId {
        match self {
            Self::Placed { purchase_order, .. }
            | Self::Confirmed { purchase_order, .. }
            | Self::Received { purchase_order, .. }
            | Self::Billed { purchase_order, .. }
            | Self::Paid { purchase_order, .. }
            | Self::Cancelled { purchase_order, .. }
            | Self::Closed { purchase_order, .. } => purchase_order,
        }
    }

    /// Ledger effects.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::Received { effects, .. }
            | Self::Billed { effects, .. }
            | Self::Paid { effects, .. } => Some(effects),
            _ => None,
        }
    }
}

/// The state of one PO line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PurchaseOrderLine {
    /// As ordered.
    pub line: PurchaseLine,
    /// Units accepted into stock.
    pub accepted: i64,
    /// Units rejected at the quality check.
    pub rejected: i64,
    /// Units billed.
    pub billed: i64,
}

impl PurchaseOrderLine {
    /// Units still expected from the supplier.
    pub fn outstanding(&self) -> i64 {
        self.line.quantity - self.accepted - self.rejected
    }
}

/// A purchase order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PurchaseOrderStatus {
    /// Placed, awaiting confirmation.
    Placed,
    /// Confirmed by the supplier.
    Confirmed,
    /// Cancelled before any receipt.
    Cancelled,
    /// Closed short.
    Closed,
}

/// A purchase order's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PurchaseOrder {
    /// PO id.
    pub id: PurchaseOrderId,
    /// Supplier.
    pub supplier: SupplierId,
    /// Receiving center.
    pub location: LocationId,
    /// Currency.
    pub currency: Currency,
    /// Rate into the base currency.
    pub exchange_rate: ExchangeRate,
    /// Status set by explicit steps.
    pub status: PurchaseOrderStatus,
    /// Supplier's commit date.
    pub committed_on: Option<Date>,
    /// Lines.
    pub lines: Vec<PurchaseOrderLine>,
    /// Receipt ids.
    pub receipts: Vec<ReceiptId>,
    /// Billed amount, PO currency.
    pub billed_minor: i64,
    /// Paid amount, PO currency.
    pub paid_minor: i64,
}

impl PurchaseOrder {
    /// Whether every line is fully received (accepted or rejected).
    pub fn fully_received(&self) -> bool {
        self.lines.iter().all(|l| l.outstanding() == 0)
    }

    /// Units on order (still expected) of a SKU.
    pub fn on_order(&self, sku: &Sku) -> i64 {
        if matches!(
            self.status,
            PurchaseOrderStatus::Cancelled | PurchaseOrderStatus::Closed
        ) {
            return 0;
        }
        self.lines
            .iter()
            .filter(|l| l.line.sku == *sku)
            .map(PurchaseOrderLine::outstanding)
            .sum()
    }

    /// The life-cycle state.
    pub fn state_name(&self) -> &'static str {
        let any_received = self.lines.iter().any(|l| l.accepted + l.rejected > 0);
        match self.status {
            PurchaseOrderStatus::Cancelled => "cancelled",
            PurchaseOrderStatus::Closed => "closed",
            _ if self.fully_received() => "received",
            _ if any_received => "partially_received",
            PurchaseOrderStatus::Confirmed => "confirmed",
            PurchaseOrderStatus::Placed => "placed",
        }
    }
}

fn find<'s>(state: &'s State, id: &PurchaseOrderId) -> Result<&'s PurchaseOrder, DomainError> {
    state
        .purchase_orders
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "purchase_order"))
}

/// A PO that may still receive goods.
fn receivable<'s>(
    state: &'s State,
    id: &PurchaseOrderId,
    attempted: &'static str,
) -> Result<&'s PurchaseOrder, DomainError> {
    let found = find(state, id)?;
    let receiving = matches!(
        found.status,
        PurchaseOrderStatus::Placed | PurchaseOrderStatus::Confirmed
    );
    if !receiving || found.fully_received() {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// Place.
pub(crate) fn place(
    state: &State,
    command: &PlacePurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let settings = state.settings()?;
    if state.purchase_orders.contains_key(&command.purchase_order) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.purchase_order.to_string(),
        });
    }
    let supplier = state.supplier(&command.supplier, "supplier")?;
    if command.currency != supplier.currency {
        return Err(DomainError::CurrencyMismatch {
            field: "currency".into(),
            expected: supplier.currency,
            actual: command.currency,
        });
    }
    state.fulfillment_center(&command.location, "location")?;
    let exchange_rate = match (
        command.currency == settings.base_currency,
        command.exchange_rate,
    ) {
        (true, None) | (true, Some(ExchangeRate::ONE)) => ExchangeRate::ONE,
        (true, Some(_)) => {
            return Err(DomainError::invalid(
                "exchange_rate",
                "the PO is in the base currency; omit the rate",
            ));
        }
        (false, None) => {
            return Err(DomainError::invalid(
                "exchange_rate",
                format!(
                    "required: the PO is in {} and inventory is valued in {}",
                    command.currency, settings.base_currency
                ),
            ));
        }
        (false, Some(rate)) => {
            positive(|| "exchange_rate.rate_micro".into(), rate.rate_micro)?;
            rate
        }
    };
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a purchase order needs at least one line",
        ));
    }
    for (index, purchase_line) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        state.stocked_item(&purchase_line.sku, &at("sku"))?;
        positive(|| at("quantity"), purchase_line.quantity)?;
        if purchase_line.quantity < supplier.minimum_order_quantity {
            return Err(DomainError::invalid(
                at("quantity"),
                format!(
                    "{} is below the supplier's minimum order quantity of {}",
                    purchase_line.quantity, supplier.minimum_order_quantity
                ),
            ));
        }
        if purchase_line.unit_price_minor < 0 {
            return Err(DomainError::invalid(
                at("unit_price_minor"),
                "must not be negative",
            ));
        }
        let value = mul(
            purchase_line.quantity,
            purchase_line.unit_price_minor,
            || at("unit_price_minor"),
        )?;
        exchange_rate
            .convert(value, command.currency, settings.base_currency)
            .ok_or_else(|| DomainError::overflow(at("unit_price_minor")))?;
    }
    Ok(vec![PurchaseOrderEvent::Placed {
        purchase_order: command.purchase_order.clone(),
        supplier: command.supplier.clone(),
        location: command.location.clone(),
        currency: command.currency,
        exchange_rate,
        lines: command.lines.clone(),
        requested_on: command.requested_on,
        at: ctx.at,
    }])
}

/// Confirm.
pub(crate) fn confirm(
    state: &State,
    command: &ConfirmPurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let found = find(state, &command.purchase_order)?;
    if found.status != PurchaseOrderStatus::Placed || found.state_name() != "placed" {
        return Err(DomainError::illegal(
            KIND,
            &command.purchase_order,
            found.state_name(),
            "confirm",
        ));
    }
    Ok(vec![PurchaseOrderEvent::Confirmed {
        purchase_order: command.purchase_order.clone(),
        committed_on: command.committed_on,
        at: ctx.at,
    }])
}

/// Receive.
pub(crate) fn receive(
    state: &State,
    command: &ReceivePurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = receivable(state, &command.purchase_order, "receive")?;
    if found.receipts.contains(&command.receipt) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Receipt,
            id: command.receipt.to_string(),
        });
    }
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a receipt needs at least one line",
        ));
    }
    let supplier_location = VirtualLocation::Supplier.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    let mut value_foreign: i64 = 0;
    let mut value_base: i64 = 0;
    for (index, receipt_line) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let po_line = found.lines.get(receipt_line.line).ok_or_else(|| {
            DomainError::invalid(
                at("line"),
                format!(
                    "purchase order {} has no line {}",
                    found.id, receipt_line.line
                ),
            )
        })?;
        if receipt_line.accepted < 0 {
            return Err(DomainError::invalid(at("accepted"), "must not be negative"));
        }
        if receipt_line.rejected < 0 {
            return Err(DomainError::invalid(at("rejected"), "must not be negative"));
        }
        let units = add(receipt_line.accepted, receipt_line.rejected, || {
            at("rejected")
        })?;
        positive(|| at("accepted"), units)?;
        if receipt_line.rejected > 0 && receipt_line.reject_reason.is_none() {
            return Err(DomainError::invalid(
                at("reject_reason"),
                "required when units are rejected",
            ));
        }
        asked[receipt_line.line] = add(asked[receipt_line.line], units, || at("accepted"))?;
        if asked[receipt_line.line] > po_line.outstanding() {
            return Err(DomainError::ExceedsOutstanding {
                field: at("accepted"),
                requested: asked[receipt_line.line],
                outstanding: po_line.outstanding(),
            });
        }
        if receipt_line.accepted == 0 {
            continue;
        }
        let line_foreign = mul(receipt_line.accepted, po_line.line.unit_price_minor, || {
            at("accepted")
        })?;
        let line_base = found
            .exchange_rate
            .convert(line_foreign, found.currency, settings.base_currency)
            .ok_or_else(|| DomainError::overflow(at("accepted")))?;
        builder.move_valued(
            &po_line.line.sku,
            &supplier_location,
            &found.location,
            receipt_line.accepted,
            line_base,
        );
        value_foreign = add(value_foreign, line_foreign, || at("accepted"))?;
        value_base = add(value_base, line_base, || at("accepted"))?;
    }
    if found.currency == settings.base_currency {
        builder.post(
            Account::Inventory,
            Account::GoodsReceivedNotInvoiced,
            value_base,
        );
    } else {
        builder.post(Account::Inventory, Account::CurrencyExchange, value_base);
        builder.post_in(
            Account::CurrencyExchange,
            Account::GoodsReceivedNotInvoiced,
            value_foreign,
            found.currency,
        );
    }
    Ok(vec![PurchaseOrderEvent::Received {
        purchase_order: command.purchase_order.clone(),
        receipt: command.receipt.clone(),
        lines: command.lines.clone(),
        value_minor: value_foreign,
        arrived_at: command.arrived_at.unwrap_or(ctx.at),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

fn check_amount(found: &PurchaseOrder, amount: &Money) -> Result<i64, DomainError> {
    if amount.currency != found.currency {
        return Err(DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: found.currency,
            actual: amount.currency,
        });
    }
    positive(|| "amount.amount_minor".into(), amount.amount_minor)
}

/// Bill.
pub(crate) fn bill(
    state: &State,
    command: &BillPurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = find(state, &command.purchase_order)?;
    if found.status == PurchaseOrderStatus::Cancelled {
        return Err(DomainError::illegal(
            KIND,
            &command.purchase_order,
            "cancelled",
            "bill",
        ));
    }
    let amount = check_amount(found, &command.amount)?;
    let lines: Vec<(usize, i64)> = found
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.accepted > l.billed)
        .map(|(index, l)| (index, l.accepted - l.billed))
        .collect();
    if lines.is_empty() {
        return Err(DomainError::illegal(
            KIND,
            &command.purchase_order,
            found.state_name(),
            "bill (nothing received is unbilled)",
        ));
    }
    let mut matched: i64 = 0;
    for (index, units) in &lines {
        let value = mul(*units, found.lines[*index].line.unit_price_minor, || {
            "amount".into()
        })?;
        matched = add(matched, value, || "amount".into())?;
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(
        Account::GoodsReceivedNotInvoiced,
        Account::Payables,
        matched,
        found.currency,
    );
    builder.post_in(
        Account::PurchasePriceVariance,
        Account::Payables,
        amount - matched,
        found.currency,
    );
    Ok(vec![PurchaseOrderEvent::Billed {
        purchase_order: command.purchase_order.clone(),
        bill: command.bill.clone(),
        amount_minor: amount,
        matched_minor: matched,
        lines,
        due_on: command.due_on,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Pay.
pub(crate) fn pay(
    state: &State,
    command: &PayPurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = find(state, &command.purchase_order)?;
    let amount = check_amount(found, &command.amount)?;
    let due = found.billed_minor - found.paid_minor;
    if amount > due {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: due,
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Payables, Account::Cash, amount, found.currency);
    Ok(vec![PurchaseOrderEvent::Paid {
        purchase_order: command.purchase_order.clone(),
        payment: command.payment.clone(),
        amount_minor: amount,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Cancel.
pub(crate) fn cancel(
    state: &State,
    command: &CancelPurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let found = find(state, &command.purchase_order)?;
    let untouched = found.lines.iter().all(|l| l.accepted + l.rejected == 0);
    let open = matches!(
        found.status,
        PurchaseOrderStatus::Placed | PurchaseOrderStatus::Confirmed
    );
    if !open || !untouched {
        return Err(DomainError::illegal(
            KIND,
            &command.purchase_order,
            found.state_name(),
            "cancel",
        ));
    }
    Ok(vec![PurchaseOrderEvent::Cancelled {
        purchase_order: command.purchase_order.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
    }])
}

/// Close short.
pub(crate) fn close(
    state: &State,
    command: &ClosePurchaseOrder,
    ctx: &Context,
) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
    let found = receivable(state, &command.purchase_order, "close")?;
    // Closing short ends a partly received order; one with nothing received is cancelled.
    if found.lines.iter().all(|l| l.accepted + l.rejected == 0) {
        return Err(DomainError::illegal(
            KIND,
            &command.purchase_order,
            found.state_name(),
            "close (nothing received: cancel instead)",
        ));
    }
    Ok(vec![PurchaseOrderEvent::Closed {
        purchase_order: command.purchase_order.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
    }])
}

/// Applies a purchase order event.
pub(crate) fn apply(
    orders: &mut rustc_hash::FxHashMap<PurchaseOrderId, PurchaseOrder>,
    event: &PurchaseOrderEvent,
) {
    if let PurchaseOrderEvent::Placed {
        purchase_order,
        supplier,
        location,
        currency,
        exchange_rate,
        lines,
        ..
    } = event
    {
        orders.insert(
            purchase_order.clone(),
            PurchaseOrder {
                id: purchase_order.clone(),
                supplier: supplier.clone(),
                location: location.clone(),
                currency: *currency,
                exchange_rate: *exchange_rate,
                status: PurchaseOrderStatus::Placed,
                committed_on: None,
                lines: lines
                    .iter()
                    .map(|l| PurchaseOrderLine {
                        line: l.clone(),
                        accepted: 0,
                        rejected: 0,
                        billed: 0,
                    })
                    .collect(),
                receipts: Vec::new(),
                billed_minor: 0,
                paid_minor: 0,
            },
        );
        return;
    }
    let Some(found) = orders.get_mut(event.purchase_order()) else {
        debug_assert!(
            false,
            "event for unknown purchase order {}",
            event.purchase_order()
        );
        return;
    };
    // `decide` only names lines that exist; an event naming another line can only come from a
    // tampered log, and is left out rather than allowed to panic a replay or `flowline check`.
    let named: Vec<usize> = match event {
        PurchaseOrderEvent::Received { lines, .. } => lines.iter().map(|l| l.line).collect(),
        PurchaseOrderEvent::Billed { lines, .. } => lines.iter().map(|(line, _)| *line).collect(),
        _ => Vec::new(),
    };
    if named.iter().any(|line| *line >= found.lines.len()) {
        return;
    }
    match event {
        PurchaseOrderEvent::Placed { .. } => {}
        PurchaseOrderEvent::Confirmed { committed_on, .. } => {
            found.status = PurchaseOrderStatus::Confirmed;
            found.committed_on = Some(*committed_on);
        }
        PurchaseOrderEvent::Received { receipt, lines, .. } => {
            for receipt_line in lines {
                let po_line = &mut found.lines[receipt_line.line];
                po_line.accepted += receipt_line.accepted;
                po_line.rejected += receipt_line.rejected;
            }
            found.receipts.push(receipt.clone());
        }
        PurchaseOrderEvent::Billed {
            amount_minor,
            lines,
            ..
        } => {
            for (index, units) in lines {
                found.lines[*index].billed += units;
            }
            found.billed_minor += amount_minor;
        }
        PurchaseOrderEvent::Paid { amount_minor, .. } => found.paid_minor += amount_minor,
        PurchaseOrderEvent::Cancelled { .. } => found.status = PurchaseOrderStatus::Cancelled,
        PurchaseOrderEvent::Closed { .. } => found.status = PurchaseOrderStatus::Closed,
    }
}
