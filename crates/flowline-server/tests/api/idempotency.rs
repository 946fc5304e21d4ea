//! RELIABILITY R4: a command retried under its `Idempotency-Key` is recorded once and answered
//! with the first response, byte for byte; the key is the tenant's own; a key reused for another
//! command, or one that is not a key, is refused.

use crate::helpers::{Reply, Tenant, TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

/// How long any single await on the server may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

/// A tenant in USD with fulfillment center FC-1 and item MUG: three events (settings, FC-1, MUG).
async fn stocked_tenant(app: &TestApp, id: &str) -> Tenant {
    let tenant = app.tenant(id, Some("USD")).await;
    app.put(
        &tenant.admin,
        "/v1/locations/FC-1",
        &json!({
            "name": "East",
            "region": "us-east",
            "address": { "country": "US", "time_zone": "America/New_York" }
        }),
    )
    .await
    .expect(201);
    app.put(
        &tenant.admin,
        "/v1/items/MUG",
        &json!({
            "name": "Mug",
            "unit_cost": { "amount_minor": 400, "currency": "USD" },
            "price": { "amount_minor": 1200, "currency": "USD" }
        }),
    )
    .await
    .expect(201);
    assert_eq!(app.head(&tenant.id), 3);
    tenant
}

fn adjustment(id: &str, location: &str, quantity: i64) -> Value {
    json!({
        "adjustment": id,
        "location": location,
        "reason": "opening_balance",
        "lines": [{ "sku": "MUG", "quantity": quantity, "unit_cost_minor": 400 }]
    })
}

/// POSTs with an idempotency key on a client of its own, so it can run on a spawned task.
async fn post_keyed_owned(
    client: reqwest::Client,
    url: String,
    key: String,
    body: Vec<u8>,
    idempotency: String,
) -> Reply {
    let response = client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("idempotency-key", idempotency)
        .body(body)
        .send()
        .await
        .unwrap();
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// Sends `count` copies of the same keyed POST at once, each on its own task.
async fn concurrently(
    app: &TestApp,
    key: &str,
    path: &str,
    body: &Value,
    idempotency: &str,
    count: usize,
) -> Vec<Reply> {
    let bytes = serde_json::to_vec(body).unwrap();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            tokio::spawn(post_keyed_owned(
                app.client.clone(),
                app.url(path),
                key.to_string(),
                bytes.clone(),
                idempotency.to_string(),
            ))
        })
        .collect();
    let mut replies = Vec::with_capacity(count);
    for task in tasks {
        let reply = tokio::time::timeout(PATIENCE, task)
            .await
            .expect("a concurrent request did not finish")
            .unwrap();
        replies.push(reply);
    }
    replies
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get("idempotent-replayed")
        .map(|value| value.as_bytes() == b"true")
        .unwrap_or(false)
}

/// The stock on hand of MUG at FC-1, from the inventory view.
async fn on_hand(app: &TestApp, tenant: &Tenant) -> i64 {
    let positions = app
        .get(&tenant.viewer, "/v1/inventory?item=MUG&location=FC-1")
        .await
        .expect(200)
        .json();
    positions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|position| position["on_hand"].as_i64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_command_is_recorded_once_and_answered_with_the_first_bytes() {
    let app = spawn_app().await;
    let tenant = stocked_tenant(&app, "acme").await;
    let body = adjustment("OPEN-1", "FC-1", 10);
    let first = app
        .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-open-1")
        .await
        .expect(201);
    assert!(!replayed(&first), "the first execution is not a replay");
    // One StockAdjusted event, the tenant's fourth.
    let events = first.json()["events"].clone();
    assert_eq!(
        events,
        json!([{ "seq": 4, "stream": "adjustment/OPEN-1", "type": "StockAdjusted" }])
    );
    assert_eq!(app.head(&tenant.id), 4);

    for attempt in 0..10 {
        let retry = app
            .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-open-1")
            .await;
        assert_eq!(retry.status, first.status, "attempt {attempt}");
        assert_eq!(retry.bytes, first.bytes, "attempt {attempt}");
        assert!(replayed(&retry), "attempt {attempt}");
    }
    let retries = concurrently(
        &app,
        &tenant.operator,
        "/v1/adjustments",
        &body,
        "adj-open-1",
        32,
    )
    .await;
    for retry in &retries {
        assert_eq!(retry.status, first.status);
        assert_eq!(retry.bytes, first.bytes, "{}", retry.text());
        assert!(replayed(retry));
    }
    // 1 + 10 + 32 requests, one application: the log grew by its one event and the stock by
    // its 10 units, not 430.
    assert_eq!(app.head(&tenant.id), 4);
    assert_eq!(on_hand(&app, &tenant).await, 10);
    crate::helpers::check_is_clean(&app.db);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_attempts_under_one_key_execute_exactly_once() {
    let app = spawn_app().await;
    let tenant = stocked_tenant(&app, "acme").await;
    let body = adjustment("OPEN-1", "FC-1", 10);
    let replies = concurrently(
        &app,
        &tenant.operator,
        "/v1/adjustments",
        &body,
        "adj-race",
        32,
    )
    .await;
    let originals: Vec<&Reply> = replies.iter().filter(|reply| !replayed(reply)).collect();
    assert_eq!(
        originals.len(),
        1,
        "exactly one request executes the command"
    );
    let first = originals[0];
    assert_eq!(first.status.as_u16(), 201, "{}", first.text());
    for reply in &replies {
        assert_eq!(reply.status, first.status);
        assert_eq!(reply.bytes, first.bytes);
    }
    assert_eq!(
        app.head(&tenant.id),
        4,
        "one StockAdjusted event after the three"
    );
    assert_eq!(on_hand(&app, &tenant).await, 10);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_with_another_body_is_refused_and_records_nothing() {
    let app = spawn_app().await;
    let tenant = stocked_tenant(&app, "acme").await;
    let first = app
        .post_keyed(
            &tenant.operator,
            "/v1/adjustments",
            &adjustment("OPEN-1", "FC-1", 10),
            "adj-1",
        )
        .await
        .expect(201);
    assert_eq!(app.head(&tenant.id), 4);

    // Another quantity, and another document id, under the same key.
    for other in [
        adjustment("OPEN-1", "FC-1", 11),
        adjustment("OPEN-2", "FC-1", 10),
    ] {
        let reply = app
            .post_keyed(&tenant.operator, "/v1/adjustments", &other, "adj-1")
            .await
            .expect(422);
        assert_eq!(reply.code(), "idempotency_key_reused");
        assert_eq!(reply.json()["details"]["key"], "adj-1");
        assert_eq!(
            reply.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        assert!(!replayed(&reply));
    }
    // The same key on another operation is another command too.
    let reply = app
        .send(
            reqwest::Method::PUT,
            Some(&tenant.admin),
            "/v1/items/MUG",
            Some(
                serde_json::to_vec(&json!({
                    "name": "Mug",
                    "unit_cost": { "amount_minor": 400, "currency": "USD" },
                    "price": { "amount_minor": 1300, "currency": "USD" }
                }))
                .unwrap(),
            ),
            &[("idempotency-key", "adj-1")],
        )
        .await
        .expect(422);
    assert_eq!(reply.code(), "idempotency_key_reused");
    assert_eq!(app.head(&tenant.id), 4, "nothing was recorded");
    assert_eq!(on_hand(&app, &tenant).await, 10);

    // The original command under its key still gets its first answer.
    let retry = app
        .post_keyed(
            &tenant.operator,
            "/v1/adjustments",
            &adjustment("OPEN-1", "FC-1", 10),
            "adj-1",
        )
        .await;
    assert_eq!(retry.bytes, first.bytes);
    assert!(replayed(&retry));
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_command_retried_under_its_key_gets_the_same_rejection() {
    let app = spawn_app().await;
    let tenant = stocked_tenant(&app, "acme").await;
    // FC-9 does not exist: 404 not_found.
    let body = adjustment("ADJ-9", "FC-9", 10);
    let first = app
        .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-9")
        .await
        .expect(404);
    assert_eq!(first.code(), "not_found");
    assert_eq!(first.json()["details"]["id"], "FC-9");
    assert!(!replayed(&first));
    assert_eq!(app.head(&tenant.id), 3);
    for _ in 0..3 {
        let retry = app
            .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-9")
            .await;
        assert_eq!(retry.status, first.status);
        assert_eq!(retry.bytes, first.bytes);
        assert!(replayed(&retry));
        assert_eq!(
            retry.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
    }
    assert_eq!(app.head(&tenant.id), 3, "a rejection appends nothing");

    // The key holds the first outcome even once the command could succeed: FC-9 now exists,
    // yet the retry is still the stored 404, while the same body under a new key applies.
    app.put(
        &tenant.admin,
        "/v1/locations/FC-9",
        &json!({
            "name": "West",
            "region": "us-west",
            "address": { "country": "US", "time_zone": "America/Los_Angeles" }
        }),
    )
    .await
    .expect(201);
    assert_eq!(app.head(&tenant.id), 4);
    let retry = app
        .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-9")
        .await;
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.bytes, first.bytes);
    assert_eq!(app.head(&tenant.id), 4);
    app.post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-9-again")
        .await
        .expect(201);
    assert_eq!(app.head(&tenant.id), 5);

    // A conflict (409) is stored the same way: ADJ-9 now exists, so defining it again is
    // already_exists, and its retry gets the same bytes.
    let first = app
        .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-9-third")
        .await
        .expect(409);
    assert_eq!(first.code(), "already_exists");
    let retry = app
        .post_keyed(&tenant.operator, "/v1/adjustments", &body, "adj-9-third")
        .await;
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.bytes, first.bytes);
    assert!(replayed(&retry));
    assert_eq!(app.head(&tenant.id), 5);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_belong_to_their_tenant() {
    let app = spawn_app().await;
    let a = stocked_tenant(&app, "tenant-a").await;
    let b = stocked_tenant(&app, "tenant-b").await;
    let first_a = app
        .post_keyed(
            &a.operator,
            "/v1/adjustments",
            &adjustment("OPEN-1", "FC-1", 10),
            "shared-key",
        )
        .await
        .expect(201);
    // B uses the same key string with a different body: were keys global this would be 422,
    // or a replay of A's response. It is B's own first execution.
    let first_b = app
        .post_keyed(
            &b.operator,
            "/v1/adjustments",
            &adjustment("OPEN-1", "FC-1", 5),
            "shared-key",
        )
        .await
        .expect(201);
    assert!(!replayed(&first_b));
    assert_ne!(first_b.bytes, first_a.bytes);
    assert_eq!(app.head(&a.id), 4);
    assert_eq!(app.head(&b.id), 4);
    assert_eq!(on_hand(&app, &a).await, 10);
    assert_eq!(on_hand(&app, &b).await, 5);

    // Each tenant's retry gets its own first answer back.
    let retry_a = app
        .post_keyed(
            &a.operator,
            "/v1/adjustments",
            &adjustment("OPEN-1", "FC-1", 10),
            "shared-key",
        )
        .await;
    assert_eq!(retry_a.bytes, first_a.bytes);
    assert!(replayed(&retry_a));
    let retry_b = app
        .post_keyed(
            &b.operator,
            "/v1/adjustments",
            &adjustment("OPEN-1", "FC-1", 5),
            "shared-key",
        )
        .await;
    assert_eq!(retry_b.bytes, first_b.bytes);
    assert!(replayed(&retry_b));
    assert_eq!(app.head(&a.id), 4);
    assert_eq!(app.head(&b.id), 4);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_that_is_not_a_key_is_refused_with_400() {
    let app = spawn_app().await;
    let tenant = stocked_tenant(&app, "acme").await;
    let body = serde_json::to_vec(&adjustment("OPEN-1", "FC-1", 10)).unwrap();
    let too_long = "k".repeat(256);
    for bad in ["", "has space", "caf\u{e9}", too_long.as_str()] {
        let reply = app
            .send(
                reqwest::Method::POST,
                Some(&tenant.operator),
                "/v1/adjustments",
                Some(body.clone()),
                &[("idempotency-key", bad)],
            )
            .await
            .expect(400);
        assert_eq!(reply.code(), "invalid_header", "{bad:?}");
        assert_eq!(reply.json()["details"]["header"], "Idempotency-Key");
        assert_eq!(
            reply.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
    }
    assert_eq!(
        app.head(&tenant.id),
        3,
        "no refused request recorded anything"
    );
    // 255 characters is the longest key, and it is accepted.
    let longest = "k".repeat(255);
    app.post_keyed(
        &tenant.operator,
        "/v1/adjustments",
        &adjustment("OPEN-1", "FC-1", 10),
        &longest,
    )
    .await
    .expect(201);
    assert_eq!(app.head(&tenant.id), 4);
    app.finish().await;
}
