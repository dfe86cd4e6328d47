//! Thin handlers: parse the request into domain types, call a service, answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::domain::Email;
use shared::http::{ClientAddress, CustomerCaller, Json, StorefrontCaller, TenantPath};
use shared::services::email_change::{self, ChangeBody, ChangeRequest, ConfirmBody, Confirmation};
use shared::services::signup::{self as signup_service, ActivateBody, ActivateInput};
use shared::{ApiError, AppState};

fn accepted(result: &str) -> impl IntoResponse + use<> {
    (StatusCode::ACCEPTED, Json(json!({ "result": result })))
}

pub async fn signup(
    State(state): State<AppState>,
    client: ClientAddress,
    // A customer token is refused before the body is looked at.
    caller: StorefrontCaller,
    Json(body): Json<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    let input = signup_service::SignupInput::parse(&body)?;
    signup_service::signup(&state, &caller, input, &client).await?;
    Ok(accepted("activation_pending"))
}

pub async fn activate(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    Json(body): Json<ActivateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = ActivateInput::try_from(body)?;
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
    caller: StorefrontCaller,
    Json(request): Json<ResendRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let email = request.email.ok_or_else(|| ApiError::field("email", "is required"))?;
    let email = Email::parse(&email).map_err(|e| ApiError::field("email", e.0))?;
    signup_service::resend(&state, &caller, &email, &client).await?;
    Ok(accepted("email_sent"))
}

pub async fn change_email(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: CustomerCaller,
    Json(body): Json<ChangeBody>,
) -> Result<impl IntoResponse, ApiError> {
    // Named with the other missing fields, unless a fresh provider sign-in stands in.
    let password_required = !shared::services::login::fresh_provider_sign_in(&caller);
    let request = ChangeRequest::parse(body, password_required)?;
    email_change::request_change(&state, &caller, request, &client).await?;
    Ok(accepted("email_sent"))
}

pub async fn confirm_email(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    Json(body): Json<ConfirmBody>,
) -> Result<impl IntoResponse, ApiError> {
    email_change::confirm(&state, &tenant, &Confirmation::try_from(body)?).await?;
    Ok(Json(json!({ "result": "updated" })))
}
