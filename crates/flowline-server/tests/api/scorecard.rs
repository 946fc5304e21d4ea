//! The scorecard over HTTP: values, a target's status, an initiative's review and the documents
//! behind a figure, for a tenant whose two orders are worked out by hand.

use crate::helpers::spawn_app;
use serde_json::{Value, json};

fn usd(amount: i64) -> Value {
    json!({ "amount_minor": amount, "currency": "USD" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scorecard_counts_orders_judges_targets_and_drills_to_the_late_order() {
    let app = spawn_app().await;
    let tenant = app.tenant("scored", Some("USD")).await;
    let (admin, operator, viewer) = (&tenant.admin, &tenant.operator, &tenant.viewer);
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
        "/v1/carriers/UPS",
        &json!({ "name": "UPS",
        "services": [{ "code": "ground", "mode": "road", "transit_days": 2 }] }),
    )
    .await
    .expect(201);
    let stock = json!({ "adjustment": "OPEN", "location": "FC-1", "reason": "opening_balance",
        "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 }],
        "occurred_at": "2025-03-01T00:00:00Z" });
    app.post(admin, "/v1/adjustments", &stock).await.expect(201);
    // Two orders promised for 2025-03-05 (UTC): ON-TIME delivered on 03-04, LATE on 03-06.
    for (order, delivered_at) in [
        ("ON-TIME", "2025-03-04T12:00:00Z"),
        ("LATE", "2025-03-06T12:00:00Z"),
    ] {
        let place = json!({ "order": order, "channel": "web", "customer": "C-1", "ship_to": address,
            "currency": "USD", "allocate": "reject",
            "promise": { "source": "shown_at_checkout", "deliver_by": "2025-03-05" },
            "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 1200 }],
            "occurred_at": "2025-03-01T10:00:00Z" });
        app.post(operator, "/v1/sales-orders", &place)
            .await
            .expect(201);
        let lines = json!([{ "line": 0, "quantity": 1 }]);
        let step =
            json!({ "location": "FC-1", "lines": lines, "occurred_at": "2025-03-02T10:00:00Z" });
        for path in ["picks", "packs"] {
            app.post(operator, &format!("/v1/sales-orders/{order}/{path}"), &step)
                .await
                .expect(200);
        }
        let ship = json!({ "shipment": format!("{order}-S"), "location": "FC-1", "carrier": "UPS",
            "service": "ground", "weight_g": 500, "lines": lines, "occurred_at": "2025-03-02T10:00:00Z" });
        app.post(
            operator,
            &format!("/v1/sales-orders/{order}/shipments"),
            &ship,
        )
        .await
        .expect(201);
        app.post(
            operator,
            &format!("/v1/sales-orders/{order}/shipments/{order}-S/deliveries"),
            &json!({ "condition": "intact", "delivered_at": delivered_at, "occurred_at": delivered_at }),
        )
        .await
        .expect(200);
    }
    // A target of 90 % perfect orders, and an initiative that ran from March 1st.
    app.put(
        admin,
        "/v1/targets/PERFECT",
        &json!({ "metric": "rl.perfect_order",
        "value_milli": 90_000, "direction": "at_least" }),
    )
    .await
    .expect(201);
    app.post(
        operator,
        "/v1/initiatives",
        &json!({ "initiative": "FASTER", "name": "Faster carrier",
        "metrics": ["rl.on_time"], "owner": "ops", "expected_effect": "+5 points on time",
        "starts_on": "2025-03-01", "ends_on": "2025-03-08" }),
    )
    .await
    .expect(201);

    let report = app
        .get(
            viewer,
            "/v1/scorecard?from=2025-03-01&to=2025-04-01&as_of=2025-06-01T00:00:00Z",
        )
        .await
        .expect(200)
        .json();
    let level1 = &report["scorecard"]["level1"][0]["value"];
    // RL.1.1: ON-TIME perfect, LATE late: 1 of 2.
    assert_eq!(level1["id"], "rl.perfect_order");
    assert_eq!(level1["ratio"], json!({ "numerator": 1, "denominator": 2 }));
    assert_eq!(level1["value"], 50.0);
    assert_eq!(report["scorecard"]["provisional"], false);
    // RS.1.1: (03-01 10:00 → 03-04 12:00 = 74 h) and (→ 03-06 12:00 = 122 h): mean 98 h.
    let cycle = &report["scorecard"]["level1"][1]["value"];
    assert_eq!(
        cycle["ratio"],
        json!({ "numerator": (74 + 122) * 3600, "denominator": 2 })
    );
    // The target is missed (50 % < 90 %), with no month before it to compare.
    assert_eq!(report["targets"][0]["id"], "PERFECT");
    assert_eq!(report["targets"][0]["report"]["status"], "missed");
    assert_eq!(report["targets"][0]["report"]["trend"], "unknown");
    // The initiative's review: on time 1 of 2 during 03-01..03-08, nothing in the 7 days before.
    let review = &report["initiatives"][0]["reviews"][0];
    assert_eq!(
        review["after"]["ratio"],
        json!({ "numerator": 1, "denominator": 2 })
    );
    assert_eq!(review["before"]["value"], Value::Null);

    // Down to the documents: the late order.
    let metric = app
        .get(viewer, "/v1/metrics/rl.on_time?from=2025-03-01&to=2025-04-01&drill=documents&as_of=2025-06-01T00:00:00Z")
        .await
        .expect(200)
        .json();
    let orders: Vec<&str> = metric["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["order"].as_str().unwrap())
        .collect();
    assert_eq!(orders, ["LATE"]);
    assert_eq!(
        metric["value"]["ratio"],
        json!({ "numerator": 1, "denominator": 2 })
    );
    // By channel: one slice, web, with the same two orders.
    let by = app
        .get(
            viewer,
            "/v1/scorecard?from=2025-03-01&to=2025-04-01&by=channel",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        by["slices"][0]["slice"],
        json!({ "dimension": "channel", "value": "web" })
    );
    // Unknown metrics and bad slices are refused clearly.
    assert_eq!(
        app.get(viewer, "/v1/metrics/rl.nope")
            .await
            .expect(404)
            .code(),
        "not_found"
    );
    let bad = app
        .get(viewer, "/v1/metrics/rl.on_time?slice=planet:mars")
        .await
        .expect(400);
    assert_eq!(bad.json()["details"]["parameter"], "slice");
    app.finish().await;
}
