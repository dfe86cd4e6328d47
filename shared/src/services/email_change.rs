//! Changing the login e-mail: the request re-checks the password and mails a
//! key to the new address (and a notice to the old one); the change happens
//! only on confirmation, atomically with the uniqueness guards, and moves the
//! account to a new credential epoch (every session and outstanding link ends).

use serde::Deserialize;

use crate::clock;
use crate::domain::{CustomerId, Email, Password, TenantId};
use crate::error::{ApiError, Validator};
use crate::http::{ClientAddress, CustomerCaller};
use crate::mail::templates::Template;
use crate::secrets::OpaqueSecret;
use crate::services::equal_time::ResponseFloor;
use crate::services::limits::{self, Limited};
use crate::services::login::confirm_owner;
use crate::services::notify;
use crate::services::one_time::{Redeemable, invalid_token, redeemable};
use crate::services::signup::{one_time_link, settings_or};
use crate::state::AppState;
use crate::store::{
    Allowance, CommitOutcome, CredentialChange, CredentialCommit, OneTimeTokenRecord, Taken, TokenPurpose,
};

pub const EMAIL_CHANGE_TTL_SECS: i64 = 3600;
/// Change requests (each mails two addresses) per account and hour, so a
/// customer token cannot turn the service into a mail cannon.
pub const CHANGE_LIMIT: u32 = 5;
pub const CHANGE_WINDOW_SECS: i64 = 3600;

/// A change request, parsed.
pub struct ChangeRequest {
    pub email: Email,
    /// Absent: a fresh provider sign-in must stand in (`confirm_owner`).
    pub password: Option<Password>,
    pub new_email: Email,
    pub sync_contact_email: bool,
}

/// `POST me/email/change` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBody {
    pub email: Option<String>,
    pub password: Option<String>,
    pub new_email: Option<String>,
    pub sync_contact_email: Option<bool>,
}

impl ChangeRequest {
    /// Names every bad field. `password_required`: the account has a
    /// password, so it must be re-entered (without one, a fresh provider
    /// sign-in stands in, and a password sent is still checked for shape).
    pub fn parse(body: ChangeBody, password_required: bool) -> Result<Self, ApiError> {
        let ChangeBody { email, password, new_email, sync_contact_email } = body;
        let mut v = Validator::default();
        let email = v.require("email", email, |e| Email::parse(&e));
        let password = match password_required {
            true => v.require("password", password, Password::parse),
            false => v.optional("password", password, Password::parse).flatten(),
        };
        let new_email = v.require("newEmail", new_email, |e| Email::parse(&e));
        if let (Some(old), Some(new)) = (&email, &new_email)
            && old.normalized() == new.normalized()
        {
            v.push("newEmail", "must differ from the current e-mail");
        }
        match (email, password, new_email) {
            (Some(email), password, Some(new_email)) if v.is_ok() => {
                Ok(Self { email, password, new_email, sync_contact_email: sync_contact_email.unwrap_or(false) })
            }
            _ => Err(v.into_error()),
        }
    }
}

/// Re-checks the password (against the account's login budget), then mails
/// a one-hour key to the new address and a notice to the current one. A new
/// address that is taken gets nothing, but the answer is the same, in the
/// same time (no enumeration through this route either).
pub async fn request_change(
    state: &AppState,
    caller: &CustomerCaller,
    request: ChangeRequest,
    client: &ClientAddress,
) -> Result<(), ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let settings = settings_or(state, tenant, ApiError::Unauthorized("session_revoked")).await?;
    if profile.email.normalized() != request.email.normalized() {
        return Err(ApiError::field("email", "does not match the account's e-mail"));
    }
    let source = limits::client_ip(client, &settings, state.config.exempt_loopback);
    limits::take(state, tenant, &settings, source, Limited::MailRequest).await?;
    let floor = ResponseFloor::start();
    confirm_owner(state, caller, &settings, request.password.as_ref(), "password", "email_change").await?;

    let now = clock::now_epoch();
    let allowance = Allowance { limit: CHANGE_LIMIT, window_secs: CHANGE_WINDOW_SECS };
    if let Taken::Exhausted { retry_after_secs } =
        state.store.take(tenant, &format!("email_change:{customer}"), allowance, now).await?
    {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }

    let details = &profile.details;
    let language = details.preferred_language.as_deref();
    let first_name = details.first_name.clone();
    let new_email = request.new_email;
    let taken = state.store.get_email_guard(tenant, &new_email).await?;
    let slot = match taken {
        None => notify::reserve(state, tenant, &settings, &new_email, Template::EmailChangeConfirm).await?,
        Some(_) => None,
    };
    if let Some(slot) = slot {
        let key = OneTimeTokenRecord {
            new_email: Some(new_email.clone()),
            sync_contact_email: Some(request.sync_contact_email),
            ..OneTimeTokenRecord::new(TokenPurpose::EmailChange, profile, EMAIL_CHANGE_TTL_SECS, now)
        };
        let secret = OpaqueSecret::generate();
        // A newer key retires the older one.
        if !state.store.issue_one_time_token(tenant, profile, &secret.hash, &key, false).await? {
            return Err(ApiError::Conflict {
                code: "concurrent_change",
                detail: "The account changed at the same time (another e-mail change, a new password); try again."
                    .into(),
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
            slot,
            language,
            minijinja::context! { link => link, first_name => first_name.clone(), new_email => new_email.as_str() },
        )
        .await;
    }
    tracing::info!(event = "email_change", outcome = "requested", tenant = %tenant, customer_id = %customer, "e-mail change requested");
    let context = minijinja::context! { new_email => new_email.as_str() };
    notify::notice(state, tenant, &settings, profile, Template::EmailChangeNotice, context).await;
    floor.wait().await;
    Ok(())
}

/// A mailed link's `{identifier, key}` as sent (e-mail change, social link).
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmBody {
    pub identifier: Option<String>,
    pub key: Option<String>,
}

/// A mailed link, parsed: both required; a malformed identifier is just
/// another invalid link (`None`).
pub struct Confirmation {
    pub identifier: Option<CustomerId>,
    pub key: String,
}

impl Confirmation {
    /// The customer the link names; a malformed one is an invalid link.
    pub fn customer(&self) -> Result<&CustomerId, ApiError> {
        self.identifier.as_ref().ok_or_else(invalid_token)
    }
}

impl TryFrom<ConfirmBody> for Confirmation {
    type Error = ApiError;

    fn try_from(ConfirmBody { identifier, key }: ConfirmBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let identifier = v.require("identifier", identifier.filter(|i| !i.is_empty()), |raw| {
            Ok::<_, ApiError>(CustomerId::parse(raw.trim()).ok())
        });
        let key = v.require("key", key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()), Ok::<_, ApiError>);
        match (identifier, key) {
            (Some(identifier), Some(key)) if v.is_ok() => Ok(Self { identifier, key }),
            _ => Err(v.into_error()),
        }
    }
}

/// Swaps the e-mail the key was issued for, and with it the credential
/// epoch. 409 `email_taken` when the new address got registered meanwhile
/// (nothing changes, the key stays valid).
pub async fn confirm(state: &AppState, tenant: &TenantId, link: &Confirmation) -> Result<(), ApiError> {
    let Redeemable { hash, token, profile, .. } =
        redeemable(state, tenant, &link.key, TokenPurpose::EmailChange, Some(link.customer()?)).await?;
    let Some(new_email) = token.new_email.clone() else {
        return Err(invalid_token());
    };
    let commit = CredentialCommit {
        profile: &profile,
        change: CredentialChange::Email {
            new: &new_email,
            sync_contact_email: token.sync_contact_email.unwrap_or(false),
        },
        activate: false,
        redeem: Some((&hash, TokenPurpose::EmailChange)),
        keep_session: None,
        now: clock::now_epoch(),
    };
    match state.store.commit_credential_change(tenant, commit).await? {
        CommitOutcome::Done => {
            tracing::info!(event = "email_change", outcome = "confirmed", tenant = %tenant, customer_id = %profile.id, "e-mail changed");
            Ok(())
        }
        CommitOutcome::EmailTaken => Err(ApiError::Conflict {
            code: "email_taken",
            detail: "The new e-mail address belongs to another account now.".into(),
            current_version: None,
        }),
        CommitOutcome::Rejected => Err(invalid_token()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_request_needs_every_field_and_a_different_address() {
        let some = |s: &str| Some(s.to_owned());
        let body = |email, password, new_email, sync_contact_email| ChangeBody {
            email,
            password,
            new_email,
            sync_contact_email,
        };
        let Err(ApiError::Validation(errors)) = ChangeRequest::parse(body(None, None, some("bad@"), None), true) else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "newEmail"]);
        // Without a password to check (a fresh provider sign-in stands in), it may be left out.
        let Err(ApiError::Validation(errors)) = ChangeRequest::parse(body(None, None, some("bad@"), None), false)
        else {
            panic!()
        };
        assert_eq!(errors.len(), 2);
        let same = ChangeRequest::parse(body(some("a@x.test"), some("pw"), some(" A@X.test"), Some(true)), true);
        assert!(matches!(same, Err(ApiError::Validation(e)) if e[0].field == "newEmail"));
        let ok = ChangeRequest::parse(body(some("a@x.test"), some("pw"), some("b@x.test"), None), true).ok().unwrap();
        assert!(!ok.sync_contact_email);
    }
}
