//! Inventory positions are views of the ledger and the open documents.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::*;
use flowline_core::Command;
use flowline_core::documents::purchase_order::{
    PlacePurchaseOrder, PurchaseLine, ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::documents::sales_order::{AllocateSalesOrder, ShortagePolicy};
use flowline_core::documents::transfer::{
    CreateTransfer, ReceiveTransfer, ShipTransfer, TransferLineInput,
};
use flowline_core::views::{Position, positions};

fn position(
    sku: &str,
    location: &str,
    on_hand: i64,
    reserved: i64,
    in_transit: i64,
    on_order: i64,
    value_minor: i64,
) -> Position {
    Position {
        sku: id(sku),
        location: id(location),
        on_hand,
        reserved,
        available: on_hand - reserved,
        in_transit,
        on_order,
        value_minor,
    }
}

/// A PO for 15 MUG at FC-EAST receives 10 (5 still on order); an order reserves 3; a transfer
/// of 4 to FC-WEST ships and 1 arrives (3 in transit). Worked by hand:
/// FC-EAST: on hand 10 − 4 = 6, reserved 3, available 3, on order 5, value 6 × 5.00 = 30.00;
/// FC-WEST: on hand 1, in transit 3, value 5.00.
#[test]
fn positions_combine_the_ledger_with_open_orders_and_transfers() {
    let mut t = Tenant::new();
    t.ok(Command::PlacePurchaseOrder(PlacePurchaseOrder {
        purchase_order: id("PO-1"),
        supplier: id("SUP-1"),
        location: id("FC-EAST"),
        currency: usd_currency(),
        exchange_rate: None,
        lines: vec![PurchaseLine {
            sku: id("MUG"),
            quantity: 15,
            unit_price_minor: 500,
        }],
        requested_on: None,
    }));
    t.ok(Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
        purchase_order: id("PO-1"),
        receipt: id("R-1"),
        lines: vec![ReceiptLine {
            line: 0,
            accepted: 10,
            rejected: 0,
            reject_reason: None,
        }],
        arrived_at: None,
    }));
    t.ok(Command::PlaceSalesOrder(place(
        "SO-1",
        vec![line("MUG", 3, 1200, 0)],
    )));
    t.ok(Command::AllocateSalesOrder(AllocateSalesOrder {
        order: id("SO-1"),
        shortage: ShortagePolicy::Reject,
        lines: None,
    }));
    t.ok(Command::CreateTransfer(CreateTransfer {
        transfer: id("T-1"),
        from: id("FC-EAST"),
        to: id("FC-WEST"),
        lines: vec![TransferLineInput {
            sku: id("MUG"),
            quantity: 4,
        }],
    }));
    t.ok(Command::ShipTransfer(ShipTransfer {
        transfer: id("T-1"),
        carrier: None,
        tracking: None,
    }));
    t.ok(Command::ReceiveTransfer(ReceiveTransfer {
        transfer: id("T-1"),
        lines: vec![lq(0, 1)],
    }));

    assert_eq!(
        positions(&t.state, None, None),
        vec![
            position("MUG", "FC-EAST", 6, 3, 0, 5, 3000),
            position("MUG", "FC-WEST", 1, 0, 3, 0, 500)
        ]
    );
    assert_eq!(
        positions(&t.state, Some(&id("MUG")), Some(&id("FC-WEST"))),
        vec![position("MUG", "FC-WEST", 1, 0, 3, 0, 500)]
    );
    assert!(positions(&t.state, Some(&id("TEE")), None).is_empty());
}
