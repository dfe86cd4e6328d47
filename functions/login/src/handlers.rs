//! Thin handlers: parse the request into domain types, call a service, answer.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use shared::domain::SessionId;
use shared::http::{
    Authenticated, ClientAddress, CustomerCaller, CustomerSessions, FormOrJson, Json, Query, StorefrontToken,
    TenantPath, user_agent,
};
use shared::services::email_change::{ConfirmBody, Confirmation};
use shared::services::login::{self as login_service, LoginInput, LoginRequest};
use shared::services::sessions::{
    self, AnonymousLogin, AnonymousLoginQuery, AnonymousRefresh, AnonymousRefreshBody, Refresh, RefreshBody,
};
use shared::services::social_link::{self, LinkBody, MailLink, PasswordLink};
use shared::services::social_login::{self as social_service, SocialLoginParams, SocialLoginRequest};
use shared::{ApiError, AppState};

pub async fn anonymous_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AnonymousLoginQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let AnonymousLogin { tenant, client } = query.try_into()?;
    Ok(Json(sessions::anonymous_login(&state, &tenant, &client, user_agent(&headers)).await?))
}

pub async fn anonymous_refresh_query(
    State(state): State<AppState>,
    Query(request): Query<AnonymousRefreshBody>,
) -> Result<impl IntoResponse, ApiError> {
    anonymous_refresh(&state, request).await
}

pub async fn anonymous_refresh_body(
    State(state): State<AppState>,
    FormOrJson(request): FormOrJson<AnonymousRefreshBody>,
) -> Result<impl IntoResponse, ApiError> {
    anonymous_refresh(&state, request).await
}

async fn anonymous_refresh(
    state: &AppState,
    request: AnonymousRefreshBody,
) -> Result<impl IntoResponse + use<>, ApiError> {
    let AnonymousRefresh { tenant, refresh_token, client } = request.try_into()?;
    let kind = sessions::RefreshKind::Anonymous { client: &client };
    Ok(Json(sessions::refresh(state, &tenant, &refresh_token, kind).await?))
}

/// The storefront token comes before the path's tenant is looked at: a
/// token for another tenant is 403 `wrong_tenant` whatever the path holds.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddress,
    caller: StorefrontToken,
    _: TenantPath,
    Json(request): Json<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let input = LoginInput::try_from(request)?;
    Ok(Json(login_service::login(&state, &caller, input, user_agent(&headers), &client).await?))
}

pub async fn social_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: StorefrontToken,
    _: TenantPath,
    Query(query): Query<SocialLoginParams>,
    Json(body): Json<SocialLoginParams>,
) -> Result<impl IntoResponse, ApiError> {
    let mut request = SocialLoginRequest::try_from(query.or(body))?;
    request.session_id = headers.get("session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok(Json(social_service::social_login(&state, &caller, request, user_agent(&headers)).await?))
}

/// `socialLogin/link`: the owner's password consents to a `link_required` link.
pub async fn link_with_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: StorefrontToken,
    _: TenantPath,
    Json(body): Json<LinkBody>,
) -> Result<impl IntoResponse, ApiError> {
    let PasswordLink { link_token, password } = body.try_into()?;
    let tokens = social_link::link_with_password(&state, &caller, &link_token, &password, user_agent(&headers)).await?;
    Ok(Json(tokens))
}

/// `socialLogin/link/mail`: the consent goes by mail to the account's address.
pub async fn link_by_mail(
    State(state): State<AppState>,
    caller: StorefrontToken,
    _: TenantPath,
    Json(body): Json<LinkBody>,
) -> Result<impl IntoResponse, ApiError> {
    let MailLink { link_token } = body.try_into()?;
    social_link::link_by_mail(&state, &caller, &link_token).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "result": "email_sent" }))))
}

/// `socialLogin/link/confirm`: the mailed consent link, opened by the owner.
pub async fn confirm_link(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    Json(body): Json<ConfirmBody>,
) -> Result<impl IntoResponse, ApiError> {
    social_link::confirm_mailed_link(&state, &tenant, &Confirmation::try_from(body)?).await?;
    Ok(Json(serde_json::json!({ "result": "linked" })))
}

pub async fn refresh(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    Json(body): Json<RefreshBody>,
) -> Result<impl IntoResponse, ApiError> {
    let Refresh { refresh_token } = body.try_into()?;
    Ok(Json(sessions::refresh(&state, &tenant, &refresh_token, sessions::RefreshKind::Customer).await?))
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

pub async fn list_sessions(caller: CustomerCaller<CustomerSessions>) -> Json<Vec<sessions::SessionView>> {
    Json(sessions::list(caller.beside.0, caller.profile.epoch, &caller.token.session))
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
    let tenant = shared::http::tenant_path(&tenant).map_err(|_| ApiError::NotFound)?;
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
