//! Warming at start: a server started on a log that already holds a tenant's events builds the
//! scorecard's fold (which the API and the dashboard both read) once, in the background.
//! Requests that arrive while it warms, several at once, wait for that same build instead of
//! starting their own, and every answer has the numbers of a cold fold of the log.
//!
//! The log is written through the engine before the server starts (setup, then orders that go
//! through their whole life, five minutes between commands, so all within March 2025). The
//! server is started and, at once, twelve first requests go out together: scorecards,
//! drill-downs to documents and dashboard pages. Whether each lands during the warm-up or after
//! it, the counters must show one fold, each event folded once into it; the
//! answers are compared with folds built here, independently of the server, from the same log.
//! A second test sends the same requests to a server that does not warm up, so they race each
//! other for the first build.

use flowline_core::id::{LocationId, TenantId};
use flowline_engine::workload::{self, Lcg, OrderScript};
use flowline_engine::{Engine, EngineOptions, Outcome, Submission};
use flowline_metrics::drill::{self, Filter};
use flowline_metrics::fold::{Dimension, Slice};
use flowline_metrics::period::Granularity;
use flowline_server::auth::{Role, issue_key};
use flowline_server::scorecards;
use flowline_server::{ServeOptions, start};
use flowline_store::Directory as _;
use flowline_store::{EventStore, TenantRecord};
use flowline_store_sqlite::{OpenOptions, SqliteStore};
use serde_json::Value;
use std::path::Path;

const ORDERS: u64 = 120;
const AS_OF: &str = "2026-01-01T00:00:00Z";

/// Writes the setup and `ORDERS` fulfilled orders for `tenant`; returns its head.
fn write_log(db: &Path, tenant: &TenantId) -> u64 {
    let engine = Engine::open(
        flowline_store_sqlite::SqliteBackend::shared(
            db,
            flowline_store_sqlite::OpenOptions::durable(),
        )
        .unwrap(),
        EngineOptions::default(),
    )
    .unwrap();
    let mut at: jiff::Timestamp = "2025-03-01T12:00:00Z".parse().unwrap();
    let mut submit = |command| {
        at += jiff::SignedDuration::from_mins(5);
        let answer = engine
            .submit(tenant, Submission::new(command).at(at))
            .unwrap();
        assert!(
            matches!(answer.outcome, Outcome::Applied { .. }),
            "{:?}",
            answer.outcome
        );
    };
    for command in workload::setup(5, 10_000) {
        submit(command);
    }
    let center = LocationId::parse("FC-CENTRAL").unwrap();
    let mut rng = Lcg::new(7);
    for number in 1..=ORDERS {
        let script = OrderScript::random("SO", number, 5, &mut rng);
        submit(script.place());
        for command in script.fulfil(&center) {
            submit(command);
        }
    }
    engine.shutdown();
    let store = SqliteStore::open_read_only(db).unwrap();
    store.tenant_head(tenant).unwrap()
}

/// The value of an unlabelled or labelled series in a Prometheus text exposition.
fn series(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// The first place two JSON values differ, as a path, with both values there.
fn difference(left: &Value, right: &Value, path: &str) -> Option<String> {
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => a.keys().chain(b.keys()).find_map(|key| {
            let (a, b) = (
                a.get(key).unwrap_or(&Value::Null),
                b.get(key).unwrap_or(&Value::Null),
            );
            difference(a, b, &format!("{path}.{key}"))
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(index, (a, b))| difference(a, b, &format!("{path}[{index}]"))),
        _ if left == right => None,
        _ => Some(format!("{path}: {left} != {right}")),
    }
}

/// Asserts two JSON values are equal, naming the first difference.
#[track_caller]
fn assert_same(answer: &Value, expected: &Value) {
    if let Some(difference) = difference(answer, expected, "") {
        panic!("the answer differs from the cold fold at {difference}");
    }
}

fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let pair = value.split(';').next()?;
            let (key, cookie) = pair.split_once('=')?;
            (key == name).then(|| cookie.to_string())
        })
        .unwrap()
}

/// A log written before the server starts, with a viewer key of its tenant.
struct Log {
    _directory: tempfile::TempDir,
    db: std::path::PathBuf,
    tenant: TenantId,
    head: u64,
    key: String,
}

fn log() -> Log {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowline.db");
    let tenant = TenantId::parse("warm").unwrap();
    let head = write_log(&db, &tenant);
    let mut store = SqliteStore::open(&db, &OpenOptions::durable()).unwrap();
    store
        .register_tenant(&TenantRecord {
            tenant: tenant.clone(),
            name: "Warm".into(),
            created_at: jiff::Timestamp::now(),
        })
        .unwrap();
    let key = issue_key(
        &mut store,
        &tenant,
        Role::Viewer,
        "warm",
        jiff::Timestamp::now(),
    )
    .unwrap()
    .plaintext;
    // Setup (a configuration, locations, items, a supplier, a carrier, purchase orders) and
    // eight events per order over seven commands.
    assert!(head > ORDERS * 8, "head {head}");
    Log {
        _directory: directory,
        db,
        tenant,
        head,
        key,
    }
}

const RANGE: &str = "from=2025-03-01&to=2025-04-01&as_of=2026-01-01T00:00:00Z";

fn scorecard_path() -> String {
    format!("/v1/scorecard?{RANGE}&by=channel")
}

/// Signs in, checking on the way that health and the sign-in page answer, then sends twelve
/// requests at once: four scorecards, four drill-downs to documents (even and odd places of
/// the answers) and four dashboard pages (the drill-down page tenth). Returns their status and
/// body in that order.
async fn first_requests(base: &str, key: &str) -> Vec<(u16, String)> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let login = cookie(&form, "flowline_login");
    let signed = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("flowline_login={login}"))
        .body(format!("csrf={login}&next=%2F&key={key}"))
        .send()
        .await
        .unwrap();
    let session = format!("flowline_session={}", cookie(&signed, "flowline_session"));
    let documents = format!("/v1/metrics/rs.order_cycle_time?{RANGE}&drill=documents&limit=1000");
    let pages = [
        format!("/?{RANGE}"),
        format!("/scorecard/rs.order_cycle_time/documents?{RANGE}"),
        "/inventory".to_string(),
        "/make".to_string(),
    ];
    let mut requests = Vec::new();
    for _ in 0..4 {
        requests.push(
            client
                .get(format!("{base}{}", scorecard_path()))
                .bearer_auth(key),
        );
        requests.push(client.get(format!("{base}{documents}")).bearer_auth(key));
    }
    for page in &pages {
        requests.push(
            client
                .get(format!("{base}{page}"))
                .header("cookie", &session),
        );
    }
    futures_util::future::join_all(requests.into_iter().map(|request| async {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }))
    .await
}

/// A later scorecard and the counters.
async fn after(base: &str, key: &str) -> (Value, String) {
    let client = reqwest::Client::new();
    let scorecard = client
        .get(format!("{base}{}", scorecard_path()))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (serde_json::from_str(&scorecard).unwrap(), metrics)
}

/// Compares the answers with cold folds of the log built here, and checks the counters: one
/// fold, each event folded once into it.
fn check(log: &Log, answers: &[(u16, String)], later: &Value, metrics: &str) {
    let store = SqliteStore::open_read_only(&log.db).unwrap();
    let as_of: jiff::Timestamp = AS_OF.parse().unwrap();
    let (from, to) = (
        Some("2025-03-01".parse().unwrap()),
        Some("2025-04-01".parse().unwrap()),
    );
    let (kept, kept_head) = scorecards::fold_log(&store, &log.tenant, false)
        .unwrap()
        .unwrap();
    assert_eq!(kept_head, log.head);
    let period = scorecards::range_of(&kept, from, to, Granularity::Month);
    let report = scorecards::report(
        &log.tenant,
        &kept,
        period,
        Some(Dimension::Channel),
        as_of,
        50,
    );
    // Through text, as the answers come: parsing a float back may move its last digit.
    let expected: Value = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    let (every_order, _) = scorecards::fold_log(&store, &log.tenant, true)
        .unwrap()
        .unwrap();
    let rows = drill::orders(
        &every_order,
        period,
        &Slice::All,
        Filter::for_metric("rs.order_cycle_time"),
        1000,
    );
    // Every order was delivered within the month, so each is behind its cycle time.
    assert_eq!(rows.len() as u64, ORDERS);
    let expected_rows: Value =
        serde_json::from_str(&serde_json::to_string(&rows).unwrap()).unwrap();

    for (index, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "request {index}: {body}");
    }
    for (_, body) in answers.iter().step_by(2).take(4) {
        assert_same(&serde_json::from_str(body).unwrap(), &expected);
    }
    for (_, body) in answers.iter().skip(1).step_by(2).take(4) {
        let answer: Value = serde_json::from_str(body).unwrap();
        assert_same(&answer["documents"], &expected_rows);
    }
    let drill_page = &answers[9].1;
    for row in &rows {
        assert!(
            drill_page.contains(&row.order),
            "{} not on the page",
            row.order
        );
    }
    assert_same(later, &expected);
    // One fold serves the API, the scorecard pages and the drill-down to documents.
    assert_eq!(
        series(metrics, "flowline_folds_built_total{fold=\"scorecard\"}"),
        1
    );
    assert_eq!(
        series(metrics, "flowline_events_folded_total{fold=\"scorecard\"}"),
        log.head
    );
    assert!(!metrics.contains("fold=\"dashboard\""), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_warm_up_folds_the_log_once_and_first_requests_share_it() {
    let log = log();
    let running = start(&serve_options(&log), EngineOptions::default())
        .await
        .unwrap();
    let base = format!("http://{}", running.address);
    let answers = first_requests(&base, &log.key).await;
    running.warmed().await;
    let (later, metrics) = after(&base, &log.key).await;
    check(&log, &answers, &later, &metrics);
    running.shutdown().await.unwrap();
}

/// Without a warm-up (the router served on its own), twelve first requests at once still fold
/// the log once: the first to take a fold's lock builds it, the others wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_share_one_fold() {
    let log = log();
    let app = flowline_server::App::open(
        flowline_store_sqlite::SqliteBackend::shared(
            &log.db,
            flowline_store_sqlite::OpenOptions::durable(),
        )
        .unwrap(),
        EngineOptions::default(),
    )
    .unwrap();
    let (router, _) = flowline_server::router(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let answers = first_requests(&base, &log.key).await;
    let (later, metrics) = after(&base, &log.key).await;
    check(&log, &answers, &later, &metrics);
    server.abort();
    app.engine().shutdown();
}

/// The server's options on the log, with no rate limits.
fn serve_options(log: &Log) -> ServeOptions {
    ServeOptions {
        primary: None,
        cors: Default::default(),
        limits: flowline_server::ServerLimits {
            rate: flowline_server::rate::RateLimits::UNLIMITED,
            ..Default::default()
        },
        bind: "127.0.0.1:0".parse().unwrap(),
        log: flowline_store_sqlite::SqliteBackend::shared(
            &log.db.clone(),
            flowline_store_sqlite::OpenOptions::durable(),
        )
        .unwrap(),
    }
}

/// Starts the server, waits for its warm-up, and returns a scorecard with how many events the
/// scorecard fold folded; then stops it (which saves snapshots).
async fn start_measure_stop(log: &Log) -> (Value, u64) {
    let running = start(&serve_options(log), EngineOptions::default())
        .await
        .unwrap();
    running.warmed().await;
    let base = format!("http://{}", running.address);
    let (scorecard, metrics) = after(&base, &log.key).await;
    let folded = |fold: &str| {
        series(
            &metrics,
            &format!("flowline_events_folded_total{{fold=\"{fold}\"}}"),
        )
    };
    let count = folded("scorecard");
    running.shutdown().await.unwrap();
    (scorecard, count)
}

/// A server that stopped cleanly left snapshots of its writer and its scorecard fold; the next
/// start restores the fold and folds nothing for it, answers exactly as the first did, and
/// `check` finds both snapshots equal to a replay. A damaged snapshot is ignored: the fold is
/// built from the log again, with the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_server_restores_its_scorecard_from_the_snapshot_it_left() {
    let log = log();
    let (first, scorecard_folded) = start_measure_stop(&log).await;
    assert_eq!(scorecard_folded, log.head);
    let snapshots = flowline_store_sqlite::snapshot_directory(&log.db).join(log.tenant.as_str());
    for name in ["writer", "scorecard"] {
        assert!(
            snapshots.join(format!("{name}.snapshot")).exists(),
            "no {name} snapshot"
        );
    }

    let (again, scorecard_folded) = start_measure_stop(&log).await;
    // Restored at the head: nothing left to fold, for the scorecard or the dashboard.
    assert_eq!(scorecard_folded, 0);
    assert_same(&again, &first);

    let store = SqliteStore::open_read_only(&log.db).unwrap();
    let report = flowline_engine::check::check(&store).unwrap();
    assert!(report.is_clean(), "{:?}", report.findings);
    assert!(
        matches!(
            report.snapshots.as_slice(),
            [(_, _, flowline_engine::projections::Verdict::Equal { head, .. })] if *head == log.head
        ),
        "{:?}",
        report.snapshots
    );
    assert!(matches!(
        scorecards::verify_snapshot(&store, &log.tenant).unwrap(),
        Some(flowline_engine::projections::Verdict::Equal { head, .. }) if head == log.head
    ));
    drop(store);

    let file = snapshots.join("scorecard.snapshot");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&file, bytes).unwrap();
    let (rebuilt, scorecard_folded) = start_measure_stop(&log).await;
    assert_eq!(scorecard_folded, log.head);
    assert_same(&rebuilt, &first);
}

/// Once warm, the scorecard fold follows the log as the engine commits it: orders placed
/// through the API are folded from the durable batches the engine hands over, without reading
/// the log back, before anyone asks; the scorecard asked for afterwards folds nothing more, and
/// equals a cold fold of the whole log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_placed_after_the_warm_up_are_folded_as_they_commit() {
    let log = log();
    let operator = {
        let mut store = SqliteStore::open(&log.db, &OpenOptions::durable()).unwrap();
        issue_key(
            &mut store,
            &log.tenant,
            Role::Operator,
            "feed",
            jiff::Timestamp::now(),
        )
        .unwrap()
        .plaintext
    };
    let running = start(&serve_options(&log), EngineOptions::default())
        .await
        .unwrap();
    running.warmed().await;
    let base = format!("http://{}", running.address);
    let client = reqwest::Client::new();
    let metrics = || async {
        client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let counted = |text: &str, name: &str| series(text, &format!("{name}{{fold=\"scorecard\"}}"));
    let warm = metrics().await;
    assert_eq!(counted(&warm, "flowline_events_folded_total"), log.head);
    assert_eq!(counted(&warm, "flowline_events_fed_total"), 0);

    // Twelve orders, each answered with the events it recorded.
    let mut rng = Lcg::new(99);
    let mut recorded = 0;
    for number in 1..=12 {
        let script = OrderScript::random("API", number, 5, &mut rng);
        let flowline_core::Command::PlaceSalesOrder(body) = script.place() else {
            unreachable!("an order script places an order");
        };
        let answer: Value = client
            .post(format!("{base}/v1/sales-orders"))
            .bearer_auth(&operator)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = answer["events"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"));
        recorded += events.len() as u64;
    }
    let head = {
        let store = SqliteStore::open_read_only(&log.db).unwrap();
        store.tenant_head(&log.tenant).unwrap()
    };
    assert_eq!(head, log.head + recorded);

    // Folded as they committed, on the report lane, with no request asking.
    let mut fed = 0;
    for _ in 0..200 {
        fed = counted(&metrics().await, "flowline_events_fed_total");
        if fed == recorded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(fed, recorded, "events folded from the engine's batches");

    let range = "from=2025-01-01&to=2027-01-01&as_of=2027-01-01T00:00:00Z";
    let answer: Value = client
        .get(format!("{base}/v1/scorecard?{range}&by=channel"))
        .bearer_auth(&log.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let after = metrics().await;
    // Each event folded once: the warm-up's from the log, the new ones from the batches.
    assert_eq!(counted(&after, "flowline_events_folded_total"), head);
    assert_eq!(counted(&after, "flowline_events_fed_total"), recorded);

    let store = SqliteStore::open_read_only(&log.db).unwrap();
    let (cold, cold_head) = scorecards::fold_log_cold(&store, &log.tenant, false)
        .unwrap()
        .unwrap();
    assert_eq!(cold_head, head);
    let period = scorecards::range_of(
        &cold,
        Some("2025-01-01".parse().unwrap()),
        Some("2027-01-01".parse().unwrap()),
        Granularity::Month,
    );
    let report = scorecards::report(
        &log.tenant,
        &cold,
        period,
        Some(Dimension::Channel),
        "2027-01-01T00:00:00Z".parse().unwrap(),
        50,
    );
    let expected: Value = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    // The new orders are in it: the order fill rate judges the 120 orders of the log and the
    // 12 placed now.
    let fill = expected["scorecard"]["operational"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["id"] == "ops.order_fill_rate")
        .unwrap();
    assert_eq!(fill["population"], serde_json::json!(132));
    assert_same(&answer, &expected);
    running.shutdown().await.unwrap();
}
