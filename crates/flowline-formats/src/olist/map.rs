//! The second stage of the Olist import: typed rows to commands (the rules are in the module
//! docs of [`super`] and in `docs/import.md`).

use super::OlistImport;
use super::parse::{ItemRow, OrderRow, Parsed, PaymentRow, Place, Status, TIME_ZONE};
use super::report::{ImportReport, SkipReason};
use crate::error::{ImportError, Problem, ProblemKind, Problems};
use flowline_core::Command;
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::documents::sales_order::{
    AllocateSalesOrder, AllocationRequest, CancelSalesOrder, DeliverShipment, DeliveryCondition,
    HoldSalesOrder, Initiator, InvoiceSalesOrder, LineQuantity, OrderLineInput, PackSalesOrder,
    PickSalesOrder, PlaceSalesOrder, Promise, PromiseSource, ReceivePayment, ReleaseSalesOrder,
    ShipSalesOrder, ShortagePolicy,
};
use flowline_core::id::{
    AdjustmentId, CarrierId, ChannelId, InvoiceId, LocationId, PaymentId, ReasonCode, SalesOrderId,
    ServiceCode, ShipmentId, Sku,
};
use flowline_core::master::{Address, CarrierService, TimeZoneName, TransportMode};
use flowline_core::money::{Currency, Money};
use flowline_core::state::{DefineCarrier, DefineItem, DefineLocation};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The SKU of the placeholder line of orders whose item rows are not in the file.
pub(super) const PLACEHOLDER_SKU: &str = "OLIST-UNLISTED";
/// The center the placeholder line is fulfilled from.
pub(super) const PLACEHOLDER_CENTER: &str = "S-UNLISTED";

/// The constant values of the mapping, validated once.
struct Fixed {
    brl: Currency,
    zone: TimeZoneName,
    channel: ChannelId,
    carrier: CarrierId,
    service: ServiceCode,
    placeholder_sku: Sku,
    placeholder_center: LocationId,
    hold_payment: ReasonCode,
    marketplace_cancelled: ReasonCode,
    out_of_stock: ReasonCode,
    opening_balance: ReasonCode,
}

impl Fixed {
    fn new() -> Result<Self, String> {
        let text = |error: flowline_core::id::IdError| error.to_string();
        Ok(Self {
            brl: Currency::parse("BRL").map_err(|error| error.to_string())?,
            zone: TimeZoneName::parse(TIME_ZONE)?,
            channel: ChannelId::parse("olist").map_err(text)?,
            carrier: CarrierId::parse("olist").map_err(text)?,
            service: ServiceCode::parse("standard").map_err(text)?,
            placeholder_sku: Sku::parse(PLACEHOLDER_SKU).map_err(text)?,
            placeholder_center: LocationId::parse(PLACEHOLDER_CENTER).map_err(text)?,
            hold_payment: ReasonCode::parse("payment").map_err(text)?,
            marketplace_cancelled: ReasonCode::parse("marketplace_cancelled").map_err(text)?,
            out_of_stock: ReasonCode::parse("out_of_stock").map_err(text)?,
            opening_balance: ReasonCode::parse("opening_balance").map_err(text)?,
        })
    }

    fn brazil(&self, place: Option<&Place>) -> Address {
        Address {
            recipient: None,
            lines: Vec::new(),
            city: place.map(|p| p.city.clone()).unwrap_or_default(),
            region: place.map(|p| p.state.clone()).unwrap_or_default(),
            postal_code: place.map(|p| p.zip_prefix.clone()).unwrap_or_default(),
            country: "BR".into(),
            time_zone: self.zone.clone(),
            coordinates: None,
        }
    }
}

/// An order line as the import will place it.
#[derive(Debug)]
struct Line {
    sku: Sku,
    center: LocationId,
    quantity: i64,
    unit_price_minor: i64,
}

/// Who cancels an order that Olist marks as not fulfilled, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancellation {
    /// `canceled`: recorded by the marketplace, initiator the customer.
    ByMarketplace,
    /// `unavailable`: the seller had no stock.
    OutOfStock,
}

/// When each step of an order happens, `None` for a step not recorded.
#[derive(Debug, Default)]
struct Timeline {
    hold: bool,
    release_at: Option<Timestamp>,
    allocate_at: Option<Timestamp>,
    payments_at: Option<Timestamp>,
    ship_at: Option<Timestamp>,
    deliver_at: Option<Timestamp>,
    cancel: Option<Cancellation>,
    cancel_at: Option<Timestamp>,
    released_without_approval: bool,
    cut_short: bool,
}

/// How far an order's status says it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    Place,
    Release,
    Allocate,
    Ship,
    Deliver,
}

fn timeline(order: &OrderRow) -> Timeline {
    let reach = match order.status {
        Status::Created => Reach::Place,
        Status::Unavailable => Reach::Release,
        Status::Approved | Status::Invoiced | Status::Processing => Reach::Allocate,
        // A cancelled order's delivery time is not recorded as a delivery: the marketplace's last
        // word on the order is that it was cancelled, so it is not counted as delivered.
        Status::Shipped | Status::Canceled => Reach::Ship,
        Status::Delivered => Reach::Deliver,
    };
    let mut timeline = Timeline {
        // A created order is recorded as placed only: nothing says it awaits payment.
        hold: order.status != Status::Created,
        ..Timeline::default()
    };
    if timeline.hold {
        timeline.release_at = order.approved_at;
        // An order that reached the warehouse had its payment accepted even if the approval
        // time is missing; a cancelled one without approval never left the hold.
        if timeline.release_at.is_none()
            && reach >= Reach::Allocate
            && order.status != Status::Canceled
        {
            timeline.release_at = Some(order.purchased_at);
            timeline.released_without_approval = true;
        }
    }
    timeline.payments_at = timeline.release_at;
    if reach >= Reach::Allocate {
        timeline.allocate_at = timeline.release_at;
    }
    if reach >= Reach::Ship && timeline.allocate_at.is_some() {
        timeline.ship_at = order.carrier_at;
    }
    if reach >= Reach::Deliver && timeline.ship_at.is_some() {
        timeline.deliver_at = order.delivered_at;
    }
    timeline.cut_short = order.status == Status::Shipped && timeline.ship_at.is_none();
    timeline.cancel = match order.status {
        // Olist does not say who cancelled; a marketplace cancellation is most often the
        // buyer's (payment not completed, changed mind), so the customer is the initiator.
        Status::Canceled => Some(Cancellation::ByMarketplace),
        Status::Unavailable => Some(Cancellation::OutOfStock),
        _ => None,
    };
    // Olist records no cancellation time: the last thing known to have happened is the
    // latest time the order carries.
    timeline.cancel_at = [
        Some(order.purchased_at),
        order.approved_at,
        order.carrier_at,
        order.delivered_at,
    ]
    .into_iter()
    .flatten()
    .max();
    timeline
}

/// Why an order cannot be mapped, if it cannot.
fn unmappable(order: &OrderRow, timeline: &Timeline) -> Option<SkipReason> {
    if order.status == Status::Delivered {
        if order.delivered_at.is_none() {
            return Some(SkipReason::DeliveredWithoutDeliveryTime);
        }
        if order.carrier_at.is_none() {
            return Some(SkipReason::DeliveredWithoutCarrierTime);
        }
    }
    match (timeline.ship_at, timeline.deliver_at) {
        (Some(shipped), Some(delivered)) if delivered < shipped => {
            Some(SkipReason::DeliveryBeforeCarrier)
        }
        _ => None,
    }
}

/// An order the import will record.
struct Plan<'p> {
    order: &'p OrderRow,
    timeline: Timeline,
    lines: Vec<Line>,
    shipping_minor: i64,
    placeholder: bool,
    payments: Vec<&'p PaymentRow>,
}

/// Commands with their business times, counted by kind.
struct Output {
    submissions: Vec<(Command, Timestamp)>,
    counts: BTreeMap<String, u64>,
}

impl Output {
    fn push(&mut self, command: Command, at: Timestamp) {
        *self.counts.entry(command.name().to_string()).or_default() += 1;
        self.submissions.push((command, at));
    }
}

/// An id built from an order id and a suffix; the order id is at most 64 characters, so the
/// result may not fit and is then reported against the order.
fn derived<T>(
    order: &OrderRow,
    suffix: &str,
    parse: fn(&str) -> Result<T, flowline_core::id::IdError>,
    problems: &mut Problems,
) -> Option<T> {
    match parse(&format!("{}-{suffix}", order.id)) {
        Ok(id) => Some(id),
        Err(error) => {
            problems.push(Problem {
                file: super::ORDERS.to_string(),
                line: Some(order.line),
                column: Some("order_id".into()),
                value: Some(order.id.to_string()),
                kind: ProblemKind::Identifier {
                    reason: format!("too long to derive `{suffix}` ids from: {error}"),
                },
            });
            None
        }
    }
}

/// Maps the parsed rows to commands.
pub(super) fn map(parsed: &Parsed) -> Result<OlistImport, ImportError> {
    let mut problems = Problems::default();
    let fixed = match Fixed::new() {
        Ok(fixed) => fixed,
        Err(reason) => {
            problems.push(Problem {
                file: super::ORDERS.to_string(),
                line: None,
                column: None,
                value: None,
                kind: ProblemKind::Identifier { reason },
            });
            return problems.into_result(OlistImport {
                submissions: Vec::new(),
                report: ImportReport::default(),
            });
        }
    };
    let mut report = ImportReport {
        date_formats: parsed.date_formats.clone(),
        timestamps_in_gap: parsed.in_gap,
        timestamps_in_fold: parsed.in_fold,
        reviews_read: parsed.reviews.len() as u64,
        empty_rows_skipped: parsed.empty_rows.clone(),
        files_absent: super::OPTIONAL
            .iter()
            .filter(|(name, _)| parsed.absent.iter().any(|absent| absent == name))
            .map(|(name, assumed)| ((*name).to_string(), (*assumed).to_string()))
            .collect(),
        ..ImportReport::default()
    };
    let skip = |reason: SkipReason, report: &mut ImportReport| {
        *report.rows_skipped.entry(reason).or_default() += 1;
    };
    for order in &parsed.orders {
        *report
            .orders_by_status
            .entry(order.status.as_str().to_string())
            .or_default() += 1;
    }
    let orders_in_file: HashSet<&str> = parsed.orders.iter().map(|o| o.id.as_str()).collect();

    // Decide which orders are recorded.
    let mut skipped: HashSet<&str> = HashSet::new();
    let mut planned: Vec<(&OrderRow, Timeline)> = Vec::new();
    for order in &parsed.orders {
        let timeline = timeline(order);
        match unmappable(order, &timeline) {
            Some(reason) => {
                skip(reason, &mut report);
                skipped.insert(order.id.as_str());
            }
            None => planned.push((order, timeline)),
        }
    }

    // Join the item and payment rows to the recorded orders, in file order.
    let mut items_of: HashMap<&str, Vec<&ItemRow>> = HashMap::new();
    for item in &parsed.items {
        if !orders_in_file.contains(item.order.as_str()) {
            skip(SkipReason::ItemOfAbsentOrder, &mut report);
        } else if skipped.contains(item.order.as_str()) {
            skip(SkipReason::ItemOfSkippedOrder, &mut report);
        } else {
            items_of.entry(&item.order).or_default().push(item);
        }
    }
    let mut payments_of: HashMap<&str, Vec<&PaymentRow>> = HashMap::new();
    for payment in &parsed.payments {
        if !orders_in_file.contains(payment.order.as_str()) {
            skip(SkipReason::PaymentOfAbsentOrder, &mut report);
        } else if skipped.contains(payment.order.as_str()) {
            skip(SkipReason::PaymentOfSkippedOrder, &mut report);
        } else {
            payments_of.entry(&payment.order).or_default().push(payment);
        }
    }
    for review in &parsed.reviews {
        if !orders_in_file.contains(review.order.as_str()) {
            skip(SkipReason::ReviewOfAbsentOrder, &mut report);
        } else if !skipped.contains(review.order.as_str()) {
            report.reviews_of_imported_orders += 1;
        }
    }

    // Lines per order: item rows grouped by (product, seller, price), or the placeholder.
    let mut plans: Vec<Plan<'_>> = Vec::with_capacity(planned.len());
    for (order, timeline) in planned {
        let mut payments = payments_of.remove(order.id.as_str()).unwrap_or_default();
        payments.sort_by_key(|payment| (payment.sequential, payment.line));
        let items = items_of.remove(order.id.as_str()).unwrap_or_default();
        let mut lines: Vec<Line> = Vec::new();
        let mut shipping_minor: i64 = 0;
        for item in &items {
            shipping_minor = shipping_minor.saturating_add(item.freight_minor);
            let same = lines.iter_mut().find(|line| {
                line.sku == item.product
                    && line.center == item.location
                    && line.unit_price_minor == item.price_minor
            });
            match same {
                Some(line) => line.quantity += 1,
                None => lines.push(Line {
                    sku: item.product.clone(),
                    center: item.location.clone(),
                    quantity: 1,
                    unit_price_minor: item.price_minor,
                }),
            }
        }
        let placeholder = lines.is_empty();
        if placeholder {
            let paid: i64 = payments
                .iter()
                .map(|payment| payment.value_minor)
                .fold(0, i64::saturating_add);
            lines.push(Line {
                sku: fixed.placeholder_sku.clone(),
                center: fixed.placeholder_center.clone(),
                quantity: 1,
                unit_price_minor: paid,
            });
        }
        plans.push(Plan {
            order,
            timeline,
            lines,
            shipping_minor,
            placeholder,
            payments,
        });
    }
    plans.sort_by(|a, b| {
        (a.order.purchased_at, &a.order.id).cmp(&(b.order.purchased_at, &b.order.id))
    });

    let mut output = Output {
        submissions: Vec::new(),
        counts: BTreeMap::new(),
    };
    let Some(opening_at) = plans.iter().map(|plan| plan.order.purchased_at).min() else {
        report.commands_by_kind = output.counts;
        return problems.into_result(OlistImport {
            submissions: output.submissions,
            report,
        });
    };
    report.opening_at = Some(opening_at);

    // Items: every product of a recorded line, priced at the first price seen in the items
    // file; the placeholder if any order needs it.
    let recorded: HashSet<&str> = plans.iter().map(|plan| plan.order.id.as_str()).collect();
    let mut first_price: BTreeMap<&Sku, i64> = BTreeMap::new();
    let mut sellers: BTreeMap<&LocationId, &str> = BTreeMap::new();
    for item in &parsed.items {
        if recorded.contains(item.order.as_str()) {
            first_price.entry(&item.product).or_insert(item.price_minor);
            sellers.entry(&item.location).or_insert(&item.seller);
        }
    }
    let any_placeholder = plans.iter().any(|plan| plan.placeholder);
    let mut weight_of: HashMap<&Sku, i64> = HashMap::new();
    for (sku, price_minor) in &first_price {
        let product = parsed.products.get(sku.as_str());
        if product.is_none() {
            report.products_not_in_products_file += 1;
        }
        let category = product.and_then(|p| p.category.as_deref());
        let name = category
            .map(|portuguese| {
                parsed
                    .categories
                    .get(portuguese)
                    .map_or(portuguese, String::as_str)
            })
            .unwrap_or("unknown");
        let weight_g = product.and_then(|p| p.weight_g).unwrap_or(0);
        weight_of.insert(sku, weight_g);
        output.push(
            Command::DefineItem(DefineItem {
                sku: (*sku).clone(),
                name: name.to_string(),
                unit: "each".into(),
                unit_cost: Money::zero(fixed.brl),
                price: Money::new(*price_minor, fixed.brl),
                weight_g,
                dimensions: product.and_then(|p| p.dimensions),
                hs_code: None,
                country_of_origin: None,
                category: Some(name.to_string()),
                bom: None,
            }),
            opening_at,
        );
    }
    if any_placeholder {
        output.push(
            Command::DefineItem(DefineItem {
                sku: fixed.placeholder_sku.clone(),
                name: "Olist order without item rows in the file".into(),
                unit: "each".into(),
                unit_cost: Money::zero(fixed.brl),
                price: Money::zero(fixed.brl),
                weight_g: 0,
                dimensions: None,
                hs_code: None,
                country_of_origin: None,
                category: None,
                bom: None,
            }),
            opening_at,
        );
    }
    report.items_defined = first_price.len() as u64 + u64::from(any_placeholder);

    // Centers: one per seller, and the placeholder's.
    for (center, seller) in &sellers {
        let place = parsed.sellers.get(*seller);
        if place.is_none() {
            report.sellers_not_in_sellers_file += 1;
        }
        output.push(
            Command::DefineLocation(DefineLocation {
                capacity_orders_per_day: None,
                location: (*center).clone(),
                name: place.map_or_else(|| format!("seller {seller}"), |p| p.city.clone()),
                region: place.map(|p| p.state.clone()).unwrap_or_default(),
                address: fixed.brazil(place),
            }),
            opening_at,
        );
    }
    if any_placeholder {
        output.push(
            Command::DefineLocation(DefineLocation {
                capacity_orders_per_day: None,
                location: fixed.placeholder_center.clone(),
                name: "Olist sellers of orders without item rows".into(),
                region: String::new(),
                address: fixed.brazil(None),
            }),
            opening_at,
        );
    }
    report.centers_defined = sellers.len() as u64 + u64::from(any_placeholder);

    output.push(
        Command::DefineCarrier(DefineCarrier {
            carrier: fixed.carrier.clone(),
            name: "Olist".into(),
            services: vec![CarrierService {
                code: fixed.service.clone(),
                mode: TransportMode::Road,
                // Olist publishes no transit times; 0 says "unknown" rather than inventing one.
                transit_days: 0,
            }],
        }),
        opening_at,
    );

    // Opening stock: exactly what the recorded orders allocate, per center and item.
    let mut demand: BTreeMap<&LocationId, BTreeMap<&Sku, i64>> = BTreeMap::new();
    for plan in &plans {
        if plan.timeline.allocate_at.is_some() {
            for line in &plan.lines {
                *demand
                    .entry(&line.center)
                    .or_default()
                    .entry(&line.sku)
                    .or_default() += line.quantity;
            }
        }
    }
    for (center, items) in &demand {
        let Ok(adjustment) = AdjustmentId::parse(&format!("olist-opening-{center}")) else {
            problems.push(Problem {
                file: super::ITEMS.to_string(),
                line: None,
                column: Some("seller_id".into()),
                value: Some(center.to_string()),
                kind: ProblemKind::Identifier {
                    reason: "too long to derive an opening-stock adjustment id from".into(),
                },
            });
            continue;
        };
        output.push(
            Command::AdjustStock(AdjustStock {
                adjustment,
                location: (*center).clone(),
                reason: fixed.opening_balance.clone(),
                lines: items
                    .iter()
                    .map(|(sku, quantity)| AdjustLineInput {
                        sku: (*sku).clone(),
                        quantity: *quantity,
                        unit_cost_minor: Some(0),
                    })
                    .collect(),
            }),
            opening_at,
        );
    }

    // Each order's commands, together.
    for plan in &plans {
        let order = plan.order;
        *report
            .orders_imported_by_status
            .entry(order.status.as_str().to_string())
            .or_default() += 1;
        report.orders_imported += 1;
        report.orders_with_placeholder_line += u64::from(plan.placeholder);
        report.released_without_approval += u64::from(plan.timeline.released_without_approval);
        report.timelines_cut_short += u64::from(plan.timeline.cut_short);
        if let Some(shipped) = plan.timeline.ship_at {
            if order.approved_at.is_some_and(|approved| shipped < approved) {
                report.carrier_before_approval += 1;
            }
            if shipped < order.purchased_at {
                report.carrier_before_purchase += 1;
            }
        }
        let customer = parsed.customers.get(order.customer.as_str());
        report.orders_with_customer_address += u64::from(customer.is_some());
        order_commands(
            plan,
            &fixed,
            customer,
            &weight_of,
            &mut output,
            &mut report,
            &mut problems,
        );
    }
    report.commands = output.submissions.len() as u64;
    report.commands_by_kind = output.counts;
    problems.into_result(OlistImport {
        submissions: output.submissions,
        report,
    })
}

/// The commands of one order, in log order: place, hold, release, allocate, payments, then per
/// center pick, pack and ship, then invoice, deliveries and the cancellation.
fn order_commands(
    plan: &Plan<'_>,
    fixed: &Fixed,
    customer: Option<&Place>,
    weight_of: &HashMap<&Sku, i64>,
    output: &mut Output,
    report: &mut ImportReport,
    problems: &mut Problems,
) {
    let order = plan.order;
    let id: &SalesOrderId = &order.id;
    let timeline = &plan.timeline;
    let Some(invoice) = derived(order, "invoice", InvoiceId::parse, problems) else {
        return;
    };
    output.push(
        Command::PlaceSalesOrder(PlaceSalesOrder {
            contact: None,
            order: id.clone(),
            channel: fixed.channel.clone(),
            customer: order.customer.clone(),
            ship_to: fixed.brazil(customer),
            currency: fixed.brl,
            exchange_rate: None,
            lines: plan
                .lines
                .iter()
                .map(|line| OrderLineInput {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    unit_price_minor: line.unit_price_minor,
                    unit_tax_minor: 0,
                })
                .collect(),
            promise: order.estimated_on.map(|date| Promise {
                source: PromiseSource::ShownAtCheckout,
                deliver_by: Some(date),
                window: None,
                ship_by: None,
            }),
            service_level: Some("standard".into()),
            shipping_charge_minor: plan.shipping_minor,
            allocate: None,
        }),
        order.purchased_at,
    );
    if timeline.hold {
        output.push(
            Command::HoldSalesOrder(HoldSalesOrder {
                order: id.clone(),
                reason: fixed.hold_payment.clone(),
            }),
            order.purchased_at,
        );
    }
    if let Some(at) = timeline.release_at {
        output.push(
            Command::ReleaseSalesOrder(ReleaseSalesOrder { order: id.clone() }),
            at,
        );
    }
    if let Some(at) = timeline.allocate_at {
        output.push(
            Command::AllocateSalesOrder(AllocateSalesOrder {
                order: id.clone(),
                shortage: ShortagePolicy::Reject,
                // Explicit centers: the automatic choice could take the units of a product
                // from another seller that also sells it.
                lines: Some(
                    plan.lines
                        .iter()
                        .enumerate()
                        .map(|(index, line)| AllocationRequest {
                            line: index,
                            location: line.center.clone(),
                            quantity: line.quantity,
                        })
                        .collect(),
                ),
            }),
            at,
        );
    }
    payments(plan, fixed, output, report, problems);
    let mut shipments: Vec<ShipmentId> = Vec::new();
    if let Some(at) = timeline.ship_at {
        let mut by_center: BTreeMap<&LocationId, Vec<(usize, &Line)>> = BTreeMap::new();
        for (index, line) in plan.lines.iter().enumerate() {
            by_center
                .entry(&line.center)
                .or_default()
                .push((index, line));
        }
        for (number, (center, lines)) in by_center.into_iter().enumerate() {
            let Some(shipment) = derived(
                order,
                &(number + 1).to_string(),
                ShipmentId::parse,
                problems,
            ) else {
                return;
            };
            let quantities: Vec<LineQuantity> = lines
                .iter()
                .map(|(index, line)| LineQuantity {
                    line: *index,
                    quantity: line.quantity,
                })
                .collect();
            let weight_g = lines
                .iter()
                .map(|(_, line)| {
                    weight_of
                        .get(&line.sku)
                        .copied()
                        .unwrap_or(0)
                        .saturating_mul(line.quantity)
                })
                .fold(0, i64::saturating_add);
            output.push(
                Command::PickSalesOrder(PickSalesOrder {
                    order: id.clone(),
                    location: center.clone(),
                    lines: quantities.clone(),
                }),
                at,
            );
            output.push(
                Command::PackSalesOrder(PackSalesOrder {
                    order: id.clone(),
                    location: center.clone(),
                    lines: quantities.clone(),
                    package: None,
                }),
                at,
            );
            output.push(
                Command::ShipSalesOrder(ShipSalesOrder {
                    order: id.clone(),
                    shipment: shipment.clone(),
                    location: center.clone(),
                    carrier: fixed.carrier.clone(),
                    service: fixed.service.clone(),
                    tracking: None,
                    weight_g,
                    lines: quantities,
                }),
                at,
            );
            shipments.push(shipment);
        }
        output.push(
            Command::InvoiceSalesOrder(InvoiceSalesOrder {
                order: id.clone(),
                invoice,
            }),
            at,
        );
    }
    if let Some(at) = timeline.deliver_at {
        for shipment in &shipments {
            output.push(
                Command::DeliverShipment(DeliverShipment {
                    order: id.clone(),
                    shipment: shipment.clone(),
                    delivered_at: Some(at),
                    condition: DeliveryCondition::Intact,
                    misdelivered: false,
                    note: None,
                }),
                at,
            );
        }
    }
    if let (Some(cancellation), Some(at)) = (timeline.cancel, timeline.cancel_at) {
        // Every line ships in full in one go, so an order is either wholly shipped or not.
        if shipments.is_empty() {
            let (initiator, reason) = match cancellation {
                Cancellation::ByMarketplace => {
                    (Initiator::Customer, fixed.marketplace_cancelled.clone())
                }
                Cancellation::OutOfStock => (Initiator::Seller, fixed.out_of_stock.clone()),
            };
            output.push(
                Command::CancelSalesOrder(CancelSalesOrder {
                    order: id.clone(),
                    initiator,
                    reason,
                    lines: None,
                }),
                at,
            );
        } else {
            report.cancelled_after_shipping_in_full += 1;
        }
    }
}

/// One `ReceivePayment` per payment row, capped at what is still due: the domain refuses a
/// payment above the order's value less what was paid (Olist's payments include instalment
/// interest and vouchers that can exceed the items and freight).
fn payments(
    plan: &Plan<'_>,
    fixed: &Fixed,
    output: &mut Output,
    report: &mut ImportReport,
    problems: &mut Problems,
) {
    let Some(at) = plan.timeline.payments_at else {
        for _ in &plan.payments {
            *report
                .rows_skipped
                .entry(SkipReason::PaymentOfUnapprovedOrder)
                .or_default() += 1;
        }
        return;
    };
    // What the domain counts as due before any payment: every line at its price, plus
    // shipping (nothing is cancelled or invoiced yet when payments are recorded).
    let value_minor = plan
        .lines
        .iter()
        .map(|line| line.unit_price_minor.saturating_mul(line.quantity))
        .fold(plan.shipping_minor, i64::saturating_add);
    let mut paid_minor: i64 = 0;
    let mut number = 0;
    for payment in &plan.payments {
        if payment.value_minor == 0 {
            *report
                .rows_skipped
                .entry(SkipReason::ZeroPayment)
                .or_default() += 1;
            continue;
        }
        let due = (value_minor - paid_minor).max(0);
        let amount = payment.value_minor.min(due);
        if amount < payment.value_minor {
            report.payments_capped += 1;
            report.payments_capped_over_minor += payment.value_minor - amount;
        }
        if amount == 0 {
            continue;
        }
        number += 1;
        let Some(id) = derived(
            plan.order,
            &format!("payment-{number}"),
            PaymentId::parse,
            problems,
        ) else {
            return;
        };
        output.push(
            Command::ReceivePayment(ReceivePayment {
                order: plan.order.id.clone(),
                payment: id,
                amount: Money::new(amount, fixed.brl),
            }),
            at,
        );
        paid_minor += amount;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_values_are_valid() {
        assert!(Fixed::new().is_ok());
    }
}
