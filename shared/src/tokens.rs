//! Access tokens: RS256 JWTs with a `kid`, verifiable by anyone holding the
//! JWKS (an API Gateway JWT authorizer, another service).

use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::{ClientId, CustomerId, SessionId, TenantId};
use crate::signing::SigningKeys;

pub const ANONYMOUS_PREFIX: &str = "anonymous:";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub tenant: String,
    pub sid: String,
    /// The login this token belongs to (the session's family): a token of an
    /// ended login stays dead when the same storefront session logs in again.
    pub fam: String,
    pub scope: String,
    pub token_use: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Anonymous,
    Customer(CustomerId),
}

/// A token whose signature, issuer, expiry and shape were checked. Whether its
/// session is still live is checked separately (one read).
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub tenant: TenantId,
    pub client: ClientId,
    pub subject: Subject,
    pub session: SessionId,
    /// The family of the session this token was issued for (see `AccessClaims::fam`).
    pub family: String,
    pub scope: String,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed, unsigned, expired or not ours")]
    Invalid,
    /// Signed with a key this process does not know (yet: see `KeyRing::look_for`).
    #[error("the token names an unknown key")]
    UnknownKey(String),
}

pub fn anonymous_scope(tenant: &TenantId) -> String {
    format!("tenant={tenant}")
}

pub fn customer_scope(tenant: &TenantId) -> String {
    format!("tenant={tenant} customer")
}

pub struct NewAccessToken<'a> {
    pub tenant: &'a TenantId,
    pub client: &'a ClientId,
    pub subject: &'a Subject,
    pub session: &'a SessionId,
    pub family: &'a str,
    pub lifetime_secs: i64,
}

pub fn issue(
    config: &Config,
    keys: &SigningKeys,
    token: NewAccessToken<'_>,
    now: i64,
) -> Result<String, crate::signing::KeyError> {
    let (sub, scope) = match token.subject {
        Subject::Anonymous => (format!("{ANONYMOUS_PREFIX}{}", token.session), anonymous_scope(token.tenant)),
        Subject::Customer(id) => (id.to_string(), customer_scope(token.tenant)),
    };
    let claims = AccessClaims {
        iss: config.issuer(token.tenant),
        aud: token.client.to_string(),
        sub,
        tenant: token.tenant.to_string(),
        sid: token.session.to_string(),
        fam: token.family.to_owned(),
        scope,
        token_use: "access".into(),
        iat: now,
        exp: now + token.lifetime_secs,
        jti: uuid::Uuid::new_v4().simple().to_string(),
    };
    keys.sign_jwt(&claims)
}

pub fn verify(config: &Config, keys: &SigningKeys, token: &str) -> Result<VerifiedToken, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
    // Only RS256 with one of our kids: rejects `alg: none` and HS256 signed with the public key.
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::Invalid);
    }
    let kid = header.kid.ok_or(TokenError::Invalid)?;
    let key = keys.verifying_key(&kid).ok_or(TokenError::UnknownKey(kid))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 5;
    // The audience is checked against the session's client by the caller.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation).map_err(|_| TokenError::Invalid)?.claims;
    if claims.token_use != "access" {
        return Err(TokenError::Invalid);
    }
    let tenant = TenantId::parse(&claims.tenant).map_err(|_| TokenError::Invalid)?;
    if claims.iss != config.issuer(&tenant) {
        return Err(TokenError::Invalid);
    }
    let subject = match claims.sub.strip_prefix(ANONYMOUS_PREFIX) {
        Some(sid) if sid == claims.sid => Subject::Anonymous,
        Some(_) => return Err(TokenError::Invalid),
        None => Subject::Customer(CustomerId::parse(&claims.sub).map_err(|_| TokenError::Invalid)?),
    };
    Ok(VerifiedToken {
        tenant,
        client: ClientId::parse(&claims.aud).map_err(|_| TokenError::Invalid)?,
        subject,
        session: SessionId::parse(&claims.sid).map_err(|_| TokenError::Invalid)?,
        family: claims.fam,
        scope: claims.scope,
        expires_at: claims.exp,
    })
}

/// The claims of a `saas_token`: what downstream services of the seed's
/// platform expect beside the access token: the customer number as subject.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaasClaims {
    pub iss: String,
    pub aud: String,
    /// The customer number.
    pub sub: String,
    #[serde(rename = "customerId")]
    pub customer_id: String,
    pub tenant: String,
    pub token_use: String,
    pub iat: i64,
    pub exp: i64,
}

/// A `saas_token` (login and socialLogin): RS256 with the same keys and
/// `kid` as access tokens (so the JWKS verifies it), `aud` = `saas`,
/// `token_use` = `saas` (never accepted as an access token), as long-lived
/// as the access token it comes with.
pub fn issue_saas(
    config: &Config,
    keys: &SigningKeys,
    tenant: &TenantId,
    customer: &CustomerId,
    customer_number: &str,
    lifetime_secs: i64,
    now: i64,
) -> Result<String, crate::signing::KeyError> {
    let claims = SaasClaims {
        iss: config.issuer(tenant),
        aud: "saas".into(),
        sub: customer_number.to_owned(),
        customer_id: customer.to_string(),
        tenant: tenant.to_string(),
        token_use: "saas".into(),
        iat: now,
        exp: now + lifetime_secs,
    };
    keys.sign_jwt(&claims)
}
