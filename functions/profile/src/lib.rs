//! Function `profile`: the customer's own profile, password change, deletion and export.

mod handlers;

use axum::Router;
use axum::routing::{get, post};
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/customer/{tenant}/me",
            get(handlers::get_profile).patch(handlers::patch_profile).delete(handlers::delete_profile),
        )
        .route("/customer/{tenant}/me/password/change", post(handlers::change_password))
        .route("/customer/{tenant}/me/export", get(handlers::export))
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
