//! Thin handlers: parse the request into domain types, call the address
//! service, answer.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use shared::domain::AddressId;
use shared::http::{CustomerCaller, Json, TenantPath};
use shared::services::addresses::{self, AddressView, UpdateKind};
use shared::{ApiError, AppState};

/// The `{id}` path segment; an id that cannot exist is simply not found
/// (ids are opaque). Placed after the caller: no answer about ids before
/// the token is checked.
pub struct AddressPath(AddressId);

impl<S: Send + Sync> FromRequestParts<S> for AddressPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((_tenant, raw)) =
            Path::<(String, String)>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        AddressId::parse(&raw).map(Self).map_err(|_| ApiError::NotFound)
    }
}

pub async fn list(State(state): State<AppState>, caller: CustomerCaller) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(addresses::list(&state, &caller.tenant, &caller.customer).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    let id = addresses::create(&state, &caller.tenant, &caller.customer, &body).await?;
    let location = format!("/customer/{}/me/addresses/{id}", caller.tenant);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(json!({ "id": id }))))
}

/// No token needed: a storefront renders its address form before sign-in.
pub async fn form_fields(_: TenantPath) -> Result<impl IntoResponse, ApiError> {
    Ok(([(header::CACHE_CONTROL, "public, max-age=3600")], Json(addresses::form_schema())))
}

pub async fn get_one(
    State(state): State<AppState>,
    caller: CustomerCaller,
    AddressPath(id): AddressPath,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(addresses::get(&state, &caller.tenant, &caller.customer, &id).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: CustomerCaller,
    AddressPath(id): AddressPath,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    update(&state, &caller, &id, UpdateKind::Patch, &body).await
}

pub async fn replace(
    State(state): State<AppState>,
    caller: CustomerCaller,
    AddressPath(id): AddressPath,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    update(&state, &caller, &id, UpdateKind::Replace, &body).await
}

async fn update(
    state: &AppState,
    caller: &CustomerCaller,
    id: &AddressId,
    kind: UpdateKind,
    body: &Map<String, Value>,
) -> Result<Json<AddressView>, ApiError> {
    Ok(Json(addresses::update(state, &caller.tenant, &caller.customer, id, kind, body).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: CustomerCaller,
    AddressPath(id): AddressPath,
) -> Result<StatusCode, ApiError> {
    addresses::delete(&state, &caller.tenant, &caller.customer, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
