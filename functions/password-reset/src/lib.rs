//! Function `password-reset`: reset request, reset update and generated passphrase.

mod handlers;
mod retailer;

use axum::Router;
use axum::routing::post;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customer/{tenant}/password/reset", post(handlers::request_reset))
        .route("/customer/{tenant}/password/reset/update", post(handlers::update))
        .route("/customer/{tenant}/password/reset/generate", post(handlers::generate))
        // The retailer API (seed 001): no storefront token.
        .route("/{tenant}/customers/password_reset", post(retailer::request_reset))
        .route("/{tenant}/customers/do_reset", post(retailer::do_reset))
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
