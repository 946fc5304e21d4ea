//! Targets and improvement plans: `/targets` lists every target with its status over the
//! latest month and every initiative with its before/during review, and holds the forms that
//! set and retire targets and create and update initiatives.
//!
//! A form becomes the same command as the API's body (`SetTarget`, `RetireTarget`,
//! `CreateInitiative`, `UpdateInitiative`), read by the same serde definitions, checked with the
//! same access level (targets: admin; initiatives: operator or admin) and submitted to the
//! same engine. Each rendering of a form carries an idempotency key, so a form sent twice (a
//! double click, a reload of the answer) records its command once. Bad input is answered with
//! the form again, the values kept, and the reason in words.

use super::format;
use super::page::{Html, page};
use super::session::Viewer;
use super::{params, respond};
use crate::App;
use crate::auth::Access;
use crate::error::{ApiError, Code};
use crate::scorecard_routes::with_fold;
use crate::scorecards;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use flowline_core::Command;
use flowline_core::documents::improvement as im;
use flowline_engine::{Outcome, Submission};
use flowline_metrics::fold::Fold;
use flowline_metrics::period::Granularity;
use flowline_metrics::scorecard::METRICS;
use flowline_metrics::targets::{Status, reviews, statuses};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The form fields as sent.
pub(super) type Fields = BTreeMap<String, String>;

/// A decimal in the metric's display unit as thousandths: `95` is 95,000, `2.5` is 2,500.
pub fn parse_milli(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a number (up to three decimals, e.g. 95 or 2.5)");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 3
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
    let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| invalid())?;
    let magnitude = whole
        .checked_mul(1000)
        .and_then(|value| value.checked_add(fraction))
        .ok_or_else(|| format!("`{text}` is too large"))?;
    Ok(if negative { -magnitude } else { magnitude })
}

pub(super) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .get(name)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

pub(super) fn form_fields(
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Fields, ApiError> {
    let Form(pairs) = form.map_err(|rejection| {
        ApiError::new(
            Code::InvalidBody,
            format!("the form could not be read: {}", rejection.body_text()),
            json!({}),
        )
    })?;
    Ok(pairs.into_iter().collect())
}

/// A field error in the house shape.
pub(super) fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    let reason = reason.into();
    ApiError::new(
        Code::InvalidBody,
        format!("{field}: {reason}"),
        json!({ "field": field, "reason": reason }),
    )
}

/// The command's body from a target form.
fn target_body(fields: &Fields) -> Result<Value, ApiError> {
    let mut body = Map::new();
    let id = field(fields, "target")
        .ok_or_else(|| invalid("target", "give the target an id, e.g. T-PERFECT"))?;
    body.insert("target".into(), json!(id));
    let metric = field(fields, "metric").ok_or_else(|| invalid("metric", "choose a metric"))?;
    body.insert("metric".into(), json!(metric));
    let value = field(fields, "value").ok_or_else(|| invalid("value", "give the target value"))?;
    body.insert(
        "value_milli".into(),
        json!(parse_milli(value).map_err(|reason| invalid("value", reason))?),
    );
    body.insert(
        "direction".into(),
        json!(field(fields, "direction").unwrap_or("at_least")),
    );
    match (
        field(fields, "scope_dimension"),
        field(fields, "scope_value"),
    ) {
        (None, None) => {}
        (Some(dimension), Some(value)) => {
            body.insert(
                "scope".into(),
                json!({ "dimension": dimension, "value": value }),
            );
        }
        (Some(_), None) => {
            return Err(invalid(
                "scope_value",
                "name the value of the dimension (e.g. web for channel)",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "scope_dimension",
                "choose the dimension the value belongs to",
            ));
        }
    }
    match (field(fields, "baseline_from"), field(fields, "baseline_to")) {
        (None, None) => {}
        (Some(from), Some(to)) => {
            body.insert("baseline".into(), json!([from, to]));
        }
        _ => {
            return Err(invalid(
                "baseline",
                "a baseline needs both its first day and the day after its last",
            ));
        }
    }
    for name in ["due_on", "source", "note"] {
        if let Some(value) = field(fields, name) {
            body.insert(name.into(), json!(value));
        }
    }
    Ok(Value::Object(body))
}

/// The command's body from an initiative form.
fn initiative_body(fields: &Fields) -> Result<Value, ApiError> {
    let mut body = Map::new();
    for (name, hint) in [
        ("initiative", "give the initiative an id, e.g. I-CARRIER"),
        ("name", "name the initiative"),
        ("owner", "name who runs it"),
        (
            "expected_effect",
            "say what it should achieve, e.g. +3 points of on-time delivery",
        ),
        ("starts_on", "give its first day"),
    ] {
        let value = field(fields, name).ok_or_else(|| invalid(name, hint))?;
        body.insert(name.into(), json!(value));
    }
    let metrics: Vec<&str> = field(fields, "metrics")
        .unwrap_or("")
        .split([',', ' '])
        .filter(|metric| !metric.is_empty())
        .collect();
    if metrics.is_empty() {
        return Err(invalid(
            "metrics",
            "name at least one metric it should move",
        ));
    }
    body.insert("metrics".into(), json!(metrics));
    if let Some(value) = field(fields, "ends_on") {
        body.insert("ends_on".into(), json!(value));
    }
    if let Some(value) = field(fields, "expected_change") {
        body.insert(
            "expected_change_milli".into(),
            json!(parse_milli(value).map_err(|reason| invalid("expected_change", reason))?),
        );
    }
    Ok(Value::Object(body))
}

/// A body read into a command type, with serde's message on failure.
pub(super) fn command<C: serde::de::DeserializeOwned>(body: Value) -> Result<C, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|error| {
        let path = error.path().to_string();
        invalid(&path, error.inner().to_string())
    })
}

/// Submits a command; `Ok` when it was applied, the rejection as an error otherwise.
pub(super) async fn submit(
    app: &App,
    viewer: &Viewer,
    command: Command,
    key: Option<&str>,
) -> Result<(), ApiError> {
    let mut submission = Submission::new(command).rendering();
    if let Some(key) = key {
        submission = submission.key(format!("dashboard-{key}"));
    }
    let answer = app.submit(&viewer.principal.tenant, submission).await?;
    match answer.outcome {
        Outcome::Applied { .. } => Ok(()),
        Outcome::Rejected {
            code,
            message,
            details,
        } => Err(ApiError::rejected(&code, message, details)),
    }
}

fn metric_options(selected: Option<&str>) -> Markup {
    html! {
        @for info in METRICS {
            option value=(info.id) selected[selected == Some(info.id)] { (format::metric_name(info.id)) " — " (info.id) }
        }
    }
}

fn target_form(viewer: &Viewer, fields: &Fields, token: &str) -> Markup {
    let value = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let dimension = value("scope_dimension");
    html! {
        form class="stack" method="post" action="/targets" id="set-target" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="idempotency" value=(token);
            label { "Id" input name="target" value=(value("target")) placeholder="T-PERFECT" required; span class="hint" { "Setting an existing id replaces that target." } }
            label { "Metric" select name="metric" { (metric_options(fields.get("metric").map(String::as_str))) } }
            label { "Direction" select name="direction" {
                option value="at_least" selected[value("direction") != "at_most"] { "at least (higher is better)" }
                option value="at_most" selected[value("direction") == "at_most"] { "at most (lower is better)" }
            } }
            label { "Value, in the metric's unit" input name="value" value=(value("value")) placeholder="95" inputmode="decimal" required; span class="hint" { "Percent as 95 or 97.5; days as 2.5; money in major units." } }
            label { "Slice (optional)" select name="scope_dimension" {
                option value="" selected[dimension.is_empty()] { "whole tenant" }
                @for name in ["channel", "center", "carrier_service", "supplier", "sku", "category", "region"] {
                    option value=(name) selected[dimension == name] { (name) }
                }
            } }
            label { "Slice value" input name="scope_value" value=(value("scope_value")) placeholder="web"; }
            label { "Baseline from" input type="date" name="baseline_from" value=(value("baseline_from")); }
            label { "Baseline to (exclusive)" input type="date" name="baseline_to" value=(value("baseline_to")); }
            label { "Due on" input type="date" name="due_on" value=(value("due_on")); }
            label { "Benchmark source" input name="source" value=(value("source")) placeholder="SCOR benchmark, 2025"; }
            label { "Note" input name="note" value=(value("note")); }
            button type="submit" { "Set target" }
        }
    }
}

fn initiative_form(viewer: &Viewer, fields: &Fields, token: &str) -> Markup {
    let value = |name: &str| fields.get(name).cloned().unwrap_or_default();
    html! {
        form class="stack" method="post" action="/initiatives" id="create-initiative" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="idempotency" value=(token);
            label { "Id" input name="initiative" value=(value("initiative")) placeholder="I-CARRIER" required; }
            label { "Name" input name="name" value=(value("name")) required; }
            label { "Metrics it should move" input name="metrics" value=(value("metrics")) placeholder="rl.on_time, rs.order_cycle_time" required; span class="hint" { "Metric ids, separated by commas." } }
            label { "Owner" input name="owner" value=(value("owner")) required; }
            label { "Expected effect" input name="expected_effect" value=(value("expected_effect")) placeholder="+3 points of on-time delivery" required; }
            label { "Expected change of the first metric (optional)" input name="expected_change" value=(value("expected_change")) inputmode="decimal"; }
            label { "Starts on" input type="date" name="starts_on" value=(value("starts_on")) required; }
            label { "Ends on (optional)" input type="date" name="ends_on" value=(value("ends_on")); }
            button type="submit" { "Create initiative" }
        }
    }
}

fn status_text(status: Status) -> Markup {
    match status {
        Status::Met => html! { span class="status-met" { "✓ met" } },
        Status::Missed => html! { span class="status-missed" { "✗ missed" } },
        Status::NoData => html! { span class="status-no_data" { "– no data" } },
    }
}

fn plans_body(
    fold: &Fold,
    viewer: &Viewer,
    fields: &Fields,
    error: Option<&ApiError>,
    notice: Option<&str>,
    tokens: (&str, &str),
) -> Markup {
    let range = scorecards::range_of(fold, None, None, Granularity::Month);
    let as_of = jiff::Timestamp::now();
    let evaluated = statuses(fold, range, as_of);
    let currency = fold.settings().base_currency.to_string();
    let mut targets: Vec<_> = fold.targets().collect();
    targets.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let mut initiatives: Vec<_> = fold.initiatives().collect();
    initiatives.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    html! {
        @if let Some(error) = error { p class="error" role="alert" data-code=(error.code()) { (error.message()) } }
        @if let Some(notice) = notice { p class="notice" role="status" { (notice) } }
        p class="muted" { "Targets are evaluated over " (range.from.date()) " to " (range.to.date()) " (" (scorecards::default_range_meaning(fold, Granularity::Month)) "); trends compare it with the month before." }
        h2 { "Targets (" (targets.len()) ")" }
        @if targets.is_empty() { p { "No target yet." } } @else {
            table class="targets" {
                thead { tr { th { "Id" } th { "Metric" } th { "Slice" } th { "Target" } th { "Now" } th { "Status" } th { "Trend" } th { "Baseline" } th { "Due" } th { "Source" } th { "" } } }
                tbody {
                    @for target in &targets {
                        @let report = evaluated.iter().find(|status| status.id == target.id.as_str()).map(|status| &status.report);
                        tr data-target=(target.id.as_str()) {
                            td { a href={"/documents/targets/" (target.id.as_str())} { (target.id.as_str()) } }
                            td { a href={"/scorecard/" (target.metric)} { (format::metric_name(&target.metric)) } }
                            td { @if let Some(scope) = &target.scope { (scope.dimension) " " (scope.value) } @else { "whole tenant" } }
                            td { (match target.direction { im::TargetDirection::AtLeast => "at least", im::TargetDirection::AtMost => "at most" }) " " (format::milli(target.value_milli)) }
                            td { @if let Some(value) = report.and_then(|report| report.value.as_ref()) { (format::value(value, &currency)) } }
                            td { @if target.retired_at.is_some() { span class="muted" { "retired" } } @else if let Some(report) = report { (status_text(report.status)) } }
                            td { @if let Some(report) = report { (format!("{:?}", report.trend).to_lowercase()) } }
                            td { @if let Some(value) = report.and_then(|report| report.baseline.as_ref()) { (format::value(value, &currency)) } }
                            td { (target.due_on.map(|date| date.to_string()).unwrap_or_default()) }
                            td { (target.source.clone().unwrap_or_default()) }
                            td {
                                @if target.retired_at.is_none() && viewer.may(Access::Administer) {
                                    form class="inline" method="post" action={"/targets/" (target.id.as_str()) "/retirements"} {
                                        input type="hidden" name="csrf" value=(viewer.csrf);
                                        input type="hidden" name="reason" value="no_longer_relevant";
                                        button type="submit" { "Retire" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Set a target" }
        @if viewer.may(Access::Administer) { (target_form(viewer, fields, tokens.0)) } @else {
            p class="muted" { "Setting targets needs an admin key; yours is " (viewer.role().as_str()) "." }
        }
        h2 { "Improvement initiatives (" (initiatives.len()) ")" }
        @for initiative in &initiatives {
            section class="card" data-initiative=(initiative.id.as_str()) {
                h2 { a href={"/documents/initiatives/" (initiative.id.as_str())} { (initiative.id.as_str()) } " " (initiative.name) " " span class="badge final" { (initiative.status.as_str()) } }
                p { "Owner " (initiative.owner) "; " (initiative.starts_on) " to " (initiative.ends_on.map(|date| date.to_string()).unwrap_or_else(|| "open".into())) "; expected: " (initiative.expected_effect) }
                table {
                    thead { tr { th { "Metric" } th { "Before" } th { "During" } th { "Change" } th { "Trend" } } }
                    tbody {
                        @for review in reviews(fold, initiative, as_of) {
                            tr {
                                td { (format::metric_name(&review.metric)) }
                                td { @if let Some(value) = &review.before { (format::value(value, &currency)) span class="muted" { " " (review.before_range.from.date()) "–" (review.before_range.to.date()) } } }
                                td { @if let Some(value) = &review.after { (format::value(value, &currency)) span class="muted" { " " (review.after_range.from.date()) "–" (review.after_range.to.date()) } } }
                                td { (review.change.map(format::decimal).unwrap_or_default()) }
                                td { (format!("{:?}", review.trend).to_lowercase()) }
                            }
                        }
                    }
                }
                @if !initiative.notes.is_empty() {
                    ul { @for note in &initiative.notes { li { (format::instant(&note.at.to_string())) ": " (note.note) } } }
                }
                @if viewer.may(Access::Operate) && matches!(initiative.status.as_str(), "planned" | "in_progress") {
                    form class="inline" method="post" action={"/initiatives/" (initiative.id.as_str()) "/updates"} {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        label { "Status " select name="status" {
                            option value="" { "unchanged" }
                            @for status in ["in_progress", "done", "abandoned"] { option value=(status) { (status) } }
                        } }
                        label { "Note " input name="note"; }
                        button type="submit" { "Update" }
                    }
                }
            }
        }
        h2 { "Create an initiative" }
        @if viewer.may(Access::Operate) { (initiative_form(viewer, fields, tokens.1)) } @else {
            p class="muted" { "Creating initiatives needs an operator or admin key; yours is " (viewer.role().as_str()) "." }
        }
    }
}

async fn render(
    app: &App,
    viewer: &Viewer,
    fields: Fields,
    error: Option<ApiError>,
    notice: Option<String>,
) -> Result<Html, ApiError> {
    let status = error.as_ref().map_or(StatusCode::OK, ApiError::status);
    let shown = viewer.clone();
    let tokens = (super::session::token()?, super::session::token()?);
    let body = with_fold(app, &viewer.principal.tenant, move |fold| {
        Ok(plans_body(
            fold,
            &shown,
            &fields,
            error.as_ref(),
            notice.as_deref(),
            (&tokens.0, &tokens.1),
        ))
    })
    .await?;
    let mut html = page(viewer, "/targets", "Targets and improvement plans", body);
    html.0 = status;
    Ok(html)
}

/// `GET /targets`.
pub async fn show(
    State(app): State<App>,
    viewer: Viewer,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let result = async {
        viewer.principal.require(Access::Read)?;
        let params = params(query)?;
        let notice = params.get("saved").map(|what| format!("Saved {what}."));
        let mut fields = Fields::new();
        if let Some(metric) = params.get("metric") {
            fields.insert("metric".into(), metric.clone());
        }
        render(&app, &viewer, fields, None, notice).await
    }
    .await;
    respond(&viewer, "/targets", result)
}

/// Runs a form's command: checks CSRF and access, builds the command, submits it, and answers
/// with a redirect to the list or the form again with the reason.
async fn run_form(
    app: App,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
    access: Access,
    build: impl FnOnce(&Fields) -> Result<(Command, String), ApiError>,
) -> Response {
    let fields = match form_fields(form) {
        Ok(fields) => fields,
        Err(error) => return answer(&app, &viewer, Fields::new(), error).await,
    };
    if !viewer.check_csrf(fields.get("csrf").map(String::as_str)) {
        let error = ApiError::plain(
            Code::Forbidden,
            "the form did not come from this site (its CSRF token is missing or wrong); reload the page and try again",
        );
        return answer(&app, &viewer, fields, error).await;
    }
    if let Err(error) = viewer.principal.require(access) {
        return answer(&app, &viewer, fields, error).await;
    }
    let (command, saved) = match build(&fields) {
        Ok(built) => built,
        Err(error) => return answer(&app, &viewer, fields, error).await,
    };
    match submit(&app, &viewer, command, field(&fields, "idempotency")).await {
        Ok(()) => Redirect::to(&format!(
            "/targets?saved={}",
            super::session::percent_encode(&saved)
        ))
        .into_response(),
        Err(error) => answer(&app, &viewer, fields, error).await,
    }
}

async fn answer(app: &App, viewer: &Viewer, mut fields: Fields, error: ApiError) -> Response {
    fields.remove("csrf");
    fields.remove("idempotency");
    let status = error.status();
    match render(app, viewer, fields, Some(error), None).await {
        Ok(mut html) => {
            html.0 = status;
            html.into_response()
        }
        Err(error) => super::page::error_in_page(viewer, "/targets", &error).into_response(),
    }
}

/// `POST /targets`: sets a target (admin).
pub async fn set_target(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    run_form(app, viewer, form, Access::Administer, |fields| {
        let body = target_body(fields)?;
        let command: im::SetTarget = command(body)?;
        let saved = format!("target {}", command.target.as_str());
        Ok((Command::SetTarget(command), saved))
    })
    .await
}

/// `POST /targets/{id}/retirements`: retires a target (admin).
pub async fn retire_target(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let id = path.map(|Path(id)| id).unwrap_or_default();
    run_form(app, viewer, form, Access::Administer, move |fields| {
        let body = json!({ "target": id, "reason": field(fields, "reason").unwrap_or("no_longer_relevant") });
        let command: im::RetireTarget = command(body)?;
        let saved = format!("the retirement of target {}", command.target.as_str());
        Ok((Command::RetireTarget(command), saved))
    })
    .await
}

/// `POST /initiatives`: creates an initiative (operator).
pub async fn create_initiative(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    run_form(app, viewer, form, Access::Operate, |fields| {
        let body = initiative_body(fields)?;
        let command: im::CreateInitiative = command(body)?;
        let saved = format!("initiative {}", command.initiative.as_str());
        Ok((Command::CreateInitiative(command), saved))
    })
    .await
}

/// `POST /initiatives/{id}/updates`: changes an initiative's status or adds a note (operator).
pub async fn update_initiative(
    State(app): State<App>,
    viewer: Viewer,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let id = path.map(|Path(id)| id).unwrap_or_default();
    run_form(app, viewer, form, Access::Operate, move |fields| {
        let mut body = json!({ "initiative": id });
        for name in ["status", "note", "ends_on"] {
            if let Some(value) = field(fields, name) {
                body[name] = json!(value);
            }
        }
        if body.as_object().is_some_and(|fields| fields.len() == 1) {
            return Err(invalid("status", "change the status or write a note"));
        }
        let command: im::UpdateInitiative = command(body)?;
        let saved = format!("initiative {}", command.initiative.as_str());
        Ok((Command::UpdateInitiative(command), saved))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_values_are_read_as_thousandths_of_the_display_unit() {
        assert_eq!(parse_milli("95"), Ok(95_000));
        assert_eq!(parse_milli("97.5"), Ok(97_500));
        assert_eq!(parse_milli(" 2.125 "), Ok(2_125));
        assert_eq!(parse_milli("-0.5"), Ok(-500));
        assert_eq!(parse_milli(".5"), Ok(500));
        assert!(parse_milli("9.9999").is_err());
        assert!(parse_milli("ninety").is_err());
        assert!(parse_milli("").is_err());
        assert!(parse_milli("-").is_err());
        assert!(parse_milli("1e3").is_err());
        assert!(parse_milli("99999999999999999999").is_err());
    }

    #[test]
    fn a_target_form_becomes_the_api_body_and_missing_parts_are_named() {
        let mut fields = Fields::new();
        fields.insert("target".into(), "T-1".into());
        fields.insert("metric".into(), "rl.perfect_order".into());
        fields.insert("value".into(), "95".into());
        fields.insert("direction".into(), "at_least".into());
        let body = target_body(&fields).unwrap_or(Value::Null);
        assert_eq!(body["value_milli"], 95_000);
        let parsed: Result<im::SetTarget, _> = command(body);
        assert!(parsed.is_ok());
        fields.insert("scope_value".into(), "web".into());
        let error = target_body(&fields)
            .err()
            .map(|error| error.message().to_string());
        assert_eq!(
            error.as_deref(),
            Some("scope_dimension: choose the dimension the value belongs to")
        );
    }
}
