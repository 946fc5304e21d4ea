//! Errors as `application/problem+json` (RFC 9457): every error a client can see has a stable
//! snake_case `code`, an HTTP status from one table, a human-readable `message` and `details`
//! that say what and where (field path, line and column, ids, quantities).
//!
//! Internal failures are logged with their cause and answered with a body that names no
//! internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flowline_core::ErrorCode;
use serde::Serialize;
use serde_json::{Value, json};

/// Where the codes are documented; each code is an anchor on that page.
pub const ERRORS_PAGE: &str = "https://github.com/flowline/flowline/blob/main/docs/errors.md";

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Declares [`Code`] from one table: every code the HTTP layer produces itself with its string
/// and status, then every domain code with its status (its string is
/// [`ErrorCode::as_str`]). The domain rows are matched without a wildcard, so a new
/// [`ErrorCode`] does not compile until it has a row here.
macro_rules! codes {
    (
        http { $($(#[doc = $doc:literal])* $http:ident => $name:literal, $http_status:ident;)* }
        domain { $($domain:ident => $domain_status:ident;)* }
    ) => {
        /// Every code the API can answer with: the HTTP layer's own, and the domain's
        /// ([`flowline_core::DomainError::code`]). Each has one string, one status and one
        /// anchor in `docs/errors.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $http,)*
            /// A domain error's code.
            Domain(ErrorCode),
        }

        impl Code {
            /// Every code, the HTTP layer's first.
            pub const ALL: &[Code] = &[
                $(Code::$http,)*
                $(Code::Domain(ErrorCode::$domain),)*
            ];

            /// The code as it travels: snake_case, stable.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$http => $name,)*
                    Self::Domain(code) => code.as_str(),
                }
            }

            /// The HTTP status the code is answered with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Self::$http => StatusCode::$http_status,)*
                    $(Self::Domain(ErrorCode::$domain) => StatusCode::$domain_status,)*
                }
            }
        }
    };
}

codes! {
    http {
        /// No key, or one that is malformed, unknown or revoked.
        Unauthenticated => "unauthenticated", UNAUTHORIZED;
        /// A credential sent as a query parameter.
        CredentialsInQuery => "credentials_in_query", UNAUTHORIZED;
        /// The key's role lacks the operation's access.
        Forbidden => "forbidden", FORBIDDEN;
        /// No such route.
        RouteNotFound => "route_not_found", NOT_FOUND;
        /// The route does not take the method.
        MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED;
        /// The body is not JSON.
        MalformedJson => "malformed_json", BAD_REQUEST;
        /// The JSON does not fit the command.
        InvalidBody => "invalid_body", BAD_REQUEST;
        /// The body repeats a field the path gives.
        FieldInPath => "field_in_path", BAD_REQUEST;
        /// A query parameter that cannot be used.
        InvalidQuery => "invalid_query", BAD_REQUEST;
        /// A header that cannot be used.
        InvalidHeader => "invalid_header", BAD_REQUEST;
        /// A body over the limit.
        PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE;
        /// The body did not arrive in time.
        BodyTimeout => "body_timeout", REQUEST_TIMEOUT;
        /// The key's or the tenant's request budget is spent.
        RateLimited => "rate_limited", TOO_MANY_REQUESTS;
        /// No answer in time; the command may still be applied.
        RequestTimeout => "request_timeout", SERVICE_UNAVAILABLE;
        /// A body declared as something other than JSON.
        UnsupportedMediaType => "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
        /// The idempotency key was used before for a different request.
        IdempotencyKeyReused => "idempotency_key_reused", UNPROCESSABLE_ENTITY;
        /// The tenant's command queue is full.
        Busy => "busy", SERVICE_UNAVAILABLE;
        /// The log could not be written or read.
        Unavailable => "unavailable", SERVICE_UNAVAILABLE;
        /// The server is stopping.
        ShuttingDown => "shutting_down", SERVICE_UNAVAILABLE;
        /// Another process writes the tenant: the client is sent there (`Location`).
        HeldElsewhere => "held_elsewhere", TEMPORARY_REDIRECT;
        /// A fault in the server.
        Internal => "internal", INTERNAL_SERVER_ERROR;
    }
    // A reference to nothing is 404, a conflict with the document's state or the stock is
    // 409, a value the domain refuses is 422.
    domain {
        TenantNotConfigured => CONFLICT;
        InvalidField => UNPROCESSABLE_ENTITY;
        NonPositiveQuantity => UNPROCESSABLE_ENTITY;
        NotFound => NOT_FOUND;
        AlreadyExists => CONFLICT;
        IllegalTransition => CONFLICT;
        InsufficientStock => CONFLICT;
        ExceedsOutstanding => CONFLICT;
        CurrencyMismatch => UNPROCESSABLE_ENTITY;
        BomCycle => UNPROCESSABLE_ENTITY;
        BusinessTimeOutOfWindow => UNPROCESSABLE_ENTITY;
        NotAFulfillmentCenter => UNPROCESSABLE_ENTITY;
        BelowReserved => CONFLICT;
        Overflow => UNPROCESSABLE_ENTITY;
    }
}

impl Code {
    /// Parses [`Code::as_str`].
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
    }
}

impl From<ErrorCode> for Code {
    fn from(code: ErrorCode) -> Self {
        Self::Domain(code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Compares with the code's string, as a client sees it.
impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Compares with the code's string, as a client sees it.
impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
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
    #[schemars(with = "String")]
    pub code: Code,
    /// What went wrong, for people.
    pub message: String,
    /// What and where: field path, line and column, ids, quantities.
    pub details: Value,
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    code: Code,
    message: String,
    details: Value,
    retry_after_seconds: Option<u32>,
    /// Where to send the client instead (a server's address; the request's path and query
    /// are added to it when the answer is written).
    redirect_to: Option<String>,
}

/// On a response, the server the client is sent to: the router's redirect layer adds the
/// request's path and query and writes `Location`.
#[derive(Debug, Clone)]
pub struct RedirectTo(pub String);

impl ApiError {
    /// An error with a code, a message and details.
    pub fn new(code: impl Into<Code>, message: impl Into<String>, details: Value) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            details,
            retry_after_seconds: None,
            redirect_to: None,
        }
    }

    /// An error with no details.
    pub fn plain(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Self::new(code, message, json!({}))
    }

    /// An internal failure: the cause goes to the log, the client learns nothing about it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::plain(Code::Internal, "the server failed to handle the request")
    }

    /// A command the domain rejected, as the engine answered (or replayed) it. The engine keeps
    /// the code as the string [`flowline_core::DomainError::code`] gave; one this server does
    /// not know could only come from a log written by a build with other codes, and is a fault,
    /// not the client's.
    pub fn rejected(code: &str, message: impl Into<String>, details: Value) -> Self {
        match ErrorCode::parse(code) {
            Some(code) => Self::new(code, message, details),
            None => Self::internal(format!("a rejection with an unknown code `{code}`")),
        }
    }

    /// Asks the client to retry after this many seconds (503).
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// The seconds after which the client is asked to retry, if it is.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        self.retry_after_seconds
    }

    /// Sends the client to the server at `address` (307).
    pub fn redirect_to(mut self, address: impl Into<String>) -> Self {
        self.redirect_to = Some(address.into());
        self
    }

    /// The message a person reads.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error's code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The body.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            type_url: format!("{ERRORS_PAGE}#{}", self.code),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: self.code,
            message: self.message.clone(),
            details: self.details.clone(),
        }
    }

    /// A query parameter that cannot be used.
    pub fn query(parameter: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            Code::InvalidQuery,
            format!("query parameter `{parameter}`: {reason}"),
            json!({ "parameter": parameter, "reason": reason }),
        )
    }

    /// A referenced record that does not exist for this tenant.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
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
        // The code, for the request log and metrics.
        response.extensions_mut().insert(self.code);
        if let Some(address) = self.redirect_to {
            response.extensions_mut().insert(RedirectTo(address));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status a client gets for a code it reads on the wire.
    fn status_of(code: &str) -> StatusCode {
        Code::parse(code)
            .unwrap_or_else(|| panic!("`{code}` is not a code"))
            .status()
    }

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

    #[test]
    fn every_code_has_one_string_and_the_status_it_had_before_it_was_typed() {
        // The wire as it was when codes were strings: a client may depend on every pair.
        let published = [
            ("unauthenticated", 401),
            ("credentials_in_query", 401),
            ("forbidden", 403),
            ("route_not_found", 404),
            ("method_not_allowed", 405),
            ("malformed_json", 400),
            ("invalid_body", 400),
            ("field_in_path", 400),
            ("invalid_query", 400),
            ("invalid_header", 400),
            ("payload_too_large", 413),
            ("body_timeout", 408),
            ("rate_limited", 429),
            ("request_timeout", 503),
            ("unsupported_media_type", 415),
            ("idempotency_key_reused", 422),
            ("busy", 503),
            ("unavailable", 503),
            ("shutting_down", 503),
            // Added with the writer leases of a shared PostgreSQL log.
            ("held_elsewhere", 307),
            ("internal", 500),
            ("tenant_not_configured", 409),
            ("invalid_field", 422),
            ("non_positive_quantity", 422),
            ("not_found", 404),
            ("already_exists", 409),
            ("illegal_transition", 409),
            ("insufficient_stock", 409),
            ("exceeds_outstanding", 409),
            ("currency_mismatch", 422),
            ("bom_cycle", 422),
            ("business_time_out_of_window", 422),
            ("not_a_fulfillment_center", 422),
            ("below_reserved", 409),
            ("overflow", 422),
        ];
        let table: Vec<(&str, u16)> = Code::ALL
            .iter()
            .map(|code| (code.as_str(), code.status().as_u16()))
            .collect();
        assert_eq!(table, published);
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            assert_eq!(code.to_string(), code.as_str());
            assert_eq!(serde_json::to_value(code).ok(), Some(code.as_str().into()));
        }
        // Every domain code is in the table, and is a `Domain` code.
        for code in ErrorCode::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(Code::Domain(code)));
        }
    }

    #[test]
    fn the_body_carries_the_code_as_its_string() {
        let error = ApiError::not_found("item", "A");
        assert_eq!(error.code(), Code::Domain(ErrorCode::NotFound));
        assert_eq!(
            serde_json::to_value(error.problem()).ok(),
            Some(json!({
                "type": format!("{ERRORS_PAGE}#not_found"),
                "title": "Not Found",
                "status": 404,
                "code": "not_found",
                "message": "item `A` does not exist",
                "details": { "kind": "item", "id": "A" },
            }))
        );
    }

    #[test]
    fn a_stored_rejection_answers_with_its_domain_code() {
        let error = ApiError::rejected("insufficient_stock", "short", json!({ "sku": "A" }));
        assert_eq!(error.code(), Code::Domain(ErrorCode::InsufficientStock));
        assert_eq!(error.status(), StatusCode::CONFLICT);
        // Only the domain's codes come out of the engine; anything else is a fault.
        assert_eq!(
            ApiError::rejected("route_not_found", "m", json!({})).code(),
            Code::Internal
        );
        assert_eq!(
            ApiError::rejected("gone_code", "m", json!({})).code(),
            Code::Internal
        );
    }

    /// `docs/errors.md`: the anchor of each row of its code tables, with the status the HTTP
    /// table gives (the domain table leaves statuses to the prose under it).
    fn documented() -> Vec<(String, Option<u16>)> {
        const PAGE: &str = include_str!("../../../docs/errors.md");
        PAGE.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("| <a id=\"")?;
                let (anchor, rest) = rest.split_once("\"></a>")?;
                let cells: Vec<&str> = rest.split('|').map(str::trim).collect();
                assert_eq!(
                    cells.first().copied(),
                    Some(format!("`{anchor}`").as_str()),
                    "the row of anchor `{anchor}` names another code: {line}"
                );
                let status = cells.get(1).and_then(|cell| cell.parse().ok());
                Some((anchor.to_string(), status))
            })
            .collect()
    }

    #[test]
    fn every_code_is_documented_with_an_anchor_and_every_anchor_is_a_code() {
        let documented = documented();
        let anchors: Vec<&str> = documented.iter().map(|(code, _)| code.as_str()).collect();
        for code in Code::ALL {
            assert!(
                anchors.contains(&code.as_str()),
                "`{code}` has no anchor in docs/errors.md"
            );
        }
        for (anchor, status) in &documented {
            let code = Code::parse(anchor);
            assert!(
                code.is_some(),
                "docs/errors.md documents `{anchor}`, no code"
            );
            if let (Some(code), Some(status)) = (code, status) {
                assert_eq!(
                    code.status().as_u16(),
                    *status,
                    "docs/errors.md on `{code}`"
                );
            }
        }
        assert_eq!(anchors.len(), Code::ALL.len(), "a code documented twice");
    }
}
