//! The login routes of the seed dialects: Moltin v1 `customers/token` and
//! the retailer `customers/login`. Thin: the login is `services::login`'s.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::json;
use shared::http::{
    ClientAddress, FormOrJson, InMoltin, Json, Moltin, MoltinError, StorefrontToken, TenantPath, user_agent,
};
use shared::services::dialects::{moltin, retailer};
use shared::services::login::{self as login_service, LoginInput, LoginRequest};
use shared::{ApiError, AppState};

/// `POST {tenant}/v1/customers/token`: form-encoded (as `curl -d` sends it) or JSON.
pub async fn moltin_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddress,
    InMoltin(caller): InMoltin<StorefrontToken>,
    InMoltin(_): InMoltin<TenantPath>,
    InMoltin(FormOrJson(body)): InMoltin<FormOrJson<moltin::TokenBody>>,
) -> Result<impl IntoResponse, MoltinError> {
    let input = LoginInput::try_from(body)?;
    Ok(Moltin(moltin::login(&state, &caller, input, user_agent(&headers), &client).await?))
}

/// `DELETE {tenant}/v1/customers/token/{token}`: logout.
pub async fn moltin_logout(
    State(state): State<AppState>,
    InMoltin(caller): InMoltin<StorefrontToken>,
    Path((_tenant, token)): Path<(String, String)>,
) -> Result<impl IntoResponse, MoltinError> {
    moltin::logout(&state, caller.tenant(), &token).await?;
    Ok(Moltin(json!({ "deleted": true })))
}

/// `POST {tenant}/customers/login`: the seed sends no storefront token, so
/// the login runs on a fresh session of the tenant's default storefront
/// client; a storefront that sends its anonymous token logs in on that one.
pub async fn retailer_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddress,
    storefront: Result<StorefrontToken, ApiError>,
    TenantPath(tenant): TenantPath,
    Json(request): Json<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let input = LoginInput::try_from(request)?;
    let caller = match headers.contains_key(axum::http::header::AUTHORIZATION) {
        true => storefront?,
        false => retailer::default_storefront(&state, &tenant, user_agent(&headers)).await?,
    };
    let signed_in = login_service::login(&state, &caller, input, user_agent(&headers), &client).await?;
    Ok(Json(json!({ "token": signed_in.tokens.access_token })))
}
