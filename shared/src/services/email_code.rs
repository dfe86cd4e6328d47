//! Passwordless sign-in with a six-digit code mailed to the account's
//! address. Asking for a code answers the same 202, no sooner than the
//! response floor, whether or not the address has an account (and whether
//! or not the mail cap let a code out). A code signs in once, within ten
//! minutes, from the storefront session that presents it; five wrong
//! guesses burn it. Stored only as a salted hash; a million values make
//! the hash no secret by itself, so what protects a code is its lifetime,
//! its five guesses and the mail cap (3 codes an hour per address).

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::customer::CustomerStatus;
use crate::domain::{CustomerId, Email, SixDigitCode, TenantId};
use crate::error::{ApiError, Validator};
use crate::http::{ClientAddress, StorefrontCaller, StorefrontToken};
use crate::mail::templates::Template;
use crate::secrets::{hash_secret, random_bytes};
use crate::services::equal_time::ResponseFloor;
use crate::services::limits::{self, Limited};
use crate::services::sessions::{self, CustomerSignIn};
use crate::services::token_set::TokenSet;
use crate::services::{notify, second_factor};
use crate::state::AppState;
use crate::store::{EMAIL_CODE_ATTEMPTS, EmailCodeRecord};
use crate::tenant::TenantSettings;

/// A code signs in within ten minutes of being mailed.
pub const EMAIL_CODE_TTL_SECS: i64 = 10 * 60;

/// One answer for a wrong, expired, spent, burnt or unknown code, and for
/// an address without an account.
pub const INVALID_CODE: ApiError = ApiError::Unauthorized("invalid_code");

/// `login/emailCode` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct CodeRequestBody {
    pub email: Option<String>,
}

/// `login/emailCode`, parsed.
pub struct CodeRequest {
    pub email: Email,
}

impl TryFrom<CodeRequestBody> for CodeRequest {
    type Error = ApiError;

    fn try_from(CodeRequestBody { email }: CodeRequestBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        match v.require("email", email, |e| Email::parse(&e)) {
            Some(email) if v.is_ok() => Ok(Self { email }),
            _ => Err(v.into_error()),
        }
    }
}

/// `login/emailCode/verify` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct CodeSignInBody {
    pub email: Option<String>,
    pub code: Option<String>,
}

/// `login/emailCode/verify`, parsed.
pub struct CodeSignIn {
    pub email: Email,
    pub code: SixDigitCode,
}

impl TryFrom<CodeSignInBody> for CodeSignIn {
    type Error = ApiError;

    fn try_from(CodeSignInBody { email, code }: CodeSignInBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let email = v.require("email", email, |e| Email::parse(&e));
        let code = v.require("code", code, |c| SixDigitCode::parse(&c));
        match (email, code) {
            (Some(email), Some(code)) if v.is_ok() => Ok(Self { email, code }),
            _ => Err(v.into_error()),
        }
    }
}

/// The customer token set and the Emporix seed's `saas_token`.
#[derive(Debug, Serialize)]
pub struct CodeTokenSet {
    #[serde(flatten)]
    pub tokens: TokenSet,
    pub saas_token: String,
}

fn code_hash(salt: &str, code: &SixDigitCode) -> String {
    hash_secret(&format!("{salt}.{}", code.expose()))
}

/// Mails a fresh code if the address belongs to an active account and its
/// cap allows; the answer and its timing are the same either way.
pub async fn request_code(
    state: &AppState,
    caller: &StorefrontToken,
    request: CodeRequest,
    client: &ClientAddress,
) -> Result<(), ApiError> {
    let (tenant, settings) = (caller.tenant(), &caller.settings);
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    limits::take(state, tenant, settings, source, Limited::MailRequest).await?;
    let floor = ResponseFloor::start();
    let outcome = match state.store.get_email_guard(tenant, &request.email).await {
        Ok(Some(guard)) if guard.status == CustomerStatus::Active => {
            // The account exists: a failure from here on is logged, not answered.
            match mail_code(state, tenant, settings, &guard.customer_id, &guard.email, guard.epoch).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    tracing::error!(event = "email_code_request", tenant = %tenant, customer_id = %guard.customer_id, error = %err, "code request failed");
                    "failed"
                }
            }
        }
        Ok(_) => "unknown_email",
        Err(err) => return Err(err.into()),
    };
    tracing::info!(event = "email_code_request", outcome, tenant = %tenant, "sign-in code requested");
    floor.wait().await;
    Ok(())
}

/// Mails a new code to the account (its cap permitting) under `epoch`;
/// answers what became of it, for the log.
pub(crate) async fn mail_code(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    customer: &CustomerId,
    email: &Email,
    epoch: u64,
) -> Result<&'static str, ApiError> {
    // The cap first: a new code must not retire the old one unless it can be sent.
    let Some(slot) = notify::reserve(state, tenant, settings, email, Template::SignInCode).await? else {
        return Ok("mail_capped");
    };
    let now = clock::now_epoch();
    let code = SixDigitCode::generate();
    let salt = crate::secrets::hex(&random_bytes::<16>());
    let record = EmailCodeRecord {
        code_hash: code_hash(&salt, &code),
        salt,
        epoch,
        attempts: 0,
        created_at: now,
        expires_at: now + EMAIL_CODE_TTL_SECS,
        ttl: now + EMAIL_CODE_TTL_SECS,
    };
    state.store.put_email_code(tenant, customer, &record).await?;
    // The guard carries no language or name; the profile does, at the cost of a read.
    let profile = state.store.get_customer(tenant, customer).await?;
    let details = profile.map(|p| p.details).unwrap_or_default();
    let context = minijinja::context! { code => code.expose(), first_name => details.first_name, minutes => EMAIL_CODE_TTL_SECS / 60 };
    notify::send(state, tenant, settings, slot, details.preferred_language.as_deref(), context).await;
    Ok("sent")
}

/// Signs the customer in on the caller's storefront session with the code
/// mailed to `email`. Every failure is the same 401 `invalid_code`, no
/// sooner than the response floor (an unknown address takes as long as a
/// wrong code); wrong guesses count against the per-address and per-tenant
/// failed-login limits too.
pub async fn sign_in(
    state: &AppState,
    caller: &StorefrontCaller,
    input: CodeSignIn,
    user_agent: Option<String>,
    client: &ClientAddress,
) -> Result<CodeTokenSet, ApiError> {
    let (tenant, settings) = (caller.tenant(), &caller.settings);
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    limits::check(state, tenant, settings, source, Limited::FailedLogin).await?;
    let floor = ResponseFloor::start();
    let now = clock::now_epoch();

    let guard = state.store.get_email_guard(tenant, &input.email).await?;
    let guard = guard.filter(|g| g.status == CustomerStatus::Active);
    let verified = match &guard {
        Some(guard) => check_code(state, tenant, &guard.customer_id, guard.epoch, &input.code, now).await?,
        None => false,
    };
    let Some(guard) = guard.filter(|_| verified) else {
        limits::count_failure(state, tenant, settings, source, Limited::FailedLogin).await;
        tracing::info!(event = "login", method = "email_code", outcome = "failure", tenant = %tenant, "code sign-in failed");
        floor.wait().await;
        return Err(INVALID_CODE);
    };
    if guard.second_factor {
        // The mailbox alone does not stand in for the authenticator.
        floor.wait().await;
        let (customer, epoch) = (&guard.customer_id, guard.epoch);
        return Err(second_factor::challenge(
            state,
            &caller.token,
            customer,
            epoch,
            None,
            second_factor::AUTHENTICATOR,
        )
        .await?);
    }
    let number = match guard.customer_number.as_str() {
        // A guard from an older release: the profile knows.
        "" => {
            state.store.get_customer(tenant, &guard.customer_id).await?.map(|p| p.customer_number).unwrap_or_default()
        }
        number => number.to_owned(),
    };
    let sign_in = CustomerSignIn {
        anonymous: &caller.token,
        settings,
        customer: &guard.customer_id,
        epoch: guard.epoch,
        initial_password: guard.initial_password,
        customer_number: &number,
        identity: None,
        user_agent,
    };
    let (tokens, saas_token) = sessions::sign_in_customer(state, sign_in, now).await?;
    tracing::info!(event = "login", method = "email_code", outcome = "success", tenant = %tenant, customer_id = %guard.customer_id, "code sign-in succeeded");
    Ok(CodeTokenSet { tokens, saas_token })
}

/// Reserves a guess at the customer's code, compares, and spends it if it
/// is the one; a code of another credential epoch never matches.
pub(crate) async fn check_code(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    epoch: u64,
    code: &SixDigitCode,
    now: i64,
) -> Result<bool, ApiError> {
    let Some(stored) = state.store.reserve_email_code_attempt(tenant, customer, now).await? else {
        return Ok(false);
    };
    if stored.epoch != epoch || code_hash(&stored.salt, code) != stored.code_hash {
        if stored.attempts >= EMAIL_CODE_ATTEMPTS {
            tracing::info!(event = "email_code_burnt", tenant = %tenant, customer_id = %customer, "sign-in code burnt by wrong guesses");
        }
        return Ok(false);
    }
    Ok(state.store.spend_email_code(tenant, customer, &stored.code_hash).await?)
}
