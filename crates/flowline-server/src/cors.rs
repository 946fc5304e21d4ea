//! Cross-origin requests to the API from the browser pages of other sites, for the origins the
//! operator allows (`flowline serve --cors-origin https://app.example.com`); none by default.
//!
//! Only `/v1/...` is open to other origins, and only with an API key: the dashboard's pages and
//! their session cookie never are, and no credentials header is sent. A preflight (`OPTIONS` with
//! `Access-Control-Request-Method`) from an allowed origin is answered here with 204; one from
//! any other origin goes on to the router, which refuses the method like any other.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    any: bool,
    exact: Arc<[String]>,
}

impl Origins {
    /// Parses origins as `scheme://host[:port]` (no path, no trailing slash), or `*` for any.
    pub fn parse<'a>(origins: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut any = false;
        let mut exact = Vec::new();
        for origin in origins {
            if origin == "*" {
                any = true;
                continue;
            }
            let well_formed = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.contains(['/', '?', '#', ' ', '@'])
            });
            if !well_formed {
                return Err(format!(
                    "`{origin}` is not an origin: expected scheme://host[:port] (e.g. \
                     https://app.example.com), or * for any"
                ));
            }
            exact.push(origin.to_ascii_lowercase());
        }
        Ok(Self {
            any,
            exact: exact.into(),
        })
    }

    /// Whether none is allowed (the default).
    pub fn is_empty(&self) -> bool {
        !self.any && self.exact.is_empty()
    }

    fn allows(&self, origin: &str) -> bool {
        self.any
            || self
                .exact
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

const ALLOWED_METHODS: &str = "GET, POST, PUT";
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, If-None-Match";
const EXPOSED_HEADERS: &str = "Location, ETag, Retry-After, Idempotent-Replayed";

/// Answers an allowed origin's preflight, and marks the API's answers to an allowed origin.
pub async fn apply(origins: Origins, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let api = request.uri().path().starts_with("/v1/");
    let Some(origin) = origin.filter(|origin| api && origins.allows(origin)) else {
        return next.run(request).await;
    };
    let Ok(origin) = HeaderValue::from_str(&origin) else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        response
    } else {
        let mut response = next.run(request).await;
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_or_a_star() {
        let origins = Origins::parse(["https://app.example.com", "http://localhost:3000"]).unwrap();
        assert!(origins.allows("https://app.example.com"));
        assert!(origins.allows("HTTPS://APP.EXAMPLE.COM"));
        assert!(origins.allows("http://localhost:3000"));
        assert!(!origins.allows("https://app.example.com:8443"));
        assert!(!origins.allows("https://evil.example"));
        assert!(
            Origins::parse(["*"])
                .unwrap()
                .allows("https://anyone.example")
        );
        assert!(Origins::parse(Vec::<&str>::new()).unwrap().is_empty());
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "ftp://x",
            "https://",
        ] {
            assert!(Origins::parse([bad]).is_err(), "{bad}");
        }
    }
}
