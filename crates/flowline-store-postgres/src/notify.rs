//! Commit notices across processes: after every append commits, [`send`] notifies the
//! store's channel with the tenant and its new head; [`watch`] listens on a connection of its
//! own and hands each notice to the caller.
//!
//! The notice is sent in a transaction of its own, after the append's, with
//! `synchronous_commit` off. A `NOTIFY` inside the append's transaction would hold
//! PostgreSQL's lock on the notification queue from the commit until its flush to disk,
//! serializing every notifying commit of the database; four tenants appending at once measured
//! about a tenth slower that way (`flowline bench backends`, docs/benchmarks.md). Sent after,
//! the notice costs one round trip and holds that lock for no flush.
//!
//! A notice may be lost while the listening connection is down, so a reader that must see
//! every commit still reads the log now and then; the watch reconnects by itself, waiting a
//! second between attempts.

use crate::PostgresBackend;
use flowline_core::id::TenantId;
use flowline_store::{CommitWatch, OnCommit, StoreError};
use postgres::Client;
use postgres::fallible_iterator::FallibleIterator as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long the listening thread waits for a notice before it looks whether it should stop.
const WAKE: Duration = Duration::from_millis(250);

/// How long it waits before connecting again after the connection failed.
const RECONNECT: Duration = Duration::from_secs(1);

/// The channel of the store's notices: one per store, so that logs in several schemas of
/// one database do not hear each other.
pub(crate) fn channel(client: &mut Client) -> Result<String, postgres::Error> {
    let tag: i32 = client.query_one("SELECT lock_tag FROM store", &[])?.get(0);
    Ok(format!("flowline_commits_{tag}"))
}

/// Notifies the store's channel that `tenant` reached `head`, in one round trip. A tenant id
/// holds only letters, digits and `. _ - :`, so it is written into the statement as it is.
pub(crate) fn send(
    client: &mut crate::connection::Connection,
    tenant: &TenantId,
    head: u64,
) -> Result<(), postgres::Error> {
    client.client.batch_execute(&format!(
        "BEGIN; SET LOCAL synchronous_commit TO off; \
         SELECT pg_notify('flowline_commits_' || (SELECT lock_tag FROM store), '{tenant} {head}'); \
         COMMIT"
    ))
}

/// A notice's payload, `tenant head`, read back; `None` for anything else.
pub(crate) fn parse(payload: &str) -> Option<(TenantId, u64)> {
    let (tenant, head) = payload.rsplit_once(' ')?;
    Some((TenantId::parse(tenant).ok()?, head.parse().ok()?))
}

/// Starts listening: the first connection is made before this returns, so a database that
/// cannot be reached fails here; later failures are retried on the thread.
pub(crate) fn watch(
    backend: &PostgresBackend,
    committed: OnCommit,
) -> Result<CommitWatch, StoreError> {
    let (client, channel) = listen(backend)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let backend = backend.clone();
    let thread = std::thread::Builder::new()
        .name("flowline-listen".to_string())
        .spawn(move || run(&backend, client, &channel, &committed, &stopped))
        .map_err(StoreError::from)?;
    Ok(CommitWatch::new(move || {
        stop.store(true, Ordering::Relaxed);
        let _ = thread.join();
    }))
}

/// A connection listening on the store's channel, off any async runtime.
fn listen(backend: &PostgresBackend) -> Result<(Client, String), StoreError> {
    crate::off_runtime(|| {
        let mut client = backend.connect_client()?;
        let channel = channel(&mut client).map_err(crate::db_error)?;
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .map_err(crate::db_error)?;
        Ok((client, channel))
    })
}

fn run(
    backend: &PostgresBackend,
    mut client: Client,
    channel: &str,
    committed: &OnCommit,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        match deliver(&mut client, channel, committed, stop) {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "the commit notices' connection failed; reconnecting");
            }
        }
        // Down: try again every second until it is back or the watch is dropped.
        client = loop {
            std::thread::sleep(RECONNECT);
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match listen(backend) {
                Ok((client, _)) => break client,
                Err(error) => tracing::debug!(%error, "commit notices: still cannot connect"),
            }
        };
    }
}

/// Hands every notice on until `stop` is set (`Ok`) or the connection fails (`Err`, saying
/// why).
fn deliver(
    client: &mut Client,
    channel: &str,
    committed: &OnCommit,
    stop: &AtomicBool,
) -> Result<(), String> {
    while !stop.load(Ordering::Relaxed) {
        {
            let mut notices = client.notifications();
            let mut waiting = notices.timeout_iter(WAKE);
            while let Some(notice) = waiting.next().map_err(|error| error.to_string())? {
                if notice.channel() != channel {
                    continue;
                }
                if let Some((tenant, head)) = parse(notice.payload()) {
                    committed(&tenant, head);
                }
            }
        }
        if client.is_closed() {
            return Err("the connection closed".to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_tenant_and_head() {
        assert_eq!(
            parse("acme 42"),
            Some((TenantId::parse("acme").unwrap(), 42))
        );
        assert_eq!(parse("acme"), None);
        assert_eq!(parse("acme -1"), None);
        assert_eq!(parse("Not A Tenant! 3"), None);
    }
}
