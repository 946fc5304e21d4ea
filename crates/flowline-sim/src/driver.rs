//! The engine on a simulated clock.
//!
//! Commands are queued without waiting (the engine applies a tenant's commands in the order
//! they were queued), and the clock stays at the end of the current simulated hour until every
//! answer of that hour is in, so each event's recorded time is the end of the hour it happened
//! in no matter how the engine grouped its commits: the same seed gives the same log, byte for
//! byte.

use flowline_core::Command;
use flowline_core::id::TenantId;
use flowline_engine::{Clock, Engine, EngineError, EngineOptions, Outcome, Submission, Ticket};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A clock the simulation sets.
#[derive(Debug, Default)]
pub struct SimClock(AtomicI64);

impl SimClock {
    /// Sets the time (seconds since the Unix epoch).
    pub fn set(&self, second: i64) {
        self.0.store(second, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(self.0.load(Ordering::SeqCst)).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// What to do with a command's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Nothing: the model already counts on it.
    Nothing,
    /// An allocation: if refused, the model takes it back.
    Allocated {
        /// Order number.
        order: u32,
    },
}

/// The engine, the clock and the answers still to come.
pub struct Driver {
    engine: Engine,
    tenant: TenantId,
    clock: Arc<SimClock>,
    pending: Vec<(Ticket, Then, &'static str)>,
    in_flight_max: usize,
    /// Commands sent.
    pub commands: u64,
    /// Refusals by command and error code; a consistent model has none.
    pub refused: BTreeMap<String, u64>,
    /// The first few refusals in full, to explain them.
    pub refusal_samples: Vec<String>,
}

/// Why the simulation stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The engine failed.
    #[error("the engine failed: {0}")]
    Engine(#[from] EngineError),
    /// The log could not be read.
    #[error("the log could not be read: {0}")]
    Store(#[from] flowline_store::StoreError),
    /// The scenario cannot be run.
    #[error("{0}")]
    Scenario(String),
}

impl Driver {
    /// Opens the log at `path` with the simulated clock set to `start`.
    pub fn open(
        path: &Path,
        tenant: TenantId,
        durable: bool,
        start: i64,
    ) -> Result<Self, SimError> {
        let clock = Arc::new(SimClock::default());
        clock.set(start);
        let in_flight_max = 16_384;
        let options = EngineOptions {
            store: if durable {
                flowline_store::OpenOptions::durable()
            } else {
                flowline_store::OpenOptions::relaxed()
            },
            clock: clock.clone(),
            queue_capacity: in_flight_max * 2,
            batch_max: 4_096,
            eviction_interval_batches: 64,
            observer: None,
        };
        let engine = Engine::open(path, options)?;
        Ok(Self {
            engine,
            tenant,
            clock,
            pending: Vec::new(),
            in_flight_max,
            commands: 0,
            refused: BTreeMap::new(),
            refusal_samples: Vec::new(),
        })
    }

    /// The engine, for reads between hours.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Moves the clock; only between hours, when nothing is in flight.
    pub fn set_clock(&mut self, second: i64) -> Result<Vec<(Then, bool)>, SimError> {
        let answers = self.settle()?;
        self.clock.set(second);
        Ok(answers)
    }

    /// Queues `command` at business time `at`. Returns answers that had to be collected to make
    /// room (the clock does not move meanwhile, so this does not change the log).
    pub fn send(
        &mut self,
        at: i64,
        command: Command,
        then: Then,
    ) -> Result<Vec<(Then, bool)>, SimError> {
        let mut answers = Vec::new();
        if self.pending.len() >= self.in_flight_max {
            answers = self.settle()?;
        }
        let at = Timestamp::from_second(at)
            .map_err(|e| SimError::Scenario(format!("time out of range: {e}")))?;
        let name = command.name();
        let ticket = self
            .engine
            .send(&self.tenant, Submission::new(command).at(at))?;
        self.commands += 1;
        self.pending.push((ticket, then, name));
        Ok(answers)
    }

    /// Waits for every answer; returns each continuation with whether its command was applied.
    pub fn settle(&mut self) -> Result<Vec<(Then, bool)>, SimError> {
        let mut answers = Vec::with_capacity(self.pending.len());
        for (ticket, then, name) in self.pending.drain(..) {
            let answer = ticket.wait()?;
            match answer.outcome {
                Outcome::Applied { .. } => answers.push((then, true)),
                Outcome::Rejected { code, message, .. } => {
                    if then == Then::Nothing {
                        *self.refused.entry(format!("{name}: {code}")).or_default() += 1;
                        if self.refusal_samples.len() < 20 {
                            self.refusal_samples.push(format!("{name}: {message}"));
                        }
                    }
                    answers.push((then, false));
                }
            }
        }
        Ok(answers)
    }

    /// Waits for everything and stops the engine.
    pub fn finish(mut self) -> Result<(), SimError> {
        self.settle()?;
        self.engine.shutdown();
        Ok(())
    }
}
