//! Thin handlers for signing in with codes: e-mail codes, and the second
//! factor a challenged sign-in completes with.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use shared::http::{ClientAddress, Json, StorefrontCaller, TenantPath, user_agent};
use shared::services::email_code::{self, CodeRequest, CodeRequestBody, CodeSignIn, CodeSignInBody};
use shared::services::second_factor::{self, SecondFactorBody, SecondFactorInput};
use shared::{ApiError, AppState};

/// `login/emailCode`: 202 whether or not the address has an account.
pub async fn request_email_code(
    State(state): State<AppState>,
    client: ClientAddress,
    caller: StorefrontCaller,
    _: TenantPath,
    Json(body): Json<CodeRequestBody>,
) -> Result<impl IntoResponse, ApiError> {
    let request = CodeRequest::try_from(body)?;
    email_code::request_code(&state, &caller, request, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "result": "email_sent" }))))
}

/// `login/emailCode/verify`: the mailed code signs in once.
pub async fn sign_in_with_email_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddress,
    caller: StorefrontCaller,
    _: TenantPath,
    Json(body): Json<CodeSignInBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = CodeSignIn::try_from(body)?;
    Ok(Json(email_code::sign_in(&state, &caller, input, user_agent(&headers), &client).await?))
}

/// `login/secondFactor`: completes a sign-in answered `second_factor_required`.
pub async fn complete_second_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddress,
    caller: StorefrontCaller,
    _: TenantPath,
    Json(body): Json<SecondFactorBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = SecondFactorInput::try_from(body)?;
    Ok(Json(second_factor::complete(&state, &caller, input, user_agent(&headers), &client).await?))
}
