//! API Gateway HTTP API (payload v2) events from `events/`, fed through a
//! function's router exactly as Lambda would: `lambda_http::request::from_str`.
//! Fixtures hold `{{PLACEHOLDER}}`s for values only known at test time
//! (tokens, ids); they stay valid events for `sam local invoke`.

use std::path::PathBuf;

use axum::Router;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// Every fixture file name in `events/`.
pub fn all_fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

pub struct FixtureReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Loads `events/{name}`, fills placeholders, and runs it through `router`.
pub async fn invoke(router: Router, name: &str, values: &[(&str, &str)]) -> FixtureReply {
    let mut text = std::fs::read_to_string(events_dir().join(name)).unwrap_or_else(|e| panic!("events/{name}: {e}"));
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    let request = lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("events/{name} is not an API Gateway event: {e}"));
    let response = router.oneshot(request).await.expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    FixtureReply { status, headers, body }
}

/// A check that a body is the problem+json of `code`.
pub fn problem(code: &'static str) -> impl Fn(&Value) -> bool {
    move |body| body["code"] == code && body["status"].is_u64() && body["type"].is_string()
}

/// The `field` names of a problem's `errors`, sorted.
pub fn error_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    fields.sort();
    fields
}
