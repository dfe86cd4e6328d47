//! What the seed tests share: a seed's example answer checked field by field
//! for its JSON type, and requests sent as a seed's client sends them
//! (headers verbatim, a body as JSON or as `curl -d` sends a form).

use axum::body::Body;
use http::{Method, Request};
use serde_json::Value;

use crate::{Reply, TestApp};

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field the seed shows is there with the seed's JSON type (in
/// objects and in the first element of lists).
#[track_caller]
pub fn assert_seed_shape(what: &str, actual: &Value, seed: &Value) {
    match (seed, actual) {
        (Value::Object(fields), Value::Object(got)) => {
            for (key, expected) in fields {
                let value = got.get(key).unwrap_or_else(|| panic!("{what}: no `{key}` in {actual}"));
                assert_eq!(kind(value), kind(expected), "{what}.{key}: {value}");
                assert_seed_shape(&format!("{what}.{key}"), value, expected);
            }
        }
        (Value::Array(items), Value::Array(got)) if !items.is_empty() => {
            let first = got.first().unwrap_or_else(|| panic!("{what}: empty list"));
            assert_seed_shape(&format!("{what}[0]"), first, &items[0]);
        }
        _ => {}
    }
}

/// A request body as a seed's client sends it.
pub enum SeedBody<'a> {
    None,
    Json(Value),
    /// The `-d` arguments of a curl line, joined with `&` as curl joins them
    /// (curl sends them as they are, `application/x-www-form-urlencoded`).
    Form(&'a [&'a str]),
}

pub async fn call(app: &TestApp, method: Method, uri: &str, headers: &[(&str, &str)], body: SeedBody<'_>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        SeedBody::None => Body::empty(),
        SeedBody::Json(body) => Body::from(serde_json::to_vec(&body).unwrap()),
        SeedBody::Form(fields) => {
            request = request.header("content-type", "application/x-www-form-urlencoded");
            Body::from(fields.join("&"))
        }
    };
    app.send(request.body(body).unwrap()).await
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
