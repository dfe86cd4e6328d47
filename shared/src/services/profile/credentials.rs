//! Acts that need the password again: changing it, and deleting the account.
//! The check spends from the account's login budget, like a login, so a
//! stolen access token cannot be used to guess the password.

use serde::Deserialize;

use crate::clock;
use crate::domain::Password;
use crate::error::{ApiError, FieldError, Validator};
use crate::http::CustomerCaller;
use crate::mail::templates::Template;
use crate::password_policy;
use crate::passwords;
use crate::services::login::{confirm_owner, recheck_password};
use crate::services::notify;
use crate::state::AppState;
use crate::store::profile::ProfileRemoval;
use crate::store::{CommitOutcome, CredentialChange, CredentialCommit, LoginBudget};

/// `POST me/password/change` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChangeBody {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// `POST me/password/change`, parsed.
pub struct PasswordChange {
    /// Left out by an account without a password (see `change_password`).
    pub current: Option<Password>,
    pub new: Password,
}

impl PasswordChange {
    /// Each field named when malformed or missing; `currentPassword` is
    /// required when the account has a password.
    pub fn parse(body: PasswordChangeBody, has_password: bool) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let current = match has_password {
            true => v.require("currentPassword", body.current_password, Password::parse),
            false => v.optional("currentPassword", body.current_password, Password::parse).flatten(),
        };
        let new = v.require("newPassword", body.new_password, Password::parse);
        match (current, new) {
            (current, Some(new)) if v.is_ok() => Ok(Self { current, new }),
            _ => Err(v.into_error()),
        }
    }
}

/// `POST me/password/change`: a new password (policy-checked) and a new
/// credential epoch: every other session and every outstanding link ends,
/// the session making the change stays; a notice is mailed. An account
/// without a password (social sign-up) sets its first one without
/// `currentPassword`, after a fresh provider sign-in (`confirm_owner`).
pub async fn change_password(
    state: &AppState,
    caller: &CustomerCaller,
    current: Option<Password>,
    new: Password,
) -> Result<(), ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let settings = state.tenant_settings(tenant).await?.ok_or(super::ACCOUNT_GONE)?;
    let details = &profile.details;
    let inputs = password_policy::personal_words(&profile.email, details);
    password_policy::check(&settings, "newPassword", &new, &inputs)?;
    match (&current, profile.password_hash.as_deref()) {
        (Some(current), Some(stored)) => {
            if new.expose() == current.expose() {
                return Err(ApiError::Unprocessable {
                    code: "weak_password",
                    errors: vec![FieldError::new("newPassword", "must differ from the current password")],
                });
            }
            recheck_password(state, tenant, &settings, customer, Some(stored), current, "password_change").await?;
        }
        (None, Some(_)) => return Err(ApiError::field("currentPassword", "is required")),
        // No password yet: a fresh provider sign-in proves the owner.
        (Some(_), None) => {
            return Err(ApiError::field("currentPassword", "must be left out: the account has no password yet"));
        }
        (None, None) => {
            confirm_owner(state, caller, &settings, None, "currentPassword", "password_set").await?;
        }
    }

    let hash = passwords::hash(&new).await?;
    let commit = CredentialCommit {
        profile,
        change: CredentialChange::Password { hash: &hash, initial: false },
        activate: false,
        redeem: None,
        keep_session: Some(&caller.session),
        now: clock::now_epoch(),
    };
    if state.store.commit_credential_change(tenant, commit).await? != CommitOutcome::Done {
        // The credentials or the e-mail changed (or the account went) between our read and write.
        return Err(ApiError::Conflict {
            code: "concurrent_change",
            detail: "The account changed in the meantime; try again.".into(),
            current_version: None,
        });
    }
    tracing::info!(event = "password_change", outcome = "success", tenant = %tenant, customer_id = %customer, "password changed");
    notify::notice(state, tenant, &settings, profile, Template::PasswordChanged, minijinja::context! {}).await;
    Ok(())
}

/// `DELETE me`: with the password, every item of the customer goes. The
/// profile and e-mail guard go first, together, so a half-done deletion
/// never leaves an account one can sign in to; the rest follows.
pub async fn delete_account(
    state: &AppState,
    caller: &CustomerCaller,
    password: Option<String>,
) -> Result<(), ApiError> {
    let (tenant, customer) = (&caller.tenant, &caller.customer);
    let password = password.map(Password::parse).transpose().map_err(|e| ApiError::field("password", e.0))?;
    let settings = state.tenant_settings(tenant).await?.ok_or(super::ACCOUNT_GONE)?;
    let mut profile = caller.profile.clone();
    confirm_owner(state, caller, &settings, password.as_ref(), "password", "account_deletion").await?;

    // The profile's e-mail can change under us (an e-mail confirmation);
    // then read it again and delete the guard that is current.
    let mut attempts = 0;
    loop {
        match state.store.remove_profile_and_guard(tenant, customer, &profile.email).await? {
            ProfileRemoval::Removed => break,
            ProfileRemoval::Changed if attempts < 3 => {
                attempts += 1;
                // Read as the session check reads it (the function's one read operation).
                let (_, current) =
                    state.store.session_and_profile(tenant, Some(customer), &caller.token.session).await?;
                profile = current.ok_or(super::ACCOUNT_GONE)?;
            }
            ProfileRemoval::Changed => return Err(ApiError::internal("account deletion kept meeting changes")),
        }
    }

    let items = state.store.delete_account_items(tenant, &profile).await?;
    state.store.clear_budget(tenant, &LoginBudget::Account(customer.clone())).await?;
    tracing::info!(event = "account_deleted", tenant = %tenant, customer_id = %customer, items = items + 2, "account deleted");

    notify::notice(state, tenant, &settings, &profile, Template::AccountDeleted, minijinja::context! {}).await;
    Ok(())
}
