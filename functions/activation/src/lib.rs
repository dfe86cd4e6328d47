//! Function `activation`: sign-up, activation, resend, e-mail change and confirmation.

mod handlers;

use axum::Router;
use axum::routing::post;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customer/{tenant}/signup", post(handlers::signup))
        .route("/customer/{tenant}/activate", post(handlers::activate))
        .route("/customer/{tenant}/activate/resend", post(handlers::resend))
        .route("/customer/{tenant}/me/accounts/internal/email/change", post(handlers::change_email))
        .route("/customer/{tenant}/email/confirm", post(handlers::confirm_email))
        // The retailer API (seed 001): the same bodies and answers on its paths.
        .route("/{tenant}/customers/activate", post(handlers::activate))
        .route("/{tenant}/customers/newemail_confirm", post(handlers::confirm_email))
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
