//! One document with its whole event history: `/documents/{collection}/{id}`.
//!
//! The document is folded from its own stream, as `GET /v1/<collection>/{id}` does
//! ([`crate::render::from_stream`]), and every event of the stream is listed oldest first with
//! its business time, recorded time and payload: the information flow of the document. Ids of
//! other documents named in its events (the order a return is for, the returns of an order,
//! the supplier and center of a purchase order, ...) link to their own pages, so the flow can
//! be followed both ways.

use super::document_view;
use super::page::page;
use super::respond;
use super::session::{Viewer, percent_encode};
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;
use crate::handlers::event_json;
use crate::render::{self, Collection};
use crate::scorecards;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use flowline_core::stream::StreamName;
use maud::{Markup, html};
use serde_json::Value;
use std::collections::BTreeSet;

/// Fields of event payloads that name another document, and the collection they name.
const LINKS: &[(&str, Collection)] = &[
    ("order", Collection::SalesOrders),
    ("for_order", Collection::SalesOrders),
    ("return_id", Collection::Returns),
    ("origin_return", Collection::Returns),
    ("purchase_order", Collection::PurchaseOrders),
    ("work_order", Collection::WorkOrders),
    ("transfer", Collection::Transfers),
    ("supplier", Collection::Suppliers),
    ("location", Collection::Locations),
    ("from", Collection::Locations),
    ("to", Collection::Locations),
    ("carrier", Collection::Carriers),
    ("sku", Collection::Items),
    ("item", Collection::Items),
    ("policy", Collection::ReturnPolicies),
    ("target", Collection::Targets),
    ("initiative", Collection::Initiatives),
    ("proposal", Collection::Proposals),
    ("promotion", Collection::Promotions),
    ("asset", Collection::FixedAssets),
];

/// Link to a document's page.
pub fn href(collection: Collection, id: &str) -> String {
    format!("/documents/{}/{}", collection.segment(), percent_encode(id))
}

/// Collects `(collection, id)` of every document a payload names.
fn named(value: &Value, found: &mut BTreeSet<(&'static str, String)>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                if let (Some((_, collection)), Value::String(id)) =
                    (LINKS.iter().find(|(key, _)| key == name), field)
                    && !matches!(
                        id.as_str(),
                        "supplier"
                            | "customer"
                            | "in_transit"
                            | "scrap"
                            | "adjustment"
                            | "production"
                            | "quarantine"
                    )
                {
                    found.insert((collection.segment(), id.clone()));
                }
                named(field, found, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                named(item, found, depth + 1);
            }
        }
        _ => {}
    }
}

/// A JSON value as nested definition lists and tables.
fn json(value: &Value, depth: usize) -> Markup {
    if depth > 6 {
        return html! { code { (value.to_string()) } };
    }
    match value {
        Value::Null => html! { span class="muted" { "—" } },
        Value::Bool(flag) => html! { (flag) },
        Value::Number(number) => html! { (number.to_string()) },
        Value::String(text) => html! { (text) },
        Value::Array(items) if items.is_empty() => html! { span class="muted" { "none" } },
        Value::Array(items) => {
            let columns: Vec<String> = match items.first() {
                Some(Value::Object(first))
                    if items.iter().all(|item| matches!(item, Value::Object(_))) =>
                {
                    first.keys().cloned().collect()
                }
                _ => Vec::new(),
            };
            if columns.is_empty() {
                html! { ul { @for item in items { li { (json(item, depth + 1)) } } } }
            } else {
                html! {
                    table {
                        thead { tr { @for column in &columns { th { (column) } } } }
                        tbody { @for item in items { tr { @for column in &columns { td { (json(item.get(column).unwrap_or(&Value::Null), depth + 1)) } } } } }
                    }
                }
            }
        }
        Value::Object(fields) => html! {
            dl class="fields" {
                @for (name, field) in fields {
                    dt { (name) }
                    dd { (json(field, depth + 1)) }
                }
            }
        },
    }
}

struct Loaded {
    document: Option<Value>,
    events: Vec<Value>,
    related: BTreeSet<(&'static str, String)>,
}

/// `GET /documents/{collection}/{id}`.
pub async fn show(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let Path((segment, id)) =
            path.map_err(|rejection| ApiError::query("path", rejection.body_text()))?;
        let collection = Collection::ALL
            .into_iter()
            .find(|collection| collection.segment() == segment)
            .ok_or_else(|| ApiError::not_found("collection", &segment))?;
        let kind = collection.kind();
        let tenant = viewer.principal.tenant.clone();
        let wanted = id.clone();
        let loaded = app
            .readers()
            .read(move |store| {
                let stored = store
                    .read_stream(&tenant, &StreamName::new(kind, &wanted).to_string())
                    .map_err(ApiError::internal)?;
                if stored.is_empty() {
                    return Err(ApiError::not_found(collection.singular(), &wanted));
                }
                let decoded = stored
                    .iter()
                    .map(scorecards::decode)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(ApiError::internal)?;
                let events = stored.iter().map(event_json).collect::<Result<Vec<_>, _>>()?;
                let mut related = BTreeSet::new();
                for event in &events {
                    named(&event["payload"], &mut related, 0);
                }
                related.remove(&(collection.segment(), wanted.clone()));
                Ok(Loaded {
                    document: render::from_stream(kind, &wanted, &decoded),
                    events,
                    related,
                })
            })
            .await?;
        let state = loaded
            .document
            .as_ref()
            .and_then(|document| document["state"].as_str())
            .map(String::from);
        let (zone, base) = app
            .query(&viewer.principal.tenant, |state| {
                state.settings.as_ref().map(|settings| {
                    (
                        settings.reporting_time_zone.clone(),
                        settings.base_currency.to_string(),
                    )
                })
            })
            .await?
            .unzip();
        let context = document_view::Context {
            zone: zone
                .and_then(|name| jiff::tz::TimeZone::get(name.as_str()).ok())
                .unwrap_or(jiff::tz::TimeZone::UTC),
            currency: loaded
                .document
                .as_ref()
                .and_then(|document| document["currency"].as_str())
                .map(String::from)
                .or_else(|| base.clone())
                .unwrap_or_default(),
            base: base.unwrap_or_default(),
        };
        let body = html! {
            p {
                span class="muted" { (collection.singular()) } " "
                strong data-document=(id) { (id) }
                @if let Some(state) = &state { " " span class="badge final" data-state=(state) { (state) } }
                " · " a href={"/v1/" (segment) "/" (percent_encode(&id))} { "as JSON (API)" }
            }
            @if let Some(document) = &loaded.document {
                (document_view::view(document, &loaded.events, collection, &context))
            }
            @if !loaded.related.is_empty() {
                h2 { "Related documents" }
                ul class="related" {
                    @for (segment, other) in &loaded.related {
                        li { a href={"/documents/" (segment) "/" (percent_encode(other))} { (segment) " " (other) } }
                    }
                }
            }
            @match &loaded.document {
                Some(document) => details class="raw" { summary { "All fields, as the API has them" } (json(document, 0)) },
                None => p class="muted" { "This record has no document view; its events are below." },
            }
            h2 { "Event history (" (loaded.events.len()) ")" }
            p class="muted" { "Every fact recorded about this document, oldest first, as the event feed carries it." }
            table class="events" {
                thead { tr { th class="number" { "Seq" } th { "Business time" } th { "Recorded" } th { "Event" } th { "Payload" } } }
                tbody {
                    @for event in &loaded.events {
                        tr data-event=(event["type"].as_str().unwrap_or("")) {
                            td class="number" { (event["seq"].to_string()) }
                            td { (context.time(event["business_time"].as_str().unwrap_or(""))) }
                            td { (context.time(event["recorded_at"].as_str().unwrap_or(""))) }
                            td { (event["type"].as_str().unwrap_or("")) }
                            td { details { summary { "payload" } pre { (serde_json::to_string_pretty(&event["payload"]).unwrap_or_default()) } } }
                        }
                    }
                }
            }
        };
        Ok(page(
            &viewer,
            "",
            &format!("{} {id}", super::format::capitalised(collection.singular())),
            body,
        ))
    }
    .await;
    respond(&viewer, "", result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_of_other_documents_are_found_in_payloads_but_virtual_locations_are_not() {
        let payload = json!({ "return_id": "RA-1", "order": "SO-9",
            "effects": { "moves": [ { "sku": "MUG", "from": "quarantine", "to": "FC-1" } ] } });
        let mut found = BTreeSet::new();
        named(&payload, &mut found, 0);
        let found: Vec<_> = found.into_iter().collect();
        assert_eq!(
            found,
            vec![
                ("items", "MUG".to_string()),
                ("locations", "FC-1".to_string()),
                ("returns", "RA-1".to_string()),
                ("sales-orders", "SO-9".to_string()),
            ]
        );
    }
}
