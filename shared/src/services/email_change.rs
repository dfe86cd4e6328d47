//! Changing the login e-mail: the request re-checks the password and mails a
//! key to the new address (and a notice to the old one); the change happens
//! only on confirmation, atomically with the uniqueness guards.

use std::sync::Arc;

use crate::clock;
use crate::domain::{CustomerId, Email, Password, TenantId};
use crate::error::{ApiError, Validator};
use crate::mail::templates::Template;
use crate::passwords;
use crate::secrets::{OpaqueSecret, hash_secret};
use crate::services::notify;
use crate::services::signup::{invalid_token, one_time_link, settings_or};
use crate::state::AppState;
use crate::store::{EmailSwap, OneTimeTokenRecord, ThrottleRecord, TokenChangeOutcome, TokenPurpose, from_item};
use crate::table_keys::ItemKey;

pub const EMAIL_CHANGE_TTL_SECS: i64 = 3600;
/// Change requests (each mails two addresses) per account and hour, so a
/// customer token cannot turn the service into a mail cannon.
pub const CHANGE_LIMIT: u32 = 5;
pub const CHANGE_WINDOW_SECS: i64 = 3600;

/// A change request, parsed.
pub struct ChangeRequest {
    pub email: Email,
    pub password: Password,
    pub new_email: Email,
    pub sync_contact_email: bool,
}

impl ChangeRequest {
    pub fn parse(
        email: Option<String>,
        password: Option<String>,
        new_email: Option<String>,
        sync_contact_email: Option<bool>,
    ) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let email = v.require("email", email, |e| Email::parse(&e));
        let password = v.require("password", password, Password::parse);
        let new_email = v.require("newEmail", new_email, |e| Email::parse(&e));
        if let (Some(old), Some(new)) = (&email, &new_email)
            && old.normalized() == new.normalized()
        {
            v.push("newEmail", "must differ from the current e-mail");
        }
        match (email, password, new_email) {
            (Some(email), Some(password), Some(new_email)) if v.is_ok() => {
                Ok(Self { email, password, new_email, sync_contact_email: sync_contact_email.unwrap_or(false) })
            }
            _ => Err(v.into_error()),
        }
    }
}

/// A wrong password here is a 403 (the token is fine, the request is not
/// allowed); failures count towards the same lock as logins with this e-mail.
pub const INVALID_CREDENTIALS: ApiError = ApiError::Forbidden("invalid_credentials");

/// Re-checks the password, then mails a one-hour key to the new address and
/// a notice to the current one. A new address that is taken gets nothing,
/// but the answer is the same (no enumeration through this route either).
pub async fn request_change(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    request: ChangeRequest,
) -> Result<(), ApiError> {
    let settings = settings_or(state, tenant, ApiError::Unauthorized("session_revoked")).await?;
    let now = clock::now_epoch();
    // The login throttle's subject for this e-mail, and the profile, in one read.
    let subject = format!("email:{}", request.email.normalized());
    let profile_key = ItemKey::profile(tenant, customer);
    let throttle_key = ItemKey::throttle(tenant, &subject);
    let mut found = state.store.get_many(&[profile_key.clone(), throttle_key.clone()]).await?;
    let mut take = |key: &ItemKey| found.remove(key);
    let Some(profile) = take(&profile_key).map(from_item::<crate::customer::CustomerRecord>).transpose()? else {
        return Err(ApiError::Unauthorized("session_revoked"));
    };
    let throttle: ThrottleRecord = take(&throttle_key).map(from_item).transpose()?.unwrap_or_default();

    let current = Email::parse(&profile.email).map_err(|_| ApiError::internal("stored e-mail does not parse"))?;
    if current.normalized() != request.email.normalized() {
        return Err(ApiError::field("email", "does not match the account's e-mail"));
    }
    if throttle.locked_until > now {
        return Err(ApiError::TooManyRequests { retry_after_secs: (throttle.locked_until - now) as u64 });
    }
    let stored: Option<Arc<str>> = profile.password_hash.as_deref().map(Arc::from);
    if !passwords::verify(&request.password, stored).await.map_err(ApiError::internal)? {
        let record = state.store.record_login_failure(tenant, &subject, &settings, now).await?;
        tracing::info!(event = "email_change", outcome = "wrong_password", tenant = %tenant, customer_id = %customer, failures = record.failures, "e-mail change refused");
        return Err(INVALID_CREDENTIALS);
    }

    if !state.store.take_mail_quota(tenant, "EMAIL_CHANGE", customer, CHANGE_LIMIT, CHANGE_WINDOW_SECS, now).await? {
        return Err(ApiError::TooManyRequests { retry_after_secs: CHANGE_WINDOW_SECS as u64 });
    }

    let details = &profile.details;
    let language = details.preferred_language.as_deref();
    let first_name = details.first_name.clone();
    let new_email = request.new_email;
    let taken =
        state.store.get::<crate::customer::EmailGuard>(&ItemKey::email_guard(tenant, &new_email.normalized())).await?;
    if taken.is_none() {
        let key = OneTimeTokenRecord {
            purpose: TokenPurpose::EmailChange,
            customer_id: customer.to_string(),
            new_email: Some(new_email.to_string()),
            sync_contact_email: Some(request.sync_contact_email),
            created_at: now,
            expires_at: now + EMAIL_CHANGE_TTL_SECS,
            ttl: now + EMAIL_CHANGE_TTL_SECS,
        };
        let secret = OpaqueSecret::generate();
        let mut items = vec![
            state.store.put_one_time_token_item(tenant, &secret.hash, &key)?,
            state.store.set_pending_token_item(tenant, &profile, TokenPurpose::EmailChange, &secret.hash, false)?,
        ];
        // A newer key retires the older one.
        if let Some(old) = profile.pending_tokens.get(TokenPurpose::EmailChange.as_str()) {
            items.push(state.store.delete_one_time_token_item(tenant, old)?);
        }
        if state.store.transact(items).await?.is_err() {
            return Err(ApiError::Conflict {
                code: "concurrent_change",
                detail: "Another e-mail change was requested at the same time; try again.".into(),
                current_version: None,
            });
        }
        let link = one_time_link(
            state,
            tenant,
            settings.email_confirm_uri.as_deref(),
            "email/confirm",
            customer,
            "key",
            &secret.value,
        );
        notify::send(
            state,
            tenant,
            &settings,
            new_email.as_str(),
            Template::EmailChangeConfirm,
            language,
            minijinja::context! { link => link, first_name => first_name.clone(), new_email => new_email.as_str() },
        )
        .await;
    }
    tracing::info!(event = "email_change", outcome = "requested", tenant = %tenant, customer_id = %customer, "e-mail change requested");
    notify::send(
        state,
        tenant,
        &settings,
        &profile.email,
        Template::EmailChangeNotice,
        language,
        minijinja::context! { first_name => first_name, new_email => new_email.as_str() },
    )
    .await;
    Ok(())
}

/// Parses `{identifier, key}`: both required; a malformed identifier is just
/// another invalid link.
pub fn parse_confirm(
    identifier: Option<String>,
    key: Option<String>,
) -> Result<(Option<CustomerId>, String), ApiError> {
    let mut v = Validator::default();
    let identifier = v.require("identifier", identifier.filter(|i| !i.is_empty()), |raw| {
        Ok::<_, ApiError>(CustomerId::parse(raw.trim()).ok())
    });
    let key = v.require("key", key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()), Ok::<_, ApiError>);
    match (identifier, key) {
        (Some(identifier), Some(key)) if v.is_ok() => Ok((identifier, key)),
        _ => Err(v.into_error()),
    }
}

/// Swaps the e-mail the key was issued for. 409 `email_taken` when the new
/// address got registered meanwhile (nothing changes, the key stays valid).
pub async fn confirm(
    state: &AppState,
    tenant: &TenantId,
    identifier: Option<CustomerId>,
    key: &str,
) -> Result<(), ApiError> {
    let Some(id) = identifier else { return Err(invalid_token()) };
    let hash = hash_secret(key);
    let token = state
        .store
        .get_one_time_token(tenant, &hash)
        .await?
        .filter(|t| t.purpose == TokenPurpose::EmailChange && t.customer_id == id.as_str());
    let Some(token) = token else { return Err(invalid_token()) };
    let Some(new_email) = token.new_email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Err(invalid_token());
    };
    let profile =
        state.store.get_customer(tenant, &id).await?.filter(|p| {
            p.pending_tokens.get(TokenPurpose::EmailChange.as_str()).is_some_and(|current| *current == hash)
        });
    let Some(profile) = profile else { return Err(invalid_token()) };
    let swap = EmailSwap {
        profile: &profile,
        new_email: &new_email,
        key_hash: &hash,
        sync_contact_email: token.sync_contact_email.unwrap_or(false),
        now: clock::now_epoch(),
    };
    match state.store.swap_email(tenant, swap).await? {
        TokenChangeOutcome::Done => {
            tracing::info!(event = "email_change", outcome = "confirmed", tenant = %tenant, customer_id = %id, "e-mail changed");
            Ok(())
        }
        TokenChangeOutcome::EmailTaken => Err(ApiError::Conflict {
            code: "email_taken",
            detail: "The new e-mail address belongs to another account now.".into(),
            current_version: None,
        }),
        TokenChangeOutcome::TokenRejected => Err(invalid_token()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_request_needs_every_field_and_a_different_address() {
        let some = |s: &str| Some(s.to_owned());
        let Err(ApiError::Validation(errors)) = ChangeRequest::parse(None, None, some("bad@"), None) else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "newEmail"]);
        let same = ChangeRequest::parse(some("a@x.test"), some("pw"), some(" A@X.test"), Some(true));
        assert!(matches!(same, Err(ApiError::Validation(e)) if e[0].field == "newEmail"));
        let ok = ChangeRequest::parse(some("a@x.test"), some("pw"), some("b@x.test"), None).ok().unwrap();
        assert!(!ok.sync_contact_email);
    }
}
