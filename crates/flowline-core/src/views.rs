//! Inventory positions: views of the stock ledger and the open documents, never stored.
//!
//! - **on hand**: the ledger balance at the location;
//! - **reserved**: units held for open sales orders, transfers and work orders;
//! - **available**: on hand minus reserved — what a new order can take;
//! - **in transit**: units shipped by a transfer towards the location and not yet received;
//! - **on order**: units on open purchase orders for the location not yet received.

use crate::documents::purchase_order::PurchaseOrderStatus;
use crate::effects::is_valued;
use crate::id::{LocationId, Sku};
use crate::state::State;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// The position of one item at one fulfillment center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Position {
    /// The item.
    pub sku: Sku,
    /// The fulfillment center.
    pub location: LocationId,
    /// On hand.
    pub on_hand: i64,
    /// Reserved for open documents.
    pub reserved: i64,
    /// On hand minus reserved.
    pub available: i64,
    /// Inbound on transfers.
    pub in_transit: i64,
    /// Inbound on purchase orders.
    pub on_order: i64,
    /// Value at cost of what is on hand, base-currency minor units.
    pub value_minor: i64,
}

/// Every position with anything on hand, reserved, in transit or on order, sorted by item then
/// location. Optionally filtered by item and location.
pub fn positions(state: &State, sku: Option<&Sku>, location: Option<&LocationId>) -> Vec<Position> {
    let wanted = |s: &Sku, l: &LocationId| {
        state.locations.contains_key(l)
            && sku.is_none_or(|x| x == s)
            && location.is_none_or(|x| x == l)
    };
    let mut table: FxHashMap<(Sku, LocationId), Position> = FxHashMap::default();
    for ((s, l), balance) in state.stock.iter() {
        if is_valued(l)
            && let Some(position) = entry(&mut table, &wanted, s, l)
        {
            position.on_hand = balance.on_hand;
            position.reserved = balance.reserved;
            position.available = balance.available();
            position.value_minor = balance.value_minor;
        }
    }
    for transfer in state.transfers.values() {
        // Shipped, not yet received or written off; zero before shipping and once closed.
        for line in transfer.lines.iter().filter(|l| l.in_transit() > 0) {
            if let Some(position) = entry(&mut table, &wanted, &line.sku, &transfer.to) {
                position.in_transit += line.in_transit();
            }
        }
    }
    let open = |status: PurchaseOrderStatus| {
        matches!(
            status,
            PurchaseOrderStatus::Placed | PurchaseOrderStatus::Confirmed
        )
    };
    for order in state.purchase_orders.values().filter(|o| open(o.status)) {
        for line in order.lines.iter().filter(|l| l.outstanding() > 0) {
            if let Some(position) = entry(&mut table, &wanted, &line.line.sku, &order.location) {
                position.on_order += line.outstanding();
            }
        }
    }
    let mut rows: Vec<Position> = table
        .into_values()
        .filter(|p| p.on_hand != 0 || p.reserved != 0 || p.in_transit != 0 || p.on_order != 0)
        .collect();
    rows.sort_by(|a, b| (&a.sku, &a.location).cmp(&(&b.sku, &b.location)));
    rows
}

fn entry<'t>(
    table: &'t mut FxHashMap<(Sku, LocationId), Position>,
    wanted: &impl Fn(&Sku, &LocationId) -> bool,
    sku: &Sku,
    location: &LocationId,
) -> Option<&'t mut Position> {
    if !wanted(sku, location) {
        return None;
    }
    Some(
        table
            .entry((sku.clone(), location.clone()))
            .or_insert_with(|| Position {
                sku: sku.clone(),
                location: location.clone(),
                on_hand: 0,
                reserved: 0,
                available: 0,
                in_transit: 0,
                on_order: 0,
                value_minor: 0,
            }),
    )
}
