//! Thin handlers: parse the request, call `shared::services::profile`, answer.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::http::{CustomerCaller, Everything, Json, Query};
use shared::services::profile::{self, Expand, PasswordChange, PasswordChangeBody};
use shared::{ApiError, AppState};

#[derive(Deserialize)]
pub struct ProfileQuery {
    expand: Option<String>,
}

pub async fn get_profile(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Query(query): Query<ProfileQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let expand = Expand::parse(query.expand.as_deref())?;
    Ok(Json(profile::get(&state, &caller, &expand).await?))
}

pub async fn patch_profile(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(profile::update(&state, &caller, &body).await?))
}

#[derive(Deserialize)]
pub struct DeleteRequest {
    password: Option<String>,
}

pub async fn delete_profile(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(request): Json<DeleteRequest>,
) -> Result<impl IntoResponse, ApiError> {
    profile::delete_account(&state, &caller, request.password).await?;
    Ok(Json(json!({"result": "deleted"})))
}

/// `GET me/accounts`: the e-mail account and every linked provider identity.
pub async fn list_accounts(caller: CustomerCaller) -> impl IntoResponse {
    Json(profile::sign_in_methods::list(&caller))
}

/// `DELETE me/accounts/{id}`: unlink a provider identity (password or a fresh provider sign-in).
pub async fn unlink_account(
    State(state): State<AppState>,
    Path((_tenant, account_id)): Path<(String, String)>,
    caller: CustomerCaller,
    Json(request): Json<DeleteRequest>,
) -> Result<impl IntoResponse, ApiError> {
    profile::sign_in_methods::unlink(&state, &caller, &account_id, request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn change_password(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<PasswordChangeBody>,
) -> Result<StatusCode, ApiError> {
    let has_password = caller.profile.password_hash.is_some();
    let PasswordChange { current, new } = PasswordChange::parse(body, has_password)?;
    profile::change_password(&state, &caller, current, new).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn export(caller: CustomerCaller<Everything>) -> Result<impl IntoResponse, ApiError> {
    let disposition = format!("attachment; filename=\"customer-{}.json\"", caller.customer);
    let export = profile::export(caller);
    Ok(([(header::CONTENT_DISPOSITION, disposition), (header::CACHE_CONTROL, "no-store".to_owned())], Json(export)))
}
