//! The API's contract: the OpenAPI document matches the router, every documented operation is
//! served, errors have one shape, keys authenticate, lists page, the event feed pages and
//! streams without gaps or repeats, and `/metrics` counts what happened.

use crate::helpers::{Reply, TestApp, spawn_app};
use flowline_server::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// How long any single await on the server may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

fn location_body() -> Value {
    json!({
        "name": "East",
        "region": "us-east",
        "address": { "country": "US", "time_zone": "America/New_York" }
    })
}

fn item_body(name: &str) -> Value {
    json!({
        "name": name,
        "unit_cost": { "amount_minor": 400, "currency": "USD" },
        "price": { "amount_minor": 1200, "currency": "USD" }
    })
}

/// Defines FC-1 and the given SKUs (each one event), as an admin.
async fn define_master_data(app: &TestApp, admin: &str, skus: &[&str]) {
    app.put(admin, "/v1/locations/FC-1", &location_body())
        .await
        .expect(200);
    for sku in skus {
        app.put(admin, &format!("/v1/items/{sku}"), &item_body(sku))
            .await
            .expect(200);
    }
}

/// Sends a request whose `Content-Type` the test chooses (the helpers always send JSON).
async fn send_raw(
    app: &TestApp,
    method: Method,
    key: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(key)
        .header("content-type", content_type)
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

/// Asserts that `reply` is an `application/problem+json` error with this status and code and
/// every field of the problem shape; returns the problem.
#[track_caller]
fn assert_problem(reply: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text());
    let content_type = reply
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    assert_eq!(content_type, "application/problem+json", "{}", reply.text());
    let problem = reply.json();
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status, "{problem}");
    let type_url = problem["type"].as_str().unwrap_or("");
    assert!(type_url.ends_with(&format!("#{code}")), "{problem}");
    let title = StatusCode::from_u16(status)
        .unwrap()
        .canonical_reason()
        .unwrap();
    assert_eq!(problem["title"], title, "{problem}");
    assert!(
        !problem["message"].as_str().unwrap_or("").is_empty(),
        "{problem}"
    );
    assert!(problem["details"].is_object(), "{problem}");
    problem
}

fn content_type(reply: &Reply) -> String {
    reply
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The (METHOD, path) pairs of an OpenAPI document's `paths`.
fn documented_operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, methods) in document["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            operations.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    operations
}

/// Every `$ref` anywhere in `value`.
fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                if name == "$ref"
                    && let Some(reference) = field.as_str()
                {
                    refs.push(reference.to_string());
                } else {
                    collect_refs(field, refs);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_exactly_the_routes_the_router_registers() {
    let app = spawn_app().await;
    // No key: the document is public.
    let reply = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200);
    assert!(content_type(&reply).starts_with("application/json"));
    let document = reply.json();
    assert_eq!(document["openapi"], "3.1.0");

    // What the router registers, from a second App on its own log.
    let directory = tempfile::tempdir().unwrap();
    let other = flowline_server::App::open(
        &directory.path().join("router.db"),
        flowline_engine::EngineOptions::durable(),
    )
    .unwrap();
    let (_, registered) = flowline_server::router(other.clone());
    let engine = other.engine().clone();
    tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .unwrap();
    let registered_set: BTreeSet<(String, String)> = registered
        .iter()
        .map(|(method, path)| (method.as_str().to_string(), path.clone()))
        .collect();
    assert_eq!(
        registered_set.len(),
        registered.len(),
        "a (method, path) is registered twice"
    );

    let documented = documented_operations(&document);
    let documented_set: BTreeSet<(String, String)> = documented.iter().cloned().collect();
    let undocumented: Vec<_> = registered_set.difference(&documented_set).collect();
    let unrouted: Vec<_> = documented_set.difference(&registered_set).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    // Sanity: the table is not trivially empty, and a few known routes are in it.
    for known in [
        ("GET", "/v1/openapi.json"),
        ("PUT", "/v1/items/{id}"),
        (
            "POST",
            "/v1/sales-orders/{id}/shipments/{shipment}/deliveries",
        ),
        ("GET", "/v1/events/stream"),
        ("GET", "/metrics"),
    ] {
        assert!(
            documented_set.contains(&(known.0.to_string(), known.1.to_string())),
            "{known:?}"
        );
    }

    // Every operation: a unique operationId, a summary, and the roles that may call it.
    let mut ids = HashSet::new();
    for (method, path) in &documented {
        let operation = &document["paths"][path][method.to_ascii_lowercase()];
        let id = operation["operationId"].as_str().unwrap_or("");
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        let summary = operation["summary"].as_str().unwrap_or("");
        assert!(!summary.trim().is_empty(), "{method} {path} has no summary");
        let roles = operation["x-flowline-roles"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no x-flowline-roles"));
        assert!(!roles.is_empty(), "{method} {path}: no role may call it");
        for role in roles {
            let role = role.as_str().unwrap_or("");
            assert!(Role::parse(role).is_ok(), "{method} {path}: role {role}");
        }
    }
    // Master data is for admins only; a sales order step for admins and operators.
    assert_eq!(
        document["paths"]["/v1/items/{id}"]["put"]["x-flowline-roles"],
        json!(["admin"])
    );
    assert_eq!(
        document["paths"]["/v1/sales-orders/{id}/picks"]["post"]["x-flowline-roles"],
        json!(["admin", "operator"])
    );

    // Every reference resolves inside the document's components.
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(!refs.is_empty());
    for reference in &refs {
        assert!(
            reference.starts_with("#/components/"),
            "{reference} points outside components"
        );
        let pointer = reference.trim_start_matches('#');
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_by_a_handler_not_the_fallback() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    let operations = documented_operations(&document);
    assert!(operations.len() > 50, "{}", operations.len());
    for (method, path) in operations {
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') && segment.ends_with('}') {
                    "X1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        if path == "/v1/events/stream" {
            // An endless stream: check the head of the response and drop it.
            let response = tokio::time::timeout(
                PATIENCE,
                app.client
                    .get(app.url(&concrete))
                    .bearer_auth(&tenant.admin)
                    .send(),
            )
            .await
            .expect("the stream did not answer")
            .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            assert!(
                content_type.starts_with("text/event-stream"),
                "{content_type}"
            );
            drop(response);
            continue;
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = matches!(method, Method::PUT | Method::POST).then(|| b"{}".to_vec());
        let reply = tokio::time::timeout(
            PATIENCE,
            app.send(method.clone(), Some(&tenant.admin), &concrete, body, &[]),
        )
        .await
        .expect("no answer");
        let code = reply.code();
        assert!(
            code != "route_not_found" && code != "method_not_allowed",
            "{method} {concrete} fell through to the router's fallback: {}",
            reply.text()
        );
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}"
        );
        assert!(
            !reply.status.is_server_error(),
            "{method} {concrete}: {} {}",
            reply.status,
            reply.text()
        );
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_json_is_located_by_line_and_column() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    // Line 3 is `  "location" "FC-1"`: two spaces (columns 1-2), `"location"` (columns 3-12),
    // a space (13), and at column 14 the `"` that opens "FC-1" where a `:` was expected.
    let body = "{\n  \"adjustment\": \"A-1\",\n  \"location\" \"FC-1\"\n}";
    let reply = app
        .send(
            Method::POST,
            Some(&tenant.admin),
            "/v1/adjustments",
            Some(body.as_bytes().to_vec()),
            &[],
        )
        .await;
    let problem = assert_problem(&reply, 400, "malformed_json");
    assert_eq!(problem["details"], json!({ "line": 3, "column": 14 }));

    // An empty body is malformed at its very start.
    let reply = app
        .send(
            Method::POST,
            Some(&tenant.admin),
            "/v1/adjustments",
            Some(Vec::new()),
            &[],
        )
        .await;
    let problem = assert_problem(&reply, 400, "malformed_json");
    assert_eq!(problem["details"], json!({ "line": 1, "column": 1 }));
    assert_eq!(app.head(&tenant.id), 1, "only the settings were recorded");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_misplaced_body_fields_are_refused_by_their_path() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let mut body = location_body();
    body["colour"] = json!("red");
    let reply = app.put(&tenant.admin, "/v1/locations/FC-1", &body).await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    assert_eq!(problem["details"]["field"], "colour");

    let mut body = location_body();
    body["address"]["planet"] = json!("Mars");
    let reply = app.put(&tenant.admin, "/v1/locations/FC-1", &body).await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    assert_eq!(problem["details"]["field"], "address.planet");

    // A wrongly typed value deep in a list is named with its index.
    let reply = app
        .post(
            &tenant.admin,
            "/v1/adjustments",
            &json!({
                "adjustment": "A-1", "location": "FC-1", "reason": "found",
                "lines": [{ "sku": "MUG", "quantity": 1 }, { "sku": "MUG", "quantity": "two" }]
            }),
        )
        .await;
    let problem = assert_problem(&reply, 400, "invalid_body");
    assert_eq!(problem["details"]["field"], "lines[1].quantity");

    // The path gives the location; the body may not repeat it.
    let mut body = location_body();
    body["location"] = json!("FC-2");
    let reply = app.put(&tenant.admin, "/v1/locations/FC-1", &body).await;
    let problem = assert_problem(&reply, 400, "field_in_path");
    assert_eq!(problem["details"]["field"], "location");
    assert_eq!(app.head(&tenant.id), 1, "only the settings were recorded");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    // `{"name":"` is 9 bytes and `"}` is 2; a name of 1_048_566 bytes makes the body
    // 1_048_577 bytes, one more than the 1 MiB (1_048_576) limit.
    let limit = 1 << 20;
    let body = format!("{{\"name\":\"{}\"}}", "x".repeat(limit + 1 - 11));
    assert_eq!(body.len(), limit + 1);
    let reply = tokio::time::timeout(
        PATIENCE,
        app.send(
            Method::PUT,
            Some(&tenant.admin),
            "/v1/items/MUG",
            Some(body.into_bytes()),
            &[],
        ),
    )
    .await
    .expect("no answer");
    let problem = assert_problem(&reply, 413, "payload_too_large");
    assert_eq!(problem["details"]["limit_bytes"], limit);
    assert_eq!(app.head(&tenant.id), 1, "only the settings were recorded");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_are_checked_by_name_and_range() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let reply = app.get(&tenant.admin, "/v1/items?limit=1001").await;
    let problem = assert_problem(&reply, 400, "invalid_query");
    assert_eq!(problem["details"]["parameter"], "limit");
    let reply = app.get(&tenant.admin, "/v1/items?limit=0").await;
    assert_problem(&reply, 400, "invalid_query");
    // The bounds themselves are fine.
    app.get(&tenant.admin, "/v1/items?limit=1000")
        .await
        .expect(200);
    app.get(&tenant.admin, "/v1/items?limit=1")
        .await
        .expect(200);

    let reply = app.get(&tenant.admin, "/v1/items?colour=red").await;
    let problem = assert_problem(&reply, 400, "invalid_query");
    assert_eq!(problem["details"]["parameter"], "colour");
    let reply = app.get(&tenant.admin, "/v1/events?limit=1001").await;
    assert_problem(&reply, 400, "invalid_query");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_that_takes_no_query_parameters_refuses_any() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    app.put(&tenant.admin, "/v1/locations/FC-1", &location_body())
        .await
        .expect(200);
    app.put(&tenant.admin, "/v1/items/MUG", &item_body("MUG"))
        .await
        .expect(200);
    // The document lists no query parameters for these; one given anyway is a client's
    // mistake (a misspelt filter, a `dry_run` the API does not have) and must not be ignored.
    // Every path is tried before asserting, so a failure lists all the offenders.
    let mut accepted = Vec::new();
    for path in [
        "/v1/me?verbose=1",
        "/v1/settings?verbose=1",
        "/v1/accounts?currency=USD",
        "/v1/items/MUG?expand=bom",
        "/v1/items/MUG/events?limit=1",
    ] {
        let reply = app.get(&tenant.admin, path).await;
        if reply.status != StatusCode::BAD_REQUEST {
            accepted.push(format!("GET {path}: {}", reply.status));
        } else {
            assert_problem(&reply, 400, "invalid_query");
        }
    }
    // Above all a command: `?dry_run=true` must not apply the adjustment for real.
    let reply = app
        .post(
            &tenant.admin,
            "/v1/adjustments?dry_run=true",
            &json!({
                "adjustment": "OPEN-1", "location": "FC-1", "reason": "opening_balance",
                "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 }]
            }),
        )
        .await;
    if reply.status != StatusCode::BAD_REQUEST {
        accepted.push(format!(
            "POST /v1/adjustments?dry_run=true: {}; log head now {}",
            reply.status,
            app.head(&tenant.id)
        ));
    } else {
        let problem = assert_problem(&reply, 400, "invalid_query");
        assert_eq!(problem["details"]["parameter"], "dry_run");
    }
    assert!(
        accepted.is_empty(),
        "unknown query parameters were ignored: {accepted:#?}"
    );
    // Settings, FC-1 and MUG: nothing more was recorded.
    assert_eq!(app.head(&tenant.id), 3);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_wrong_methods_bad_ids_and_media_types_have_their_own_errors() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let reply = app.get(&tenant.admin, "/v1/nothing-here").await;
    assert_problem(&reply, 404, "route_not_found");
    let reply = app.send(Method::GET, None, "/v2/items", None, &[]).await;
    assert_problem(&reply, 404, "route_not_found");

    let reply = app
        .send(Method::DELETE, Some(&tenant.admin), "/v1/items", None, &[])
        .await;
    assert_problem(&reply, 405, "method_not_allowed");
    let reply = app
        .send(
            Method::POST,
            Some(&tenant.admin),
            "/v1/items/MUG",
            Some(b"{}".to_vec()),
            &[],
        )
        .await;
    assert_problem(&reply, 405, "method_not_allowed");

    // A path id that cannot be an id (a space; 65 characters, one over the limit) names
    // nothing: 404, as for an id the tenant does not have.
    let reply = app.get(&tenant.admin, "/v1/items/bad%20id").await;
    let problem = assert_problem(&reply, 404, "not_found");
    assert_eq!(problem["details"]["id"], "bad id");
    let long = "x".repeat(65);
    let reply = app.get(&tenant.admin, &format!("/v1/items/{long}")).await;
    assert_problem(&reply, 404, "not_found");
    let reply = app
        .get(&tenant.admin, "/v1/sales-orders/bad%20id/events")
        .await;
    assert_problem(&reply, 404, "not_found");
    let reply = app
        .post(&tenant.admin, "/v1/sales-orders/bad%20id/picks", &json!({}))
        .await;
    assert_problem(&reply, 404, "not_found");
    // A valid id the tenant does not have is the same 404.
    let reply = app.get(&tenant.admin, "/v1/items/NOPE").await;
    let problem = assert_problem(&reply, 404, "not_found");
    assert_eq!(problem["details"]["id"], "NOPE");

    let body = serde_json::to_vec(&location_body()).unwrap();
    let reply = send_raw(
        &app,
        Method::PUT,
        &tenant.admin,
        "/v1/locations/FC-1",
        "text/plain",
        body.clone(),
    )
    .await;
    assert_problem(&reply, 415, "unsupported_media_type");
    // `application/json; charset=utf-8` is JSON.
    send_raw(
        &app,
        Method::PUT,
        &tenant.admin,
        "/v1/locations/FC-1",
        "application/json; charset=utf-8",
        body,
    )
    .await
    .expect(200);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_authenticate_with_a_bearer_key_and_nothing_else() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let reply = app.send(Method::GET, None, "/v1/items", None, &[]).await;
    assert_problem(&reply, 401, "unauthenticated");
    let reply = app.get("not-a-key", "/v1/items").await;
    assert_problem(&reply, 401, "unauthenticated");
    // Well formed, but no such key.
    let forged = format!("flk_{}_{}", "0".repeat(16), "a".repeat(64));
    let reply = app.get(&forged, "/v1/items").await;
    assert_problem(&reply, 401, "unauthenticated");
    // Not a bearer token.
    let reply = app
        .send(
            Method::GET,
            None,
            "/v1/items",
            None,
            &[("authorization", &format!("Basic {}", tenant.admin))],
        )
        .await;
    assert_problem(&reply, 401, "unauthenticated");

    // A key in the query string is refused even alongside a valid header, and is not logged
    // (finish() scans the log for it).
    let reply = app
        .get(
            &tenant.admin,
            &format!("/v1/items?api_key={}", tenant.viewer),
        )
        .await;
    assert_problem(&reply, 401, "credentials_in_query");
    let reply = app
        .send(
            Method::GET,
            None,
            &format!("/v1/me?access_token={}", tenant.viewer),
            None,
            &[],
        )
        .await;
    assert_problem(&reply, 401, "credentials_in_query");

    // /v1/me names the tenant and role of the calling key.
    let me = app.get(&tenant.admin, "/v1/me").await.expect(200).json();
    assert_eq!(me["tenant"], "acme");
    assert_eq!(me["role"], "admin");
    // The key id is the 16 hex digits between `flk_` and the secret.
    assert_eq!(me["key_id"], tenant.admin[4..20]);
    for role in Role::ALL {
        let me = app.get(tenant.key(role), "/v1/me").await.expect(200).json();
        assert_eq!(me["tenant"], "acme");
        assert_eq!(me["role"], role.as_str());
    }

    // A revoked key stops working on the very next request.
    let (key_id, key) = app.issue(&tenant.id, Role::Operator);
    let me = app.get(&key, "/v1/me").await.expect(200).json();
    assert_eq!(
        me,
        json!({ "tenant": "acme", "role": "operator", "key_id": key_id })
    );
    app.revoke(&tenant.id, &key_id);
    let reply = app.get(&key, "/v1/me").await;
    assert_problem(&reply, 401, "unauthenticated");
    let reply = app.get(&key, "/v1/items").await;
    assert_problem(&reply, 401, "unauthenticated");
    // The tenant's other keys are unaffected.
    app.get(&tenant.operator, "/v1/me").await.expect(200);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_pages_through_every_record_once_in_id_order() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    // Defined out of order; listed by id: SKU-1 .. SKU-7.
    for n in [4, 1, 7, 3, 6, 2, 5] {
        let sku = format!("SKU-{n}");
        app.put(&tenant.admin, &format!("/v1/items/{sku}"), &item_body(&sku))
            .await
            .expect(200);
    }
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut path = "/v1/items?limit=3".to_string();
    loop {
        let page = app.get(&tenant.viewer, &path).await.expect(200).json();
        assert_eq!(page["object"], "list");
        let data = page["data"].as_array().unwrap();
        for record in data {
            assert_eq!(record["object"], "item");
            seen.push(record["sku"].as_str().unwrap().to_string());
        }
        pages.push((
            data.len(),
            page["has_more"].clone(),
            page["next_after"].clone(),
        ));
        assert!(pages.len() <= 3, "more pages than 7 records in threes need");
        match page["next_after"].as_str() {
            Some(after) if page["has_more"] == true => {
                path = format!("/v1/items?limit=3&after={after}");
            }
            _ => break,
        }
    }
    // 7 records in pages of 3: 3, 3, then 1; the cursor is the last id of each full page.
    assert_eq!(
        pages,
        vec![
            (3, json!(true), json!("SKU-3")),
            (3, json!(true), json!("SKU-6")),
            (1, json!(false), Value::Null),
        ]
    );
    let expected: Vec<String> = (1..=7).map(|n| format!("SKU-{n}")).collect();
    assert_eq!(seen, expected);
    // After the last id there is nothing.
    let page = app
        .get(&tenant.viewer, "/v1/items?after=SKU-7")
        .await
        .expect(200)
        .json();
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["has_more"], false);
    app.finish().await;
}

/// One server-sent event: its id, event name and data.
#[derive(Debug)]
struct SseFrame {
    id: u64,
    event: String,
    data: Value,
}

/// Reads server-sent events off a response, a chunk at a time.
struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event that carries an id (keep-alive comments are skipped); fails the test if
    /// none comes within [`PATIENCE`].
    async fn next(&mut self) -> SseFrame {
        tokio::time::timeout(PATIENCE, self.next_frame())
            .await
            .expect("no server-sent event arrived in time")
    }

    async fn next_frame(&mut self) -> SseFrame {
        loop {
            let normalized = self.buffer.replace("\r\n", "\n");
            if let Some(end) = normalized.find("\n\n") {
                let frame = normalized[..end].to_string();
                self.buffer = normalized[end + 2..].to_string();
                if let Some(parsed) = parse_frame(&frame) {
                    return parsed;
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await
                .unwrap()
                .expect("the event stream ended");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn parse_frame(frame: &str) -> Option<SseFrame> {
    let mut id = None;
    let mut event = String::new();
    let mut data = Vec::new();
    for line in frame.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.parse::<u64>().unwrap()),
            "event" => event = value.to_string(),
            "data" => data.push(value.to_string()),
            _ => {}
        }
    }
    let id = id?;
    Some(SseFrame {
        id,
        event,
        data: serde_json::from_str(&data.join("\n")).unwrap(),
    })
}

async fn open_stream(
    app: &TestApp,
    key: &str,
    path: &str,
    last_event_id: Option<u64>,
) -> SseReader {
    let mut request = app.client.get(app.url(path)).bearer_auth(key);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = tokio::time::timeout(PATIENCE, request.send())
        .await
        .expect("the stream did not answer")
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    SseReader::new(response)
}

#[track_caller]
fn assert_frame(frame: &SseFrame, seq: u64, event_type: &str, stream: &str) {
    assert_eq!(frame.id, seq, "{frame:?}");
    assert_eq!(frame.event, event_type, "{frame:?}");
    assert_eq!(frame.data["seq"], seq, "{frame:?}");
    assert_eq!(frame.data["type"], event_type, "{frame:?}");
    assert_eq!(frame.data["stream"], stream, "{frame:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_feed_pages_and_streams_every_event_once_in_order() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    define_master_data(&app, &tenant.admin, &["MUG", "CUP"]).await;
    app.post(
        &tenant.operator,
        "/v1/adjustments",
        &json!({
            "adjustment": "OPEN-1", "location": "FC-1", "reason": "opening_balance",
            "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 },
                      { "sku": "CUP", "quantity": 5 }]
        }),
    )
    .await
    .expect(201);
    // One event per command: settings (1), FC-1 (2), MUG (3), CUP (4), OPEN-1 (5).
    let expected = [
        (1, "TenantConfigured", "tenant/settings"),
        (2, "LocationDefined", "location/FC-1"),
        (3, "ItemDefined", "item/MUG"),
        (4, "ItemDefined", "item/CUP"),
        (5, "StockAdjusted", "adjustment/OPEN-1"),
    ];
    assert_eq!(app.head(&tenant.id), 5);

    // Pages of two: [1, 2], [3, 4], [5]; the cursor is the last seq of each page.
    let mut seqs = Vec::new();
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .get(
                &tenant.integration,
                &format!("/v1/events?after={after}&limit=2"),
            )
            .await
            .expect(200)
            .json();
        for event in page["data"].as_array().unwrap() {
            let seq = event["seq"].as_u64().unwrap();
            let (_, event_type, stream) = expected[usize::try_from(seq).unwrap() - 1];
            assert_eq!(event["type"], event_type);
            assert_eq!(event["stream"], stream);
            assert_eq!(event["stream_version"], 1);
            assert!(event["payload"].is_object());
            seqs.push(seq);
        }
        pages.push((page["next_after"].clone(), page["has_more"].clone()));
        after = page["next_after"].as_u64().unwrap();
        assert!(pages.len() <= 3, "more pages than 5 events in twos need");
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        pages,
        vec![
            (json!(2), json!(true)),
            (json!(4), json!(true)),
            (json!(5), json!(false)),
        ]
    );

    // The stream from after=2 sends 3, 4, 5, each with its seq as the SSE id ...
    let mut stream =
        open_stream(&app, &tenant.integration, "/v1/events/stream?after=2", None).await;
    for (seq, event_type, name) in &expected[2..] {
        let frame = stream.next().await;
        assert_frame(&frame, *seq, event_type, name);
    }
    // ... and then what is appended while it is open: BOWL is event 6.
    app.put(&tenant.admin, "/v1/items/BOWL", &item_body("BOWL"))
        .await
        .expect(200);
    let frame = stream.next().await;
    assert_frame(&frame, 6, "ItemDefined", "item/BOWL");
    drop(stream);

    // Reconnecting with Last-Event-ID: 4 resumes at 5; the header wins over `after=0`.
    let mut stream = open_stream(
        &app,
        &tenant.integration,
        "/v1/events/stream?after=0",
        Some(4),
    )
    .await;
    let frame = stream.next().await;
    assert_frame(&frame, 5, "StockAdjusted", "adjustment/OPEN-1");
    let frame = stream.next().await;
    assert_frame(&frame, 6, "ItemDefined", "item/BOWL");
    // Nothing is repeated: the next event is the next one appended, PLATE (7).
    app.put(&tenant.admin, "/v1/items/PLATE", &item_body("PLATE"))
        .await
        .expect(200);
    let frame = stream.next().await;
    assert_frame(&frame, 7, "ItemDefined", "item/PLATE");
    drop(stream);
    assert_eq!(app.head(&tenant.id), 7);
    app.finish().await;
}

/// The value of the one sample of `series` (name with labels, exactly as exposed).
fn sample(text: &str, series: &str) -> f64 {
    let values: Vec<f64> = text
        .lines()
        .filter_map(|line| line.strip_prefix(series))
        .filter_map(|rest| rest.strip_prefix(' '))
        .map(|value| value.trim().parse::<f64>().unwrap())
        .collect();
    assert_eq!(values.len(), 1, "{series} in\n{text}");
    values[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_commands_and_events_in_prometheus_text() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    define_master_data(&app, &tenant.admin, &["MUG"]).await;
    app.post(
        &tenant.operator,
        "/v1/adjustments",
        &json!({
            "adjustment": "OPEN-1", "location": "FC-1", "reason": "opening_balance",
            "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 }]
        }),
    )
    .await
    .expect(201);
    // Rejected by the domain: FC-9 does not exist.
    let reply = app
        .post(
            &tenant.operator,
            "/v1/adjustments",
            &json!({
                "adjustment": "ADJ-2", "location": "FC-9", "reason": "found",
                "lines": [{ "sku": "MUG", "quantity": 1 }]
            }),
        )
        .await;
    assert_problem(&reply, 404, "not_found");

    let reply = app
        .send(Method::GET, None, "/metrics", None, &[])
        .await
        .expect(200);
    assert!(
        content_type(&reply).starts_with("text/plain"),
        "{}",
        content_type(&reply)
    );
    let text = reply.text();
    // This server's counters are its own. Applied: settings, FC-1, MUG, OPEN-1 = 4, each one
    // event, so 4 events appended; the FC-9 adjustment is the one rejection.
    assert_eq!(
        sample(&text, "flowline_commands_total{outcome=\"applied\"}"),
        4.0
    );
    assert_eq!(
        sample(&text, "flowline_commands_total{outcome=\"rejected\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "flowline_commands_total{outcome=\"replayed\"}"),
        0.0
    );
    assert_eq!(sample(&text, "flowline_events_appended_total"), 4.0);
    assert_eq!(app.head(&tenant.id), 4);
    let depth = sample(&text, "flowline_engine_queue_depth");
    assert!(depth >= 0.0 && depth.fract() == 0.0, "{depth}");
    assert!(text.contains("# TYPE flowline_http_requests_total counter"));
    // One PUT of an item, answered 200, under its route template.
    assert_eq!(
        sample(
            &text,
            "flowline_http_requests_total{method=\"PUT\",route=\"/v1/items/{id}\",status=\"200\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "flowline_http_requests_total{method=\"POST\",route=\"/v1/adjustments\",status=\"404\"}"
        ),
        1.0
    );
    // No series names a tenant.
    assert!(!text.contains("acme"));
    app.finish().await;
}
