//! Logging: JSON lines with the AWS Lambda Powertools key names, so Logs
//! Insights queries written for other runtimes work unchanged.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once per process). `service` names the
/// function. Honours `RUST_LOG`/`AWS_LAMBDA_LOG_LEVEL`; JSON unless
/// `LOG_FORMAT=text`.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_else(|_| "info".into())))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    SERVICE.get_or_init(|| service);
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = if std::env::var("LOG_FORMAT").as_deref() == Ok("text") {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    };
    let _ = result;
}

static SERVICE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

pub fn service_name() -> &'static str {
    SERVICE.get().copied().unwrap_or("customer-accounts")
}
