//! The dashboard in a real browser: the `flowline` binary serves a one-year database
//! (`database::demo_database`) and headless Chromium, driven over WebDriver by chromedriver,
//! signs in, reads every page, drills from a metric to the documents behind it and sets a
//! target through the form; on a small tenant of its own, approves and rejects replenishment
//! proposals on the Plan page. Figures on the pages are compared with `flowline metrics --json`
//! run by the same binary on the same database and period.
//!
//! Screenshots of every page are saved under `<target dir>/dashboard-screenshots/` for CI to
//! keep. `FLOWLINE_DASHBOARD_DB=FILE` runs the tests on a copy of a database `flowline demo`
//! wrote instead of simulating a smaller year. The tests need Debian's `chromium` and `chromium-driver` (installed by `.ci/run`);
//! where they are absent each test says so and returns without checking anything.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

mod database;
mod webdriver;

use flowline_core::id::TenantId;
use flowline_server::auth::{Role, issue_key};
use flowline_store::{Directory, EventStore, LogIndex, TenantRecord};
use flowline_store_sqlite::{OpenOptions, SqliteStore};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use webdriver::{Browser, free_port, missing};

/// The period the comparisons are made over: June 2025, settled (final) long ago.
const FROM: &str = "2025-06-01";
const TO: &str = "2025-07-01";

/// One browser at a time: the machine has two cores.
static BROWSER_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target dir>/tmp.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn screenshot_path(name: &str) -> PathBuf {
    target_dir()
        .join("dashboard-screenshots")
        .join(format!("{name}.png"))
}

/// The database, made once per run of this test binary.
fn base_database() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let directory = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("dashboard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("demo.db");
        match std::env::var_os("FLOWLINE_DASHBOARD_DB") {
            // A database `flowline demo` wrote, copied so the tests' writes leave it alone.
            Some(existing) => {
                for suffix in ["", "-wal"] {
                    let mut from = existing.clone();
                    from.push(suffix);
                    if Path::new(&from).exists() {
                        std::fs::copy(&from, format!("{}{suffix}", path.display())).unwrap();
                    }
                }
            }
            None => database::demo_database(&path),
        }
        path
    })
}

/// The id of the first document of `kind` (a stream kind such as `sales_order`) in the
/// database, read from the log.
fn first_document(kind: &str) -> String {
    let store = SqliteStore::open_read_only(base_database()).unwrap();
    let tenant = TenantId::parse(database::TENANT).unwrap();
    let streams = store.streams_of_kind(&tenant, kind, None, 1).unwrap();
    let stream = streams
        .first()
        .unwrap_or_else(|| panic!("no {kind} in the log"));
    stream.split_once('/').unwrap().1.to_string()
}

fn flowline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(args)
        .output()
        .unwrap()
}

/// `flowline metrics --json` of the comparison period on a database.
fn metrics_json(db: &Path, extra: &[&str]) -> Value {
    let db = db.to_str().unwrap();
    let mut args = vec!["metrics", "--db", db, "--from", FROM, "--to", TO, "--json"];
    args.extend_from_slice(extra);
    let output = flowline(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `flowline serve` on a copy of the database, with a key per role.
struct Served {
    server: Child,
    base: String,
    db: PathBuf,
    admin: String,
    viewer: String,
    _directory: tempfile::TempDir,
}

impl Served {
    async fn start() -> Served {
        let source = base_database();
        let directory = tempfile::tempdir().unwrap();
        let db = directory.path().join("demo.db");
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", source.display()));
            if from.exists() {
                std::fs::copy(&from, format!("{}{suffix}", db.display())).unwrap();
            }
        }
        Self::serve(directory, db).await
    }

    /// `flowline serve` on an empty database where the tenant is registered and has nothing
    /// else, for a test that builds its own small world through the API.
    async fn fresh() -> Served {
        let directory = tempfile::tempdir().unwrap();
        let db = directory.path().join("fresh.db");
        let mut store = SqliteStore::open(&db, &OpenOptions::durable()).unwrap();
        store
            .register_tenant(&TenantRecord {
                tenant: TenantId::parse(database::TENANT).unwrap(),
                name: "Plan test".to_string(),
                created_at: jiff::Timestamp::now(),
            })
            .unwrap();
        drop(store);
        Self::serve(directory, db).await
    }

    /// Issues an admin and a viewer key, and serves the database.
    async fn serve(directory: tempfile::TempDir, db: PathBuf) -> Served {
        let tenant = TenantId::parse(database::TENANT).unwrap();
        let mut store = SqliteStore::open(&db, &OpenOptions::durable()).unwrap();
        let mut key = |role| {
            issue_key(&mut store, &tenant, role, "e2e", jiff::Timestamp::now())
                .unwrap()
                .plaintext
        };
        let (admin, viewer) = (key(Role::Admin), key(Role::Viewer));
        drop(store);
        let port = free_port();
        let server = Command::new(env!("CARGO_BIN_EXE_flowline"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--db",
                db.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("{base}/health")).await.is_err() {
            assert!(Instant::now() < deadline, "flowline serve did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Served {
            server,
            base,
            db,
            admin,
            viewer,
            _directory: directory,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Signs in through the login form.
async fn sign_in(browser: &Browser, served: &Served, key: &str) {
    browser.goto(&served.url("/login")).await;
    let field = browser.one("input[name=key]").await;
    browser.fill(&field, key).await;
    let button = browser.one("form button[type=submit]").await;
    browser.click(&button).await;
    browser.wait_url(|url| !url.contains("/login")).await;
}

/// Fails on any console error and on any request of the page that did not succeed.
async fn assert_clean(browser: &Browser, page: &str) {
    let errors: Vec<String> = browser
        .log()
        .await
        .into_iter()
        .filter(|entry| entry.level == "SEVERE")
        .map(|entry| entry.message)
        .collect();
    assert!(errors.is_empty(), "{page}: console errors: {errors:?}");
    let statuses = browser
        .script(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))\
             .map(e => [e.name, e.responseStatus || 0]);",
        )
        .await;
    let entries = statuses.as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty(), "{page}: no requests seen");
    for entry in entries {
        let status = entry[1].as_i64().unwrap_or(0);
        assert!(
            (200..400).contains(&status),
            "{page}: request {} answered {status}",
            entry[0]
        );
    }
}

/// Skips a test where the browser is not installed, saying why; in CI (`CI` set), where
/// `.ci/run` installs it, a missing browser fails the test instead.
fn skip() -> bool {
    match missing() {
        Some(reason) if std::env::var_os("CI").is_some() => {
            panic!("the browser tests cannot run in CI: {reason}")
        }
        Some(reason) => {
            eprintln!("skipping the browser test: {reason}");
            true
        }
        None => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_with_no_console_errors_and_no_failed_requests() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let browser = Browser::start(true).await;
    browser.goto(&served.url("/login")).await;
    assert_clean(&browser, "/login").await;
    browser.screenshot(&screenshot_path("login")).await;
    sign_in(&browser, &served, &served.admin).await;
    let period = format!("from={FROM}&to={TO}");
    let pages = [
        ("scorecard", format!("/?{period}")),
        (
            "scorecard-quarter",
            "/?period=quarter&at=2025-10-01".to_string(),
        ),
        (
            "metric-perfect-order",
            format!("/scorecard/rl.perfect_order?{period}"),
        ),
        (
            "metric-cycle-time",
            format!("/scorecard/rs.order_cycle_time?{period}"),
        ),
        (
            "documents-perfect-order",
            format!("/scorecard/rl.perfect_order/documents?{period}"),
        ),
        (
            "document-sales-order",
            format!("/documents/sales-orders/{}", first_document("sales_order")),
        ),
        (
            "document-purchase-order",
            format!(
                "/documents/purchase-orders/{}",
                first_document("purchase_order")
            ),
        ),
        ("inventory", "/inventory".to_string()),
        ("orders", format!("/orders?{period}")),
        ("orders-list", "/orders/list?sort=-created".to_string()),
        (
            "list-purchase-orders",
            "/list/purchase-orders?sort=-created".to_string(),
        ),
        ("list-returns", "/list/returns?sort=-updated".to_string()),
        ("list-work-orders", "/list/work-orders".to_string()),
        ("source", format!("/source?{period}")),
        ("make", format!("/make?{period}")),
        ("return", format!("/return?{period}")),
        ("cash", format!("/cash?{period}")),
        ("sustainability", format!("/sustainability?{period}")),
        ("targets", "/targets".to_string()),
        ("plan-demo", "/plan".to_string()),
    ];
    for (name, path) in &pages {
        browser.goto(&served.url(path)).await;
        assert_clean(&browser, path).await;
        let heading = browser.text(&browser.one("main h1").await).await;
        assert!(!heading.is_empty(), "{path}: no heading");
        assert!(
            browser.all("p.error").await.is_empty(),
            "{path}: an error is shown"
        );
        browser.screenshot(&screenshot_path(name)).await;
    }
    // Every page the navigation offers an admin was visited.
    browser.goto(&served.url("/")).await;
    for link in browser.all("header nav a").await {
        let href = browser.attribute(&link, "href").await.unwrap_or_default();
        assert!(
            pages
                .iter()
                .any(|(_, path)| path.split('?').next() == Some(href.as_str())),
            "the navigation links to {href}, which no test visits"
        );
    }
    // With scripts on, the pickers apply on change (progressive enhancement).
    let pickers = browser.one("form.pickers").await;
    let class = browser
        .attribute(&pickers, "class")
        .await
        .unwrap_or_default();
    assert!(class.contains("enhanced"), "{class}");
    browser.quit().await;
}

/// What the page must show for a value of `flowline metrics --json`, worked out here from the
/// JSON alone: the value in its unit with two decimals (money in major units with thousands
/// grouped) and its terms.
fn expected_text(value: &Value, currency: &str) -> (String, String) {
    let grouped = |number: &Value| -> String {
        let digits = number
            .as_i64()
            .map(|n| n.to_string())
            .or_else(|| number.as_str().map(String::from))
            .unwrap_or_default();
        let (sign, digits) = match digits.strip_prefix('-') {
            Some(rest) => ("-", rest.to_string()),
            None => ("", digits),
        };
        let mut out = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index) % 3 == 0 {
                out.push(',');
            }
            out.push(digit);
        }
        format!("{sign}{out}")
    };
    let two = |number: f64| {
        let text = format!("{:.2}", number.abs());
        let (whole, fraction) = text.split_once('.').unwrap();
        let sign = if number < 0.0 && text != "0.00" {
            "-"
        } else {
            ""
        };
        format!(
            "{sign}{}.{fraction}",
            grouped(&Value::from(whole.parse::<i64>().unwrap()))
        )
    };
    let unit = value["unit"].as_str().unwrap();
    let shown = match value["value"].as_f64() {
        None => "no data".to_string(),
        Some(number) => match unit {
            "percent" => format!("{} %", two(number)),
            "days" => format!("{} days", two(number)),
            "hours" => format!("{} h", two(number)),
            "money" => format!("{} {currency}", two(number / 100.0)),
            "grams" => format!("{} g CO2e", two(number)),
            _ => two(number),
        },
    };
    // A figure from the ledger's sums says so, a percentage over records gives its counts.
    let terms = if value["population"] == 0 && !value["value"].is_null() {
        "from ledger totals".to_string()
    } else if unit == "percent" {
        format!(
            "{} of {}",
            grouped(&value["ratio"]["numerator"]),
            grouped(&value["ratio"]["denominator"])
        )
    } else {
        format!("n = {}", grouped(&value["population"]))
    };
    (shown, terms)
}

fn term_text(term: &Value) -> String {
    term.as_i64()
        .map(|n| n.to_string())
        .or_else(|| term.as_str().map(String::from))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scorecard_shows_the_numbers_of_flowline_metrics_json_for_the_same_period() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let report = metrics_json(&served.db, &[]);
    assert_eq!(report["from"], FROM);
    assert_eq!(report["to"], TO);
    let currency = report["currency"].as_str().unwrap().to_string();
    let level1 = report["scorecard"]["level1"].as_array().unwrap().clone();
    assert!(level1.len() >= 8, "{level1:?}");
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.viewer).await;
    browser
        .goto(&served.url(&format!("/?from={FROM}&to={TO}")))
        .await;
    let tiles = browser.all("article.tile").await;
    assert_eq!(tiles.len(), level1.len(), "one tile per Level-1 metric");
    let mut compared = 0;
    for entry in &level1 {
        let value = &entry["value"];
        let id = value["id"].as_str().unwrap();
        let selector = format!("article.tile[data-metric=\"{id}\"]");
        let tile = browser.one(&selector).await;
        let (shown, terms) = expected_text(value, &currency);
        let value_text = browser
            .text(&browser.one(&format!("{selector} .value")).await)
            .await;
        assert_eq!(value_text, shown, "{id}: value");
        let terms_text = browser
            .text(&browser.one(&format!("{selector} .terms")).await)
            .await;
        assert_eq!(terms_text, terms, "{id}: terms");
        assert_eq!(
            browser.attribute(&tile, "data-numerator").await.unwrap(),
            term_text(&value["ratio"]["numerator"]),
            "{id}: numerator"
        );
        assert_eq!(
            browser.attribute(&tile, "data-denominator").await.unwrap(),
            term_text(&value["ratio"]["denominator"]),
            "{id}: denominator"
        );
        let provisional = value["provisional"].as_bool().unwrap();
        assert_eq!(
            browser
                .all(&format!("{selector} .badge.provisional"))
                .await
                .len(),
            usize::from(provisional),
            "{id}: provisional marking"
        );
        compared += 1;
    }
    assert_eq!(compared, level1.len());
    // The reliability figure has real data in it, so the comparison compared something.
    let perfect = &level1[0]["value"];
    assert_eq!(perfect["id"], "rl.perfect_order");
    assert!(perfect["ratio"]["denominator"].as_i64().unwrap() > 50);
    assert!(
        perfect["ratio"]["numerator"].as_i64().unwrap()
            < perfect["ratio"]["denominator"].as_i64().unwrap()
    );
    browser.screenshot(&screenshot_path("scorecard-june")).await;
    assert_clean(&browser, "/").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_a_metric_reaches_the_documents_behind_it() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let report = metrics_json(&served.db, &[]);
    let drilled = metrics_json(&served.db, &["--drill", "rl.perfect_order"]);
    let expected_orders: Vec<String> = drilled
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["order"].as_str().unwrap().to_string())
        .collect();
    assert!(!expected_orders.is_empty());
    let signatures = report["scorecard"]["signatures"]
        .as_array()
        .unwrap()
        .clone();
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.viewer).await;
    browser
        .goto(&served.url(&format!("/?from={FROM}&to={TO}")))
        .await;
    // Tile → metric page.
    let link = browser
        .one("article.tile[data-metric=\"rl.perfect_order\"] h2 a")
        .await;
    browser.click(&link).await;
    browser
        .wait_url(|url| url.contains("/scorecard/rl.perfect_order?"))
        .await;
    // The UpSet chart has one column per failure signature of the JSON.
    let columns = browser.all("svg a.intersection").await;
    assert_eq!(columns.len(), signatures.len());
    // Metric page → the documents behind it: the same orders, in the same order, as
    // `flowline metrics --drill`.
    let documents = browser.one("a.documents").await;
    browser.click(&documents).await;
    browser
        .wait_url(|url| url.contains("/scorecard/rl.perfect_order/documents"))
        .await;
    let mut listed = Vec::new();
    for link in browser.all("a.document").await {
        listed.push(browser.text(&link).await);
    }
    // Every imperfect order is listed (up to the page's 500); the command line lists 100.
    let imperfect: i64 = signatures
        .iter()
        .map(|signature| signature["orders"].as_i64().unwrap())
        .sum();
    assert_eq!(listed.len() as i64, imperfect.min(500));
    let compared = expected_orders.len().min(listed.len());
    assert_eq!(listed[..compared], expected_orders[..compared]);
    // A document → its own page with its event history.
    let first = browser.one("a.document").await;
    let order = browser.text(&first).await;
    browser.click(&first).await;
    let wanted = format!("/documents/sales-orders/{order}");
    browser.wait_url(|url| url.contains(&wanted)).await;
    let shown = browser
        .text(&browser.one("strong[data-document]").await)
        .await;
    assert_eq!(shown, order);
    let mut events = Vec::new();
    for row in browser.all("tr[data-event]").await {
        events.push(
            browser
                .attribute(&row, "data-event")
                .await
                .unwrap_or_default(),
        );
    }
    // The history is the order's stream in the log, event for event.
    let store = SqliteStore::open_read_only(&served.db).unwrap();
    let logged: Vec<String> = store
        .read_stream(
            &TenantId::parse(database::TENANT).unwrap(),
            &format!("sales_order/{order}"),
        )
        .unwrap()
        .into_iter()
        .map(|event| event.event_type)
        .collect();
    drop(store);
    assert_eq!(events, logged);
    assert_eq!(events.first().map(String::as_str), Some("SalesOrderPlaced"));
    browser
        .screenshot(&screenshot_path("document-imperfect-order"))
        .await;
    // Back on the metric page, a column of the UpSet chart lists exactly its orders.
    browser
        .goto(&served.url(&format!("/scorecard/rl.perfect_order?from={FROM}&to={TO}")))
        .await;
    let column = browser.one("svg a.intersection").await;
    let href = browser.attribute(&column, "href").await.unwrap();
    let bits: u64 = href.rsplit("signature=").next().unwrap().parse().unwrap();
    let count = signatures
        .iter()
        .find(|signature| signature["bits"].as_u64() == Some(bits))
        .unwrap()["orders"]
        .as_i64()
        .unwrap();
    browser.goto(&served.url(&href)).await;
    assert_eq!(browser.all("a.document").await.len() as i64, count.min(500));
    assert_clean(&browser, &href).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_set_through_the_form_appears_on_the_tile() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let report = metrics_json(&served.db, &[]);
    let perfect = &report["scorecard"]["level1"][0]["value"];
    assert_eq!(perfect["id"], "rl.perfect_order");
    let perfect = perfect["value"].as_f64().unwrap();
    // The tenant-wide target on the metric, if the database sets one, is replaced through the
    // form (setting an existing id replaces it), so the tile has one target to show.
    let existing = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|target| {
            target["report"]["target"]["metric"] == "rl.perfect_order"
                && target["report"]["target"]["slice"]["dimension"] == "all"
        })
        .cloned();
    let id = existing
        .as_ref()
        .map_or("T-E2E", |target| target["id"].as_str().unwrap())
        .to_string();
    let tile = "article.tile[data-metric=\"rl.perfect_order\"]";
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.admin).await;
    if let Some(existing) = &existing {
        // Before: the tile shows the database's target and the status the JSON gives it.
        browser
            .goto(&served.url(&format!("/?from={FROM}&to={TO}")))
            .await;
        let milli = existing["report"]["target"]["value_milli"]
            .as_i64()
            .unwrap();
        let direction = match existing["report"]["target"]["direction"].as_str().unwrap() {
            "at_least" => "at least",
            _ => "at most",
        };
        assert_eq!(
            browser
                .text(&browser.one(&format!("{tile} dd.target")).await)
                .await,
            format!("{direction} {}.{:02} %", milli / 1000, milli % 1000 / 10)
        );
        let status = browser
            .one(&format!("{tile} dd.status [data-status]"))
            .await;
        assert_eq!(
            browser.attribute(&status, "data-status").await.as_deref(),
            existing["report"]["status"].as_str()
        );
    }
    browser.goto(&served.url("/targets")).await;
    // Bad input is answered with the form again and the reason in words.
    browser
        .fill(&browser.one("#set-target input[name=target]").await, &id)
        .await;
    browser
        .fill(
            &browser.one("#set-target input[name=value]").await,
            "ninety",
        )
        .await;
    browser
        .click(&browser.one("#set-target button").await)
        .await;
    // The answer is a new page: wait for it rather than read the one the click left.
    let error = browser.text(&browser.wait_for("p.error").await).await;
    assert_eq!(
        error,
        "value: `ninety` is not a number (up to three decimals, e.g. 95 or 2.5)"
    );
    // That answer was a 400, which the console reports; only what follows must be clean.
    let _ = browser.log().await;
    // The form kept what was typed; now a good value: the next whole percent above the
    // period's value, which the period therefore misses.
    let wanted = perfect.floor() as i64 + 1;
    browser
        .fill(
            &browser.one("#set-target input[name=value]").await,
            &wanted.to_string(),
        )
        .await;
    let option = browser
        .one("#set-target select[name=metric] option[value=\"rl.perfect_order\"]")
        .await;
    browser.click(&option).await;
    browser
        .click(&browser.one("#set-target button").await)
        .await;
    browser
        .wait_url(|url| url.contains("/targets?saved="))
        .await;
    assert_eq!(
        browser.text(&browser.one("p.notice").await).await,
        format!("Saved target {id}.")
    );
    // The tile of the metric shows the new target and that the period missed it, as
    // `flowline metrics --json` now says too.
    let after = metrics_json(&served.db, &[]);
    let judged = after["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|target| target["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(judged["report"]["target"]["value_milli"], wanted * 1000);
    assert_eq!(judged["report"]["status"], "missed");
    browser
        .goto(&served.url(&format!("/?from={FROM}&to={TO}")))
        .await;
    let target = browser
        .text(&browser.one(&format!("{tile} dd.target")).await)
        .await;
    assert_eq!(target, format!("at least {wanted}.00 %"));
    let status = browser
        .one(&format!("{tile} dd.status [data-status]"))
        .await;
    assert_eq!(
        browser.attribute(&status, "data-status").await.unwrap(),
        "missed"
    );
    browser
        .screenshot(&screenshot_path("scorecard-with-target"))
        .await;
    assert_clean(&browser, "/").await;
    // The same command through the API reads back the target the form set.
    let read = reqwest::Client::new()
        .get(served.url(&format!("/v1/targets/{id}")))
        .bearer_auth(&served.admin)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(read["value_milli"], wanted * 1000);
    assert_eq!(read["metric"], "rl.perfect_order");
    browser.quit().await;
    // A viewer sees no form, and a forged one is refused by role, as the API would.
    let viewer = Browser::start(true).await;
    sign_in(&viewer, &served, &served.viewer).await;
    viewer.goto(&served.url("/targets")).await;
    assert!(viewer.all("#set-target").await.is_empty());
    let main = viewer.text(&viewer.one("main").await).await;
    assert!(main.contains("Setting targets needs an admin key; yours is viewer."));
    let csrf = viewer
        .attribute(&viewer.one("form.who input[name=csrf]").await, "value")
        .await
        .unwrap();
    viewer
        .script(&format!(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '/targets';\
             for (const [k, v] of [['csrf', '{csrf}'], ['target', 'T-VIEWER'], ['metric', 'rl.on_time'], ['value', '90']]) {{\
               const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }}\
             document.body.appendChild(f); f.submit(); return true;"
        ))
        .await;
    let refused = viewer.text(&viewer.wait_for("p.error").await).await;
    assert_eq!(
        refused,
        "a key with role `viewer` may not do this; it needs one of: admin"
    );
    // The 403 answer is itself a failed request, so the console says so; read it off.
    let _ = viewer.log().await;
    viewer.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_read_without_javascript() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let browser = Browser::start(false).await;
    sign_in(&browser, &served, &served.viewer).await;
    browser
        .goto(&served.url(&format!("/?from={FROM}&to={TO}")))
        .await;
    assert!(browser.all("article.tile").await.len() >= 8);
    // The script did not run: the pickers keep their Apply button.
    let pickers = browser.one("form.pickers").await;
    let class = browser
        .attribute(&pickers, "class")
        .await
        .unwrap_or_default();
    assert!(!class.contains("enhanced"), "{class}");
    let apply = browser.one("form.pickers button.apply").await;
    assert_eq!(browser.text(&apply).await, "Apply");
    // The pickers work by submitting the form. By default the page shows the month of the
    // latest complete month of the data, as `flowline metrics` does; picking "quarter" shows that month's quarter.
    let default = flowline(&["metrics", "--db", served.db.to_str().unwrap(), "--json"]);
    let default: Value = serde_json::from_slice(&default.stdout).unwrap();
    let month = default["from"].as_str().unwrap().to_string();
    browser.goto(&served.url("/")).await;
    let range = browser.one("p.range span[data-from]").await;
    assert_eq!(
        browser.attribute(&range, "data-from").await,
        Some(month.clone())
    );
    assert_eq!(
        browser.attribute(&range, "data-to").await.as_deref(),
        default["to"].as_str()
    );
    let quarter = browser
        .one("form.pickers select[name=period] option[value=quarter]")
        .await;
    browser.click(&quarter).await;
    browser
        .click(&browser.one("form.pickers button.apply").await)
        .await;
    browser.wait_url(|url| url.contains("period=quarter")).await;
    let (year, number): (i32, u32) = (month[..4].parse().unwrap(), month[5..7].parse().unwrap());
    let first = (number - 1) / 3 * 3 + 1;
    let (end_year, end_month) = if first == 10 {
        (year + 1, 1)
    } else {
        (year, first + 3)
    };
    let range = browser.one("p.range span[data-from]").await;
    assert_eq!(
        browser.attribute(&range, "data-from").await,
        Some(format!("{year}-{first:02}-01"))
    );
    assert_eq!(
        browser.attribute(&range, "data-to").await,
        Some(format!("{end_year}-{end_month:02}-01"))
    );
    browser.quit().await;
}

/// The `data-from` of the range the page shows.
async fn shown_from(browser: &Browser) -> String {
    let range = browser.one("p.range span[data-from]").await;
    browser
        .attribute(&range, "data-from")
        .await
        .unwrap_or_default()
}

/// Clicks the range's `prev` or `next` link, waits for the new page, and returns its `data-from`.
async fn follow_range_link(browser: &Browser, rel: &str) -> String {
    let before = browser.url().await;
    browser
        .click(&browser.one(&format!("p.range a[rel={rel}]")).await)
        .await;
    browser.wait_url(|url| url != before).await;
    shown_from(browser).await
}

#[tokio::test]
async fn previous_and_next_links_step_one_calendar_period_at_a_time() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.viewer).await;
    // From December 2025, "previous month" twelve times must show November 2025, October, ...
    // down to December 2024: twelve distinct months, each the calendar month before the last
    // (a 31-day step back from December 1 would land in October and skip November).
    browser
        .goto(&served.url("/?period=month&at=2025-12-15"))
        .await;
    assert_eq!(shown_from(&browser).await, "2025-12-01");
    let mut visited = Vec::new();
    for _ in 0..12 {
        visited.push(follow_range_link(&browser, "prev").await);
    }
    let expected: Vec<String> = [
        "2025-11", "2025-10", "2025-09", "2025-08", "2025-07", "2025-06", "2025-05", "2025-04",
        "2025-03", "2025-02", "2025-01", "2024-12",
    ]
    .iter()
    .map(|month| format!("{month}-01"))
    .collect();
    assert_eq!(visited, expected);
    // From the second quarter the previous quarter is the first of the same year (Q2 has 91
    // days; 91 days before April 1 is December 31, in Q4 of the year before); next twice from
    // there is the third quarter.
    browser
        .goto(&served.url("/?period=quarter&at=2025-05-10"))
        .await;
    assert_eq!(shown_from(&browser).await, "2025-04-01");
    let mut steps = Vec::new();
    for link in ["prev", "next", "next"] {
        steps.push(follow_range_link(&browser, link).await);
    }
    assert_eq!(steps, ["2025-01-01", "2025-04-01", "2025-07-01"]);
    browser.quit().await;
}

/// The `cx` of each point of the first tile's sparkline, in order.
async fn sparkline_points(browser: &Browser) -> Vec<f64> {
    let mut points = Vec::new();
    for circle in browser
        .all("article.tile:first-of-type svg.sparkline circle")
        .await
    {
        let cx = browser.attribute(&circle, "cx").await.unwrap_or_default();
        points.push(cx.parse::<f64>().unwrap());
    }
    points
}

#[tokio::test]
async fn a_custom_ranges_trend_shows_its_own_months_with_gaps_where_there_is_no_data() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.viewer).await;
    // The simulated year is 2025. A custom range of that year shows its twelve months, every
    // one with orders: twelve points.
    browser
        .goto(&served.url("/?from=2025-01-01&to=2026-01-01"))
        .await;
    let year = sparkline_points(&browser).await;
    assert_eq!(year.len(), 12, "{year:?}");
    // July 2024 to June 2025: twelve months again, the first six before the data began. The
    // sparkline is 180 wide with its plot from x = 40 to 174, so month k (0-based) sits at
    // 40 + k × 134 / 11: the points are the months 6 to 11 (x ≥ 113.1), and the six empty
    // months are a gap, not zeros.
    browser
        .goto(&served.url("/?from=2024-07-01&to=2025-07-01"))
        .await;
    let half = sparkline_points(&browser).await;
    let month_x = |k: f64| 40.0 + k * 134.0 / 11.0;
    assert_eq!(half.len(), 6, "{half:?}");
    for (point, k) in half.iter().zip(6..12) {
        assert!((point - month_x(f64::from(k))).abs() < 0.1, "{half:?}");
    }
    // The year period of 2025 and the trailing twelve months to June 2025 show their months
    // the same way: twelve points, and six (January to June 2025) with the gap before them.
    browser
        .goto(&served.url("/?period=year&at=2025-05-10"))
        .await;
    assert_eq!(shown_from(&browser).await, "2025-01-01");
    assert_eq!(sparkline_points(&browser).await.len(), 12);
    browser
        .goto(&served.url("/?period=trailing_12_months&at=2025-06-10"))
        .await;
    assert_eq!(shown_from(&browser).await, "2024-07-01");
    let trailing = sparkline_points(&browser).await;
    assert_eq!(trailing.len(), 6, "{trailing:?}");
    // Stepping back rolls the window one month: the twelve months to May 2025.
    assert_eq!(follow_range_link(&browser, "prev").await, "2024-06-01");
    browser.quit().await;
}

/// The order ids of the dashboard's order table, in the order shown.
async fn listed_orders(browser: &Browser) -> Vec<String> {
    let mut ids = Vec::new();
    for link in browser.all("#order-list tbody tr td:first-child a").await {
        ids.push(browser.text(&link).await);
    }
    ids
}

/// `GET /v1/sales-orders?<query>` with the admin key.
async fn api_list(served: &Served, query: &str) -> Value {
    reqwest::Client::new()
        .get(served.url(&format!("/v1/sales-orders?{query}")))
        .bearer_auth(&served.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn api_ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_filtered_sorted_paged_order_list_equals_the_apis_list_with_the_same_filters() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.viewer).await;
    // A channel that exists: the first order's.
    let first = api_list(&served, "limit=1").await;
    let channel = first["data"][0]["channel"].as_str().unwrap().to_string();

    // As a person would: type the channel into the form, search, then click the "Placed"
    // heading twice (ascending, then descending) and go to the next page.
    browser.goto(&served.url("/orders/list")).await;
    let field = browser.one("form.filters input[name=channel]").await;
    browser.fill(&field, &channel).await;
    let before = browser.url().await;
    browser
        .click(&browser.one("form.filters button[type=submit]").await)
        .await;
    browser.wait_url(|url| url != before).await;
    for _ in 0..2 {
        let before = browser.url().await;
        let heading = browser.one("#order-list thead th:nth-child(2) a").await;
        browser.click(&heading).await;
        browser.wait_url(|url| url != before).await;
    }
    assert!(
        browser.url().await.contains("sort=-created"),
        "{}",
        browser.url().await
    );
    let shown_first = listed_orders(&browser).await;
    let before = browser.url().await;
    browser
        .click(&browser.one("p.pager a[rel=next]").await)
        .await;
    browser.wait_url(|url| url != before).await;
    let shown_second = listed_orders(&browser).await;
    browser
        .screenshot(&screenshot_path("orders-list-filtered"))
        .await;

    // The API with the same filters, sort and page size, following its own cursor.
    let query = format!("channel={channel}&sort=-created&limit=50");
    let page_one = api_list(&served, &query).await;
    let cursor = page_one["next_cursor"].as_str().unwrap();
    let page_two = api_list(&served, &format!("{query}&cursor={cursor}")).await;
    assert_eq!(shown_first.len(), 50);
    assert_eq!(shown_first, api_ids(&page_one));
    assert_eq!(shown_second, api_ids(&page_two));
    // Newest first: the API's own created times never increase down the two pages.
    let placed: Vec<String> = page_one["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page_two["data"].as_array().unwrap())
        .map(|order| order["placed_at"].as_str().unwrap().to_string())
        .collect();
    assert!(
        placed.windows(2).all(|pair| pair[0] >= pair[1]),
        "{placed:?}"
    );

    // "Open order" goes straight to the document page.
    browser.goto(&served.url("/orders/list")).await;
    let field = browser.one("input[name=open]").await;
    browser.fill(&field, &shown_first[0]).await;
    let before = browser.url().await;
    let open = browser.all("form.filters button[type=submit]").await;
    browser.click(open.last().unwrap()).await;
    browser.wait_url(|url| url != before).await;
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/documents/sales-orders/{}", shown_first[0])),
        "{}",
        browser.url().await
    );
    browser.quit().await;
}

/// `1234567` minor units of a two-decimal currency as `12,345.67`, worked out here.
fn two_decimals(minor: i64) -> String {
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02}", minor % 100)
}

#[tokio::test]
async fn every_document_page_shows_its_timeline_and_formatted_money() {
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::start().await;
    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.viewer).await;
    let store = SqliteStore::open_read_only(base_database()).unwrap();
    let tenant = TenantId::parse(database::TENANT).unwrap();
    let kinds = [
        ("sales_order", "sales-orders"),
        ("purchase_order", "purchase-orders"),
        ("work_order", "work-orders"),
        ("return", "returns"),
        ("transfer", "transfers"),
        ("item", "items"),
    ];
    let mut shown = 0;
    for (kind, segment) in kinds {
        let Some(stream) = store
            .streams_of_kind(&tenant, kind, None, 1)
            .unwrap()
            .into_iter()
            .next()
        else {
            eprintln!("no {kind} in the simulated year; its page is not checked");
            continue;
        };
        let id = stream.split_once('/').unwrap().1.to_string();
        browser
            .goto(&served.url(&format!("/documents/{segment}/{id}")))
            .await;
        assert_clean(&browser, segment).await;
        // One timeline entry per event of the history below it.
        let steps = browser.all("ol.timeline li").await.len();
        let events = browser.all("table.events tbody tr").await.len();
        assert!(events > 0, "{segment}/{id}: no events");
        assert_eq!(steps, events, "{segment}/{id}");
        browser
            .screenshot(&screenshot_path(&format!("document-{kind}")))
            .await;
        shown += 1;
        if kind != "sales_order" {
            continue;
        }
        // The overview's money is the API's minor units in dollars and cents: invoiced and
        // paid, e.g. 9312 as "93.12 USD".
        let document: Value = reqwest::Client::new()
            .get(served.url(&format!("/v1/sales-orders/{id}")))
            .bearer_auth(&served.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pairs = browser
            .script(
                "return [...document.querySelectorAll('dl.overview dt')]\
                 .map(dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]);",
            )
            .await;
        let shown_as = |label: &str| {
            pairs
                .as_array()
                .unwrap()
                .iter()
                .find(|pair| pair[0] == label)
                .map(|pair| pair[1].as_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("no {label} in {pairs}"))
        };
        for (label, field) in [("Invoiced", "invoiced_minor"), ("Paid", "paid_minor")] {
            let minor = document[field].as_i64().unwrap();
            assert_eq!(shown_as(label), format!("{} USD", two_decimals(minor)));
        }
    }
    assert!(shown >= 4, "only {shown} kinds of document were shown");
    browser.quit().await;
}

/// A request to the API with the admin key: its status and JSON body (`null` when empty).
async fn api(
    served: &Served,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, served.url(path))
        .bearer_auth(&served.admin);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

/// Sends a write and fails, with the answer, unless it succeeds.
async fn api_ok(served: &Served, method: reqwest::Method, path: &str, body: Value) -> Value {
    let (status, answer) = api(served, method, path, Some(&body)).await;
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

/// The tenant of the Plan test: one center, two items, one supplier. FC-EAST receives 30 MUG
/// and 10 LID (PO-1), has 10 MUG more on order (PO-2, placed only) and 5 MUG reserved for a
/// web order (SO-1). So MUG's position is 30 − 5 − 0 + 10 + 0 = 35 and LID's 10.
async fn plan_tenant(served: &Served) {
    use reqwest::Method;
    let usd = |minor: i64| serde_json::json!({ "amount_minor": minor, "currency": "USD" });
    let address = serde_json::json!({ "lines": ["1 Dock Road"], "city": "Newark", "region": "NJ",
        "postal_code": "07102", "country": "US", "time_zone": "America/New_York" });
    api_ok(
        served,
        Method::PUT,
        "/v1/settings",
        serde_json::json!({ "base_currency": "USD", "reporting_time_zone": "UTC" }),
    )
    .await;
    api_ok(
        served,
        Method::PUT,
        "/v1/locations/FC-EAST",
        serde_json::json!({ "name": "East coast", "region": "us-east", "address": address }),
    )
    .await;
    for (sku, name, cost, price) in [
        ("MUG", "Stoneware mug", 400, 1200),
        ("LID", "Mug lid", 150, 500),
    ] {
        api_ok(served, Method::PUT, &format!("/v1/items/{sku}"),
            serde_json::json!({ "name": name, "unit_cost": usd(cost), "price": usd(price), "weight_g": 350 })).await;
    }
    api_ok(
        served,
        Method::PUT,
        "/v1/suppliers/ACME",
        serde_json::json!({ "name": "Acme Ceramics", "currency": "USD", "lead_time_days": 14,
                            "payment_terms_days": 30, "country": "US" }),
    )
    .await;
    api_ok(
        served,
        Method::POST,
        "/v1/purchase-orders",
        serde_json::json!({ "purchase_order": "PO-1", "supplier": "ACME", "location": "FC-EAST",
            "currency": "USD", "lines": [
                { "sku": "MUG", "quantity": 30, "unit_price_minor": 400 },
                { "sku": "LID", "quantity": 10, "unit_price_minor": 150 } ] }),
    )
    .await;
    api_ok(
        served,
        Method::POST,
        "/v1/purchase-orders/PO-1/receipts",
        serde_json::json!({ "receipt": "R-1", "lines": [
            { "line": 0, "accepted": 30 }, { "line": 1, "accepted": 10 } ] }),
    )
    .await;
    api_ok(served, Method::POST, "/v1/purchase-orders",
        serde_json::json!({ "purchase_order": "PO-2", "supplier": "ACME", "location": "FC-EAST",
            "currency": "USD", "lines": [{ "sku": "MUG", "quantity": 10, "unit_price_minor": 400 }] })).await;
    api_ok(served, Method::POST, "/v1/sales-orders",
        serde_json::json!({ "order": "SO-1", "channel": "web", "customer": "C-1", "ship_to": address,
            "currency": "USD", "shipping_charge_minor": 0, "service_level": "standard",
            "lines": [{ "sku": "MUG", "quantity": 5, "unit_price_minor": 1200, "unit_tax_minor": 0 }] })).await;
    api_ok(
        served,
        Method::POST,
        "/v1/sales-orders/SO-1/allocations",
        serde_json::json!({ "shortage": "reject", "lines": [
            { "line": 0, "location": "FC-EAST", "quantity": 5 } ] }),
    )
    .await;
}

/// TEA's units ordered on the `index`-th of the eight weeks of days `tea_demand` makes: a
/// weekly rhythm with an 11-day wobble on top (so the forecast has errors to learn its interval
/// from), at least 1, and 8 a day over the promotion (days 40 to 42). Days 0 to 2: 2, 3, 2.
fn tea_units(index: usize) -> i64 {
    if (40..=42).contains(&index) {
        8
    } else {
        let weekly = [2, 3, 1, 4, 2, 5, 3][index % 7];
        let wobble = [0, 0, 1, -1, 2, 0, -2, 1, 1, -1, 0][index % 11];
        (weekly + wobble).max(1)
    }
}

/// The days `tea_demand` marks: stock-out days 2 to 5 and promotion days 40 to 42.
const TEA_STOCKOUT: std::ops::RangeInclusive<usize> = 2..=5;
const TEA_PROMOTION: std::ops::RangeInclusive<usize> = 40..=42;

/// F-E2E, published for TEA from day 42 for 14 days: 2.5, 2.6, ... 3.8 a day.
fn tea_published(offset: usize) -> f64 {
    2.5 + 0.1 * offset as f64
}

/// Eight weeks of TEA orders ending today (UTC, the tenant's reporting zone), one order a day
/// at noon, backdated, with what the Forecast section marks: 6 TEA in stock on the first
/// morning, so that orders reserve it all on day 2 (2 + 3 + 2 ≥ 6 > 2 + 3) and the item is out
/// until 500 are found on day 5 (stock-out days 2 to 5); a promotion over days 40 to 42; and a forecast F-E2E
/// published for days 42 to 55. The first day.
async fn tea_demand(served: &Served) -> jiff::civil::Date {
    use reqwest::Method;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let first = today.checked_sub(jiff::Span::new().days(55)).unwrap();
    let day = |index: usize| {
        first
            .checked_add(jiff::Span::new().days(index as i64))
            .unwrap()
    };
    let at = |index: usize, time: &str| format!("{}T{time}Z", day(index));
    let address = serde_json::json!({ "lines": ["1 Dock Road"], "city": "Newark", "region": "NJ",
        "postal_code": "07102", "country": "US", "time_zone": "America/New_York" });
    api_ok(served, Method::PUT, "/v1/items/TEA",
        serde_json::json!({ "name": "Loose-leaf tea", "unit_cost": { "amount_minor": 300, "currency": "USD" },
            "price": { "amount_minor": 900, "currency": "USD" }, "weight_g": 100 })).await;
    let stock = |id: &str, reason: &str, quantity: i64, occurred_at: String| {
        serde_json::json!({ "adjustment": id, "location": "FC-EAST", "reason": reason,
            "lines": [{ "sku": "TEA", "quantity": quantity, "unit_cost_minor": 300 }],
            "occurred_at": occurred_at })
    };
    api_ok(
        served,
        Method::POST,
        "/v1/adjustments",
        stock("TEA-OPEN", "opening_balance", 6, at(0, "08:00:00")),
    )
    .await;
    for index in 0..56 {
        if index == 5 {
            api_ok(
                served,
                Method::POST,
                "/v1/adjustments",
                stock("TEA-FOUND", "found", 500, at(5, "06:00:00")),
            )
            .await;
        }
        api_ok(served, Method::POST, "/v1/sales-orders",
            serde_json::json!({ "order": format!("TEA-{index}"), "channel": "web", "customer": "C-2",
                "ship_to": address, "currency": "USD", "shipping_charge_minor": 0,
                "service_level": "standard", "allocate": "backorder",
                "lines": [{ "sku": "TEA", "quantity": tea_units(index), "unit_price_minor": 900, "unit_tax_minor": 0 }],
                "occurred_at": at(index, "12:00:00") })).await;
    }
    api_ok(served, Method::POST, "/v1/promotions",
        serde_json::json!({ "promotion": "PR-TEA", "name": "Tea week", "first_day": day(40).to_string(),
            "last_day": day(42).to_string(), "items": ["TEA"], "uplift_milli": 2000 })).await;
    let daily: Vec<i64> = (0..14)
        .map(|offset| (tea_published(offset) * 1000.0).round() as i64)
        .collect();
    api_ok(
        served,
        Method::POST,
        "/v1/forecasts",
        serde_json::json!({ "forecast": "F-E2E", "first_day": day(42).to_string(),
            "lines": [{ "sku": "TEA", "model": "by hand", "daily_milli": daily }] }),
    )
    .await;
    first
}

/// The Forecast section of the page shown: each point's `data-` attributes, by kind.
async fn forecast_points(browser: &Browser, selector: &str, fields: &[&str]) -> Vec<Vec<Value>> {
    let fields = fields
        .iter()
        .map(|field| format!("g.getAttribute('data-{field}')"))
        .collect::<Vec<_>>()
        .join(", ");
    let points = browser
        .script(&format!(
            "return Array.from(document.querySelectorAll('#forecast {selector}')).map(g => [{fields}]);"
        ))
        .await;
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point.as_array().unwrap().clone())
        .collect()
}

/// A `data-` number attribute.
fn number(value: &Value) -> f64 {
    value.as_str().unwrap().parse().unwrap()
}

/// The explanation of RP-E2E-1's MUG line, as the page must show it.
const MUG_SUM: &str = "forecast over 15 days 60.000 + safety stock 20.412 (95 % cycle service) \
    − position 35 (on hand 30 − reserved 5 − backordered 0 + on order 10 + inbound 0) = need 45.412; \
    + lot sizing 0 + rounding 2.588 = 48";

/// The explanation of RP-E2E-1's LID line.
const LID_SUM: &str = "forecast over 15 days 30.000 + safety stock 8.250 (95 % cycle service) \
    − position 10 (on hand 10 − reserved 0 − backordered 0 + on order 0 + inbound 0) = need 28.250; \
    + lot sizing 11.750 + rounding 0 = 40";

/// The `(sku, quantity, unit_price_minor)` of a document's lines, whether a line is flat (a
/// proposal's) or keeps what was ordered under `line` (a purchase order's).
fn line_triples(document: &Value) -> Vec<(String, i64, i64)> {
    document["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {document}"))
        .iter()
        .map(|line| {
            let ordered = if line["line"].is_object() {
                &line["line"]
            } else {
                line
            };
            (
                ordered["sku"].as_str().unwrap().to_string(),
                ordered["quantity"].as_i64().unwrap(),
                ordered["unit_price_minor"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_approved_in_the_browser_becomes_a_purchase_order_whose_lines_equal_the_proposal()
 {
    use reqwest::Method;
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::fresh().await;
    plan_tenant(&served).await;
    let tea_first = tea_demand(&served).await;
    // RP-E2E-1 orders MUG and LID from ACME for FC-EAST, each line with the terms a planner
    // would record, worked here by hand (thousandths of a unit):
    //   MUG: position = 30 on hand − 5 reserved − 0 backordered + 10 on order + 0 inbound = 35;
    //        need = 60.000 forecast (4 a day over 15 days) + 20.412 safety stock − 35 = 45.412;
    //        in cases of 6: 8 cases = 48, so rounding = 48 − 45.412 = 2.588 (less than a case).
    //   LID: position = 10; need = 30.000 + 8.250 − 10 = 28.250; an economic lot of 40 adds
    //        11.750, and 40 is a whole number of single units, so rounding = 0.
    let terms = |forecast: i64,
                 safety: i64,
                 stock: [i64; 5],
                 need: i64,
                 lot: i64,
                 rounding: i64,
                 case: i64| {
        let [on_hand, reserved, backordered, on_order, inbound] = stock;
        serde_json::json!({
            "protection_days_milli": 15_000, "forecast_milli": forecast, "safety_stock_milli": safety,
            "service_level_milli": 950, "on_hand": on_hand, "reserved": reserved,
            "backordered": backordered, "on_order": on_order, "inbound_transfers": inbound,
            "position": on_hand - reserved - backordered + on_order + inbound, "need_milli": need,
            "lot_sizing_milli": lot, "rounding_milli": rounding, "minimum_order_quantity": 1,
            "case_pack": case, "model": "ets(A,N,N)" })
    };
    api_ok(
        &served,
        Method::POST,
        "/v1/proposals",
        serde_json::json!({
        "proposal": "RP-E2E-1", "source": { "kind": "supplier", "supplier": "ACME" },
        "location": "FC-EAST", "order_by": "2030-01-05", "needed_by": "2030-01-19",
        "rationale": "the only supplier offered",
        "lines": [
            { "sku": "MUG", "quantity": 48, "unit_price_minor": 400,
              "terms": terms(60_000, 20_412, [30, 5, 0, 10, 0], 45_412, 0, 2_588, 6) },
            { "sku": "LID", "quantity": 40, "unit_price_minor": 150,
              "terms": terms(30_000, 8_250, [10, 0, 0, 0, 0], 28_250, 11_750, 0, 1) } ] }),
    )
    .await;
    // RP-E2E-2, made by hand (no terms), with markup in its rationale that must stay text.
    let rationale = "<script>alert('x')</script> & <b>cheaper</b>";
    api_ok(
        &served,
        Method::POST,
        "/v1/proposals",
        serde_json::json!({
        "proposal": "RP-E2E-2", "source": { "kind": "supplier", "supplier": "ACME" },
        "location": "FC-EAST", "rationale": rationale,
        "lines": [{ "sku": "LID", "quantity": 12, "unit_price_minor": 150 }] }),
    )
    .await;

    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.admin).await;
    browser.goto(&served.url("/plan")).await;
    assert_clean(&browser, "/plan").await;
    let card = |id: &str| format!("article.proposal[data-proposal=\"{id}\"]");
    let one = card("RP-E2E-1");
    for (sku, sum, quantity, price) in [
        ("MUG", MUG_SUM, "48", "4.00 USD"),
        ("LID", LID_SUM, "40", "1.50 USD"),
    ] {
        let row = format!("{one} tr[data-sku=\"{sku}\"]");
        let shown = browser
            .text(&browser.one(&format!("{row} .explanation")).await)
            .await;
        assert_eq!(shown, sum.split_whitespace().collect::<Vec<_>>().join(" "));
        assert_eq!(
            browser
                .text(&browser.one(&format!("{row} td.quantity")).await)
                .await,
            quantity
        );
        assert_eq!(
            browser
                .text(&browser.one(&format!("{row} td.price")).await)
                .await,
            price
        );
    }
    assert_eq!(
        browser
            .text(&browser.one(&format!("{one} dd.order-by")).await)
            .await,
        "2030-01-05"
    );
    assert_eq!(
        browser
            .text(&browser.one(&format!("{one} dd.needed-by")).await)
            .await,
        "2030-01-19"
    );
    // The markup in RP-E2E-2's rationale is shown as the text it is, not run or rendered.
    let two = card("RP-E2E-2");
    assert_eq!(
        browser
            .text(&browser.one(&format!("{two} dd.rationale")).await)
            .await,
        rationale
    );
    assert!(
        browser
            .all(&format!("{two} dd.rationale *"))
            .await
            .is_empty()
    );
    browser.screenshot(&screenshot_path("plan")).await;

    // The Forecast section, for TEA: the days drawn are TEA's orders as made above, the days
    // ahead are the API's forecast for TEA, and F-E2E is drawn over the days it covered.
    browser.goto(&served.url("/plan?sku=TEA")).await;
    assert_clean(&browser, "/plan?sku=TEA").await;
    let section = browser.one("#forecast").await;
    assert_eq!(
        browser.attribute(&section, "data-sku").await.as_deref(),
        Some("TEA")
    );
    let (status, api_forecast) = api(&served, Method::GET, "/v1/plan/forecast?sku=TEA", None).await;
    assert_eq!(status, 200, "{api_forecast}");
    let item = &api_forecast["items"][0];
    assert_eq!(item["sku"], "TEA", "{api_forecast}");
    let model = item["model"].as_str().unwrap();
    assert_eq!(
        browser.attribute(&section, "data-model").await.as_deref(),
        Some(model)
    );
    assert_eq!(
        browser.text(&browser.one("#forecast .model").await).await,
        model
    );
    let legend = browser
        .text(&browser.one("#forecast figcaption").await)
        .await;
    for entry in [
        format!("forecast: {model}"),
        "80 % prediction interval".into(),
        "published F-E2E".into(),
        "stock-out day".into(),
        "promotion day".into(),
    ] {
        assert!(legend.contains(&entry), "{entry} not in {legend}");
    }
    let selected = browser
        .one("#forecast-item select[name=sku] option[selected]")
        .await;
    assert_eq!(
        browser.attribute(&selected, "value").await.as_deref(),
        Some("TEA")
    );
    // Each day drawn: its units, and whether it is marked a stock-out or a promotion day.
    let actual = forecast_points(
        &browser,
        "g.actual",
        &["day", "value", "censored", "promoted"],
    )
    .await;
    assert_eq!(actual.len(), 56, "{actual:?}");
    for (index, point) in actual.iter().enumerate() {
        let day = tea_first
            .checked_add(jiff::Span::new().days(index as i64))
            .unwrap();
        assert_eq!(
            point[0].as_str(),
            Some(day.to_string().as_str()),
            "{point:?}"
        );
        assert_eq!(number(&point[1]), tea_units(index) as f64, "{point:?}");
        assert_eq!(
            point[2].as_str() == Some("true"),
            TEA_STOCKOUT.contains(&index),
            "{point:?}"
        );
        assert_eq!(
            point[3].as_str() == Some("true"),
            TEA_PROMOTION.contains(&index),
            "{point:?}"
        );
    }
    // The API's actuals are the last 28 of those days.
    let api_actual: Vec<f64> = item["actual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let drawn: Vec<f64> = actual[28..].iter().map(|point| number(&point[1])).collect();
    assert_eq!(drawn, api_actual);
    // The forecast drawn is the API's, day by day (an interval below zero drawn from zero).
    let ahead = forecast_points(&browser, "g.forecast", &["day", "mean", "lower", "upper"]).await;
    assert_eq!(ahead.len(), 28);
    assert_eq!(ahead[0][0].as_str(), item["first_day"].as_str());
    for (at, point) in ahead.iter().enumerate() {
        for (field, name) in [(1, "mean"), (2, "lower"), (3, "upper")] {
            let expected = item[name][at].as_f64().unwrap().max(0.0);
            assert!(
                (number(&point[field]) - expected).abs() < 0.0006,
                "{name} day {at}: {point:?} against {expected}"
            );
        }
        assert!(
            number(&point[2]) <= number(&point[1]) && number(&point[1]) <= number(&point[3]),
            "{point:?}"
        );
    }
    // F-E2E over the 14 days it covered, 42 to 55, with the figures it was published with.
    let earlier = forecast_points(&browser, "g.earlier-point", &["day", "value"]).await;
    assert_eq!(earlier.len(), 14, "{earlier:?}");
    for (offset, point) in earlier.iter().enumerate() {
        let day = tea_first
            .checked_add(jiff::Span::new().days(42 + offset as i64))
            .unwrap();
        assert_eq!(point[0].as_str(), Some(day.to_string().as_str()));
        assert!(
            (number(&point[1]) - tea_published(offset)).abs() < 1e-9,
            "{point:?}"
        );
    }
    // The points are where their values say: the circles' heights are one straight line of
    // their units (units = a + b × y), fitted on two points and checked on every other.
    let circles = browser
        .script("return Array.from(document.querySelectorAll('#forecast g.actual')).filter(g => g.querySelector('circle'))                 .map(g => [Number(g.getAttribute('data-value')), Number(g.querySelector('circle').getAttribute('cy'))]);")
        .await;
    let circles: Vec<(f64, f64)> = circles
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()))
        .collect();
    let (low, high) = (
        circles[0],
        *circles
            .iter()
            .find(|point| point.0 != circles[0].0)
            .unwrap(),
    );
    let slope = (high.0 - low.0) / (high.1 - low.1);
    assert!(slope < 0.0, "more units must be drawn higher: {circles:?}");
    for (units, y) in &circles {
        assert!(
            (low.0 + slope * (y - low.1) - units).abs() < 0.01,
            "{units} at y {y}: {circles:?}"
        );
    }
    browser.screenshot(&screenshot_path("plan-forecast")).await;
    // An item asked for that is not one, or has no orders, gets the page with the reason.
    let long = "X".repeat(300);
    for (asked, reason) in [
        ("NOPE", "No order for NOPE is in the history"),
        (
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "That is not an item: SKU `<script>alert(1)</script>` contains '<'",
        ),
        (long.as_str(), "is 300 bytes long; the limit is 64"),
    ] {
        browser
            .goto(&served.url(&format!("/plan?sku={asked}")))
            .await;
        assert_clean(&browser, "/plan?sku=bad").await;
        let problem = browser.text(&browser.one("#forecast-problem").await).await;
        assert!(problem.contains(reason), "{asked}: {problem}");
        assert!(browser.all("#forecast").await.is_empty());
        assert!(!browser.all("#forecast-item option").await.is_empty());
        // What was typed is shown as text, never as markup.
        assert!(browser.all("#forecast-problem *").await.is_empty());
    }
    browser.goto(&served.url("/plan")).await;

    // Approve RP-E2E-1: its purchase order is placed, with exactly the proposal's lines.
    browser
        .click(&browser.one(&format!("{one} form.approve button")).await)
        .await;
    browser
        .wait_url(|url| url.contains("/plan?approved=RP-E2E-1"))
        .await;
    assert_eq!(
        browser.text(&browser.one("p.notice").await).await,
        "Approved RP-E2E-1: purchase order RP-E2E-1 placed."
    );
    assert_clean(&browser, "/plan?approved").await;
    let (status, proposal) = api(&served, Method::GET, "/v1/proposals/RP-E2E-1", None).await;
    assert_eq!(status, 200, "{proposal}");
    assert_eq!(proposal["status"], "approved", "{proposal}");
    assert_eq!(proposal["purchase_order"], "RP-E2E-1");
    let (status, order) = api(&served, Method::GET, "/v1/purchase-orders/RP-E2E-1", None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["supplier"], "ACME");
    assert_eq!(order["location"], "FC-EAST");
    assert_eq!(line_triples(&order), line_triples(&proposal));
    assert_eq!(
        line_triples(&order),
        vec![("MUG".to_string(), 48, 400), ("LID".to_string(), 40, 150)]
    );

    // Reject RP-E2E-2 with a reason and a note: no purchase order comes of it.
    let option = browser
        .one(&format!(
            "{two} form.reject select[name=reason] option[value=price_too_high]"
        ))
        .await;
    browser.click(&option).await;
    browser
        .fill(
            &browser
                .one(&format!("{two} form.reject input[name=note]"))
                .await,
            "a quote 10 % lower came in",
        )
        .await;
    browser
        .click(&browser.one(&format!("{two} form.reject button")).await)
        .await;
    browser
        .wait_url(|url| url.contains("/plan?rejected=RP-E2E-2"))
        .await;
    assert_eq!(
        browser.text(&browser.one("p.notice").await).await,
        "Rejected RP-E2E-2."
    );
    let (_, rejected) = api(&served, Method::GET, "/v1/proposals/RP-E2E-2", None).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert_eq!(rejected["reject_reason"], "price_too_high");
    assert_eq!(rejected["note"], "a quote 10 % lower came in");
    let (status, _) = api(&served, Method::GET, "/v1/purchase-orders/RP-E2E-2", None).await;
    assert_eq!(status, 404);

    // Both are listed as decided, the approval with a link to its purchase order.
    assert!(browser.all("article.proposal").await.is_empty());
    let created = browser
        .one("table.decided tr[data-proposal=\"RP-E2E-1\"] td.created a")
        .await;
    assert_eq!(
        browser.attribute(&created, "href").await.as_deref(),
        Some("/documents/purchase-orders/RP-E2E-1")
    );
    let outcome = browser
        .one("table.decided tr[data-proposal=\"RP-E2E-2\"] td.outcome")
        .await;
    assert_eq!(browser.text(&outcome).await, "✗ rejected (price_too_high)");

    // A command the engine refuses is shown on the page: approving RP-E2E-1 a second time
    // (a form sent from an old copy of the page).
    let csrf = browser
        .attribute(&browser.one("form.who input[name=csrf]").await, "value")
        .await
        .unwrap();
    browser
        .script(&format!(
            "const f = document.createElement('form'); f.method = 'post';\
             f.action = '/plan/proposals/RP-E2E-1/approvals';\
             const i = document.createElement('input'); i.name = 'csrf'; i.value = '{csrf}'; f.appendChild(i);\
             document.body.appendChild(f); f.submit(); return true;"
        ))
        .await;
    let refused = browser.wait_for("p.error").await;
    let text = browser.text(&refused).await;
    assert!(
        text.contains("RP-E2E-1") && text.contains("approved"),
        "{text}"
    );
    assert_eq!(
        browser.attribute(&refused, "data-code").await.as_deref(),
        Some("illegal_transition")
    );
    // That answer was a 409, which the console reports; only what follows must be clean.
    let _ = browser.log().await;

    // The planner form: a service level that is not one is refused in words, the value kept;
    // a good one runs the planner and says what it recorded.
    browser.goto(&served.url("/plan")).await;
    let field = browser.one("#run-planner input[name=service_level]").await;
    browser.fill(&field, "100").await;
    browser
        .click(&browser.one("#run-planner button").await)
        .await;
    let error = browser.text(&browser.wait_for("p.error").await).await;
    assert_eq!(
        error,
        "service_level: 100 % is not a service level: give a percentage above 0 and below 100, e.g. 95"
    );
    let _ = browser.log().await;
    let field = browser.one("#run-planner input[name=service_level]").await;
    assert_eq!(
        browser.attribute(&field, "value").await.as_deref(),
        Some("100")
    );
    browser.fill(&field, "97.5").await;
    browser
        .click(&browser.one("#run-planner button").await)
        .await;
    browser
        .wait_url(|url| url.contains("/plan?recorded="))
        .await;
    let notice = browser.text(&browser.one("p.notice").await).await;
    assert!(notice.starts_with("The planner "), "{notice}");
    assert_clean(&browser, "/plan?recorded").await;
    browser.screenshot(&screenshot_path("plan-decided")).await;
    browser.quit().await;

    // A viewer reads the page but is offered no form.
    let viewer = Browser::start(true).await;
    sign_in(&viewer, &served, &served.viewer).await;
    viewer.goto(&served.url("/plan")).await;
    assert!(viewer.all("#run-planner").await.is_empty());
    assert!(viewer.all("form.approve").await.is_empty());
    let main = viewer.text(&viewer.one("main").await).await;
    assert!(main.contains("Running the planner needs an operator or admin key; yours is viewer."));
    viewer.quit().await;
}

/// Placement in the browser: the Plan page shows where stock should sit, "Propose these
/// transfers" records them as proposals, and approving one creates the transfer with its lines.
/// 40 MUG sit at FC-EAST (Newark, NJ); the only demand of the last 28 days is 10 MUG ordered to
/// Los Angeles. FC-WEST (Reno, NV) is about 630 km from Los Angeles by great circle, FC-EAST about
/// 3,940 km, so with no carrier charges in the log the assumed lane costs are 4 + 0.002 × km:
/// about 5.26 against 11.88 a unit, and the assumed transit 1 + km / 800 days: about 1.8 against
/// 5.9. Serving the next 28 days' 10 units from Reno is cheaper and faster on both counts, so the
/// plan moves exactly those 10 MUG west and keeps the other 30 where they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_proposed_from_the_placement_in_the_browser_move_the_stock_the_plan_says() {
    use reqwest::Method;
    if skip() {
        return;
    }
    let _turn = BROWSER_TURN.lock().await;
    let served = Served::fresh().await;
    let usd = |minor: i64| serde_json::json!({ "amount_minor": minor, "currency": "USD" });
    let address = |city: &str, region: &str, zone: &str, latitude: i64, longitude: i64| {
        serde_json::json!({ "lines": ["1 Dock Road"], "city": city, "region": region,
            "postal_code": "", "country": "US", "time_zone": zone,
            "coordinates": { "latitude_microdegrees": latitude, "longitude_microdegrees": longitude } })
    };
    api_ok(
        &served,
        Method::PUT,
        "/v1/settings",
        serde_json::json!({ "base_currency": "USD", "reporting_time_zone": "UTC" }),
    )
    .await;
    api_ok(
        &served,
        Method::PUT,
        "/v1/locations/FC-EAST",
        serde_json::json!({ "name": "Newark", "region": "us-east",
            "address": address("Newark", "NJ", "America/New_York", 40_735_700, -74_172_400) }),
    )
    .await;
    api_ok(
        &served,
        Method::PUT,
        "/v1/locations/FC-WEST",
        serde_json::json!({ "name": "Reno", "region": "us-west",
            "address": address("Reno", "NV", "America/Los_Angeles", 39_529_600, -119_813_800) }),
    )
    .await;
    api_ok(&served, Method::PUT, "/v1/items/MUG",
        serde_json::json!({ "name": "Stoneware mug", "unit_cost": usd(400), "price": usd(1200), "weight_g": 350 })).await;
    api_ok(
        &served,
        Method::PUT,
        "/v1/suppliers/ACME",
        serde_json::json!({ "name": "Acme Ceramics", "currency": "USD", "lead_time_days": 14,
            "payment_terms_days": 30, "country": "US" }),
    )
    .await;
    api_ok(&served, Method::POST, "/v1/purchase-orders",
        serde_json::json!({ "purchase_order": "PO-1", "supplier": "ACME", "location": "FC-EAST",
            "currency": "USD", "lines": [{ "sku": "MUG", "quantity": 40, "unit_price_minor": 400 }] })).await;
    api_ok(
        &served,
        Method::POST,
        "/v1/purchase-orders/PO-1/receipts",
        serde_json::json!({ "receipt": "R-1", "lines": [{ "line": 0, "accepted": 40 }] }),
    )
    .await;
    api_ok(&served, Method::POST, "/v1/sales-orders",
        serde_json::json!({ "order": "SO-1", "channel": "web", "customer": "C-1",
            "ship_to": address("Los Angeles", "CA", "America/Los_Angeles", 34_052_200, -118_243_700),
            "currency": "USD", "shipping_charge_minor": 0, "service_level": "standard",
            "lines": [{ "sku": "MUG", "quantity": 10, "unit_price_minor": 1200, "unit_tax_minor": 0 }] })).await;
    let (status, preview) = api(&served, Method::GET, "/v1/plan/placement", None).await;
    assert_eq!(status, 200, "{preview}");
    let transfers = &preview["plan"]["placement"]["transfers"];
    assert_eq!(
        transfers,
        &serde_json::json!([{ "sku": "MUG", "from": "FC-EAST", "to": "FC-WEST", "quantity": 10 }]),
        "{preview}"
    );

    let browser = Browser::start(true).await;
    sign_in(&browser, &served, &served.admin).await;
    browser.goto(&served.url("/plan")).await;
    assert_clean(&browser, "/plan").await;
    let rows = browser.all("table#placement tbody tr").await;
    assert_eq!(rows.len(), 2, "today's stock and the placed stock");
    browser
        .click(&browser.one("#record-placement button").await)
        .await;
    browser.wait_url(|url| url.contains("/plan?placed=1")).await;
    assert_eq!(
        browser.text(&browser.one("p.notice").await).await,
        "Recorded 1 transfer proposal."
    );
    assert_clean(&browser, "/plan?placed").await;
    let card = browser.one("article.proposal").await;
    let id = browser.attribute(&card, "data-proposal").await.unwrap();
    assert!(id.starts_with("PL-"), "{id}");
    // While it waits for a decision, the plan leaves MUG out and says why.
    let left_out = browser.text(&browser.one("ul.skipped li").await).await;
    assert!(
        left_out.starts_with("MUG: a transfer proposal for it is waiting"),
        "{left_out}"
    );
    browser.screenshot(&screenshot_path("plan-placement")).await;
    browser
        .click(
            &browser
                .one(&format!(
                    "article.proposal[data-proposal=\"{id}\"] form.approve button"
                ))
                .await,
        )
        .await;
    browser.wait_url(|url| url.contains("approved=")).await;
    assert_eq!(
        browser.text(&browser.one("p.notice").await).await,
        format!("Approved {id}: transfer {id} created.")
    );
    let (status, transfer) = api(&served, Method::GET, &format!("/v1/transfers/{id}"), None).await;
    assert_eq!(status, 200, "{transfer}");
    assert_eq!(transfer["from"], "FC-EAST", "{transfer}");
    assert_eq!(transfer["to"], "FC-WEST", "{transfer}");
    let lines: Vec<(String, i64)> = transfer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            let line = if line["line"].is_object() {
                &line["line"]
            } else {
                line
            };
            (
                line["sku"].as_str().unwrap().to_string(),
                line["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, vec![("MUG".to_string(), 10)], "{transfer}");
    // With the transfer waiting to ship, the plan proposes nothing more.
    let (_, again) = api(&served, Method::GET, "/v1/plan/placement", None).await;
    assert_eq!(
        again["plan"]["placement"]["transfers"],
        serde_json::json!([]),
        "{again}"
    );
}
