//! Checks that the JSON Schemas of commands, events and document states say what serde does.
//! Every expectation below was worked out from the serde attributes, not from the generated
//! schema, so a change to either side that makes them disagree fails here.

use crate::documents::sales_order::{LineQuantity, ShipSalesOrder, ShipmentRecord};
use crate::id::{ID_LENGTH_MAX, Sku};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The root schema of `T` as a JSON value, as the API describes a request body (what serde
/// accepts).
fn accepted<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .into_generator()
        .root_schema_for::<T>()
        .to_value()
}

/// The root schema of `T` as a JSON value, as the API describes a response body (what serde
/// produces).
fn produced<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .root_schema_for::<T>()
        .to_value()
}

/// Follows a `$ref` into the root's `$defs`; any other schema is returned as it is.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("unexpected reference {reference}"));
            &root["$defs"][name]
        }
        None => schema,
    }
}

fn names(values: &Value) -> BTreeSet<String> {
    values
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {values}"))
        .iter()
        .map(|value| value.as_str().unwrap().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema.get("required").map(names).unwrap_or_default()
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("expected properties in {schema}"))
        .keys()
        .cloned()
        .collect()
}

/// The variants of an internally or adjacently tagged enum, by the constant of their tag.
fn variants_by_tag<'a>(schema: &'a Value, tag: &str) -> Vec<(String, &'a Value)> {
    schema["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("expected oneOf in {schema}"))
        .iter()
        .map(|variant| {
            let constant = variant["properties"][tag]["const"]
                .as_str()
                .unwrap_or_else(|| panic!("variant without a `{tag}` constant: {variant}"));
            (constant.to_string(), variant)
        })
        .collect()
}

#[test]
fn ship_sales_order_denies_unknown_fields_and_requires_only_fields_without_a_default() {
    let schema = accepted::<ShipSalesOrder>();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    // `tracking` is the only `#[serde(default)]` field.
    assert_eq!(
        required(&schema),
        set(&[
            "order", "shipment", "location", "carrier", "service", "weight_g", "lines"
        ])
    );
    assert_eq!(
        property_names(&schema),
        set(&[
            "order", "shipment", "location", "carrier", "service", "tracking", "weight_g", "lines"
        ])
    );
    assert_eq!(
        schema["properties"]["tracking"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(schema["properties"]["weight_g"]["type"], "integer");
    let lines = &schema["properties"]["lines"];
    assert_eq!(lines["type"], "array");
    let line = resolve(&schema, &lines["items"]);
    assert_eq!(line["additionalProperties"], false);
    assert_eq!(required(line), set(&["line", "quantity"]));
    // The doc comments become descriptions.
    assert_eq!(schema["description"], "Hand packed units to a carrier.");
}

#[test]
fn command_is_one_of_its_variants_each_tagged_with_its_snake_case_name() {
    let schema = accepted::<crate::Command>();
    let variants = variants_by_tag(&schema, "command");
    // One variant per command, each with its own tag.
    assert_eq!(variants.len(), 63);
    let tags: BTreeSet<&str> = variants.iter().map(|(tag, _)| tag.as_str()).collect();
    assert_eq!(tags.len(), variants.len());
    for tag in [
        "configure_tenant",
        "place_sales_order",
        "ship_sales_order",
        "receive_purchase_order",
        "authorise_return",
        "dispose_fixed_asset",
        "set_target",
        "update_initiative",
        "propose_replenishment",
        "approve_proposal",
        "reject_proposal",
        "publish_forecast",
    ] {
        assert!(tags.contains(tag), "no variant tagged {tag}");
    }
    for (tag, variant) in &variants {
        assert_eq!(variant["type"], "object", "{tag}");
        assert_eq!(variant["properties"]["command"]["type"], "string", "{tag}");
        assert_eq!(variant["required"][0], "command", "{tag}");
        // Every command payload has `deny_unknown_fields`; the tag is declared beside the
        // payload's fields, so the closed object still admits it.
        assert_eq!(variant["additionalProperties"], false, "{tag}");
        // serde knows the tag: the object with the tag alone fails on a missing field (or
        // succeeds), never on an unknown variant.
        let outcome = serde_json::from_value::<crate::Command>(json!({ "command": tag }));
        if let Err(error) = outcome {
            assert!(
                !error.to_string().contains("unknown variant"),
                "{tag}: {error}"
            );
        }
    }
    let (_, ship) = variants
        .iter()
        .find(|(tag, _)| tag == "ship_sales_order")
        .unwrap();
    assert_eq!(ship["properties"]["command"]["const"], "ship_sales_order");
    assert_eq!(
        required(ship),
        set(&[
            "command", "order", "shipment", "location", "carrier", "service", "weight_g", "lines"
        ])
    );
}

#[test]
fn a_command_as_serde_writes_it_uses_only_declared_properties() {
    let command = crate::Command::ShipSalesOrder(ShipSalesOrder {
        order: "SO-1".parse().unwrap(),
        shipment: "SH-1".parse().unwrap(),
        location: "FC-EAST".parse().unwrap(),
        carrier: "UPS".parse().unwrap(),
        service: "ground".parse().unwrap(),
        tracking: None,
        weight_g: 500,
        lines: vec![LineQuantity {
            line: 0,
            quantity: 2,
        }],
    });
    let written = serde_json::to_value(&command).unwrap();
    let keys: BTreeSet<String> = written.as_object().unwrap().keys().cloned().collect();
    let schema = produced::<crate::Command>();
    let (_, variant) = variants_by_tag(&schema, "command")
        .into_iter()
        .find(|(tag, _)| *tag == written["command"])
        .unwrap();
    assert!(keys.is_subset(&property_names(variant)), "{keys:?}");
    assert!(required(variant).is_subset(&keys), "{keys:?}");
}

#[test]
fn id_fields_refer_to_a_named_schema_that_bounds_length_and_characters() {
    let schema = accepted::<ShipSalesOrder>();
    let order = &schema["properties"]["order"];
    assert_eq!(order["$ref"], "#/$defs/SalesOrderId");
    let id = resolve(&schema, order);
    assert_eq!(id["type"], "string");
    assert_eq!(id["minLength"], 1);
    assert_eq!(id["maxLength"], 64);
    assert_eq!(id["maxLength"], ID_LENGTH_MAX);
    assert_eq!(id["pattern"], "^[A-Za-z0-9][A-Za-z0-9._:-]*$");
    assert!(
        id["description"]
            .as_str()
            .unwrap()
            .contains("(sales order id)"),
        "{id}"
    );
    // Each kind of id is its own component, all in the same format.
    for (field, name, kind) in [
        ("shipment", "ShipmentId", "(shipment id)"),
        ("location", "LocationId", "(location id)"),
        ("carrier", "CarrierId", "(carrier id)"),
        ("service", "ServiceCode", "(service code)"),
    ] {
        let reference = &schema["properties"][field];
        assert_eq!(reference["$ref"], format!("#/$defs/{name}"));
        let other = resolve(&schema, reference);
        assert_eq!(other["pattern"], id["pattern"], "{name}");
        assert_eq!(other["maxLength"], 64, "{name}");
        assert!(
            other["description"].as_str().unwrap().contains(kind),
            "{name}"
        );
    }
}

/// The characters a bracket class admits (`A-Za-z0-9._:-`), reading ranges (`A-Z`) and single
/// characters; a `-` at the end of the class stands for itself.
fn admitted_by_class(class: &str) -> BTreeSet<char> {
    let class: Vec<char> = class.chars().collect();
    let mut admitted = BTreeSet::new();
    let mut index = 0;
    while index < class.len() {
        if index + 2 < class.len() && class[index + 1] == '-' {
            admitted.extend(class[index]..=class[index + 2]);
            index += 3;
        } else {
            admitted.insert(class[index]);
            index += 1;
        }
    }
    admitted
}

#[test]
fn the_id_pattern_admits_exactly_the_characters_parsing_accepts() {
    // The pattern reads `^[first][rest]*$`: a one-character id must be in the first class, and
    // a character after `a` in the second.
    let schema = accepted::<Sku>();
    let pattern = schema["pattern"].as_str().unwrap();
    let (first, rest) = pattern
        .strip_prefix("^[")
        .and_then(|tail| tail.strip_suffix("]*$"))
        .and_then(|classes| classes.split_once("]["))
        .unwrap_or_else(|| panic!("unexpected pattern {pattern}"));
    let (first, rest) = (admitted_by_class(first), admitted_by_class(rest));
    for character in (0..=0x2FF_u32).filter_map(char::from_u32) {
        assert_eq!(
            first.contains(&character),
            Sku::parse(&character.to_string()).is_ok(),
            "{character:?} first"
        );
        assert_eq!(
            rest.contains(&character),
            Sku::parse(&format!("a{character}")).is_ok(),
            "{character:?} after a letter"
        );
    }
}

#[test]
fn currency_is_one_of_the_iso_4217_codes_parse_accepts() {
    let schema = accepted::<crate::money::Money>();
    assert_eq!(required(&schema), set(&["amount_minor", "currency"]));
    let currency = resolve(&schema, &schema["properties"]["currency"]);
    assert_eq!(currency["type"], "string");
    let codes: Vec<&str> = currency["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    // Every listed code parses, and a sample of real, unreal and minor-unit-less codes is
    // listed exactly when it parses.
    for code in &codes {
        assert!(crate::money::Currency::parse(code).is_ok(), "{code}");
    }
    for code in [
        "USD", "EUR", "JPY", "BHD", "BRL", "XYZ", "XAU", "XTS", "usd", "AAA",
    ] {
        assert_eq!(
            codes.contains(&code),
            crate::money::Currency::parse(code).is_ok(),
            "{code}"
        );
    }
    // ISO 4217 lists about 180 codes; those without a minor unit (metals, SDR, tests) are out.
    assert!((140..=180).contains(&codes.len()), "{}", codes.len());
    assert_eq!(crate::money::Currency::schema_name(), "Currency");
}

#[test]
fn time_zone_name_is_a_non_empty_described_string() {
    let schema = accepted::<crate::master::Address>();
    let zone = resolve(&schema, &schema["properties"]["time_zone"]);
    assert_eq!(zone["type"], "string");
    assert_eq!(zone["minLength"], 1);
    assert_eq!(
        zone["description"],
        "IANA time zone name, e.g. America/New_York"
    );
    // Only the country and the zone lack `#[serde(default)]`.
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(required(&schema), set(&["country", "time_zone"]));
}

#[test]
fn coordinates_are_optional_and_their_schema_states_the_ranges_validation_enforces() {
    let address = accepted::<crate::master::Address>();
    assert!(!required(&address).contains("coordinates"));
    let coordinates = accepted::<crate::master::Coordinates>();
    assert_eq!(
        required(&coordinates),
        set(&["latitude_microdegrees", "longitude_microdegrees"])
    );
    assert_eq!(coordinates["additionalProperties"], false);
    // ±90° and ±180°, as `Coordinates::validate` refuses past them.
    let latitude = &coordinates["properties"]["latitude_microdegrees"];
    assert_eq!(latitude["minimum"], -90_000_000);
    assert_eq!(latitude["maximum"], 90_000_000);
    let longitude = &coordinates["properties"]["longitude_microdegrees"];
    assert_eq!(longitude["minimum"], -180_000_000);
    assert_eq!(longitude["maximum"], 180_000_000);
}

#[test]
fn fields_with_serde_defaults_are_optional_and_show_their_default() {
    let item = accepted::<crate::state::DefineItem>();
    assert_eq!(required(&item), set(&["sku", "name", "unit_cost", "price"]));
    assert_eq!(item["properties"]["unit"]["default"], "each");
    assert_eq!(item["properties"]["weight_g"]["default"], 0);

    let supplier = accepted::<crate::state::DefineSupplier>();
    assert_eq!(
        required(&supplier),
        set(&["supplier", "name", "currency", "lead_time_days", "country"])
    );
    assert_eq!(
        supplier["properties"]["minimum_order_quantity"]["default"],
        1
    );
    assert_eq!(supplier["properties"]["payment_terms_days"]["default"], 0);
}

#[test]
fn option_fields_without_a_default_are_required_only_in_what_serde_writes() {
    // serde reads a missing `Option` field as `None` even without `#[serde(default)]`, and
    // always writes it (as `null` when empty).
    let record: ShipmentRecord =
        serde_json::from_value(json!({ "id": "SH-1", "location": "FC-EAST", "lines": [] }))
            .unwrap();
    assert_eq!(record.delivered_at, None);
    let written = serde_json::to_value(&record).unwrap();
    assert_eq!(written["delivered_at"], Value::Null);
    assert_eq!(written["shipped_at"], Value::Null);

    assert_eq!(
        required(&accepted::<ShipmentRecord>()),
        set(&["id", "location", "lines"])
    );
    assert_eq!(
        required(&produced::<ShipmentRecord>()),
        set(&["id", "location", "lines", "shipped_at", "delivered_at"])
    );
}

#[test]
fn effects_lists_may_be_left_out_in_both_directions() {
    // Every field of `Effects` has `default` and `skip_serializing_if`.
    for schema in [
        accepted::<crate::effects::Effects>(),
        produced::<crate::effects::Effects>(),
    ] {
        assert_eq!(required(&schema), set(&[]));
        assert_eq!(
            property_names(&schema),
            set(&["moves", "reservations", "journal"])
        );
    }
}

#[test]
fn events_are_any_of_the_document_event_unions_tagged_by_type() {
    let schema = produced::<crate::Event>();
    // `Event` is untagged: its schema is the union of the document event enums.
    let unions = schema["anyOf"].as_array().unwrap();
    assert_eq!(unions.len(), 12);
    let mut types = BTreeSet::new();
    for union in unions {
        let events = resolve(&schema, union);
        for (tag, variant) in variants_by_tag(events, "type") {
            assert_eq!(variant["required"][0], "type", "{tag}");
            assert!(types.insert(tag.clone()), "{tag} appears twice");
        }
    }
    // Eight master data events and 57 document events.
    assert_eq!(types.len(), 65);
    for tag in [
        "TenantConfigured",
        "SalesOrderPlaced",
        "SalesOrderShipped",
        "ShipmentDelivered",
        "PurchaseOrderReceived",
        "ReturnAuthorised",
        "TransferShipped",
        "StockAdjusted",
        "FixedAssetDisposed",
        "TargetSet",
        "InitiativeUpdated",
        "ReplenishmentProposed",
        "ProposalApproved",
        "ProposalRejected",
        "ForecastPublished",
        "PromotionPlanned",
        "PromotionCancelled",
    ] {
        assert!(types.contains(tag), "no event typed {tag}");
    }
}

#[test]
fn the_registrys_names_are_the_tags_serde_writes_for_events_and_commands() {
    // Events: the `type` tags of the schema serde's attributes produce, against the names the
    // log stores (63: six master data events and 57 document events).
    let schema = produced::<crate::Event>();
    let mut tags = BTreeSet::new();
    for union in schema["anyOf"].as_array().unwrap() {
        for (tag, _) in variants_by_tag(resolve(&schema, union), "type") {
            tags.insert(tag);
        }
    }
    let stored: BTreeSet<String> = crate::Event::type_names().map(str::to_string).collect();
    assert_eq!(crate::Event::type_names().count(), 65, "one name per event");
    assert_eq!(stored, tags);
    // Commands: each name in snake case is its `command` tag, written out by hand for one:
    // PlaceSalesOrder -> place_sales_order.
    let snake = |name: &str| {
        let mut out = String::new();
        for (index, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && index > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    assert_eq!(snake("PlaceSalesOrder"), "place_sales_order");
    let command_schema = accepted::<crate::Command>();
    let commands = variants_by_tag(&command_schema, "command")
        .into_iter()
        .map(|(tag, _)| tag)
        .collect::<BTreeSet<String>>();
    let named: BTreeSet<String> = crate::Command::NAMES.iter().map(|n| snake(n)).collect();
    assert_eq!(crate::Command::NAMES.len(), 63);
    assert_eq!(named, commands);
}

#[test]
fn accounts_are_adjacently_tagged_with_the_process_as_content() {
    let schema = produced::<crate::ledger::Posting>();
    let account = resolve(&schema, &schema["properties"]["account"]);
    let variants = variants_by_tag(account, "account");
    assert_eq!(variants.len(), 19);
    for (tag, variant) in variants {
        if tag == "supply_chain_cost" {
            assert_eq!(required(variant), set(&["account", "process"]));
            // A unit-only enum whose variants have doc comments is a `oneOf` of string
            // constants, so each constant keeps its description.
            let process = resolve(&schema, &variant["properties"]["process"]);
            let processes: Vec<&Value> = process["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .map(|choice| &choice["const"])
                .collect();
            assert_eq!(
                processes,
                ["plan", "source", "make", "deliver", "return", "enable"]
            );
        } else {
            assert_eq!(required(variant), set(&["account"]), "{tag}");
        }
    }
}

#[test]
fn a_promise_window_is_a_pair_of_instants() {
    let schema = accepted::<crate::documents::sales_order::Promise>();
    let window = &schema["properties"]["window"];
    assert_eq!(window["type"], json!(["array", "null"]));
    assert_eq!(window["minItems"], 2);
    assert_eq!(window["maxItems"], 2);
    for instant in window["prefixItems"].as_array().unwrap() {
        assert_eq!(*instant, json!({ "type": "string", "format": "date-time" }));
    }
    assert_eq!(schema["properties"]["deliver_by"]["format"], "date");
    assert_eq!(required(&schema), set(&["source"]));
}

#[test]
fn a_position_lists_every_figure_it_writes() {
    let schema = produced::<crate::views::Position>();
    assert_eq!(
        required(&schema),
        set(&[
            "sku",
            "location",
            "on_hand",
            "reserved",
            "available",
            "in_transit",
            "on_order",
            "value_minor"
        ])
    );
}
