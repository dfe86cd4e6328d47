//! Customer login: password check in one read, session in one write, and
//! per-account throttling that looks the same for accounts that don't exist.

use std::sync::Arc;

use crate::clock;
use crate::customer::CustomerStatus;
use crate::domain::{CustomerId, Email, Password};
use crate::error::ApiError;
use crate::passwords;
use crate::secrets::OpaqueSecret;
use crate::services::sessions::new_session;
use crate::services::token_set::{self, Grant, TokenSet};
use crate::state::AppState;
use crate::store::{LoginTarget, SessionRecord, ThrottleRecord, from_item};
use crate::table_keys::ItemKey;
use crate::tokens::{Subject, VerifiedToken};

pub enum LoginName {
    Email(Email),
    Id(CustomerId),
}

impl LoginName {
    /// The throttle subject: the identifier as given, whether or not an
    /// account has it.
    fn subject(&self) -> String {
        match self {
            Self::Email(email) => format!("email:{}", email.normalized()),
            Self::Id(id) => format!("id:{id}"),
        }
    }
}

pub const INVALID_CREDENTIALS: ApiError = ApiError::Unauthorized("invalid_credentials");

/// A wrong password re-entered with a valid customer token (password change,
/// deletion, e-mail change): 403, not 401, so a storefront does not take it
/// for an expired token and sign the customer out.
pub const WRONG_CURRENT_PASSWORD: ApiError = ApiError::Forbidden("invalid_credentials");

/// Logs a customer in on the storefront session of `anonymous` (its `sid`
/// carries over; the token pair is brand new).
pub async fn login(
    state: &AppState,
    anonymous: &VerifiedToken,
    name: LoginName,
    password: Password,
    user_agent: Option<String>,
) -> Result<TokenSet, ApiError> {
    if anonymous.subject != Subject::Anonymous {
        return Err(ApiError::Forbidden("anonymous_token_required"));
    }
    let tenant = &anonymous.tenant;
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    let now = clock::now_epoch();
    let subject = name.subject();

    // One round trip: the storefront session, the throttle counter and the account.
    let session_key = ItemKey::anonymous_session(tenant, &anonymous.session);
    let throttle_key = ItemKey::throttle(tenant, &subject);
    let target_key = match &name {
        LoginName::Email(email) => ItemKey::email_guard(tenant, &email.normalized()),
        LoginName::Id(id) => ItemKey::profile(tenant, id),
    };
    let mut found = state.store.get_many(&[session_key.clone(), throttle_key.clone(), target_key.clone()]).await?;
    let mut take = |key: &ItemKey| found.remove(key);

    let session: Option<SessionRecord> = take(&session_key).map(from_item).transpose()?;
    if !session.is_some_and(|s| s.client_id == anonymous.client.as_str() && s.expires_at > now) {
        return Err(ApiError::Unauthorized("session_revoked"));
    }
    let throttle: ThrottleRecord = take(&throttle_key).map(from_item).transpose()?.unwrap_or_default();
    if throttle.locked_until > now {
        return Err(ApiError::TooManyRequests { retry_after_secs: (throttle.locked_until - now) as u64 });
    }
    let target = match (&name, take(&target_key)) {
        (_, None) => None,
        (LoginName::Email(_), Some(item)) => LoginTarget::from_guard(item)?,
        (LoginName::Id(_), Some(item)) => LoginTarget::from_profile(item)?,
    };

    let stored_hash: Option<Arc<str>> = target.as_ref().and_then(|t| t.password_hash.as_deref()).map(Arc::from);
    let verified = passwords::verify(&password, stored_hash).await.map_err(ApiError::internal)?;
    let Some(target) = target.filter(|_| verified) else {
        let record = state.store.record_login_failure(tenant, &subject, &settings, now).await?;
        tracing::info!(event = "login", outcome = "failure", tenant = %tenant, failures = record.failures, "login failed");
        return Err(INVALID_CREDENTIALS);
    };
    if target.status != CustomerStatus::Active {
        tracing::info!(event = "login", outcome = "not_activated", tenant = %tenant, customer_id = %target.customer_id, "login refused");
        return Err(ApiError::Forbidden("account_not_activated"));
    }

    // One transaction: the customer session, its refresh token, the counter reset and the last login.
    let customer = &target.customer_id;
    let session = new_session(
        &anonymous.session,
        &anonymous.client,
        Some(customer),
        settings.customer_refresh_ttl_secs,
        user_agent,
        now,
    );
    let refresh = OpaqueSecret::generate();
    let extra = vec![
        state.store.reset_throttle_item(tenant, &subject)?,
        state.store.touch_last_login(tenant, customer, &clock::rfc3339(now))?,
    ];
    state.store.start_session(tenant, &session, &refresh.hash, extra).await?;
    tracing::info!(event = "login", outcome = "success", tenant = %tenant, customer_id = %customer, "login succeeded");
    if target.password_hash.as_deref().is_some_and(passwords::needs_rehash) {
        upgrade_hash(state, tenant, &target, &password).await;
    }
    token_set::build(
        state,
        Grant {
            tenant,
            client: &anonymous.client,
            session: &anonymous.session,
            customer: Some((customer, target.initial_password)),
            access_ttl: settings.customer_access_ttl_secs,
            refresh_token: refresh.value,
            session_expires_at: session.expires_at,
        },
        now,
    )
}

/// Replaces an imported legacy hash (or an argon2 hash with weaker
/// parameters) by a current argon2id hash. Best effort: on failure the old
/// hash simply stays, and the next login tries again.
async fn upgrade_hash(state: &AppState, tenant: &crate::domain::TenantId, target: &LoginTarget, password: &Password) {
    let result = async {
        let hash = passwords::hash(password).await.map_err(ApiError::internal)?;
        let normalized = target.email.to_lowercase();
        let items =
            state.store.set_password_items(tenant, &target.customer_id, &normalized, &hash, target.initial_password)?;
        state.store.transact(items).await?.map_err(|codes| ApiError::internal(format!("{codes:?}")))
    }
    .await;
    match result {
        Ok(()) => {
            tracing::info!(event = "password_rehashed", tenant = %tenant, customer_id = %target.customer_id, "password hash upgraded to argon2id")
        }
        Err(err) => {
            tracing::warn!(tenant = %tenant, customer_id = %target.customer_id, error = %err, "password hash upgrade failed")
        }
    }
}

/// Parses the login body: `email` or `id`, and `password`; every missing or
/// bad field is named.
pub fn parse_login(
    email: Option<String>,
    id: Option<String>,
    password: Option<String>,
) -> Result<(LoginName, Password), ApiError> {
    let mut v = crate::error::Validator::default();
    let name = match (email, id) {
        (Some(email), _) => v.check("email", Email::parse(&email)).map(LoginName::Email),
        (None, Some(id)) => v.check("id", CustomerId::parse(&id)).map(LoginName::Id),
        (None, None) => {
            v.push("email", "is required (or id)");
            None
        }
    };
    let password = v.require("password", password, Password::parse);
    match (name, password) {
        (Some(name), Some(password)) if v.is_ok() => Ok((name, password)),
        _ => Err(v.into_error()),
    }
}
