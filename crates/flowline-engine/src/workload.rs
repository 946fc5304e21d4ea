//! A deterministic workload for benchmarks and tests: a small brand set up with items, three
//! fulfillment centers, a supplier and a carrier, stocked through purchase orders, then a stream
//! of orders that each go through their whole life: place and allocate, pick, pack, ship,
//! deliver, invoice, pay (8 events over 7 commands).

use flowline_core::Command;
use flowline_core::documents::purchase_order::{
    PlacePurchaseOrder, PurchaseLine, ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::documents::sales_order::{
    DeliverShipment, DeliveryCondition, InvoiceSalesOrder, LineQuantity, OrderLineInput,
    PackSalesOrder, PickSalesOrder, PlaceSalesOrder, ReceivePayment, ShipSalesOrder,
    ShortagePolicy,
};
use flowline_core::id::{
    CarrierId, CustomerId, InvoiceId, LocationId, PaymentId, PurchaseOrderId, SalesOrderId,
    ServiceCode, ShipmentId, Sku,
};
use flowline_core::master::{Address, CarrierService, TimeZoneName, TransportMode};
use flowline_core::money::{Currency, Money};
use flowline_core::state::{
    ConfigureTenant, DefineCarrier, DefineItem, DefineLocation, DefineSupplier,
};

/// The fulfillment centers of the workload.
pub const CENTERS: [&str; 3] = ["FC-EAST", "FC-WEST", "FC-CENTRAL"];

fn id<T: std::str::FromStr>(value: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    // Every id below is built from a fixed pattern of valid characters.
    match value.parse() {
        Ok(id) => id,
        Err(error) => unreachable!("workload id `{value}` is invalid: {error:?}"),
    }
}

fn usd() -> Currency {
    match Currency::parse("USD") {
        Ok(currency) => currency,
        Err(_) => unreachable!(),
    }
}

fn address(zone: &str, region: &str) -> Address {
    Address {
        recipient: None,
        lines: vec!["1 Main St".into()],
        city: "Springfield".into(),
        region: region.into(),
        postal_code: "00001".into(),
        country: "US".into(),
        time_zone: match TimeZoneName::parse(zone) {
            Ok(zone) => zone,
            Err(_) => unreachable!(),
        },
        coordinates: None,
    }
}

/// The SKU of item `index`.
pub fn sku(index: usize) -> Sku {
    id(&format!("SKU-{index:05}"))
}

/// Commands that set the brand up: tenant, centers, items, supplier, carrier, and one received
/// purchase order per center holding `units_per_item` of every item.
pub fn setup(items: usize, units_per_item: i64) -> Vec<Command> {
    let mut commands = vec![Command::ConfigureTenant(ConfigureTenant {
        business_time: None,
        base_currency: usd(),
        reporting_time_zone: match TimeZoneName::parse("America/New_York") {
            Ok(zone) => zone,
            Err(_) => unreachable!(),
        },
    })];
    for (center, zone) in
        CENTERS
            .iter()
            .zip(["America/New_York", "America/Los_Angeles", "America/Chicago"])
    {
        commands.push(Command::DefineLocation(DefineLocation {
            capacity_orders_per_day: None,
            location: id(center),
            name: (*center).to_string(),
            region: zone.to_string(),
            address: address(zone, "XX"),
        }));
    }
    for index in 0..items {
        commands.push(Command::DefineItem(DefineItem {
            sku: sku(index),
            name: format!("Item {index}"),
            unit: "each".into(),
            unit_cost: Money::new(500 + (index as i64 % 7) * 100, usd()),
            price: Money::new(1500 + (index as i64 % 11) * 100, usd()),
            weight_g: 250,
            dimensions: None,
            hs_code: None,
            country_of_origin: None,
            category: Some(format!("category-{}", index % 5)),
            bom: None,
        }));
    }
    commands.push(Command::DefineSupplier(DefineSupplier {
        supplier: id("SUP-1"),
        name: "Supplier".into(),
        currency: usd(),
        lead_time_days: 14,
        minimum_order_quantity: 1,
        payment_terms_days: 30,
        country: "US".into(),
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
    if units_per_item > 0 {
        for center in CENTERS {
            let purchase_order: PurchaseOrderId = id(&format!("PO-{center}"));
            let lines: Vec<PurchaseLine> = (0..items)
                .map(|index| PurchaseLine {
                    sku: sku(index),
                    quantity: units_per_item,
                    unit_price_minor: 500 + (index as i64 % 7) * 100,
                })
                .collect();
            commands.push(Command::PlacePurchaseOrder(PlacePurchaseOrder {
                purchase_order: purchase_order.clone(),
                supplier: id("SUP-1"),
                location: id(center),
                currency: usd(),
                exchange_rate: None,
                lines,
                requested_on: None,
            }));
            commands.push(Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
                purchase_order,
                receipt: id(&format!("RC-{center}")),
                lines: (0..items)
                    .map(|line| ReceiptLine {
                        line,
                        accepted: units_per_item,
                        rejected: 0,
                        reject_reason: None,
                    })
                    .collect(),
                arrived_at: None,
            }));
        }
    }
    commands
}

/// A small deterministic generator (64-bit linear congruential, Knuth's constants).
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(
            seed.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        )
    }

    /// Next value in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// The commands of one order's whole life, given where it was allocated (the ship, pack and
/// pick steps need the center, which the allocation chose).
pub struct OrderScript {
    /// Order id.
    pub order: SalesOrderId,
    /// Lines as (sku, quantity).
    pub lines: Vec<(Sku, i64)>,
    /// Total to pay, minor units.
    pub total_minor: i64,
}

impl OrderScript {
    /// A random order of 1–3 lines of 1–3 units over `items` items.
    pub fn random(prefix: &str, number: u64, items: usize, rng: &mut Lcg) -> Self {
        let line_count = 1 + rng.below(3) as usize;
        let mut lines: Vec<(Sku, i64)> = Vec::with_capacity(line_count);
        while lines.len() < line_count {
            let candidate = sku(rng.below(items as u64) as usize);
            if !lines.iter().any(|(s, _)| *s == candidate) {
                lines.push((candidate, 1 + rng.below(3) as i64));
            }
        }
        let total_minor = lines.iter().map(|(_, q)| q * 2000).sum();
        Self {
            order: id(&format!("{prefix}-{number}")),
            lines,
            total_minor,
        }
    }

    /// Place and allocate (backordering what does not fit).
    pub fn place(&self) -> Command {
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: self.order.clone(),
            channel: id("web"),
            customer: id::<CustomerId>(&format!("C-{}", self.order)),
            ship_to: address("America/Chicago", "IL"),
            currency: usd(),
            exchange_rate: None,
            lines: self
                .lines
                .iter()
                .map(|(sku, quantity)| OrderLineInput {
                    sku: sku.clone(),
                    quantity: *quantity,
                    unit_price_minor: 2000,
                    unit_tax_minor: 0,
                })
                .collect(),
            promise: None,
            service_level: Some("standard".into()),
            shipping_charge_minor: 0,
            allocate: Some(ShortagePolicy::Backorder),
        })
    }

    /// Pick, pack, ship, deliver, invoice and pay everything, from `center`.
    pub fn fulfil(&self, center: &LocationId) -> Vec<Command> {
        let lines: Vec<LineQuantity> = self
            .lines
            .iter()
            .enumerate()
            .map(|(line, (_, quantity))| LineQuantity {
                line,
                quantity: *quantity,
            })
            .collect();
        let shipment: ShipmentId = id(&format!("SH-{}", self.order));
        vec![
            Command::PickSalesOrder(PickSalesOrder {
                order: self.order.clone(),
                location: center.clone(),
                lines: lines.clone(),
            }),
            Command::PackSalesOrder(PackSalesOrder {
                order: self.order.clone(),
                location: center.clone(),
                lines: lines.clone(),
                package: None,
            }),
            Command::ShipSalesOrder(ShipSalesOrder {
                order: self.order.clone(),
                shipment: shipment.clone(),
                location: center.clone(),
                carrier: id::<CarrierId>("UPS"),
                service: id::<ServiceCode>("ground"),
                tracking: None,
                weight_g: 500,
                lines,
            }),
            Command::DeliverShipment(DeliverShipment {
                order: self.order.clone(),
                shipment,
                delivered_at: None,
                condition: DeliveryCondition::Intact,
                misdelivered: false,
                note: None,
            }),
            Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: self.order.clone(),
                invoice: id::<InvoiceId>(&format!("IN-{}", self.order)),
            }),
            Command::ReceivePayment(ReceivePayment {
                order: self.order.clone(),
                payment: id::<PaymentId>(&format!("PAY-{}", self.order)),
                amount: Money::new(self.total_minor, usd()),
            }),
        ]
    }
}
