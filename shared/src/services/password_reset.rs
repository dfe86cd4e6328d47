//! Password reset: a mailed single-use link (`update`), or the retailer-API
//! variant that trades the same token for a generated passphrase
//! (`generate`). Requesting a reset reveals nothing about the e-mail and
//! changes nothing about the account; only a valid token does. Whoever
//! proves control of the mailbox this way ends up in sole control: the reset
//! moves the account to a new credential epoch (every session and link ends),
//! clears its lock-out, and activates a pending account with the new password.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;

use crate::clock;
use crate::customer::{CustomerStatus, EmailGuard};
use crate::domain::{CustomerId, Email, Password, TenantId};
use crate::error::{ApiError, Validator};
use crate::http::{ClientAddress, StorefrontToken};
use crate::mail::templates::Template;
use crate::password_policy;
use crate::passwords;
use crate::secrets::{OpaqueSecret, random_bytes};
use crate::services::equal_time::ResponseFloor;
use crate::services::limits::{self, Limited};
use crate::services::notify;
use crate::services::one_time::{Redeemable, invalid_token, redeemable};
use crate::state::AppState;
use crate::store::{CommitOutcome, CredentialChange, CredentialCommit, OneTimeTokenRecord, TokenPurpose};
use crate::tenant::TenantSettings;

/// A reset link works for one hour.
pub const RESET_TOKEN_TTL_SECS: i64 = 3600;
/// 18 bytes from the OS CSPRNG: 144 bits, 24 base64url characters.
const PASSPHRASE_BYTES: usize = 18;
const MAX_TOKEN_CHARS: usize = 512;
const MAX_URI_CHARS: usize = 2048;
const MAX_SITE_CHARS: usize = 100;
/// Parallel requests for one account may move the pointer under us; a few
/// re-reads settle it.
const ISSUE_ATTEMPTS: usize = 3;

fn invalid_reset_uri() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_reset_uri",
        detail: "reset_uri is not one of the shop's allowed link targets.".into(),
    }
}

// ---------------------------------------------------------------- request

/// `POST password/reset`, parsed.
#[derive(Debug)]
pub struct ResetRequest {
    pub email: Email,
    pub site: Option<String>,
    pub reset_uri: Option<String>,
}

/// `POST password/reset` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ResetRequestBody {
    pub email: Option<String>,
    pub site: Option<String>,
    pub reset_uri: Option<String>,
}

/// Names every bad field; whether `reset_uri` is allowed is checked later
/// against the tenant's settings.
impl TryFrom<ResetRequestBody> for ResetRequest {
    type Error = ApiError;

    fn try_from(ResetRequestBody { email, site, reset_uri }: ResetRequestBody) -> Result<Self, ApiError> {
        parse_request(email, site, reset_uri)
    }
}

fn parse_request(
    email: Option<String>,
    site: Option<String>,
    reset_uri: Option<String>,
) -> Result<ResetRequest, ApiError> {
    let mut v = Validator::default();
    let email = v.require("email", email, |e| Email::parse(&e));
    let site = v.optional("site", site, |s| bounded(s.trim().to_owned(), MAX_SITE_CHARS));
    let reset_uri = v.optional("reset_uri", reset_uri, |u| bounded(u, MAX_URI_CHARS));
    match (email, site, reset_uri) {
        (Some(email), Some(site), Some(reset_uri)) if v.is_ok() => Ok(ResetRequest { email, site, reset_uri }),
        _ => Err(v.into_error()),
    }
}

fn bounded(value: String, max: usize) -> Result<String, String> {
    let length = value.chars().count();
    if length == 0 || length > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    Ok(value)
}

/// The page the link opens: a requested `reset_uri` only if it is on the
/// allow-list (exactly), else the tenant's page for `site`, else its default.
/// Never anything from a request header.
pub fn choose_reset_uri(
    settings: &TenantSettings,
    site: Option<&str>,
    requested: Option<&str>,
) -> Result<String, ApiError> {
    let uri = match requested {
        Some(uri) if settings.allowed_link_uris.iter().any(|allowed| allowed == uri) => uri.to_owned(),
        Some(_) => return Err(invalid_reset_uri()),
        None => site
            .and_then(|site| settings.reset_uris_by_site.get(site))
            .or(settings.reset_uri.as_ref())
            .cloned()
            .ok_or_else(|| ApiError::field("reset_uri", "is required: the shop has no default reset page"))?,
    };
    // A base that is no URL would lose the token in `notify::link`.
    url::Url::parse(&uri).map_err(|_| ApiError::internal("configured reset URI is not an absolute URL"))?;
    Ok(uri)
}

/// Where the mailed link carries the token: `?tenant=..&token=..` (the
/// Emporix routes), or as the last path segment, `{reset_uri}/{token}?tenant=..`
/// (the retailer seed: "a token extracted from reset_link's path param").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetLink {
    Query,
    PathSegment,
}

fn segment_link(reset_uri: &str, tenant: &TenantId, token: &str) -> String {
    let Ok(mut url) = url::Url::parse(reset_uri) else { return reset_uri.to_owned() };
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(token);
    }
    url.query_pairs_mut().append_pair("tenant", tenant.as_str());
    url.into()
}

/// What became of a reset request (for the log only: the answer is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestOutcome {
    Sent,
    UnknownEmail,
    MailCapped,
    Contended,
    Failed,
}

impl RequestOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::UnknownEmail => "unknown_email",
            Self::MailCapped => "mail_capped",
            Self::Contended => "contended",
            Self::Failed => "failed",
        }
    }
}

/// Mails a reset link if the e-mail belongs to an account (active or still
/// pending) and the mail cap allows; answers the same, no sooner than the
/// floor, either way.
pub async fn request_reset(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    request: ResetRequest,
    client: &ClientAddress,
    link: ResetLink,
) -> Result<(), ApiError> {
    // Checked for every e-mail, known or not, so a 400 tells nothing either.
    let reset_uri = choose_reset_uri(settings, request.site.as_deref(), request.reset_uri.as_deref())?;
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    limits::take(state, tenant, settings, source, Limited::MailRequest).await?;
    let floor = ResponseFloor::start();

    let guard: Option<EmailGuard> = state.store.get_email_guard(tenant, &request.email).await?;
    let outcome = match guard {
        None => RequestOutcome::UnknownEmail,
        // From here on the account exists: a failure is logged, not
        // answered, so the answer never depends on the account.
        Some(EmailGuard { customer_id: customer, .. }) => {
            match send_reset_link(state, tenant, settings, &customer, &reset_uri, link).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    tracing::error!(event = "password_reset_request", tenant = %tenant, customer_id = %customer, error = %err, "reset request failed");
                    RequestOutcome::Failed
                }
            }
        }
    };
    tracing::info!(event = "password_reset_request", outcome = outcome.as_str(), tenant = %tenant, "reset requested");
    floor.wait().await;
    Ok(())
}

async fn send_reset_link(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    customer: &CustomerId,
    reset_uri: &str,
    style: ResetLink,
) -> Result<RequestOutcome, ApiError> {
    let now = clock::now_epoch();
    let secret = OpaqueSecret::generate();
    let mut slot = None;
    for _ in 0..ISSUE_ATTEMPTS {
        let Some(profile) = state.store.get_customer(tenant, customer).await? else {
            return Ok(RequestOutcome::UnknownEmail);
        };
        if slot.is_none() {
            // The cap first: a new link must not retire the old one unless it can be sent.
            match notify::reserve(state, tenant, settings, &profile.email, Template::PasswordReset).await? {
                Some(taken) => slot = Some(taken),
                None => return Ok(RequestOutcome::MailCapped),
            }
        }
        let record = OneTimeTokenRecord::new(TokenPurpose::PasswordReset, &profile, RESET_TOKEN_TTL_SECS, now);
        if state.store.issue_one_time_token(tenant, &profile, &secret.hash, &record, false).await? {
            let Some(slot) = slot else { return Ok(RequestOutcome::Failed) };
            let link = match style {
                ResetLink::Query => notify::link(reset_uri, &[("tenant", tenant.as_str()), ("token", &secret.value)]),
                ResetLink::PathSegment => segment_link(reset_uri, tenant, &secret.value),
            };
            notify::send(
                state,
                tenant,
                settings,
                slot,
                profile.details.preferred_language.as_deref(),
                minijinja::context! { link => link, first_name => profile.details.first_name },
            )
            .await;
            return Ok(RequestOutcome::Sent);
        }
    }
    Ok(RequestOutcome::Contended)
}

// ---------------------------------------------------------------- update

/// `POST password/reset/update` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ResetUpdateBody {
    pub token: Option<String>,
    pub password: Option<String>,
}

/// `POST password/reset/update`, parsed: the token as mailed and the new password.
pub struct ResetUpdate {
    pub token: String,
    pub password: Password,
}

impl TryFrom<ResetUpdateBody> for ResetUpdate {
    type Error = ApiError;

    fn try_from(ResetUpdateBody { token, password }: ResetUpdateBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let token = v.require("token", token, parse_token);
        let password = v.require("password", password, Password::parse);
        match (token, password) {
            (Some(token), Some(password)) if v.is_ok() => Ok(Self { token, password }),
            _ => Err(v.into_error()),
        }
    }
}

fn parse_token(raw: String) -> Result<String, &'static str> {
    if raw.is_empty() || raw.chars().count() > MAX_TOKEN_CHARS {
        return Err("must be the token from the reset mail");
    }
    Ok(raw)
}

/// Sets a policy-checked password with a reset token: the token is used up,
/// every session ends, a notice is mailed. The customer is not logged in.
pub async fn update_password(
    state: &AppState,
    caller: &StorefrontToken,
    token: &str,
    password: Password,
) -> Result<(), ApiError> {
    let (tenant, settings) = (caller.tenant(), &caller.settings);
    let redeemed = redeemable(state, tenant, token, TokenPurpose::PasswordReset, None).await?;
    let profile = &redeemed.profile;
    let inputs = password_policy::personal_words(&profile.email, &profile.details);
    password_policy::check(settings, "password", &password, &inputs)?;
    let phc = passwords::hash(&password).await?;
    commit_new_password(state, tenant, settings, &redeemed, &phc, false).await?;
    tracing::info!(event = "password_reset", outcome = "updated", tenant = %tenant, customer_id = %redeemed.customer, "password reset");
    Ok(())
}

// ---------------------------------------------------------------- generate

/// `POST password/reset/generate` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct GenerateBody {
    pub email: Option<String>,
    pub code: Option<String>,
}

/// `POST password/reset/generate`, parsed: the account's e-mail and the reset token (`code`).
pub struct GenerateRequest {
    pub email: Email,
    pub code: String,
}

impl TryFrom<GenerateBody> for GenerateRequest {
    type Error = ApiError;

    fn try_from(GenerateBody { email, code }: GenerateBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let email = v.require("email", email, |e| Email::parse(&e));
        let code = v.require("code", code, parse_token);
        match (email, code) {
            (Some(email), Some(code)) if v.is_ok() => Ok(Self { email, code }),
            _ => Err(v.into_error()),
        }
    }
}

#[derive(serde::Serialize)]
struct PassphraseClaims<'a> {
    passphrase: &'a str,
}

/// Uses the reset token of `email`'s account to set a generated passphrase
/// (marked initial, so the storefront asks for a new one after login) and
/// returns it inside an HS256 JWT signed with the token: only the holder of
/// the code can read it.
pub async fn generate_passphrase(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    email: &Email,
    code: &str,
) -> Result<String, ApiError> {
    let redeemed = redeemable(state, tenant, code, TokenPurpose::PasswordReset, None).await?;
    if redeemed.profile.email.normalized() != email.normalized() {
        return Err(invalid_token());
    }
    let passphrase = new_passphrase();
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &PassphraseClaims { passphrase: &passphrase },
        &EncodingKey::from_secret(code.as_bytes()),
    )
    .map_err(ApiError::internal)?;
    let password = Password::parse(passphrase).map_err(|e| ApiError::internal(e.0))?;
    let phc = passwords::hash(&password).await?;
    commit_new_password(state, tenant, settings, &redeemed, &phc, true).await?;
    tracing::info!(event = "password_reset", outcome = "generated", tenant = %tenant, customer_id = %redeemed.customer, "passphrase generated");
    Ok(jwt)
}

/// 24 characters of base64url over 144 bits from the OS CSPRNG.
pub fn new_passphrase() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<PASSPHRASE_BYTES>())
}

// ---------------------------------------------------------------- shared by update and generate

/// Uses the token and sets the password in one credential change (so
/// parallel uses of one token let exactly one through, and every session
/// and link of the old epoch ends), then mails a notice.
async fn commit_new_password(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    redeemed: &Redeemable,
    phc: &str,
    initial: bool,
) -> Result<(), ApiError> {
    let Redeemable { hash: token_hash, profile, .. } = redeemed;
    let commit = CredentialCommit {
        profile,
        change: CredentialChange::Password { hash: phc, initial },
        activate: profile.status == CustomerStatus::Pending,
        redeem: Some((token_hash, TokenPurpose::PasswordReset)),
        keep_session: None,
        now: clock::now_epoch(),
    };
    if state.store.commit_credential_change(tenant, commit).await? != CommitOutcome::Done {
        return Err(invalid_token());
    }
    notify::notice(state, tenant, settings, profile, Template::PasswordChanged, minijinja::context! {}).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TenantSettings {
        TenantSettings {
            reset_uri: Some("https://shop.test/reset".into()),
            reset_uris_by_site: [("ch".to_owned(), "https://shop.test/ch/reset".to_owned())].into(),
            allowed_link_uris: vec!["https://shop.test/reset".into(), "https://app.shop.test/reset?x=1".into()],
            ..Default::default()
        }
    }

    #[test]
    fn reset_uri_comes_from_the_allow_list_or_the_configuration() {
        let s = settings();
        assert_eq!(choose_reset_uri(&s, None, None).unwrap(), "https://shop.test/reset");
        assert_eq!(choose_reset_uri(&s, Some("ch"), None).unwrap(), "https://shop.test/ch/reset");
        assert_eq!(choose_reset_uri(&s, Some("fr"), None).unwrap(), "https://shop.test/reset");
        assert_eq!(
            choose_reset_uri(&s, Some("ch"), Some("https://app.shop.test/reset?x=1")).unwrap(),
            "https://app.shop.test/reset?x=1"
        );
        for off_list in ["https://evil.test/reset", "https://shop.test/reset/", "https://shop.test/reset?a=b"] {
            assert_eq!(choose_reset_uri(&s, None, Some(off_list)).unwrap_err().code(), "invalid_reset_uri");
        }
        let bare = TenantSettings::default();
        assert_eq!(choose_reset_uri(&bare, None, None).unwrap_err().code(), "invalid_request");
    }

    #[test]
    fn requests_name_every_bad_field() {
        let err = parse_request(Some("nope".into()), Some(String::new()), Some("x".repeat(3000))).unwrap_err();
        let ApiError::Validation(errors) = err else { panic!("validation") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "site", "reset_uri"]);
        let Err(ApiError::Validation(errors)) = ResetUpdate::try_from(ResetUpdateBody::default()) else { panic!() };
        assert_eq!(errors.len(), 2);
        let body = GenerateBody { email: Some("a@b".into()), code: Some(String::new()) };
        let Err(ApiError::Validation(errors)) = GenerateRequest::try_from(body) else { panic!() };
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["email", "code"]);
    }

    #[test]
    fn passphrases_are_long_and_fresh() {
        let a = new_passphrase();
        assert_eq!(a.chars().count(), 24);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(a, new_passphrase());
    }
}
