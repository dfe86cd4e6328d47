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
    return_large_blocks_to_the_os();
    telemetry::init(service);
    let state = AppState::for_lambda().await?;
    lambda_http::run(router(state)).await
}

/// argon2id allocates 19 MiB per hash. glibc raises its mmap threshold to the
/// size of the first large block freed, so later blocks would come from the
/// heap and stay there: a warm login container grew past 200 MiB. A fixed
/// threshold keeps large blocks mmapped, returned to the OS when freed.
fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
