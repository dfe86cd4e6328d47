//! The customer's own profile: read it, change it without lost updates,
//! take it away (export), change the password, and leave (deletion).

mod credentials;
pub mod patch;
pub mod sign_in_methods;
pub mod view;

use serde::Serialize;
use serde_json::{Map, Value};

pub use credentials::{PasswordChange, PasswordChangeBody, change_password, delete_account};
pub use view::{Expand, MixinSelection, ProfileView};

use crate::clock;
use crate::customer::{CustomerStatus, SocialLink};
use crate::domain::Email;
use crate::error::ApiError;
use crate::http::{CustomerCaller, Everything};
use crate::services::sessions::{self, SessionView};
use crate::state::AppState;
use crate::store::profile::ProfileUpdate;

/// A live session whose profile is gone belongs to a deleted account (the
/// sessions go right after the profile): the token is as good as revoked.
const ACCOUNT_GONE: ApiError = ApiError::Unauthorized("session_revoked");

/// `GET me`: the profile the caller's session check read with the session
/// (no second read); the address book only when expanded.
pub async fn get(state: &AppState, caller: &CustomerCaller, expand: &Expand) -> Result<ProfileView, ApiError> {
    let (tenant, customer) = (&caller.tenant, &caller.customer);
    let settings = state.tenant_settings(tenant).await?.ok_or(ACCOUNT_GONE)?;
    let addresses = match expand.addresses {
        true => Some(crate::services::addresses::oldest_first(state.store.list_addresses(tenant, customer).await?)),
        false => None,
    };
    Ok(ProfileView::of(&caller.profile, &expand.mixins, &settings.mixin_schemas, addresses))
}

/// `PATCH me`: the body laid over the stored profile, written only if
/// `metadata.version` is still the stored version.
/// The profile read with the session is the base (no second read before
/// the write); the version condition refuses it if it moved meanwhile.
pub async fn update(
    state: &AppState,
    caller: &CustomerCaller,
    body: &Map<String, Value>,
) -> Result<ProfileView, ApiError> {
    let (tenant, customer, current) = (&caller.tenant, &caller.customer, &caller.profile);
    let settings = state.tenant_settings(tenant).await?.ok_or(ACCOUNT_GONE)?;
    let patch = patch::parse(current, body)?;
    let expected = match patch.expected_version {
        None => return Err(conflict("metadata.version is required: send the version you read.", current.version)),
        Some(v) if v != current.version => return Err(stale(current.version)),
        Some(v) => v,
    };
    let now = clock::now_rfc3339();
    match state.store.update_profile(tenant, customer, expected, &patch.changes, &now).await? {
        ProfileUpdate::Updated(profile) => {
            tracing::info!(event = "profile_updated", tenant = %tenant, customer_id = %customer, version = profile.version, "profile updated");
            Ok(ProfileView::of(&profile, &MixinSelection::All, &settings.mixin_schemas, None))
        }
        ProfileUpdate::Stale { current_version } => Err(stale(current_version)),
        ProfileUpdate::Gone => Err(ACCOUNT_GONE),
    }
}

fn stale(current_version: u64) -> ApiError {
    conflict("The profile was changed in the meantime: read it again and re-apply your change.", current_version)
}

fn conflict(detail: &str, current_version: u64) -> ApiError {
    ApiError::Conflict { code: "version_conflict", detail: detail.into(), current_version: Some(current_version) }
}

/// `GET me/export`: everything held on the customer, as one document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub exported_at: String,
    pub tenant: String,
    pub customer: ExportedCustomer,
    pub addresses: Vec<view::AddressView>,
    pub sessions: Vec<SessionView>,
    /// Marketing consents (the profile's subscriptions).
    pub consents: Vec<crate::customer::Subscription>,
    pub social_links: Vec<SocialLink>,
    /// The passkeys as `GET me/passkeys` shows them (no key material).
    pub passkeys: Vec<crate::services::passkeys::PasskeyView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedCustomer {
    #[serde(flatten)]
    pub profile: ProfileView,
    pub email: Email,
    pub status: CustomerStatus,
    pub initial_password: bool,
    pub last_login_at: Option<String>,
}

/// Everything stored about the caller, from the one read made with the session.
pub fn export(caller: CustomerCaller<Everything>) -> Export {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let Everything { addresses, sessions, mut passkeys } = caller.beside;
    passkeys.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    // A login writes only its session: the newest sign-in among the sessions
    // still kept is the last login (a profile from an older release may carry one).
    let last_login_at =
        sessions.iter().map(|s| s.created_at).max().map(clock::rfc3339).or_else(|| profile.last_login_at.clone());
    let sessions = sessions::list(sessions, profile.epoch, &caller.token.session);
    let default_address = profile.default_address_id.as_ref();
    let addresses = crate::services::addresses::oldest_first(addresses)
        .into_iter()
        .map(|a| view::AddressView::of(a, default_address))
        .collect();
    tracing::info!(event = "profile_exported", tenant = %tenant, customer_id = %customer, "profile exported");
    Export {
        exported_at: clock::now_rfc3339(),
        tenant: tenant.to_string(),
        customer: ExportedCustomer {
            profile: ProfileView::of(profile, &MixinSelection::All, &Default::default(), None),
            email: profile.email.clone(),
            status: profile.status,
            initial_password: profile.initial_password,
            last_login_at,
        },
        addresses,
        sessions,
        consents: profile.subscriptions.clone(),
        social_links: profile.social_links.clone(),
        passkeys: passkeys.iter().map(Into::into).collect(),
    }
}
