//! One brand's story across all six SCOR processes, driven over HTTP, with the inventory
//! positions and money balances at the end worked out by hand.
//!
//! Moving-average costing, as the glossary defines it: a move out of a location takes
//! `value × quantity / on hand` (rounded), so the working below follows each location's
//! quantity and value step by step. Every figure is in US cents.

use crate::helpers::{Tenant, TestApp, check_is_clean, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn usd(amount_minor: i64) -> Value {
    json!({ "amount_minor": amount_minor, "currency": "USD" })
}

fn address(time_zone: &str) -> Value {
    json!({ "lines": ["1 Dock Road"], "city": "Newark", "region": "NJ",
            "postal_code": "07102", "country": "US", "time_zone": time_zone })
}

/// Enable: two centers, three items (GIFT is a kit of 2 MUG + 1 LID), a supplier, a carrier
/// and a return policy under which defective goods are refunded and damaged ones are not.
async fn master_data(app: &TestApp, admin: &str) {
    for (id, region, zone) in [
        ("FC-EAST", "us-east", "America/New_York"),
        ("FC-WEST", "us-west", "America/Los_Angeles"),
    ] {
        let body = json!({ "name": id, "region": region, "address": address(zone) });
        app.put(admin, &format!("/v1/locations/{id}"), &body)
            .await
            .expect(201);
    }
    let items = [
        ("MUG", 400, 1200, Value::Null),
        ("LID", 150, 500, Value::Null),
        (
            "GIFT",
            950,
            3000,
            json!({ "kind": "kit", "components": [
                { "sku": "MUG", "quantity": 2 }, { "sku": "LID", "quantity": 1 } ] }),
        ),
    ];
    for (sku, cost, price, bom) in items {
        let body = json!({ "name": sku, "unit_cost": usd(cost), "price": usd(price),
                           "weight_g": 350, "bom": bom });
        app.put(admin, &format!("/v1/items/{sku}"), &body)
            .await
            .expect(201);
    }
    let supplier = json!({ "name": "Acme Ceramics", "currency": "USD", "lead_time_days": 14,
                           "payment_terms_days": 30, "country": "US" });
    app.put(admin, "/v1/suppliers/ACME", &supplier)
        .await
        .expect(201);
    let carrier = json!({ "name": "UPS", "services": [
        { "code": "ground", "mode": "road", "transit_days": 3 } ] });
    app.put(admin, "/v1/carriers/UPS", &carrier)
        .await
        .expect(201);
    let policy = json!({ "window_days": 30,
        "refundable_conditions": ["new", "like_new", "used", "defective"] });
    app.put(admin, "/v1/return-policies/STANDARD", &policy)
        .await
        .expect(201);
}

/// Source. PO-1 (FC-EAST): 20 MUG at 4.00, 10 LID at 1.50; one LID arrives broken and is
/// rejected at the dock. Billed 94.00 against 93.50 received (a 0.50 price variance), paid.
/// PO-2 (FC-WEST): 10 MUG at 4.20, received and billed, not yet paid. PO-3 (FC-WEST): 6 LID,
/// placed only, so it is on order.
async fn source(app: &TestApp, operator: &str) {
    let po1 = json!({ "purchase_order": "PO-1", "supplier": "ACME", "location": "FC-EAST",
        "currency": "USD", "lines": [
            { "sku": "MUG", "quantity": 20, "unit_price_minor": 400 },
            { "sku": "LID", "quantity": 10, "unit_price_minor": 150 } ] });
    app.post(operator, "/v1/purchase-orders", &po1)
        .await
        .expect(201);
    app.post(
        operator,
        "/v1/purchase-orders/PO-1/confirmations",
        &json!({ "committed_on": "2026-12-15" }),
    )
    .await
    .expect(200);
    // Accepted: 20 MUG worth 80.00 and 9 LID worth 13.50 enter FC-EAST; the rejected LID never
    // enters stock. Inventory +93.50, goods received not invoiced −93.50.
    let receipt = json!({ "receipt": "R-1", "lines": [
        { "line": 0, "accepted": 20 },
        { "line": 1, "accepted": 9, "rejected": 1, "reject_reason": "damaged" } ] });
    let received = app
        .post(operator, "/v1/purchase-orders/PO-1/receipts", &receipt)
        .await
        .expect(201)
        .json();
    assert_eq!(received["document"]["state"], "received");
    // Three-way match: 93.50 matched, the bill says 94.00, so 0.50 goes to price variance.
    let bill = json!({ "bill": "B-1", "amount": usd(9400), "due_on": "2027-01-15" });
    app.post(operator, "/v1/purchase-orders/PO-1/bills", &bill)
        .await
        .expect(201);
    let payment = json!({ "payment": "PAY-1", "amount": usd(9400) });
    app.post(operator, "/v1/purchase-orders/PO-1/payments", &payment)
        .await
        .expect(201);

    let po2 = json!({ "purchase_order": "PO-2", "supplier": "ACME", "location": "FC-WEST",
        "currency": "USD", "lines": [{ "sku": "MUG", "quantity": 10, "unit_price_minor": 420 }] });
    app.post(operator, "/v1/purchase-orders", &po2)
        .await
        .expect(201);
    let receipt = json!({ "receipt": "R-2", "lines": [{ "line": 0, "accepted": 10 }] });
    app.post(operator, "/v1/purchase-orders/PO-2/receipts", &receipt)
        .await
        .expect(201);
    let bill = json!({ "bill": "B-2", "amount": usd(4200), "due_on": "2027-01-15" });
    app.post(operator, "/v1/purchase-orders/PO-2/bills", &bill)
        .await
        .expect(201);

    let po3 = json!({ "purchase_order": "PO-3", "supplier": "ACME", "location": "FC-WEST",
        "currency": "USD", "lines": [{ "sku": "LID", "quantity": 6, "unit_price_minor": 150 }] });
    app.post(operator, "/v1/purchase-orders", &po3)
        .await
        .expect(201);
}

/// Make. WO-1 kits 5 GIFT at FC-EAST from 10 MUG and 5 LID. Starting it issues the components
/// at moving average: MUG 80.00 × 10/20 = 40.00, LID 13.50 × 5/9 = 7.50, 47.50 in all.
/// Quality control passes 4 and fails 1: 47.50 × 4/5 = 38.00 enters FC-EAST as 4 GIFT, 9.50
/// is scrapped.
async fn make(app: &TestApp, operator: &str) {
    let order = json!({ "work_order": "WO-1", "kind": "kitting", "item": "GIFT", "quantity": 5,
                        "location": "FC-EAST" });
    app.post(operator, "/v1/work-orders", &order)
        .await
        .expect(201);
    let started = app
        .post(operator, "/v1/work-orders/WO-1/starts", &json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(started["document"]["consumed_value_minor"], 4750);
    let completed = app
        .post(
            operator,
            "/v1/work-orders/WO-1/completions",
            &json!({ "passed": 4, "failed": 1, "note": "one box crushed" }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(completed["document"]["state"], "completed");
}

fn ship_to() -> Value {
    address("America/Chicago")
}

/// Deliver. SO-1 (web): 1 GIFT at 30.00 + 2.40 tax and 5 MUG at 12.00 + 0.96 tax, shipping
/// 5.00; allocated GIFT and 2 MUG at FC-EAST, 3 MUG at FC-WEST, so it ships in two shipments.
/// SO-2 (marketplace): 2 LID at 5.00, allocated automatically. SO-3 (web): 2 MUG allocated at
/// FC-WEST and not shipped yet.
async fn deliver(app: &TestApp, operator: &str) {
    let so1 = json!({ "order": "SO-1", "channel": "web", "customer": "C-1", "ship_to": ship_to(),
        "currency": "USD", "shipping_charge_minor": 500, "service_level": "standard",
        "lines": [
            { "sku": "GIFT", "quantity": 1, "unit_price_minor": 3000, "unit_tax_minor": 240 },
            { "sku": "MUG", "quantity": 5, "unit_price_minor": 1200, "unit_tax_minor": 96 } ] });
    app.post(operator, "/v1/sales-orders", &so1)
        .await
        .expect(201);
    let allocation = json!({ "shortage": "reject", "lines": [
        { "line": 0, "location": "FC-EAST", "quantity": 1 },
        { "line": 1, "location": "FC-EAST", "quantity": 2 },
        { "line": 1, "location": "FC-WEST", "quantity": 3 } ] });
    let allocated = app
        .post(operator, "/v1/sales-orders/SO-1/allocations", &allocation)
        .await
        .expect(200)
        .json();
    assert_eq!(allocated["document"]["state"], "allocated");

    let east = json!([{ "line": 0, "quantity": 1 }, { "line": 1, "quantity": 2 }]);
    let west = json!([{ "line": 1, "quantity": 3 }]);
    for (location, lines, shipment) in [("FC-EAST", &east, "S-1"), ("FC-WEST", &west, "S-2")] {
        let step = json!({ "location": location, "lines": lines });
        app.post(operator, "/v1/sales-orders/SO-1/picks", &step)
            .await
            .expect(200);
        app.post(operator, "/v1/sales-orders/SO-1/packs", &step)
            .await
            .expect(200);
        let shipped = json!({ "shipment": shipment, "location": location, "carrier": "UPS",
            "service": "ground", "tracking": format!("1Z{shipment}"), "weight_g": 1200,
            "lines": lines });
        app.post(operator, "/v1/sales-orders/SO-1/shipments", &shipped)
            .await
            .expect(201);
    }
    // S-1 arrives intact, S-2 damaged (a failed perfect order, not a ledger change).
    for (shipment, condition) in [("S-1", "intact"), ("S-2", "damaged")] {
        app.post(
            operator,
            &format!("/v1/sales-orders/SO-1/shipments/{shipment}/deliveries"),
            &json!({ "condition": condition }),
        )
        .await
        .expect(200);
    }
    // Net 30.00 + 5 × 12.00 + 5.00 shipping = 95.00; tax 2.40 + 5 × 0.96 = 7.20; 102.20 due.
    let invoice = app
        .post(
            operator,
            "/v1/sales-orders/SO-1/invoices",
            &json!({ "invoice": "INV-1" }),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(invoice["document"]["invoiced_minor"], 10220);
    let paid = app
        .post(
            operator,
            "/v1/sales-orders/SO-1/payments",
            &json!({ "payment": "P-1", "amount": usd(10220) }),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(paid["document"]["state"], "closed");

    let so2 = json!({ "order": "SO-2", "channel": "marketplace", "customer": "C-2",
        "ship_to": ship_to(), "currency": "USD", "allocate": "backorder",
        "lines": [{ "sku": "LID", "quantity": 2, "unit_price_minor": 500 }] });
    let placed = app
        .post(operator, "/v1/sales-orders", &so2)
        .await
        .expect(201)
        .json();
    assert_eq!(placed["document"]["state"], "allocated");
    let lines = json!([{ "line": 0, "quantity": 2 }]);
    let step = json!({ "location": "FC-EAST", "lines": lines });
    for path in ["picks", "packs"] {
        app.post(operator, &format!("/v1/sales-orders/SO-2/{path}"), &step)
            .await
            .expect(200);
    }
    let shipped = json!({ "shipment": "S-3", "location": "FC-EAST", "carrier": "UPS",
        "service": "ground", "weight_g": 300, "lines": lines });
    app.post(operator, "/v1/sales-orders/SO-2/shipments", &shipped)
        .await
        .expect(201);
    app.post(
        operator,
        "/v1/sales-orders/SO-2/shipments/S-3/deliveries",
        &json!({ "condition": "intact" }),
    )
    .await
    .expect(200);
    app.post(
        operator,
        "/v1/sales-orders/SO-2/invoices",
        &json!({ "invoice": "INV-2" }),
    )
    .await
    .expect(201);
    app.post(
        operator,
        "/v1/sales-orders/SO-2/payments",
        &json!({ "payment": "P-2", "amount": usd(1000) }),
    )
    .await
    .expect(201);
}

/// Return. RMA-1: 1 MUG of SO-1 comes back unopened. It returns at the line's shipped value
/// per unit — (8.00 from FC-EAST + 12.60 from FC-WEST) / 5 = 4.12 — is graded new, restocked at
/// FC-WEST and refunded 12.96; its label cost 6.00. RMA-2: the GIFT of SO-1 is defective: it
/// returns at 9.50, is scrapped and refunded 32.40.
async fn returns(app: &TestApp, operator: &str) {
    let rma1 = json!({ "return_id": "RMA-1", "order": "SO-1", "policy": "STANDARD",
        "lines": [{ "line": 1, "quantity": 1, "reason": "changed_mind" }] });
    app.post(operator, "/v1/returns", &rma1).await.expect(201);
    let label = json!({ "carrier": "UPS", "service": "ground", "tracking": "1ZRMA1",
                        "cost": usd(600) });
    app.post(operator, "/v1/returns/RMA-1/labels", &label)
        .await
        .expect(201);
    let one = json!([{ "line": 0, "quantity": 1 }]);
    app.post(
        operator,
        "/v1/returns/RMA-1/receipts",
        &json!({ "lines": one }),
    )
    .await
    .expect(201);
    let graded = json!({ "lines": [{ "line": 0, "quantity": 1, "condition": "new" }] });
    app.post(operator, "/v1/returns/RMA-1/inspections", &graded)
        .await
        .expect(201);
    let restock = json!({ "lines": [{ "line": 0, "quantity": 1,
        "disposition": { "kind": "restock", "location": "FC-WEST" } }] });
    app.post(operator, "/v1/returns/RMA-1/dispositions", &restock)
        .await
        .expect(201);
    let refunded = app
        .post(
            operator,
            "/v1/returns/RMA-1/refunds",
            &json!({ "refund": "RF-1", "amount": usd(1296) }),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(refunded["document"]["state"], "refunded");

    // The documented name of a new return's id is `return`; `return_id` (RMA-1 above) is its
    // former name, still accepted.
    let rma2 = json!({ "return": "RMA-2", "order": "SO-1", "policy": "STANDARD",
        "lines": [{ "line": 0, "quantity": 1, "reason": "defective" }] });
    app.post(operator, "/v1/returns", &rma2).await.expect(201);
    app.post(
        operator,
        "/v1/returns/RMA-2/receipts",
        &json!({ "lines": one }),
    )
    .await
    .expect(201);
    let graded = json!({ "lines": [{ "line": 0, "quantity": 1, "condition": "defective" }] });
    app.post(operator, "/v1/returns/RMA-2/inspections", &graded)
        .await
        .expect(201);
    let scrap = json!({ "lines": [{ "line": 0, "quantity": 1,
        "disposition": { "kind": "scrap" } }] });
    app.post(operator, "/v1/returns/RMA-2/dispositions", &scrap)
        .await
        .expect(201);
    app.post(
        operator,
        "/v1/returns/RMA-2/refunds",
        &json!({ "refund": "RF-2", "amount": usd(3240) }),
    )
    .await
    .expect(201);
}

/// Placement. T-1 moves 4 MUG from FC-EAST to FC-WEST (received); T-2 sends 3 MUG back east
/// and is still on the road. SO-3 then reserves 2 MUG at FC-WEST.
async fn place(app: &TestApp, operator: &str) {
    for (transfer, from, to, quantity) in [
        ("T-1", "FC-EAST", "FC-WEST", 4),
        ("T-2", "FC-WEST", "FC-EAST", 3),
    ] {
        let body = json!({ "transfer": transfer, "from": from, "to": to,
                           "lines": [{ "sku": "MUG", "quantity": quantity }] });
        app.post(operator, "/v1/transfers", &body).await.expect(201);
        app.post(
            operator,
            &format!("/v1/transfers/{transfer}/shipments"),
            &json!({ "carrier": "UPS", "tracking": format!("1Z{transfer}") }),
        )
        .await
        .expect(201);
        if transfer == "T-1" {
            let lines = json!({ "lines": [{ "line": 0, "quantity": quantity }] });
            app.post(operator, "/v1/transfers/T-1/receipts", &lines)
                .await
                .expect(201);
        }
    }
    let so3 = json!({ "order": "SO-3", "channel": "web", "customer": "C-3", "ship_to": ship_to(),
        "currency": "USD", "lines": [{ "sku": "MUG", "quantity": 2, "unit_price_minor": 1200 }] });
    app.post(operator, "/v1/sales-orders", &so3)
        .await
        .expect(201);
    let allocation = json!({ "shortage": "reject",
        "lines": [{ "line": 0, "location": "FC-WEST", "quantity": 2 }] });
    app.post(operator, "/v1/sales-orders/SO-3/allocations", &allocation)
        .await
        .expect(200);
}

/// Enable and Plan: costs by SCOR process — carrier charges owed, kitting labour and planning
/// software paid.
async fn costs(app: &TestApp, admin: &str) {
    for (cost, process, cost_type, amount, settlement) in [
        ("C-1", "deliver", "carrier", 1500, "payable"),
        ("C-2", "make", "labour", 800, "paid"),
        ("C-3", "plan", "software", 2000, "paid"),
    ] {
        let body = json!({ "cost": cost, "process": process, "cost_type": cost_type,
            "amount": usd(amount), "settlement": settlement, "note": "December" });
        app.post(admin, "/v1/costs", &body).await.expect(201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_story_across_all_six_processes_ends_in_hand_worked_balances() {
    let app = spawn_app().await;
    let tenant: Tenant = app.tenant("story", Some("USD")).await;
    master_data(&app, &tenant.admin).await;
    source(&app, &tenant.operator).await;
    make(&app, &tenant.operator).await;
    deliver(&app, &tenant.operator).await;
    returns(&app, &tenant.operator).await;
    place(&app, &tenant.operator).await;
    costs(&app, &tenant.admin).await;

    // Positions, following each location:
    // MUG FC-EAST: +20 (80.00); kitting −10 at 80.00 × 10/20 = 40.00 → 10 (40.00); S-1 −2 at
    //   40.00 × 2/10 = 8.00 → 8 (32.00); T-1 −4 at 32.00 × 4/8 = 16.00 → 4 (16.00).
    //   In transit towards it: T-2's 3.
    // MUG FC-WEST: +10 (42.00); S-2 −3 at 42.00 × 3/10 = 12.60 → 7 (29.40); RMA-1 restock +1
    //   (4.12) → 8 (33.52); T-1 +4 (16.00) → 12 (49.52); T-2 −3 at 49.52 × 3/12 = 12.38 →
    //   9 (37.14); SO-3 reserves 2, so 7 available.
    // LID FC-EAST: +9 (13.50); kitting −5 at 13.50 × 5/9 = 7.50 → 4 (6.00); S-3 −2 at
    //   6.00 × 2/4 = 3.00 → 2 (3.00). LID FC-WEST: nothing on hand, 6 on order (PO-3).
    // GIFT FC-EAST: +4 (38.00); S-1 −1 at 38.00/4 = 9.50 → 3 (28.50).
    let positions = app
        .get(&tenant.viewer, "/v1/inventory")
        .await
        .expect(200)
        .json();
    let actual: Vec<(String, String, [i64; 6])> = positions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let figures = [
                "on_hand",
                "reserved",
                "available",
                "in_transit",
                "on_order",
                "value_minor",
            ]
            .map(|name| p[name].as_i64().unwrap());
            (
                p["sku"].as_str().unwrap().to_string(),
                p["location"].as_str().unwrap().to_string(),
                figures,
            )
        })
        .collect();
    let expected: Vec<(String, String, [i64; 6])> = [
        ("GIFT", "FC-EAST", [3, 0, 3, 0, 0, 2850]),
        ("LID", "FC-EAST", [2, 0, 2, 0, 0, 300]),
        ("LID", "FC-WEST", [0, 0, 0, 0, 6, 0]),
        ("MUG", "FC-EAST", [4, 0, 4, 3, 0, 1600]),
        ("MUG", "FC-WEST", [9, 2, 7, 0, 0, 3714]),
    ]
    .into_iter()
    .map(|(sku, location, figures)| (sku.to_string(), location.to_string(), figures))
    .collect();
    assert_eq!(actual, expected);

    // The integration role reads positions too, filtered by item and location.
    let filtered = app
        .get(
            &tenant.integration,
            "/v1/inventory?item=MUG&location=FC-WEST",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["data"][0]["available"], 7);

    // Money, account by account (debit positive):
    // cash: −94.00 (PAY-1) + 102.20 (P-1) + 10.00 (P-2) − 12.96 (RF-1) − 32.40 (RF-2)
    //       − 8.00 (C-2) − 20.00 (C-3) = −55.16
    // payables: −94.00 (B-1) + 94.00 (PAY-1) − 42.00 (B-2) − 6.00 (label) − 15.00 (C-1) = −63.00
    // inventory: +93.50 + 42.00 − 47.50 + 38.00 − 17.50 (S-1: 9.50 + 8.00) − 12.60 (S-2)
    //       − 3.00 (S-3) + 4.12 (RMA-1) + 9.50 (RMA-2) − 9.50 (scrap) = 97.02, which is the
    //       value on hand: 28.50 + 3.00 + 16.00 + 37.14 + 12.38 in transit.
    // revenue: −95.00 − 10.00 = −105.00; sales tax: −7.20; refunds: 12.96 + 32.40 = 45.36
    // cost of goods sold: 17.50 + 12.60 + 3.00 − 4.12 − 9.50 = 19.48
    // write-off: 9.50 (failed kit) + 9.50 (scrapped GIFT) = 19.00; price variance: 0.50
    // supply chain cost: plan 20.00, make 8.00, deliver 15.00, return 6.00
    // Receivables, work in progress and goods received not invoiced all come back to zero.
    // The sum is zero: −55.16 − 63.00 + 97.02 − 105.00 − 7.20 + 45.36 + 19.48 + 19.00 + 0.50
    //   + 49.00 = 0.
    let accounts = app
        .get(&tenant.viewer, "/v1/accounts")
        .await
        .expect(200)
        .json();
    let actual: BTreeMap<String, i64> = accounts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let name = match row["process"].as_str() {
                Some(process) => format!("{}:{process}", row["account"].as_str().unwrap()),
                None => row["account"].as_str().unwrap().to_string(),
            };
            assert_eq!(row["currency"], "USD");
            (name, row["balance_minor"].as_i64().unwrap())
        })
        .collect();
    let expected: BTreeMap<String, i64> = [
        ("cash", -5516),
        ("payables", -6300),
        ("inventory", 9702),
        ("revenue", -10500),
        ("sales_tax_payable", -720),
        ("refunds", 4536),
        ("cost_of_goods_sold", 1948),
        ("inventory_write_off", 1900),
        ("purchase_price_variance", 50),
        ("supply_chain_cost:plan", 2000),
        ("supply_chain_cost:make", 800),
        ("supply_chain_cost:deliver", 1500),
        ("supply_chain_cost:return", 600),
    ]
    .into_iter()
    .map(|(name, balance)| (name.to_string(), balance))
    .collect();
    assert_eq!(actual, expected);

    // Documents read back from the log, whether or not their writer still holds them.
    let states = [
        ("/v1/sales-orders/SO-1", "closed"),
        ("/v1/sales-orders/SO-2", "closed"),
        ("/v1/sales-orders/SO-3", "allocated"),
        ("/v1/purchase-orders/PO-1", "received"),
        ("/v1/purchase-orders/PO-3", "placed"),
        ("/v1/work-orders/WO-1", "completed"),
        ("/v1/returns/RMA-1", "refunded"),
        ("/v1/returns/RMA-2", "refunded"),
        ("/v1/transfers/T-1", "received"),
        ("/v1/transfers/T-2", "shipped"),
    ];
    for (path, state) in states {
        let document = app.get(&tenant.viewer, path).await.expect(200).json();
        assert_eq!(document["state"], state, "{path}");
    }
    // SO-1's own history: placed, allocated, 2 × (picked, packed, shipped), 2 delivered,
    // invoiced, paid, and the two returns authorised against it = 14 events.
    let history = app
        .get(&tenant.viewer, "/v1/sales-orders/SO-1/events")
        .await
        .expect(200)
        .json();
    let types: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 14, "{types:?}");
    assert_eq!(types.first(), Some(&"SalesOrderPlaced"));

    // The tenant's whole feed is gapless from 1 to the head.
    let head = app.head(&tenant.id);
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .get(
                &tenant.integration,
                &format!("/v1/events?after={after}&limit=50"),
            )
            .await
            .expect(200)
            .json();
        for event in page["data"].as_array().unwrap() {
            seen.push(event["seq"].as_u64().unwrap());
        }
        after = page["next_after"].as_u64().unwrap();
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());

    // `flowline check`: the balances recomputed from the log equal the stored ones.
    check_is_clean(&app.db);
    app.finish().await;
}
