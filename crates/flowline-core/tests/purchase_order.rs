//! The purchase order's life cycle, through the public `decide`/`apply` API: placement and its
//! validations, confirmation, receipts with quality rejects, foreign-currency receipts, bills
//! with price variance, payments, cancellation and closing short — and every illegal
//! transition along the way.
//!
//! Expected values are worked out by hand in the comment above each assertion.

// Helpers outside `#[test]` functions are test code too: a panic is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tenant, assert_invalid, eur, eur_currency, id, illegal, postings, usd, usd_currency};
use flowline_core::documents::purchase_order::{
    BillPurchaseOrder, CancelPurchaseOrder, ClosePurchaseOrder, ConfirmPurchaseOrder,
    PayPurchaseOrder, PlacePurchaseOrder, PurchaseLine, PurchaseOrderEvent, PurchaseOrderStatus,
    ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::error::DocumentKind;
use flowline_core::ledger::Account;
use flowline_core::money::{Currency, ExchangeRate, Money};
use flowline_core::{Command, DomainError, Event};

const PO: DocumentKind = DocumentKind::PurchaseOrder;

fn purchase_line(sku: &str, quantity: i64, unit_price_minor: i64) -> PurchaseLine {
    PurchaseLine {
        sku: id(sku),
        quantity,
        unit_price_minor,
    }
}

/// A USD purchase order from `SUP-1` into FC-EAST.
fn place(purchase_order: &str, lines: Vec<PurchaseLine>) -> PlacePurchaseOrder {
    PlacePurchaseOrder {
        purchase_order: id(purchase_order),
        supplier: id("SUP-1"),
        location: id("FC-EAST"),
        currency: usd_currency(),
        exchange_rate: None,
        lines,
        requested_on: Some("2025-03-20".parse().unwrap()),
    }
}

/// A EUR purchase order from `SUP-EU` into FC-EAST at 1 EUR = 1.0842 USD.
fn place_eur(purchase_order: &str, lines: Vec<PurchaseLine>) -> PlacePurchaseOrder {
    PlacePurchaseOrder {
        supplier: id("SUP-EU"),
        currency: eur_currency(),
        exchange_rate: Some(ExchangeRate {
            rate_micro: 1_084_200,
        }),
        ..place(purchase_order, lines)
    }
}

fn placed(command: PlacePurchaseOrder) -> Command {
    Command::PlacePurchaseOrder(command)
}

fn confirm(purchase_order: &str) -> Command {
    Command::ConfirmPurchaseOrder(ConfirmPurchaseOrder {
        purchase_order: id(purchase_order),
        committed_on: "2025-03-18".parse().unwrap(),
    })
}

/// One receipt line: (line, accepted, rejected); rejected units get the reason `damaged`.
fn receive(purchase_order: &str, receipt: &str, lines: &[(usize, i64, i64)]) -> Command {
    Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
        purchase_order: id(purchase_order),
        receipt: id(receipt),
        lines: lines
            .iter()
            .map(|(line, accepted, rejected)| ReceiptLine {
                line: *line,
                accepted: *accepted,
                rejected: *rejected,
                reject_reason: (*rejected > 0).then(|| id("damaged")),
            })
            .collect(),
        arrived_at: None,
    })
}

fn bill(purchase_order: &str, bill: &str, amount: Money) -> Command {
    Command::BillPurchaseOrder(BillPurchaseOrder {
        purchase_order: id(purchase_order),
        bill: id(bill),
        amount,
        due_on: "2025-04-30".parse().unwrap(),
    })
}

fn pay(purchase_order: &str, payment: &str, amount: Money) -> Command {
    Command::PayPurchaseOrder(PayPurchaseOrder {
        purchase_order: id(purchase_order),
        payment: id(payment),
        amount,
    })
}

fn cancel(purchase_order: &str) -> Command {
    Command::CancelPurchaseOrder(CancelPurchaseOrder {
        purchase_order: id(purchase_order),
        reason: id("no_longer_needed"),
    })
}

fn close(purchase_order: &str) -> Command {
    Command::ClosePurchaseOrder(ClosePurchaseOrder {
        purchase_order: id(purchase_order),
        reason: id("supplier_short"),
    })
}

fn on_order(t: &Tenant, purchase_order: &str, sku: &str) -> i64 {
    t.po(purchase_order).on_order(&id(sku))
}

fn money(t: &Tenant, account: Account, currency: Currency) -> i64 {
    t.money(account, currency)
}

/// PO-1: 10 MUG at 5.00 USD into FC-EAST.
fn mug_po() -> Tenant {
    let mut t = Tenant::new();
    t.ok(placed(place("PO-1", vec![purchase_line("MUG", 10, 500)])));
    t
}

// ---------------------------------------------------------------------------------------------
// Placement
// ---------------------------------------------------------------------------------------------

#[test]
fn placing_a_purchase_order_records_it_as_placed_with_its_quantities_on_order() {
    let mut t = Tenant::new();
    let events = t.ok(placed(place(
        "PO-1",
        vec![purchase_line("MUG", 10, 500), purchase_line("TEE", 20, 400)],
    )));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].type_name(), "PurchaseOrderPlaced");
    assert_eq!(events[0].stream(), "purchase_order/PO-1");
    // Placing moves no stock and posts nothing.
    assert!(events[0].effects().is_none());
    let po = t.po("PO-1");
    assert_eq!(po.state_name(), "placed");
    assert_eq!(po.status, PurchaseOrderStatus::Placed);
    // A base-currency order converts at 1.
    assert_eq!(po.exchange_rate, ExchangeRate::ONE);
    assert_eq!(on_order(&t, "PO-1", "MUG"), 10);
    assert_eq!(on_order(&t, "PO-1", "TEE"), 20);
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 0);
    assert_eq!(t.usd_balance(Account::GoodsReceivedNotInvoiced), 0);
}

#[test]
fn placing_in_a_currency_other_than_the_suppliers_is_a_currency_mismatch() {
    let mut t = Tenant::new();
    let error = t.reject(placed(PlacePurchaseOrder {
        supplier: id("SUP-EU"),
        ..place("PO-1", vec![purchase_line("MUG", 10, 500)])
    }));
    assert_eq!(
        error,
        DomainError::CurrencyMismatch {
            field: "currency".into(),
            expected: eur_currency(),
            actual: usd_currency(),
        }
    );
    let error = t.reject(placed(PlacePurchaseOrder {
        currency: eur_currency(),
        exchange_rate: Some(ExchangeRate {
            rate_micro: 1_084_200,
        }),
        ..place("PO-1", vec![purchase_line("MUG", 10, 500)])
    }));
    assert_eq!(
        error,
        DomainError::CurrencyMismatch {
            field: "currency".into(),
            expected: usd_currency(),
            actual: eur_currency(),
        }
    );
    assert!(t.state.purchase_orders.is_empty());
}

#[test]
fn a_foreign_currency_order_without_an_exchange_rate_is_rejected() {
    let mut t = Tenant::new();
    let error = t.reject(placed(PlacePurchaseOrder {
        exchange_rate: None,
        ..place_eur("PO-1", vec![purchase_line("MUG", 10, 700)])
    }));
    assert_invalid(&error, "exchange_rate");
    let error = t.reject(placed(PlacePurchaseOrder {
        exchange_rate: Some(ExchangeRate { rate_micro: 0 }),
        ..place_eur("PO-1", vec![purchase_line("MUG", 10, 700)])
    }));
    assert_eq!(
        error,
        DomainError::NonPositiveQuantity {
            field: "exchange_rate.rate_micro".into(),
            value: 0,
        }
    );
    // A base-currency order must not carry a rate other than 1.
    let error = t.reject(placed(PlacePurchaseOrder {
        exchange_rate: Some(ExchangeRate {
            rate_micro: 1_100_000,
        }),
        ..place("PO-1", vec![purchase_line("MUG", 10, 500)])
    }));
    assert_invalid(&error, "exchange_rate");
    assert!(t.state.purchase_orders.is_empty());
}

#[test]
fn a_line_below_the_suppliers_minimum_order_quantity_is_rejected() {
    let mut t = Tenant::new();
    // SUP-EU's minimum is 10 per line.
    let error = t.reject(placed(place_eur(
        "PO-1",
        vec![purchase_line("MUG", 9, 700)],
    )));
    assert_invalid(&error, "lines[0].quantity");
    let error = t.reject(placed(place_eur(
        "PO-1",
        vec![purchase_line("MUG", 10, 700), purchase_line("TEE", 5, 415)],
    )));
    assert_invalid(&error, "lines[1].quantity");
    // Exactly the minimum is fine.
    t.ok(placed(place_eur(
        "PO-1",
        vec![purchase_line("MUG", 10, 700)],
    )));
}

#[test]
fn an_unknown_supplier_is_rejected() {
    let mut t = Tenant::new();
    let error = t.reject(placed(PlacePurchaseOrder {
        supplier: id("SUP-X"),
        ..place("PO-1", vec![purchase_line("MUG", 10, 500)])
    }));
    assert_eq!(
        error,
        DomainError::NotFound {
            kind: DocumentKind::Supplier,
            id: "SUP-X".into(),
            field: "supplier".into(),
        }
    );
}

#[test]
fn a_bundle_sku_cannot_be_purchased() {
    let mut t = Tenant::new();
    // GIFT is a bundle: never stocked, so never bought.
    let error = t.reject(placed(place("PO-1", vec![purchase_line("GIFT", 5, 1500)])));
    assert_invalid(&error, "lines[0].sku");
    let error = t.reject(placed(place(
        "PO-1",
        vec![purchase_line("MUG", 5, 500), purchase_line("NOPE", 5, 100)],
    )));
    assert_eq!(
        error,
        DomainError::NotFound {
            kind: DocumentKind::Item,
            id: "NOPE".into(),
            field: "lines[1].sku".into(),
        }
    );
    assert!(t.state.purchase_orders.is_empty());
}

#[test]
fn placing_with_bad_lines_a_non_center_or_a_reused_id_is_rejected() {
    let mut t = Tenant::new();
    assert_invalid(&t.reject(placed(place("PO-1", vec![]))), "lines");
    assert_eq!(
        t.reject(placed(place("PO-1", vec![purchase_line("MUG", 0, 500)]))),
        DomainError::NonPositiveQuantity {
            field: "lines[0].quantity".into(),
            value: 0,
        }
    );
    assert_invalid(
        &t.reject(placed(place("PO-1", vec![purchase_line("MUG", 5, -1)]))),
        "lines[0].unit_price_minor",
    );
    assert_eq!(
        t.reject(placed(PlacePurchaseOrder {
            location: id("supplier"),
            ..place("PO-1", vec![purchase_line("MUG", 5, 500)])
        })),
        DomainError::NotAFulfillmentCenter {
            field: "location".into(),
            location: id("supplier"),
        }
    );
    assert_eq!(
        t.reject(placed(PlacePurchaseOrder {
            location: id("FC-NORTH"),
            ..place("PO-1", vec![purchase_line("MUG", 5, 500)])
        })),
        DomainError::NotFound {
            kind: DocumentKind::Location,
            id: "FC-NORTH".into(),
            field: "location".into(),
        }
    );
    t.ok(placed(place("PO-1", vec![purchase_line("MUG", 5, 500)])));
    assert_eq!(
        t.reject(placed(place("PO-1", vec![purchase_line("TEE", 5, 400)]))),
        DomainError::AlreadyExists {
            kind: PO,
            id: "PO-1".into(),
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Confirmation
// ---------------------------------------------------------------------------------------------

#[test]
fn confirming_records_the_commit_date_and_confirming_twice_is_an_illegal_transition() {
    let mut t = mug_po();
    t.ok(confirm("PO-1"));
    let po = t.po("PO-1");
    assert_eq!(po.state_name(), "confirmed");
    assert_eq!(po.committed_on, Some("2025-03-18".parse().unwrap()));
    assert_eq!(
        t.reject(confirm("PO-1")),
        illegal(PO, "PO-1", "confirmed", "confirm")
    );
    assert_eq!(
        t.reject(confirm("PO-404")),
        DomainError::NotFound {
            kind: PO,
            id: "PO-404".into(),
            field: "purchase_order".into(),
        }
    );
    // An unconfirmed order that has started arriving cannot be confirmed any more.
    t.ok(placed(place("PO-2", vec![purchase_line("MUG", 10, 500)])));
    t.ok(receive("PO-2", "R-1", &[(0, 3, 0)]));
    assert_eq!(
        t.reject(confirm("PO-2")),
        illegal(PO, "PO-2", "partially_received", "confirm")
    );
}

// ---------------------------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------------------------

#[test]
fn receiving_in_several_receipts_keeps_rejected_units_out_of_stock() {
    let mut t = mug_po();
    t.ok(confirm("PO-1"));
    let events = t.ok(receive("PO-1", "R-1", &[(0, 4, 1)]));
    // 4 accepted at 5.00 = 20.00 = 2000 enter FC-EAST; the rejected unit does not.
    match &events[..] {
        [
            Event::PurchaseOrder(PurchaseOrderEvent::Received {
                value_minor,
                effects,
                ..
            }),
        ] => {
            assert_eq!(*value_minor, 2000);
            assert_eq!(effects.moves.len(), 1);
            assert_eq!(effects.moves[0].from, id("supplier"));
            assert_eq!(effects.moves[0].to, id("FC-EAST"));
            assert_eq!(effects.moves[0].quantity, 4);
            assert_eq!(effects.moves[0].value_minor, 2000);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Inventory, 2000, "USD".into()),
            (Account::GoodsReceivedNotInvoiced, -2000, "USD".into()),
        ]
    );
    let east = t.balance("MUG", "FC-EAST");
    assert_eq!((east.on_hand, east.value_minor), (4, 2000));
    // 10 − 4 accepted − 1 rejected = 5 still expected.
    assert_eq!(on_order(&t, "PO-1", "MUG"), 5);
    assert_eq!(t.po("PO-1").state_name(), "partially_received");

    let arrived: jiff::Timestamp = "2025-03-10T13:00:00Z".parse().unwrap();
    let events = t.ok(Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
        arrived_at: Some(arrived),
        ..match receive("PO-1", "R-2", &[(0, 3, 2)]) {
            Command::ReceivePurchaseOrder(c) => c,
            _ => unreachable!(),
        }
    }));
    match &events[..] {
        [
            Event::PurchaseOrder(PurchaseOrderEvent::Received {
                arrived_at,
                value_minor,
                ..
            }),
        ] => {
            assert_eq!(*arrived_at, arrived);
            // 3 × 5.00.
            assert_eq!(*value_minor, 1500);
        }
        other => panic!("{other:?}"),
    }
    // 4 + 3 = 7 in stock worth 3500; 1 + 2 = 3 rejected never entered it.
    let east = t.balance("MUG", "FC-EAST");
    assert_eq!((east.on_hand, east.value_minor), (7, 3500));
    assert_eq!(t.balance("MUG", "supplier").on_hand, -7);
    let po = t.po("PO-1");
    assert_eq!((po.lines[0].accepted, po.lines[0].rejected), (7, 3));
    assert_eq!(po.receipts, vec![id("R-1"), id("R-2")]);
    // 7 + 3 = 10: nothing more expected.
    assert_eq!(on_order(&t, "PO-1", "MUG"), 0);
    assert_eq!(po.state_name(), "received");
    assert_eq!(t.usd_balance(Account::Inventory), 3500);
    assert_eq!(t.usd_balance(Account::GoodsReceivedNotInvoiced), -3500);
}

#[test]
fn rejecting_units_without_a_reason_and_other_malformed_receipts_are_refused() {
    let mut t = mug_po();
    let error = t.reject(Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
        purchase_order: id("PO-1"),
        receipt: id("R-1"),
        lines: vec![ReceiptLine {
            line: 0,
            accepted: 4,
            rejected: 1,
            reject_reason: None,
        }],
        arrived_at: None,
    }));
    assert_invalid(&error, "lines[0].reject_reason");
    assert_eq!(
        t.reject(receive("PO-1", "R-1", &[(0, 0, 0)])),
        DomainError::NonPositiveQuantity {
            field: "lines[0].accepted".into(),
            value: 0,
        }
    );
    assert_invalid(
        &t.reject(receive("PO-1", "R-1", &[(0, -1, 2)])),
        "lines[0].accepted",
    );
    assert_invalid(
        &t.reject(receive("PO-1", "R-1", &[(0, 2, -1)])),
        "lines[0].rejected",
    );
    assert_invalid(
        &t.reject(receive("PO-1", "R-1", &[(1, 1, 0)])),
        "lines[0].line",
    );
    assert_invalid(&t.reject(receive("PO-1", "R-1", &[])), "lines");
    t.ok(receive("PO-1", "R-1", &[(0, 1, 0)]));
    assert_eq!(
        t.reject(receive("PO-1", "R-1", &[(0, 1, 0)])),
        DomainError::AlreadyExists {
            kind: DocumentKind::Receipt,
            id: "R-1".into(),
        }
    );
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 1);
}

#[test]
fn receiving_more_than_is_outstanding_is_rejected_and_appends_nothing() {
    let mut t = mug_po();
    t.ok(receive("PO-1", "R-1", &[(0, 6, 0)]));
    // 10 − 6 = 4 outstanding.
    assert_eq!(
        t.reject(receive("PO-1", "R-2", &[(0, 5, 0)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].accepted".into(),
            requested: 5,
            outstanding: 4,
        }
    );
    // Rejected units count against what is outstanding too: 3 + 2 = 5.
    assert_eq!(
        t.reject(receive("PO-1", "R-2", &[(0, 3, 2)])),
        DomainError::ExceedsOutstanding {
            field: "lines[0].accepted".into(),
            requested: 5,
            outstanding: 4,
        }
    );
    // Two receipt lines for the same PO line: 3 + 2 = 5, the second is named.
    assert_eq!(
        t.reject(receive("PO-1", "R-2", &[(0, 3, 0), (0, 2, 0)])),
        DomainError::ExceedsOutstanding {
            field: "lines[1].accepted".into(),
            requested: 5,
            outstanding: 4,
        }
    );
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 6);
    assert_eq!(on_order(&t, "PO-1", "MUG"), 4);
}

#[test]
fn a_euro_receipt_values_inventory_in_dollars_and_the_accrual_in_euros() {
    let mut t = Tenant::new();
    t.ok(placed(place_eur(
        "PO-EU",
        vec![purchase_line("MUG", 10, 700), purchase_line("TEE", 12, 415)],
    )));
    let events = t.ok(receive("PO-EU", "R-1", &[(0, 10, 0), (1, 12, 0)]));
    // MUG: 10 × 7.00 EUR = 70.00 EUR at 1.0842 = 75.894 → 75.89 USD = 7589 minor.
    // TEE: 12 × 4.15 EUR = 49.80 EUR at 1.0842 = 53.99316 → 53.99 USD = 5399 minor.
    // Each line is converted on its own: 7589 + 5399 = 12988 USD minor
    // (converting the 119.80 EUR total would give 129.88716 → 12989: not what the moves hold).
    // EUR: 7000 + 4980 = 11980 minor.
    assert_eq!(t.balance("MUG", "FC-EAST").value_minor, 7589);
    assert_eq!(t.balance("TEE", "FC-EAST").value_minor, 5399);
    match &events[..] {
        [Event::PurchaseOrder(PurchaseOrderEvent::Received { value_minor, .. })] => {
            assert_eq!(*value_minor, 11980);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Inventory, 12988, "USD".into()),
            (Account::CurrencyExchange, -12988, "USD".into()),
            (Account::CurrencyExchange, 11980, "EUR".into()),
            (Account::GoodsReceivedNotInvoiced, -11980, "EUR".into()),
        ]
    );
    // Each currency balances on its own.
    assert!(events[0].effects().unwrap().journal.imbalances().is_empty());
    assert_eq!(t.usd_balance(Account::Inventory), 12988);
    assert_eq!(t.usd_balance(Account::CurrencyExchange), -12988);
    assert_eq!(t.usd_balance(Account::GoodsReceivedNotInvoiced), 0);
    assert_eq!(money(&t, Account::CurrencyExchange, eur_currency()), 11980);
    assert_eq!(
        money(&t, Account::GoodsReceivedNotInvoiced, eur_currency()),
        -11980
    );
    assert_eq!(money(&t, Account::Inventory, eur_currency()), 0);

    // The bill at the PO price clears the EUR accrual with no variance; paying it clears EUR
    // payables.
    let events = t.ok(bill("PO-EU", "B-1", eur(11980)));
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::GoodsReceivedNotInvoiced, 11980, "EUR".into()),
            (Account::Payables, -11980, "EUR".into()),
        ]
    );
    t.ok(pay("PO-EU", "PAY-1", eur(11980)));
    assert_eq!(
        money(&t, Account::GoodsReceivedNotInvoiced, eur_currency()),
        0
    );
    assert_eq!(money(&t, Account::Payables, eur_currency()), 0);
    assert_eq!(money(&t, Account::Cash, eur_currency()), -11980);
    assert_eq!(money(&t, Account::PurchasePriceVariance, eur_currency()), 0);
}

// ---------------------------------------------------------------------------------------------
// Bills and payments
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bill_that_differs_from_the_value_received_posts_purchase_price_variance() {
    let mut t = mug_po();
    t.ok(receive("PO-1", "R-1", &[(0, 10, 0)]));
    let events = t.ok(bill("PO-1", "B-1", usd(5150)));
    // Matched: 10 × 5.00 = 5000; billed 51.50: variance 5150 − 5000 = 150 (a debit).
    match &events[..] {
        [
            Event::PurchaseOrder(PurchaseOrderEvent::Billed {
                amount_minor,
                matched_minor,
                lines,
                ..
            }),
        ] => {
            assert_eq!((*amount_minor, *matched_minor), (5150, 5000));
            assert_eq!(lines, &vec![(0, 10)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::GoodsReceivedNotInvoiced, 5000, "USD".into()),
            (Account::Payables, -5000, "USD".into()),
            (Account::PurchasePriceVariance, 150, "USD".into()),
            (Account::Payables, -150, "USD".into()),
        ]
    );
    assert_eq!(t.usd_balance(Account::GoodsReceivedNotInvoiced), 0);
    assert_eq!(t.usd_balance(Account::Payables), -5150);
    assert_eq!(t.usd_balance(Account::PurchasePriceVariance), 150);
    // Inventory stays at the value received.
    assert_eq!(t.usd_balance(Account::Inventory), 5000);

    // A bill below the value received: 10 TEE at 4.00 = 4000, billed 39.00: variance −100.
    t.ok(placed(place("PO-2", vec![purchase_line("TEE", 10, 400)])));
    t.ok(receive("PO-2", "R-1", &[(0, 10, 0)]));
    let events = t.ok(bill("PO-2", "B-1", usd(3900)));
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::GoodsReceivedNotInvoiced, 4000, "USD".into()),
            (Account::Payables, -4000, "USD".into()),
            (Account::PurchasePriceVariance, -100, "USD".into()),
            (Account::Payables, 100, "USD".into()),
        ]
    );
    // 150 − 100 = 50; payables −5150 − 3900 = −9050.
    assert_eq!(t.usd_balance(Account::PurchasePriceVariance), 50);
    assert_eq!(t.usd_balance(Account::Payables), -9050);
}

#[test]
fn billing_partial_receipts_matches_only_what_is_received_and_unbilled() {
    let mut t = mug_po();
    t.ok(receive("PO-1", "R-1", &[(0, 4, 0)]));
    let events = t.ok(bill("PO-1", "B-1", usd(2000)));
    match &events[..] {
        [
            Event::PurchaseOrder(PurchaseOrderEvent::Billed {
                matched_minor,
                lines,
                ..
            }),
        ] => {
            // 4 × 5.00.
            assert_eq!(*matched_minor, 2000);
            assert_eq!(lines, &vec![(0, 4)]);
        }
        other => panic!("{other:?}"),
    }
    t.ok(receive("PO-1", "R-2", &[(0, 6, 0)]));
    let events = t.ok(bill("PO-1", "B-2", usd(3000)));
    match &events[..] {
        [
            Event::PurchaseOrder(PurchaseOrderEvent::Billed {
                matched_minor,
                lines,
                ..
            }),
        ] => {
            // The 6 not yet billed: 6 × 5.00.
            assert_eq!(*matched_minor, 3000);
            assert_eq!(lines, &vec![(0, 6)]);
        }
        other => panic!("{other:?}"),
    }
    let po = t.po("PO-1");
    assert_eq!(po.lines[0].billed, 10);
    assert_eq!(po.billed_minor, 5000);
    assert_eq!(t.usd_balance(Account::GoodsReceivedNotInvoiced), 0);
    assert_eq!(t.usd_balance(Account::PurchasePriceVariance), 0);
}

#[test]
fn billing_with_nothing_received_is_an_illegal_transition() {
    let mut t = mug_po();
    assert_eq!(
        t.reject(bill("PO-1", "B-1", usd(5000))),
        illegal(PO, "PO-1", "placed", "bill (nothing received is unbilled)")
    );
    t.ok(confirm("PO-1"));
    assert_eq!(
        t.reject(bill("PO-1", "B-1", usd(5000))),
        illegal(
            PO,
            "PO-1",
            "confirmed",
            "bill (nothing received is unbilled)"
        )
    );
    // Only rejected units arrived: still nothing to bill.
    t.ok(receive("PO-1", "R-1", &[(0, 0, 2)]));
    assert_eq!(
        t.reject(bill("PO-1", "B-1", usd(1000))),
        illegal(
            PO,
            "PO-1",
            "partially_received",
            "bill (nothing received is unbilled)"
        )
    );
    t.ok(receive("PO-1", "R-2", &[(0, 8, 0)]));
    assert_eq!(
        t.reject(bill("PO-1", "B-1", eur(4000))),
        DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: usd_currency(),
            actual: eur_currency(),
        }
    );
    t.ok(bill("PO-1", "B-1", usd(4000)));
    assert_eq!(
        t.reject(bill("PO-1", "B-2", usd(1))),
        illegal(
            PO,
            "PO-1",
            "received",
            "bill (nothing received is unbilled)"
        )
    );
}

#[test]
fn paying_more_than_was_billed_is_rejected_as_exceeding_the_outstanding_amount() {
    let mut t = mug_po();
    // Nothing billed yet: nothing due.
    assert_eq!(
        t.reject(pay("PO-1", "PAY-1", usd(100))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 100,
            outstanding: 0,
        }
    );
    t.ok(receive("PO-1", "R-1", &[(0, 10, 0)]));
    t.ok(bill("PO-1", "B-1", usd(5000)));
    assert_eq!(
        t.reject(pay("PO-1", "PAY-1", usd(5001))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 5001,
            outstanding: 5000,
        }
    );
    assert_eq!(
        t.reject(pay("PO-1", "PAY-1", eur(5000))),
        DomainError::CurrencyMismatch {
            field: "amount".into(),
            expected: usd_currency(),
            actual: eur_currency(),
        }
    );
    let events = t.ok(pay("PO-1", "PAY-1", usd(3000)));
    assert_eq!(
        postings(&events[0]),
        vec![
            (Account::Payables, 3000, "USD".into()),
            (Account::Cash, -3000, "USD".into()),
        ]
    );
    // 5000 − 3000 = 2000 left.
    assert_eq!(
        t.reject(pay("PO-1", "PAY-2", usd(2001))),
        DomainError::ExceedsOutstanding {
            field: "amount".into(),
            requested: 2001,
            outstanding: 2000,
        }
    );
    t.ok(pay("PO-1", "PAY-2", usd(2000)));
    assert_eq!(t.po("PO-1").paid_minor, 5000);
    assert_eq!(t.usd_balance(Account::Payables), 0);
    assert_eq!(t.usd_balance(Account::Cash), -5000);
}

// ---------------------------------------------------------------------------------------------
// Cancel and close
// ---------------------------------------------------------------------------------------------

#[test]
fn cancelling_after_a_receipt_is_an_illegal_transition() {
    let mut t = mug_po();
    t.ok(receive("PO-1", "R-1", &[(0, 1, 0)]));
    assert_eq!(
        t.reject(cancel("PO-1")),
        illegal(PO, "PO-1", "partially_received", "cancel")
    );
    // A receipt of rejected units only is a receipt too.
    t.ok(placed(place("PO-2", vec![purchase_line("MUG", 10, 500)])));
    t.ok(receive("PO-2", "R-1", &[(0, 0, 1)]));
    assert_eq!(
        t.reject(cancel("PO-2")),
        illegal(PO, "PO-2", "partially_received", "cancel")
    );
}

#[test]
fn cancelling_an_untouched_order_takes_it_off_order_and_ends_its_life_cycle() {
    let mut t = mug_po();
    t.ok(confirm("PO-1"));
    t.ok(cancel("PO-1"));
    let po = t.po("PO-1");
    assert_eq!(po.status, PurchaseOrderStatus::Cancelled);
    assert_eq!(po.state_name(), "cancelled");
    assert_eq!(on_order(&t, "PO-1", "MUG"), 0);
    let cancelled = |attempted| illegal(PO, "PO-1", "cancelled", attempted);
    assert_eq!(t.reject(cancel("PO-1")), cancelled("cancel"));
    assert_eq!(t.reject(confirm("PO-1")), cancelled("confirm"));
    assert_eq!(
        t.reject(receive("PO-1", "R-1", &[(0, 1, 0)])),
        cancelled("receive")
    );
    assert_eq!(t.reject(close("PO-1")), cancelled("close"));
    assert_eq!(t.reject(bill("PO-1", "B-1", usd(500))), cancelled("bill"));
}

#[test]
fn closing_short_removes_the_remainder_from_on_order() {
    let mut t = mug_po();
    t.ok(receive("PO-1", "R-1", &[(0, 4, 0)]));
    // 10 − 4 = 6 still expected before closing.
    assert_eq!(on_order(&t, "PO-1", "MUG"), 6);
    t.ok(close("PO-1"));
    let po = t.po("PO-1");
    assert_eq!(po.status, PurchaseOrderStatus::Closed);
    assert_eq!(po.state_name(), "closed");
    assert_eq!(on_order(&t, "PO-1", "MUG"), 0);
    // The 4 received stay in stock.
    assert_eq!(t.balance("MUG", "FC-EAST").on_hand, 4);

    let closed = |attempted| illegal(PO, "PO-1", "closed", attempted);
    assert_eq!(
        t.reject(receive("PO-1", "R-2", &[(0, 1, 0)])),
        closed("receive")
    );
    assert_eq!(t.reject(close("PO-1")), closed("close"));
    assert_eq!(t.reject(cancel("PO-1")), closed("cancel"));
    assert_eq!(t.reject(confirm("PO-1")), closed("confirm"));
    // What was received can still be billed: 4 × 5.00.
    let events = t.ok(bill("PO-1", "B-1", usd(2000)));
    match &events[..] {
        [Event::PurchaseOrder(PurchaseOrderEvent::Billed { matched_minor, .. })] => {
            assert_eq!(*matched_minor, 2000);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_fully_received_order_can_neither_receive_nor_close() {
    let mut t = mug_po();
    t.ok(receive("PO-1", "R-1", &[(0, 9, 1)]));
    assert_eq!(t.po("PO-1").state_name(), "received");
    assert_eq!(
        t.reject(receive("PO-1", "R-2", &[(0, 1, 0)])),
        illegal(PO, "PO-1", "received", "receive")
    );
    assert_eq!(
        t.reject(close("PO-1")),
        illegal(PO, "PO-1", "received", "close")
    );
    assert_eq!(
        t.reject(cancel("PO-1")),
        illegal(PO, "PO-1", "received", "cancel")
    );
    assert_eq!(
        t.reject(confirm("PO-1")),
        illegal(PO, "PO-1", "received", "confirm")
    );
}
