//! `me/accounts`: the ways to sign in (the e-mail account and each linked
//! provider identity), and removing a linked identity.

use crate::clock;
use crate::domain::Password;
use crate::error::{ApiError, FieldError};
use crate::http::CustomerCaller;
use crate::services::login::confirm_owner;
use crate::services::profile::view::AccountView;
use crate::state::AppState;
use crate::store::{CommitOutcome, CredentialChange, CredentialCommit};

/// `GET me/accounts`.
pub fn list(caller: &CustomerCaller) -> Vec<AccountView> {
    AccountView::all(&caller.profile)
}

/// `DELETE me/accounts/{id}`: unlinks a provider identity, with the password
/// or a fresh provider sign-in (`confirm_owner`). Never the last way in: an
/// account without a password keeps at least one identity (422
/// `last_sign_in_method`). A credential change: the epoch moves, so every
/// session ends but the caller's — unless the caller signed in with the
/// identity being removed — and that identity's next sign-in meets
/// `link_required` like a stranger's.
pub async fn unlink(
    state: &AppState,
    caller: &CustomerCaller,
    id: &str,
    password: Option<String>,
) -> Result<(), ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    if id == profile.email.as_str() {
        return Err(ApiError::Unprocessable {
            code: "internal_account",
            errors: vec![FieldError::new("id", "the e-mail account cannot be removed; delete the account instead")],
        });
    }
    let link = profile.social_links.iter().find(|l| l.id() == id).ok_or(ApiError::NotFound)?;
    let password = password.map(Password::parse).transpose().map_err(|e| ApiError::field("password", e.0))?;
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    if profile.password_hash.is_none() && profile.social_links.len() == 1 {
        return Err(ApiError::Unprocessable {
            code: "last_sign_in_method",
            errors: vec![FieldError::new("id", "is the account's only way in: set a password first")],
        });
    }
    confirm_owner(state, caller, &settings, password.as_ref(), "password", "social_unlink").await?;
    let signed_in_with_it = caller.session.identity.as_ref().is_some_and(|i| link.is(&i.issuer, &i.subject));
    let commit = CredentialCommit {
        profile,
        change: CredentialChange::Unlink { link },
        activate: false,
        redeem: None,
        keep_session: (!signed_in_with_it).then_some(&caller.session),
        now: clock::now_epoch(),
    };
    if state.store.commit_credential_change(tenant, commit).await? != CommitOutcome::Done {
        return Err(ApiError::Conflict {
            code: "concurrent_change",
            detail: "The account changed in the meantime; read it again and retry.".into(),
            current_version: None,
        });
    }
    tracing::info!(event = "social_unlinked", tenant = %tenant, customer_id = %customer, provider = link.provider.as_deref().unwrap_or(""), "social identity unlinked");
    Ok(())
}
