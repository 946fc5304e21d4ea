//! A canonical encoding of a [`State`]: every map sorted by key, so two states are equal exactly
//! when their encodings are byte-for-byte equal. Replaying a log must reproduce the encoding of
//! the state that was built incrementally.

use crate::state::State;
use serde::Serialize;
use std::collections::BTreeMap;

fn sorted<K: Ord + ToString, V: Serialize>(
    map: impl Iterator<Item = (K, V)>,
) -> BTreeMap<String, serde_json::Value> {
    map.map(|(key, value)| {
        (
            key.to_string(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        )
    })
    .collect()
}

/// The canonical JSON encoding of a state.
pub fn canonical(state: &State) -> String {
    let mut out: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    let mut put = |name: &'static str, value: BTreeMap<String, serde_json::Value>| {
        out.insert(
            name,
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
    };
    put(
        "settings",
        sorted(state.settings.iter().map(|s| ("tenant", s))),
    );
    put("items", sorted(state.items.iter()));
    put("locations", sorted(state.locations.iter()));
    put("suppliers", sorted(state.suppliers.iter()));
    put("carriers", sorted(state.carriers.iter()));
    put("return_policies", sorted(state.return_policies.iter()));
    put(
        "inventory_policies",
        sorted(state.inventory_policies.iter()),
    );
    put("sales_orders", sorted(state.sales_orders.iter()));
    put("purchase_orders", sorted(state.purchase_orders.iter()));
    put("work_orders", sorted(state.work_orders.iter()));
    put("returns", sorted(state.returns.iter()));
    put("transfers", sorted(state.transfers.iter()));
    put("counts", sorted(state.counts.iter().map(|id| (id, true))));
    put(
        "adjustments",
        sorted(state.adjustments.iter().map(|id| (id, true))),
    );
    put("costs", sorted(state.costs.iter()));
    put("fixed_assets", sorted(state.fixed_assets.iter()));
    put("targets", sorted(state.targets.iter()));
    put("initiatives", sorted(state.initiatives.iter()));
    put(
        "stock",
        sorted(
            state
                .stock
                .iter()
                .map(|((sku, location), balance)| (format!("{sku}@{location}"), balance)),
        ),
    );
    put(
        "money",
        sorted(
            state
                .money
                .iter()
                .map(|((account, currency), amount)| (format!("{account}/{currency}"), amount)),
        ),
    );
    serde_json::to_string(&out).unwrap_or_default()
}
