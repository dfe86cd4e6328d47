//! A second factor: an authenticator app (TOTP, RFC 6238, 30 s steps, six
//! digits, one step of skew) with ten single-use recovery codes, enrolled
//! and removed on `me`; and the challenge a sign-in answers when the
//! password (or an e-mail code) was right but is not enough: the account
//! has an authenticator, or the tenant requires a second factor for every
//! password login (then a code mailed to the account serves as one).
//!
//! Every guess at a second factor spends from a login budget, reserved
//! before the code is compared: at sign-in the budget the password spent
//! from (the account's, or a known device's, so others' failures do not
//! keep the owner's device out), on `me` the account's. The right password
//! does not buy fresh guesses: a login that ends in a challenge does not
//! clear the budget.

use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Secret, Totp};

use crate::clock;
use crate::customer::CustomerStatus;
use crate::domain::{CustomerId, Password, RecoveryCode, SixDigitCode, TenantId};
use crate::error::{ApiError, Validator};
use crate::http::{ClientAddress, CustomerCaller, StorefrontCaller};
use crate::mail::templates::Template;
use crate::secrets::{OpaqueSecret, hash_secret, random_bytes};
use crate::services::email_code::{self, CodeTokenSet, INVALID_CODE};
use crate::services::limits::{self, Limited};
use crate::services::login::confirm_owner;
use crate::services::notify;
use crate::services::sessions::{self, CustomerSignIn};
use crate::state::AppState;
use crate::store::{
    ChallengeRecord, CommitOutcome, CredentialChange, CredentialCommit, ENROLMENT_TTL_SECS, LoginBudget, LoginTarget,
    Reservation, TotpRecord,
};
use crate::tenant::TenantSettings;
use crate::tokens::VerifiedToken;

/// A challenge waits this long for its second factor.
pub const CHALLENGE_TTL_SECS: i64 = 5 * 60;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;
/// The factors of an account with an authenticator.
pub const AUTHENTICATOR: &[&str] = &["totp", "recovery_code"];
/// The factor of an account without one, when the tenant requires a second factor.
pub const MAILED_CODE: &[&str] = &["email_code"];

const INVALID_CHALLENGE: ApiError = ApiError::Unauthorized("invalid_challenge");
/// A wrong code re-entered with a valid customer token: 403, like a wrong current password.
const WRONG_CODE: ApiError = ApiError::Forbidden("invalid_code");

fn concurrent_change() -> ApiError {
    ApiError::Conflict {
        code: "concurrent_change",
        detail: "The account changed in the meantime; try again.".into(),
        current_version: None,
    }
}

// ------------------------------------------------------------ challenges

/// The 401 `second_factor_required` for a sign-in of `customer` (under
/// `epoch`) on the storefront session of `anonymous`: a challenge bound to
/// that session, short-lived and stored by hash.
pub async fn challenge(
    state: &AppState,
    anonymous: &VerifiedToken,
    customer: &CustomerId,
    epoch: u64,
    device: Option<String>,
    methods: &'static [&'static str],
) -> Result<ApiError, ApiError> {
    let now = clock::now_epoch();
    let secret = OpaqueSecret::generate();
    let record = ChallengeRecord {
        customer_id: customer.clone(),
        epoch,
        session_id: anonymous.session.clone(),
        family: anonymous.family.clone(),
        device,
        methods: methods.iter().map(|m| (*m).to_owned()).collect(),
        expires_at: now + CHALLENGE_TTL_SECS,
        ttl: now + CHALLENGE_TTL_SECS,
    };
    state.store.put_challenge(&anonymous.tenant, &secret.hash, &record).await?;
    tracing::info!(event = "login", outcome = "second_factor_required", tenant = %anonymous.tenant, customer_id = %customer, "second factor asked for");
    Ok(ApiError::SecondFactorRequired {
        challenge: secret.value,
        expires_in: CHALLENGE_TTL_SECS,
        methods: methods.to_vec(),
    })
}

/// After a right password: the challenge when one is due (an authenticator
/// enrolled, or the tenant's rule; then a code is mailed), else `None`.
pub async fn after_password(
    state: &AppState,
    anonymous: &VerifiedToken,
    settings: &TenantSettings,
    target: &LoginTarget,
    device: Option<String>,
) -> Result<Option<ApiError>, ApiError> {
    let (tenant, customer) = (&anonymous.tenant, &target.customer_id);
    if target.second_factor {
        return Ok(Some(challenge(state, anonymous, customer, target.epoch, device, AUTHENTICATOR).await?));
    }
    if settings.require_second_factor {
        // A capped mail still answers the challenge: the last code mailed works.
        let outcome = email_code::mail_code(state, tenant, settings, customer, &target.email, target.epoch).await?;
        tracing::info!(event = "email_code_request", outcome, tenant = %tenant, "second-factor code mailed");
        return Ok(Some(challenge(state, anonymous, customer, target.epoch, device, MAILED_CODE).await?));
    }
    Ok(None)
}

/// `login/secondFactor` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondFactorBody {
    pub challenge: Option<String>,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

/// A code of the authenticator (or the mailed one), or a recovery code.
pub enum Proof {
    Code(SixDigitCode),
    Recovery(RecoveryCode),
}

/// `login/secondFactor`, parsed.
pub struct SecondFactorInput {
    pub challenge: String,
    pub proof: Proof,
}

fn parse_proof(code: Option<String>, recovery: Option<String>, v: &mut Validator) -> Option<Proof> {
    match (code, recovery) {
        (Some(code), None) => v.check("code", SixDigitCode::parse(&code)).map(Proof::Code),
        (None, Some(recovery)) => v.check("recoveryCode", RecoveryCode::parse(&recovery)).map(Proof::Recovery),
        (Some(_), Some(_)) => {
            v.push("recoveryCode", "must be left out when code is sent");
            None
        }
        (None, None) => {
            v.push("code", "is required (or recoveryCode)");
            None
        }
    }
}

impl TryFrom<SecondFactorBody> for SecondFactorInput {
    type Error = ApiError;

    fn try_from(body: SecondFactorBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let challenge = v.require("challenge", body.challenge, |c: String| {
            if c.is_empty() || c.len() > 128 {
                Err("must be the challenge of a second_factor_required answer")
            } else {
                Ok(c)
            }
        });
        let proof = parse_proof(body.code, body.recovery_code, &mut v);
        match (challenge, proof) {
            (Some(challenge), Some(proof)) if v.is_ok() => Ok(Self { challenge, proof }),
            _ => Err(v.into_error()),
        }
    }
}

/// Completes a challenged sign-in on the storefront session that was
/// challenged: the guess is reserved from the account's login budget
/// before it is checked (429 once it is spent), a wrong one is 401
/// `invalid_code`, the challenge works once.
pub async fn complete(
    state: &AppState,
    caller: &StorefrontCaller,
    input: SecondFactorInput,
    user_agent: Option<String>,
    client: &ClientAddress,
) -> Result<CodeTokenSet, ApiError> {
    let (anonymous, tenant, settings) = (&caller.token, caller.tenant(), &caller.settings);
    let now = clock::now_epoch();
    let hash = hash_secret(&input.challenge);
    let challenge = state.store.get_challenge(tenant, &hash).await?;
    let challenge = challenge
        .filter(|c| c.session_id == anonymous.session && c.family == anonymous.family)
        .ok_or(INVALID_CHALLENGE)?;
    let customer = &challenge.customer_id;
    let profile = state.store.get_customer(tenant, customer).await?;
    let profile = profile
        .filter(|p| p.epoch == challenge.epoch && p.status == CustomerStatus::Active)
        .ok_or(INVALID_CHALLENGE)?;

    // The budget the password spent from: the account's, or a known device's.
    let budget = match &challenge.device {
        Some(device) => LoginBudget::Device { customer: customer.clone(), device: device.clone() },
        None => LoginBudget::Account(customer.clone()),
    };
    let reservation = state.store.reserve_login_attempt(tenant, &budget, settings, now).await?;
    if let Reservation::Refused { retry_after_secs } = reservation {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let allows = |method: &str| challenge.methods.iter().any(|m| m == method);
    let verified = match &input.proof {
        Proof::Code(code) if allows("totp") => check_totp(state, tenant, customer, code, now).await?,
        Proof::Code(code) if allows("email_code") => {
            email_code::check_code(state, tenant, customer, profile.epoch, code, now).await?
        }
        Proof::Recovery(code) if allows("recovery_code") => use_recovery_code(state, tenant, customer, code).await?,
        _ => false,
    };
    if !verified {
        let locked = state.store.settle_failed_attempt(tenant, &budget, reservation, settings, now).await?;
        let source = limits::client_ip(client, settings, state.config.exempt_loopback);
        limits::count_failure(state, tenant, settings, source, Limited::FailedLogin).await;
        tracing::info!(event = "login", method = "second_factor", outcome = "failure", tenant = %tenant, locked = locked.is_some(), "second factor refused");
        return Err(INVALID_CODE);
    }
    if crate::store::Store::budget_needs_clearing(reservation) {
        state.store.clear_budget(tenant, &budget).await?;
    }
    if !state.store.spend_challenge(tenant, &hash).await? {
        return Err(INVALID_CHALLENGE);
    }
    let sign_in = CustomerSignIn {
        anonymous,
        settings,
        customer,
        epoch: profile.epoch,
        initial_password: profile.initial_password,
        customer_number: &profile.customer_number,
        identity: None,
        user_agent,
    };
    let (tokens, saas_token) = sessions::sign_in_customer(state, sign_in, now).await?;
    tracing::info!(event = "login", method = "second_factor", outcome = "success", tenant = %tenant, customer_id = %customer, "login succeeded");
    Ok(CodeTokenSet { tokens, saas_token })
}

// ------------------------------------------------------------ checks

fn totp_of(secret_base32: &str, issuer: Option<String>, account: String) -> Result<Totp, ApiError> {
    let secret =
        Secret::try_from_base32(secret_base32).map_err(|e| ApiError::internal(format!("stored TOTP secret: {e:?}")))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(issuer)
        .with_account_name(account)
        .build()
        .map_err(|e| ApiError::internal(format!("TOTP: {e:?}")))
}

/// Whether `code` is the enabled authenticator's for now (one step of
/// skew), and its step was not used before; the step is then used up.
async fn check_totp(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    code: &SixDigitCode,
    now: i64,
) -> Result<bool, ApiError> {
    let Some(record) = state.store.get_totp(tenant, customer).await?.filter(|r| r.enabled) else {
        return Ok(false);
    };
    let totp = totp_of(&record.secret, None, String::new())?;
    match totp.check(code.expose(), now as u64) {
        Some(step) if step > record.last_step => Ok(state.store.use_totp_step(tenant, customer, step).await?),
        _ => Ok(false),
    }
}

async fn use_recovery_code(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    code: &RecoveryCode,
) -> Result<bool, ApiError> {
    let Some(record) = state.store.get_totp(tenant, customer).await?.filter(|r| r.enabled) else {
        return Ok(false);
    };
    let hash = code.hash();
    match record.recovery_codes.iter().position(|h| *h == hash) {
        Some(index) => Ok(state.store.use_recovery_code(tenant, customer, index, &hash).await?),
        None => Ok(false),
    }
}

/// Spends one guess of the account's budget on `check`; a wrong guess is
/// 403 `invalid_code` (the customer token is fine).
async fn guarded<F: Future<Output = Result<bool, ApiError>>>(
    state: &AppState,
    caller: &CustomerCaller,
    settings: &TenantSettings,
    check: F,
) -> Result<(), ApiError> {
    let (tenant, now) = (&caller.tenant, clock::now_epoch());
    let budget = LoginBudget::Account(caller.customer.clone());
    let reservation = state.store.reserve_login_attempt(tenant, &budget, settings, now).await?;
    if let Reservation::Refused { retry_after_secs } = reservation {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    if check.await? {
        if crate::store::Store::budget_needs_clearing(reservation) {
            state.store.clear_budget(tenant, &budget).await?;
        }
        return Ok(());
    }
    state.store.settle_failed_attempt(tenant, &budget, reservation, settings, now).await?;
    Err(WRONG_CODE)
}

// ------------------------------------------------------------ enrolment

/// `POST me/totp`: the secret to put into the authenticator app.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrolment {
    /// Base32, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: String,
    pub expires_in: i64,
}

/// Starts an enrolment (a new one replaces one still waiting); 409 while
/// an authenticator is enabled.
pub async fn start_enrolment(state: &AppState, caller: &CustomerCaller) -> Result<Enrolment, ApiError> {
    let (tenant, profile) = (&caller.tenant, &caller.profile);
    let enabled = || ApiError::Conflict {
        code: "second_factor_enabled",
        detail: "An authenticator is enrolled already; remove it first.".into(),
        current_version: None,
    };
    if profile.second_factor {
        return Err(enabled());
    }
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    // 160 bits, as RFC 4226 recommends.
    let secret = Secret::from(random_bytes::<20>().to_vec()).to_base32();
    let shop = if settings.display_name.is_empty() { tenant.to_string() } else { settings.display_name.clone() };
    // The otpauth label is `issuer:account`: a colon in either would split it.
    let issuer = shop.replace(':', " ");
    let totp = totp_of(&secret, Some(issuer), profile.email.as_str().replace(':', " "))?;
    let otpauth_uri = totp.to_url().map_err(|e| ApiError::internal(format!("otpauth URI: {e:?}")))?;
    let now = clock::now_epoch();
    let record = TotpRecord {
        secret: secret.clone(),
        enabled: false,
        last_step: 0,
        recovery_codes: Vec::new(),
        created_at: now,
        ttl: Some(now + ENROLMENT_TTL_SECS),
    };
    if !state.store.put_totp_enrolment(tenant, &caller.customer, &record).await? {
        return Err(enabled());
    }
    Ok(Enrolment { secret, otpauth_uri, expires_in: ENROLMENT_TTL_SECS })
}

/// `POST me/totp/confirm` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmBody {
    pub code: Option<String>,
}

impl TryFrom<ConfirmBody> for SixDigitCode {
    type Error = ApiError;

    fn try_from(body: ConfirmBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        match v.require("code", body.code, |c| SixDigitCode::parse(&c)) {
            Some(code) if v.is_ok() => Ok(code),
            _ => Err(v.into_error()),
        }
    }
}

/// The recovery codes, shown this once.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Confirms the waiting enrolment with a first code: the authenticator is
/// enabled, ten recovery codes are made, and the account moves to a new
/// credential epoch (every other session ends; this one stays). A notice
/// is mailed.
pub async fn confirm_enrolment(
    state: &AppState,
    caller: &CustomerCaller,
    code: SixDigitCode,
) -> Result<RecoveryCodes, ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    let record = state.store.get_totp(tenant, customer).await?.filter(|r| !r.enabled);
    let Some(record) = record.filter(|_| !profile.second_factor) else {
        return Err(ApiError::Conflict {
            code: "enrolment_required",
            detail: "No enrolment is waiting: start one with POST me/totp.".into(),
            current_version: None,
        });
    };
    let totp = totp_of(&record.secret, None, String::new())?;
    let mut step = None;
    guarded(state, caller, &settings, async {
        step = totp.check(code.expose(), clock::now_epoch() as u64);
        Ok(step.is_some())
    })
    .await?;
    let codes: Vec<RecoveryCode> = (0..RECOVERY_CODES).map(|_| RecoveryCode::generate()).collect();
    let hashes: Vec<String> = codes.iter().map(RecoveryCode::hash).collect();
    let enable = state.store.enable_totp_item(tenant, customer, &record.secret, step.unwrap_or(0), &hashes)?;
    commit(state, caller, true, enable).await?;
    tracing::info!(event = "second_factor", outcome = "enabled", tenant = %tenant, customer_id = %customer, "authenticator enrolled");
    let context = minijinja::context! { what => "totp_enabled" };
    notify::notice(state, tenant, &settings, profile, Template::SecurityNotice, context).await;
    Ok(RecoveryCodes { recovery_codes: codes.iter().map(RecoveryCode::display).collect() })
}

async fn commit(
    state: &AppState,
    caller: &CustomerCaller,
    enabled: bool,
    write: crate::store::Write,
) -> Result<(), ApiError> {
    let commit = CredentialCommit {
        profile: &caller.profile,
        change: CredentialChange::SecondFactor { enabled },
        activate: false,
        redeem: None,
        keep_session: Some(&caller.session),
        now: clock::now_epoch(),
    };
    match state.store.commit_credential_change_with(&caller.tenant, commit, vec![write]).await? {
        CommitOutcome::Done => Ok(()),
        _ => Err(concurrent_change()),
    }
}

/// `DELETE me/totp` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisableBody {
    pub password: Option<String>,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

/// `DELETE me/totp`, parsed.
pub struct Disable {
    pub password: Option<Password>,
    pub proof: Proof,
}

impl TryFrom<DisableBody> for Disable {
    type Error = ApiError;

    fn try_from(body: DisableBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let password = v.optional("password", body.password, Password::parse);
        let proof = parse_proof(body.code, body.recovery_code, &mut v);
        match (password, proof) {
            (Some(password), Some(proof)) if v.is_ok() => Ok(Self { password, proof }),
            _ => Err(v.into_error()),
        }
    }
}

/// Removes the authenticator with the owner's password (or a fresh
/// provider sign-in, for an account without one) and a code or recovery
/// code: a new credential epoch, a notice.
pub async fn disable(state: &AppState, caller: &CustomerCaller, input: Disable) -> Result<(), ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    if !profile.second_factor {
        return Err(ApiError::NotFound);
    }
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    confirm_owner(state, caller, &settings, input.password.as_ref(), "password", "second_factor_removal").await?;
    let now = clock::now_epoch();
    guarded(state, caller, &settings, async {
        match &input.proof {
            Proof::Code(code) => check_totp(state, tenant, customer, code, now).await,
            Proof::Recovery(code) => use_recovery_code(state, tenant, customer, code).await,
        }
    })
    .await?;
    commit(state, caller, false, state.store.delete_totp_item(tenant, customer)?).await?;
    tracing::info!(event = "second_factor", outcome = "disabled", tenant = %tenant, customer_id = %customer, "authenticator removed");
    let context = minijinja::context! { what => "totp_disabled" };
    notify::notice(state, tenant, &settings, profile, Template::SecurityNotice, context).await;
    Ok(())
}
