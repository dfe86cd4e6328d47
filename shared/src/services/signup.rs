//! Sign-up, activation and activation resend.
//!
//! Sign-up never tells whether an e-mail is registered: a taken address gets
//! the same 202 in the same time (after the same password hashing) and its
//! owner a notice. Activation secrets are 256-bit, stored only as hashes,
//! single-use, valid 24 h, and the newest one retires the older. A pending
//! account nobody activates disappears after 7 days, with its e-mail guard.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::address::{Address, AddressRecord};
use crate::clock;
use crate::customer::{CustomerDetails, CustomerRecord, CustomerStatus, PENDING_LIFETIME_SECS};
use crate::domain::{CustomerId, Email, Password, TenantId};
use crate::error::{ApiError, FieldError};
use crate::http::{ClientAddress, StorefrontToken};
use crate::mail::templates::Template;
use crate::password_policy;
use crate::passwords;
use crate::secrets::OpaqueSecret;
use crate::services::equal_time::ResponseFloor;
use crate::services::limits::{self, Limited};
use crate::services::notify::{self, MailQuota, MailSlot};
use crate::services::one_time::{Redeemable, invalid_token, redeemable};
use crate::state::AppState;
use crate::store::{
    CommitOutcome, CreateCustomerOutcome, CredentialChange, CredentialCommit, OneTimeTokenRecord, TokenPurpose,
};
use crate::tenant::TenantSettings;

pub const ACTIVATION_TTL_SECS: i64 = 24 * 3600;

/// Settings of a tenant that a valid token or link names; a missing tenant
/// (deleted meanwhile) is answered as `missing`.
pub(crate) async fn settings_or(
    state: &AppState,
    tenant: &TenantId,
    missing: ApiError,
) -> Result<Arc<TenantSettings>, ApiError> {
    state.tenant_settings(tenant).await?.ok_or(missing)
}

/// `{base}?tenant=..&identifier=..&{secret_name}=..`, where `base` is the
/// tenant's configured page or, when unset or not a URL, the API route that
/// takes the values (documented in the README).
pub(crate) fn one_time_link(
    state: &AppState,
    tenant: &TenantId,
    configured: Option<&str>,
    api_route: &str,
    identifier: &CustomerId,
    secret_name: &str,
    secret: &str,
) -> String {
    let base = configured
        .filter(|uri| url::Url::parse(uri).is_ok())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}/{api_route}", state.config.issuer(tenant)));
    notify::link(&base, &[("tenant", tenant.as_str()), ("identifier", identifier.as_str()), (secret_name, secret)])
}

/// A sign-up body, parsed: every bad field of every part is named at once.
pub struct SignupInput {
    pub email: Email,
    pub password: Option<Password>,
    pub details: CustomerDetails,
    pub address: Option<Address>,
}

const SIGNUP_FIELDS: &[&str] = &["email", "password", "customerDetails", "customerAddress"];

impl SignupInput {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut errors: Vec<FieldError> = body
            .keys()
            .filter(|k| !SIGNUP_FIELDS.contains(&k.as_str()))
            .map(|k| FieldError::new(k, "is not a known field"))
            .collect();
        let email = match body.get("email") {
            None | Some(Value::Null) => Err("is required"),
            Some(Value::String(raw)) => Email::parse(raw).map_err(|e| e.0),
            Some(_) => Err("must be a string"),
        }
        .map_err(|message| errors.push(FieldError::new("email", message)))
        .ok();
        let password = match body.get("password") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(raw)) => Password::parse(raw.clone()).map(Some).map_err(|e| e.0),
            Some(_) => Err("must be a string"),
        }
        .map_err(|message| errors.push(FieldError::new("password", message)))
        .ok()
        .flatten();
        let details = match body.get("customerDetails") {
            None | Some(Value::Null) => Some(CustomerDetails::default()),
            Some(Value::Object(map)) => {
                CustomerDetails::parse(map, "customerDetails.", &[]).map_err(|e| errors.extend(e)).ok()
            }
            Some(_) => {
                errors.push(FieldError::new("customerDetails", "must be an object"));
                None
            }
        };
        let address = match body.get("customerAddress") {
            None | Some(Value::Null) => Some(None),
            Some(Value::Object(map)) => {
                Address::parse(map, "customerAddress.").map(|p| Some(p.address)).map_err(|e| errors.extend(e)).ok()
            }
            Some(_) => {
                errors.push(FieldError::new("customerAddress", "must be an object"));
                None
            }
        };
        match (email, details, address) {
            (Some(email), Some(details), Some(address)) if errors.is_empty() => {
                Ok(Self { email, password, details, address })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Signs a customer up as `PENDING` and mails the activation link; for an
/// e-mail that is taken, mails its owner a notice instead. Both end the same,
/// no sooner than the response floor.
pub async fn signup(
    state: &AppState,
    caller: &StorefrontToken,
    input: SignupInput,
    client: &ClientAddress,
) -> Result<(), ApiError> {
    let (tenant, settings) = (caller.tenant(), &caller.settings);
    if let Some(password) = &input.password {
        password_policy::check(
            settings,
            "password",
            password,
            &password_policy::personal_words(&input.email, &input.details),
        )?;
    }
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    limits::take(state, tenant, settings, source, Limited::Signup).await?;
    let floor = ResponseFloor::start();
    // Hashed before we know whether the e-mail is taken: both paths cost the same.
    let password_hash = match &input.password {
        Some(password) => Some(passwords::hash(password).await?),
        None => None,
    };

    let now = clock::now_epoch();
    let stamp = clock::rfc3339(now);
    // Nobody activates it within the week: profile, guard and address go (TTL).
    let expires = Some(now + PENDING_LIFETIME_SECS);
    let id = CustomerId::generate();
    let mut details = input.details;
    // Unless told otherwise, the customer is reached where they signed up.
    details.contact_email.get_or_insert_with(|| input.email.to_string());
    let secret = OpaqueSecret::generate();
    let address = input.address.map(|address| AddressRecord { ttl: expires, ..AddressRecord::new(address) });
    let record = CustomerRecord {
        password_hash,
        details,
        pending_tokens: [(TokenPurpose::Activation.as_str().to_owned(), secret.hash.clone())].into(),
        address_count: u32::from(address.is_some()),
        default_address_id: address.as_ref().map(|a| a.id.clone()),
        ttl: expires,
        ..CustomerRecord::new(id.clone(), input.email.clone(), CustomerStatus::Pending, &stamp)
    };
    let activation = OneTimeTokenRecord::new(TokenPurpose::Activation, &record, ACTIVATION_TTL_SECS, now);
    let mut extra = vec![state.store.put_one_time_token_item(tenant, &secret.hash, &activation)?];
    if let Some(address) = &address {
        extra.push(state.store.put_address_item(tenant, &id, address)?);
    }

    match state.store.create_customer(tenant, &record, extra).await? {
        CreateCustomerOutcome::Created => {
            tracing::info!(event = "signup", outcome = "created", tenant = %tenant, customer_id = %id, "customer signed up");
            if let Some(slot) = notify::reserve(state, tenant, settings, &record.email, Template::Activation).await? {
                send_activation(state, tenant, settings, slot, &record, &secret.value).await;
            }
        }
        CreateCustomerOutcome::EmailTaken => {
            tracing::info!(event = "signup", outcome = "email_taken", tenant = %tenant, "sign-up for a taken e-mail");
            notify_existing_owner(state, tenant, settings, &input.email).await?;
        }
        CreateCustomerOutcome::Cancelled => {
            return Err(ApiError::Conflict {
                code: "concurrent_update",
                detail: "Another request for this e-mail was being handled; try again.".into(),
                current_version: None,
            });
        }
    }
    floor.wait().await;
    Ok(())
}

async fn send_activation(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    slot: MailSlot,
    customer: &CustomerRecord,
    secret: &str,
) {
    let link =
        one_time_link(state, tenant, settings.activation_uri.as_deref(), "activate", &customer.id, "secret", secret);
    let details = &customer.details;
    notify::send(
        state,
        tenant,
        settings,
        slot,
        details.preferred_language.as_deref(),
        minijinja::context! { link => link, first_name => details.first_name.clone() },
    )
    .await;
}

/// "You already have an account", to the address as the owner registered it,
/// in the owner's language.
async fn notify_existing_owner(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    email: &Email,
) -> Result<(), ApiError> {
    let Some(guard) = state.store.get_email_guard(tenant, email).await? else {
        return Ok(()); // deleted meanwhile: nobody to tell
    };
    let owner = state.store.get_customer(tenant, &guard.customer_id).await?;
    let language = owner.as_ref().and_then(|o| o.details.preferred_language.clone());
    let first_name = owner.and_then(|o| o.details.first_name);
    notify::send_capped(
        state,
        tenant,
        settings,
        &guard.email,
        Template::AccountExists,
        language.as_deref(),
        minijinja::context! { first_name => first_name },
    )
    .await;
    Ok(())
}

/// An activation request, parsed.
pub struct ActivateInput {
    pub identifier: Option<CustomerId>,
    pub secret: String,
    pub password: Option<Password>,
}

/// `POST activate` as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ActivateBody {
    pub identifier: Option<String>,
    pub secret: Option<String>,
    pub password: Option<String>,
    pub password_check: Option<String>,
}

/// `identifier` and `secret` are required; `password` and `password_check`
/// come together and must be equal. A malformed identifier is not named: it
/// is just another invalid link.
impl TryFrom<ActivateBody> for ActivateInput {
    type Error = ApiError;

    fn try_from(body: ActivateBody) -> Result<Self, ApiError> {
        let ActivateBody { identifier, secret, password, password_check } = body;
        let mut v = crate::error::Validator::default();
        let identifier = v.require("identifier", identifier.filter(|i| !i.is_empty()), |raw| {
            Ok::<_, ApiError>(CustomerId::parse(raw.trim()).ok())
        });
        let secret =
            v.require("secret", secret.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()), Ok::<_, ApiError>);
        let password = match (password, password_check) {
            (None, None) => None,
            (Some(password), None) => {
                v.push("password_check", "is required with password");
                v.check("password", Password::parse(password))
            }
            (None, Some(_)) => {
                v.push("password", "is required with password_check");
                None
            }
            (Some(password), Some(check)) => {
                if password != check {
                    v.push("password_check", "must equal password");
                }
                v.check("password", Password::parse(password))
            }
        };
        match (identifier, secret) {
            (Some(identifier), Some(secret)) if v.is_ok() => Ok(Self { identifier, secret, password }),
            _ => Err(v.into_error()),
        }
    }
}

/// Activates the account the secret was issued for. If it has no password
/// yet, or the link came from a resend, the request must choose one; a chosen
/// password replaces one given at sign-up (whoever holds the mailbox decides,
/// not whoever typed the address into a sign-up form).
pub async fn activate(state: &AppState, tenant: &TenantId, input: ActivateInput) -> Result<(), ApiError> {
    let Some(id) = input.identifier else { return Err(invalid_token()) };
    let Redeemable { hash, token, profile, .. } =
        redeemable(state, tenant, &input.secret, TokenPurpose::Activation, Some(&id)).await?;
    if profile.status != CustomerStatus::Pending {
        return Err(invalid_token());
    }
    let settings = settings_or(state, tenant, invalid_token()).await?;

    let password_hash = match &input.password {
        None if profile.password_hash.is_none() || token.requires_password => {
            let why = if token.requires_password {
                "is required: choose the password with this link"
            } else {
                "is required: the account has no password yet"
            };
            return Err(ApiError::Validation(vec![
                FieldError::new("password", why),
                FieldError::new("password_check", why),
            ]));
        }
        None => None,
        Some(password) => {
            password_policy::check(
                &settings,
                "password",
                password,
                &password_policy::personal_words(&profile.email, &profile.details),
            )?;
            Some(passwords::hash(password).await?)
        }
    };
    let change = match password_hash.as_deref() {
        Some(hash) => CredentialChange::Password { hash, initial: false },
        None => CredentialChange::Activation,
    };
    let commit = CredentialCommit {
        profile: &profile,
        change,
        activate: true,
        redeem: Some((&hash, TokenPurpose::Activation)),
        keep_session: None,
        now: clock::now_epoch(),
    };
    match state.store.commit_credential_change(tenant, commit).await? {
        CommitOutcome::Done => {
            tracing::info!(event = "activation", outcome = "activated", tenant = %tenant, customer_id = %id, "customer activated");
            Ok(())
        }
        _ => Err(invalid_token()),
    }
}

/// Mails a fresh activation link to a pending account (retiring the old
/// link), within the mail cap. The link asks whoever opens it to choose the
/// password: only the mailbox's owner can have asked for it. Says nothing
/// either way, in the same time either way.
pub async fn resend(
    state: &AppState,
    caller: &StorefrontToken,
    email: &Email,
    client: &ClientAddress,
) -> Result<(), ApiError> {
    let (tenant, settings) = (caller.tenant(), &caller.settings);
    let source = limits::client_ip(client, settings, state.config.exempt_loopback);
    limits::take(state, tenant, settings, source, Limited::MailRequest).await?;
    let floor = ResponseFloor::start();
    let outcome = match resend_link(state, tenant, settings, email).await {
        Ok(outcome) => outcome,
        Err(err) => {
            tracing::error!(event = "activation_resend", tenant = %tenant, error = %err, "resend failed");
            "failed"
        }
    };
    tracing::info!(event = "activation_resend", outcome, tenant = %tenant, "activation resend requested");
    floor.wait().await;
    Ok(())
}

async fn resend_link(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    email: &Email,
) -> Result<&'static str, ApiError> {
    let guard = state.store.get_email_guard(tenant, email).await?;
    let Some(id) = guard.filter(|g| g.status == CustomerStatus::Pending).map(|g| g.customer_id) else {
        return Ok("not_pending");
    };
    let Some(profile) = state.store.get_customer(tenant, &id).await?.filter(|p| p.status == CustomerStatus::Pending)
    else {
        return Ok("not_pending");
    };
    let slot = notify::reserve_counted(
        state,
        tenant,
        settings,
        &profile.email,
        Template::Activation,
        MailQuota::ActivationResend,
    );
    let Some(slot) = slot.await? else { return Ok("mail_capped") };
    let now = clock::now_epoch();
    let secret = OpaqueSecret::generate();
    let record = OneTimeTokenRecord {
        requires_password: true,
        ..OneTimeTokenRecord::new(TokenPurpose::Activation, &profile, ACTIVATION_TTL_SECS, now)
    };
    if !state.store.issue_one_time_token(tenant, &profile, &secret.hash, &record, true).await? {
        // Activated, or another resend won the race: that one mails.
        return Ok("contended");
    }
    send_activation(state, tenant, settings, slot, &profile, &secret.value).await;
    Ok("sent")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(err: ApiError) -> Vec<String> {
        let ApiError::Validation(errors) = err else { panic!("not a validation error: {err:?}") };
        let mut fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
        fields.sort();
        fields
    }

    #[test]
    fn signup_input_names_every_bad_field_of_every_part() {
        let body =
            json!({"email": 7, "password": "", "customerDetails": "x", "customerAddress": {"city": "B"}, "extra": 1});
        let err = SignupInput::parse(body.as_object().unwrap()).err().unwrap();
        assert_eq!(
            fields(err),
            [
                "customerAddress.country",
                "customerAddress.street",
                "customerAddress.zipCode",
                "customerDetails",
                "email",
                "extra",
                "password"
            ]
        );
    }

    #[test]
    fn signup_input_needs_only_an_email() {
        let input = SignupInput::parse(json!({"email": " Ann@Shop.Example "}).as_object().unwrap()).ok().unwrap();
        assert_eq!(input.email.as_str(), "Ann@Shop.Example");
        assert!(input.password.is_none() && input.address.is_none());
        assert_eq!(input.details, CustomerDetails::default());
    }

    #[test]
    fn activation_passwords_come_in_equal_pairs() {
        let parse = |identifier: Option<&str>, secret: Option<&str>, password: Option<&str>, check: Option<&str>| {
            let text = |s: Option<&str>| s.map(str::to_owned);
            ActivateInput::try_from(ActivateBody {
                identifier: text(identifier),
                secret: text(secret),
                password: text(password),
                password_check: text(check),
            })
        };
        let err = parse(None, None, Some("a b c d e"), None).err().unwrap();
        assert_eq!(fields(err), ["identifier", "password_check", "secret"]);
        let err = parse(Some("id"), Some("s"), Some("one"), Some("two")).err().unwrap();
        assert_eq!(fields(err), ["password_check"]);
        let ok = parse(Some("id"), Some("s"), Some("same"), Some("same")).ok().unwrap();
        assert!(ok.password.is_some() && ok.identifier.is_some());
        let odd = parse(Some("not an id!"), Some("s"), None, None).ok().unwrap();
        assert!(odd.identifier.is_none(), "a malformed identifier is an invalid link, not a field error");
    }
}
