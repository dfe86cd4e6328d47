//! The retailer API's reset routes (seed 001), which take no token: the
//! tenant comes from the path. `password_reset` mails a link with the code
//! as its last path segment; `do_reset` trades the code for a generated
//! passphrase, as `password/reset/generate` does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use shared::http::{ClientAddress, Json, TenantPath};
use shared::services::dialects::retailer;
use shared::services::password_reset::{
    self, GenerateBody, GenerateRequest, ResetLink, ResetRequest, ResetRequestBody,
};
use shared::{ApiError, AppState};

pub async fn request_reset(
    State(state): State<AppState>,
    client: ClientAddress,
    TenantPath(tenant): TenantPath,
    Json(body): Json<ResetRequestBody>,
) -> Result<impl IntoResponse, ApiError> {
    let mut request = ResetRequest::try_from(body)?;
    let settings = retailer::settings(&state, &tenant).await?;
    request.reset_uri = request.reset_uri.map(|uri| retailer::resolve_reset_uri(&settings, &uri)).transpose()?;
    password_reset::request_reset(&state, &tenant, &settings, request, &client, ResetLink::PathSegment).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"result": "email_sent"}))))
}

pub async fn do_reset(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    Json(body): Json<GenerateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let GenerateRequest { email, code } = body.try_into()?;
    let settings = retailer::settings(&state, &tenant).await?;
    let token = password_reset::generate_passphrase(&state, &tenant, &settings, &email, &code).await?;
    Ok(Json(json!({"token": token})))
}
