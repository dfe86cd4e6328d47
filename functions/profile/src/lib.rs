//! Function `profile`: the customer's own profile, password change, deletion,
//! export, and the ways to sign in (linked provider identities, an authenticator,
//! passkeys).

mod dialects;
mod factors;
mod handlers;
mod passkeys;

use axum::Router;
use axum::routing::{delete, get, post};
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/customer/{tenant}/me",
            get(handlers::get_profile).patch(handlers::patch_profile).delete(handlers::delete_profile),
        )
        .route("/customer/{tenant}/me/password/change", post(handlers::change_password))
        .route("/customer/{tenant}/me/export", get(handlers::export))
        .route("/customer/{tenant}/me/accounts", get(handlers::list_accounts))
        .route("/customer/{tenant}/me/accounts/{account_id}", delete(handlers::unlink_account))
        .route("/customer/{tenant}/me/totp", post(factors::start_totp).delete(factors::disable_totp))
        .route("/customer/{tenant}/me/totp/confirm", post(factors::confirm_totp))
        .route("/customer/{tenant}/me/passkeys", get(passkeys::list).post(passkeys::register))
        .route("/customer/{tenant}/me/passkeys/options", post(passkeys::registration_options))
        .route("/customer/{tenant}/me/passkeys/{passkey_id}", delete(passkeys::remove))
        // Moltin v1 (seed 000) and the retailer API (seed 001).
        .route("/{tenant}/v1/customers/{token}", get(dialects::moltin_get).delete(dialects::moltin_delete))
        .route("/{tenant}/v1/customers/{token}/orders", get(dialects::moltin_orders))
        .route("/{tenant}/v1/customers/{token}/orders/{order_id}", get(dialects::moltin_orders))
        .route("/{tenant}/v1/customers/{token}/orders/{order_id}/items", get(dialects::moltin_orders))
        .route(
            "/{tenant}/customers/self",
            get(dialects::retailer_get).patch(dialects::retailer_patch).delete(dialects::retailer_delete),
        )
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
