//! The binary on PostgreSQL: `flowline migrate` copies a SQLite log and the copy reads back the
//! same, and `--database-url` stands in for `--db`. Skipped, with a message, without
//! `FLOWLINE_TEST_DATABASE_URL` (see `flowline_store_postgres::testing`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::id::TenantId;
use flowline_engine::workload;
use flowline_engine::{Engine, EngineOptions, Outcome, Submission};
use flowline_store::{Backend, IdempotencyLookup, KeyRecord, StoredEvent, TenantRecord};
use flowline_store_postgres::{PostgresBackend, testing};
use flowline_store_sqlite::{OpenOptions, SqliteBackend};
use std::process::{Command, Output};

fn flowline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(args)
        .env_remove("FLOWLINE_DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The URL of a fresh schema of the test database, its tables made; `None` when skipped.
fn fresh_url(test: &str) -> Option<(String, PostgresBackend)> {
    let url = testing::url(test)?;
    let schema = testing::unique_schema(test);
    let backend = PostgresBackend::in_schema(&url, &schema).unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    Some((
        format!("{url}{separator}options=-c%20search_path%3D{schema}"),
        backend,
    ))
}

/// The events with their positions blanked: a copy numbers positions anew and keeps the rest.
fn identity(events: &[StoredEvent]) -> Vec<StoredEvent> {
    events
        .iter()
        .map(|event| StoredEvent {
            position: 0,
            ..event.clone()
        })
        .collect()
}

#[test]
fn migrate_copies_a_sqlite_log_to_postgres_and_the_copy_reads_back_the_same() {
    let Some((url, target)) = fresh_url("migrate") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("source.db");
    let source = SqliteBackend::shared(&path, OpenOptions::durable()).unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    {
        let engine = Engine::open(source.clone(), EngineOptions::default()).unwrap();
        // Set-up of 2 items with 10 units each at 3 centers; every command keyed, so the copy
        // has idempotency records to carry: k-0, k-1, ….
        for (n, command) in workload::setup(2, 10).into_iter().enumerate() {
            let answer = engine
                .submit(&tenant, Submission::new(command).key(format!("k-{n}")))
                .unwrap();
            assert!(matches!(answer.outcome, Outcome::Applied { .. }));
        }
    }
    let mut store = source.open().unwrap();
    store
        .register_tenant(&TenantRecord {
            tenant: tenant.clone(),
            name: "Acme".into(),
            created_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
        })
        .unwrap();
    let key = KeyRecord {
        tenant: tenant.clone(),
        key_id: "00000000000000a1".into(),
        role: "operator".into(),
        label: "shop".into(),
        secret_hash: "ab".repeat(32),
        created_at: jiff::Timestamp::from_second(1_700_000_001).unwrap(),
        revoked_at: None,
        requests_per_second: Some(7),
    };
    store.insert_key(&key).unwrap();

    let output = flowline(&["migrate", "--from", path.to_str().unwrap(), "--to", &url]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let said = text(&output.stdout);
    assert!(said.contains("tenant acme: "), "{said}");
    assert!(
        !said.contains("flowline:flowline@"),
        "the password is shown: {said}"
    );

    // Read back independently of the command's own verification.
    let copy = target.open_reader().unwrap();
    let from = store.read_tenant(&tenant, 0, 100_000).unwrap();
    let to = copy.read_tenant(&tenant, 0, 100_000).unwrap();
    assert!(!from.is_empty());
    assert_eq!(identity(&to), identity(&from));
    assert_eq!(
        copy.balances(&tenant).unwrap(),
        store.balances(&tenant).unwrap()
    );
    assert_eq!(copy.find_key(&key.key_id).unwrap(), Some(key));
    let records = store.idempotency_records(&tenant, None, 1_000).unwrap();
    assert_eq!(records.len(), workload::setup(2, 10).len());
    for record in &records {
        assert_eq!(
            copy.idempotency(&tenant, &record.key, &record.request_hash)
                .unwrap(),
            IdempotencyLookup::Same {
                response: record.response.clone()
            },
            "key {}",
            record.key
        );
    }

    // A second copy into the same database is refused and writes nothing.
    let head = copy.tenant_head(&tenant).unwrap();
    let again = flowline(&["migrate", "--from", path.to_str().unwrap(), "--to", &url]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already holds tenant `acme`'s log"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(copy.tenant_head(&tenant).unwrap(), head);

    // And the copy is the log `--database-url` serves: `flowline check` passes on it.
    // Balances: 2 items × (3 centers + supplier) = 8.
    let check = flowline(&["--database-url", &url, "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("checked 1 tenant(s)")
            && text(&check.stdout).contains(", 8 balance(s): ok"),
        "{}",
        text(&check.stdout)
    );
}

#[test]
fn a_database_url_that_cannot_be_reached_fails_naming_it_without_the_password() {
    let output = flowline(&[
        "--database-url",
        "postgres://flowline:secret@127.0.0.1:9/nowhere?connect_timeout=2",
        "check",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let said = text(&output.stderr);
    assert!(
        said.contains("cannot open postgres://flowline:***@127.0.0.1:9/nowhere"),
        "{said}"
    );
    assert!(said.contains("unavailable"), "{said}");
    assert!(!said.contains("secret"), "{said}");
}
