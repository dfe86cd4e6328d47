//! Function `password-reset`: reset request, reset update and generated passphrase.

use axum::Router;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
