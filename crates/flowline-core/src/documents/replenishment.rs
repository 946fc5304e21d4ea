//! Plan: replenishment proposals, the planner's decisions put to a person.
//!
//! A [`Proposal`] says what to order for one fulfillment center from one source — a supplier
//! (it becomes a purchase order) or another center (it becomes a transfer) — one line per SKU,
//! each with the arithmetic that produced its quantity ([`ReplenishmentTerms`]): the forecast
//! over the protection interval plus the safety stock is what the center should be able to
//! count on; less the inventory position (on hand − reserved − backordered + on order +
//! inbound transfers) is the need; an economic lot and the rounding to the supplier's minimum
//! and whole case packs make the quantity. A proposal whose terms do not add up to its
//! quantity is refused, so what a person approves is what the planner explained.
//!
//! Life cycle: proposed → approved (the purchase order or transfer is created by the same
//! command, with the proposal's lines) or rejected (with a reason). The numbers come from
//! `flowline-plan`; this module checks and keeps the decision.

use crate::error::{DocumentKind, DomainError, positive};
use crate::id::{LocationId, ProposalId, PurchaseOrderId, ReasonCode, Sku, SupplierId, TransferId};
use crate::money::ExchangeRate;
use crate::state::{Context, State};
use jiff::Timestamp;
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::purchase_order::{self, PlacePurchaseOrder, PurchaseLine, PurchaseOrderEvent};
use super::transfer::{self, CreateTransfer, TransferEvent, TransferLineInput};

const KIND: DocumentKind = DocumentKind::Proposal;

/// The most lines one proposal may carry.
pub const PROPOSAL_LINES_MAX: usize = 1_000;

/// The longest rationale or note accepted, in bytes.
pub const PROPOSAL_TEXT_MAX: usize = 4_000;

/// Where the proposed units come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProposalSource {
    /// Bought from a supplier: approving places a purchase order.
    Supplier {
        /// The supplier.
        supplier: SupplierId,
    },
    /// Moved from another fulfillment center: approving creates a transfer.
    Transfer {
        /// The center the units leave.
        from: LocationId,
    },
}

/// How one line's quantity was reached, term by term, so a person can redo the sum:
///
/// ```text
/// position = on_hand − reserved − backordered + on_order + inbound_transfers
/// need     = forecast + safety_stock − position
/// quantity = need + lot_sizing + rounding
/// ```
///
/// Fractional terms are in thousandths of a unit (`_milli`); the planner works in real numbers
/// and rounds each term, and the rounding to the thousandth is carried by `rounding_milli`, so
/// the identities hold exactly in whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentTerms {
    /// The protection interval (lead time + review period), thousandths of a day.
    pub protection_days_milli: i64,
    /// Expected demand over the protection interval, thousandths of a unit.
    pub forecast_milli: i64,
    /// Safety stock for the service target, thousandths of a unit (≥ 0).
    pub safety_stock_milli: i64,
    /// The service target the safety stock is for, as a thousandth (950: 95 %).
    pub service_level_milli: i64,
    /// Whether the target is a fill rate (`true`) or a cycle service level.
    #[serde(default)]
    pub fill_rate: bool,
    /// Units on hand.
    pub on_hand: i64,
    /// Of those, reserved for open orders.
    pub reserved: i64,
    /// Demand taken but not reserved for lack of stock.
    pub backordered: i64,
    /// Units on open purchase orders, not yet received.
    pub on_order: i64,
    /// Units on their way from other centers.
    pub inbound_transfers: i64,
    /// The inventory position: the five terms above combined.
    pub position: i64,
    /// Forecast + safety stock − position, thousandths of a unit.
    pub need_milli: i64,
    /// Units added to reach an economic lot, thousandths (≥ 0).
    pub lot_sizing_milli: i64,
    /// Units added by rounding to the minimum and to whole case packs, thousandths (≥ 0).
    pub rounding_milli: i64,
    /// The supplier's minimum order quantity.
    pub minimum_order_quantity: i64,
    /// Units per case pack (1: sold singly).
    pub case_pack: i64,
    /// The forecast model the demand came from (`ets(A,N,A)`, `croston_sba`).
    #[serde(default)]
    pub model: Option<String>,
}

impl ReplenishmentTerms {
    /// Checks the terms add up to `quantity`, naming the first that does not (`field` is the
    /// path of the terms, `lines[2].terms`).
    pub fn check(&self, quantity: i64, field: &str) -> Result<(), DomainError> {
        let at = |name: &str| format!("{field}.{name}");
        let invalid = |name: &str, reason: String| Err(DomainError::invalid(at(name), reason));
        for (name, value) in [
            ("on_hand", self.on_hand),
            ("reserved", self.reserved),
            ("backordered", self.backordered),
            ("on_order", self.on_order),
            ("inbound_transfers", self.inbound_transfers),
            ("protection_days_milli", self.protection_days_milli),
            ("forecast_milli", self.forecast_milli),
            ("safety_stock_milli", self.safety_stock_milli),
            ("lot_sizing_milli", self.lot_sizing_milli),
            ("rounding_milli", self.rounding_milli),
            ("minimum_order_quantity", self.minimum_order_quantity),
        ] {
            if value < 0 {
                return invalid(name, format!("must not be negative, is {value}"));
            }
        }
        if !(1..1000).contains(&self.service_level_milli) {
            return invalid(
                "service_level_milli",
                format!(
                    "must be between 1 and 999 (a share in thousandths), is {}",
                    self.service_level_milli
                ),
            );
        }
        if self.case_pack < 1 {
            return invalid(
                "case_pack",
                format!("must be at least 1, is {}", self.case_pack),
            );
        }
        let overflow = || DomainError::overflow(at("position"));
        let position = [
            self.reserved.checked_neg(),
            self.backordered.checked_neg(),
            Some(self.on_order),
            Some(self.inbound_transfers),
        ]
        .into_iter()
        .try_fold(self.on_hand, |sum, term| sum.checked_add(term?))
        .ok_or_else(overflow)?;
        if position != self.position {
            return invalid(
                "position",
                format!(
                    "is {} but on hand {} − reserved {} − backordered {} + on order {} + inbound {} = {position}",
                    self.position,
                    self.on_hand,
                    self.reserved,
                    self.backordered,
                    self.on_order,
                    self.inbound_transfers
                ),
            );
        }
        let milli = |value: i64, name: &str| {
            value
                .checked_mul(1000)
                .ok_or_else(|| DomainError::overflow(at(name)))
        };
        let need = self
            .forecast_milli
            .checked_add(self.safety_stock_milli)
            .and_then(|sum| sum.checked_sub(milli(position, "position").ok()?))
            .ok_or_else(|| DomainError::overflow(at("need_milli")))?;
        if need != self.need_milli {
            return invalid(
                "need_milli",
                format!(
                    "is {} but forecast {} + safety stock {} − position {position}×1000 = {need}",
                    self.need_milli, self.forecast_milli, self.safety_stock_milli
                ),
            );
        }
        let explained = need
            .checked_add(self.lot_sizing_milli)
            .and_then(|sum| sum.checked_add(self.rounding_milli))
            .ok_or_else(|| DomainError::overflow(at("rounding_milli")))?;
        let ordered = milli(quantity, "quantity")?;
        if explained != ordered {
            return Err(DomainError::invalid(
                field.strip_suffix(".terms").map_or_else(
                    || format!("{field}.quantity"),
                    |line| format!("{line}.quantity"),
                ),
                format!(
                    "is {quantity} but need {need} + lot sizing {} + rounding {} = {explained} thousandths",
                    self.lot_sizing_milli, self.rounding_milli
                ),
            ));
        }
        // The minimum, raised to whole case packs, is the smallest order the rounding can make;
        // above it, rounding to cases adds less than one case.
        let cases = self.minimum_order_quantity / self.case_pack
            + i64::from(self.minimum_order_quantity % self.case_pack != 0);
        let smallest = cases
            .max(1)
            .checked_mul(self.case_pack)
            .ok_or_else(|| DomainError::overflow(at("minimum_order_quantity")))?;
        if quantity % self.case_pack != 0 {
            return invalid(
                "case_pack",
                format!(
                    "the quantity {quantity} is not a whole number of cases of {}",
                    self.case_pack
                ),
            );
        }
        if quantity < smallest {
            return invalid(
                "minimum_order_quantity",
                format!(
                    "the quantity {quantity} is below the smallest order of {smallest} (minimum {} in cases of {})",
                    self.minimum_order_quantity, self.case_pack
                ),
            );
        }
        if quantity > smallest && self.rounding_milli >= milli(self.case_pack, "case_pack")? {
            return invalid(
                "rounding_milli",
                format!(
                    "rounding to cases of {} adds less than a case, not {} thousandths",
                    self.case_pack, self.rounding_milli
                ),
            );
        }
        if need <= 0 {
            return invalid(
                "need_milli",
                format!("is {need}: nothing is needed, so nothing should be proposed"),
            );
        }
        Ok(())
    }
}

/// One proposed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposalLine {
    /// The item (stocked, not a bundle).
    pub sku: Sku,
    /// Units proposed.
    pub quantity: i64,
    /// Price per unit in the supplier's currency, minor units (0 for a transfer).
    #[serde(default)]
    pub unit_price_minor: i64,
    /// How the quantity was reached; a proposal made by hand may leave it out.
    #[serde(default)]
    pub terms: Option<ReplenishmentTerms>,
}

/// Record a replenishment proposal, in state proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposeReplenishment {
    /// New proposal id.
    pub proposal: ProposalId,
    /// Where the units come from.
    pub source: ProposalSource,
    /// The fulfillment center they are for.
    pub location: LocationId,
    /// Lines, each SKU once.
    pub lines: Vec<ProposalLine>,
    /// The last day to order for the goods to arrive in time.
    #[serde(default)]
    pub order_by: Option<Date>,
    /// When the goods are needed.
    #[serde(default)]
    pub needed_by: Option<Date>,
    /// Why this source, in words (`lowest expected cost per unit: 4.12 against 4.55`).
    #[serde(default)]
    pub rationale: Option<String>,
}

/// Approve a proposal: the purchase order (or transfer) is created with its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveProposal {
    /// The proposal.
    pub proposal: ProposalId,
    /// Id of the purchase order (or transfer) to create; the proposal's own id when absent.
    #[serde(default)]
    pub document: Option<String>,
    /// Rate of the supplier's currency into the base currency, when they differ.
    #[serde(default)]
    pub exchange_rate: Option<ExchangeRate>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Reject a proposal, saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectProposal {
    /// The proposal.
    pub proposal: ProposalId,
    /// Why (`stock_arriving`, `promotion_cancelled`, `price_too_high`).
    pub reason: ReasonCode,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

crate::registry::event_family! {
    /// Replenishment proposal events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum ProposalEvent {
        /// A proposal was recorded.
        "ReplenishmentProposed" => Proposed {
            /// Proposal id.
            proposal: ProposalId,
            /// Source.
            source: ProposalSource,
            /// Destination center.
            location: LocationId,
            /// Lines.
            lines: Vec<ProposalLine>,
            /// Last day to order.
            order_by: Option<Date>,
            /// When the goods are needed.
            needed_by: Option<Date>,
            /// Why this source.
            rationale: Option<String>,
            /// When.
            at: Timestamp,
        },
        /// The proposal was approved and its purchase order or transfer created.
        "ProposalApproved" => Approved {
            /// Proposal id.
            proposal: ProposalId,
            /// The purchase order created, for a supplier's proposal.
            purchase_order: Option<PurchaseOrderId>,
            /// The transfer created, for a transfer proposal.
            transfer: Option<TransferId>,
            /// Note.
            note: Option<String>,
            /// When.
            at: Timestamp,
        },
        /// The proposal was rejected.
        "ProposalRejected" => Rejected {
            /// Proposal id.
            proposal: ProposalId,
            /// Why.
            reason: ReasonCode,
            /// Note.
            note: Option<String>,
            /// When.
            at: Timestamp,
        },
    }
}

impl ProposalEvent {
    /// The proposal the event belongs to.
    pub fn proposal(&self) -> &ProposalId {
        match self {
            Self::Proposed { proposal, .. }
            | Self::Approved { proposal, .. }
            | Self::Rejected { proposal, .. } => proposal,
        }
    }
}

/// A proposal's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for a decision.
    Proposed,
    /// Approved: its purchase order or transfer exists.
    Approved,
    /// Rejected.
    Rejected,
}

impl ProposalStatus {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

/// A proposal's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Proposal {
    /// Proposal id.
    pub id: ProposalId,
    /// Source.
    pub source: ProposalSource,
    /// Destination center.
    pub location: LocationId,
    /// Lines.
    pub lines: Vec<ProposalLine>,
    /// Last day to order.
    pub order_by: Option<Date>,
    /// When the goods are needed.
    pub needed_by: Option<Date>,
    /// Why this source.
    pub rationale: Option<String>,
    /// Status.
    pub status: ProposalStatus,
    /// When proposed.
    pub proposed_at: Timestamp,
    /// When approved or rejected.
    pub decided_at: Option<Timestamp>,
    /// The purchase order its approval created.
    pub purchase_order: Option<PurchaseOrderId>,
    /// The transfer its approval created.
    pub transfer: Option<TransferId>,
    /// Why it was rejected.
    pub reject_reason: Option<ReasonCode>,
    /// The decision's note.
    pub note: Option<String>,
}

impl Proposal {
    /// The life-cycle state.
    pub fn state_name(&self) -> &'static str {
        self.status.as_str()
    }
}

/// What approving a proposal produced: the approval and the events of the document it created.
pub(crate) enum Decided {
    /// The approval, then the purchase order's events.
    Purchase(ProposalEvent, Vec<PurchaseOrderEvent>),
    /// The approval, then the transfer's events.
    Transfer(ProposalEvent, Vec<TransferEvent>),
}

fn text(field: &str, value: Option<&String>) -> Result<(), DomainError> {
    match value {
        Some(value) if value.len() > PROPOSAL_TEXT_MAX => Err(DomainError::invalid(
            field,
            format!(
                "is {} bytes long; the limit is {PROPOSAL_TEXT_MAX}",
                value.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// Propose.
pub(crate) fn propose(
    state: &State,
    command: &ProposeReplenishment,
    ctx: &Context,
) -> Result<Vec<ProposalEvent>, DomainError> {
    state.settings()?;
    if state.proposals.contains_key(&command.proposal) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.proposal.to_string(),
        });
    }
    state.fulfillment_center(&command.location, "location")?;
    match &command.source {
        ProposalSource::Supplier { supplier } => {
            state.supplier(supplier, "source.supplier")?;
        }
        ProposalSource::Transfer { from } => {
            state.fulfillment_center(from, "source.from")?;
            if *from == command.location {
                return Err(DomainError::invalid(
                    "source.from",
                    format!("must differ from `location` ({from})"),
                ));
            }
        }
    }
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a proposal needs at least one line",
        ));
    }
    if command.lines.len() > PROPOSAL_LINES_MAX {
        return Err(DomainError::invalid(
            "lines",
            format!(
                "{} lines; the limit is {PROPOSAL_LINES_MAX}",
                command.lines.len()
            ),
        ));
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for (index, line) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        state.stocked_item(&line.sku, &at("sku"))?;
        if !seen.insert(&line.sku) {
            return Err(DomainError::invalid(
                at("sku"),
                format!("{} is listed twice; combine the quantities", line.sku),
            ));
        }
        positive(|| at("quantity"), line.quantity)?;
        if line.unit_price_minor < 0 {
            return Err(DomainError::invalid(
                at("unit_price_minor"),
                format!("must not be negative, is {}", line.unit_price_minor),
            ));
        }
        if let ProposalSource::Transfer { .. } = command.source
            && line.unit_price_minor != 0
        {
            return Err(DomainError::invalid(
                at("unit_price_minor"),
                "a transfer has no price: leave it out",
            ));
        }
        if let Some(terms) = &line.terms {
            terms.check(line.quantity, &at("terms"))?;
            text(&at("terms.model"), terms.model.as_ref())?;
        }
    }
    if let (Some(order_by), Some(needed_by)) = (command.order_by, command.needed_by)
        && order_by > needed_by
    {
        return Err(DomainError::invalid(
            "order_by",
            format!("{order_by} is after `needed_by` ({needed_by})"),
        ));
    }
    text("rationale", command.rationale.as_ref())?;
    Ok(vec![ProposalEvent::Proposed {
        proposal: command.proposal.clone(),
        source: command.source.clone(),
        location: command.location.clone(),
        lines: command.lines.clone(),
        order_by: command.order_by,
        needed_by: command.needed_by,
        rationale: command.rationale.clone(),
        at: ctx.at,
    }])
}

fn open<'s>(
    state: &'s State,
    id: &ProposalId,
    attempted: &'static str,
) -> Result<&'s Proposal, DomainError> {
    let found = state
        .proposals
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "proposal"))?;
    if found.status != ProposalStatus::Proposed {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// The id of the purchase order or transfer an approval creates.
pub fn created_document_id(command: &ApproveProposal) -> &str {
    command
        .document
        .as_deref()
        .unwrap_or(command.proposal.as_str())
}

/// Approve: the proposal's lines become a purchase order or a transfer, decided by their own
/// documents' rules (the supplier's minimum, stock available to transfer) in the same command.
pub(crate) fn approve(
    state: &State,
    command: &ApproveProposal,
    ctx: &Context,
) -> Result<Decided, DomainError> {
    let found = open(state, &command.proposal, "approve")?;
    text("note", command.note.as_ref())?;
    let id = created_document_id(command);
    match &found.source {
        ProposalSource::Supplier { supplier } => {
            let purchase_order: PurchaseOrderId = id
                .parse()
                .map_err(|error| DomainError::invalid("document", format!("{error}")))?;
            let currency = state.supplier(supplier, "source.supplier")?.currency;
            let place = PlacePurchaseOrder {
                purchase_order: purchase_order.clone(),
                supplier: supplier.clone(),
                location: found.location.clone(),
                currency,
                exchange_rate: command.exchange_rate,
                lines: found
                    .lines
                    .iter()
                    .map(|line| PurchaseLine {
                        sku: line.sku.clone(),
                        quantity: line.quantity,
                        unit_price_minor: line.unit_price_minor,
                    })
                    .collect(),
                requested_on: found.needed_by,
            };
            let placed = purchase_order::place(state, &place, ctx)?;
            let approved = ProposalEvent::Approved {
                proposal: command.proposal.clone(),
                purchase_order: Some(purchase_order),
                transfer: None,
                note: command.note.clone(),
                at: ctx.at,
            };
            Ok(Decided::Purchase(approved, placed))
        }
        ProposalSource::Transfer { from } => {
            if command.exchange_rate.is_some() {
                return Err(DomainError::invalid(
                    "exchange_rate",
                    "a transfer has no currency: leave it out",
                ));
            }
            let transfer_id: TransferId = id
                .parse()
                .map_err(|error| DomainError::invalid("document", format!("{error}")))?;
            let create = CreateTransfer {
                transfer: transfer_id.clone(),
                from: from.clone(),
                to: found.location.clone(),
                lines: found
                    .lines
                    .iter()
                    .map(|line| TransferLineInput {
                        sku: line.sku.clone(),
                        quantity: line.quantity,
                    })
                    .collect(),
            };
            let created = transfer::create(state, &create, ctx)?;
            let approved = ProposalEvent::Approved {
                proposal: command.proposal.clone(),
                purchase_order: None,
                transfer: Some(transfer_id),
                note: command.note.clone(),
                at: ctx.at,
            };
            Ok(Decided::Transfer(approved, created))
        }
    }
}

/// Reject.
pub(crate) fn reject(
    state: &State,
    command: &RejectProposal,
    ctx: &Context,
) -> Result<Vec<ProposalEvent>, DomainError> {
    open(state, &command.proposal, "reject")?;
    text("note", command.note.as_ref())?;
    Ok(vec![ProposalEvent::Rejected {
        proposal: command.proposal.clone(),
        reason: command.reason.clone(),
        note: command.note.clone(),
        at: ctx.at,
    }])
}

/// Applies a proposal event.
pub(crate) fn apply(proposals: &mut FxHashMap<ProposalId, Proposal>, event: &ProposalEvent) {
    match event {
        ProposalEvent::Proposed {
            proposal,
            source,
            location,
            lines,
            order_by,
            needed_by,
            rationale,
            at,
        } => {
            proposals.insert(
                proposal.clone(),
                Proposal {
                    id: proposal.clone(),
                    source: source.clone(),
                    location: location.clone(),
                    lines: lines.clone(),
                    order_by: *order_by,
                    needed_by: *needed_by,
                    rationale: rationale.clone(),
                    status: ProposalStatus::Proposed,
                    proposed_at: *at,
                    decided_at: None,
                    purchase_order: None,
                    transfer: None,
                    reject_reason: None,
                    note: None,
                },
            );
        }
        ProposalEvent::Approved {
            proposal,
            purchase_order,
            transfer,
            note,
            at,
        } => {
            if let Some(found) = proposals.get_mut(proposal) {
                found.status = ProposalStatus::Approved;
                found.decided_at = Some(*at);
                found.purchase_order.clone_from(purchase_order);
                found.transfer.clone_from(transfer);
                found.note.clone_from(note);
            }
        }
        ProposalEvent::Rejected {
            proposal,
            reason,
            note,
            at,
        } => {
            if let Some(found) = proposals.get_mut(proposal) {
                found.status = ProposalStatus::Rejected;
                found.decided_at = Some(*at);
                found.reject_reason = Some(reason.clone());
                found.note.clone_from(note);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::purchase_order::PurchaseOrderStatus;
    use crate::documents::testkit::{balance, id, ok, rejected, stock, tenant};
    use crate::state::Command;

    const T1: &str = "2025-03-02T09:00:00Z";
    const T2: &str = "2025-03-03T09:00:00Z";

    /// The worked example of `flowline_plan::replenish`: demand 10 a day, σ_d 3, lead time
    /// 5 ± 1 days, review 1 day, so P = 6 and the forecast over it is 60; σ = √(6·9 + 100·1)
    /// = √154 = 12.40967; at a 95 % cycle service level z = 1.6448536 and the safety stock is
    /// 20.41210 → 20,412 thousandths. Position: 30 on hand − 5 reserved − 2 backordered + 10
    /// on order + 0 inbound = 33. Need: 60,000 + 20,412 − 33,000 = 47,412. Cases of 12 round
    /// it to 48 units (4 cases), adding 588 thousandths.
    fn worked_terms() -> ReplenishmentTerms {
        ReplenishmentTerms {
            protection_days_milli: 6_000,
            forecast_milli: 60_000,
            safety_stock_milli: 20_412,
            service_level_milli: 950,
            fill_rate: false,
            on_hand: 30,
            reserved: 5,
            backordered: 2,
            on_order: 10,
            inbound_transfers: 0,
            position: 33,
            need_milli: 47_412,
            lot_sizing_milli: 0,
            rounding_milli: 588,
            minimum_order_quantity: 0,
            case_pack: 12,
            model: Some("ses".into()),
        }
    }

    fn propose(lines: Vec<ProposalLine>) -> Command {
        Command::ProposeReplenishment(ProposeReplenishment {
            proposal: id("RP-1"),
            source: ProposalSource::Supplier {
                supplier: id("ACME"),
            },
            location: id("FC-EAST"),
            lines,
            order_by: None,
            needed_by: Some("2025-03-16".parse().unwrap()),
            rationale: Some("the only supplier".into()),
        })
    }

    fn line(
        sku: &str,
        quantity: i64,
        price: i64,
        terms: Option<ReplenishmentTerms>,
    ) -> ProposalLine {
        ProposalLine {
            sku: id(sku),
            quantity,
            unit_price_minor: price,
            terms,
        }
    }

    #[test]
    fn the_worked_terms_add_up_and_each_tampered_term_is_named() {
        assert_eq!(worked_terms().check(48, "lines[0].terms"), Ok(()));
        // The quantity one case more than the terms explain.
        let error = worked_terms().check(60, "lines[0].terms").unwrap_err();
        assert!(
            matches!(&error, DomainError::Invalid { field, .. } if field == "lines[0].quantity"),
            "{error}"
        );
        type Tamper = fn(&mut ReplenishmentTerms);
        let tampered: [(&str, Tamper); 7] = [
            ("lines[0].terms.position", |t| t.on_hand = 31),
            ("lines[0].terms.need_milli", |t| t.forecast_milli = 61_000),
            ("lines[0].terms.need_milli", |t| {
                t.safety_stock_milli = 20_000
            }),
            ("lines[0].quantity", |t| t.rounding_milli = 589),
            ("lines[0].quantity", |t| t.lot_sizing_milli = 12_000),
            ("lines[0].terms.rounding_milli", |t| t.rounding_milli = -1),
            ("lines[0].terms.service_level_milli", |t| {
                t.service_level_milli = 1000
            }),
        ];
        for (field, tamper) in tampered {
            let mut terms = worked_terms();
            tamper(&mut terms);
            match terms.check(48, "lines[0].terms") {
                Err(DomainError::Invalid { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn rounding_may_not_add_a_whole_case_nor_break_the_minimum() {
        // 47.412 needed in cases of 12: 60 would add 12.588, a case and more.
        let mut terms = worked_terms();
        terms.rounding_milli = 12_588;
        let error = terms.check(60, "t").unwrap_err();
        assert!(
            matches!(&error, DomainError::Invalid { field, .. } if field == "t.rounding_milli"),
            "{error}"
        );
        // With a minimum of 100 the smallest order is 108 (9 cases): 108 − 47.412 = 60.588
        // of rounding is allowed there, and 96 is refused for being below it.
        let mut terms = worked_terms();
        terms.minimum_order_quantity = 100;
        terms.rounding_milli = 60_588;
        assert_eq!(terms.check(108, "t"), Ok(()));
        terms.rounding_milli = 48_588;
        let error = terms.check(96, "t").unwrap_err();
        assert!(
            matches!(&error, DomainError::Invalid { field, .. } if field == "t.minimum_order_quantity"),
            "{error}"
        );
        // Not a whole number of cases.
        let mut terms = worked_terms();
        terms.case_pack = 1;
        terms.rounding_milli = 1_588;
        let error = terms.check(49, "t").unwrap_err();
        assert!(
            matches!(&error, DomainError::Invalid { field, .. } if field == "t.rounding_milli"),
            "{error}"
        );
    }

    #[test]
    fn a_proposal_whose_quantity_its_terms_do_not_explain_is_refused_and_records_nothing() {
        let mut state = tenant();
        let error = rejected(
            &mut state,
            propose(vec![line("MUG", 60, 400, Some(worked_terms()))]),
            T1,
        );
        assert!(
            matches!(&error, DomainError::Invalid { field, .. } if field == "lines[0].quantity"),
            "{error}"
        );
        assert!(state.proposals.is_empty());
    }

    #[test]
    fn approving_places_a_purchase_order_with_the_proposals_lines() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 30, 400);
        ok(
            &mut state,
            propose(vec![
                line("MUG", 48, 410, Some(worked_terms())),
                line("LID", 20, 150, None),
            ]),
            T1,
        );
        assert_eq!(state.proposals[&id("RP-1")].state_name(), "proposed");
        let events = ok(
            &mut state,
            Command::ApproveProposal(ApproveProposal {
                proposal: id("RP-1"),
                document: Some("PO-77".into()),
                exchange_rate: None,
                note: Some("ok".into()),
            }),
            T2,
        );
        assert_eq!(
            events.len(),
            2,
            "the approval and the purchase order's placing"
        );
        let proposal = &state.proposals[&id("RP-1")];
        assert_eq!(proposal.state_name(), "approved");
        assert_eq!(proposal.purchase_order, Some(id("PO-77")));
        let order = &state.purchase_orders[&id("PO-77")];
        assert_eq!(order.status, PurchaseOrderStatus::Placed);
        assert_eq!(order.supplier, id("ACME"));
        assert_eq!(order.location, id("FC-EAST"));
        let placed: Vec<(String, i64, i64)> = order
            .lines
            .iter()
            .map(|l| {
                (
                    l.line.sku.to_string(),
                    l.line.quantity,
                    l.line.unit_price_minor,
                )
            })
            .collect();
        assert_eq!(
            placed,
            vec![("MUG".into(), 48, 410), ("LID".into(), 20, 150)]
        );
        // Nothing moved: the order is on order, not on hand.
        assert_eq!(balance(&state, "MUG", "FC-EAST").on_hand, 30);
        // A decided proposal is decided once.
        let error = rejected(
            &mut state,
            Command::RejectProposal(RejectProposal {
                proposal: id("RP-1"),
                reason: id("price_too_high"),
                note: None,
            }),
            T2,
        );
        assert!(
            matches!(error, DomainError::IllegalTransition { .. }),
            "{error}"
        );
    }

    #[test]
    fn an_approval_the_purchase_order_refuses_changes_nothing() {
        let mut state = tenant();
        ok(
            &mut state,
            propose(vec![line("MUG", 48, 410, Some(worked_terms()))]),
            T1,
        );
        // The id of the order to create is taken already.
        ok(
            &mut state,
            Command::PlacePurchaseOrder(purchase_order::PlacePurchaseOrder {
                purchase_order: id("RP-1"),
                supplier: id("ACME"),
                location: id("FC-EAST"),
                currency: crate::documents::testkit::usd_currency(),
                exchange_rate: None,
                lines: vec![PurchaseLine {
                    sku: id("LID"),
                    quantity: 5,
                    unit_price_minor: 150,
                }],
                requested_on: None,
            }),
            T1,
        );
        let error = rejected(
            &mut state,
            Command::ApproveProposal(ApproveProposal {
                proposal: id("RP-1"),
                document: None,
                exchange_rate: None,
                note: None,
            }),
            T2,
        );
        assert!(
            matches!(error, DomainError::AlreadyExists { .. }),
            "{error}"
        );
        assert_eq!(state.proposals[&id("RP-1")].state_name(), "proposed");
    }

    #[test]
    fn a_transfer_proposal_becomes_a_transfer_and_a_rejection_keeps_its_reason() {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-WEST", 50, 400);
        ok(
            &mut state,
            Command::ProposeReplenishment(ProposeReplenishment {
                proposal: id("RP-2"),
                source: ProposalSource::Transfer {
                    from: id("FC-WEST"),
                },
                location: id("FC-EAST"),
                lines: vec![line("MUG", 20, 0, None)],
                order_by: None,
                needed_by: None,
                rationale: Some("placement".into()),
            }),
            T1,
        );
        ok(
            &mut state,
            Command::ApproveProposal(ApproveProposal {
                proposal: id("RP-2"),
                document: Some("TR-9".into()),
                exchange_rate: None,
                note: None,
            }),
            T2,
        );
        assert_eq!(state.transfers[&id("TR-9")].lines[0].quantity, 20);
        assert_eq!(balance(&state, "MUG", "FC-WEST").reserved, 20);
        ok(&mut state, propose(vec![line("LID", 5, 150, None)]), T1);
        ok(
            &mut state,
            Command::RejectProposal(RejectProposal {
                proposal: id("RP-1"),
                reason: id("stock_arriving"),
                note: Some("container due Monday".into()),
            }),
            T2,
        );
        let rejected_one = &state.proposals[&id("RP-1")];
        assert_eq!(rejected_one.state_name(), "rejected");
        assert_eq!(rejected_one.reject_reason, Some(id("stock_arriving")));
    }

    #[test]
    fn bad_proposals_name_their_field() {
        let mut state = tenant();
        let cases: Vec<(Command, &str)> = vec![
            (propose(vec![]), "lines"),
            (propose(vec![line("NOPE", 1, 1, None)]), "lines[0].sku"),
            (propose(vec![line("DUO", 1, 1, None)]), "lines[0].sku"),
            (propose(vec![line("MUG", 0, 1, None)]), "lines[0].quantity"),
            (
                propose(vec![line("MUG", 1, -1, None)]),
                "lines[0].unit_price_minor",
            ),
            (
                propose(vec![line("MUG", 1, 1, None), line("MUG", 2, 1, None)]),
                "lines[1].sku",
            ),
        ];
        for (command, field) in cases {
            let error = rejected(&mut state, command, T1);
            let named = match &error {
                DomainError::Invalid { field, .. }
                | DomainError::NonPositiveQuantity { field, .. }
                | DomainError::NotFound { field, .. } => field.clone(),
                other => panic!("{field}: {other}"),
            };
            assert_eq!(named, field, "{error}");
        }
        let mut unknown_supplier = propose(vec![line("MUG", 1, 1, None)]);
        if let Command::ProposeReplenishment(c) = &mut unknown_supplier {
            c.source = ProposalSource::Supplier {
                supplier: id("NOBODY"),
            };
        }
        let error = rejected(&mut state, unknown_supplier, T1);
        assert!(
            matches!(&error, DomainError::NotFound { field, .. } if field == "source.supplier"),
            "{error}"
        );
    }
}
