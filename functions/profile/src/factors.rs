//! Thin handlers for the customer's authenticator (TOTP).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use shared::domain::SixDigitCode;
use shared::http::{CustomerCaller, Json};
use shared::services::second_factor::{self, ConfirmBody, Disable, DisableBody};
use shared::{ApiError, AppState};

/// `POST me/totp`: a secret and its `otpauth://` URI; nothing changes until confirmed.
pub async fn start_totp(State(state): State<AppState>, caller: CustomerCaller) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(second_factor::start_enrolment(&state, &caller).await?))
}

/// `POST me/totp/confirm`: the first code enables it; the recovery codes are shown once.
pub async fn confirm_totp(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<ConfirmBody>,
) -> Result<impl IntoResponse, ApiError> {
    let code = SixDigitCode::try_from(body)?;
    Ok(Json(second_factor::confirm_enrolment(&state, &caller, code).await?))
}

/// `DELETE me/totp`: the password and a code (or recovery code) remove it.
pub async fn disable_totp(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<DisableBody>,
) -> Result<impl IntoResponse, ApiError> {
    second_factor::disable(&state, &caller, Disable::try_from(body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
