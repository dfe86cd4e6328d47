//! Customer login: the password check in one read, the login budget counted
//! after verifying (a wrong password takes an attempt, a right one reads the
//! budget: parallel guesses cannot get more answers than it allows), the
//! session in one write. Accounts that don't exist are throttled and
//! answered the same.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::customer::CustomerStatus;
use crate::device_tokens::{DeviceToken, MAX_DEVICE_TOKEN_CHARS};
use crate::domain::{CustomerId, Email, LoginName, Password, TenantId};
use crate::error::ApiError;
use crate::http::{ClientAddress, StorefrontToken};
use crate::passwords;

use crate::services::limits::{self, Limited};
use crate::services::sessions::{self, CustomerSignIn};
use crate::services::token_set::TokenSet;
use crate::state::AppState;
use crate::store::{BudgetCheck, LoginBudget, LoginLookup, LoginTarget, Reservation};
use crate::tenant::TenantSettings;

/// A login request, parsed.
pub struct LoginInput {
    pub name: LoginName,
    pub password: Password,
    /// The device token this client got from an earlier login, if any.
    pub device_token: Option<String>,
}

/// The customer token set plus the device token for the next login and the
/// `saas_token` of the Emporix seed.
#[derive(Debug, Serialize)]
pub struct LoginTokenSet {
    #[serde(flatten)]
    pub tokens: TokenSet,
    pub saas_token: String,
    pub device_token: String,
}

pub const INVALID_CREDENTIALS: ApiError = ApiError::Unauthorized("invalid_credentials");

/// A wrong password re-entered with a valid customer token (password change,
/// deletion, e-mail change): 403, not 401, so a storefront does not take it
/// for an expired token and sign the customer out.
pub const WRONG_CURRENT_PASSWORD: ApiError = ApiError::Forbidden("invalid_credentials");

/// Logs a customer in on the storefront session of `anonymous` (its `sid`
/// carries over; the token pair and the session's family are brand new).
pub async fn login(
    state: &AppState,
    caller: &StorefrontToken,
    input: LoginInput,
    user_agent: Option<String>,
    client: &ClientAddress,
) -> Result<LoginTokenSet, ApiError> {
    let (anonymous, tenant, settings) = (&caller.token, caller.tenant(), &caller.settings);
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    let now = clock::now_epoch();
    // A device token proves itself (no read); whether it is this account's
    // is known once the account is.
    let keys = state.keys.current().await;
    let presented_device = input.device_token.as_deref().and_then(|raw| DeviceToken::verify(&keys, tenant, raw, now));

    // One round trip: the storefront session, the account and, unless a
    // device token came, the failed-login limits (they matter only for a
    // device new to the account), eventually consistent. What a second-old
    // read could get wrong is read again: a storefront session just made,
    // an account just activated. A stale password hash or epoch is harmless:
    // the session would carry the old epoch and be dead on arrival.
    let limits_read = presented_device.is_none();
    let counters =
        if limits_read { limits::failure_counters(Limited::FailedLogin, source, settings) } else { Vec::new() };
    let lookup = |consistent| state.store.login_lookup(tenant, &anonymous.session, &input.name, &counters, consistent);
    let live = |found: &LoginLookup| {
        found.storefront_session.as_ref().is_some_and(|s| s.is_live(&anonymous.client, &anonymous.family, None, now))
    };
    let mut found = lookup(false).await?;
    let settled = |found: &LoginLookup| found.target.as_ref().is_none_or(|t| t.status == CustomerStatus::Active);
    if !live(&found) || !settled(&found) {
        found = lookup(true).await?;
    }
    if !live(&found) {
        return Err(ApiError::Unauthorized("session_revoked"));
    }
    let LoginLookup { target, limit_wait, .. } = found;
    // A device that logged in to this account before has a budget of its own,
    // and is not held back by the limits others run into.
    let known_device = match (&target, presented_device) {
        (Some(target), Some(device)) if device.customer == target.customer_id => Some(device),
        _ => None,
    };
    let budget = match (&target, &known_device) {
        (Some(target), Some(device)) => {
            LoginBudget::Device { customer: target.customer_id.clone(), device: device.device.clone() }
        }
        (Some(target), None) => LoginBudget::Account(target.customer_id.clone()),
        (None, _) => LoginBudget::Unknown(input.name.unknown_subject()),
    };
    if known_device.is_none() {
        if limits_read {
            limits::refuse_if_exhausted(limit_wait)?;
        } else {
            // Another account's device token: its limits were not read with the account.
            limits::check(state, tenant, settings, source, Limited::FailedLogin).await?;
        }
    }
    // The password first, then the budget (see `store::throttle`): a wrong
    // one takes its attempt, a right one only reads the budget, so a login
    // that goes well writes nothing to it. Either is answered 429 once the
    // budget is out, so no more than the budget ever learns an answer.
    let stored_hash: Option<Arc<str>> = target.as_ref().and_then(|t| t.password_hash.as_deref()).map(Arc::from);
    let verified = passwords::verify(&input.password, stored_hash).await?;
    let Some(target) = target.filter(|_| verified) else {
        let reservation = state.store.reserve_login_attempt(tenant, &budget, settings, now).await?;
        if let Reservation::Refused { retry_after_secs } = reservation {
            return Err(throttled(tenant, retry_after_secs));
        }
        let locked = state.store.settle_failed_attempt(tenant, &budget, reservation, settings, now).await?;
        if known_device.is_none() {
            limits::count_failure(state, tenant, settings, source, Limited::FailedLogin).await;
        }
        tracing::info!(event = "login", outcome = "failure", tenant = %tenant, locked = locked.is_some(), "login failed");
        return Err(INVALID_CREDENTIALS);
    };
    let others_in_budget = match state.store.check_login_budget(tenant, &budget, now).await? {
        BudgetCheck::Refused { retry_after_secs } => return Err(throttled(tenant, retry_after_secs)),
        BudgetCheck::Open { others } => others,
    };
    if target.status != CustomerStatus::Active {
        if others_in_budget {
            state.store.clear_budget(tenant, &budget).await?;
        }
        tracing::info!(event = "login", outcome = "not_activated", tenant = %tenant, customer_id = %target.customer_id, "login refused");
        return Err(ApiError::Forbidden("account_not_activated"));
    }
    // The password alone may not be enough; the budget is then left as it
    // is, so a right password buys no fresh guesses at the second factor,
    // and the guesses spend from the budget the password spent from (a
    // known device keeps its own: others' failures do not keep it out).
    let device = known_device.as_ref().map(|d| d.device.clone());
    if let Some(challenge) =
        crate::services::second_factor::after_password(state, anonymous, settings, &target, device).await?
    {
        return Err(challenge);
    }

    // The session (one item), and beside it a budget others used cleared.
    let customer = &target.customer_id;
    let clear = async {
        if others_in_budget {
            state.store.clear_budget(tenant, &budget).await?;
        }
        Ok::<_, ApiError>(())
    };
    let device_token = match (known_device, input.device_token) {
        (Some(device), Some(raw)) => device.renewed(&keys, tenant, raw),
        _ => DeviceToken::issue(&keys, tenant, customer, now).0,
    };
    let number = match target.customer_number.as_str() {
        // A guard from an older release: the profile knows.
        "" => state.store.get_customer(tenant, customer).await?.map(|p| p.customer_number).unwrap_or_default(),
        number => number.to_owned(),
    };
    let sign_in = CustomerSignIn {
        anonymous,
        settings,
        customer,
        epoch: target.epoch,
        initial_password: target.initial_password,
        customer_number: &number,
        identity: None,
        user_agent,
    };
    let ((tokens, saas_token), ()) = tokio::try_join!(sessions::sign_in_customer(state, sign_in, now), clear)?;
    tracing::info!(event = "login", outcome = "success", tenant = %tenant, customer_id = %customer, "login succeeded");
    if target.password_hash.as_deref().is_some_and(passwords::needs_rehash) {
        upgrade_hash(state, tenant, &target, &input.password).await;
    }
    Ok(LoginTokenSet { tokens, saas_token, device_token })
}

fn throttled(tenant: &TenantId, retry_after_secs: u64) -> ApiError {
    tracing::info!(event = "login", outcome = "throttled", tenant = %tenant, "login refused by the lock-out");
    ApiError::TooManyRequests { retry_after_secs }
}

/// Re-checks the password of a signed-in customer (password change,
/// deletion, e-mail change) against the account's login budget, so a stolen
/// access token is no way around the lock-out. A wrong password is 403.
pub async fn recheck_password(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    customer: &CustomerId,
    stored_hash: Option<&str>,
    password: &Password,
    action: &'static str,
) -> Result<(), ApiError> {
    let budget = LoginBudget::Account(customer.clone());
    let now = clock::now_epoch();
    let reservation = state.store.reserve_login_attempt(tenant, &budget, settings, now).await?;
    if let Reservation::Refused { retry_after_secs } = reservation {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let stored: Option<Arc<str>> = stored_hash.map(Arc::from);
    if passwords::verify(password, stored).await? {
        state.store.clear_budget(tenant, &budget).await?;
        return Ok(());
    }
    let locked = state.store.settle_failed_attempt(tenant, &budget, reservation, settings, now).await?;
    tracing::info!(event = action, outcome = "wrong_password", tenant = %tenant, customer_id = %customer, locked = locked.is_some(), "password check failed");
    Err(WRONG_CURRENT_PASSWORD)
}

/// How long a provider sign-in stands in for the password (step-up).
pub const FRESH_SIGN_IN_SECS: i64 = 5 * 60;

/// Whether the caller's session was opened by a provider sign-in within
/// `FRESH_SIGN_IN_SECS`, with an identity that is still linked.
pub fn fresh_provider_sign_in(caller: &crate::http::CustomerCaller) -> bool {
    let session = &caller.session;
    let fresh = clock::now_epoch() - session.created_at <= FRESH_SIGN_IN_SECS;
    fresh
        && session
            .identity
            .as_ref()
            .is_some_and(|id| caller.profile.social_links.iter().any(|l| l.is(&id.issuer, &id.subject)))
}

/// Proves the caller is the account's owner for a sensitive act: the
/// password (checked against the login budget, see `recheck_password`), or
/// — when none is sent — a provider sign-in of this very session within the
/// last 5 minutes, with an identity still linked. A social-only customer has
/// no password; this is how they delete the account, change the e-mail, set
/// a first password or manage links.
pub async fn confirm_owner(
    state: &AppState,
    caller: &crate::http::CustomerCaller,
    settings: &TenantSettings,
    password: Option<&Password>,
    password_field: &'static str,
    action: &'static str,
) -> Result<(), ApiError> {
    let profile = &caller.profile;
    if let Some(password) = password {
        let stored = profile.password_hash.as_deref();
        return recheck_password(state, &caller.tenant, settings, &caller.customer, stored, password, action).await;
    }
    if fresh_provider_sign_in(caller) {
        tracing::info!(event = action, outcome = "step_up", tenant = %caller.tenant, customer_id = %caller.customer, "owner confirmed by a fresh provider sign-in");
        return Ok(());
    }
    Err(ApiError::Validation(vec![crate::error::FieldError::new(
        password_field,
        if profile.password_hash.is_some() {
            "is required (or sign in with a linked provider again: a provider sign-in of the last 5 minutes stands in for it)"
        } else {
            "is required: the account has none, so sign in with a linked provider again (a provider sign-in of the last 5 minutes stands in for it)"
        },
    )]))
}

/// Replaces an imported legacy hash (or an argon2 hash with weaker
/// parameters) by a current argon2id hash. Best effort: on failure the old
/// hash simply stays, and the next login tries again.
async fn upgrade_hash(state: &AppState, tenant: &TenantId, target: &LoginTarget, password: &Password) {
    let result = async {
        let hash = passwords::hash(password).await?;
        Ok::<_, ApiError>(
            state.store.upgrade_password_hash(tenant, &target.customer_id, &target.email, &hash, target.epoch).await?,
        )
    }
    .await;
    match result {
        Ok(true) => {
            tracing::info!(event = "password_rehashed", tenant = %tenant, customer_id = %target.customer_id, "password hash upgraded to argon2id")
        }
        Ok(false) => {
            tracing::info!(tenant = %tenant, customer_id = %target.customer_id, "password hash not upgraded: the credentials changed meanwhile")
        }
        Err(err) => {
            tracing::warn!(tenant = %tenant, customer_id = %target.customer_id, error = %err, "password hash upgrade failed")
        }
    }
}

/// The login body as sent.
#[derive(Debug, Default, Deserialize)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub id: Option<String>,
    pub password: Option<String>,
    pub device_token: Option<String>,
}

/// `email` or `id`, and `password`; every missing or bad field is named.
impl TryFrom<LoginRequest> for LoginInput {
    type Error = ApiError;

    fn try_from(LoginRequest { email, id, password, device_token }: LoginRequest) -> Result<Self, ApiError> {
        parse_login(email, id, password, device_token)
    }
}

fn parse_login(
    email: Option<String>,
    id: Option<String>,
    password: Option<String>,
    device_token: Option<String>,
) -> Result<LoginInput, ApiError> {
    let mut v = crate::error::Validator::default();
    // Both may come (e-mail wins), but each that comes must be well-formed.
    let id = id.and_then(|id| v.check("id", CustomerId::parse(&id)));
    let name = match (email, id) {
        (Some(email), _) => v.check("email", Email::parse(&email)).map(LoginName::Email),
        (None, Some(id)) => Some(LoginName::Id(id)),
        (None, None) => {
            v.push("email", "is required (or id)");
            None
        }
    };
    let password = v.require("password", password, Password::parse);
    let device_token = v.optional("device_token", device_token, |token: String| {
        if token.is_empty() || token.len() > MAX_DEVICE_TOKEN_CHARS {
            Err("must be the device_token of an earlier login")
        } else {
            Ok(token)
        }
    });
    match (name, password, device_token) {
        (Some(name), Some(password), Some(device_token)) if v.is_ok() => {
            Ok(LoginInput { name, password, device_token })
        }
        _ => Err(v.into_error()),
    }
}
