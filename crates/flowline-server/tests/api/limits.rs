//! Bounds on callers: rate limits per key and tenant, slow and oversized requests, and the
//! strict reading of headers and bodies. Each test drives the real server over real sockets.

use crate::helpers::{spawn_app, spawn_app_with};
use flowline_server::ServerLimits;
use flowline_server::auth::Role;
use flowline_server::connections::Limits;
use flowline_server::rate::{Rate, RateLimits};
use flowline_store::Directory as _;
use flowline_store_sqlite::{OpenOptions, SqliteStore};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;

/// Short timeouts so a test of them takes a second or two.
fn quick_timeouts() -> ServerLimits {
    ServerLimits {
        connections: Limits {
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        rate: RateLimits::UNLIMITED,
    }
}

/// Sends raw bytes on a new connection and reads what comes back until the server closes it
/// (or 8 s pass: then `None`).
async fn raw(address: std::net::SocketAddr, bytes: &[u8]) -> Option<String> {
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(8)))
            .unwrap();
        stream.write_all(&bytes).unwrap();
        let mut received = Vec::new();
        match stream.read_to_end(&mut received) {
            Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                Some(String::from_utf8_lossy(&received).into_owned())
            }
            Err(_) => None,
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keys_flood_is_throttled_with_429_and_retry_after_and_spares_another_tenant() {
    // Key budget 20 a second (burst 40): 200 requests sent at once from tenant A's key can
    // get at most 40 + 20 × (the seconds they take) through; the rest must be 429s. Tenant B,
    // asking at the same time, has budgets of its own and is never refused.
    let app = spawn_app_with(ServerLimits {
        rate: RateLimits {
            per_key: Rate::per_second(20.0),
            per_tenant: Rate::per_second(1000.0),
        },
        ..ServerLimits::default()
    })
    .await;
    let flood = app.tenant("flood", None).await;
    let calm = app.tenant("calm", None).await;
    let started = std::time::Instant::now();
    let sends = (0..200).map(|_| app.get(&flood.viewer, "/v1/me"));
    let calm_sends = (0..10).map(|_| app.get(&calm.viewer, "/v1/me"));
    let (flooded, calmed) = tokio::join!(
        futures_util::future::join_all(sends),
        futures_util::future::join_all(calm_sends)
    );
    let seconds = started.elapsed().as_secs_f64();
    let passed = flooded.iter().filter(|reply| reply.status == 200).count();
    let refused: Vec<_> = flooded.iter().filter(|reply| reply.status == 429).collect();
    assert_eq!(passed + refused.len(), 200, "only 200s and 429s");
    assert!(
        (passed as f64) <= 40.0 + 20.0 * seconds + 1.0,
        "{passed} passed in {seconds} s"
    );
    assert!(passed >= 40, "the burst passes: {passed}");
    for reply in &refused {
        assert_eq!(reply.code(), "rate_limited");
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{reply:?}"
        );
        let retry: u32 = reply.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1);
        assert_eq!(reply.json()["details"]["scope"], "key");
    }
    assert!(calmed.iter().all(|reply| reply.status == 200));
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_a_rate_of_its_own_is_held_to_it_and_a_change_applies_while_serving() {
    // Server default 1,000 a second per key. Tenant A's `scanner` key is given 5 a second
    // (burst 10): of 60 requests at once at most 10 + 5 × (the seconds they take) pass and the
    // rest are 429s of the key's budget, while A's viewer key, on the default, passes all 60.
    // Cleared back to the default while the server runs, the scanner key gets all 60 through
    // once its bucket holds a token again (1/5 s at the old rate; the test waits 0.4 s).
    let app = spawn_app_with(ServerLimits {
        rate: RateLimits {
            per_key: Rate::per_second(1000.0),
            per_tenant: Rate::per_second(10_000.0),
        },
        ..ServerLimits::default()
    })
    .await;
    let a = app.tenant("a", None).await;
    let (scanner_id, scanner) = app.issue(&a.id, Role::Operator);
    let set_rate = |rate: Option<u32>| {
        let mut store = SqliteStore::open(&app.db, &OpenOptions::durable()).unwrap();
        assert!(store.set_key_rate(&a.id, &scanner_id, rate).unwrap());
    };
    set_rate(Some(5));
    let burst = |key: String| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let replies =
                futures_util::future::join_all((0..60).map(|_| app.get(&key, "/v1/me"))).await;
            (replies, started.elapsed().as_secs_f64())
        }
    };
    let ((limited, seconds), (plain, _)) =
        tokio::join!(burst(scanner.clone()), burst(a.viewer.clone()));
    let passed = limited.iter().filter(|reply| reply.status == 200).count();
    assert!(passed >= 10, "the key's burst of 10 passes: {passed}");
    assert!(
        (passed as f64) <= 10.0 + 5.0 * seconds + 1.0,
        "{passed} passed in {seconds} s at 5 a second"
    );
    for reply in limited.iter().filter(|reply| reply.status != 200) {
        assert_eq!(reply.status, 429);
        assert_eq!(reply.json()["details"]["scope"], "key");
    }
    assert!(plain.iter().all(|reply| reply.status == 200));

    set_rate(None);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (cleared, _) = burst(scanner).await;
    assert!(
        cleared.iter().all(|reply| reply.status == 200),
        "{:?}",
        cleared.iter().map(|reply| reply.status).collect::<Vec<_>>()
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_finish_and_idle_connections_are_closed() {
    let app = spawn_app_with(quick_timeouts()).await;
    // Half a request line and a header, then silence: closed after the 1 s header timeout.
    let reply = raw(app.address, b"GET /health HTTP/1.1\r\nHost: x\r\n").await;
    assert!(reply.is_some(), "the server kept a half-sent request open");
    // A connection that sends nothing at all is closed too.
    assert!(raw(app.address, b"").await.is_some());
    // A kept-alive connection that finished its request and then idles is closed as well.
    let reply = raw(
        app.address,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    )
    .await
    .expect("an idle kept-alive connection stayed open");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_gets_408_and_a_declared_50_mb_body_413_at_once() {
    let app = spawn_app_with(quick_timeouts()).await;
    // 10 of 1,000 declared bytes, then silence: 408 `body_timeout` after 1 s.
    let reply = raw(
        app.address,
        b"POST /v1/adjustments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"adjustm",
    )
    .await
    .expect("no answer to a body that never came");
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("application/problem+json"), "{reply}");
    assert!(reply.contains("\"code\":\"body_timeout\""), "{reply}");
    // 50 MB declared, nothing sent: refused by its declaration, without waiting for it.
    let started = std::time::Instant::now();
    let reply = raw(
        app.address,
        b"POST /v1/adjustments HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("no answer to a 50 MB declaration");
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("\"code\":\"payload_too_large\""), "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "it waited for the body"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_duplicate_credentials_and_unknown_assets_are_refused_as_problems() {
    let app = spawn_app().await;
    let tenant = app.tenant("strict", Some("USD")).await;
    // A key named twice: serde_json alone would keep the last value.
    let body = br#"{"name": "Mug", "name": "Cup", "unit_cost": {"amount_minor": 1, "currency": "USD"}, "price": {"amount_minor": 2, "currency": "USD"}}"#;
    let reply = app
        .client
        .put(app.url("/v1/items/MUG"))
        .bearer_auth(&tenant.admin)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let problem: Value = reply.json().await.unwrap();
    assert_eq!(problem["code"], "malformed_json");
    assert!(
        problem["message"].as_str().unwrap().contains("`name`"),
        "{problem}"
    );
    // Two Authorization headers, one valid: refused, not the first or last taken.
    let reply = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", format!("Bearer {}", tenant.admin))
        .header("authorization", "Bearer flk_0000000000000000_x")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let problem: Value = reply.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_header");
    assert_eq!(problem["details"]["header"], "Authorization");
    // An id that is a dot segment or a path is no id: nothing is created.
    for id in ["..", "a%2Fb%2Fx"] {
        let reply = app
            .put(
                &tenant.admin,
                &format!("/v1/items/{id}"),
                &json!({ "name": "Mug", "unit_cost": { "amount_minor": 1, "currency": "USD" },
                    "price": { "amount_minor": 2, "currency": "USD" } }),
            )
            .await;
        assert!(
            reply.status.is_client_error(),
            "{id}: {} {}",
            reply.status,
            reply.text()
        );
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{id}"
        );
    }
    // An asset that does not exist is a problem document like every other error.
    let reply = app
        .client
        .get(app.url("/assets/nope.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(reply.headers()["content-type"], "application/problem+json");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scorecard_over_centuries_is_refused_naming_the_longest_range() {
    // From year 1 to 9999 is 3.65 million days: a day-by-day walk of that is what made a wide
    // scorecard take half a minute. Ten years (3,660 days) is the most a range may span.
    let app = spawn_app().await;
    let tenant = app.tenant("wide", Some("USD")).await;
    for (query, status) in [
        ("from=0001-01-01&to=9999-12-30", 400),
        ("from=2020-01-01&to=2030-01-10", 400),
        ("from=2025-02-01&to=2025-01-01", 400),
        ("from=2020-01-01&to=2030-01-01", 200),
    ] {
        let reply = app
            .get(&tenant.viewer, &format!("/v1/scorecard?{query}"))
            .await;
        assert_eq!(reply.status, status, "{query}: {}", reply.text());
        if status == 400 {
            assert_eq!(reply.code(), "invalid_query");
            assert_eq!(
                reply.json()["details"]["parameter"],
                "to",
                "{}",
                reply.text()
            );
        }
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_asking_for_one_scorecard_costs_one_computation() {
    // Eight identical requests at once queue on the tenant's fold; the first computes the
    // report and the seven behind it are answered with it (same log head, within 2 s).
    let app = spawn_app().await;
    let tenant = app.tenant("crowd", Some("USD")).await;
    let path = "/v1/scorecard?from=2020-01-01&to=2030-01-01&as_of=2026-01-01T00:00:00Z&by=sku";
    let replies =
        futures_util::future::join_all((0..8).map(|_| app.get(&tenant.viewer, path))).await;
    assert!(replies.iter().all(|reply| reply.status == 200));
    assert!(replies.iter().all(|reply| reply.bytes == replies[0].bytes));
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    let count = |how: &str| -> u64 {
        let prefix = format!("flowline_reports_total{{how=\"{how}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
            .parse()
            .unwrap()
    };
    assert_eq!(count("computed") + count("shared"), 8);
    assert!(count("computed") <= 2, "{text}");
    app.finish().await;
}
