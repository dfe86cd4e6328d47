//! What a customer sees of their profile (`GET me`), and which parts of it a
//! request asks for (`expand`). Never a hash, a token or a pending secret.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::address::AddressRecord;
use crate::customer::{B2bDetails, CustomerRecord, Subscription};
use crate::domain::CustomerId;
use crate::error::ApiError;

/// The profile of API.md "Profile". Unset optional fields are `null`, so a
/// storefront form sees every field it may edit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: CustomerId,
    pub customer_number: String,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub company: Option<String>,
    pub preferred_language: Option<String>,
    pub preferred_currency: Option<String>,
    pub preferred_site: Option<String>,
    pub business_model: &'static str,
    pub b2b: Option<B2bDetails>,
    pub subscriptions: Vec<Subscription>,
    pub mixins: Map<String, Value>,
    pub accounts: Vec<AccountView>,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<AddressView>>,
}

/// One way to sign in: the e-mail account (`internal`, id = the e-mail, as
/// the Emporix seed shows it) and each linked social identity (`social`,
/// id = a stable hash of issuer and subject, for `DELETE me/accounts/{id}`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Internal account: whether a password is set (a social-only customer has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_password: Option<bool>,
    /// Internal account: whether an authenticator (TOTP) is enrolled, so a
    /// password or e-mail code alone does not sign in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_totp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<String>,
}

impl AccountView {
    /// Every way to sign in: the e-mail account, then each linked identity.
    pub fn all(customer: &CustomerRecord) -> Vec<Self> {
        let internal = Self {
            id: customer.email.to_string(),
            kind: "internal",
            email: Some(customer.email.to_string()),
            has_password: Some(customer.password_hash.is_some()),
            has_totp: Some(customer.second_factor),
            provider: None,
            issuer: None,
            subject: None,
            linked_at: None,
        };
        let social = customer.social_links.iter().map(|link| Self {
            id: link.id(),
            kind: "social",
            email: link.email.clone(),
            has_password: None,
            has_totp: None,
            provider: link.provider.clone(),
            issuer: Some(link.issuer.clone()),
            subject: Some(link.subject.clone()),
            linked_at: link.linked_at.clone(),
        });
        std::iter::once(internal).chain(social).collect()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub version: u64,
    pub created_at: String,
    pub modified_at: String,
    /// The JSON schema URL of each mixin the profile holds, where the tenant
    /// names one (tenant setting `mixinSchemas`).
    pub mixins: Map<String, Value>,
}

/// Addresses look exactly as `me/addresses` shows them.
pub use crate::services::addresses::AddressView;

/// Which mixins a response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MixinSelection {
    All,
    Only(Vec<String>),
}

/// The `expand` query: `addresses`, `mixin:*`, `mixin:<name>`, comma-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expand {
    pub addresses: bool,
    pub mixins: MixinSelection,
}

impl Expand {
    /// Mixins are always there (all of them) unless named ones are asked
    /// for; addresses only when asked for (they cost a second read).
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut addresses = false;
        let mut all = false;
        let mut named = Vec::new();
        let mut unknown = Vec::new();
        for part in raw.unwrap_or_default().split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "addresses" => addresses = true,
                "mixin:*" => all = true,
                _ => match part.strip_prefix("mixin:") {
                    Some(name) if super::patch::valid_mixin_name(name) => named.push(name.to_owned()),
                    _ => unknown.push(part),
                },
            }
        }
        if !unknown.is_empty() {
            let message = format!(
                "unknown value(s) {}: use addresses, mixin:* or mixin:<name>",
                unknown.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", ")
            );
            return Err(ApiError::field("expand", &message));
        }
        let mixins = if all || named.is_empty() { MixinSelection::All } else { MixinSelection::Only(named) };
        Ok(Self { addresses, mixins })
    }
}

impl ProfileView {
    pub fn of(
        customer: &CustomerRecord,
        mixins: &MixinSelection,
        schemas: &std::collections::BTreeMap<String, String>,
        addresses: Option<Vec<AddressRecord>>,
    ) -> Self {
        let details = &customer.details;
        let accounts = AccountView::all(customer);
        let mixins = match mixins {
            MixinSelection::All => customer.mixins.clone(),
            MixinSelection::Only(names) => {
                customer.mixins.iter().filter(|(k, _)| names.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
            }
        };
        let default_address = customer.default_address_id.as_ref();
        let schemas = mixins
            .keys()
            .filter_map(|name| schemas.get(name).map(|url| (name.clone(), Value::String(url.clone()))))
            .collect();
        Self {
            id: customer.id.clone(),
            customer_number: customer.customer_number.clone(),
            title: details.title.clone(),
            first_name: details.first_name.clone(),
            middle_name: details.middle_name.clone(),
            last_name: details.last_name.clone(),
            contact_email: details.contact_email.clone(),
            contact_phone: details.contact_phone.clone(),
            mobile_phone: details.mobile_phone.clone(),
            company: details.company.clone(),
            preferred_language: details.preferred_language.clone(),
            preferred_currency: details.preferred_currency.clone(),
            preferred_site: details.preferred_site.clone(),
            business_model: details.business_model(),
            b2b: details.b2b.clone(),
            subscriptions: customer.subscriptions.clone(),
            mixins,
            accounts,
            metadata: Metadata {
                version: customer.version,
                created_at: customer.created_at.clone(),
                modified_at: customer.modified_at.clone(),
                mixins: schemas,
            },
            addresses: addresses.map(|list| list.into_iter().map(|a| AddressView::of(a, default_address)).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_reads_addresses_and_mixins() {
        assert_eq!(Expand::parse(None).unwrap(), Expand { addresses: false, mixins: MixinSelection::All });
        let e = Expand::parse(Some("addresses, mixin:loyalty,mixin:prefs")).unwrap();
        assert!(e.addresses);
        assert_eq!(e.mixins, MixinSelection::Only(vec!["loyalty".into(), "prefs".into()]));
        assert_eq!(Expand::parse(Some("mixin:loyalty,mixin:*")).unwrap().mixins, MixinSelection::All);
        let err = Expand::parse(Some("orders,mixin:")).unwrap_err();
        assert_eq!(err.code(), "invalid_request");
    }

    #[test]
    fn the_internal_account_tells_whether_an_authenticator_is_enrolled() {
        let email = crate::domain::Email::parse("ann@example.com").unwrap();
        let mut customer = CustomerRecord::new(
            CustomerId::generate(),
            email,
            crate::customer::CustomerStatus::Active,
            "2026-01-01T00:00:00Z",
        );
        let internal = |c: &CustomerRecord| serde_json::to_value(&AccountView::all(c)[0]).unwrap();
        assert_eq!(internal(&customer)["hasTotp"], false);
        customer.second_factor = true;
        assert_eq!(internal(&customer)["hasTotp"], true);
    }
}
