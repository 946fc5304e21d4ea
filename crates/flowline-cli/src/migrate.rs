//! `flowline migrate`: copy a SQLite log to PostgreSQL and prove the copy equal.
//!
//! What is copied: the registered tenants and their API keys (hashes, roles, limits, revocations),
//! every event of every tenant in order (the database numbers them again: the same `seq` and
//! stream versions, new positions; the same checksums, since they cover only the event), the
//! idempotency records (so a retry of a request answered before the move is answered the same
//! after it), and the balances. Snapshots are not: the first start on the new log rebuilds them.
//!
//! Then the copy is verified before it is reported: for every tenant the SHA-256 of the whole
//! log (as `flowline demo` prints it), the event count and the number of idempotency records
//! equal the source's, and `flowline check` of the copy is clean.

use crate::backend;
use anyhow::{Context, bail};
use flowline_core::id::TenantId;
use flowline_store::{AppendRequest, CommandRecord, NewEvent, Store};
use jiff::Timestamp;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Events per append when copying; each append is one transaction.
const EVENTS_PER_APPEND: usize = 10_000;

/// Idempotency records per append.
const KEYS_PER_APPEND: usize = 1_000;

/// `flowline migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The SQLite log to copy (read only; never changed).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// The PostgreSQL database to copy it to: `postgres://user:password@host:port/database`.
    /// Its schema is created or migrated first; it must not hold any of the log's tenants yet.
    #[arg(long, value_name = "URL")]
    to: String,
}

/// What one tenant's copy read and wrote.
struct Copied {
    events: u64,
    keys: usize,
    balances: usize,
    hash: String,
}

/// Runs `flowline migrate`.
pub fn run(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let source = backend::sqlite_reader(&args.from)
        .with_context(|| format!("cannot open {}", args.from.display()))?;
    let target_name = backend::redact(&args.to);
    let mut target =
        backend::postgres_writer(&args.to).with_context(|| format!("cannot open {target_name}"))?;

    let tenants = source.tenants()?;
    for tenant in &tenants {
        if target.tenant_head(tenant)? > 0 {
            bail!(
                "{target_name} already holds tenant `{tenant}`'s log; copy into a database that does not"
            );
        }
    }
    let registered = source.registered_tenants()?;
    let mut api_keys = 0;
    for record in &registered {
        if target.registered_tenant(&record.tenant)?.is_none() {
            target.register_tenant(record)?;
        }
        for key in source.keys(&record.tenant)? {
            if target.find_key(&key.key_id)?.is_none() {
                target.insert_key(&key)?;
                api_keys += 1;
            }
        }
    }

    let mut total_events = 0;
    for tenant in &tenants {
        let copied = copy_tenant(source.as_ref(), target.as_mut(), tenant)?;
        verify_copy(source.as_ref(), target.as_ref(), tenant)
            .with_context(|| format!("the copy of {} is not equal", args.from.display()))?;
        outln!(
            "tenant {tenant}: {} events, {} idempotency records, {} balances; log SHA-256 {} on both",
            copied.events,
            copied.keys,
            copied.balances,
            copied.hash
        );
        total_events += copied.events;
    }

    let report = flowline_engine::check::check(target.as_ref())
        .with_context(|| format!("cannot check {target_name}"))?;
    if !report.is_clean() {
        for finding in &report.findings {
            outln!("{finding}");
        }
        bail!("the copy in {target_name} does not pass `flowline check`");
    }
    let seconds = started.elapsed().as_secs_f64();
    outln!(
        "Copied {} to {target_name} in {seconds:.1} s: {} tenant(s), {} registered with {api_keys} API key(s), \
         {total_events} events ({:.0} events/s); `flowline check` of the copy: {} events, {} balances, ok.",
        args.from.display(),
        tenants.len(),
        registered.len(),
        total_events as f64 / seconds.max(1e-9),
        report.events,
        report.balances
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies one tenant's events, idempotency records and balances; returns what was read and
/// the source's log hash.
fn copy_tenant(
    source: &dyn Store,
    target: &mut dyn Store,
    tenant: &TenantId,
) -> anyhow::Result<Copied> {
    let head = copy_events(source, target, tenant, 0)?;
    let (keys, balances) = copy_keys_and_balances(source, target, tenant, head)?;
    let (hash, events) = flowline_sim::log_hash(source, tenant)?;
    Ok(Copied {
        events,
        keys,
        balances,
        hash,
    })
}

/// Copies the tenant's events after `after` (a `seq`) from `source` to `target`, whose head
/// must be `after`, numbered the same; returns the new head.
pub fn copy_events(
    source: &dyn Store,
    target: &mut dyn Store,
    tenant: &TenantId,
    after: u64,
) -> anyhow::Result<u64> {
    let mut head = after;
    loop {
        let page = source.read_tenant(tenant, head, EVENTS_PER_APPEND)?;
        if page.is_empty() {
            return Ok(head);
        }
        // One append per run of events recorded at the same instant, so each keeps its
        // recording time.
        let mut start = 0;
        while start < page.len() {
            let recorded_at = page[start].recorded_at;
            let end = page[start..]
                .iter()
                .position(|event| event.recorded_at != recorded_at)
                .map_or(page.len(), |offset| start + offset);
            let events = page[start..end]
                .iter()
                .map(|event| NewEvent {
                    stream: event.stream.clone(),
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    business_time: event.business_time,
                    payload: event.payload.clone(),
                })
                .collect();
            let outcome = target.append(&AppendRequest {
                tenant: tenant.clone(),
                expected_seq: head,
                recorded_at,
                commands: vec![CommandRecord {
                    events,
                    expected: Vec::new(),
                    idempotency: None,
                }],
                balances: Vec::new(),
            })?;
            let last = &page[end - 1];
            if outcome.last_seq != last.seq {
                bail!(
                    "tenant `{tenant}`: the copy numbered event {} as {}",
                    last.seq,
                    outcome.last_seq
                );
            }
            head = last.seq;
            start = end;
        }
    }
}

/// Copies the tenant's idempotency records (those after the last one `target` has, so that a
/// copy that stopped half way goes on) and its balances; `head` is both logs' head. Returns
/// how many records it copied and how many balances.
pub fn copy_keys_and_balances(
    source: &dyn Store,
    target: &mut dyn Store,
    tenant: &TenantId,
    head: u64,
) -> anyhow::Result<(usize, usize)> {
    let mut after = last_key(target, tenant)?;
    let mut keys = 0;
    let now = Timestamp::now();
    loop {
        let records = source.idempotency_records(tenant, after.as_deref(), KEYS_PER_APPEND)?;
        let Some(last) = records.last() else { break };
        after = Some(last.key.clone());
        keys += records.len();
        target.append(&AppendRequest {
            tenant: tenant.clone(),
            expected_seq: head,
            recorded_at: now,
            commands: records
                .into_iter()
                .map(|record| CommandRecord {
                    events: Vec::new(),
                    expected: Vec::new(),
                    idempotency: Some(record),
                })
                .collect(),
            balances: Vec::new(),
        })?;
    }

    let balances = source.balances(tenant)?;
    let balance_count = balances.len();
    if !balances.is_empty() {
        target.append(&AppendRequest {
            tenant: tenant.clone(),
            expected_seq: head,
            recorded_at: now,
            commands: Vec::new(),
            balances,
        })?;
    }
    Ok((keys, balance_count))
}

/// Checks that `target` holds the tenant's log as `source` does: the same SHA-256 of the
/// whole log, the same number of events, idempotency records and balances. Returns the hash
/// and the counts.
pub fn verify_copy(
    source: &dyn Store,
    target: &dyn Store,
    tenant: &TenantId,
) -> anyhow::Result<(String, u64, usize)> {
    let (hash, events) = flowline_sim::log_hash(source, tenant)?;
    let (target_hash, target_events) = flowline_sim::log_hash(target, tenant)?;
    if target_hash != hash || target_events != events {
        bail!(
            "tenant `{tenant}`: the copy differs: {target_events} events hashing to \
             {target_hash}, where the source has {events} hashing to {hash}"
        );
    }
    let keys = count_keys(source, tenant)?;
    let target_keys = count_keys(target, tenant)?;
    if target_keys != keys {
        bail!("tenant `{tenant}`: {target_keys} idempotency records copied of {keys}");
    }
    if target.balances(tenant)? != source.balances(tenant)? {
        bail!("tenant `{tenant}`: the copy's balances differ from the source's");
    }
    Ok((hash, events, keys))
}

/// The tenant's last idempotency key in `store`, in key order.
fn last_key(store: &dyn Store, tenant: &TenantId) -> anyhow::Result<Option<String>> {
    let mut after: Option<String> = None;
    loop {
        let records = store.idempotency_records(tenant, after.as_deref(), KEYS_PER_APPEND)?;
        let Some(last) = records.last() else {
            return Ok(after);
        };
        after = Some(last.key.clone());
    }
}

fn count_keys(store: &dyn Store, tenant: &TenantId) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut after: Option<String> = None;
    loop {
        let records = store.idempotency_records(tenant, after.as_deref(), KEYS_PER_APPEND)?;
        let Some(last) = records.last() else {
            return Ok(count);
        };
        after = Some(last.key.clone());
        count += records.len();
    }
}
