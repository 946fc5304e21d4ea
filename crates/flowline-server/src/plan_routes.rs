//! `/v1/plan/...`: the planner's replenishment proposals, previewed (`GET`) or recorded as
//! proposal documents (`POST`), which a person then approves or rejects; the accuracy of the
//! forecasts published; and each center's capacity plan.
//!
//! The demand history is the `demand_history` projection, restored from its latest snapshot
//! and caught up with the log's tail (a snapshot is saved when the tail was long, so the next
//! run starts near the head); the stock position is the tenant's state, copied between the
//! writer's batches so the forecasts run on a blocking thread, not on the writer.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use flowline_core::id::{Sku, TenantId};
use flowline_engine::projections::{self, Tracked};
use flowline_engine::{AtomicOutcome, Submission};
use flowline_metrics::capacity::{self, CapacityPlan, CapacitySettings};
use flowline_metrics::demand::DemandHistory;
use flowline_metrics::network::{self, NetworkHistory, PlacementPlan, PlacementSettings};
use flowline_metrics::replenishment::{self, Plan, Settings};
use flowline_plan::replenish::ServiceTarget;
use serde_json::json;

use crate::App;
use crate::auth::{Access, Principal};
use crate::error::ApiError;
use crate::handlers::{json_response, query_params};
use crate::routes::{QueryParameter, QueryType};

/// A snapshot of the demand history is saved when catching up read more events than this.
const SNAPSHOT_AFTER: u64 = 20_000;

/// The parameters of the planner.
pub const REPLENISHMENT_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "service_level",
        description: "Target cycle service level (probability of no stock-out in a cycle), strictly between 0 and 1; default 0.95. Give this or `fill_rate`.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "fill_rate",
        description: "Target fill rate (share of demand met from stock), strictly between 0 and 1.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "review_days",
        description: "Days between planning runs (the review period), above 0 and at most 365; default 1.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "holding_rate",
        description: "Annual holding cost as a share of the unit price, 0 to 10; default 0.25.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "order_cost",
        description: "Fixed cost of one purchase order in the base currency (major units), 0 or more; default 0 (no lot sizing).",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "max_supplier_share",
        description: "The largest share of the proposed value one supplier may get, above 0 and at most 1; default 1 (no cap).",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "sku",
        description: "Only this item.",
        json_type: QueryType::String,
    },
];

fn number(
    params: &BTreeMap<String, String>,
    name: &str,
    valid: impl Fn(f64) -> bool,
    expected: &str,
) -> Result<Option<f64>, ApiError> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && valid(value) => Ok(Some(value)),
        _ => Err(ApiError::query(name, format!("`{text}` is not {expected}"))),
    }
}

/// The planner's settings and the item asked for, from the query.
fn settings_of(params: &BTreeMap<String, String>) -> Result<(Settings, Option<Sku>), ApiError> {
    let mut settings = Settings::default();
    let share = |v: f64| v > 0.0 && v < 1.0;
    let service = number(
        params,
        "service_level",
        share,
        "a number strictly between 0 and 1",
    )?;
    let fill = number(
        params,
        "fill_rate",
        share,
        "a number strictly between 0 and 1",
    )?;
    settings.service = match (service, fill) {
        (Some(_), Some(_)) => {
            return Err(ApiError::query(
                "fill_rate",
                "give `service_level` or `fill_rate`, not both",
            ));
        }
        (Some(level), None) => ServiceTarget::CycleServiceLevel(level),
        (None, Some(rate)) => ServiceTarget::FillRate(rate),
        (None, None) => settings.service,
    };
    if let Some(days) = number(
        params,
        "review_days",
        |v| v > 0.0 && v <= 365.0,
        "a number of days above 0 and at most 365",
    )? {
        settings.review_period_days = days;
    }
    if let Some(rate) = number(
        params,
        "holding_rate",
        |v| (0.0..=10.0).contains(&v),
        "a share from 0 to 10",
    )? {
        settings.holding_rate = rate;
    }
    if let Some(cost) = number(
        params,
        "order_cost",
        |v| (0.0..=1e12).contains(&v),
        "an amount from 0 to 10^12",
    )? {
        settings.order_cost = cost;
    }
    if let Some(cap) = number(
        params,
        "max_supplier_share",
        |v| v > 0.0 && v <= 1.0,
        "a share above 0 and at most 1",
    )? {
        settings.max_supplier_share = cap;
    }
    let sku = params
        .get("sku")
        .map(|text| Sku::parse(text).map_err(|error| ApiError::query("sku", error.to_string())))
        .transpose()?;
    Ok((settings, sku))
}

/// The tenant's demand history, from its snapshot and the log's tail, with the head it reflects.
pub(crate) async fn demand_history(
    app: &App,
    tenant: &TenantId,
) -> Result<(DemandHistory, u64), ApiError> {
    caught_up(app, tenant, DemandHistory::new).await
}

/// A projection of the tenant's log, from its snapshot and the log's tail, with the head it
/// reflects; a snapshot is saved when the tail was long.
pub(crate) async fn caught_up<P>(
    app: &App,
    tenant: &TenantId,
    fresh: fn() -> P,
) -> Result<(P, u64), ApiError>
where
    P: flowline_core::projection::Projection + Send + 'static,
{
    let tenant = tenant.clone();
    app.readers()
        .read(move |store| {
            let (mut tracked, _origin) = projections::restore(store, &tenant, fresh, |_| Ok(()))
                .unwrap_or_else(|_| {
                    (
                        Tracked {
                            projection: fresh(),
                            head: 0,
                        },
                        projections::Origin::Nothing,
                    )
                });
            let from = tracked.head;
            projections::catch_up(store, &tenant, &mut tracked, &|| false, &mut |_| {})
                .map_err(ApiError::internal)?;
            if tracked.head.saturating_sub(from) >= SNAPSHOT_AFTER {
                // A snapshot is a cache: failing to save one costs the next run time, no more.
                let _ = projections::save(store, &tenant, &tracked.projection, tracked.head);
            }
            Ok((tracked.projection, tracked.head))
        })
        .await
}

/// Runs the planner for the query.
async fn run(
    app: &App,
    principal: &Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<(Plan, Settings, u64), ApiError> {
    let params = query_params(query, REPLENISHMENT_QUERY)?;
    let (settings, sku) = settings_of(&params)?;
    let (plan, head) = plan_for(app, &principal.tenant, &settings, sku).await?;
    Ok((plan, settings, head))
}

/// Runs the planner over the tenant's demand history and a copy of its state, on a blocking
/// thread: the plan and the log position it reflects.
pub(crate) async fn plan_for(
    app: &App,
    tenant: &TenantId,
    settings: &Settings,
    sku: Option<Sku>,
) -> Result<(Plan, u64), ApiError> {
    let (history, head) = demand_history(app, tenant).await?;
    let state = app.query(tenant, |state| Box::new(state.clone())).await?;
    let planning = settings.clone();
    let plan = tokio::task::spawn_blocking(move || {
        replenishment::plan(&state, &history, &planning, sku.as_ref())
    })
    .await
    .map_err(ApiError::internal)?;
    Ok((plan, head))
}

/// Records a plan's proposals, all or none, as `RP-<head>-<n>`, with the forecast they rest on
/// as `F-<head>`: the proposals' ids.
pub(crate) async fn record(
    app: &App,
    tenant: &TenantId,
    plan: &Plan,
    head: u64,
) -> Result<Vec<String>, ApiError> {
    let commands = replenishment::commands(plan, &format!("RP-{head}"));
    let recorded: Vec<String> = commands.iter().map(|c| c.proposal.to_string()).collect();
    if !commands.is_empty() {
        // The forecast the proposals rest on is published with them, `F-<head>`, so that its
        // accuracy is measured as its days pass.
        let published = replenishment::publish_forecast(plan, &format!("F-{head}"));
        let submissions: Vec<Submission> = published
            .into_iter()
            .map(|command| Submission::new(flowline_core::Command::PublishForecast(command)))
            .chain(commands.into_iter().map(|command| {
                Submission::new(flowline_core::Command::ProposeReplenishment(command))
            }))
            .collect();
        submit_atomically(app, tenant, submissions).await?;
    }
    Ok(recorded)
}

/// Appends `submissions` in one atomic batch on a blocking thread: all, or none and the
/// refusal of the first that failed.
async fn submit_atomically(
    app: &App,
    tenant: &TenantId,
    submissions: Vec<Submission>,
) -> Result<(), ApiError> {
    let engine = app.engine().clone();
    let tenant = tenant.clone();
    let answer =
        tokio::task::spawn_blocking(move || engine.submit_atomically(&tenant, submissions, None))
            .await
            .map_err(ApiError::internal)?
            .map_err(crate::engine_error)?;
    if let AtomicOutcome::Rejected {
        code,
        message,
        details,
        ..
    } = answer.outcome
    {
        return Err(ApiError::rejected(&code, message, details));
    }
    Ok(())
}

fn body(plan: &Plan, settings: &Settings, head: u64, recorded: &[String]) -> serde_json::Value {
    let commands = replenishment::commands(plan, &format!("RP-{head}"));
    json!({
        "object": "replenishment_plan",
        "today": plan.today,
        "settings": settings,
        "planned": plan.planned,
        "covered": plan.covered,
        "skipped": plan.skipped,
        "proposals": commands,
        "recorded": recorded,
    })
}

/// `GET /v1/plan/replenishment`: what the planner would propose now, recording nothing.
pub fn preview_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let (plan, settings, head) = run(&app, &principal, query).await?;
            Ok::<Response, ApiError>(json_response(
                StatusCode::OK,
                &body(&plan, &settings, head, &[]),
            ))
        },
    )
}

/// `GET /v1/plan/policy`: the inventory policy in force at every item × center the planner
/// plans — the planner's settings from the query under the policies set by hand, each figure
/// with where it came from — and what it orders today, with its figures; records nothing.
pub fn policy_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let (plan, settings, head) = run(&app, &principal, query).await?;
            Ok::<Response, ApiError>(json_response(
                StatusCode::OK,
                &json!({
                    "object": "inventory_policies",
                    "today": plan.today,
                    "position": head,
                    "settings": settings,
                    "policies": plan.policies,
                    "skipped": plan.skipped,
                }),
            ))
        },
    )
}

/// `POST /v1/plan/replenishment`: plans and records the proposals, all or none, as
/// `RP-<log position>-<n>`.
pub fn record_handler() -> MethodRouter<App> {
    post(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Operate)?;
            let (plan, settings, head) = run(&app, &principal, query).await?;
            let recorded = record(&app, &principal.tenant, &plan, head).await?;
            Ok::<Response, ApiError>(json_response(
                StatusCode::CREATED,
                &body(&plan, &settings, head, &recorded),
            ))
        },
    )
}

/// The range of `GET /v1/plan/accuracy`.
pub const ACCURACY_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "from",
        description: "First day (YYYY-MM-DD, the tenant's reporting time zone), inclusive; default 28 days before `to`.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "to",
        description: "Day after the last (YYYY-MM-DD), exclusive; default the latest day with an order.",
        json_type: QueryType::String,
    },
];

/// The longest range of an accuracy report, in days.
const ACCURACY_DAYS_MAX: i64 = 3_660;

/// `GET /v1/plan/accuracy`: how the published forecasts did against what was then ordered.
pub fn accuracy_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let params = query_params(query, ACCURACY_QUERY)?;
            let day = |name: &str| -> Result<Option<jiff::civil::Date>, ApiError> {
                params
                    .get(name)
                    .map(|text| {
                        text.parse::<jiff::civil::Date>().map_err(|error| {
                            ApiError::query(name, format!("`{text}` is not a date: {error}"))
                        })
                    })
                    .transpose()
            };
            let (from, to) = (day("from")?, day("to")?);
            let (history, _) = demand_history(&app, &principal.tenant).await?;
            let to = to
                .or_else(|| history.latest())
                .unwrap_or(jiff::civil::date(2000, 1, 1));
            let from = match from {
                Some(from) => from,
                None => to
                    .checked_sub(jiff::Span::new().days(28))
                    .map_err(|error| ApiError::query("to", error.to_string()))?,
            };
            if from >= to {
                return Err(ApiError::query(
                    "from",
                    format!("{from} is not before `to` ({to})"),
                ));
            }
            let span = to
                .since(from)
                .map_or(i64::MAX, |span| i64::from(span.get_days()));
            if span > ACCURACY_DAYS_MAX {
                return Err(ApiError::query(
                    "from",
                    format!("the range is {span} days; the limit is {ACCURACY_DAYS_MAX}"),
                ));
            }
            let report = history.accuracy().report(from, to);
            let body = json!({ "object": "forecast_accuracy", "report": report });
            Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
        },
    )
}

/// The parameters of `GET /v1/plan/capacity`.
pub const CAPACITY_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "horizon_days",
        description: "Days ahead from the day after the latest order day, 7 to 366; default 56.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "level",
        description: "The quantile of each week's orders reported beside the forecast, strictly between 0 and 1; default 0.9.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "flag_probability",
        description: "The probability of exceeding capacity at which a week is flagged, above 0 and at most 1; default 0.5.",
        json_type: QueryType::String,
    },
];

/// The capacity plan's settings from the query.
pub(crate) fn capacity_settings(
    params: &BTreeMap<String, String>,
) -> Result<CapacitySettings, ApiError> {
    let mut settings = CapacitySettings::default();
    if let Some(days) = number(
        params,
        "horizon_days",
        |v| v.fract() == 0.0 && (7.0..=366.0).contains(&v),
        "a whole number of days from 7 to 366",
    )? {
        settings.horizon_days = days as usize;
    }
    if let Some(level) = number(
        params,
        "level",
        |v| v > 0.0 && v < 1.0,
        "a number strictly between 0 and 1",
    )? {
        settings.level = level;
    }
    if let Some(probability) = number(
        params,
        "flag_probability",
        |v| v > 0.0 && v <= 1.0,
        "a number above 0 and at most 1",
    )? {
        settings.flag_probability = probability;
    }
    Ok(settings)
}

/// The capacity plan of the tenant's centers, on a blocking thread.
pub(crate) async fn capacity_for(
    app: &App,
    tenant: &TenantId,
    settings: &CapacitySettings,
) -> Result<CapacityPlan, ApiError> {
    let (history, _) = demand_history(app, tenant).await?;
    let state = app.query(tenant, |state| Box::new(state.clone())).await?;
    let planning = settings.clone();
    tokio::task::spawn_blocking(move || capacity::plan(&state, &history, &planning))
        .await
        .map_err(ApiError::internal)?
        .map_err(|(field, reason)| ApiError::query(field, reason))
}

/// `GET /v1/plan/capacity`: each center's orders forecast week by week against what it can
/// pick and pack, the weeks likely to exceed it flagged.
pub fn capacity_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let params = query_params(query, CAPACITY_QUERY)?;
            let settings = capacity_settings(&params)?;
            let plan = capacity_for(&app, &principal.tenant, &settings).await?;
            let warnings: Vec<serde_json::Value> = plan
                .warnings()
                .map(|(center, week)| {
                    json!({
                        "center": center.center,
                        "from": week.from,
                        "to": week.to,
                        "forecast": week.week.forecast,
                        "capacity": week.week.capacity,
                        "shortfall": week.week.shortfall,
                        "probability_over": week.week.probability_over,
                    })
                })
                .collect();
            let body = json!({
                "object": "capacity_plan",
                "today": plan.today,
                "settings": settings,
                "warnings": warnings,
                "centers": plan.centers,
                "promotions": plan.promotions,
                "skipped": plan.skipped,
            });
            Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
        },
    )
}

/// The parameters of `/v1/plan/placement`.
pub const PLACEMENT_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "horizon_days",
        description: "Days of demand placed for, 1 to 365; default 28.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "window_days",
        description: "Days of past demand read and scaled to the horizon, 1 to 365; default 28.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "days_weight",
        description: "Cost of one unit-day in transit, base currency (major units), 0 to 10^6: what a day faster is worth; default 0.10.",
        json_type: QueryType::String,
    },
];

/// The placement settings from the query.
fn placement_settings(params: &BTreeMap<String, String>) -> Result<PlacementSettings, ApiError> {
    let mut settings = PlacementSettings::default();
    let days = |v: f64| v.fract() == 0.0 && (1.0..=365.0).contains(&v);
    if let Some(value) = number(
        params,
        "horizon_days",
        days,
        "a whole number of days from 1 to 365",
    )? {
        settings.horizon_days = value as u32;
    }
    if let Some(value) = number(
        params,
        "window_days",
        days,
        "a whole number of days from 1 to 365",
    )? {
        settings.window_days = value as u32;
    }
    if let Some(value) = number(
        params,
        "days_weight",
        |v| (0.0..=1e6).contains(&v),
        "an amount from 0 to 10^6",
    )? {
        settings.days_weight = value;
    }
    settings
        .check()
        .map_err(|error| ApiError::query("horizon_days", error.to_string()))?;
    Ok(settings)
}

/// The placement plan of the tenant's stock, on a blocking thread, with the head it reflects.
pub(crate) async fn placement_for(
    app: &App,
    tenant: &TenantId,
    settings: &PlacementSettings,
) -> Result<(PlacementPlan, u64), ApiError> {
    let (history, head) = caught_up(app, tenant, NetworkHistory::new).await?;
    let state = app.query(tenant, |state| Box::new(state.clone())).await?;
    let planning = settings.clone();
    let plan = tokio::task::spawn_blocking(move || network::plan(&state, &history, &planning))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::rejected("placement_failed", error.to_string(), json!({})))?;
    Ok((plan, head))
}

/// Records a placement plan's transfers as proposals, all or none, as `PL-<head>-<n>`: the
/// proposals' ids.
pub(crate) async fn record_placement(
    app: &App,
    tenant: &TenantId,
    plan: &PlacementPlan,
    head: u64,
) -> Result<Vec<String>, ApiError> {
    let commands = network::proposals(plan, &format!("PL-{head}"));
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let recorded = commands
        .iter()
        .filter_map(flowline_core::rendered::target)
        .map(|(_, id)| id)
        .collect();
    let submissions: Vec<Submission> = commands.into_iter().map(Submission::new).collect();
    submit_atomically(app, tenant, submissions).await?;
    Ok(recorded)
}

/// `GET /v1/plan/placement` previews, `POST` records each transfer as a proposal
/// (`PL-<head>-<n>`), all or none.
async fn placement(
    app: App,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    record: bool,
) -> Result<Response, ApiError> {
    principal.require(if record {
        Access::Operate
    } else {
        Access::Read
    })?;
    let params = query_params(query, PLACEMENT_QUERY)?;
    let settings = placement_settings(&params)?;
    let (plan, head) = placement_for(&app, &principal.tenant, &settings).await?;
    let recorded = if record {
        record_placement(&app, &principal.tenant, &plan, head).await?
    } else {
        Vec::new()
    };
    let body = json!({
        "object": "placement_plan",
        "settings": settings,
        "plan": plan,
        "recorded": recorded,
    });
    let status = if record {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &body))
}

/// `GET /v1/plan/placement`: where stock should sit, and the transfers that get there; records
/// nothing.
pub fn placement_preview_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            placement(app, principal, query, false).await
        },
    )
}

/// `POST /v1/plan/placement`: records the plan's transfers as proposals to approve.
pub fn placement_record_handler() -> MethodRouter<App> {
    post(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            placement(app, principal, query, true).await
        },
    )
}

/// The parameters of `GET /v1/plan/forecast`.
pub const FORECAST_QUERY: &[QueryParameter] = &[
    QueryParameter {
        name: "horizon",
        description: "Days ahead from the day after the latest order day, 1 to 366; default 28.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "level",
        description: "Coverage of the prediction interval, strictly between 0 and 1; default 0.8.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "sku",
        description: "Only this item.",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "after",
        description: "Items after this SKU (the previous page's `next_after`).",
        json_type: QueryType::String,
    },
    QueryParameter {
        name: "limit",
        description: "Items per page: 1 to 1000, default 50.",
        json_type: crate::routes::PAGE_SIZE,
    },
];

/// `GET /v1/plan/forecast`: each stocked item's demand forecast over every channel, with its
/// interval, the model chosen and the last days' actual orders (and units received back) to
/// draw it against; records nothing.
pub fn forecast_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let params = query_params(query, FORECAST_QUERY)?;
            let horizon = number(
                &params,
                "horizon",
                |v| v.fract() == 0.0 && (1.0..=366.0).contains(&v),
                "a whole number of days from 1 to 366",
            )?
            .map_or(28, |v| v as usize);
            let level = number(
                &params,
                "level",
                |v| v > 0.0 && v < 1.0,
                "a number strictly between 0 and 1",
            )?
            .unwrap_or(0.8);
            let limit = number(
                &params,
                "limit",
                |v| v.fract() == 0.0 && (1.0..=1000.0).contains(&v),
                "a whole number from 1 to 1000",
            )?
            .map_or(50, |v| v as usize);
            let sku_of = |name: &str| {
                params
                    .get(name)
                    .map(|text| {
                        Sku::parse(text).map_err(|error| ApiError::query(name, error.to_string()))
                    })
                    .transpose()
            };
            let (only, after) = (sku_of("sku")?, sku_of("after")?);
            let mut skus: Vec<Sku> = app
                .query(&principal.tenant, |state| {
                    state
                        .items
                        .values()
                        .filter(|item| !item.is_bundle())
                        .map(|item| item.sku.clone())
                        .collect::<Vec<_>>()
                })
                .await?;
            skus.sort();
            skus.retain(|sku| {
                only.as_ref().is_none_or(|only| only == sku)
                    && after.as_ref().is_none_or(|after| sku > after)
            });
            let more = skus.len() > limit;
            skus.truncate(limit);
            let next_after = more.then(|| skus.last().cloned()).flatten();
            let (history, _) = demand_history(&app, &principal.tenant).await?;
            let settings = Settings::default();
            let (items, unforecast) = tokio::task::spawn_blocking(move || {
                replenishment::forecast_items(&history, &skus, horizon, level, settings.fit_days)
            })
            .await
            .map_err(ApiError::internal)?;
            let body = json!({
                "object": "forecast_plan",
                "horizon": horizon,
                "level": level,
                "items": items,
                "unforecast": unforecast,
                "has_more": more,
                "next_after": next_after,
            });
            Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
        },
    )
}
