//! A deterministic year of a small brand, driven through the real engine: the database the
//! dashboard's tests and its render-time benchmark run on until the simulator (`flowline-sim`)
//! provides one.
//!
//! Two fulfillment centers, twelve items in four categories (one a kit made by work orders),
//! two suppliers of different reliability, ground and air services, a return policy. Every
//! day: orders placed with a delivery promise, allocated to the nearer center with stock
//! (backordered when neither has it), picked, packed, shipped, delivered (some late, a few
//! damaged), invoiced and paid; some returned for a reason, received, inspected, disposed of
//! and refunded; a few credited for a billing error. Every week: purchase orders per center and
//! supplier, confirmed, received early or late with some units rejected, billed (now and then
//! with a price variance) and paid a month later. Every day a kitting work order with its
//! quality check; every month supply-chain costs by SCOR process and the depreciation of a
//! conveyor. A target and an improvement initiative are set along the way.
//!
//! Commands are submitted in business-time order from a queue of scheduled steps; the same
//! [`YearOptions`] always give the same log.

use crate::workload::Lcg;
use crate::{Engine, EngineError, EngineOptions, Outcome, Submission};
use flowline_core::Command;
use flowline_core::id::TenantId;
use flowline_store::{OpenOptions, SqliteStore, TenantRecord};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

/// How big a year to make.
#[derive(Debug, Clone)]
pub struct YearOptions {
    /// The tenant.
    pub tenant: String,
    /// Days simulated, from 2025-01-01.
    pub days: i64,
    /// Mean sales orders per day.
    pub orders_per_day: u64,
    /// Seed of the generator.
    pub seed: u64,
}

impl YearOptions {
    /// A small year for tests: 365 days, 4 orders a day.
    pub fn small() -> Self {
        Self {
            tenant: "demo".into(),
            days: 365,
            orders_per_day: 4,
            seed: 7,
        }
    }
}

/// What was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearSummary {
    /// Commands applied.
    pub applied: u64,
    /// Commands the engine rejected (a step that no longer applied, such as shipping an order
    /// that was backordered): the generator carries on, as a real operation would.
    pub rejected: u64,
    /// Sales orders placed.
    pub orders: u64,
}

/// Why the year could not be written.
#[derive(Debug, thiserror::Error)]
pub enum YearError {
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The log could not be opened to register the tenant.
    #[error(transparent)]
    Store(#[from] flowline_store::StoreError),
    /// A generated command did not parse (a bug in this module).
    #[error("generated command does not parse: {0}")]
    Command(String),
    /// The tenant id is not valid.
    #[error("invalid tenant id: {0}")]
    Tenant(String),
}

const CENTERS: [(&str, &str, &str); 2] = [
    ("FC-EAST", "America/New_York", "NY"),
    ("FC-WEST", "America/Los_Angeles", "CA"),
];

/// (sku, name, category, unit cost, price, weight g, supplier)
const ITEMS: [(&str, &str, &str, i64, i64, i64, &str); 12] = [
    (
        "TEE-BLK",
        "T-shirt black",
        "apparel",
        450,
        1900,
        200,
        "SUP-ACME",
    ),
    (
        "TEE-WHT",
        "T-shirt white",
        "apparel",
        450,
        1900,
        200,
        "SUP-ACME",
    ),
    ("HOODIE", "Hoodie", "apparel", 1400, 5500, 600, "SUP-ACME"),
    ("CAP", "Cap", "apparel", 300, 1500, 120, "SUP-ACME"),
    ("MUG", "Mug", "home", 250, 1200, 350, "SUP-BOLT"),
    ("LID", "Travel lid", "home", 80, 500, 50, "SUP-BOLT"),
    ("CANDLE", "Candle", "home", 500, 2400, 400, "SUP-BOLT"),
    (
        "BOTTLE",
        "Steel bottle",
        "outdoor",
        700,
        2900,
        450,
        "SUP-BOLT",
    ),
    ("LAMP", "Camp lamp", "outdoor", 1600, 4900, 700, "SUP-ACME"),
    (
        "BLANKET",
        "Picnic blanket",
        "outdoor",
        1800,
        6500,
        1200,
        "SUP-BOLT",
    ),
    ("SOCKS", "Socks", "apparel", 150, 900, 80, "SUP-ACME"),
    ("GIFT", "Gift box (kit)", "gifts", 0, 3900, 800, ""),
];

const CHANNELS: [&str; 3] = ["web", "marketplace", "retail"];

const RETURN_REASONS: [(&str, u64); 6] = [
    ("wrong_size", 30),
    ("changed_mind", 25),
    ("defective", 15),
    ("not_as_described", 12),
    ("damaged_in_transit", 10),
    ("wrong_item", 8),
];

/// A step scheduled for later.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Command(String),
    Place,
    Kit { day: i64 },
    Purchase { center: usize, supplier: usize },
    Allocate { order: usize },
    Fulfil { order: usize },
    Deliver { order: usize },
    Return { order: usize },
}

/// An order as the generator remembers it.
#[derive(Debug, Clone)]
struct Order {
    id: String,
    lines: Vec<(usize, i64)>,
    center: usize,
    express: bool,
    total_minor: i64,
}

struct Year<'a> {
    engine: &'a Engine,
    tenant: TenantId,
    rng: Lcg,
    queue: BinaryHeap<Reverse<(Timestamp, u64, Step)>>,
    sequence: u64,
    orders: Vec<Order>,
    orders_per_day: u64,
    purchases: u64,
    summary: YearSummary,
}

fn start() -> Timestamp {
    // 2025-01-01 00:00 in New York (EST, UTC−5).
    Timestamp::from_second(1_735_707_600).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn hours(value: i64) -> SignedDuration {
    SignedDuration::from_hours(value)
}

fn minutes(value: i64) -> SignedDuration {
    SignedDuration::from_mins(value)
}

fn usd(amount_minor: i64) -> Value {
    json!({ "amount_minor": amount_minor, "currency": "USD" })
}

fn address(zone: &str, region: &str) -> Value {
    json!({ "lines": ["1 Main St"], "city": "Springfield", "region": region,
            "postal_code": "00001", "country": "US", "time_zone": zone })
}

fn later(at: Timestamp, span: SignedDuration) -> Timestamp {
    at.checked_add(span).unwrap_or(at)
}

fn date_of(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

impl Year<'_> {
    fn at(&mut self, at: Timestamp, step: Step) {
        self.sequence += 1;
        self.queue.push(Reverse((at, self.sequence, step)));
    }

    fn command(&mut self, at: Timestamp, body: Value) {
        self.at(at, Step::Command(body.to_string()));
    }

    /// Submits a command now; whether it was applied.
    fn submit(&mut self, at: Timestamp, body: &str) -> Result<bool, YearError> {
        let command: Command = serde_json::from_str(body)
            .map_err(|error| YearError::Command(format!("{error}: {body}")))?;
        let answer = self
            .engine
            .submit(&self.tenant, Submission::new(command).at(at))?;
        let applied = matches!(answer.outcome, Outcome::Applied { .. });
        if applied {
            self.summary.applied += 1;
        } else {
            self.summary.rejected += 1;
        }
        Ok(applied)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.rng.below(bound)
    }

    fn chance(&mut self, per_thousand: u64) -> bool {
        self.rng.below(1000) < per_thousand
    }

    fn setup(&mut self) -> Result<(), YearError> {
        let at = start();
        let mut commands = vec![
            json!({ "command": "configure_tenant", "base_currency": "USD",
            "reporting_time_zone": "America/New_York" }),
        ];
        for (id, zone, region) in CENTERS {
            commands.push(
                json!({ "command": "define_location", "location": id, "name": id,
                "region": region, "address": address(zone, region) }),
            );
        }
        for (sku, name, category, cost, price, weight, _) in ITEMS {
            let bom = if sku == "GIFT" {
                json!({ "kind": "kit", "components": [ { "sku": "MUG", "quantity": 1 },
                    { "sku": "LID", "quantity": 1 }, { "sku": "CANDLE", "quantity": 1 } ] })
            } else {
                Value::Null
            };
            commands.push(
                json!({ "command": "define_item", "sku": sku, "name": name, "unit": "each",
                "unit_cost": usd(cost), "price": usd(price), "weight_g": weight,
                "category": category, "bom": bom }),
            );
        }
        for (id, name, lead) in [
            ("SUP-ACME", "Acme Apparel", 10),
            ("SUP-BOLT", "Bolt Housewares", 21),
        ] {
            commands.push(
                json!({ "command": "define_supplier", "supplier": id, "name": name,
                "currency": "USD", "lead_time_days": lead, "minimum_order_quantity": 1,
                "payment_terms_days": 30, "country": "US" }),
            );
        }
        commands.push(
            json!({ "command": "define_carrier", "carrier": "UPS", "name": "UPS", "services": [
            { "code": "ground", "mode": "road", "transit_days": 3 },
            { "code": "air", "mode": "air", "transit_days": 1 } ] }),
        );
        commands.push(
            json!({ "command": "define_carrier", "carrier": "FEDEX", "name": "FedEx", "services": [
            { "code": "ground", "mode": "road", "transit_days": 4 } ] }),
        );
        commands.push(
            json!({ "command": "set_return_policy", "policy": "STANDARD", "window_days": 30,
            "refundable_conditions": ["new", "like_new", "used", "defective"] }),
        );
        commands.push(
            json!({ "command": "acquire_fixed_asset", "asset": "CONVEYOR-1",
            "name": "Sortation conveyor", "cost": usd(6_000_000), "supply_chain": true,
            "process": "deliver", "useful_life_months": 60, "settlement": "paid" }),
        );
        commands.push(json!({ "command": "set_target", "target": "T-CYCLE",
            "metric": "rs.order_cycle_time", "value_milli": 4000, "direction": "at_most",
            "source": "brand plan 2025" }));
        for command in commands {
            self.submit(at, &command.to_string())?;
        }
        // Opening stock: six weeks of demand at each center, received on day one.
        for (center, _, _) in CENTERS {
            for supplier in ["SUP-ACME", "SUP-BOLT"] {
                self.purchase(at, center, supplier, 6, true)?;
            }
        }
        Ok(())
    }

    /// Weekly demand of an item at one center, in units.
    fn weekly(&self, item: usize, center: &str) -> i64 {
        let per_day = self.demand_per_day(item, center);
        (per_day * 7.0).ceil() as i64 + 2
    }

    fn sales_per_day(&self) -> f64 {
        // Orders average 1.6 units of 1.5 lines over 11 stocked items, half per center.
        self.orders_per_day as f64 * 1.5 * 1.6 / 11.0 / 2.0
    }

    /// Units of an item a center uses per day: its sales, and at FC-EAST the kit components.
    fn demand_per_day(&self, item: usize, center: &str) -> f64 {
        let kit_component = matches!(ITEMS[item].0, "MUG" | "LID" | "CANDLE");
        let kitting = if kit_component && center == "FC-EAST" {
            self.kits_per_day() as f64
        } else {
            0.0
        };
        self.sales_per_day() + kitting
    }

    /// Places a purchase order for `weeks` of demand and schedules its life.
    fn purchase(
        &mut self,
        at: Timestamp,
        center: &str,
        supplier: &str,
        weeks: i64,
        opening: bool,
    ) -> Result<(), YearError> {
        self.purchases += 1;
        let number = self.purchases;
        let id = format!("PO-{}-{number:04}", &center[3..]);
        // Order up to the demand of the lead time and two weeks more, less what is available
        // and already on order (the opening order fills `weeks` weeks of an empty center).
        let lead = if supplier == "SUP-ACME" { 10 } else { 21 };
        let positions = if opening {
            Vec::new()
        } else {
            let location: flowline_core::id::LocationId = center
                .parse()
                .map_err(|_| YearError::Command(center.to_string()))?;
            self.engine.query(&self.tenant, move |state| {
                flowline_core::views::positions(state, None, Some(&location))
            })?
        };
        let mut lines: Vec<Value> = Vec::new();
        for (index, item) in ITEMS.iter().enumerate() {
            if item.6 != supplier {
                continue;
            }
            let cover = positions
                .iter()
                .find(|position| position.sku.as_str() == item.0)
                .map_or(0, |position| position.available + position.on_order);
            let wanted = if opening {
                self.weekly(index, center) * weeks
            } else {
                (self.demand_per_day(index, center) * (lead + 14) as f64).ceil() as i64
            };
            let quantity = wanted - cover + self.rng.below(3) as i64;
            if quantity > 0 {
                lines.push(
                    json!({ "sku": item.0, "quantity": quantity, "unit_price_minor": item.3 }),
                );
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let value: i64 = lines
            .iter()
            .map(|line| {
                line["quantity"].as_i64().unwrap_or(0)
                    * line["unit_price_minor"].as_i64().unwrap_or(0)
            })
            .sum();
        let body = json!({ "command": "place_purchase_order", "purchase_order": id, "supplier": supplier,
            "location": center, "currency": "USD", "lines": lines });
        if !self.submit(at, &body.to_string())? {
            return Ok(());
        }
        let (confirm_at, arrive_at) = if opening {
            (later(at, minutes(1)), later(at, minutes(2)))
        } else {
            let slip = if supplier == "SUP-ACME" {
                self.below(4) as i64 - 1
            } else {
                self.below(9) as i64 - 2
            };
            (
                later(at, hours(20)),
                later(at, hours(24 * (lead + slip) + 3)),
            )
        };
        let committed = date_of(later(at, hours(24 * lead + 12)));
        self.command(
            confirm_at,
            json!({ "command": "confirm_purchase_order", "purchase_order": id,
            "committed_on": committed }),
        );
        let reject_rate = if supplier == "SUP-ACME" { 20 } else { 60 };
        let receipt_lines: Vec<Value> = (0..lines.len())
            .map(|line| {
                let quantity = lines[line]["quantity"].as_i64().unwrap_or(0);
                if !opening && self.chance(reject_rate) {
                    let rejected = 1 + (quantity / 20).min(5);
                    json!({ "line": line, "accepted": quantity - rejected, "rejected": rejected,
                        "reject_reason": "damaged" })
                } else {
                    json!({ "line": line, "accepted": quantity })
                }
            })
            .collect();
        let rejected_value: i64 = receipt_lines
            .iter()
            .zip(&lines)
            .map(|(receipt, line)| {
                receipt["rejected"].as_i64().unwrap_or(0)
                    * line["unit_price_minor"].as_i64().unwrap_or(0)
            })
            .sum();
        self.command(arrive_at, json!({ "command": "receive_purchase_order", "purchase_order": id,
            "receipt": format!("RC-{number}"), "lines": receipt_lines, "arrived_at": arrive_at.to_string() }));
        let mismatch = if !opening && self.chance(80) {
            value / 100
        } else {
            0
        };
        let billed = value - rejected_value + mismatch;
        let bill_at = later(arrive_at, hours(26));
        self.command(bill_at, json!({ "command": "bill_purchase_order", "purchase_order": id,
            "bill": format!("B-{number}"), "amount": usd(billed), "due_on": date_of(later(bill_at, hours(24 * 30))) }));
        self.command(
            later(bill_at, hours(24 * 30)),
            json!({ "command": "pay_purchase_order",
            "purchase_order": id, "payment": format!("PP-{number}"), "amount": usd(billed) }),
        );
        Ok(())
    }

    fn place_order(&mut self, at: Timestamp) -> Result<(), YearError> {
        let number = self.orders.len() + 1;
        let id = format!("SO-{number:06}");
        let center = self.below(2) as usize;
        let (zone, region) = if center == 0 {
            ("America/New_York", "NY")
        } else {
            ("America/Los_Angeles", "CA")
        };
        let line_count = 1 + usize::from(self.chance(400)) + usize::from(self.chance(100));
        let mut lines: Vec<(usize, i64)> = Vec::new();
        while lines.len() < line_count {
            let item = if center == 0 && self.chance(80) {
                ITEMS.len() - 1
            } else {
                self.below(ITEMS.len() as u64 - 1) as usize
            };
            if !lines.iter().any(|(known, _)| *known == item) {
                let quantity = 1 + i64::from(self.chance(300)) + i64::from(self.chance(100));
                lines.push((item, quantity));
            }
        }
        let express = self.chance(120);
        let channel = CHANNELS[match self.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }];
        let local_date = at.checked_sub(hours(5)).map(date_of).unwrap_or_default();
        let promised = at
            .checked_add(hours(24 * if express { 2 } else { 5 }))
            .map(|day| day.checked_sub(hours(5)).map(date_of).unwrap_or_default())
            .unwrap_or(local_date);
        let total_minor: i64 = lines
            .iter()
            .map(|(item, quantity)| ITEMS[*item].4 * quantity)
            .sum();
        let body = json!({ "command": "place_sales_order", "order": id, "channel": channel,
            "customer": format!("C-{}", self.below(5000)), "ship_to": address(zone, region),
            "currency": "USD",
            "lines": lines.iter().map(|(item, quantity)| json!({ "sku": ITEMS[*item].0,
                "quantity": quantity, "unit_price_minor": ITEMS[*item].4 })).collect::<Vec<_>>(),
            "promise": { "source": "shown_at_checkout", "deliver_by": promised,
                "ship_by": later(at, hours(24)).to_string() },
            "service_level": if express { "express" } else { "standard" } });
        self.summary.orders += 1;
        self.orders.push(Order {
            id,
            lines,
            center,
            express,
            total_minor,
        });
        if self.submit(at, &body.to_string())? {
            let index = self.orders.len() - 1;
            self.at(later(at, minutes(2)), Step::Allocate { order: index });
        }
        Ok(())
    }

    fn allocation(&self, order: &Order, center: usize, policy: &str) -> String {
        let lines: Vec<Value> = order
            .lines
            .iter()
            .enumerate()
            .map(|(line, (_, quantity))| json!({ "line": line, "location": CENTERS[center].0, "quantity": quantity }))
            .collect();
        json!({ "command": "allocate_sales_order", "order": order.id, "shortage": policy, "lines": lines }).to_string()
    }

    fn allocate(&mut self, at: Timestamp, index: usize) -> Result<(), YearError> {
        let order = self.orders[index].clone();
        let kit = order.lines.iter().any(|(item, _)| ITEMS[*item].0 == "GIFT");
        let candidates = if kit {
            vec![0]
        } else {
            vec![order.center, 1 - order.center]
        };
        for center in candidates {
            if self.submit(at, &self.allocation(&order, center, "reject"))? {
                self.orders[index].center = center;
                let slow = self.chance(150);
                let wait = 2 + self.below(if slow { 40 } else { 18 }) as i64;
                self.at(later(at, hours(wait)), Step::Fulfil { order: index });
                return Ok(());
            }
        }
        // No center has it all: the order waits for stock, and stays open (late, in time).
        let body = json!({ "command": "allocate_sales_order", "order": order.id, "shortage": "backorder" });
        self.submit(at, &body.to_string())?;
        Ok(())
    }

    fn fulfil(&mut self, at: Timestamp, index: usize) -> Result<(), YearError> {
        let order = self.orders[index].clone();
        let center = CENTERS[order.center].0;
        let lines: Vec<Value> = order
            .lines
            .iter()
            .enumerate()
            .map(|(line, (_, quantity))| json!({ "line": line, "quantity": quantity }))
            .collect();
        let steps = [
            json!({ "command": "pick_sales_order", "order": order.id, "location": center, "lines": lines }),
            json!({ "command": "pack_sales_order", "order": order.id, "location": center, "lines": lines }),
        ];
        for (offset, step) in steps.iter().enumerate() {
            if !self.submit(later(at, minutes(offset as i64 * 30)), &step.to_string())? {
                return Ok(());
            }
        }
        let (carrier, service) = if order.express {
            ("UPS", "air")
        } else if self.chance(400) {
            ("FEDEX", "ground")
        } else {
            ("UPS", "ground")
        };
        let weight: i64 = order
            .lines
            .iter()
            .map(|(item, quantity)| ITEMS[*item].5 * quantity)
            .sum();
        let ship_at = later(at, minutes(90));
        let ship = json!({ "command": "ship_sales_order", "order": order.id, "shipment": format!("SH-{}", order.id),
            "location": center, "carrier": carrier, "service": service, "weight_g": weight + 150,
            "lines": lines });
        if !self.submit(ship_at, &ship.to_string())? {
            return Ok(());
        }
        let invoice = json!({ "command": "invoice_sales_order", "order": order.id, "invoice": format!("IN-{}", order.id) });
        self.submit(later(ship_at, minutes(1)), &invoice.to_string())?;
        let transit_hours = if order.express {
            18 + self.below(30) as i64
        } else {
            let slow = if carrier == "FEDEX" { 24 } else { 0 };
            let delayed = self.chance(120);
            48 + slow + self.below(if delayed { 150 } else { 60 }) as i64
        };
        self.at(
            later(ship_at, hours(transit_hours)),
            Step::Deliver { order: index },
        );
        let paid_after = 24 + self.below(24 * 12) as i64;
        self.command(
            later(ship_at, hours(paid_after)),
            json!({ "command": "receive_payment", "order": order.id,
            "payment": format!("PAY-{}", order.id), "amount": usd(order.total_minor) }),
        );
        Ok(())
    }

    fn deliver(&mut self, at: Timestamp, index: usize) -> Result<(), YearError> {
        let order = self.orders[index].clone();
        let damaged = self.chance(20);
        let body = json!({ "command": "deliver_shipment", "order": order.id, "shipment": format!("SH-{}", order.id),
            "delivered_at": at.to_string(), "condition": if damaged { "damaged" } else { "intact" } });
        if !self.submit(at, &body.to_string())? {
            return Ok(());
        }
        if self.chance(12) {
            self.command(later(at, hours(30)), json!({ "command": "issue_credit_note", "order": order.id,
                "credit_note": format!("CN-{}", order.id), "amount": usd(300), "reason": "billing_error" }));
        }
        if damaged || self.chance(70) {
            let after = 24 * (2 + self.below(18) as i64);
            self.at(later(at, hours(after)), Step::Return { order: index });
        }
        Ok(())
    }

    fn return_order(&mut self, at: Timestamp, index: usize) -> Result<(), YearError> {
        let order = self.orders[index].clone();
        let mut roll = self.below(100);
        let mut reason = RETURN_REASONS[0].0;
        for (name, weight) in RETURN_REASONS {
            if roll < weight {
                reason = name;
                break;
            }
            roll -= weight;
        }
        let (item, quantity) = order.lines[0];
        let id = format!("RA-{}", order.id);
        let body = json!({ "command": "authorise_return", "return_id": id, "order": order.id, "policy": "STANDARD",
            "lines": [ { "line": 0, "quantity": quantity, "reason": reason } ] });
        if !self.submit(at, &body.to_string())? {
            return Ok(());
        }
        let received = later(at, hours(24 * (3 + self.below(6) as i64)));
        let defective = matches!(reason, "defective" | "damaged_in_transit");
        let condition = if defective {
            "defective"
        } else if self.chance(700) {
            "new"
        } else {
            "used"
        };
        let disposition = if defective {
            json!({ "kind": "scrap" })
        } else {
            json!({ "kind": "restock", "location": CENTERS[order.center].0 })
        };
        let processed = later(received, hours(6 + self.below(24 * 5) as i64));
        let steps = [
            (
                later(at, minutes(5)),
                json!({ "command": "issue_return_label", "return_id": id, "carrier": "UPS",
                "service": "ground", "tracking": format!("1Z{}", order.id), "cost": usd(650) }),
            ),
            (
                received,
                json!({ "command": "receive_return", "return_id": id, "lines": [ { "line": 0, "quantity": quantity } ] }),
            ),
            (
                later(received, hours(3)),
                json!({ "command": "inspect_return", "return_id": id,
                "lines": [ { "line": 0, "quantity": quantity, "condition": condition } ] }),
            ),
            (
                later(received, hours(4)),
                json!({ "command": "dispose_return", "return_id": id,
                "lines": [ { "line": 0, "quantity": quantity, "disposition": disposition } ] }),
            ),
            (
                processed,
                json!({ "command": "refund_return", "return_id": id, "refund": format!("RF-{}", order.id),
                "amount": usd(ITEMS[item].4 * quantity) }),
            ),
        ];
        for (when, step) in steps {
            self.command(when, step);
        }
        Ok(())
    }

    fn daily(&mut self, day: i64) -> Result<(), YearError> {
        let morning = later(start(), hours(24 * day + 8));
        // Kitting: the gift boxes sold at FC-EAST are made every morning.
        self.at(morning, Step::Kit { day });
        // Orders through the day.
        let count = self.orders_per_day / 2 + self.below(self.orders_per_day + 1);
        for _ in 0..count {
            let at = later(
                start(),
                hours(24 * day) + minutes(7 * 60 + self.below(15 * 60) as i64),
            );
            self.at(at, Step::Place);
        }
        if day % 7 == 3 {
            for center in 0..CENTERS.len() {
                for supplier in 0..2 {
                    self.at(
                        later(morning, hours(2)),
                        Step::Purchase { center, supplier },
                    );
                }
            }
        }
        let date = later(start(), hours(24 * day + 12))
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        if date.day() == 1 {
            let noon = later(start(), hours(24 * day + 12));
            let scale = self.orders_per_day as i64;
            for (process, kind, amount) in [
                ("plan", "software", 90_000),
                ("source", "labour", 1_500 * scale),
                ("make", "labour", 2_500 * scale),
                ("deliver", "carrier", 22_000 * scale),
                ("return", "labour", 1_200 * scale),
                ("enable", "software", 60_000),
            ] {
                self.command(noon, json!({ "command": "post_cost", "cost": format!("COST-{day}-{process}"),
                    "process": process, "cost_type": kind, "amount": usd(amount), "settlement": "paid" }));
            }
            self.command(
                later(noon, hours(1)),
                json!({ "command": "depreciate_fixed_asset", "asset": "CONVEYOR-1" }),
            );
        }
        if day == 90 {
            self.command(morning, json!({ "command": "set_target", "target": "T-SUPPLIER",
                "metric": "rl.perfect_supplier_order", "value_milli": 90_000, "direction": "at_least",
                "scope": { "dimension": "supplier", "value": "SUP-BOLT" } }));
        }
        if day == 181 {
            self.command(morning, json!({ "command": "create_initiative", "initiative": "I-CARRIER",
                "name": "Second ground carrier for the west", "metrics": ["rl.on_time", "rs.order_cycle_time"],
                "owner": "Logistics", "expected_effect": "+3 points of on-time delivery",
                "starts_on": date_of(morning) }));
            self.command(
                later(morning, hours(2)),
                json!({ "command": "update_initiative", "initiative": "I-CARRIER",
                "status": "in_progress", "note": "contract signed" }),
            );
        }
        Ok(())
    }

    /// Units of gift boxes kitted each day.
    fn kits_per_day(&self) -> i64 {
        (self.orders_per_day / 3).max(2) as i64
    }

    /// A kitting work order; started and completed only if its components were there.
    fn kit(&mut self, at: Timestamp, day: i64) -> Result<(), YearError> {
        let work_order = format!("WO-{day:03}");
        let quantity = self.kits_per_day();
        let failed = i64::from(self.chance(250)) + i64::from(self.chance(80));
        let create = json!({ "command": "create_work_order", "work_order": work_order,
            "kind": "kitting", "item": "GIFT", "quantity": quantity, "location": "FC-EAST" });
        if !self.submit(at, &create.to_string())? {
            return Ok(());
        }
        self.command(
            later(at, minutes(30)),
            json!({ "command": "start_work_order", "work_order": work_order }),
        );
        self.command(
            later(at, hours(3)),
            json!({ "command": "complete_work_order", "work_order": work_order,
                "passed": quantity - failed, "failed": failed,
                "note": if failed > 0 { Value::from("seal failed inspection") } else { Value::Null } }),
        );
        Ok(())
    }

    fn step(&mut self, at: Timestamp, step: Step) -> Result<(), YearError> {
        match step {
            Step::Command(body) => {
                self.submit(at, &body)?;
            }
            Step::Place => self.place_order(at)?,
            Step::Kit { day } => self.kit(at, day)?,
            Step::Purchase { center, supplier } => {
                let supplier = ["SUP-ACME", "SUP-BOLT"][supplier];
                self.purchase(at, CENTERS[center].0, supplier, 1, false)?;
            }
            Step::Allocate { order } => self.allocate(at, order)?,
            Step::Fulfil { order } => self.fulfil(at, order)?,
            Step::Deliver { order } => self.deliver(at, order)?,
            Step::Return { order } => self.return_order(at, order)?,
        }
        Ok(())
    }

    fn run(&mut self, days: i64) -> Result<(), YearError> {
        self.setup()?;
        for day in 0..days {
            self.daily(day)?;
            // Everything due before the next day starts, in time order; steps scheduled while
            // running are always later than the one that scheduled them.
            let until = later(start(), hours(24 * (day + 1)));
            while self
                .queue
                .peek()
                .is_some_and(|Reverse((at, _, _))| *at < until)
            {
                if let Some(Reverse((at, _, step))) = self.queue.pop() {
                    self.step(at, step)?;
                }
            }
        }
        Ok(())
    }
}

/// Writes the year into the log at `path` (created if missing) and registers the tenant.
pub fn write(path: &Path, options: &YearOptions) -> Result<YearSummary, YearError> {
    let tenant =
        TenantId::parse(&options.tenant).map_err(|error| YearError::Tenant(error.to_string()))?;
    let mut engine_options = EngineOptions::durable();
    engine_options.store = OpenOptions::relaxed();
    let engine = Engine::open(path, engine_options)?;
    let mut year = Year {
        engine: &engine,
        tenant,
        rng: Lcg::new(options.seed),
        queue: BinaryHeap::new(),
        sequence: 0,
        orders: Vec::new(),
        orders_per_day: options.orders_per_day.max(1),
        purchases: 0,
        summary: YearSummary::default(),
    };
    let result = year.run(options.days);
    let summary = year.summary.clone();
    let tenant = year.tenant.clone();
    engine.shutdown();
    drop(engine);
    result?;
    let mut store = SqliteStore::open(path, &OpenOptions::durable())?;
    store.register_tenant(&TenantRecord {
        tenant,
        name: options.tenant.clone(),
        created_at: start(),
    })?;
    Ok(summary)
}
