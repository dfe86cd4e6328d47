//! Thin handlers: parse the request into domain types, call a service, answer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::domain::Email;
use shared::http::{Authenticated, ClientAddress, CustomerCaller, Json, tenant_path};
use shared::services::{email_change, signup as signup_service};
use shared::{ApiError, AppState};

fn accepted(result: &str) -> impl IntoResponse + use<> {
    (StatusCode::ACCEPTED, Json(json!({ "result": result })))
}

pub async fn signup(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: Authenticated,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    // A customer token is refused before the body is looked at.
    signup_service::require_anonymous(&caller.token)?;
    let input = signup_service::SignupInput::parse(&body)?;
    signup_service::signup(&state, &caller.token, input, &client).await?;
    Ok(accepted("activation_pending"))
}

#[derive(Deserialize)]
pub struct ActivateRequest {
    identifier: Option<String>,
    secret: Option<String>,
    password: Option<String>,
    password_check: Option<String>,
}

pub async fn activate(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(request): Json<ActivateRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = tenant_path(&tenant)?;
    let input = signup_service::ActivateInput::parse(
        request.identifier,
        request.secret,
        request.password,
        request.password_check,
    )?;
    signup_service::activate(&state, &tenant, input).await?;
    Ok(Json(json!({ "result": "activated" })))
}

#[derive(Deserialize)]
pub struct ResendRequest {
    email: Option<String>,
}

pub async fn resend(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: Authenticated,
    Json(request): Json<ResendRequest>,
) -> Result<impl IntoResponse, ApiError> {
    signup_service::require_anonymous(&caller.token)?;
    let email = request.email.ok_or_else(|| ApiError::field("email", "is required"))?;
    let email = Email::parse(&email).map_err(|e| ApiError::field("email", e.0))?;
    signup_service::resend(&state, &caller.token, &email, &client).await?;
    Ok(accepted("email_sent"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailChangeRequest {
    email: Option<String>,
    password: Option<String>,
    new_email: Option<String>,
    sync_contact_email: Option<bool>,
}

pub async fn change_email(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: CustomerCaller,
    Json(request): Json<EmailChangeRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let request = email_change::ChangeRequest::parse(
        request.email,
        request.password,
        request.new_email,
        request.sync_contact_email,
        // Named with the other missing fields, unless a fresh provider sign-in stands in.
        !shared::services::login::fresh_provider_sign_in(&caller),
    )?;
    email_change::request_change(&state, &caller, request, &client).await?;
    Ok(accepted("email_sent"))
}

#[derive(Deserialize)]
pub struct ConfirmRequest {
    identifier: Option<String>,
    key: Option<String>,
}

pub async fn confirm_email(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(request): Json<ConfirmRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = tenant_path(&tenant)?;
    let (identifier, key) = email_change::parse_confirm(request.identifier, request.key)?;
    email_change::confirm(&state, &tenant, identifier, &key).await?;
    Ok(Json(json!({ "result": "updated" })))
}
