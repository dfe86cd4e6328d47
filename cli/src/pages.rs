//! The account pages (`account-pages/site/`) under `/account/` on the local
//! server, with the Content-Security-Policy they are written for: no inline
//! script or style, nothing from another origin but an `https:` logo.

use std::path::PathBuf;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::get;
use shared::AppState;
use tower_http::services::ServeDir;
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
    let files = Router::new()
        .fallback_service(ServeDir::new(site_dir()))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // The links' secrets are in the query: never in a Referer.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    Router::new().route("/account", get(|| async { Redirect::permanent("/account/") })).nest("/account", files)
}
