//! The pieces of `accounts` that tests share: the merged routes of all five
//! functions and the demo tenant's settings.

pub mod docs;

use axum::Router;
use shared::AppState;
use shared::domain::TenantId;
use shared::tenant::TenantSettings;

/// Every function's routes, merged: the local server's whole API.
pub fn all_routes() -> Router<AppState> {
    login::routes()
        .merge(activation::routes())
        .merge(profile::routes())
        .merge(addresses::routes())
        .merge(password_reset::routes())
}

/// Link targets of the demo tenant: a storefront on localhost:8080.
pub fn demo_settings(tenant: &TenantId) -> TenantSettings {
    let storefront = "http://localhost:8080";
    TenantSettings {
        display_name: format!("{tenant} shop"),
        activation_uri: Some(format!("{storefront}/activate")),
        email_confirm_uri: Some(format!("{storefront}/confirm-email")),
        reset_uri: Some(format!("{storefront}/reset-password")),
        allowed_link_uris: vec![format!("{storefront}/reset-password"), format!("{storefront}/activate")],
        ..TenantSettings::default()
    }
}
