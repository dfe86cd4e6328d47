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

use lambda_http::tower::ServiceExt;

/// Runs a function's router under the Lambda runtime: the whole of a
/// function's `main`. A sandbox serves one event at a time, so the runtime is
/// single-threaded: it starts faster and holds less memory (argon2id still
/// runs on the blocking pool).
///
/// The state and the router (SDK clients, the key set parsed and checked:
/// CPU work only) are built on a thread of their own from the first instant,
/// beside the runtime's start and its first `next`; the first event waits
/// for what is left of it. A key set in Secrets Manager is read on the
/// runtime then. A state that cannot be built ends the process, as a failed
/// init would: Lambda reports it and starts afresh.
pub fn run_lambda(service: &'static str, router: fn(AppState) -> axum::Router) -> Result<(), lambda_http::Error> {
    let (started, startup) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let startup = AppState::prepare_for_lambda().map(|prepared| match prepared.into_state() {
            Ok(state) => Startup::Ready(router(state)),
            Err(prepared) => Startup::NeedsNetwork(prepared),
        });
        let _ = started.send(startup);
    });
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
        telemetry::init(service);
        let startup = std::sync::Mutex::new(Some(startup));
        let app = tokio::sync::OnceCell::new();
        let (startup, app) = (&startup, &app);
        lambda_http::run(lambda_http::tower::service_fn(move |request: lambda_http::Request| async move {
            let app = app.get_or_init(|| started_router(startup, router)).await;
            app.clone().oneshot(request).await
        }))
        .await
    })
}

/// What `run_lambda`'s start-up thread hands over.
enum Startup {
    Ready(axum::Router),
    NeedsNetwork(Box<state::Prepared>),
}

type StartupReceiver = tokio::sync::oneshot::Receiver<Result<Startup, state::StartupError>>;

/// The router the start-up thread built (or prepared); the process ends if
/// there is none.
async fn started_router(
    startup: &std::sync::Mutex<Option<StartupReceiver>>,
    router: fn(AppState) -> axum::Router,
) -> axum::Router {
    let receiver = startup.lock().ok().and_then(|mut receiver| receiver.take());
    let built = match receiver {
        None => Err("an earlier event found no state".to_owned()),
        Some(receiver) => match receiver.await {
            Err(_) => Err("the start-up thread ended without a state".to_owned()),
            Ok(Err(err)) => Err(err.to_string()),
            Ok(Ok(Startup::Ready(app))) => Ok(app),
            Ok(Ok(Startup::NeedsNetwork(prepared))) => prepared.finish().await.map(router).map_err(|e| e.to_string()),
        },
    };
    built.unwrap_or_else(|error| {
        tracing::error!(event = "startup_failed", %error, "the function cannot start");
        std::process::exit(1)
    })
}
