//! The profile routes of the seed dialects: Moltin v1 `customers/{token}`
//! (and its order routes, which belong to an order service) and the
//! retailer `customers/self`. Thin: the rules are `services::profile`'s.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::http::{ClientAddress, CustomerCaller, FormOrJson, InMoltin, Json, Moltin, MoltinCaller, MoltinError};
use shared::services::dialects::{moltin, retailer};
use shared::services::profile;
use shared::{ApiError, AppState};

/// `GET {tenant}/v1/customers/{token}`: the customer, as the token answer shows it.
pub async fn moltin_get(MoltinCaller(caller): MoltinCaller) -> impl IntoResponse {
    Moltin(moltin::MoltinCustomer::of(&caller.profile))
}

#[derive(Deserialize)]
pub struct DeleteBody {
    password: Option<String>,
}

/// `DELETE {tenant}/v1/customers/{token}`: the account goes, as `DELETE me`
/// (with the password, form or JSON).
pub async fn moltin_delete(
    State(state): State<AppState>,
    MoltinCaller(caller): MoltinCaller,
    InMoltin(FormOrJson(body)): InMoltin<FormOrJson<DeleteBody>>,
) -> Result<impl IntoResponse, MoltinError> {
    profile::delete_account(&state, &caller, body.password).await?;
    Ok(Moltin(json!({ "deleted": true })))
}

/// Moltin's `customers/{token}/orders...`: 501, naming the order service.
pub async fn moltin_orders() -> ApiError {
    ApiError::NotImplemented(moltin::ORDERS_ELSEWHERE)
}

pub async fn retailer_get(
    State(state): State<AppState>,
    caller: CustomerCaller,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(retailer::get(&state, &caller).await?))
}

pub async fn retailer_patch(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: CustomerCaller,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(retailer::update(&state, &caller, &body, &client).await?))
}

/// `DELETE {tenant}/customers/self`: with `{"password"}`, as `DELETE me`.
pub async fn retailer_delete(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<DeleteBody>,
) -> Result<impl IntoResponse, ApiError> {
    profile::delete_account(&state, &caller, body.password).await?;
    Ok(Json(json!({ "result": "deleted" })))
}
