//! Request bodies: JSON in, typed commands out, with errors that say where.
//!
//! A body is parsed in three steps so that each failure names its place:
//! 1. the bytes must be JSON (`malformed_json`, with line and column from the parser);
//! 2. the JSON must be an object that does not set a field the path already gives
//!    (`field_in_path`);
//! 3. the object must be the command's shape (`invalid_body`, with the field path, e.g.
//!    `lines[2].quantity`, and the parser's reason). Unknown fields are refused by the commands'
//!    own `deny_unknown_fields`, so a client cannot set a field the server owns.

use crate::error::ApiError;
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
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
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
        "unsupported_media_type",
        format!("bodies are application/json, not `{text}`"),
        json!({ "content_type": text }),
    ))
}

/// Parses bytes as one JSON value, reporting where it breaks.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            "malformed_json",
            "the body is empty; expected a JSON object",
            json!({ "line": 1, "column": 1 }),
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            "malformed_json",
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
            "invalid_body",
            format!("the body must be a JSON object, not {}", kind_of(&value)),
            json!({ "field": "", "reason": "expected an object" }),
        ));
    };
    let occurred_at = take_occurred_at(&mut object)?;
    for (field, value) in path_fields {
        if object.contains_key(*field) {
            return Err(ApiError::new(
                "field_in_path",
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
        let field = field_path(error.path());
        let reason = error.inner().to_string();
        let message = if field.is_empty() {
            reason.clone()
        } else {
            format!("{field}: {reason}")
        };
        ApiError::new(
            "invalid_body",
            message,
            json!({ "field": field, "reason": reason }),
        )
    })
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
            "invalid_body",
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
