//! Thin handlers for signing in with a passkey (discoverable credentials).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use shared::http::{ClientAddress, Json, StorefrontCaller, TenantPath, user_agent};
use shared::services::passkeys::{self, SignIn, SignInBody};
use shared::{ApiError, AppState};

/// `login/passkey/options`: request options for the storefront session.
pub async fn sign_in_options(
    State(state): State<AppState>,
    caller: StorefrontCaller,
    _: TenantPath,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(passkeys::start_sign_in(&state, &caller).await?))
}

/// `login/passkey`: the authenticator's assertion signs the customer in.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddress,
    caller: StorefrontCaller,
    _: TenantPath,
    Json(body): Json<SignInBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = SignIn::try_from(body)?;
    Ok(Json(passkeys::sign_in(&state, &caller, input, user_agent(&headers), &client).await?))
}
