//! Fresh, empty logs on a test database, for the tests of every crate that runs on PostgreSQL.
//!
//! The database is named by `FLOWLINE_TEST_DATABASE_URL` (`.ci/run` starts PostgreSQL and
//! creates one database per run). Each log is a schema of its own, so tests run in parallel
//! without seeing each other. Without the variable a test that needs PostgreSQL says so on
//! standard error and skips, unless `FLOWLINE_REQUIRE_POSTGRES=1` is set (as CI sets it), in
//! which case it fails: a suite that skips its PostgreSQL half must not pass unnoticed.
//!
//! The schemas are left behind for inspection; dropping the test database removes them (CI
//! makes a database per run and drops it at the end).

use crate::PostgresBackend;
use flowline_store::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the test database.
pub const URL_VARIABLE: &str = "FLOWLINE_TEST_DATABASE_URL";

/// The variable that turns a skip into a failure.
pub const REQUIRE_VARIABLE: &str = "FLOWLINE_REQUIRE_POSTGRES";

/// The test database's URL, or `None` (with a message) when tests on PostgreSQL are skipped.
///
/// # Panics
///
/// When the URL is absent and `FLOWLINE_REQUIRE_POSTGRES=1`.
pub fn url(test: &str) -> Option<String> {
    required(URL_VARIABLE, test, "to run it on PostgreSQL")
}

/// The variable's value, or `None` (saying on standard error what it would take) when it is
/// not set, unless `FLOWLINE_REQUIRE_POSTGRES=1`.
fn required(variable: &str, test: &str, purpose: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            let required = std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| value == "1");
            assert!(
                !required,
                "{test}: {variable} is not set but {REQUIRE_VARIABLE}=1"
            );
            eprintln!("skipped {test}: set {variable}=postgres://… {purpose} (.ci/run does)");
            None
        }
    }
}

/// A schema name no other log of this database has: the hint (letters, digits, underscores),
/// the process, a counter and the time.
pub fn unique_schema(hint: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let hint: String = hint
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .take(30)
        .collect();
    format!("t_{hint}_{}_{count}_{nanos}", std::process::id())
}

/// A fresh, empty log on the test database, or `None` when tests on PostgreSQL are skipped.
pub fn fresh(test: &str) -> Option<Result<PostgresBackend, StoreError>> {
    let url = url(test)?;
    Some(PostgresBackend::in_schema(&url, &unique_schema(test)))
}

/// The variable naming a streaming replica of the test database (same database name, served
/// by a hot standby; `.ci/run` starts one with `pg_basebackup`).
pub const REPLICA_VARIABLE: &str = "FLOWLINE_TEST_REPLICA_URL";

/// The replica's URL, or `None` (with a message) when tests on a replica are skipped; like
/// [`url`], a skip fails under `FLOWLINE_REQUIRE_POSTGRES=1`.
///
/// # Panics
///
/// When the URL is absent and `FLOWLINE_REQUIRE_POSTGRES=1`.
pub fn replica_url(test: &str) -> Option<String> {
    required(
        REPLICA_VARIABLE,
        test,
        "(a streaming replica of the test database) to run it",
    )
}

/// The variable naming a database on a second PostgreSQL cluster, for tenants spread over
/// two (`.ci/run` starts one beside the first, on the next port but one).
pub const SECOND_VARIABLE: &str = "FLOWLINE_TEST_SECOND_DATABASE_URL";

/// The second cluster's database URL, or `None` (with a message) when tests on two clusters
/// are skipped; like [`url`], a skip fails under `FLOWLINE_REQUIRE_POSTGRES=1`.
///
/// # Panics
///
/// When the URL is absent and `FLOWLINE_REQUIRE_POSTGRES=1`.
pub fn second_url(test: &str) -> Option<String> {
    required(
        SECOND_VARIABLE,
        test,
        "(a database on a second cluster) to run it",
    )
}

/// `url` with its connections' search path set to `schema`, as a URL a command line takes.
pub fn in_schema_url(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}
