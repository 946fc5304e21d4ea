//! The web dashboard: the SCOR scorecard and the operational views, as server-rendered HTML
//! with SVG charts, served by the same router as the API.
//!
//! - [`session`]: sign-in with an API key, the session cookie, CSRF tokens, and the
//!   [`session::Viewer`] every page is shown to (the key's tenant and role, as in the API);
//! - [`scorecard`]: the landing page (`/`, Level-1 tiles) and the drill-down
//!   (`/scorecard/{metric}`: Level 2, failure signatures, the documents behind them);
//! - [`documents`]: one document with its whole event history (`/documents/{kind}/{id}`);
//! - [`operations`]: inventory, orders and fulfillment, source, make, return;
//! - [`finance`]: cash and cost, sustainability;
//! - [`replenishment`]: Plan (`/plan`): the replenishment planner's proposals, approved or
//!   rejected through forms, and a form that runs the planner;
//! - [`plans`]: targets and improvement initiatives, with the forms that set them (the same
//!   commands, through the same engine, with the same role checks as the API);
//! - [`chart`] and [`format`]: SVG charts and numbers as shown; [`page`]: the frame;
//!   [`assets`]: the stylesheet, script and icon, embedded in the binary.
//!
//! Reads go through the same functions as the API: the scorecard, drill-down to documents and
//! the operational history through the tenant's shared fold ([`crate::scorecard_routes`]),
//! which keeps settled orders' verdicts packed and a bounded history of receipts, work orders
//! and shipments; documents through their streams ([`crate::render`]); positions and open
//! documents through the engine's state.

pub mod assets;
pub mod chart;
pub mod document_view;
pub mod documents;
pub mod finance;
pub mod format;
pub mod lists;
pub mod operations;
pub mod page;
pub mod plans;
pub mod policies;
pub mod replenishment;
pub mod scorecard;
pub mod session;

use crate::App;
use crate::error::{ApiError, Code};
use crate::scorecards;
use axum::Router;
use axum::extract::Request;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use flowline_metrics::fold::{Fold, Slice};
use flowline_metrics::period::{Granularity, Range};
use jiff::Timestamp;
use jiff::civil::Date;
use maud::html;
use page::Html;
use session::{LOGIN_COOKIE, Sessions, Viewer};
use std::collections::BTreeMap;
use std::time::Instant;

/// The longest custom range a page shows (ten years): a page sums its days, with trends.
pub(crate) const RANGE_DAYS_MAX: i64 = 3_660;

/// The dashboard's state: its sessions, and how far behind a replica it reads is.
pub struct Dashboard {
    sessions: Sessions,
    /// The last measure of [`flowline_store::Backend::behind`] and when it was taken.
    behind: std::sync::Mutex<Option<(Instant, Option<flowline_store::Behind>)>>,
}

/// How long a measure of a replica's lag is shown before it is taken again.
const BEHIND_TTL: std::time::Duration = std::time::Duration::from_secs(2);

impl Dashboard {
    /// The dashboard whose sessions are kept in the log `backend` opens; `primary_only` when the
    /// server's readers read a replica of it.
    pub fn new(backend: flowline_store::SharedBackend, primary_only: bool) -> Self {
        Self {
            sessions: Sessions::new(backend, primary_only),
            behind: std::sync::Mutex::new(None),
        }
    }

    /// How far behind its primary the log the pages read is, when it is a replica: measured at
    /// most every [`BEHIND_TTL`] (two connections each time). A failed measure shows nothing.
    pub async fn behind(&self, app: &App) -> Option<flowline_store::Behind> {
        if let Ok(cached) = self.behind.lock()
            && let Some((taken, behind)) = *cached
            && taken.elapsed() < BEHIND_TTL
        {
            return behind;
        }
        let backend = app.engine().backend().clone();
        let behind = tokio::task::spawn_blocking(move || backend.behind())
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        if let Ok(mut cached) = self.behind.lock() {
            *cached = Some((Instant::now(), behind));
        }
        behind
    }

    /// The live sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }
}

/// The dashboard's routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(scorecard::overview))
        .route("/scorecard/{metric}", get(scorecard::metric))
        .route("/scorecard/{metric}/documents", get(scorecard::documents))
        .route("/documents/{collection}/{id}", get(documents::show))
        .route("/inventory", get(operations::inventory))
        .route("/orders", get(operations::orders))
        .route("/orders/list", get(lists::orders))
        .route("/list/{collection}", get(lists::collection))
        .route(replenishment::PATH, get(replenishment::show))
        .route("/plan/runs", post(replenishment::run))
        .route("/plan/placements", post(replenishment::place))
        .route("/plan/policies", post(policies::set))
        .route("/plan/policies/clearances", post(policies::clear))
        .route(
            "/plan/proposals/{id}/approvals",
            post(replenishment::approve),
        )
        .route(
            "/plan/proposals/{id}/rejections",
            post(replenishment::reject),
        )
        .route("/source", get(operations::source))
        .route("/make", get(operations::make))
        .route("/return", get(operations::returns))
        .route("/cash", get(finance::cash))
        .route("/sustainability", get(finance::sustainability))
        .route("/targets", get(plans::show).post(plans::set_target))
        .route("/targets/{id}/retirements", post(plans::retire_target))
        .route("/initiatives", post(plans::create_initiative))
        .route("/initiatives/{id}/updates", post(plans::update_initiative))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/assets/{name}", get(assets::serve))
        .route("/favicon.ico", get(assets::icon))
        .layer(middleware::from_fn(timing))
}

/// Adds `Server-Timing: render;dur=<ms>` to every dashboard response: the time the server
/// spent on it, which a browser's developer tools show and the benchmark reads.
async fn timing(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("render;dur={elapsed:.2}")) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

/// Query parameters by name; a repeated one is refused.
pub fn params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let Query(pairs) = query.map_err(|rejection| ApiError::query("", rejection.body_text()))?;
    let mut params = BTreeMap::new();
    for (name, value) in pairs {
        if value.is_empty() {
            continue;
        }
        if params.insert(name.clone(), value).is_some() {
            return Err(ApiError::query(&name, "given more than once"));
        }
    }
    Ok(params)
}

/// The period and slice a page shows, from its query: `period` (day, week, month, quarter, year, trailing_12_months),
/// `at` (a day in the period; the latest event's by default) or `from` and `to`, and `slice`
/// (`all` or `dimension:value`).
#[derive(Debug, Clone)]
pub struct Picks {
    /// The kind of period.
    pub granularity: Granularity,
    /// A day of the period.
    pub at: Option<Date>,
    /// A custom range's first day.
    pub from: Option<Date>,
    /// A custom range's day after the last.
    pub to: Option<Date>,
    /// The slice.
    pub slice: Slice,
    /// Judge what is provisional as of this instant.
    pub as_of: Timestamp,
}

fn date_param(params: &BTreeMap<String, String>, name: &str) -> Result<Option<Date>, ApiError> {
    params
        .get(name)
        .map(|text| {
            text.parse()
                .map_err(|_| ApiError::query(name, format!("`{text}` is not a date (YYYY-MM-DD)")))
        })
        .transpose()
}

/// A slice from `all` or `dimension:value` ([`Slice::parse`]).
pub fn parse_slice(text: &str) -> Result<Slice, ApiError> {
    Slice::parse(text).map_err(|error| ApiError::query("slice", error.to_string()))
}

impl Picks {
    /// Reads the picks from a page's query.
    pub fn parse(params: &BTreeMap<String, String>) -> Result<Self, ApiError> {
        let text = params.get("period").map_or("month", String::as_str);
        let granularity = Granularity::parse(text).ok_or_else(|| {
            ApiError::query(
                "period",
                format!("`{text}`: expected {}", Granularity::names()),
            )
        })?;
        let from = date_param(params, "from")?;
        let to = date_param(params, "to")?;
        match (from, to) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(ApiError::query(
                    if from.is_some() { "to" } else { "from" },
                    "a custom range needs both `from` and `to`",
                ));
            }
            (Some(first), Some(after)) => crate::scorecard_routes::check_range(first, after)?,
            _ => {}
        }
        let slice = params
            .get("slice")
            .map(|text| parse_slice(text))
            .transpose()?
            .unwrap_or(Slice::All);
        let as_of = match params.get("as_of") {
            None => Timestamp::now(),
            Some(text) => text.parse().map_err(|_| {
                ApiError::query("as_of", format!("`{text}` is not an RFC 3339 instant"))
            })?,
        };
        Ok(Self {
            granularity,
            at: date_param(params, "at")?,
            from,
            to,
            slice,
            as_of,
        })
    }

    /// The range picked, over the fold's data.
    pub fn range(&self, fold: &Fold) -> Range {
        match (self.from, self.to) {
            (Some(from), Some(to)) => Range::of_dates(from, to),
            _ => scorecards::range_of(fold, self.at, None, self.granularity),
        }
    }

    /// The periods a trend over `range` shows, and their kind. A custom range is shown as its
    /// own sub-periods: days up to a month, weeks up to half a year, months up to three years,
    /// quarters beyond (a year's range: its twelve months). A single period is shown with the
    /// `count` periods of its kind up to it, so the one picked is the last point.
    pub fn trend(&self, range: Range, count: usize) -> (Granularity, Vec<Range>) {
        // A year, calendar or trailing, is shown as its own twelve months.
        if matches!(
            self.granularity,
            Granularity::Year | Granularity::TrailingYear
        ) && self.from.is_none()
        {
            return (Granularity::Month, Granularity::Month.periods(range));
        }
        if self.from.is_some() && self.to.is_some() {
            let granularity = match range.days() {
                0..=31 => Granularity::Day,
                32..=183 => Granularity::Week,
                184..=1096 => Granularity::Month,
                _ => Granularity::Quarter,
            };
            return (granularity, granularity.periods(range));
        }
        (
            self.granularity,
            periods_back(self.granularity, range, count),
        )
    }

    /// The query string that picks the same period and slice (`?period=month&at=...`).
    pub fn query(&self, range: Range) -> String {
        let mut query = match (self.from, self.to) {
            (Some(from), Some(to)) => format!("from={from}&to={to}"),
            _ => format!(
                "period={}&at={}",
                self.granularity.name(),
                self.granularity.anchor(range)
            ),
        };
        if self.slice != Slice::All {
            query.push_str("&slice=");
            query.push_str(&session::percent_encode(&self.slice.to_string()));
        }
        query
    }
}

/// The `count` periods of a granularity ending with the one containing `range`'s first day,
/// oldest first (for trends).
pub fn periods_back(granularity: Granularity, range: Range, count: usize) -> Vec<Range> {
    let mut periods = Vec::with_capacity(count);
    let mut period = granularity.period_of(range.from.date());
    for _ in 0..count {
        periods.push(period);
        let Some(before) = period.from.date().yesterday().ok() else {
            break;
        };
        period = granularity.period_of(before);
    }
    periods.reverse();
    periods
}

/// A short label of a period: `2025-03` for a month, the first day otherwise.
pub fn period_label(granularity: Granularity, range: Range) -> String {
    let date = range.from.date();
    match granularity {
        Granularity::Month => format!("{}-{:02}", date.year(), date.month()),
        Granularity::Quarter => format!("{} Q{}", date.year(), (date.month() - 1) / 3 + 1),
        Granularity::Year => date.year().to_string(),
        Granularity::TrailingYear => {
            let last = range.to.date().yesterday().unwrap_or(date);
            format!("12 months to {}-{:02}", last.year(), last.month())
        }
        _ => date.to_string(),
    }
}

/// The sign-in page.
async fn login_form(
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let next = params(query)
        .ok()
        .and_then(|params| params.get("next").cloned());
    login_page(&headers, next.as_deref(), None, StatusCode::OK)
}

fn login_page(
    headers: &HeaderMap,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = match session::token() {
        Ok(token) => token,
        Err(error) => return page::error_page(&error).into_response(),
    };
    let next = session::safe_next(next);
    let html = page::bare(
        status,
        "Sign in",
        html! {
            p class="lead" { "Sign in with an API key (" code { "flowline key create" } "). The key's tenant and role decide what you see and may change, exactly as in the API." }
            @if let Some(error) = error { p class="error" role="alert" { (error) } }
            form class="stack" method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label { "API key" input type="password" name="key" autocomplete="off" required placeholder="flk_..." {} }
                button type="submit" { "Sign in" }
            }
        },
    );
    session::with_cookie(
        html.into_response(),
        &session::set_cookie(headers, LOGIN_COOKIE, &token, Some(600)),
    )
}

/// Checks the key, opens a session, and goes to the page asked for.
async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return login_page(
            &headers,
            None,
            Some("The form could not be read; please try again."),
            StatusCode::BAD_REQUEST,
        );
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let next = field("next");
    let cookie_token = session::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !session::same_token(&cookie_token, &field("csrf").unwrap_or_default()) {
        return login_page(
            &headers,
            next.as_deref(),
            Some("The sign-in form expired or did not come from this site; please sign in again."),
            StatusCode::FORBIDDEN,
        );
    }
    let key = field("key").unwrap_or_default();
    let principal = match session::authenticate(&app, key).await {
        Ok(principal) => principal,
        Err(error) if error.code() == Code::Unauthenticated => {
            return login_page(
                &headers,
                next.as_deref(),
                Some(error.message()),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(error) => return page::error_page(&error).into_response(),
    };
    let (id, _) = match app.dashboard().sessions.open(principal).await {
        Ok(opened) => opened,
        Err(error) => return page::error_page(&error).into_response(),
    };
    let target = session::safe_next(next.as_deref());
    let response = session::with_cookie(
        Redirect::to(&target).into_response(),
        &session::set_cookie(&headers, session::COOKIE, &id, None),
    );
    session::with_cookie(
        response,
        &session::set_cookie(&headers, LOGIN_COOKIE, "", Some(0)),
    )
}

/// Ends the session.
async fn logout(
    State(app): State<App>,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let csrf = form.ok().and_then(|Form(fields)| {
        fields
            .into_iter()
            .find(|(key, _)| key == "csrf")
            .map(|(_, value)| value)
    });
    if !viewer.check_csrf(csrf.as_deref()) {
        return page::error_in_page(
            &viewer,
            "",
            &ApiError::plain(
                Code::Forbidden,
                "the form did not come from this site (its CSRF token is missing or wrong)",
            ),
        )
        .into_response();
    }
    if let Err(error) = app.dashboard().sessions.close(&viewer.session).await {
        return page::error_in_page(&viewer, "", &error).into_response();
    }
    session::with_cookie(
        Redirect::to("/login").into_response(),
        &session::set_cookie(&headers, session::COOKIE, "", Some(0)),
    )
}

/// A page's result: the page, or an error shown in the page's frame.
pub fn respond(viewer: &Viewer, active: &str, result: Result<Html, ApiError>) -> Response {
    match result {
        Ok(html) => html.into_response(),
        Err(error) => page::error_in_page(viewer, active, &error).into_response(),
    }
}
