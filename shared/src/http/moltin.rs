//! The Moltin v1 dialect at the edge: its envelope (`{"status": true,
//! "result": ...}`, `{"status": false, "errors": [...]}`) as a rendering of
//! `ApiError` (same status and headers, the seed's body), and the caller a
//! path token stands for.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{CustomerCaller, StorefrontToken};
use crate::error::ApiError;
use crate::services::dialects::moltin;
use crate::state::AppState;

/// A success in the seed's envelope.
pub struct Moltin<T>(pub T);

impl<T: Serialize> IntoResponse for Moltin<T> {
    fn into_response(self) -> Response {
        axum::Json(serde_json::json!({ "status": true, "result": self.0 })).into_response()
    }
}

/// An `ApiError` rendered in the seed's envelope.
pub struct MoltinError(pub ApiError);

impl From<ApiError> for MoltinError {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl IntoResponse for MoltinError {
    fn into_response(self) -> Response {
        let errors = moltin::messages(&self.0);
        // The problem's status, headers (Retry-After) and logging; the seed's body.
        let mut response = self.0.into_response();
        let body = serde_json::json!({ "status": false, "errors": errors });
        *response.body_mut() = Body::from(serde_json::to_vec(&body).unwrap_or_default());
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// Any extractor of ours, its rejection in the Moltin envelope.
pub struct InMoltin<T>(pub T);

impl<S: Send + Sync, T: FromRequestParts<S, Rejection = ApiError>> FromRequestParts<S> for InMoltin<T> {
    type Rejection = MoltinError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, MoltinError> {
        T::from_request_parts(parts, state).await.map(Self).map_err(MoltinError)
    }
}

impl<S: Send + Sync, T: FromRequest<S, Rejection = ApiError>> FromRequest<S> for InMoltin<T> {
    type Rejection = MoltinError;

    async fn from_request(req: Request, state: &S) -> Result<Self, MoltinError> {
        T::from_request(req, state).await.map(Self).map_err(MoltinError)
    }
}

/// `customers/{token}/...`: the storefront's anonymous token as the bearer
/// (what Moltin's public key stood for), and the customer the path's token
/// is a handle on, with the same session check as a customer bearer token.
pub struct MoltinCaller(pub CustomerCaller);

impl FromRequestParts<AppState> for MoltinCaller {
    type Rejection = MoltinError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, MoltinError> {
        let storefront = StorefrontToken::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        let raw = params.iter().find(|(k, _)| *k == "token").map(|(_, v)| v.to_owned()).ok_or(ApiError::NotFound)?;
        Ok(Self(moltin::resolve(state, storefront.tenant(), &raw).await?))
    }
}
