//! The account pages (`account-pages/site/`) under `/account/` on the local
//! server, with the Content-Security-Policy they are written for: no inline
//! script or style, nothing from another origin but an `https:` logo.

use std::path::PathBuf;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use shared::AppState;
use tower_http::set_header::SetResponseHeaderLayer;

/// The pages' policy, also set by the AWS deployment (template.yaml).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' https:; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// `ACCOUNT_PAGES_DIR`, else the checkout's `account-pages/site`.
fn site_dir() -> PathBuf {
    std::env::var_os("ACCOUNT_PAGES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../account-pages/site"))
}

pub fn routes() -> Router<AppState> {
    let header = |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    let files = Router::new()
        .route("/account/", get(|| file(String::new())))
        .route("/account/{*path}", get(|Path(path): Path<String>| file(path)))
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        // The links' secrets are in the query: never in a Referer.
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::CACHE_CONTROL, "no-cache"));
    Router::new().route("/account", get(|| async { Redirect::permanent("/account/") })).merge(files)
}

/// A file of the site by its path below `/account/` (a folder's `index.html`);
/// only plain names, so nothing outside the folder can be named.
async fn file(path: String) -> Response {
    let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path };
    let plain = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if !path.split('/').all(plain) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let content_type = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match tokio::fs::read(site_dir().join(&path)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
