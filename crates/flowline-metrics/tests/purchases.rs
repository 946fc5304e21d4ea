//! Supplier money in the fold: a purchase order in another currency is converted at its own
//! rate for as long as money is owed on it, even after its receipt was judged and a sweep has
//! let settled records go.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::{Story, id, ts};
use flowline_core::Command;
use flowline_core::documents::purchase_order::{
    BillPurchaseOrder, ConfirmPurchaseOrder, PayPurchaseOrder, PlacePurchaseOrder, PurchaseLine,
    ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::ledger::ScorProcess;
use flowline_core::money::{Currency, ExchangeRate, Money};
use flowline_core::state::DefineSupplier;
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, balance};
use flowline_metrics::order::Rules;

#[test]
fn a_foreign_purchase_order_paid_after_a_sweep_leaves_nothing_owed() {
    let mut story = Story::new("UTC", &[("MUG", 0)]);
    let eur = Currency::parse("EUR").unwrap();
    story.run(
        Command::DefineSupplier(DefineSupplier {
            supplier: id("S-PT"),
            name: "Ceramics".into(),
            currency: eur,
            lead_time_days: 30,
            minimum_order_quantity: 1,
            payment_terms_days: 60,
            country: "PT".into(),
        }),
        "2025-01-01T00:00:00Z",
    );
    story.run(
        Command::PlacePurchaseOrder(PlacePurchaseOrder {
            purchase_order: id("PO-1"),
            supplier: id("S-PT"),
            location: id("FC-1"),
            currency: eur,
            exchange_rate: Some(ExchangeRate {
                rate_micro: 1_080_000,
            }),
            lines: vec![PurchaseLine {
                sku: id("MUG"),
                quantity: 100,
                unit_price_minor: 500,
            }],
            requested_on: None,
        }),
        "2025-01-02T00:00:00Z",
    );
    story.run(
        Command::ConfirmPurchaseOrder(ConfirmPurchaseOrder {
            purchase_order: id("PO-1"),
            committed_on: "2025-02-01".parse().unwrap(),
        }),
        "2025-01-03T00:00:00Z",
    );
    story.run(
        Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
            purchase_order: id("PO-1"),
            receipt: id("R-1"),
            lines: vec![ReceiptLine {
                line: 0,
                accepted: 100,
                rejected: 0,
                reject_reason: None,
            }],
            arrived_at: None,
        }),
        "2025-02-01T10:00:00Z",
    );
    story.run(
        Command::BillPurchaseOrder(BillPurchaseOrder {
            purchase_order: id("PO-1"),
            bill: id("B-1"),
            amount: Money::new(50_000, eur),
            due_on: "2025-04-02".parse().unwrap(),
        }),
        "2025-02-01T11:00:00Z",
    );
    // Two months of other activity: enough events for the fold to sweep (at least 4,096), with
    // the purchase order's receipt long judged.
    for n in 0..4_200 {
        let day = 2 + n / 80;
        let month = if day <= 28 { 2 } else { 3 };
        let day = if day <= 28 { day } else { day - 28 };
        story.cost(
            &format!("C-{n}"),
            ScorProcess::Deliver,
            1,
            &format!("2025-{month:02}-{day:02}T12:00:00Z"),
        );
    }
    story.run(
        Command::PayPurchaseOrder(PayPurchaseOrder {
            purchase_order: id("PO-1"),
            payment: id("P-1"),
            amount: Money::new(50_000, eur),
        }),
        "2025-04-02T10:00:00Z",
    );
    // The same events through a fold that lets settled records go.
    let mut fold = Fold::new(FoldSettings {
        reporting: jiff::tz::TimeZone::UTC,
        base_currency: Currency::parse("USD").unwrap(),
        rules: Rules::standard(),
        emissions: EmissionSettings::standard(),
        keep_settled_orders: false,
    });
    let mut owed_before_payment = 0;
    for (event, at) in &story.events {
        if *at == ts("2025-04-02T10:00:00Z") {
            owed_before_payment = fold.balances_now()[balance::PAYABLES];
        }
        fold.apply(event, EventTime { at: *at });
    }
    // Billed 100 × 5.00 EUR = 500.00 EUR at 1.08 = 540.00 USD owed; paid in full: nothing owed.
    assert_eq!(owed_before_payment, 54_000);
    assert_eq!(fold.balances_now()[balance::PAYABLES], 0);
}
