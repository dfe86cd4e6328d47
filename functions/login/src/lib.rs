//! Function `login`: anonymous and customer tokens, refresh, validation,
//! logout, sessions, social login (OpenID Connect), OpenID discovery and the JWKS,
//! sign-in with a mailed code or a passkey, and the tenant's branding for the account pages.

mod branding;
mod dialects;
mod factors;
mod handlers;
mod passkeys;

use axum::Router;
use axum::routing::{delete, get, post};
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customerlogin/auth/anonymous/login", get(handlers::anonymous_login))
        .route(
            "/customerlogin/auth/anonymous/refresh",
            get(handlers::anonymous_refresh_query).post(handlers::anonymous_refresh_body),
        )
        .route("/customer/{tenant}/login", post(handlers::login))
        .route("/customer/{tenant}/socialLogin", post(handlers::social_login))
        .route("/customer/{tenant}/socialLogin/link", post(handlers::link_with_password))
        .route("/customer/{tenant}/socialLogin/link/mail", post(handlers::link_by_mail))
        .route("/customer/{tenant}/socialLogin/link/confirm", post(handlers::confirm_link))
        .route("/customer/{tenant}/refreshauthtoken", post(handlers::refresh))
        .route("/customer/{tenant}/validateauthtoken", get(handlers::validate))
        .route("/customer/{tenant}/logout", post(handlers::logout))
        .route("/customer/{tenant}/me/sessions", get(handlers::list_sessions))
        .route("/customer/{tenant}/me/sessions/{session_id}", delete(handlers::revoke_session))
        .route("/customer/{tenant}/.well-known/openid-configuration", get(handlers::openid_configuration))
        .route("/.well-known/jwks.json", get(handlers::jwks))
        // Moltin v1 (seed 000) and the retailer API (seed 001).
        .route("/{tenant}/v1/customers/token", post(dialects::moltin_token))
        .route("/{tenant}/v1/customers/token/{token}", delete(dialects::moltin_logout))
        .route("/{tenant}/customers/login", post(dialects::retailer_login))
        .route("/customer/{tenant}/branding", get(branding::branding))
        .route("/customer/{tenant}/login/emailCode", post(factors::request_email_code))
        .route("/customer/{tenant}/login/emailCode/verify", post(factors::sign_in_with_email_code))
        .route("/customer/{tenant}/login/secondFactor", post(factors::complete_second_factor))
        .route("/customer/{tenant}/login/passkey/options", post(passkeys::sign_in_options))
        .route("/customer/{tenant}/login/passkey", post(passkeys::sign_in))
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
