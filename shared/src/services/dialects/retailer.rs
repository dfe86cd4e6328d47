//! The retailer `customers/self` API (seed `001_…`): its flat customer
//! fields onto the profile and the default address, its login without a
//! storefront token (on the tenant's default storefront client), and its
//! reset link that carries the code as a path segment.
//!
//! The mapping (also in openapi.yaml and the README):
//!
//! | retailer field     | where it lives                                                   |
//! |--------------------|------------------------------------------------------------------|
//! | `id`, `email`      | the profile's id and e-mail (read only; a new `email` with `password` starts an e-mail change) |
//! | `name`             | `firstName` `middleName` `lastName` joined by spaces; written: the last word is `lastName`, the rest `firstName`, `middleName` cleared |
//! | `phone`            | `contactPhone`                                                   |
//! | `mobile`           | `mobilePhone` (a profile field of its own)                       |
//! | `address`          | the default address's `street` and `streetNumber`, joined; written: the line goes to `street`, `streetNumber` cleared (unless the line is unchanged) |
//! | `address_town`     | the default address's `city`                                     |
//! | `address_postcode` | the default address's `zipCode`                                  |
//! | `address_region`   | the default address's `state`                                    |
//! | `country`          | the default address's `country` (ISO 3166-1 alpha-2)             |
//! | `subscriptions`    | the profile's `subscriptions` (`[{code, optIn}]`)                |
//!
//! In a PATCH a field that is absent or `null` stays as it is (clients send
//! back what they read, nulls included); `""` clears it. Address fields
//! write the default address, or create one (which becomes the default)
//! when there is none.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::address::AddressRecord;
use crate::customer::{CustomerRecord, Subscription};
use crate::domain::{Email, TenantId};
use crate::error::{ApiError, FieldError};
use crate::http::{ClientAddress, CustomerCaller, StorefrontToken};
use crate::services::email_change::{self, ChangeRequest};
use crate::services::{addresses, profile, sessions};
use crate::state::AppState;
use crate::tenant::TenantSettings;
use crate::tokens;

/// A storefront session on the tenant's default client, for a route whose
/// seed sends no storefront token (the retailer login).
pub async fn default_storefront(
    state: &AppState,
    tenant: &TenantId,
    user_agent: Option<String>,
) -> Result<StorefrontToken, ApiError> {
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::Unauthorized("invalid_client"))?;
    let client = settings.default_client_id.clone().ok_or(ApiError::Unauthorized("invalid_client"))?;
    let anonymous = sessions::anonymous_login(state, tenant, &client, user_agent).await?;
    let keys = state.keys.current().await;
    let token = tokens::verify(&state.config, &keys, &anonymous.access_token).map_err(ApiError::internal)?;
    Ok(StorefrontToken { token, settings })
}

/// The tenant's settings for a route that takes no token at all.
pub async fn settings(state: &AppState, tenant: &TenantId) -> Result<std::sync::Arc<TenantSettings>, ApiError> {
    state.tenant_settings(tenant).await?.ok_or(ApiError::NotFound)
}

/// `reset_uri` as the retailer sends it: an absolute URL as it is, a
/// relative one resolved against the tenant's storefront base. Whether it
/// is allowed is the reset service's check, on the resolved URL.
pub fn resolve_reset_uri(settings: &TenantSettings, raw: &str) -> Result<String, ApiError> {
    if url::Url::parse(raw).is_ok() {
        return Ok(raw.to_owned());
    }
    let refused = || ApiError::BadRequest {
        code: "invalid_reset_uri",
        detail: "reset_uri is not one of the shop's allowed link targets.".into(),
    };
    let base = settings.storefront_uri.as_deref().and_then(|b| url::Url::parse(b).ok()).ok_or_else(refused)?;
    base.join(raw).map(String::from).map_err(|_| refused())
}

/// `GET customers/self` as the seed shows it.
#[derive(Debug, Serialize)]
pub struct SelfView {
    pub address: Option<String>,
    pub mobile: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub country: Option<String>,
    pub address_town: Option<String>,
    pub address_postcode: Option<String>,
    pub email: String,
    pub id: String,
    pub subscriptions: Vec<Subscription>,
    pub address_region: Option<String>,
}

fn joined<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    let words: Vec<&str> = parts.into_iter().flatten().map(str::trim).filter(|s| !s.is_empty()).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn name_of(profile: &CustomerRecord) -> Option<String> {
    let d = &profile.details;
    joined([d.first_name.as_deref(), d.middle_name.as_deref(), d.last_name.as_deref()])
}

fn address_line(address: &AddressRecord) -> Option<String> {
    joined([Some(address.address.street.as_str()), address.address.street_number.as_deref()])
}

impl SelfView {
    pub fn of(profile: &CustomerRecord, default_address: Option<&AddressRecord>) -> Self {
        let a = default_address.map(|a| &a.address);
        Self {
            address: default_address.and_then(address_line),
            mobile: profile.details.mobile_phone.clone(),
            phone: profile.details.contact_phone.clone(),
            name: name_of(profile),
            country: a.map(|a| a.country.clone()),
            address_town: a.map(|a| a.city.clone()),
            address_postcode: a.map(|a| a.zip_code.clone()),
            email: profile.email.to_string(),
            id: profile.id.to_string(),
            subscriptions: profile.subscriptions.clone(),
            address_region: a.and_then(|a| a.state.clone()),
        }
    }
}

pub async fn get(state: &AppState, caller: &CustomerCaller) -> Result<SelfView, ApiError> {
    let address = default_address_of(state, &caller.tenant, &caller.profile).await?;
    Ok(SelfView::of(&caller.profile, address.as_ref()))
}

async fn default_address_of(
    state: &AppState,
    tenant: &TenantId,
    profile: &CustomerRecord,
) -> Result<Option<AddressRecord>, ApiError> {
    let Some(default_id) = &profile.default_address_id else { return Ok(None) };
    let all = state.store.list_addresses(tenant, &profile.id).await?;
    Ok(all.into_iter().find(|a| &a.id == default_id))
}

const FIELDS: &[&str] = &[
    "address",
    "mobile",
    "phone",
    "name",
    "country",
    "address_town",
    "address_postcode",
    "email",
    "id",
    "subscriptions",
    "address_region",
    "password",
];

/// Retailer address fields and the address book's names for them.
const ADDRESS_FIELDS: &[(&str, &str)] = &[
    ("address", "street"),
    ("address_town", "city"),
    ("address_postcode", "zipCode"),
    ("address_region", "state"),
    ("country", "country"),
];

/// A string field of the body: absent or null → `None` (stays); a string →
/// `Some` (`""` clears); anything else is named.
fn text(body: &Map<String, Value>, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match body.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errors.push(FieldError::new(key, "must be a string or null"));
            None
        }
    }
}

fn or_null(value: String) -> Value {
    if value.is_empty() { Value::Null } else { Value::String(value) }
}

/// `PATCH customers/self`: the flat fields laid over the profile (with the
/// version just read: a change made meanwhile is a 409, not lost) and the
/// default address; a new `email` (with `password`) starts an e-mail change.
pub async fn update(
    state: &AppState,
    caller: &CustomerCaller,
    body: &Map<String, Value>,
    client: &ClientAddress,
) -> Result<SelfView, ApiError> {
    let current = &caller.profile;
    let mut errors: Vec<FieldError> = body
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .map(|k| FieldError::new(k.as_str(), "is not a field of customers/self"))
        .collect();
    if let Some(id) = text(body, "id", &mut errors)
        && id != current.id.as_str()
    {
        errors.push(FieldError::new("id", "cannot be changed"));
    }
    let new_email = match text(body, "email", &mut errors) {
        Some(raw) => match Email::parse(&raw) {
            Ok(email) if email.normalized() != current.email.normalized() => Some(email),
            Ok(_) => None,
            Err(e) => {
                errors.push(FieldError::new("email", e.0));
                None
            }
        },
        None => None,
    };
    let password = text(body, "password", &mut errors);

    let mut changes = Map::new();
    if let Some(name) = text(body, "name", &mut errors)
        && Some(&name) != name_of(current).as_ref()
    {
        let mut words: Vec<&str> = name.split_whitespace().collect();
        let last = if words.len() > 1 { words.pop() } else { None };
        changes.insert("firstName".into(), or_null(words.join(" ")));
        changes.insert("middleName".into(), Value::Null);
        changes.insert("lastName".into(), last.map_or(Value::Null, |l| Value::String(l.to_owned())));
    }
    for (retailer, ours) in [("phone", "contactPhone"), ("mobile", "mobilePhone")] {
        if let Some(value) = text(body, retailer, &mut errors) {
            changes.insert(ours.into(), or_null(value));
        }
    }
    match body.get("subscriptions") {
        None | Some(Value::Null) => {}
        Some(list) => {
            changes.insert("subscriptions".into(), list.clone());
        }
    }
    let address = default_address_of(state, &caller.tenant, current).await?;
    let mut address_changes = Map::new();
    for (retailer, ours) in ADDRESS_FIELDS {
        let Some(value) = text(body, retailer, &mut errors) else { continue };
        if *retailer == "address" {
            if address.as_ref().and_then(address_line).as_deref() == Some(value.as_str()) {
                continue;
            }
            address_changes.insert("streetNumber".into(), Value::Null);
        }
        address_changes.insert((*ours).into(), or_null(value));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    if !changes.is_empty() {
        changes.insert("metadata".into(), json!({ "version": current.version }));
        profile::update(state, caller, &changes).await?;
    }
    if !address_changes.is_empty() {
        let (tenant, customer) = (&caller.tenant, &caller.customer);
        let written = match &address {
            Some(address) => addresses::update_stored(
                state,
                tenant,
                customer,
                &address.id,
                addresses::UpdateKind::Patch,
                &address_changes,
            )
            .await
            .map(drop),
            None => {
                address_changes.retain(|_, v| !v.is_null());
                addresses::create(state, tenant, customer, &address_changes).await.map(drop)
            }
        };
        written.map_err(retailer_names)?;
    }
    if let Some(new_email) = new_email {
        let request = ChangeRequest {
            email: current.email.clone(),
            password: password
                .map(|p| crate::domain::Password::parse(p).map_err(|e| ApiError::field("password", e.0)))
                .transpose()?,
            new_email,
            sync_contact_email: true,
        };
        email_change::request_change(state, caller, request, client).await?;
    }
    // Read back as the session check reads (one round trip), and the address book.
    let (_, profile) =
        state.store.session_and_profile(&caller.tenant, Some(&caller.customer), &caller.token.session).await?;
    let profile = profile.ok_or(ApiError::Unauthorized("session_revoked"))?;
    let address = default_address_of(state, &caller.tenant, &profile).await?;
    Ok(SelfView::of(&profile, address.as_ref()))
}

/// An address-book error in the retailer's field names.
fn retailer_names(err: ApiError) -> ApiError {
    let rename = |mut e: FieldError| {
        let field = e.field.as_str();
        let field = if field == "streetNumber" { "street" } else { field };
        if let Some((retailer, _)) = ADDRESS_FIELDS.iter().find(|(_, ours)| *ours == field) {
            e.field = (*retailer).to_owned();
        }
        e
    };
    match err {
        ApiError::Validation(errors) => ApiError::Validation(errors.into_iter().map(rename).collect()),
        ApiError::Unprocessable { code, errors } => {
            ApiError::Unprocessable { code, errors: errors.into_iter().map(rename).collect() }
        }
        err => err,
    }
}
