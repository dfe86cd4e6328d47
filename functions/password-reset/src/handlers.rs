//! Thin handlers: parse the body, call `shared::services::password_reset`, answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shared::http::{Authenticated, ClientAddress, Json};
use shared::services::password_reset;
use shared::{ApiError, AppState};

#[derive(Deserialize)]
pub struct ResetRequestBody {
    email: Option<String>,
    site: Option<String>,
    reset_uri: Option<String>,
}

pub async fn request_reset(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: Authenticated,
    Json(body): Json<ResetRequestBody>,
) -> Result<impl IntoResponse, ApiError> {
    let request = password_reset::parse_request(body.email, body.site, body.reset_uri)?;
    password_reset::request_reset(&state, &caller.token, request, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"result": "email_sent"}))))
}

#[derive(Deserialize)]
pub struct UpdateBody {
    token: Option<String>,
    password: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Json(body): Json<UpdateBody>,
) -> Result<StatusCode, ApiError> {
    let (token, password) = password_reset::parse_update(body.token, body.password)?;
    password_reset::update_password(&state, &caller.token, &token, password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct GenerateBody {
    email: Option<String>,
    code: Option<String>,
}

pub async fn generate(
    State(state): State<AppState>,
    caller: Authenticated,
    Json(body): Json<GenerateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (email, code) = password_reset::parse_generate(body.email, body.code)?;
    let token = password_reset::generate_passphrase(&state, &caller.token, &email, &code).await?;
    Ok(Json(json!({"token": token})))
}
