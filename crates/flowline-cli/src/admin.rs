//! `flowline serve`, `flowline tenant ...` and `flowline key ...`.

use crate::backend;
use anyhow::Context as _;
use flowline_core::Command;
use flowline_core::id::TenantId;
use flowline_core::master::TimeZoneName;
use flowline_core::money::Currency;
use flowline_core::state::ConfigureTenant;
use flowline_engine::{Engine, EngineOptions, Outcome, Submission};
use flowline_server::auth::{Role, issue_limited_key};
use flowline_server::{ServeOptions, start};
use flowline_store::{Store, TenantRecord};
use jiff::Timestamp;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `flowline tenant ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TenantCommand {
    /// Register a tenant, and configure it with --currency and --time-zone.
    ///
    /// Configure it before the server serves the tenant, or later through PUT /v1/settings.
    Create {
        /// Tenant id (letters, digits, . _ - :, starting with a letter or digit).
        tenant: String,
        /// Display name (the id by default).
        #[arg(long)]
        name: Option<String>,
        /// Base currency (ISO 4217), to configure the tenant now.
        #[arg(long, requires = "time_zone")]
        currency: Option<String>,
        /// Reporting time zone (IANA), to configure the tenant now.
        #[arg(long, requires = "currency")]
        time_zone: Option<String>,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
    /// List registered tenants.
    List {
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
    /// Move a tenant's log to another PostgreSQL cluster (with --database-url, the home
    /// database, and --cluster NAME=URL for the others), while servers keep serving it.
    ///
    /// The log is copied while the tenant's writer still writes; then the writer is fenced
    /// (its commands are answered 503 with Retry-After for the moment), what it appended
    /// meanwhile is copied, the copy is compared with the source (log SHA-256, idempotency
    /// records, balances) and checked as `flowline check` does, and the tenant is routed to
    /// the new cluster, where the next command starts its writer. The old cluster keeps its
    /// copy, fenced for good. A move that stopped half way goes on from its copy when run again.
    Move {
        /// The tenant.
        tenant: String,
        /// The cluster to move it to, as named by --cluster; `home` for the home database.
        #[arg(long, value_name = "NAME")]
        to: String,
    },
}

/// `flowline key ...`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print it once. Only its hash is stored.
    Create {
        /// The tenant the key acts for.
        #[arg(long)]
        tenant: String,
        /// admin, operator, viewer or integration.
        #[arg(long)]
        role: String,
        /// What the key is for.
        #[arg(long, default_value = "")]
        label: String,
        /// The key's own rate limit in requests a second (bursts of twice that), instead of the
        /// server's --rate-per-key; the tenant's budget still applies.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        rate_per_second: Option<u32>,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
    /// List a tenant's keys (ids, roles, labels; never secrets).
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
    /// Set or clear a key's own rate limit.
    ///
    /// A running server applies it from the key's next request.
    Limit {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The key id (the 16 hex digits after `flk_`).
        key_id: String,
        /// Requests a second (1 to 1000000, bursts of twice that), or `default` for the
        /// server's --rate-per-key.
        #[arg(long, value_name = "N|default", value_parser = parse_key_rate)]
        rate_per_second: KeyRate,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
    /// Revoke a key: it is refused from the next request on.
    Revoke {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The key id (the 16 hex digits after `flk_`).
        key_id: String,
        /// The SQLite event log.
        #[arg(long, value_name = "FILE", default_value = crate::DEFAULT_DB, env = "FLOWLINE_DB")]
        db: PathBuf,
    },
}

/// A key's rate limit as `flowline key limit` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRate {
    /// The server's per-key default.
    Default,
    /// Its own, in requests a second.
    PerSecond(u32),
}

fn parse_key_rate(text: &str) -> Result<KeyRate, String> {
    if text == "default" {
        return Ok(KeyRate::Default);
    }
    match text.parse::<u32>() {
        Ok(rate @ 1..=1_000_000) => Ok(KeyRate::PerSecond(rate)),
        _ => Err(format!(
            "`{text}`: expected a whole number of requests a second from 1 to 1000000, or `default`"
        )),
    }
}

fn tenant_id(text: &str) -> anyhow::Result<TenantId> {
    TenantId::parse(text).with_context(|| format!("`{text}` is not a valid tenant id"))
}

/// Opens a log that must exist already: a command about keys never creates a database, so a
/// mistyped `--db` is reported instead of leaving an empty file behind. (A PostgreSQL
/// database is there or not: opening it says which.)
fn open_existing(db: &Path) -> anyhow::Result<Box<dyn Store>> {
    if !backend::is_postgres() && !db.is_file() {
        anyhow::bail!(
            "{} does not exist: create a tenant first (`flowline tenant create`), or give the \
             database with --db or FLOWLINE_DB",
            db.display()
        );
    }
    open(db)
}

fn open(db: &Path) -> anyhow::Result<Box<dyn Store>> {
    backend::open(db).with_context(|| format!("cannot open {}", backend::name(db)))
}

/// Runs `flowline tenant ...`.
pub fn tenant(command: TenantCommand) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Create {
            tenant,
            name,
            currency,
            time_zone,
            db,
        } => {
            let tenant = tenant_id(&tenant)?;
            let configure = match (currency, time_zone) {
                (Some(currency), Some(time_zone)) => Some(ConfigureTenant {
                    business_time: None,
                    // Upper case is ISO 4217's spelling; the command line forgives `usd`.
                    base_currency: Currency::parse(&currency.to_ascii_uppercase())
                        .map_err(|error| anyhow::anyhow!("--currency: {error}"))?,
                    reporting_time_zone: TimeZoneName::parse(&time_zone)
                        .map_err(|error| anyhow::anyhow!("--time-zone: {error}"))?,
                }),
                _ => None,
            };
            let mut store = open(&db)?;
            store
                .register_tenant(&TenantRecord {
                    tenant: tenant.clone(),
                    name: name.unwrap_or_else(|| tenant.to_string()),
                    created_at: Timestamp::now(),
                })
                .with_context(|| format!("cannot register tenant {tenant}"))?;
            drop(store);
            outln!(
                "registered tenant {tenant} in {}",
                crate::backend::name(&db)
            );
            if let Some(configure) = configure {
                let engine = Engine::open(backend::durable(&db)?, EngineOptions::default())
                    .with_context(|| format!("cannot open {}", backend::name(&db)))?;
                let answer = engine
                    .submit(
                        &tenant,
                        Submission::new(Command::ConfigureTenant(configure)),
                    )
                    .with_context(|| format!("cannot configure tenant {tenant}"))?;
                if let Outcome::Rejected { message, .. } = answer.outcome {
                    anyhow::bail!("cannot configure tenant {tenant}: {message}");
                }
                outln!("configured tenant {tenant}");
            }
            Ok(ExitCode::SUCCESS)
        }
        TenantCommand::List { db } => {
            let store = backend::read(&db)
                .with_context(|| format!("cannot open {}", backend::name(&db)))?;
            for record in store.registered_tenants()? {
                outln!("{}\t{}\t{}", record.tenant, record.name, record.created_at);
            }
            Ok(ExitCode::SUCCESS)
        }
        TenantCommand::Move { tenant, to } => move_tenant(&tenant_id(&tenant)?, &to),
    }
}

/// `flowline tenant move`.
fn move_tenant(tenant: &TenantId, to: &str) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let to = (to != "home").then_some(to);
    let mut summary = None;
    let moved = backend::move_tenant::<anyhow::Error>(
        tenant,
        to,
        &mut |source, target, after| crate::migrate::copy_events(source, target, tenant, after),
        &mut |source, target, head| {
            let (keys, balances) =
                crate::migrate::copy_keys_and_balances(source, target, tenant, head)?;
            let (hash, events, all_keys) = crate::migrate::verify_copy(source, target, tenant)?;
            let report = flowline_engine::check::check_one(target, tenant)?;
            if !report.is_clean() {
                for finding in &report.findings {
                    outln!("{finding}");
                }
                anyhow::bail!("the copy of tenant `{tenant}` does not pass `flowline check`");
            }
            summary = Some((hash, events, all_keys, keys, balances));
            Ok(())
        },
    )?;
    let name = |cluster: &Option<String>| cluster.clone().unwrap_or_else(|| "home".to_string());
    if let Some((hash, events, all_keys, _, balances)) = summary {
        outln!(
            "Moved tenant {tenant} from {} to {} in {:.1} s: {events} events ({} copied while \
             its writer wrote, {} after it was fenced{}), {all_keys} idempotency records, \
             {balances} balances; log SHA-256 {hash} on both; `flowline check` of the copy: ok.",
            name(&moved.from),
            name(&moved.to),
            started.elapsed().as_secs_f64(),
            moved.copied_before_fence,
            moved.copied_after_fence,
            if moved.resumed_at > 0 {
                format!(
                    ", going on from the {} an earlier move copied",
                    moved.resumed_at
                )
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `flowline key ...`.
pub fn key(command: KeyCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeyCommand::Create {
            tenant,
            role,
            label,
            rate_per_second,
            db,
        } => {
            let tenant = tenant_id(&tenant)?;
            let role = Role::parse(&role).map_err(|error| anyhow::anyhow!("--role: {error}"))?;
            let mut store = open_existing(&db)?;
            let issued = issue_limited_key(
                store.as_mut(),
                &tenant,
                role,
                &label,
                rate_per_second,
                Timestamp::now(),
            )
            .with_context(|| format!("cannot create a key for tenant {tenant}"))?;
            eprintln!(
                "created {} key {} for tenant {tenant}; it is shown once and cannot be recovered:",
                role.as_str(),
                issued.record.key_id
            );
            outln!("{}", issued.plaintext);
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::List { tenant, db } => {
            let tenant = tenant_id(&tenant)?;
            let store = backend::read(&db)
                .with_context(|| format!("cannot open {}", backend::name(&db)))?;
            for record in store.keys(&tenant)? {
                let status = match record.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_string(),
                };
                let rate = match record.requests_per_second {
                    Some(rate) => format!("{rate}/s"),
                    None => "default rate".to_string(),
                };
                outln!(
                    "{}\t{}\t{}\t{rate}\t{}\t{}",
                    record.key_id,
                    record.role,
                    status,
                    record.created_at,
                    record.label
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Limit {
            tenant,
            key_id,
            rate_per_second,
            db,
        } => {
            let tenant = tenant_id(&tenant)?;
            let mut store = open_existing(&db)?;
            let rate = match rate_per_second {
                KeyRate::Default => None,
                KeyRate::PerSecond(rate) => Some(rate),
            };
            if !store.set_key_rate(&tenant, &key_id, rate)? {
                eprintln!("tenant {tenant} has no key {key_id}");
                return Ok(ExitCode::from(1));
            }
            match rate {
                Some(rate) => outln!(
                    "key {key_id} of tenant {tenant} may make {rate} requests a second \
                     (bursts of {})",
                    u64::from(rate) * 2
                ),
                None => outln!("key {key_id} of tenant {tenant} has the server's default rate"),
            }
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Revoke { tenant, key_id, db } => {
            let tenant = tenant_id(&tenant)?;
            let mut store = open_existing(&db)?;
            if !store.revoke_key(&tenant, &key_id, Timestamp::now())? {
                eprintln!("tenant {tenant} has no key {key_id}");
                return Ok(ExitCode::from(1));
            }
            outln!("revoked key {key_id} of tenant {tenant}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Logs to standard error: text by default, JSON objects with `--log-json`; the level from
/// `FLOWLINE_LOG` (default `info`).
pub fn init_logging(json: bool) {
    init_logging_at(json, "info");
}

/// Logs warnings to standard error (the level from `FLOWLINE_LOG` when set): for the commands
/// that print a report on standard output, so a user hears why one was slow (a snapshot
/// ignored, say) without the report being mixed with progress lines.
pub fn init_warnings() {
    init_logging_at(false, "warn");
}

fn init_logging_at(json: bool, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLOWLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only for a person at a terminal, not in a file or a pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // Initialising twice (in tests) is harmless; the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// How `flowline serve` shares a PostgreSQL log with other `flowline serve` processes.
#[derive(Debug, Clone, clap::Args)]
pub struct ShareArgs {
    /// The address other processes send this one's clients to, when this process writes a
    /// tenant they are asked about (`http://10.0.0.5:8080`). Defaults to `http://` and the bind
    /// address, which must then be one the others can reach. Used on PostgreSQL only.
    #[arg(long, value_name = "URL", env = "FLOWLINE_ADVERTISE")]
    pub advertise: Option<String>,
    /// How long a tenant's writer lease lasts unless renewed (it is renewed every third of
    /// that): the longest a killed process's tenants wait before another takes them over.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_seconds: u64,
    /// Serve reads from this streaming replica of the `--database-url` database and write
    /// nothing: lists, documents, the scorecard and the dashboard come from the replica, and
    /// commands are sent to their tenants' writers. `GET /health` says how far behind it is.
    #[arg(long, value_name = "URL", env = "FLOWLINE_REPLICA_URL")]
    pub replica_url: Option<String>,
}

impl Default for ShareArgs {
    fn default() -> Self {
        Self {
            advertise: None,
            lease_seconds: 10,
            replica_url: None,
        }
    }
}

impl ShareArgs {
    /// The lease this process claims for each tenant it writes: as holder, the host, the
    /// process id and a random part, so two processes never take each other for the same.
    fn claim(&self, bind: SocketAddr) -> flowline_store::LeaseClaim {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "host".to_string());
        let mut random = [0u8; 4];
        // The process id alone tells the processes of one host apart; the random part only
        // guards against a reused id.
        let _ = getrandom::fill(&mut random);
        flowline_store::LeaseClaim {
            holder: format!("{host}:{}:{}", std::process::id(), hex::encode(random)),
            address: self
                .advertise
                .clone()
                .unwrap_or_else(|| format!("http://{bind}")),
            ttl: std::time::Duration::from_secs(self.lease_seconds),
        }
    }
}

/// The bounds `flowline serve` puts on callers.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Requests a second each API key may make, sustained (bursts of twice that); 0: no limit.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100.0,
        env = "FLOWLINE_RATE_PER_KEY"
    )]
    rate_per_key: f64,
    /// Requests a second each tenant may make over all its keys (bursts of twice that); 0: no
    /// limit.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200.0,
        env = "FLOWLINE_RATE_PER_TENANT"
    )]
    rate_per_tenant: f64,
    /// Connections open at once; one more is closed at once.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a request's handler may take before the client is told to retry (503).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    request_timeout: u64,
}

impl LimitArgs {
    /// The server's limits.
    pub fn limits(&self) -> flowline_server::ServerLimits {
        let rate = |per_second: f64| {
            if per_second > 0.0 {
                flowline_server::rate::Rate::per_second(per_second)
            } else {
                flowline_server::rate::Rate::UNLIMITED
            }
        };
        flowline_server::ServerLimits {
            connections: flowline_server::connections::Limits {
                max_connections: self.max_connections.max(1),
                request_timeout: std::time::Duration::from_secs(self.request_timeout.max(1)),
                ..Default::default()
            },
            rate: flowline_server::rate::RateLimits {
                per_key: rate(self.rate_per_key),
                per_tenant: rate(self.rate_per_tenant),
            },
        }
    }
}

/// Runs `flowline serve` until Ctrl-C or SIGTERM.
pub fn serve(
    bind: SocketAddr,
    db: &Path,
    log_json: bool,
    limits: flowline_server::ServerLimits,
    cors: &flowline_server::cors::Origins,
    share: &ShareArgs,
) -> anyhow::Result<()> {
    init_logging(log_json);
    // Opened before the runtime starts: a database client may run its own.
    let primary =
        backend::durable(db).with_context(|| format!("cannot open {}", backend::name(db)))?;
    let (log, primary) = match &share.replica_url {
        None => (primary, None),
        Some(_) if backend::has_clusters() => anyhow::bail!(
            "--replica-url with --cluster is not supported yet: a process serving from a replica \
             reads one database, and with --cluster the tenants are on several"
        ),
        Some(replica) => {
            let Some(primary_url) = backend::database_url() else {
                anyhow::bail!(
                    "--replica-url needs --database-url (or FLOWLINE_DATABASE_URL) naming the \
                     primary the replica follows"
                );
            };
            let log = backend::postgres_replica(replica, &primary_url)
                .with_context(|| format!("cannot read the replica {}", backend::redact(replica)))?;
            (log, Some(primary))
        }
    };
    let follow = primary.is_some();
    let durability = backend::durability(db)
        .with_context(|| format!("cannot read back the durability of {}", backend::name(db)))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let options = ServeOptions {
            cors: cors.clone(),
            bind,
            log,
            limits,
            primary,
        };
        // On a shared database each tenant is written by one process at a time, under a lease;
        // a process serving from a replica writes none.
        let engine = EngineOptions {
            lease: (backend::is_postgres() && !follow).then(|| share.claim(bind)),
            follow,
            ..EngineOptions::default()
        };
        let stop = shutdown_signal();
        let running = start(&options, engine).await?;
        // The store refuses a connection whose pragmas read back other than asked; say what
        // they are, read back on a connection opened as the engine opens its own, so the
        // operator (and a test) sees the durability the log is written with.
        eprintln!(
            "flowline durability of {}: {durability}",
            backend::name(db)
        );
        eprintln!(
            "flowline serving {} on http://{} (dashboard: http://{}/, OpenAPI: http://{}/v1/openapi.json)",
            backend::name(db),
            running.address,
            running.address,
            running.address
        );
        stop.await;
        tracing::info!("shutting down: finishing requests in flight");
        running.shutdown().await?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

/// The name of a `PRAGMA synchronous` value.
/// Waits for Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal sent as soon as the banner is out is caught.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
