//! A document laid out for the people who work it: its key facts, parties and addresses, lines
//! with formatted quantities and money, shipments with carrier and tracking, money received and
//! a timeline of its life cycle in the tenant's time zone. The raw fields and the event history
//! stay below ([`super::documents`]).
//!
//! Everything here reads the document's JSON as the API shows it and its events' payloads, so
//! a page never says more than `GET /v1/<collection>/{id}` and its events do. Money is a field
//! ending in `_minor` (in the document's currency) or a `{ amount_minor, currency }` object,
//! and is shown with the currency's own number of decimals.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::documents::href;
use super::format::money_minor;
use crate::render::Collection;

/// How a page shows times and money: the tenant's reporting zone and base currency.
pub struct Context {
    /// The tenant's reporting time zone.
    pub zone: TimeZone,
    /// The currency of amounts that name none (the document's, else the base currency).
    pub currency: String,
    /// The tenant's base currency, of values at cost.
    pub base: String,
}

impl Context {
    /// An RFC 3339 instant in the tenant's zone: `2025-01-01 07:19 CST`; other text as it is.
    pub fn time(&self, text: &str) -> String {
        match text.parse::<Timestamp>() {
            Ok(at) => at
                .to_zoned(self.zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string(),
            Err(_) => text.to_string(),
        }
    }

    fn money(&self, minor: i64) -> String {
        format!(
            "{} {}",
            money_minor(i128::from(minor), &self.currency),
            self.currency
        )
    }

    fn money_in(&self, minor: i64, currency: &str) -> String {
        format!("{} {currency}", money_minor(i128::from(minor), currency))
    }
}

/// Values at cost: in the base currency, whatever the document's.
const AT_COST: &[&str] = &["shipped_value_minor", "consumed_value_minor"];

/// Fields shown elsewhere on the page, or too internal for the overview.
const NOT_IN_OVERVIEW: &[&str] = &["object", "id", "state", "status", "lines", "shipments"];

/// Fields naming a document of another collection, linked in the overview.
const LINKED: &[(&str, Collection)] = &[
    ("order", Collection::SalesOrders),
    ("for_order", Collection::SalesOrders),
    ("supplier", Collection::Suppliers),
    ("location", Collection::Locations),
    ("from", Collection::Locations),
    ("to", Collection::Locations),
    ("item", Collection::Items),
    ("policy", Collection::ReturnPolicies),
    ("origin_return", Collection::Returns),
];

fn words(name: &str) -> String {
    // Values at cost are in the base currency, whatever the document's.
    match name {
        "shipped_value_minor" => return "Shipped, at cost".into(),
        "consumed_value_minor" => return "Consumed, at cost".into(),
        _ => {}
    }
    let name = name.strip_suffix("_minor").unwrap_or(name);
    super::format::capitalised(&name.replace('_', " "))
}

/// One value for people: money, times, dates, addresses, links.
fn value(name: &str, field: &Value, context: &Context) -> Markup {
    match field {
        Value::Null => html! { span class="muted" { "—" } },
        Value::Bool(true) => html! { "yes" },
        Value::Bool(false) => html! { "no" },
        Value::Number(number) if AT_COST.contains(&name) => {
            html! { (number.as_i64().map(|minor| context.money_in(minor, &context.base)).unwrap_or_else(|| number.to_string())) }
        }
        Value::Number(number) if name.ends_with("_minor") => {
            html! { (number.as_i64().map(|minor| context.money(minor)).unwrap_or_else(|| number.to_string())) }
        }
        Value::Number(number) => html! { (number.to_string()) },
        Value::String(text) => {
            if let Some((_, collection)) = LINKED.iter().find(|(key, _)| *key == name) {
                return html! { a href=(href(*collection, text)) { (text) } };
            }
            if text.parse::<Timestamp>().is_ok() {
                return html! { time datetime=(text) { (context.time(text)) } };
            }
            html! { (text) }
        }
        Value::Object(fields) => {
            if let (Some(amount), Some(currency)) = (
                fields.get("amount_minor").and_then(Value::as_i64),
                fields.get("currency").and_then(Value::as_str),
            ) {
                return html! { (money_minor(i128::from(amount), currency)) " " (currency) };
            }
            if fields.contains_key("country") && fields.contains_key("time_zone") {
                return address(fields);
            }
            html! {
                @for (key, inner) in fields {
                    @if !inner.is_null() {
                        span class="pair" { span class="muted" { (words(key)) ": " } (value(key, inner, context)) } " "
                    }
                }
            }
        }
        Value::Array(items) if items.is_empty() => html! { span class="muted" { "none" } },
        Value::Array(items) => html! {
            @for (index, item) in items.iter().enumerate() {
                @if index > 0 { ", " }
                @match item {
                    Value::Array(pair) if pair.len() == 2 => { (pair[0].as_str().unwrap_or("")) " × " (pair[1].to_string()) }
                    other => { (value(name, other, context)) }
                }
            }
        },
    }
}

/// An address as it is written on a parcel.
fn address(fields: &Map<String, Value>) -> Markup {
    let text = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or("");
    let lines: Vec<&str> = fields
        .get("lines")
        .and_then(Value::as_array)
        .map(|lines| lines.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let place = [text("postal_code"), text("city"), text("region")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        address {
            @if !text("recipient").is_empty() { strong { (text("recipient")) } br; }
            @for line in &lines { (line) br; }
            @if !place.is_empty() { (place) br; }
            (text("country")) " · " span class="muted" { (text("time_zone")) }
        }
    }
}

/// Whether a field belongs in the overview: not shown elsewhere, and not a list of records.
fn in_overview(name: &str, field: &Value) -> bool {
    let records = field
        .as_array()
        .is_some_and(|items| items.iter().any(Value::is_object));
    !NOT_IN_OVERVIEW.contains(&name) && !records
}

/// The document's own scalar and small fields, as a definition list.
fn overview(document: &Map<String, Value>, context: &Context) -> Markup {
    html! {
        dl class="overview" {
            @for (name, field) in document {
                @if in_overview(name, field) {
                    dt { (words(name)) }
                    dd { (value(name, field, context)) }
                }
            }
        }
    }
}

/// A line's fields with its nested `line` (what was ordered) brought up beside its progress.
fn flatten_line(line: &Value) -> Vec<(String, Value)> {
    let mut fields = Vec::new();
    if let Value::Object(map) = line {
        if let Some(Value::Object(inner)) = map.get("line") {
            for (key, inner_value) in inner {
                fields.push((key.clone(), inner_value.clone()));
            }
        }
        for (key, field) in map {
            if key != "line" {
                fields.push((key.clone(), field.clone()));
            }
        }
    }
    fields
}

/// The document's lines as a table: item (linked), quantities, money.
fn lines(document: &Map<String, Value>, context: &Context) -> Markup {
    let Some(items) = document.get("lines").and_then(Value::as_array) else {
        return html! {};
    };
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return html! {};
    }
    let rows: Vec<Vec<(String, Value)>> = items.iter().map(flatten_line).collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (key, _) in row {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    html! {
        h2 { "Lines (" (rows.len()) ")" }
        table class="lines" {
            thead { tr { th class="number" { "#" } @for column in &columns { th { (words(column)) } } } }
            tbody {
                @for (index, row) in rows.iter().enumerate() {
                    tr {
                        td class="number" { (index) }
                        @for column in &columns {
                            @let field = row.iter().find(|(key, _)| key == column).map(|(_, field)| field);
                            @match field {
                                Some(Value::String(sku)) if column == "sku" => { td { a href=(href(Collection::Items, sku)) { (sku) } } }
                                Some(Value::Number(number)) => { td class="number" { (value(column, &Value::Number(number.clone()), context)) } }
                                Some(other) => { td { (value(column, other, context)) } }
                                None => { td {} }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A sales order's shipments, with the carrier, service and tracking of each from its
/// `SalesOrderShipped` event.
fn shipments(document: &Map<String, Value>, events: &[Value], context: &Context) -> Markup {
    let Some(shipments) = document.get("shipments").and_then(Value::as_array) else {
        return html! {};
    };
    if shipments.is_empty() {
        return html! {};
    }
    let shipped_event = |id: &str| {
        events.iter().find(|event| {
            event["type"] == "SalesOrderShipped"
                && event["payload"]["shipment"].as_str() == Some(id)
        })
    };
    html! {
        h2 { "Shipments (" (shipments.len()) ")" }
        table class="shipments" {
            thead { tr { th { "Shipment" } th { "From" } th { "Carrier" } th { "Tracking" } th { "Handed over" } th { "Delivered" } th class="number" { "Units" } } }
            tbody {
                @for shipment in shipments {
                    @let id = shipment["id"].as_str().unwrap_or("");
                    @let payload = shipped_event(id).map(|event| &event["payload"]);
                    @let units: i64 = shipment["lines"].as_array().into_iter().flatten().filter_map(|line| line["quantity"].as_i64()).sum();
                    tr {
                        td { (id) }
                        td { (value("location", &shipment["location"], context)) }
                        td {
                            @if let Some(payload) = payload {
                                @if let Some(carrier) = payload["carrier"].as_str() {
                                    a href=(href(Collection::Carriers, carrier)) { (carrier) } " " (payload["service"].as_str().unwrap_or(""))
                                }
                            }
                        }
                        td { (payload.and_then(|payload| payload["tracking"].as_str()).unwrap_or("—")) }
                        td { (value("shipped_at", &shipment["shipped_at"], context)) }
                        td { (value("delivered_at", &shipment["delivered_at"], context)) }
                        td class="number" { (units) }
                    }
                }
            }
        }
    }
}

/// The event's type in words, without the document's own prefix: `SalesOrderShipped` on a
/// sales order reads "Shipped", `ShipmentDelivered` "Shipment delivered".
pub fn event_label(event_type: &str, collection: Collection) -> String {
    let prefix: String = collection
        .singular()
        .split(' ')
        .map(|word| {
            let mut characters = word.chars();
            characters
                .next()
                .map(|first| first.to_uppercase().chain(characters).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    let rest = event_type.strip_prefix(&prefix).unwrap_or(event_type);
    let rest = if rest.is_empty() { event_type } else { rest };
    let mut label = String::new();
    for (index, character) in rest.chars().enumerate() {
        if character.is_uppercase() && index > 0 {
            label.push(' ');
            label.extend(character.to_lowercase());
        } else {
            label.push(character);
        }
    }
    label
}

/// What a timeline row says about an event beyond its name: the facts people ask about.
fn event_detail(payload: &Value, context: &Context) -> String {
    let mut parts = Vec::new();
    let text = |key: &str| payload.get(key).and_then(Value::as_str);
    for (key, label) in [
        ("shipment", "shipment"),
        ("receipt", "receipt"),
        ("invoice", "invoice"),
        ("payment", "payment"),
        ("bill", "bill"),
        ("refund", "refund"),
        ("note", "note"),
    ] {
        if let Some(id) = text(key) {
            parts.push(format!("{label} {id}"));
        }
    }
    if let Some(location) = text("location") {
        parts.push(format!("at {location}"));
    }
    if let (Some(carrier), Some(service)) = (text("carrier"), text("service")) {
        parts.push(format!("{carrier} {service}"));
    }
    if let Some(tracking) = text("tracking") {
        parts.push(format!("tracking {tracking}"));
    }
    if let Some(reason) = text("reason") {
        parts.push(format!("reason {}", reason.replace('_', " ")));
    }
    if let Some(condition) = text("condition") {
        parts.push(condition.replace('_', " "));
    }
    let amount = payload.get("amount");
    if let (Some(minor), Some(currency)) = (
        amount
            .and_then(|amount| amount.get("amount_minor"))
            .and_then(Value::as_i64),
        amount
            .and_then(|amount| amount.get("currency"))
            .and_then(Value::as_str),
    ) {
        parts.push(context.money_in(minor, currency));
    }
    for key in ["net_minor", "amount_minor"] {
        if let Some(minor) = payload.get(key).and_then(Value::as_i64) {
            parts.push(context.money(minor));
        }
    }
    if let Some(lines) = payload.get("lines").and_then(Value::as_array) {
        let units: i64 = lines
            .iter()
            .filter_map(|line| line.get("quantity").and_then(Value::as_i64))
            .sum();
        match units {
            0 => {}
            1 => parts.push("1 unit".to_string()),
            _ => parts.push(format!("{units} units")),
        }
    }
    parts.join(" · ")
}

/// The life cycle: one row per event, oldest first, in the tenant's time zone.
fn timeline(events: &[Value], collection: Collection, context: &Context) -> Markup {
    html! {
        h2 { "Timeline" }
        ol class="timeline" {
            @for event in events {
                @let time = event["business_time"].as_str().unwrap_or("");
                li data-event=(event["type"].as_str().unwrap_or("")) {
                    time datetime=(time) { (context.time(time)) }
                    " "
                    strong { (event_label(event["type"].as_str().unwrap_or(""), collection)) }
                    @let detail = event_detail(&event["payload"], context);
                    @if !detail.is_empty() { " — " (detail) }
                }
            }
        }
    }
}

/// The part of a document page made for people: overview, lines, shipments and timeline.
pub fn view(
    document: &Value,
    events: &[Value],
    collection: Collection,
    context: &Context,
) -> Markup {
    let Value::Object(fields) = document else {
        return html! {};
    };
    html! {
        h2 { "Overview" }
        (overview(fields, context))
        (lines(fields, context))
        (shipments(fields, events, context))
        (timeline(events, collection, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_as_words_without_their_documents_name() {
        assert_eq!(
            event_label("SalesOrderShipped", Collection::SalesOrders),
            "Shipped"
        );
        assert_eq!(
            event_label("ShipmentDelivered", Collection::SalesOrders),
            "Shipment delivered"
        );
        assert_eq!(
            event_label("PurchaseOrderReceived", Collection::PurchaseOrders),
            "Received"
        );
        assert_eq!(
            event_label("ReturnAuthorised", Collection::Returns),
            "Authorised"
        );
    }

    #[test]
    fn times_are_shown_in_the_tenants_zone_and_money_in_the_currencys_decimals() {
        let context = Context {
            zone: TimeZone::get("America/Chicago").unwrap(),
            currency: "JPY".into(),
            base: "USD".into(),
        };
        // A value at cost is in the base currency: 1766 US cents, not 1,766 yen.
        assert_eq!(
            value("shipped_value_minor", &serde_json::json!(1766), &context).into_string(),
            "17.66 USD"
        );
        // 2025-01-01T12:19:18Z is 06:19 in Chicago (CST, UTC−6).
        assert_eq!(context.time("2025-01-01T12:19:18Z"), "2025-01-01 06:19 CST");
        // ¥1,500 has no minor unit: 1500 minor units are 1,500 yen.
        assert_eq!(context.money(1_500), "1,500 JPY");
        let payload = serde_json::json!({ "shipment": "S-1", "location": "FC-1",
            "carrier": "UPS", "service": "ground", "tracking": "1Z9",
            "lines": [{ "line": 0, "quantity": 2 }, { "line": 1, "quantity": 1 }] });
        assert_eq!(
            event_detail(&payload, &context),
            "shipment S-1 · at FC-1 · UPS ground · tracking 1Z9 · 3 units"
        );
    }
}
