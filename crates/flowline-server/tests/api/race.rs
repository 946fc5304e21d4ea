//! 64 HTTP clients race for 100 units (RELIABILITY R1, over the API).
//!
//! The item MUG has 100 units, all at one center, so whether a request fits depends on one
//! number: MUG available. Requests draw on it in four ways: orders for 1–3 MUG, an order for the
//! bundle DUO (2 MUG, never stocked), an order for 1 MUG plus 1 DUO (two lines on one item,
//! checked together), and kitting work orders for the kit GIFT (2 MUG each, reserved when the
//! work order is created). Nothing gives stock back during the race, so availability only
//! falls; that gives an oracle independent of the server:
//! - never more than the stock: the MUG demand of the accepted requests, summed by the clients
//!   from what they sent, equals what the server reports reserved, and is at most 100;
//! - no order that fitted was refused: replaying the log's reservations in order gives every
//!   level MUG availability passed through. A refusal reports the availability it saw and what
//!   the request asked for (all its lines and bundle components together); the asked quantity
//!   must be the demand the client computed, the availability one of the levels of the log,
//!   and below the demand. Since availability only falls, every refused demand must also
//!   exceed the availability at the end.

use crate::helpers::{spawn_app, spawn_app_on_postgres};
use serde_json::{Value, json};
use std::sync::Arc;

const CLIENTS: usize = 64;
const REQUESTS_PER_CLIENT: usize = 6;
const STOCK: i64 = 100;

/// A small deterministic generator (Knuth's MMIX constants), seeded per client.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// A request of the race: where it goes, its body, and how many MUG it needs.
fn request(client: usize, number: usize, rng: &mut Lcg) -> (&'static str, Value, i64) {
    let address = json!({ "country": "US", "time_zone": "America/New_York" });
    let order = |lines: Value| {
        json!({ "order": format!("SO-{client}-{number}"), "channel": "web",
                "customer": format!("C-{client}"), "ship_to": address, "currency": "USD",
                "allocate": "reject", "lines": lines })
    };
    let line = |sku: &str, quantity: i64| json!({ "sku": sku, "quantity": quantity, "unit_price_minor": 1200 });
    match rng.below(6) {
        0..=2 => {
            let quantity = 1 + rng.below(3) as i64;
            (
                "/v1/sales-orders",
                order(json!([line("MUG", quantity)])),
                quantity,
            )
        }
        3 => ("/v1/sales-orders", order(json!([line("DUO", 1)])), 2),
        4 => (
            "/v1/sales-orders",
            order(json!([line("MUG", 1), line("DUO", 1)])),
            3,
        ),
        _ => (
            "/v1/work-orders",
            json!({ "work_order": format!("WO-{client}-{number}"), "kind": "kitting",
                    "item": "GIFT", "quantity": 1, "location": "FC-1" }),
            2,
        ),
    }
}

/// MUG availability after each reservation of the log, in log order, starting from the stock:
/// summed from the events' own reservation effects, not from any server view.
async fn availability_levels(app: &crate::helpers::TestApp, key: &str) -> Vec<i64> {
    let mut levels = vec![STOCK];
    let mut after = 0;
    loop {
        let page = app
            .get(key, &format!("/v1/events?after={after}&limit=1000"))
            .await
            .expect(200)
            .json();
        for event in page["data"].as_array().unwrap() {
            let reservations = event["payload"]["effects"]["reservations"].as_array();
            let reserved: i64 = reservations
                .into_iter()
                .flatten()
                .filter(|change| change["sku"] == "MUG")
                .map(|change| change["quantity"].as_i64().unwrap())
                .sum();
            if reserved != 0 {
                let last = *levels.last().unwrap();
                levels.push(last - reserved);
            }
        }
        after = page["next_after"].as_u64().unwrap();
        if page["has_more"] == false {
            return levels;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_allocate_exactly_the_stock_and_refuse_only_what_did_not_fit() {
    race(spawn_app().await).await;
}

/// The same race with the log on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_allocate_exactly_the_stock_on_postgres() {
    if let Some(app) = spawn_app_on_postgres("race").await {
        race(app).await;
    }
}

async fn race(app: crate::helpers::TestApp) {
    let seed: u64 = std::env::var("FLOWLINE_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_261_201);
    eprintln!("race seed {seed} (replay with FLOWLINE_SEED={seed})");
    let app = Arc::new(app);
    let tenant = app.tenant("race", Some("USD")).await;
    let admin = tenant.admin.clone();
    let location = json!({ "name": "One", "region": "us-east",
        "address": { "country": "US", "time_zone": "America/New_York" } });
    app.put(&admin, "/v1/locations/FC-1", &location)
        .await
        .expect(201);
    let usd = |amount: i64| json!({ "amount_minor": amount, "currency": "USD" });
    let items = [
        ("MUG", Value::Null),
        ("LID", Value::Null),
        (
            "DUO",
            json!({ "kind": "bundle", "components": [{ "sku": "MUG", "quantity": 2 }] }),
        ),
        (
            "GIFT",
            json!({ "kind": "kit", "components": [
                { "sku": "MUG", "quantity": 2 }, { "sku": "LID", "quantity": 1 } ] }),
        ),
    ];
    for (sku, bom) in items {
        let body = json!({ "name": sku, "unit_cost": usd(400), "price": usd(1200), "bom": bom });
        app.put(&admin, &format!("/v1/items/{sku}"), &body)
            .await
            .expect(201);
    }
    // LID is plentiful, so only MUG can run short.
    let opening = json!({ "adjustment": "OPEN", "location": "FC-1", "reason": "opening_balance",
        "lines": [{ "sku": "MUG", "quantity": STOCK, "unit_cost_minor": 400 },
                  { "sku": "LID", "quantity": 10_000, "unit_cost_minor": 150 }] });
    app.post(&admin, "/v1/adjustments", &opening)
        .await
        .expect(201);

    let mut clients = Vec::with_capacity(CLIENTS);
    for client in 0..CLIENTS {
        let app = app.clone();
        let key = tenant.operator.clone();
        clients.push(tokio::spawn(async move {
            let mut rng = Lcg(seed ^ (client as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut outcomes = Vec::with_capacity(REQUESTS_PER_CLIENT);
            for number in 0..REQUESTS_PER_CLIENT {
                let (path, body, demand) = request(client, number, &mut rng);
                let reply = app.post(&key, path, &body).await;
                outcomes.push((reply.status.as_u16(), reply.json(), demand));
            }
            outcomes
        }));
    }
    let mut accepted_demand = 0;
    let mut refused: Vec<(i64, Value)> = Vec::new();
    let mut total_demand = 0;
    for client in clients {
        for (status, body, demand) in client.await.unwrap() {
            total_demand += demand;
            match status {
                201 => accepted_demand += demand,
                409 => refused.push((demand, body)),
                other => panic!("unexpected {other}: {body}"),
            }
        }
    }
    // 64 × 6 = 384 requests of at least 1 MUG each: more than three times the stock.
    assert!(total_demand >= 3 * STOCK, "demand {total_demand}");
    assert!(!refused.is_empty());

    let position = app
        .get(&tenant.viewer, "/v1/inventory?item=MUG&location=FC-1")
        .await
        .expect(200)
        .json();
    let position = &position["data"][0];
    let (on_hand, reserved, available) = (
        position["on_hand"].as_i64().unwrap(),
        position["reserved"].as_i64().unwrap(),
        position["available"].as_i64().unwrap(),
    );
    assert_eq!(on_hand, STOCK);
    assert_eq!(reserved, accepted_demand, "server and clients disagree");
    assert!(
        reserved <= STOCK,
        "oversold: {reserved} reserved of {STOCK}"
    );
    assert_eq!(available, STOCK - reserved);
    let levels = availability_levels(&app, &tenant.viewer).await;
    assert_eq!(levels.last(), Some(&available));
    for (demand, body) in &refused {
        assert_eq!(body["code"], "insufficient_stock", "{body}");
        let details = &body["details"];
        assert_eq!(details["sku"], "MUG", "{body}");
        assert_eq!(details["requested"], *demand, "{body}");
        let seen = details["available"].as_i64().unwrap();
        assert!(
            levels.contains(&seen),
            "{seen} never was MUG's availability: {body}"
        );
        assert!(seen < *demand, "refused although it fitted: {body}");
        assert!(
            *demand > available,
            "a request for {demand} MUG was refused but {available} are still available: {body}"
        );
    }
    eprintln!(
        "race: {} refused, {accepted_demand} of {STOCK} MUG allocated, {available} left",
        refused.len()
    );
    app.check_is_clean();
    match Arc::try_unwrap(app) {
        Ok(app) => app.finish().await,
        Err(_) => panic!("a client still holds the app"),
    }
}
