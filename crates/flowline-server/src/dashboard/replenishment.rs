//! Plan: `/plan` puts the replenishment planner's proposals to a person. It lists the open
//! proposals, each line with the sum that produced its quantity (the terms recorded in the
//! document, formatted, never recomputed), with the forms that approve one (its purchase order
//! or transfer is created with exactly its lines) or reject one with a reason; a form that runs
//! the planner and records what it proposes, as `POST /v1/plan/replenishment` does; and the
//! proposals decided most recently, with what became of them. Its Forecast section draws one
//! item's daily orders of the last eight weeks and the forecast ahead with its interval, and the
//! forecasts published earlier against the days they covered (`?sku=` picks the item).
//!
//! The forms become the API's commands (`ApproveProposal`, `RejectProposal`), read by the same
//! serde definitions, checked with the same access level (operator or admin) and submitted to
//! the same engine, each rendering with its own idempotency key so a double click records one
//! decision. A refused command is answered with the page again and the reason in words.

use super::page::{Html, page};
use super::plans::{Fields, command, field, form_fields, invalid, parse_milli, submit};
use super::session::{Viewer, percent_encode};
use super::{chart, format};
use super::{params, respond};
use crate::App;
use crate::auth::Access;
use crate::error::{ApiError, Code};
use crate::plan_routes;
use crate::render::Collection;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use flowline_core::Command;
use flowline_core::documents::replenishment::{
    ApproveProposal, Proposal, ProposalSource, ProposalStatus, RejectProposal, ReplenishmentTerms,
};
use flowline_core::id::Sku;
use flowline_core::money::format_minor;
use flowline_metrics::demand::DemandHistory;
use flowline_metrics::replenishment::{ForecastedItem, Settings};
use flowline_plan::replenish::ServiceTarget;
use jiff::civil::Date;
use maud::{Markup, html};
use serde_json::json;
use std::collections::BTreeMap;

/// The page's path, and its place in the navigation.
pub const PATH: &str = "/plan";

/// Decided proposals shown, newest first.
const DECIDED_SHOWN: usize = 20;

/// The reasons a proposal can be rejected for on this page: code and words.
pub const REJECT_REASONS: &[(&str, &str)] = &[
    ("stock_arriving", "stock is arriving anyway"),
    ("price_too_high", "the price is too high"),
    ("demand_changed", "demand has changed"),
    ("other", "other (say why in the note)"),
];

/// The service level the planner form starts with, in percent.
const SERVICE_LEVEL_DEFAULT: &str = "95";

/// Thousandths of a unit as shown in a sum: `0` for nothing, otherwise three places with
/// thousands grouped (`60.000`, `0.588`, `1,234.500`), so every digit the planner recorded is
/// shown.
pub fn units_milli(value_milli: i64) -> String {
    if value_milli == 0 {
        "0".to_string()
    } else {
        format_minor(i128::from(value_milli), 3)
    }
}

/// Thousandths as a short decimal with no trailing zeros: `15000` as `15`, `14500` as `14.5`.
pub fn short_milli(value_milli: i64) -> String {
    let text = format_minor(i128::from(value_milli), 3);
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

/// How a line's quantity was reached, as a sum a person can redo: "forecast over 14 days
/// 60.000 + safety stock 20.412 (95 % cycle service) − position 33 (on hand 30 − reserved 5 −
/// backordered 2 + on order 10 + inbound 0) = need 47.412; + lot sizing 0 + rounding 0.588 =
/// 48". The terms are the document's; `quantity` is the line's.
pub fn explanation(terms: &ReplenishmentTerms, quantity: i64) -> String {
    let days = short_milli(terms.protection_days_milli);
    let unit = if terms.protection_days_milli == 1000 {
        "day"
    } else {
        "days"
    };
    // The service level is a share in thousandths: 950 is 95 %.
    let level = short_milli(terms.service_level_milli.saturating_mul(100));
    let target = if terms.fill_rate {
        "fill rate"
    } else {
        "cycle service"
    };
    let whole = |value: i64| format::grouped(i128::from(value));
    format!(
        "forecast over {days} {unit} {} + safety stock {} ({level} % {target}) − position {} (on hand {} − reserved {} − backordered {} + on order {} + inbound {}) = need {}; + lot sizing {} + rounding {} = {}",
        units_milli(terms.forecast_milli),
        units_milli(terms.safety_stock_milli),
        whole(terms.position),
        whole(terms.on_hand),
        whole(terms.reserved),
        whole(terms.backordered),
        whole(terms.on_order),
        whole(terms.inbound_transfers),
        units_milli(terms.need_milli),
        units_milli(terms.lot_sizing_milli),
        units_milli(terms.rounding_milli),
        whole(quantity),
    )
}

/// What the rounding rounded to, and the forecast model: "minimum order 10, cases of 6;
/// model ets(A,N,A)".
fn rounding_rules(terms: &ReplenishmentTerms) -> String {
    let mut text = format!(
        "minimum order {}, cases of {}",
        format::grouped(i128::from(terms.minimum_order_quantity)),
        format::grouped(i128::from(terms.case_pack))
    );
    if let Some(model) = &terms.model {
        text.push_str("; forecast model ");
        text.push_str(model);
    }
    text
}

/// A decimal with up to six places as millionths: `1.0842` is 1,084,200.
fn parse_micro(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a rate (a positive decimal, e.g. 1.0842)");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: i64 = format!("{fraction:0<6}").parse().map_err(|_| invalid())?;
    let micro = whole
        .checked_mul(1_000_000)
        .and_then(|value| value.checked_add(fraction))
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if micro == 0 {
        return Err(invalid());
    }
    Ok(micro)
}

/// The service level of the planner form, in percent, as the planner's target: `95` is a
/// cycle service level of 0.95.
fn service_level(fields: &Fields) -> Result<ServiceTarget, ApiError> {
    let text = field(fields, "service_level").unwrap_or(SERVICE_LEVEL_DEFAULT);
    let milli = parse_milli(text).map_err(|reason| invalid("service_level", reason))?;
    if !(1..100_000).contains(&milli) {
        return Err(invalid(
            "service_level",
            format!(
                "{text} % is not a service level: give a percentage above 0 and below 100, e.g. 95"
            ),
        ));
    }
    Ok(ServiceTarget::CycleServiceLevel(milli as f64 / 100_000.0))
}

/// What the page shows: the open proposals, suppliers and centers from the tenant's state,
/// the decided proposals from the log.
struct View {
    open: Vec<Proposal>,
    decided: Vec<Proposal>,
    /// Suppliers' names and currencies.
    suppliers: BTreeMap<String, (String, String)>,
    /// Centers' names.
    locations: BTreeMap<String, String>,
    base_currency: Option<String>,
    /// The published forecasts' accuracy over the last four weeks, once any was scored.
    accuracy: Option<flowline_metrics::accuracy::Report>,
    /// The centers' capacity plan over the next eight weeks.
    capacity: Option<flowline_metrics::capacity::CapacityPlan>,
    /// Where stock should sit for the next four weeks.
    placement: Option<flowline_metrics::network::PlacementPlan>,
    /// One item's recent orders and forecast.
    forecast: ForecastView,
    /// The inventory policies set by hand, by item, the one for every center first.
    policies: Vec<flowline_core::master::InventoryPolicy>,
}

async fn view(app: &App, viewer: &Viewer, sku: Option<&str>) -> Result<View, ApiError> {
    let tenant = &viewer.principal.tenant;
    let mut view = app
        .query(tenant, |state| {
            let mut open: Vec<Proposal> = state
                .proposals
                .values()
                .filter(|proposal| proposal.status == ProposalStatus::Proposed)
                .cloned()
                .collect();
            // The most urgent first: the earliest order-by day, proposals without one last.
            open.sort_by(|a, b| {
                (a.order_by.is_none(), a.order_by, a.id.as_str()).cmp(&(
                    b.order_by.is_none(),
                    b.order_by,
                    b.id.as_str(),
                ))
            });
            View {
                open,
                decided: Vec::new(),
                suppliers: state
                    .suppliers
                    .values()
                    .map(|supplier| {
                        (
                            supplier.id.to_string(),
                            (supplier.name.clone(), supplier.currency.to_string()),
                        )
                    })
                    .collect(),
                locations: state
                    .locations
                    .values()
                    .map(|location| (location.id.to_string(), location.name.clone()))
                    .collect(),
                base_currency: state
                    .settings
                    .as_ref()
                    .map(|settings| settings.base_currency.to_string()),
                accuracy: None,
                capacity: None,
                placement: None,
                forecast: ForecastView::default(),
                policies: {
                    let mut all: Vec<_> = state
                        .inventory_policies
                        .values()
                        .flatten()
                        .cloned()
                        .collect();
                    all.sort_by(|a, b| (&a.sku, &a.location).cmp(&(&b.sku, &b.location)));
                    all
                },
            }
        })
        .await?;
    // Decided proposals leave memory (they need no more work), so they are read from the log,
    // through the API's own list: the latest changed first.
    let params: BTreeMap<String, String> = [
        ("status", "approved,rejected".to_string()),
        ("sort", "-updated".to_string()),
        ("limit", DECIDED_SHOWN.to_string()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    let listed =
        crate::handlers::list_page(app, tenant.clone(), Collection::Proposals, &params).await?;
    view.decided = listed
        .data
        .into_iter()
        .filter_map(|record| serde_json::from_value(record).ok())
        .collect();
    let (history, _) = plan_routes::demand_history(app, tenant).await?;
    // One item's forecast, made on a blocking thread; the history comes back for the rest.
    let asked = sku.map(str::to_string);
    let (mut forecast, history) = tokio::task::spawn_blocking(move || {
        let made = forecast_view(&history, asked.as_deref());
        (made, history)
    })
    .await
    .map_err(ApiError::internal)?;
    if let (Some(sku), Some(start), Some(latest)) =
        (forecast.chosen.clone(), forecast.start, history.latest())
    {
        forecast.earlier = published_for(app, tenant, sku, start, latest).await?;
    }
    view.forecast = forecast;
    if !history.accuracy().is_empty()
        && let Some(to) = history.latest()
        && let Ok(from) = to.checked_sub(jiff::Span::new().days(ACCURACY_DAYS))
    {
        view.accuracy = Some(history.accuracy().report(from, to));
    }
    let state = app.query(tenant, |state| Box::new(state.clone())).await?;
    view.capacity = tokio::task::spawn_blocking(move || {
        flowline_metrics::capacity::plan(
            &state,
            &history,
            &flowline_metrics::capacity::CapacitySettings::default(),
        )
        .ok()
    })
    .await
    .map_err(ApiError::internal)?;
    // A plan that cannot be made (no stock, no demand) shows as none, not as an error page.
    view.placement = plan_routes::placement_for(app, tenant, &Default::default())
        .await
        .ok()
        .map(|(plan, _)| plan);
    Ok(view)
}

/// Days of orders the Forecast section draws: the last eight weeks.
const FORECAST_PAST_DAYS: usize = 56;

/// Days it forecasts: the next four weeks.
const FORECAST_AHEAD_DAYS: usize = 28;

/// The coverage of the interval it shades: `GET /v1/plan/forecast`'s default.
const FORECAST_LEVEL: f64 = 0.8;

/// Published forecasts read, newest first, to find those that covered the days drawn.
const PUBLISHED_READ: usize = 8;

/// Published forecasts drawn at most.
const PUBLISHED_SHOWN: usize = 3;

/// Items offered in the section's select at most, most ordered first.
const CHOICES_MAX: usize = 200;

/// A forecast published earlier, its item's network-wide line.
#[derive(Debug, Clone, PartialEq)]
struct Published {
    id: String,
    first_day: Date,
    /// Expected units each day from `first_day`.
    daily: Vec<f64>,
}

/// The Forecast section: one item's orders over the last days, its forecast and the forecasts
/// published earlier for those days.
#[derive(Debug, Default)]
struct ForecastView {
    /// Items with orders in the history, with their units over the days drawn, most first.
    choices: Vec<(Sku, i64)>,
    /// The item drawn.
    chosen: Option<Sku>,
    /// Why the item asked for is not drawn, in words.
    problem: Option<String>,
    /// The first day drawn.
    start: Option<Date>,
    /// Each day from `start` to the latest order day: units ordered over every channel (`None`
    /// before the item's first order), whether it was a stock-out day, whether a promotion of
    /// the item ran.
    days: Vec<(Option<i64>, bool, bool)>,
    /// The forecast ahead, as `GET /v1/plan/forecast` makes it.
    forecast: Option<ForecastedItem>,
    /// Why there is no forecast.
    unforecast: Option<String>,
    /// Forecasts published earlier that covered some of the days drawn, newest first.
    earlier: Vec<Published>,
}

/// The Forecast section's data from the demand history: the item asked for (`asked`, as typed)
/// or else the item with the most units ordered over the days drawn, and its one forecast.
fn forecast_view(history: &DemandHistory, asked: Option<&str>) -> ForecastView {
    let mut view = ForecastView::default();
    let Some(latest) = history.latest() else {
        return view;
    };
    let series = history.series();
    let mut units: BTreeMap<&Sku, i64> = BTreeMap::new();
    for one in &series {
        let recent: i64 = one.daily.iter().rev().take(FORECAST_PAST_DAYS).sum();
        *units.entry(&one.sku).or_default() += recent;
    }
    let mut choices: Vec<(Sku, i64)> = units
        .into_iter()
        .map(|(sku, units)| (sku.clone(), units))
        .collect();
    choices.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let chosen = match asked.map(str::trim).filter(|text| !text.is_empty()) {
        None => choices.first().map(|(sku, _)| sku.clone()),
        Some(text) => match Sku::parse(text) {
            Err(error) => {
                view.problem = Some(format!("That is not an item: {error}."));
                None
            }
            Ok(sku) if !choices.iter().any(|(known, _)| *known == sku) => {
                view.problem = Some(format!(
                    "No order for {sku} is in the history, so there is nothing to draw or forecast; choose an item that has orders."
                ));
                None
            }
            Ok(sku) => Some(sku),
        },
    };
    // An item asked for by name is offered even when it sells too little to be listed.
    let unlisted = chosen.as_ref().and_then(|sku| {
        choices
            .iter()
            .skip(CHOICES_MAX)
            .find(|(known, _)| known == sku)
            .cloned()
    });
    choices.truncate(CHOICES_MAX);
    choices.extend(unlisted);
    view.choices = choices;
    let Some(sku) = chosen else {
        return view;
    };
    view.start = latest
        .checked_sub(jiff::Span::new().days(FORECAST_PAST_DAYS as i64 - 1))
        .ok();
    let mut days = vec![(None, false, false); FORECAST_PAST_DAYS];
    for one in series.iter().filter(|one| one.sku == sku) {
        // Every series runs to the latest order day: its last days are the last days drawn.
        let shown = one.daily.len().min(FORECAST_PAST_DAYS);
        for back in 0..shown {
            let at = one.daily.len() - 1 - back;
            let day = &mut days[FORECAST_PAST_DAYS - 1 - back];
            day.0 = Some(day.0.unwrap_or(0) + one.daily[at]);
            day.1 |= one.censored.get(at).copied().unwrap_or(false);
            day.2 |= one.promoted.get(at).copied().unwrap_or(false);
        }
    }
    view.days = days;
    let (made, failed) = flowline_metrics::replenishment::forecast_items(
        history,
        std::slice::from_ref(&sku),
        FORECAST_AHEAD_DAYS,
        FORECAST_LEVEL,
        Settings::default().fit_days,
    );
    view.forecast = made.into_iter().next();
    view.unforecast = failed.into_iter().next().map(|failed| failed.reason);
    view.chosen = Some(sku);
    view
}

/// The forecasts published for `sku` whose days include some from `start` to `latest`, newest
/// first: the latest [`PUBLISHED_READ`] published are read from the log, so the cost stays
/// bounded however many there are.
async fn published_for(
    app: &App,
    tenant: &flowline_core::id::TenantId,
    sku: Sku,
    start: Date,
    latest: Date,
) -> Result<Vec<Published>, ApiError> {
    use flowline_core::documents::forecast::ForecastEvent;
    use flowline_core::error::DocumentKind;
    let tenant = tenant.clone();
    app.readers()
        .read(move |store| {
            let kind = DocumentKind::Forecast.as_str();
            let mut summaries = store
                .stream_summaries(&tenant, kind)
                .map_err(ApiError::internal)?;
            summaries.sort_by(|a, b| {
                b.created
                    .cmp(&a.created)
                    .then_with(|| flowline_core::id::natural_cmp(&b.id, &a.id))
            });
            let mut found = Vec::new();
            for summary in summaries.iter().take(PUBLISHED_READ) {
                let stream =
                    flowline_core::stream::StreamName::new(DocumentKind::Forecast, &summary.id);
                let stored = store
                    .read_stream(&tenant, &stream.to_string())
                    .map_err(ApiError::internal)?;
                let Some(first) = stored.first() else {
                    continue;
                };
                let event = flowline_core::Event::from_json(
                    &first.event_type,
                    first.schema_version,
                    &first.payload,
                )
                .map_err(ApiError::internal)?;
                let flowline_core::Event::Forecast(ForecastEvent::Published {
                    forecast,
                    first_day,
                    lines,
                    ..
                }) = event
                else {
                    continue;
                };
                let Some(line) = lines.iter().find(|line| {
                    line.sku == sku && line.location.is_none() && line.channel.is_none()
                }) else {
                    continue;
                };
                let last = first_day
                    .checked_add(jiff::Span::new().days(line.daily_milli.len() as i64 - 1))
                    .unwrap_or(first_day);
                if first_day > latest || last < start {
                    continue;
                }
                found.push(Published {
                    id: forecast.to_string(),
                    first_day,
                    daily: line
                        .daily_milli
                        .iter()
                        .map(|m| *m as f64 / 1000.0)
                        .collect(),
                });
                if found.len() == PUBLISHED_SHOWN {
                    break;
                }
            }
            Ok(found)
        })
        .await
}

/// The day `offset` days after `day`, if the calendar has it.
fn day_after(day: Date, offset: usize) -> Option<Date> {
    day.checked_add(jiff::Span::new().days(offset as i64)).ok()
}

/// The Forecast section's chart: the days drawn, then the forecast's.
fn forecast_chart(view: &ForecastView, item: &ForecastedItem) -> Option<chart::Band> {
    let start = view.start?;
    let past = view.days.len();
    let ahead = item.mean.len();
    let days: Vec<Date> = (0..past + ahead)
        .map(|offset| day_after(start, offset))
        .collect::<Option<_>>()?;
    let mut band = chart::Band {
        labels: days.iter().map(Date::to_string).collect(),
        // A tick each week, on the forecast's first day and every seventh day before and after.
        ticks: (0..days.len())
            .filter(|index| index % 7 == past % 7)
            .map(|index| (index, days[index].strftime("%b %-d").to_string()))
            .collect(),
        actual: view
            .days
            .iter()
            .map(|(units, _, _)| units.map(|units| units as f64))
            .chain(std::iter::repeat_n(None, ahead))
            .collect(),
        censored: view.days.iter().map(|(_, censored, _)| *censored).collect(),
        promoted: view.days.iter().map(|(_, _, promoted)| *promoted).collect(),
        // Demand is never negative: an interval reaching below zero is drawn from zero.
        forecast: std::iter::repeat_n(None, past)
            .chain((0..ahead).map(|at| {
                Some((
                    item.mean[at].max(0.0),
                    item.lower.get(at).copied().unwrap_or(0.0).max(0.0),
                    item.upper.get(at).copied().unwrap_or(0.0).max(0.0),
                ))
            }))
            .collect(),
        forecast_name: item.model.clone(),
        interval_name: format!("{:.0} % prediction interval", FORECAST_LEVEL * 100.0),
        earlier: Vec::new(),
    };
    for published in &view.earlier {
        let values = days
            .iter()
            .take(past)
            .map(|day| {
                let offset = published.first_day.until(*day).ok()?.get_days();
                usize::try_from(offset)
                    .ok()
                    .and_then(|offset| published.daily.get(offset).copied())
            })
            .chain(std::iter::repeat_n(None, ahead))
            .collect();
        band.earlier.push(chart::Line {
            name: format!("published {} (from {})", published.id, published.first_day),
            values,
        });
    }
    Some(band)
}

fn forecast_section(view: &ForecastView) -> Markup {
    let chosen = view.chosen.as_ref().map(Sku::as_str);
    html! {
        p class="lead" { "One item's daily orders over every channel for the last eight weeks, then the forecast the planner would use for the next four, shaded with its " (format!("{:.0} %", FORECAST_LEVEL * 100.0)) " prediction interval, and the forecasts published earlier drawn over the days they covered. Stock-out and promotion days are marked: the forecast leaves them out of what it learns from. Days rather than weeks, because the models see a weekly rhythm and a stock-out or a promotion is a day." }
        @if view.choices.is_empty() && view.problem.is_none() {
            p { "No order is in the history yet, so there is nothing to forecast." }
        } @else {
            form method="get" action=(PATH) id="forecast-item" class="pickers" {
                label { "Item"
                    select name="sku" {
                        @for (sku, units) in &view.choices {
                            option value=(sku.as_str()) selected[Some(sku.as_str()) == chosen] { (sku.as_str()) " (" (format::grouped(i128::from(*units))) " in 8 weeks)" }
                        }
                    }
                }
                button type="submit" { "Show" }
            }
        }
        @if let Some(problem) = &view.problem {
            p class="error" role="alert" id="forecast-problem" { (problem) }
        }
        @if let Some(sku) = &view.chosen {
            @match &view.forecast {
                Some(item) => {
                    div id="forecast" data-sku=(sku.as_str()) data-model=(item.model) {
                        @if let Some(band) = forecast_chart(view, item) {
                            (chart::band(&format!("{sku}: units ordered a day, and forecast"), &band, "units"))
                        }
                        p class="muted" {
                            "Item " (link(Collection::Items, sku.as_str())) "; model " span class="model" { (item.model) }
                            @if let Some(first) = item.first_day { "; forecast from " (first) }
                            "."
                            @if view.earlier.is_empty() { " No forecast published earlier covered these days." }
                        }
                    }
                },
                None => {
                    p id="forecast" data-sku=(sku.as_str()) {
                        "No forecast for " (link(Collection::Items, sku.as_str())) ": " (view.unforecast.as_deref().unwrap_or("the forecast could not be made")) "."
                    }
                },
            }
        }
    }
}

/// The days of the accuracy section: the last four weeks.
const ACCURACY_DAYS: i64 = 28;

fn share(value: Option<f64>) -> String {
    value.map_or("—".to_string(), |v| format!("{:.1} %", v * 100.0))
}

fn accuracy_section(report: &flowline_metrics::accuracy::Report) -> Markup {
    let row = |label: Markup, f: &flowline_metrics::accuracy::Figures| {
        html! {
            tr {
                td { (label) }
                td class="num" { (share(f.accuracy)) }
                td class="num" { (share(f.wape)) }
                td class="num" { (share(f.bias)) }
                td class="num" { (f.mase.map_or("—".to_string(), |m| format!("{m:.2}"))) }
                td class="num" { (format!("{:.0}", f.forecast)) }
                td class="num" { (format!("{:.0}", f.actual)) }
            }
        }
    };
    html! {
        p class="lead" { "Every forecast the planner publishes is scored day by day once the day has passed, against what customers ordered (stock-out days left out). Forecast accuracy is 1 − WAPE; bias above 0 means over-forecast; MASE below 1 beats the seasonal naive forecast. " (report.from) " to " (report.to) " (exclusive)." }
        table id="forecast-accuracy" {
            thead { tr { th { "" } th { "Accuracy" } th { "WAPE" } th { "Bias" } th { "MASE" } th { "Forecast" } th { "Ordered" } } }
            tbody {
                (row(html! { strong { "All items" } }, &report.overall))
                @for (label, figures) in &report.by_lag { (row(html! { "ahead " (label) }, figures)) }
                @for (sku, figures) in report.worst.iter().take(10) {
                    (row(html! { "worst: " (link(Collection::Items, sku.as_str())) }, figures))
                }
                @for (center, figures) in &report.by_center {
                    (row(html! { "center " (link(Collection::Locations, center.as_str())) }, figures))
                }
                @for (channel, figures) in &report.by_channel {
                    (row(html! { "channel " (channel.as_str()) }, figures))
                }
            }
        }
    }
}

fn capacity_section(plan: &flowline_metrics::capacity::CapacityPlan) -> Markup {
    let warnings: Vec<_> = plan.warnings().collect();
    html! {
        p class="lead" { "Each center's orders forecast week by week (ordinary demand, lifted on the days of planned promotions) against the orders it can pick and pack; a week is flagged when the chance of exceeding its capacity is 50 % or more. Weeks run Monday to Sunday from " (plan.today.map(|d| d.to_string()).unwrap_or_default()) "." }
        @if warnings.is_empty() {
            p id="capacity-warnings" { "No week of the next eight is likely to exceed a center's capacity." }
        } @else {
            ul id="capacity-warnings" class="warnings" {
                @for (center, week) in &warnings {
                    li class="error" {
                        strong { (link(Collection::Locations, center.center.as_str())) }
                        " week of " (week.from) ": " (format!("{:.0}", week.week.forecast)) " orders forecast against a capacity of "
                        (format!("{:.0}", week.week.capacity)) ", " (format!("{:.0}", week.week.shortfall)) " short ("
                        (format!("{:.0} %", week.week.probability_over * 100.0)) " likely to exceed)."
                    }
                }
            }
        }
        @if !plan.promotions.is_empty() {
            p { "Promotions in the horizon: "
                @for (index, promotion) in plan.promotions.iter().enumerate() {
                    @if index > 0 { ", " }
                    (link(Collection::Promotions, &promotion.promotion)) " (" (promotion.name) ", " (promotion.first_day) " to " (promotion.last_day) ", ×" (format!("{:.2}", promotion.uplift))
                    @match promotion.uplift_source {
                        flowline_metrics::demand::UpliftSource::Planned => {},
                        flowline_metrics::demand::UpliftSource::Past => { " from past promotions" },
                        flowline_metrics::demand::UpliftSource::Unknown => { ", no uplift known" },
                    }
                    ")"
                }
                "."
            }
        }
        @for center in &plan.centers {
            h3 { (link(Collection::Locations, center.center.as_str())) " " (center.name) }
            p class="muted" {
                (format!("{:.0}", center.recent_per_day)) " orders a day over the last four weeks; model " (center.model) "; "
                @match center.capacity_orders_per_day {
                    Some(capacity) => { "capacity " (capacity) " orders a day." },
                    None => { "no capacity stated for the center, so no week is judged." },
                }
            }
            @if !center.weeks.is_empty() {
                table class="capacity" data-center=(center.center.as_str()) {
                    thead { tr { th { "Week" } th { "Forecast" } th { "At 90 %" } th { "Capacity" } th { "Short" } th { "Chance over" } } }
                    tbody {
                        @for week in &center.weeks {
                            tr class=[week.week.flagged.then_some("flagged")] {
                                td { (week.from) " – " (week.to) }
                                td class="num" { (format!("{:.0}", week.week.forecast)) }
                                td class="num" { (format!("{:.0}", week.week.upper)) }
                                td class="num" { (format!("{:.0}", week.week.capacity)) }
                                td class="num" { (format!("{:.0}", week.week.shortfall)) }
                                td class="num" { (format!("{:.0} %", week.week.probability_over * 100.0)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn placement_section(
    plan: &flowline_metrics::network::PlacementPlan,
    viewer: &Viewer,
    currency: &str,
) -> Markup {
    let skipped = html! {
        @if !plan.skipped.is_empty() {
            ul class="skipped" {
                @for skipped in plan.skipped.iter().take(10) {
                    li { (link(Collection::Items, skipped.sku.as_str())) ": " (skipped.reason) }
                }
            }
            @if plan.skipped.len() > 10 { p class="muted" { "… and " (plan.skipped.len() - 10) " more items left out." } }
        }
    };
    let Some(placement) = &plan.placement else {
        return html! {
            @if plan.skipped.is_empty() {
                p { "Nothing to place: no demand in the last " (plan.window_days) " days, or no stock at the centers." }
            } @else {
                p { "Nothing else to place. Left out:" }
                (skipped)
            }
        };
    };
    let row = |label: &str, f: &flowline_plan::placement::Figures| {
        html! {
            tr {
                td { (label) }
                td class="num" { (format!("{:.2} {currency}", f.expected_cost)) }
                td class="num" { (format!("{:.2}", f.expected_days)) }
                td class="num" { (format!("{:.0}", f.units)) }
                td class="num" { (format!("{:.0}", f.unserved)) }
            }
        }
    };
    let moved: u64 = placement.transfers.iter().map(|m| m.quantity).sum();
    html! {
        p class="lead" { "Where stock should sit to serve each region's demand of the last " (plan.window_days) " days (scaled to " (plan.horizon_days) ") at the least shipping cost and transit time. Lane costs come from the carrier charges per unit-kilometre shipped, transit times from deliveries once a lane has enough of them; otherwise both are assumed from the distance. Moving the stock is not costed here: weigh the saving against it." }
        table id="placement" {
            thead { tr { th { "" } th { "Expected shipping" } th { "Days a unit" } th { "Units shipped" } th { "Unserved" } } }
            tbody {
                (row("Today's stock", &placement.before))
                (row("Placed", &placement.after))
            }
        }
        p { (placement.transfers.len()) " transfer(s), " (moved) " units in all." }
        @if !plan.skipped.is_empty() { p { "Left out:" } (skipped) }
        @if !placement.transfers.is_empty() {
            @if viewer.may(Access::Operate) {
                form class="stack" method="post" action={(PATH) "/placements"} id="record-placement" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    button type="submit" { "Propose these transfers" }
                    span class="hint" { "Each becomes a proposal above, to approve or reject." }
                }
            }
        }
    }
}

fn link(collection: Collection, id: &str) -> Markup {
    html! { a href=(super::documents::href(collection, id)) { (id) } }
}

fn source_text(view: &View, source: &ProposalSource) -> Markup {
    match source {
        ProposalSource::Supplier { supplier } => {
            let id = supplier.as_str();
            html! {
                "supplier " (link(Collection::Suppliers, id))
                @if let Some((name, _)) = view.suppliers.get(id) { @if name != id { " (" (name) ")" } }
            }
        }
        ProposalSource::Transfer { from } => html! {
            "transfer from " (link(Collection::Locations, from.as_str()))
        },
    }
}

fn center_text(view: &View, location: &str) -> Markup {
    html! {
        (link(Collection::Locations, location))
        @if let Some(name) = view.locations.get(location) { @if name != location { " (" (name) ")" } }
    }
}

/// The currency a proposal's prices are in: its supplier's (none for a transfer).
fn currency_of<'v>(view: &'v View, proposal: &Proposal) -> Option<&'v str> {
    match &proposal.source {
        ProposalSource::Supplier { supplier } => view
            .suppliers
            .get(supplier.as_str())
            .map(|(_, currency)| currency.as_str()),
        ProposalSource::Transfer { .. } => None,
    }
}

/// One open proposal: where from, for where, when, why, its lines with their sums, and the
/// decision forms.
fn open_card(view: &View, viewer: &Viewer, proposal: &Proposal, tokens: (&str, &str)) -> Markup {
    let id = proposal.id.as_str();
    let currency = currency_of(view, proposal);
    let foreign = currency.is_some_and(|currency| view.base_currency.as_deref() != Some(currency));
    let action = |what: &str| format!("{PATH}/proposals/{}/{what}", percent_encode(id));
    let total: i128 = proposal
        .lines
        .iter()
        .map(|line| i128::from(line.quantity) * i128::from(line.unit_price_minor))
        .sum();
    html! {
        article class="proposal" data-proposal=(id) {
            h3 { (link(Collection::Proposals, id)) " " span class="badge final" { (proposal.status.as_str()) } }
            section class="card" {
                dl class="overview" {
                    dt { "From" } dd { (source_text(view, &proposal.source)) }
                    dt { "For" } dd { (center_text(view, proposal.location.as_str())) }
                    dt { "Order by" } dd class="order-by" { (proposal.order_by.map(|day| day.to_string()).unwrap_or_else(|| "—".into())) }
                    dt { "Needed by" } dd class="needed-by" { (proposal.needed_by.map(|day| day.to_string()).unwrap_or_else(|| "—".into())) }
                    @if let Some(currency) = currency {
                        dt { "Value" } dd { (format::money_minor(total, currency)) " " (currency) }
                    }
                    dt { "Why" } dd class="rationale" { (proposal.rationale.as_deref().unwrap_or("—")) }
                    dt { "Proposed" } dd { (format::instant(&proposal.proposed_at.to_string())) }
                }
                table class="proposal-lines" {
                    thead { tr { th { "SKU" } th class="number" { "Quantity" } th class="number" { "Unit price" } th { "How the quantity was reached" } } }
                    tbody {
                        @for line in &proposal.lines {
                            tr data-sku=(line.sku.as_str()) {
                                td { (link(Collection::Items, line.sku.as_str())) }
                                td class="number quantity" { (format::grouped(i128::from(line.quantity))) }
                                td class="number price" {
                                    @if let Some(currency) = currency {
                                        (format::money_minor(i128::from(line.unit_price_minor), currency)) "\u{a0}" (currency)
                                    } @else { "—" }
                                }
                                td {
                                    @if let Some(terms) = &line.terms {
                                        span class="explanation" { (explanation(terms, line.quantity)) }
                                        br;
                                        span class="muted" { (rounding_rules(terms)) }
                                    } @else {
                                        span class="muted" { "no terms recorded with the line: see Why above" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if viewer.may(Access::Operate) {
                    div class="decide" {
                        form class="inline approve" method="post" action=(action("approvals")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            input type="hidden" name="idempotency" value=(tokens.0);
                            @if foreign {
                                label { "Rate " (currency.unwrap_or_default()) " → " (view.base_currency.as_deref().unwrap_or_default()) " " input name="exchange_rate" inputmode="decimal" placeholder="1.0842" required size="8"; }
                            }
                            button type="submit" { "Approve" }
                            span class="muted" {
                                @match &proposal.source {
                                    ProposalSource::Supplier { .. } => { "places purchase order " (id) " with these lines" }
                                    ProposalSource::Transfer { .. } => { "creates transfer " (id) " with these lines" }
                                }
                            }
                        }
                        span class="muted" { " — or — " }
                        form class="inline reject" method="post" action=(action("rejections")) {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            input type="hidden" name="idempotency" value=(tokens.1);
                            label { "Reason " select name="reason" {
                                @for (code, words) in REJECT_REASONS { option value=(code) { (words) } }
                            } }
                            label { "Note " input name="note" maxlength="4000"; }
                            button type="submit" { "Reject" }
                        }
                    }
                }
            }
        }
    }
}

fn decided_table(view: &View) -> Markup {
    html! {
        table class="decided" {
            thead { tr { th { "Proposal" } th { "From" } th { "For" } th { "Decided" } th { "Outcome" } th { "Created" } th { "Note" } } }
            tbody {
                @for proposal in &view.decided {
                    tr data-proposal=(proposal.id.as_str()) {
                        td { (link(Collection::Proposals, proposal.id.as_str())) }
                        td { (source_text(view, &proposal.source)) }
                        td { (center_text(view, proposal.location.as_str())) }
                        td { (proposal.decided_at.map(|at| format::instant(&at.to_string())).unwrap_or_default()) }
                        td class="outcome" {
                            @match proposal.status {
                                ProposalStatus::Approved => span class="status-met" { "✓ approved" },
                                ProposalStatus::Rejected => {
                                    span class="status-missed" { "✗ rejected" }
                                    @if let Some(reason) = &proposal.reject_reason { " (" (reason.as_str()) ")" }
                                }
                                ProposalStatus::Proposed => span { "proposed" },
                            }
                        }
                        td class="created" {
                            @if let Some(order) = &proposal.purchase_order {
                                "purchase order " (link(Collection::PurchaseOrders, order.as_str()))
                            } @else if let Some(transfer) = &proposal.transfer {
                                "transfer " (link(Collection::Transfers, transfer.as_str()))
                            }
                        }
                        td { (proposal.note.as_deref().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// What the last form did, from the answer's query: only ids and counts travel in the query,
/// and the words are made here.
fn notice(view: &View, params: &BTreeMap<String, String>) -> Option<Markup> {
    if let Some(id) = params.get("approved") {
        let found = view.decided.iter().find(|p| p.id.as_str() == id.as_str())?;
        return Some(html! {
            "Approved " (link(Collection::Proposals, found.id.as_str())) ": "
            @if let Some(order) = &found.purchase_order {
                "purchase order " (link(Collection::PurchaseOrders, order.as_str())) " placed."
            } @else if let Some(transfer) = &found.transfer {
                "transfer " (link(Collection::Transfers, transfer.as_str())) " created."
            }
        });
    }
    if let Some(id) = params.get("rejected") {
        let found = view.decided.iter().find(|p| p.id.as_str() == id.as_str())?;
        return Some(html! { "Rejected " (link(Collection::Proposals, found.id.as_str())) "." });
    }
    if let Some(sku) = params.get("policy_set") {
        return Some(
            html! { "The inventory policy of " (link(Collection::Items, sku)) " is set." },
        );
    }
    if let Some(sku) = params.get("policy_cleared") {
        return Some(
            html! { "The inventory policy of " (link(Collection::Items, sku)) " is cleared." },
        );
    }
    let count = |name: &str| params.get(name).and_then(|text| text.parse::<u64>().ok());
    if let Some(placed) = count("placed") {
        return Some(html! {
            @if placed == 0 { "No transfer to propose: the stock already sits where it serves best, or its transfers wait for a decision." }
            @else if placed == 1 { "Recorded 1 transfer proposal." }
            @else { "Recorded " (placed) " transfer proposals." }
        });
    }
    let recorded = count("recorded")?;
    let covered = count("covered").unwrap_or(0);
    let skipped = count("skipped").unwrap_or(0);
    Some(html! {
        @if recorded == 0 { "The planner proposed nothing new" } @else if recorded == 1 { "The planner recorded 1 proposal" } @else { "The planner recorded " (recorded) " proposals" }
        " (" (covered) " item × center positions already cover their need; " (skipped) " could not be planned)."
    })
}

fn body(
    view: &View,
    viewer: &Viewer,
    fields: &Fields,
    error: Option<&ApiError>,
    notice: Option<Markup>,
    tokens: &[String],
) -> Markup {
    let service = fields
        .get("service_level")
        .cloned()
        .unwrap_or_else(|| SERVICE_LEVEL_DEFAULT.to_string());
    let token = |index: usize| tokens.get(index).map_or("", String::as_str);
    let centers: Vec<(String, String)> = view
        .locations
        .iter()
        .map(|(id, name)| (id.clone(), name.clone()))
        .collect();
    html! {
        @if let Some(error) = error { p class="error" role="alert" data-code=(error.code()) { (error.message()) } }
        @if let Some(notice) = notice { p class="notice" role="status" { (notice) } }
        p class="lead" { "The replenishment planner's proposals, waiting for a decision. Each quantity is explained term by term: the forecast over the protection interval (lead time and review period) plus the safety stock, less the inventory position, is the need; an economic lot and rounding to the supplier's minimum and case pack make the quantity. Approving places the purchase order (or creates the transfer) with exactly the proposal's lines." }
        h2 { "Open proposals (" (view.open.len()) ")" }
        @if view.open.is_empty() { p { "No proposal is waiting." } }
        @for (index, proposal) in view.open.iter().enumerate() {
            (open_card(view, viewer, proposal, (token(2 * index), token(2 * index + 1))))
        }
        @if !view.open.is_empty() && !viewer.may(Access::Operate) {
            p class="muted" { "Approving and rejecting proposals needs an operator or admin key; yours is " (viewer.role().as_str()) "." }
        }
        h2 { "Run the planner" }
        @if viewer.may(Access::Operate) {
            form class="stack" method="post" action={(PATH) "/runs"} id="run-planner" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label { "Cycle service level, %" input name="service_level" value=(service) inputmode="decimal" required; span class="hint" { "The chance of no stock-out in a replenishment cycle the safety stock is sized for, e.g. 95 or 97.5. Items with an open proposal are left out." } }
                button type="submit" { "Run the planner" }
            }
        } @else {
            p class="muted" { "Running the planner needs an operator or admin key; yours is " (viewer.role().as_str()) "." }
        }
        h2 { "Inventory policies" }
        (super::policies::section(&view.policies, &centers, viewer, fields, tokens.get(2 * view.open.len()..).unwrap_or(&[])))
        h2 { "Forecast" }
        (forecast_section(&view.forecast))
        h2 { "Forecast accuracy" }
        @match &view.accuracy {
            Some(report) => (accuracy_section(report)),
            None => p { "No published forecast has been scored yet: the planner publishes its forecast with its proposals, and each day is scored once it has passed." },
        }
        h2 { "Capacity" }
        @match &view.capacity {
            Some(plan) if !plan.centers.is_empty() => (capacity_section(plan)),
            _ => p { "No center has orders allocated yet, so there is nothing to forecast its load from." },
        }
        p { a href="/list/promotions" { "Promotions" } }
        h2 { "Placement" }
        @match &view.placement {
            Some(plan) => (placement_section(plan, viewer, view.base_currency.as_deref().unwrap_or(""))),
            None => p { "No placement can be planned yet." },
        }
        h2 { "Recently decided (" (view.decided.len()) ")" }
        @if view.decided.is_empty() { p { "No proposal has been decided yet." } } @else { (decided_table(view)) }
        p { a href="/list/proposals" { "All proposals" } }
    }
}

async fn render(
    app: &App,
    viewer: &Viewer,
    fields: Fields,
    error: Option<ApiError>,
    params: &BTreeMap<String, String>,
) -> Result<Html, ApiError> {
    let status = error.as_ref().map_or(StatusCode::OK, ApiError::status);
    let view = view(app, viewer, params.get("sku").map(String::as_str)).await?;
    // Two forms per open proposal, then the policy form and one per policy set.
    let tokens = (0..2 * view.open.len() + 1 + view.policies.len())
        .map(|_| super::session::token())
        .collect::<Result<Vec<_>, _>>()?;
    let shown = if error.is_some() {
        None
    } else {
        notice(&view, params)
    };
    let content = body(&view, viewer, &fields, error.as_ref(), shown, &tokens);
    let mut html = page(
        viewer,
        PATH,
        "Plan: proposals, forecast accuracy and capacity",
        content,
    );
    html.0 = status;
    Ok(html)
}

/// `GET /plan`.
pub async fn show(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let params = params(query)?;
        render(&app, &viewer, Fields::new(), None, &params).await
    }
    .await;
    respond(&viewer, PATH, result)
}

/// The page again with the error, the planner form keeping what was typed.
async fn answer(app: &App, viewer: &Viewer, fields: Fields, error: ApiError) -> Response {
    let kept: Fields = fields
        .into_iter()
        .filter(|(name, _)| name == "service_level")
        .collect();
    let status = error.status();
    match render(app, viewer, kept, Some(error), &BTreeMap::new()).await {
        Ok(mut html) => {
            html.0 = status;
            html.into_response()
        }
        Err(error) => super::page::error_in_page(viewer, PATH, &error).into_response(),
    }
}

/// Reads a form, checks its CSRF token and the operator role: the fields, or the page with
/// the reason.
async fn checked(
    app: &App,
    viewer: &Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Fields, Response> {
    let fields = match form_fields(form) {
        Ok(fields) => fields,
        Err(error) => return Err(answer(app, viewer, Fields::new(), error).await),
    };
    if !viewer.check_csrf(fields.get("csrf").map(String::as_str)) {
        let error = ApiError::plain(
            Code::Forbidden,
            "the form did not come from this site (its CSRF token is missing or wrong); reload the page and try again",
        );
        return Err(answer(app, viewer, fields, error).await);
    }
    if let Err(error) = viewer.principal.require(Access::Operate) {
        return Err(answer(app, viewer, fields, error).await);
    }
    Ok(fields)
}

/// Submits a decision and goes back to the page saying what happened.
pub(super) async fn decide(
    app: App,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
    build: impl FnOnce(&Fields) -> Result<(Command, String), ApiError>,
) -> Response {
    let fields = match checked(&app, &viewer, form).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let (command, done) = match build(&fields) {
        Ok(built) => built,
        Err(error) => return answer(&app, &viewer, fields, error).await,
    };
    match submit(&app, &viewer, command, field(&fields, "idempotency")).await {
        Ok(()) => Redirect::to(&format!("{PATH}?{done}")).into_response(),
        Err(error) => answer(&app, &viewer, fields, error).await,
    }
}

/// `POST /plan/proposals/{id}/approvals`: approves a proposal (operator), placing its
/// purchase order or creating its transfer.
pub async fn approve(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let id = path.map(|Path(id)| id).unwrap_or_default();
    decide(app, viewer, form, move |fields| {
        let mut body = json!({ "proposal": id });
        if let Some(rate) = field(fields, "exchange_rate") {
            let micro = parse_micro(rate).map_err(|reason| invalid("exchange_rate", reason))?;
            body["exchange_rate"] = json!({ "rate_micro": micro });
        }
        if let Some(note) = field(fields, "note") {
            body["note"] = json!(note);
        }
        let command: ApproveProposal = command(body)?;
        let done = format!("approved={}", percent_encode(command.proposal.as_str()));
        Ok((Command::ApproveProposal(command), done))
    })
    .await
}

/// `POST /plan/proposals/{id}/rejections`: rejects a proposal with a reason (operator).
pub async fn reject(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let id = path.map(|Path(id)| id).unwrap_or_default();
    decide(app, viewer, form, move |fields| {
        let reason = field(fields, "reason").ok_or_else(|| invalid("reason", "choose a reason"))?;
        let mut body = json!({ "proposal": id, "reason": reason });
        if let Some(note) = field(fields, "note") {
            body["note"] = json!(note);
        }
        let command: RejectProposal = command(body)?;
        let done = format!("rejected={}", percent_encode(command.proposal.as_str()));
        Ok((Command::RejectProposal(command), done))
    })
    .await
}

/// `POST /plan/runs`: runs the planner and records its proposals (operator), as
/// `POST /v1/plan/replenishment` does.
pub async fn run(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = match checked(&app, &viewer, form).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let result = async {
        let settings = Settings {
            service: service_level(&fields)?,
            ..Settings::default()
        };
        let tenant = &viewer.principal.tenant;
        let (plan, head) = plan_routes::plan_for(&app, tenant, &settings, None).await?;
        let recorded = plan_routes::record(&app, tenant, &plan, head).await?;
        Ok::<_, ApiError>(format!(
            "{PATH}?recorded={}&covered={}&skipped={}",
            recorded.len(),
            plan.covered,
            plan.skipped.len()
        ))
    }
    .await;
    match result {
        Ok(target) => Redirect::to(&target).into_response(),
        Err(error) => answer(&app, &viewer, fields, error).await,
    }
}

/// `POST /plan/placements`: plans where stock should sit and records each transfer as a
/// proposal (operator), as `POST /v1/plan/placement` does.
pub async fn place(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = match checked(&app, &viewer, form).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let result = async {
        let tenant = &viewer.principal.tenant;
        let (plan, head) = plan_routes::placement_for(&app, tenant, &Default::default()).await?;
        let recorded = plan_routes::record_placement(&app, tenant, &plan, head).await?;
        Ok::<_, ApiError>(format!("{PATH}?placed={}", recorded.len()))
    }
    .await;
    match result {
        Ok(target) => Redirect::to(&target).into_response(),
        Err(error) => answer(&app, &viewer, fields, error).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> ReplenishmentTerms {
        // position = 30 − 5 − 2 + 10 + 0 = 33; need = 60.000 + 20.412 − 33 = 47.412;
        // quantity = 47.412 + 0 + 0.588 = 48.
        ReplenishmentTerms {
            protection_days_milli: 15_000,
            forecast_milli: 60_000,
            safety_stock_milli: 20_412,
            service_level_milli: 950,
            fill_rate: false,
            on_hand: 30,
            reserved: 5,
            backordered: 2,
            on_order: 10,
            inbound_transfers: 0,
            position: 33,
            need_milli: 47_412,
            lot_sizing_milli: 0,
            rounding_milli: 588,
            minimum_order_quantity: 1,
            case_pack: 1,
            model: Some("ets(A,N,A)".into()),
        }
    }

    #[test]
    fn a_lines_quantity_is_explained_as_a_sum_of_the_recorded_terms() {
        assert_eq!(terms().check(48, "lines[0].terms"), Ok(()));
        assert_eq!(
            explanation(&terms(), 48),
            "forecast over 15 days 60.000 + safety stock 20.412 (95 % cycle service) − position 33 \
             (on hand 30 − reserved 5 − backordered 2 + on order 10 + inbound 0) = need 47.412; \
             + lot sizing 0 + rounding 0.588 = 48"
        );
        let mut fill = terms();
        fill.fill_rate = true;
        fill.service_level_milli = 975;
        fill.protection_days_milli = 1_000;
        assert!(
            explanation(&fill, 48)
                .starts_with("forecast over 1 day 60.000 + safety stock 20.412 (97.5 % fill rate)")
        );
        assert_eq!(
            rounding_rules(&terms()),
            "minimum order 1, cases of 1; forecast model ets(A,N,A)"
        );
    }

    #[test]
    fn the_forecast_chart_puts_each_earlier_forecast_on_the_days_it_covered() {
        let day = |text: &str| text.parse::<Date>().unwrap();
        // Eight weeks from 2025-05-05 (a Monday) to 2025-06-29; the forecast from 2025-06-30.
        let view = ForecastView {
            start: Some(day("2025-05-05")),
            days: (0..FORECAST_PAST_DAYS)
                .map(|index| (Some(index as i64 % 3), index == 10, index == 20))
                .collect(),
            earlier: vec![Published {
                id: "F-7".into(),
                first_day: day("2025-06-28"),
                daily: vec![1.5, 2.5, 3.5],
            }],
            ..ForecastView::default()
        };
        let item = ForecastedItem {
            sku: Sku::parse("MUG").unwrap(),
            first_day: Some(day("2025-06-30")),
            model: "ets(A,N,A)".into(),
            mean: vec![2.0; 28],
            lower: vec![-0.5; 28],
            upper: vec![4.0; 28],
            actual: vec![0; 28],
            returned: vec![0; 28],
            return_rate: None,
        };
        let band = forecast_chart(&view, &item).unwrap();
        assert_eq!(band.labels.len(), 56 + 28);
        assert_eq!(band.labels[55], "2025-06-29");
        assert_eq!(band.labels[56], "2025-06-30");
        // Ticks every seven days, the forecast's first day among them.
        assert_eq!(band.ticks.len(), 12);
        assert_eq!(band.ticks[8], (56, "Jun 30".to_string()));
        assert_eq!(band.ticks[0], (0, "May 5".to_string()));
        // F-7 began on 2025-06-28 (day 54): 1.5 then 2.5 over the last two days drawn; its
        // third day, 2025-06-30, is the forecast's, not a day with orders, so it is not drawn.
        let earlier = &band.earlier[0].values;
        assert_eq!(earlier[53], None);
        assert_eq!(
            (earlier[54], earlier[55], earlier[56]),
            (Some(1.5), Some(2.5), None)
        );
        assert_eq!(band.earlier[0].name, "published F-7 (from 2025-06-28)");
        // Orders on the past days only, the forecast on the days ahead, its lower bound no
        // lower than zero.
        assert_eq!((band.actual[4], band.actual[56]), (Some(1.0), None));
        assert_eq!(
            (band.forecast[55], band.forecast[56]),
            (None, Some((2.0, 0.0, 4.0)))
        );
        assert!(band.censored[10] && band.promoted[20] && !band.censored[20]);
    }

    #[test]
    fn thousandths_are_shown_with_every_digit_or_as_a_short_decimal() {
        assert_eq!(units_milli(0), "0");
        assert_eq!(units_milli(588), "0.588");
        assert_eq!(units_milli(1_234_500), "1,234.500");
        assert_eq!(units_milli(-1_500), "-1.500");
        assert_eq!(short_milli(15_000), "15");
        assert_eq!(short_milli(14_500), "14.5");
        assert_eq!(short_milli(0), "0");
        assert_eq!(short_milli(95_000), "95");
    }

    #[test]
    fn the_service_level_is_a_percentage_strictly_between_0_and_100() {
        let level = |text: &str| {
            let mut fields = Fields::new();
            fields.insert("service_level".into(), text.into());
            service_level(&fields).map_err(|error| error.message().to_string())
        };
        assert_eq!(level("95"), Ok(ServiceTarget::CycleServiceLevel(0.95)));
        assert_eq!(level("97.5"), Ok(ServiceTarget::CycleServiceLevel(0.975)));
        assert_eq!(
            service_level(&Fields::new()).ok(),
            Some(ServiceTarget::CycleServiceLevel(0.95))
        );
        assert!(level("100").is_err());
        assert!(level("0").is_err());
        assert!(level("-5").is_err());
        assert!(level("ninety").is_err());
    }

    #[test]
    fn exchange_rates_are_read_as_millionths() {
        assert_eq!(parse_micro("1.0842"), Ok(1_084_200));
        assert_eq!(parse_micro(".0067"), Ok(6_700));
        assert!(parse_micro("0").is_err());
        assert!(parse_micro("1.1234567").is_err());
        assert!(parse_micro("-1").is_err());
        assert!(parse_micro("1e3").is_err());
        assert!(parse_micro("99999999999999999").is_err());
    }
}
