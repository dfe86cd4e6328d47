//! Passkeys (WebAuthn level 3, through webauthn-rs): registered on `me`
//! (several per customer, named), used to sign in from an anonymous
//! storefront session without typing anything (discoverable credentials).
//!
//! - The relying party (id, name, origins) is the tenant's (`passkeys` in
//!   its settings); without it the ceremonies answer 409
//!   `passkeys_not_configured` (listing and removing still work).
//! - The WebAuthn user handle is the customer id: a sign-in reads the
//!   passkey from that customer's partition by its credential id, so a
//!   credential of another customer or tenant is simply not found.
//! - Each ceremony's challenge has a random id handed to the client and is
//!   stored under its hash, for 5 minutes, bound to the session that asked
//!   (the customer session for a registration, the anonymous one for a
//!   sign-in), and taken with one conditional delete before the answer is
//!   checked: it works once, and a failed answer spends it too.
//! - Registering needs the account's password (or a provider sign-in of the
//!   last 5 minutes, for an account without one): a stolen access token
//!   must not plant a lasting way in. Adding and removing a passkey move the
//!   credential epoch (every other session ends, this one stays) and mail a
//!   security notice.
//! - A passkey sign-in proves possession of a device key and user
//!   verification on it, bound to the origin: it stands in for the second
//!   factor, so it is never challenged for one.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url,
    Uuid, Webauthn, WebauthnBuilder,
};

use crate::clock;
use crate::customer::CustomerStatus;
use crate::domain::{CustomerId, Password, TenantId, text};
use crate::error::{ApiError, Validator};
use crate::http::{ClientAddress, CustomerCaller, StorefrontCaller};
use crate::mail::templates::Template;
use crate::secrets::{OpaqueSecret, hash_secret, hex};
use crate::services::email_code::CodeTokenSet;
use crate::services::limits::{self, Limited};
use crate::services::login::confirm_owner;
use crate::services::notify;
use crate::services::sessions::{self, CustomerSignIn};
use crate::state::AppState;
use crate::store::{
    CommitOutcome, CredentialChange, CredentialCommit, PasskeyCeremony, PasskeyChallengeRecord, PasskeyRecord, Write,
};
use crate::tenant::TenantSettings;

/// A ceremony's challenge lives this long (also the authenticator timeout).
pub const CEREMONY_TTL_SECS: i64 = 5 * 60;
/// At most this many passkeys per customer.
pub const MAX_PASSKEYS: usize = 10;
/// A passkey's name: 1 to this many characters.
pub const NAME_MAX_CHARS: usize = 64;

/// Every failed passkey sign-in: one answer, no detail.
const INVALID_SIGN_IN: ApiError = ApiError::Unauthorized("invalid_passkey");
/// A failed registration answer: 403, since the customer token is fine
/// (as a wrong code on `me/totp/confirm`).
const INVALID_REGISTRATION: ApiError = ApiError::Forbidden("invalid_passkey");

fn not_configured() -> ApiError {
    ApiError::Conflict {
        code: "passkeys_not_configured",
        detail: "This shop does not offer passkeys.".into(),
        current_version: None,
    }
}

fn concurrent_change() -> ApiError {
    ApiError::Conflict {
        code: "concurrent_change",
        detail: "The account changed in the meantime; try again.".into(),
        current_version: None,
    }
}

/// The tenant's relying party; 409 `passkeys_not_configured` without one
/// (or with one that cannot work: no origin on the RP id, logged).
pub fn relying_party(tenant: &TenantId, settings: &TenantSettings) -> Result<Webauthn, ApiError> {
    let config = settings.passkeys.as_ref().ok_or_else(not_configured)?;
    let rp_id = config.rp_id.as_str();
    let origins: Vec<Url> = config.origins.iter().filter_map(|o| Url::parse(o).ok()).collect();
    let on_rp_id =
        |origin: &&Url| origin.domain().is_some_and(|domain| domain == rp_id || domain.ends_with(&format!(".{rp_id}")));
    let Some(first) = origins.iter().find(on_rp_id).filter(|_| !rp_id.is_empty()) else {
        tracing::warn!(tenant = %tenant, "passkeys configured without an origin on the RP id: refused");
        return Err(not_configured());
    };
    let rp_name = match (config.rp_name.as_str(), settings.display_name.as_str()) {
        ("", "") => tenant.as_str(),
        ("", display) => display,
        (name, _) => name,
    };
    let mut builder = WebauthnBuilder::new(rp_id, first)
        .map_err(|e| ApiError::internal(format!("passkey relying party: {e:?}")))?
        .rp_name(rp_name)
        .timeout(std::time::Duration::from_secs(CEREMONY_TTL_SECS as u64));
    for origin in origins.iter().filter(|o| *o != first) {
        builder = builder.append_allowed_origin(origin);
    }
    builder.build().map_err(|e| ApiError::internal(format!("passkey relying party: {e:?}")))
}

/// A passkey's id: the first 128 bits of its credential id's SHA-256, hex.
pub fn passkey_id(credential_id: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(credential_id)[..16])
}

/// The answer of both `options` routes: the id to send back, and what
/// goes to `navigator.credentials.create()` or `.get()` as `publicKey`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CeremonyOptions {
    pub challenge_id: String,
    pub public_key: Value,
    pub expires_in: i64,
}

/// A passkey as the customer sees it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&PasskeyRecord> for PasskeyView {
    fn from(record: &PasskeyRecord) -> Self {
        Self {
            id: record.id.clone(),
            name: record.name.clone(),
            created_at: clock::rfc3339(record.created_at),
            last_used_at: record.last_used_at.map(clock::rfc3339),
        }
    }
}

async fn store_ceremony<S: Serialize>(
    state: &AppState,
    tenant: &TenantId,
    ceremony: PasskeyCeremony,
    bound: (&crate::domain::SessionId, Option<String>, Option<CustomerId>, u64),
    webauthn_state: &S,
    public_key: Value,
) -> Result<CeremonyOptions, ApiError> {
    let now = clock::now_epoch();
    let secret = OpaqueSecret::generate();
    let (session_id, family, customer_id, epoch) = bound;
    let record = PasskeyChallengeRecord {
        ceremony,
        session_id: session_id.clone(),
        family,
        customer_id,
        epoch,
        state: serde_json::to_string(webauthn_state).map_err(ApiError::internal)?,
        expires_at: now + CEREMONY_TTL_SECS,
        ttl: now + CEREMONY_TTL_SECS,
    };
    state.store.put_passkey_challenge(tenant, &secret.hash, &record).await?;
    Ok(CeremonyOptions { challenge_id: secret.value, public_key, expires_in: CEREMONY_TTL_SECS })
}

fn parse_challenge_id(v: &mut Validator, raw: Option<String>) -> Option<String> {
    v.require("challengeId", raw, |c: String| {
        if c.is_empty() || c.len() > 128 { Err("must be the challengeId of an options answer") } else { Ok(c) }
    })
}

// ------------------------------------------------------------ registration

/// `POST me/passkeys/options` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct RegistrationOptionsBody {
    pub password: Option<String>,
}

/// The password, when sent, parsed.
pub fn parse_registration_options(body: RegistrationOptionsBody) -> Result<Option<Password>, ApiError> {
    let mut v = Validator::default();
    match v.optional("password", body.password, Password::parse) {
        Some(password) if v.is_ok() => Ok(password),
        _ => Err(v.into_error()),
    }
}

/// Starts a registration for the caller, once the owner is confirmed (the
/// password, or a fresh provider sign-in for an account without one).
pub async fn start_registration(
    state: &AppState,
    caller: &CustomerCaller,
    password: Option<Password>,
) -> Result<CeremonyOptions, ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    let rp = relying_party(tenant, &settings)?;
    confirm_owner(state, caller, &settings, password.as_ref(), "password", "passkey_registration").await?;
    let existing = state.store.list_passkeys(tenant, customer).await?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(ApiError::Unprocessable { code: "too_many_passkeys", errors: Vec::new() });
    }
    let exclude: Vec<_> = existing
        .iter()
        .filter_map(|record| serde_json::from_str::<Passkey>(&record.credential).ok())
        .map(|passkey| passkey.cred_id().clone())
        .collect();
    let details = &profile.details;
    let full_name = [details.first_name.as_deref(), details.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let email = profile.email.as_str();
    let display_name = if full_name.is_empty() { email } else { full_name.as_str() };
    // webauthn-rs takes a UUID for the user handle; it is replaced below by
    // the customer id (any id up to 64 bytes, as WebAuthn allows), which a
    // discoverable sign-in reads back.
    let (ccr, registration) = rp
        .start_passkey_registration(Uuid::nil(), email, display_name, Some(exclude))
        .map_err(|e| ApiError::internal(format!("passkey registration: {e:?}")))?;
    let mut public_key = serde_json::to_value(&ccr.public_key).map_err(ApiError::internal)?;
    public_key["user"]["id"] = Value::String(base64url(customer.as_str().as_bytes()));
    // Discoverable: the passkey must carry the user handle, so that signing
    // in needs no e-mail typed.
    public_key["authenticatorSelection"]["residentKey"] = Value::String("required".into());
    public_key["authenticatorSelection"]["requireResidentKey"] = Value::Bool(true);
    let bound = (&caller.session.session_id, None, Some(customer.clone()), profile.epoch);
    store_ceremony(state, tenant, PasskeyCeremony::Registration, bound, &registration, public_key).await
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `POST me/passkeys` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    pub challenge_id: Option<String>,
    pub name: Option<String>,
    pub credential: Option<Value>,
}

/// `POST me/passkeys`, parsed.
pub struct Register {
    pub challenge_id: String,
    pub name: String,
    pub credential: RegisterPublicKeyCredential,
}

fn parse_name(raw: String) -> Result<String, &'static str> {
    let name = text::clean(raw.trim()).map_err(|_| "must not hold control characters")?;
    match name.chars().count() {
        0 => Err("must not be empty"),
        n if n > NAME_MAX_CHARS => Err("must be at most 64 characters"),
        _ => Ok(name),
    }
}

impl TryFrom<RegisterBody> for Register {
    type Error = ApiError;

    fn try_from(body: RegisterBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let challenge_id = parse_challenge_id(&mut v, body.challenge_id);
        let name = v.require("name", body.name, parse_name);
        let credential = v.require("credential", body.credential, |c| {
            serde_json::from_value::<RegisterPublicKeyCredential>(c)
                .map_err(|_| "must be the PublicKeyCredential of navigator.credentials.create(), as JSON")
        });
        match (challenge_id, name, credential) {
            (Some(challenge_id), Some(name), Some(credential)) if v.is_ok() => {
                Ok(Self { challenge_id, name, credential })
            }
            _ => Err(v.into_error()),
        }
    }
}

/// Completes a registration started by this very session: the passkey is
/// added, the account moves to a new credential epoch, a notice is mailed.
pub async fn finish_registration(
    state: &AppState,
    caller: &CustomerCaller,
    input: Register,
) -> Result<PasskeyView, ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    let rp = relying_party(tenant, &settings)?;
    let challenge = state.store.take_passkey_challenge(tenant, &hash_secret(&input.challenge_id)).await?;
    let challenge = challenge
        .filter(|c| c.ceremony == PasskeyCeremony::Registration)
        .filter(|c| c.customer_id.as_ref() == Some(customer) && c.session_id == caller.session.session_id)
        .filter(|c| c.epoch == profile.epoch);
    let Some(challenge) = challenge else {
        tracing::info!(event = "passkey", outcome = "registration_refused", reason = "challenge", tenant = %tenant, customer_id = %customer, "passkey registration refused");
        return Err(INVALID_REGISTRATION);
    };
    let registration: PasskeyRegistration = serde_json::from_str(&challenge.state).map_err(ApiError::internal)?;
    let passkey = match rp.finish_passkey_registration(&input.credential, &registration) {
        Ok(passkey) => passkey,
        Err(err) => {
            tracing::info!(event = "passkey", outcome = "registration_refused", reason = ?err, tenant = %tenant, customer_id = %customer, "passkey registration refused");
            return Err(INVALID_REGISTRATION);
        }
    };
    let now = clock::now_epoch();
    let record = PasskeyRecord {
        id: passkey_id(passkey.cred_id()),
        name: input.name,
        credential: serde_json::to_string(&passkey).map_err(ApiError::internal)?,
        created_at: now,
        last_used_at: None,
    };
    commit(state, caller, state.store.add_passkey_item(tenant, customer, &record)?).await?;
    tracing::info!(event = "passkey", outcome = "added", tenant = %tenant, customer_id = %customer, passkey_id = %record.id, "passkey added");
    let context = minijinja::context! { what => "passkey_added", passkey_name => record.name.clone() };
    notify::notice(state, tenant, &settings, profile, Template::SecurityNotice, context).await;
    Ok(PasskeyView::from(&record))
}

async fn commit(state: &AppState, caller: &CustomerCaller, write: Write) -> Result<(), ApiError> {
    let commit = CredentialCommit {
        profile: &caller.profile,
        change: CredentialChange::Passkey,
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

// ------------------------------------------------------------ list, remove

/// The caller's passkeys, oldest first.
pub async fn list(state: &AppState, caller: &CustomerCaller) -> Result<Vec<PasskeyView>, ApiError> {
    let passkeys = state.store.list_passkeys(&caller.tenant, &caller.customer).await?;
    Ok(passkeys.iter().map(PasskeyView::from).collect())
}

/// Removes passkey `id` (404 when the caller has none by that id): a new
/// credential epoch, a notice.
pub async fn remove(state: &AppState, caller: &CustomerCaller, id: &str) -> Result<(), ApiError> {
    let (tenant, customer, profile) = (&caller.tenant, &caller.customer, &caller.profile);
    let well_formed = id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(ApiError::NotFound);
    }
    let passkeys = state.store.list_passkeys(tenant, customer).await?;
    let record = passkeys.into_iter().find(|p| p.id == id).ok_or(ApiError::NotFound)?;
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("session_revoked"))?;
    commit(state, caller, state.store.remove_passkey_item(tenant, customer, id)?).await?;
    tracing::info!(event = "passkey", outcome = "removed", tenant = %tenant, customer_id = %customer, passkey_id = %id, "passkey removed");
    let context = minijinja::context! { what => "passkey_removed", passkey_name => record.name };
    notify::notice(state, tenant, &settings, profile, Template::SecurityNotice, context).await;
    Ok(())
}

// ------------------------------------------------------------ sign-in

/// Starts a discoverable sign-in on the caller's storefront session: no
/// e-mail, empty `allowCredentials`; the authenticator offers the passkeys
/// it holds for the RP id.
pub async fn start_sign_in(state: &AppState, caller: &StorefrontCaller) -> Result<CeremonyOptions, ApiError> {
    let (tenant, anonymous) = (caller.tenant(), &caller.token);
    let rp = relying_party(tenant, &caller.settings)?;
    let (rcr, authentication) =
        rp.start_discoverable_authentication().map_err(|e| ApiError::internal(format!("passkey sign-in: {e:?}")))?;
    let public_key = serde_json::to_value(&rcr.public_key).map_err(ApiError::internal)?;
    let bound = (&anonymous.session, Some(anonymous.family.clone()), None, 0);
    store_ceremony(state, tenant, PasskeyCeremony::SignIn, bound, &authentication, public_key).await
}

/// `POST login/passkey` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInBody {
    pub challenge_id: Option<String>,
    pub credential: Option<Value>,
}

/// `POST login/passkey`, parsed.
pub struct SignIn {
    pub challenge_id: String,
    pub credential: PublicKeyCredential,
}

impl TryFrom<SignInBody> for SignIn {
    type Error = ApiError;

    fn try_from(body: SignInBody) -> Result<Self, ApiError> {
        let mut v = Validator::default();
        let challenge_id = parse_challenge_id(&mut v, body.challenge_id);
        let credential = v.require("credential", body.credential, |c| {
            serde_json::from_value::<PublicKeyCredential>(c)
                .map_err(|_| "must be the PublicKeyCredential of navigator.credentials.get(), as JSON")
        });
        match (challenge_id, credential) {
            (Some(challenge_id), Some(credential)) if v.is_ok() => Ok(Self { challenge_id, credential }),
            _ => Err(v.into_error()),
        }
    }
}

/// Signs in with a passkey on the storefront session that asked for the
/// challenge. Every failure is 401 `invalid_passkey` and counts against
/// the per-address and per-tenant failed-login limits; an account not yet
/// activated is 403 `account_not_activated` (only after the passkey was
/// verified). No second factor follows.
pub async fn sign_in(
    state: &AppState,
    caller: &StorefrontCaller,
    input: SignIn,
    user_agent: Option<String>,
    client: &ClientAddress,
) -> Result<CodeTokenSet, ApiError> {
    let (tenant, settings, anonymous) = (caller.tenant(), &caller.settings, &caller.token);
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    limits::check(state, tenant, settings, source, Limited::FailedLogin).await?;
    let rp = relying_party(tenant, settings)?;
    let now = clock::now_epoch();

    let (profile, record, passkey, result) = match verify_assertion(state, caller, &rp, &input).await? {
        Ok(verified) => verified,
        Err(reason) => {
            limits::count_failure(state, tenant, settings, source, Limited::FailedLogin).await;
            tracing::info!(event = "login", method = "passkey", outcome = "failure", reason, tenant = %tenant, "passkey sign-in failed");
            return Err(INVALID_SIGN_IN);
        }
    };
    let customer = &profile.id;
    if profile.status != CustomerStatus::Active {
        tracing::info!(event = "login", method = "passkey", outcome = "not_activated", tenant = %tenant, customer_id = %customer, "passkey sign-in of an account not activated");
        return Err(ApiError::Forbidden("account_not_activated"));
    }
    // The counter and backup state as the authenticator reported them.
    let mut passkey = passkey;
    let changed = passkey.update_credential(&result) == Some(true);
    let credential = if changed { Some(serde_json::to_string(&passkey).map_err(ApiError::internal)?) } else { None };
    if !state.store.record_passkey_use(tenant, customer, &record.id, credential.as_deref(), now).await? {
        // Removed meanwhile.
        return Err(INVALID_SIGN_IN);
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
    tracing::info!(event = "login", method = "passkey", outcome = "success", tenant = %tenant, customer_id = %customer, passkey_id = %record.id, "login succeeded");
    Ok(CodeTokenSet { tokens, saas_token })
}

type Verified = (crate::customer::CustomerRecord, PasskeyRecord, Passkey, webauthn_rs::prelude::AuthenticationResult);

/// The challenge is taken (whatever follows), then the assertion checked
/// against the passkey its user handle and credential id name; `Err` says
/// why it failed, for the log only.
async fn verify_assertion(
    state: &AppState,
    caller: &StorefrontCaller,
    rp: &Webauthn,
    input: &SignIn,
) -> Result<Result<Verified, &'static str>, ApiError> {
    let (tenant, anonymous) = (caller.tenant(), &caller.token);
    let challenge = state.store.take_passkey_challenge(tenant, &hash_secret(&input.challenge_id)).await?;
    let challenge = challenge
        .filter(|c| c.ceremony == PasskeyCeremony::SignIn)
        .filter(|c| c.session_id == anonymous.session && c.family.as_deref() == Some(anonymous.family.as_str()));
    let Some(challenge) = challenge else { return Ok(Err("challenge")) };
    let authentication: DiscoverableAuthentication =
        serde_json::from_str(&challenge.state).map_err(ApiError::internal)?;
    let credential = &input.credential;
    let customer = credential
        .response
        .user_handle
        .as_deref()
        .and_then(|handle| std::str::from_utf8(handle).ok())
        .and_then(|handle| CustomerId::parse(handle).ok());
    let Some(customer) = customer else { return Ok(Err("user_handle")) };
    let id = passkey_id(&credential.raw_id);
    let (profile, record) = state.store.passkey_sign_in_read(tenant, &customer, &id).await?;
    let (Some(profile), Some(record)) = (profile, record) else { return Ok(Err("unknown_passkey")) };
    let passkey: Passkey = serde_json::from_str(&record.credential).map_err(ApiError::internal)?;
    match rp.finish_discoverable_authentication_v2(credential, authentication, &passkey) {
        Ok(result) => Ok(Ok((profile, record, passkey, result))),
        Err(err) => {
            tracing::debug!(error = ?err, "passkey assertion refused");
            Ok(Err("assertion"))
        }
    }
}
