//! The stylesheet, script and icon, compiled into the binary: the dashboard needs no network
//! and no files beside the binary at run time.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The stylesheet's path.
pub const STYLE_PATH: &str = "/assets/dashboard.css";

/// The script's path.
pub const SCRIPT_PATH: &str = "/assets/dashboard.js";

const STYLE: &str = include_str!("../../assets/dashboard.css");
const SCRIPT: &str = include_str!("../../assets/dashboard.js");
const ICON: &str = include_str!("../../assets/icon.svg");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "dashboard.css" => asset("text/css; charset=utf-8", STYLE),
        "dashboard.js" => asset("text/javascript; charset=utf-8", SCRIPT),
        "icon.svg" => asset("image/svg+xml", ICON),
        _ => crate::error::ApiError::not_found("asset", &name).into_response(),
    }
}

/// `GET /favicon.ico`: the icon, for browsers that ask for it by that name.
pub async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}
