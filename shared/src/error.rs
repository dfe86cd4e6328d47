//! The one error type of the API. Every failure a handler can meet becomes an
//! `ApiError`, and every `ApiError` renders as RFC 9457 problem+json. Internal
//! causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or missing input; lists every bad field at once.
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    /// A 400 with a stable code and no field list (e.g. `invalid_token`).
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, detail: String },
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {code}")]
    Conflict { code: &'static str, detail: String, current_version: Option<u64> },
    /// socialLogin found an existing account with the provider's e-mail: the
    /// owner must consent before the identity is linked (409 `link_required`
    /// with a short-lived `linkToken` and the ways to consent).
    #[error("link required")]
    LinkRequired { link_token: String, expires_in: i64, methods: Vec<&'static str> },
    /// The password (or e-mail code) was right and the account has a second
    /// factor (or the tenant requires one): 401 `second_factor_required`
    /// with a short-lived, single-use `challenge` for `login/secondFactor`.
    #[error("second factor required")]
    SecondFactorRequired { challenge: String, expires_in: i64, methods: Vec<&'static str> },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Well-formed input that breaks a rule (weak password, too many addresses).
    #[error("unprocessable: {code}")]
    Unprocessable { code: &'static str, errors: Vec<FieldError> },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("bad gateway: {0}")]
    BadGateway(&'static str),
    /// The database is down, throttling or too slow, or the process has more
    /// password checks waiting than it takes: retry shortly.
    #[error("service unavailable: {cause}")]
    Unavailable { cause: String, retry_after_secs: u64 },
    /// A route of a seed API that belongs to another service (Moltin's
    /// orders): 501 saying where it lives.
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::SecondFactorRequired { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::LinkRequired { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code (also the tail of `type`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "invalid_request",
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } | Self::Unprocessable { code, .. } => code,
            Self::Unauthorized(code) | Self::Forbidden(code) | Self::BadGateway(code) => code,
            Self::NotFound => "not_found",
            Self::LinkRequired { .. } => "link_required",
            Self::SecondFactorRequired { .. } => "second_factor_required",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable { .. } => "service_unavailable",
            Self::NotImplemented(_) => "not_implemented",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => format!("{} field(s) are missing or invalid.", errors.len()),
            Self::BadRequest { detail, .. } | Self::Conflict { detail, .. } => detail.clone(),
            Self::Unauthorized(_) => "The credentials or token are missing, invalid, expired or revoked.".into(),
            Self::Forbidden(_) => "This token may not perform this request.".into(),
            Self::NotFound => "The resource does not exist.".into(),
            Self::LinkRequired { .. } => "An account with this e-mail exists: its owner must confirm the link, with \
                                           the account's password or through a link mailed to the account."
                .into(),
            Self::SecondFactorRequired { .. } => {
                "The account asks for a second factor: complete the sign-in with the challenge and a code.".into()
            }
            Self::MethodNotAllowed => "The method is not allowed on this resource.".into(),
            Self::PayloadTooLarge => "The request body exceeds 64 KiB.".into(),
            Self::UnsupportedMediaType => "Send the body as application/json.".into(),
            Self::Unprocessable { .. } => "The input is well-formed but breaks a rule.".into(),
            Self::TooManyRequests { .. } => "Too many attempts; retry later.".into(),
            Self::BadGateway(_) => "An upstream identity provider failed.".into(),
            Self::Unavailable { .. } => {
                "The service is briefly unavailable; retry after the time Retry-After names.".into()
            }
            Self::NotImplemented(detail) => (*detail).into(),
            Self::Internal(_) => "Something went wrong.".into(),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(rename = "currentVersion", skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
    #[serde(rename = "linkToken", skip_serializing_if = "Option::is_none")]
    link_token: Option<&'a str>,
    #[serde(rename = "linkTokenExpiresIn", skip_serializing_if = "Option::is_none")]
    link_token_expires_in: Option<i64>,
    #[serde(rename = "linkMethods", skip_serializing_if = "Option::is_none")]
    link_methods: Option<&'a [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge: Option<&'a str>,
    #[serde(rename = "challengeExpiresIn", skip_serializing_if = "Option::is_none")]
    challenge_expires_in: Option<i64>,
    #[serde(rename = "secondFactorMethods", skip_serializing_if = "Option::is_none")]
    second_factor_methods: Option<&'a [&'static str]>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            Self::Unavailable { cause, .. } => tracing::warn!(event = "unavailable", error = %cause, "answered 503"),
            _ => {}
        }
        let errors: &[FieldError] = match &self {
            Self::Validation(errors) | Self::Unprocessable { errors, .. } => errors,
            _ => &[],
        };
        let current_version = match &self {
            Self::Conflict { current_version, .. } => *current_version,
            _ => None,
        };
        let (link_token, link_token_expires_in, link_methods) = match &self {
            Self::LinkRequired { link_token, expires_in, methods } => {
                (Some(link_token.as_str()), Some(*expires_in), Some(methods.as_slice()))
            }
            _ => (None, None, None),
        };
        let (challenge, challenge_expires_in, second_factor_methods) = match &self {
            Self::SecondFactorRequired { challenge, expires_in, methods } => {
                (Some(challenge.as_str()), Some(*expires_in), Some(methods.as_slice()))
            }
            _ => (None, None, None),
        };
        let problem = Problem {
            kind: format!("urn:customer-accounts:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors,
            current_version,
            link_token,
            link_token_expires_in,
            link_methods,
            challenge,
            challenge_expires_in,
            second_factor_methods,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Self::TooManyRequests { retry_after_secs } | Self::Unavailable { retry_after_secs, .. } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        response
    }
}

impl From<crate::passwords::HashError> for ApiError {
    fn from(err: crate::passwords::HashError) -> Self {
        match err {
            crate::passwords::HashError::Busy => {
                Self::Unavailable { cause: "password checks queued to the limit".into(), retry_after_secs: 1 }
            }
            err => Self::Internal(err.to_string()),
        }
    }
}

/// Collects every bad field of an input before answering, so a client learns
/// all of its mistakes in one round trip.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// A required field: missing → "is required"; present → parsed.
    pub fn require<R, T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, E>,
    ) -> Option<T> {
        match raw {
            None => {
                self.errors.push(FieldError::new(field, "is required"));
                None
            }
            Some(raw) => self.check(field, parse(raw)),
        }
    }

    /// An optional field: missing is fine; present must parse.
    pub fn optional<R, T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.errors.push(FieldError::new(field, err.to_string()));
                None
            }
        }
    }

    pub fn push(&mut self, field: &str, message: &str) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }

    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.errors)
    }
}
