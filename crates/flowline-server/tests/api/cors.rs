//! Browser pages of another site calling the API: only the origins the operator allowed, only
//! under `/v1/`, never the dashboard.

use crate::helpers::{spawn_app, spawn_app_serving};
use flowline_server::cors::Origins;

#[tokio::test]
async fn only_an_allowed_origin_may_call_the_api_from_a_browser() {
    let app = spawn_app_serving(
        flowline_server::ServerLimits {
            rate: flowline_server::rate::RateLimits::UNLIMITED,
            ..Default::default()
        },
        Origins::parse(["https://app.example.com"]).unwrap(),
    )
    .await;
    let acme = app.tenant("acme", Some("USD")).await;
    // The preflight a browser sends before a POST with a key and a JSON body.
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            let headers = [
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ];
            app.send(
                reqwest::Method::OPTIONS,
                None,
                "/v1/sales-orders",
                None,
                &headers,
            )
            .await
        }
    };
    let allowed = preflight("https://app.example.com").await;
    assert_eq!(allowed.status, 204);
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = allowed.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = allowed.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(headers.contains("Authorization") && headers.contains("Idempotency-Key"));
    // Another origin's preflight is not answered as allowed.
    let refused = preflight("https://evil.example").await;
    assert_ne!(refused.status, 204);
    assert!(!refused.headers.contains_key("access-control-allow-origin"));

    // The request itself: the allowed origin may read the answer and its Location and ETag.
    let read = app
        .send(
            reqwest::Method::GET,
            Some(&acme.viewer),
            "/v1/me",
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = read.headers["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("ETag") && exposed.contains("Location"),
        "{exposed}"
    );
    assert!(
        !read
            .headers
            .contains_key("access-control-allow-credentials")
    );
    // The dashboard, with its session cookie, is never opened to another origin.
    let page = app
        .send(
            reqwest::Method::GET,
            None,
            "/login",
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert!(!page.headers.contains_key("access-control-allow-origin"));
    app.finish().await;
}

#[tokio::test]
async fn by_default_no_origin_is_allowed() {
    let app = spawn_app().await;
    let acme = app.tenant("acme", None).await;
    let read = app
        .send(
            reqwest::Method::GET,
            Some(&acme.viewer),
            "/v1/me",
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert_eq!(read.status, 200);
    assert!(!read.headers.contains_key("access-control-allow-origin"));
    app.finish().await;
}
