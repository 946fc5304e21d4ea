//! `GET /orders/list` and `GET /list/{collection}`: a collection's documents as a table a person
//! can search, sort and page, 50 rows at a time. It reads through the API's own list
//! ([`crate::handlers::list_page`]) with the same parameters, so what it shows is what
//! `GET /v1/<collection>` answers to the same query.

use std::collections::BTreeMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
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
use crate::urls;

/// Rows per page of a dashboard table.
pub const ROWS: usize = 50;

/// The sortable columns: the API's sort key and the column's heading.
fn sortable(collection: Collection) -> [(&'static str, &'static str); 3] {
    let (id, created) = match collection {
        Collection::SalesOrders => ("Order", "Placed"),
        _ => ("Id", "Created"),
    };
    [("id", id), ("created", created), ("updated", "Last change")]
}

/// A list page: its collection, its address and the navigation entry it belongs to.
#[derive(Clone, Copy)]
struct ListPage {
    collection: Collection,
    path: &'static str,
    active: &'static str,
}

impl ListPage {
    fn of(collection: Collection) -> Self {
        let (path, active) = match collection {
            Collection::SalesOrders => ("/orders/list", "/orders"),
            Collection::PurchaseOrders => ("/list/purchase-orders", "/source"),
            Collection::WorkOrders => ("/list/work-orders", "/make"),
            Collection::Returns => ("/list/returns", "/return"),
            Collection::Items => ("/list/items", "/inventory"),
            Collection::Transfers => ("/list/transfers", "/inventory"),
            Collection::Locations => ("/list/locations", ""),
            Collection::Suppliers => ("/list/suppliers", "/source"),
            Collection::Carriers => ("/list/carriers", ""),
            Collection::ReturnPolicies => ("/list/return-policies", "/return"),
            Collection::Counts => ("/list/counts", "/inventory"),
            Collection::Adjustments => ("/list/adjustments", "/inventory"),
            Collection::Costs => ("/list/costs", "/cash"),
            Collection::FixedAssets => ("/list/fixed-assets", "/cash"),
            Collection::Targets => ("/list/targets", "/targets"),
            Collection::Initiatives => ("/list/initiatives", "/targets"),
            Collection::Proposals => ("/list/proposals", "/plan"),
            Collection::Forecasts => ("/list/forecasts", "/plan"),
            Collection::Promotions => ("/list/promotions", "/plan"),
        };
        Self {
            collection,
            path,
            active,
        }
    }
}

/// The address of a collection's list page.
pub fn list_path(collection: Collection) -> &'static str {
    ListPage::of(collection).path
}

/// `GET /orders/list`.
pub async fn orders(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    show(app, viewer, query, ListPage::of(Collection::SalesOrders)).await
}

/// `GET /list/{collection}`.
pub async fn collection(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let found = path.ok().and_then(|Path(segment)| {
        Collection::ALL
            .into_iter()
            .find(|collection| collection.segment() == segment)
    });
    match found {
        Some(collection) => show(app, viewer, query, ListPage::of(collection)).await,
        None => respond(
            &viewer,
            "",
            Err::<Html, _>(ApiError::not_found("collection", "")),
        ),
    }
}

async fn show(
    app: App,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    list: ListPage,
) -> Response {
    let collection = list.collection;
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
            return Ok(Err(Redirect::to(&href(collection, &id))));
        }
        let allowed = crate::lists::parameters(collection);
        if let Some(name) = params
            .keys()
            .find(|name| !allowed.iter().any(|p| p.name == *name))
        {
            return Err(ApiError::query(name, "not a filter of this list"));
        }
        params
            .entry("limit".to_string())
            .or_insert_with(|| ROWS.to_string());
        let page_data =
            crate::handlers::list_page(&app, viewer.principal.tenant.clone(), collection, &params)
                .await?;
        let body = body(list, &params, &page_data);
        let title = format::capitalised(&collection.segment().replace('-', " "));
        Ok(Ok(page(&viewer, list.active, &title, body)))
    }
    .await;
    match result {
        Ok(Err(redirect)) => redirect.into_response(),
        Ok(Ok(html)) => respond(&viewer, list.active, Ok(html)),
        Err(error) => respond(&viewer, list.active, Err::<Html, _>(error)),
    }
}

/// The list's address with `changes` applied (a `None` value removes the parameter) and the
/// cursor dropped unless it is one of the changes.
fn address(
    path: &str,
    params: &BTreeMap<String, String>,
    changes: &[(&str, Option<&str>)],
) -> String {
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
    let query = urls::query(&next);
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn text<'v>(record: &'v Value, field: &str) -> &'v str {
    record[field].as_str().unwrap_or("")
}

/// A filter's label on the form: its name in words.
fn label(name: &str) -> String {
    match name {
        "status" => "State".into(),
        "sku" => "Item".into(),
        "created_from" => "Created from".into(),
        "created_before" => "Created before".into(),
        other => format::capitalised(&other.replace('_', " ")),
    }
}

/// The columns after the sortable ones: heading, and the cell of a record.
type Column = (&'static str, fn(&Value) -> Markup);

fn columns(collection: Collection) -> Vec<Column> {
    match collection {
        Collection::SalesOrders => vec![
            ("Channel", |record| html! { (text(record, "channel")) }),
            ("Customer", |record| html! { (customer(record)) }),
            ("State", |record| html! { (text(record, "state")) }),
            ("Value", |record| html! { (order_value(record)) }),
        ],
        Collection::PurchaseOrders => vec![
            (
                "Supplier",
                |record| html! { a href=(href(Collection::Suppliers, text(record, "supplier"))) { (text(record, "supplier")) } },
            ),
            ("Center", |record| html! { (text(record, "location")) }),
            (
                "Committed for",
                |record| html! { (text(record, "committed_on")) },
            ),
            ("State", |record| html! { (text(record, "state")) }),
            ("Value", |record| html! { (lines_value(record)) }),
        ],
        Collection::WorkOrders => vec![
            ("Kind", |record| html! { (text(record, "kind")) }),
            ("Item", |record| html! { (text(record, "item")) }),
            (
                "Quantity",
                |record| html! { (record["quantity"].to_string()) },
            ),
            ("State", |record| html! { (text(record, "state")) }),
        ],
        Collection::Returns => vec![
            (
                "Order",
                |record| html! { a href=(href(Collection::SalesOrders, text(record, "order"))) { (text(record, "order")) } },
            ),
            ("State", |record| html! { (text(record, "state")) }),
            (
                "Refunded",
                |record| html! { (minor_in_currency(record, "refunded_minor")) },
            ),
        ],
        Collection::Items => vec![
            ("Name", |record| html! { (text(record, "name")) }),
            ("Category", |record| html! { (text(record, "category")) }),
        ],
        _ => vec![("State", |record| {
            html! { (record["state"].as_str().or(record["status"].as_str()).unwrap_or("")) }
        })],
    }
}

fn body(list: ListPage, params: &BTreeMap<String, String>, data: &crate::lists::Page) -> Markup {
    let collection = list.collection;
    let path = list.path;
    let sort = params.get("sort").map_or("id", String::as_str);
    let attention = params.get("attention").map_or("", String::as_str);
    let filters: Vec<&str> = crate::lists::parameters(collection)
        .iter()
        .map(|parameter| parameter.name)
        .filter(|name| {
            !matches!(
                *name,
                "limit"
                    | "sort"
                    | "cursor"
                    | "after"
                    | "attention"
                    | "updated_from"
                    | "updated_before"
            )
        })
        .collect();
    let extra = columns(collection);
    let singular = collection.singular();
    html! {
        form class="filters" method="get" action=(path) {
            @for name in &filters {
                label { (label(name)) " "
                    input type="text" name=(name) value=(params.get(*name).map_or("", String::as_str)) size="12";
                }
            }
            @if collection == Collection::SalesOrders {
                label { "Needs attention "
                    select name="attention" {
                        option value="" selected[attention.is_empty()] { "any order" }
                        @for kind in Attention::ALL {
                            option value=(kind.name()) selected[attention == kind.name()] { (kind.title()) }
                        }
                    }
                }
            }
            input type="hidden" name="sort" value=(sort);
            button type="submit" { "Search" }
            " "
            a href=(path) { "Clear" }
        }
        form class="filters" method="get" action=(path) {
            label { "Open " (singular) " " input type="text" name="open" size="16"; }
            button type="submit" { "Open" }
        }
        @if data.data.is_empty() {
            p { "No " (singular) " matches." }
        } @else {
            table id="order-list" class="document-list" {
                thead { tr {
                    @for (key, heading) in sortable(collection) {
                        th {
                            @let descending = format!("-{key}");
                            @if sort == key {
                                a href=(address(path, params, &[("sort", Some(&descending))])) title="Sort descending" { (heading) " ▲" }
                            } @else if sort == descending {
                                a href=(address(path, params, &[("sort", Some(key))])) title="Sort ascending" { (heading) " ▼" }
                            } @else {
                                a href=(address(path, params, &[("sort", Some(key))])) title="Sort by this column" { (heading) }
                            }
                        }
                    }
                    @for (heading, _) in &extra { th { (heading) } }
                } }
                tbody {
                    @for (record, (created, updated)) in data.data.iter().zip(&data.times) {
                        @let id = text(record, "id");
                        tr {
                            td { a href=(href(collection, id)) { (id) } }
                            td { (format::instant(&created.to_string())) }
                            td { (format::instant(&updated.to_string())) }
                            @for (_, cell) in &extra { td { (cell(record)) } }
                        }
                    }
                }
            }
        }
        p class="pager" {
            @if params.contains_key("cursor") {
                a href=(address(path, params, &[])) { "First page" }
                " "
            }
            @if let Some(cursor) = &data.next_cursor {
                a rel="next" href=(address(path, params, &[("cursor", Some(cursor))])) { "Next " (ROWS) " →" }
            } @else {
                span class="muted" { "End of the list." }
            }
        }
        p class="muted" {
            "The same list as GET /v1/" (collection.segment()) (api_query(params)) ". A page reads at most "
            (crate::lists::SCAN_BUDGET) " documents to test its filters, so a rare filter can show a short page with a next link."
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
fn order_value(record: &Value) -> String {
    match serde_json::from_value::<SalesOrder>(record.clone()) {
        Ok(order) => money_minor(i128::from(order.value_minor()), order.currency.as_str()),
        Err(_) => String::new(),
    }
}

/// Σ quantity × unit price of a document's lines, in its own currency, with the currency.
fn lines_value(record: &Value) -> String {
    let total: i128 = record["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| {
            i128::from(line["line"]["quantity"].as_i64().unwrap_or(0))
                * i128::from(line["line"]["unit_price_minor"].as_i64().unwrap_or(0))
        })
        .sum();
    let currency = text(record, "currency");
    format!("{} {currency}", money_minor(total, currency))
}

/// A `_minor` field in the document's currency, with the currency.
fn minor_in_currency(record: &Value, field: &str) -> String {
    let currency = text(record, "currency");
    let minor = record[field].as_i64().unwrap_or(0);
    format!("{} {currency}", money_minor(i128::from(minor), currency))
}
