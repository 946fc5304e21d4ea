//! The OpenAPI 3.1 document, generated from the operation table and the domain types.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what `schemars` generates from the
//! domain's serde types, so request bodies are described by the very types that parse them
//! (`deny_unknown_fields` becomes `additionalProperties: false`). A command's body is its
//! command type less the fields its path gives, plus `occurred_at`.

use crate::body::OCCURRED_AT;
use crate::error::Problem;
use crate::render::Collection;
use crate::routes::{Operation, QueryType, Success};
use flowline_core::documents::{
    finance, forecast, improvement, inventory, promotion, purchase_order, replenishment,
    return_auth, sales_order, transfer, work_order,
};
use flowline_core::master::{Carrier, Item, Location, ReturnPolicy, Supplier, TenantSettings};
use flowline_core::views::Position;
use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// Where the named schemas live, as a `$ref` prefix.
const COMPONENTS: &str = "#/components/schemas/";

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .with_transform(BoundIntegers)
        .into_generator()
}

/// The range of a JSON Schema integer `format`, as schemars names Rust's integer types.
fn format_range(format: &str) -> Option<(Value, Value)> {
    Some(match format {
        "int8" => (json!(i8::MIN), json!(i8::MAX)),
        "int16" => (json!(i16::MIN), json!(i16::MAX)),
        "int32" => (json!(i32::MIN), json!(i32::MAX)),
        "int64" | "int" => (json!(i64::MIN), json!(i64::MAX)),
        "uint8" => (json!(0), json!(u8::MAX)),
        "uint16" => (json!(0), json!(u16::MAX)),
        "uint32" => (json!(0), json!(u32::MAX)),
        "uint64" | "uint" => (json!(0), json!(u64::MAX)),
        _ => return None,
    })
}

/// Gives every integer schema with a known `format` the `minimum` and `maximum` of its Rust
/// type. `format` is only an annotation in JSON Schema 2020-12: without the bounds, a client
/// (or a generator of test data) may send 2^70 for an `i64` field, which the server can only
/// refuse. Bounds already stated (a narrower domain range) are kept.
#[derive(Debug, Clone, Copy)]
struct BoundIntegers;

impl Transform for BoundIntegers {
    fn transform(&mut self, schema: &mut schemars::Schema) {
        if let Some(object) = schema.as_object_mut() {
            bound_integer(object);
        }
        transform_subschemas(self, schema);
    }
}

fn is_integer(object: &Map<String, Value>) -> bool {
    match object.get("type") {
        Some(Value::String(name)) => name == "integer",
        Some(Value::Array(names)) => names.iter().any(|name| name == "integer"),
        _ => false,
    }
}

fn bound_integer(object: &mut Map<String, Value>) {
    if !is_integer(object) {
        return;
    }
    let Some((minimum, maximum)) = object
        .get("format")
        .and_then(Value::as_str)
        .and_then(format_range)
    else {
        return;
    };
    object.entry("minimum").or_insert(minimum);
    object.entry("maximum").or_insert(maximum);
}

/// A signed 64-bit integer schema (`format: int64` with its bounds).
fn int64() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
}

/// An unsigned 64-bit integer schema (`format: uint64` with its bounds).
fn uint64() -> Value {
    json!({ "type": "integer", "format": "uint64", "minimum": 0, "maximum": u64::MAX })
}

/// A sequence number of the tenant's log: 1 and up, stored as a signed 64-bit integer.
fn sequence_number() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX })
}

/// An exact 128-bit integer of a ratio: a JSON number while it fits in an `i64`, else its
/// decimal digits as a string (19 to 39 of them, with the sign), as
/// `flowline_metrics::value::Ratio` serializes it. JSON parsers commonly read numbers as 64-bit
/// integers or doubles, so wider ones travel as text rather than lose digits.
fn wide_integer(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            int64(),
            { "type": "string", "pattern": "^-?[0-9]{19,39}$" }
        ]
    })
}

fn reference<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// The schema of one record of a collection (a `$ref` to the domain type) with the fields the
/// API adds.
fn record(generator: &mut SchemaGenerator, collection: Collection) -> Value {
    let (domain, has_state) = match collection {
        Collection::Items => (reference::<Item>(generator), false),
        Collection::Locations => (reference::<Location>(generator), false),
        Collection::Suppliers => (reference::<Supplier>(generator), false),
        Collection::Carriers => (reference::<Carrier>(generator), false),
        Collection::ReturnPolicies => (reference::<ReturnPolicy>(generator), false),
        Collection::SalesOrders => (reference::<sales_order::SalesOrder>(generator), true),
        Collection::PurchaseOrders => (reference::<purchase_order::PurchaseOrder>(generator), true),
        Collection::WorkOrders => (reference::<work_order::WorkOrder>(generator), true),
        Collection::Returns => (reference::<return_auth::Return>(generator), true),
        Collection::Transfers => (reference::<transfer::Transfer>(generator), true),
        Collection::Counts => (
            event_record::<inventory::InventoryEvent>(generator, "CountRecorded"),
            true,
        ),
        Collection::Adjustments => (
            event_record::<inventory::InventoryEvent>(generator, "StockAdjusted"),
            true,
        ),
        Collection::Forecasts => (
            event_record::<forecast::ForecastEvent>(generator, "ForecastPublished"),
            true,
        ),
        Collection::Promotions => (reference::<promotion::Promotion>(generator), true),
        Collection::Costs => (reference::<finance::CostRecord>(generator), false),
        Collection::FixedAssets => (reference::<finance::FixedAsset>(generator), true),
        Collection::Targets => (reference::<improvement::Target>(generator), true),
        Collection::Initiatives => (reference::<improvement::Initiative>(generator), true),
        Collection::Proposals => (reference::<replenishment::Proposal>(generator), true),
    };
    let mut shaped = shaped(domain, collection.kind().as_str(), has_state);
    shaped["allOf"][1]["properties"]["id"] = json!({
        "type": "string",
        "description": "The record's id: every document names itself `id` (an item's is also its `sku`)."
    });
    if let Some(required) = shaped["allOf"][1]["required"].as_array_mut() {
        required.push(json!("id"));
    }
    shaped
}

/// A count or an adjustment keeps no state beyond its one event, and is shown as that event
/// without its `type` tag (the record's `object` says what it is) and with its `id`: the
/// schema of the event's own variant of `InventoryEvent`, less `type`, plus `id`. The whole
/// `InventoryEvent` would not do: each of its `oneOf` branches requires the `type` the record
/// does not have, so no record could ever match it.
fn event_record<E: JsonSchema>(generator: &mut SchemaGenerator, variant: &str) -> Value {
    let reference = reference::<E>(generator);
    let name = reference
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix(COMPONENTS))
        .unwrap_or_default();
    let branch = generator
        .definitions()
        .get(name)
        .and_then(|schema| schema.get("oneOf"))
        .and_then(Value::as_array)
        .and_then(|branches| {
            branches
                .iter()
                .find(|branch| branch["properties"]["type"]["const"] == variant)
        })
        .cloned();
    let Some(mut branch) = branch else {
        // The variant is named by this module; a rename in the core type shows up here and in
        // the contract tests, which check records against the document.
        return json!({ "type": "object" });
    };
    if let Some(properties) = branch.get_mut("properties").and_then(Value::as_object_mut) {
        properties.remove("type");
        properties.insert(
            "id".to_string(),
            json!({ "type": "string", "description": "The count's or adjustment's id." }),
        );
    }
    if let Some(required) = branch.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|field| field != "type");
        required.push(json!("id"));
    }
    // Copied out of the definitions before the generator's transforms run on them.
    match schemars::Schema::try_from(branch) {
        Ok(mut schema) => {
            BoundIntegers.transform(&mut schema);
            schema.to_value()
        }
        Err(_) => json!({ "type": "object" }),
    }
}

fn shaped(domain: Value, object: &str, has_state: bool) -> Value {
    let mut properties = json!({ "object": { "const": object } });
    let mut required = vec!["object"];
    if has_state {
        properties["state"] = json!({
            "type": "string",
            "description": "The life-cycle state, derived from the document's quantities."
        });
        required.push("state");
    }
    json!({
        "allOf": [
            domain,
            { "type": "object", "properties": properties, "required": required }
        ]
    })
}

/// A list: one page with its cursor (`next_after`, of this schema) or, with no cursor, the
/// whole list at once.
fn list_of(item: Value, cursor: Option<Value>) -> Value {
    let mut list = json!({
        "type": "object",
        "properties": {
            "object": { "const": "list" },
            "data": { "type": "array", "items": item },
            "has_more": { "type": "boolean" }
        },
        "required": ["object", "data", "has_more"]
    });
    if let Some(cursor) = cursor {
        list["properties"]["next_after"] = cursor;
    }
    list
}

/// A list of records: [`list_of`] with both cursors.
fn record_list(item: Value) -> Value {
    let mut list = list_of(item, Some(record_cursor()));
    list["properties"]["next_cursor"] = json!({
        "type": ["string", "null"],
        "description": "Pass as `cursor` (with the same sort and filters) for the next page; \
                        null on the last page."
    });
    list
}

/// The cursor of a list of records: the last id of a full page, null on the last page.
fn record_cursor() -> Value {
    json!({
        "type": ["string", "null"],
        "description": "In id order, pass as `after` to get the next page; null on the last \
                        page and in other sorts."
    })
}

fn event() -> Value {
    json!({
        "type": "object",
        "description": "One recorded fact of the tenant's log.",
        "properties": {
            "seq": described(sequence_number(), "The tenant's sequence number: 1, 2, 3, ... without gaps."),
            "stream": { "type": "string", "description": "The document the event belongs to, `kind/id`." },
            "stream_version": described(sequence_number(), "The event's position in its stream: 1, 2, 3, ..."),
            "type": { "type": "string", "description": "The event type, e.g. `SalesOrderShipped`." },
            "schema_version": { "type": "integer", "format": "uint32", "minimum": 1, "maximum": u32::MAX },
            "business_time": { "type": "string", "format": "date-time" },
            "recorded_at": { "type": "string", "format": "date-time" },
            "payload": { "type": "object", "description": "The event, with its ledger effects." }
        },
        "required": ["seq", "stream", "stream_version", "type", "schema_version", "business_time", "recorded_at", "payload"]
    })
}

/// `schema` with a description.
fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = json!(description);
    schema
}

/// `GET /v1/<collection>/{id}/events`: the document's whole history at once.
pub fn event_list(_: &mut SchemaGenerator) -> Value {
    list_of(event(), None)
}

/// `GET /v1/events`.
pub fn event_page(_: &mut SchemaGenerator) -> Value {
    let mut cursor = sequence_number();
    cursor["minimum"] = json!(0);
    let mut page = list_of(
        event(),
        Some(described(
            cursor,
            "The last sequence number returned (or `after` if none): pass it as `after`.",
        )),
    );
    page["required"] = json!(["object", "data", "has_more", "next_after"]);
    page
}

/// `GET /v1/settings`.
pub fn settings_schema(generator: &mut SchemaGenerator) -> Value {
    shaped(reference::<TenantSettings>(generator), "settings", false)
}

/// `GET /v1/inventory`.
pub fn inventory_schema(generator: &mut SchemaGenerator) -> Value {
    list_of(reference::<Position>(generator), None)
}

/// `GET /v1/accounts`.
pub fn accounts_schema(_: &mut SchemaGenerator) -> Value {
    list_of(
        json!({
            "type": "object",
            "properties": {
                "account": { "type": "string", "description": "The account, e.g. `cash`, `inventory`, `supply_chain_cost`." },
                "process": { "type": ["string", "null"], "description": "The SCOR process of a supply chain cost account." },
                "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
                "balance_minor": described(int64(), "Debit positive, credit negative, in minor units.")
            },
            "required": ["account", "process", "currency", "balance_minor"]
        }),
        None,
    )
}

/// `GET /v1/me`.
pub fn me_schema(_: &mut SchemaGenerator) -> Value {
    json!({
        "type": "object",
        "properties": {
            "tenant": { "type": "string" },
            "role": { "enum": ["admin", "operator", "viewer", "integration"] },
            "key_id": { "type": "string" }
        },
        "required": ["tenant", "role", "key_id"]
    })
}

fn metric_value() -> Value {
    json!({
        "type": "object",
        "description": "An exact ratio with its population: `value` is `ratio` shown in `unit` (null for no data).",
        "properties": {
            "id": { "type": "string" },
            "ratio": {
                "type": "object",
                "properties": {
                    "numerator": wide_integer("The ratio's exact numerator."),
                    "denominator": wide_integer("The ratio's exact denominator.")
                },
                "required": ["numerator", "denominator"]
            },
            "unit": { "enum": ["percent", "days", "hours", "money", "number", "grams"] },
            "value": { "type": ["number", "null"] },
            "population": uint64(),
            "coverage": {
                "type": ["object", "null"],
                "properties": {
                    "judged": uint64(),
                    "candidates": uint64(),
                    "note": { "type": "string" }
                }
            },
            "provisional": { "type": "boolean" }
        },
        "required": ["id", "ratio", "unit", "value", "population", "provisional"]
    })
}

fn scorecard_object() -> Value {
    json!({
        "type": "object",
        "properties": {
            "provisional": { "type": "boolean" },
            "level1": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "value": metric_value(),
                        "level2": { "type": "array", "items": metric_value() }
                    }
                }
            },
            "signatures": { "type": "array", "items": { "type": "object" } },
            "operational": { "type": "array", "items": metric_value() }
        },
        "required": ["provisional", "level1", "signatures", "operational"]
    })
}

/// `GET /v1/scorecard`.
pub fn scorecard_schema(_: &mut SchemaGenerator) -> Value {
    json!({
        "type": "object",
        "properties": {
            "tenant": { "type": "string" },
            "reporting_time_zone": { "type": "string" },
            "currency": { "type": "string" },
            "from": { "type": "string", "format": "date" },
            "to": { "type": "string", "format": "date" },
            "emission_factors": { "type": "string" },
            "scorecard": scorecard_object(),
            "slices": { "type": "array", "items": scorecard_object() },
            "targets": {
                "type": "array",
                "description": "Active targets over the range: status met, missed or no_data; trend against the range before; the baseline value.",
                "items": { "type": "object" }
            },
            "initiatives": {
                "type": "array",
                "description": "Improvement initiatives with each metric before and during them.",
                "items": { "type": "object" }
            },
            "plan": {
                "type": ["object", "null"],
                "description": "Plan: how the published forecasts did over the range (forecast accuracy = 1 − WAPE, WAPE, bias, MASE), by week and lag, with the items of largest error first, and each center's and each channel's share of the forecast judged where it was made (by_center, by_channel, highest WAPE first); null until a forecast has been published and one of its days has passed. The same as GET /v1/plan/accuracy."
            }
        },
        "required": ["tenant", "from", "to", "scorecard", "slices"]
    })
}

/// `GET /v1/metrics/{id}`.
pub fn metric_schema(_: &mut SchemaGenerator) -> Value {
    json!({
        "type": "object",
        "properties": {
            "metric": { "type": "string" },
            "name": { "type": ["string", "null"] },
            "scor_code": { "type": ["string", "null"] },
            "from": { "type": "string", "format": "date" },
            "to": { "type": "string", "format": "date" },
            "provisional": { "type": "boolean" },
            "value": metric_value(),
            "level2": { "type": "array", "items": metric_value() },
            "signatures": { "type": "array", "items": { "type": "object" } },
            "documents": { "type": "array", "items": { "type": "object" } }
        },
        "required": ["metric", "from", "to", "value", "level2"]
    })
}

/// Any JSON object.
pub fn any_object(_: &mut SchemaGenerator) -> Value {
    json!({ "type": "object" })
}

fn command_response(generator: &mut SchemaGenerator, collection: Option<Collection>) -> Value {
    let document = match collection {
        Some(collection) => record(generator, collection),
        None => settings_schema(generator),
    };
    json!({
        "type": "object",
        "properties": {
            "document": {
                "description": "The document as it stood right after the command, as GET shows it.",
                "anyOf": [document, { "type": "null" }]
            },
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "seq": sequence_number(),
                        "stream": { "type": "string" },
                        "type": { "type": "string" }
                    },
                    "required": ["seq", "stream", "type"]
                }
            }
        },
        "required": ["document", "events"]
    })
}

/// The schema of a query parameter: integers with the range the handler accepts.
fn query_schema(json_type: QueryType) -> Value {
    match json_type {
        QueryType::String => json!({ "type": "string" }),
        QueryType::OneOf(values) => json!({ "type": "string", "enum": values }),
        QueryType::Integer { minimum, maximum } => {
            json!({ "type": "integer", "minimum": minimum, "maximum": maximum })
        }
    }
}

/// The path parameters of a path, in order: `/v1/sales-orders/{id}/shipments/{shipment}`
/// has `id` and `shipment`.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

fn problem_responses(operation: &Operation) -> Map<String, Value> {
    let mut codes = vec!["400"];
    if operation.access != crate::auth::Access::Public {
        codes.extend(["401", "403"]);
    }
    if operation.path.contains('{') || operation.body.is_some() {
        codes.push("404");
    }
    if operation.body.is_some() {
        codes.extend(["408", "409", "413", "415", "422"]);
    }
    if operation.access != crate::auth::Access::Public {
        codes.push("429");
    }
    // Any handler may run past the request timeout.
    codes.push("503");
    codes
        .into_iter()
        .map(|code| {
            (
                code.to_string(),
                json!({ "$ref": format!("#/components/responses/Problem{code}") }),
            )
        })
        .collect()
}

fn success_response(generator: &mut SchemaGenerator, success: &Success) -> Value {
    let json_body = |schema: Value| json!({ "application/json": { "schema": schema } });
    let content = match success {
        Success::Json(schema) => json_body(schema(generator)),
        Success::Document(collection) => json_body(record(generator, *collection)),
        Success::List(collection) => json_body(record_list(record(generator, *collection))),
        Success::Command(collection) => json_body(command_response(generator, *collection)),
        Success::EventStream => json!({ "text/event-stream": { "schema": sse_message() } }),
        Success::Text => json!({ "text/plain": { "schema": { "type": "string" } } }),
    };
    json!({ "description": "Success.", "content": content })
}

/// One message of the event stream. An event stream has no single JSON body: as OpenAPI 3.2's
/// `itemSchema` makes explicit (and tools read a 3.1 document's `schema` of
/// `text/event-stream` the same way), the schema describes each message, an object of the SSE
/// fields as text. `data` is JSON text holding the event exactly as `GET /v1/events` shows it;
/// keep-alive comments are not messages.
fn sse_message() -> Value {
    json!({
        "type": "object",
        "description": "One SSE message per event: `id` is its sequence number, `event` its type, `data` the event as in GET /v1/events.",
        "properties": {
            "id": { "type": "string", "pattern": "^[1-9][0-9]*$", "description": "The event's sequence number: reconnect with it as `Last-Event-ID`." },
            "event": { "type": "string", "description": "The event type, e.g. `SalesOrderShipped`." },
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": event()
            },
            "retry": { "type": "integer", "minimum": 0, "maximum": u32::MAX }
        },
        "required": ["id", "event", "data"]
    })
}

fn operation_object(
    generator: &mut SchemaGenerator,
    operation: &Operation,
    body_refs: &mut Vec<BodyReference>,
) -> Value {
    let mut parameters: Vec<Value> = path_parameters(&operation.path)
        .into_iter()
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]*$" }
            })
        })
        .collect();
    for parameter in operation.query {
        parameters.push(json!({
            "name": parameter.name,
            "in": "query",
            "required": false,
            "description": parameter.description,
            "schema": query_schema(parameter.json_type)
        }));
    }
    let mut object = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "x-flowline-access": operation.access.as_str(),
        "x-flowline-roles": operation.access.roles().iter().map(|role| role.as_str()).collect::<Vec<_>>(),
    });
    if let Some(body) = &operation.body {
        parameters.push(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Retries with the same key and body get the first response back, byte for byte, and record nothing new; the same key with another body is refused (422 idempotency_key_reused).",
            "schema": { "type": "string", "minLength": 1, "maxLength": 255 }
        }));
        let schema = (body.schema)(generator);
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix(COMPONENTS))
        {
            body_refs.push((operation.id.clone(), name.to_string(), body.path_fields));
        }
        object["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": schema } }
        });
    }
    if operation.access == crate::auth::Access::Public {
        object["security"] = json!([]);
    }
    // Documents and their events answer with an ETag and honour If-None-Match.
    let conditional = matches!(operation.success, Success::Document(_))
        || (operation.method == axum::http::Method::GET
            && operation.path.ends_with("/{id}/events"));
    if conditional {
        parameters.push(json!({
            "name": "If-None-Match",
            "in": "header",
            "required": false,
            "description": "An ETag of an earlier answer: 304 with no body if the document is unchanged.",
            "schema": { "type": "string", "maxLength": 4096 }
        }));
    }
    object["parameters"] = Value::Array(parameters);
    let mut responses = problem_responses(operation);
    let mut success = success_response(generator, &operation.success);
    if operation.status == axum::http::StatusCode::CREATED {
        success["headers"] = json!({ "Location": {
            "description": "The document created or acted on, e.g. /v1/sales-orders/SO-1.",
            "schema": { "type": "string" }
        }});
    }
    if matches!(operation.success, Success::List(_)) {
        success["headers"] = json!({ "Link": {
            "description": "The next page, when there is one: `</v1/sales-orders?sort=-created&cursor=…>; rel=\"next\"`.",
            "schema": { "type": "string" }
        }});
    }
    if conditional {
        success["headers"] = json!({ "ETag": {
            "description": "A strong tag of this answer's bytes, for If-None-Match.",
            "schema": { "type": "string" }
        }});
        responses.insert(
            "304".to_string(),
            json!({
                "description": "Not modified: the If-None-Match tag is the document's current one.",
                "headers": { "ETag": { "schema": { "type": "string" } } }
            }),
        );
    }
    if operation.method == axum::http::Method::PUT {
        // A definition answers 201 when it creates its record, 200 when it replaces it.
        let mut created = success.clone();
        created["description"] = json!("Created: the record did not exist before.");
        if operation.path.contains("{id}") {
            created["headers"] = json!({ "Location": {
                "description": "The record defined, e.g. /v1/items/MUG.",
                "schema": { "type": "string" }
            }});
        }
        success["description"] = json!("Replaced: the record existed and now reads as given.");
        responses.insert("201".to_string(), created);
    }
    responses.insert(operation.status.as_u16().to_string(), success);
    object["responses"] = Value::Object(responses);
    object
}

/// A command body's operation id, component name and path fields.
type BodyReference = (String, String, &'static [(&'static str, &'static str)]);

/// A command's component schema as the HTTP body: without the fields the path gives, with
/// `occurred_at`. Each command type is the body of exactly one operation, so the component can
/// be changed in place.
fn adapt_body(schema: &mut Value, path_fields: &[(&str, &str)]) {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (_, field) in path_fields {
            properties.remove(*field);
        }
        properties.insert(
            OCCURRED_AT.to_string(),
            json!({
                "type": "string",
                "format": "date-time",
                "description": "When this happened in the business (RFC 3339); now when absent."
            }),
        );
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|name| {
            !path_fields
                .iter()
                .any(|(_, field)| name.as_str() == Some(field))
        });
    }
}

fn problem_components(generator: &mut SchemaGenerator) -> Value {
    let problem = generator.subschema_for::<Problem>().to_value();
    let descriptions = [
        (
            "400",
            "The request is malformed: broken JSON (with line and column), a body that does not fit (with the field path), a bad query parameter or header.",
        ),
        (
            "401",
            "No API key, or one that is not valid or has been revoked.",
        ),
        ("403", "The key's role may not do this."),
        (
            "404",
            "The tenant has no such record (another tenant's records are not found either).",
        ),
        (
            "409",
            "The document's state or the stock does not allow it (illegal_transition, insufficient_stock, already_exists, ...).",
        ),
        ("408", "The body did not arrive within 30 s of the headers."),
        ("413", "The body is larger than 1 MiB."),
        ("415", "The body is not JSON."),
        (
            "422",
            "A value the domain refuses, or an idempotency key reused with another body.",
        ),
        (
            "429",
            "The key's or the tenant's request budget is spent; Retry-After says when to retry.",
        ),
        (
            "503",
            "The tenant's queue is full, the log is unavailable or the request took longer than its timeout; retry (a command with the same idempotency key).",
        ),
    ];
    let mut responses = Map::new();
    for (code, description) in descriptions {
        responses.insert(
            format!("Problem{code}"),
            json!({
                "description": description,
                "content": { "application/problem+json": { "schema": problem } }
            }),
        );
    }
    Value::Object(responses)
}

/// The OpenAPI document of these operations.
pub fn document(operations: &[Operation]) -> Value {
    let mut generator = generator();
    let mut paths: Map<String, Value> = Map::new();
    let mut body_refs = Vec::new();
    for operation in operations {
        let object = operation_object(&mut generator, operation, &mut body_refs);
        let entry = paths
            .entry(operation.path.clone())
            .or_insert_with(|| json!({}));
        entry[operation.method.as_str().to_ascii_lowercase()] = object;
    }
    let responses = problem_components(&mut generator);
    let mut schemas = generator.take_definitions(true);
    for (operation_id, name, path_fields) in &body_refs {
        if let Some(schema) = schemas.get_mut(name) {
            adapt_body(schema, path_fields);
        }
        // A command's summary is its type's own description.
        let description = schemas
            .get(name)
            .and_then(|schema| schema.get("description"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('.')
            .to_string();
        for methods in paths.values_mut() {
            if let Some(methods) = methods.as_object_mut() {
                for object in methods.values_mut() {
                    if object["operationId"] == *operation_id && object["summary"] == "" {
                        object["summary"] = Value::String(description.clone());
                    }
                }
            }
        }
    }
    let tags: Vec<Value> = [
        "Plan", "Source", "Make", "Deliver", "Return", "Enable", "Platform",
    ]
    .iter()
    .map(|name| json!({ "name": name }))
    .collect();
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Flowline API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Supply chain operations for e-commerce brands and their 3PLs, organised by the SCOR processes. Authenticate with `Authorization: Bearer <API key>`; every request acts for the key's tenant. Errors are application/problem+json with a stable `code`.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API key, flk_..." }
            },
            "schemas": schemas,
            "responses": responses
        }
    })
}
