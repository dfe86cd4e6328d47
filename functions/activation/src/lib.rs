//! Function `activation`: sign-up, activation, resend, e-mail change and confirmation.

use axum::Router;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
