//! The customer as stored: profile, credentials and lifecycle status.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{AddressId, CustomerId, Email};
use crate::error::FieldError;
use crate::fields::{self, FieldSpec, FieldType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum CustomerStatus {
    /// Signed up, not yet activated: cannot log in.
    #[default]
    Pending,
    Active,
}

/// The editable profile fields of API.md "Profile".
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// A mobile number beside `contactPhone` (the retailer seed's `mobile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b2b: Option<B2bDetails>,
}

/// Business customers: registration id and the legal entities they buy for.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct B2bDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_registration_id: Option<String>,
    pub legal_entities: Vec<LegalEntityRef>,
}

/// A legal entity the business customer buys for, as the client sent it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LegalEntityRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_assignment_id: Option<String>,
}

/// The editable profile fields, one table for sign-up and `PATCH me`.
pub const CUSTOMER_DETAIL_FIELDS: &[FieldSpec] = &[
    FieldSpec::text("title", false, 20),
    FieldSpec::text("firstName", false, 100),
    FieldSpec::text("middleName", false, 100),
    FieldSpec::text("lastName", false, 100),
    FieldSpec::of("contactEmail", FieldType::Email, false, Some(254)),
    FieldSpec::text("contactPhone", false, 50),
    FieldSpec::text("mobilePhone", false, 50),
    FieldSpec::text("company", false, 200),
    FieldSpec::of("preferredLanguage", FieldType::Language, false, Some(35)),
    FieldSpec::of("preferredCurrency", FieldType::Currency, false, Some(3)),
    FieldSpec::text("preferredSite", false, 100),
];

const MAX_LEGAL_ENTITIES: usize = 50;

impl CustomerDetails {
    /// Parses `customerDetails`-shaped input; keys in `passthrough` are left
    /// for the caller. `b2b` is validated here too. Errors carry `prefix`.
    pub fn parse(input: &Map<String, Value>, prefix: &str, passthrough: &[&str]) -> Result<Self, Vec<FieldError>> {
        let mut allowed: Vec<&str> = passthrough.to_vec();
        allowed.push("b2b");
        let mut errors = Vec::new();
        let clean = fields::validate(CUSTOMER_DETAIL_FIELDS, input, prefix, &allowed).unwrap_or_else(|e| {
            errors.extend(e);
            Map::new()
        });
        let b2b = match input.get("b2b") {
            None | Some(Value::Null) => None,
            Some(value) => match parse_b2b(value, &format!("{prefix}b2b.")) {
                Ok(b2b) => Some(b2b),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut details: Self = serde_json::from_value(Value::Object(clean))
            .map_err(|e| vec![FieldError::new(format!("{prefix}details"), e.to_string())])?;
        details.b2b = b2b;
        Ok(details)
    }

    /// "B2B" when the customer buys for a company (has `b2b`), else "B2C".
    pub fn business_model(&self) -> &'static str {
        if self.b2b.is_some() { "B2B" } else { "B2C" }
    }
}

fn parse_b2b(value: &Value, prefix: &str) -> Result<B2bDetails, Vec<FieldError>> {
    let Some(map) = value.as_object() else {
        return Err(vec![FieldError::new(prefix.trim_end_matches('.'), "must be an object")]);
    };
    let mut errors = Vec::new();
    for key in map.keys() {
        if key != "companyRegistrationId" && key != "legalEntities" {
            errors.push(FieldError::new(format!("{prefix}{key}"), "is not a known field"));
        }
    }
    let registration = match map.get("companyRegistrationId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().chars().count() <= 100 && !s.chars().any(char::is_control) => {
            Some(crate::domain::text::nfc(s.trim())).filter(|s| !s.is_empty())
        }
        Some(_) => {
            errors.push(FieldError::new(
                format!("{prefix}companyRegistrationId"),
                "must be a string of at most 100 characters, without control characters",
            ));
            None
        }
    };
    let mut entities = Vec::new();
    match map.get("legalEntities") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() <= MAX_LEGAL_ENTITIES => {
            for (i, item) in items.iter().enumerate() {
                match parse_legal_entity(item, &format!("{prefix}legalEntities[{i}]")) {
                    Ok(entity) => entities.push(entity),
                    Err(e) => errors.extend(e),
                }
            }
        }
        Some(_) => errors.push(FieldError::new(
            format!("{prefix}legalEntities"),
            format!(
                "must be a list of at most {MAX_LEGAL_ENTITIES} {{\"id\", \"name\", \"contactAssignmentId\"}} objects"
            ),
        )),
    }
    if errors.is_empty() {
        Ok(B2bDetails { company_registration_id: registration, legal_entities: entities })
    } else {
        Err(errors)
    }
}

/// One legal entity: `id` (required), `name` and `contactAssignmentId`, each
/// at most 64 (the id) or 200 characters, without control characters.
fn parse_legal_entity(item: &Value, prefix: &str) -> Result<LegalEntityRef, Vec<FieldError>> {
    let Some(map) = item.as_object() else {
        return Err(vec![FieldError::new(prefix, "must be an object {\"id\", \"name\", \"contactAssignmentId\"}")]);
    };
    let mut errors: Vec<FieldError> = map
        .keys()
        .filter(|k| !["id", "name", "contactAssignmentId"].contains(&k.as_str()))
        .map(|k| FieldError::new(format!("{prefix}.{k}"), "is not a known field"))
        .collect();
    let mut text = |key: &str, max: usize, required: bool| -> Option<String> {
        let field = format!("{prefix}.{key}");
        match map.get(key) {
            None | Some(Value::Null) if required => {
                errors.push(FieldError::new(field, format!("is required (at most {max} characters)")));
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().count() <= max && !s.chars().any(char::is_control) => {
                let s = crate::domain::text::nfc(s.trim());
                if required && s.is_empty() {
                    errors.push(FieldError::new(field, format!("is required (at most {max} characters)")));
                }
                Some(s)
            }
            Some(_) => {
                errors.push(FieldError::new(
                    field,
                    format!("must be a string of at most {max} characters, without control characters"),
                ));
                None
            }
        }
    };
    let id = text("id", 64, true);
    let name = text("name", 200, false);
    let contact_assignment_id = text("contactAssignmentId", 64, false);
    match id {
        Some(id) if errors.is_empty() => Ok(LegalEntityRef { id, name, contact_assignment_id }),
        _ => Err(errors),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord {
    pub id: CustomerId,
    pub customer_number: String,
    /// As typed (trimmed); uniqueness is on the normalised form.
    pub email: Email,
    pub status: CustomerStatus,
    /// PHC string; absent until a password is set (sign-up without password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Set by an operator; the customer should change it.
    #[serde(default)]
    pub initial_password: bool,
    #[serde(default)]
    pub details: CustomerDetails,
    /// Tenant-defined custom attributes (JSON object, at most 16 KiB).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub mixins: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
    /// Outstanding one-time tokens by purpose (`ACTIVATION`, ...) → token hash,
    /// so a newer token can retire the older one and deletion finds them all.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub pending_tokens: std::collections::BTreeMap<String, String>,
    /// Number of stored addresses; conditions on it cap the address book.
    #[serde(default)]
    pub address_count: u32,
    /// The one default address (one attribute, so there is never a second).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_address_id: Option<AddressId>,
    /// Social identities linked to this account (issuer, subject).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub social_links: Vec<SocialLink>,
    pub version: u64,
    /// The credential epoch: moves on with every password change, reset,
    /// e-mail change and activation. Sessions and one-time secrets carry the
    /// epoch they were issued under and are dead once it has moved on.
    #[serde(default)]
    pub epoch: u64,
    /// An authenticator (TOTP) is enrolled: a password or e-mail code alone does not sign in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second_factor: bool,
    pub created_at: String,
    pub modified_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<String>,
    /// Set while `PENDING`: an account nobody activates disappears (DynamoDB TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl CustomerRecord {
    /// A new customer at version 1 and epoch 0, created `now` (RFC 3339),
    /// with a fresh customer number and nothing else set: the one place a
    /// record is made, so every creation path stamps it the same way.
    pub fn new(id: CustomerId, email: Email, status: CustomerStatus, now: &str) -> Self {
        Self {
            id,
            customer_number: new_customer_number(),
            email,
            status,
            password_hash: None,
            initial_password: false,
            details: CustomerDetails::default(),
            mixins: Map::new(),
            subscriptions: Vec::new(),
            pending_tokens: Default::default(),
            address_count: 0,
            default_address_id: None,
            social_links: Vec::new(),
            version: 1,
            epoch: 0,
            second_factor: false,
            created_at: now.to_owned(),
            modified_at: now.to_owned(),
            last_login_at: None,
            ttl: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SocialLink {
    pub issuer: String,
    pub subject: String,
    /// The tenant's name for the provider (`google`), when linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider-verified e-mail at linking time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// RFC 3339; absent on links made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<String>,
}

impl SocialLink {
    /// A stable, URL-safe id for `me/accounts/{id}`: subjects are opaque
    /// provider strings and only unique per issuer.
    pub fn id(&self) -> String {
        link_id(&self.issuer, &self.subject)
    }

    pub fn is(&self, issuer: &str, subject: &str) -> bool {
        self.issuer == issuer && self.subject == subject
    }
}

/// See `SocialLink::id`.
pub fn link_id(issuer: &str, subject: &str) -> String {
    crate::secrets::hash_secret(&format!("{issuer}\n{subject}"))[..32].to_owned()
}

/// A mailing-list or marketing subscription.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub code: String,
    pub opt_in: bool,
}

/// The e-mail uniqueness guard. It carries what login needs (id, status,
/// password hash) so that checking a password is one read; it is written in
/// the same transaction as the profile whenever those change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailGuard {
    pub customer_id: CustomerId,
    pub email: Email,
    pub status: CustomerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub initial_password: bool,
    /// The profile's credential epoch, so a login by e-mail knows it from its one read.
    #[serde(default)]
    pub epoch: u64,
    /// The customer number, for the login's `saas_token` (empty in guards
    /// written before it was kept here: then login reads the profile).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub customer_number: String,
    /// The profile's `secondFactor`, so login knows it from its one read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second_factor: bool,
    /// The profile's expiry while `PENDING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl EmailGuard {
    pub fn of(customer: &CustomerRecord) -> Self {
        Self {
            customer_id: customer.id.clone(),
            email: customer.email.clone(),
            status: customer.status,
            password_hash: customer.password_hash.clone(),
            initial_password: customer.initial_password,
            epoch: customer.epoch,
            customer_number: customer.customer_number.clone(),
            second_factor: customer.second_factor,
            ttl: customer.ttl,
        }
    }
}

/// How long a `PENDING` account waits for its activation before it goes.
pub const PENDING_LIFETIME_SECS: i64 = 7 * 86_400;

/// A short number for people (support calls, invoices), distinct from the id.
pub fn new_customer_number() -> String {
    let bytes = crate::secrets::random_bytes::<8>();
    let n = u64::from_le_bytes(bytes) % 10_000_000_000;
    format!("C{n:010}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn details_parse_with_b2b_and_name_every_bad_field() {
        let ok = json!({"firstName": " Ann ", "preferredLanguage": "de-CH", "preferredCurrency": "eur",
            "b2b": {"companyRegistrationId": "HRB 1", "legalEntities": [{"id": "le1"}]}});
        let details = CustomerDetails::parse(ok.as_object().unwrap(), "customerDetails.", &[]).unwrap();
        assert_eq!(details.first_name.as_deref(), Some("Ann"));
        assert_eq!(details.preferred_currency.as_deref(), Some("EUR"));
        assert_eq!(details.business_model(), "B2B");
        let bad =
            json!({"contactEmail": "nope", "preferredLanguage": "german!", "b2b": {"legalEntities": [{}]}, "x": 1});
        let errors = CustomerDetails::parse(bad.as_object().unwrap(), "customerDetails.", &[]).unwrap_err();
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "customerDetails.b2b.legalEntities[0].id",
                "customerDetails.contactEmail",
                "customerDetails.preferredLanguage",
                "customerDetails.x"
            ]
        );
    }
}
