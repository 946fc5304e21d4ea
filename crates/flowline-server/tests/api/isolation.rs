//! Tenant isolation and role checks (RELIABILITY.md, S1).
//!
//! Both tests enumerate the operations from the served OpenAPI document, so a route added to the
//! operation table is exercised here (or fails the test for want of an entry) without anyone
//! editing the enumeration.
//!
//! Isolation: tenant B gets a record of every kind, with `TENANT-B-MARKER` in every free-text
//! field and ids prefixed `B-`; tenant A gets the same shapes with `A-` ids. A's admin key then
//! calls every operation against B's ids (in the path, the query and the body). Every one must
//! answer as if B's records did not exist (404, never 403), append nothing to B, and show A
//! nothing of B's.
//!
//! Roles: every operation with every principal (four roles, no key, a revoked key, garbage,
//! an unknown well-formed key, a known key id with a wrong secret) gets exactly the allow or
//! deny of a role table written out here by hand.

use crate::helpers::{Reply, Tenant, TestApp, spawn_app, spawn_app_on_postgres};
use flowline_server::auth::Role;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// In every free-text field of tenant B.
const MARKER: &str = "TENANT-B-MARKER";

/// In every free-text field of tenant A.
const A_NOTE: &str = "tenant-a-note";

/// The names of the records [`populate`] gives a tenant; its ids are `<prefix>-<name>`.
const NAMES: &[&str] = &[
    "MUG",
    "LID",
    "KIT",
    "DUO",
    "FC-1",
    "FC-2",
    "SUP",
    "UPS",
    "ground",
    "POL",
    "ADJ-1",
    "web",
    "CUST",
    "SO-1",
    "SO-2",
    "SH-1",
    "INV-1",
    "PAY-1",
    "RET-1",
    "changed-mind",
    "PO-1",
    "WO-1",
    "TR-1",
    "TR-2",
    "CNT-1",
    "cycle",
    "COST-1",
    "FA-1",
    "TGT-1",
    "INI-1",
    "RP-1",
    "F-1",
    "PROMO-1",
];

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct DocOp {
    method: Method,
    path: String,
    id: String,
    access: String,
    roles: BTreeSet<String>,
    /// Answers with `text/event-stream` (endless: never read to the end).
    event_stream: bool,
    /// Names of its query parameters.
    query: Vec<String>,
}

/// Every operation of `GET /v1/openapi.json`.
async fn documented_operations(app: &TestApp) -> Vec<DocOp> {
    let document = app
        .send(Method::GET, None, "/v1/openapi.json", None, &[])
        .await
        .expect(200)
        .json();
    let paths = document["paths"]
        .as_object()
        .expect("the document has paths");
    let mut operations = Vec::new();
    for (path, methods) in paths {
        let methods = methods.as_object().expect("a path item is an object");
        for (method, operation) in methods {
            let method = match method.as_str() {
                "get" => Method::GET,
                "put" => Method::PUT,
                "post" => Method::POST,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                other => panic!("unexpected key `{other}` under {path}"),
            };
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_string();
            let access = operation["x-flowline-access"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} has no x-flowline-access"))
                .to_string();
            let roles = operation["x-flowline-roles"]
                .as_array()
                .unwrap_or_else(|| panic!("{id} has no x-flowline-roles"))
                .iter()
                .map(|role| role.as_str().expect("a role is a string").to_string())
                .collect();
            let event_stream = operation["responses"]
                .as_object()
                .map(|responses| {
                    responses
                        .values()
                        .any(|response| response["content"].get("text/event-stream").is_some())
                })
                .unwrap_or(false);
            let query = operation["parameters"]
                .as_array()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter(|parameter| parameter["in"] == "query")
                        .filter_map(|parameter| parameter["name"].as_str())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            operations.push(DocOp {
                method,
                path: path.clone(),
                id,
                access,
                roles,
                event_stream,
                query,
            });
        }
    }
    assert!(!operations.is_empty(), "the document lists no operations");
    operations
}

/// The path with its `{parameters}` replaced, in order, by `values`.
fn fill(path: &str, values: &[String]) -> String {
    let mut values = values.iter();
    let filled: Vec<String> = path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                values
                    .next()
                    .unwrap_or_else(|| panic!("no value for {segment} of {path}"))
                    .clone()
            } else {
                segment.to_string()
            }
        })
        .collect();
    assert!(
        values.next().is_none(),
        "more values than parameters for {path}"
    );
    filled.join("/")
}

/// Sends a request; for an event stream that answers 200, reads events until the one with
/// sequence number `until` (the tenant's head when asked) and then drops the connection.
async fn call(
    app: &TestApp,
    method: Method,
    key: Option<&str>,
    path: &str,
    body: Option<&Value>,
    event_stream: Option<u64>,
) -> Reply {
    let bytes = body.map(|body| serde_json::to_vec(body).expect("a JSON body"));
    let Some(until) = event_stream else {
        return app.send(method, key, path, bytes, &[]).await;
    };
    let mut request = app.client.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let mut response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let mut read = Vec::new();
    if status.as_u16() == 200 {
        // axum writes each event's id as `id: <seq>\n`.
        let last = format!("id: {until}\n");
        while !String::from_utf8_lossy(&read).contains(&last) {
            let chunk = tokio::time::timeout(Duration::from_secs(30), response.chunk())
                .await
                .unwrap_or_else(|_| panic!("{path}: no event {until} within 30 s"))
                .expect("the stream reads");
            match chunk {
                Some(chunk) => read.extend_from_slice(&chunk),
                None => break,
            }
        }
    } else {
        read = response.bytes().await.expect("the body reads").to_vec();
    }
    Reply {
        status,
        headers,
        bytes: read,
    }
}

fn usd(amount_minor: i64) -> Value {
    json!({ "amount_minor": amount_minor, "currency": "USD" })
}

fn address(note: &str, time_zone: &str) -> Value {
    json!({
        "lines": [format!("{note} 1 Dock Road")],
        "city": format!("{note} City"),
        "region": format!("{note} State"),
        "postal_code": format!("{note} 07102"),
        "country": "US",
        "time_zone": time_zone
    })
}

/// Gives a tenant (configured in USD) a record of every kind, through its admin key: two
/// centers, items (a kit and a bundle among them), a supplier, a carrier, a return policy,
/// opening stock, a sales order taken to delivery, invoiced and paid, a return of it with a
/// label, a purchase order, a completed work order, a shipped and an open transfer, a count, a
/// cost, a fixed asset, a target scoped to a center and an initiative in progress. Ids are
/// `<prefix>-<name>` ([`NAMES`]); `note` is in every free-text field.
async fn populate(app: &TestApp, tenant: &Tenant, prefix: &str, note: &str) {
    let key = tenant.admin.as_str();
    let id = |name: &str| format!("{prefix}-{name}");
    let path = |collection: &str, name: &str| format!("/v1/{collection}/{prefix}-{name}");
    for (name, time_zone) in [("FC-1", "America/New_York"), ("FC-2", "America/Chicago")] {
        let body = json!({
            "name": format!("{note} {name}"),
            "region": format!("{note} region"),
            "address": address(note, time_zone)
        });
        app.put(key, &path("locations", name), &body)
            .await
            .expect(201);
    }
    let components = |pairs: &[(&str, i64)]| -> Value {
        pairs
            .iter()
            .map(|(name, quantity)| json!({ "sku": id(name), "quantity": quantity }))
            .collect()
    };
    let items = [
        ("MUG", 400, 1200, Value::Null),
        ("LID", 150, 500, Value::Null),
        (
            "KIT",
            950,
            3000,
            json!({ "kind": "kit", "components": components(&[("MUG", 2), ("LID", 1)]) }),
        ),
        (
            "DUO",
            700,
            2000,
            json!({ "kind": "bundle", "components": components(&[("MUG", 1), ("LID", 2)]) }),
        ),
    ];
    for (name, cost, price, bom) in items {
        let body = json!({
            "name": format!("{note} {name}"),
            "unit": format!("{note} each"),
            "unit_cost": usd(cost),
            "price": usd(price),
            "weight_g": 300,
            "hs_code": format!("{note} 6912"),
            "country_of_origin": "US",
            "category": format!("{note} kitchen"),
            "bom": bom
        });
        app.put(key, &path("items", name), &body).await.expect(201);
    }
    let supplier = json!({
        "name": format!("{note} Supplier"), "currency": "USD", "lead_time_days": 14,
        "country": "US"
    });
    app.put(key, &path("suppliers", "SUP"), &supplier)
        .await
        .expect(201);
    let carrier = json!({
        "name": format!("{note} Carrier"),
        "services": [{ "code": id("ground"), "mode": "road", "transit_days": 3 }]
    });
    app.put(key, &path("carriers", "UPS"), &carrier)
        .await
        .expect(201);
    let policy = json!({ "window_days": 30, "refundable_conditions": ["new", "like_new", "used"] });
    app.put(key, &path("return-policies", "POL"), &policy)
        .await
        .expect(201);
    // 100 MUG and 100 LID at FC-1.
    let opening = json!({
        "adjustment": id("ADJ-1"), "location": id("FC-1"), "reason": "opening_balance",
        "lines": [
            { "sku": id("MUG"), "quantity": 100, "unit_cost_minor": 400 },
            { "sku": id("LID"), "quantity": 100, "unit_cost_minor": 150 }
        ]
    });
    app.post(key, "/v1/adjustments", &opening).await.expect(201);
    // SO-1: 3 MUG at 12.00, allocated at placement, then picked, packed, shipped (SH-1),
    // delivered, invoiced and paid (3 x 1200 = 3600, no tax, no shipping charge).
    let order = |name: &str, quantity: i64, allocate: Value| {
        json!({
            "order": id(name), "channel": id("web"), "customer": id("CUST"),
            "ship_to": address(note, "America/New_York"), "currency": "USD",
            "lines": [{ "sku": id("MUG"), "quantity": quantity, "unit_price_minor": 1200 }],
            "service_level": format!("{note} express"), "allocate": allocate
        })
    };
    app.post(
        key,
        "/v1/sales-orders",
        &order("SO-1", 3, json!("backorder")),
    )
    .await
    .expect(201);
    let so = path("sales-orders", "SO-1");
    let all = json!([{ "line": 0, "quantity": 3 }]);
    let pick = json!({ "location": id("FC-1"), "lines": all });
    app.post(key, &format!("{so}/picks"), &pick)
        .await
        .expect(200);
    let pack = json!({
        "location": id("FC-1"), "lines": all,
        "package": { "kind": format!("{note} box"), "mass_g": 900 }
    });
    app.post(key, &format!("{so}/packs"), &pack)
        .await
        .expect(200);
    let ship = json!({
        "shipment": id("SH-1"), "location": id("FC-1"), "carrier": id("UPS"),
        "service": id("ground"), "tracking": format!("{note} 1Z999"), "weight_g": 1000,
        "lines": all
    });
    app.post(key, &format!("{so}/shipments"), &ship)
        .await
        .expect(201);
    let deliver = json!({ "condition": "intact", "note": format!("{note} left at the door") });
    let delivery = format!("{so}/shipments/{}/deliveries", id("SH-1"));
    app.post(key, &delivery, &deliver).await.expect(200);
    let invoice = json!({ "invoice": id("INV-1") });
    app.post(key, &format!("{so}/invoices"), &invoice)
        .await
        .expect(201);
    let payment = json!({ "payment": id("PAY-1"), "amount": usd(3600) });
    app.post(key, &format!("{so}/payments"), &payment)
        .await
        .expect(201);
    // SO-2: placed, not allocated.
    app.post(key, "/v1/sales-orders", &order("SO-2", 1, Value::Null))
        .await
        .expect(201);
    // RET-1: one of SO-1's three mugs, with a label.
    let authorise = json!({
        "return_id": id("RET-1"), "order": id("SO-1"), "policy": id("POL"),
        "lines": [{ "line": 0, "quantity": 1, "reason": id("changed-mind") }]
    });
    app.post(key, "/v1/returns", &authorise).await.expect(201);
    let label = json!({
        "carrier": id("UPS"), "service": id("ground"), "tracking": format!("{note} RMA")
    });
    app.post(key, &format!("{}/labels", path("returns", "RET-1")), &label)
        .await
        .expect(201);
    let purchase = json!({
        "purchase_order": id("PO-1"), "supplier": id("SUP"), "location": id("FC-1"),
        "currency": "USD",
        "lines": [{ "sku": id("MUG"), "quantity": 10, "unit_price_minor": 400 }]
    });
    app.post(key, "/v1/purchase-orders", &purchase)
        .await
        .expect(201);
    // WO-1: one KIT (2 MUG + 1 LID) made at FC-1.
    let work = json!({
        "work_order": id("WO-1"), "kind": "kitting", "item": id("KIT"), "quantity": 1,
        "location": id("FC-1")
    });
    app.post(key, "/v1/work-orders", &work).await.expect(201);
    let wo = path("work-orders", "WO-1");
    app.post(key, &format!("{wo}/starts"), &json!({}))
        .await
        .expect(200);
    let complete = json!({ "passed": 1, "note": format!("{note} QC passed") });
    app.post(key, &format!("{wo}/completions"), &complete)
        .await
        .expect(200);
    // TR-1: 5 LID from FC-1 to FC-2, shipped; TR-2: 1 LID, created only.
    for (name, quantity) in [("TR-1", 5), ("TR-2", 1)] {
        let transfer = json!({
            "transfer": id(name), "from": id("FC-1"), "to": id("FC-2"),
            "lines": [{ "sku": id("LID"), "quantity": quantity }]
        });
        app.post(key, "/v1/transfers", &transfer).await.expect(201);
    }
    let ship_transfer = json!({ "carrier": id("UPS"), "tracking": format!("{note} TR") });
    app.post(
        key,
        &format!("{}/shipments", path("transfers", "TR-1")),
        &ship_transfer,
    )
    .await
    .expect(201);
    // LID on hand at FC-1: 100 - 1 (the kit) - 5 (TR-1) = 94, 1 reserved for TR-2: counting 90
    // is allowed and writes 4 off.
    let count = json!({
        "count": id("CNT-1"), "location": id("FC-1"), "reason": id("cycle"),
        "lines": [{ "sku": id("LID"), "counted": 90 }]
    });
    app.post(key, "/v1/counts", &count).await.expect(201);
    let cost = json!({
        "cost": id("COST-1"), "process": "deliver", "cost_type": "carrier", "amount": usd(1500),
        "settlement": "paid", "reference": format!("{note} ref"), "note": format!("{note} note")
    });
    app.post(key, "/v1/costs", &cost).await.expect(201);
    let asset = json!({
        "asset": id("FA-1"), "name": format!("{note} Forklift"), "cost": usd(120_000),
        "supply_chain": true, "process": "make", "useful_life_months": 24, "settlement": "paid"
    });
    app.post(key, "/v1/fixed-assets", &asset).await.expect(201);
    let target = json!({
        "metric": "rl.on_time_delivery", "value_milli": 95_000, "direction": "at_least",
        "scope": { "dimension": "center", "value": id("FC-1") },
        "baseline": ["2025-01-01", "2025-02-01"], "due_on": "2025-12-31",
        "source": format!("{note} benchmark"), "note": format!("{note} target")
    });
    app.put(key, &path("targets", "TGT-1"), &target)
        .await
        .expect(201);
    let initiative = json!({
        "initiative": id("INI-1"), "name": format!("{note} re-slot"),
        "metrics": ["rl.on_time_delivery"], "owner": format!("{note} lead"),
        "expected_effect": format!("{note} +3 points"), "starts_on": "2025-03-01"
    });
    app.post(key, "/v1/initiatives", &initiative)
        .await
        .expect(201);
    let started = json!({ "status": "in_progress", "note": format!("{note} started") });
    app.post(
        key,
        &format!("{}/updates", path("initiatives", "INI-1")),
        &started,
    )
    .await
    .expect(200);
    // Plan: a proposal waiting for a decision and a published forecast.
    let proposal = json!({
        "proposal": id("RP-1"), "source": { "kind": "supplier", "supplier": id("SUP") },
        "location": id("FC-1"), "rationale": format!("{note} cheapest"),
        "lines": [{ "sku": id("MUG"), "quantity": 5, "unit_price_minor": 100 }]
    });
    app.post(key, "/v1/proposals", &proposal).await.expect(201);
    let forecast = json!({
        "forecast": id("F-1"), "first_day": "2025-03-01",
        "lines": [{ "sku": id("MUG"), "model": format!("{note} ses"), "daily_milli": [1000, 2000] }]
    });
    app.post(key, "/v1/forecasts", &forecast).await.expect(201);
    let promotion = json!({
        "promotion": id("PROMO-1"), "name": format!("{note} sale"),
        "first_day": "2025-03-10", "last_day": "2025-03-12",
        "items": [id("MUG")], "channels": [id("web")], "uplift_milli": 1500
    });
    app.post(key, "/v1/promotions", &promotion)
        .await
        .expect(201);
}

/// When a probe runs: before A has any record with a B id, A's own records named with B's ids,
/// then the reads again.
const BEFORE: u8 = 1;
const OWN: u8 = 2;
const AFTER: u8 = 3;

#[derive(Debug)]
enum Expect {
    /// 404 `not_found` naming one of B's ids that the request itself carried.
    NotFound,
    /// Success with this status; A's new record (if any) is readable by A at this path.
    Success(u16, Option<String>),
    /// A's own tenant refuses with this status and code.
    Refused(u16, &'static str),
}

#[derive(Debug)]
struct Probe {
    phase: u8,
    params: Vec<String>,
    query: String,
    body: Option<Value>,
    expect: Expect,
}

impl Probe {
    /// A's call naming B's records: 404, before A has anything named like them.
    fn not_found(params: Vec<String>, body: Value) -> Self {
        Self {
            phase: BEFORE,
            params,
            query: String::new(),
            body: Some(body),
            expect: Expect::NotFound,
        }
    }

    fn get_not_found(id: String) -> Self {
        Self {
            phase: BEFORE,
            params: vec![id],
            query: String::new(),
            body: None,
            expect: Expect::NotFound,
        }
    }

    /// A read without path ids, before and after A names records of its own with B's ids.
    fn reads(queries: &[String]) -> Vec<Self> {
        [BEFORE, AFTER]
            .into_iter()
            .flat_map(|phase| {
                queries.iter().map(move |query| Self {
                    phase,
                    params: Vec::new(),
                    query: query.clone(),
                    body: None,
                    expect: Expect::Success(200, None),
                })
            })
            .collect()
    }

    /// A defines or creates its own record under one of B's ids: allowed, ids are per tenant.
    fn own(params: Vec<String>, body: Value, status: u16, record: String) -> Self {
        Self {
            phase: OWN,
            params,
            query: String::new(),
            body: Some(body),
            expect: Expect::Success(status, Some(record)),
        }
    }
}

/// The collections: operation-id stem (document kind), list operation id, path segment and
/// B's records in it.
const COLLECTIONS: &[(&str, &str, &str, &[&str])] = &[
    ("item", "list_items", "items", &["MUG", "LID", "KIT", "DUO"]),
    ("location", "list_locations", "locations", &["FC-1", "FC-2"]),
    ("supplier", "list_suppliers", "suppliers", &["SUP"]),
    ("carrier", "list_carriers", "carriers", &["UPS"]),
    (
        "return_policy",
        "list_return_policies",
        "return-policies",
        &["POL"],
    ),
    (
        "sales_order",
        "list_sales_orders",
        "sales-orders",
        &["SO-1", "SO-2"],
    ),
    (
        "purchase_order",
        "list_purchase_orders",
        "purchase-orders",
        &["PO-1"],
    ),
    ("work_order", "list_work_orders", "work-orders", &["WO-1"]),
    ("return", "list_returns", "returns", &["RET-1"]),
    ("transfer", "list_transfers", "transfers", &["TR-1", "TR-2"]),
    ("count", "list_counts", "counts", &["CNT-1"]),
    ("adjustment", "list_adjustments", "adjustments", &["ADJ-1"]),
    ("cost", "list_costs", "costs", &["COST-1"]),
    (
        "fixed_asset",
        "list_fixed_assets",
        "fixed-assets",
        &["FA-1"],
    ),
    ("target", "list_targets", "targets", &["TGT-1"]),
    ("initiative", "list_initiatives", "initiatives", &["INI-1"]),
    ("proposal", "list_proposals", "proposals", &["RP-1"]),
    ("forecast", "list_forecasts", "forecasts", &["F-1"]),
    ("promotion", "list_promotions", "promotions", &["PROMO-1"]),
];

/// What A's admin key sends for an operation, by operation id; `None` for an operation this
/// table does not know, which fails the test.
fn probes_for(
    op: &str,
    a: &dyn Fn(&str) -> String,
    b: &dyn Fn(&str) -> String,
) -> Option<Vec<Probe>> {
    for (kind, list, _, records) in COLLECTIONS {
        if op == *list {
            let mut queries = vec![String::new()];
            queries.extend(records.iter().map(|name| format!("?after={}", b(name))));
            return Some(Probe::reads(&queries));
        }
        if op == format!("get_{kind}") || op == format!("list_{kind}_events") {
            return Some(
                records
                    .iter()
                    .map(|name| Probe::get_not_found(b(name)))
                    .collect(),
            );
        }
    }
    let one = |line: usize, quantity: i64| json!([{ "line": line, "quantity": quantity }]);
    let so = || vec![b("SO-1")];
    let po = || vec![b("PO-1")];
    let wo = || vec![b("WO-1")];
    let ret = || vec![b("RET-1")];
    let tr = || vec![b("TR-1")];
    let fa = || vec![b("FA-1")];
    let probes = match op {
        // Reads of the tenant as a whole, with filters naming B's records.
        "get_settings" | "get_me" | "get_openapi" | "get_health" | "get_metrics"
        | "list_accounts" => Probe::reads(&[String::new()]),
        "list_inventory" => Probe::reads(&[
            String::new(),
            format!("?item={}", b("MUG")),
            format!("?item={}", b("KIT")),
            format!("?location={}", b("FC-1")),
            format!("?item={}&location={}", b("LID"), b("FC-2")),
        ]),
        "list_events" => Probe::reads(&[String::new(), "?after=0&limit=1000".to_string()]),
        // The scorecard of all time, sliced by every dimension: A's own slices only.
        "get_scorecard" => Probe::reads(
            &[
                "channel", "center", "carrier", "supplier", "sku", "category", "region",
            ]
            .iter()
            .map(|by| format!("?from=2020-01-01&to=2030-01-01&by={by}"))
            .collect::<Vec<_>>(),
        ),
        // One metric, with a slice naming B's records and down to the documents.
        "get_scorecard_metric" => [BEFORE, AFTER]
            .into_iter()
            .flat_map(|phase| {
                [
                    "?from=2020-01-01&to=2030-01-01&drill=documents".to_string(),
                    format!(
                        "?from=2020-01-01&to=2030-01-01&slice=center:{}&drill=documents",
                        b("FC-1")
                    ),
                    format!("?from=2020-01-01&to=2030-01-01&slice=sku:{}", b("MUG")),
                ]
                .into_iter()
                .map(move |query| Probe {
                    phase,
                    params: vec!["rl.perfect_order".to_string()],
                    query,
                    body: None,
                    expect: Expect::Success(200, None),
                })
            })
            .collect(),
        "stream_events" => Probe::reads(&[String::new(), "?after=0".to_string()]),
        // Settings are A's own: A is configured already.
        "configure_tenant" => vec![Probe {
            phase: OWN,
            params: Vec::new(),
            query: String::new(),
            body: Some(json!({ "base_currency": "USD", "reporting_time_zone": "UTC" })),
            expect: Expect::Refused(409, "already_exists"),
        }],
        // Master data: a kit of B's items is not found; B's ids in the path define A's own.
        "define_item" => vec![
            Probe::not_found(
                vec![a("GIFT-9")],
                json!({
                    "name": "A gift", "unit_cost": usd(900), "price": usd(2500),
                    "bom": { "kind": "kit", "components": [{ "sku": b("MUG"), "quantity": 2 }] }
                }),
            ),
            Probe::own(
                vec![b("MUG")],
                json!({ "name": format!("{A_NOTE} mug"), "unit_cost": usd(300), "price": usd(900) }),
                201,
                format!("/v1/items/{}", b("MUG")),
            ),
        ],
        "define_location" => vec![Probe::own(
            vec![b("FC-1")],
            json!({
                "name": format!("{A_NOTE} hub"), "region": "eu",
                "address": { "country": "DE", "time_zone": "Europe/Berlin" }
            }),
            201,
            format!("/v1/locations/{}", b("FC-1")),
        )],
        "define_supplier" => vec![Probe::own(
            vec![b("SUP")],
            json!({
                "name": format!("{A_NOTE} supplier"), "currency": "USD", "lead_time_days": 3,
                "country": "DE"
            }),
            201,
            format!("/v1/suppliers/{}", b("SUP")),
        )],
        "define_carrier" => vec![Probe::own(
            vec![b("UPS")],
            json!({
                "name": format!("{A_NOTE} carrier"),
                "services": [{ "code": a("air"), "mode": "air", "transit_days": 1 }]
            }),
            201,
            format!("/v1/carriers/{}", b("UPS")),
        )],
        "set_return_policy" => vec![Probe::own(
            vec![b("POL")],
            json!({ "window_days": 7, "refundable_conditions": ["new"] }),
            201,
            format!("/v1/return-policies/{}", b("POL")),
        )],
        // Sales orders.
        "place_sales_order" => vec![
            Probe::not_found(
                Vec::new(),
                json!({
                    "order": a("SO-9"), "channel": a("web"), "customer": a("CUST"),
                    "ship_to": address(A_NOTE, "America/New_York"), "currency": "USD",
                    "lines": [{ "sku": b("MUG"), "quantity": 1, "unit_price_minor": 1200 }]
                }),
            ),
            Probe::not_found(
                Vec::new(),
                json!({
                    "order": a("SO-9"), "channel": a("web"), "customer": a("CUST"),
                    "ship_to": address(A_NOTE, "America/New_York"), "currency": "USD",
                    "lines": [{ "sku": b("DUO"), "quantity": 1, "unit_price_minor": 2000 }],
                    "allocate": "backorder"
                }),
            ),
            Probe::own(
                Vec::new(),
                json!({
                    "order": b("SO-1"), "channel": a("web"), "customer": a("CUST"),
                    "ship_to": address(A_NOTE, "America/New_York"), "currency": "USD",
                    "lines": [{ "sku": a("MUG"), "quantity": 1, "unit_price_minor": 1200 }]
                }),
                201,
                format!("/v1/sales-orders/{}", b("SO-1")),
            ),
        ],
        "allocate_sales_order" => vec![
            Probe::not_found(
                so(),
                json!({
                    "shortage": "backorder",
                    "lines": [{ "line": 0, "location": b("FC-1"), "quantity": 1 }]
                }),
            ),
            // A's own unallocated order, allocated from B's center.
            Probe::not_found(
                vec![a("SO-2")],
                json!({
                    "shortage": "reject",
                    "lines": [{ "line": 0, "location": b("FC-1"), "quantity": 1 }]
                }),
            ),
        ],
        "deallocate_sales_order" => vec![Probe::not_found(
            so(),
            json!({ "line": 0, "location": b("FC-1"), "quantity": 1 }),
        )],
        "hold_sales_order" => vec![Probe::not_found(so(), json!({ "reason": "fraud-check" }))],
        "release_sales_order" => vec![Probe::not_found(so(), json!({}))],
        "pick_sales_order" => vec![Probe::not_found(
            so(),
            json!({ "location": b("FC-1"), "lines": one(0, 1) }),
        )],
        "pack_sales_order" => vec![Probe::not_found(
            so(),
            json!({
                "location": b("FC-1"), "lines": one(0, 1),
                "package": { "kind": "box", "mass_g": 100 }
            }),
        )],
        "ship_sales_order" => vec![Probe::not_found(
            so(),
            json!({
                "shipment": a("SH-9"), "location": b("FC-1"), "carrier": b("UPS"),
                "service": b("ground"), "weight_g": 500, "lines": one(0, 1)
            }),
        )],
        "deliver_shipment" => vec![Probe::not_found(
            vec![b("SO-1"), b("SH-1")],
            json!({ "condition": "intact" }),
        )],
        "record_carrier_exception" => vec![Probe::not_found(
            vec![b("SO-1"), b("SH-1")],
            json!({ "code": "lost" }),
        )],
        "invoice_sales_order" => vec![Probe::not_found(so(), json!({ "invoice": a("INV-9") }))],
        "issue_credit_note" => vec![Probe::not_found(
            so(),
            json!({ "credit_note": a("CN-9"), "amount": usd(100), "reason": "goodwill" }),
        )],
        "receive_payment" => vec![Probe::not_found(
            so(),
            json!({ "payment": a("PAY-9"), "amount": usd(100) }),
        )],
        "refund_payment" => vec![Probe::not_found(
            so(),
            json!({ "refund": a("REF-9"), "amount": usd(100), "reason": "goodwill" }),
        )],
        "cancel_sales_order" => vec![Probe::not_found(
            so(),
            json!({ "initiator": "customer", "reason": "changed-mind" }),
        )],
        "amend_sales_order" => vec![
            Probe::not_found(
                so(),
                json!({ "initiator": "customer", "set_quantities": one(0, 1) }),
            ),
            // A's own open order, given a line of B's item.
            Probe::not_found(
                vec![a("SO-2")],
                json!({
                    "initiator": "customer",
                    "add_lines": [{ "sku": b("MUG"), "quantity": 1, "unit_price_minor": 1200 }]
                }),
            ),
        ],
        // Purchase orders.
        "place_purchase_order" => {
            let place = |supplier: String, location: String, sku: String| {
                json!({
                    "purchase_order": a("PO-9"), "supplier": supplier, "location": location,
                    "currency": "USD",
                    "lines": [{ "sku": sku, "quantity": 10, "unit_price_minor": 400 }]
                })
            };
            vec![
                Probe::not_found(Vec::new(), place(b("SUP"), b("FC-1"), b("MUG"))),
                Probe::not_found(Vec::new(), place(b("SUP"), a("FC-1"), a("MUG"))),
                Probe::not_found(Vec::new(), place(a("SUP"), b("FC-1"), a("MUG"))),
                Probe::not_found(Vec::new(), place(a("SUP"), a("FC-1"), b("MUG"))),
                Probe::own(
                    Vec::new(),
                    json!({
                        "purchase_order": b("PO-1"), "supplier": a("SUP"),
                        "location": a("FC-1"), "currency": "USD",
                        "lines": [{ "sku": a("MUG"), "quantity": 1, "unit_price_minor": 400 }]
                    }),
                    201,
                    format!("/v1/purchase-orders/{}", b("PO-1")),
                ),
            ]
        }
        "confirm_purchase_order" => vec![Probe::not_found(
            po(),
            json!({ "committed_on": "2026-04-01" }),
        )],
        "receive_purchase_order" => vec![Probe::not_found(
            po(),
            json!({ "receipt": a("RC-9"), "lines": [{ "line": 0, "accepted": 1 }] }),
        )],
        "bill_purchase_order" => vec![Probe::not_found(
            po(),
            json!({ "bill": a("BILL-9"), "amount": usd(400), "due_on": "2026-05-01" }),
        )],
        "pay_purchase_order" => vec![Probe::not_found(
            po(),
            json!({ "payment": a("PP-9"), "amount": usd(400) }),
        )],
        "cancel_purchase_order" => {
            vec![Probe::not_found(po(), json!({ "reason": "not-needed" }))]
        }
        "close_purchase_order" => vec![Probe::not_found(po(), json!({ "reason": "short" }))],
        // Work orders.
        "create_work_order" => {
            let create = |item: String, location: String| {
                json!({
                    "work_order": a("WO-9"), "kind": "kitting", "item": item, "quantity": 1,
                    "location": location
                })
            };
            vec![
                Probe::not_found(Vec::new(), create(b("KIT"), b("FC-1"))),
                Probe::not_found(Vec::new(), create(a("KIT"), b("FC-1"))),
                Probe::not_found(Vec::new(), create(b("KIT"), a("FC-1"))),
                Probe::own(
                    Vec::new(),
                    json!({
                        "work_order": b("WO-1"), "kind": "kitting", "item": a("KIT"),
                        "quantity": 1, "location": a("FC-1")
                    }),
                    201,
                    format!("/v1/work-orders/{}", b("WO-1")),
                ),
            ]
        }
        "start_work_order" => vec![Probe::not_found(wo(), json!({}))],
        "complete_work_order" => vec![Probe::not_found(wo(), json!({ "passed": 1 }))],
        "cancel_work_order" => vec![Probe::not_found(wo(), json!({ "reason": "not-needed" }))],
        // Returns.
        "authorise_return" => {
            let authorise = |order: String, policy: String| {
                json!({
                    "return_id": a("RET-9"), "order": order, "policy": policy,
                    "lines": [{ "line": 0, "quantity": 1, "reason": "damaged" }]
                })
            };
            vec![
                Probe::not_found(Vec::new(), authorise(b("SO-1"), b("POL"))),
                Probe::not_found(Vec::new(), authorise(b("SO-1"), a("POL"))),
                Probe::not_found(Vec::new(), authorise(a("SO-1"), b("POL"))),
                // A's SO-1 delivered 3 mugs and A's RET-1 took 1: 2 are returnable.
                Probe::own(
                    Vec::new(),
                    json!({
                        "return_id": b("RET-1"), "order": a("SO-1"), "policy": a("POL"),
                        "lines": [{ "line": 0, "quantity": 1, "reason": a("changed-mind") }]
                    }),
                    201,
                    format!("/v1/returns/{}", b("RET-1")),
                ),
            ]
        }
        "issue_return_label" => vec![Probe::not_found(
            ret(),
            json!({ "carrier": b("UPS"), "service": b("ground"), "tracking": "A-RMA-9" }),
        )],
        "receive_return" => vec![Probe::not_found(ret(), json!({ "lines": one(0, 1) }))],
        "inspect_return" => vec![Probe::not_found(
            ret(),
            json!({ "lines": [{ "line": 0, "quantity": 1, "condition": "new" }] }),
        )],
        "dispose_return" => vec![Probe::not_found(
            ret(),
            json!({
                "lines": [{
                    "line": 0, "quantity": 1,
                    "disposition": { "kind": "restock", "location": b("FC-1") }
                }]
            }),
        )],
        "refund_return" => vec![Probe::not_found(
            ret(),
            json!({ "refund": a("RR-9"), "amount": usd(100) }),
        )],
        "close_return" => vec![Probe::not_found(ret(), json!({ "reason": "done" }))],
        // Transfers.
        "create_transfer" => {
            let create = |from: String, to: String, sku: String| {
                json!({
                    "transfer": a("TR-9"), "from": from, "to": to,
                    "lines": [{ "sku": sku, "quantity": 1 }]
                })
            };
            vec![
                Probe::not_found(Vec::new(), create(b("FC-1"), b("FC-2"), b("LID"))),
                Probe::not_found(Vec::new(), create(b("FC-1"), a("FC-2"), a("LID"))),
                Probe::not_found(Vec::new(), create(a("FC-1"), b("FC-2"), a("LID"))),
                Probe::not_found(Vec::new(), create(a("FC-1"), a("FC-2"), b("LID"))),
                Probe::own(
                    Vec::new(),
                    json!({
                        "transfer": b("TR-1"), "from": a("FC-1"), "to": a("FC-2"),
                        "lines": [{ "sku": a("LID"), "quantity": 1 }]
                    }),
                    201,
                    format!("/v1/transfers/{}", b("TR-1")),
                ),
            ]
        }
        "ship_transfer" => vec![
            Probe::not_found(tr(), json!({ "carrier": b("UPS"), "tracking": "A-T-9" })),
            // A's own open transfer, shipped with B's carrier.
            Probe::not_found(
                vec![a("TR-2")],
                json!({ "carrier": b("UPS"), "tracking": "A-T-9" }),
            ),
        ],
        "receive_transfer" => vec![Probe::not_found(tr(), json!({ "lines": one(0, 1) }))],
        "close_transfer" => vec![Probe::not_found(tr(), json!({ "reason": "lost" }))],
        "cancel_transfer" => vec![Probe::not_found(tr(), json!({ "reason": "not-needed" }))],
        // Counts, adjustments, costs, fixed assets.
        "record_count" => vec![
            Probe::not_found(
                Vec::new(),
                json!({
                    "count": a("CNT-9"), "location": b("FC-1"),
                    "lines": [{ "sku": b("LID"), "counted": 5 }]
                }),
            ),
            Probe::not_found(
                Vec::new(),
                json!({
                    "count": a("CNT-9"), "location": a("FC-1"),
                    "lines": [{ "sku": b("LID"), "counted": 5 }]
                }),
            ),
            // A's MUG at A's FC-1: 100 - 3 sold - 2 in A's kit = 95 on hand, at most 2 reserved
            // (for the work order named B-WO-1): counting 60 writes 35 off.
            Probe::own(
                Vec::new(),
                json!({
                    "count": b("CNT-1"), "location": a("FC-1"),
                    "lines": [{ "sku": a("MUG"), "counted": 60 }]
                }),
                201,
                format!("/v1/counts/{}", b("CNT-1")),
            ),
        ],
        "adjust_stock" => {
            let adjust = |location: String, sku: String| {
                json!({
                    "adjustment": a("ADJ-9"), "location": location, "reason": "found",
                    "lines": [{ "sku": sku, "quantity": 1, "unit_cost_minor": 400 }]
                })
            };
            vec![
                Probe::not_found(Vec::new(), adjust(b("FC-1"), b("MUG"))),
                Probe::not_found(Vec::new(), adjust(b("FC-1"), a("MUG"))),
                Probe::not_found(Vec::new(), adjust(a("FC-1"), b("MUG"))),
                Probe::own(
                    Vec::new(),
                    json!({
                        "adjustment": b("ADJ-1"), "location": a("FC-1"), "reason": "found",
                        "lines": [{ "sku": a("MUG"), "quantity": 1, "unit_cost_minor": 400 }]
                    }),
                    201,
                    format!("/v1/adjustments/{}", b("ADJ-1")),
                ),
            ]
        }
        "post_cost" => vec![Probe::own(
            Vec::new(),
            json!({
                "cost": b("COST-1"), "process": "enable", "cost_type": "software",
                "amount": usd(900), "settlement": "payable", "note": format!("{A_NOTE} cost")
            }),
            201,
            format!("/v1/costs/{}", b("COST-1")),
        )],
        "acquire_fixed_asset" => vec![Probe::own(
            Vec::new(),
            json!({
                "asset": b("FA-1"), "name": format!("{A_NOTE} van"), "cost": usd(3_000_000),
                "supply_chain": true, "process": "deliver", "useful_life_months": 60,
                "settlement": "payable"
            }),
            201,
            format!("/v1/fixed-assets/{}", b("FA-1")),
        )],
        "depreciate_fixed_asset" => vec![Probe::not_found(fa(), json!({}))],
        "dispose_fixed_asset" => vec![Probe::not_found(fa(), json!({ "proceeds_minor": 0 }))],
        // Targets and initiatives.
        "set_target" => {
            let target = |scope: Value| {
                json!({
                    "metric": "rl.perfect_order", "value_milli": 90_000,
                    "direction": "at_least", "scope": scope,
                    "note": format!("{A_NOTE} target")
                })
            };
            vec![
                // Scoped to B's center, B's supplier, B's item, B's carrier service.
                Probe::not_found(
                    vec![a("TGT-9")],
                    target(json!({ "dimension": "center", "value": b("FC-1") })),
                ),
                Probe::not_found(
                    vec![a("TGT-9")],
                    target(json!({ "dimension": "supplier", "value": b("SUP") })),
                ),
                Probe::not_found(
                    vec![a("TGT-9")],
                    target(json!({ "dimension": "sku", "value": b("MUG") })),
                ),
                Probe::not_found(
                    vec![a("TGT-9")],
                    target(json!({
                        "dimension": "carrier_service",
                        "value": format!("{}/{}", b("UPS"), b("ground"))
                    })),
                ),
                Probe::own(
                    vec![b("TGT-1")],
                    target(json!({ "dimension": "center", "value": a("FC-1") })),
                    201,
                    format!("/v1/targets/{}", b("TGT-1")),
                ),
            ]
        }
        "retire_target" => vec![Probe::not_found(
            vec![b("TGT-1")],
            json!({ "reason": "superseded" }),
        )],
        "create_initiative" => vec![Probe::own(
            Vec::new(),
            json!({
                "initiative": b("INI-1"), "name": format!("{A_NOTE} pack"),
                "metrics": ["kpi.order_accuracy"], "owner": format!("{A_NOTE} lead"),
                "expected_effect": format!("{A_NOTE} fewer mispicks"), "starts_on": "2025-04-01"
            }),
            201,
            format!("/v1/initiatives/{}", b("INI-1")),
        )],
        "update_initiative" => vec![Probe::not_found(
            vec![b("INI-1")],
            json!({ "status": "done", "note": "finished" }),
        )],
        // Plan: the planner's reads and runs, proposals and forecasts.
        "preview_replenishment" => Probe::reads(&[String::new(), format!("?sku={}", b("MUG"))]),
        "get_forecast_accuracy" => Probe::reads(&[String::new()]),
        "get_demand_forecast" => Probe::reads(&[
            String::new(),
            format!("?sku={}", b("MUG")),
            format!("?after={}", b("MUG")),
        ]),
        "get_capacity_plan" => Probe::reads(&[String::new(), "?horizon_days=14".to_string()]),
        "preview_placement" => Probe::reads(&[String::new()]),
        "record_placement" => vec![Probe {
            phase: OWN,
            params: Vec::new(),
            query: String::new(),
            body: Some(json!({})),
            expect: Expect::Success(201, None),
        }],
        "plan_promotion" => {
            let promotion = |id: String, sku: String| {
                json!({
                    "promotion": id, "name": format!("{A_NOTE} sale"),
                    "first_day": "2025-03-10", "last_day": "2025-03-12", "items": [sku]
                })
            };
            vec![
                Probe::not_found(Vec::new(), promotion(a("PROMO-9"), b("MUG"))),
                Probe::own(
                    Vec::new(),
                    promotion(b("PROMO-1"), a("MUG")),
                    201,
                    format!("/v1/promotions/{}", b("PROMO-1")),
                ),
            ]
        }
        "set_inventory_policy" => vec![
            Probe::not_found(vec![b("MUG")], json!({ "case_pack": 6 })),
            Probe::own(
                vec![b("MUG")],
                json!({ "case_pack": 6, "note": format!("{A_NOTE} cartons") }),
                200,
                format!("/v1/items/{}", b("MUG")),
            ),
        ],
        "clear_inventory_policy" => vec![Probe::not_found(vec![b("MUG")], json!({}))],
        "get_inventory_policies" => Probe::reads(&[String::new(), format!("?sku={}", b("MUG"))]),
        "cancel_promotion" => vec![Probe::not_found(
            vec![b("PROMO-1")],
            json!({ "reason": "moved" }),
        )],
        "record_replenishment" => vec![Probe {
            phase: OWN,
            params: Vec::new(),
            query: format!("?sku={}", b("MUG")),
            body: Some(json!({})),
            expect: Expect::Success(201, None),
        }],
        "propose_replenishment" => {
            let proposal = |id: String, supplier: String, location: String, sku: String| {
                json!({
                    "proposal": id, "source": { "kind": "supplier", "supplier": supplier },
                    "location": location, "rationale": format!("{A_NOTE} proposal"),
                    "lines": [{ "sku": sku, "quantity": 1, "unit_price_minor": 1 }]
                })
            };
            vec![
                Probe::not_found(
                    Vec::new(),
                    proposal(a("RP-9"), b("SUP"), a("FC-1"), a("MUG")),
                ),
                Probe::not_found(
                    Vec::new(),
                    proposal(a("RP-9"), a("SUP"), b("FC-1"), a("MUG")),
                ),
                Probe::not_found(
                    Vec::new(),
                    proposal(a("RP-9"), a("SUP"), a("FC-1"), b("MUG")),
                ),
                Probe::own(
                    Vec::new(),
                    proposal(b("RP-1"), a("SUP"), a("FC-1"), a("MUG")),
                    201,
                    format!("/v1/proposals/{}", b("RP-1")),
                ),
            ]
        }
        "approve_proposal" => vec![Probe::not_found(vec![b("RP-1")], json!({}))],
        "reject_proposal" => vec![Probe::not_found(
            vec![b("RP-1")],
            json!({ "reason": "other" }),
        )],
        "publish_forecast" => {
            let forecast = |id: String, sku: String, location: Option<String>| {
                json!({
                    "forecast": id, "first_day": "2025-03-01",
                    "lines": [{ "sku": sku, "location": location, "daily_milli": [1] }]
                })
            };
            vec![
                Probe::not_found(Vec::new(), forecast(a("F-9"), b("MUG"), None)),
                Probe::not_found(Vec::new(), forecast(a("F-9"), a("MUG"), Some(b("FC-1")))),
                Probe::own(
                    Vec::new(),
                    forecast(b("F-1"), a("MUG"), None),
                    201,
                    format!("/v1/forecasts/{}", b("F-1")),
                ),
            ]
        }
        _ => return None,
    };
    Some(probes)
}

/// Everything a tenant's keys can read that does not change by being read (not `/metrics`, not
/// the endless stream): every list in full, inventory, balances, settings, the event feed, the
/// scorecard as of a fixed instant.
async fn tenant_view(app: &TestApp, key: &str, operations: &[DocOp]) -> BTreeMap<String, String> {
    let mut view = BTreeMap::new();
    for op in operations {
        let readable = matches!(op.access.as_str(), "read" | "feed");
        if op.method != Method::GET || op.path.contains('{') || !readable || op.event_stream {
            continue;
        }
        // A fixed `as_of`: time-based figures (stock-out time) otherwise grow between views.
        let mut query = Vec::new();
        if op.query.iter().any(|name| name == "limit") {
            query.push("limit=1000");
        }
        if op.query.iter().any(|name| name == "as_of") {
            query.push("as_of=2027-06-01T00:00:00Z");
        }
        let path = if query.is_empty() {
            op.path.clone()
        } else {
            format!("{}?{}", op.path, query.join("&"))
        };
        let reply = app.get(key, &path).await.expect(200);
        view.insert(path, reply.text());
    }
    view
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_against_another_tenants_ids_is_not_found_and_appends_nothing() {
    cross_tenant(spawn_app().await).await;
}

/// The same matrix with the log on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_against_another_tenants_ids_is_not_found_on_postgres() {
    if let Some(app) = spawn_app_on_postgres("isolation").await {
        cross_tenant(app).await;
    }
}

async fn cross_tenant(app: TestApp) {
    let a = app.tenant("iso-tenant-a", Some("USD")).await;
    let b = app.tenant("iso-tenant-b", Some("USD")).await;
    populate(&app, &b, "B", MARKER).await;
    populate(&app, &a, "A", A_NOTE).await;
    let a_id = |name: &str| format!("A-{name}");
    let b_id = |name: &str| format!("B-{name}");
    // B's distinctive strings: its record ids and its tenant id.
    let b_ids: Vec<String> = NAMES
        .iter()
        .map(|name| b_id(name))
        .chain([b.id.as_str().to_string()])
        .collect();
    let operations = documented_operations(&app).await;
    let b_view = tenant_view(&app, &b.admin, &operations).await;
    // The setup itself put the marker where B's reads show it.
    assert!(
        b_view.values().any(|text| text.contains(MARKER)),
        "B's records carry the marker"
    );
    let b_head = app.head(&b.id);

    let mut uncovered = Vec::new();
    let mut planned: Vec<(&DocOp, Probe)> = Vec::new();
    for op in &operations {
        match probes_for(&op.id, &a_id, &b_id) {
            Some(probes) => planned.extend(probes.into_iter().map(|probe| (op, probe))),
            None => uncovered.push(format!("{} {} ({})", op.method, op.path, op.id)),
        }
    }
    assert!(
        uncovered.is_empty(),
        "operations in the OpenAPI document with no entry in the isolation table: {uncovered:#?}"
    );
    planned.sort_by_key(|(_, probe)| probe.phase);

    // B ids that A has used for records of its own (by a successful command): A may see them.
    let mut a_owns: BTreeSet<String> = BTreeSet::new();
    let mut exercised: BTreeSet<&str> = BTreeSet::new();
    let mut failures: Vec<String> = Vec::new();
    for (op, probe) in &planned {
        let path = format!("{}{}", fill(&op.path, &probe.params), probe.query);
        let request_text = format!(
            "{path} {}",
            probe
                .body
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
        );
        let label = format!("[phase {}] {} {request_text}", probe.phase, op.method);
        let a_head = app.head(&a.id);
        let reply = call(
            &app,
            op.method.clone(),
            Some(&a.admin),
            &path,
            probe.body.as_ref(),
            op.event_stream.then_some(a_head),
        )
        .await;
        exercised.insert(op.id.as_str());
        let text = reply.text();
        let status = reply.status.as_u16();
        // Enough of the body to see what went wrong; event pages can be long.
        let shown: String = text.chars().take(600).collect();
        let mut fail =
            |what: String| failures.push(format!("{label}\n  -> {status} {shown}\n  {what}"));
        if text.contains(MARKER) {
            fail("A's response contains B's marker".into());
        }
        let leaked: Vec<&String> = b_ids
            .iter()
            .filter(|id| {
                text.contains(id.as_str())
                    && !request_text.contains(id.as_str())
                    && !a_owns.contains(*id)
            })
            .collect();
        if !leaked.is_empty() {
            fail(format!(
                "A's response names B's ids it did not send: {leaked:?}"
            ));
        }
        if app.head(&b.id) != b_head {
            fail(format!("B's log grew from {b_head} to {}", app.head(&b.id)));
        }
        match &probe.expect {
            Expect::NotFound => {
                let problem = reply.json();
                let named = problem["details"]["id"].as_str().unwrap_or("");
                if status != 404 || problem["code"] != "not_found" {
                    fail("expected 404 not_found".into());
                } else if !b_ids.iter().any(|id| id == named) || !request_text.contains(named) {
                    fail(format!("the not_found names `{named}`, not a B id A sent"));
                }
                if app.head(&a.id) != a_head {
                    fail("a refused command appended to A's log".into());
                }
            }
            Expect::Success(expected, record) => {
                if status != *expected {
                    fail(format!("expected {expected}"));
                }
                if probe.body.is_some() && reply.status.is_success() {
                    a_owns.extend(
                        b_ids
                            .iter()
                            .filter(|id| request_text.contains(id.as_str()))
                            .cloned(),
                    );
                }
                if let Some(record) = record {
                    // A reads back its own record, not B's.
                    let own = app.get(&a.admin, record).await;
                    if own.status.as_u16() != 200 || own.text().contains(MARKER) {
                        fail(format!(
                            "A's own {record} reads {} {}",
                            own.status,
                            own.text()
                        ));
                    }
                }
            }
            Expect::Refused(expected, code) => {
                if status != *expected || reply.code() != *code {
                    fail(format!("expected {expected} {code}"));
                }
            }
        }
    }

    let documented: BTreeSet<&str> = operations.iter().map(|op| op.id.as_str()).collect();
    assert_eq!(
        exercised, documented,
        "every documented operation is exercised"
    );
    assert!(
        failures.is_empty(),
        "{} of {} cross-tenant calls misbehaved:\n{}",
        failures.len(),
        planned.len(),
        failures.join("\n")
    );
    // Nothing of B's changed: the same log head and the same records, balances and feed.
    assert_eq!(app.head(&b.id), b_head, "B's log head");
    assert_eq!(
        tenant_view(&app, &b.admin, &operations).await,
        b_view,
        "B's records as B reads them"
    );
    app.check_is_clean();
    app.finish().await;
}

/// The access level an operation should need, worked out from its method and path:
/// the OpenAPI document, health and metrics are public; the event feed, the stream,
/// inventory positions and `/v1/me` are for any key; every other read needs `read`;
/// master data, settings and targets (PUT), costs, fixed assets and retiring a target need
/// `administer`; every other command (initiatives among them) needs `operate`.
fn expected_access(op: &DocOp) -> &'static str {
    match op.id.as_str() {
        "get_openapi" | "get_health" | "get_metrics" => return "public",
        "list_events" | "stream_events" | "list_inventory" | "get_me" => return "feed",
        _ => {}
    }
    if op.method == Method::GET {
        "read"
    } else if op.path.ends_with("/policy") || op.path.ends_with("/policy/clearances") {
        // An item's inventory policy is a planning decision, the planners' (operators') own.
        "operate"
    } else if op.method == Method::PUT
        || op.path.starts_with("/v1/costs")
        || op.path.starts_with("/v1/fixed-assets")
        || op.path.starts_with("/v1/targets")
    {
        "administer"
    } else {
        "operate"
    }
}

/// The roles allowed each access level: admin may everything; operator everything but
/// administer; viewer reads (and the feed); integration only the feed; public is everyone's.
fn expected_roles(access: &str) -> BTreeSet<String> {
    let roles: &[&str] = match access {
        "public" | "feed" => &["admin", "operator", "viewer", "integration"],
        "read" => &["admin", "operator", "viewer"],
        "operate" => &["admin", "operator"],
        "administer" => &["admin"],
        other => panic!("unknown access level `{other}`"),
    };
    roles.iter().map(|role| role.to_string()).collect()
}

/// Who calls: a role's valid key, or a key that is not one (`role` is `None`).
struct Principal {
    name: &'static str,
    role: Option<&'static str>,
    key: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_and_role_gets_exactly_the_expected_allow_or_deny() {
    roles(spawn_app().await).await;
}

/// The same matrix with the log on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_and_role_gets_exactly_the_expected_allow_or_deny_on_postgres() {
    if let Some(app) = spawn_app_on_postgres("roles").await {
        roles(app).await;
    }
}

async fn roles(app: TestApp) {
    let tenant = app.tenant("roles-tenant", Some("USD")).await;
    let (revoked_id, revoked) = app.issue(&tenant.id, Role::Admin);
    app.revoke(&tenant.id, &revoked_id);
    let (live_id, _) = app.issue(&tenant.id, Role::Admin);
    let principals = vec![
        Principal {
            name: "admin",
            role: Some("admin"),
            key: Some(tenant.admin.clone()),
        },
        Principal {
            name: "operator",
            role: Some("operator"),
            key: Some(tenant.operator.clone()),
        },
        Principal {
            name: "viewer",
            role: Some("viewer"),
            key: Some(tenant.viewer.clone()),
        },
        Principal {
            name: "integration",
            role: Some("integration"),
            key: Some(tenant.integration.clone()),
        },
        Principal {
            name: "no key",
            role: None,
            key: None,
        },
        Principal {
            name: "revoked admin key",
            role: None,
            key: Some(revoked),
        },
        Principal {
            name: "garbage key",
            role: None,
            key: Some("garbage".to_string()),
        },
        Principal {
            name: "well-formed unknown key",
            role: None,
            key: Some(format!("flk_{}_{}", "0123456789abcdef", "a".repeat(64))),
        },
        Principal {
            name: "known key id, wrong secret",
            role: None,
            key: Some(format!("flk_{live_id}_{}", "0".repeat(64))),
        },
    ];
    let operations = documented_operations(&app).await;

    // The document's access levels and roles against the table above, written independently.
    for op in &operations {
        assert_eq!(
            op.access,
            expected_access(op),
            "x-flowline-access of {} {} ({})",
            op.method,
            op.path,
            op.id
        );
        assert_eq!(
            op.roles,
            expected_roles(&op.access),
            "x-flowline-roles of {} ({})",
            op.id,
            op.access
        );
    }

    let pairs: Vec<(&DocOp, &Principal)> = operations
        .iter()
        .flat_map(|op| principals.iter().map(move |principal| (op, principal)))
        .collect();
    let server = &app;
    let outcomes: Vec<(&DocOp, &Principal, Reply)> = futures_util::stream::iter(pairs)
        .map(|(op, principal)| async move {
            let app = server;
            let bogus: Vec<String> =
                std::iter::repeat_n("X1".to_string(), op.path.matches('{').count()).collect();
            let path = fill(&op.path, &bogus);
            let body = matches!(op.method, Method::PUT | Method::POST).then(|| json!({}));
            let reply = if op.event_stream {
                // Endless: the status is all that is checked; the connection is dropped.
                let mut request = app.client.request(op.method.clone(), app.url(&path));
                if let Some(key) = &principal.key {
                    request = request.bearer_auth(key);
                }
                let response = request.send().await.expect("the server answers");
                let status = response.status();
                let headers = response.headers().clone();
                let bytes = if status.as_u16() == 200 {
                    Vec::new()
                } else {
                    response.bytes().await.expect("the body reads").to_vec()
                };
                Reply {
                    status,
                    headers,
                    bytes,
                }
            } else {
                call(
                    app,
                    op.method.clone(),
                    principal.key.as_deref(),
                    &path,
                    body.as_ref(),
                    None,
                )
                .await
            };
            (op, principal, reply)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(outcomes.len(), operations.len() * principals.len());

    let mut failures = Vec::new();
    for (op, principal, reply) in &outcomes {
        let status = reply.status.as_u16();
        let allowed = expected_roles(expected_access(op));
        let verdict = if op.access == "public" {
            (status == 200)
                .then_some(())
                .ok_or("a public operation answers 200 to anyone")
        } else {
            match principal.role {
                None => (status == 401 && reply.code() == "unauthenticated")
                    .then_some(())
                    .ok_or("expected 401 unauthenticated"),
                Some(role) if allowed.contains(role) => {
                    // Allowed: whatever the bogus id or empty body earns, but never a refusal of
                    // the key and never a server error.
                    matches!(status, 200 | 201 | 400 | 404 | 409 | 422)
                        .then_some(())
                        .ok_or("expected the role to be let through (200/201/400/404/409/422)")
                }
                Some(role) => (status == 403
                    && reply.code() == "forbidden"
                    && reply.json()["details"]["role"] == role)
                    .then_some(())
                    .ok_or("expected 403 forbidden naming the role"),
            }
        };
        if let Err(why) = verdict {
            failures.push(format!(
                "{} {} ({}, {}) as {}: {status} {} — {why}",
                op.method,
                op.path,
                op.id,
                op.access,
                principal.name,
                reply.text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} calls got the wrong allow/deny:\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n")
    );
    // Nothing was let through that could change anything: the log holds the settings only.
    assert_eq!(app.head(&tenant.id), 1, "only the tenant's configuration");
    app.finish().await;
}
