//! Read-only connections to the log, for the reads that do not go through a tenant's writer:
//! API keys, the event feed and documents folded from their streams.
//!
//! A store's reads see only committed writes, so what they return is durable, and on the
//! embedded backend they never block the writer. Handles are pooled (a database connection
//! caches prepared statements) and used on tokio's blocking threads, because store calls
//! block.
//!
//! Reports (scorecards, metric drill-downs, the dashboard's folds) run instead on the report
//! lane: a few threads of their own at a lower scheduling priority (nice 10). Their work grows
//! with the range and the log asked about, a single one can take a core for a second; at the
//! lower priority the operating system gives the core back at once to a tenant's writer or an
//! order's request that wakes up, so one tenant's reports cannot lengthen another's orders,
//! while an otherwise idle machine still runs them at full speed.

use crate::error::{ApiError, Code};
use flowline_store::{SharedBackend, Store, StoreError};
use serde_json::json;
use std::sync::{Arc, Mutex, mpsc};

/// Connections kept open between requests; more are opened under load and closed after.
const POOL_SIZE_MAX: usize = 64;

/// Reports waiting for a thread of the report lane; one more is refused with 503 `busy`.
const REPORTS_QUEUED_MAX: usize = 256;

/// How much lower than the server's the report lane's scheduling priority is (a nice value).
const REPORT_NICENESS: i32 = 10;

/// A pool of read-only handles on one log.
#[derive(Clone)]
pub struct Readers {
    backend: SharedBackend,
    idle: Arc<Mutex<Vec<Box<dyn Store>>>>,
    reports: mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Readers {
    /// A pool on the log `backend` opens, with its report lane: one thread per core, started
    /// now.
    pub fn new(backend: SharedBackend) -> Self {
        let (reports, jobs) = mpsc::sync_channel::<Job>(REPORTS_QUEUED_MAX);
        let jobs = Arc::new(Mutex::new(jobs));
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        for index in 0..threads {
            let jobs = jobs.clone();
            let started = std::thread::Builder::new()
                .name(format!("flowline-report-{index}"))
                .spawn(move || report_lane(&jobs));
            if let Err(error) = started {
                tracing::error!(%error, "cannot start a report thread");
            }
        }
        Self {
            backend,
            idle: Arc::new(Mutex::new(Vec::new())),
            reports,
        }
    }

    /// Runs `read` on a connection on the report lane (see the module's documentation). A
    /// full lane refuses with 503 `busy`.
    pub async fn report<R, F>(&self, read: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<R, ApiError> + Send + 'static,
    {
        let pool = self.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(pool.with_store(read));
        });
        self.reports.try_send(job).map_err(|_| {
            ApiError::new(
                Code::Busy,
                "the server is computing as many reports as it queues; retry shortly",
                json!({ "queued_reports": REPORTS_QUEUED_MAX }),
            )
            .retry_after(1)
        })?;
        answered
            .await
            .map_err(|_| ApiError::internal("a report thread stopped before answering"))?
    }

    /// Runs `read` on a connection on a thread of its own, which has ended when this returns.
    /// For the few reads that use far more memory for a while than they keep, such as restoring
    /// a scorecard fold from its snapshot: an allocator that hands a thread's freed pages back
    /// to the system only when the thread next allocates (mimalloc does) hands them back when
    /// the thread ends, instead of leaving them with a pooled thread that may sit idle.
    pub async fn read_alone<R, F>(&self, read: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<R, ApiError> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let alone = std::thread::Builder::new()
                .name("flowline-restore".to_string())
                .spawn(move || pool.with_store(read))
                .map_err(ApiError::internal)?;
            alone
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Runs `read` on a connection on a blocking thread. Store errors become 500s whose cause is
    /// logged; `read` may return an [`ApiError`] of its own.
    pub async fn read<R, F>(&self, read: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<R, ApiError> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.with_store(read))
            .await
            .map_err(ApiError::internal)?
    }

    /// Runs a read of one row by its key (an API key's record) on the calling task's thread if
    /// a pooled handle is idle: such a read takes microseconds and never waits for the writer,
    /// less than handing it to a blocking thread and back would cost. With no idle handle,
    /// opening one may take a while, so the read goes to a blocking thread as
    /// [`Readers::read`] sends it.
    pub async fn read_row<R, F>(&self, read: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<R, ApiError> + Send + 'static,
    {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(store) => {
                let result = read(store.as_ref());
                self.give_back(store);
                result
            }
            None => self.read(read).await,
        }
    }

    /// Runs `read` on a connection taken from the pool (or opened) and gives it back.
    fn with_store<R>(
        &self,
        read: impl FnOnce(&dyn Store) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let store = self.take().map_err(store_error)?;
        let result = read(store.as_ref());
        self.give_back(store);
        result
    }

    fn take(&self) -> Result<Box<dyn Store>, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(store) => Ok(store),
            None => self.backend.open_reader(),
        }
    }

    fn give_back(&self, store: Box<dyn Store>) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < POOL_SIZE_MAX
        {
            idle.push(store);
        }
    }
}

/// A thread of the report lane: lowers its own priority, then runs reports until the pool is
/// dropped. A report that panics is answered as an internal error (its answer is dropped) and
/// the thread goes on.
fn report_lane(jobs: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else { return };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
            tracing::error!("a report panicked");
        }
    }
}

/// Lowers the calling thread's scheduling priority by [`REPORT_NICENESS`]. On Linux a nice
/// value set on a thread id applies to that thread alone; elsewhere nothing is done.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        let result = rustix::process::getpriority_process(Some(thread)).and_then(|current| {
            rustix::process::setpriority_process(Some(thread), current + REPORT_NICENESS)
        });
        if let Err(error) = result {
            tracing::warn!(%error, "cannot lower the report thread's priority");
        }
    }
}

/// A store error as an API error: a database that cannot be reached (or stays locked) is 503
/// `unavailable` with `Retry-After`, since the same request will pass once it is back; anything
/// else is internal (its cause logged, never sent).
pub fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Unavailable { .. } | StoreError::Busy => {
            tracing::warn!(%error, "event log unavailable");
            ApiError::plain(
                Code::Unavailable,
                "the event log is unavailable; retry with the same idempotency key",
            )
            .retry_after(1)
        }
        other => ApiError::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowline_store_memory::MemoryBackend;

    fn readers() -> (tempfile::TempDir, Readers) {
        let directory = tempfile::tempdir().unwrap();
        (directory, Readers::new(MemoryBackend::shared()))
    }

    /// The nice value in a `/proc/.../stat` line: field 19, counted after the parenthesised
    /// name (state is field 3).
    #[cfg(target_os = "linux")]
    fn nice_in(stat: &str) -> i64 {
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(19 - 3).unwrap().parse().unwrap()
    }

    /// The nice value of each thread of this process whose name starts with `prefix`.
    #[cfg(target_os = "linux")]
    fn nice_values(prefix: &str) -> Vec<i64> {
        let mut values = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let task = task.unwrap().path();
            let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
            if name.starts_with(prefix) {
                values.push(nice_in(
                    &std::fs::read_to_string(task.join("stat")).unwrap(),
                ));
            }
        }
        values
    }

    /// The lane tests count this process's report threads, so they take turns.
    static LANE_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn reports_run_on_threads_ten_nice_steps_below_the_server() {
        let _turn = LANE_TESTS.lock().await;
        let (_directory, readers) = readers();
        // A report waits for its answer, so by then the lane's threads have started.
        let tenants = readers
            .report(|store| flowline_store::EventStore::tenants(store).map_err(ApiError::internal))
            .await
            .unwrap();
        assert!(tenants.is_empty());
        // This test's thread runs at the process's priority, as the server's threads do. A lane
        // thread lowers its priority as it starts, so one that has not run yet may still read
        // the base value: look again for up to 5 s.
        let base = nice_in(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
        let mut lane = nice_values("flowline-report");
        for _ in 0..250 {
            if lane.iter().all(|nice| *nice == (base + 10).min(19)) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            lane = nice_values("flowline-report");
        }
        assert!(!lane.is_empty(), "no report threads found");
        assert!(
            lane.iter().all(|nice| *nice == (base + 10).min(19)),
            "{lane:?} vs {base}"
        );
    }

    #[tokio::test]
    async fn a_report_that_panics_is_an_internal_error_and_the_lane_goes_on() {
        let _turn = LANE_TESTS.lock().await;
        let (_directory, readers) = readers();
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        // More panics than threads: every thread survives its panic to take the next job.
        for _ in 0..threads + 2 {
            let failed = readers
                .report(|_| -> Result<(), ApiError> { panic!("a report bug") })
                .await
                .unwrap_err();
            assert_eq!(
                failed.status(),
                axum::http::StatusCode::INTERNAL_SERVER_ERROR
            );
        }
        assert_eq!(readers.report(|_| Ok(7)).await.unwrap(), 7);
    }
}
