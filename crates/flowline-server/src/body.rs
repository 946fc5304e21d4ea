//! Request bodies: JSON in, typed commands out, with errors that say where.
//!
//! A body is parsed in three steps so that each failure names its place:
//! 1. the bytes must be JSON (`malformed_json`, with line and column from the parser);
//! 2. the JSON must be an object that does not set a field the path already gives
//!    (`field_in_path`);
//! 3. the object must be the command's shape (`invalid_body`, with the field path, e.g.
//!    `lines[2].quantity`, and the parser's reason). Unknown fields are refused by the commands'
//!    own `deny_unknown_fields`, so a client cannot set a field the server owns.

use crate::error::{ApiError, Code};
use axum::http::{HeaderMap, header};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// The largest body accepted, in bytes (1 MiB).
pub const BODY_LIMIT_BYTES: usize = 1 << 20;

/// The body field that sets a command's business time.
pub const OCCURRED_AT: &str = "occurred_at";

/// A parsed command body and its business time, if the client gave one.
#[derive(Debug)]
pub struct CommandBody<C> {
    /// The command.
    pub command: C,
    /// When it happened in the business, if not now.
    pub occurred_at: Option<Timestamp>,
}

/// Refuses a body whose declared media type is not JSON. A missing `Content-Type` is taken as
/// JSON, which is what every client of a JSON API means.
pub fn check_media_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let Some(value) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err(ApiError::new(
            Code::InvalidHeader,
            "Content-Type is given more than once; send exactly one",
            json!({ "header": "Content-Type", "reason": "given more than once" }),
        ));
    }
    let text = value.to_str().unwrap_or("");
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        return Ok(());
    }
    Err(ApiError::new(
        Code::UnsupportedMediaType,
        format!("bodies are application/json, not `{text}`"),
        json!({ "content_type": text }),
    ))
}

/// The longest string accepted anywhere in a body, in bytes: a name, a note, a key.
pub const STRING_LENGTH_MAX: usize = 4096;

/// Parses bytes as one JSON value, reporting where it breaks. Stricter than JSON itself: an
/// object that names a key twice is refused (parsers disagree on which value wins, so a proxy
/// and the server could read two different requests), as is a string longer than
/// [`STRING_LENGTH_MAX`]; nesting deeper than 128 levels is refused by the parser.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            Code::MalformedJson,
            "the body is empty; expected a JSON object",
            json!({ "line": 1, "column": 1 }),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde::de::DeserializeSeed::deserialize(Strict, &mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|error| {
            ApiError::new(
                Code::MalformedJson,
                format!("the body is not valid JSON: {error}"),
                json!({ "line": error.line(), "column": error.column() }),
            )
        })
}

/// Turns a body into the command `C`: the path's values (`(field, value)` pairs) are put into
/// the object, `occurred_at` is taken out, and the rest must be exactly `C`'s fields.
pub fn command<C: DeserializeOwned>(
    bytes: &[u8],
    path_fields: &[(&str, String)],
) -> Result<CommandBody<C>, ApiError> {
    let value = parse_json(bytes)?;
    let Value::Object(mut object) = value else {
        return Err(ApiError::new(
            Code::InvalidBody,
            format!("the body must be a JSON object, not {}", kind_of(&value)),
            json!({ "field": "", "reason": "expected an object" }),
        ));
    };
    let occurred_at = take_occurred_at(&mut object)?;
    for (field, value) in path_fields {
        if object.contains_key(*field) {
            return Err(ApiError::new(
                Code::FieldInPath,
                format!("`{field}` is given by the path; leave it out of the body"),
                json!({ "field": field }),
            ));
        }
        object.insert((*field).to_string(), Value::String(value.clone()));
    }
    let command = typed(Value::Object(object))?;
    Ok(CommandBody {
        command,
        occurred_at,
    })
}

/// Deserializes a value into `T`, naming the field that does not fit.
pub fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut field = field_path(error.path());
        let (reason, missing) = plain_reason(&error.inner().to_string());
        if let Some(missing) = missing {
            push_name(&mut field, &missing);
        }
        let message = if field.is_empty() {
            reason.clone()
        } else {
            format!("{field}: {reason}")
        };
        ApiError::new(
            Code::InvalidBody,
            message,
            json!({ "field": field, "reason": reason }),
        )
    })
}

/// The parser's reason in the API's words rather than Rust's, and the name of a missing field
/// (which the parser gives in its message, not in the path):
///
/// - ``missing field `customer` `` is "is required", with `customer` added to the path;
/// - ``invalid type: string "abc", expected i64`` is
///   `expected a whole number from -9223372036854775808 to 9223372036854775807, got the string
///   "abc"`; likewise ``invalid value: integer `-1`, expected u32``.
///
/// Any other reason (an unknown field, a domain type's own message) is kept as it is.
fn plain_reason(reason: &str) -> (String, Option<String>) {
    if let Some(rest) = reason.strip_prefix("missing field `")
        && let Some(name) = rest.strip_suffix('`')
    {
        return ("is required".to_string(), Some(name.to_string()));
    }
    let body = reason
        .strip_prefix("invalid type: ")
        .or_else(|| reason.strip_prefix("invalid value: "));
    if let Some(body) = body
        && let Some((got, expected)) = body.rsplit_once(", expected ")
    {
        return (
            format!(
                "expected {}, got {}",
                plain_expected(expected),
                plain_got(got)
            ),
            None,
        );
    }
    (reason.to_string(), None)
}

/// What serde says it expected, as a JSON type: `i64` is a whole number and its range.
fn plain_expected(expected: &str) -> String {
    let range = |low: &str, high: &str| format!("a whole number from {low} to {high}");
    match expected {
        "u8" => range("0", "255"),
        "u16" => range("0", "65535"),
        "u32" => range("0", "4294967295"),
        "u64" | "usize" => range("0", "18446744073709551615"),
        "i8" => range("-128", "127"),
        "i16" => range("-32768", "32767"),
        "i32" => range("-2147483648", "2147483647"),
        "i64" | "isize" => range("-9223372036854775808", "9223372036854775807"),
        "u128" | "i128" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a borrowed string" | "a string" => "a string".to_string(),
        "a sequence" => "an array".to_string(),
        "a map" => "an object".to_string(),
        "a boolean" => "true or false".to_string(),
        other => other.to_string(),
    }
}

/// What serde says it got, as JSON: ``floating point `1.5` `` is the number 1.5.
fn plain_got(got: &str) -> String {
    let quoted = |prefix: &str| {
        got.strip_prefix(prefix)
            .map(|rest| rest.trim_matches('`').to_string())
    };
    if let Some(number) = quoted("floating point ").or_else(|| quoted("integer ")) {
        return format!("the number {number}");
    }
    if let Some(value) = quoted("boolean ") {
        return value;
    }
    if let Some(text) = got.strip_prefix("string ") {
        return format!("the string {text}");
    }
    match got {
        "map" => "an object".to_string(),
        "sequence" => "an array".to_string(),
        "unit value" | "null" => "null".to_string(),
        other => other.to_string(),
    }
}

/// `lines[2].quantity` rather than the library's `lines.2.quantity`; empty for the whole body.
fn field_path(path: &serde_path_to_error::Path) -> String {
    let mut text = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => text.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } => push_name(&mut text, key),
            serde_path_to_error::Segment::Enum { variant } => push_name(&mut text, variant),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    text
}

fn push_name(text: &mut String, name: &str) {
    if !text.is_empty() {
        text.push('.');
    }
    text.push_str(name);
}

fn take_occurred_at(object: &mut Map<String, Value>) -> Result<Option<Timestamp>, ApiError> {
    let Some(value) = object.remove(OCCURRED_AT) else {
        return Ok(None);
    };
    let invalid = |reason: String| {
        ApiError::new(
            Code::InvalidBody,
            format!("{OCCURRED_AT}: {reason}"),
            json!({ "field": OCCURRED_AT, "reason": reason, "value": value }),
        )
    };
    let Value::String(text) = &value else {
        return Err(invalid(format!(
            "expected an RFC 3339 timestamp string, not {}",
            kind_of(&value)
        )));
    };
    text.parse::<Timestamp>().map(Some).map_err(|error| {
        invalid(format!(
            "`{text}` is not an RFC 3339 timestamp (e.g. 2026-03-01T09:30:00Z): {error}"
        ))
    })
}

/// Builds a [`Value`] while refusing duplicate keys and overlong strings.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> serde::de::DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Value, E> {
        check_length(value)?;
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Value, E> {
        check_length(&value)?;
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element_seed(Strict)? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            check_length(&key)?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` appears twice in one object"
                )));
            }
            let value = map.next_value_seed(Strict)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn check_length<E: serde::de::Error>(text: &str) -> Result<(), E> {
    if text.len() > STRING_LENGTH_MAX {
        return Err(E::custom(format!(
            "a string of {} bytes is longer than the {STRING_LENGTH_MAX} accepted",
            text.len()
        )));
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowline_core::documents::sales_order::ShipSalesOrder;

    fn error_of<C: DeserializeOwned + std::fmt::Debug>(body: &str) -> ApiError {
        match command::<C>(body.as_bytes(), &[("order", "SO-1".to_string())]) {
            Ok(parsed) => panic!("accepted: {parsed:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn a_key_given_twice_is_refused_at_its_place() {
        // Line 3 repeats "weight_g"; serde_json would keep the last value, 9000.
        let body = "{\n  \"weight_g\": 500,\n  \"weight_g\": 9000\n}";
        let error = error_of::<ShipSalesOrder>(body);
        assert_eq!(error.code(), "malformed_json");
        assert_eq!(error.problem().details["line"], json!(3));
        assert!(
            error.problem().message.contains("`weight_g` appears twice"),
            "{error:?}"
        );
    }

    #[test]
    fn an_overlong_string_and_deep_nesting_are_refused() {
        let long = format!(
            "{{\"shipment\": \"{}\"}}",
            "S".repeat(STRING_LENGTH_MAX + 1)
        );
        let error = error_of::<ShipSalesOrder>(&long);
        assert_eq!(error.code(), "malformed_json");
        assert!(error.problem().message.contains("4097 bytes"), "{error:?}");
        // 10,000 levels of arrays: refused by the parser's depth limit, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(error_of::<ShipSalesOrder>(&deep).code(), "malformed_json");
    }

    #[test]
    fn broken_json_is_reported_at_its_line_and_column() {
        // Line 3 is `  "weight_g": ,`: the value is missing where the comma stands, column 15.
        let body = "{\n  \"shipment\": \"S-1\",\n  \"weight_g\": ,\n}";
        let error = error_of::<ShipSalesOrder>(body);
        assert_eq!(error.code(), "malformed_json");
        assert_eq!(error.problem().details, json!({ "line": 3, "column": 15 }));
    }

    #[test]
    fn a_wrong_field_is_named_by_its_path() {
        let body = r#"{"shipment": "S-1", "location": "FC-1", "carrier": "UPS",
            "service": "ground", "weight_g": 500,
            "lines": [{"line": 0, "quantity": 1}, {"line": 1, "quantity": "two"}]}"#;
        let error = error_of::<ShipSalesOrder>(body);
        assert_eq!(error.code(), "invalid_body");
        assert_eq!(error.problem().details["field"], "lines[1].quantity");
    }

    #[test]
    fn reasons_speak_json_not_rust_and_a_missing_field_is_named() {
        // `quantity` is an i64 in the command; "two" is a string, 1.5 a fraction.
        let line = |quantity: &str| {
            format!(
                r#"{{"shipment": "S-1", "location": "FC-1", "carrier": "UPS",
                "service": "ground", "weight_g": 500, "lines": [{{"line": 0, "quantity": {quantity}}}]}}"#
            )
        };
        let problem = error_of::<ShipSalesOrder>(&line(r#""two""#)).problem();
        assert_eq!(problem.details["field"], "lines[0].quantity");
        assert_eq!(
            problem.details["reason"],
            "expected a whole number from -9223372036854775808 to 9223372036854775807, \
             got the string \"two\""
        );
        let problem = error_of::<ShipSalesOrder>(&line("1.5")).problem();
        assert_eq!(
            problem.details["reason"],
            "expected a whole number from -9223372036854775808 to 9223372036854775807, \
             got the number 1.5"
        );
        // `weight_g` is left out: the field is named, not the whole body.
        let body = r#"{"shipment": "S-1", "location": "FC-1", "carrier": "UPS",
            "service": "ground", "lines": []}"#;
        let problem = error_of::<ShipSalesOrder>(body).problem();
        assert_eq!(problem.details["field"], "weight_g");
        assert_eq!(problem.details["reason"], "is required");
        assert_eq!(problem.message, "weight_g: is required");
        // A string where an array belongs.
        let body = r#"{"shipment": "S-1", "location": "FC-1", "carrier": "UPS",
            "service": "ground", "weight_g": 500, "lines": "all"}"#;
        let problem = error_of::<ShipSalesOrder>(body).problem();
        assert_eq!(
            problem.details["reason"],
            "expected an array, got the string \"all\""
        );
    }

    #[test]
    fn a_server_owned_or_unknown_field_is_refused_by_name() {
        let body = r#"{"shipment": "S-1", "location": "FC-1", "carrier": "UPS",
            "service": "ground", "weight_g": 500, "lines": [], "status": "delivered"}"#;
        let error = error_of::<ShipSalesOrder>(body);
        assert_eq!(error.code(), "invalid_body");
        assert_eq!(error.problem().details["field"], "status");
    }

    #[test]
    fn the_path_id_may_not_be_repeated_in_the_body() {
        let error = error_of::<ShipSalesOrder>(r#"{"order": "SO-2"}"#);
        assert_eq!(error.code(), "field_in_path");
        assert_eq!(error.problem().details["field"], "order");
    }

    #[test]
    fn occurred_at_sets_the_business_time_and_must_be_rfc3339() {
        let body = r#"{"shipment": "S-1", "location": "FC-1", "carrier": "UPS",
            "service": "ground", "weight_g": 500, "lines": [],
            "occurred_at": "2026-03-01T09:30:00Z"}"#;
        let parsed = command::<ShipSalesOrder>(body.as_bytes(), &[("order", "SO-1".into())]);
        let parsed = parsed.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(parsed.command.order.as_str(), "SO-1");
        assert_eq!(
            parsed.occurred_at,
            Some("2026-03-01T09:30:00Z".parse().unwrap_or_else(|_| panic!()))
        );
        let error = error_of::<ShipSalesOrder>(r#"{"occurred_at": "yesterday"}"#);
        assert_eq!(error.problem().details["field"], OCCURRED_AT);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let body = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let error = error_of::<ShipSalesOrder>(&body);
        assert_eq!(error.code(), "malformed_json");
    }
}
