//! Thin handlers: parse the request into domain types, call the address
//! service, answer.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use shared::http::{AddressBook, CustomerCaller, Json, OneAddress, TenantPath};
use shared::services::addresses::{self, AddressView, UpdateKind};
use shared::{ApiError, AppState};

pub async fn list(caller: CustomerCaller<AddressBook>) -> Json<Vec<AddressView>> {
    Json(addresses::list(&caller))
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

pub async fn get_one(caller: CustomerCaller<OneAddress>) -> Result<Json<AddressView>, ApiError> {
    Ok(Json(addresses::get(&caller)?))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: CustomerCaller<OneAddress>,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    update(&state, &caller, UpdateKind::Patch, &body).await
}

pub async fn replace(
    State(state): State<AppState>,
    caller: CustomerCaller<OneAddress>,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    update(&state, &caller, UpdateKind::Replace, &body).await
}

async fn update(
    state: &AppState,
    caller: &CustomerCaller<OneAddress>,
    kind: UpdateKind,
    body: &Map<String, Value>,
) -> Result<Json<AddressView>, ApiError> {
    Ok(Json(addresses::update(state, caller, kind, body).await?))
}

pub async fn delete(State(state): State<AppState>, caller: CustomerCaller<OneAddress>) -> Result<StatusCode, ApiError> {
    addresses::delete(&state, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}
