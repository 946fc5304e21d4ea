//! Accepting connections with bounds: how many at once, how long a client may take to send its
//! headers and its body, and how long a request may run.
//!
//! A client that opens a socket and sends nothing, trickles its headers a byte at a time, or
//! declares a body it never sends holds a connection and a task; without bounds a few hundred
//! such sockets stop a server for everyone. Here:
//! - at most [`Limits::max_connections`] connections are open; one more is closed at once;
//! - the request's headers must arrive within [`Limits::header_timeout`], or the connection is
//!   closed; a kept-alive connection on which nothing has moved for as long is closed too
//!   (after the request in flight, if any: an event stream runs until it ends);
//! - a body must arrive within [`Limits::body_timeout`] (408 `body_timeout`), and one declared
//!   larger than the limit is refused before a byte of it is read (413);
//! - a handler must answer within [`Limits::request_timeout`] (503 `request_timeout`; a command
//!   still queued may yet be applied, so a retry carries the same idempotency key). Streams of
//!   events answer at once and then run on their own.

use crate::body::BODY_LIMIT_BYTES;
use crate::error::{ApiError, Code};
use axum::Router;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The bounds on connections and requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to receive a request's headers.
    pub header_timeout: Duration,
    /// Time to receive a request's body.
    pub body_timeout: Duration,
    /// Time for a handler to answer.
    pub request_timeout: Duration,
    /// Time to let requests in flight finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// connections' requests in flight finish (for at most the grace period).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, for one: wait a moment rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(
                limit = limits.max_connections,
                "connection refused: too many open"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let (builder, stop) = (builder.clone(), stop.clone());
        tokio::spawn(async move {
            serve_connection(&builder, stream, service, limits.header_timeout, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Every connection gives its permit back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the shutdown grace period");
    }
    Ok(())
}

/// Serves one connection until it ends, closing it gracefully (after the request in flight, if
/// any) once it has been idle for `idle` or the server stops.
async fn serve_connection(
    builder: &hyper::server::conn::http1::Builder,
    stream: tokio::net::TcpStream,
    service: TowerToHyperService<Router>,
    idle: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let started = tokio::time::Instant::now();
    let activity = Arc::new(AtomicU64::new(0));
    let io = Watched {
        io: TokioIo::new(stream),
        started,
        activity: activity.clone(),
    };
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut closing = *stop.borrow();
    if closing {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        let last = started + Duration::from_millis(activity.load(Ordering::Relaxed));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            _ = stop.changed(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep_until(last + idle), if !closing => {
                let now_idle = started.elapsed().as_millis()
                    >= u128::from(activity.load(Ordering::Relaxed)) + idle.as_millis();
                if now_idle {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// A connection's socket that notes when bytes last moved either way.
struct Watched {
    io: TokioIo<tokio::net::TcpStream>,
    started: tokio::time::Instant,
    /// Milliseconds from `started` to the last read or write.
    activity: Arc<AtomicU64>,
}

impl Watched {
    fn touch(&self) {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.store(elapsed, Ordering::Relaxed);
    }
}

impl hyper::rt::Read for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_read(context, buffer);
        if polled.is_ready() {
            self.touch();
        }
        polled
    }
}

impl hyper::rt::Write for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(context, buffer);
        if polled.is_ready() {
            self.touch();
        }
        polled
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(context)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(context)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(context, buffers);
        if polled.is_ready() {
            self.touch();
        }
        polled
    }
}

/// Reads a request's body within the body timeout and the size limit, then runs the handler
/// within the request timeout.
pub async fn bound(limits: Limits, request: Request, next: Next) -> Response {
    let request = match read_body(limits, request).await {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            Code::RequestTimeout,
            format!(
                "no answer within {} s; retry (a command with the same idempotency key)",
                limits.request_timeout.as_secs()
            ),
            json!({ "timeout_seconds": limits.request_timeout.as_secs() }),
        )
        .retry_after(1)
        .into_response(),
    }
}

async fn read_body(limits: Limits, request: Request) -> Result<Request, ApiError> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(request);
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT_BYTES as u64) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, BODY_LIMIT_BYTES);
    match tokio::time::timeout(limits.body_timeout, read).await {
        Err(_) => Err(ApiError::new(
            Code::BodyTimeout,
            format!(
                "the body did not arrive within {} s",
                limits.body_timeout.as_secs()
            ),
            json!({ "timeout_seconds": limits.body_timeout.as_secs() }),
        )),
        Ok(Err(error)) if is_length_limit(&error) => Err(too_large()),
        Ok(Err(error)) => Err(ApiError::new(
            Code::InvalidBody,
            format!("the body could not be read: {error}"),
            json!({ "field": "", "reason": error.to_string() }),
        )),
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, axum::body::Body::from(bytes))),
    }
}

/// Whether reading stopped at the size limit (the error's chain names the limit).
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = source {
        if current.to_string().contains("length limit") {
            return true;
        }
        source = current.source();
    }
    false
}

fn too_large() -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("the body is larger than {BODY_LIMIT_BYTES} bytes"),
        json!({ "limit_bytes": BODY_LIMIT_BYTES }),
    )
}
