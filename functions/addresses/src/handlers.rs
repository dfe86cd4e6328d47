//! Thin handlers: parse the request into domain types, call the address
//! service, answer.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use shared::domain::AddressId;
use shared::http::{CustomerCaller, Json, TenantPath};
use shared::services::addresses::{self, UpdateKind};
use shared::{ApiError, AppState};

/// An id that cannot exist is simply not found (ids are opaque).
fn address_id(raw: &str) -> Result<AddressId, ApiError> {
    AddressId::parse(raw).map_err(|_| ApiError::NotFound)
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
    Path((_tenant, id)): Path<(String, String)>,
    caller: CustomerCaller,
) -> Result<impl IntoResponse, ApiError> {
    let id = address_id(&id)?;
    Ok(Json(addresses::get(&state, &caller.tenant, &caller.customer, &id).await?))
}

pub async fn patch(
    State(state): State<AppState>,
    Path((_tenant, id)): Path<(String, String)>,
    caller: CustomerCaller,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    let id = address_id(&id)?;
    Ok(Json(addresses::update(&state, &caller.tenant, &caller.customer, &id, UpdateKind::Patch, &body).await?))
}

pub async fn replace(
    State(state): State<AppState>,
    Path((_tenant, id)): Path<(String, String)>,
    caller: CustomerCaller,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    let id = address_id(&id)?;
    Ok(Json(addresses::update(&state, &caller.tenant, &caller.customer, &id, UpdateKind::Replace, &body).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Path((_tenant, id)): Path<(String, String)>,
    caller: CustomerCaller,
) -> Result<StatusCode, ApiError> {
    let id = address_id(&id)?;
    addresses::delete(&state, &caller.tenant, &caller.customer, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
