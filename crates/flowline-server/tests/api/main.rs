//! Integration tests of the HTTP API: the real server on port 0 with a fresh SQLite log, driven
//! over HTTP. One test binary, so the crate is linked once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod business_time;
mod contact;
mod contract;
mod conventions;
mod cors;
mod currency;
mod dashboard;
mod fuzz;
mod helpers;
mod idempotency;
mod improvement;
mod isolation;
mod limits;
mod lists;
mod plan;
mod race;
mod scorecard;
mod shutdown;
mod story;
mod warm;
