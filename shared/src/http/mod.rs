//! The HTTP edge shared by every function: body limit, problem+json for
//! unknown routes and rejected input, request ids, and the auth extractors.

mod auth;
mod client_address;
mod json;
mod moltin;
mod request_context;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use auth::{
    AddressBook, Authenticated, CustomerCaller, CustomerSessions, Everything, OneAddress, ReadBeside, SignedToken,
    StorefrontCaller, StorefrontToken, TenantPath, user_agent,
};
pub use client_address::ClientAddress;
pub use json::{FormOrJson, Json, Query};
pub use moltin::{InMoltin, Moltin, MoltinCaller, MoltinError};
pub use request_context::{COLD_START, request_context};

use crate::domain::TenantId;
use crate::error::ApiError;
use crate::state::AppState;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Turns a function's routes into the service that Lambda (or the local
/// server) runs. Every function goes through here, so every route behaves
/// the same at the edge.
pub fn service(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), request_context))
        .with_state(state)
}

/// The `{tenant}` path segment, parsed.
pub fn tenant_path(raw: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(raw).map_err(|e| ApiError::field("tenant", e.0))
}
