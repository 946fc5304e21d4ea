//! `GET /v1/scorecard` and `GET /v1/metrics/{id}`: the SCOR scorecard of the caller's tenant.
//!
//! Each tenant's fold is restored from its snapshot, or built from its log, once (at start, by
//! [`crate::warm`], or by the first request) and kept in memory; every request folds only the
//! events recorded since the last one, so a scorecard costs the events since, not the length
//! of the log. Drilling to documents reads the same fold: a settled order's record leaves its
//! memory, but its verdict stays, packed ([`flowline_metrics::fold::Archive`]).

use crate::App;
use crate::auth::{Access, Principal};
use crate::error::ApiError;
use crate::handlers::{json_response, query_params};
use crate::metrics::{FoldKind, Metrics};
use crate::routes::{QueryParameter, QueryType};
use crate::scorecards::{self, Reached, ScorecardError, ScorecardFold};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use flowline_core::ErrorCode;
use flowline_core::id::TenantId;
use flowline_engine::feed::{DurableBatch, Subscription};
use flowline_engine::projections::{self, Fed, Origin};
use flowline_metrics::drill::{self, Filter};
use flowline_metrics::fold::{Dimension, Fold, FoldSettings, Slice};
use flowline_metrics::period::{Granularity, Range};
use flowline_metrics::scorecard::{metric_info, scorecard};
use flowline_store::Store;
use jiff::Timestamp;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A tenant's scorecard fold, locked while it advances.
pub(crate) type TenantFold = Arc<Mutex<ScorecardSlot>>;

/// A tenant's scorecard fold: restored from its latest snapshot on first use, then kept up to
/// date with the log and snapshotted every [`scorecards::SNAPSHOT_EVERY_EVENTS`] events.
pub(crate) struct ScorecardSlot {
    settings: FoldSettings,
    fold: Option<ScorecardFold>,
}

impl ScorecardSlot {
    /// The fold as it stands, restored from the latest good snapshot on first use.
    pub(crate) fn restored(
        &mut self,
        store: &dyn Store,
        tenant: &TenantId,
        metrics: &Metrics,
    ) -> Result<&mut ScorecardFold, ApiError> {
        let fold = match self.fold.take() {
            Some(fold) => fold,
            None => {
                let started = std::time::Instant::now();
                let (fold, origin) = ScorecardFold::restore(store, tenant, self.settings.clone())
                    .map_err(store_error)?;
                let seconds = format!("{:.2}", started.elapsed().as_secs_f64());
                match &origin {
                    Origin::Snapshot { head } => {
                        tracing::info!(%tenant, head, seconds = %seconds, "scorecard restored from its snapshot");
                    }
                    Origin::Nothing => {}
                    Origin::Ignored(reason) => {
                        tracing::warn!(%tenant, %reason, "the scorecard snapshot was ignored: folding the whole log");
                    }
                }
                metrics.fold_built(FoldKind::Scorecard);
                fold
            }
        };
        Ok(self.fold.insert(fold))
    }

    /// The fold brought up to the head of the log, with that head; a snapshot is saved when
    /// enough was folded since the last. Fails with "shutting down" if shutdown stopped it.
    pub(crate) fn advance(
        &mut self,
        store: &dyn Store,
        tenant: &TenantId,
        app: &App,
    ) -> Result<(&Fold, u64), ApiError> {
        let fold = self.restored(store, tenant, app.metrics())?;
        catch_up(fold, store, tenant, app)?;
        save_snapshot(fold, store, tenant, scorecards::SNAPSHOT_EVERY_EVENTS);
        Ok((&fold.tracked.projection, fold.tracked.head))
    }

    /// Folds durable batches the engine handed over, without reading the log, once the fold
    /// has been restored (until then whoever first asks restores it and catches up from the
    /// log). A batch that does not follow on from the fold's head means batches were missed:
    /// the fold catches up from the log instead, and the batches it now holds are skipped.
    fn feed(
        &mut self,
        store: &dyn Store,
        tenant: &TenantId,
        app: &App,
        batches: &[Arc<DurableBatch>],
    ) -> Result<(), ApiError> {
        let Some(fold) = self.fold.as_mut() else {
            return Ok(());
        };
        for batch in batches {
            let fed = projections::feed(&mut fold.tracked, batch)
                .map_err(|error| store_error(error.into()))?;
            match fed {
                Fed::Applied(events) => {
                    app.metrics().folded(FoldKind::Scorecard, events);
                    app.metrics().fed(FoldKind::Scorecard, events);
                }
                Fed::Gap => catch_up(fold, store, tenant, app)?,
            }
        }
        save_snapshot(fold, store, tenant, scorecards::SNAPSHOT_EVERY_EVENTS);
        Ok(())
    }
}

/// Folds what the log holds past the fold's head, counting it; fails with "shutting down" if
/// shutdown stopped it.
fn catch_up(
    fold: &mut ScorecardFold,
    store: &dyn Store,
    tenant: &TenantId,
    app: &App,
) -> Result<(), ApiError> {
    let (folded, reached) = fold
        .catch_up(store, tenant, &|| app.stopping())
        .map_err(store_error)?;
    app.metrics().folded(FoldKind::Scorecard, folded);
    if reached == Reached::Stopped {
        return Err(crate::shutting_down());
    }
    Ok(())
}

/// How long the fold gathers batches after the first before folding them: a busy tenant's
/// batches are folded many at a time (a lone order's batch costs a thread's wake-up), and the
/// fold is never much further behind than this.
const FEED_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Durable batches a tenant's fold may have waiting before it misses some (and then catches up
/// from the log): 5,120 batches a second with [`FEED_PAUSE`] between feeds.
const FEED_BATCHES: usize = 256;

/// Follows the tenant's durable batches into its fold until the server shuts down, on the
/// report lane, so a page or a report finds the fold at the head of the log instead of folding
/// what was recorded since the last one. Batches are gathered for [`FEED_PAUSE`] and folded
/// together; batches missed (a full queue, a full lane) are caught up from the log.
async fn follow(app: App, tenant: TenantId, slot: TenantFold, mut subscription: Subscription) {
    let mut stopping = app.shutdown_signal();
    loop {
        if app.stopping() {
            return;
        }
        let first = tokio::select! {
            batch = subscription.next() => batch,
            _ = stopping.changed() => continue,
        };
        let Some(first) = first else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep(FEED_PAUSE) => {}
            _ = stopping.changed() => {}
        }
        let mut batches = vec![first];
        while let Some(more) = subscription.try_next() {
            batches.push(more);
        }
        let (shared, tenant, slot) = (app.clone(), tenant.clone(), slot.clone());
        let fed = app
            .readers()
            .report(move |store| {
                let mut slot = slot.lock().map_err(ApiError::internal)?;
                slot.feed(store, &tenant, &shared, &batches)
            })
            .await;
        if let Err(error) = fed {
            tracing::debug!(error = %error.message(), "a fold missed durable batches: it catches up from the log");
        }
    }
}

/// Saves a snapshot of the fold if `events` were folded since the last; a failure is logged
/// (the snapshot is a cache: the next start folds more).
fn save_snapshot(fold: &mut ScorecardFold, store: &dyn Store, tenant: &TenantId, events: u64) {
    let started = std::time::Instant::now();
    match fold.snapshot_if_due(store, tenant, events) {
        Ok(Some(bytes)) => {
            let seconds = format!("{:.2}", started.elapsed().as_secs_f64());
            tracing::info!(%tenant, head = fold.tracked.head, bytes, seconds = %seconds, "scorecard snapshot saved");
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%tenant, %error, "cannot save a scorecard snapshot"),
    }
}

/// Each tenant's fold, and the reports recently computed from it.
#[derive(Default)]
pub struct Folds {
    tenants: Mutex<HashMap<TenantId, TenantFold>>,
    reports: Mutex<HashMap<TenantId, std::collections::VecDeque<SharedReport>>>,
}

/// How long a report asked for as of now is shared with identical requests.
const SHARED_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// Reports kept per tenant.
const SHARED_REPORTS_MAX: usize = 16;

/// A report computed at a log head, kept for identical requests that follow it.
struct SharedReport {
    query: String,
    head: u64,
    computed: std::time::Instant,
    body: axum::body::Bytes,
}

impl Folds {
    /// The report `query` of `tenant` computed at `head` less than [`SHARED_FOR`] ago.
    fn shared(&self, tenant: &TenantId, query: &str, head: u64) -> Option<axum::body::Bytes> {
        let reports = self.reports.lock().ok()?;
        reports
            .get(tenant)?
            .iter()
            .find(|report| {
                report.query == query
                    && report.head == head
                    && report.computed.elapsed() < SHARED_FOR
            })
            .map(|report| report.body.clone())
    }

    /// Keeps a report for identical requests that follow, forgetting the oldest past
    /// [`SHARED_REPORTS_MAX`].
    fn share(&self, tenant: &TenantId, query: String, head: u64, body: axum::body::Bytes) {
        if let Ok(mut reports) = self.reports.lock() {
            let kept = reports.entry(tenant.clone()).or_default();
            kept.retain(|report| report.query != query);
            if kept.len() >= SHARED_REPORTS_MAX {
                kept.pop_front();
            }
            kept.push_back(SharedReport {
                query,
                head,
                computed: std::time::Instant::now(),
                body,
            });
        }
    }
}

impl Folds {
    /// The tenant's fold slot, made on first use and restored from its snapshot by whoever
    /// first advances it. There is one per tenant, and whoever advances it holds its lock, so
    /// requests that come while it is being built (by the warm-up or another request) wait for
    /// that build instead of folding the log again. A new slot subscribes to the tenant's
    /// durable batches at once, and follows them (on `runtime`) from then on.
    pub(crate) fn slot(
        &self,
        app: &App,
        store: &dyn Store,
        tenant: &TenantId,
        runtime: &tokio::runtime::Handle,
    ) -> Result<TenantFold, ApiError> {
        if let Some(slot) = self.tenants.lock().map_err(ApiError::internal)?.get(tenant) {
            return Ok(slot.clone());
        }
        let settings = scorecards::settings(store, tenant, false)
            .map_err(store_error)?
            .ok_or_else(not_configured)?;
        let mut tenants = self.tenants.lock().map_err(ApiError::internal)?;
        if let Some(slot) = tenants.get(tenant) {
            return Ok(slot.clone());
        }
        let slot = Arc::new(Mutex::new(ScorecardSlot {
            settings,
            fold: None,
        }));
        tenants.insert(tenant.clone(), slot.clone());
        let subscription = app.engine().subscribe(tenant, FEED_BATCHES);
        runtime.spawn(follow(
            app.clone(),
            tenant.clone(),
            slot.clone(),
            subscription,
        ));
        Ok(slot)
    }

    /// Saves a snapshot of every tenant's fold that has folded anything since its last, so the
    /// next start restores instead of folding. Called when the server stops.
    pub(crate) fn save_snapshots(&self, store: &dyn Store) {
        let slots: Vec<(TenantId, TenantFold)> = match self.tenants.lock() {
            Ok(tenants) => tenants
                .iter()
                .map(|(tenant, slot)| (tenant.clone(), slot.clone()))
                .collect(),
            Err(_) => return,
        };
        for (tenant, slot) in slots {
            if let Ok(mut slot) = slot.lock()
                && let Some(fold) = slot.fold.as_mut()
            {
                save_snapshot(fold, store, &tenant, 1);
            }
        }
    }
}

/// The query of `GET /v1/scorecard`.
pub const SCORECARD_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "from",
        description: "First day (YYYY-MM-DD), in the tenant's reporting time zone.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "to",
        description: "Day after the last (YYYY-MM-DD). Without both, the period containing `from`, or else the latest complete period of the data.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "period",
        description: "day, week, month (default), quarter, year or trailing_12_months (the twelve months to the end of the month of `from`, or of the latest complete month).",
        json_type: QueryType::OneOf(&PERIODS),
    },
    QueryParameter {
        name: "by",
        description: "Also one scorecard per value of: channel, center, carrier, supplier, sku, category, region.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "as_of",
        description: "Judge what is provisional as of this instant (RFC 3339); now by default.",
        json_type: QueryType::String,
    },
];

/// The names `period` takes.
const PERIODS: [&str; 6] = [
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "trailing_12_months",
];

/// The query of `GET /v1/metrics/{id}`.
pub const METRIC_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "from",
        description: "First day (YYYY-MM-DD).",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "to",
        description: "Day after the last (YYYY-MM-DD).",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "period",
        description: "day, week, month (default), quarter, year or trailing_12_months (the twelve months to the end of the month of `from`, or of the latest complete month).",
        json_type: QueryType::OneOf(&PERIODS),
    },
    QueryParameter {
        name: "slice",
        description: "`dimension:value` (channel, center, carrier, supplier, sku, category or region), e.g. `channel:web`, or `all`: the whole tenant, the default.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "drill",
        description: "level2 (default), signatures or documents.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "limit",
        description: "Documents listed when drilling to documents: 1 to 1000, default 100.",
        json_type: crate::routes::PAGE_SIZE,
    },
    QueryParameter {
        name: "as_of",
        description: "Judge what is provisional as of this instant (RFC 3339).",
        json_type: QueryType::String,
    },
];

fn date(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<jiff::civil::Date>, ApiError> {
    params
        .get(name)
        .map(|text| {
            text.parse()
                .map_err(|_| ApiError::query(name, format!("`{text}` is not a date (YYYY-MM-DD)")))
        })
        .transpose()
}

/// `from` and `to` of a query, each optional; when both are given, `to` must come after `from`
/// by at most [`crate::dashboard::RANGE_DAYS_MAX`] days, so no request asks for work in
/// proportion to centuries of days.
fn dates(
    params: &BTreeMap<String, String>,
) -> Result<(Option<jiff::civil::Date>, Option<jiff::civil::Date>), ApiError> {
    let (from, to) = (date(params, "from")?, date(params, "to")?);
    if let (Some(first), Some(after)) = (from, to) {
        check_range(first, after)?;
    }
    Ok((from, to))
}

/// Refuses a custom range that is empty, reversed or longer than
/// [`crate::dashboard::RANGE_DAYS_MAX`] days, naming `to`.
pub(crate) fn check_range(from: jiff::civil::Date, to: jiff::civil::Date) -> Result<(), ApiError> {
    let limit = crate::dashboard::RANGE_DAYS_MAX;
    if to <= from {
        return Err(ApiError::query(
            "to",
            format!("`{to}` must be after `from` ({from})"),
        ));
    }
    if Range::of_dates(from, to).days() > limit {
        return Err(ApiError::query(
            "to",
            format!("a custom range is at most {limit} days; {from} to {to} is longer"),
        ));
    }
    Ok(())
}

fn timestamp(params: &BTreeMap<String, String>) -> Result<Timestamp, ApiError> {
    match params.get("as_of") {
        None => Ok(Timestamp::now()),
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::query("as_of", format!("`{text}` is not an RFC 3339 instant"))),
    }
}

fn granularity(params: &BTreeMap<String, String>) -> Result<Granularity, ApiError> {
    let text = params.get("period").map_or("month", String::as_str);
    Granularity::parse(text).ok_or_else(|| {
        ApiError::query(
            "period",
            format!("`{text}`: expected {}", Granularity::names()),
        )
    })
}

fn store_error(error: ScorecardError) -> ApiError {
    ApiError::internal(error)
}

pub(crate) fn not_configured() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "the tenant is not configured yet: PUT /v1/settings",
        json!({ "kind": "settings", "id": "settings" }),
    )
}

/// Runs `work` on the tenant's fold brought up to date with its log.
pub(crate) async fn with_fold<R: Send + 'static>(
    app: &App,
    tenant: &TenantId,
    work: impl FnOnce(&Fold) -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    with_fold_at(app, tenant, move |fold, _| work(fold)).await
}

/// [`with_fold`] for a report that identical requests may share: `query` names it (the
/// operation and its parameters). A request that finds the same report computed at the same
/// log head less than two seconds ago (typically by a request it queued behind) is answered
/// with it; so a crowd asking for one heavy report costs one computation.
pub(crate) async fn shared_report(
    app: &App,
    tenant: &TenantId,
    query: String,
    work: impl FnOnce(&Fold) -> Result<serde_json::Value, ApiError> + Send + 'static,
) -> Result<axum::body::Bytes, ApiError> {
    let (shared_app, shared_tenant) = (app.clone(), tenant.clone());
    with_fold_at(app, tenant, move |fold, head| {
        let folds = shared_app.folds();
        if let Some(body) = folds.shared(&shared_tenant, &query, head) {
            shared_app.metrics().report(true);
            return Ok(body);
        }
        // Written out here, on the report lane, not on the thread that answers requests.
        let body =
            axum::body::Bytes::from(serde_json::to_vec(&work(fold)?).map_err(ApiError::internal)?);
        shared_app.metrics().report(false);
        folds.share(&shared_tenant, query, head, body.clone());
        Ok(body)
    })
    .await
}

/// Advances the tenant's fold to the head of its log, then runs `work` on it with that head.
async fn with_fold_at<R: Send + 'static>(
    app: &App,
    tenant: &TenantId,
    work: impl FnOnce(&Fold, u64) -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    let tenant = tenant.clone();
    let app = app.clone();
    let runtime = tokio::runtime::Handle::current();
    app.clone()
        .readers()
        .report(move |store| {
            let slot = app.folds().slot(&app, store, &tenant, &runtime)?;
            let mut slot = slot.lock().map_err(ApiError::internal)?;
            let (fold, head) = slot.advance(store, &tenant, &app)?;
            work(fold, head)
        })
        .await
}

/// `GET /v1/scorecard`.
pub fn scorecard_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let params = query_params(query, SCORECARD_QUERY)?;
            let (from, to) = dates(&params)?;
            let granularity = granularity(&params)?;
            let as_of = timestamp(&params)?;
            let by = params
                .get("by")
                .map(|text| {
                    Dimension::parse(text).ok_or_else(|| {
                        ApiError::query(
                            "by",
                            format!(
                                "`{text}`: expected one of {}",
                                Dimension::ALL.map(Dimension::name).join(", ")
                            ),
                        )
                    })
                })
                .transpose()?;
            let tenant = principal.tenant.clone();
            let query: Vec<String> = params
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            // The Plan metric comes from the demand history, which scores published forecasts.
            let (history, _) = crate::plan_routes::demand_history(&app, &principal.tenant).await?;
            let body = shared_report(
                &app,
                &principal.tenant,
                format!("scorecard?{}", query.join("&")),
                move |fold| {
                    let range = scorecards::range_of(fold, from, to, granularity);
                    let mut report = scorecards::report(&tenant, fold, range, by, as_of, 50);
                    report.plan = (!history.accuracy().is_empty()).then(|| {
                        history
                            .accuracy()
                            .report(range.from.date(), range.to.date())
                    });
                    serde_json::to_value(report).map_err(ApiError::internal)
                },
            )
            .await?;
            Ok::<Response, ApiError>(json_bytes_response(body))
        },
    )
}

/// A 200 with a JSON body already written.
fn json_bytes_response(body: axum::body::Bytes) -> Response {
    let mut response = axum::response::IntoResponse::into_response((StatusCode::OK, body));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

fn slice_of(params: &BTreeMap<String, String>) -> Result<Slice, ApiError> {
    let Some(text) = params.get("slice") else {
        return Ok(Slice::All);
    };
    Slice::parse(text).map_err(|error| ApiError::query("slice", error.to_string()))
}

/// `GET /v1/metrics/{id}`: one metric with what explains it.
pub fn metric_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         path: Result<Path<String>, PathRejection>,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let Path(id) =
                path.map_err(|rejection| ApiError::query("id", rejection.body_text()))?;
            let params = query_params(query, METRIC_QUERY)?;
            if metric_info(&id).is_none()
                && !id.starts_with("rs.segment.")
                && !id.starts_with("co.cost.")
            {
                return Err(ApiError::not_found("metric", &id));
            }
            let (from, to) = dates(&params)?;
            let granularity = granularity(&params)?;
            let as_of = timestamp(&params)?;
            let slice = slice_of(&params)?;
            let drill = params
                .get("drill")
                .map_or("level2", String::as_str)
                .to_string();
            let limit = crate::handlers::page_limit(&params)?;
            let range_slice = slice.clone();
            let metric = id.clone();
            let body = with_fold(&app, &principal.tenant, move |fold| {
                let range = scorecards::range_of(fold, from, to, granularity);
                let card = scorecard(fold, range, &range_slice, as_of);
                let value = card
                    .value(&metric)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found("metric", &metric))?;
                let level2 = card
                    .level1
                    .iter()
                    .find(|level1| level1.value.id == metric)
                    .map(|level1| level1.level2.clone())
                    .unwrap_or_default();
                Ok(json!({
                    "metric": metric,
                    "name": metric_info(&metric).map(|info| info.name),
                    "scor_code": metric_info(&metric).map(|info| info.scor_code),
                    "from": range.from.date().to_string(),
                    "to": range.to.date().to_string(),
                    "slice": range_slice,
                    "provisional": card.provisional,
                    "value": value,
                    "level2": level2,
                    "signatures": card.signatures,
                    "range": [range.from.0, range.to.0],
                }))
            })
            .await?;
            let body = match drill.as_str() {
                "level2" | "signatures" => body,
                "documents" => {
                    let tenant = principal.tenant.clone();
                    let metric = id.clone();
                    let range = Range {
                        from: flowline_metrics::period::Day(
                            body["range"][0].as_i64().unwrap_or(0) as i32
                        ),
                        to: flowline_metrics::period::Day(
                            body["range"][1].as_i64().unwrap_or(0) as i32
                        ),
                    };
                    let rows = with_fold(&app, &tenant, move |fold| {
                        Ok(drill::orders(
                            fold,
                            range,
                            &slice,
                            Filter::for_metric(&metric),
                            limit,
                        ))
                    })
                    .await?;
                    let mut body = body;
                    body["documents"] = serde_json::to_value(rows).map_err(ApiError::internal)?;
                    body
                }
                other => {
                    return Err(ApiError::query(
                        "drill",
                        format!("`{other}`: expected level2, signatures or documents"),
                    ));
                }
            };
            let mut body = body;
            if let Some(fields) = body.as_object_mut() {
                fields.remove("range");
            }
            Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_periods_are_exactly_the_ones_parsed() {
        let parsed: Vec<&str> = Granularity::ALL.iter().map(|kind| kind.name()).collect();
        assert_eq!(PERIODS.to_vec(), parsed);
    }
}
