//! HTTP conventions an integrator relies on: `Location` on a create, `ETag` on a document and
//! `If-None-Match` answered with 304 until the document changes.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn a_created_document_is_located_and_a_conditional_read_is_304_until_it_changes() {
    let app = spawn_app().await;
    let acme = app.tenant("acme", Some("USD")).await;
    let address = json!({ "lines": ["1 Dock Road"], "city": "Newark", "region": "NJ",
        "postal_code": "07102", "country": "US", "time_zone": "America/New_York" });
    app.put(
        &acme.admin,
        "/v1/locations/FC-1",
        &json!({ "name": "East", "region": "us-east", "address": address }),
    )
    .await
    .expect(201);
    let money = |amount: i64| json!({ "amount_minor": amount, "currency": "USD" });
    app.put(
        &acme.admin,
        "/v1/items/MUG",
        &json!({ "name": "Mug", "unit_cost": money(400), "price": money(1200), "weight_g": 350 }),
    )
    .await
    .expect(201);
    let order = json!({ "order": "SO-1", "channel": "web", "customer": "C-1", "ship_to": address,
        "currency": "USD", "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 1200 }] });
    let created = app
        .post(&acme.operator, "/v1/sales-orders", &order)
        .await
        .expect(201);
    assert_eq!(created.headers["location"], "/v1/sales-orders/SO-1");

    // The document, with its tag; asking again with the tag gets 304 and no body, and so does
    // a list of tags holding it, or the weak form of it.
    let read = app
        .get(&acme.viewer, "/v1/sales-orders/SO-1")
        .await
        .expect(200);
    assert_eq!(read.json()["id"], "SO-1", "{}", read.text());
    let etag = read.headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    for condition in [
        etag.clone(),
        format!("\"other\", {etag}"),
        format!("W/{etag}"),
        "*".to_string(),
    ] {
        let unchanged = app
            .send(
                reqwest::Method::GET,
                Some(&acme.viewer),
                "/v1/sales-orders/SO-1",
                None,
                &[("if-none-match", &condition)],
            )
            .await;
        assert_eq!(unchanged.status, 304, "{condition}");
        assert!(unchanged.bytes.is_empty());
        assert_eq!(unchanged.headers["etag"], etag.as_str());
    }
    // A hold changes the document: the old tag no longer matches, the new one does.
    app.post(
        &acme.operator,
        "/v1/sales-orders/SO-1/holds",
        &json!({ "reason": "fraud_review" }),
    )
    .await
    .expect(200);
    let changed = app
        .send(
            reqwest::Method::GET,
            Some(&acme.viewer),
            "/v1/sales-orders/SO-1",
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, 200);
    let new_etag = changed.headers["etag"].to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    assert_eq!(changed.json()["state"], "held", "{}", changed.text());
    // The document's events carry a tag of their own.
    let events = app
        .get(&acme.viewer, "/v1/sales-orders/SO-1/events")
        .await
        .expect(200);
    let events_etag = events.headers["etag"].to_str().unwrap().to_string();
    let again = app
        .send(
            reqwest::Method::GET,
            Some(&acme.viewer),
            "/v1/sales-orders/SO-1/events",
            None,
            &[("if-none-match", &events_etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    app.finish().await;
}
