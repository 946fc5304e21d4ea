//! Seeded faults for the simulator: the engine's appends fail, lose their acknowledgement, or
//! take the whole engine down, and the simulated client retries every command with its
//! idempotency key until it has an answer.
//!
//! [`Faults`] is the engine's [`AppendFaults`]: before each append it draws from its own seeded
//! stream (separate from the model's, so the model makes the same draws with faults on or off)
//! and decides one of the [`FaultKind`]s or none. The engine answers a faulted batch
//! [`Unavailable`](flowline_engine::EngineError::Unavailable) and its writer rebuilds its state
//! from the log; after a crash the driver also throws the engine away and opens a new one on the
//! same file. The driver records what the client saw for every command ([`Acknowledged`]) so a
//! test can hold the log to it, and [`Faults::report`] gives the figures.

use crate::dice::Dice;
use flowline_core::id::TenantId;
use flowline_engine::{AppendFault, AppendFaults, RecordedEvent};
use flowline_store::AppendRequest;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// How often each fault strikes, as a probability per append.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRates {
    /// An I/O error before the transaction: nothing written.
    pub io_error: f64,
    /// The transaction commits but the committer reports a failure.
    pub lost_acknowledgement: f64,
    /// The engine goes down during the append (half the time before the transaction commits,
    /// half after) and is opened again from the log.
    pub crash: f64,
}

impl FaultRates {
    /// One append in 100 fails before writing, one in 100 loses its acknowledgement and three
    /// in 1,000 crash the engine: a month of a small brand (about 2,700 appends) sees a few
    /// dozen of each of the first two and a handful of crashes. Each fault costs a rebuild from
    /// the log, which is most of a faulted run's time, so the rates stay this low.
    pub fn standard() -> Self {
        Self {
            io_error: 0.01,
            lost_acknowledgement: 0.01,
            crash: 0.003,
        }
    }
}

/// A fault injected into one append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// I/O error before the transaction; nothing was written.
    IoError,
    /// The transaction committed; the client was told it failed.
    LostAcknowledgement,
    /// The engine went down before the transaction committed.
    CrashBeforeCommit,
    /// The engine went down after the transaction committed, before answering.
    CrashAfterCommit,
}

impl FaultKind {
    /// Whether the batch's events are durable although the client was told it failed.
    pub fn committed(self) -> bool {
        matches!(self, Self::LostAcknowledgement | Self::CrashAfterCommit)
    }

    /// Whether the engine goes down and is opened again.
    pub fn crashes(self) -> bool {
        matches!(self, Self::CrashBeforeCommit | Self::CrashAfterCommit)
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::IoError => "io_error",
            Self::LostAcknowledgement => "lost_acknowledgement",
            Self::CrashBeforeCommit => "crash_before_commit",
            Self::CrashAfterCommit => "crash_after_commit",
        }
    }
}

/// What the client finally heard for one command, sent with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    /// The idempotency key.
    pub key: String,
    /// The events the answer says were recorded (empty for a rejection).
    pub events: Vec<RecordedEvent>,
    /// Whether the command was rejected.
    pub rejected: bool,
    /// Attempts that were answered "unavailable" before this answer.
    pub unavailable: u32,
    /// Whether one of those attempts had in fact committed (an unknown outcome that was a
    /// success): the final answer must then be the stored one, not a second application.
    pub committed_before: bool,
    /// Whether the final answer was replayed from the outcome stored under the key.
    pub replayed: bool,
}

/// The figures of a run with faults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultReport {
    /// Appends the committer attempted.
    pub appends: u64,
    /// Faults injected, by kind.
    pub injected: BTreeMap<FaultKind, u64>,
    /// Times a writer rebuilt its state from the log after a failed append.
    pub recoveries: u64,
    /// Times the engine was opened again after a crash.
    pub reopens: u64,
    /// Attempts answered "unavailable" that no injected fault explains (a healthy run has none).
    pub unexplained_unavailable: u64,
    /// Every command's final answer, in the order the commands were sent.
    pub acknowledged: Vec<Acknowledged>,
}

impl FaultReport {
    /// Faults injected in all.
    pub fn total_injected(&self) -> u64 {
        self.injected.values().sum()
    }

    /// Commands whose outcome was unknown to the client at least once.
    pub fn unknown_outcomes(&self) -> usize {
        self.acknowledged
            .iter()
            .filter(|a| a.unavailable > 0)
            .count()
    }
}

struct Inner {
    dice: Dice,
    /// The fault decided for the latest append, until the driver takes it.
    last: Option<FaultKind>,
    report: FaultReport,
}

/// Seeded fault injection for the engine's appends, and the record of what the client saw.
pub struct Faults {
    rates: FaultRates,
    inner: Mutex<Inner>,
}

impl Faults {
    /// Faults drawn from `seed` at `rates`.
    pub fn new(seed: u64, rates: FaultRates) -> Self {
        Self {
            rates,
            inner: Mutex::new(Inner {
                dice: Dice::new(seed),
                last: None,
                report: FaultReport::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the counters half-updated in a way that matters.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The figures so far.
    pub fn report(&self) -> FaultReport {
        self.lock().report.clone()
    }

    /// The fault decided for the latest append, if any, forgotten once taken.
    pub(crate) fn take_last(&self) -> Option<FaultKind> {
        self.lock().last.take()
    }

    pub(crate) fn record(&self, acknowledged: Acknowledged) {
        self.lock().report.acknowledged.push(acknowledged);
    }

    pub(crate) fn reopened(&self) {
        self.lock().report.reopens += 1;
    }

    pub(crate) fn unexplained(&self) {
        self.lock().report.unexplained_unavailable += 1;
    }
}

impl AppendFaults for Faults {
    fn before_append(&self, _request: &AppendRequest) -> AppendFault {
        let rates = self.rates;
        let mut inner = self.lock();
        inner.report.appends += 1;
        let draw = inner.dice.unit();
        let kind = if draw < rates.io_error {
            Some(FaultKind::IoError)
        } else if draw < rates.io_error + rates.lost_acknowledgement {
            Some(FaultKind::LostAcknowledgement)
        } else if draw < rates.io_error + rates.lost_acknowledgement + rates.crash {
            if inner.dice.chance(0.5) {
                Some(FaultKind::CrashAfterCommit)
            } else {
                Some(FaultKind::CrashBeforeCommit)
            }
        } else {
            None
        };
        inner.last = kind;
        match kind {
            None => AppendFault::None,
            Some(kind) => {
                *inner.report.injected.entry(kind).or_default() += 1;
                if kind.committed() {
                    AppendFault::LoseAcknowledgement
                } else {
                    AppendFault::FailBefore
                }
            }
        }
    }

    fn recovered(&self, _tenant: &TenantId) {
        self.lock().report.recoveries += 1;
    }
}
