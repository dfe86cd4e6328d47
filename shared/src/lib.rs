//! Everything two functions need: domain types, errors, the store and mailer
//! adapters, tokens, password hashing, the HTTP edge and the services that
//! hold the rules.

pub mod address;
pub mod clock;
pub mod config;
pub mod customer;
pub mod device_tokens;
pub mod domain;
pub mod error;
pub mod fields;
pub mod home_region;
pub mod http;
pub mod key_ring;
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
/// function's `main`. A sandbox serves one event at a time, so the runtime is
/// single-threaded: it starts faster and holds less memory (argon2id still
/// runs on the blocking pool).
pub fn run_lambda(service: &'static str, router: fn(AppState) -> axum::Router) -> Result<(), lambda_http::Error> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
        telemetry::init(service);
        let state = AppState::for_lambda().await?;
        lambda_http::run(router(state)).await
    })
}
