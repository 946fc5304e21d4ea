//! Warming the tenants when the server starts, so the first visitor of the dashboard does not
//! wait for a replay or a cold fold of a large log.
//!
//! For each registered tenant, one after the other: its engine writer is started (which
//! restores its snapshot and folds the log after it, or replays the whole log) on one blocking
//! thread while, on another, the scorecard's fold ([`crate::scorecard_routes`]), which every
//! page and report reads, is restored from its snapshot and brought up to date. This is the
//! same fold that requests use, held under the same lock, so a request that arrives during the
//! warm-up waits for it and then folds only what was recorded since; nothing is folded twice.
//!
//! The server answers from the start: routes that need no fold (health, the sign-in page, the
//! OpenAPI document) never wait. When shutdown begins, the pass stops at its next page and
//! keeps what it folded (a consistent prefix of the log, which a later request would continue).

use crate::App;
use crate::error::{ApiError, Code};

use flowline_core::ErrorCode;
use flowline_core::id::TenantId;
use flowline_store::Store;
use std::time::Instant;

/// Warms every registered tenant, then returns.
pub(crate) async fn warm_all(app: App) {
    let started = Instant::now();
    let tenants = app
        .readers()
        .read(|store| store.registered_tenants().map_err(ApiError::internal))
        .await;
    let tenants = match tenants {
        Ok(tenants) => tenants,
        Err(error) => {
            tracing::error!(error = %error.message(), "warm-up: cannot list the tenants");
            return;
        }
    };
    let mut warmed = 0_usize;
    for record in &tenants {
        if app.stopping() {
            tracing::info!("warm-up stopped: the server is shutting down");
            return;
        }
        if warm(&app, &record.tenant).await {
            warmed += 1;
        }
    }
    let seconds = format!("{:.1}", started.elapsed().as_secs_f64());
    if app.stopping() {
        tracing::info!(tenants = warmed, seconds = %seconds, "warm-up stopped: the server is shutting down");
    } else {
        tracing::info!(tenants = warmed, seconds = %seconds, "warm-up finished");
    }
}

/// Warms one tenant: its engine writer and its folds at once. Says whether it is warm.
async fn warm(app: &App, tenant: &TenantId) -> bool {
    let started = Instant::now();
    let engine = {
        let (engine, tenant) = (app.engine().clone(), tenant.clone());
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            (engine.query(&tenant, |_| ()), started.elapsed())
        })
    };
    let folds = {
        let (shared, tenant) = (app.clone(), tenant.clone());
        async move {
            let started = Instant::now();
            let readers = shared.readers().clone();
            let runtime = tokio::runtime::Handle::current();
            // Restoring reads and decodes the whole snapshot: on a thread of its own, so what
            // that took is given back when it ends.
            let folded = readers
                .read_alone(move |store| fold_scorecard(&shared, store, &tenant, &runtime))
                .await;
            (folded, started.elapsed())
        }
    };
    let (engine, (folds, folds_elapsed)) = tokio::join!(engine, folds);
    let seconds = format!("{:.1}", started.elapsed().as_secs_f64());
    let folds_seconds = format!("{:.1}", folds_elapsed.as_secs_f64());
    let (engine, writer_seconds) = match engine {
        Ok((started, elapsed)) => (Ok(started), format!("{:.1}", elapsed.as_secs_f64())),
        Err(error) => (Err(error), String::new()),
    };
    match engine {
        Ok(Ok(())) => {}
        Ok(Err(flowline_engine::EngineError::Elsewhere { holder, address })) => {
            // Another process sharing the log writes the tenant: nothing is wrong.
            tracing::info!(%tenant, %holder, %address, "warm-up: the tenant is written by another process");
            return false;
        }
        Ok(Err(error)) => {
            tracing::warn!(%tenant, %error, "warm-up: the tenant's writer did not start");
            return false;
        }
        Err(error) => {
            tracing::error!(%tenant, %error, "warm-up: the tenant's writer task failed");
            return false;
        }
    }
    match folds {
        Ok(Some(events)) => {
            tracing::info!(
                %tenant,
                events,
                seconds = %seconds,
                writer_seconds = %writer_seconds,
                folds_seconds = %folds_seconds,
                "tenant warm"
            );
            true
        }
        Ok(None) => {
            tracing::info!(%tenant, seconds = %seconds, "warm-up: stopped by shutdown");
            false
        }
        Err(error) if error.code() == Code::Domain(ErrorCode::NotFound) => {
            // Not configured yet: there is no scorecard to fold, and its writer is started.
            tracing::info!(%tenant, seconds = %seconds, "tenant warm (not configured: no folds)");
            true
        }
        Err(error) => {
            tracing::warn!(%tenant, error = %error.message(), "warm-up: the tenant's folds failed");
            false
        }
    }
}

/// Brings the tenant's scorecard fold up to date: restored from its snapshot and the tail
/// folded, or folded from the whole log (and then snapshotted). Returns the last sequence number
/// folded, or `None` if shutdown stopped the pass.
fn fold_scorecard(
    app: &App,
    store: &dyn Store,
    tenant: &TenantId,
    runtime: &tokio::runtime::Handle,
) -> Result<Option<u64>, ApiError> {
    let scorecard = app.folds().slot(app, store, tenant, runtime)?;
    let mut scorecard = scorecard.lock().map_err(ApiError::internal)?;
    match scorecard.advance(store, tenant, app) {
        Ok((_, head)) => Ok(Some(head)),
        Err(error) if app.stopping() => {
            tracing::debug!(error = %error.message(), "warm-up stopped");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}
