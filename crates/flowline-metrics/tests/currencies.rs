//! Sales in another currency in the fold: converted to the base currency at the rate recorded
//! on the order, never added to base-currency amounts as they are.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod common;

use common::{Story, address, id};
use flowline_core::Command;
use flowline_core::documents::sales_order::{OrderLineInput, PlaceSalesOrder, ShortagePolicy};
use flowline_core::money::{Currency, ExchangeRate};
use flowline_metrics::fold::balance;

#[test]
fn a_euro_order_is_owed_in_dollars_at_its_own_rate() {
    let mut story = Story::new("UTC", &[("MUG", 10)]);
    // A euro order of 2 MUG at 10.00 EUR, recorded at 1.10 USD per EUR.
    story.run(
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: id("SO-EU"),
            channel: id("web"),
            customer: id("C-1"),
            ship_to: address("Europe/Berlin"),
            currency: Currency::parse("EUR").unwrap(),
            exchange_rate: Some(ExchangeRate {
                rate_micro: 1_100_000,
            }),
            lines: vec![OrderLineInput {
                sku: id("MUG"),
                quantity: 2,
                unit_price_minor: 1_000,
                unit_tax_minor: 0,
            }],
            promise: None,
            service_level: None,
            shipping_charge_minor: 0,
            allocate: Some(ShortagePolicy::Reject),
        }),
        "2025-03-01T10:00:00Z",
    );
    // A dollar order of 1 MUG at 10.00 USD.
    story.place(
        "SO-US",
        &[("MUG", 1)],
        "UTC",
        None,
        Some(ShortagePolicy::Reject),
        "2025-03-01T11:00:00Z",
    );
    story.ship("SO-EU", "S-1", &[(0, 2)], "2025-03-02T10:00:00Z");
    story.ship("SO-US", "S-2", &[(0, 1)], "2025-03-02T11:00:00Z");
    story.invoice("SO-EU", "I-1", "2025-03-02T12:00:00Z");
    story.invoice("SO-US", "I-2", "2025-03-02T13:00:00Z");
    // Owed by customers: 2 × 10.00 EUR × 1.10 = 22.00 USD, plus 10.00 USD: 32.00 USD = 3,200
    // cents. Adding the euro cents as dollars would give 30.00; leaving them out, 10.00.
    assert_eq!(story.fold.balances_now()[balance::RECEIVABLES], 3_200);
}
