//! Fixtures shared by the document tests: a configured tenant and a `run` helper that decides a
//! command at a business time and applies its events, checking the ledger invariants after every
//! accepted command and that a rejected one leaves the state untouched.
//!
//! The tenant: base currency USD, reporting time zone America/New_York; fulfillment centers
//! `FC-EAST` (America/New_York) and `FC-WEST` (America/Los_Angeles); items `MUG` (cost 5.00,
//! price 12.00), `TEE` (4.00 / 20.00), `CAP` (3.00 / 15.00) and the bundle `GIFT` = 2 MUG +
//! 1 TEE; suppliers `SUP-1` (USD, minimum order quantity 1) and `SUP-EU` (EUR, minimum order
//! quantity 10); carrier `UPS` with service `ground`. No stock: tests bring it in through
//! purchase order receipts.
// Each test crate uses a different subset of the helpers. Helpers are test code: a panic in
// one is a failing test, as `allow-unwrap-in-tests` grants inside `#[test]` functions.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use flowline_core::documents::purchase_order::PurchaseOrder;
use flowline_core::documents::purchase_order::{
    PlacePurchaseOrder, PurchaseLine, ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::documents::sales_order::{
    DeliverShipment, DeliveryCondition, InvoiceSalesOrder, LineQuantity, OrderLineInput,
    PackSalesOrder, PickSalesOrder, PlaceSalesOrder, ReceivePayment, SalesOrder, ShipSalesOrder,
};
use flowline_core::invariants::{check_event, check_state};
use flowline_core::ledger::{Account, Balance};
use flowline_core::master::{
    Address, Bom, BomComponent, BomKind, CarrierService, TimeZoneName, TransportMode,
};
use flowline_core::money::{Currency, Money};
use flowline_core::snapshot::canonical;
use flowline_core::state::{
    ConfigureTenant, DefineCarrier, DefineItem, DefineLocation, DefineSupplier,
};
use flowline_core::{Command, Context, DomainError, Event, State, apply, decide};
use jiff::{SignedDuration, Timestamp};

/// Parses any id type; panics on a malformed literal (a bug in the test).
pub fn id<T: std::str::FromStr>(value: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    value.parse().unwrap()
}

pub fn usd_currency() -> Currency {
    Currency::parse("USD").unwrap()
}

pub fn eur_currency() -> Currency {
    Currency::parse("EUR").unwrap()
}

pub fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, usd_currency())
}

pub fn eur(amount_minor: i64) -> Money {
    Money::new(amount_minor, eur_currency())
}

pub fn address(time_zone: &str) -> Address {
    Address {
        recipient: None,
        lines: vec!["1 Dock Road".into()],
        city: "Newark".into(),
        region: "NJ".into(),
        postal_code: "07102".into(),
        country: "US".into(),
        time_zone: TimeZoneName::parse(time_zone).unwrap(),
        coordinates: None,
    }
}

/// A line quantity (`line`, `quantity`).
pub fn lq(line: usize, quantity: i64) -> LineQuantity {
    LineQuantity { line, quantity }
}

/// The first business instant of the fixtures: 2025-03-03 09:00 in New York.
pub const START: &str = "2025-03-03T14:00:00Z";

/// A tenant's state and its business clock, which advances one minute per command.
pub struct Tenant {
    pub state: State,
    pub now: Timestamp,
    purchase_orders: usize,
}

impl Tenant {
    /// The configured tenant described in the module documentation, with no stock.
    pub fn new() -> Self {
        let mut tenant = Self {
            state: State::default(),
            now: START.parse().unwrap(),
            purchase_orders: 0,
        };
        let mut commands = vec![
            Command::ConfigureTenant(ConfigureTenant {
                business_time: None,
                base_currency: usd_currency(),
                reporting_time_zone: TimeZoneName::parse("America/New_York").unwrap(),
            }),
            Command::DefineLocation(DefineLocation {
                capacity_orders_per_day: None,
                location: id("FC-EAST"),
                name: "East".into(),
                region: "us-east".into(),
                address: address("America/New_York"),
            }),
            Command::DefineLocation(DefineLocation {
                capacity_orders_per_day: None,
                location: id("FC-WEST"),
                name: "West".into(),
                region: "us-west".into(),
                address: Address {
                    recipient: None,
                    city: "Reno".into(),
                    region: "NV".into(),
                    postal_code: "89501".into(),
                    ..address("America/Los_Angeles")
                },
            }),
        ];
        commands.push(item("MUG", 500, 1200, None));
        commands.push(item("TEE", 400, 2000, None));
        commands.push(item("CAP", 300, 1500, None));
        commands.push(item("GIFT", 0, 4000, Some(vec![("MUG", 2), ("TEE", 1)])));
        commands.push(Command::DefineSupplier(DefineSupplier {
            supplier: id("SUP-1"),
            name: "Supplier One".into(),
            currency: usd_currency(),
            lead_time_days: 14,
            minimum_order_quantity: 1,
            payment_terms_days: 30,
            country: "US".into(),
        }));
        commands.push(Command::DefineSupplier(DefineSupplier {
            supplier: id("SUP-EU"),
            name: "Supplier Europe".into(),
            currency: eur_currency(),
            lead_time_days: 30,
            minimum_order_quantity: 10,
            payment_terms_days: 60,
            country: "DE".into(),
        }));
        commands.push(Command::DefineCarrier(DefineCarrier {
            carrier: id("UPS"),
            name: "UPS".into(),
            services: vec![CarrierService {
                code: id("ground"),
                mode: TransportMode::Road,
                transit_days: 3,
            }],
        }));
        for command in commands {
            tenant.ok(command);
        }
        tenant
    }

    /// Decides `command` at the current business time and applies its events. On success,
    /// checks every event (balanced journal, sane moves, JSON round trip) and the ledger
    /// invariants of the whole state; on rejection, checks that the state did not change.
    pub fn run(&mut self, command: Command) -> Result<Vec<Event>, DomainError> {
        let at = self.now;
        self.now += SignedDuration::from_mins(1);
        self.run_at(command, at)
    }

    /// [`Tenant::run`] at an explicit business time.
    pub fn run_at(&mut self, command: Command, at: Timestamp) -> Result<Vec<Event>, DomainError> {
        let before = canonical(&self.state);
        match decide(&self.state, &command, &Context { at }) {
            Ok(events) => {
                for event in &events {
                    assert_eq!(check_event(event), vec![], "bad event {event:?}");
                    let decoded = Event::from_json(
                        event.type_name(),
                        Event::SCHEMA_VERSION,
                        &event.to_json(),
                    );
                    assert_eq!(decoded.as_ref(), Ok(event), "event does not round-trip");
                    apply(&mut self.state, event);
                }
                assert!(
                    check_state(&self.state).is_empty(),
                    "invariants broken after {command:?}: {:?}",
                    check_state(&self.state)
                );
                Ok(events)
            }
            Err(error) => {
                assert_eq!(
                    canonical(&self.state),
                    before,
                    "a rejected command changed the state"
                );
                Err(error)
            }
        }
    }

    /// Runs a command that must be accepted.
    #[track_caller]
    pub fn ok(&mut self, command: Command) -> Vec<Event> {
        match self.run(command.clone()) {
            Ok(events) => events,
            Err(error) => panic!("rejected: {error:?}\ncommand: {command:?}"),
        }
    }

    /// Runs a command that must be rejected, and checks it appended nothing: the canonical
    /// encoding of the state is byte-for-byte the same before and after.
    #[track_caller]
    pub fn reject(&mut self, command: Command) -> DomainError {
        let before = canonical(&self.state);
        let error = match self.run(command) {
            Ok(events) => panic!("accepted, expected a rejection: {events:?}"),
            Err(error) => error,
        };
        assert_eq!(canonical(&self.state), before, "state changed");
        error
    }

    /// The canonical encoding of the state, to compare around rejected commands.
    pub fn snapshot(&self) -> String {
        canonical(&self.state)
    }

    pub fn balance(&self, sku: &str, location: &str) -> Balance {
        self.state.stock.balance(&id(sku), &id(location))
    }

    /// Reserved units of an item at a location.
    pub fn reserved(&self, sku: &str, location: &str) -> i64 {
        self.balance(sku, location).reserved
    }

    pub fn money(&self, account: Account, currency: Currency) -> i64 {
        self.state.money.balance(account, currency)
    }

    pub fn usd_balance(&self, account: Account) -> i64 {
        self.money(account, usd_currency())
    }

    pub fn so(&self, order: &str) -> &SalesOrder {
        &self.state.sales_orders[&id(order)]
    }

    pub fn po(&self, purchase_order: &str) -> &PurchaseOrder {
        &self.state.purchase_orders[&id(purchase_order)]
    }

    /// Brings `quantity` units of `sku` into `location` at `unit_price_minor` USD each, through
    /// a purchase order from `SUP-1` received in full.
    pub fn receive_stock(
        &mut self,
        location: &str,
        sku: &str,
        quantity: i64,
        unit_price_minor: i64,
    ) {
        self.purchase_orders += 1;
        let po = format!("PO-STOCK-{}", self.purchase_orders);
        self.ok(Command::PlacePurchaseOrder(PlacePurchaseOrder {
            purchase_order: id(&po),
            supplier: id("SUP-1"),
            location: id(location),
            currency: usd_currency(),
            exchange_rate: None,
            lines: vec![PurchaseLine {
                sku: id(sku),
                quantity,
                unit_price_minor,
            }],
            requested_on: None,
        }));
        self.ok(Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
            purchase_order: id(&po),
            receipt: id(&format!("{po}-R")),
            lines: vec![ReceiptLine {
                line: 0,
                accepted: quantity,
                rejected: 0,
                reject_reason: None,
            }],
            arrived_at: None,
        }));
    }
}

impl Default for Tenant {
    fn default() -> Self {
        Self::new()
    }
}

fn item(sku: &str, unit_cost: i64, price: i64, bundle: Option<Vec<(&str, i64)>>) -> Command {
    Command::DefineItem(DefineItem {
        sku: id(sku),
        name: sku.into(),
        unit: "each".into(),
        unit_cost: usd(unit_cost),
        price: usd(price),
        weight_g: 300,
        dimensions: None,
        hs_code: None,
        country_of_origin: None,
        category: None,
        bom: bundle.map(|components| Bom {
            kind: BomKind::Bundle,
            components: components
                .into_iter()
                .map(|(sku, quantity)| BomComponent {
                    sku: id(sku),
                    quantity,
                })
                .collect(),
        }),
    })
}

/// An order line input: sku, quantity, unit price and unit tax (USD minor units).
pub fn line(
    sku: &str,
    quantity: i64,
    unit_price_minor: i64,
    unit_tax_minor: i64,
) -> OrderLineInput {
    OrderLineInput {
        sku: id(sku),
        quantity,
        unit_price_minor,
        unit_tax_minor,
    }
}

/// A USD web order shipping to New York, no shipping charge, not allocated at placement.
pub fn place(order: &str, lines: Vec<OrderLineInput>) -> PlaceSalesOrder {
    PlaceSalesOrder {
        contact: None,
        order: id(order),
        channel: id("web"),
        customer: id("C-1"),
        ship_to: address("America/New_York"),
        currency: usd_currency(),
        exchange_rate: None,
        lines,
        promise: None,
        service_level: Some("standard".into()),
        shipping_charge_minor: 0,
        allocate: None,
    }
}

pub fn pick(order: &str, location: &str, lines: &[(usize, i64)]) -> Command {
    Command::PickSalesOrder(PickSalesOrder {
        order: id(order),
        location: id(location),
        lines: lines.iter().map(|(l, q)| lq(*l, *q)).collect(),
    })
}

pub fn pack(order: &str, location: &str, lines: &[(usize, i64)]) -> Command {
    Command::PackSalesOrder(PackSalesOrder {
        order: id(order),
        location: id(location),
        lines: lines.iter().map(|(l, q)| lq(*l, *q)).collect(),
        package: None,
    })
}

pub fn ship(order: &str, shipment: &str, location: &str, lines: &[(usize, i64)]) -> Command {
    Command::ShipSalesOrder(ShipSalesOrder {
        order: id(order),
        shipment: id(shipment),
        location: id(location),
        carrier: id("UPS"),
        service: id("ground"),
        tracking: Some(format!("1Z-{shipment}")),
        weight_g: 1000,
        lines: lines.iter().map(|(l, q)| lq(*l, *q)).collect(),
    })
}

pub fn deliver(order: &str, shipment: &str) -> Command {
    Command::DeliverShipment(DeliverShipment {
        order: id(order),
        shipment: id(shipment),
        delivered_at: None,
        condition: DeliveryCondition::Intact,
        misdelivered: false,
        note: None,
    })
}

pub fn invoice(order: &str, invoice: &str) -> Command {
    Command::InvoiceSalesOrder(InvoiceSalesOrder {
        order: id(order),
        invoice: id(invoice),
    })
}

pub fn pay(order: &str, payment: &str, amount: Money) -> Command {
    Command::ReceivePayment(ReceivePayment {
        order: id(order),
        payment: id(payment),
        amount,
    })
}

impl Tenant {
    /// Picks, packs and ships the given lines at a center in one go.
    pub fn fulfil(
        &mut self,
        order: &str,
        shipment: &str,
        location: &str,
        lines: &[(usize, i64)],
    ) -> Vec<Event> {
        self.ok(pick(order, location, lines));
        self.ok(pack(order, location, lines));
        self.ok(ship(order, shipment, location, lines))
    }
}

/// Asserts an `Invalid` error on exactly this field (the reason is free text).
#[track_caller]
pub fn assert_invalid(error: &DomainError, field: &str) {
    match error {
        DomainError::Invalid { field: got, reason } => {
            assert_eq!(got, field, "reason: {reason}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected Invalid on {field}, got {other:?}"),
    }
}

/// Shorthand for the `IllegalTransition` error of a document.
pub fn illegal(
    kind: flowline_core::error::DocumentKind,
    id: &str,
    state: &str,
    attempted: &'static str,
) -> DomainError {
    DomainError::IllegalTransition {
        kind,
        id: id.into(),
        state: state.into(),
        attempted,
    }
}

/// The postings of an event's journal as (account, amount, currency code).
pub fn postings(event: &Event) -> Vec<(Account, i64, String)> {
    event
        .effects()
        .map(|effects| {
            effects
                .journal
                .postings
                .iter()
                .map(|p| {
                    (
                        p.account,
                        p.amount.amount_minor,
                        p.amount.currency.to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
