//! Return: the return authorisation (RMA), from authorisation to refund.
//!
//! Life cycle: authorised (within the policy's window after delivery) → label issued →
//! received, possibly in several parcels, into `quarantine` → inspected (condition graded) →
//! disposed (restock, scrap, return to vendor, repair) → refunded. An RMA whose customer never
//! sent the rest is closed; closing gives the unreceived units back to the order lines so they
//! can be authorised again. The state is derived from the counters, like the sales order's.
//!
//! Valuation: received units come back at the value they left with (the order line's shipped
//! value per unit: `Dr inventory / Cr cost of goods sold`); a bundle line's value is split over
//! its components by their standard-cost weights. Dispositions take the moving average of the
//! item in `quarantine`: restocking and repair stay within valued locations (no profit and loss),
//! scrap is written off and a return to vendor becomes a vendor credit (`Dr payables`).
//!
//! The RMA keeps its own stream, but two of its events also update the sales order it belongs
//! to: `ReturnAuthorised` adds to each order line's `returned` units and `ReturnClosed` gives
//! the unreceived units back.

use crate::documents::sales_order::{self, LineQuantity, SalesOrder, SalesOrderEvent};
use crate::documents::work_order::{self, CreateWorkOrder, WorkOrderKind};
use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, add, mul, positive};
use crate::id::{
    CarrierId, LocationId, PaymentId, ReasonCode, ReturnId, ReturnPolicyId, SalesOrderId,
    ServiceCode, Sku, SupplierId, WorkOrderId,
};
use crate::ledger::{Account, ScorProcess, VirtualLocation};
use crate::master::Condition;
use crate::money::{Currency, Money, divide_rounding};
use crate::state::{Context, Event, State};
use jiff::{SignedDuration, Timestamp};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::Return;

/// A line to authorise for return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    /// Index of the sales order line (0-based).
    pub line: usize,
    /// Units.
    pub quantity: i64,
    /// Why the customer returns them (`wrong_size`, `damaged`, `changed_mind`).
    pub reason: ReasonCode,
}

/// Authorise a return of delivered units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthoriseReturn {
    /// New return id, named `return` like every other create names its record after its
    /// resource; `return_id`, its former name, is still accepted.
    #[serde(rename = "return", alias = "return_id")]
    pub return_id: ReturnId,
    /// The sales order.
    pub order: SalesOrderId,
    /// The return policy that applies.
    pub policy: ReturnPolicyId,
    /// Lines.
    pub lines: Vec<ReturnLineInput>,
}

/// Issue a return label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueReturnLabel {
    /// The return.
    pub return_id: ReturnId,
    /// Carrier.
    pub carrier: CarrierId,
    /// Carrier service.
    pub service: ServiceCode,
    /// Tracking number.
    pub tracking: String,
    /// Label cost, base currency (posted as a Return supply chain cost, payable).
    #[serde(default)]
    pub cost: Option<Money>,
}

/// Receive returned units into quarantine. `line` is the index of the return line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturn {
    /// The return.
    pub return_id: ReturnId,
    /// Return lines and units.
    pub lines: Vec<LineQuantity>,
}

/// Units of a return line inspected in one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InspectionLine {
    /// Index of the return line.
    pub line: usize,
    /// Units.
    pub quantity: i64,
    /// Condition found.
    pub condition: Condition,
}

/// Grade received units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InspectReturn {
    /// The return.
    pub return_id: ReturnId,
    /// Lines.
    pub lines: Vec<InspectionLine>,
}

/// What happens to inspected units.
//
// serde reads the unit variant `scrap` without looking at the other fields, so it ignores
// unknown ones there despite `deny_unknown_fields`; the schema closes that variant like the
// others, which is the contract `deny_unknown_fields` states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Disposition {
    /// Back into sellable stock at a fulfillment center.
    Restock {
        /// The center.
        location: LocationId,
    },
    /// Written off.
    Scrap,
    /// Sent back to the supplier for a credit.
    ReturnToVendor {
        /// The supplier.
        supplier: SupplierId,
    },
    /// Moved to a fulfillment center and reserved by a new repair work order.
    Repair {
        /// The center doing the repair.
        location: LocationId,
        /// New work order id.
        work_order: WorkOrderId,
    },
}

/// Units of a return line and their disposition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DispositionLine {
    /// Index of the return line.
    pub line: usize,
    /// Units.
    pub quantity: i64,
    /// What happens to them.
    pub disposition: Disposition,
}

/// Dispose of inspected units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DisposeReturn {
    /// The return.
    pub return_id: ReturnId,
    /// Lines.
    pub lines: Vec<DispositionLine>,
}

/// Refund the customer for returned goods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundReturn {
    /// The return.
    pub return_id: ReturnId,
    /// New refund (payment) id.
    pub refund: PaymentId,
    /// Amount, order currency.
    pub amount: Money,
}

/// End the RMA: the customer will not send the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseReturn {
    /// The return.
    pub return_id: ReturnId,
    /// Why (`not_received`, `customer_kept`).
    pub reason: ReasonCode,
}

/// A return line as authorised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthorisedLine {
    /// Index of the sales order line.
    pub line: usize,
    /// The item as sold.
    pub sku: Sku,
    /// Units authorised.
    pub quantity: i64,
    /// Why.
    pub reason: ReasonCode,
    /// Price per unit as sold, order currency.
    pub unit_price_minor: i64,
    /// Tax per unit as sold, order currency.
    pub unit_tax_minor: i64,
    /// Stocked items per unit (the item itself, or a bundle's components).
    pub components: Vec<(Sku, i64)>,
}

crate::registry::event_family! {
    /// Return events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum ReturnEvent {
        /// The return was authorised.
        "ReturnAuthorised" => Authorised {
            /// Return id.
            return_id: ReturnId,
            /// Sales order.
            order: SalesOrderId,
            /// Policy.
            policy: ReturnPolicyId,
            /// Order currency (refunds are paid in it).
            currency: Currency,
            /// Conditions refundable under the policy when authorised.
            refundable_conditions: Vec<Condition>,
            /// Lines.
            lines: Vec<AuthorisedLine>,
            /// When.
            at: Timestamp,
        },
        /// A return label was issued.
        "ReturnLabelIssued" => LabelIssued {
            /// Return id.
            return_id: ReturnId,
            /// Carrier.
            carrier: CarrierId,
            /// Service.
            service: ServiceCode,
            /// Tracking number.
            tracking: String,
            /// Label cost, base currency.
            cost_minor: Option<i64>,
            /// When.
            at: Timestamp,
            /// Cost posting.
            effects: Effects,
        },
        /// Returned units arrived in quarantine.
        "ReturnReceived" => Received {
            /// Return id.
            return_id: ReturnId,
            /// Return lines and units.
            lines: Vec<LineQuantity>,
            /// When.
            at: Timestamp,
            /// Moves from `customer`, inventory and cost of goods sold postings.
            effects: Effects,
        },
        /// Received units were inspected.
        "ReturnInspected" => Inspected {
            /// Return id.
            return_id: ReturnId,
            /// Lines.
            lines: Vec<InspectionLine>,
            /// When.
            at: Timestamp,
        },
        /// Inspected units were disposed of.
        "ReturnDisposed" => Disposed {
            /// Return id.
            return_id: ReturnId,
            /// Lines.
            lines: Vec<DispositionLine>,
            /// When.
            at: Timestamp,
            /// Moves out of `quarantine`, write-off and vendor credit postings.
            effects: Effects,
        },
        /// The customer was refunded.
        "RefundIssued" => RefundIssued {
            /// Return id.
            return_id: ReturnId,
            /// Refund id.
            refund: PaymentId,
            /// Amount, order currency.
            amount_minor: i64,
            /// When.
            at: Timestamp,
            /// Postings.
            effects: Effects,
        },
        /// The return was closed.
        "ReturnClosed" => Closed {
            /// Return id.
            return_id: ReturnId,
            /// Why.
            reason: ReasonCode,
            /// Units never received, per return line (given back to the order lines).
            unreceived: Vec<LineQuantity>,
            /// When.
            at: Timestamp,
        },
    }
}

impl ReturnEvent {
    /// The return the event belongs to.
    pub fn return_id(&self) -> &ReturnId {
        match self {
            Self::Authorised { return_id, .. }
            | Self::LabelIssued { return_id, .. }
            | Self::Received { return_id, .. }
            | Self::Inspected { return_id, .. }
            | Self::Disposed { return_id, .. }
            | Self::RefundIssued { return_id, .. }
            | Self::Closed { return_id, .. } => return_id,
        }
    }

    /// Ledger effects.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::LabelIssued { effects, .. }
            | Self::Received { effects, .. }
            | Self::Disposed { effects, .. }
            | Self::RefundIssued { effects, .. } => Some(effects),
            Self::Authorised { .. } | Self::Inspected { .. } | Self::Closed { .. } => None,
        }
    }
}

/// A return label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReturnLabel {
    /// Carrier.
    pub carrier: CarrierId,
    /// Service.
    pub service: ServiceCode,
    /// Tracking number.
    pub tracking: String,
}

/// The state of one return line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReturnLine {
    /// As authorised.
    pub line: AuthorisedLine,
    /// Units received.
    pub received: i64,
    /// Units inspected.
    pub inspected: i64,
    /// Units inspected per condition.
    pub conditions: Vec<(Condition, i64)>,
    /// Units inspected in a condition the policy does not refund.
    pub unrefundable: i64,
    /// Units disposed of.
    pub disposed: i64,
}

/// A return's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Return {
    /// Return id.
    pub id: ReturnId,
    /// Sales order.
    pub order: SalesOrderId,
    /// Policy.
    pub policy: ReturnPolicyId,
    /// Order currency.
    pub currency: Currency,
    /// Refundable conditions.
    pub refundable_conditions: Vec<Condition>,
    /// Lines.
    pub lines: Vec<ReturnLine>,
    /// Label.
    pub label: Option<ReturnLabel>,
    /// Refund ids.
    pub refunds: Vec<PaymentId>,
    /// Amount refunded, order currency.
    pub refunded_minor: i64,
    /// Whether the RMA was closed.
    pub closed: bool,
    /// When authorised.
    pub authorised_at: Timestamp,
}

impl Return {
    fn total(&self, count: impl Fn(&ReturnLine) -> i64) -> i64 {
        self.lines.iter().map(count).sum()
    }

    /// The most that may be refunded in total: price and tax of the units authorised (once
    /// closed: received), less units inspected in a condition the policy does not refund.
    pub fn refund_cap_minor(&self) -> i64 {
        let cap: i128 = self
            .lines
            .iter()
            .map(|l| {
                let units = if self.closed {
                    l.received
                } else {
                    l.line.quantity
                };
                let unit = i128::from(l.line.unit_price_minor) + i128::from(l.line.unit_tax_minor);
                i128::from((units - l.unrefundable).max(0)) * unit
            })
            .sum();
        i64::try_from(cap).unwrap_or(i64::MAX)
    }

    /// The life-cycle state, derived from the counters.
    pub fn state_name(&self) -> &'static str {
        let authorised = self.total(|l| l.line.quantity);
        let received = self.total(|l| l.received);
        let inspected = self.total(|l| l.inspected);
        let disposed = self.total(|l| l.disposed);
        if self.closed {
            "closed"
        } else if received == 0 {
            if self.label.is_some() {
                "label_issued"
            } else {
                "authorised"
            }
        } else if received < authorised {
            "partially_received"
        } else if inspected < received {
            "received"
        } else if disposed < inspected {
            "inspected"
        } else if self.refunded_minor > 0 && self.refunded_minor >= self.refund_cap_minor() {
            "refunded"
        } else {
            "disposed"
        }
    }
}

fn find<'s>(state: &'s State, id: &ReturnId) -> Result<&'s Return, DomainError> {
    state
        .returns
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "return_id"))
}

/// A return that is not closed and has units waiting for the step measured by `waiting`.
fn waiting_for<'s>(
    state: &'s State,
    id: &ReturnId,
    waiting: impl Fn(&ReturnLine) -> i64,
    attempted: &'static str,
) -> Result<&'s Return, DomainError> {
    let found = find(state, id)?;
    if found.closed || found.total(waiting) <= 0 {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// Checks one request against a return line: the line exists, the quantity is positive and,
/// with earlier requests of the command for the same line, within `outstanding`.
fn check_request<'r>(
    found: &'r Return,
    asked: &mut [i64],
    index: usize,
    line: usize,
    quantity: i64,
    outstanding: impl Fn(&ReturnLine) -> i64,
) -> Result<&'r ReturnLine, DomainError> {
    let at = |name: &str| format!("lines[{index}].{name}");
    let (return_line, asked_so_far) =
        found
            .lines
            .get(line)
            .zip(asked.get_mut(line))
            .ok_or_else(|| {
                DomainError::invalid(
                    at("line"),
                    format!(
                        "return {} has no line {line} (it has {})",
                        found.id,
                        found.lines.len()
                    ),
                )
            })?;
    positive(|| at("quantity"), quantity)?;
    *asked_so_far = add(*asked_so_far, quantity, || at("quantity"))?;
    if *asked_so_far > outstanding(return_line) {
        return Err(DomainError::ExceedsOutstanding {
            field: at("quantity"),
            requested: *asked_so_far,
            outstanding: outstanding(return_line),
        });
    }
    Ok(return_line)
}

/// The latest delivery of a shipment containing the order line.
fn delivered_at(order: &SalesOrder, line: usize) -> Option<Timestamp> {
    order
        .shipments
        .iter()
        .filter(|s| s.lines.iter().any(|l| l.line == line))
        .filter_map(|s| s.delivered_at)
        .max()
}

/// Authorise.
pub(crate) fn authorise(
    state: &State,
    command: &AuthoriseReturn,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    state.settings()?;
    if state.returns.contains_key(&command.return_id) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.return_id.to_string(),
        });
    }
    let order = state
        .sales_orders
        .get(&command.order)
        .ok_or_else(|| DomainError::not_found(DocumentKind::SalesOrder, &command.order, "order"))?;
    let policy = state.return_policies.get(&command.policy).ok_or_else(|| {
        DomainError::not_found(DocumentKind::ReturnPolicy, &command.policy, "policy")
    })?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a return needs at least one line",
        ));
    }
    let window = policy
        .window_days
        .checked_mul(24)
        .and_then(SignedDuration::try_from_hours);
    let mut asked: Vec<i64> = vec![0; order.lines.len()];
    let mut lines = Vec::with_capacity(command.lines.len());
    for (index, input) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let (order_line, asked_so_far) = order
            .lines
            .get(input.line)
            .zip(asked.get_mut(input.line))
            .ok_or_else(|| {
                DomainError::invalid(
                    at("line"),
                    format!(
                        "order {} has no line {} (it has {})",
                        order.id,
                        input.line,
                        order.lines.len()
                    ),
                )
            })?;
        positive(|| at("quantity"), input.quantity)?;
        *asked_so_far = add(*asked_so_far, input.quantity, || at("quantity"))?;
        let returnable = order_line.delivered - order_line.returned;
        if *asked_so_far > returnable {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: *asked_so_far,
                outstanding: returnable.max(0),
            });
        }
        // Delivered units imply a delivered shipment; a window too long to compute is unlimited.
        if let (Some(delivered), Some(window)) = (delivered_at(order, input.line), window)
            && let Ok(deadline) = delivered.checked_add(window)
            && ctx.at > deadline
        {
            return Err(DomainError::invalid(
                at("line"),
                format!(
                    "order line {} is outside the {}-day return window (delivered {delivered})",
                    input.line, policy.window_days
                ),
            ));
        }
        lines.push(AuthorisedLine {
            line: input.line,
            sku: order_line.line.sku.clone(),
            quantity: input.quantity,
            reason: input.reason.clone(),
            unit_price_minor: order_line.line.unit_price_minor,
            unit_tax_minor: order_line.line.unit_tax_minor,
            components: sales_order::components(state, &order_line.line.sku),
        });
    }
    let on_order = lines
        .iter()
        .map(|l: &AuthorisedLine| LineQuantity {
            line: l.line,
            quantity: l.quantity,
        })
        .collect();
    Ok(vec![
        Event::Return(ReturnEvent::Authorised {
            return_id: command.return_id.clone(),
            order: command.order.clone(),
            policy: command.policy.clone(),
            currency: order.currency,
            refundable_conditions: policy.refundable_conditions.clone(),
            lines,
            at: ctx.at,
        }),
        Event::SalesOrder(SalesOrderEvent::ReturnAuthorised {
            order: command.order.clone(),
            return_id: command.return_id.clone(),
            lines: on_order,
            at: ctx.at,
        }),
    ])
}

/// Issue a label.
pub(crate) fn issue_label(
    state: &State,
    command: &IssueReturnLabel,
    ctx: &Context,
) -> Result<Vec<ReturnEvent>, DomainError> {
    let settings = state.settings()?;
    let found = find(state, &command.return_id)?;
    if found.state_name() != "authorised" {
        return Err(DomainError::illegal(
            KIND,
            &command.return_id,
            found.state_name(),
            "issue a label",
        ));
    }
    state.carrier_service(&command.carrier, &command.service)?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let cost_minor = match &command.cost {
        Some(cost) => {
            if cost.currency != settings.base_currency {
                return Err(DomainError::CurrencyMismatch {
                    field: "cost".into(),
                    expected: settings.base_currency,
                    actual: cost.currency,
                });
            }
            let amount = positive(|| "cost.amount_minor".into(), cost.amount_minor)?;
            builder.post(
                Account::SupplyChainCost(ScorProcess::Return),
                Account::Payables,
                amount,
            );
            Some(amount)
        }
        None => None,
    };
    Ok(vec![ReturnEvent::LabelIssued {
        return_id: command.return_id.clone(),
        carrier: command.carrier.clone(),
        service: command.service.clone(),
        tracking: command.tracking.clone(),
        cost_minor,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Splits `value` over components in proportion to `weights`, rounding cumulatively so the
/// shares never go negative and add up to `value` exactly (the last takes the remainder).
fn split_value(value: i64, weights: &[i128]) -> Vec<i64> {
    let total = weights.iter().fold(0_i128, |sum, w| sum.saturating_add(*w));
    let mut out = Vec::with_capacity(weights.len());
    let mut cumulative: i128 = 0;
    let mut before: i64 = 0;
    for (index, weight) in weights.iter().enumerate() {
        cumulative = cumulative.saturating_add(*weight);
        let upto = if index + 1 == weights.len() || total <= 0 {
            if index + 1 == weights.len() { value } else { 0 }
        } else {
            i128::from(value)
                .checked_mul(cumulative)
                .map(|product| divide_rounding(product, total))
                .and_then(|share| i64::try_from(share).ok())
                // Weights too large to multiply: give the value to the remaining components.
                .unwrap_or(before)
        };
        out.push(upto - before);
        before = upto;
    }
    out
}

/// Receive.
pub(crate) fn receive(
    state: &State,
    command: &ReceiveReturn,
    ctx: &Context,
) -> Result<Vec<ReturnEvent>, DomainError> {
    let settings = state.settings()?;
    let found = waiting_for(
        state,
        &command.return_id,
        |l| l.line.quantity - l.received,
        "receive",
    )?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a receipt needs at least one line",
        ));
    }
    let order = state.sales_orders.get(&found.order).ok_or_else(|| {
        DomainError::not_found(DocumentKind::SalesOrder, &found.order, "return_id")
    })?;
    let customer = VirtualLocation::Customer.id();
    let quarantine = VirtualLocation::Quarantine.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let return_line = check_request(
            found,
            &mut asked,
            index,
            request.line,
            request.quantity,
            |l| l.line.quantity - l.received,
        )?;
        // The units come back at the value they left with: the line's shipped value per unit.
        let value = match order.lines.get(return_line.line.line) {
            Some(order_line) if order_line.shipped > 0 => i64::try_from(divide_rounding(
                i128::from(order_line.shipped_value_minor) * i128::from(request.quantity),
                i128::from(order_line.shipped),
            ))
            .map_err(|_| DomainError::overflow(at("quantity")))?,
            _ => 0,
        };
        // Split over the components by standard-cost weight (one component takes it all).
        let components = &return_line.line.components;
        let weights: Vec<i128> = components
            .iter()
            .map(|(sku, per_unit)| {
                let unit_cost = state.items.get(sku).map_or(0, |i| i.unit_cost.amount_minor);
                i128::from(*per_unit) * i128::from(unit_cost.max(0))
            })
            .collect();
        let weights = if weights.iter().all(|w| *w == 0) {
            components.iter().map(|(_, q)| i128::from(*q)).collect()
        } else {
            weights
        };
        for ((sku, per_unit), share) in components.iter().zip(split_value(value, &weights)) {
            let units = mul(*per_unit, request.quantity, || at("quantity"))?;
            builder.move_valued(sku, &customer, &quarantine, units, share);
        }
    }
    let restored = builder.inventory_delta();
    builder.post(Account::Inventory, Account::CostOfGoodsSold, restored);
    Ok(vec![ReturnEvent::Received {
        return_id: command.return_id.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Inspect.
pub(crate) fn inspect(
    state: &State,
    command: &InspectReturn,
    ctx: &Context,
) -> Result<Vec<ReturnEvent>, DomainError> {
    let found = waiting_for(
        state,
        &command.return_id,
        |l| l.received - l.inspected,
        "inspect",
    )?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "an inspection needs at least one line",
        ));
    }
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in command.lines.iter().enumerate() {
        check_request(
            found,
            &mut asked,
            index,
            request.line,
            request.quantity,
            |l| l.received - l.inspected,
        )?;
    }
    Ok(vec![ReturnEvent::Inspected {
        return_id: command.return_id.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
    }])
}

/// Dispose. Repair dispositions also open a repair work order, so this returns tenant events.
pub(crate) fn dispose(
    state: &State,
    command: &DisposeReturn,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let settings = state.settings()?;
    let found = waiting_for(
        state,
        &command.return_id,
        |l| l.inspected - l.disposed,
        "dispose",
    )?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a disposition needs at least one line",
        ));
    }
    let quarantine = VirtualLocation::Quarantine.id();
    let scrap = VirtualLocation::Scrap.id();
    let supplier = VirtualLocation::Supplier.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    let mut scrapped: i64 = 0;
    let mut credited: i64 = 0;
    let mut repairs: Vec<CreateWorkOrder> = Vec::new();
    for (index, request) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let return_line = check_request(
            found,
            &mut asked,
            index,
            request.line,
            request.quantity,
            |l| l.inspected - l.disposed,
        )?;
        let target = match &request.disposition {
            Disposition::Restock { location } => {
                state.fulfillment_center(location, &at("disposition.location"))?;
                location.clone()
            }
            Disposition::Scrap => scrap.clone(),
            Disposition::ReturnToVendor { supplier: id } => {
                state.supplier(id, &at("disposition.supplier"))?;
                supplier.clone()
            }
            Disposition::Repair {
                location,
                work_order,
            } => {
                state.fulfillment_center(location, &at("disposition.location"))?;
                if state.work_orders.contains_key(work_order)
                    || repairs.iter().any(|r| r.work_order == *work_order)
                {
                    return Err(DomainError::AlreadyExists {
                        kind: DocumentKind::WorkOrder,
                        id: work_order.to_string(),
                    });
                }
                if return_line.line.components != [(return_line.line.sku.clone(), 1)] {
                    return Err(DomainError::invalid(
                        at("disposition"),
                        format!(
                            "{} is a bundle; restock, scrap or return its components instead",
                            return_line.line.sku
                        ),
                    ));
                }
                repairs.push(CreateWorkOrder {
                    work_order: work_order.clone(),
                    kind: WorkOrderKind::Repair,
                    item: return_line.line.sku.clone(),
                    quantity: request.quantity,
                    location: location.clone(),
                    for_order: None,
                });
                location.clone()
            }
        };
        for (sku, per_unit) in &return_line.line.components {
            let units = mul(*per_unit, request.quantity, || at("quantity"))?;
            let value = builder.move_stock(sku, &quarantine, &target, units, false)?;
            match &request.disposition {
                Disposition::Scrap => scrapped = add(scrapped, value, || at("quantity"))?,
                Disposition::ReturnToVendor { .. } => {
                    credited = add(credited, value, || at("quantity"))?;
                }
                Disposition::Restock { .. } | Disposition::Repair { .. } => {}
            }
        }
    }
    builder.post(Account::InventoryWriteOff, Account::Inventory, scrapped);
    builder.post(Account::Payables, Account::Inventory, credited);
    let disposed = ReturnEvent::Disposed {
        return_id: command.return_id.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
        effects: builder.finish(),
    };
    let mut created: Vec<work_order::WorkOrderEvent> = Vec::with_capacity(repairs.len());
    for repair in &repairs {
        // The repair reserves the units the disposition just moved in (and nothing an earlier
        // repair of the same decision reserved).
        let mut prior: Vec<&Effects> = disposed.effects().into_iter().collect();
        prior.extend(
            created
                .iter()
                .filter_map(work_order::WorkOrderEvent::effects),
        );
        let event = work_order::create_after(state, repair, Some(&command.return_id), &prior, ctx)?;
        created.push(event);
    }
    let mut events = vec![Event::Return(disposed)];
    events.extend(created.into_iter().map(Event::WorkOrder));
    Ok(events)
}

/// Refund.
pub(crate) fn refund(
    state: &State,
    command: &RefundReturn,
    ctx: &Context,
) -> Result<Vec<ReturnEvent>, DomainError> {
    let settings = state.settings()?;
    let found = find(state, &command.return_id)?;
    if found.state_name() == "refunded" {
        return Err(DomainError::illegal(
            KIND,
            &command.return_id,
            "refunded",
            "refund",
        ));
    }
    if found.refunds.contains(&command.refund) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Payment,
            id: command.refund.to_string(),
        });
    }
    if command.amount.currency != found.currency {
        return Err(DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: found.currency,
            actual: command.amount.currency,
        });
    }
    let amount = positive(|| "amount.amount_minor".into(), command.amount.amount_minor)?;
    let outstanding = found.refund_cap_minor() - found.refunded_minor;
    if amount > outstanding {
        return Err(DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: amount,
            outstanding: outstanding.max(0),
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    builder.post_in(Account::Refunds, Account::Cash, amount, found.currency);
    Ok(vec![ReturnEvent::RefundIssued {
        return_id: command.return_id.clone(),
        refund: command.refund.clone(),
        amount_minor: amount,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Close.
pub(crate) fn close(
    state: &State,
    command: &CloseReturn,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let found = find(state, &command.return_id)?;
    let in_quarantine = found.total(|l| l.received - l.disposed);
    if found.closed || found.state_name() == "refunded" {
        return Err(DomainError::illegal(
            KIND,
            &command.return_id,
            found.state_name(),
            "close",
        ));
    }
    if in_quarantine > 0 {
        return Err(DomainError::illegal(
            KIND,
            &command.return_id,
            found.state_name(),
            "close with received goods not yet disposed",
        ));
    }
    let unreceived: Vec<LineQuantity> = found
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.line.quantity > l.received)
        .map(|(index, l)| LineQuantity {
            line: index,
            quantity: l.line.quantity - l.received,
        })
        .collect();
    let released: Vec<LineQuantity> = unreceived
        .iter()
        .filter_map(|request| {
            found.lines.get(request.line).map(|l| LineQuantity {
                line: l.line.line,
                quantity: request.quantity,
            })
        })
        .collect();
    let mut events = vec![Event::Return(ReturnEvent::Closed {
        return_id: command.return_id.clone(),
        reason: command.reason.clone(),
        unreceived,
        at: ctx.at,
    })];
    if !released.is_empty() {
        events.push(Event::SalesOrder(SalesOrderEvent::ReturnReleased {
            order: found.order.clone(),
            return_id: command.return_id.clone(),
            lines: released,
            at: ctx.at,
        }));
    }
    Ok(events)
}

/// Applies a return event. The order's `returned` units change through the order's own
/// `SalesOrderReturnAuthorised` and `SalesOrderReturnReleased` events, recorded beside these.
pub(crate) fn apply(returns: &mut FxHashMap<ReturnId, Return>, event: &ReturnEvent) {
    if let ReturnEvent::Authorised {
        return_id,
        order,
        policy,
        currency,
        refundable_conditions,
        lines,
        at,
    } = event
    {
        returns.insert(
            return_id.clone(),
            Return {
                id: return_id.clone(),
                order: order.clone(),
                policy: policy.clone(),
                currency: *currency,
                refundable_conditions: refundable_conditions.clone(),
                lines: lines
                    .iter()
                    .map(|l| ReturnLine {
                        line: l.clone(),
                        received: 0,
                        inspected: 0,
                        conditions: Vec::new(),
                        unrefundable: 0,
                        disposed: 0,
                    })
                    .collect(),
                label: None,
                refunds: Vec::new(),
                refunded_minor: 0,
                closed: false,
                authorised_at: *at,
            },
        );
        return;
    }
    let Some(found) = returns.get_mut(event.return_id()) else {
        return;
    };
    match event {
        ReturnEvent::Authorised { .. } => {}
        ReturnEvent::LabelIssued {
            carrier,
            service,
            tracking,
            ..
        } => {
            found.label = Some(ReturnLabel {
                carrier: carrier.clone(),
                service: service.clone(),
                tracking: tracking.clone(),
            });
        }
        ReturnEvent::Received { lines, .. } => {
            for request in lines {
                if let Some(return_line) = found.lines.get_mut(request.line) {
                    return_line.received += request.quantity;
                }
            }
        }
        ReturnEvent::Inspected { lines, .. } => {
            for request in lines {
                let refundable = found.refundable_conditions.contains(&request.condition);
                if let Some(return_line) = found.lines.get_mut(request.line) {
                    return_line.inspected += request.quantity;
                    if !refundable {
                        return_line.unrefundable += request.quantity;
                    }
                    match return_line
                        .conditions
                        .iter_mut()
                        .find(|(condition, _)| *condition == request.condition)
                    {
                        Some((_, units)) => *units += request.quantity,
                        None => return_line
                            .conditions
                            .push((request.condition, request.quantity)),
                    }
                }
            }
        }
        ReturnEvent::Disposed { lines, .. } => {
            for request in lines {
                if let Some(return_line) = found.lines.get_mut(request.line) {
                    return_line.disposed += request.quantity;
                }
            }
        }
        ReturnEvent::RefundIssued {
            refund,
            amount_minor,
            ..
        } => {
            found.refunds.push(refund.clone());
            found.refunded_minor += amount_minor;
        }
        ReturnEvent::Closed { .. } => found.closed = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::sales_order::{
        DeliverShipment, DeliveryCondition, OrderLineInput, PackSalesOrder, PickSalesOrder,
        PlaceSalesOrder, ShipSalesOrder, ShortagePolicy,
    };
    use crate::documents::testkit::{
        address, balance, id, money, ok, rejected, stock, tenant, usd,
    };
    use crate::documents::work_order::{CompleteWorkOrder, StartWorkOrder, WorkOrderEvent};
    use crate::state::Command;

    const SHIPPED: &str = "2025-03-02T09:00:00Z";
    const DELIVERED: &str = "2025-03-04T15:00:00Z";
    const T1: &str = "2025-03-10T09:00:00Z";
    const T2: &str = "2025-03-14T09:00:00Z";

    fn lines(requests: &[(usize, i64)]) -> Vec<LineQuantity> {
        requests
            .iter()
            .map(|(line, quantity)| LineQuantity {
                line: *line,
                quantity: *quantity,
            })
            .collect()
    }

    /// SO-1: line 0 = 3 MUG at 12.00 + 1.00 tax, line 1 = 2 DUO (1 MUG + 2 LID) at 20.00,
    /// shipped from FC-EAST and delivered. Shipped value: 3 × 4.00 = 12.00 and
    /// 2 × (4.00 + 2 × 1.50) = 14.00. Left at FC-EAST: 5 MUG (20.00), 6 LID (9.00).
    fn delivered_order() -> State {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 10, 400);
        stock(&mut state, "LID", "FC-EAST", 10, 150);
        ok(
            &mut state,
            Command::PlaceSalesOrder(PlaceSalesOrder {
                contact: None,
                order: id("SO-1"),
                channel: id("web"),
                customer: id("C-1"),
                ship_to: address(),
                currency: crate::documents::testkit::usd_currency(),
                exchange_rate: None,
                lines: vec![
                    OrderLineInput {
                        sku: id("MUG"),
                        quantity: 3,
                        unit_price_minor: 1200,
                        unit_tax_minor: 100,
                    },
                    OrderLineInput {
                        sku: id("DUO"),
                        quantity: 2,
                        unit_price_minor: 2000,
                        unit_tax_minor: 0,
                    },
                ],
                promise: None,
                service_level: None,
                shipping_charge_minor: 0,
                allocate: Some(ShortagePolicy::Reject),
            }),
            SHIPPED,
        );
        let all = lines(&[(0, 3), (1, 2)]);
        ok(
            &mut state,
            Command::PickSalesOrder(PickSalesOrder {
                order: id("SO-1"),
                location: id("FC-EAST"),
                lines: all.clone(),
            }),
            SHIPPED,
        );
        ok(
            &mut state,
            Command::PackSalesOrder(PackSalesOrder {
                order: id("SO-1"),
                location: id("FC-EAST"),
                lines: all.clone(),
                package: None,
            }),
            SHIPPED,
        );
        ok(
            &mut state,
            Command::ShipSalesOrder(ShipSalesOrder {
                order: id("SO-1"),
                shipment: id("SH-1"),
                location: id("FC-EAST"),
                carrier: id("UPS"),
                service: id("ground"),
                tracking: None,
                weight_g: 1500,
                lines: all,
            }),
            SHIPPED,
        );
        ok(
            &mut state,
            Command::DeliverShipment(DeliverShipment {
                order: id("SO-1"),
                shipment: id("SH-1"),
                delivered_at: Some(crate::documents::testkit::ts(DELIVERED)),
                condition: DeliveryCondition::Intact,
                misdelivered: false,
                note: None,
            }),
            DELIVERED,
        );
        assert_eq!(money(&state, Account::Inventory), 2900);
        assert_eq!(money(&state, Account::CostOfGoodsSold), 2600);
        state
    }

    fn authorise(return_id: &str, requests: &[(usize, i64)]) -> Command {
        Command::AuthoriseReturn(AuthoriseReturn {
            return_id: id(return_id),
            order: id("SO-1"),
            policy: id("default"),
            lines: requests
                .iter()
                .map(|(line, quantity)| ReturnLineInput {
                    line: *line,
                    quantity: *quantity,
                    reason: id("wrong_size"),
                })
                .collect(),
        })
    }

    fn label() -> Command {
        Command::IssueReturnLabel(IssueReturnLabel {
            return_id: id("RMA-1"),
            carrier: id("UPS"),
            service: id("ground"),
            tracking: "1ZRET".into(),
            cost: Some(usd(650)),
        })
    }

    fn receive(requests: &[(usize, i64)]) -> Command {
        Command::ReceiveReturn(ReceiveReturn {
            return_id: id("RMA-1"),
            lines: lines(requests),
        })
    }

    fn inspect(requests: &[(usize, i64, Condition)]) -> Command {
        Command::InspectReturn(InspectReturn {
            return_id: id("RMA-1"),
            lines: requests
                .iter()
                .map(|(line, quantity, condition)| InspectionLine {
                    line: *line,
                    quantity: *quantity,
                    condition: *condition,
                })
                .collect(),
        })
    }

    fn dispose(requests: Vec<(usize, i64, Disposition)>) -> Command {
        Command::DisposeReturn(DisposeReturn {
            return_id: id("RMA-1"),
            lines: requests
                .into_iter()
                .map(|(line, quantity, disposition)| DispositionLine {
                    line,
                    quantity,
                    disposition,
                })
                .collect(),
        })
    }

    fn restock(location: &str) -> Disposition {
        Disposition::Restock {
            location: id(location),
        }
    }

    fn refund(refund: &str, amount_minor: i64) -> Command {
        Command::RefundReturn(RefundReturn {
            return_id: id("RMA-1"),
            refund: id(refund),
            amount: usd(amount_minor),
        })
    }

    fn close() -> Command {
        Command::CloseReturn(CloseReturn {
            return_id: id("RMA-1"),
            reason: id("not_received"),
        })
    }

    fn illegal(state: &str, attempted: &'static str) -> DomainError {
        DomainError::illegal(KIND, "RMA-1", state, attempted)
    }

    fn state_of(state: &State) -> &'static str {
        state.returns[&id("RMA-1")].state_name()
    }

    #[test]
    fn a_return_comes_back_at_shipped_cost_is_disposed_of_and_refunded() {
        // Receipt: 2 of line 0 at 12.00 × 2 / 3 = 8.00; 1 DUO at 14.00 / 2 = 7.00, split by
        // standard cost 4.00 : 2 × 1.50 into MUG 4.00 and 2 LID 3.00. Inventory 29.00 + 15.00 =
        // 44.00, cost of goods sold 26.00 − 15.00 = 11.00. Quarantine: 3 MUG (12.00), 2 LID.
        // Inspection: line 0 one new, one damaged (not refundable); the DUO like new.
        // Refund cap: (12.00 + 1.00) × (2 − 1) + 20.00 × 1 = 33.00.
        // Disposal at the quarantine average of 4.00 a MUG: 1 MUG restocked at FC-WEST, 1
        // scrapped (write-off 4.00), the DUO restocked at FC-EAST. Inventory 40.00.
        let mut state = delivered_order();
        ok(&mut state, authorise("RMA-1", &[(0, 2), (1, 1)]), T1);
        assert_eq!(state_of(&state), "authorised");
        let order = &state.sales_orders[&id("SO-1")];
        assert_eq!((order.lines[0].returned, order.lines[1].returned), (2, 1));
        assert_eq!(
            state.returns[&id("RMA-1")].lines[1].line.components,
            vec![(id("MUG"), 1), (id("LID"), 2)]
        );

        ok(&mut state, label(), T1);
        assert_eq!(state_of(&state), "label_issued");
        assert_eq!(
            money(&state, Account::SupplyChainCost(ScorProcess::Return)),
            650
        );
        assert_eq!(money(&state, Account::Payables), -650);

        ok(&mut state, receive(&[(0, 1)]), T1);
        assert_eq!(state_of(&state), "partially_received");
        ok(&mut state, receive(&[(0, 1), (1, 1)]), T1);
        assert_eq!(state_of(&state), "received");
        let mugs = balance(&state, "MUG", "quarantine");
        assert_eq!((mugs.on_hand, mugs.value_minor), (3, 1200));
        let lids = balance(&state, "LID", "quarantine");
        assert_eq!((lids.on_hand, lids.value_minor), (2, 300));
        assert_eq!(money(&state, Account::Inventory), 4400);
        assert_eq!(money(&state, Account::CostOfGoodsSold), 1100);

        ok(
            &mut state,
            inspect(&[
                (0, 1, Condition::New),
                (0, 1, Condition::Damaged),
                (1, 1, Condition::LikeNew),
            ]),
            T2,
        );
        assert_eq!(state_of(&state), "inspected");
        assert_eq!(state.returns[&id("RMA-1")].refund_cap_minor(), 3300);

        ok(
            &mut state,
            dispose(vec![
                (0, 1, restock("FC-WEST")),
                (0, 1, Disposition::Scrap),
                (1, 1, restock("FC-EAST")),
            ]),
            T2,
        );
        assert_eq!(state_of(&state), "disposed");
        assert_eq!(balance(&state, "MUG", "FC-WEST").value_minor, 400);
        assert_eq!(balance(&state, "MUG", "quarantine").on_hand, 0);
        assert_eq!(balance(&state, "LID", "FC-EAST").on_hand, 8);
        assert_eq!(money(&state, Account::InventoryWriteOff), 400);
        assert_eq!(money(&state, Account::Inventory), 4000);

        assert_eq!(
            rejected(&mut state, refund("R-1", 3301), T2),
            DomainError::ExceedsOutstanding {
                field: "amount".into(),
                requested: 3301,
                outstanding: 3300
            }
        );
        ok(&mut state, refund("R-1", 3000), T2);
        assert_eq!(
            rejected(&mut state, refund("R-1", 300), T2),
            DomainError::AlreadyExists {
                kind: DocumentKind::Payment,
                id: "R-1".into()
            }
        );
        ok(&mut state, refund("R-2", 300), T2);
        assert_eq!(state_of(&state), "refunded");
        assert_eq!(money(&state, Account::Refunds), 3300);
        assert_eq!(money(&state, Account::Cash), -3300);
        assert_eq!(
            rejected(&mut state, refund("R-3", 1), T2),
            illegal("refunded", "refund")
        );
        assert_eq!(
            rejected(&mut state, close(), T2),
            illegal("refunded", "close")
        );
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1)]), T2),
            illegal("refunded", "receive")
        );
    }

    #[test]
    fn returns_must_fall_within_the_policy_window_after_delivery() {
        // Delivered 2025-03-04T15:00Z with a 30-day window: the deadline is 2025-04-03T15:00Z.
        let mut state = delivered_order();
        let error = rejected(
            &mut state,
            authorise("RMA-1", &[(0, 1)]),
            "2025-04-03T15:00:01Z",
        );
        assert_eq!(
            error,
            DomainError::invalid(
                "lines[0].line",
                "order line 0 is outside the 30-day return window (delivered 2025-03-04T15:00:00Z)"
            )
        );
        assert_eq!(state.sales_orders[&id("SO-1")].lines[0].returned, 0);
        ok(
            &mut state,
            authorise("RMA-1", &[(0, 1)]),
            "2025-04-03T15:00:00Z",
        );
    }

    #[test]
    fn only_delivered_units_not_yet_returned_can_be_authorised() {
        let mut state = delivered_order();
        ok(&mut state, authorise("RMA-1", &[(0, 2)]), T1);
        assert_eq!(
            rejected(&mut state, authorise("RMA-2", &[(0, 1), (0, 1)]), T1),
            DomainError::ExceedsOutstanding {
                field: "lines[1].quantity".into(),
                requested: 2,
                outstanding: 1
            }
        );
        assert_eq!(
            rejected(&mut state, authorise("RMA-1", &[(0, 1)]), T1),
            DomainError::AlreadyExists {
                kind: KIND,
                id: "RMA-1".into()
            }
        );
        assert!(matches!(
            rejected(&mut state, authorise("RMA-2", &[(2, 1)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].line"
        ));
        assert_eq!(
            rejected(&mut state, authorise("RMA-2", &[(1, 0)]), T1),
            DomainError::NonPositiveQuantity {
                field: "lines[0].quantity".into(),
                value: 0
            }
        );
    }

    #[test]
    fn closing_gives_unreceived_units_back_and_limits_the_refund_to_what_came_back() {
        // 2 MUG authorised, 1 comes back (4.00) used and goes back to the vendor for a 4.00
        // credit. Closing returns the other unit to the order line; the refund cap becomes
        // 13.00 for the one unit received.
        let mut state = delivered_order();
        ok(&mut state, authorise("RMA-1", &[(0, 2)]), T1);
        assert_eq!(
            rejected(&mut state, inspect(&[(0, 1, Condition::New)]), T1),
            illegal("authorised", "inspect")
        );
        ok(&mut state, receive(&[(0, 1)]), T1);
        assert_eq!(
            rejected(&mut state, dispose(vec![(0, 1, Disposition::Scrap)]), T1),
            illegal("partially_received", "dispose")
        );
        assert_eq!(
            rejected(&mut state, close(), T1),
            illegal(
                "partially_received",
                "close with received goods not yet disposed"
            )
        );
        ok(&mut state, inspect(&[(0, 1, Condition::Used)]), T1);
        ok(
            &mut state,
            dispose(vec![(
                0,
                1,
                Disposition::ReturnToVendor {
                    supplier: id("ACME"),
                },
            )]),
            T1,
        );
        assert_eq!(money(&state, Account::Payables), 400);
        assert_eq!(balance(&state, "MUG", "supplier").on_hand, 1);
        ok(&mut state, close(), T2);
        assert_eq!(state_of(&state), "closed");
        assert_eq!(state.sales_orders[&id("SO-1")].lines[0].returned, 1);
        assert_eq!(state.returns[&id("RMA-1")].refund_cap_minor(), 1300);
        assert_eq!(
            rejected(&mut state, close(), T2),
            illegal("closed", "close")
        );
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1)]), T2),
            illegal("closed", "receive")
        );
        assert_eq!(
            rejected(&mut state, label(), T2),
            illegal("closed", "issue a label")
        );
        assert_eq!(
            rejected(&mut state, refund("R-1", 1301), T2),
            DomainError::ExceedsOutstanding {
                field: "amount".into(),
                requested: 1301,
                outstanding: 1300
            }
        );
        ok(&mut state, refund("R-1", 1300), T2);
        // The unit given back can be authorised on a new return.
        ok(&mut state, authorise("RMA-2", &[(0, 2)]), T2);
    }

    #[test]
    fn a_repair_disposition_moves_the_units_to_a_center_and_opens_a_repair_work_order() {
        // FC-WEST holds no MUG: the work order can only reserve the unit the disposition moves
        // there in the same decision. It comes back at 4.00, is repaired and passes.
        let mut state = delivered_order();
        ok(&mut state, authorise("RMA-1", &[(0, 1), (1, 1)]), T1);
        ok(&mut state, receive(&[(0, 1), (1, 1)]), T1);
        ok(
            &mut state,
            inspect(&[(0, 1, Condition::Defective), (1, 1, Condition::Damaged)]),
            T1,
        );
        let repair = |line: usize| {
            let disposition = Disposition::Repair {
                location: id("FC-WEST"),
                work_order: id("WO-R1"),
            };
            (line, 1, disposition)
        };
        assert!(matches!(
            rejected(&mut state, dispose(vec![repair(1)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].disposition"
        ));
        let events = ok(&mut state, dispose(vec![repair(0)]), T1);
        assert_eq!(
            events.iter().map(Event::type_name).collect::<Vec<_>>(),
            vec!["ReturnDisposed", "WorkOrderCreated"]
        );
        assert!(matches!(
            &events[1],
            Event::WorkOrder(WorkOrderEvent::Created { origin_return: Some(origin), .. })
                if origin.as_str() == "RMA-1"
        ));
        let west = balance(&state, "MUG", "FC-WEST");
        assert_eq!((west.on_hand, west.reserved, west.value_minor), (1, 1, 400));
        assert_eq!(state.work_orders[&id("WO-R1")].kind, WorkOrderKind::Repair);
        ok(
            &mut state,
            Command::StartWorkOrder(StartWorkOrder {
                work_order: id("WO-R1"),
            }),
            T2,
        );
        ok(
            &mut state,
            Command::CompleteWorkOrder(CompleteWorkOrder {
                work_order: id("WO-R1"),
                passed: 1,
                failed: 0,
                note: None,
            }),
            T2,
        );
        let west = balance(&state, "MUG", "FC-WEST");
        assert_eq!((west.on_hand, west.reserved, west.value_minor), (1, 0, 400));
        // A second repair cannot reuse the work order id.
        let taken = Disposition::Repair {
            location: id("FC-WEST"),
            work_order: id("WO-R1"),
        };
        assert_eq!(
            rejected(&mut state, dispose(vec![(1, 1, taken)]), T2),
            DomainError::AlreadyExists {
                kind: DocumentKind::WorkOrder,
                id: "WO-R1".into()
            }
        );
        // Nothing is refundable: the MUG was defective and the DUO damaged.
        assert_eq!(state.returns[&id("RMA-1")].refund_cap_minor(), 0);
    }

    #[test]
    fn every_out_of_order_step_is_refused_and_appends_nothing() {
        let mut state = delivered_order();
        ok(&mut state, authorise("RMA-1", &[(0, 2)]), T1);
        assert_eq!(
            rejected(&mut state, dispose(vec![(0, 1, Disposition::Scrap)]), T1),
            illegal("authorised", "dispose")
        );
        ok(&mut state, label(), T1);
        assert_eq!(
            rejected(&mut state, label(), T1),
            illegal("label_issued", "issue a label")
        );
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1), (0, 2)]), T1),
            DomainError::ExceedsOutstanding {
                field: "lines[1].quantity".into(),
                requested: 3,
                outstanding: 2
            }
        );
        ok(&mut state, receive(&[(0, 2)]), T1);
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1)]), T1),
            illegal("received", "receive")
        );
        assert_eq!(
            rejected(&mut state, label(), T1),
            illegal("received", "issue a label")
        );
        assert_eq!(
            rejected(&mut state, inspect(&[(0, 3, Condition::New)]), T1),
            DomainError::ExceedsOutstanding {
                field: "lines[0].quantity".into(),
                requested: 3,
                outstanding: 2
            }
        );
        ok(&mut state, inspect(&[(0, 1, Condition::New)]), T1);
        assert_eq!(
            rejected(&mut state, dispose(vec![(0, 2, Disposition::Scrap)]), T1),
            DomainError::ExceedsOutstanding {
                field: "lines[0].quantity".into(),
                requested: 2,
                outstanding: 1
            }
        );
        assert_eq!(
            rejected(&mut state, dispose(vec![(0, 1, restock("customer"))]), T1),
            DomainError::NotAFulfillmentCenter {
                field: "lines[0].disposition.location".into(),
                location: id("customer")
            }
        );
        assert!(matches!(
            rejected(&mut state, refund("R-1", 0), T1),
            DomainError::NonPositiveQuantity { .. }
        ));
        let euros = Command::RefundReturn(RefundReturn {
            return_id: id("RMA-1"),
            refund: id("R-1"),
            amount: Money::new(100, Currency::parse("EUR").unwrap()),
        });
        assert!(matches!(
            rejected(&mut state, euros, T1),
            DomainError::CurrencyMismatch { field, .. } if field == "amount"
        ));
        ok(&mut state, inspect(&[(0, 1, Condition::New)]), T1);
        assert_eq!(
            rejected(&mut state, inspect(&[(0, 1, Condition::New)]), T1),
            illegal("inspected", "inspect")
        );
        // 3 delivered, 2 on RMA-1: one more may be authorised.
        assert_eq!(
            rejected(&mut state, authorise("RMA-2", &[(0, 2)]), T1),
            DomainError::ExceedsOutstanding {
                field: "lines[0].quantity".into(),
                requested: 2,
                outstanding: 1
            }
        );
    }

    #[test]
    fn dispositions_are_tagged_by_kind_and_unknown_fields_are_refused() {
        let json = r#"{"return_id":"RMA-1","lines":[
            {"line":0,"quantity":1,"disposition":{"kind":"restock","location":"FC-EAST"}},
            {"line":0,"quantity":1,"disposition":{"kind":"scrap"}}]}"#;
        let command: DisposeReturn = serde_json::from_str(json).unwrap();
        assert_eq!(command.lines[0].disposition, restock("FC-EAST"));
        assert_eq!(command.lines[1].disposition, Disposition::Scrap);
        let typo = r#"{"line":0,"quantity":1,
            "disposition":{"kind":"restock","location":"FC-EAST","supplier":"ACME"}}"#;
        assert!(serde_json::from_str::<DispositionLine>(typo).is_err());
    }
}
