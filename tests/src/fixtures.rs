//! API Gateway HTTP API (payload v2) events from `events/`, fed through a
//! function's router exactly as Lambda would: `lambda_http::request::from_str`.
//! Fixtures hold `{{PLACEHOLDER}}`s for values only known at test time
//! (tokens, ids); they stay valid events for `sam local invoke`.
//!
//! A test lists its fixtures as [`Case`]s (fixture, status, body check) and
//! runs them with [`Case::run`] or [`run_cases`]; each run also checks what
//! every answer carries: API Gateway's request id, and for an error a
//! problem+json whose `status` is the answer's.

use std::path::PathBuf;

use axum::Router;
use http::StatusCode;
use serde_json::Value;
use tower::ServiceExt;

use crate::Reply;

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The text of `events/{name}`, placeholders unfilled.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(events_dir().join(name)).unwrap_or_else(|e| panic!("events/{name}: {e}"))
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

/// Loads `events/{name}`, fills placeholders, and runs it through `router`.
pub async fn invoke<V: AsRef<str>>(router: Router, name: &str, values: &[(&str, V)]) -> Reply {
    let mut text = fixture_text(name);
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value.as_ref());
    }
    let request = lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("events/{name} is not an API Gateway event: {e}"));
    Reply::read(router.oneshot(request).await.expect("the router is infallible")).await
}

/// What every fixture's answer carries: the request id API Gateway gave the
/// event (`fixture-{name}`), and for an error a problem+json whose `status`
/// is the answer's.
pub fn assert_gateway_answer(name: &str, reply: &Reply) {
    let request_id = format!("fixture-{}", name.trim_end_matches(".json"));
    assert_eq!(reply.headers["x-request-id"], request_id.as_str(), "{name}: x-request-id is API Gateway's");
    if reply.status.is_client_error() || reply.status.is_server_error() {
        assert_eq!(reply.headers["content-type"], "application/problem+json", "{name}");
        assert_eq!(reply.body["status"], reply.status.as_u16(), "{name}: the problem's status");
    }
}

/// A check of an answer's body.
pub type Check = Box<dyn Fn(&Value) -> bool>;

/// One fixture, the status it answers with, and a check of the body.
pub struct Case {
    pub fixture: &'static str,
    pub status: StatusCode,
    pub check: Check,
}

/// A [`Case`] without the `Box`.
pub fn case(fixture: &'static str, status: StatusCode, check: impl Fn(&Value) -> bool + 'static) -> Case {
    Case { fixture, status, check: Box::new(check) }
}

impl Case {
    /// Invokes the fixture through `router` with `values`, and asserts the
    /// status, the body check and the headers every answer carries.
    pub async fn run<V: AsRef<str>>(&self, router: Router, values: &[(&str, V)]) -> Reply {
        let name = self.fixture;
        let reply = invoke(router, name, values).await;
        assert_eq!(reply.status, self.status, "{name}: {}", reply.body);
        assert!((self.check)(&reply.body), "{name}: unexpected body {}", reply.body);
        assert_gateway_answer(name, &reply);
        reply
    }
}

/// Runs `cases` in order (later cases see what earlier ones changed), each
/// through a fresh `router()` with the same `values`.
pub async fn run_cases<V: AsRef<str>>(router: impl Fn() -> Router, values: &[(&str, V)], cases: Vec<Case>) {
    for case in cases {
        case.run(router(), values).await;
    }
}

/// Placeholder values, `("NAME", value)` for `{{NAME}}`.
pub struct Values(pub Vec<(&'static str, String)>);

impl Values {
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no value {name}"))
    }
}

impl std::ops::Deref for Values {
    type Target = [(&'static str, String)];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A check that a body is the problem+json of `code`.
pub fn problem(code: &'static str) -> impl Fn(&Value) -> bool {
    move |body| body["code"] == code && body["status"].is_u64() && body["type"].is_string()
}

/// A check that a body is `{"result": value}`.
pub fn result(value: &'static str) -> impl Fn(&Value) -> bool {
    move |body| *body == serde_json::json!({"result": value})
}

/// Whether `body` holds every field of `expected` with the same value; an
/// object in `expected` is compared in the same way, field by field, any
/// other value (arrays too) as a whole.
pub fn contains(body: &Value, expected: &Value) -> bool {
    match expected {
        Value::Object(fields) => fields.iter().all(|(name, value)| contains(&body[name], value)),
        other => body == other,
    }
}

/// A check that a body [`contains`] `expected`.
pub fn includes(expected: Value) -> impl Fn(&Value) -> bool {
    move |body| contains(body, &expected)
}

/// The `field` names of a problem's `errors`, in the order given (none
/// without `errors`).
pub fn fields_in_order(body: &Value) -> Vec<String> {
    let errors = body["errors"].as_array().map(Vec::as_slice).unwrap_or_default();
    errors
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_else(|| panic!("an error without a field: {e}")).to_owned())
        .collect()
}

/// The `field` names of a problem's `errors`, sorted.
pub fn error_fields(body: &Value) -> Vec<String> {
    let mut fields = fields_in_order(body);
    fields.sort();
    fields
}

/// A check that a body is an `invalid_request` problem naming exactly
/// `fields`, in this order.
pub fn invalid_fields(fields: &'static [&'static str]) -> impl Fn(&Value) -> bool {
    move |body| body["code"] == "invalid_request" && fields_in_order(body) == fields
}

#[cfg(test)]
mod checks {
    use serde_json::json;

    use super::*;

    #[test]
    fn contains_compares_named_fields_and_whole_arrays() {
        let body = json!({"city": "Paris", "tags": ["SHIPPING"], "metadata": {"version": 2, "createdAt": "x"}});
        assert!(contains(&body, &json!({"city": "Paris", "metadata": {"version": 2}})));
        assert!(contains(&body, &json!({"tags": ["SHIPPING"]})));
        assert!(!contains(&body, &json!({"metadata": {"version": 3}})));
        assert!(!contains(&body, &json!({"tags": []})));
        assert!(!contains(&body, &json!({"country": "FR"})));
    }

    #[test]
    fn field_names_keep_or_sort_their_order() {
        let body = json!({"errors": [{"field": "tenant"}, {"field": "client_id"}]});
        assert_eq!(fields_in_order(&body), ["tenant", "client_id"]);
        assert_eq!(error_fields(&body), ["client_id", "tenant"]);
        assert!(fields_in_order(&json!({})).is_empty());
    }
}
