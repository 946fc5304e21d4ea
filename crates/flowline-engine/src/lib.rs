//! Flowline's engine: one writer per tenant.
//!
//! Each tenant has a writer thread that owns the tenant's [`State`]. Commands queue up on a
//! bounded channel; the writer takes everything waiting (up to a batch limit), decides and
//! applies each command in order — so a command sees the effects of the ones before it, and
//! nothing else can change the tenant between a check and its effect — and hands the batch's
//! events to the tenant's committer thread, which appends them in one transaction of the store
//! (group commit) and only then answers. While one batch is being made durable the writer decides the
//! next, so deciding and writing use both cores. Reads run on the writer after everything it has
//! applied is durable, so they only ever see durable state. If an append fails, the in-memory
//! state holds effects that are not in the log: that batch and every batch decided after it are
//! answered with [`EngineError::Unavailable`], and the writer drops its state and rebuilds it from
//! the log (fail-stop, then recover), as PostgreSQL does after an fsync failure.
//!
//! Idempotency: a command may carry a key. The first outcome for a key — success or rejection —
//! is stored with a hash of the command in the same transaction as its events; a retry with the
//! same key and command gets that outcome back and appends nothing, and a retry with the same key
//! and a different command gets [`EngineError::IdempotencyKeyReused`].
//!
//! Fault injection: tests may set [`EngineOptions::faults`], which the committer consults before
//! every append ([`AppendFaults`]): fail before the transaction, or commit and then report a
//! failure (a lost acknowledgement). Both take the same fail-stop path as a real failure. The
//! simulator's fault mode uses it; production never sets it.
//!
//! Projections follow the log through [`Engine::subscribe`]: the committer hands each durable
//! batch to a tenant's subscribers without ever waiting for them ([`feed`]), and
//! [`projections::feed`] folds it, or says that batches were missed and the log must be read.
//!
//! Principal types: [`Engine`] (open, submit, query, subscribe), [`Submission`], [`Outcome`],
//! [`EngineError`], [`Clock`], [`Observer`] (told of every durable batch, for event feeds and
//! metrics), [`AppendFaults`].

#![warn(missing_docs)]

pub mod check;
pub mod feed;
mod follow;
mod lease;
pub mod projections;
pub mod workload;

use flowline_core::id::{LocationId, Sku, TenantId};
use flowline_core::money::Currency;
use flowline_core::retention;
use flowline_core::{Command, Context, DomainError, Event, State, apply, decide};
use flowline_store::{
    AppendRequest, BalanceRow, CommandRecord, EventStore, IdempotencyLookup, IdempotencyRecord,
    LeaseClaim, NewEvent, SharedBackend, Store, StoreError,
};
use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The source of recorded-at times (and of business times a command does not give).
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Told of what the engine makes durable. Called on the committer thread right after a batch's
/// transaction commits and before its commands are answered, so it must return quickly (update
/// a counter, wake a waiting reader).
pub trait Observer: Send + Sync {
    /// A batch of `tenant`'s commands is durable: `commands` commands with a recorded outcome,
    /// `events` events, and `head` is the tenant's last sequence number now.
    fn committed(&self, tenant: &TenantId, head: u64, commands: usize, events: usize);

    /// `tenant`'s writer has started: its state came from `origin` and the log's tail was
    /// folded onto it, up to `head`, in `elapsed`.
    fn restored(
        &self,
        tenant: &TenantId,
        origin: &projections::Origin,
        head: u64,
        elapsed: std::time::Duration,
    ) {
        let _ = (tenant, origin, head, elapsed);
    }

    /// A snapshot of `tenant`'s writer state at `head` was saved (`Ok` with its size in bytes)
    /// or could not be (`Err`, with why; the writer carries on, the log is the truth).
    fn snapshot_saved(&self, tenant: &TenantId, head: u64, saved: Result<usize, String>) {
        let _ = (tenant, head, saved);
    }
}

/// What to do to one append, as decided by [`AppendFaults`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFault {
    /// Append as usual.
    None,
    /// Fail before the transaction begins, as an I/O error would: nothing is written and the
    /// batch is answered [`EngineError::Unavailable`].
    FailBefore,
    /// Commit the transaction, then report a failure, as a lost acknowledgement would: the
    /// events are durable but the batch is answered [`EngineError::Unavailable`], an unknown
    /// outcome that a retry with the same idempotency key resolves.
    LoseAcknowledgement,
}

/// Injects faults into the committer's appends, for deterministic fault-injection tests (the
/// simulator's fault mode). Production never sets it: [`EngineOptions::durable`] leaves it out.
///
/// The committer asks once per append, in the order it appends, so a seeded implementation
/// makes the same decisions whenever the same batches are appended. Either fault makes the
/// writer fail stop and rebuild its state from the log, exactly as a real append failure does.
pub trait AppendFaults: Send + Sync {
    /// Decides the fate of the append of `request`, about to begin.
    fn before_append(&self, request: &AppendRequest) -> AppendFault;

    /// The writer of `tenant` has rebuilt its state from the log after a failed append.
    fn recovered(&self, tenant: &TenantId) {
        let _ = tenant;
    }
}

/// Engine settings. Durability is the backend's: see the store crates.
#[derive(Clone)]
pub struct EngineOptions {
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Commands that may wait per tenant before submitters are told the engine is busy.
    pub queue_capacity: usize,
    /// Most commands group-committed in one transaction.
    pub batch_max: usize,
    /// Batches between two evictions of settled documents under sustained load (sooner when
    /// the queue runs dry).
    pub eviction_interval_batches: u64,
    /// Events after which an idle writer saves a snapshot of its state (it also saves one when
    /// it stops); `None` never saves one, as a simulation that keeps no log need not.
    pub snapshot_every_events: Option<u64>,
    /// Told of every durable batch, if set.
    pub observer: Option<Arc<dyn Observer>>,
    /// Faults to inject into appends; tests only (see [`AppendFaults`]).
    pub faults: Option<Arc<dyn AppendFaults>>,
    /// When several processes share the log: the lease this process claims for each tenant
    /// before writing it, renewed every third of its time-to-live. `None` (one process) claims
    /// nothing.
    pub lease: Option<LeaseClaim>,
    /// Only read the log, as a node serving from a read replica does: each tenant's state is
    /// followed from the log, caught up before every read, and commands are answered with where
    /// the tenant's writer is ([`EngineError::Elsewhere`]). No lease is claimed.
    pub follow: bool,
}

impl Default for EngineOptions {
    /// The system clock, a queue of 4,096, batches of up to 1,024 and a snapshot every
    /// 250,000 events.
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            queue_capacity: 4096,
            batch_max: 1024,
            eviction_interval_batches: 64,
            snapshot_every_events: Some(250_000),
            observer: None,
            faults: None,
            lease: None,
            follow: false,
        }
    }
}

/// A command with its business time and idempotency key.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The command.
    pub command: Command,
    /// When it takes effect in business time; the engine's clock when absent.
    pub business_time: Option<Timestamp>,
    /// Idempotency key, unique per tenant.
    pub idempotency_key: Option<String>,
    /// Whether the outcome carries the document the command changed, as it stands right after
    /// the command ([`flowline_core::rendered::changed_document_json`]). It is stored with the
    /// idempotency key, so a retry gets back the document as the first attempt saw it.
    pub render: bool,
}

impl Submission {
    /// A command with no key, taking effect now.
    pub fn new(command: Command) -> Self {
        Self {
            command,
            business_time: None,
            idempotency_key: None,
            render: false,
        }
    }

    /// Sets the business time.
    pub fn at(mut self, business_time: Timestamp) -> Self {
        self.business_time = Some(business_time);
        self
    }

    /// Sets the idempotency key.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Asks for the changed document in the outcome.
    pub fn rendering(mut self) -> Self {
        self.render = true;
        self
    }

    /// The hash that tells a retry from a different command under the same key: the command
    /// and its explicit business time, in their canonical JSON encoding.
    fn request_hash(&self) -> String {
        let encoded = serde_json::to_vec(&(&self.command, &self.business_time)).unwrap_or_default();
        let digest = Sha256::digest(&encoded);
        hex::encode(digest)
    }
}

/// One event recorded by a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Per-tenant sequence number.
    pub seq: u64,
    /// Stream (`sales_order/SO-1`).
    pub stream: String,
    /// Event type.
    pub event_type: String,
    /// Whether the record of the stream came into being with this command (a definition that
    /// creates rather than replaces). Outcomes stored before it was recorded read `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

/// What became of a command. Stored for its idempotency key, so a retry gets exactly this back,
/// down to the bytes of its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The command was applied and its events are durable.
    Applied {
        /// The events recorded.
        events: Vec<RecordedEvent>,
        /// The changed document right after the command, when the submission asked for it.
        #[serde(skip_serializing_if = "Option::is_none")]
        document: Option<DocumentJson>,
    },
    /// The command was rejected; nothing was recorded.
    Rejected {
        /// Stable error code.
        code: String,
        /// Human-readable message.
        message: String,
        /// The error's fields (what and where).
        details: serde_json::Value,
    },
}

impl Outcome {
    fn rejected(error: &DomainError) -> Self {
        Self::Rejected {
            code: error.code().to_string(),
            message: error.to_string(),
            details: serde_json::to_value(error).unwrap_or(serde_json::Value::Null),
        }
    }
}

impl<'de> Deserialize<'de> for Outcome {
    /// Read as a plain record, not through serde's buffering of tagged enums, which cannot hold
    /// the document's JSON text as it was written.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Applied,
            Rejected,
        }
        #[derive(Deserialize)]
        struct Stored {
            outcome: Kind,
            #[serde(default)]
            events: Vec<RecordedEvent>,
            #[serde(default)]
            document: Option<DocumentJson>,
            code: Option<String>,
            message: Option<String>,
            #[serde(default)]
            details: serde_json::Value,
        }
        use serde::de::Error;
        let stored = Stored::deserialize(deserializer)?;
        Ok(match stored.outcome {
            Kind::Applied => Self::Applied {
                events: stored.events,
                document: stored.document,
            },
            Kind::Rejected => Self::Rejected {
                code: stored.code.ok_or_else(|| D::Error::missing_field("code"))?,
                message: stored
                    .message
                    .ok_or_else(|| D::Error::missing_field("message"))?,
                details: stored.details,
            },
        })
    }
}

/// A document as JSON text, written once by the engine's writer and passed on as it is: into
/// the command's idempotency record and into the API's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocumentJson(Box<serde_json::value::RawValue>);

impl DocumentJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The text as raw JSON, to be serialized inside another document.
    pub fn raw(&self) -> &serde_json::value::RawValue {
        &self.0
    }

    /// The document parsed.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for DocumentJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for DocumentJson {}

/// An answer to a submission: the outcome, and whether it was replayed from an earlier attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The outcome.
    pub outcome: Outcome,
    /// True when the outcome was stored by an earlier submission with the same key.
    pub replayed: bool,
}

/// Why the engine could not process a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The idempotency key was used before with a different command.
    #[error("idempotency key `{key}` was already used with a different command")]
    IdempotencyKeyReused {
        /// The key.
        key: String,
    },
    /// The tenant's queue is full; retry later.
    #[error("the tenant's command queue is full; retry later")]
    Busy,
    /// The log could not be written or read; the command's fate is known to be "not applied"
    /// only if the error says so, otherwise retry with the same idempotency key.
    #[error("the event log is unavailable: {0}")]
    Unavailable(String),
    /// The engine has shut down.
    #[error("the engine has stopped")]
    Stopped,
    /// Another process holds the tenant's writer lease: send the command there.
    #[error("tenant's writer is {holder}, serving at {address}")]
    Elsewhere {
        /// The holding process.
        holder: String,
        /// Where it serves.
        address: String,
    },
}

type QueryFn = Box<dyn FnOnce(&State) + Send>;

/// Submissions to apply all or not at all, under one optional idempotency key.
struct AtomicJob {
    submissions: Vec<Submission>,
    key: Option<String>,
    reply: SyncSender<Result<AtomicAnswer, EngineError>>,
}

enum Job {
    Command(Box<Submission>, Reply),
    Query(QueryFn),
    Atomic(Box<AtomicJob>),
}

/// What became of submissions applied all or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AtomicOutcome {
    /// Every submission was applied; their events are durable.
    Applied {
        /// Commands applied.
        commands: u64,
        /// Events recorded.
        events: u64,
        /// The tenant's sequence number of the first event recorded.
        first_seq: u64,
    },
    /// A submission was rejected; nothing was recorded.
    Rejected {
        /// Its position in the list (0-based).
        index: usize,
        /// Stable error code.
        code: String,
        /// Human-readable message.
        message: String,
        /// The error's fields.
        details: serde_json::Value,
    },
}

/// The answer to [`Engine::submit_atomically`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomicAnswer {
    /// The outcome.
    pub outcome: AtomicOutcome,
    /// True when the outcome was stored by an earlier submission with the same key.
    pub replayed: bool,
}

struct Writer {
    sender: SyncSender<Job>,
    /// Jobs queued and not yet taken by the writer.
    depth: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
    /// The token of the lease it writes under, when the log is shared.
    lease_token: Option<u64>,
}

/// The answer to a queued command, for a thread that may block to wait for it.
#[derive(Debug)]
pub struct Ticket(Receiver<Result<Answer, EngineError>>);

impl Ticket {
    /// Waits for the answer.
    pub fn wait(self) -> Result<Answer, EngineError> {
        self.0.recv().map_err(|_| EngineError::Stopped)?
    }
}

/// The answer to a queued command, for an async task to await: the task holds no thread while
/// the command is decided and made durable.
#[derive(Debug)]
pub struct AsyncTicket(oneshot::Receiver<Result<Answer, EngineError>>);

impl AsyncTicket {
    /// The answer, once the command is durable (or refused).
    pub async fn answer(self) -> Result<Answer, EngineError> {
        self.0.await.map_err(|_| EngineError::Stopped)?
    }
}

/// Where a command's answer goes: to a thread waiting on a [`Ticket`] or a task awaiting an
/// [`AsyncTicket`].
enum Reply {
    Thread(SyncSender<Result<Answer, EngineError>>),
    Task(oneshot::Sender<Result<Answer, EngineError>>),
}

impl Reply {
    /// Answers; a caller that stopped waiting is not an error.
    fn send(self, answer: Result<Answer, EngineError>) {
        match self {
            Self::Thread(reply) => {
                let _ = reply.send(answer);
            }
            Self::Task(reply) => {
                let _ = reply.send(answer);
            }
        }
    }
}

/// The engine: the writers of every tenant of one log.
pub struct Engine {
    backend: SharedBackend,
    options: EngineOptions,
    /// The running writers. Held only to look one up or add one, never while a writer starts.
    writers: lease::Writers,
    /// One lock per tenant whose writer has been asked for, held while it starts: a tenant's
    /// writer starts once, and starting it (which replays the tenant's log) holds up no other
    /// tenant.
    starting: Mutex<FxHashMap<TenantId, Arc<Mutex<()>>>>,
    /// Each tenant's subscribers to its durable batches.
    feeds: feed::Feeds,
    /// Renews the writers' leases, when the log is shared.
    keeper: Option<lease::Keeper>,
}

impl Engine {
    /// The engine of the log `backend` opens. Writers start lazily, per tenant, on first use.
    pub fn open(backend: SharedBackend, options: EngineOptions) -> Result<Self, EngineError> {
        // Open once up front so a log that cannot be opened fails here, not at the first command.
        if options.follow {
            backend.open_reader().map_err(unavailable)?;
        } else {
            backend.open().map_err(unavailable)?;
        }
        let writers = lease::Writers::default();
        let keeper = match &options.lease {
            Some(claim) if !options.follow => Some(lease::Keeper::start(
                backend.clone(),
                claim.clone(),
                writers.clone(),
            )?),
            _ => None,
        };
        Ok(Self {
            backend,
            options,
            writers,
            starting: Mutex::new(FxHashMap::default()),
            feeds: feed::Feeds::default(),
            keeper,
        })
    }

    /// Subscribes to the tenant's batches as each becomes durable, from the next one on, with
    /// room for `capacity` batches not yet taken: the committer never waits for a subscriber,
    /// and one that falls that far behind misses batches (see [`feed`]). Ends when the engine
    /// is dropped.
    pub fn subscribe(&self, tenant: &TenantId, capacity: usize) -> feed::Subscription {
        self.feeds.subscribe(tenant, capacity)
    }

    /// Submits a command and waits for its answer.
    pub fn submit(&self, tenant: &TenantId, submission: Submission) -> Result<Answer, EngineError> {
        self.send(tenant, submission)?.wait()
    }

    /// Queues a command without waiting. A tenant's commands are applied in the order they were
    /// queued, so a client may send several dependent commands (place, then pick, then pack)
    /// before waiting for any answer.
    pub fn send(&self, tenant: &TenantId, submission: Submission) -> Result<Ticket, EngineError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.enqueue(
            tenant,
            Job::Command(Box::new(submission), Reply::Thread(reply)),
        )?;
        Ok(Ticket(answer))
    }

    /// [`Engine::send`] for an async task, which must not block: the command is queued only if
    /// the tenant's writer is running, and its answer is awaited. Otherwise the submission comes
    /// back (`Ok(Err(_))`) for the caller to submit from a thread that may block: starting a
    /// writer replays the tenant's log.
    pub fn send_if_running(
        &self,
        tenant: &TenantId,
        submission: Submission,
    ) -> Result<Result<AsyncTicket, Submission>, EngineError> {
        let Some(queue) = self.queue_of(tenant)? else {
            return Ok(Err(submission));
        };
        let (reply, answer) = oneshot::channel();
        queue_on(
            &queue,
            Job::Command(Box::new(submission), Reply::Task(reply)),
        )?;
        Ok(Ok(AsyncTicket(answer)))
    }

    /// Applies every submission, in order, or none of them: if one is rejected, the tenant's
    /// state is as before and nothing is recorded; otherwise all their events are appended in
    /// one transaction. For imports, where a file is either wholly present or absent. Under a
    /// key, a second call with the same submissions gets the first outcome back and records
    /// nothing (the submissions' own keys are ignored). Blocks until durable.
    pub fn submit_atomically(
        &self,
        tenant: &TenantId,
        submissions: Vec<Submission>,
        key: Option<String>,
    ) -> Result<AtomicAnswer, EngineError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job = AtomicJob {
            submissions,
            key,
            reply,
        };
        self.enqueue(tenant, Job::Atomic(Box::new(job)))?;
        answer.recv().map_err(|_| EngineError::Stopped)?
    }

    /// Runs a read against the tenant's durable state, between batches.
    pub fn query<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        read: impl FnOnce(&State) -> R + Send + 'static,
    ) -> Result<R, EngineError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job::Query(Box::new(move |state: &State| {
            // The receiver may have given up waiting; nothing to do then.
            let _ = reply.send(read(state));
        }));
        self.enqueue(tenant, job)?;
        answer.recv().map_err(|_| EngineError::Stopped)
    }

    /// Queues `job` on the tenant's writer, starting the writer first if it is not running.
    fn enqueue(&self, tenant: &TenantId, job: Job) -> Result<(), EngineError> {
        if let Some(queue) = self.queue_of(tenant)? {
            return queue_on(&queue, job);
        }
        let start = {
            let mut starting = self.starting.lock().map_err(|_| EngineError::Stopped)?;
            starting.entry(tenant.clone()).or_default().clone()
        };
        let _started = start.lock().map_err(|_| EngineError::Stopped)?;
        // Another caller may have started it while this one waited.
        if let Some(queue) = self.queue_of(tenant)? {
            return queue_on(&queue, job);
        }
        let writer = self.start_writer(tenant)?;
        let queue = (writer.sender.clone(), writer.depth.clone());
        self.writers
            .lock()
            .map_err(|_| EngineError::Stopped)?
            .insert(tenant.clone(), writer);
        queue_on(&queue, job)
    }

    /// The queue of the tenant's writer, if it is running.
    fn queue_of(&self, tenant: &TenantId) -> Result<Option<Queue>, EngineError> {
        let writers = self.writers.lock().map_err(|_| EngineError::Stopped)?;
        Ok(writers
            .get(tenant)
            .map(|writer| (writer.sender.clone(), writer.depth.clone())))
    }

    fn start_writer(&self, tenant: &TenantId) -> Result<Writer, EngineError> {
        let (sender, receiver) = mpsc::sync_channel(self.options.queue_capacity.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        if self.options.follow {
            let follower =
                follow::Follower::new(tenant.clone(), &self.backend, self.options.clone())?;
            let taken = depth.clone();
            let thread = std::thread::Builder::new()
                .name(format!("follower-{tenant}"))
                .spawn(move || follower.run(&receiver, &taken))
                .map_err(|error| {
                    EngineError::Unavailable(format!("cannot start follower thread: {error}"))
                })?;
            return Ok(Writer {
                sender,
                depth,
                thread: Some(thread),
                lease_token: None,
            });
        }
        let lease_token = match &self.options.lease {
            Some(claim) => Some(lease::claim(&self.backend, tenant, claim)?),
            None => None,
        };
        let worker = TenantWriter::new(
            tenant.clone(),
            &self.backend,
            self.options.clone(),
            self.feeds.of(tenant),
            lease_token,
        )?;
        let taken = depth.clone();
        let thread = std::thread::Builder::new()
            .name(format!("writer-{tenant}"))
            .spawn(move || worker.run(receiver, &taken))
            .map_err(|error| {
                EngineError::Unavailable(format!("cannot start writer thread: {error}"))
            })?;
        Ok(Writer {
            sender,
            depth,
            thread: Some(thread),
            lease_token,
        })
    }

    /// Commands and reads queued for every tenant and not yet taken by its writer.
    pub fn queue_depth(&self) -> usize {
        match self.writers.lock() {
            Ok(writers) => writers
                .values()
                .map(|writer| writer.depth.load(Ordering::Relaxed))
                .sum(),
            Err(_) => 0,
        }
    }

    /// The log's backend, for opening handles that read it.
    pub fn backend(&self) -> &SharedBackend {
        &self.backend
    }

    /// Stops every writer after it has finished the commands already queued, then gives up
    /// their leases.
    pub fn shutdown(&self) {
        let writers: Vec<(TenantId, Writer)> = match self.writers.lock() {
            Ok(mut writers) => writers.drain().collect(),
            Err(_) => return,
        };
        let mut leased = Vec::new();
        for (tenant, mut writer) in writers {
            drop(writer.sender);
            if let Some(thread) = writer.thread.take() {
                let _ = thread.join();
            }
            if writer.lease_token.is_some() {
                leased.push(tenant);
            }
        }
        if let Some(claim) = &self.options.lease {
            lease::release(&self.backend, &leased, &claim.holder);
        }
    }
}

/// A writer's queue: where its jobs go, and how many wait there.
type Queue = (SyncSender<Job>, Arc<AtomicUsize>);

/// Sends `job` to a writer's queue without waiting: a full queue refuses it.
fn queue_on((sender, depth): &Queue, job: Job) -> Result<(), EngineError> {
    // Counted before sending so the writer's decrement can never run first.
    depth.fetch_add(1, Ordering::Relaxed);
    let sent = sender.try_send(job);
    if sent.is_err() {
        depth.fetch_sub(1, Ordering::Relaxed);
    }
    match sent {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => Err(EngineError::Busy),
        Err(TrySendError::Disconnected(_)) => Err(EngineError::Stopped),
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(keeper) = &mut self.keeper {
            keeper.stop();
        }
        self.shutdown();
    }
}

fn unavailable(error: StoreError) -> EngineError {
    EngineError::Unavailable(error.to_string())
}

/// What deciding one command of a batch produced.
enum Decision {
    /// The answer to send once the batch is durable.
    Answer(Result<Answer, EngineError>),
    /// A retry of an earlier command in the same batch (by index): answer as it is answered.
    SameAs(usize),
}

/// A command decided in the current batch, waiting for the commit.
struct Pending {
    reply: Reply,
    result: Result<Answer, EngineError>,
}

/// A batch handed to the committer: its append request (absent when nothing needs writing) and
/// the answers to send once it is durable.
struct CommitJob {
    batch: u64,
    request: Option<AppendRequest>,
    replies: Vec<Pending>,
}

enum CommitterJob {
    Commit(CommitJob),
    /// Answered once every job queued before it has been committed (or failed).
    Barrier(SyncSender<()>),
    /// The writer has rebuilt its state after a failure: appends may proceed again.
    Reset,
}

/// What the committer reports for each batch.
struct Acknowledgement {
    batch: u64,
    committed: bool,
}

/// The committer: appends batches in order on its own thread and answers their commands, so the
/// writer can decide the next batch while the previous one is being made durable. After a failed
/// append it fails every later batch until the writer has rebuilt its state from the log (those
/// batches were decided on effects that never became durable).
fn run_committer(
    mut store: Box<dyn Store>,
    jobs: Receiver<CommitterJob>,
    acknowledgements: mpsc::Sender<Acknowledgement>,
    observer: Option<Arc<dyn Observer>>,
    faults: Option<Arc<dyn AppendFaults>>,
    feed: &feed::TenantFeed,
) {
    let mut failed: Option<String> = None;
    while let Ok(job) = jobs.recv() {
        match job {
            CommitterJob::Barrier(done) => {
                let _ = done.send(());
            }
            CommitterJob::Reset => failed = None,
            CommitterJob::Commit(CommitJob {
                batch,
                request,
                replies,
            }) => {
                let outcome = match (&failed, request) {
                    (Some(reason), _) => Err(reason.clone()),
                    (None, None) => Ok(()),
                    (None, Some(request)) => {
                        match append(store.as_mut(), &request, faults.as_deref()) {
                            Ok(appended) => {
                                if let Some(observer) = &observer {
                                    let events = usize::try_from(appended.event_count())
                                        .unwrap_or(usize::MAX);
                                    observer.committed(
                                        &request.tenant,
                                        appended.last_seq,
                                        request.commands.len(),
                                        events,
                                    );
                                }
                                if !appended.is_empty() && feed.wanted() {
                                    feed.publish(feed::DurableBatch::new(
                                        request,
                                        appended.first_seq,
                                        appended.last_seq,
                                    ));
                                }
                                Ok(())
                            }
                            Err(error) => Err(error),
                        }
                    }
                };
                // The writer hears of the outcome before any client does: a client that retries
                // as soon as it is told "unavailable" must find the writer already knowing it
                // has to rebuild its state.
                let _ = acknowledgements.send(Acknowledgement {
                    batch,
                    committed: outcome.is_ok(),
                });
                match outcome {
                    Ok(()) => {
                        for pending in replies {
                            pending.reply.send(pending.result);
                        }
                    }
                    Err(reason) => {
                        for pending in replies {
                            pending
                                .reply
                                .send(Err(EngineError::Unavailable(reason.clone())));
                        }
                        failed = Some(reason);
                    }
                }
            }
        }
    }
}

/// Appends `request`, with the fault `faults` decides for it, if any.
fn append(
    store: &mut dyn Store,
    request: &AppendRequest,
    faults: Option<&dyn AppendFaults>,
) -> Result<flowline_store::AppendOutcome, String> {
    let fault = faults.map_or(AppendFault::None, |faults| faults.before_append(request));
    if fault == AppendFault::FailBefore {
        return Err("injected fault: I/O error before the transaction began".into());
    }
    let appended = store.append(request).map_err(|error| error.to_string())?;
    if fault == AppendFault::LoseAcknowledgement {
        return Err(
            "injected fault: the transaction committed but its acknowledgement was lost".into(),
        );
    }
    Ok(appended)
}

/// Keys decided in batches that are not yet acknowledged, with their answers: a retry that
/// arrives before its first attempt is durable gets the same answer, in order after it.
type InFlightKeys = VecDeque<(u64, Vec<(String, String, Answer)>)>;

struct TenantWriter {
    tenant: TenantId,
    store: Box<dyn Store>,
    /// When rebuilding the state from the log last failed, while it has not succeeded since.
    recovery_failed_at: Option<std::time::Instant>,
    /// Streams the batch being decided names that the log does not hold (found by
    /// [`TenantWriter::prefetch`]), so deciding does not ask again for each.
    absent: FxHashSet<String>,
    options: EngineOptions,
    state: State,
    /// The last sequence number decided, durable or in flight.
    head: u64,
    /// The head of the latest snapshot saved or restored.
    snapshot_head: u64,
    /// When the tenant's first event was recorded: the start of its business-time window.
    started: Option<Timestamp>,
    /// The latest business time the log holds or a batch in flight records: where the tenant's
    /// world is, which may run ahead of the clock (a simulated log served on a real clock).
    latest_business: Timestamp,
    next_batch: u64,
    in_flight: InFlightKeys,
    committer: SyncSender<CommitterJob>,
    acknowledgements: Receiver<Acknowledgement>,
    committer_thread: Option<JoinHandle<()>>,
}

impl TenantWriter {
    fn new(
        tenant: TenantId,
        backend: &SharedBackend,
        options: EngineOptions,
        feed: Arc<feed::TenantFeed>,
        lease_token: Option<u64>,
    ) -> Result<Self, EngineError> {
        let store = backend.open().map_err(unavailable)?;
        let mut committer_store = backend.open().map_err(unavailable)?;
        if let Some(token) = lease_token {
            committer_store.fence(&tenant, token);
        }
        // Two batches may wait for the committer: enough to overlap deciding with committing,
        // few enough that a failure throws away little work.
        let (committer, jobs) = mpsc::sync_channel(2);
        let (acknowledge, acknowledgements) = mpsc::channel();
        let observer = options.observer.clone();
        let faults = options.faults.clone();
        let committer_thread = std::thread::Builder::new()
            .name(format!("committer-{tenant}"))
            .spawn(move || {
                run_committer(committer_store, jobs, acknowledge, observer, faults, &feed)
            })
            .map_err(|error| {
                EngineError::Unavailable(format!("cannot start committer thread: {error}"))
            })?;
        let mut writer = Self {
            tenant,
            store,
            recovery_failed_at: None,
            absent: FxHashSet::default(),
            options,
            state: State::default(),
            head: 0,
            snapshot_head: 0,
            started: None,
            latest_business: Timestamp::MIN,
            next_batch: 0,
            in_flight: VecDeque::new(),
            committer,
            acknowledgements,
            committer_thread: Some(committer_thread),
        };
        writer.recover()?;
        Ok(writer)
    }

    /// Rebuilds the state: from the latest good snapshot and the log's tail after it, or from
    /// the whole log.
    fn recover(&mut self) -> Result<(), EngineError> {
        let started = std::time::Instant::now();
        let store = self.store.as_ref();
        self.latest_business = store
            .latest_business_time(&self.tenant)
            .map_err(unavailable)?
            .unwrap_or(Timestamp::MIN);
        let now = self.options.clock.now().max(self.latest_business);
        let (mut tracked, origin) =
            projections::restore(store, &self.tenant, WriterState::default, |_| Ok(()))
                .map_err(projection_error)?;
        projections::catch_up(
            store,
            &self.tenant,
            &mut tracked,
            &|| false,
            &mut |writer| {
                // Settled documents leave memory after every page, so rebuilding needs no more
                // memory than running does.
                let horizon = return_horizon(&writer.state, now);
                retention::evict_settled(&mut writer.state, horizon);
            },
        )
        .map_err(projection_error)?;
        self.snapshot_head = match origin {
            projections::Origin::Snapshot { head } => head,
            _ => 0,
        };
        if let Some(observer) = &self.options.observer {
            observer.restored(&self.tenant, &origin, tracked.head, started.elapsed());
        }
        self.state = tracked.projection.state;
        self.started = tracked.projection.started;
        self.head = tracked.head;
        Ok(())
    }

    /// Takes the first batch with events as the start of the tenant's business-time window, at
    /// the time it is recorded with: the same instant a rebuild from the log reads back from
    /// its first event.
    fn note_start(&mut self, request: &AppendRequest) {
        if self.started.is_none()
            && request
                .commands
                .iter()
                .any(|command| !command.events.is_empty())
        {
            // The log keeps recorded times to the microsecond.
            let recorded = request.recorded_at;
            self.started =
                Some(Timestamp::from_microsecond(recorded.as_microsecond()).unwrap_or(recorded));
        }
    }

    /// Saves a snapshot of the state if `events` or more were decided since the last one.
    /// Only called when nothing is in flight, so the state is exactly the log up to `head`.
    fn snapshot_if_due(&mut self, events: u64) {
        if self.head == u64::MAX || self.head.saturating_sub(self.snapshot_head) < events.max(1) {
            return;
        }
        let writer = WriterState {
            state: std::mem::take(&mut self.state),
            started: self.started,
        };
        let saved = projections::save(self.store.as_ref(), &self.tenant, &writer, self.head);
        self.state = writer.state;
        if saved.is_ok() {
            self.snapshot_head = self.head;
        }
        if let Some(observer) = &self.options.observer {
            observer.snapshot_saved(
                &self.tenant,
                self.head,
                saved.map_err(|error| error.to_string()),
            );
        }
    }

    /// Takes jobs until the engine drops the queue's sender; `queued` counts the jobs waiting.
    fn run(mut self, receiver: Receiver<Job>, queued: &AtomicUsize) {
        let mut batches_since_eviction: u64 = 0;
        let take = |job: Job| {
            queued.fetch_sub(1, Ordering::Relaxed);
            job
        };
        loop {
            // Settled documents leave memory when no command has come for a moment, and every
            // so many batches under sustained load; always after everything decided is durable,
            // so an evicted document's stream in the log is complete.
            let first = match receiver.recv_timeout(IDLE) {
                Ok(job) => take(job),
                Err(RecvTimeoutError::Timeout) => {
                    if batches_since_eviction > 0 {
                        self.settle();
                        self.evict();
                        batches_since_eviction = 0;
                        if let Some(events) = self.options.snapshot_every_events {
                            self.snapshot_if_due(events);
                        }
                    }
                    match receiver.recv() {
                        Ok(job) => take(job),
                        Err(_) => break,
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch: Vec<(Submission, Reply)> = Vec::new();
            let mut next = Some(first);
            while let Some(job) = next.take() {
                match job {
                    Job::Command(submission, reply) => batch.push((*submission, reply)),
                    Job::Atomic(job) => {
                        // Everything decided before it must be durable first, so a failure of
                        // either leaves a state that can be rebuilt from the log.
                        self.commit(std::mem::take(&mut batch));
                        self.settle();
                        let answer = self.apply_atomically(&job.submissions, job.key.as_deref());
                        let _ = job.reply.send(answer);
                    }
                    Job::Query(read) => {
                        // Reads see only durable state: commit what is pending and wait for it.
                        self.commit(std::mem::take(&mut batch));
                        self.settle();
                        read(&self.state);
                    }
                }
                if batch.len() < self.options.batch_max {
                    next = receiver.try_recv().ok().map(take);
                }
            }
            self.commit(batch);
            batches_since_eviction += 1;
            if batches_since_eviction >= self.options.eviction_interval_batches.max(1) {
                self.settle();
                self.evict();
                batches_since_eviction = 0;
            }
        }
        self.settle();
        if self.options.snapshot_every_events.is_some() {
            // A clean stop leaves a snapshot of everything, so the next start folds nothing.
            self.snapshot_if_due(1);
        }
        let (committer, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.committer, committer));
        if let Some(thread) = self.committer_thread.take() {
            let _ = thread.join();
        }
    }

    /// Waits until everything handed to the committer is durable or failed, then takes note of
    /// the outcome.
    fn settle(&mut self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.committer.send(CommitterJob::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
        self.take_acknowledgements();
    }

    /// Forgets the keys of committed batches; after a failed batch, waits for every batch in
    /// flight, rebuilds the state from the log and lets the committer go on.
    fn take_acknowledgements(&mut self) {
        let mut failed = false;
        while let Ok(acknowledgement) = self.acknowledgements.try_recv() {
            self.in_flight
                .retain(|(batch, _)| *batch != acknowledgement.batch);
            failed |= !acknowledgement.committed;
        }
        if !failed {
            self.retry_recovery();
            return;
        }
        let (done, wait) = mpsc::sync_channel(1);
        if self.committer.send(CommitterJob::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
        while self.acknowledgements.try_recv().is_ok() {}
        self.in_flight.clear();
        // The state holds effects that never reached the log: rebuild it from the log. If even
        // that fails (the log cannot be read), refuse every command until it can be read again.
        if self.recover().is_err() {
            self.state = State::default();
            self.head = u64::MAX;
            self.recovery_failed_at = Some(std::time::Instant::now());
        } else if let Some(faults) = &self.options.faults {
            faults.recovered(&self.tenant);
        }
        let _ = self.committer.send(CommitterJob::Reset);
    }

    /// After a rebuild that failed (a database that went away): tries again, at most once a
    /// second, so the writer comes back by itself when the log can be read again.
    fn retry_recovery(&mut self) {
        if self.head != u64::MAX {
            return;
        }
        if self
            .recovery_failed_at
            .is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(1))
        {
            return;
        }
        if self.recover().is_ok() {
            self.recovery_failed_at = None;
            let _ = self.committer.send(CommitterJob::Reset);
        } else {
            self.state = State::default();
            self.head = u64::MAX;
            self.recovery_failed_at = Some(std::time::Instant::now());
        }
    }

    /// Decides every submission against the state; on the first rejection restores the state
    /// as it was and answers with it, otherwise appends everything in one transaction and waits
    /// for it. Called only when nothing is in flight.
    fn apply_atomically(
        &mut self,
        submissions: &[Submission],
        key: Option<&str>,
    ) -> Result<AtomicAnswer, EngineError> {
        let hash = key
            .map(|_| {
                let encoded: Vec<(&Command, &Option<Timestamp>)> = submissions
                    .iter()
                    .map(|s| (&s.command, &s.business_time))
                    .collect();
                let bytes = serde_json::to_vec(&encoded).unwrap_or_default();
                hex::encode(Sha256::digest(&bytes))
            })
            .unwrap_or_default();
        if let Some(key) = key {
            match self.store.idempotency(&self.tenant, key, &hash) {
                Err(error) => return Err(unavailable(error)),
                Ok(IdempotencyLookup::Absent) => {}
                Ok(IdempotencyLookup::Same { response }) => {
                    return Currency::decoding_recorded(|| {
                        serde_json::from_str::<AtomicOutcome>(&response)
                    })
                    .map(|outcome| AtomicAnswer {
                        outcome,
                        replayed: true,
                    })
                    .map_err(|error| {
                        EngineError::Unavailable(format!(
                            "stored outcome for key `{key}` is unreadable: {error}"
                        ))
                    });
                }
                Ok(IdempotencyLookup::Different) => {
                    return Err(EngineError::IdempotencyKeyReused {
                        key: key.to_string(),
                    });
                }
            }
        }
        let saved = self.state.clone();
        let head_before = self.head;
        let mut records: Vec<CommandRecord> = Vec::with_capacity(submissions.len());
        let mut touched: FxHashSet<(Sku, LocationId)> = FxHashSet::default();
        let mut next_seq = self.head + 1;
        for (index, submission) in submissions.iter().enumerate() {
            let mut unkeyed = submission.clone();
            unkeyed.idempotency_key = None;
            unkeyed.render = false;
            let decision = self.decide_one(
                &unkeyed,
                &mut FxHashMap::default(),
                index,
                &mut records,
                &mut touched,
                &mut next_seq,
            );
            let rejection = match decision {
                Decision::Answer(Ok(Answer {
                    outcome: Outcome::Applied { .. },
                    ..
                })) => None,
                Decision::Answer(Ok(Answer {
                    outcome:
                        Outcome::Rejected {
                            code,
                            message,
                            details,
                        },
                    ..
                })) => Some(Ok(AtomicOutcome::Rejected {
                    index,
                    code,
                    message,
                    details,
                })),
                Decision::Answer(Err(error)) => Some(Err(error)),
                // Without keys no submission can be a retry of another.
                Decision::SameAs(_) => None,
            };
            if let Some(rejection) = rejection {
                self.state = saved;
                self.head = head_before;
                return rejection.map(|outcome| AtomicAnswer {
                    outcome,
                    replayed: false,
                });
            }
        }
        let events = next_seq - 1 - head_before;
        let outcome = AtomicOutcome::Applied {
            commands: submissions.len() as u64,
            events,
            first_seq: head_before + 1,
        };
        if let Some(key) = key {
            records.push(CommandRecord {
                events: Vec::new(),
                expected: Vec::new(),
                idempotency: Some(IdempotencyRecord {
                    key: key.to_string(),
                    request_hash: hash,
                    response: serde_json::to_string(&outcome).unwrap_or_default(),
                }),
            });
        }
        let request = AppendRequest {
            tenant: self.tenant.clone(),
            expected_seq: head_before,
            recorded_at: self.options.clock.now(),
            commands: records,
            balances: self.balance_rows(&touched),
        };
        self.note_start(&request);
        self.head = next_seq - 1;
        let (reply, answer) = mpsc::sync_channel(1);
        let batch = self.next_batch;
        self.next_batch += 1;
        let job = CommitterJob::Commit(CommitJob {
            batch,
            request: Some(request),
            replies: vec![Pending {
                reply: Reply::Thread(reply),
                result: Ok(Answer {
                    outcome: Outcome::Applied {
                        events: Vec::new(),
                        document: None,
                    },
                    replayed: false,
                }),
            }],
        });
        if self.committer.send(job).is_err() {
            return Err(EngineError::Stopped);
        }
        // Waits for durability; a failed append has the writer rebuild its state from the log.
        let committed = answer.recv().map_err(|_| EngineError::Stopped)?;
        self.settle();
        committed.map(|_| AtomicAnswer {
            outcome,
            replayed: false,
        })
    }

    /// Decides and applies every command of the batch, then hands the batch's events to the
    /// committer, which answers once they are durable.
    fn commit(&mut self, batch: Vec<(Submission, Reply)>) {
        if batch.is_empty() {
            return;
        }
        self.take_acknowledgements();
        if self.head == u64::MAX {
            // The state could not be rebuilt from the log (nor again just now): nothing can be
            // decided until it is.
            for (_, reply) in batch {
                reply.send(Err(EngineError::Unavailable(
                    "the writer could not recover its state from the log".into(),
                )));
            }
            return;
        }
        self.prefetch(&batch);
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        let mut records: Vec<CommandRecord> = Vec::with_capacity(batch.len());
        let mut keys_in_batch: FxHashMap<String, (String, usize)> = FxHashMap::default();
        let mut touched: FxHashSet<(Sku, LocationId)> = FxHashSet::default();
        let mut next_seq = self.head + 1;
        for (submission, reply) in batch {
            let decision = self.decide_one(
                &submission,
                &mut keys_in_batch,
                pending.len(),
                &mut records,
                &mut touched,
                &mut next_seq,
            );
            let result = match decision {
                Decision::Answer(result) => result,
                // The earlier attempt is always before this one in `pending`.
                Decision::SameAs(first) => pending[first].result.clone().map(|answer| Answer {
                    outcome: answer.outcome,
                    replayed: true,
                }),
            };
            pending.push(Pending { reply, result });
        }
        let keys: Vec<(String, String, Answer)> = keys_in_batch
            .into_iter()
            .filter_map(|(key, (hash, index))| {
                pending[index]
                    .result
                    .clone()
                    .ok()
                    .map(|answer| (key, hash, answer))
            })
            .collect();
        let request = (!records.is_empty()).then(|| AppendRequest {
            tenant: self.tenant.clone(),
            expected_seq: self.head,
            recorded_at: self.options.clock.now(),
            commands: records,
            balances: self.balance_rows(&touched),
        });
        if let Some(request) = &request {
            self.note_start(request);
        }
        self.head = next_seq - 1;
        let batch = self.next_batch;
        self.next_batch += 1;
        if !keys.is_empty() {
            self.in_flight.push_back((batch, keys));
        }
        self.absent.clear();
        let job = CommitterJob::Commit(CommitJob {
            batch,
            request,
            replies: pending,
        });
        if let Err(mpsc::SendError(CommitterJob::Commit(job))) = self.committer.send(job) {
            for pending in job.replies {
                pending.reply.send(Err(EngineError::Stopped));
            }
        }
    }

    fn decide_one(
        &mut self,
        submission: &Submission,
        keys_in_batch: &mut FxHashMap<String, (String, usize)>,
        index: usize,
        records: &mut Vec<CommandRecord>,
        touched: &mut FxHashSet<(Sku, LocationId)>,
        next_seq: &mut u64,
    ) -> Decision {
        if self.head == u64::MAX {
            return Decision::Answer(Err(EngineError::Unavailable(
                "the writer could not recover its state from the log".into(),
            )));
        }
        // Hashing costs a serialisation of the command: only keyed commands pay it.
        let hash = submission
            .idempotency_key
            .as_ref()
            .map(|_| submission.request_hash())
            .unwrap_or_default();
        if let Some(key) = &submission.idempotency_key {
            if let Some((first_hash, first_index)) = keys_in_batch.get(key) {
                if *first_hash != hash {
                    return Decision::Answer(Err(EngineError::IdempotencyKeyReused {
                        key: key.clone(),
                    }));
                }
                return Decision::SameAs(*first_index);
            }
            let earlier = self
                .in_flight
                .iter()
                .flat_map(|(_, keys)| keys)
                .find(|(k, _, _)| k == key);
            if let Some((_, first_hash, answer)) = earlier {
                if *first_hash != hash {
                    return Decision::Answer(Err(EngineError::IdempotencyKeyReused {
                        key: key.clone(),
                    }));
                }
                return Decision::Answer(Ok(Answer {
                    outcome: answer.outcome.clone(),
                    replayed: true,
                }));
            }
            match self.store.idempotency(&self.tenant, key, &hash) {
                Err(error) => return Decision::Answer(Err(unavailable(error))),
                Ok(IdempotencyLookup::Absent) => {}
                Ok(IdempotencyLookup::Same { response }) => {
                    let outcome =
                        Currency::decoding_recorded(|| serde_json::from_str::<Outcome>(&response))
                            .map(|outcome| Answer {
                                outcome,
                                replayed: true,
                            })
                            .map_err(|error| {
                                EngineError::Unavailable(format!(
                                    "stored outcome for key `{key}` is unreadable: {error}"
                                ))
                            });
                    return Decision::Answer(outcome);
                }
                Ok(IdempotencyLookup::Different) => {
                    return Decision::Answer(Err(EngineError::IdempotencyKeyReused {
                        key: key.clone(),
                    }));
                }
            }
            keys_in_batch.insert(key.clone(), (hash.clone(), index));
        }
        if let Err(error) = self.load_documents(&submission.command) {
            return Decision::Answer(Err(error));
        }
        let now = self.options.clock.now();
        let ctx = Context {
            at: submission.business_time.unwrap_or(now),
        };
        let window = self
            .state
            .settings
            .as_ref()
            .map(|settings| settings.business_time)
            .unwrap_or_default();
        let decided = window
            .check("occurred_at", ctx.at, self.started.unwrap_or(now), now)
            .and_then(|()| decide(&self.state, &submission.command, &ctx));
        let (outcome, events) = match decided {
            Ok(events) => {
                if !events.is_empty() {
                    self.latest_business = self.latest_business.max(ctx.at);
                }
                let mut recorded = Vec::with_capacity(events.len());
                let mut new_events = Vec::with_capacity(events.len());
                // Each event's stream, named once, and whether its record existed before the
                // command (read before any of its events is applied).
                let streams: Vec<(String, bool)> = events
                    .iter()
                    .map(|event| {
                        let stream = event.stream();
                        let existed = retention::has_record(&self.state, &stream);
                        (stream, existed)
                    })
                    .collect();
                for (event, (stream, existed)) in events.iter().zip(streams) {
                    apply(&mut self.state, event);
                    if let Some(effects) = event.effects() {
                        touched.extend(effects.moves.iter().flat_map(|m| {
                            [
                                (m.sku.clone(), m.from.clone()),
                                (m.sku.clone(), m.to.clone()),
                            ]
                        }));
                        touched.extend(
                            effects
                                .reservations
                                .iter()
                                .map(|r| (r.sku.clone(), r.location.clone())),
                        );
                    }
                    recorded.push(RecordedEvent {
                        seq: *next_seq,
                        stream: stream.clone(),
                        event_type: event.type_name().to_string(),
                        created: !existed,
                    });
                    *next_seq += 1;
                    new_events.push(NewEvent {
                        stream,
                        event_type: event.type_name().to_string(),
                        schema_version: Event::SCHEMA_VERSION,
                        business_time: ctx.at,
                        payload: event.to_json(),
                    });
                }
                let document = submission
                    .render
                    .then(|| {
                        flowline_core::rendered::changed_document_json(
                            &self.state,
                            &submission.command,
                            &events,
                        )
                    })
                    .flatten()
                    .map(DocumentJson);
                (
                    Outcome::Applied {
                        events: recorded,
                        document,
                    },
                    new_events,
                )
            }
            Err(error) => (Outcome::rejected(&error), Vec::new()),
        };
        let idempotency = submission
            .idempotency_key
            .as_ref()
            .map(|key| IdempotencyRecord {
                key: key.clone(),
                request_hash: hash,
                response: serde_json::to_string(&outcome).unwrap_or_default(),
            });
        if !events.is_empty() || idempotency.is_some() {
            records.push(CommandRecord {
                events,
                expected: Vec::new(),
                idempotency,
            });
        }
        Decision::Answer(Ok(Answer {
            outcome,
            replayed: false,
        }))
    }

    /// Brings back into memory the documents a command names that left it (see
    /// `flowline_core::retention`). A document only leaves memory when all its events are
    /// durable, so its stream in the log is complete.
    /// Brings into memory, in one read of the log, the documents the batch's commands name
    /// that memory does not hold, and notes the streams the log does not have either (new
    /// documents), so that deciding the batch reads the log only for documents they lead to.
    fn prefetch(&mut self, batch: &[(Submission, Reply)]) {
        let mut names: Vec<String> = batch
            .iter()
            .flat_map(|(submission, _)| submission.command.streams())
            .filter(|name| !retention::holds_stream(&self.state, name))
            .collect();
        if names.len() < 2 {
            return; // one read either way
        }
        names.sort_unstable();
        names.dedup();
        let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        // A failed read leaves everything to the command-by-command reads, which answer it.
        let Ok(stored) = self.store.read_streams(&self.tenant, &wanted) else {
            return;
        };
        let mut found: FxHashSet<&str> = FxHashSet::default();
        for event in &stored {
            found.insert(event.stream.as_str());
        }
        let mut decoded = Vec::with_capacity(stored.len());
        for event in &stored {
            match decode(&self.tenant, event) {
                Ok(event) => decoded.push(event),
                // Left to the command's own read, which reports it.
                Err(_) => return,
            }
        }
        for event in &decoded {
            retention::apply_document(&mut self.state, event);
        }
        for name in names {
            if !found.contains(name.as_str()) {
                self.absent.insert(name);
            }
        }
    }

    fn load_documents(&mut self, command: &Command) -> Result<(), EngineError> {
        let mut wanted = command.streams();
        // A return brings its sales order; nothing chains further than that.
        for _ in 0..4 {
            let mut related = Vec::new();
            for name in wanted.drain(..) {
                if !retention::holds_stream(&self.state, &name) && !self.absent.contains(&name) {
                    for stored in self
                        .store
                        .read_stream(&self.tenant, &name)
                        .map_err(unavailable)?
                    {
                        let event = decode(&self.tenant, &stored)?;
                        retention::apply_document(&mut self.state, &event);
                    }
                }
                related.extend(retention::related_streams(&self.state, &name));
            }
            if related.is_empty() {
                break;
            }
            wanted = related;
        }
        Ok(())
    }

    /// Lets settled documents leave memory. Only called when nothing is in flight.
    fn evict(&mut self) {
        let now = self.options.clock.now().max(self.latest_business);
        let horizon = return_horizon(&self.state, now);
        retention::evict_settled(&mut self.state, horizon);
    }

    fn balance_rows(&self, touched: &FxHashSet<(Sku, LocationId)>) -> Vec<BalanceRow> {
        touched
            .iter()
            .map(|(sku, location)| {
                let balance = self.state.stock.balance(sku, location);
                BalanceRow {
                    item: sku.to_string(),
                    location: location.to_string(),
                    on_hand: balance.on_hand,
                    reserved: balance.reserved,
                    value_minor: balance.value_minor,
                }
            })
            .collect()
    }
}

/// Sales orders delivered before this instant can no longer be returned under any policy, so
/// once closed they may leave memory: `now` less the longest return window and a day. `now` is
/// the later of the clock and the tenant's latest business time: a log whose business runs
/// ahead of the clock (a simulated one served on a real clock) would otherwise keep every order
/// of its last weeks in memory. A document that left memory comes back from its stream if a
/// command names it, so leaving early costs a read, never an answer.
fn return_horizon(state: &State, now: Timestamp) -> Timestamp {
    let window_days = state
        .return_policies
        .values()
        .map(|policy| policy.window_days)
        .max()
        .unwrap_or(0);
    let hours = window_days.saturating_add(1).saturating_mul(24);
    jiff::SignedDuration::try_from_hours(hours)
        .and_then(|window| now.checked_sub(window).ok())
        .unwrap_or(Timestamp::MIN)
}

fn decode(tenant: &TenantId, stored: &flowline_store::StoredEvent) -> Result<Event, EngineError> {
    Event::from_json(&stored.event_type, stored.schema_version, &stored.payload).map_err(|reason| {
        EngineError::Unavailable(format!("event {} of tenant {tenant}: {reason}", stored.seq))
    })
}

/// How long the queue must stay empty before the writer counts as idle.
const IDLE: std::time::Duration = std::time::Duration::from_millis(20);

/// Rebuilds a tenant's whole state from its log, returning it with the last sequence number.
pub fn replay(store: &dyn EventStore, tenant: &TenantId) -> Result<(State, u64), EngineError> {
    let mut tracked = projections::Tracked {
        projection: WriterState::default(),
        head: 0,
    };
    projections::catch_up(store, tenant, &mut tracked, &|| false, &mut |_| {})
        .map_err(projection_error)?;
    Ok((tracked.projection.state, tracked.head))
}

fn projection_error(error: projections::ProjectionError) -> EngineError {
    EngineError::Unavailable(error.to_string())
}

/// The writer's state as a projection of the log: what it holds in memory, and when the
/// tenant's first event was recorded (the start of its business-time window).
#[derive(Debug, Default)]
pub struct WriterState {
    /// The state.
    pub state: State,
    /// When the first event was recorded.
    pub started: Option<Timestamp>,
}

impl flowline_core::projection::Projection for WriterState {
    const NAME: &'static str = "writer";
    const VERSION: u32 = 1;

    fn apply(&mut self, position: flowline_core::projection::Position, event: &Event) {
        apply(&mut self.state, event);
        self.started = self.started.or(Some(position.recorded_at));
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        flowline_core::codec::encode(&(&self.state, &self.started))
            .map_err(|error| error.to_string())
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let (state, started) =
            flowline_core::codec::decode(bytes).map_err(|error| error.to_string())?;
        Ok(Self { state, started })
    }
}
