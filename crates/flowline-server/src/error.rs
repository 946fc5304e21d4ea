//! Errors as `application/problem+json` (RFC 9457): every error a client can see has a stable
//! snake_case `code`, an HTTP status from one table, a human-readable `message` and `details`
//! that say what and where (field path, line and column, ids, quantities).
//!
//! Internal failures are logged with their cause and answered with a body that names no
//! internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// Where the codes are documented; each code is an anchor on that page.
pub const ERRORS_PAGE: &str = "https://github.com/flowline/flowline/blob/main/docs/errors.md";

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every error code the HTTP layer produces itself, with its status. Domain error codes
/// (`insufficient_stock`, ...) come from `flowline_core::DomainError::code` and map through
/// [`domain_status`].
const HTTP_CODES: &[(&str, StatusCode)] = &[
    ("unauthenticated", StatusCode::UNAUTHORIZED),
    ("credentials_in_query", StatusCode::UNAUTHORIZED),
    ("forbidden", StatusCode::FORBIDDEN),
    ("route_not_found", StatusCode::NOT_FOUND),
    ("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED),
    ("malformed_json", StatusCode::BAD_REQUEST),
    ("invalid_body", StatusCode::BAD_REQUEST),
    ("field_in_path", StatusCode::BAD_REQUEST),
    ("invalid_query", StatusCode::BAD_REQUEST),
    ("invalid_header", StatusCode::BAD_REQUEST),
    ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
    ("body_timeout", StatusCode::REQUEST_TIMEOUT),
    ("rate_limited", StatusCode::TOO_MANY_REQUESTS),
    ("request_timeout", StatusCode::SERVICE_UNAVAILABLE),
    ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ("idempotency_key_reused", StatusCode::UNPROCESSABLE_ENTITY),
    ("busy", StatusCode::SERVICE_UNAVAILABLE),
    ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
    ("shutting_down", StatusCode::SERVICE_UNAVAILABLE),
    ("internal", StatusCode::INTERNAL_SERVER_ERROR),
];

/// The status of a domain error code: a reference to nothing is 404, a conflict with the
/// document's state or the stock is 409, a value the domain refuses is 422.
pub fn domain_status(code: &str) -> StatusCode {
    match code {
        "not_found" => StatusCode::NOT_FOUND,
        "already_exists"
        | "illegal_transition"
        | "insufficient_stock"
        | "exceeds_outstanding"
        | "below_reserved"
        | "tenant_not_configured" => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The status of any code, HTTP or domain.
pub fn status_of(code: &str) -> StatusCode {
    HTTP_CODES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, status)| *status)
        .unwrap_or_else(|| domain_status(code))
}

/// The body of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// A link to the code's documentation.
    #[serde(rename = "type")]
    pub type_url: String,
    /// A short summary of the status.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable, machine-readable error code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// What and where: field path, line and column, ids, quantities.
    pub details: Value,
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    code: String,
    message: String,
    details: Value,
    retry_after_seconds: Option<u32>,
}

impl ApiError {
    /// An error with a code, a message and details.
    pub fn new(code: impl Into<String>, message: impl Into<String>, details: Value) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            details,
            retry_after_seconds: None,
        }
    }

    /// An error with no details.
    pub fn plain(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, message, json!({}))
    }

    /// An internal failure: the cause goes to the log, the client learns nothing about it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::plain("internal", "the server failed to handle the request")
    }

    /// Asks the client to retry after this many seconds (503).
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// The message a person reads.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error's code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        status_of(&self.code)
    }

    /// The body.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            type_url: format!("{ERRORS_PAGE}#{}", self.code),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: self.code.clone(),
            message: self.message.clone(),
            details: self.details.clone(),
        }
    }

    /// A query parameter that cannot be used.
    pub fn query(parameter: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            "invalid_query",
            format!("query parameter `{parameter}`: {reason}"),
            json!({ "parameter": parameter, "reason": reason }),
        )
    }

    /// A referenced record that does not exist for this tenant.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            "not_found",
            format!("{kind} `{id}` does not exist"),
            json!({ "kind": kind, "id": id }),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = self.status();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

/// The code of an error response, for the request log and metrics.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub String);

/// Every code this layer can answer with, for the documentation test.
pub fn http_codes() -> impl Iterator<Item = &'static str> {
    HTTP_CODES.iter().map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_statuses_the_docs_promise() {
        // A missing record must look like one that never existed (404), never like a refusal.
        assert_eq!(status_of("not_found"), StatusCode::NOT_FOUND);
        assert_eq!(status_of("insufficient_stock"), StatusCode::CONFLICT);
        assert_eq!(status_of("illegal_transition"), StatusCode::CONFLICT);
        assert_eq!(status_of("invalid_field"), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            status_of("idempotency_key_reused"),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(status_of("malformed_json"), StatusCode::BAD_REQUEST);
        assert_eq!(status_of("unauthenticated"), StatusCode::UNAUTHORIZED);
        assert_eq!(status_of("forbidden"), StatusCode::FORBIDDEN);
    }

    #[test]
    fn an_internal_error_names_no_internals() {
        let error = ApiError::internal("disk I/O error at /var/lib/flowline/flowline.db");
        let body = serde_json::to_string(&error.problem()).unwrap_or_default();
        assert!(!body.contains("/var/lib"), "{body}");
        assert!(!body.contains("disk"), "{body}");
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
