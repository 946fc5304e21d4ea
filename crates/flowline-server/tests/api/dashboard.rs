//! The dashboard over plain HTTP (the browser tests are in flowline-cli): signing in, the
//! session cookie, CSRF, roles on pages and forms, and bad input answered with a message.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::json;

/// A client that does not follow redirects, so each answer can be checked.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Answer {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    content_type: String,
    body: String,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (location, content_type) = (header(LOCATION), header(CONTENT_TYPE));
    let cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok().map(String::from))
        .collect();
    Answer {
        status: response.status(),
        location,
        cookies,
        content_type,
        body: response.text().await.unwrap(),
    }
}

fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies.iter().find_map(|cookie| {
        let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
        let (key, value) = pair.split_once('=')?;
        (key == name && !value.is_empty()).then(|| value.to_string())
    })
}

/// The first hidden `csrf` field of a page.
fn csrf(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    body[start..start + 64].to_string()
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(key, value)| {
            let encoded: String = value
                .bytes()
                .map(|byte| match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        char::from(byte).to_string()
                    }
                    _ => format!("%{byte:02X}"),
                })
                .collect();
            format!("{key}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs in with `key` through the form; the session cookie.
async fn sign_in(app: &TestApp, key: &str, next: &str) -> Answer {
    let client = client();
    let page = send(client.get(app.url("/login"))).await;
    let login = cookie_value(&page.cookies, "flowline_login").unwrap();
    send(
        client
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("flowline_login={login}"))
            .body(form(&[("csrf", &login), ("key", key), ("next", next)])),
    )
    .await
}

async fn session(app: &TestApp, key: &str) -> String {
    let answer = sign_in(app, key, "/").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    cookie_value(&answer.cookies, "flowline_session").unwrap()
}

async fn get(app: &TestApp, session: &str, path: &str) -> Answer {
    send(
        client()
            .get(app.url(path))
            .header("cookie", format!("flowline_session={session}")),
    )
    .await
}

async fn post(app: &TestApp, session: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
    send(
        client()
            .post(app.url(path))
            .header("cookie", format!("flowline_session={session}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(fields)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_ask_for_sign_in_and_a_key_opens_a_strict_http_only_session() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let anonymous = send(client().get(app.url("/inventory?x=1"))).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location, "/login?next=/inventory%3Fx%3D1");

    let page = send(client().get(app.url("/login"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"));
    let login_cookie = page.cookies.first().unwrap();
    assert!(
        login_cookie.contains("; HttpOnly; SameSite=Strict"),
        "{login_cookie}"
    );

    // A wrong key, a form without its token, a link to another site after sign-in.
    let wrong = sign_in(&app, "flk_not_a_key", "/").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .body
            .contains("the API key is not a Flowline key (flk_...)")
    );
    let forged = send(
        client()
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", "x"), ("key", &tenant.viewer)])),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("did not come from this site"));
    let elsewhere = sign_in(&app, &tenant.viewer, "//evil.example/").await;
    assert_eq!(elsewhere.location, "/");

    let signed = sign_in(&app, &tenant.viewer, "/inventory").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(signed.location, "/inventory");
    let cookie = signed
        .cookies
        .iter()
        .find(|cookie| cookie.starts_with("flowline_session="))
        .unwrap();
    assert!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie_value(&signed.cookies, "flowline_session").unwrap();
    assert_eq!(session.len(), 64);
    let scorecard = get(&app, &session, "/").await;
    assert_eq!(scorecard.status, StatusCode::OK);
    assert!(scorecard.body.contains("RL.1.1"));
    // No event yet but the settings: every figure is "no data", never 0 %.
    assert!(scorecard.body.contains("no data"));
    assert!(!scorecard.body.contains(">0.00 %<"));
    // The stylesheet, script and icon come from the binary.
    for asset in [
        "/assets/dashboard.css",
        "/assets/dashboard.js",
        "/assets/icon.svg",
        "/favicon.ico",
    ] {
        let answer = send(client().get(app.url(asset))).await;
        assert_eq!(answer.status, StatusCode::OK, "{asset}");
        assert!(!answer.body.is_empty());
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_page_input_is_answered_with_a_message_on_the_page() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let session = session(&app, &tenant.viewer).await;
    let cases = [
        (
            "/?period=fortnight",
            400,
            "`fortnight`: expected day, week, month, quarter, year or trailing_12_months",
        ),
        (
            "/?from=2025-01-01",
            400,
            "a custom range needs both `from` and `to`",
        ),
        (
            "/?from=2025-02-01&to=2025-01-01",
            400,
            "`2025-01-01` must be after `from` (2025-02-01)",
        ),
        (
            "/?from=0001-01-01&to=9999-01-01",
            400,
            "a custom range is at most 3660 days",
        ),
        (
            "/?at=2025-02-30",
            400,
            "`2025-02-30` is not a date (YYYY-MM-DD)",
        ),
        (
            "/?slice=nonsense",
            400,
            "`nonsense`: expected all or dimension:value",
        ),
        ("/?slice=channel:", 400, "expected all or dimension:value"),
        (
            "/scorecard/not.a.metric",
            404,
            "metric `not.a.metric` does not exist",
        ),
        (
            "/scorecard/rl.perfect_order/documents?signature=99",
            400,
            "`99` is not a failure signature (1 to 15)",
        ),
        (
            "/documents/widgets/W-1",
            404,
            "collection `widgets` does not exist",
        ),
        (
            "/documents/sales-orders/NOPE",
            404,
            "sales order `NOPE` does not exist",
        ),
        (
            "/orders?period=day&period=week",
            400,
            "given more than once",
        ),
    ];
    for (path, status, message) in cases {
        let answer = get(&app, &session, path).await;
        assert_eq!(answer.status.as_u16(), status, "{path}: {}", answer.body);
        assert!(answer.content_type.starts_with("text/html"), "{path}");
        assert!(
            answer.body.contains(message),
            "{path}: {message} not in {}",
            answer.body
        );
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_apply_to_pages_and_forms_and_a_revoked_key_ends_its_session() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    // An integration key reads inventory positions only, as in the API.
    let integration = session(&app, &tenant.integration).await;
    let refused = get(&app, &integration, "/").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("a key with role `integration` may not do this")
    );
    assert_eq!(
        get(&app, &integration, "/inventory").await.status,
        StatusCode::OK
    );

    // An operator may create initiatives but not set targets.
    let (operator_id, operator_key) = app.issue(&tenant.id, flowline_server::auth::Role::Operator);
    let operator = session(&app, &operator_key).await;
    let page = get(&app, &operator, "/targets").await;
    assert!(
        page.body
            .contains("Setting targets needs an admin key; yours is operator.")
    );
    let token = csrf(&page.body);
    let target = post(
        &app,
        &operator,
        "/targets",
        &[
            ("csrf", &token),
            ("target", "T-1"),
            ("metric", "rl.on_time"),
            ("value", "90"),
        ],
    )
    .await;
    assert_eq!(target.status, StatusCode::FORBIDDEN);
    assert!(
        target
            .body
            .contains("a key with role `operator` may not do this; it needs one of: admin")
    );
    let without_token = post(
        &app,
        &operator,
        "/initiatives",
        &[("initiative", "I-1"), ("name", "Faster packing")],
    )
    .await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);
    assert!(
        without_token
            .body
            .contains("CSRF token is missing or wrong")
    );
    let missing = post(
        &app,
        &operator,
        "/initiatives",
        &[
            ("csrf", &token),
            ("initiative", "I-1"),
            ("name", "Faster packing"),
        ],
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("owner: name who runs it"));
    assert!(
        missing.body.contains("value=\"Faster packing\""),
        "the form keeps what was typed"
    );
    let created = post(
        &app,
        &operator,
        "/initiatives",
        &[
            ("csrf", &token),
            ("idempotency", "form-1"),
            ("initiative", "I-1"),
            ("name", "Faster packing"),
            ("metrics", "rs.order_cycle_time"),
            ("owner", "Warehouse"),
            ("expected_effect", "-4 h of warehouse time"),
            ("starts_on", "2025-03-01"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location, "/targets?saved=initiative%20I-1");
    // Sent twice (a double click), the form records its command once.
    let again = post(
        &app,
        &operator,
        "/initiatives",
        &[
            ("csrf", &token),
            ("idempotency", "form-1"),
            ("initiative", "I-1"),
            ("name", "Faster packing"),
            ("metrics", "rs.order_cycle_time"),
            ("owner", "Warehouse"),
            ("expected_effect", "-4 h of warehouse time"),
            ("starts_on", "2025-03-01"),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let events = app
        .get(&tenant.admin, "/v1/initiatives/I-1/events")
        .await
        .expect(200);
    assert_eq!(events.json()["data"].as_array().unwrap().len(), 1);
    // The engine's own refusal comes back on the page with the API's status.
    let illegal = post(
        &app,
        &operator,
        "/initiatives/I-1/updates",
        &[("csrf", &token), ("status", "done")],
    )
    .await;
    assert_eq!(illegal.status, StatusCode::CONFLICT, "{}", illegal.body);

    // Revoking the key ends its session on the next request.
    app.revoke(&tenant.id, &operator_id);
    let after = get(&app, &operator, "/").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location.starts_with("/login"));
    // Signing out needs the session's token too.
    let viewer = session(&app, &tenant.viewer).await;
    assert_eq!(
        post(&app, &viewer, "/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let page = get(&app, &viewer, "/").await;
    let out = post(&app, &viewer, "/logout", &[("csrf", &csrf(&page.body))]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&app, &viewer, "/").await.status, StatusCode::SEE_OTHER);
    app.finish().await;
}

/// A USD tenant with a euro supplier's purchase order and a euro sales order beside dollar
/// ones: each is shown in its own currency, and no total adds euros to dollars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_over_orders_in_two_currencies_show_each_in_its_own_and_add_neither_to_the_other() {
    use serde_json::json;
    let app = spawn_app().await;
    let tenant = app.tenant("mixed", Some("USD")).await;
    let admin = &tenant.admin;
    let usd = |minor: i64| json!({ "amount_minor": minor, "currency": "USD" });
    let address = json!({ "country": "US", "time_zone": "UTC" });
    app.put(
        admin,
        "/v1/locations/FC-1",
        &json!({ "name": "One", "region": "us", "address": address }),
    )
    .await
    .expect(201);
    app.put(
        admin,
        "/v1/items/MUG",
        &json!({ "name": "Mug", "unit_cost": usd(400), "price": usd(1200) }),
    )
    .await
    .expect(201);
    app.put(
        admin,
        "/v1/suppliers/S-EU",
        &json!({ "name": "Euro", "currency": "EUR", "lead_time_days": 10, "country": "PT" }),
    )
    .await
    .expect(201);
    app.put(
        admin,
        "/v1/suppliers/S-US",
        &json!({ "name": "Dollar", "currency": "USD", "lead_time_days": 10, "country": "US" }),
    )
    .await
    .expect(201);
    // PO-EU: 10 × 5.00 EUR = 50.00 EUR; PO-US: 10 × 7.00 USD = 70.00 USD.
    app.post(
        admin,
        "/v1/purchase-orders",
        &json!({ "purchase_order": "PO-EU", "supplier": "S-EU",
        "location": "FC-1", "currency": "EUR", "exchange_rate": { "rate_micro": 1_100_000 },
        "lines": [{ "sku": "MUG", "quantity": 10, "unit_price_minor": 500 }] }),
    )
    .await
    .expect(201);
    app.post(
        admin,
        "/v1/purchase-orders",
        &json!({ "purchase_order": "PO-US", "supplier": "S-US",
        "location": "FC-1", "currency": "USD",
        "lines": [{ "sku": "MUG", "quantity": 10, "unit_price_minor": 700 }] }),
    )
    .await
    .expect(201);
    // SO-EU: 1 × 20.00 EUR at 1.10; SO-US: 1 × 12.00 USD. Both stay placed (not allocated).
    app.post(
        admin,
        "/v1/sales-orders",
        &json!({ "order": "SO-EU", "channel": "web", "customer": "C-1",
        "ship_to": address, "currency": "EUR", "exchange_rate": { "rate_micro": 1_100_000 },
        "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 2000 }] }),
    )
    .await
    .expect(201);
    app.post(
        admin,
        "/v1/sales-orders",
        &json!({ "order": "SO-US", "channel": "web", "customer": "C-1",
        "ship_to": address, "currency": "USD",
        "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 1200 }] }),
    )
    .await
    .expect(201);
    let session = session(&app, &tenant.viewer).await;

    let source = get(&app, &session, "/source").await;
    assert_eq!(source.status, StatusCode::OK, "{}", source.body);
    assert!(source.body.contains("50.00 EUR"), "the euro PO in euros");
    assert!(
        source.body.contains("70.00 USD"),
        "the dollar PO in dollars"
    );
    // 50 + 70 = 120 would be a sum of euros and dollars.
    assert!(!source.body.contains("120.00"), "no mixed total");

    let orders = get(&app, &session, "/orders").await;
    assert_eq!(orders.status, StatusCode::OK, "{}", orders.body);
    // The "placed" bar: 2 orders, the value of the dollar one only (12.00), and the euro one
    // counted apart. 20.00 + 12.00 = 32.00 would mix them.
    assert!(
        orders
            .body
            .contains("2 orders; 12.00 for those in USD, 1 in other currencies"),
        "{}",
        orders.body
    );
    assert!(!orders.body.contains("32.00"), "no mixed total");

    let list = get(&app, &session, "/orders/list").await;
    assert!(list.body.contains("20.00") && list.body.contains("12.00"));

    // Every collection has a list page with the API's filters: the euro supplier's orders are
    // PO-EU alone, shown in euros.
    let purchases = get(&app, &session, "/list/purchase-orders?supplier=S-EU").await;
    assert_eq!(purchases.status, StatusCode::OK, "{}", purchases.body);
    assert!(purchases.body.contains("PO-EU") && purchases.body.contains("50.00 EUR"));
    assert!(!purchases.body.contains("PO-US"));
    // A blank field of the form is no filter; an unknown collection is a page saying so.
    let blank = get(&app, &session, "/list/purchase-orders?supplier=&status=").await;
    assert!(blank.body.contains("PO-EU") && blank.body.contains("PO-US"));
    let unknown = get(&app, &session, "/list/spaceships").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_items_policy_is_set_and_cleared_on_the_plan_page_as_the_api_would() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let item = json!({ "name": "Mug", "unit_cost": { "amount_minor": 400, "currency": "USD" },
        "price": { "amount_minor": 1200, "currency": "USD" } });
    app.put(&tenant.admin, "/v1/items/MUG", &item)
        .await
        .expect(201);
    let operator = session(&app, &tenant.operator).await;
    let page = get(&app, &operator, "/plan").await;
    assert!(page.body.contains("No policy is set"), "{}", page.body);
    let token = csrf(&page.body);

    // 97.5 % is 975 thousandths; a second decimal is refused, naming the field, with nothing
    // recorded.
    let refused = post(
        &app,
        &operator,
        "/plan/policies",
        &[("csrf", &token), ("sku", "MUG"), ("service_level", "97.55")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("service_level: 97.55 %: at most one decimal"),
        "{}",
        refused.body
    );
    let unknown = post(
        &app,
        &operator,
        "/plan/policies",
        &[("csrf", &token), ("sku", "NOPE"), ("case_pack", "12")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("item `NOPE` does not exist"));

    let set = post(
        &app,
        &operator,
        "/plan/policies",
        &[
            ("csrf", &token),
            ("idempotency", "policy-form-1"),
            ("sku", "MUG"),
            ("service_level", "97.5"),
            ("fill_rate", "on"),
            ("case_pack", "12"),
            ("replenish", ""),
            ("note", "cartons of a dozen"),
        ],
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert_eq!(set.location, "/plan?policy_set=MUG");
    let recorded = app
        .get(&tenant.viewer, "/v1/items/MUG")
        .await
        .expect(200)
        .json();
    assert_eq!(
        recorded["inventory_policies"],
        json!([{ "sku": "MUG", "service_level_milli": 975, "fill_rate": true,
                 "case_pack": 12, "note": "cartons of a dozen" }])
    );
    let shown = get(&app, &operator, "/plan?policy_set=MUG").await;
    assert!(
        shown.body.contains("The inventory policy of"),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("97.5 % fill rate; cases of 12"),
        "{}",
        shown.body
    );
    // A viewer sees the policy but no form.
    let viewer = session(&app, &tenant.viewer).await;
    let seen = get(&app, &viewer, "/plan").await;
    assert!(seen.body.contains("97.5 % fill rate; cases of 12"));
    assert!(!seen.body.contains("id=\"set-policy\""));

    let cleared = post(
        &app,
        &operator,
        "/plan/policies/clearances",
        &[("csrf", &csrf(&shown.body)), ("sku", "MUG")],
    )
    .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    let after = app
        .get(&tenant.viewer, "/v1/items/MUG")
        .await
        .expect(200)
        .json();
    assert_eq!(after.get("inventory_policies"), None, "{after}");
}

/// The store keeps a session by the SHA-256 of its id, never the id: the cookie's value
/// hashed here, independently of the server, is what the store finds.
fn stored_session(app: &TestApp, session: &str) -> Option<flowline_store::SessionRecord> {
    use sha2::Digest as _;
    let store = app.log.open_reader().unwrap();
    let now = jiff::Timestamp::now();
    assert_eq!(
        store.find_session(session, now).unwrap(),
        None,
        "the id itself must not be stored"
    );
    let hash = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    store.find_session(&hash, now).unwrap()
}

/// Sessions live in the store: a restart signs no one out; signing out on the restarted
/// server ends the session there and in the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_outlives_a_restart_and_signing_out_ends_it_in_the_store() {
    let mut app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let session = session(&app, &tenant.viewer).await;
    let stored = stored_session(&app, &session).unwrap();
    assert_eq!(stored.tenant.as_str(), "acme");
    // Eight hours from sign-in, give or take the test's own seconds.
    let idle = stored.expires_at.duration_since(stored.created_at);
    assert_eq!(idle, jiff::SignedDuration::from_hours(8));

    app.restart().await;
    let page = get(&app, &session, "/inventory").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = csrf(&page.body);
    let out = post(&app, &session, "/logout", &[("csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(stored_session(&app, &session), None);
    let after = get(&app, &session, "/inventory").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location, "/login?next=/inventory");
    app.finish().await;
}

/// A revoked key's session is refused on the next page and closed in the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_keys_session_is_closed_in_the_store() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme", Some("USD")).await;
    let (key_id, key) = app.issue(&tenant.id, flowline_server::auth::Role::Viewer);
    let session = session(&app, &key).await;
    assert_eq!(get(&app, &session, "/").await.status, StatusCode::OK);
    app.revoke(&tenant.id, &key_id);
    let refused = get(&app, &session, "/").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(stored_session(&app, &session), None);
    app.finish().await;
}

/// On PostgreSQL, a session opened on one server process is known to another sharing the
/// database, and signing out on the second ends it on the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_session_opened_on_one_process_works_on_another() {
    let Some(app) = crate::helpers::spawn_app_on_postgres("dashboard_sessions").await else {
        return;
    };
    let tenant = app.tenant("acme", Some("USD")).await;
    let session = session(&app, &tenant.viewer).await;
    assert!(stored_session(&app, &session).is_some());
    let other = app.start_another().await;
    let on_other = |path: &str| {
        client()
            .get(format!("http://{}{path}", other.address))
            .header("cookie", format!("flowline_session={session}"))
    };
    let page = send(on_other("/inventory")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = csrf(&page.body);
    let out = send(
        client()
            .post(format!("http://{}/logout", other.address))
            .header("cookie", format!("flowline_session={session}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", &token)])),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let first = get(&app, &session, "/inventory").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    other.shutdown().await.unwrap();
    app.finish().await;
}
