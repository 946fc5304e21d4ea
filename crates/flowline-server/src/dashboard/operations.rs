//! The operational views: inventory, orders and fulfillment, source, make, return.
//!
//! Open documents and positions are read from the engine's state between batches, as
//! `GET /v1/inventory` reads them; figures over a period come from the tenant's scorecard
//! fold (the same counters as `GET /v1/scorecard`); per-receipt and per-work-order history
//! from the fold's [`flowline_metrics::history::History`]. "Now", for lateness, is the latest business
//! time recorded: on a live system that is the last thing that happened.

use super::chart::{self, Bar, Line, Stack};
use super::documents::href;
use super::format::{self, decimal, grouped, money_minor};
use super::lists::list_path;
use super::page::{Html, page};
use super::scorecard::pickers;
use super::session::Viewer;
use super::{Picks, params, period_label, respond};
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;
use crate::render::Collection;
use crate::scorecard_routes::with_fold;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use flowline_core::documents::sales_order::Attention;
use flowline_core::views;
use flowline_metrics::drill::{self, Filter};
use flowline_metrics::fold::{Dimension, Fold, Pick, Slice};
use flowline_metrics::order::Segment;
use flowline_metrics::period::Range;
use flowline_metrics::scorecard::scorecard;
use flowline_metrics::value::MetricValue;
use jiff::Timestamp;
use maud::{Markup, html};
use std::collections::{BTreeMap, HashMap};

/// Days of shipments the rate of demand is taken over.
const DEMAND_DAYS: i64 = 28;

/// Rows listed in a page's longer tables, so a page stays short enough to scan; the lists
/// (`/list/{collection}`) page through the rest.
const ROWS_MAX: usize = 50;

/// The slices of a dimension present in a range, largest first.
pub fn slices_in(fold: &Fold, range: Range, dimension: Dimension, limit: usize) -> Vec<Slice> {
    let size = Pick::of(&[
        |bucket| &mut bucket.orders_closed,
        |bucket| &mut bucket.orders_shipped,
        |bucket| &mut bucket.supplier_orders,
        |bucket| &mut bucket.units_shipped,
        |bucket| &mut bucket.shipments,
    ]);
    fold.largest_slices(range, dimension, &size, limit)
}

/// A slice's value alone (`web` for `channel:web`).
pub fn slice_value(slice: &Slice) -> String {
    match slice.parts() {
        (None, _) => "all".to_string(),
        (Some(_), value) => value.to_string(),
    }
}

/// A value's cell: the value and its terms.
pub fn cell(value: Option<&MetricValue>, currency: &str) -> Markup {
    match value {
        Some(value) => html! {
            (format::value(value, currency))
            @if value.value.is_some() { span class="muted" { " (" (format::terms(value)) ")" } }
        },
        None => html! { span class="muted" { "no data" } },
    }
}

async fn fold_page(
    app: &App,
    viewer: &Viewer,
    active: &'static str,
    title: &'static str,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    access: Access,
    build: impl FnOnce(&Fold, &Picks) -> Result<Markup, ApiError> + Send + 'static,
) -> Result<Html, ApiError> {
    viewer.principal.require(access)?;
    let picks = Picks::parse(&params(query)?)?;
    let body = with_fold(app, &viewer.principal.tenant, move |fold| {
        let range = picks.range(fold);
        let header = pickers(active, fold, &picks, range);
        let content = build(fold, &picks)?;
        Ok(html! { (header) (content) })
    })
    .await?;
    Ok(page(viewer, active, title, body))
}

/// One position with the demand behind it.
struct PositionRow {
    position: views::Position,
    name: String,
    shipped: i64,
}

impl PositionRow {
    fn daily(&self) -> f64 {
        self.shipped as f64 / DEMAND_DAYS as f64
    }

    fn days_of_supply(&self) -> Option<f64> {
        let daily = self.daily();
        (daily > 0.0).then(|| self.position.available as f64 / daily)
    }

    fn cover_days(&self) -> Option<f64> {
        let daily = self.daily();
        (daily > 0.0).then(|| {
            (self.position.available + self.position.in_transit + self.position.on_order) as f64
                / daily
        })
    }
}

/// `GET /inventory`: positions by item and center, stock value, days of supply, items at risk.
pub async fn inventory(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Feed)?;
        let _ = params(query)?;
        let (positions, names, lead_days, currency) = app
            .query(&viewer.principal.tenant, |state| {
                let names: HashMap<String, String> = state
                    .items
                    .values()
                    .map(|item| (item.sku.to_string(), item.name.clone()))
                    .collect();
                let lead = state
                    .suppliers
                    .values()
                    .map(|supplier| supplier.lead_time_days)
                    .max()
                    .unwrap_or(14);
                let currency = state
                    .settings
                    .as_ref()
                    .map(|settings| settings.base_currency.to_string())
                    .unwrap_or_default();
                (views::positions(state, None, None), names, lead, currency)
            })
            .await?;
        let shipped = with_fold(&app, &viewer.principal.tenant, |fold| {
            Ok(fold.history().shipped_recently(DEMAND_DAYS))
        })
        .await
        .unwrap_or_default();
        let rows: Vec<PositionRow> = positions
            .into_iter()
            .map(|position| {
                let key = (position.sku.to_string(), position.location.to_string());
                PositionRow {
                    name: names.get(&key.0).cloned().unwrap_or_default(),
                    shipped: shipped.get(&key).copied().unwrap_or(0),
                    position,
                }
            })
            .collect();
        Ok(page(
            &viewer,
            "/inventory",
            "Inventory",
            inventory_body(&rows, lead_days, &currency),
        ))
    }
    .await;
    respond(&viewer, "/inventory", result)
}

fn inventory_body(rows: &[PositionRow], lead_days: i64, currency: &str) -> Markup {
    let mut by_center: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let entry = by_center
            .entry(row.position.location.to_string())
            .or_default();
        entry.0 += row.position.value_minor;
        entry.1 += row.position.on_hand;
    }
    let total_value: i64 = rows.iter().map(|row| row.position.value_minor).sum();
    let bars: Vec<Bar> = by_center
        .iter()
        .map(|(center, (value, units))| Bar {
            label: center.clone(),
            value: format::major(*value as f64, currency),
            note: format!(
                "{} ({} units)",
                money_minor(i128::from(*value), currency),
                grouped(i128::from(*units))
            ),
            href: Some(href(Collection::Locations, center)),
        })
        .collect();
    let mut at_risk: Vec<&PositionRow> = rows
        .iter()
        .filter(|row| row.cover_days().is_some_and(|days| days < lead_days as f64))
        .collect();
    at_risk.sort_by(|a, b| {
        a.cover_days()
            .unwrap_or(f64::MAX)
            .total_cmp(&b.cover_days().unwrap_or(f64::MAX))
    });
    let mut listed: Vec<&PositionRow> = rows.iter().collect();
    listed.sort_by_key(|row| std::cmp::Reverse(row.position.value_minor));
    html! {
        p class="lead" { "Positions per item and fulfillment center, from the stock ledger and the open documents. Demand is the units shipped from the center over the last " (DEMAND_DAYS) " days of recorded activity; days of supply = available ÷ daily demand." }
        p { "Stock value " strong data-stock-value=(total_value) { (money_minor(i128::from(total_value), currency)) } " in " (by_center.len()) " center(s), " (rows.len()) " position(s)." }
        (chart::bars("Stock value by fulfillment center", &bars, "stock value at cost"))
        h2 { "Items at risk of stockout (" (at_risk.len()) ")" }
        p class="muted" { "Available plus in transit plus on order covers fewer days of demand than the longest supplier lead time (" (lead_days) " days)." }
        @if at_risk.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th { "Item" } th { "Center" } th class="number" { "Available" } th class="number" { "In transit" } th class="number" { "On order" } th class="number" { "Demand / day" } th class="number" { "Days of supply" } th class="number" { "Cover (days)" } } }
                tbody {
                    @for row in at_risk.iter().take(ROWS_MAX) {
                        tr class="risk" {
                            td { a href=(href(Collection::Items, row.position.sku.as_str())) { (row.position.sku.as_str()) } " " span class="muted" { (row.name) } }
                            td { (row.position.location.as_str()) }
                            td class="number" { (row.position.available) }
                            td class="number" { (row.position.in_transit) }
                            td class="number" { (row.position.on_order) }
                            td class="number" { (decimal(row.daily())) }
                            td class="number" { (row.days_of_supply().map(decimal).unwrap_or_default()) }
                            td class="number" { (row.cover_days().map(decimal).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        h2 { "Positions" }
        table class="positions" {
            thead { tr { th { "Item" } th { "Center" } th class="number" { "On hand" } th class="number" { "Reserved" } th class="number" { "Available" } th class="number" { "In transit" } th class="number" { "On order" } th class="number" { "Value" } th class="number" { "Days of supply" } } }
            tbody {
                @for row in listed.iter().take(ROWS_MAX) {
                    tr {
                        td { a href=(href(Collection::Items, row.position.sku.as_str())) { (row.position.sku.as_str()) } " " span class="muted" { (row.name) } }
                        td { (row.position.location.as_str()) }
                        td class="number" { (row.position.on_hand) }
                        td class="number" { (row.position.reserved) }
                        td class="number" { (row.position.available) }
                        td class="number" { (row.position.in_transit) }
                        td class="number" { (row.position.on_order) }
                        td class="number" { (money_minor(i128::from(row.position.value_minor), currency)) }
                        td class="number" { (row.days_of_supply().map(decimal).unwrap_or_else(|| "—".to_string())) }
                    }
                }
            }
        }
        @if listed.len() > ROWS_MAX { p class="muted" { "The " (ROWS_MAX) " largest positions by value of " (listed.len()) "; the API lists them all (GET /v1/inventory)." } }
    }
}

/// A sales order as the orders page counts it, with the reason it needs attention, if any.
struct OpenOrder {
    id: String,
    channel: String,
    state: &'static str,
    placed_at: Timestamp,
    deliver_by: Option<jiff::civil::Date>,
    ship_by: Option<Timestamp>,
    first_shipped_at: Option<Timestamp>,
    attention: Option<Attention>,
    value_minor: i64,
    currency: String,
}

/// Rows of each kind of the exceptions queue shown on the orders page; the list page has all.
const QUEUE_ROWS: usize = 10;

/// `GET /orders`: the pipeline by state, late and at-risk orders, cycle times by channel.
pub async fn orders(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        // "Now" is the tenant's latest event, as for the API's `attention` filter.
        let tenant = viewer.principal.tenant.clone();
        let latest = app
            .readers()
            .read(move |store| {
                store
                    .latest_business_time(&tenant)
                    .map_err(ApiError::internal)
            })
            .await?
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let open = app
            .query(&viewer.principal.tenant, move |state| {
                let zone = state
                    .settings
                    .as_ref()
                    .and_then(|settings| {
                        jiff::tz::TimeZone::get(settings.reporting_time_zone.as_str()).ok()
                    })
                    .unwrap_or(jiff::tz::TimeZone::UTC);
                let today = latest.to_zoned(zone).date();
                state
                    .sales_orders
                    .values()
                    .map(|order| OpenOrder {
                        id: order.id.to_string(),
                        channel: order.channel.to_string(),
                        state: order.state_name(),
                        placed_at: order.placed_at,
                        deliver_by: order
                            .promise
                            .as_ref()
                            .and_then(|promise| promise.deliver_by),
                        ship_by: order.promise.as_ref().and_then(|promise| promise.ship_by),
                        first_shipped_at: order
                            .shipments
                            .iter()
                            .filter_map(|shipment| shipment.shipped_at)
                            .min(),
                        attention: order.attention(latest, today),
                        value_minor: order.value_minor(),
                        currency: order.currency.to_string(),
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        fold_page(
            &app,
            &viewer,
            "/orders",
            "Orders and fulfillment",
            query,
            Access::Read,
            move |fold, picks| Ok(orders_body(fold, picks, &open)),
        )
        .await
    }
    .await;
    respond(&viewer, "/orders", result)
}

fn orders_body(fold: &Fold, picks: &Picks, open: &[OpenOrder]) -> Markup {
    let currency = fold.settings().base_currency.to_string();
    let range = picks.range(fold);
    let now = fold.watermark().unwrap_or(Timestamp::UNIX_EPOCH);
    // Per state: orders, and the value of those in the base currency; an order in another
    // currency is counted but its value is never added to the base currency's.
    let mut pipeline: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    let order_of_states = [
        "placed",
        "backordered",
        "partially_allocated",
        "allocated",
        "held",
        "partially_shipped",
        "shipped",
        "delivered",
    ];
    let mut queue: Vec<&OpenOrder> = Vec::new();
    for order in open {
        if matches!(order.state, "closed" | "cancelled") {
            continue;
        }
        let entry = pipeline.entry(order.state).or_default();
        entry.0 += 1;
        if order.currency == currency {
            entry.1 += order.value_minor;
        } else {
            entry.2 += 1;
        }
        if order.attention.is_some() {
            queue.push(order);
        }
    }
    // Most urgent kind first, then the longest waiting.
    queue.sort_by_key(|order| (order.attention, order.placed_at, order.id.clone()));
    let mut states: Vec<(&str, (i64, i64, i64))> = pipeline.into_iter().collect();
    states.sort_by_key(|(state, _)| {
        order_of_states
            .iter()
            .position(|known| known == state)
            .unwrap_or(usize::MAX)
    });
    let bars: Vec<Bar> = states
        .iter()
        .map(|(state, (count, value, foreign))| Bar {
            label: (*state).to_string(),
            value: *count as f64,
            note: if *foreign == 0 {
                format!(
                    "{count} orders, {}",
                    money_minor(i128::from(*value), &currency)
                )
            } else {
                format!(
                    "{count} orders; {} for those in {currency}, {foreign} in other currencies",
                    money_minor(i128::from(*value), &currency)
                )
            },
            href: Some(format!("/orders/list?status={state}&sort=created")),
        })
        .collect();
    let kinds: Vec<(Attention, usize)> = Attention::ALL
        .into_iter()
        .map(|kind| {
            (
                kind,
                queue
                    .iter()
                    .filter(|order| order.attention == Some(kind))
                    .count(),
            )
        })
        .collect();
    let queue_bars: Vec<Bar> = kinds
        .iter()
        .map(|(kind, count)| Bar {
            label: kind.title().to_string(),
            value: *count as f64,
            note: format!("{count} orders"),
            href: Some(format!(
                "/orders/list?attention={}&sort=created",
                kind.name()
            )),
        })
        .collect();
    let channels = slices_in(fold, range, Dimension::Channel, 12);
    let currency = fold.settings().base_currency.to_string();
    let segment_names: Vec<String> = Segment::ALL
        .iter()
        .filter(|segment| **segment != Segment::Dwell)
        .map(|segment| segment.name().replace('_', " "))
        .collect();
    // One pass over the fold's orders serves every channel: each row names its channel.
    let cycle_rows = drill::orders(fold, range, &Slice::All, Filter::CycleTime, usize::MAX);
    let mut stacks = Vec::new();
    let mut distributions = Vec::new();
    for slice in std::iter::once(Slice::All).chain(channels.iter().cloned()) {
        let card = scorecard(fold, range, &slice, picks.as_of);
        let parts: Vec<f64> = Segment::ALL
            .iter()
            .filter(|segment| **segment != Segment::Dwell)
            .map(|segment| {
                card.value(&format!("rs.segment.{}", segment.name()))
                    .and_then(|value| value.value)
                    .unwrap_or(0.0)
            })
            .collect();
        stacks.push(Stack {
            label: if slice == Slice::All {
                "all channels".to_string()
            } else {
                slice_value(&slice)
            },
            parts,
        });
        let mut hours: Vec<f64> = cycle_rows
            .iter()
            .filter(|row| match &slice {
                Slice::All => true,
                Slice::Channel(channel) => row.channel == *channel,
                _ => false,
            })
            .filter_map(|row| row.cycle_hours)
            .collect();
        hours.sort_by(f64::total_cmp);
        distributions.push((slice, card.value("rs.order_cycle_time").cloned(), hours));
    }
    let all_hours = distributions
        .first()
        .map(|(_, _, hours)| hours.clone())
        .unwrap_or_default();
    let (labels, counts) = histogram_days(&all_hours);
    html! {
        h2 { "Pipeline of open orders by state" }
        p class="muted" { "Orders not yet closed or cancelled, as the engine holds them now (" (format::instant(&now.to_string())) ", the latest event). Each bar opens the orders in that state." }
        (chart::bars("Open orders by state", &bars, "orders"))
        h2 { "Needs attention (" (queue.len()) ")" }
        p class="muted" { "Lost in transit: a shipment undelivered 14 days after it left. Late: past its promised date. Stuck: nothing shipped 3 days after placing, with no promise. At risk: nothing shipped, ship-by within a day or promised by tomorrow. Ages are as of the latest event." }
        @if !queue.is_empty() {
            (chart::bars("Orders needing attention by reason", &queue_bars, "orders"))
        }
        @for (kind, count) in &kinds {
            @if *count > 0 {
                h3 { (kind.title()) " (" (count) ")" }
                (queue_table(queue.iter().filter(|order| order.attention == Some(*kind)).take(QUEUE_ROWS), *kind, now))
                @if *count > QUEUE_ROWS {
                    p { a href=(format!("/orders/list?attention={}&sort=created", kind.name())) { "All " (count) " " (kind.title().to_lowercase()) " orders →" } }
                }
            }
        }
        @if queue.is_empty() { p { "No open order needs attention." } }
        p { a href="/orders/list" { "Search, sort and page through every sales order →" } }
        h2 { "Cycle time by channel: segments" }
        p class="muted" { "Mean hours per delivered order of each segment of RS.1.1 (customer dwell excluded), orders closed in the range." }
        (chart::stacked("Mean cycle-time segments by channel", &segment_names, &stacks, "hours per order"))
        h2 { "Cycle-time distribution" }
        (chart::columns("Delivered orders by cycle time", &labels, &counts, "cycle time, days (net of dwell)", "orders"))
        table {
            thead { tr { th { "Channel" } th class="number" { "Orders" } th class="number" { "Mean (RS.1.1)" } th class="number" { "Median (h)" } th class="number" { "90th percentile (h)" } } }
            tbody {
                @for (slice, mean, hours) in &distributions {
                    tr {
                        td { @if *slice == Slice::All { "all channels" } @else { (slice_value(slice)) } }
                        td class="number" { (hours.len()) }
                        td class="number" { (cell(mean.as_ref(), &currency)) }
                        td class="number" { (quantile(hours, 0.5).map(decimal).unwrap_or_default()) }
                        td class="number" { (quantile(hours, 0.9).map(decimal).unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// Nearest-rank quantile of sorted samples.
pub fn quantile(sorted: &[f64], share: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (share * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Counts of hours per whole day, up to 14 days and a last bin for the rest.
fn histogram_days(hours: &[f64]) -> (Vec<String>, Vec<f64>) {
    let mut counts = vec![0.0; 15];
    for value in hours {
        let day = (value / 24.0).floor().max(0.0) as usize;
        counts[day.min(14)] += 1.0;
    }
    let labels = (0..15)
        .map(|day| {
            if day == 14 {
                "14+".to_string()
            } else {
                format!("{day}–{}", day + 1)
            }
        })
        .collect();
    (labels, counts)
}

/// Whole days between two instants, for ages.
fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second()).max(0) / 86_400
}

fn queue_table<'o>(
    orders: impl Iterator<Item = &'o &'o OpenOrder>,
    kind: Attention,
    now: Timestamp,
) -> Markup {
    let waited = match kind {
        Attention::LostInTransit => "In transit (days)",
        Attention::Late => "Days past promise",
        Attention::Stuck | Attention::AtRisk => "Age (days)",
    };
    html! {
        table {
            thead { tr { th { "Order" } th { "Channel" } th { "State" } th { "Placed" } th { "Ship by" } th { "Promised by" } th class="number" { (waited) } th class="number" { "Value" } } }
            tbody {
                @for order in orders {
                    @let age = match kind {
                        Attention::LostInTransit => order.first_shipped_at.map_or(0, |at| days_between(at, now)),
                        // The promise runs to the end of its date: days since the day after it began.
                        Attention::Late => order.deliver_by.and_then(|date| date.tomorrow().ok()).map_or(0, |date| {
                            date.to_zoned(jiff::tz::TimeZone::UTC).map_or(0, |end| days_between(end.timestamp(), now))
                        }),
                        Attention::Stuck | Attention::AtRisk => days_between(order.placed_at, now),
                    };
                    tr {
                        td { a href=(href(Collection::SalesOrders, &order.id)) { (order.id) } }
                        td { (order.channel) }
                        td { (order.state) }
                        td { (format::instant(&order.placed_at.to_string())) }
                        td { (order.ship_by.map(|at| format::instant(&at.to_string())).unwrap_or_default()) }
                        td { (order.deliver_by.map(|date| date.to_string()).unwrap_or_default()) }
                        td class="number" { (age) }
                        td class="number" { (money_minor(i128::from(order.value_minor), &order.currency)) }
                    }
                }
            }
        }
    }
}

/// An open purchase order.
struct OpenPurchase {
    id: String,
    supplier: String,
    location: String,
    state: &'static str,
    committed_on: Option<jiff::civil::Date>,
    ordered: i64,
    outstanding: i64,
    /// Ordered value in the order's own currency.
    value_minor: i64,
    currency: String,
}

/// `GET /source`: open purchase orders and supplier scorecards.
pub async fn source(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let open = app
            .query(&viewer.principal.tenant, |state| {
                state
                    .purchase_orders
                    .values()
                    .filter(|order| {
                        matches!(
                            order.state_name(),
                            "placed" | "confirmed" | "partially_received"
                        )
                    })
                    .map(|order| OpenPurchase {
                        id: order.id.to_string(),
                        supplier: order.supplier.to_string(),
                        location: order.location.to_string(),
                        state: order.state_name(),
                        committed_on: order.committed_on,
                        ordered: order.lines.iter().map(|line| line.line.quantity).sum(),
                        outstanding: order.lines.iter().map(|line| line.outstanding()).sum(),
                        value_minor: order
                            .lines
                            .iter()
                            .map(|line| {
                                line.line
                                    .quantity
                                    .saturating_mul(line.line.unit_price_minor)
                            })
                            .sum(),
                        currency: order.currency.to_string(),
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        fold_page(
            &app,
            &viewer,
            "/source",
            "Source",
            query,
            Access::Read,
            move |fold, picks| Ok(source_body(fold, picks, open)),
        )
        .await
    }
    .await;
    respond(&viewer, "/source", result)
}

fn source_body(fold: &Fold, picks: &Picks, mut open: Vec<OpenPurchase>) -> Markup {
    let range = picks.range(fold);
    let zone = fold.settings().reporting.clone();
    let today = fold.watermark().map(|at| at.to_zoned(zone.clone()).date());
    open.sort_by(|a, b| a.committed_on.cmp(&b.committed_on).then(a.id.cmp(&b.id)));
    let currency = fold.settings().base_currency.to_string();
    let (start, end) = (range.from.start(&zone), range.to.start(&zone));
    let suppliers = slices_in(fold, range, Dimension::Supplier, 50);
    let mut rows = Vec::new();
    for slice in &suppliers {
        let name = slice_value(slice);
        let card = scorecard(fold, range, slice, picks.as_of);
        let receipts: Vec<_> = fold
            .history()
            .receipts()
            .filter(|receipt| {
                receipt.supplier == name && receipt.arrived_at >= start && receipt.arrived_at < end
            })
            .collect();
        let accepted: i64 = receipts.iter().map(|receipt| receipt.accepted).sum();
        let rejected: i64 = receipts.iter().map(|receipt| receipt.rejected).sum();
        let mut leads: Vec<f64> = receipts
            .iter()
            .filter_map(|receipt| receipt.lead_seconds)
            .map(|seconds| seconds as f64 / 86_400.0)
            .collect();
        leads.sort_by(f64::total_cmp);
        rows.push((name, card, accepted, rejected, leads));
    }
    let bars: Vec<Bar> = rows
        .iter()
        .filter_map(|(name, card, ..)| {
            let value = card.value("rl.supplier_on_time")?;
            Some(Bar {
                label: name.clone(),
                value: value.value?,
                note: format!(
                    "{} ({})",
                    format::value(value, &currency),
                    format::terms(value)
                ),
                href: Some(format!(
                    "/scorecard/rl.perfect_supplier_order?{}&slice=supplier:{name}",
                    picks.query(range).split("&slice").next().unwrap_or("")
                )),
            })
        })
        .collect();
    html! {
        h2 { "Supplier scorecards" }
        p class="muted" { "Purchase orders closed in the range (RL.1.2 and its components), and the receipts that arrived in it: units rejected at quality control and the lead time from placement to first arrival." }
        (chart::bars("Supplier on-time delivery to commit date", &bars, "% of purchase orders on time"))
        table class="suppliers" {
            thead { tr { th { "Supplier" } th { "Perfect (RL.1.2)" } th { "On time" } th { "In full" } th { "Quality rejects (units)" } th class="number" { "Lead time min" } th class="number" { "median" } th class="number" { "90th pct." } th class="number" { "max (days)" } } }
            tbody {
                @for (name, card, accepted, rejected, leads) in &rows {
                    tr {
                        td { a href=(href(Collection::Suppliers, name)) { (name) } }
                        td { (cell(card.value("rl.perfect_supplier_order"), &currency)) }
                        td { (cell(card.value("rl.supplier_on_time"), &currency)) }
                        td { (cell(card.value("rl.supplier_in_full"), &currency)) }
                        td { (rejected) " of " (accepted + rejected)
                            @if accepted + rejected > 0 { span class="muted" { " (" (decimal(*rejected as f64 * 100.0 / (*accepted + *rejected) as f64)) " %)" } } }
                        td class="number" { (leads.first().copied().map(decimal).unwrap_or_default()) }
                        td class="number" { (quantile(leads, 0.5).map(decimal).unwrap_or_default()) }
                        td class="number" { (quantile(leads, 0.9).map(decimal).unwrap_or_default()) }
                        td class="number" { (leads.last().copied().map(decimal).unwrap_or_default()) }
                    }
                }
            }
        }
        h2 { "Open purchase orders (" (open.len()) ")" }
        p { a href=(format!("{}?sort=-created", list_path(Collection::PurchaseOrders))) { "Search, sort and page through every purchase order →" } }
        @if open.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th { "Purchase order" } th { "Supplier" } th { "Center" } th { "State" } th { "Committed for" } th class="number" { "Ordered" } th class="number" { "Outstanding" } th class="number" { "Value" } } }
                tbody {
                    @for order in open.iter().take(ROWS_MAX) {
                        @let late = matches!((order.committed_on, today), (Some(committed), Some(today)) if committed < today);
                        tr class=[late.then_some("risk")] {
                            td { a href=(href(Collection::PurchaseOrders, &order.id)) { (order.id) } @if late { " (late)" } }
                            td { a href=(href(Collection::Suppliers, &order.supplier)) { (order.supplier) } }
                            td { (order.location) }
                            td { (order.state) }
                            td { (order.committed_on.map(|date| date.to_string()).unwrap_or_else(|| "not confirmed".to_string())) }
                            td class="number" { (order.ordered) }
                            td class="number" { (order.outstanding) }
                            // Each order in its own currency: a supplier billing in euros is never
                            // shown, or added, as dollars.
                            td class="number" { (money_note(i128::from(order.value_minor), &order.currency)) }
                        }
                    }
                }
            }
        }
        @if open.len() > ROWS_MAX { p class="muted" { "The first " (ROWS_MAX) " of " (open.len()) "; the list has them all." } }
    }
}

/// An open work order.
struct OpenWork {
    id: String,
    kind: String,
    item: String,
    location: String,
    quantity: i64,
    state: &'static str,
    for_order: Option<String>,
}

/// `GET /make`: work orders and their quality checks.
pub async fn make(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let open = app
            .query(&viewer.principal.tenant, |state| {
                state
                    .work_orders
                    .values()
                    .filter(|order| matches!(order.state_name(), "created" | "started"))
                    .map(|order| OpenWork {
                        id: order.id.to_string(),
                        kind: serde_json::to_value(order.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default(),
                        item: order.item.to_string(),
                        location: order.location.to_string(),
                        quantity: order.quantity,
                        state: order.state_name(),
                        for_order: order.for_order.as_ref().map(|id| id.to_string()),
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        fold_page(
            &app,
            &viewer,
            "/make",
            "Make",
            query,
            Access::Read,
            move |fold, picks| Ok(make_body(fold, picks, open)),
        )
        .await
    }
    .await;
    respond(&viewer, "/make", result)
}

fn make_body(fold: &Fold, picks: &Picks, mut open: Vec<OpenWork>) -> Markup {
    let range = picks.range(fold);
    let zone = fold.settings().reporting.clone();
    let (start, end) = (range.from.start(&zone), range.to.start(&zone));
    open.sort_by(|a, b| a.id.cmp(&b.id));
    let done: Vec<_> = fold
        .history()
        .work()
        .rev()
        .filter(|record| record.completed_at >= start && record.completed_at < end)
        .collect();
    let mut by_kind: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for record in &done {
        let entry = by_kind.entry(record.kind.clone()).or_default();
        entry.0 += 1;
        entry.1 += record.passed;
        entry.2 += record.failed;
    }
    let bars: Vec<Bar> = by_kind
        .iter()
        .map(|(kind, (orders, passed, failed))| Bar {
            label: kind.clone(),
            value: if passed + failed > 0 {
                *passed as f64 * 100.0 / (passed + failed) as f64
            } else {
                0.0
            },
            note: format!(
                "{passed} of {} units passed, {orders} work orders",
                passed + failed
            ),
            href: None,
        })
        .collect();
    let passed: i64 = done.iter().map(|record| record.passed).sum();
    let failed: i64 = done.iter().map(|record| record.failed).sum();
    html! {
        h2 { "Open work orders (" (open.len()) ")" }
        p { a href=(format!("{}?sort=-created", list_path(Collection::WorkOrders))) { "Search, sort and page through every work order →" } }
        @if open.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th { "Work order" } th { "Kind" } th { "Item" } th { "Center" } th class="number" { "Quantity" } th { "State" } th { "For order" } } }
                tbody {
                    @for order in open.iter().take(ROWS_MAX) {
                        tr {
                            td { a href=(href(Collection::WorkOrders, &order.id)) { (order.id) } }
                            td { (order.kind) } td { (order.item) } td { (order.location) }
                            td class="number" { (order.quantity) } td { (order.state) }
                            td { @if let Some(id) = &order.for_order { a href=(href(Collection::SalesOrders, id)) { (id) } } }
                        }
                    }
                }
            }
        }
        @if open.len() > ROWS_MAX { p class="muted" { "The first " (ROWS_MAX) " of " (open.len()) "; the list has them all." } }
        h2 { "Quality checks of work orders completed in the range" }
        p { (done.len()) " work order(s) completed: " strong data-passed=(passed) { (passed) } " units passed, " strong data-failed=(failed) { (failed) } " failed"
            @if passed + failed > 0 { " (first-pass yield " (decimal(passed as f64 * 100.0 / (passed + failed) as f64)) " %)" } "." }
        (chart::bars("First-pass yield by kind of work order", &bars, "% of units passing quality control"))
        table {
            thead { tr { th { "Work order" } th { "Kind" } th { "Item" } th { "Center" } th { "Completed" } th class="number" { "Passed" } th class="number" { "Failed" } th class="number" { "Hours in production" } th { "Note" } } }
            tbody {
                @for record in done.iter().take(ROWS_MAX) {
                    tr class=[(record.failed > 0).then_some("risk")] {
                        td { a href=(href(Collection::WorkOrders, &record.work_order)) { (record.work_order) } }
                        td { (record.kind) } td { (record.item) } td { (record.location) }
                        td { (format::instant(&record.completed_at.to_string())) }
                        td class="number" { (record.passed) } td class="number" { (record.failed) }
                        td class="number" { @if let Some(started) = record.started_at { (decimal((record.completed_at.as_second() - started.as_second()) as f64 / 3600.0)) } }
                        td { (record.note.clone().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// `GET /return`: return rates by category, channel and cohort; reasons; processing time;
/// dispositions.
pub async fn returns(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = fold_page(
        &app,
        &viewer,
        "/return",
        "Return",
        query,
        Access::Read,
        |fold, picks| Ok(returns_body(fold, picks)),
    )
    .await;
    respond(&viewer, "/return", result)
}

fn rate_bars(
    fold: &Fold,
    range: Range,
    picks: &Picks,
    dimension: Dimension,
    currency: &str,
) -> Vec<Bar> {
    slices_in(fold, range, dimension, 20)
        .into_iter()
        .filter_map(|slice| {
            let card = scorecard(fold, range, &slice, picks.as_of);
            let value = card.value("ops.return_rate")?.clone();
            Some(Bar {
                label: slice_value(&slice),
                value: value.value?,
                note: format!(
                    "{} ({})",
                    format::value(&value, currency),
                    format::terms(&value)
                ),
                href: None,
            })
        })
        .collect()
}

fn returns_body(fold: &Fold, picks: &Picks) -> Markup {
    let range = picks.range(fold);
    let currency = fold.settings().base_currency.to_string();
    let card = scorecard(fold, range, &Slice::All, picks.as_of);
    let by_category = rate_bars(fold, range, picks, Dimension::Category, &currency);
    let by_channel = rate_bars(fold, range, picks, Dimension::Channel, &currency);
    let (granularity, periods) = picks.trend(range, 12);
    let labels: Vec<String> = periods
        .iter()
        .map(|period| period_label(granularity, *period))
        .collect();
    let cards: Vec<_> = periods
        .iter()
        .map(|period| scorecard(fold, *period, &Slice::All, picks.as_of))
        .collect();
    let series = |id: &str| -> Vec<Option<f64>> {
        cards
            .iter()
            .map(|card| card.value(id).and_then(|value| value.value))
            .collect()
    };
    let reasons: Vec<(String, i64)> = card
        .return_reasons
        .iter()
        .map(|reason| (reason.reason.clone(), reason.units))
        .collect();
    let zone = fold.settings().reporting.clone();
    let dispositions = fold
        .history()
        .dispositions(range.from.start(&zone), range.to.start(&zone));
    let disposition_bars: Vec<Bar> = dispositions
        .iter()
        .map(|(kind, units)| Bar {
            label: kind.replace('_', " "),
            value: *units as f64,
            note: format!("{units} units"),
            href: None,
        })
        .collect();
    html! {
        div class="grid2" {
            section class="card" {
                h2 { "Return rate" }
                p { (cell(card.value("ops.return_rate"), &currency)) " of units shipped in the range were authorised for return." }
                p { "By sale cohort: " (cell(card.value("ops.return_rate.cohort"), &currency))
                    @if card.provisional { " " span class="badge provisional" { "provisional" } } }
            }
            section class="card" {
                h2 { "Processing time" }
                p { "Receipt to refund, mean " (cell(card.value("ops.return_processing_time"), &currency)) }
                p { "Median " (cell(card.value("ops.return_processing_time.median"), &currency)) }
            }
        }
        h2 { "Return rate by category" }
        (chart::bars("Return rate by item category", &by_category, "% of units shipped, authorised for return"))
        h2 { "Return rate by channel" }
        (chart::bars("Return rate by channel", &by_channel, "% of units shipped, authorised for return"))
        h2 { "By period and by sale cohort" }
        (chart::lines("Return rate by period and by cohort", &labels, &[
            Line { name: "units returned ÷ units shipped in the period".into(), values: series("ops.return_rate") },
            Line { name: "returned ÷ sold, by month of sale (cohort)".into(), values: series("ops.return_rate.cohort") },
        ], "%"))
        h2 { "Reasons (Pareto)" }
        p { a href=(format!("{}?sort=-created", list_path(Collection::Returns))) { "Search, sort and page through every return →" } }
        @if reasons.is_empty() { p { "No returns authorised in the range." } } @else {
            (chart::pareto("Units authorised for return by reason", &reasons, "units"))
        }
        h2 { "Dispositions" }
        @if disposition_bars.is_empty() { p { "No dispositions recorded in the range." } } @else {
            (chart::bars("Returned units by disposition", &disposition_bars, "units"))
        }
    }
}

/// The label of a money total.
pub fn money_note(minor: i128, currency: &str) -> String {
    format!("{} {currency}", money_minor(minor, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_by_nearest_rank() {
        // Ten samples 1..=10: the median by nearest rank is the 5th, the 90th percentile the 9th.
        let samples: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&samples, 0.5), Some(5.0));
        assert_eq!(quantile(&samples, 0.9), Some(9.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn cycle_times_fall_in_whole_day_bins_with_an_overflow_bin() {
        // 5 h and 23 h in day 0, 30 h in day 1, 500 h (20.8 days) in 14+.
        let (labels, counts) = histogram_days(&[5.0, 23.0, 30.0, 500.0]);
        assert_eq!(labels.len(), 15);
        assert_eq!(counts[0], 2.0);
        assert_eq!(counts[1], 1.0);
        assert_eq!(counts[14], 1.0);
    }
}
