//! The engine on a simulated clock.
//!
//! Commands are queued without waiting (the engine applies a tenant's commands in the order
//! they were queued), and the clock stays at the end of the current simulated hour until every
//! answer of that hour is in, so each event's recorded time is the end of the hour it happened
//! in no matter how the engine grouped its commits: the same seed gives the same log, byte for
//! byte.
//!
//! With faults on ([`Driver::open_with_faults`]) every command carries an idempotency key and
//! is sent on its own and waited for: an "unavailable" answer is retried with the same key until
//! the command has an answer, and after a crash the engine is opened again from the log first.
//! Waiting for each answer keeps a failure from reordering commands (the writer answers every
//! batch decided after a failed one "unavailable" too) and makes each append one command, so
//! the fault drawn for each append, and with it the whole run, follows from the seed.

use crate::faults::{Acknowledged, Faults};
use flowline_core::Command;
use flowline_core::id::TenantId;
use flowline_engine::{
    Answer, Clock, Engine, EngineError, EngineOptions, Outcome, Submission, Ticket,
};
use flowline_store::SharedBackend;
use jiff::Timestamp;
use std::collections::BTreeMap;
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

/// An answer to come, or already in (with faults on, commands are waited for one by one).
enum Waiting {
    Ticket(Ticket),
    Answered(Box<Answer>),
}

/// Most attempts at one command under faults before the run gives up: with the standard rates
/// (2.3 % of appends fail) a command fails twice running about once in 1,900 commands, so 64
/// failures in a row mean the engine is not recovering.
const ATTEMPTS_MAX: u32 = 64;

/// The engine, the clock and the answers still to come.
pub struct Driver {
    engine: Engine,
    log: SharedBackend,
    options: EngineOptions,
    faults: Option<Arc<Faults>>,
    tenant: TenantId,
    clock: Arc<SimClock>,
    pending: Vec<(Waiting, Then, &'static str)>,
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
    /// Opens the engine on `log` with the simulated clock set to `start`.
    pub fn open(log: SharedBackend, tenant: TenantId, start: i64) -> Result<Self, SimError> {
        Self::open_with(log, tenant, start, None)
    }

    /// Opens the engine on `log` with `faults` injected into its appends; commands are then
    /// sent one at a time with idempotency keys and retried until answered.
    pub fn open_with_faults(
        log: SharedBackend,
        tenant: TenantId,
        start: i64,
        faults: Arc<Faults>,
    ) -> Result<Self, SimError> {
        Self::open_with(log, tenant, start, Some(faults))
    }

    fn open_with(
        log: SharedBackend,
        tenant: TenantId,
        start: i64,
        faults: Option<Arc<Faults>>,
    ) -> Result<Self, SimError> {
        let clock = Arc::new(SimClock::default());
        clock.set(start);
        let in_flight_max = 16_384;
        let options = EngineOptions {
            clock: clock.clone(),
            queue_capacity: in_flight_max * 2,
            batch_max: 4_096,
            eviction_interval_batches: 64,
            // A run is read once, folded as it goes; a snapshot of its writer would not be used.
            snapshot_every_events: None,
            observer: None,
            faults: faults
                .clone()
                .map(|faults| faults as Arc<dyn flowline_engine::AppendFaults>),
            lease: None,
            follow: false,
        };
        let engine = Engine::open(log.clone(), options.clone())?;
        Ok(Self {
            engine,
            log,
            options,
            faults,
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

    /// The log the engine writes.
    pub fn log(&self) -> &SharedBackend {
        &self.log
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
        let submission = Submission::new(command).at(at);
        let waiting = match self.faults.clone() {
            None => Waiting::Ticket(self.engine.send(&self.tenant, submission)?),
            Some(faults) => {
                let keyed = submission.key(format!("sim-{}", self.commands));
                Waiting::Answered(Box::new(self.submit_until_answered(keyed, &faults)?))
            }
        };
        self.commands += 1;
        self.pending.push((waiting, then, name));
        Ok(answers)
    }

    /// Submits a keyed command and retries it with the same key while the engine answers
    /// "unavailable", opening the engine again after a crash; records what the client saw.
    fn submit_until_answered(
        &mut self,
        submission: Submission,
        faults: &Faults,
    ) -> Result<Answer, SimError> {
        let key = submission.idempotency_key.clone().unwrap_or_default();
        let mut unavailable = 0;
        let mut committed_before = false;
        while unavailable < ATTEMPTS_MAX {
            match self.engine.submit(&self.tenant, submission.clone()) {
                Ok(answer) => {
                    let (events, rejected) = match &answer.outcome {
                        Outcome::Applied { events, .. } => (events.clone(), false),
                        Outcome::Rejected { .. } => (Vec::new(), true),
                    };
                    faults.record(Acknowledged {
                        key,
                        events,
                        rejected,
                        unavailable,
                        committed_before,
                        replayed: answer.replayed,
                    });
                    return Ok(answer);
                }
                Err(EngineError::Unavailable(_)) => {
                    unavailable += 1;
                    match faults.take_last() {
                        Some(kind) => {
                            committed_before |= kind.committed();
                            if kind.crashes() {
                                self.reopen(faults)?;
                            }
                        }
                        None => faults.unexplained(),
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(SimError::Scenario(format!(
            "command `{key}` was still unavailable after {ATTEMPTS_MAX} attempts"
        )))
    }

    /// Throws the engine away, state and threads, and opens a new one on the same log, as a
    /// restarted process would. Nothing is queued: commands are waited for one by one.
    fn reopen(&mut self, faults: &Faults) -> Result<(), SimError> {
        self.engine.shutdown();
        self.engine = Engine::open(self.log.clone(), self.options.clone())?;
        faults.reopened();
        Ok(())
    }

    /// Waits for every answer; returns each continuation with whether its command was applied.
    pub fn settle(&mut self) -> Result<Vec<(Then, bool)>, SimError> {
        let mut answers = Vec::with_capacity(self.pending.len());
        for (waiting, then, name) in self.pending.drain(..) {
            let answer = match waiting {
                Waiting::Ticket(ticket) => ticket.wait()?,
                Waiting::Answered(answer) => *answer,
            };
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
