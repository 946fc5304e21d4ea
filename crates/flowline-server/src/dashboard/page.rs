//! The frame of every page: head, navigation, the signed-in key, and error pages.

use super::chart::pattern_definitions;
use super::session::Viewer;
use crate::auth::Access;
use crate::error::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The pages in the navigation: path, name, the access they need.
pub const PAGES: &[(&str, &str, Access)] = &[
    ("/", "Scorecard", Access::Read),
    ("/plan", "Plan", Access::Read),
    ("/inventory", "Inventory", Access::Feed),
    ("/orders", "Orders", Access::Read),
    ("/source", "Source", Access::Read),
    ("/make", "Make", Access::Read),
    ("/return", "Return", Access::Read),
    ("/cash", "Cash and cost", Access::Read),
    ("/sustainability", "Sustainability", Access::Read),
    ("/targets", "Targets and plans", Access::Read),
];

/// An HTML page with a status.
pub struct Html(pub StatusCode, pub Markup);

impl IntoResponse for Html {
    fn into_response(self) -> Response {
        let mut response = (self.0, self.1.into_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // Pages show a tenant's figures: never cached by a shared cache, never framed.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, private"),
        );
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        response
    }
}

/// The document around a page's content.
fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Flowline" }
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href=(super::assets::STYLE_PATH);
                script src=(super::assets::SCRIPT_PATH) defer {}
            }
            body {
                (pattern_definitions())
                (body)
            }
        }
    }
}

/// What a page served from a read replica says of its data.
fn replica_lag(behind: flowline_store::Behind) -> String {
    if behind.bytes == 0 && behind.seconds == 0.0 {
        return "Read from a replica, up to date with the primary.".to_string();
    }
    let size = if behind.bytes < 1024 * 1024 {
        format!("{:.1} KiB", behind.bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", behind.bytes as f64 / (1024.0 * 1024.0))
    };
    if behind.seconds > 0.0 {
        format!(
            "Read from a replica, {size} of changes ({:.1} s) behind the primary: commands go to \
             the primary.",
            behind.seconds
        )
    } else {
        format!(
            "Read from a replica, at most {size} of changes behind the primary: commands go to \
             the primary."
        )
    }
}

/// A page of the dashboard for a signed-in viewer: navigation, heading, content; on a process
/// serving from a read replica, how far behind the primary its data is.
pub fn page(viewer: &Viewer, active: &str, title: &str, content: Markup) -> Html {
    let body = html! {
        header class="top" {
            a class="brand" href="/" { "Flowline" }
            nav aria-label="Pages" {
                ul {
                    @for (path, name, access) in PAGES {
                        @if viewer.may(*access) {
                            li {
                                @if *path == active {
                                    a href=(path) aria-current="page" { (name) }
                                } @else {
                                    a href=(path) { (name) }
                                }
                            }
                        }
                    }
                }
            }
            form class="who" method="post" action="/logout" {
                span { "tenant " strong { (viewer.principal.tenant.as_str()) } ", role " strong { (viewer.role().as_str()) } }
                input type="hidden" name="csrf" value=(viewer.csrf);
                button type="submit" { "Sign out" }
            }
        }
        main id="main" {
            @if let Some(behind) = viewer.behind {
                p class="replica" role="status" { (replica_lag(behind)) }
            }
            h1 { (title) }
            (content)
        }
    };
    Html(StatusCode::OK, document(title, body))
}

/// A page with no navigation (sign-in, errors before sign-in).
pub fn bare(status: StatusCode, title: &str, content: Markup) -> Html {
    let body = html! {
        header class="top" { a class="brand" href="/" { "Flowline" } }
        main id="main" class="narrow" { h1 { (title) } (content) }
    };
    Html(status, document(title, body))
}

/// An error as a page: what went wrong, in words, and a way back.
pub fn error_page(error: &ApiError) -> Html {
    let status = error.status();
    bare(
        status,
        status.canonical_reason().unwrap_or("Error"),
        html! {
            p class="error" role="alert" { (error.message()) }
            p { a href="/" { "Back to the scorecard" } }
        },
    )
}

/// An error inside the frame of a signed-in page.
pub fn error_in_page(viewer: &Viewer, active: &str, error: &ApiError) -> Html {
    let status = error.status();
    let mut html = page(
        viewer,
        active,
        status.canonical_reason().unwrap_or("Error"),
        html! { p class="error" role="alert" { (error.message()) } },
    );
    html.0 = status;
    html
}

/// Text that must not be escaped (it is markup we built).
pub fn raw(text: String) -> PreEscaped<String> {
    PreEscaped(text)
}
