//! The event feed: the information flow, in the tenant's log order.
//!
//! Positions are the tenant's sequence numbers, which the tenant's single writer assigns without
//! gaps inside the append transaction, so "everything after N" never skips an event that
//! commits late and never repeats one. The page endpoint reads the log; the stream endpoint
//! reads it the same way and then waits on [`Feeds`], which the engine's committer wakes after
//! every durable batch.

use crate::App;
use crate::auth::{Access, Principal};
use crate::error::ApiError;
use crate::handlers::{event_json, json_response, page_limit, query_params};
use crate::readers::store_error;
use crate::routes::{FEED_QUERY, STREAM_QUERY};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use flowline_core::id::TenantId;
use flowline_engine::Observer;
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Events sent per read while a stream catches up.
const STREAM_PAGE: usize = 256;

/// The longest a waiting stream goes without reading the log when nothing tells this process
/// of other processes' commits: it is told of its own writer's commits at once, but when
/// several processes share the log another may write the tenant, and only reading finds that.
const STREAM_POLL: Duration = Duration::from_secs(1);

/// The longest it goes when the backend's commit notices tell it of every process's commits
/// (PostgreSQL's LISTEN/NOTIFY): reading then only covers notices lost while the listening
/// connection was down.
const STREAM_POLL_NOTIFIED: Duration = Duration::from_secs(10);

/// The latest durable sequence number of each tenant, for streams to wait on.
#[derive(Debug, Default)]
pub struct Feeds {
    heads: Mutex<HashMap<TenantId, watch::Sender<u64>>>,
    notified: AtomicBool,
}

impl Feeds {
    /// A receiver that changes whenever the tenant's log grows.
    pub fn subscribe(&self, tenant: &TenantId) -> watch::Receiver<u64> {
        match self.heads.lock() {
            Ok(mut heads) => heads
                .entry(tenant.clone())
                .or_insert_with(|| watch::channel(0).0)
                .subscribe(),
            // A poisoned lock means a panic elsewhere; a receiver that never changes still
            // lets the stream serve what the log holds.
            Err(_) => watch::channel(0).1,
        }
    }

    /// Tells the tenant's streams that its log reached `head`. A head at or below one already
    /// told (a notice of this process's own commit coming back from the database, or late)
    /// wakes no one.
    pub fn notify(&self, tenant: &TenantId, head: u64) {
        if let Ok(mut heads) = self.heads.lock() {
            heads
                .entry(tenant.clone())
                .or_insert_with(|| watch::channel(0).0)
                .send_if_modified(|told| {
                    let newer = head > *told;
                    if newer {
                        *told = head;
                    }
                    newer
                });
        }
    }

    /// From now on, every process's commits are told (the backend's commit notices run).
    pub fn notified_of_every_commit(&self) {
        self.notified.store(true, Ordering::Relaxed);
    }

    /// The longest a waiting stream goes without reading the log.
    pub fn poll(&self) -> Duration {
        if self.notified.load(Ordering::Relaxed) {
            STREAM_POLL_NOTIFIED
        } else {
            STREAM_POLL
        }
    }
}

/// Wakes the streams and counts what was committed.
pub struct CommitObserver {
    /// The feeds to wake.
    pub feeds: Arc<Feeds>,
    /// The counters to update.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Observer for CommitObserver {
    fn committed(&self, tenant: &TenantId, head: u64, _commands: usize, events: usize) {
        self.metrics.committed(events);
        if events > 0 {
            self.feeds.notify(tenant, head);
        }
    }

    fn restored(
        &self,
        tenant: &TenantId,
        origin: &flowline_engine::projections::Origin,
        head: u64,
        elapsed: std::time::Duration,
    ) {
        use flowline_engine::projections::Origin;
        let seconds = format!("{:.2}", elapsed.as_secs_f64());
        match origin {
            Origin::Snapshot { head: from } => {
                tracing::info!(%tenant, snapshot = from, head, seconds = %seconds, "writer restored from its snapshot");
            }
            Origin::Nothing => {
                tracing::info!(%tenant, head, seconds = %seconds, "writer rebuilt from the log");
            }
            Origin::Ignored(reason) => {
                tracing::warn!(%tenant, %reason, head, seconds = %seconds, "the writer's snapshot was ignored: rebuilt from the log");
            }
        }
    }

    fn snapshot_saved(&self, tenant: &TenantId, head: u64, saved: Result<usize, String>) {
        match saved {
            Ok(bytes) => tracing::info!(%tenant, head, bytes, "writer snapshot saved"),
            Err(error) => {
                tracing::warn!(%tenant, head, %error, "cannot save the writer's snapshot")
            }
        }
    }
}

/// A position in the tenant's log: 0 to `i64::MAX`, the range of the stored sequence numbers
/// (and of `next_after`, which echoes it when no event follows). A larger number names no
/// position, so it is refused rather than echoed back as a cursor the document says cannot be.
fn after(text: Option<&String>, name: &str) -> Result<u64, ApiError> {
    let Some(text) = text else {
        return Ok(0);
    };
    match text
        .parse::<i64>()
        .ok()
        .and_then(|seq| u64::try_from(seq).ok())
    {
        Some(seq) => Ok(seq),
        None => Err(ApiError::query(
            name,
            format!("`{text}` is not a sequence number (0 to {})", i64::MAX),
        )),
    }
}

/// `GET /v1/events?after=&limit=`.
pub fn page_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Feed)?;
            let params = query_params(query, FEED_QUERY)?;
            let limit = page_limit(&params)?;
            let after = after(params.get("after"), "after")?;
            let tenant = principal.tenant.clone();
            let (events, has_more) = app
                .readers()
                .read(move |store| {
                    let mut stored = store
                        .read_tenant(&tenant, after, limit + 1)
                        .map_err(store_error)?;
                    let has_more = stored.len() > limit;
                    stored.truncate(limit);
                    let events = stored
                        .iter()
                        .map(event_json)
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((events, has_more))
                })
                .await?;
            let next_after = events
                .last()
                .and_then(|event| event["seq"].as_u64())
                .unwrap_or(after);
            let body = json!({
                "object": "list",
                "data": events,
                "has_more": has_more,
                "next_after": next_after,
            });
            Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
        },
    )
}

/// `GET /v1/events/stream?after=`: server-sent events, each with the event's sequence number as
/// its id, so a client that reconnects with `Last-Event-ID` resumes exactly where it stopped.
pub fn stream_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         headers: HeaderMap,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Feed)?;
            let params = query_params(query, STREAM_QUERY)?;
            let last_event_id = headers
                .get("last-event-id")
                .map(|value| value.to_str().unwrap_or("").to_string());
            let start = match &last_event_id {
                Some(text) => after(Some(text), "Last-Event-ID")?,
                None => after(params.get("after"), "after")?,
            };
            let events = follow(app, principal.tenant, start);
            Ok::<Response, ApiError>(
                Sse::new(events)
                    .keep_alive(KeepAlive::default())
                    .into_response(),
            )
        },
    )
}

struct Follower {
    app: App,
    tenant: TenantId,
    cursor: u64,
    head: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
}

/// Reads a page after the cursor, or waits for the log to grow; ends when the server shuts
/// down or the log cannot be read.
fn follow(
    app: App,
    tenant: TenantId,
    start: u64,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let follower = Follower {
        head: app.feeds().subscribe(&tenant),
        shutdown: app.shutdown_signal(),
        app,
        tenant,
        cursor: start,
    };
    stream::unfold(follower, |mut follower| async move {
        loop {
            if *follower.shutdown.borrow() {
                return None;
            }
            // Marked seen before reading: a commit after this point changes the receiver, so
            // the wait below cannot miss it.
            follower.head.borrow_and_update();
            let tenant = follower.tenant.clone();
            let cursor = follower.cursor;
            let page = follower
                .app
                .readers()
                .read(move |store| {
                    let stored = store
                        .read_tenant(&tenant, cursor, STREAM_PAGE)
                        .map_err(store_error)?;
                    stored
                        .iter()
                        .map(|event| {
                            let data = serde_json::to_string(&event_json(event)?)
                                .map_err(ApiError::internal)?;
                            Ok((event.seq, event.event_type.clone(), data))
                        })
                        .collect::<Result<Vec<_>, ApiError>>()
                })
                .await;
            match page {
                Err(_) => return None,
                Ok(events) if !events.is_empty() => {
                    if let Some((seq, _, _)) = events.last() {
                        follower.cursor = *seq;
                    }
                    let sse: Vec<Result<SseEvent, Infallible>> = events
                        .into_iter()
                        .map(|(seq, event_type, data)| {
                            Ok(SseEvent::default()
                                .id(seq.to_string())
                                .event(event_type)
                                .data(data))
                        })
                        .collect();
                    return Some((stream::iter(sse), follower));
                }
                Ok(_) => {}
            }
            tokio::select! {
                changed = follower.head.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep(follower.app.feeds().poll()) => {}
                _ = follower.shutdown.changed() => return None,
            }
        }
    })
    .flatten()
}
