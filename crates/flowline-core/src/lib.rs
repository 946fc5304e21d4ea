//! Flowline's domain: plain data and pure functions, with no I/O, no clock and no randomness.
//!
//! The principal types:
//! - [`state::State`]: everything a tenant's writer holds in memory — master data, open
//!   documents and the two ledgers.
//! - [`state::Command`] and [`state::Event`]: requests and recorded facts.
//! - [`state::decide`] turns a command into events (or a [`error::DomainError`] that names what
//!   and where, appending nothing); [`state::apply`] folds an event into the state. Time comes in
//!   through [`state::Context`], so the same inputs always give the same events.
//! - [`ledger`]: the stock ledger (every change a [`ledger::Move`] between two locations, valued
//!   at moving-average cost) and the money ledger (balanced [`ledger::JournalEntry`]s).
//! - [`invariants`]: the ledger invariants, checked by tests and by `flowline check`.
//! - [`codec`]: the canonical binary encoding of a state (and of anything else held in memory)
//!   for snapshots.
#![warn(missing_docs)]

pub mod codec;
pub mod documents;
pub mod effects;
pub mod error;
pub mod id;
pub mod invariants;
pub mod ledger;
pub mod master;
pub mod money;
pub mod projection;
mod registry;
pub mod rendered;
pub mod retention;
pub mod snapshot;
pub mod state;
pub mod stream;
pub mod views;

pub use error::{DomainError, ErrorCode};
pub use state::{Command, Context, Event, State, apply, decide};

// Two separate `cfg` attributes rather than `cfg(all(..))`, so that clippy sees a test module.
#[cfg(test)]
#[cfg(feature = "schema")]
mod schema_tests;
