//! Thin handlers: parse the body, call `shared::services::password_reset`, answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use shared::http::{ClientAddress, Json, StorefrontCaller};
use shared::services::password_reset::{
    self, GenerateBody, GenerateRequest, ResetLink, ResetRequest, ResetRequestBody, ResetUpdate, ResetUpdateBody,
};
use shared::{ApiError, AppState};

pub async fn request_reset(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: StorefrontCaller,
    Json(body): Json<ResetRequestBody>,
) -> Result<impl IntoResponse, ApiError> {
    let request = ResetRequest::try_from(body)?;
    password_reset::request_reset(&state, caller.tenant(), &caller.settings, request, &client, ResetLink::Query)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"result": "email_sent"}))))
}

pub async fn update(
    State(state): State<AppState>,
    caller: StorefrontCaller,
    Json(body): Json<ResetUpdateBody>,
) -> Result<StatusCode, ApiError> {
    let ResetUpdate { token, password } = body.try_into()?;
    password_reset::update_password(&state, &caller, &token, password).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn generate(
    State(state): State<AppState>,
    caller: StorefrontCaller,
    Json(body): Json<GenerateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let GenerateRequest { email, code } = body.try_into()?;
    let token = password_reset::generate_passphrase(&state, caller.tenant(), &caller.settings, &email, &code).await?;
    Ok(Json(json!({"token": token})))
}
