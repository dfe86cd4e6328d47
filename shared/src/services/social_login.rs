//! Social login: the storefront ran the authorization-code flow with PKCE at
//! an OpenID Connect provider of the tenant; we exchange the code, verify the
//! ID token and sign the person in by (issuer, subject) — never by e-mail alone.

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::customer::{CustomerDetails, CustomerRecord, CustomerStatus, EmailGuard, SocialLink};
use crate::domain::{CustomerId, Email, TenantId};
use crate::error::{ApiError, Validator};
use crate::http::StorefrontToken;
use crate::mail::templates::Template;
use crate::oidc::{self, CodeExchange, IdClaims, OidcError};

use crate::services::notify;
use crate::services::sessions::{self, CustomerSignIn};
use crate::services::token_set::TokenSet;
use crate::state::AppState;
use crate::store::CreateCustomerOutcome;
use crate::tenant::{SocialProvider, TenantSettings};

pub struct SocialLoginRequest {
    /// `None`: the tenant's default provider (the seed's calls name none).
    pub provider: Option<String>,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
    pub nonce: Option<String>,
    /// The seed's `session-id` header: when sent, the anonymous token's session.
    pub session_id: Option<String>,
}

/// The seed's socialLogin answer: the customer token set, the provider's
/// tokens and the `saas_token`. `expires_in` and `refresh_token_expires_in`
/// are strings here, as the seed shows them (login's are numbers).
#[derive(Debug, Serialize)]
pub struct SocialTokenSet {
    pub token_type: &'static str,
    pub access_token: String,
    pub expires_in: String,
    pub refresh_token: String,
    pub refresh_token_expires_in: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
    /// The same session id, in the Emporix spelling of customer token sets.
    #[serde(rename = "session_id")]
    pub session_id_snake: String,
    pub scope: String,
    #[serde(rename = "customerId")]
    pub customer_id: String,
    #[serde(rename = "initialPassword")]
    pub initial_password: bool,
    pub saas_token: String,
    pub social_id_token: String,
    /// The provider's access token (empty when the provider issued none).
    pub social_access_token: String,
    /// Seconds the session may stay unused before the storefront must
    /// refresh: the access token's lifetime.
    pub session_idle_time: i64,
}

impl SocialTokenSet {
    fn of(tokens: TokenSet, saas_token: String, sign_in: crate::oidc::SignIn) -> Self {
        Self {
            token_type: tokens.token_type,
            access_token: tokens.access_token,
            expires_in: tokens.expires_in.to_string(),
            refresh_token: tokens.refresh_token,
            refresh_token_expires_in: tokens.refresh_token_expires_in.to_string(),
            session_id_snake: tokens.session_id.clone(),
            session_id: tokens.session_id,
            scope: tokens.scope,
            customer_id: tokens.customer.as_ref().map(|c| c.customer_id.clone()).unwrap_or_default(),
            initial_password: tokens.customer.as_ref().is_some_and(|c| c.initial_password),
            saas_token,
            social_id_token: sign_in.id_token,
            social_access_token: sign_in.access_token.unwrap_or_default(),
            session_idle_time: tokens.expires_in,
        }
    }
}

const MAX_PARAM_LEN: usize = 4096;

/// `provider`, `code`, `redirect_uri`, `code_verifier` (and an optional
/// `nonce`) as query parameters (API.md), or in a JSON body.
#[derive(Debug, Default, Deserialize)]
pub struct SocialLoginParams {
    pub provider: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub nonce: Option<String>,
}

impl SocialLoginParams {
    /// The query's parameters, each completed from the body when absent.
    pub fn or(self, body: Self) -> Self {
        Self {
            provider: self.provider.or(body.provider),
            code: self.code.or(body.code),
            redirect_uri: self.redirect_uri.or(body.redirect_uri),
            code_verifier: self.code_verifier.or(body.code_verifier),
            nonce: self.nonce.or(body.nonce),
        }
    }
}

/// Names every missing or malformed parameter.
impl TryFrom<SocialLoginParams> for SocialLoginRequest {
    type Error = ApiError;

    fn try_from(params: SocialLoginParams) -> Result<Self, ApiError> {
        let SocialLoginParams { provider, code, redirect_uri, code_verifier, nonce } = params;
        parse_request(provider, code, redirect_uri, code_verifier, nonce)
    }
}

fn parse_request(
    provider: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    nonce: Option<String>,
) -> Result<SocialLoginRequest, ApiError> {
    let mut v = Validator::default();
    let text = |max: usize| {
        move |s: String| -> Result<String, String> {
            if s.is_empty() || s.len() > max { Err(format!("must be 1-{max} characters")) } else { Ok(s) }
        }
    };
    let provider = v.optional("provider", provider, text(64));
    let code = v.require("code", code, text(MAX_PARAM_LEN));
    let redirect_uri = v.require("redirect_uri", redirect_uri, text(2048));
    let code_verifier = v.require("code_verifier", code_verifier, |s: String| {
        if oidc::valid_code_verifier(&s) {
            Ok(s)
        } else {
            Err("must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636, S256)")
        }
    });
    let nonce = v.optional("nonce", nonce, text(512));
    match (provider, code, redirect_uri, code_verifier, nonce) {
        (Some(provider), Some(code), Some(redirect_uri), Some(code_verifier), Some(nonce)) if v.is_ok() => {
            Ok(SocialLoginRequest { provider, code, redirect_uri, code_verifier, nonce, session_id: None })
        }
        _ => Err(v.into_error()),
    }
}

fn provider_error(err: OidcError) -> ApiError {
    match err {
        OidcError::Rejected(code) => {
            tracing::info!(event = "social_login", outcome = "rejected", provider_error = %code, "provider rejected the code");
            ApiError::Unauthorized("social_login_failed")
        }
        OidcError::Unavailable(why) => {
            tracing::warn!(event = "social_login", outcome = "provider_unavailable", error = %why, "provider failed");
            ApiError::BadGateway("provider_unavailable")
        }
        OidcError::InvalidIdToken(why) => {
            tracing::info!(event = "social_login", outcome = "invalid_id_token", reason = %why, "ID token refused");
            ApiError::Unauthorized("invalid_id_token")
        }
    }
}

/// Signs a customer in with a provider's authorization code, on the
/// storefront session of `anonymous` (as password login does).
pub async fn social_login(
    state: &AppState,
    caller: &StorefrontToken,
    request: SocialLoginRequest,
    user_agent: Option<String>,
) -> Result<SocialTokenSet, ApiError> {
    let (anonymous, tenant, settings) = (&caller.token, caller.tenant(), &caller.settings);
    if request.session_id.as_deref().is_some_and(|sid| sid != anonymous.session.as_str()) {
        return Err(ApiError::field("session-id", "must be the sessionId of the anonymous token"));
    }
    let provider = settings.social_provider(request.provider.as_deref()).ok_or_else(|| match request.provider {
        Some(_) => ApiError::field("provider", "is not a provider of this shop"),
        None => ApiError::field("provider", "is required: the shop has no default provider"),
    })?;
    if !provider.redirect_uris.iter().any(|uri| uri == &request.redirect_uri) {
        return Err(ApiError::field("redirect_uri", "is not an allowed redirect URI of this provider"));
    }
    if provider.require_nonce && request.nonce.is_none() {
        return Err(ApiError::field(
            "nonce",
            "is required by this provider's settings (the authorization request's nonce)",
        ));
    }
    let now = clock::now_epoch();
    // A dead storefront session: refuse before spending the one-time code.
    sessions::require_live_storefront_session(state, anonymous, now).await?;

    let secret = oidc::client_secret(provider, state.secrets.as_ref()).await.map_err(provider_error)?;
    let exchange = CodeExchange {
        code: &request.code,
        redirect_uri: &request.redirect_uri,
        code_verifier: &request.code_verifier,
        nonce: request.nonce.as_deref(),
    };
    let sign_in = oidc::sign_in(provider, secret.as_deref(), exchange, now).await.map_err(provider_error)?;
    let (customer, epoch, number) = resolve_customer(state, tenant, settings, provider, &sign_in.claims).await?;

    let identity =
        SocialLink { issuer: sign_in.claims.iss.clone(), subject: sign_in.claims.sub.clone(), ..Default::default() };
    let customer_sign_in = CustomerSignIn {
        anonymous,
        settings,
        customer: &customer,
        epoch,
        initial_password: false,
        customer_number: &number,
        identity: Some(identity),
        user_agent,
    };
    let (tokens, saas_token) = sessions::sign_in_customer(state, customer_sign_in, now).await?;
    tracing::info!(event = "social_login", outcome = "success", tenant = %tenant, customer_id = %customer, provider = %provider.name, "social login succeeded");
    Ok(SocialTokenSet::of(tokens, saas_token, sign_in))
}

/// The customer of (issuer, sub) and their credential epoch: the linked one;
/// else, for the account with the provider-verified e-mail, a 409
/// `link_required` (the owner consents first) or, for a provider the tenant
/// trusts to verify e-mails, that account, now linked; else a new active
/// customer.
async fn resolve_customer(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    provider: &SocialProvider,
    claims: &IdClaims,
) -> Result<(CustomerId, u64, String), ApiError> {
    // Two rounds: a concurrent first login of the same person may win the race.
    for _ in 0..2 {
        if let Some(link) = state.store.get_social_link(tenant, &claims.iss, &claims.sub).await? {
            if let Some(linked) = linked_customer(state, tenant, &link).await? {
                return Ok(linked);
            }
            // The account is gone but its link was left behind: forget the link
            // (customer ids are never reused), then treat the person as new.
            state.store.forget_social_link(tenant, &link).await?;
        }
        // From here on the e-mail decides: only a provider-verified one is trusted.
        let email = claims.email.as_deref().and_then(|e| Email::parse(e).ok());
        let Some(email) = email.filter(|_| claims.email_verified()) else {
            tracing::info!(event = "social_login", outcome = "email_not_verified", tenant = %tenant, "provider e-mail missing or unverified");
            return Err(ApiError::Forbidden("email_not_verified"));
        };
        let link = SocialLink {
            issuer: claims.iss.clone(),
            subject: claims.sub.clone(),
            provider: Some(provider.name.clone()),
            email: Some(email.to_string()),
            linked_at: Some(clock::now_rfc3339()),
        };
        let guard: Option<EmailGuard> = state.store.get_email_guard(tenant, &email).await?;
        if let Some(guard) = guard {
            if !provider.trust_email_verified {
                // A parallel first login of this person may just have made the account (and link).
                if state.store.get_social_link(tenant, &claims.iss, &claims.sub).await?.is_some() {
                    continue;
                }
                return Err(crate::services::social_link::link_required(state, tenant, &guard, link).await?);
            }
            if let Some(linked) = link_existing(state, tenant, settings, provider, &guard, link).await? {
                return Ok(linked);
            }
            continue;
        }
        if let Some(created) = create_linked(state, tenant, &email, claims, link).await? {
            return Ok(created);
        }
    }
    Err(ApiError::Conflict {
        code: "concurrent_update",
        detail: "The account changed while signing in; try again.".into(),
        current_version: None,
    })
}

/// The linked customer and their epoch; `None` when the account no longer exists.
async fn linked_customer(
    state: &AppState,
    tenant: &TenantId,
    link: &crate::store::SocialLinkRecord,
) -> Result<Option<(CustomerId, u64, String)>, ApiError> {
    let id = link.customer_id.clone();
    match state.store.get_customer(tenant, &id).await? {
        Some(customer) if customer.status == CustomerStatus::Active => {
            Ok(Some((id, customer.epoch, customer.customer_number)))
        }
        Some(_) => Err(ApiError::Forbidden("account_not_activated")),
        None => Ok(None),
    }
}

/// Links (issuer, sub) to the existing account with the verified e-mail and
/// tells the owner. `Ok(None)` when the account changed meanwhile (retry).
async fn link_existing(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    provider: &SocialProvider,
    guard: &EmailGuard,
    link: SocialLink,
) -> Result<Option<(CustomerId, u64, String)>, ApiError> {
    if guard.status != CustomerStatus::Active {
        return Err(ApiError::Forbidden("account_not_activated"));
    }
    let id = guard.customer_id.clone();
    let Some(customer) = state.store.get_customer(tenant, &id).await? else { return Ok(None) };
    let expected = (customer.version, customer.epoch);
    if !state.store.link_social_identity(tenant, &id, expected, &link, Vec::new()).await? {
        return Ok(None);
    }
    tracing::info!(event = "social_linked", tenant = %tenant, customer_id = %id, provider = %provider.name, "social identity linked to an existing account");
    notify::notice(
        state,
        tenant,
        settings,
        &customer,
        Template::SocialLinked,
        minijinja::context! {
            provider => provider.name.clone(),
            account_link => settings.account_uri.clone(),
        },
    )
    .await;
    Ok(Some((id, customer.epoch, customer.customer_number)))
}

/// A new active customer without password, linked to (issuer, sub), in one
/// transaction: its id, epoch and number. `Ok(None)` when the e-mail or the
/// link was taken meanwhile.
async fn create_linked(
    state: &AppState,
    tenant: &TenantId,
    email: &Email,
    claims: &IdClaims,
    link: SocialLink,
) -> Result<Option<(CustomerId, u64, String)>, ApiError> {
    let id = CustomerId::generate();
    let now = clock::now_rfc3339();
    // The provider's word, stored and put into mails: without control characters.
    let trimmed = |s: &Option<String>| {
        s.as_deref()
            .map(crate::domain::text::scrub)
            .map(|s| s.trim().chars().take(100).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    let record = CustomerRecord {
        details: CustomerDetails {
            first_name: trimmed(&claims.given_name),
            last_name: trimmed(&claims.family_name),
            ..Default::default()
        },
        social_links: vec![link.clone()],
        ..CustomerRecord::new(id.clone(), email.clone(), CustomerStatus::Active, &now)
    };
    let extra = vec![state.store.new_social_link_item(tenant, &id, &link)?];
    match state.store.create_customer(tenant, &record, extra).await {
        Ok(CreateCustomerOutcome::Created) => {
            tracing::info!(event = "social_signup", tenant = %tenant, customer_id = %id, "customer created by social login");
            Ok(Some((id, record.epoch, record.customer_number)))
        }
        // The e-mail or the link was taken meanwhile (the same person signed up
        // concurrently), or a transaction conflict: the caller looks again.
        Ok(CreateCustomerOutcome::EmailTaken | CreateCustomerOutcome::Cancelled) => Ok(None),
        Err(err) => Err(err.into()),
    }
}
