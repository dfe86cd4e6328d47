//! Linking a provider identity to an existing account needs its owner.
//!
//! A provider's `email_verified` is only as good as its e-mail checks; one
//! that checks weakly would hand out every account with that address
//! ("nOAuth"). So when a social login meets an account with the same
//! e-mail (and the provider is not one the tenant trusts for this), it is
//! answered 409 `link_required` with a short-lived `linkToken`, and the link
//! is made only once the owner proves control: the account's password
//! (`socialLogin/link`), or a single-use link mailed to the account's
//! address (`socialLogin/link/mail`, then `socialLogin/link/confirm`).

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::customer::{CustomerRecord, CustomerStatus, EmailGuard, SocialLink};
use crate::domain::{CustomerId, Password, TenantId};
use crate::error::{ApiError, Validator};
use crate::http::StorefrontToken;
use crate::mail::templates::Template;
use crate::secrets::OpaqueSecret;
use crate::services::email_change::Confirmation;
use crate::services::login::recheck_password;
use crate::services::one_time::{Redeemable, invalid_token, redeemable};
use crate::services::sessions::{self, CustomerSignIn, sign_in_customer};
use crate::services::token_set::TokenSet;
use crate::services::{notify, signup};
use crate::state::AppState;
use crate::store::{OneTimeTokenRecord, TokenPurpose};

/// How long the storefront may take to ask for the owner's consent.
pub const LINK_TOKEN_TTL_SECS: i64 = 15 * 60;
/// How long the mailed consent link works.
pub const MAILED_LINK_TTL_SECS: i64 = 60 * 60;

/// The 409 for a social login that met an existing account: a link token
/// (one per account at a time) bound to the account's credential epoch.
pub async fn link_required(
    state: &AppState,
    tenant: &TenantId,
    guard: &EmailGuard,
    link: SocialLink,
) -> Result<ApiError, ApiError> {
    if guard.status != CustomerStatus::Active {
        return Err(ApiError::Forbidden("account_not_activated"));
    }
    let id = &guard.customer_id;
    let profile = state.store.get_customer(tenant, id).await?.ok_or_else(concurrent)?;
    let secret = issue(state, tenant, &profile, link, LINK_TOKEN_TTL_SECS).await?;
    tracing::info!(event = "social_link_required", tenant = %tenant, customer_id = %id, "social login met an existing account");
    let methods = if profile.password_hash.is_some() { vec!["password", "email"] } else { vec!["email"] };
    Ok(ApiError::LinkRequired { link_token: secret.value, expires_in: LINK_TOKEN_TTL_SECS, methods })
}

async fn issue(
    state: &AppState,
    tenant: &TenantId,
    profile: &CustomerRecord,
    link: SocialLink,
    ttl_secs: i64,
) -> Result<OpaqueSecret, ApiError> {
    let secret = OpaqueSecret::generate();
    let mut record = OneTimeTokenRecord::new(TokenPurpose::SocialLink, profile, ttl_secs, clock::now_epoch());
    record.link = Some(link);
    if !state.store.issue_one_time_token(tenant, profile, &secret.hash, &record, false).await? {
        return Err(concurrent());
    }
    Ok(secret)
}

fn concurrent() -> ApiError {
    ApiError::Conflict {
        code: "concurrent_update",
        detail: "The account changed while signing in; try again.".into(),
        current_version: None,
    }
}

/// A live link token: its hash, the identity waiting, and the account as
/// it is now (still at the token's epoch, active).
struct PendingLink {
    hash: String,
    link: SocialLink,
    profile: CustomerRecord,
    customer: CustomerId,
}

async fn pending(
    state: &AppState,
    tenant: &TenantId,
    secret: &str,
    customer: Option<&CustomerId>,
) -> Result<PendingLink, ApiError> {
    let Redeemable { hash, token, customer, profile } =
        redeemable(state, tenant, secret, TokenPurpose::SocialLink, customer).await?;
    match token.link {
        Some(link) if profile.status == CustomerStatus::Active => Ok(PendingLink { hash, link, profile, customer }),
        _ => Err(invalid_token()),
    }
}

/// Makes the link and spends the token in one transaction; a token spent,
/// expired or replaced, or an account whose credentials changed since, is
/// `invalid_token`.
async fn commit(state: &AppState, tenant: &TenantId, pending: &PendingLink) -> Result<(), ApiError> {
    let now = clock::now_epoch();
    let spend = state.store.consume_one_time_token_item(tenant, &pending.hash, TokenPurpose::SocialLink, now)?;
    let mut link = pending.link.clone();
    link.linked_at = Some(clock::rfc3339(now));
    let expected = (pending.profile.version, pending.profile.epoch);
    if !state.store.link_social_identity(tenant, &pending.customer, expected, &link, vec![spend]).await? {
        return Err(invalid_token());
    }
    tracing::info!(event = "social_linked", tenant = %tenant, customer_id = %pending.customer, "social identity linked with the owner's consent");
    Ok(())
}

/// `socialLogin/link` and `socialLogin/link/mail` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkBody {
    pub link_token: Option<String>,
    pub password: Option<String>,
}

/// `socialLogin/link`, parsed: the `link_required` answer's token and the account's password.
pub struct PasswordLink {
    pub link_token: String,
    pub password: Password,
}

/// `socialLogin/link/mail`, parsed: the `link_required` answer's token.
pub struct MailLink {
    pub link_token: String,
}

fn link_token(token: Option<String>, v: &mut Validator) -> Option<String> {
    v.require("linkToken", token, |t: String| {
        if t.is_empty() || t.len() > 128 { Err("must be the linkToken of a link_required answer") } else { Ok(t) }
    })
}

impl TryFrom<LinkBody> for PasswordLink {
    type Error = ApiError;

    fn try_from(LinkBody { link_token: token, password }: LinkBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let token = link_token(token, &mut v);
        let password = v.require("password", password, Password::parse);
        match (token, password) {
            (Some(link_token), Some(password)) if v.is_ok() => Ok(Self { link_token, password }),
            _ => Err(v.into_error()),
        }
    }
}

impl TryFrom<LinkBody> for MailLink {
    type Error = ApiError;

    fn try_from(LinkBody { link_token: token, .. }: LinkBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        match link_token(token, &mut v) {
            Some(link_token) if v.is_ok() => Ok(Self { link_token }),
            _ => Err(v.into_error()),
        }
    }
}

/// The customer token set of a login completed by linking, with the Emporix
/// seed's `saas_token`.
#[derive(Debug, Serialize)]
pub struct LinkedTokenSet {
    #[serde(flatten)]
    pub tokens: TokenSet,
    pub saas_token: String,
}

/// `POST socialLogin/link`: the owner consents with the account's password
/// (spending from its login budget, like a login); the identity is linked
/// and the customer signed in on the storefront session, as a social login
/// with that identity.
pub async fn link_with_password(
    state: &AppState,
    caller: &StorefrontToken,
    link_token: &str,
    password: &Password,
    user_agent: Option<String>,
) -> Result<LinkedTokenSet, ApiError> {
    let (anonymous, tenant, settings) = (&caller.token, caller.tenant(), &caller.settings);
    let now = clock::now_epoch();
    sessions::require_live_storefront_session(state, anonymous, now).await?;
    let pending = pending(state, tenant, link_token, None).await?;
    let customer = &pending.customer;
    let stored = pending.profile.password_hash.as_deref();
    recheck_password(state, tenant, settings, customer, stored, password, "social_link").await?;
    commit(state, tenant, &pending).await?;

    let identity =
        SocialLink { issuer: pending.link.issuer.clone(), subject: pending.link.subject.clone(), ..Default::default() };
    let sign_in = CustomerSignIn {
        anonymous,
        settings,
        customer,
        epoch: pending.profile.epoch,
        initial_password: pending.profile.initial_password,
        customer_number: &pending.profile.customer_number,
        identity: Some(identity),
        user_agent,
    };
    let (tokens, saas_token) = sign_in_customer(state, sign_in, now).await?;
    Ok(LinkedTokenSet { tokens, saas_token })
}

/// `POST socialLogin/link/mail`: the consent goes by mail to the account's
/// address. The link token is spent for a new secret that only the mailbox
/// sees; the person at the storefront signs in with the provider again once
/// the owner confirmed.
pub async fn link_by_mail(state: &AppState, caller: &StorefrontToken, link_token: &str) -> Result<(), ApiError> {
    let (tenant, settings) = (caller.tenant(), &caller.settings);
    let pending = pending(state, tenant, link_token, None).await?;
    let profile = &pending.profile;
    let secret = issue(state, tenant, profile, pending.link.clone(), MAILED_LINK_TTL_SECS).await?;
    let link = signup::one_time_link(
        state,
        tenant,
        settings.link_confirm_uri.as_deref(),
        "socialLogin/link/confirm",
        &pending.customer,
        "key",
        &secret.value,
    );
    let provider = pending.link.provider.clone().unwrap_or_else(|| pending.link.issuer.clone());
    notify::notice(
        state,
        tenant,
        settings,
        profile,
        Template::SocialLinkConfirm,
        minijinja::context! {
            provider => provider,
            provider_email => pending.link.email.clone(),
            link => link,
        },
    )
    .await;
    tracing::info!(event = "social_link_mailed", tenant = %tenant, customer_id = %pending.customer, "social link consent mailed");
    Ok(())
}

/// `POST socialLogin/link/confirm`: the mailed link, opened by the owner.
pub async fn confirm_mailed_link(state: &AppState, tenant: &TenantId, link: &Confirmation) -> Result<(), ApiError> {
    let pending = pending(state, tenant, &link.key, Some(link.customer()?)).await?;
    commit(state, tenant, &pending).await
}
