//! `flowline bench startup`: how long a restarted server makes its users wait, without and with
//! snapshots, and how much memory it keeps.
//!
//! Works on a copy of `--db` (the log and its write-ahead file) in a temporary directory, so the
//! file measured is never changed. Then, twice — first with no snapshot (cold), then with the
//! snapshots the first run left when it stopped (warm):
//!
//! 1. starts `flowline serve` on the copy as a child process, as an operator would;
//! 2. signs in to the dashboard and asks for its first page (`/`, the scorecard overview) until
//!    it is answered, and sends one command (`PUT /v1/items/...`, which goes through the
//!    tenant's writer) until it is answered, each timed from the moment the process was
//!    started;
//! 3. waits for the server's warm-up to finish (its writers and folds built) and reads the
//!    process's anonymous resident memory and its peak, and the anonymous memory again once
//!    idle pooled threads have retired (tokio retires a blocking thread after 10 s idle, and
//!    the allocator hands back what a thread freed when the thread ends or allocates again);
//! 4. stops it with SIGTERM (which saves snapshots) and times the stop.
//!
//! Then `flowline metrics` on the copy for the log's latest complete month, cold (snapshots
//! removed) and warm (with the snapshot the cold run saved).

use anyhow::Context as _;
use flowline_core::id::TenantId;
use flowline_server::auth::{Role, issue_key};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Arguments of `flowline bench startup`.
#[derive(Debug, clap::Args)]
pub struct StartupArgs {
    /// The log to measure (a database written by `flowline demo`, for instance). It is copied;
    /// the file itself is not changed.
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// Longest wait for any one step before giving up.
    #[arg(long, default_value_t = 600)]
    timeout_seconds: u64,
}

/// What one start of the server measured.
struct Start {
    first_page: Duration,
    first_command: Duration,
    warm: Duration,
    anonymous_mib: f64,
    settled_mib: f64,
    peak_mib: f64,
    stop: Duration,
    log: Vec<String>,
}

/// How long after the warm-up the memory is read again: past tokio's 10 s keep-alive of an idle
/// blocking thread.
const SETTLE: Duration = Duration::from_secs(12);

/// Runs the benchmark and prints its figures.
pub fn startup(args: &StartupArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.db.exists(), "{} does not exist", args.db.display());
    let directory = tempfile::tempdir()?;
    let copy = directory.path().join("startup.db");
    let started = Instant::now();
    copy_log(&args.db, &copy)?;
    let copied = started.elapsed();
    let (tenant, events, admin, currency) = prepare(&copy)?;
    outln!(
        "flowline bench startup: {} cores, {} ({:.0} MiB, copied in {:.1} s), tenant {tenant}: {events} events",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.db.display(),
        std::fs::metadata(&copy)?.len() as f64 / (1024.0 * 1024.0),
        copied.as_secs_f64()
    );
    let timeout = Duration::from_secs(args.timeout_seconds);
    remove_snapshots(&copy)?;
    let cold = serve_once(&copy, &admin, &currency, "cold", timeout)?;
    let warm = serve_once(&copy, &admin, &currency, "warm", timeout)?;
    outln!(
        "{:<6} {:>12} {:>14} {:>10} {:>14} {:>12} {:>10} {:>8}",
        "start",
        "first page s",
        "first command s",
        "warm s",
        "anonymous MiB",
        "12 s later",
        "peak MiB",
        "stop s"
    );
    for (name, start) in [("cold", &cold), ("warm", &warm)] {
        outln!(
            "{name:<6} {:>12.2} {:>14.2} {:>10.2} {:>14.0} {:>12.0} {:>10.0} {:>8.2}",
            start.first_page.as_secs_f64(),
            start.first_command.as_secs_f64(),
            start.warm.as_secs_f64(),
            start.anonymous_mib,
            start.settled_mib,
            start.peak_mib,
            start.stop.as_secs_f64()
        );
    }
    for line in warm.log.iter().filter(|line| line.contains("restored")) {
        outln!("warm start said: {}", plain(line));
    }
    remove_snapshots(&copy)?;
    let metrics_cold = metrics_once(&copy, timeout)?;
    let metrics_warm = metrics_once(&copy, timeout)?;
    outln!(
        "flowline metrics (latest complete month): cold {:.2} s, with the snapshot the cold run saved {:.2} s",
        metrics_cold.as_secs_f64(),
        metrics_warm.as_secs_f64()
    );
    Ok(())
}

/// A log line without its terminal colours.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(character) = chars.next() {
        if character == '\u{1b}' {
            // An escape sequence: `ESC [` then parameters up to a letter.
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(character);
        }
    }
    out
}

/// Copies the log and its write-ahead file, if any.
fn copy_log(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("cannot copy {}", from.display()))?;
    let mut wal = from.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    if wal.exists() {
        let mut target = to.as_os_str().to_owned();
        target.push("-wal");
        std::fs::copy(&wal, PathBuf::from(target))
            .with_context(|| format!("cannot copy {}", wal.display()))?;
    }
    Ok(())
}

fn remove_snapshots(database: &Path) -> anyhow::Result<()> {
    let directory = crate::backend::snapshot_directory(database);
    match std::fs::remove_dir_all(&directory) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("cannot remove {}", directory.display())),
    }
}

/// The copy's first tenant, its event count, an admin key for it and its base currency.
fn prepare(copy: &Path) -> anyhow::Result<(TenantId, u64, String, String)> {
    let mut store = crate::backend::open(copy)?;
    let tenant: TenantId = match store.tenants()?.as_slice() {
        [first, ..] => first.clone(),
        [] => anyhow::bail!("{} holds no tenant", copy.display()),
    };
    let events = store.tenant_head(&tenant)?;
    let currency = flowline_server::scorecards::settings(store.as_ref(), &tenant, false)?
        .map(|settings| settings.base_currency.to_string())
        .context("the tenant is not configured")?;
    let key = issue_key(
        store.as_mut(),
        &tenant,
        Role::Admin,
        "bench startup",
        jiff::Timestamp::now(),
    )?;
    Ok((tenant, events, key.plaintext, currency))
}

/// A loopback port free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Kills the child on drop, so a failed measurement leaves no server behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve_once(
    copy: &Path,
    admin: &str,
    currency: &str,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<Start> {
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(copy)
        .args(["--rate-per-key", "0", "--rate-per-tenant", "0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start `flowline serve`")?;
    let mut server = Server(child);
    let pid = server.0.id();
    // The server's log, line by line, for the end of its warm-up.
    let (lines, log) = mpsc::channel::<String>();
    let stderr = server.0.stderr.take().context("no stderr")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let base = format!("http://127.0.0.1:{port}");
    let (first_page, first_command) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let deadline = started + timeout;
        // Up: the sign-in page needs no fold.
        let form = loop {
            if let Ok(response) = client.get(format!("{base}/login")).send().await {
                break response;
            }
            anyhow::ensure!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let login = crate::bench_dashboard::cookie_of(&form, "flowline_login")
            .context("no sign-in cookie")?;
        let signed = client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("flowline_login={login}"))
            .body(format!("csrf={login}&next=%2F&key={admin}"))
            .send()
            .await?;
        let session = crate::bench_dashboard::cookie_of(&signed, "flowline_session")
            .context("sign-in failed")?;
        // A page or command that waits longer than the server's request timeout is answered
        // 503; a user would ask again, and so does the bench, until the deadline.
        let page = {
            let client = client.clone();
            let base = base.clone();
            async move {
                loop {
                    let response = client
                        .get(format!("{base}/"))
                        .header("cookie", format!("flowline_session={session}"))
                        .send()
                        .await?;
                    let status = response.status();
                    let _ = response.bytes().await?;
                    if status.is_success() {
                        return anyhow::Ok(started.elapsed());
                    }
                    anyhow::ensure!(
                        status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                            && Instant::now() < deadline,
                        "/ answered {status}"
                    );
                }
            }
        };
        let command = async {
            let body = serde_json::json!({
                "name": "Startup benchmark item",
                "unit_cost": { "amount_minor": 100, "currency": currency },
                "price": { "amount_minor": 300, "currency": currency },
            });
            loop {
                // Under one idempotency key, so a retry after a timeout records it once.
                let response = client
                    .put(format!("{base}/v1/items/BENCH-STARTUP-{name}"))
                    .bearer_auth(admin)
                    .header("idempotency-key", format!("bench-startup-{name}"))
                    .json(&body)
                    .send()
                    .await?;
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status.is_success() {
                    return anyhow::Ok(started.elapsed());
                }
                anyhow::ensure!(
                    status == reqwest::StatusCode::SERVICE_UNAVAILABLE && Instant::now() < deadline,
                    "PUT /v1/items answered {status}: {text}"
                );
            }
        };
        let (page, command) = tokio::join!(page, command);
        anyhow::Ok((page?, command?))
    })?;
    let mut kept = Vec::new();
    let warm = loop {
        let left = (started + timeout).saturating_duration_since(Instant::now());
        let line = log
            .recv_timeout(left)
            .context("the server's warm-up did not finish")?;
        let done = line.contains("warm-up finished");
        kept.push(line);
        if done {
            break started.elapsed();
        }
    };
    let process = pid.to_string();
    let anonymous_mib = crate::bench::status_mib(&process, "RssAnon:");
    std::thread::sleep(SETTLE);
    let (settled_mib, peak_mib) = (
        crate::bench::status_mib(&process, "RssAnon:"),
        crate::bench::status_mib(&process, "VmHWM:"),
    );
    let stopping = Instant::now();
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid)?).context("no pid")?;
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    let exit = server.0.wait()?;
    let stop = stopping.elapsed();
    anyhow::ensure!(exit.success(), "the {name} server exited with {exit}");
    kept.extend(log.try_iter());
    Ok(Start {
        first_page,
        first_command,
        warm,
        anonymous_mib,
        settled_mib,
        peak_mib,
        stop,
        log: kept,
    })
}

fn metrics_once(copy: &Path, timeout: Duration) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut child = Server(
        Command::new(std::env::current_exe()?)
            .arg("metrics")
            .arg("--db")
            .arg(copy)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start `flowline metrics`")?,
    );
    loop {
        if let Some(exit) = child.0.try_wait()? {
            anyhow::ensure!(exit.success(), "`flowline metrics` exited with {exit}");
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < timeout,
            "`flowline metrics` took too long"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
