//! Plan: the inventory policies set by hand, on the `/plan` page. A table lists every item's
//! policy (for every center, or for one) with a form that clears it, and a form sets one: the
//! same `SetInventoryPolicy` and `ClearInventoryPolicy` commands as `PUT /v1/items/{sku}/policy`
//! and its clearances, read by the same serde definitions, for operators, each rendering with
//! its own idempotency key. The service level is typed in percent, as on the planner's form.

use super::plans::{Fields, command, field, invalid, parse_milli};
use super::replenishment::{PATH, decide};
use super::session::{Viewer, percent_encode};
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;
use crate::render::Collection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::Response;
use flowline_core::Command;
use flowline_core::master::InventoryPolicy;
use flowline_core::state::{ClearInventoryPolicy, SetInventoryPolicy};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

/// A percentage with at most one decimal as thousandths of a share: `98` is 980, `97.5` 975.
fn percent_as_milli(name: &str, text: &str) -> Result<i64, ApiError> {
    let hundred_thousandths = parse_milli(text).map_err(|reason| invalid(name, reason))?;
    if hundred_thousandths % 100 != 0 {
        return Err(invalid(
            name,
            format!("{text} %: at most one decimal (0.1 % steps), e.g. 97.5"),
        ));
    }
    Ok(hundred_thousandths / 100)
}

/// A whole number of the form, when given.
fn whole(fields: &Fields, name: &str) -> Result<Option<i64>, ApiError> {
    field(fields, name)
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| invalid(name, format!("`{text}` is not a whole number")))
        })
        .transpose()
}

/// The `SetInventoryPolicy` body of the form.
fn policy_body(fields: &Fields) -> Result<Value, ApiError> {
    let mut body = Map::new();
    let sku = field(fields, "sku").ok_or_else(|| invalid("sku", "name the item"))?;
    body.insert("sku".into(), json!(sku));
    if let Some(location) = field(fields, "location") {
        body.insert("location".into(), json!(location));
    }
    if let Some(level) = field(fields, "service_level") {
        body.insert(
            "service_level_milli".into(),
            json!(percent_as_milli("service_level", level)?),
        );
        if field(fields, "fill_rate").is_some() {
            body.insert("fill_rate".into(), json!(true));
        }
    }
    for (form_name, body_name) in [
        ("review_days", "review_period_days"),
        ("moq", "minimum_order_quantity"),
        ("case_pack", "case_pack"),
    ] {
        if let Some(value) = whole(fields, form_name)? {
            body.insert(body_name.into(), json!(value));
        }
    }
    match field(fields, "replenish") {
        None => {}
        Some("yes") => {
            body.insert("replenish".into(), json!(true));
        }
        Some("no") => {
            body.insert("replenish".into(), json!(false));
        }
        Some(other) => return Err(invalid("replenish", format!("`{other}`: choose yes or no"))),
    }
    if let Some(note) = field(fields, "note") {
        body.insert("note".into(), json!(note));
    }
    Ok(Value::Object(body))
}

/// `POST /plan/policies`: sets an item's inventory policy (operator).
pub async fn set(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    decide(app, viewer, form, |fields| {
        let command: SetInventoryPolicy = command(policy_body(fields)?)?;
        let done = format!("policy_set={}", percent_encode(command.sku.as_str()));
        Ok((Command::SetInventoryPolicy(command), done))
    })
    .await
}

/// `POST /plan/policies/clearances`: clears an item's policy at a center, or for every center
/// (operator).
pub async fn clear(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    decide(app, viewer, form, |fields| {
        let sku = field(fields, "sku").ok_or_else(|| invalid("sku", "name the item"))?;
        let mut body = json!({ "sku": sku });
        if let Some(location) = field(fields, "location") {
            body["location"] = json!(location);
        }
        let command: ClearInventoryPolicy = command(body)?;
        let done = format!("policy_cleared={}", percent_encode(command.sku.as_str()));
        Ok((Command::ClearInventoryPolicy(command), done))
    })
    .await
}

/// A policy's figures in words: `98 % cycle service level; review every 7 days; cases of 12`.
pub(super) fn figures(policy: &InventoryPolicy) -> String {
    let mut parts = Vec::new();
    if let Some(level) = policy.service_level_milli {
        let kind = if policy.fill_rate {
            "fill rate"
        } else {
            "cycle service level"
        };
        parts.push(format!(
            "{} % {kind}",
            super::format::decimal_places(level as f64 / 10.0, 1)
        ));
    }
    if let Some(days) = policy.review_period_days {
        parts.push(format!("review every {days} days"));
    }
    if let Some(moq) = policy.minimum_order_quantity {
        parts.push(format!("at least {moq} a line"));
    }
    if let Some(pack) = policy.case_pack {
        parts.push(format!("cases of {pack}"));
    }
    match policy.replenish {
        Some(false) => parts.push("not replenished".into()),
        Some(true) => parts.push("replenished".into()),
        None => {}
    }
    parts.join("; ")
}

/// The section: the policies set, each with a form that clears it, and the form that sets one.
/// `tokens` holds the set form's idempotency key, then one per policy listed.
pub(super) fn section(
    policies: &[InventoryPolicy],
    centers: &[(String, String)],
    viewer: &Viewer,
    fields: &Fields,
    tokens: &[String],
) -> Markup {
    let token = |index: usize| tokens.get(index).map_or("", String::as_str);
    let value = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let operate = viewer.may(Access::Operate);
    html! {
        p class="lead" { "What a planner has set for an item instead of the planner's settings: its service level, review period, minimum order quantity, case pack, or no more replenishment — for every center, or for one (a center's policy takes what it leaves out from the item's). The safety stock and quantities are still worked out from these, so every proposal still explains itself. " a href="/v1/plan/policy" { "The policy in force at every item and center" } " (JSON)." }
        @if policies.is_empty() {
            p { "No policy is set: the planner's settings apply to every item." }
        } @else {
            table id="policies" {
                thead { tr { th { "Item" } th { "Center" } th { "Policy" } th { "Note" } @if operate { th { "" } } } }
                tbody {
                    @for (index, policy) in policies.iter().enumerate() {
                        tr data-sku=(policy.sku.as_str()) data-location=(policy.location.as_ref().map_or("", |l| l.as_str())) {
                            td { a href=(super::documents::href(Collection::Items, policy.sku.as_str())) { (policy.sku.as_str()) } }
                            td { (policy.location.as_ref().map_or("every center", |l| l.as_str())) }
                            td class="figures" { (figures(policy)) }
                            td { (policy.note.as_deref().unwrap_or_default()) }
                            @if operate {
                                td {
                                    form method="post" action={(PATH) "/policies/clearances"} class="inline" {
                                        input type="hidden" name="csrf" value=(viewer.csrf);
                                        input type="hidden" name="idempotency" value=(token(index + 1));
                                        input type="hidden" name="sku" value=(policy.sku.as_str());
                                        @if let Some(location) = &policy.location { input type="hidden" name="location" value=(location.as_str()); }
                                        button type="submit" { "Clear" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if operate {
            form class="stack" method="post" action={(PATH) "/policies"} id="set-policy" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                input type="hidden" name="idempotency" value=(token(0));
                label { "Item (SKU)" input name="sku" value=(value("sku")) required; }
                label { "Center"
                    select name="location" {
                        option value="" { "every center" }
                        @for (id, name) in centers {
                            option value=(id) selected[value("location") == *id] { (id) @if name != id { " (" (name) ")" } }
                        }
                    }
                }
                label { "Service level, %" input name="service_level" value=(value("service_level")) inputmode="decimal"; span class="hint" { "e.g. 98; empty: the planner's" } }
                label class="check" { input type="checkbox" name="fill_rate" checked[fields.contains_key("fill_rate")]; "a fill rate (the share of demand met from stock), not a cycle service level" }
                label { "Review every, days" input name="review_days" value=(value("review_days")) inputmode="numeric"; }
                label { "Minimum order quantity" input name="moq" value=(value("moq")) inputmode="numeric"; }
                label { "Case pack, units" input name="case_pack" value=(value("case_pack")) inputmode="numeric"; }
                label { "Replenish"
                    select name="replenish" {
                        option value="" { "as the planner decides" }
                        option value="no" selected[value("replenish") == "no"] { "no: stop ordering it" }
                        option value="yes" selected[value("replenish") == "yes"] { "yes" }
                    }
                }
                label { "Note" input name="note" value=(value("note")); }
                button type="submit" { "Set the policy" }
            }
        }
    }
}
