//! `spawn_app`: the real server on port 0 with a fresh SQLite log in a temporary directory (or,
//! with `spawn_app_on_postgres`, a fresh schema of the PostgreSQL test database), and typed
//! helpers to drive it over real HTTP.
//!
//! Every key a test is given is remembered; [`TestApp::finish`] shuts the server down and then
//! scans the log file (with its WAL) and the suite's log output for any of them, so every test
//! also checks that no plaintext key was stored or logged.

use flowline_core::id::TenantId;
use flowline_engine::EngineOptions;
use flowline_server::auth::{Role, issue_key};
use flowline_server::{Running, ServeOptions, start};
use flowline_store::SharedBackend;
use flowline_store::TenantRecord;
use flowline_store_sqlite::SqliteStore;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Where every test of this binary writes its log lines (JSON, debug level for Flowline).
fn log_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("api-logs");
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join(format!("api-{}.log", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let filter = tracing_subscriber::EnvFilter::new("flowline_server=debug,info");
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(Mutex::new(file))
            .init();
        path
    })
}

/// A response: status, headers and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// The problem's `code`, for error responses.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_string()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Panics with the body unless the status is `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Self {
        assert_eq!(self.status.as_u16(), expected, "{}", self.text());
        self
    }
}

/// A tenant with one key per role.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: TenantId,
    pub admin: String,
    pub operator: String,
    pub viewer: String,
    pub integration: String,
}

impl Tenant {
    /// The key of a role.
    pub fn key(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admin,
            Role::Operator => &self.operator,
            Role::Viewer => &self.viewer,
            Role::Integration => &self.integration,
        }
    }
}

/// The server under test.
pub struct TestApp {
    pub address: SocketAddr,
    pub db: PathBuf,
    /// The log the server runs on.
    pub log: SharedBackend,
    pub client: reqwest::Client,
    running: Option<Running>,
    keys: Mutex<Vec<String>>,
    _directory: tempfile::TempDir,
}

/// Starts the server on 127.0.0.1, port 0, with a fresh log and no rate limits (tests of
/// limits use [`spawn_app_with`]).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(flowline_server::ServerLimits {
        rate: flowline_server::rate::RateLimits::UNLIMITED,
        ..Default::default()
    })
    .await
}

/// Starts the server on 127.0.0.1, port 0, with a fresh log and the given limits.
pub async fn spawn_app_with(limits: flowline_server::ServerLimits) -> TestApp {
    spawn_app_serving(limits, flowline_server::cors::Origins::default()).await
}

/// [`spawn_app_with`] with origins allowed to call the API from a browser.
pub async fn spawn_app_serving(
    limits: flowline_server::ServerLimits,
    cors: flowline_server::cors::Origins,
) -> TestApp {
    log_path();
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowline.db");
    let log = flowline_store_sqlite::SqliteBackend::shared(
        &db.clone(),
        flowline_store_sqlite::OpenOptions::durable(),
    )
    .unwrap();
    spawn_app_on(log, db, directory, limits, cors).await
}

/// The server on a fresh schema of the PostgreSQL test database (no rate limits), or `None`
/// when tests on PostgreSQL are skipped (see `flowline_store_postgres::testing`).
pub async fn spawn_app_on_postgres(test: &str) -> Option<TestApp> {
    log_path();
    let backend = flowline_store_postgres::testing::fresh(test)?.unwrap();
    let directory = tempfile::tempdir().unwrap();
    // No file: the key scan of `finish` reads the suite's log output only.
    let db = directory.path().join("no-file.db");
    let limits = flowline_server::ServerLimits {
        rate: flowline_server::rate::RateLimits::UNLIMITED,
        ..Default::default()
    };
    Some(
        spawn_app_on(
            std::sync::Arc::new(backend),
            db,
            directory,
            limits,
            flowline_server::cors::Origins::default(),
        )
        .await,
    )
}

async fn spawn_app_on(
    log: SharedBackend,
    db: PathBuf,
    directory: tempfile::TempDir,
    limits: flowline_server::ServerLimits,
    cors: flowline_server::cors::Origins,
) -> TestApp {
    let options = ServeOptions {
        primary: None,
        cors,
        limits,
        bind: "127.0.0.1:0".parse().unwrap(),
        log: log.clone(),
    };
    let running = start(&options, EngineOptions::default()).await.unwrap();
    TestApp {
        address: running.address,
        db,
        log,
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(128)
            .build()
            .unwrap(),
        running: Some(running),
        keys: Mutex::new(Vec::new()),
        _directory: directory,
    }
}

impl TestApp {
    /// The URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Registers a tenant and issues one key per role (as `flowline tenant create` and
    /// `flowline key create` do); with a currency, configures it through the API.
    pub async fn tenant(&self, id: &str, currency: Option<&str>) -> Tenant {
        let tenant = TenantId::parse(id).unwrap();
        let mut store = self.log.open().unwrap();
        store
            .register_tenant(&TenantRecord {
                tenant: tenant.clone(),
                name: id.to_string(),
                created_at: jiff::Timestamp::now(),
            })
            .unwrap();
        let mut issue = |role| {
            let issued = issue_key(
                store.as_mut(),
                &tenant,
                role,
                "test",
                jiff::Timestamp::now(),
            )
            .unwrap();
            self.keys.lock().unwrap().push(issued.plaintext.clone());
            issued.plaintext
        };
        let made = Tenant {
            id: tenant.clone(),
            admin: issue(Role::Admin),
            operator: issue(Role::Operator),
            viewer: issue(Role::Viewer),
            integration: issue(Role::Integration),
        };
        drop(store);
        if let Some(currency) = currency {
            let body = serde_json::json!({
                "base_currency": currency,
                "reporting_time_zone": "UTC"
            });
            self.put(&made.admin, "/v1/settings", &body)
                .await
                .expect(201);
        }
        made
    }

    /// Issues one more key and remembers it for the final scan.
    pub fn issue(&self, tenant: &TenantId, role: Role) -> (String, String) {
        let mut store = self.log.open().unwrap();
        let issued = issue_key(
            store.as_mut(),
            tenant,
            role,
            "extra",
            jiff::Timestamp::now(),
        )
        .unwrap();
        self.keys.lock().unwrap().push(issued.plaintext.clone());
        (issued.record.key_id, issued.plaintext)
    }

    /// Revokes a key.
    pub fn revoke(&self, tenant: &TenantId, key_id: &str) {
        let mut store = self.log.open().unwrap();
        assert!(
            store
                .revoke_key(tenant, key_id, jiff::Timestamp::now())
                .unwrap()
        );
    }

    /// Sends a request with optional key, JSON body and extra headers.
    pub async fn send(
        &self,
        method: reqwest::Method,
        key: Option<&str>,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> Reply {
        self.send(reqwest::Method::GET, Some(key), path, None, &[])
            .await
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(reqwest::Method::POST, Some(key), path, Some(bytes), &[])
            .await
    }

    pub async fn put(&self, key: &str, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(reqwest::Method::PUT, Some(key), path, Some(bytes), &[])
            .await
    }

    /// POST with an idempotency key.
    pub async fn post_keyed(
        &self,
        key: &str,
        path: &str,
        body: &Value,
        idempotency: &str,
    ) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(
            reqwest::Method::POST,
            Some(key),
            path,
            Some(bytes),
            &[("idempotency-key", idempotency)],
        )
        .await
    }

    /// The tenant's last sequence number, read from the log.
    pub fn head(&self, tenant: &TenantId) -> u64 {
        self.log.open_reader().unwrap().tenant_head(tenant).unwrap()
    }

    /// Audits the log as `flowline check` does: every balance recomputed, every invariant held.
    pub fn check_is_clean(&self) {
        let store = self.log.open_reader().unwrap();
        let report = flowline_engine::check::check(store.as_ref()).unwrap();
        assert!(report.is_clean(), "{:?}", report.findings);
    }

    /// Shuts the server down gracefully and starts another on the same log, at a new address
    /// (with no rate limits).
    pub async fn restart(&mut self) {
        self.shut_down().await;
        let running = self.start_another().await;
        self.address = running.address;
        self.running = Some(running);
    }

    /// Starts one more server on the same log, at an address of its own, as a second process
    /// of the deployment would; it runs until the returned handle is shut down.
    pub async fn start_another(&self) -> Running {
        let options = ServeOptions {
            primary: None,
            cors: flowline_server::cors::Origins::default(),
            limits: flowline_server::ServerLimits {
                rate: flowline_server::rate::RateLimits::UNLIMITED,
                ..Default::default()
            },
            bind: "127.0.0.1:0".parse().unwrap(),
            log: self.log.clone(),
        };
        start(&options, EngineOptions::default()).await.unwrap()
    }

    /// Shuts the server down gracefully now (finishing requests in flight); the files stay for
    /// inspection until [`TestApp::finish`].
    pub async fn shut_down(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
    }

    /// Shuts the server down, then checks that no key given to this test is in the log file
    /// (with its WAL and shared memory) or in the suite's log output so far.
    pub async fn finish(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
        let keys = self.keys.lock().unwrap().clone();
        let mut files: Vec<PathBuf> = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", self.db.display()));
            if path.exists() {
                files.push(path);
            }
        }
        files.push(log_path().clone());
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            for key in &keys {
                assert!(
                    !contains(&bytes, key.as_bytes()),
                    "a plaintext key is in {}",
                    file.display()
                );
                // The secret half alone must not be there either.
                let secret = key.rsplit('_').next().unwrap();
                assert!(
                    !contains(&bytes, secret.as_bytes()),
                    "a key's secret is in {}",
                    file.display()
                );
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// Runs `flowline check` logic on the log: the ledgers recomputed from the events must equal the
/// stored balances and satisfy every invariant.
pub fn check_is_clean(db: &Path) {
    let store = SqliteStore::open_read_only(db).unwrap();
    let report = flowline_engine::check::check(&store).unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
}
