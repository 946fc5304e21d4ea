//! Warming the tenants when the server starts, so the first visitor of the dashboard does not
//! wait for a replay or a cold fold of a large log.
//!
//! For each registered tenant, one after the other: its engine writer is started (which
//! restores its snapshot and folds the log after it, or replays the whole log) on one blocking
//! thread while, on another, the scorecard's fold ([`crate::scorecard_routes`]) and the
//! dashboard's drill-down fold and history ([`crate::dashboard::Drill`]) are brought up to
//! date. A scorecard restored from its snapshot catches up alone first, so the scorecard pages
//! are ready within a second; without one, one pass over the log builds both folds, decoding
//! each event once. These are the same folds that requests use, held under the same locks, so
//! a request that arrives during the warm-up waits for it and then folds only what was
//! recorded since; nothing is folded twice.
//!
//! The server answers from the start: routes that need no fold (health, the sign-in page, the
//! OpenAPI document) never wait. When shutdown begins, the pass stops at its next page and
//! keeps what it folded (a consistent prefix of the log, which a later request would continue).

use crate::App;
use crate::error::{ApiError, Code};
use crate::metrics::FoldKind;
use crate::scorecards::{self, Reached};
use flowline_core::ErrorCode;
use flowline_core::id::TenantId;
use flowline_metrics::fold::EventTime;
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
            let folded = readers
                .read(move |store| fold_together(&shared, store, &tenant))
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

/// Brings the tenant's scorecard fold and drill-down fold up to date. When the scorecard was
/// restored from a snapshot it catches up alone first, so the scorecard pages are ready in the
/// time it takes to fold the tail; the drill-down fold follows. Without a snapshot both are
/// folded in one pass over the log, decoding each event once. Returns the last sequence number
/// folded, or `None` if shutdown stopped the pass.
fn fold_together(app: &App, store: &dyn Store, tenant: &TenantId) -> Result<Option<u64>, ApiError> {
    let scorecard = app.folds().slot(store, tenant)?;
    let dashboard = app.dashboard().slot(store, tenant, app.metrics())?;
    // Always the scorecard's lock first: requests take only one of the two, so this order
    // cannot deadlock with them.
    let mut scorecard = scorecard.lock().map_err(ApiError::internal)?;
    if scorecard
        .restored(store, tenant, app.metrics())?
        .tracked
        .head
        > 0
    {
        let head = match scorecard.advance(store, tenant, app) {
            Ok((_, head)) => head,
            Err(error) if app.stopping() => {
                tracing::debug!(error = %error.message(), "warm-up stopped");
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        drop(scorecard);
        let mut drill = dashboard.lock().map_err(ApiError::internal)?;
        let drill_before = drill.head();
        let reached = scorecards::read_events(
            store,
            tenant,
            drill_before,
            &|| app.stopping(),
            &mut |seq, event, at| drill.apply(seq, event, at),
        )
        .map_err(ApiError::internal)?;
        app.metrics()
            .folded(FoldKind::Dashboard, drill.head() - drill_before);
        return Ok(match reached {
            Reached::End => Some(head.max(drill.head())),
            Reached::Stopped => None,
        });
    }
    let mut drill = dashboard.lock().map_err(ApiError::internal)?;
    let fold = scorecard.restored(store, tenant, app.metrics())?;
    let scorecard_before = fold.tracked.head;
    let drill_before = drill.head();
    let tracked = &mut fold.tracked;
    let reached = scorecards::read_events(
        store,
        tenant,
        scorecard_before.min(drill_before),
        &|| app.stopping(),
        &mut |seq, event, at| {
            // A request may have advanced one of them before the warm-up took its lock.
            if seq > tracked.head {
                tracked.projection.apply(event, EventTime { at });
                tracked.head = seq;
            }
            if seq > drill.head() {
                drill.apply(seq, event, at);
            }
        },
    )
    .map_err(ApiError::internal)?;
    let head = fold.tracked.head;
    app.metrics()
        .folded(FoldKind::Scorecard, head - scorecard_before);
    app.metrics()
        .folded(FoldKind::Dashboard, drill.head() - drill_before);
    Ok(match reached {
        Reached::End => {
            // The cold fold is the expensive one to repeat: keep it.
            scorecard.advance(store, tenant, app)?;
            Some(head)
        }
        Reached::Stopped => None,
    })
}
