//! Function `password-reset`: reset request, reset update and generated passphrase.

mod handlers;

use axum::Router;
use axum::routing::post;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customer/{tenant}/password/reset", post(handlers::request_reset))
        .route("/customer/{tenant}/password/reset/update", post(handlers::update))
        .route("/customer/{tenant}/password/reset/generate", post(handlers::generate))
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
