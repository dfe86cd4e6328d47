//! Thin handlers for the customer's passkeys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use shared::http::{CustomerCaller, Json};
use shared::services::passkeys::{self, Register, RegisterBody, RegistrationOptionsBody};
use shared::{ApiError, AppState};

/// `POST me/passkeys/options`: creation options, once the owner is confirmed.
pub async fn registration_options(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<RegistrationOptionsBody>,
) -> Result<impl IntoResponse, ApiError> {
    let password = passkeys::parse_registration_options(body)?;
    Ok(Json(passkeys::start_registration(&state, &caller, password).await?))
}

/// `POST me/passkeys`: the authenticator's answer adds the passkey.
pub async fn register(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(body): Json<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = Register::try_from(body)?;
    Ok((StatusCode::CREATED, Json(passkeys::finish_registration(&state, &caller, input).await?)))
}

/// `GET me/passkeys`: the customer's passkeys, oldest first.
pub async fn list(State(state): State<AppState>, caller: CustomerCaller) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(passkeys::list(&state, &caller).await?))
}

/// `DELETE me/passkeys/{passkeyId}`.
pub async fn remove(
    State(state): State<AppState>,
    Path((_tenant, passkey_id)): Path<(String, String)>,
    caller: CustomerCaller,
) -> Result<StatusCode, ApiError> {
    passkeys::remove(&state, &caller, &passkey_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
