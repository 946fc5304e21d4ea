//! A tenant driven through the pure domain (`decide`, then `apply`, as the engine does) whose
//! events are folded as they are recorded, for the worked examples of SCOR-METRICS.md.
#![allow(dead_code)]

use flowline_core::documents::finance::{CostType, PostCost, Settlement};
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::documents::return_auth::{AuthoriseReturn, ReturnLineInput};
use flowline_core::documents::sales_order::{
    AllocateSalesOrder, AmendSalesOrder, CancelSalesOrder, DeliverShipment, DeliveryCondition,
    HoldSalesOrder, Initiator, InvoiceSalesOrder, IssueCreditNote, LineQuantity, OrderLineInput,
    PackSalesOrder, PickSalesOrder, PlaceSalesOrder, Promise, PromiseSource, ReleaseSalesOrder,
    ShipSalesOrder, ShortagePolicy,
};
use flowline_core::ledger::ScorProcess;
use flowline_core::master::{Address, CarrierService, Condition, TimeZoneName, TransportMode};
use flowline_core::money::{Currency, Money};
use flowline_core::state::{
    ConfigureTenant, DefineCarrier, DefineItem, DefineLocation, SetReturnPolicy,
};
use flowline_core::{Command, Context, Event, State, apply, decide};
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings};
use flowline_metrics::order::Rules;
use jiff::Timestamp;
use jiff::tz::TimeZone;

pub fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().unwrap()
}

pub fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

pub fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::parse("USD").unwrap())
}

pub fn address(zone: &str) -> Address {
    Address {
        recipient: None,
        lines: vec![],
        city: String::new(),
        region: String::new(),
        postal_code: String::new(),
        country: "US".into(),
        time_zone: TimeZoneName::parse(zone).unwrap(),
        coordinates: None,
    }
}

/// The tenant, its state and the fold of everything it recorded.
pub struct Story {
    pub state: State,
    pub fold: Fold,
    pub events: Vec<(Event, Timestamp)>,
    /// Skip commands the domain refuses instead of failing (for random histories).
    pub lenient: bool,
}

impl Story {
    /// A USD tenant reporting in `reporting_zone`, with one center `FC-1` (UTC), carrier `UPS`
    /// (road service `ground`), return policy `std` and the given items, each with
    /// `stock` units at 1.00. The policy's window (60 days) is longer than the metrics'
    /// observation window (30 days), so a return the metrics must ignore can still be opened.
    pub fn new(reporting_zone: &str, items: &[(&str, i64)]) -> Self {
        Self::located(reporting_zone, items, address("UTC"), TransportMode::Road)
    }

    /// As [`Story::new`], with center `FC-1` at `center` and the `ground` service of `mode`.
    pub fn located(
        reporting_zone: &str,
        items: &[(&str, i64)],
        center: Address,
        mode: TransportMode,
    ) -> Self {
        let reporting = TimeZone::get(reporting_zone).unwrap();
        let fold = Fold::new(FoldSettings {
            reporting,
            base_currency: Currency::parse("USD").unwrap(),
            rules: Rules::standard(),
            emissions: EmissionSettings::standard(),
            keep_settled_orders: true,
        });
        let mut story = Self {
            state: State::default(),
            fold,
            events: Vec::new(),
            lenient: false,
        };
        let start = "2025-01-01T00:00:00Z";
        story.run(
            Command::ConfigureTenant(ConfigureTenant {
                business_time: None,
                base_currency: Currency::parse("USD").unwrap(),
                reporting_time_zone: TimeZoneName::parse(reporting_zone).unwrap(),
            }),
            start,
        );
        story.run(
            Command::DefineLocation(DefineLocation {
                capacity_orders_per_day: None,
                location: id("FC-1"),
                name: "One".into(),
                region: "us".into(),
                address: center,
            }),
            start,
        );
        story.run(
            Command::DefineCarrier(DefineCarrier {
                carrier: id("UPS"),
                name: "UPS".into(),
                services: vec![CarrierService {
                    code: id("ground"),
                    mode,
                    transit_days: 2,
                }],
            }),
            start,
        );
        story.run(
            Command::SetReturnPolicy(SetReturnPolicy {
                policy: id("std"),
                window_days: 60,
                refundable_conditions: vec![Condition::New],
            }),
            start,
        );
        for (sku, stock) in items {
            story.define(sku, None);
            if *stock > 0 {
                story.stock(sku, *stock, start);
            }
        }
        story
    }

    pub fn define(&mut self, sku: &str, bom: Option<flowline_core::master::Bom>) {
        self.run(
            Command::DefineItem(DefineItem {
                sku: id(sku),
                name: sku.into(),
                unit: "each".into(),
                unit_cost: usd(100),
                price: usd(1000),
                weight_g: 1000,
                dimensions: None,
                hs_code: None,
                country_of_origin: None,
                category: Some("mugs".into()),
                bom,
            }),
            "2025-01-01T00:00:00Z",
        );
    }

    pub fn stock(&mut self, sku: &str, quantity: i64, at: &str) {
        let adjustment = format!("ADJ-{}", self.events.len());
        self.run(
            Command::AdjustStock(AdjustStock {
                adjustment: id(&adjustment),
                location: id("FC-1"),
                reason: id("opening_balance"),
                lines: vec![AdjustLineInput {
                    sku: id(sku),
                    quantity,
                    unit_cost_minor: Some(100),
                }],
            }),
            at,
        );
    }

    /// Decides `command` at `at`, applies its events and folds them; panics on a rejection.
    pub fn run(&mut self, command: Command, at: &str) -> Vec<Event> {
        let time = ts(at);
        let events = match decide(&self.state, &command, &Context { at: time }) {
            Ok(events) => events,
            Err(_) if self.lenient => return Vec::new(),
            Err(error) => panic!("{command:?} rejected: {error}"),
        };
        for event in &events {
            apply(&mut self.state, event);
            self.fold.apply(event, EventTime { at: time });
            self.events.push((event.clone(), time));
        }
        events
    }

    /// Places an order; `lines` are (sku, quantity); `promise` is a commit date.
    pub fn place(
        &mut self,
        order: &str,
        lines: &[(&str, i64)],
        zone: &str,
        promise: Option<&str>,
        allocate: Option<ShortagePolicy>,
        at: &str,
    ) {
        self.run(
            Command::PlaceSalesOrder(PlaceSalesOrder {
                contact: None,
                order: id(order),
                channel: id("web"),
                customer: id("C-1"),
                ship_to: address(zone),
                currency: Currency::parse("USD").unwrap(),
                exchange_rate: None,
                lines: lines
                    .iter()
                    .map(|(sku, quantity)| OrderLineInput {
                        sku: id(sku),
                        quantity: *quantity,
                        unit_price_minor: 1000,
                        unit_tax_minor: 0,
                    })
                    .collect(),
                promise: promise.map(|date| Promise {
                    source: PromiseSource::ShownAtCheckout,
                    deliver_by: Some(date.parse().unwrap()),
                    window: None,
                    ship_by: None,
                }),
                service_level: None,
                shipping_charge_minor: 0,
                allocate,
            }),
            at,
        );
    }

    pub fn hold(&mut self, order: &str, reason: &str, at: &str) {
        self.run(
            Command::HoldSalesOrder(HoldSalesOrder {
                order: id(order),
                reason: id(reason),
            }),
            at,
        );
    }

    pub fn release(&mut self, order: &str, at: &str) {
        self.run(
            Command::ReleaseSalesOrder(ReleaseSalesOrder { order: id(order) }),
            at,
        );
    }

    pub fn allocate(&mut self, order: &str, at: &str) {
        self.run(
            Command::AllocateSalesOrder(AllocateSalesOrder {
                order: id(order),
                shortage: ShortagePolicy::Backorder,
                lines: None,
            }),
            at,
        );
    }

    /// Picks, packs and ships `lines` (line index, quantity) as one shipment at `at`.
    pub fn ship(&mut self, order: &str, shipment: &str, lines: &[(usize, i64)], at: &str) {
        let lines: Vec<LineQuantity> = lines
            .iter()
            .map(|(line, quantity)| LineQuantity {
                line: *line,
                quantity: *quantity,
            })
            .collect();
        self.run(
            Command::PickSalesOrder(PickSalesOrder {
                order: id(order),
                location: id("FC-1"),
                lines: lines.clone(),
            }),
            at,
        );
        self.run(
            Command::PackSalesOrder(PackSalesOrder {
                order: id(order),
                location: id("FC-1"),
                lines: lines.clone(),
                package: None,
            }),
            at,
        );
        self.run(
            Command::ShipSalesOrder(ShipSalesOrder {
                order: id(order),
                shipment: id(shipment),
                location: id("FC-1"),
                carrier: id("UPS"),
                service: id("ground"),
                tracking: None,
                weight_g: 2000,
                lines,
            }),
            at,
        );
    }

    pub fn deliver(&mut self, order: &str, shipment: &str, at: &str) {
        self.run(
            Command::DeliverShipment(DeliverShipment {
                order: id(order),
                shipment: id(shipment),
                delivered_at: Some(ts(at)),
                condition: DeliveryCondition::Intact,
                misdelivered: false,
                note: None,
            }),
            at,
        );
    }

    pub fn cancel(
        &mut self,
        order: &str,
        initiator: Initiator,
        reason: &str,
        lines: Option<&[(usize, i64)]>,
        at: &str,
    ) {
        self.run(
            Command::CancelSalesOrder(CancelSalesOrder {
                order: id(order),
                initiator,
                reason: id(reason),
                lines: lines.map(|lines| {
                    lines
                        .iter()
                        .map(|(line, quantity)| LineQuantity {
                            line: *line,
                            quantity: *quantity,
                        })
                        .collect()
                }),
            }),
            at,
        );
    }

    pub fn amend_quantity(
        &mut self,
        order: &str,
        initiator: Initiator,
        line: usize,
        quantity: i64,
        at: &str,
    ) {
        self.run(
            Command::AmendSalesOrder(AmendSalesOrder {
                order: id(order),
                initiator,
                set_quantities: vec![LineQuantity { line, quantity }],
                add_lines: vec![],
                ship_to: None,
                promise: None,
            }),
            at,
        );
    }

    pub fn repromise(&mut self, order: &str, initiator: Initiator, date: &str, at: &str) {
        self.run(
            Command::AmendSalesOrder(AmendSalesOrder {
                order: id(order),
                initiator,
                set_quantities: vec![],
                add_lines: vec![],
                ship_to: None,
                promise: Some(Promise {
                    source: PromiseSource::Derived,
                    deliver_by: Some(date.parse().unwrap()),
                    window: None,
                    ship_by: None,
                }),
            }),
            at,
        );
    }

    pub fn invoice(&mut self, order: &str, invoice: &str, at: &str) {
        self.run(
            Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: id(order),
                invoice: id(invoice),
            }),
            at,
        );
    }

    pub fn credit_note(&mut self, order: &str, note: &str, amount: i64, reason: &str, at: &str) {
        self.run(
            Command::IssueCreditNote(IssueCreditNote {
                order: id(order),
                credit_note: id(note),
                amount: usd(amount),
                reason: id(reason),
            }),
            at,
        );
    }

    pub fn open_return(
        &mut self,
        return_id: &str,
        order: &str,
        line: usize,
        quantity: i64,
        reason: &str,
        at: &str,
    ) {
        self.run(
            Command::AuthoriseReturn(AuthoriseReturn {
                return_id: id(return_id),
                order: id(order),
                policy: id("std"),
                lines: vec![ReturnLineInput {
                    line,
                    quantity,
                    reason: id(reason),
                }],
            }),
            at,
        );
    }

    pub fn cost(&mut self, cost: &str, process: ScorProcess, amount: i64, at: &str) {
        self.run(
            Command::PostCost(PostCost {
                cost: id(cost),
                process,
                cost_type: CostType::Other,
                amount: usd(amount),
                settlement: Settlement::Paid,
                reference: None,
                note: None,
            }),
            at,
        );
    }
}
