//! Thin handlers: parse the request into domain types, call a service, answer.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use shared::domain::{ClientId, SessionId};
use shared::error::Validator;
use shared::http::{
    Authenticated, ClientAddress, CustomerCaller, FormOrJson, Json, Query, SignedToken, tenant_path, user_agent,
};
use shared::services::{email_change, login as login_service, sessions, social_link, social_login as social_service};
use shared::{ApiError, AppState};

#[derive(Deserialize)]
pub struct AnonymousLoginQuery {
    tenant: Option<String>,
    client_id: Option<String>,
}

pub async fn anonymous_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AnonymousLoginQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let mut v = Validator::default();
    let tenant = v.require("tenant", query.tenant, |t| shared::domain::TenantId::parse(&t));
    let client = v.require("client_id", query.client_id, |c| ClientId::parse(&c));
    let (Some(tenant), Some(client)) = (tenant, client) else { return Err(v.into_error()) };
    Ok(Json(sessions::anonymous_login(&state, &tenant, &client, user_agent(&headers)).await?))
}

#[derive(Deserialize)]
pub struct AnonymousRefreshRequest {
    tenant: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
}

pub async fn anonymous_refresh_query(
    State(state): State<AppState>,
    Query(request): Query<AnonymousRefreshRequest>,
) -> Result<impl IntoResponse, ApiError> {
    anonymous_refresh(&state, request).await
}

pub async fn anonymous_refresh_body(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<AnonymousRefreshRequest>,
) -> Result<impl IntoResponse, ApiError> {
    anonymous_refresh(&state, request).await
}

async fn anonymous_refresh(
    state: &AppState,
    request: AnonymousRefreshRequest,
) -> Result<impl IntoResponse + use<>, ApiError> {
    let mut v = Validator::default();
    let tenant = v.require("tenant", request.tenant, |t| shared::domain::TenantId::parse(&t));
    let token = v.require("refresh_token", request.refresh_token.filter(|t| !t.is_empty()), Ok::<_, ApiError>);
    let client = v.require("client_id", request.client_id, |c| ClientId::parse(&c));
    let (Some(tenant), Some(token), Some(client)) = (tenant, token, client) else { return Err(v.into_error()) };
    let kind = sessions::RefreshKind::Anonymous { client: &client };
    Ok(Json(sessions::refresh(state, &tenant, &token, kind).await?))
}

#[derive(Deserialize)]
pub struct LoginRequest {
    email: Option<String>,
    id: Option<String>,
    password: Option<String>,
    device_token: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    SignedToken(token): SignedToken,
    Json(request): Json<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    tenant_path(&tenant)?;
    let input = login_service::parse_login(request.email, request.id, request.password, request.device_token)?;
    Ok(Json(login_service::login(&state, &token, input, user_agent(&headers), &client).await?))
}

/// `provider`, `code`, `redirect_uri`, `code_verifier` (and an optional
/// `nonce`) as query parameters (API.md), or in a JSON body.
#[derive(Deserialize, Default)]
pub struct SocialLoginParams {
    provider: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    nonce: Option<String>,
}

pub async fn social_login(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    SignedToken(token): SignedToken,
    Query(query): Query<SocialLoginParams>,
    Json(body): Json<SocialLoginParams>,
) -> Result<impl IntoResponse, ApiError> {
    tenant_path(&tenant)?;
    let mut request = social_service::parse_request(
        query.provider.or(body.provider),
        query.code.or(body.code),
        query.redirect_uri.or(body.redirect_uri),
        query.code_verifier.or(body.code_verifier),
        query.nonce.or(body.nonce),
    )?;
    request.session_id = headers.get("session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok(Json(social_service::social_login(&state, &token, request, user_agent(&headers)).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRequest {
    link_token: Option<String>,
    password: Option<String>,
}

/// `socialLogin/link`: the owner's password consents to a `link_required` link.
pub async fn link_with_password(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    SignedToken(token): SignedToken,
    Json(request): Json<LinkRequest>,
) -> Result<impl IntoResponse, ApiError> {
    tenant_path(&tenant)?;
    let (link_token, password) = social_link::parse_password_link(request.link_token, request.password)?;
    let tokens = social_link::link_with_password(&state, &token, &link_token, &password, user_agent(&headers)).await?;
    Ok(Json(tokens))
}

/// `socialLogin/link/mail`: the consent goes by mail to the account's address.
pub async fn link_by_mail(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    SignedToken(token): SignedToken,
    Json(request): Json<LinkRequest>,
) -> Result<impl IntoResponse, ApiError> {
    tenant_path(&tenant)?;
    let mut v = Validator::default();
    let link_token = social_link::parse_link_token(request.link_token, &mut v);
    let Some(link_token) = link_token.filter(|_| v.is_ok()) else { return Err(v.into_error()) };
    social_link::link_by_mail(&state, &token, &link_token).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "result": "email_sent" }))))
}

#[derive(Deserialize)]
pub struct ConfirmLinkRequest {
    identifier: Option<String>,
    key: Option<String>,
}

/// `socialLogin/link/confirm`: the mailed consent link, opened by the owner.
pub async fn confirm_link(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(request): Json<ConfirmLinkRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = tenant_path(&tenant)?;
    let (identifier, key) = email_change::parse_confirm(request.identifier, request.key)?;
    social_link::confirm_mailed_link(&state, &tenant, identifier, &key).await?;
    Ok(Json(serde_json::json!({ "result": "linked" })))
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

pub async fn refresh(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(request): Json<RefreshRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = tenant_path(&tenant)?;
    let token = request
        .refresh_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::field("refresh_token", "is required"))?;
    Ok(Json(sessions::refresh(&state, &tenant, &token, sessions::RefreshKind::Customer).await?))
}

pub async fn validate(State(state): State<AppState>, caller: Authenticated) -> Result<impl IntoResponse, ApiError> {
    let settings =
        state.tenant_settings(&caller.token.tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    Ok(Json(sessions::token_info(&caller.token, caller.profile.as_ref(), &settings)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogoutRequest {
    all_sessions: Option<bool>,
}

pub async fn logout(
    State(state): State<AppState>,
    caller: CustomerCaller,
    Json(request): Json<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    let all = request.all_sessions.unwrap_or(false);
    sessions::logout(&state, &caller.tenant, &caller.customer, &caller.token.session, all).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_sessions(
    State(state): State<AppState>,
    caller: CustomerCaller,
) -> Result<impl IntoResponse, ApiError> {
    let epoch = caller.profile.epoch;
    Ok(Json(sessions::list(&state, &caller.tenant, &caller.customer, epoch, &caller.token.session).await?))
}

pub async fn revoke_session(
    State(state): State<AppState>,
    Path((_tenant, session_id)): Path<(String, String)>,
    caller: CustomerCaller,
) -> Result<StatusCode, ApiError> {
    let sid = SessionId::parse(&session_id).map_err(|_| ApiError::NotFound)?;
    sessions::revoke(&state, &caller.tenant, &caller.customer, &sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = tenant_path(&tenant).map_err(|_| ApiError::NotFound)?;
    state.tenant_settings(&tenant).await?.ok_or(ApiError::NotFound)?;
    let issuer = state.config.issuer(&tenant);
    let body = serde_json::json!({
        "issuer": issuer,
        "jwks_uri": state.config.jwks_uri(),
        "token_endpoint": format!("{issuer}/login"),
        "response_types_supported": ["token"],
        "grant_types_supported": ["password", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["iss", "aud", "sub", "tenant", "sid", "fam", "scope", "token_use", "iat", "exp", "jti"],
    });
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(body)))
}

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(state.keys.current().await.jwks().clone()))
}
