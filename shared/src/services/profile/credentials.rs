//! Acts that need the password again: changing it, and deleting the account.
//! The check is throttled like login (same counter as login by id), so a
//! stolen access token cannot be used to guess the password.

use std::sync::Arc;

use crate::clock;
use crate::customer::CustomerRecord;
use crate::domain::{CustomerId, Email, Password, SessionId, TenantId};
use crate::error::{ApiError, FieldError, Validator};
use crate::mail::templates::Template;
use crate::password_policy;
use crate::passwords;
use crate::services::login::WRONG_CURRENT_PASSWORD;
use crate::services::notify;
use crate::state::AppState;
use crate::store::profile::ProfileRemoval;
use crate::store::{ThrottleRecord, from_item};
use crate::table_keys::ItemKey;
use crate::tenant::TenantSettings;

/// The throttle subject of login by id, so failures here and there add up.
fn throttle_subject(customer: &CustomerId) -> String {
    format!("id:{customer}")
}

/// `{currentPassword, newPassword}`, each named when missing.
pub fn parse_password_change(current: Option<String>, new: Option<String>) -> Result<(Password, Password), ApiError> {
    let mut v = Validator::default();
    let current = v.require("currentPassword", current, Password::parse);
    let new = v.require("newPassword", new, Password::parse);
    match (current, new) {
        (Some(current), Some(new)) if v.is_ok() => Ok((current, new)),
        _ => Err(v.into_error()),
    }
}

/// The profile and the settings, once the lock is checked; the password is
/// verified by `verify_password`.
async fn load_unlocked(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
) -> Result<(CustomerRecord, Arc<TenantSettings>), ApiError> {
    let settings = state.tenant_settings(tenant).await?.ok_or(super::ACCOUNT_GONE)?;
    let profile_key = ItemKey::profile(tenant, customer);
    let throttle_key = ItemKey::throttle(tenant, &throttle_subject(customer));
    let mut found = state.store.get_many(&[profile_key.clone(), throttle_key.clone()]).await?;
    let mut take = |key: &ItemKey| found.remove(key);
    let profile: CustomerRecord = take(&profile_key).map(from_item).transpose()?.ok_or(super::ACCOUNT_GONE)?;
    let throttle: ThrottleRecord = take(&throttle_key).map(from_item).transpose()?.unwrap_or_default();
    let now = clock::now_epoch();
    if throttle.locked_until > now {
        return Err(ApiError::TooManyRequests { retry_after_secs: (throttle.locked_until - now) as u64 });
    }
    Ok((profile, settings))
}

async fn verify_password(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    customer: &CustomerId,
    profile: &CustomerRecord,
    password: &Password,
    action: &'static str,
) -> Result<(), ApiError> {
    let stored: Option<Arc<str>> = profile.password_hash.as_deref().map(Arc::from);
    if passwords::verify(password, stored).await.map_err(ApiError::internal)? {
        return Ok(());
    }
    let subject = throttle_subject(customer);
    let record = state.store.record_login_failure(tenant, &subject, settings, clock::now_epoch()).await?;
    tracing::info!(event = action, outcome = "wrong_password", tenant = %tenant, customer_id = %customer, failures = record.failures, "password check failed");
    Err(WRONG_CURRENT_PASSWORD)
}

/// `POST me/password/change`: a new password (policy-checked), every other
/// session revoked, a notice mailed.
pub async fn change_password(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    current_session: &SessionId,
    current: Password,
    new: Password,
) -> Result<(), ApiError> {
    let (profile, settings) = load_unlocked(state, tenant, customer).await?;
    let details = &profile.details;
    let inputs: Vec<&str> = [Some(profile.email.as_str()), details.first_name.as_deref(), details.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    password_policy::check(&settings, "newPassword", &new, &inputs)?;
    if new.expose() == current.expose() {
        return Err(ApiError::Unprocessable {
            code: "weak_password",
            errors: vec![FieldError::new("newPassword", "must differ from the current password")],
        });
    }
    verify_password(state, tenant, &settings, customer, &profile, &current, "password_change").await?;

    let hash = passwords::hash(&new).await.map_err(ApiError::internal)?;
    let email = Email::parse(&profile.email).map_err(|_| ApiError::internal("stored e-mail does not parse"))?;
    let mut items = state.store.set_password_items(tenant, customer, &email.normalized(), &hash, false)?;
    items.push(state.store.reset_throttle_item(tenant, &throttle_subject(customer))?);
    if state.store.transact(items).await?.is_err() {
        // The e-mail changed (or the account went) between our read and write.
        return Err(ApiError::Conflict {
            code: "concurrent_change",
            detail: "The account changed in the meantime; try again.".into(),
            current_version: None,
        });
    }
    let revoked = state.store.delete_sessions(tenant, customer, Some(current_session)).await?;
    tracing::info!(event = "password_change", outcome = "success", tenant = %tenant, customer_id = %customer, revoked_sessions = revoked, "password changed");
    notify::send(
        state,
        tenant,
        &settings,
        &profile.email,
        Template::PasswordChanged,
        details.preferred_language.as_deref(),
        minijinja::context! { first_name => details.first_name.clone() },
    )
    .await;
    Ok(())
}

/// `DELETE me`: with the password, every item of the customer goes. The
/// profile and e-mail guard go first, together, so a half-done deletion
/// never leaves an account one can sign in to; the rest follows.
pub async fn delete_account(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    password: Option<String>,
) -> Result<(), ApiError> {
    let password = password.ok_or_else(|| ApiError::field("password", "is required"))?;
    let password = Password::parse(password).map_err(|e| ApiError::field("password", e.0))?;
    let (mut profile, settings) = load_unlocked(state, tenant, customer).await?;
    verify_password(state, tenant, &settings, customer, &profile, &password, "account_deletion").await?;

    // The profile's e-mail can change under us (an e-mail confirmation);
    // then read it again and delete the guard that is current.
    let mut attempts = 0;
    loop {
        let email = Email::parse(&profile.email).map_err(|_| ApiError::internal("stored e-mail does not parse"))?;
        let normalized = email.normalized();
        match state.store.remove_profile_and_guard(tenant, customer, &profile.email, &normalized).await? {
            ProfileRemoval::Removed => break,
            ProfileRemoval::Changed if attempts < 3 => {
                attempts += 1;
                profile = super::load(state, tenant, customer).await?;
            }
            ProfileRemoval::Changed => return Err(ApiError::internal("account deletion kept meeting changes")),
        }
    }

    let mut keys = state.store.customer_partition_keys(tenant, customer).await?;
    keys.extend(profile.pending_tokens.values().map(|hash| ItemKey::one_time_token(tenant, hash)));
    keys.extend(profile.social_links.iter().map(|link| ItemKey::social(tenant, &link.issuer, &link.subject)));
    keys.push(ItemKey::throttle(tenant, &throttle_subject(customer)));
    if let Ok(email) = Email::parse(&profile.email) {
        keys.push(ItemKey::throttle(tenant, &format!("email:{}", email.normalized())));
    }
    state.store.delete_keys(&keys).await?;
    tracing::info!(event = "account_deleted", tenant = %tenant, customer_id = %customer, items = keys.len() + 2, "account deleted");

    let details = &profile.details;
    notify::send(
        state,
        tenant,
        &settings,
        &profile.email,
        Template::AccountDeleted,
        details.preferred_language.as_deref(),
        minijinja::context! { first_name => details.first_name.clone() },
    )
    .await;
    Ok(())
}
