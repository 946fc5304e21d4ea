//! `GET /orders/list`: the sales orders as a table a person can search, sort and page, 50 rows
//! at a time. It reads through the API's own list ([`crate::handlers::list_page`]) with the same
//! parameters, so what it shows is what `GET /v1/sales-orders` answers to the same query.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use flowline_core::documents::sales_order::{Attention, SalesOrder};
use maud::{Markup, html};
use serde_json::Value;

use super::documents::href;
use super::format::{self, money_minor};
use super::page::{Html, page};
use super::respond;
use super::session::Viewer;
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;
use crate::render::Collection;

/// Rows per page of a dashboard table.
pub const ROWS: usize = 50;

/// The filters the form offers, with their labels (all are the API's own).
const FORM_FILTERS: [(&str, &str); 7] = [
    ("status", "State"),
    ("channel", "Channel"),
    ("customer", "Customer"),
    ("sku", "Item"),
    ("center", "Center"),
    ("created_from", "Placed from"),
    ("created_before", "Placed before"),
];

/// The sortable columns: the API's sort key and the column's heading.
const SORTABLE: [(&str, &str); 3] = [
    ("id", "Order"),
    ("created", "Placed"),
    ("updated", "Last change"),
];

/// `GET /orders/list`.
pub async fn orders(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let Query(pairs) = query.map_err(|rejection| ApiError::query("", rejection.body_text()))?;
        // A blank form field means "any": it is left out, as a person expects.
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        let mut open = None;
        for (name, value) in pairs {
            let value = value.trim().to_string();
            if value.is_empty() {
                continue;
            }
            if name == "open" {
                open = Some(value);
                continue;
            }
            params.insert(name, value);
        }
        if let Some(id) = open {
            return Ok(Err(Redirect::to(&href(Collection::SalesOrders, &id))));
        }
        let allowed = crate::lists::parameters(Collection::SalesOrders);
        if let Some(name) = params
            .keys()
            .find(|name| !allowed.iter().any(|p| p.name == *name))
        {
            return Err(ApiError::query(name, "not a filter of this list"));
        }
        params
            .entry("limit".to_string())
            .or_insert_with(|| ROWS.to_string());
        let page_data = crate::handlers::list_page(
            &app,
            viewer.principal.tenant.clone(),
            Collection::SalesOrders,
            &params,
        )
        .await?;
        let body = body(&params, &page_data);
        Ok(Ok(page(&viewer, "/orders", "Sales orders", body)))
    }
    .await;
    match result {
        Ok(Err(redirect)) => redirect.into_response(),
        Ok(Ok(html)) => respond(&viewer, "/orders", Ok(html)),
        Err(error) => respond(&viewer, "/orders", Err::<Html, _>(error)),
    }
}

/// `/orders/list?…` with `changes` applied (a `None` value removes the parameter) and the
/// cursor dropped unless it is one of the changes.
fn address(params: &BTreeMap<String, String>, changes: &[(&str, Option<&str>)]) -> String {
    let mut next = params.clone();
    next.remove("cursor");
    if next
        .get("limit")
        .is_some_and(|limit| limit == &ROWS.to_string())
    {
        next.remove("limit");
    }
    for (name, value) in changes {
        match value {
            Some(value) => next.insert((*name).to_string(), (*value).to_string()),
            None => next.remove(*name),
        };
    }
    let query: Vec<String> = next
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    if query.is_empty() {
        "/orders/list".to_string()
    } else {
        format!("/orders/list?{}", query.join("&"))
    }
}

fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn text<'v>(record: &'v Value, field: &str) -> &'v str {
    record[field].as_str().unwrap_or("")
}

fn body(params: &BTreeMap<String, String>, data: &crate::lists::Page) -> Markup {
    let sort = params.get("sort").map_or("id", String::as_str);
    let attention = params.get("attention").map_or("", String::as_str);
    html! {
        form class="filters" method="get" action="/orders/list" {
            @for (name, label) in FORM_FILTERS {
                label { (label) " "
                    input type="text" name=(name) value=(params.get(name).map_or("", String::as_str)) size="12";
                }
            }
            label { "Needs attention "
                select name="attention" {
                    option value="" selected[attention.is_empty()] { "any order" }
                    @for kind in Attention::ALL {
                        option value=(kind.name()) selected[attention == kind.name()] { (kind.title()) }
                    }
                }
            }
            input type="hidden" name="sort" value=(sort);
            button type="submit" { "Search" }
            " "
            a href="/orders/list" { "Clear" }
        }
        form class="filters" method="get" action="/orders/list" {
            label { "Open order " input type="text" name="open" size="16" placeholder="SO-1001"; }
            button type="submit" { "Open" }
        }
        @if data.data.is_empty() {
            p { "No sales order matches." }
        } @else {
            table id="order-list" {
                thead { tr {
                    @for (key, heading) in SORTABLE {
                        th {
                            @let descending = format!("-{key}");
                            @if sort == key {
                                a href=(address(params, &[("sort", Some(&descending))])) title="Sort descending" { (heading) " ▲" }
                            } @else if sort == descending {
                                a href=(address(params, &[("sort", Some(key))])) title="Sort ascending" { (heading) " ▼" }
                            } @else {
                                a href=(address(params, &[("sort", Some(key))])) title="Sort by this column" { (heading) }
                            }
                        }
                    }
                    th { "Channel" } th { "Customer" } th { "State" } th class="number" { "Value" }
                } }
                tbody {
                    @for (record, (_, updated)) in data.data.iter().zip(&data.times) {
                        @let id = text(record, "id");
                        tr {
                            td { a href=(href(Collection::SalesOrders, id)) { (id) } }
                            td { (format::instant(text(record, "placed_at"))) }
                            td { (format::instant(&updated.to_string())) }
                            td { (text(record, "channel")) }
                            td { (customer(record)) }
                            td { (text(record, "state")) }
                            td class="number" { (value(record)) }
                        }
                    }
                }
            }
        }
        p class="pager" {
            @if params.contains_key("cursor") {
                a href=(address(params, &[])) { "First page" }
                " "
            }
            @if let Some(cursor) = &data.next_cursor {
                a rel="next" href=(address(params, &[("cursor", Some(cursor))])) { "Next " (ROWS) " →" }
            } @else {
                span class="muted" { "End of the list." }
            }
        }
        p class="muted" {
            "The same list as GET /v1/sales-orders" (api_query(params)) ". A page reads at most "
            (crate::lists::SCAN_BUDGET) " orders to test its filters, so a rare filter can show a short page with a next link."
        }
    }
}

fn api_query(params: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = params
        .iter()
        .filter(|(name, _)| name.as_str() != "cursor")
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

fn customer(record: &Value) -> String {
    let id = text(record, "customer");
    match record["contact"]["name"].as_str() {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

/// The order's value as it stands, in its own currency.
fn value(record: &Value) -> String {
    match serde_json::from_value::<SalesOrder>(record.clone()) {
        Ok(order) => money_minor(i128::from(order.value_minor()), order.currency.as_str()),
        Err(_) => String::new(),
    }
}
