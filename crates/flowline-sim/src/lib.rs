//! A discrete-event model of an e-commerce brand's supply chain that drives Flowline's engine.
//!
//! The model decides what happens — customers order, centers pick in waves, carriers deliver
//! late or damaged, suppliers confirm and ship short, customers return, the planner reorders —
//! and says so to the engine as commands, never as events: every fact in the log went through
//! the same rules as a real user's request. Time is simulated and every draw comes from one
//! seeded stream, so a seed gives the same log byte for byte.
//!
//! - [`scenario`]: the brand, read from TOML and checked (`scenarios/default.toml`).
//! - [`run`]: simulate a scenario into a log and summarise what happened.
//! - [`run_with_faults`]: the same with seeded faults in the engine's appends ([`faults`]).
//! - [`service`]: the cycle service level a run achieved against its policy's target.

#![forbid(unsafe_code)]

pub mod capacity;
pub mod dice;
pub mod driver;
pub mod faults;
mod model;
pub mod scenario;
pub mod service;
mod supply;
mod world;

pub use driver::SimError;
pub use model::{Options, Progress, Summary, log_hash, run, run_with_faults};
