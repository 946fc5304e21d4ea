//! The scorecard (`/`) and the drill-down from a metric to its Level-2 metrics, its failure
//! signatures and the documents behind them (`/scorecard/{metric}`,
//! `/scorecard/{metric}/documents`).
//!
//! Every number comes from [`flowline_metrics::scorecard::scorecard`] over the tenant's fold,
//! the function behind `GET /v1/scorecard` and `flowline metrics`, so the page, the API and the
//! command line agree for the same range and slice.

use super::chart::{self, Bar, Intersection, Line};
use super::format;
use super::page::page;
use super::session::{Viewer, percent_encode};
use super::{Picks, params, period_label, respond};
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;
use crate::scorecard_routes::with_fold;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use flowline_metrics::drill::{self, Filter};
use flowline_metrics::fold::{Dimension, Fold, Slice};
use flowline_metrics::order::Component;
use flowline_metrics::period::{Granularity, Range};
use flowline_metrics::scorecard::{metric_info, scorecard};
use flowline_metrics::targets::{Direction, Status, TargetStatus, statuses};
use flowline_metrics::value::{MetricValue, Unit};
use maud::{Markup, html};
use std::collections::BTreeMap;

/// Periods in a tile's trend.
const TREND_PERIODS: usize = 12;

/// Slices offered per dimension in the picker, largest first.
const SLICES_PER_DIMENSION: usize = 40;

/// The four reliability components, in signature bit order.
const COMPONENTS: [&str; 4] = ["in full", "on time", "documentation", "condition"];

/// The slices of the fold worth offering, by dimension, largest population first.
fn slices_offered(fold: &Fold) -> Vec<(Dimension, Vec<String>)> {
    // A slice's size over all days, and one for each day it has figures for.
    let sizes: Vec<(&Slice, i128)> = fold
        .slice_sizes()
        .map(|(slice, size, days)| (slice, size + i128::try_from(days).unwrap_or(i128::MAX)))
        .collect();
    Dimension::ALL
        .into_iter()
        .map(|dimension| {
            let mut owned: Vec<(i128, String)> = sizes
                .iter()
                .filter(|(slice, _)| dimension.owns(slice))
                .map(|(slice, size)| (*size, slice.parts().1.to_string()))
                .collect();
            owned.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let values = owned
                .into_iter()
                .take(SLICES_PER_DIMENSION)
                .map(|(_, value)| value)
                .collect();
            (dimension, values)
        })
        .filter(|(_, values): &(Dimension, Vec<String>)| !values.is_empty())
        .collect()
}

/// The period and slice pickers, the range shown, and links to the periods around it.
pub fn pickers(action: &str, fold: &Fold, picks: &Picks, range: Range) -> Markup {
    let zone = fold.settings().reporting.iana_name().unwrap_or("UTC");
    let custom = picks.from.is_some();
    let anchor = picks.granularity.anchor(range);
    let (previous_label, next_label) = match picks.granularity {
        Granularity::TrailingYear => (
            "← a month earlier".to_string(),
            "a month later →".to_string(),
        ),
        other => (
            format!("← previous {}", other.noun()),
            format!("next {} →", other.noun()),
        ),
    };
    let previous = picks.granularity.anchor(picks.granularity.before(anchor));
    let next = picks.granularity.anchor(picks.granularity.after(anchor));
    let slice = picks.slice.to_string();
    let keep_slice = if picks.slice == Slice::All {
        String::new()
    } else {
        format!("&slice={}", percent_encode(&slice))
    };
    let period = picks.granularity.name();
    let offered = slices_offered(fold);
    let provisional_hint = "Ranges that late returns and claims can still change are marked provisional for 30 days after their last day.";
    html! {
        form class="pickers" method="get" action=(action) data-autosubmit {
            label { "Period"
                select name="period" {
                    @for kind in Granularity::ALL {
                        option value=(kind.name()) selected[kind.name() == period] {
                            @if kind == Granularity::TrailingYear { "trailing 12 months" } @else { (kind.name()) }
                        }
                    }
                }
            }
            label { "Containing the day"
                input type="date" name="at" value=(if custom { String::new() } else { anchor.to_string() });
            }
            label { "Slice"
                select name="slice" {
                    option value="all" selected[picks.slice == Slice::All] { "whole tenant" }
                    @for (dimension, values) in &offered {
                        optgroup label=(dimension.name()) {
                            @for value in values {
                                @let text = format!("{}:{value}", dimension.name());
                                option value=(text) selected[text == slice] { (dimension.name()) " " (value) }
                            }
                        }
                    }
                }
            }
            details class="custom" open[custom] {
                summary { "Custom range" }
                label { "From" input type="date" name="from" value=(picks.from.map(|d| d.to_string()).unwrap_or_default()); }
                label { "To (exclusive)" input type="date" name="to" value=(picks.to.map(|d| d.to_string()).unwrap_or_default()); }
            }
            button class="apply" type="submit" { "Apply" }
        }
        p class="range" {
            @if !custom {
                a href={(action) "?period=" (period) "&at=" (previous) (keep_slice)} rel="prev" { (previous_label) }
                " · "
            }
            span data-from=(range.from.date()) data-to=(range.to.date()) {
                (range.from.date()) " to " (range.to.date()) " (exclusive), " (zone) " time, "
                @if picks.slice != Slice::All { "slice " (slice) ", " }
                "amounts in " (fold.settings().base_currency.to_string())
            }
            @if !custom {
                " · "
                a href={(action) "?period=" (period) "&at=" (next) (keep_slice)} rel="next" { (next_label) }
            }
        }
        @if !custom && picks.at.is_none() {
            p class="muted default-range" {
                "Showing " (crate::scorecards::default_range_meaning(fold, picks.granularity)) "."
            }
        }
        p class="muted" { (provisional_hint) }
    }
}

/// The status of a target as a symbol and a word (never colour alone).
fn status_mark(status: Status) -> Markup {
    match status {
        Status::Met => html! { span class="status-met" data-status="met" { "✓ met" } },
        Status::Missed => html! { span class="status-missed" data-status="missed" { "✗ missed" } },
        Status::NoData => {
            html! { span class="status-no_data" data-status="no_data" { "– no data" } }
        }
    }
}

fn direction_text(direction: Direction) -> &'static str {
    match direction {
        Direction::AtLeast => "at least",
        Direction::AtMost => "at most",
    }
}

fn shown_unit(unit: Unit, currency: &str) -> String {
    let label = format::unit_label(unit, currency);
    if label.is_empty() {
        "ratio".to_string()
    } else {
        label
    }
}

/// One Level-1 tile.
fn tile(
    value: &MetricValue,
    target: Option<&TargetStatus>,
    trend: &[Option<f64>],
    currency: &str,
    query: &str,
) -> Markup {
    let name = metric_info(&value.id).map_or(value.id.as_str(), |info| info.name);
    let code = metric_info(&value.id).map_or("", |info| info.scor_code);
    let unit = shown_unit(value.unit, currency);
    html! {
        article class={"tile" @if value.provisional { " provisional" }} data-metric=(value.id)
            data-numerator=(value.ratio.numerator) data-denominator=(value.ratio.denominator)
            data-provisional=(value.provisional) {
            h2 {
                a href={"/scorecard/" (value.id) "?" (query)} {
                    @if !code.is_empty() { span class="code" { (code) } " " }
                    (name)
                }
            }
            div class="value" { (format::value(value, currency)) }
            div class="terms" { (format::terms(value)) }
            @if let Some(coverage) = &value.coverage {
                @if coverage.judged < coverage.candidates {
                    div class="coverage" { "Coverage " (coverage.judged) " of " (coverage.candidates) ": " (coverage.note) }
                }
            }
            div {
                @if value.provisional {
                    span class="badge provisional" title="Late returns and claims can still change this value" { "provisional" }
                } @else {
                    span class="badge final" { "final" }
                }
            }
            dl {
                dt { "Target" }
                dd class="target" {
                    @if let Some(target) = target {
                        (direction_text(target.report.target.direction)) " " (format::milli(target.report.target.value_milli)) " " (unit)
                    } @else {
                        a href={"/targets?metric=" (value.id)} { "none — set one" }
                    }
                }
                dt { "Status" }
                dd class="status" {
                    @if let Some(target) = target { (status_mark(target.report.status)) } @else { span class="status-none" { "– no target" } }
                }
                dt { "Baseline" }
                dd class="baseline" {
                    @match target.and_then(|target| target.report.baseline.as_ref().map(|baseline| (target, baseline))) {
                        Some((target, baseline)) => {
                            (format::value(baseline, currency))
                            @if let Some(range) = target.report.target.baseline {
                                span class="muted" { " (" (range.from.date()) " to " (range.to.date()) ")" }
                            }
                        }
                        None => span class="muted" { "none" },
                    }
                }
            }
            (chart::sparkline(&format!("{name} trend"), trend, &unit))
            a class="drill" href={"/scorecard/" (value.id) "?" (query)} { "Level 2, failures and documents →" }
        }
    }
}

/// Each Level-1 metric's value over the periods of [`Picks::trend`]: the `TREND_PERIODS` up to
/// the one shown, or a custom range's own sub-periods.
fn trends(
    fold: &Fold,
    picks: &Picks,
    range: Range,
    ids: &[String],
) -> BTreeMap<String, Vec<Option<f64>>> {
    let (_, periods) = picks.trend(range, TREND_PERIODS);
    let currency = fold.settings().base_currency.to_string();
    let mut trends: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for period in periods {
        let card = scorecard(fold, period, &picks.slice, picks.as_of);
        for id in ids {
            trends.entry(id.clone()).or_default().push(
                card.value(id)
                    .and_then(|value| format::shown(value, &currency)),
            );
        }
    }
    trends
}

fn overview_body(fold: &Fold, picks: &Picks) -> Markup {
    let range = picks.range(fold);
    let card = scorecard(fold, range, &picks.slice, picks.as_of);
    let currency = fold.settings().base_currency.to_string();
    let targets = statuses(fold, range, picks.as_of);
    let ids: Vec<String> = card
        .level1
        .iter()
        .map(|level1| level1.value.id.clone())
        .collect();
    let trends = trends(fold, picks, range, &ids);
    let query = picks.query(range);
    html! {
        (pickers("/", fold, picks, range))
        p {
            "Scorecard "
            @if card.provisional {
                span class="badge provisional" data-provisional="true" { "provisional" }
                " late returns and claims can still change reliability and return figures of this range."
            } @else {
                span class="badge final" data-provisional="false" { "final" }
            }
        }
        section class="tiles" aria-label="Level-1 metrics" {
            @for level1 in &card.level1 {
                @let target = targets.iter().find(|status| status.report.target.metric == level1.value.id && status.report.target.slice == picks.slice);
                (tile(&level1.value, target, trends.get(&level1.value.id).map(Vec::as_slice).unwrap_or(&[]), &currency, &query))
            }
        }
        h2 { "Operational KPIs" }
        (value_table(&card.operational, &currency, &query))
    }
}

/// A table of values, each linking to its own drill-down.
pub fn value_table(values: &[MetricValue], currency: &str, query: &str) -> Markup {
    html! {
        table {
            thead { tr { th { "Metric" } th class="number" { "Value" } th class="number" { "Terms" } th { "State" } } }
            tbody {
                @for value in values {
                    tr data-metric=(value.id) {
                        td { a href={"/scorecard/" (value.id) "?" (query)} { (format::metric_name(&value.id)) } }
                        td class="number" { (format::value(value, currency)) }
                        td class="number" { (format::terms(value)) }
                        td { @if value.provisional { span class="badge provisional" { "provisional" } } @else { span class="badge final" { "final" } } }
                    }
                }
            }
        }
    }
}

/// `GET /`: the Level-1 tiles of the period and slice picked.
pub async fn overview(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let picks = Picks::parse(&params(query)?)?;
        let body = with_fold(&app, &viewer.principal.tenant, move |fold| {
            Ok(overview_body(fold, &picks))
        })
        .await?;
        Ok(page(&viewer, "/", "SCOR scorecard", body))
    }
    .await;
    respond(&viewer, "/", result)
}

fn known_metric(id: &str) -> bool {
    metric_info(id).is_some() || id.starts_with("rs.segment.") || id.starts_with("co.cost.")
}

/// Whether failure signatures explain a metric (the sales-order reliability family).
fn has_signatures(id: &str) -> bool {
    id.starts_with("rl.") && !id.starts_with("rl.supplier") && id != "rl.perfect_supplier_order"
}

fn metric_body(fold: &Fold, picks: &Picks, id: &str) -> Result<Markup, ApiError> {
    let range = picks.range(fold);
    let card = scorecard(fold, range, &picks.slice, picks.as_of);
    let value = card
        .value(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("metric", id))?;
    let currency = fold.settings().base_currency.to_string();
    let query = picks.query(range);
    let own = card.level1.iter().find(|level1| level1.value.id == id);
    let parent = card
        .level1
        .iter()
        .find(|level1| level1.level2.iter().any(|level2| level2.id == id));
    let level2 = own.map(|level1| level1.level2.clone()).unwrap_or_default();
    let percent_bars: Vec<Bar> = level2
        .iter()
        .filter(|value| value.unit == Unit::Percent && value.value.is_some())
        .map(|value| Bar {
            label: format::metric_name(&value.id),
            value: value.value.unwrap_or(0.0),
            note: format!(
                "{} ({})",
                format::value(value, &currency),
                format::terms(value)
            ),
            href: Some(format!("/scorecard/{}?{query}", value.id)),
        })
        .collect();
    let (granularity, periods) = picks.trend(range, TREND_PERIODS);
    let labels: Vec<String> = periods
        .iter()
        .map(|period| period_label(granularity, *period))
        .collect();
    let history: Vec<Option<f64>> = periods
        .iter()
        .map(|period| {
            scorecard(fold, *period, &picks.slice, picks.as_of)
                .value(id)
                .and_then(|value| format::shown(value, &currency))
        })
        .collect();
    let unit = shown_unit(value.unit, &currency);
    let intersections: Vec<Intersection> = card
        .signatures
        .iter()
        .map(|signature| Intersection {
            bits: signature.bits,
            count: signature.orders,
            href: format!(
                "/scorecard/{id}/documents?{query}&signature={}",
                signature.bits
            ),
        })
        .collect();
    let mut sorted = intersections.clone();
    sorted.sort_by(|a, b| b.count.cmp(&a.count).then(a.bits.cmp(&b.bits)));
    let imperfect: i64 = card
        .signatures
        .iter()
        .map(|signature| signature.orders)
        .sum();
    Ok(html! {
        (pickers(&format!("/scorecard/{id}"), fold, picks, range))
        p { a href={"/?" (query)} { "← Scorecard" }
            @if let Some(parent) = parent { " · Level 1: " a href={"/scorecard/" (parent.value.id) "?" (query)} { (format::metric_name(&parent.value.id)) } }
        }
        section class="card" data-metric=(id) data-numerator=(value.ratio.numerator) data-denominator=(value.ratio.denominator) {
            p class="tile-value" { strong class="value" { (format::value(&value, &currency)) } " — " (format::terms(&value))
                " " @if value.provisional { span class="badge provisional" { "provisional" } } @else { span class="badge final" { "final" } } }
            @if let Some(coverage) = &value.coverage { @if coverage.judged < coverage.candidates {
                p class="muted" { "Coverage " (coverage.judged) " of " (coverage.candidates) ": " (coverage.note) } } }
            p { a class="documents" href={"/scorecard/" (id) "/documents?" (query)} { "The documents behind this figure →" } }
        }
        h2 { "Trend" }
        (chart::lines(&format!("{} by {}", format::metric_name(id), picks.granularity.name()), &labels, &[Line { name: format::metric_name(id), values: history }], &unit))
        @if !level2.is_empty() {
            h2 { "Level 2, on the same population" }
            @if !percent_bars.is_empty() {
                (chart::bars("Level-2 metrics (percent)", &percent_bars, "%"))
            }
            (value_table(&level2, &currency, &query))
        }
        @if has_signatures(id) {
            h2 { "Failure signatures" }
            @if intersections.is_empty() {
                p class="muted" { "No imperfect orders with a commitment in this range." }
            } @else {
                p { "Each imperfect order counts once, under the exact set of components it failed, so the columns add up to the "
                    strong { (imperfect) } " imperfect orders. The dots show which components each column failed; click a column for its orders." }
                (chart::upset("Imperfect orders by failure signature", &COMPONENTS, &sorted, "orders"))
                table {
                    thead { tr { th { "Failed exactly" } th class="number" { "Orders" } th { "" } } }
                    tbody {
                        @for cell in &sorted {
                            tr { td { (members(cell.bits)) } td class="number" { (cell.count) } td { a href=(cell.href) { "orders →" } } }
                        }
                    }
                }
            }
        }
    })
}

fn members(bits: u8) -> String {
    COMPONENTS
        .iter()
        .enumerate()
        .filter(|(index, _)| bits & (1 << index) != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `GET /scorecard/{metric}`: one metric, its Level-2 metrics, trend and failure signatures.
pub async fn metric(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let Path(id) =
            path.map_err(|rejection| ApiError::query("metric", rejection.body_text()))?;
        if !known_metric(&id) {
            return Err(ApiError::not_found("metric", &id));
        }
        let picks = Picks::parse(&params(query)?)?;
        let metric = id.clone();
        let body = with_fold(&app, &viewer.principal.tenant, move |fold| {
            metric_body(fold, &picks, &metric)
        })
        .await?;
        Ok(page(&viewer, "/", &format::metric_name(&id), body))
    }
    .await;
    respond(&viewer, "/", result)
}

fn component_names(failed: &[Component]) -> String {
    failed
        .iter()
        .map(|component| COMPONENTS[component.bit().trailing_zeros() as usize])
        .collect::<Vec<_>>()
        .join(", ")
}

/// Documents behind a supplier metric: the receipts of the range, rejected units first.
fn supplier_documents(fold: &Fold, range: Range, picks: &Picks) -> Markup {
    let zone = fold.settings().reporting.clone();
    let start = range.from.start(&zone);
    let end = range.to.start(&zone);
    let mut receipts: Vec<_> = fold
        .history()
        .receipts()
        .filter(|receipt| receipt.arrived_at >= start && receipt.arrived_at < end)
        .filter(|receipt| match &picks.slice {
            Slice::Supplier(supplier) => receipt.supplier == *supplier,
            _ => true,
        })
        .collect();
    receipts.sort_by(|a, b| {
        b.rejected
            .cmp(&a.rejected)
            .then(a.purchase_order.cmp(&b.purchase_order))
    });
    html! {
        p { (receipts.len()) " receipt(s) in the range, units rejected at quality control first." }
        table class="documents" {
            thead { tr { th { "Purchase order" } th { "Supplier" } th { "Arrived" } th class="number" { "Accepted" } th class="number" { "Rejected" } th class="number" { "Lead time (days)" } } }
            tbody {
                @for receipt in receipts.iter().take(500) {
                    tr {
                        td { a href={"/documents/purchase-orders/" (receipt.purchase_order)} { (receipt.purchase_order) } }
                        td { (receipt.supplier) }
                        td { (format::instant(&receipt.arrived_at.to_string())) }
                        td class="number" { (receipt.accepted) }
                        td class="number" { (receipt.rejected) }
                        td class="number" { @if let Some(seconds) = receipt.lead_seconds { (format::decimal(seconds as f64 / 86_400.0)) } }
                    }
                }
            }
        }
    }
}

fn documents_body(
    fold: &Fold,
    picks: &Picks,
    id: &str,
    signature: Option<u8>,
) -> Result<Markup, ApiError> {
    let range = picks.range(fold);
    let query = picks.query(range);
    let heading = html! {
        (pickers(&format!("/scorecard/{id}/documents"), fold, picks, range))
        p { a href={"/scorecard/" (id) "?" (query)} { "← " (format::metric_name(id)) } }
    };
    if id == "rl.perfect_supplier_order" || id.starts_with("rl.supplier") {
        return Ok(html! { (heading) (supplier_documents(fold, range, picks)) });
    }
    let filter = match signature {
        Some(bits) => Filter::Signature(bits),
        None => Filter::for_metric(id),
    };
    let rows = drill::orders(fold, range, &picks.slice, filter, 500);
    let explanation = match filter {
        Filter::Imperfect => {
            "Orders with a commitment that were not perfect, most components failed first."
                .to_string()
        }
        Filter::Failing(_) => {
            "Orders failing this component, most components failed first.".to_string()
        }
        Filter::Signature(bits) => format!("Orders that failed exactly: {}.", members(bits)),
        Filter::CycleTime => "Delivered orders, slowest first.".to_string(),
        Filter::All => "Every order that closed in the range.".to_string(),
    };
    Ok(html! {
        (heading)
        p { (explanation) " " strong data-count=(rows.len()) { (rows.len()) " order(s)" } @if rows.len() == 500 { " (the first 500)" } "." }
        table class="documents" {
            thead { tr { th { "Sales order" } th { "Channel" } th { "Closed" } th { "Failed" } th class="number" { "Cycle time (h)" } th class="number" { "Click to door (h)" } } }
            tbody {
                @for row in &rows {
                    tr {
                        td { a class="document" href={"/documents/sales-orders/" (percent_encode(&row.order))} { (row.order) } }
                        td { (row.channel) }
                        td { (format::instant(&row.closed_at)) }
                        td { @if row.failed.is_empty() { span class="muted" { "nothing" } } @else { (component_names(&row.failed)) } @if !row.has_commit { span class="muted" { " (no commitment)" } } }
                        td class="number" { @if let Some(hours) = row.cycle_hours { (format::decimal(hours)) } }
                        td class="number" { @if let Some(hours) = row.click_to_door_hours { (format::decimal(hours)) } }
                    }
                }
            }
        }
    })
}

/// `GET /scorecard/{metric}/documents`: the orders (or receipts) behind a figure.
pub async fn documents(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let Path(id) =
            path.map_err(|rejection| ApiError::query("metric", rejection.body_text()))?;
        if !known_metric(&id) {
            return Err(ApiError::not_found("metric", &id));
        }
        let params = params(query)?;
        let signature = params
            .get("signature")
            .map(|text| match text.parse::<u8>() {
                Ok(bits) if (1..16).contains(&bits) => Ok(bits),
                _ => Err(ApiError::query(
                    "signature",
                    format!("`{text}` is not a failure signature (1 to 15)"),
                )),
            })
            .transpose()?;
        let picks = Picks::parse(&params)?;
        let metric = id.clone();
        let body = with_fold(&app, &viewer.principal.tenant, move |fold| {
            documents_body(fold, &picks, &metric, signature)
        })
        .await?;
        Ok(page(
            &viewer,
            "/",
            &format!("Documents behind {}", format::metric_name(&id)),
            body,
        ))
    }
    .await;
    respond(&viewer, "/", result)
}
