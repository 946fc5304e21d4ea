//! Money in the API: only ISO 4217 currencies with a minor unit are accepted, and a refusal
//! names the field and the value and appends nothing.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn a_made_up_or_lower_case_currency_is_refused_naming_field_and_value() {
    let app = spawn_app().await;
    let acme = app.tenant("acme", None).await;
    // Each body is wrong only in its currency. `XYZ` is no ISO 4217 code, `usd` is USD in the
    // wrong case, `XAU` (gold) has no minor unit, `US$` is not a code at all.
    for (code, reason) in [
        (
            "XYZ",
            "currency `XYZ` is not an ISO 4217 currency code (e.g. USD, EUR, JPY)",
        ),
        ("usd", "currency `usd` must be written in upper case: `USD`"),
        ("XAU", "has no minor unit in ISO 4217"),
        ("US$", "currency `US$` is not an ISO 4217 currency code"),
    ] {
        let body = json!({ "base_currency": code, "reporting_time_zone": "UTC" });
        let refused = app
            .put(&acme.admin, "/v1/settings", &body)
            .await
            .expect(400);
        let problem = refused.json();
        assert_eq!(problem["code"], "invalid_body");
        assert_eq!(problem["details"]["field"], "base_currency");
        assert!(
            problem["details"]["reason"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{problem}"
        );
    }
    assert_eq!(app.head(&acme.id), 0, "nothing appended");
    // The real codes pass, whatever their number of decimals: JPY (0), BHD (3).
    let body = json!({ "base_currency": "BHD", "reporting_time_zone": "Asia/Bahrain" });
    app.put(&acme.admin, "/v1/settings", &body)
        .await
        .expect(201);
    let supplier = json!({ "name": "Acme Metals", "currency": "XYZ", "lead_time_days": 5 });
    let refused = app
        .put(&acme.admin, "/v1/suppliers/METALS", &supplier)
        .await
        .expect(400);
    assert_eq!(refused.json()["details"]["field"], "currency");
    assert_eq!(app.head(&acme.id), 1, "only the settings were appended");
    app.finish().await;
}
