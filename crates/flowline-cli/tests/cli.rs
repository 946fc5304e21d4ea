//! The `flowline` binary: `check` exit codes and reports.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::id::TenantId;
use flowline_engine::workload;
use flowline_engine::{Engine, EngineOptions, Outcome, Submission};
use std::path::Path;
use std::process::{Command, Output};

fn flowline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A log with one tenant: 3 centers, 2 items, 10 units of each received at each center
/// (2 items × 3 centers × 10 units = 60 units), so balances exist at 3 centers and `supplier`.
fn small_log(path: &Path) {
    let engine = Engine::open(path, EngineOptions::durable()).unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    for command in workload::setup(2, 10) {
        let answer = engine.submit(&tenant, Submission::new(command)).unwrap();
        assert!(matches!(answer.outcome, Outcome::Applied { .. }));
    }
}

#[test]
fn check_passes_a_clean_log_and_says_what_it_checked() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("clean.db");
    small_log(&path);
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // Balances: 2 items × (3 centers + supplier) = 8.
    assert!(
        stdout(&output).ends_with("balance(s): ok\n"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("checked 1 tenant(s)")
            && stdout(&output).contains(", 8 balance(s)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_names_tenant_item_location_expected_and_actual_for_a_tampered_balance() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("tampered.db");
    small_log(&path);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute(
            "UPDATE balances SET reserved = 4 WHERE item = 'SKU-00001' AND location = 'FC-WEST'",
            [],
        )
        .unwrap();
    drop(connection);
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    // SKU-00001 was bought at 6.00 (500 + 1 × 100 minor units): 10 units are worth 60.00.
    assert!(
        stdout(&output).starts_with(
            "tenant acme, item SKU-00001, location FC-WEST: expected on hand 10 reserved 0 value 6000, actual on hand 10 reserved 4 value 6000\n"
        ),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).ends_with(": 1 difference(s)\n"));
}

#[test]
fn check_reports_an_event_whose_bytes_changed_on_disk() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("flipped.db");
    small_log(&path);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute("UPDATE events SET payload = replace(payload, 'Item 1', 'Item 7') WHERE event_type = 'ItemDefined'", []).unwrap();
    drop(connection);
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("tenant acme, position"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("unreadable"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_of_a_missing_file_fails_naming_it_and_creates_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("absent.db");
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("absent.db"));
    assert!(!path.exists());
}

#[test]
fn help_lists_the_commands() {
    let output = flowline(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    for command in ["check", "bench"] {
        assert!(stdout(&output).contains(command), "{}", stdout(&output));
    }
}
