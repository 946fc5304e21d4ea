//! `flowline demo` and `flowline simulate` as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

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

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The log hash the demo prints.
fn log_hash(output: &Output) -> String {
    let text = stdout(output);
    let line = text
        .lines()
        .find(|line| line.starts_with("Log: "))
        .unwrap_or_else(|| panic!("no Log: line in\n{text}"));
    line.rsplit(' ').next().unwrap().to_string()
}

#[test]
fn the_demo_writes_a_clean_log_prints_the_scorecard_and_repeats_itself() {
    let directory = tempfile::tempdir().unwrap();
    let first = directory.path().join("first.db");
    let second = directory.path().join("second.db");
    let other = directory.path().join("other.db");
    let run = |path: &std::path::Path, seed: &str| {
        let output = flowline(&[
            "demo",
            "--days",
            "2",
            "--seed",
            seed,
            "--db",
            path.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        output
    };
    let output = run(&first, "1");
    let text = stdout(&output);
    for expected in [
        "Simulated 2 days",
        "RL.1.1 Perfect Order Fulfillment",
        "RS.1.1 Order Fulfillment Cycle Time",
        "AM.1.1 Cash-to-Cash Cycle Time",
        "Admin API key for tenant `demo` (shown once): flk_",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The ledger the simulation left behind balances.
    let check = flowline(&["check", "--db", first.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    // The same seed gives the same log; another seed another.
    assert_eq!(log_hash(&run(&second, "1")), log_hash(&output));
    assert_ne!(log_hash(&run(&other, "2")), log_hash(&output));
    // An existing database is not overwritten without --replace.
    let again = flowline(&["demo", "--days", "1", "--db", first.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already exists; pass --replace"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_bad_scenario_is_refused_with_its_file_and_key() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("slow.toml");
    std::fs::write(
        &path,
        "base = \"default\"\n\n[demand]\norders_per_day = -5.0\n",
    )
    .unwrap();
    let output = flowline(&[
        "simulate",
        "--scenario",
        "default",
        "--scenario",
        path.to_str().unwrap(),
        "--days",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("slow.toml: demand.orders_per_day:"),
        "{message}"
    );
    let output = flowline(&["simulate", "--scenario", "default", "--orders-per-day", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--orders-per-day must be a positive number"));
}

#[test]
fn simulating_a_scenario_against_itself_shows_no_difference() {
    // Same scenario, same seeds: every value must be equal, whatever its spread across seeds.
    let output = flowline(&[
        "simulate",
        "--scenario",
        "default",
        "--scenario",
        "default",
        "--seeds",
        "2",
        "--days",
        "3",
        "--orders-per-day",
        "60",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let scenarios = json["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    let (a, b) = (&scenarios[0]["metrics"], &scenarios[1]["metrics"]);
    let perfect = &a["rl.perfect_order"];
    let mean = perfect["mean"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&mean), "{perfect}");
    assert_eq!(a, b);
}
