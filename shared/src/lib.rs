//! Everything two functions need: domain types, errors, the store and mailer
//! adapters, tokens, password hashing, the HTTP edge and the services that
//! hold the rules.

pub mod address;
pub mod clock;
pub mod config;
pub mod customer;
pub mod domain;
pub mod error;
pub mod fields;
pub mod http;
pub mod mail;
pub mod oidc;
pub mod password_policy;
pub mod passwords;
pub mod secrets;
pub mod services;
pub mod signing;
pub mod state;
pub mod store;
pub mod table_keys;
pub mod telemetry;
pub mod tenant;
pub mod tokens;

pub use error::ApiError;
pub use state::AppState;

/// Runs a function's router under the Lambda runtime: the whole of a
/// function's `main`.
pub async fn run_lambda(service: &'static str, router: fn(AppState) -> axum::Router) -> Result<(), lambda_http::Error> {
    telemetry::init(service);
    let state = AppState::from_env().await?;
    lambda_http::run(router(state)).await
}
