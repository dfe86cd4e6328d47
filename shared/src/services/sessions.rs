//! Anonymous sessions, refresh-token rotation with reuse detection, logout,
//! and a customer's list of sessions.

use serde::Serialize;

use crate::clock;
use crate::domain::{ClientId, CustomerId, Email, SessionId, TenantId};
use crate::error::{ApiError, Validator};
use crate::services::token_set::{self, Grant, TokenSet};
use crate::state::AppState;
use crate::store::{RefreshToken, Rotation, SessionRecord};
use crate::tenant::TenantSettings;

/// Unknown tenant and unknown client look the same from outside.
const INVALID_CLIENT: ApiError = ApiError::Unauthorized("invalid_client");
const INVALID_REFRESH: ApiError = ApiError::Unauthorized("invalid_refresh_token");

/// A new login on the storefront session `sid`: a fresh family (so tokens
/// of any earlier login of that `sid` stay dead) and, for a customer, the
/// credential epoch its password or provider was checked under.
pub fn new_session(
    sid: &SessionId,
    client: &ClientId,
    customer: Option<(&CustomerId, u64)>,
    lifetime_secs: i64,
    user_agent: Option<String>,
    now: i64,
) -> SessionRecord {
    SessionRecord {
        session_id: sid.clone(),
        family: uuid::Uuid::new_v4().simple().to_string(),
        client_id: client.clone(),
        customer_id: customer.map(|(id, _)| id.clone()),
        created_at: now,
        last_used_at: now,
        expires_at: now + lifetime_secs,
        user_agent,
        epoch: customer.map_or(0, |(_, epoch)| epoch),
        identity: None,
        refresh_hash: String::new(),
        spent_hash: None,
        ttl: now + lifetime_secs,
    }
}

/// `GET anonymous/login` as sent.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AnonymousLoginQuery {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
}

/// A storefront asking for an anonymous session.
pub struct AnonymousLogin {
    pub tenant: TenantId,
    pub client: ClientId,
}

impl TryFrom<AnonymousLoginQuery> for AnonymousLogin {
    type Error = ApiError;

    fn try_from(AnonymousLoginQuery { tenant, client_id }: AnonymousLoginQuery) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let tenant = v.require("tenant", tenant, |t| TenantId::parse(&t));
        let client = v.require("client_id", client_id, |c| ClientId::parse(&c));
        match (tenant, client) {
            (Some(tenant), Some(client)) if v.is_ok() => Ok(Self { tenant, client }),
            _ => Err(v.into_error()),
        }
    }
}

/// `anonymous/refresh` as sent (query, form or JSON).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AnonymousRefreshBody {
    pub tenant: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
}

pub struct AnonymousRefresh {
    pub tenant: TenantId,
    pub refresh_token: String,
    pub client: ClientId,
}

impl TryFrom<AnonymousRefreshBody> for AnonymousRefresh {
    type Error = ApiError;

    fn try_from(body: AnonymousRefreshBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let tenant = v.require("tenant", body.tenant, |t| TenantId::parse(&t));
        let token = v.require("refresh_token", body.refresh_token.filter(|t| !t.is_empty()), Ok::<_, ApiError>);
        let client = v.require("client_id", body.client_id, |c| ClientId::parse(&c));
        match (tenant, token, client) {
            (Some(tenant), Some(refresh_token), Some(client)) if v.is_ok() => {
                Ok(Self { tenant, refresh_token, client })
            }
            _ => Err(v.into_error()),
        }
    }
}

/// `refreshauthtoken` as sent.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RefreshBody {
    pub refresh_token: Option<String>,
}

pub struct Refresh {
    pub refresh_token: String,
}

impl TryFrom<RefreshBody> for Refresh {
    type Error = ApiError;

    fn try_from(body: RefreshBody) -> Result<Self, ApiError> {
        let refresh_token = body.refresh_token.filter(|t| !t.is_empty());
        refresh_token
            .map(|refresh_token| Self { refresh_token })
            .ok_or_else(|| ApiError::field("refresh_token", "is required"))
    }
}

/// Refuses a storefront token whose session was spent (by a login) or
/// ended: checked before anything is spent on its behalf.
pub async fn require_live_storefront_session(
    state: &AppState,
    anonymous: &crate::tokens::VerifiedToken,
    now: i64,
) -> Result<(), ApiError> {
    let session = state.store.get_storefront_session(&anonymous.tenant, &anonymous.session).await?;
    match session {
        Some(session) if session.is_live(&anonymous.client, &anonymous.family, None, now) => Ok(()),
        _ => Err(ApiError::Unauthorized("session_revoked")),
    }
}

/// A customer signing in on a storefront session (password, provider, or a
/// consented link).
pub struct CustomerSignIn<'a> {
    pub anonymous: &'a crate::tokens::VerifiedToken,
    pub settings: &'a TenantSettings,
    pub customer: &'a CustomerId,
    /// The credential epoch the password or provider was checked under.
    pub epoch: u64,
    pub initial_password: bool,
    pub customer_number: &'a str,
    /// The provider identity of a social sign-in (step-up, unlinking).
    pub identity: Option<crate::customer::SocialLink>,
    pub user_agent: Option<String>,
}

/// Starts the customer session on a storefront session: the storefront
/// session is spent first (one conditional delete: of parallel logins from
/// one anonymous token exactly one gets past it), then the session is
/// written, one item with its refresh token's hash. No transaction: a
/// session that is written is only ever one whose storefront session was
/// spent for it. Answers the token set and `saas_token`, signed while the
/// two writes are in flight.
pub async fn sign_in_customer(
    state: &AppState,
    sign_in: CustomerSignIn<'_>,
    now: i64,
) -> Result<(TokenSet, String), ApiError> {
    let CustomerSignIn { anonymous, settings, customer, epoch, initial_password, .. } = sign_in;
    let tenant = &anonymous.tenant;
    let mut session = new_session(
        &anonymous.session,
        &anonymous.client,
        Some((customer, epoch)),
        settings.customer_refresh_ttl_secs,
        sign_in.user_agent,
        now,
    );
    session.identity = sign_in.identity;
    let (refresh_token, refresh) = RefreshToken::issue(Some(customer), &anonymous.session);
    session.refresh_hash = refresh.hash;
    let grant = Grant {
        tenant: tenant.clone(),
        client: anonymous.client.clone(),
        session: anonymous.session.clone(),
        family: session.family.clone(),
        customer: Some((customer.clone(), initial_password)),
        access_ttl: settings.customer_access_ttl_secs,
        refresh_token,
        session_expires_at: session.expires_at,
    };
    let signing = token_set::sign_beside(state, grant, Some(sign_in.customer_number.to_owned()), now).await;
    if !state.store.spend_storefront_session(tenant, &anonymous.session, &anonymous.family).await? {
        return Err(ApiError::Unauthorized("session_revoked"));
    }
    if !state.store.put_session(tenant, &session).await? {
        // Only a session spent for this very customer can be in the way: nothing to overwrite.
        return Err(ApiError::Unauthorized("session_revoked"));
    }
    let signed = token_set::signed(signing).await?;
    Ok((signed.tokens, signed.saas_token))
}

pub async fn anonymous_login(
    state: &AppState,
    tenant: &TenantId,
    client: &ClientId,
    user_agent: Option<String>,
) -> Result<TokenSet, ApiError> {
    let settings = state.storefront(tenant, client).await?.ok_or(INVALID_CLIENT)?;
    let now = clock::now_epoch();
    let sid = SessionId::newest_first(now);
    let mut session = new_session(&sid, client, None, settings.anonymous_refresh_ttl_secs, user_agent, now);
    let (refresh_token, refresh) = RefreshToken::issue(None, &sid);
    session.refresh_hash = refresh.hash;
    let grant = Grant {
        tenant: tenant.clone(),
        client: client.clone(),
        session: sid.clone(),
        family: session.family.clone(),
        customer: None,
        access_ttl: settings.anonymous_access_ttl_secs,
        refresh_token,
        session_expires_at: session.expires_at,
    };
    let signing = token_set::sign_beside(state, grant, None, now).await;
    if !state.store.put_session(tenant, &session).await? {
        return Err(ApiError::Internal("a new session id was taken".into()));
    }
    Ok(token_set::signed(signing).await?.tokens)
}

/// Which kind of session a refresh route serves.
pub enum RefreshKind<'a> {
    Anonymous { client: &'a ClientId },
    Customer,
}

/// Rotates a refresh token: the old one is spent, a new pair is issued. A
/// spent token presented again revokes the login it belongs to (RFC 9700).
/// One conditional update of the session item; for a customer the profile
/// is read beside it (same round trip): a session whose credential epoch
/// has moved on is refused, and the new token never leaves.
pub async fn refresh(
    state: &AppState,
    tenant: &TenantId,
    refresh_token: &str,
    kind: RefreshKind<'_>,
) -> Result<TokenSet, ApiError> {
    let token = RefreshToken::parse(refresh_token).ok_or(INVALID_REFRESH)?;
    let client = match (&kind, &token.customer) {
        (RefreshKind::Anonymous { client }, None) => Some(*client),
        (RefreshKind::Customer, Some(_)) => None,
        _ => return Err(INVALID_REFRESH),
    };
    let settings = state.tenant_settings(tenant).await?.ok_or(INVALID_REFRESH)?;
    let now = clock::now_epoch();
    let (new_token, new) = RefreshToken::issue(token.customer.as_ref(), &token.session);
    let profile = async {
        match &token.customer {
            Some(customer) => state.store.get_customer(tenant, customer).await,
            None => Ok(None),
        }
    };
    let (rotation, profile) =
        tokio::try_join!(state.store.rotate_refresh_token(tenant, &token, &new.hash, client, now), profile)?;
    let session = match rotation {
        Rotation::Rotated(session) => session,
        Rotation::Replayed(session) => {
            revoke_on_reuse(state, tenant, &session).await?;
            return Err(INVALID_REFRESH);
        }
        Rotation::Invalid => return Err(INVALID_REFRESH),
    };
    // The session must still be in the credential epoch it began in.
    let (customer_part, access_ttl) = match (&session.customer_id, &profile) {
        (Some(id), Some(profile)) if profile.epoch == session.epoch => {
            (Some((id, profile.initial_password)), settings.customer_access_ttl_secs)
        }
        (Some(_), _) => return Err(INVALID_REFRESH),
        (None, _) => (None, settings.anonymous_access_ttl_secs),
    };
    let grant = Grant {
        tenant: tenant.clone(),
        client: session.client_id,
        session: session.session_id,
        family: session.family,
        customer: customer_part.map(|(id, initial_password)| (id.clone(), initial_password)),
        access_ttl,
        refresh_token: new_token,
        session_expires_at: session.expires_at,
    };
    token_set::build(state, grant, now).await
}

/// A spent refresh token came back: someone holds a copy. The login it
/// belongs to ends; a newer login of the same storefront session does not.
async fn revoke_on_reuse(state: &AppState, tenant: &TenantId, session: &SessionRecord) -> Result<(), ApiError> {
    let sid = &session.session_id;
    let revoked = state.store.revoke_family(tenant, session.customer_id.as_ref(), sid, &session.family).await?;
    tracing::warn!(event = "refresh_token_reuse", tenant = %tenant, session_id = %sid, revoked, "refresh token reused; its session is revoked");
    Ok(())
}

/// The answer of `validateauthtoken`.
#[derive(Debug, Serialize)]
pub struct TokenInfo {
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(rename = "sessionId")]
    pub session_id: SessionId,
    #[serde(rename = "customerId")]
    pub customer_id: Option<CustomerId>,
    pub email: Option<Email>,
    #[serde(rename = "legalEntityId")]
    pub legal_entity_id: Option<String>,
}

/// `validateauthtoken`: who the token speaks for. For a customer, `scope`
/// lists the customer's permissions as the seed does (tenant setting
/// `customerScopes`) and then `tenant={tenant}`, and `legalEntityId` names
/// the legal entity a B2B customer acts for (the first of theirs).
pub fn token_info(
    token: &crate::tokens::VerifiedToken,
    profile: Option<&crate::customer::CustomerRecord>,
    settings: &TenantSettings,
) -> TokenInfo {
    let (customer_id, email, legal_entity_id, scope) = match profile {
        Some(profile) => {
            let entity = profile.details.b2b.as_ref().and_then(|b2b| b2b.legal_entities.first()).map(|e| e.id.clone());
            let mut scopes = settings.customer_scopes.clone();
            scopes.push(crate::tokens::anonymous_scope(&token.tenant));
            (Some(profile.id.clone()), Some(profile.email.clone()), entity, scopes.join(" "))
        }
        None => (None, None, None, token.scope.clone()),
    };
    TokenInfo {
        token_type: "Bearer",
        expires_in: (token.expires_at - clock::now_epoch()).max(0),
        scope,
        session_id: token.session.clone(),
        customer_id,
        email,
        legal_entity_id,
    }
}

pub async fn logout(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    sid: &SessionId,
    all: bool,
) -> Result<(), ApiError> {
    if all {
        state.store.delete_sessions(tenant, customer, None).await?;
    } else {
        state.store.delete_session(tenant, Some(customer), sid).await?;
    }
    tracing::info!(event = "logout", tenant = %tenant, customer_id = %customer, all_sessions = all, "logout");
    Ok(())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub session_id: SessionId,
    pub created_at: String,
    pub last_used_at: String,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// `GET me/sessions` from the sessions read with the caller's: the live
/// ones (unexpired, begun in `epoch`), oldest first.
pub fn list(mut sessions: Vec<SessionRecord>, epoch: u64, current: &SessionId) -> Vec<SessionView> {
    let now = clock::now_epoch();
    sessions.retain(|s| s.expires_at > now && s.epoch == epoch);
    sessions.sort_by_key(|s| s.created_at);
    sessions
        .into_iter()
        .map(|s| SessionView {
            current: &s.session_id == current,
            session_id: s.session_id,
            created_at: clock::rfc3339(s.created_at),
            last_used_at: clock::rfc3339(s.last_used_at),
            user_agent: s.user_agent,
        })
        .collect()
}

pub async fn revoke(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    sid: &SessionId,
) -> Result<(), ApiError> {
    if state.store.delete_session(tenant, Some(customer), sid).await? { Ok(()) } else { Err(ApiError::NotFound) }
}
