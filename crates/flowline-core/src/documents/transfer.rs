//! Deliver (internal): a transfer of stock between two fulfillment centers.
//!
//! Life cycle: created (stock reserved at the source) → shipped (moved to `in_transit`) →
//! received at the destination, possibly in several receipts → closed short, writing off what
//! never arrived. A transfer that has not shipped may be cancelled (reservations released).
//!
//! `in_transit` is a valued location, so shipping and receiving move value between valued
//! locations and post nothing; only the write-off on closing touches the profit and loss
//! (`Dr inventory write-off / Cr inventory`). Receipts are valued at the moving average of the
//! item in `in_transit`, which all transfers share.

use crate::documents::sales_order::LineQuantity;
use crate::effects::{Effects, EffectsBuilder};
use crate::error::{DocumentKind, DomainError, positive};
use crate::id::{CarrierId, LocationId, ReasonCode, Sku, TransferId};
use crate::ledger::{Account, VirtualLocation};
use crate::state::{Context, State};
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::Transfer;

/// A line to transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    /// The item.
    pub sku: Sku,
    /// Units.
    pub quantity: i64,
}

/// Create a transfer: reserves the stock at the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTransfer {
    /// New transfer id.
    pub transfer: TransferId,
    /// Source fulfillment center.
    pub from: LocationId,
    /// Destination fulfillment center.
    pub to: LocationId,
    /// Lines (each SKU once).
    pub lines: Vec<TransferLineInput>,
}

/// Ship the transfer: the reserved stock leaves for `in_transit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipTransfer {
    /// The transfer.
    pub transfer: TransferId,
    /// Carrier.
    #[serde(default)]
    pub carrier: Option<CarrierId>,
    /// Tracking number.
    #[serde(default)]
    pub tracking: Option<String>,
}

/// Receive transferred units at the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveTransfer {
    /// The transfer.
    pub transfer: TransferId,
    /// Lines and units.
    pub lines: Vec<LineQuantity>,
}

/// Close a shipped transfer: whatever has not arrived is written off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseTransfer {
    /// The transfer.
    pub transfer: TransferId,
    /// Why (`lost_in_transit`, `damaged_in_transit`).
    pub reason: ReasonCode,
}

/// Cancel a transfer that has not shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelTransfer {
    /// The transfer.
    pub transfer: TransferId,
    /// Why.
    pub reason: ReasonCode,
}

crate::registry::event_family! {
    /// Transfer events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum TransferEvent {
        /// The transfer was created and the stock reserved at the source.
        "TransferCreated" => Created {
            /// Transfer id.
            transfer: TransferId,
            /// Source.
            from: LocationId,
            /// Destination.
            to: LocationId,
            /// Lines.
            lines: Vec<TransferLineInput>,
            /// When.
            at: Timestamp,
            /// Reservations.
            effects: Effects,
        },
        /// The transfer left the source.
        "TransferShipped" => Shipped {
            /// Transfer id.
            transfer: TransferId,
            /// Carrier.
            carrier: Option<CarrierId>,
            /// Tracking number.
            tracking: Option<String>,
            /// When.
            at: Timestamp,
            /// Moves to `in_transit`, released reservations.
            effects: Effects,
        },
        /// Units arrived at the destination.
        "TransferReceived" => Received {
            /// Transfer id.
            transfer: TransferId,
            /// Lines and units.
            lines: Vec<LineQuantity>,
            /// When.
            at: Timestamp,
            /// Moves from `in_transit`.
            effects: Effects,
        },
        /// The transfer was closed; units that never arrived were written off.
        "TransferClosed" => Closed {
            /// Transfer id.
            transfer: TransferId,
            /// Why.
            reason: ReasonCode,
            /// Units written off per line.
            written_off: Vec<LineQuantity>,
            /// When.
            at: Timestamp,
            /// Moves to `adjustment`, write-off postings.
            effects: Effects,
        },
        /// The transfer was cancelled before shipping.
        "TransferCancelled" => Cancelled {
            /// Transfer id.
            transfer: TransferId,
            /// Why.
            reason: ReasonCode,
            /// When.
            at: Timestamp,
            /// Released reservations.
            effects: Effects,
        },
    }
}

impl TransferEvent {
    /// The transfer the event belongs to.
    pub fn transfer(&self) -> &TransferId {
        match self {
            Self::Created { transfer, .. }
            | Self::Shipped { transfer, .. }
            | Self::Received { transfer, .. }
            | Self::Closed { transfer, .. }
            | Self::Cancelled { transfer, .. } => transfer,
        }
    }

    /// Ledger effects.
    pub fn effects(&self) -> Option<&Effects> {
        match self {
            Self::Created { effects, .. }
            | Self::Shipped { effects, .. }
            | Self::Received { effects, .. }
            | Self::Closed { effects, .. }
            | Self::Cancelled { effects, .. } => Some(effects),
        }
    }
}

/// A transfer's status, set by explicit steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Created; stock reserved at the source.
    Created,
    /// Shipped; receipts may follow.
    Shipped,
    /// Closed short.
    Closed,
    /// Cancelled before shipping.
    Cancelled,
}

/// The state of one transfer line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TransferLine {
    /// The item.
    pub sku: Sku,
    /// Units to transfer.
    pub quantity: i64,
    /// Units shipped.
    pub shipped: i64,
    /// Units received.
    pub received: i64,
    /// Units written off on closing.
    pub written_off: i64,
}

impl TransferLine {
    /// Units shipped and neither received nor written off.
    pub fn in_transit(&self) -> i64 {
        self.shipped - self.received - self.written_off
    }
}

/// A transfer's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Transfer {
    /// Transfer id.
    pub id: TransferId,
    /// Source.
    pub from: LocationId,
    /// Destination.
    pub to: LocationId,
    /// Lines.
    pub lines: Vec<TransferLine>,
    /// Status.
    pub status: TransferStatus,
    /// Carrier.
    pub carrier: Option<CarrierId>,
    /// Tracking number.
    pub tracking: Option<String>,
    /// When created.
    pub created_at: Timestamp,
    /// When shipped.
    pub shipped_at: Option<Timestamp>,
}

impl Transfer {
    /// Units of `sku` on their way to `location` (shipped − received − written off).
    pub fn in_transit_to(&self, sku: &Sku, location: &LocationId) -> i64 {
        if self.to != *location {
            return 0;
        }
        self.lines
            .iter()
            .filter(|l| l.sku == *sku)
            .map(TransferLine::in_transit)
            .sum()
    }

    /// The life-cycle state.
    pub fn state_name(&self) -> &'static str {
        let received: i64 = self.lines.iter().map(|l| l.received).sum();
        let in_transit: i64 = self.lines.iter().map(TransferLine::in_transit).sum();
        match self.status {
            TransferStatus::Created => "created",
            TransferStatus::Cancelled => "cancelled",
            TransferStatus::Closed => "closed",
            TransferStatus::Shipped if in_transit == 0 => "received",
            TransferStatus::Shipped if received > 0 => "partially_received",
            TransferStatus::Shipped => "shipped",
        }
    }
}

fn find<'s>(state: &'s State, id: &TransferId) -> Result<&'s Transfer, DomainError> {
    state
        .transfers
        .get(id)
        .ok_or_else(|| DomainError::not_found(KIND, id, "transfer"))
}

/// A shipped transfer with units still in transit.
fn arriving<'s>(
    state: &'s State,
    id: &TransferId,
    attempted: &'static str,
) -> Result<&'s Transfer, DomainError> {
    let found = find(state, id)?;
    let in_transit: i64 = found.lines.iter().map(TransferLine::in_transit).sum();
    if found.status != TransferStatus::Shipped || in_transit == 0 {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// A transfer that has not shipped.
fn unshipped<'s>(
    state: &'s State,
    id: &TransferId,
    attempted: &'static str,
) -> Result<&'s Transfer, DomainError> {
    let found = find(state, id)?;
    if found.status != TransferStatus::Created {
        return Err(DomainError::illegal(
            KIND,
            id,
            found.state_name(),
            attempted,
        ));
    }
    Ok(found)
}

/// Create.
pub(crate) fn create(
    state: &State,
    command: &CreateTransfer,
    ctx: &Context,
) -> Result<Vec<TransferEvent>, DomainError> {
    let settings = state.settings()?;
    if state.transfers.contains_key(&command.transfer) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.transfer.to_string(),
        });
    }
    state.fulfillment_center(&command.from, "from")?;
    state.fulfillment_center(&command.to, "to")?;
    if command.from == command.to {
        return Err(DomainError::invalid(
            "to",
            format!("must differ from `from` ({})", command.from),
        ));
    }
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a transfer needs at least one line",
        ));
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for (index, input) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        state.stocked_item(&input.sku, &at("sku"))?;
        if command.lines[..index].iter().any(|l| l.sku == input.sku) {
            return Err(DomainError::invalid(
                at("sku"),
                format!("{} is listed twice; combine the quantities", input.sku),
            ));
        }
        positive(|| at("quantity"), input.quantity)?;
        builder.reserve(&input.sku, &command.from, input.quantity)?;
    }
    Ok(vec![TransferEvent::Created {
        transfer: command.transfer.clone(),
        from: command.from.clone(),
        to: command.to.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Ship.
pub(crate) fn ship(
    state: &State,
    command: &ShipTransfer,
    ctx: &Context,
) -> Result<Vec<TransferEvent>, DomainError> {
    let settings = state.settings()?;
    let found = unshipped(state, &command.transfer, "ship")?;
    if let Some(carrier) = &command.carrier
        && !state.carriers.contains_key(carrier)
    {
        return Err(DomainError::not_found(
            DocumentKind::Carrier,
            carrier,
            "carrier",
        ));
    }
    let in_transit = VirtualLocation::InTransit.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for transfer_line in &found.lines {
        builder.move_stock(
            &transfer_line.sku,
            &found.from,
            &in_transit,
            transfer_line.quantity,
            true,
        )?;
    }
    // Both ends are valued: the inventory account does not change.
    debug_assert_eq!(builder.inventory_delta(), 0);
    Ok(vec![TransferEvent::Shipped {
        transfer: command.transfer.clone(),
        carrier: command.carrier.clone(),
        tracking: command.tracking.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Receive.
pub(crate) fn receive(
    state: &State,
    command: &ReceiveTransfer,
    ctx: &Context,
) -> Result<Vec<TransferEvent>, DomainError> {
    let settings = state.settings()?;
    let found = arriving(state, &command.transfer, "receive")?;
    if command.lines.is_empty() {
        return Err(DomainError::invalid(
            "lines",
            "a receipt needs at least one line",
        ));
    }
    let in_transit = VirtualLocation::InTransit.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in command.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let (transfer_line, asked_so_far) = found
            .lines
            .get(request.line)
            .zip(asked.get_mut(request.line))
            .ok_or_else(|| {
                DomainError::invalid(
                    at("line"),
                    format!(
                        "transfer {} has no line {} (it has {})",
                        found.id,
                        request.line,
                        found.lines.len()
                    ),
                )
            })?;
        positive(|| at("quantity"), request.quantity)?;
        *asked_so_far += request.quantity;
        if *asked_so_far > transfer_line.in_transit() {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: *asked_so_far,
                outstanding: transfer_line.in_transit(),
            });
        }
        builder.move_stock(
            &transfer_line.sku,
            &in_transit,
            &found.to,
            request.quantity,
            false,
        )?;
    }
    debug_assert_eq!(builder.inventory_delta(), 0);
    Ok(vec![TransferEvent::Received {
        transfer: command.transfer.clone(),
        lines: command.lines.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Close short.
pub(crate) fn close(
    state: &State,
    command: &CloseTransfer,
    ctx: &Context,
) -> Result<Vec<TransferEvent>, DomainError> {
    let settings = state.settings()?;
    let found = arriving(state, &command.transfer, "close")?;
    let in_transit = VirtualLocation::InTransit.id();
    let adjustment = VirtualLocation::Adjustment.id();
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut written_off = Vec::new();
    for (index, transfer_line) in found.lines.iter().enumerate() {
        let units = transfer_line.in_transit();
        if units > 0 {
            builder.move_stock(&transfer_line.sku, &in_transit, &adjustment, units, false)?;
            written_off.push(LineQuantity {
                line: index,
                quantity: units,
            });
        }
    }
    let lost = -builder.inventory_delta();
    builder.post(Account::InventoryWriteOff, Account::Inventory, lost);
    Ok(vec![TransferEvent::Closed {
        transfer: command.transfer.clone(),
        reason: command.reason.clone(),
        written_off,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Cancel.
pub(crate) fn cancel(
    state: &State,
    command: &CancelTransfer,
    ctx: &Context,
) -> Result<Vec<TransferEvent>, DomainError> {
    let settings = state.settings()?;
    let found = unshipped(state, &command.transfer, "cancel")?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    for transfer_line in &found.lines {
        builder.release(&transfer_line.sku, &found.from, transfer_line.quantity);
    }
    Ok(vec![TransferEvent::Cancelled {
        transfer: command.transfer.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Applies a transfer event.
pub(crate) fn apply(transfers: &mut FxHashMap<TransferId, Transfer>, event: &TransferEvent) {
    if let TransferEvent::Created {
        transfer,
        from,
        to,
        lines,
        at,
        ..
    } = event
    {
        transfers.insert(
            transfer.clone(),
            Transfer {
                id: transfer.clone(),
                from: from.clone(),
                to: to.clone(),
                lines: lines
                    .iter()
                    .map(|l| TransferLine {
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                        shipped: 0,
                        received: 0,
                        written_off: 0,
                    })
                    .collect(),
                status: TransferStatus::Created,
                carrier: None,
                tracking: None,
                created_at: *at,
                shipped_at: None,
            },
        );
        return;
    }
    let Some(found) = transfers.get_mut(event.transfer()) else {
        return;
    };
    match event {
        TransferEvent::Created { .. } => {}
        TransferEvent::Shipped {
            carrier,
            tracking,
            at,
            ..
        } => {
            found.status = TransferStatus::Shipped;
            found.carrier = carrier.clone();
            found.tracking = tracking.clone();
            found.shipped_at = Some(*at);
            for transfer_line in &mut found.lines {
                transfer_line.shipped = transfer_line.quantity;
            }
        }
        TransferEvent::Received { lines, .. } => {
            for request in lines {
                if let Some(transfer_line) = found.lines.get_mut(request.line) {
                    transfer_line.received += request.quantity;
                }
            }
        }
        TransferEvent::Closed { written_off, .. } => {
            found.status = TransferStatus::Closed;
            for request in written_off {
                if let Some(transfer_line) = found.lines.get_mut(request.line) {
                    transfer_line.written_off += request.quantity;
                }
            }
        }
        TransferEvent::Cancelled { .. } => found.status = TransferStatus::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{balance, id, money, ok, rejected, stock, tenant};
    use crate::state::Command;

    const T1: &str = "2025-03-02T09:00:00Z";
    const T2: &str = "2025-03-05T09:00:00Z";

    fn create(lines: &[(&str, i64)]) -> Command {
        Command::CreateTransfer(CreateTransfer {
            transfer: id("T-1"),
            from: id("FC-EAST"),
            to: id("FC-WEST"),
            lines: lines
                .iter()
                .map(|(sku, quantity)| TransferLineInput {
                    sku: id(sku),
                    quantity: *quantity,
                })
                .collect(),
        })
    }

    fn ship() -> Command {
        Command::ShipTransfer(ShipTransfer {
            transfer: id("T-1"),
            carrier: Some(id("UPS")),
            tracking: Some("1Z999".into()),
        })
    }

    fn receive(lines: &[(usize, i64)]) -> Command {
        Command::ReceiveTransfer(ReceiveTransfer {
            transfer: id("T-1"),
            lines: lines
                .iter()
                .map(|(line, quantity)| LineQuantity {
                    line: *line,
                    quantity: *quantity,
                })
                .collect(),
        })
    }

    fn close() -> Command {
        Command::CloseTransfer(CloseTransfer {
            transfer: id("T-1"),
            reason: id("lost_in_transit"),
        })
    }

    fn cancel() -> Command {
        Command::CancelTransfer(CancelTransfer {
            transfer: id("T-1"),
            reason: id("not_needed"),
        })
    }

    fn illegal(state: &str, attempted: &'static str) -> DomainError {
        DomainError::illegal(KIND, "T-1", state, attempted)
    }

    fn stocked() -> State {
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 10, 400);
        stock(&mut state, "LID", "FC-EAST", 4, 150);
        state
    }

    #[test]
    fn a_transfer_moves_value_through_in_transit_and_writes_off_what_never_arrives() {
        // 10 MUG at 4.00 and 4 LID at 1.50: inventory 46.00. Shipping 6 MUG (24.00) and 4 LID
        // (6.00) keeps inventory at 46.00 (in transit is valued). 4 MUG arrive (16.00); closing
        // writes off 2 MUG (8.00) and 4 LID (6.00) = 14.00, leaving 32.00.
        let mut state = stocked();
        ok(&mut state, create(&[("MUG", 6), ("LID", 4)]), T1);
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 6);
        assert_eq!(state.transfers[&id("T-1")].state_name(), "created");
        assert_eq!(
            state.transfers[&id("T-1")].in_transit_to(&id("MUG"), &id("FC-WEST")),
            0
        );

        ok(&mut state, ship(), T1);
        let moving = balance(&state, "MUG", "in_transit");
        assert_eq!((moving.on_hand, moving.value_minor), (6, 2400));
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 0);
        assert_eq!(money(&state, Account::Inventory), 4600);
        let transfer = &state.transfers[&id("T-1")];
        assert_eq!(transfer.state_name(), "shipped");
        assert_eq!(transfer.in_transit_to(&id("MUG"), &id("FC-WEST")), 6);
        assert_eq!(transfer.in_transit_to(&id("MUG"), &id("FC-EAST")), 0);

        ok(&mut state, receive(&[(0, 4)]), T2);
        let arrived = balance(&state, "MUG", "FC-WEST");
        assert_eq!((arrived.on_hand, arrived.value_minor), (4, 1600));
        let transfer = &state.transfers[&id("T-1")];
        assert_eq!(transfer.state_name(), "partially_received");
        assert_eq!(transfer.in_transit_to(&id("MUG"), &id("FC-WEST")), 2);

        ok(&mut state, close(), T2);
        assert_eq!(money(&state, Account::InventoryWriteOff), 1400);
        assert_eq!(money(&state, Account::Inventory), 3200);
        assert_eq!(balance(&state, "MUG", "in_transit").on_hand, 0);
        // The opening stock came from `adjustment` (−4); the write-off puts 4 back.
        assert_eq!(balance(&state, "LID", "adjustment").on_hand, 0);
        let transfer = &state.transfers[&id("T-1")];
        assert_eq!(transfer.state_name(), "closed");
        assert_eq!(transfer.in_transit_to(&id("MUG"), &id("FC-WEST")), 0);
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1)]), T2),
            illegal("closed", "receive")
        );
        assert_eq!(
            rejected(&mut state, close(), T2),
            illegal("closed", "close")
        );
    }

    #[test]
    fn a_fully_received_transfer_accepts_no_further_receipt_or_close() {
        let mut state = stocked();
        ok(&mut state, create(&[("MUG", 3)]), T1);
        ok(&mut state, ship(), T1);
        ok(&mut state, receive(&[(0, 1), (0, 2)]), T2);
        assert_eq!(state.transfers[&id("T-1")].state_name(), "received");
        assert_eq!(balance(&state, "MUG", "FC-WEST").value_minor, 1200);
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1)]), T2),
            illegal("received", "receive")
        );
        assert_eq!(
            rejected(&mut state, close(), T2),
            illegal("received", "close")
        );
        assert_eq!(
            rejected(&mut state, cancel(), T2),
            illegal("received", "cancel")
        );
        assert_eq!(
            rejected(&mut state, ship(), T2),
            illegal("received", "ship")
        );
    }

    #[test]
    fn cancelling_before_shipping_releases_the_reservation() {
        let mut state = stocked();
        ok(&mut state, create(&[("MUG", 6)]), T1);
        assert_eq!(
            rejected(&mut state, receive(&[(0, 1)]), T1),
            illegal("created", "receive")
        );
        assert_eq!(
            rejected(&mut state, close(), T1),
            illegal("created", "close")
        );
        ok(&mut state, cancel(), T1);
        assert_eq!(balance(&state, "MUG", "FC-EAST").reserved, 0);
        assert_eq!(
            rejected(&mut state, ship(), T1),
            illegal("cancelled", "ship")
        );
        assert_eq!(
            rejected(&mut state, cancel(), T1),
            illegal("cancelled", "cancel")
        );
    }

    #[test]
    fn shipped_transfers_cannot_be_cancelled_or_shipped_again() {
        let mut state = stocked();
        ok(&mut state, create(&[("MUG", 6)]), T1);
        ok(&mut state, ship(), T1);
        assert_eq!(rejected(&mut state, ship(), T1), illegal("shipped", "ship"));
        assert_eq!(
            rejected(&mut state, cancel(), T1),
            illegal("shipped", "cancel")
        );
    }

    #[test]
    fn bad_transfers_are_rejected_with_the_field() {
        let mut state = stocked();
        let mut same = CreateTransfer {
            transfer: id("T-1"),
            from: id("FC-EAST"),
            to: id("FC-EAST"),
            lines: vec![TransferLineInput {
                sku: id("MUG"),
                quantity: 1,
            }],
        };
        assert!(matches!(
            rejected(&mut state, Command::CreateTransfer(same.clone()), T1),
            DomainError::Invalid { field, .. } if field == "to"
        ));
        same.to = id("in_transit");
        assert_eq!(
            rejected(&mut state, Command::CreateTransfer(same), T1),
            DomainError::NotAFulfillmentCenter {
                field: "to".into(),
                location: id("in_transit")
            }
        );
        assert!(matches!(
            rejected(&mut state, create(&[("MUG", 1), ("MUG", 2)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[1].sku"
        ));
        assert!(matches!(
            rejected(&mut state, create(&[("DUO", 1)]), T1),
            DomainError::Invalid { field, .. } if field == "lines[0].sku"
        ));
        assert_eq!(
            rejected(&mut state, create(&[("MUG", 1), ("LID", 0)]), T1),
            DomainError::NonPositiveQuantity {
                field: "lines[1].quantity".into(),
                value: 0
            }
        );
        assert_eq!(
            rejected(&mut state, create(&[("MUG", 11)]), T1),
            DomainError::InsufficientStock {
                sku: id("MUG"),
                location: id("FC-EAST"),
                requested: 11,
                available: 10
            }
        );
        ok(&mut state, create(&[("MUG", 6)]), T1);
        ok(&mut state, ship(), T1);
        assert_eq!(
            rejected(&mut state, receive(&[(0, 4), (0, 3)]), T2),
            DomainError::ExceedsOutstanding {
                field: "lines[1].quantity".into(),
                requested: 7,
                outstanding: 6
            }
        );
        assert!(matches!(
            rejected(&mut state, receive(&[(1, 1)]), T2),
            DomainError::Invalid { field, .. } if field == "lines[0].line"
        ));
    }
}
