//! Body and query extractors whose rejections are problem+json: a missing or
//! mistyped field is named; an over-long body is a 413.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON body. An empty body reads as `{}`, so required fields are reported
/// by name rather than as "empty body".
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn content_type(req_headers: &axum::http::HeaderMap) -> Option<String> {
    req_headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|v| v.to_ascii_lowercase())
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest { code: "unreadable_body", detail: "The request body could not be read.".into() }
        }
    })
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let inner = err.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest { code: "malformed_json", detail: "The body is not valid JSON.".into() };
        }
        let path = err.path().to_string();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or_default().to_owned();
        let field = if path == "." { unknown_field(&message).unwrap_or_else(|| "body".into()) } else { path };
        ApiError::Validation(vec![FieldError::new(field, message)])
    })
}

/// serde names an unknown field inside its message: "unknown field `x`, ...".
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // No content type is accepted as JSON; any other than JSON is refused.
        if let Some(kind) = content_type(req.headers())
            && !kind.starts_with("application/json")
            && !(kind.starts_with("application/") && kind.contains("+json"))
        {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&body_bytes(req, state).await?).map(Json)
    }
}

/// A form-encoded or JSON body, by content type (OAuth-style token routes).
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = content_type(req.headers()).is_some_and(|k| k.starts_with("application/x-www-form-urlencoded"));
        let bytes = body_bytes(req, state).await?;
        if is_form { serde_urlencoded_like(&bytes).map(FormOrJson) } else { parse_json(&bytes).map(FormOrJson) }
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // axum's Form extractor needs the whole request; decode the bytes the same way.
    parse_json(&serde_json::to_vec(&form_pairs(bytes)?).unwrap_or_default())
}

/// `a=1&b=2` as a JSON object of strings. A name given twice is refused:
/// which one counts would otherwise be the parser's choice, not the client's
/// (`?tenant=evil&tenant=demo`).
fn form_pairs(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let mut pairs = serde_json::Map::new();
    let mut repeated: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(bytes).into_owned() {
        if pairs.contains_key(&name) {
            if !repeated.contains(&name) {
                repeated.push(name);
            }
            continue;
        }
        pairs.insert(name, serde_json::Value::String(value));
    }
    if repeated.is_empty() {
        return Ok(pairs);
    }
    Err(ApiError::Validation(repeated.into_iter().map(|name| FieldError::new(name, "must be given once")).collect()))
}

/// A query string; fields are strings, so only a malformed query fails here.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        parse_json(&serde_json::to_vec(&form_pairs(query.as_bytes())?).unwrap_or_default()).map(Query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_given_twice_is_named() {
        let Err(ApiError::Validation(errors)) = form_pairs(b"tenant=evil&tenant=demo&client_id=a&x=1&x=2&x=3") else {
            panic!("refused")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tenant", "x"]);
        assert_eq!(form_pairs(b"a=1&b=&c=3").unwrap().len(), 3);
    }
}
