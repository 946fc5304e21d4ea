//! A sales order names its customer and recipient as people write names, in any script, and
//! keeps how to reach the customer; ids stay ids.

use crate::helpers::spawn_app;
use serde_json::{Value, json};

fn order(id: &str, contact: Value, recipient: &str) -> Value {
    json!({ "order": id, "channel": "web", "customer": "C-7", "currency": "EUR",
        "contact": contact,
        "ship_to": { "recipient": recipient, "lines": ["Königsallee 1"], "city": "Düsseldorf",
                     "postal_code": "40212", "country": "DE", "time_zone": "Europe/Berlin" },
        "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 1200 }] })
}

#[tokio::test]
async fn an_order_keeps_its_customers_names_and_contact_and_refuses_malformed_ones() {
    let app = spawn_app().await;
    let acme = app.tenant("acme", Some("EUR")).await;
    let eur = |amount: i64| json!({ "amount_minor": amount, "currency": "EUR" });
    app.put(
        &acme.admin,
        "/v1/items/MUG",
        &json!({ "name": "Mug", "unit_cost": eur(400), "price": eur(1200) }),
    )
    .await
    .expect(201);
    let contact = json!({ "name": "Zoë Müller", "company": "Müller & Söhne GmbH",
        "email": "zoe@mueller.example", "phone": "+49 (211) 555-0100" });
    let placed = app
        .post(
            &acme.operator,
            "/v1/sales-orders",
            &order("SO-1", contact.clone(), "山田 太郎"),
        )
        .await
        .expect(201);
    assert_eq!(placed.json()["document"]["contact"], contact);
    let read = app
        .get(&acme.viewer, "/v1/sales-orders/SO-1")
        .await
        .expect(200)
        .json();
    assert_eq!(read["contact"], contact);
    assert_eq!(read["ship_to"]["recipient"], "山田 太郎");
    assert_eq!(read["customer"], "C-7");

    // Each malformed value is refused naming its field; nothing is appended.
    let head = app.head(&acme.id);
    for (contact, recipient, field) in [
        (json!({ "email": "zoe at mueller" }), "Zoë", "contact.email"),
        (json!({ "email": "zoe@localhost" }), "Zoë", "contact.email"),
        (json!({ "phone": "call me" }), "Zoë", "contact.phone"),
        (json!({ "name": "   " }), "Zoë", "contact.name"),
        (json!({ "company": "Acme\nGmbH" }), "Zoë", "contact.company"),
        (json!({}), "Zoë\u{0007}", "ship_to.recipient"),
    ] {
        let refused = app
            .post(
                &acme.operator,
                "/v1/sales-orders",
                &order("SO-2", contact, recipient),
            )
            .await
            .expect(422);
        assert_eq!(
            refused.json()["details"]["field"],
            field,
            "{}",
            refused.text()
        );
    }
    assert_eq!(app.head(&acme.id), head);
    // An order without any of it is still an order.
    let plain = json!({ "order": "SO-3", "channel": "web", "customer": "C-8", "currency": "EUR",
        "ship_to": { "country": "DE", "time_zone": "Europe/Berlin" },
        "lines": [{ "sku": "MUG", "quantity": 1, "unit_price_minor": 1200 }] });
    let placed = app
        .post(&acme.operator, "/v1/sales-orders", &plain)
        .await
        .expect(201);
    assert!(placed.json()["document"].get("contact").is_none());
    app.finish().await;
}
