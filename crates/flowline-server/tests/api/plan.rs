//! The Plan process over HTTP: the planner previews and records replenishment proposals, a
//! second run does not propose the same units again, and an approved proposal becomes a
//! purchase order whose lines are the proposal's.

use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

fn address() -> Value {
    json!({ "lines": ["1 Dock Road"], "city": "Newark", "region": "NJ",
            "postal_code": "07102", "country": "US", "time_zone": "America/New_York" })
}

/// Center FC-1 and item MUG (standard cost 4.00, price 12.00), defined by `admin`.
async fn center_and_mug(app: &TestApp, admin: &str) {
    app.put(
        admin,
        "/v1/locations/FC-1",
        &json!({ "name": "East", "region": "us-east", "address": address() }),
    )
    .await
    .expect(201);
    let item = json!({ "name": "Mug", "unit_cost": { "amount_minor": 400, "currency": "USD" },
        "price": { "amount_minor": 1200, "currency": "USD" }, "weight_g": 350 });
    app.put(admin, "/v1/items/MUG", &item).await.expect(201);
}

/// Supplier ACME: USD, 14 days' lead time, at least 24 a line.
async fn acme(app: &TestApp, admin: &str) {
    let supplier = json!({ "name": "Acme", "currency": "USD", "lead_time_days": 14,
        "minimum_order_quantity": 24, "payment_terms_days": 30, "country": "US" });
    app.put(admin, "/v1/suppliers/ACME", &supplier)
        .await
        .expect(201);
}

/// Orders `SO-1` to `SO-<count>`, each of `quantity` MUGs in `web`, waiting for stock
/// (`allocate: backorder`).
async fn backordered_mugs(app: &TestApp, operator: &str, count: u32, quantity: i64) {
    for order in 1..=count {
        let body = json!({ "order": format!("SO-{order}"), "channel": "web",
            "customer": format!("C-{order}"), "ship_to": address(), "currency": "USD",
            "allocate": "backorder",
            "lines": [{ "sku": "MUG", "quantity": quantity, "unit_price_minor": 1200 }] });
        app.post(operator, "/v1/sales-orders", &body)
            .await
            .expect(201);
    }
}

/// Redoes a proposal line's sum from its terms, in thousandths: the position from its five
/// terms, the need from the forecast and safety stock, the quantity from need, lot sizing and
/// rounding.
fn assert_terms_add_up(line: &Value) {
    let t = &line["terms"];
    let n = |name: &str| t[name].as_i64().unwrap_or_else(|| panic!("{name} in {t}"));
    let position =
        n("on_hand") - n("reserved") - n("backordered") + n("on_order") + n("inbound_transfers");
    assert_eq!(position, n("position"), "{t}");
    assert_eq!(
        n("forecast_milli") + n("safety_stock_milli") - 1000 * position,
        n("need_milli"),
        "{t}"
    );
    assert_eq!(
        n("need_milli") + n("lot_sizing_milli") + n("rounding_milli"),
        1000 * line["quantity"].as_i64().unwrap(),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_proposal_approved_becomes_a_purchase_order_with_its_lines() {
    let app = spawn_app().await;
    let tenant = app.tenant("planner", Some("USD")).await;
    let (admin, operator, viewer) = (
        tenant.admin.as_str(),
        tenant.operator.as_str(),
        tenant.viewer.as_str(),
    );
    center_and_mug(&app, admin).await;
    acme(&app, admin).await;
    let opening = json!({ "adjustment": "OPEN-1", "location": "FC-1", "reason": "opening_balance",
        "lines": [{ "sku": "MUG", "quantity": 5, "unit_cost_minor": 400 }] });
    app.post(admin, "/v1/adjustments", &opening)
        .await
        .expect(201);
    // Three orders of 10: the first reserves the 5 on hand and waits for 5 more, the others
    // wait for all 10. Position: 5 on hand − 5 reserved − 25 backordered = −25.
    backordered_mugs(&app, operator, 3, 10).await;

    let preview = app
        .get(viewer, "/v1/plan/replenishment?service_level=0.95")
        .await
        .expect(200)
        .json();
    assert_eq!(preview["object"], "replenishment_plan");
    assert_eq!(preview["recorded"], json!([]));
    let planned = preview["planned"].as_array().unwrap();
    assert_eq!(planned.len(), 1, "{preview}");
    assert_eq!(planned[0]["sku"], "MUG");
    assert_eq!(planned[0]["location"], "FC-1");
    assert_eq!(planned[0]["supplier"], "ACME");
    let explanation = &planned[0]["proposal"]["explanation"];
    assert_eq!(explanation["position"], -25);
    assert_eq!(explanation["backordered"], 25);
    // The supplier's minimum of 24 is the least it can order.
    assert!(planned[0]["proposal"]["quantity"].as_i64().unwrap() >= 24);
    // Previewing recorded nothing.
    let listed = app.get(viewer, "/v1/proposals").await.expect(200).json();
    assert_eq!(listed["data"], json!([]));

    // A viewer may look but not record.
    app.post(viewer, "/v1/plan/replenishment", &json!({}))
        .await
        .expect(403);
    let run = app
        .post(operator, "/v1/plan/replenishment", &json!({}))
        .await
        .expect(201)
        .json();
    let recorded = run["recorded"].as_array().unwrap();
    assert_eq!(recorded.len(), 1, "{run}");
    let id = recorded[0].as_str().unwrap().to_string();
    let proposal = app
        .get(viewer, &format!("/v1/proposals/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(proposal["state"], "proposed");
    assert_eq!(
        proposal["source"],
        json!({ "kind": "supplier", "supplier": "ACME" })
    );
    let lines = proposal["lines"].as_array().unwrap().clone();
    assert_eq!(lines.len(), 1);
    assert_terms_add_up(&lines[0]);
    assert_eq!(
        lines[0]["unit_price_minor"], 400,
        "the item's standard cost: never bought yet"
    );
    // The forecast the proposal rests on was published with it, under the same log position.
    let head = id.trim_start_matches("RP-").trim_end_matches("-1");
    let forecast = app
        .get(viewer, &format!("/v1/forecasts/F-{head}"))
        .await
        .expect(200)
        .json();
    assert_eq!(forecast["object"], "forecast");
    assert_eq!(forecast["lines"][0]["sku"], "MUG");
    assert_eq!(forecast["first_day"], preview["today"]);
    assert!(
        !forecast["lines"][0]["daily_milli"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // With it, the item's share at each center it was allocated at and in each channel it was
    // ordered in: all of it at FC-1 (the 5 allocated) and in `web`, so the same figures.
    let published = forecast["lines"].as_array().unwrap();
    assert_eq!(published.len(), 3, "{forecast}");
    assert_eq!(published[1]["location"], "FC-1");
    assert_eq!(published[2]["channel"], "web");
    assert_eq!(published[2]["location"], Value::Null);
    assert_eq!(published[1]["daily_milli"], published[0]["daily_milli"]);
    assert_eq!(published[2]["daily_milli"], published[0]["daily_milli"]);
    // None of its days has passed: nothing is scored yet.
    let accuracy = app
        .get(viewer, "/v1/plan/accuracy")
        .await
        .expect(200)
        .json();
    assert_eq!(accuracy["report"]["overall"]["figures"], 0, "{accuracy}");
    let scorecard = app.get(viewer, "/v1/scorecard").await.expect(200).json();
    assert_eq!(scorecard["plan"], Value::Null, "nothing scored yet");

    // Run again: the open proposal holds the item and center back.
    let again = app
        .post(operator, "/v1/plan/replenishment", &json!({}))
        .await
        .expect(201)
        .json();
    assert_eq!(again["recorded"], json!([]));
    assert!(
        again["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("waiting for a decision"),
        "{again}"
    );

    let approved = app
        .post(
            operator,
            &format!("/v1/proposals/{id}/approvals"),
            &json!({ "document": "PO-9", "note": "as proposed" }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(approved["document"]["state"], "approved");
    assert_eq!(approved["document"]["purchase_order"], "PO-9");
    let order = app
        .get(viewer, "/v1/purchase-orders/PO-9")
        .await
        .expect(200)
        .json();
    assert_eq!(order["state"], "placed");
    assert_eq!(order["supplier"], "ACME");
    assert_eq!(order["location"], "FC-1");
    let ordered: Vec<(Value, Value, Value)> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"]["sku"].clone(),
                l["line"]["quantity"].clone(),
                l["line"]["unit_price_minor"].clone(),
            )
        })
        .collect();
    let proposed: Vec<(Value, Value, Value)> = lines
        .iter()
        .map(|l| {
            (
                l["sku"].clone(),
                l["quantity"].clone(),
                l["unit_price_minor"].clone(),
            )
        })
        .collect();
    assert_eq!(ordered, proposed);
    // The order now counts as on order: the next run's position includes it.
    let after = app
        .get(viewer, "/v1/plan/replenishment")
        .await
        .expect(200)
        .json();
    let on_order = lines[0]["quantity"].as_i64().unwrap();
    let next = &after["planned"];
    if let Some(first) = next.as_array().and_then(|p| p.first()) {
        assert_eq!(first["proposal"]["explanation"]["on_order"], on_order);
    }
    // A decided proposal cannot be decided again.
    let twice = app
        .post(
            operator,
            &format!("/v1/proposals/{id}/rejections"),
            &json!({ "reason": "price_too_high" }),
        )
        .await
        .expect(409);
    assert_eq!(twice.code(), "illegal_transition");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_planner_settings_are_refused_naming_the_parameter() {
    let app = spawn_app().await;
    let tenant = app.tenant("planner-bad", Some("USD")).await;
    let viewer = tenant.viewer.as_str();
    for (query, parameter) in [
        ("service_level=1", "service_level"),
        ("service_level=abc", "service_level"),
        ("fill_rate=0", "fill_rate"),
        ("service_level=0.9&fill_rate=0.9", "fill_rate"),
        ("review_days=0", "review_days"),
        ("holding_rate=-1", "holding_rate"),
        ("order_cost=NaN", "order_cost"),
        ("max_supplier_share=1.5", "max_supplier_share"),
        ("sku=a%2Fb", "sku"),
        ("horizon=3", "horizon"),
    ] {
        let reply = app
            .get(viewer, &format!("/v1/plan/replenishment?{query}"))
            .await
            .expect(400)
            .json();
        assert_eq!(reply["details"]["parameter"], parameter, "{query}: {reply}");
    }
    for (query, parameter) in [
        ("from=2025-13-01", "from"),
        ("from=2025-02-01&to=2025-01-01", "from"),
        ("from=1900-01-01&to=2025-01-01", "from"),
        ("until=2025-01-01", "until"),
    ] {
        let reply = app
            .get(viewer, &format!("/v1/plan/accuracy?{query}"))
            .await
            .expect(400)
            .json();
        assert_eq!(reply["details"]["parameter"], parameter, "{query}: {reply}");
    }
    for (path, query, parameter) in [
        ("forecast", "horizon=0", "horizon"),
        ("forecast", "horizon=367", "horizon"),
        ("forecast", "level=1", "level"),
        ("forecast", "limit=1001", "limit"),
        ("forecast", "after=a%2Fb", "after"),
        ("capacity", "horizon_days=6", "horizon_days"),
        ("capacity", "flag_probability=0", "flag_probability"),
        ("placement", "window_days=366", "window_days"),
        ("placement", "days_weight=-1", "days_weight"),
    ] {
        let reply = app
            .get(viewer, &format!("/v1/plan/{path}?{query}"))
            .await
            .expect(400)
            .json();
        assert_eq!(reply["details"]["parameter"], parameter, "{query}: {reply}");
    }
    // An empty tenant forecasts, places and flags nothing.
    let forecast = app
        .get(viewer, "/v1/plan/forecast")
        .await
        .expect(200)
        .json();
    assert_eq!(forecast["items"], json!([]), "{forecast}");
    let capacity = app
        .get(viewer, "/v1/plan/capacity")
        .await
        .expect(200)
        .json();
    assert_eq!(capacity["warnings"], json!([]), "{capacity}");
    // An empty tenant plans nothing.
    let empty = app
        .get(viewer, "/v1/plan/replenishment")
        .await
        .expect(200)
        .json();
    assert_eq!(empty["planned"], json!([]));
}

/// A forecast published over HTTP is scored once its days have passed, and the scorecard
/// shows it as the Plan metric. Orders of 4 and 7 MUG three and two days ago; a forecast of 5
/// a day for those two days, published after them: errors +1 and −2, Σ|e| = 3 over 11
/// ordered, so WAPE = 3/11 and forecast accuracy 8/11 = 0.7273; bias −1/11. The same forecast
/// says 4 a day in `web` (every order's channel: errors 0 and −3, WAPE 3/11, bias −3/11) and
/// 1 a day in `shop` (nothing ordered there: no WAPE, listed last); the headline stays 3/11.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_forecast_is_scored_and_shown_on_the_scorecard() {
    let app = spawn_app().await;
    let tenant = app.tenant("accuracy", Some("USD")).await;
    let (admin, operator, viewer) = (
        tenant.admin.as_str(),
        tenant.operator.as_str(),
        tenant.viewer.as_str(),
    );
    center_and_mug(&app, admin).await;
    let settings = app.get(viewer, "/v1/settings").await.expect(200).json();
    let zone = jiff::tz::TimeZone::get(settings["reporting_time_zone"].as_str().unwrap()).unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    let day = |back: i64| today.checked_sub(jiff::Span::new().days(back)).unwrap();
    let noon = |date: jiff::civil::Date| {
        date.at(12, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp()
            .to_string()
    };
    for (order, back, units) in [("SO-1", 3, 4), ("SO-2", 2, 7), ("SO-3", 0, 1)] {
        let body = json!({ "order": order, "channel": "web", "customer": "C-1",
            "ship_to": address(), "currency": "USD", "occurred_at": noon(day(back)),
            "lines": [{ "sku": "MUG", "quantity": units, "unit_price_minor": 1200 }] });
        app.post(operator, "/v1/sales-orders", &body)
            .await
            .expect(201);
    }
    let forecast = json!({ "forecast": "F-1", "first_day": day(3).to_string(),
        "lines": [{ "sku": "MUG", "model": "by hand", "daily_milli": [5000, 5000] },
            { "sku": "MUG", "channel": "web", "daily_milli": [4000, 4000] },
            { "sku": "MUG", "channel": "shop", "daily_milli": [1000, 1000] }] });
    app.post(operator, "/v1/forecasts", &forecast)
        .await
        .expect(201);
    let from = day(3).to_string();
    let to = today.to_string();
    let report = app
        .get(viewer, &format!("/v1/plan/accuracy?from={from}&to={to}"))
        .await
        .expect(200)
        .json()["report"]
        .clone();
    let overall = &report["overall"];
    assert_eq!(overall["figures"], 2, "{report}");
    assert_eq!(overall["actual"], 11.0);
    let close = |value: &Value, expected: f64| {
        assert!(
            (value.as_f64().unwrap() - expected).abs() < 1e-12,
            "{value} vs {expected}"
        );
    };
    close(&overall["wape"], 3.0 / 11.0);
    close(&overall["accuracy"], 8.0 / 11.0);
    close(&overall["bias"], -1.0 / 11.0);
    assert_eq!(report["worst"][0][0], "MUG");
    let channels = report["by_channel"].as_array().unwrap();
    assert_eq!(channels.len(), 2, "{report}");
    assert_eq!(channels[0][0], "web");
    close(&channels[0][1]["wape"], 3.0 / 11.0);
    close(&channels[0][1]["bias"], -3.0 / 11.0);
    assert_eq!(channels[1][0], "shop");
    assert_eq!(channels[1][1]["wape"], Value::Null);
    assert_eq!(channels[1][1]["figures"], 2);
    assert_eq!(report["by_center"], json!([]));
    let scorecard = app
        .get(viewer, &format!("/v1/scorecard?from={from}&to={to}"))
        .await
        .expect(200)
        .json();
    close(&scorecard["plan"]["overall"]["accuracy"], 8.0 / 11.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_set_on_an_item_is_what_the_planner_orders_with_and_says_where_each_figure_came_from()
 {
    let app = spawn_app().await;
    let tenant = app.tenant("policies", Some("USD")).await;
    let (admin, operator, viewer) = (
        tenant.admin.as_str(),
        tenant.operator.as_str(),
        tenant.viewer.as_str(),
    );
    center_and_mug(&app, admin).await;
    acme(&app, admin).await;
    // Two orders of 20 wait for stock: position −40.
    backordered_mugs(&app, operator, 2, 20).await;

    // Bad policies are refused naming the field, and change nothing.
    let unknown = app
        .put(
            operator,
            "/v1/items/NOPE/policy",
            &json!({ "case_pack": 6 }),
        )
        .await
        .expect(404)
        .json();
    assert_eq!(unknown["details"]["field"], "sku", "{unknown}");
    let out_of_range = app
        .put(
            operator,
            "/v1/items/MUG/policy",
            &json!({ "service_level_milli": 1000 }),
        )
        .await
        .expect(422)
        .json();
    assert_eq!(
        out_of_range["details"]["field"], "service_level_milli",
        "{out_of_range}"
    );
    app.put(viewer, "/v1/items/MUG/policy", &json!({ "case_pack": 6 }))
        .await
        .expect(403);

    // For every center: a 98 % cycle service level, cases of 50. At FC-1: a weekly review.
    app.put(
        operator,
        "/v1/items/MUG/policy",
        &json!({ "service_level_milli": 980, "case_pack": 50, "note": "pallet layers of 50" }),
    )
    .await
    .expect(200);
    let item = app
        .put(
            operator,
            "/v1/items/MUG/policy",
            &json!({ "location": "FC-1", "review_period_days": 7 }),
        )
        .await
        .expect(200)
        .json();
    let set = item["document"]["inventory_policies"].as_array().unwrap();
    assert_eq!(set.len(), 2, "{item}");
    assert_eq!(set[0]["case_pack"], 50);
    assert_eq!(set[1]["location"], "FC-1");
    let history = app
        .get(viewer, "/v1/items/MUG/events")
        .await
        .expect(200)
        .json();
    let types: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ItemDefined", "InventoryPolicySet", "InventoryPolicySet"]
    );

    let policies = app.get(viewer, "/v1/plan/policy").await.expect(200).json();
    assert_eq!(policies["object"], "inventory_policies");
    let at_fc1 = &policies["policies"][0];
    assert_eq!(
        (&at_fc1["sku"], &at_fc1["location"]),
        (&json!("MUG"), &json!("FC-1"))
    );
    assert_eq!(
        at_fc1["service"],
        json!({ "kind": "cycle_service_level", "target": 0.98 })
    );
    assert_eq!(at_fc1["service_from"], "item");
    assert_eq!(
        (&at_fc1["review_period_days"], &at_fc1["review_period_from"]),
        (&json!(7.0), &json!("center"))
    );
    assert_eq!(
        (&at_fc1["case_pack"], &at_fc1["case_pack_from"]),
        (&json!(50), &json!("item"))
    );
    let explanation = &at_fc1["explanation"];
    // The protection interval is the supplier's 14 days plus the 7-day review.
    assert_eq!(explanation["protection_days"], 21.0);
    // z for a 98 % cycle service level, Φ⁻¹(0.98) = 2.053749 (normal tables).
    let z = explanation["safety_factor"].as_f64().unwrap();
    assert!((z - 2.053_749).abs() < 1e-6, "{z}");
    assert_eq!(explanation["position"], -40);
    // Whole cases of 50, at least the supplier's 24.
    let quantity = at_fc1["quantity"].as_i64().unwrap();
    assert!(quantity >= 50 && quantity % 50 == 0, "{at_fc1}");

    // The proposal recorded carries the policy's service level in its terms.
    let run = app
        .post(operator, "/v1/plan/replenishment", &json!({}))
        .await
        .expect(201)
        .json();
    let id = run["recorded"][0].as_str().unwrap().to_string();
    let proposal = app
        .get(viewer, &format!("/v1/proposals/{id}"))
        .await
        .expect(200)
        .json();
    let line = &proposal["lines"][0];
    assert_terms_add_up(line);
    assert_eq!(line["terms"]["service_level_milli"], 980);
    assert_eq!(line["quantity"], quantity);
    app.post(
        operator,
        &format!("/v1/proposals/{id}/rejections"),
        &json!({ "reason": "other", "note": "running the item down" }),
    )
    .await
    .expect(200);

    // Stopped at FC-1: the planner proposes nothing there and says why.
    app.put(
        operator,
        "/v1/items/MUG/policy",
        &json!({ "location": "FC-1", "replenish": false, "note": "discontinued" }),
    )
    .await
    .expect(200);
    let stopped = app
        .get(viewer, "/v1/plan/replenishment")
        .await
        .expect(200)
        .json();
    assert_eq!(stopped["planned"], json!([]), "{stopped}");
    assert!(
        stopped["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not to replenish"),
        "{stopped}"
    );
    // Cleared, the item's policy for every center applies again at FC-1.
    app.post(
        operator,
        "/v1/items/MUG/policy/clearances",
        &json!({ "location": "FC-1" }),
    )
    .await
    .expect(200);
    let after = app.get(viewer, "/v1/plan/policy").await.expect(200).json();
    assert_eq!(after["policies"][0]["review_period_from"], "planner");
    assert_eq!(after["policies"][0]["case_pack_from"], "item");
    // Clearing what is not set is refused, naming the place.
    let none = app
        .post(
            operator,
            "/v1/items/MUG/policy/clearances",
            &json!({ "location": "FC-1" }),
        )
        .await
        .expect(422)
        .json();
    assert!(
        none["message"]
            .as_str()
            .unwrap()
            .contains("no inventory policy set for FC-1"),
        "{none}"
    );
}
