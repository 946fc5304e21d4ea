//! Business times far from the others: refused at the door, and harmless in a log that already
//! holds them (written before the window existed, or straight into the store).

use crate::helpers::spawn_app;
use flowline_core::id::TenantId;
use flowline_core::{Command, Context, Event, decide};
use flowline_engine::replay;
use flowline_metrics::period::Range;
use flowline_store::{AppendRequest, CommandRecord, EventStore, NewEvent};
use flowline_store_sqlite::{OpenOptions, SqliteStore};
use jiff::Timestamp;
use serde_json::{Value, json};

fn usd(amount: i64) -> Value {
    json!({ "amount_minor": amount, "currency": "USD" })
}

const ADDRESS: &str = r#"{ "country": "US", "time_zone": "UTC" }"#;

fn order(id: &str, occurred_at: &str) -> Value {
    json!({ "order": id, "channel": "web", "customer": "C-1",
        "ship_to": serde_json::from_str::<Value>(ADDRESS).unwrap(),
        "currency": "USD", "allocate": "reject",
        "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 1200 }],
        "occurred_at": occurred_at })
}

fn stock(id: &str, occurred_at: &str) -> Value {
    json!({ "adjustment": id, "location": "FC-1", "reason": "opening_balance",
        "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 }],
        "occurred_at": occurred_at })
}

/// The hostile times of the probe: an order 500 years ahead, opening stock backdated to 1026,
/// and the ends of the calendar.
const FAR: [&str; 4] = [
    "2525-06-01T00:00:00Z",
    "1026-06-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-30T00:00:00Z",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_times_outside_the_tenant_window_are_refused_naming_the_window() {
    let app = spawn_app().await;
    let tenant = app.tenant("dated", Some("USD")).await;
    let (admin, operator) = (&tenant.admin, &tenant.operator);
    let address: Value = serde_json::from_str(ADDRESS).unwrap();
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
    let now = Timestamp::now();
    let head = app.head(&tenant.id);
    for (index, far) in FAR.iter().enumerate() {
        for (path, body) in [
            ("/v1/sales-orders", order(&format!("FAR-{index}"), far)),
            ("/v1/adjustments", stock(&format!("FAR-{index}"), far)),
        ] {
            let reply = app.post(operator, path, &body).await;
            let problem = reply.json();
            assert_eq!(reply.status.as_u16(), 422, "{far}: {problem}");
            assert_eq!(problem["code"], "business_time_out_of_window", "{problem}");
            let details = &problem["details"];
            assert_eq!(details["field"], "occurred_at");
            let value: Timestamp = details["value"].as_str().unwrap().parse().unwrap();
            assert_eq!(value, far.parse::<Timestamp>().unwrap());
            // The default window: from ten years (3,660 days) before the tenant's first event
            // (recorded moments ago) to 24 hours after now.
            let earliest: Timestamp = details["earliest"].as_str().unwrap().parse().unwrap();
            let latest: Timestamp = details["latest"].as_str().unwrap().parse().unwrap();
            let ten_years = jiff::SignedDuration::from_hours(3_660 * 24);
            let day = jiff::SignedDuration::from_hours(24);
            let minute = jiff::SignedDuration::from_mins(1);
            assert!(
                earliest.duration_since(now - ten_years).abs() < minute,
                "{earliest}"
            );
            assert!(latest.duration_since(now + day).abs() < minute, "{latest}");
        }
    }
    assert_eq!(
        app.head(&tenant.id),
        head,
        "a refused command appends nothing"
    );
    // Inside the window both are taken: last year's opening stock, an order an hour ahead.
    let last_year = (now - jiff::SignedDuration::from_hours(24 * 365)).to_string();
    let soon = (now + jiff::SignedDuration::from_hours(1)).to_string();
    app.post(admin, "/v1/adjustments", &stock("OPEN", &last_year))
        .await
        .expect(201);
    app.post(operator, "/v1/sales-orders", &order("SOON", &soon))
        .await
        .expect(201);
    app.finish().await;
}

/// Decides `command` at `at` against the log's state and appends its events straight into the
/// store, as a log written before the window existed would hold them.
fn append_at(store: &mut SqliteStore, tenant: &TenantId, command: Command, at: &str) {
    let (state, head) = replay(store, tenant).unwrap();
    let at: Timestamp = at.parse().unwrap();
    let events = decide(&state, &command, &Context { at }).unwrap();
    let events = events
        .iter()
        .map(|event: &Event| NewEvent {
            stream: event.stream(),
            event_type: event.type_name().to_string(),
            schema_version: Event::SCHEMA_VERSION,
            business_time: at,
            payload: event.to_json(),
        })
        .collect();
    store
        .append(&AppendRequest {
            tenant: tenant.clone(),
            expected_seq: head,
            recorded_at: Timestamp::now(),
            commands: vec![CommandRecord {
                events,
                expected: Vec::new(),
                idempotency: None,
            }],
            balances: Vec::new(),
        })
        .unwrap();
}

/// A command from its tag (`adjust_stock`) and fields.
fn command(kind: &str, mut body: Value) -> Command {
    body["command"] = json!(kind);
    serde_json::from_value(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_holding_far_business_times_folds_in_memory_bounded_by_its_events() {
    let mut app = spawn_app().await;
    let tenant = app.tenant("ancient", Some("USD")).await;
    let admin = tenant.admin.clone();
    let address: Value = serde_json::from_str(ADDRESS).unwrap();
    app.put(
        &admin,
        "/v1/locations/FC-1",
        &json!({ "name": "One", "region": "us", "address": address }),
    )
    .await
    .expect(201);
    app.put(
        &admin,
        "/v1/items/MUG",
        &json!({ "name": "Mug", "unit_cost": usd(400), "price": usd(1200) }),
    )
    .await
    .expect(201);
    app.post(
        &admin,
        "/v1/adjustments",
        &stock("OPEN", "2025-03-01T00:00:00Z"),
    )
    .await
    .expect(201);
    app.shut_down().await;

    // Opening stock in 1026 at a second center, then orders allocated at 2025, 2525, 9999 and
    // 0001: each one changes the availability of MUG at FC-1 and FC-2 after a quiet spell of
    // centuries. A bucket per day in between would be 2.7 million days × 3 slices.
    let mut store = SqliteStore::open(&app.db, &OpenOptions::durable()).unwrap();
    let id = tenant.id.clone();
    let center = json!({ "location": "FC-2", "name": "Two", "region": "us", "address": address });
    append_at(
        &mut store,
        &id,
        command("define_location", center),
        "2025-03-01T00:00:00Z",
    );
    let mut opening = stock("ANCIENT", "");
    opening["location"] = json!("FC-2");
    opening.as_object_mut().unwrap().remove("occurred_at");
    append_at(
        &mut store,
        &id,
        command("adjust_stock", opening),
        "1026-06-01T00:00:00Z",
    );
    for (index, at) in [
        "2025-03-02T00:00:00Z",
        "2525-06-01T00:00:00Z",
        "9999-12-30T00:00:00Z",
        "0001-01-01T00:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        let mut place = order(&format!("SO-{index}"), at);
        place.as_object_mut().unwrap().remove("occurred_at");
        place["allocate"] = json!("backorder");
        append_at(&mut store, &id, command("place_sales_order", place), at);
    }
    let events = store.tenant_head(&id).unwrap();
    drop(store);

    let store = SqliteStore::open_read_only(&app.db).unwrap();
    let (fold, head) = flowline_server::scorecards::fold_log(&store, &id, false)
        .unwrap()
        .unwrap();
    assert_eq!(head, events);
    // Each event touches at most 3 local days (a spell over more is kept whole) in at most a
    // dozen slices (all, channel, region, SKU, category, center, carrier, ...): 36 buckets an
    // event bounds the fold whatever the times. The long spells are kept whole, one per change
    // after a quiet spell: at most one per event and center.
    let buckets = fold.bucket_count();
    assert!(buckets <= 36 * events as usize, "{buckets} buckets");
    assert!(fold.spells_kept() <= 2 * events as usize);
    // FC-1's availability changed at 2025-03-02, then in 2525 and 9999: two spells of
    // centuries (the order dated 0001 comes after them in the log and starts none).
    assert!(
        fold.spells_kept() >= 2,
        "the centuries-long spells are kept whole"
    );

    // The stocked seconds of a range come out exactly: FC-2 held 10 MUG from 1026-06-01 on, so
    // in 2025-03-01..2025-03-03 (48 hours) it is stocked throughout and never out.
    let range = Range::of_dates(jiff::civil::date(2025, 3, 1), jiff::civil::date(2025, 3, 3));
    let (stocked, out) = fold.open_availability(
        range,
        &flowline_metrics::fold::Slice::Center("FC-2".into()),
        "2026-01-01T00:00:00Z".parse().unwrap(),
    );
    assert_eq!((stocked, out), (48 * 3600, 0));

    // The server starts on that log and answers the scorecard.
    let running = flowline_server::start(
        &flowline_server::ServeOptions {
            primary: None,
            cors: Default::default(),
            limits: flowline_server::ServerLimits {
                rate: flowline_server::rate::RateLimits::UNLIMITED,
                ..Default::default()
            },
            bind: "127.0.0.1:0".parse().unwrap(),
            log: flowline_store_sqlite::SqliteBackend::shared(
                &app.db.clone(),
                flowline_store_sqlite::OpenOptions::durable(),
            )
            .unwrap(),
        },
        flowline_engine::EngineOptions::default(),
    )
    .await
    .unwrap();
    running.warmed().await;
    let reply = app
        .client
        .get(format!(
            "http://{}/v1/scorecard?from=2025-03-01&to=2025-04-01",
            running.address
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    running.shutdown().await.unwrap();
    app.finish().await;
}
