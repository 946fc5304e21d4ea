//! Lists as an integrator pages through them: filters, both directions of every sort, opaque
//! cursors with a `Link` header, natural id order, and a 400 naming whatever is wrong.

use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

fn usd(amount: i64) -> Value {
    json!({ "amount_minor": amount, "currency": "USD" })
}

fn ids(reply: &Value) -> Vec<String> {
    reply["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["id"].as_str().unwrap().to_string())
        .collect()
}

/// Four orders placed on 2025-03-01 (UTC), out of id order:
///
/// | order | channel | item | placed | promise          |
/// |-------|---------|------|--------|------------------|
/// | SO-10 | web     | MUG  | 10:00  | by 2025-03-01    |
/// | SO-9  | shop    | LID  | 09:00  | none             |
/// | SO-2  | web     | LID  | 12:00  | by 2025-03-03    |
/// | SO-1  | web     | MUG  | 11:00  | none             |
///
/// and SO-9 held on 2025-03-02 at 08:00, the tenant's latest event.
async fn four_orders(app: &TestApp) -> String {
    let tenant = app.tenant("lists", Some("USD")).await;
    let admin = tenant.admin.clone();
    let address = json!({ "country": "US", "time_zone": "UTC" });
    app.put(
        &admin,
        "/v1/locations/FC-1",
        &json!({ "name": "One", "region": "us", "address": address }),
    )
    .await
    .expect(201);
    for sku in ["MUG", "LID"] {
        app.put(
            &admin,
            &format!("/v1/items/{sku}"),
            &json!({ "name": sku, "unit_cost": usd(400), "price": usd(1200) }),
        )
        .await
        .expect(201);
    }
    app.post(
        &admin,
        "/v1/adjustments",
        &json!({ "adjustment": "ADJ-1", "location": "FC-1", "reason": "opening_balance",
            "occurred_at": "2025-03-01T00:00:00Z",
            "lines": [{ "sku": "MUG", "quantity": 10, "unit_cost_minor": 400 },
                      { "sku": "LID", "quantity": 10, "unit_cost_minor": 400 }] }),
    )
    .await
    .expect(201);
    let orders = [
        (
            "SO-10",
            "web",
            "MUG",
            "2025-03-01T10:00:00Z",
            Some("2025-03-01"),
        ),
        ("SO-9", "shop", "LID", "2025-03-01T09:00:00Z", None),
        (
            "SO-2",
            "web",
            "LID",
            "2025-03-01T12:00:00Z",
            Some("2025-03-03"),
        ),
        ("SO-1", "web", "MUG", "2025-03-01T11:00:00Z", None),
    ];
    for (order, channel, sku, at, deliver_by) in orders {
        let mut body = json!({ "order": order, "channel": channel, "customer": "C-1",
            "ship_to": address, "currency": "USD", "allocate": "reject", "occurred_at": at,
            "lines": [{ "sku": sku, "quantity": 1, "unit_price_minor": 1200 }] });
        if let Some(date) = deliver_by {
            body["promise"] = json!({ "source": "shown_at_checkout", "deliver_by": date });
        }
        app.post(&admin, "/v1/sales-orders", &body)
            .await
            .expect(201);
    }
    app.post(
        &admin,
        "/v1/sales-orders/SO-9/holds",
        &json!({ "reason": "fraud_review", "occurred_at": "2025-03-02T08:00:00Z" }),
    )
    .await
    .expect(200);
    tenant.viewer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_filters_sorts_both_ways_and_pages_with_a_cursor_and_a_link() {
    let app = spawn_app().await;
    let key = four_orders(&app).await;
    let list = |query: &str| {
        let path = format!("/v1/sales-orders{query}");
        let app = &app;
        let key = key.clone();
        async move { app.get(&key, &path).await.expect(200).json() }
    };

    // Natural id order: 1 < 2 < 9 < 10 (byte order would give SO-1, SO-10, SO-2, SO-9).
    assert_eq!(ids(&list("").await), ["SO-1", "SO-2", "SO-9", "SO-10"]);
    assert_eq!(
        ids(&list("?sort=-id").await),
        ["SO-10", "SO-9", "SO-2", "SO-1"]
    );
    // Placed: 09:00 SO-9, 10:00 SO-10, 11:00 SO-1, 12:00 SO-2.
    assert_eq!(
        ids(&list("?sort=created").await),
        ["SO-9", "SO-10", "SO-1", "SO-2"]
    );
    assert_eq!(
        ids(&list("?sort=-created").await),
        ["SO-2", "SO-1", "SO-10", "SO-9"]
    );
    // Latest event: SO-9's hold on 03-02 is the latest; the others' is their placing.
    assert_eq!(
        ids(&list("?sort=-updated").await),
        ["SO-9", "SO-2", "SO-1", "SO-10"]
    );
    assert_eq!(
        ids(&list("?sort=updated").await),
        ["SO-10", "SO-1", "SO-2", "SO-9"]
    );

    // Filters, each against the table above.
    assert_eq!(ids(&list("?sku=LID").await), ["SO-2", "SO-9"]);
    assert_eq!(ids(&list("?channel=shop").await), ["SO-9"]);
    assert_eq!(ids(&list("?channel=web,shop").await).len(), 4);
    assert_eq!(ids(&list("?status=held").await), ["SO-9"]);
    assert_eq!(
        ids(&list("?center=FC-1&status=allocated").await),
        ["SO-1", "SO-2", "SO-10"]
    );
    // From is inclusive and before exclusive: 10:00 and 11:00 are in, 12:00 is out.
    assert_eq!(
        ids(&list("?created_from=2025-03-01T10:00:00Z&created_before=2025-03-01T12:00:00Z").await),
        ["SO-1", "SO-10"]
    );
    // A date is the start of its day in UTC: only SO-9 changed on or after 2025-03-02.
    assert_eq!(ids(&list("?updated_from=2025-03-02").await), ["SO-9"]);
    // As of 2025-03-02 (the latest event): SO-10 was promised for 03-01, so it is late; SO-2 is
    // promised for 03-03, tomorrow, with nothing shipped, so it is at risk; SO-1 and SO-9 have
    // waited less than three days without a promise.
    assert_eq!(ids(&list("?attention=late").await), ["SO-10"]);
    assert_eq!(ids(&list("?attention=at_risk").await), ["SO-2"]);
    assert_eq!(
        ids(&list("?attention=late,at_risk,stuck").await),
        ["SO-2", "SO-10"]
    );

    // Web orders by placing time, two at a time: SO-10, SO-1, then SO-2.
    let first = app
        .get(&key, "/v1/sales-orders?channel=web&sort=created&limit=2")
        .await
        .expect(200);
    let body = first.json();
    assert_eq!(ids(&body), ["SO-10", "SO-1"]);
    assert_eq!(body["has_more"], true);
    // `next_after` is for id order only.
    assert_eq!(body["next_after"], Value::Null);
    let cursor = body["next_cursor"].as_str().unwrap().to_string();
    let link = first.headers["link"].to_str().unwrap().to_string();
    assert!(link.ends_with(">; rel=\"next\""), "{link}");
    assert!(
        link.contains("channel=web") && link.contains("sort=created"),
        "{link}"
    );
    assert!(link.contains(&format!("cursor={cursor}")), "{link}");
    let target = link.trim_start_matches('<').split('>').next().unwrap();
    let second = app.get(&key, target).await.expect(200);
    let body = second.json();
    assert_eq!(ids(&body), ["SO-2"]);
    assert_eq!(body["has_more"], false);
    assert_eq!(body["next_cursor"], Value::Null);
    assert!(second.headers.get("link").is_none());

    // In id order the older `after` still works and agrees with the cursor.
    let page = list("?limit=2").await;
    assert_eq!(page["next_after"], "SO-2");
    assert_eq!(ids(&list("?after=SO-2").await), ["SO-9", "SO-10"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        ids(&list(&format!("?cursor={cursor}")).await),
        ["SO-9", "SO-10"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_cursor_sort_or_filter_is_a_400_that_names_it() {
    let app = spawn_app().await;
    let key = four_orders(&app).await;
    let page = app
        .get(&key, "/v1/sales-orders?sort=created&limit=1")
        .await
        .expect(200)
        .json();
    let created_cursor = page["next_cursor"].as_str().unwrap().to_string();
    let cases = [
        ("?colour=red", "colour"),
        ("?cursor=not-a-cursor", "cursor"),
        // A cursor of one sort cannot continue another.
        (&*format!("?cursor={created_cursor}&sort=id"), "cursor"),
        ("?sort=price", "sort"),
        ("?attention=soon", "attention"),
        ("?created_from=yesterday", "created_from"),
        ("?status=", "status"),
        ("?after=SO-1&sort=-created", "after"),
        ("?limit=0", "limit"),
        // 101 values: one more than a filter takes (each is compared with every document read).
        (
            &*format!("?customer={}", vec!["C"; 101].join(",")),
            "customer",
        ),
    ];
    for (query, parameter) in cases {
        let reply = app
            .get(&key, &format!("/v1/sales-orders{query}"))
            .await
            .expect(400);
        assert_eq!(reply.code(), "invalid_query", "{query}");
        assert_eq!(reply.json()["details"]["parameter"], parameter, "{query}");
    }
}

/// A value every documented list parameter accepts, by its name.
fn example(name: &str) -> &'static str {
    match name {
        "limit" => "5",
        "sort" => "-updated",
        "attention" => "late",
        _ if name.ends_with("_from") || name.ends_with("_before") => "2025-01-01",
        _ => "X",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_list_filter_is_accepted_and_an_undocumented_one_refused() {
    let app = spawn_app().await;
    let key = four_orders(&app).await;
    let document = app.get(&key, "/v1/openapi.json").await.expect(200).json();
    let mut lists = 0;
    for (path, methods) in document["paths"].as_object().unwrap() {
        let Some(operation) = methods.get("get") else {
            continue;
        };
        if !operation["operationId"]
            .as_str()
            .unwrap()
            .starts_with("list_")
            || path.contains('{')
            || operation["responses"]["200"]["headers"]
                .get("Link")
                .is_none()
        {
            continue;
        }
        lists += 1;
        for parameter in operation["parameters"].as_array().unwrap() {
            if parameter["in"] != "query" {
                continue;
            }
            let name = parameter["name"].as_str().unwrap();
            if name == "cursor" {
                continue; // only a cursor the API gave out is accepted; tested above
            }
            let query = format!("{path}?{name}={}", example(name));
            let reply = app.get(&key, &query).await;
            assert_eq!(reply.status.as_u16(), 200, "{query}: {}", reply.text());
        }
        // Every record names itself `id`, whatever its own field for it (an item's `sku`).
        let all = app
            .get(&key, &format!("{path}?limit=1000"))
            .await
            .expect(200)
            .json();
        for record in all["data"].as_array().unwrap() {
            assert!(record["id"].is_string(), "{path}: {record}");
        }
        let reply = app
            .get(&key, &format!("{path}?colour=red"))
            .await
            .expect(400);
        assert_eq!(reply.json()["details"]["parameter"], "colour", "{path}");
    }
    // Every collection has a list: 19 of them.
    assert_eq!(lists, 19);
}
