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
        .expect(201);
    for sku in skus {
        app.put(admin, &format!("/v1/items/{sku}"), &item_body(sku))
            .await
            .expect(201);
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
        flowline_store_sqlite::SqliteBackend::shared(
            &directory.path().join("router.db"),
            flowline_store_sqlite::OpenOptions::durable(),
        )
        .unwrap(),
        flowline_engine::EngineOptions::default(),
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
    // Over a raw socket, the body written from another thread while the answer is read: the
    // server may answer and close before it has read the body, which an HTTP client that
    // writes first and reads after sees as a broken pipe instead of the answer.
    let address = app.address;
    let key = tenant.admin.clone();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(PATIENCE))
            .unwrap();
        let head = format!(
            "PUT /v1/items/MUG HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            // Refused mid-body, the write fails; the answer is what counts.
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(body.as_bytes());
        });
        let mut received = Vec::new();
        let _ = stream.read_to_end(&mut received);
        let _ = sender.join();
        String::from_utf8_lossy(&received).into_owned()
    })
    .await
    .unwrap();
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    let json_start = answer.find("\r\n\r\n").map_or(answer.len(), |at| at + 4);
    let problem: Value = serde_json::from_str(answer[json_start..].trim()).expect("a JSON problem");
    assert_eq!(problem["code"], "payload_too_large", "{problem}");
    assert_eq!(problem["status"], 413, "{problem}");
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
        .expect(201);
    app.put(&tenant.admin, "/v1/items/MUG", &item_body("MUG"))
        .await
        .expect(201);
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
    .expect(201);
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
            .expect(201);
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
        .expect(201);
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
        .expect(201);
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
    // One PUT of a new item, answered 201, under its route template.
    assert_eq!(
        sample(
            &text,
            "flowline_http_requests_total{method=\"PUT\",route=\"/v1/items/{id}\",status=\"201\"}"
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

// ---------------------------------------------------------------------------------------------
// The document describes what the server sends (issue 11, item 6). `.ci/contract` runs
// schemathesis, a real JSON Schema validator, over generated requests; the tests below pin each
// defect it found, or that the issue names, to the response or document that showed it, with
// the small validator below standing in for schemathesis's.

/// The JSON Schema 2020-12 keywords the validator checks.
const ASSERTED: &[&str] = &[
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "type",
    "const",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "contentMediaType",
    "contentSchema",
];

/// Keywords that describe without asserting, and `pattern`, which the validator does not
/// evaluate (no regular expression engine here; schemathesis checks it). Any keyword in neither
/// list is reported as a violation, so the validator never passes a value by not understanding
/// its schema.
const NOT_ASSERTED: &[&str] = &["description", "format", "default", "title", "pattern"];

/// Whether `value` is of JSON Schema type `name` (an integer is also a number; 2.0 is an
/// integer, as 2020-12 says).
fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|x| x.fract() == 0.0)
        }
        _ => false,
    }
}

/// A JSON number as an exact integer when it is one, else as a float.
fn compare(value: &Value, bound: &Value) -> Option<std::cmp::Ordering> {
    let exact = |number: &Value| {
        number
            .as_i64()
            .map(i128::from)
            .or_else(|| number.as_u64().map(i128::from))
    };
    match (exact(value), exact(bound)) {
        (Some(value), Some(bound)) => Some(value.cmp(&bound)),
        _ => value.as_f64()?.partial_cmp(&bound.as_f64()?),
    }
}

/// Every way `value` breaks `schema` (resolved against `document`), each with its JSON path.
fn violations(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Some(keywords) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            found.push(format!("{at}: nothing is allowed here"));
        }
        return found;
    };
    let fail = |found: &mut Vec<String>, what: String| found.push(format!("{at}: {what}"));
    for (keyword, argument) in keywords {
        match keyword.as_str() {
            "$ref" => {
                let pointer = argument.as_str().unwrap_or("").trim_start_matches('#');
                match document.pointer(pointer) {
                    Some(target) => found.extend(violations(document, target, value, at)),
                    None => fail(&mut found, format!("unresolved $ref {argument}")),
                }
            }
            "allOf" => {
                for branch in argument.as_array().unwrap() {
                    found.extend(violations(document, branch, value, at));
                }
            }
            "anyOf" | "oneOf" => {
                let branches = argument.as_array().unwrap();
                let results: Vec<Vec<String>> = branches
                    .iter()
                    .map(|branch| violations(document, branch, value, at))
                    .collect();
                let matching = results.iter().filter(|errors| errors.is_empty()).count();
                if matching == 0 || (keyword == "oneOf" && matching > 1) {
                    fail(
                        &mut found,
                        format!("{matching} of the {keyword} branches match: {results:?}"),
                    );
                }
            }
            "type" => {
                let names: Vec<&str> = match argument {
                    Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
                    other => vec![other.as_str().unwrap_or("")],
                };
                if !names.iter().any(|name| has_type(value, name)) {
                    fail(&mut found, format!("{value} is not of type {argument}"));
                }
            }
            "const" if value != argument => {
                fail(&mut found, format!("{value} is not {argument}"));
            }
            "enum" if !argument.as_array().unwrap().contains(value) => {
                fail(&mut found, format!("{value} is not one of {argument}"));
            }
            "properties" => {
                if let Some(fields) = value.as_object() {
                    for (name, subschema) in argument.as_object().unwrap() {
                        if let Some(field) = fields.get(name) {
                            let path = format!("{at}.{name}");
                            found.extend(violations(document, subschema, field, &path));
                        }
                    }
                }
            }
            "required" => {
                if let Some(fields) = value.as_object() {
                    for name in argument.as_array().unwrap() {
                        if !fields.contains_key(name.as_str().unwrap()) {
                            fail(&mut found, format!("required field {name} is missing"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(fields) = value.as_object() {
                    let declared = keywords.get("properties").and_then(Value::as_object);
                    for (name, field) in fields {
                        if declared.is_some_and(|declared| declared.contains_key(name)) {
                            continue;
                        }
                        let path = format!("{at}.{name}");
                        found.extend(violations(document, argument, field, &path));
                    }
                }
            }
            "items" | "prefixItems" => {
                if let Some(items) = value.as_array() {
                    let skip = if keyword == "items" {
                        keywords
                            .get("prefixItems")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len)
                    } else {
                        0
                    };
                    for (index, item) in items.iter().enumerate().skip(skip) {
                        let subschema = match argument {
                            Value::Array(prefix) => match prefix.get(index) {
                                Some(subschema) => subschema,
                                None => continue,
                            },
                            other => other,
                        };
                        let path = format!("{at}[{index}]");
                        found.extend(violations(document, subschema, item, &path));
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Some(items) = value.as_array() {
                    let bound = argument.as_u64().unwrap();
                    let count = items.len() as u64;
                    if (keyword == "minItems" && count < bound)
                        || (keyword == "maxItems" && count > bound)
                    {
                        fail(
                            &mut found,
                            format!("{count} items breaks {keyword} {bound}"),
                        );
                    }
                }
            }
            "minimum" | "maximum" => {
                if value.is_number() {
                    let order = compare(value, argument);
                    let broken = match keyword.as_str() {
                        "minimum" => order == Some(std::cmp::Ordering::Less),
                        _ => order == Some(std::cmp::Ordering::Greater),
                    };
                    if broken || order.is_none() {
                        fail(&mut found, format!("{value} breaks {keyword} {argument}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let Some(text) = value.as_str() {
                    let bound = argument.as_u64().unwrap();
                    let length = text.chars().count() as u64;
                    if (keyword == "minLength" && length < bound)
                        || (keyword == "maxLength" && length > bound)
                    {
                        fail(
                            &mut found,
                            format!("length {length} breaks {keyword} {bound}"),
                        );
                    }
                }
            }
            "contentMediaType" => {}
            "contentSchema" => {
                if let Some(text) = value.as_str() {
                    assert_eq!(keywords["contentMediaType"], "application/json");
                    match serde_json::from_str::<Value>(text) {
                        Ok(content) => {
                            let path = format!("{at}(content)");
                            found.extend(violations(document, argument, &content, &path));
                        }
                        Err(error) => fail(&mut found, format!("not JSON: {error}")),
                    }
                }
            }
            keyword if ASSERTED.contains(&keyword) || NOT_ASSERTED.contains(&keyword) => {}
            other => fail(&mut found, format!("the validator does not know `{other}`")),
        }
    }
    found
}

/// Asserts that `value` matches `schema`, listing every violation otherwise.
#[track_caller]
fn assert_matches(document: &Value, schema: &Value, value: &Value) {
    let found = violations(document, schema, value, "$");
    assert!(
        found.is_empty(),
        "{value}\ndoes not match\n{schema}:\n{found:#?}"
    );
}

/// The documented schema of an operation's JSON success response.
fn success_schema(document: &Value, method: &str, path: &str, status: u16) -> Value {
    let schema = &document["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no schema");
    schema.clone()
}

#[test]
fn the_validator_refuses_what_its_schemas_refuse() {
    // The validator is test code: show it failing on each keyword before trusting it to pass.
    let document = json!({ "components": { "schemas": {
        "Small": { "type": "integer", "minimum": 0, "maximum": 9 }
    } } });
    let refuses = |schema: Value, value: Value| {
        assert!(
            !violations(&document, &schema, &value, "$").is_empty(),
            "{value} passed {schema}"
        );
    };
    refuses(json!({ "$ref": "#/components/schemas/Small" }), json!(10));
    refuses(json!({ "type": "integer" }), json!("1"));
    refuses(json!({ "type": ["string", "null"] }), json!(1));
    refuses(json!({ "const": "list" }), json!("lists"));
    refuses(json!({ "enum": ["a", "b"] }), json!("c"));
    refuses(json!({ "required": ["type"] }), json!({ "id": "A-1" }));
    refuses(
        json!({ "properties": { "n": { "type": "integer" } } }),
        json!({ "n": 1.5 }),
    );
    refuses(
        json!({ "properties": { "a": {} }, "additionalProperties": false }),
        json!({ "a": 1, "b": 2 }),
    );
    refuses(json!({ "items": { "type": "string" } }), json!(["a", 1]));
    refuses(
        json!({ "prefixItems": [{ "type": "string" }], "minItems": 2 }),
        json!(["a"]),
    );
    refuses(json!({ "minimum": 1 }), json!(0));
    // 2^64 - 1 is above i64::MAX: compared exactly, not through a lossy float.
    refuses(json!({ "maximum": i64::MAX }), json!(u64::MAX));
    refuses(json!({ "maxLength": 2 }), json!("abc"));
    refuses(
        json!({ "allOf": [{ "type": "string" }, { "minLength": 2 }] }),
        json!("a"),
    );
    refuses(
        json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] }),
        json!(1),
    );
    // Both branches match 1: oneOf wants exactly one.
    refuses(
        json!({ "oneOf": [{ "type": "integer" }, { "type": "number" }] }),
        json!(1),
    );
    refuses(
        json!({ "contentMediaType": "application/json", "contentSchema": { "type": "object" } }),
        json!("[1]"),
    );
    refuses(json!({ "not": {} }), json!(1));
    // And passes what they allow.
    assert_matches(
        &document,
        &json!({ "type": ["integer", "null"], "minimum": 0, "maximum": u64::MAX }),
        &json!(u64::MAX),
    );
    assert_matches(
        &document,
        &json!({ "type": ["integer", "null"] }),
        &Value::Null,
    );
}

/// Every schema object reachable in the document: component schemas, parameter, request and
/// response schemas, and everything nested in them.
fn each_schema<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(fields) => {
            let is_schema = fields.contains_key("type")
                || fields.contains_key("$ref")
                || fields.contains_key("allOf");
            if is_schema {
                out.push((at.clone(), value));
            }
            for (name, field) in fields {
                each_schema(field, format!("{at}/{name}"), out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                each_schema(item, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// Issue 11, item 6: `["null","null"]` type arrays, and integers without bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_array_has_distinct_members_and_every_integer_has_both_bounds() {
    let app = spawn_app().await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    let mut schemas = Vec::new();
    each_schema(&document, String::new(), &mut schemas);
    // A few hundred schemas, or the walk is not looking at the document.
    assert!(schemas.len() > 500, "{}", schemas.len());
    let mut defects = Vec::new();
    let mut integers = 0;
    for (at, schema) in &schemas {
        let types: Vec<&Value> = match &schema["type"] {
            Value::Array(names) => {
                let distinct: BTreeSet<String> = names.iter().map(Value::to_string).collect();
                if names.is_empty() || distinct.len() != names.len() {
                    defects.push(format!("{at}: type {}", schema["type"]));
                }
                names.iter().collect()
            }
            Value::Null => Vec::new(),
            name => vec![name],
        };
        if types.iter().any(|name| *name == "integer") {
            integers += 1;
            // A 64-bit field with no bounds lets a client send 2^70, which no handler can take;
            // every integer states its range.
            let (minimum, maximum) = (&schema["minimum"], &schema["maximum"]);
            if !minimum.is_number() || !maximum.is_number() {
                defects.push(format!(
                    "{at}: integer without minimum and maximum: {schema}"
                ));
            } else if compare(minimum, maximum) == Some(std::cmp::Ordering::Greater) {
                defects.push(format!("{at}: minimum above maximum: {schema}"));
            }
        }
    }
    assert!(integers > 50, "{integers}");
    assert!(defects.is_empty(), "{defects:#?}");

    // An i64 field has i64's range; a u64 field u64's (quantities, money, counts).
    let amount = &document["components"]["schemas"]["Money"]["properties"]["amount_minor"];
    assert_eq!(amount["minimum"], json!(i64::MIN), "{amount}");
    assert_eq!(amount["maximum"], json!(i64::MAX), "{amount}");

    // `limit` says what the handler accepts: 1 to 1000 (0 and 1001 are refused with 400 by
    // query_parameters_are_checked_by_name_and_range). Every operation that pages has it.
    let mut limits = 0;
    for (path, methods) in document["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().unwrap() {
                if parameter["name"] == "limit" {
                    limits += 1;
                    assert_eq!(
                        parameter["schema"],
                        json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
                        "{method} {path}"
                    );
                }
            }
        }
    }
    // 19 collection lists, the event feed, the metric drill and the demand forecast.
    assert_eq!(limits, 22);
    app.finish().await;
}

/// Issue 11, item 6: a count or an adjustment is shown as its event without the `type` tag,
/// which each `oneOf` branch of `InventoryEvent` requires, so no such record matched the schema
/// the document gave it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_and_adjustment_records_match_their_documented_schemas() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    define_master_data(&app, &tenant.admin, &["MUG"]).await;
    let created = app
        .post(
            &tenant.operator,
            "/v1/adjustments",
            &json!({
                "adjustment": "OPEN-1", "location": "FC-1", "reason": "opening_balance",
                "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 }]
            }),
        )
        .await
        .expect(201)
        .json();
    // 10 on hand, 7 counted: 3 written off.
    let counted = app
        .post(
            &tenant.operator,
            "/v1/counts",
            &json!({
                "count": "CNT-1", "location": "FC-1",
                "lines": [{ "sku": "MUG", "counted": 7 }]
            }),
        )
        .await
        .expect(201)
        .json();
    for (segment, id, command) in [
        ("adjustments", "OPEN-1", &created),
        ("counts", "CNT-1", &counted),
    ] {
        let record = app
            .get(&tenant.viewer, &format!("/v1/{segment}/{id}"))
            .await
            .expect(200)
            .json();
        assert_eq!(record["id"], id);
        assert_eq!(record["state"], "recorded");
        assert!(record.get("type").is_none(), "{record}");
        let schema = success_schema(&document, "get", &format!("/v1/{segment}/{{id}}"), 200);
        assert_matches(&document, &schema, &record);
        // The command's response carries the same record.
        assert_eq!(command["document"], record);
        let schema = success_schema(&document, "post", &format!("/v1/{segment}"), 201);
        assert_matches(&document, &schema, command);
        let list = app
            .get(&tenant.viewer, &format!("/v1/{segment}"))
            .await
            .expect(200)
            .json();
        assert_eq!(list["data"], json!([record]));
        let schema = success_schema(&document, "get", &format!("/v1/{segment}"), 200);
        assert_matches(&document, &schema, &list);
    }
    // A count record is not an adjustment record: the two schemas are told apart by their
    // fields, not by a tag the records do not carry.
    let record = app
        .get(&tenant.viewer, "/v1/counts/CNT-1")
        .await
        .expect(200)
        .json();
    let schema = success_schema(&document, "get", "/v1/adjustments/{id}", 200);
    assert!(!violations(&document, &schema, &record, "$").is_empty());
    app.finish().await;
}

/// Every kind of list the server sends matches its documented schema: pages of records with a
/// cursor (null on the last page), the event feed's numeric cursor, and the lists sent whole
/// (inventory, accounts, a document's events), which were documented with a `next_after` of
/// type `["null", "null"]` (a defect of the document itself, caught by the walk above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_list_matches_its_documented_schema() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    define_master_data(&app, &tenant.admin, &["MUG", "CUP"]).await;
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
    for (request, template) in [
        ("/v1/inventory", "/v1/inventory"),
        ("/v1/accounts", "/v1/accounts"),
        ("/v1/items/MUG/events", "/v1/items/{id}/events"),
        ("/v1/items?limit=1", "/v1/items"),
        ("/v1/items?limit=1&after=CUP", "/v1/items"),
        ("/v1/events?limit=2", "/v1/events"),
        ("/v1/events?after=5", "/v1/events"),
    ] {
        let list = app.get(&tenant.admin, request).await.expect(200).json();
        assert_eq!(list["object"], "list", "{request}");
        let schema = success_schema(&document, "get", template, 200);
        assert_matches(&document, &schema, &list);
    }
    // The two pages of items: a cursor, then null on the last page.
    let first = app.get(&tenant.admin, "/v1/items?limit=1").await.json();
    assert_eq!(first["next_after"], "CUP");
    let last = app
        .get(&tenant.admin, "/v1/items?limit=1&after=CUP")
        .await
        .json();
    assert_eq!(last["next_after"], Value::Null);
    app.finish().await;
}

/// Found by schemathesis: `GET /v1/events?after=9223372036854775808` was answered 200 with that
/// number as `next_after`, above the `i64` range of sequence numbers the document states. A
/// position no sequence number can have is now refused like any other bad `after`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_position_beyond_the_range_of_sequence_numbers_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    // i64::MAX = 9223372036854775807 is the last position; one more is out of range, and so is
    // u64::MAX, which the old parser accepted.
    for beyond in ["9223372036854775808", "18446744073709551615"] {
        let reply = app
            .get(&tenant.integration, &format!("/v1/events?after={beyond}"))
            .await;
        let problem = assert_problem(&reply, 400, "invalid_query");
        assert_eq!(problem["details"]["parameter"], "after");
        let reply = app
            .get(
                &tenant.integration,
                &format!("/v1/events/stream?after={beyond}"),
            )
            .await;
        assert_problem(&reply, 400, "invalid_query");
    }
    // The last position itself is fine: nothing follows it, and the cursor stays put.
    let page = app
        .get(&tenant.integration, "/v1/events?after=9223372036854775807")
        .await
        .expect(200)
        .json();
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["next_after"], json!(i64::MAX));
    assert_matches(
        &document,
        &success_schema(&document, "get", "/v1/events", 200),
        &page,
    );
    // The document states the same range for `after`.
    let after = document["paths"]["/v1/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "after")
        .unwrap();
    assert_eq!(after["schema"]["minimum"], 0);
    assert_eq!(after["schema"]["maximum"], json!(i64::MAX));
    app.finish().await;
}

/// Issue 11, item 6: the event stream's schema said each message was a string, while every
/// message is a set of SSE fields (`id`, `event`, `data`) whose `data` is an event as JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_stream_message_matches_the_documented_message_schema() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    define_master_data(&app, &tenant.admin, &["MUG"]).await;
    let schema = &document["paths"]["/v1/events/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"];
    // Settings (1), FC-1 (2), MUG (3).
    let mut stream = open_stream(&app, &tenant.integration, "/v1/events/stream", None).await;
    for seq in 1..=3u64 {
        let frame = stream.next().await;
        assert_eq!(frame.id, seq);
        // The message as a client's SSE parser hands it over: its fields, as text.
        let message = json!({
            "id": frame.id.to_string(),
            "event": frame.event,
            "data": frame.data.to_string(),
        });
        assert_matches(&document, schema, &message);
        // `data` is the event exactly as the paged feed shows it.
        let page = app
            .get(
                &tenant.integration,
                &format!("/v1/events?after={}&limit=1", seq - 1),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(page["data"][0], frame.data);
    }
    drop(stream);
    // The validator reads `data`: an event without its sequence number is refused.
    let broken = json!({ "id": "1", "event": "TenantConfigured", "data": "{\"type\":\"x\"}" });
    assert!(!violations(&document, schema, &broken, "$").is_empty());
    app.finish().await;
}

/// Issue 11, item 6: a ratio's terms are exact 128-bit integers, sent as JSON numbers while they
/// fit in an `i64` and as decimal strings beyond (a time-weighted average over a year is money
/// times seconds); the document said `integer`, so a wide numerator broke it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ratio_term_beyond_64_bits_is_documented_as_the_decimal_string_it_is_sent_as() {
    use flowline_metrics::value::Ratio;
    let app = spawn_app().await;
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    let scorecard = success_schema(&document, "get", "/v1/scorecard", 200);
    let ratio = &scorecard["properties"]["scorecard"]["properties"]["operational"]["items"]["properties"]
        ["ratio"];
    assert!(ratio.is_object(), "{scorecard}");
    // i64::MAX + 1 = 9223372036854775808 is the first term sent as a string; i128::MIN has 39
    // digits and a sign.
    let cases = [
        (i128::from(i64::MAX), json!(i64::MAX)),
        (i128::from(i64::MIN), json!(i64::MIN)),
        (i128::from(i64::MAX) + 1, json!("9223372036854775808")),
        (i128::MIN, json!("-170141183460469231731687303715884105728")),
        (i128::MAX, json!("170141183460469231731687303715884105727")),
    ];
    for (term, wire) in cases {
        let sent = serde_json::to_value(Ratio {
            numerator: term,
            denominator: 1,
        })
        .unwrap();
        assert_eq!(sent["numerator"], wire);
        assert_matches(&document, ratio, &sent);
    }
    // The string branch says what the strings are: digits with an optional sign, 19 to 39 of
    // them (the pattern is checked by schemathesis; here, that it is the stated one).
    let string_branch = ratio["properties"]["numerator"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|branch| branch["type"] == "string")
        .unwrap();
    assert_eq!(string_branch["pattern"], "^-?[0-9]{19,39}$");
    // And a term the server never sends, a fraction, is refused.
    let fraction = json!({ "numerator": 1.5, "denominator": 1 });
    assert!(!violations(&document, ratio, &fraction, "$").is_empty());
    app.finish().await;
}

/// Found by schemathesis once the document bounded integers: two costs whose amounts each fit in
/// an `i64` but whose sum does not overflowed the cost account's balance as the tenant's writer
/// applied the second, which killed the writer; from then on every command of the tenant was
/// answered 503. The second cost is now refused, recording nothing, and the tenant carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cost_that_would_overflow_a_ledger_balance_is_refused_and_the_tenant_carries_on() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let cost = |id: &str, amount_minor: i64| {
        json!({
            "cost": id, "process": "deliver", "cost_type": "carrier",
            "amount": { "amount_minor": amount_minor, "currency": "USD" }, "settlement": "paid"
        })
    };
    // Paid: the deliver cost account is debited i64::MAX, cash credited as much.
    app.post(&tenant.admin, "/v1/costs", &cost("C-1", i64::MAX))
        .await
        .expect(201);
    assert_eq!(app.head(&tenant.id), 2);
    // One more minor unit would take the cost account to i64::MAX + 1.
    let reply = app.post(&tenant.admin, "/v1/costs", &cost("C-2", 1)).await;
    let problem = assert_problem(&reply, 422, "overflow");
    assert_eq!(problem["details"]["field"], "amount_minor", "{problem}");
    assert_eq!(app.head(&tenant.id), 2, "the refused cost recorded nothing");
    // The writer is alive: the next command is applied, and the balances are the first cost's.
    app.put(&tenant.admin, "/v1/locations/FC-1", &location_body())
        .await
        .expect(201);
    assert_eq!(app.head(&tenant.id), 3);
    let accounts = app
        .get(&tenant.admin, "/v1/accounts")
        .await
        .expect(200)
        .json();
    let balance = |account: &str| {
        accounts["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["account"] == account)
            .map(|row| row["balance_minor"].clone())
    };
    assert_eq!(balance("cash"), Some(json!(-i64::MAX)));
    assert_eq!(balance("supply_chain_cost"), Some(json!(i64::MAX)));
    app.finish().await;
}
