//! The conformance suite on PostgreSQL, one test per check, each on a fresh schema; and what a
//! shared database adds: damage found by the checksum, a database written by a newer build
//! refused, a follower that sees every event once while eight writers append, and writer
//! leases with their fencing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail by panicking.

use flowline_core::id::TenantId;
use flowline_store::{
    AppendRequest, Backend, CommandRecord, LeaseClaim, LeaseState, NewEvent, StoreError,
    conformance,
};
use flowline_store_postgres::{PostgresBackend, testing};
use jiff::Timestamp;

/// One test per conformance check, so each property reports on its own.
macro_rules! conformance_tests {
    ($($check:ident,)*) => {
        $(
            #[test]
            fn $check() {
                let Some(backend) = testing::fresh(stringify!($check)) else { return };
                let mut store = backend.unwrap().open().unwrap();
                if let Err(failure) = conformance::$check(store.as_mut()) {
                    panic!("{failure}");
                }
            }
        )*

        #[test]
        fn every_conformance_check_has_a_postgres_test() {
            let ours: Vec<&str> = vec![$(stringify!($check)),*];
            let all: Vec<&str> = conformance::ALL.iter().map(|(name, _)| *name).collect();
            assert_eq!(ours, all);
        }
    };
}

conformance_tests!(
    an_empty_store_has_nothing,
    appended_events_get_contiguous_numbers_and_read_back_unchanged,
    a_batch_whose_third_command_conflicts_appends_nothing,
    a_stale_expected_seq_is_a_seq_conflict,
    expected_version_any_accepts_every_stream_state,
    expected_version_no_stream_rejects_an_existing_stream,
    expected_version_exact_requires_the_current_version,
    expectations_see_earlier_commands_of_the_same_request,
    a_retried_key_with_the_same_hash_returns_the_original_response,
    a_reused_key_with_a_different_hash_is_rejected,
    a_key_repeated_within_one_request_rejects_the_request,
    idempotency_keys_are_scoped_per_tenant,
    a_rejected_command_without_events_is_remembered,
    idempotency_records_page_in_key_order,
    read_tenant_pages_return_every_event_once_in_order,
    read_all_pages_return_every_event_once_in_position_order,
    read_stream_returns_the_stream_in_version_order,
    balance_upserts_replace_rows,
    a_request_without_commands_is_a_no_op,
    tenants_and_keys_register_once_and_stay_with_their_tenant,
    keys_are_revoked_and_rated_only_by_their_tenant,
    sessions_live_until_they_expire_or_close,
    streams_of_a_kind_page_in_name_order_with_their_times,
    the_latest_business_time_is_the_last_events,
    snapshots_read_back_as_saved_and_the_latest_replaces_the_one_before,
);

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn event(stream: &str, payload: &str) -> NewEvent {
    NewEvent {
        stream: stream.into(),
        event_type: "Counted".into(),
        schema_version: 1,
        business_time: Timestamp::from_second(1_700_000_000).unwrap(),
        payload: payload.into(),
    }
}

fn single(tenant: &TenantId, expected_seq: u64, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        tenant: tenant.clone(),
        expected_seq,
        recorded_at: Timestamp::from_second(1_700_000_100).unwrap(),
        commands: vec![CommandRecord {
            events,
            expected: Vec::new(),
            idempotency: None,
        }],
        balances: Vec::new(),
    }
}

/// The schema a backend's tables are in, for changing them behind its back.
fn raw(schema: &str) -> postgres::Client {
    let url = testing::url("raw").unwrap();
    let mut config: postgres::Config = url.parse().unwrap();
    config.options(&format!("-c search_path={schema}"));
    config.connect(postgres::NoTls).unwrap()
}

#[test]
fn a_payload_changed_in_the_database_is_reported_as_corrupt_at_its_position() {
    let Some(url) = testing::url("corrupt") else {
        return;
    };
    let schema = testing::unique_schema("corrupt");
    let backend = PostgresBackend::in_schema(&url, &schema).unwrap();
    let mut store = backend.open().unwrap();
    let acme = tenant("acme");
    for (n, payload) in ["{\"qty\":1}", "{\"qty\":5}", "{\"qty\":3}"]
        .into_iter()
        .enumerate()
    {
        store
            .append(&single(&acme, n as u64, vec![event("s", payload)]))
            .unwrap();
    }
    // The second event is at position 2: its 5 becomes 7 behind the store's back.
    let changed = raw(&schema)
        .execute(
            "UPDATE events SET payload = replace(payload, '5', '7') WHERE position = 2",
            &[],
        )
        .unwrap();
    assert_eq!(changed, 1);
    for result in [
        store.read_tenant(&acme, 0, 10),
        store.read_all(0, 10),
        store.read_stream(&acme, "s"),
    ] {
        match result {
            Err(StoreError::Corrupt { position, reason }) => {
                assert_eq!(position, 2);
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("expected corruption at position 2, got {other:?}"),
        }
    }
    // The events before it still read.
    assert_eq!(store.read_tenant(&acme, 0, 1).unwrap().len(), 1);
}

#[test]
fn a_database_a_newer_build_migrated_is_refused_naming_both_versions() {
    let Some(url) = testing::url("newer") else {
        return;
    };
    let schema = testing::unique_schema("newer");
    PostgresBackend::in_schema(&url, &schema).unwrap();
    raw(&schema)
        .execute(
            "INSERT INTO flowline_schema_history (version, name, applied_on, checksum) \
             VALUES (99, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
            &[],
        )
        .unwrap();
    match PostgresBackend::in_schema(&url, &schema) {
        Err(error @ StoreError::UnsupportedSchema { found: 99, .. }) => {
            let message = error.to_string();
            assert!(message.contains("has schema version 99"), "{message}");
            assert!(message.contains("newer version of Flowline"), "{message}");
        }
        other => panic!("expected the newer schema refused, got {other:?}"),
    }
}

#[test]
fn a_server_that_is_not_there_is_unavailable_not_a_hang_or_a_panic() {
    // Port 9 (discard) on loopback: nothing listens there on these machines.
    let started = std::time::Instant::now();
    match PostgresBackend::connect("postgres://flowline@127.0.0.1:9/flowline?connect_timeout=2") {
        Err(StoreError::Unavailable { reason }) => assert!(!reason.is_empty()),
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_url_that_is_not_one_is_refused_naming_the_problem() {
    match PostgresBackend::connect("postgres://flowline@127.0.0.1:notaport/x") {
        Err(StoreError::InvalidAddress { reason }) => {
            assert!(reason.starts_with("database URL"), "{reason}")
        }
        other => panic!("expected an invalid URL, got {other:?}"),
    }
    assert!(PostgresBackend::in_schema("postgres://x@127.0.0.1/x", "Robert'); DROP").is_err());
}

/// Eight writers append to their tenants (and two of them race for one tenant) while a follower
/// pages through `read_all`: the follower sees every event exactly once, positions strictly
/// increasing, each tenant's seqs 1, 2, 3, … in order. Without the in-flight marks (planted:
/// `readable_position` returning the sequence's value) the follower skips events that commit
/// after a later position is read, and this fails within a second.
///
/// Runs for `FLOWLINE_FOLLOWER_SECONDS` (default 3; 60 for the soak).
#[test]
fn a_follower_sees_every_event_once_in_order_while_eight_writers_append() {
    let Some(url) = testing::url("follower") else {
        return;
    };
    let schema = testing::unique_schema("follower");
    let backend = PostgresBackend::in_schema(&url, &schema).unwrap();
    let seconds: u64 = std::env::var("FLOWLINE_FOLLOWER_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let backend = backend.clone();
            // Writers 6 and 7 share a tenant: each retries on a seq conflict.
            let name = format!("tenant-{}", writer.min(6));
            std::thread::spawn(move || {
                let mut store = backend.open().unwrap();
                let tenant = tenant(&name);
                let mut appended = 0u64;
                while std::time::Instant::now() < deadline {
                    let head = store.tenant_head(&tenant).unwrap();
                    let size = 1 + (appended % 5) as usize;
                    let events = (0..size)
                        .map(|n| event(&format!("s{}", n % 3), &format!("{{\"w\":{writer}}}")))
                        .collect();
                    match store.append(&single(&tenant, head, events)) {
                        Ok(outcome) => appended += outcome.event_count(),
                        Err(StoreError::SeqConflict { .. }) => {}
                        Err(error) => panic!("writer {writer}: {error}"),
                    }
                }
                appended
            })
        })
        .collect();
    let follower = backend.open_reader().unwrap();
    let mut seen = Vec::new();
    let mut after = 0;
    let mut follow = |seen: &mut Vec<flowline_store::StoredEvent>| loop {
        let page = follower.read_all(after, 500).unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        seen.extend(page);
    };
    while std::time::Instant::now() < deadline {
        follow(&mut seen);
    }
    let appended: u64 = writers
        .into_iter()
        .map(|writer| writer.join().unwrap())
        .sum();
    follow(&mut seen);

    assert_eq!(seen.len() as u64, appended, "every event once");
    assert!(
        seen.windows(2)
            .all(|pair| pair[0].position < pair[1].position),
        "positions strictly increasing"
    );
    let mut next_seq = std::collections::HashMap::new();
    for event in &seen {
        let expected = next_seq.entry(event.tenant.clone()).or_insert(1u64);
        assert_eq!(event.seq, *expected, "{} seqs in order", event.tenant);
        *expected += 1;
    }
    // And it is what the store holds.
    let store = backend.open().unwrap();
    let held: u64 = (0..7)
        .map(|n| store.tenant_head(&tenant(&format!("tenant-{n}"))).unwrap())
        .sum();
    assert_eq!(held, appended);
    eprintln!("{appended} events by 8 writers in {seconds} s, all seen once, in order");
}

fn claim(holder: &str, millis: u64) -> LeaseClaim {
    LeaseClaim {
        holder: holder.into(),
        address: format!("http://{holder}.example:8080"),
        ttl: std::time::Duration::from_millis(millis),
    }
}

/// One holder at a time: a claim by another is told who holds the lease and where; after the
/// expiry the other takes it with the token one higher, and from then on the first holder's
/// appends are refused (fenced) while the new holder's go through; a release frees it at once.
#[test]
fn a_lease_has_one_holder_and_a_taken_over_holder_is_fenced() {
    let Some(backend) = testing::fresh("leases") else {
        return;
    };
    let backend = backend.unwrap();
    let mut a = backend.open().unwrap();
    let mut b = backend.open().unwrap();
    let acme = tenant("acme");

    assert_eq!(
        a.claim_lease(&acme, &claim("a", 400)).unwrap(),
        LeaseState::Held { token: 1 }
    );
    // Renewing keeps the token.
    assert_eq!(
        a.claim_lease(&acme, &claim("a", 400)).unwrap(),
        LeaseState::Held { token: 1 }
    );
    match b.claim_lease(&acme, &claim("b", 400)).unwrap() {
        LeaseState::Elsewhere {
            holder,
            address,
            expires_in,
        } => {
            assert_eq!(holder, "a");
            assert_eq!(address, "http://a.example:8080");
            assert!(
                expires_in <= std::time::Duration::from_millis(400),
                "{expires_in:?}"
            );
        }
        other => panic!("expected a's lease, got {other:?}"),
    }
    a.fence(&acme, 1);
    a.append(&single(&acme, 0, vec![event("s", "{}")])).unwrap();

    // a stops renewing; after the expiry b takes over with token 2.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        b.claim_lease(&acme, &claim("b", 60_000)).unwrap(),
        LeaseState::Held { token: 2 }
    );
    match a.append(&single(&acme, 1, vec![event("s", "{}")])) {
        Err(StoreError::Fenced {
            token: 1, holder, ..
        }) => assert_eq!(holder, "b"),
        other => panic!("expected a fenced append, got {other:?}"),
    }
    assert_eq!(b.tenant_head(&acme).unwrap(), 1, "nothing of a's appended");
    b.fence(&acme, 2);
    b.append(&single(&acme, 1, vec![event("s", "{}")])).unwrap();

    // A release frees the lease before its expiry.
    b.release_lease(&acme, "b").unwrap();
    assert_eq!(
        a.claim_lease(&acme, &claim("a", 400)).unwrap(),
        LeaseState::Held { token: 3 }
    );
    // Another tenant's lease is its own.
    assert_eq!(
        b.claim_lease(&tenant("globex"), &claim("b", 400)).unwrap(),
        LeaseState::Held { token: 1 }
    );
}

/// Commit notices: a watch hears every committed append of any handle, with its tenant and
/// new head, and nothing of an append that was refused; a log in another schema of the same
/// database is not heard; when the listening connection is cut, the watch connects again by
/// itself and hears the commits after.
#[test]
fn commit_notices_reach_a_watch_and_survive_a_cut_connection() {
    let Some(backend) = testing::fresh("commit_notices") else {
        return;
    };
    let backend = backend.unwrap();
    let Some(other) = testing::fresh("commit_notices_other") else {
        return;
    };
    let other = other.unwrap();
    let (heard, hear) = std::sync::mpsc::channel::<(String, u64)>();
    let watch = backend
        .watch_commits(std::sync::Arc::new(move |tenant: &TenantId, head| {
            let _ = heard.send((tenant.to_string(), head));
        }))
        .unwrap()
        .expect("PostgreSQL gives commit notices");
    let wait = |what: &str| {
        hear.recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no notice of {what} within 10 s"))
    };
    let acme = tenant("acme");
    let globex = tenant("globex");
    let mut writer = backend.open().unwrap();
    let mut stranger = other.open().unwrap();
    // Another schema's commit first: if it were heard, it would come before acme's.
    stranger
        .append(&single(&acme, 0, vec![event("s", "{}")]))
        .unwrap();
    writer
        .append(&single(&acme, 0, vec![event("s", "{}"), event("s", "{}")]))
        .unwrap();
    assert_eq!(wait("acme's first append"), ("acme".to_string(), 2));
    // Refused (stale expected seq): rolled back, so not heard; globex's is heard next.
    assert!(
        writer
            .append(&single(&acme, 0, vec![event("s", "{}")]))
            .is_err()
    );
    writer
        .append(&single(&globex, 0, vec![event("g", "{}")]))
        .unwrap();
    assert_eq!(wait("globex's append"), ("globex".to_string(), 1));

    // Cut the listening connection (the one whose last statement was its LISTEN).
    let mut admin = raw("public");
    let cut = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query LIKE 'LISTEN flowline_commits_%' AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert!(!cut.is_empty(), "the watch's connection is found");
    // Appends go on until one is heard after the reconnection (a second apart at first).
    let mut head = 2;
    let mut heard_again = None;
    for _ in 0..30 {
        writer
            .append(&single(&acme, head, vec![event("s", "{}")]))
            .unwrap();
        head += 1;
        if let Ok(notice) = hear.recv_timeout(std::time::Duration::from_millis(500)) {
            heard_again = Some(notice);
            break;
        }
    }
    let (tenant_heard, head_heard) = heard_again.expect("heard again after the cut");
    assert_eq!(tenant_heard, "acme");
    assert!(head_heard > 2 && head_heard <= head, "{head_heard}");
    drop(watch);
}

/// Tenants on two clusters: each tenant's events, balances and lease go to the cluster its
/// route names, the directory stays home, every tenant is listed once (a moved tenant's old
/// copy not at all), reading all tenants in position order is refused, and a writer's claim
/// reads the route afresh, so it lands on the tenant's cluster even while an older route is
/// cached.
#[test]
fn a_routed_store_keeps_each_tenant_on_its_cluster_and_the_directory_at_home() {
    use flowline_store::EventStore as _;
    use flowline_store_postgres::routed::{self, Clusters};
    let Some(home) = testing::fresh("routed_home") else {
        return;
    };
    let Some(second) = testing::second_url("routed") else {
        return;
    };
    let home = home.unwrap();
    let other =
        PostgresBackend::in_schema(&second, &testing::unique_schema("routed_other")).unwrap();
    let clusters = Clusters::new(
        home.clone(),
        std::collections::BTreeMap::from([("b".to_string(), other.clone())]),
    );
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let home_store = home.store().unwrap();
    routed::set_route(&home_store, &globex, Some("b")).unwrap();
    let mut store = clusters.open().unwrap();
    store
        .register_tenant(&flowline_store::TenantRecord {
            tenant: globex.clone(),
            name: "Globex".into(),
            created_at: Timestamp::from_second(1_700_000_000).unwrap(),
        })
        .unwrap();
    store
        .append(&single(&acme, 0, vec![event("s", "{}")]))
        .unwrap();
    store
        .append(&single(
            &globex,
            0,
            vec![event("g", "{}"), event("g", "{}")],
        ))
        .unwrap();
    // Where each landed, read on each cluster directly.
    let (at_home, at_b) = (home.open_reader().unwrap(), other.open_reader().unwrap());
    assert_eq!(at_home.tenant_head(&acme).unwrap(), 1);
    assert_eq!(at_home.tenant_head(&globex).unwrap(), 0);
    assert_eq!(at_b.tenant_head(&globex).unwrap(), 2);
    assert_eq!(at_b.tenant_head(&acme).unwrap(), 0);
    assert!(at_home.registered_tenant(&globex).unwrap().is_some());
    assert!(at_b.registered_tenant(&globex).unwrap().is_none());
    assert_eq!(store.tenants().unwrap(), vec![acme.clone(), globex.clone()]);
    assert_eq!(store.tenant_head(&globex).unwrap(), 2);
    assert!(matches!(
        store.read_all(0, 10),
        Err(StoreError::InvalidRequest { .. })
    ));
    let claim = claim("p1", 10_000);
    assert!(matches!(
        store.claim_lease(&globex, &claim).unwrap(),
        LeaseState::Held { .. }
    ));
    assert_eq!(
        at_b.lease_holder(&globex).unwrap(),
        Some(("p1".to_string(), claim.address.clone()))
    );
    assert_eq!(at_home.lease_holder(&globex).unwrap(), None);

    // acme moves to b (its copy made by hand here), while the route home is still cached.
    let mut on_b = other.store().unwrap();
    on_b.append(&single(&acme, 0, vec![event("s", "{}")]))
        .unwrap();
    routed::set_route(&home_store, &acme, Some("b")).unwrap();
    let mut home_writer = home.store().unwrap();
    home_writer.retire_lease(&acme, "moved to b").unwrap();
    assert!(matches!(
        store.claim_lease(&acme, &claim).unwrap(),
        LeaseState::Held { .. }
    ));
    assert_eq!(
        at_b.lease_holder(&acme).unwrap().map(|(holder, _)| holder),
        Some("p1".to_string())
    );
    // The old copy is not listed: acme once, from b.
    std::thread::sleep(routed::ROUTE_TTL);
    assert_eq!(store.tenants().unwrap(), vec![acme, globex]);
}
