//! Targets and improvement initiatives over HTTP: set, replaced, retired and set again; planned,
//! started and refused a skipped step; each answer the document as `GET` reads it back.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_is_set_retired_and_reactivated_and_reads_back_the_same() {
    let app = spawn_app().await;
    let tenant = app.tenant("targets", Some("USD")).await;
    let admin = tenant.admin.as_str();
    let center = json!({
        "name": "East", "region": "us-east",
        "address": { "country": "US", "time_zone": "America/New_York" }
    });
    app.put(admin, "/v1/locations/FC-1", &center)
        .await
        .expect(201);
    // On-time delivery at FC-1 at least 95 % (95,000 thousandths), against Q1 as the baseline.
    let body = json!({
        "metric": "rl.on_time_delivery", "value_milli": 95_000, "direction": "at_least",
        "scope": { "dimension": "center", "value": "FC-1" },
        "baseline": ["2025-01-01", "2025-04-01"], "due_on": "2025-12-31",
        "source": "WERC DC Measures 2020, best in class"
    });
    let set = app
        .put(admin, "/v1/targets/OTD-FC1", &body)
        .await
        .expect(201)
        .json();
    assert_eq!(set["events"][0]["type"], "TargetSet");
    assert_eq!(set["events"][0]["stream"], "target/OTD-FC1");
    let document = &set["document"];
    assert_eq!(document["object"], "target");
    assert_eq!(document["state"], "active");
    assert_eq!(document["id"], "OTD-FC1");
    assert_eq!(document["value_milli"], 95_000);
    assert_eq!(document["baseline"], json!(["2025-01-01", "2025-04-01"]));
    assert_eq!(
        document["scope"],
        json!({ "dimension": "center", "value": "FC-1" })
    );
    assert_eq!(
        app.get(admin, "/v1/targets/OTD-FC1")
            .await
            .expect(200)
            .json(),
        *document
    );

    let retired = app
        .post(
            admin,
            "/v1/targets/OTD-FC1/retirements",
            &json!({ "reason": "superseded" }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(retired["document"]["state"], "retired");
    assert_eq!(retired["document"]["retired_reason"], "superseded");
    let again = app
        .post(
            admin,
            "/v1/targets/OTD-FC1/retirements",
            &json!({ "reason": "superseded" }),
        )
        .await
        .expect(409)
        .json();
    assert_eq!(again["code"], "illegal_transition");
    assert_eq!(again["details"]["state"], "retired");

    // The target exists (retired): setting it again replaces it, 200.
    let reactivated = app
        .put(admin, "/v1/targets/OTD-FC1", &body)
        .await
        .expect(200)
        .json();
    assert_eq!(reactivated["document"]["state"], "active");
    assert_eq!(
        reactivated["document"]["retired_at"],
        serde_json::Value::Null
    );
    let history = app
        .get(admin, "/v1/targets/OTD-FC1/events")
        .await
        .expect(200)
        .json();
    let types: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["TargetSet", "TargetRetired", "TargetSet"]);
    let list = app.get(admin, "/v1/targets").await.expect(200).json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // A SCOR code is not a metric id; a center the tenant does not have is not found.
    let wrong = app
        .put(
            admin,
            "/v1/targets/T-2",
            &json!({ "metric": "RL.1.1", "value_milli": 1, "direction": "at_least" }),
        )
        .await
        .expect(422)
        .json();
    assert_eq!(wrong["code"], "invalid_field");
    assert_eq!(wrong["details"]["field"], "metric");
    let missing = app
        .put(
            admin,
            "/v1/targets/T-2",
            &json!({
                "metric": "rl.perfect_order", "value_milli": 1, "direction": "at_least",
                "scope": { "dimension": "center", "value": "FC-9" }
            }),
        )
        .await
        .expect(404)
        .json();
    assert_eq!(missing["details"]["id"], "FC-9");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_plans_and_runs_an_initiative_one_step_at_a_time() {
    let app = spawn_app().await;
    let tenant = app.tenant("initiatives", Some("USD")).await;
    let operator = tenant.operator.as_str();
    let created = app
        .post(
            operator,
            "/v1/initiatives",
            &json!({
                "initiative": "SLOT", "name": "Re-slot fast movers",
                "metrics": ["rl.on_time_delivery", "rs.order_cycle_time"],
                "owner": "East lead", "expected_effect": "+3 points of on-time delivery",
                "expected_change_milli": 3000, "starts_on": "2025-04-01"
            }),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(created["document"]["object"], "initiative");
    assert_eq!(created["document"]["state"], "planned");
    assert_eq!(created["events"][0]["stream"], "initiative/SLOT");

    let skipped = app
        .post(
            operator,
            "/v1/initiatives/SLOT/updates",
            &json!({ "status": "done" }),
        )
        .await
        .expect(409)
        .json();
    assert_eq!(skipped["code"], "illegal_transition");
    assert_eq!(skipped["details"]["state"], "planned");
    assert_eq!(skipped["details"]["attempted"], "complete");

    let started = app
        .post(
            operator,
            "/v1/initiatives/SLOT/updates",
            &json!({ "status": "in_progress", "note": "pilot aisle first" }),
        )
        .await
        .expect(200)
        .json();
    let document = &started["document"];
    assert_eq!(document["state"], "in_progress");
    assert_eq!(document["status"], "in_progress");
    assert_eq!(document["notes"][0]["note"], "pilot aisle first");
    assert_eq!(
        app.get(operator, "/v1/initiatives/SLOT")
            .await
            .expect(200)
            .json(),
        *document
    );
    let early_end = app
        .post(
            operator,
            "/v1/initiatives/SLOT/updates",
            &json!({ "ends_on": "2025-03-31" }),
        )
        .await
        .expect(422)
        .json();
    assert_eq!(early_end["details"]["field"], "ends_on");
    app.finish().await;
}
