//! Bearer-token extractors. `SignedToken` checks the JWT (signature, `alg`,
//! `kid`, issuer, expiry) and that its tenant is the path's tenant;
//! `Authenticated` also checks, with one read, that the session is live: the
//! token's login (family) on the token's client, and for a customer still in
//! the credential epoch it began in. Revocation takes effect at once.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;

use crate::address::AddressRecord;
use crate::customer::CustomerRecord;
use crate::domain::{AddressId, CustomerId, TenantId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Beside, CustomerRead, SessionRecord};
use crate::tenant::TenantSettings;
use crate::tokens::{self, Subject, TokenError, VerifiedToken};

pub struct SignedToken(pub VerifiedToken);

pub struct Authenticated {
    pub token: VerifiedToken,
    pub session: SessionRecord,
    /// The customer's profile, for a customer token (read with the session).
    pub profile: Option<CustomerRecord>,
}

/// A live customer (not anonymous) session, and what the route reads
/// beside it in the same round trip (`B`: nothing, one address, the address
/// book or the sessions; see `ReadBeside`).
pub struct CustomerCaller<B: ReadBeside = ()> {
    pub tenant: TenantId,
    pub customer: CustomerId,
    pub token: VerifiedToken,
    pub session: SessionRecord,
    /// The profile as read with the session (one round trip).
    pub profile: CustomerRecord,
    pub beside: B,
}

/// What a customer route reads together with its session check, so every
/// authenticated read is one round trip to DynamoDB.
pub trait ReadBeside: Sized + Send {
    /// Which items; path ids are parsed here, after the token was checked.
    fn beside(parts: &mut Parts) -> impl Future<Output = Result<Beside, ApiError>> + Send;
    fn take(beside: Beside, read: &mut CustomerRead) -> Self;
}

impl ReadBeside for () {
    async fn beside(_: &mut Parts) -> Result<Beside, ApiError> {
        Ok(Beside::Nothing)
    }

    fn take(_: Beside, _: &mut CustomerRead) -> Self {}
}

/// The customer's address book, read with the session.
pub struct AddressBook(pub Vec<AddressRecord>);

impl ReadBeside for AddressBook {
    async fn beside(_: &mut Parts) -> Result<Beside, ApiError> {
        Ok(Beside::Addresses)
    }

    fn take(_: Beside, read: &mut CustomerRead) -> Self {
        Self(std::mem::take(&mut read.addresses))
    }
}

/// The address of the `{address_id}` path segment, read with the session (`None`:
/// the customer has no such address). An id that cannot exist is a 404.
pub struct OneAddress {
    pub id: AddressId,
    pub record: Option<AddressRecord>,
}

impl ReadBeside for OneAddress {
    async fn beside(parts: &mut Parts) -> Result<Beside, ApiError> {
        let params = RawPathParams::from_request_parts(parts, &()).await.map_err(|_| ApiError::NotFound)?;
        let raw = params.iter().find(|(k, _)| *k == "address_id").map(|(_, v)| v).ok_or(ApiError::NotFound)?;
        AddressId::parse(raw).map(Beside::Address).map_err(|_| ApiError::NotFound)
    }

    fn take(beside: Beside, read: &mut CustomerRead) -> Self {
        let Beside::Address(id) = beside else { unreachable!("asked for one address") };
        Self { id, record: read.address.take() }
    }
}

/// The address book, every session and the passkeys, read with the caller's session.
pub struct Everything {
    pub addresses: Vec<AddressRecord>,
    pub sessions: Vec<SessionRecord>,
    pub passkeys: Vec<crate::store::PasskeyRecord>,
}

impl ReadBeside for Everything {
    async fn beside(_: &mut Parts) -> Result<Beside, ApiError> {
        Ok(Beside::Everything)
    }

    fn take(_: Beside, read: &mut CustomerRead) -> Self {
        Self {
            addresses: std::mem::take(&mut read.addresses),
            sessions: std::mem::take(&mut read.sessions),
            passkeys: std::mem::take(&mut read.passkeys),
        }
    }
}

/// Every unexpired session of the customer, read with the caller's own.
pub struct CustomerSessions(pub Vec<SessionRecord>);

impl ReadBeside for CustomerSessions {
    async fn beside(_: &mut Parts) -> Result<Beside, ApiError> {
        Ok(Beside::Sessions)
    }

    fn take(_: Beside, read: &mut CustomerRead) -> Self {
        Self(std::mem::take(&mut read.sessions))
    }
}

/// A storefront's anonymous token (sign-up, login, reset: what a shop does
/// before anyone signed in), with the settings of its tenant. Its session
/// is not read here: login and social login read it with their own data,
/// in the same round trip.
pub struct StorefrontToken {
    pub token: VerifiedToken,
    pub settings: Arc<TenantSettings>,
}

impl StorefrontToken {
    pub fn tenant(&self) -> &TenantId {
        &self.token.tenant
    }
}

/// A `StorefrontToken` whose session is live (one read): a token of a
/// storefront session that a login spent, or that was ended, is refused.
pub struct StorefrontCaller(pub StorefrontToken);

impl std::ops::Deref for StorefrontCaller {
    type Target = StorefrontToken;

    fn deref(&self) -> &StorefrontToken {
        &self.0
    }
}

/// The `{tenant}` path segment, parsed (400 naming `tenant` otherwise).
pub struct TenantPath(pub TenantId);

const REVOKED: ApiError = ApiError::Unauthorized("session_revoked");

/// The session of `token`, if it is live, with the customer's profile.
async fn live_session(
    state: &AppState,
    token: &VerifiedToken,
    customer: Option<&CustomerId>,
) -> Result<(SessionRecord, Option<CustomerRecord>), ApiError> {
    let (session, profile) = state.store.session_and_profile(&token.tenant, customer, &token.session).await?;
    let now = crate::clock::now_epoch();
    let session = session.filter(|s| s.is_live(&token.client, &token.family, profile.as_ref(), now)).ok_or(REVOKED)?;
    Ok((session, profile))
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

pub fn user_agent(headers: &axum::http::HeaderMap) -> Option<String> {
    let ua = headers.get(USER_AGENT)?.to_str().ok()?;
    // Stored with the session and shown back: without control characters.
    Some(crate::domain::text::scrub(ua).chars().take(256).collect())
}

impl FromRequestParts<AppState> for SignedToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let raw = bearer(parts).ok_or(ApiError::Unauthorized("missing_token"))?;
        let keys = state.keys.current().await;
        let token = match tokens::verify(&state.config, &keys, raw) {
            // A key promoted since this process last read the key set.
            Err(TokenError::UnknownKey(kid)) if state.keys.look_for(&kid).await => {
                tokens::verify(&state.config, &state.keys.snapshot(), raw)
            }
            verified => verified,
        }
        .map_err(|_| ApiError::Unauthorized("invalid_token"))?;
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        if let Some(path_tenant) = params.as_ref().and_then(|p| p.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v))
            && path_tenant != token.tenant.as_str()
        {
            return Err(ApiError::Forbidden("wrong_tenant"));
        }
        Ok(Self(token))
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedToken(token) = SignedToken::from_request_parts(parts, state).await?;
        let customer = match &token.subject {
            Subject::Customer(id) => Some(id.clone()),
            Subject::Anonymous => None,
        };
        let (session, profile) = live_session(state, &token, customer.as_ref()).await?;
        Ok(Self { token, session, profile })
    }
}

impl FromRequestParts<AppState> for StorefrontToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedToken(token) = SignedToken::from_request_parts(parts, state).await?;
        if token.subject != Subject::Anonymous {
            return Err(ApiError::Forbidden("anonymous_token_required"));
        }
        // A tenant removed since the token was issued: its sessions are gone too.
        let settings = state.tenant_settings(&token.tenant).await?.ok_or(REVOKED)?;
        Ok(Self { token, settings })
    }
}

impl FromRequestParts<AppState> for StorefrontCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let storefront = StorefrontToken::from_request_parts(parts, state).await?;
        live_session(state, &storefront.token, None).await?;
        Ok(Self(storefront))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        let raw = params.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v).ok_or(ApiError::NotFound)?;
        super::tenant_path(raw).map(Self)
    }
}

impl<B: ReadBeside> FromRequestParts<AppState> for CustomerCaller<B> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The anonymous check comes first so an anonymous token costs no read.
        let SignedToken(token) = SignedToken::from_request_parts(parts, state).await?;
        let Subject::Customer(customer) = token.subject.clone() else {
            return Err(ApiError::Forbidden("customer_token_required"));
        };
        let beside = B::beside(parts).await?;
        let mut read = state.store.customer_read(&token.tenant, &customer, &token.session, &beside).await?;
        let now = crate::clock::now_epoch();
        let profile = read.profile.take().ok_or(REVOKED)?;
        let session = read
            .session
            .take()
            .filter(|s| s.is_live(&token.client, &token.family, Some(&profile), now))
            .ok_or(REVOKED)?;
        let beside = B::take(beside, &mut read);
        Ok(Self { tenant: token.tenant.clone(), customer, token, session, profile, beside })
    }
}
