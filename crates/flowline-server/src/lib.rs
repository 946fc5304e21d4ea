//! Flowline over HTTP.
//!
//! A versioned REST/JSON API (`/v1`) over the engine: every command of the six SCOR processes as
//! a `PUT` of master data or a `POST` on a document or one of its sub-resources, every document
//! readable with its own event history, inventory positions, money balances, and the tenant's
//! event feed as pages and as server-sent events.
//!
//! Principal pieces:
//! - [`routes`]: the operation table, from which both the router and the OpenAPI document
//!   ([`openapi`]) are built;
//! - [`auth`]: API keys (hashed), roles and the [`auth::Principal`] every handler acts for;
//! - [`body`] and [`error`]: bodies parsed with line, column and field path in their errors;
//!   every error an `application/problem+json` with a stable code;
//! - [`App`]: the shared state (engine, read connections, counters, feeds);
//! - [`dashboard`]: the web dashboard (scorecard, drill-down, operational views, targets),
//!   server-rendered HTML with SVG charts, signed in with an API key;
//! - [`start`]: binds, serves, warms every tenant in the background ([`warm`]) and shuts down
//!   gracefully, finishing in-flight commands.

#![warn(missing_docs)]

pub mod auth;
pub mod body;
pub mod connections;
pub mod cors;
pub mod dashboard;
pub mod error;
pub mod feed;
pub mod handlers;
pub mod lists;
pub mod metrics;
pub mod openapi;
pub mod plan_routes;
pub mod rate;
pub mod readers;
pub mod render;
pub mod routes;
pub mod scorecard_routes;
pub mod scorecards;
pub mod urls;
pub mod warm;

use crate::error::{ApiError, Code};
use crate::feed::{CommitObserver, Feeds};
use crate::metrics::Metrics;
use crate::readers::Readers;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use flowline_core::State as TenantState;
use flowline_core::id::TenantId;
use flowline_engine::{Answer, Engine, EngineError, EngineOptions, Submission};
use flowline_store::SharedBackend;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::watch;
use tracing::Instrument;

/// The state every handler shares.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    engine: Arc<Engine>,
    readers: Readers,
    metrics: Arc<Metrics>,
    feeds: Arc<Feeds>,
    openapi: axum::body::Bytes,
    shutdown: watch::Sender<bool>,
    requests: AtomicU64,
    folds: scorecard_routes::Folds,
    dashboard: dashboard::Dashboard,
    /// Other processes' commits, told to the event streams; `None` when the backend gives no
    /// notices or they could not be started (the streams then read the log every second).
    _commit_watch: Option<flowline_store::CommitWatch>,
    limits: ServerLimits,
    limiter: rate::Limiter,
}

/// Starts the backend's commit notices, if it gives them, waking the event streams of a
/// tenant whichever process commits to it. A failure to start them is logged, not fatal: the
/// streams then read the log every second.
fn watch_commits(
    backend: &SharedBackend,
    feeds: &Arc<Feeds>,
) -> Option<flowline_store::CommitWatch> {
    let told = feeds.clone();
    let wake: flowline_store::OnCommit =
        Arc::new(move |tenant: &TenantId, head: u64| told.notify(tenant, head));
    match backend.watch_commits(wake) {
        Ok(Some(watch)) => {
            feeds.notified_of_every_commit();
            Some(watch)
        }
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "commit notices could not start; event streams read the log every second");
            None
        }
    }
}

/// The bounds a server puts on connections, requests and callers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ServerLimits {
    /// Connections and the time a request may take.
    pub connections: connections::Limits,
    /// Requests per key and per tenant.
    pub rate: rate::RateLimits,
}

impl App {
    /// Opens the engine of the log `backend` opens with `options` and builds the state around
    /// it. The engine's observer is replaced by one that wakes event streams and counts commits.
    pub fn open(backend: SharedBackend, options: EngineOptions) -> Result<Self, EngineError> {
        Self::open_with(backend, options, ServerLimits::default())
    }

    /// [`App::open`] with the given limits.
    pub fn open_with(
        backend: SharedBackend,
        options: EngineOptions,
        limits: ServerLimits,
    ) -> Result<Self, EngineError> {
        Self::open_serving(backend, None, options, limits)
    }

    /// [`App::open_with`] on a log that may be a read replica of `primary`, where dashboard
    /// sessions are then written (see [`ServeOptions::primary`]).
    pub fn open_serving(
        backend: SharedBackend,
        primary: Option<SharedBackend>,
        mut options: EngineOptions,
        limits: ServerLimits,
    ) -> Result<Self, EngineError> {
        let metrics = Arc::new(Metrics::default());
        let feeds = Arc::new(Feeds::default());
        options.observer = Some(Arc::new(CommitObserver {
            feeds: feeds.clone(),
            metrics: metrics.clone(),
        }));
        let readers = Readers::new(backend.clone());
        let dashboard = match primary {
            Some(primary) => dashboard::Dashboard::new(primary, true),
            None => dashboard::Dashboard::new(backend.clone(), false),
        };
        let commit_watch = watch_commits(&backend, &feeds);
        let engine = Arc::new(Engine::open(backend, options)?);
        let document = openapi::document(&routes::operations());
        let openapi = serde_json::to_vec_pretty(&document).unwrap_or_default();
        Ok(Self(Arc::new(Inner {
            readers,
            engine,
            metrics,
            feeds,
            openapi: openapi.into(),
            shutdown: watch::channel(false).0,
            requests: AtomicU64::new(0),
            folds: scorecard_routes::Folds::default(),
            dashboard,
            _commit_watch: commit_watch,
            limits,
            limiter: rate::Limiter::new(limits.rate),
        })))
    }

    /// The limits it serves within.
    pub fn limits(&self) -> ServerLimits {
        self.0.limits
    }

    /// The rate limiter of API keys and tenants.
    pub fn limiter(&self) -> &rate::Limiter {
        &self.0.limiter
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.0.engine
    }

    /// Read-only connections to the log.
    pub fn readers(&self) -> &Readers {
        &self.0.readers
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The per-tenant wake-ups of event streams.
    pub fn feeds(&self) -> &Feeds {
        &self.0.feeds
    }

    /// Each tenant's scorecard fold.
    pub fn folds(&self) -> &scorecard_routes::Folds {
        &self.0.folds
    }

    /// The dashboard's sessions.
    pub fn dashboard(&self) -> &dashboard::Dashboard {
        &self.0.dashboard
    }

    /// The OpenAPI document, serialized once.
    pub fn openapi_bytes(&self) -> axum::body::Bytes {
        self.0.openapi.clone()
    }

    /// Becomes true when the server starts shutting down: long-lived streams end then.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.0.shutdown.subscribe()
    }

    /// Tells long-lived streams to end.
    pub fn begin_shutdown(&self) {
        self.0.shutdown.send_replace(true);
    }

    /// Whether shutdown has begun: long folds stop at their next page then.
    pub fn stopping(&self) -> bool {
        *self.0.shutdown.borrow()
    }

    /// Submits a command to the tenant's writer and awaits its answer, holding no thread while
    /// the command is decided and made durable. Only the first command of a tenant, whose writer
    /// must first replay the tenant's log, is queued from a blocking thread.
    pub async fn submit(
        &self,
        tenant: &TenantId,
        submission: Submission,
    ) -> Result<Answer, ApiError> {
        let engine = self.0.engine.clone();
        let answer = match engine
            .send_if_running(tenant, submission)
            .map_err(engine_error)?
        {
            Ok(ticket) => ticket.answer().await,
            Err(submission) => {
                let tenant = tenant.clone();
                tokio::task::spawn_blocking(move || engine.submit(&tenant, submission))
                    .await
                    .map_err(ApiError::internal)?
            }
        };
        answer.map_err(engine_error)
    }

    /// Runs a read against the tenant's durable in-memory state.
    pub async fn query<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        read: impl FnOnce(&TenantState) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let engine = self.0.engine.clone();
        let tenant = tenant.clone();
        tokio::task::spawn_blocking(move || engine.query(&tenant, read))
            .await
            .map_err(ApiError::internal)?
            .map_err(engine_error)
    }
}

/// The answer to a read that shutdown interrupted.
pub(crate) fn shutting_down() -> ApiError {
    engine_error(EngineError::Stopped)
}

/// An engine error as the client sees it.
pub(crate) fn engine_error(error: EngineError) -> ApiError {
    match error {
        EngineError::IdempotencyKeyReused { key } => ApiError::new(
            Code::IdempotencyKeyReused,
            format!("idempotency key `{key}` was already used with a different request"),
            json!({ "key": key }),
        ),
        EngineError::Busy => ApiError::plain(
            Code::Busy,
            "the tenant's command queue is full; retry shortly",
        )
        .retry_after(1),
        EngineError::Unavailable(reason) => {
            tracing::error!(%reason, "event log unavailable");
            ApiError::plain(
                Code::Unavailable,
                "the event log is unavailable; retry with the same idempotency key",
            )
            .retry_after(1)
        }
        EngineError::Stopped => {
            ApiError::plain(Code::ShuttingDown, "the server is shutting down").retry_after(1)
        }
        // A lease with no address is a tenant being moved to another cluster: its writer
        // starts there in a moment.
        EngineError::Elsewhere { holder, address } if address.is_empty() => ApiError::new(
            Code::Unavailable,
            "the tenant's log is being moved to another database; nothing was applied, retry \
             shortly with the same idempotency key",
            json!({ "holder": holder }),
        )
        .retry_after(1),
        EngineError::Elsewhere { holder, address } => ApiError::new(
            Code::HeldElsewhere,
            format!(
                "the tenant is written by another Flowline process; send the request to it at \
                 {address} (nothing was applied here)"
            ),
            json!({ "holder": holder, "address": address }),
        )
        .redirect_to(address),
        other => ApiError::internal(other),
    }
}

/// The router with every operation of [`routes::operations`], and the list of what it
/// registered (method and path), for the test that compares it with the OpenAPI document.
pub fn router(app: App) -> (Router, Vec<(Method, String)>) {
    let mut router: Router<App> = Router::new();
    let mut registered = Vec::new();
    for operation in routes::operations() {
        registered.push((operation.method.clone(), operation.path.clone()));
        let allowed = operation.query;
        let handler = operation
            .handler
            .layer(middleware::from_fn(move |request, next| {
                handlers::check_query(allowed, request, next)
            }));
        router = router.route(&operation.path, handler);
    }
    // The dashboard's pages sit beside the API under paths of their own (`/`, `/scorecard/...`,
    // `/inventory`, ...); they are not API operations, so they are not in the OpenAPI document.
    let router = router
        .merge(dashboard::routes())
        .fallback(|| async {
            ApiError::plain(Code::RouteNotFound, "no such route; see /v1/openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::plain(
                Code::MethodNotAllowed,
                "the route does not take this method; see /v1/openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(body::BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(redirect))
        .layer(middleware::from_fn({
            let limits = app.limits().connections;
            move |request, next| connections::bound(limits, request, next)
        }))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app);
    (router, registered)
}

/// Writes `Location` on an answer that sends the client to another server: that server's
/// address with this request's path and query, so a client that follows redirects resends the
/// same request there (307 keeps the method and the body).
async fn redirect(request: Request, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |path| path.as_str().to_string());
    let mut response = next.run(request).await;
    if let Some(error::RedirectTo(address)) = response.extensions_mut().remove() {
        let location = format!("{}{target}", address.trim_end_matches('/'));
        if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
            response
                .headers_mut()
                .insert(axum::http::header::LOCATION, value);
        }
    }
    response
}

/// Gives each request an id and a span (tenant, key id and command are recorded into it as they
/// become known), logs its outcome, counts it, and answers with `X-Request-Id`.
async fn observe(State(app): State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let number = app.0.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("req_{number:08x}");
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %method,
        route = %route,
        tenant = tracing::field::Empty,
        key = tracing::field::Empty,
        command = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    let elapsed = started.elapsed();
    let code = response.extensions().get::<Code>().copied();
    span.in_scope(|| {
        let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        match &code {
            Some(code) if status.is_server_error() => {
                tracing::error!(status = status.as_u16(), latency_us, code = %code, "answered")
            }
            Some(code) => {
                tracing::info!(status = status.as_u16(), latency_us, code = %code, "answered")
            }
            None => tracing::info!(status = status.as_u16(), latency_us, "answered"),
        }
    });
    app.metrics()
        .request(method.as_str(), &route, status.as_u16(), elapsed);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address and port to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// The log.
    pub log: SharedBackend,
    /// Bounds on connections, requests and callers.
    pub limits: ServerLimits,
    /// The origins whose browser pages may call the API (none by default).
    pub cors: cors::Origins,
    /// When `log` is a read replica (and the engine only follows it): the database it
    /// replicates, where dashboard sessions are written. `None`: they are written to `log`.
    pub primary: Option<SharedBackend>,
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub address: SocketAddr,
    app: App,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    warm_up: tokio::task::JoinHandle<()>,
    warm: watch::Receiver<bool>,
}

impl Running {
    /// The shared state (to reach the engine or the counters).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Waits until every registered tenant is warm (its writer started, its folds built), or
    /// the warm-up has ended otherwise (shutdown, an error it logged).
    pub async fn warmed(&self) {
        let mut warm = self.warm.clone();
        let _ = warm.wait_for(|warm| *warm).await;
    }

    /// Stops accepting, lets in-flight requests finish, ends event streams and the warm-up,
    /// then stops the engine after the commands already queued and saves snapshots.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        let served = self
            .task
            .await
            .map_err(|error| std::io::Error::other(error.to_string()))?;
        // The warm-up stops at its next page; a writer it is starting finishes its replay.
        let _ = self.warm_up.await;
        let engine = self.app.engine().clone();
        let _ = tokio::task::spawn_blocking(move || engine.shutdown()).await;
        // The writers saved their snapshots as they stopped; the scorecard folds save theirs.
        let app = self.app.clone();
        let _ = tokio::task::spawn_blocking(move || match app.engine().backend().open_reader() {
            Ok(store) => app.folds().save_snapshots(store.as_ref()),
            Err(error) => tracing::warn!(%error, "cannot save the scorecard snapshots"),
        })
        .await;
        served
    }
}

/// Binds and starts serving in the background, then warms every registered tenant in the
/// background ([`warm`]): requests are answered from the start.
pub async fn start(options: &ServeOptions, engine: EngineOptions) -> Result<Running, StartError> {
    let app = App::open_serving(
        options.log.clone(),
        options.primary.clone(),
        engine,
        options.limits,
    )
    .map_err(StartError::Engine)?;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|error| StartError::Bind(options.bind, error))?;
    let address = listener
        .local_addr()
        .map_err(|error| StartError::Bind(options.bind, error))?;
    let (router, _) = router(app.clone());
    let router = if options.cors.is_empty() {
        router
    } else {
        let origins = options.cors.clone();
        router.layer(middleware::from_fn(move |request, next| {
            cors::apply(origins.clone(), request, next)
        }))
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options_limits = options.limits.connections;
    let streams = app.clone();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
            streams.begin_shutdown();
        };
        connections::serve(listener, router, options_limits, shutdown).await
    });
    tracing::info!(%address, log = %options.log.describe(), "serving");
    let (warmed, warm) = watch::channel(false);
    let warming = app.clone();
    let warm_up = tokio::spawn(async move {
        warm::warm_all(warming).await;
        warmed.send_replace(true);
    });
    Ok(Running {
        address,
        app,
        stop,
        task,
        warm_up,
        warm,
    })
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The log could not be opened.
    #[error("cannot open the event log: {0}")]
    Engine(EngineError),
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}
