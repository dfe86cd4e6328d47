use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::{Store, StoreError, Write, from_item, items_of, put_new, put_new_or_expired, s};
use crate::address::AddressRecord;
use crate::customer::{CustomerRecord, CustomerStatus, EmailGuard};
use crate::domain::{CustomerId, Email, LoginName, SessionId, TenantId};
use crate::store::SessionRecord;
use crate::table_keys::ItemKey;

#[derive(Debug, PartialEq, Eq)]
pub enum CreateCustomerOutcome {
    Created,
    EmailTaken,
    /// Another condition of the transaction failed (an extra item, e.g. a
    /// social link made in parallel) or a parallel transaction won: nothing
    /// was written; look again.
    Cancelled,
}

/// What a password check needs, from one read (guard or profile).
#[derive(Debug, Clone)]
pub struct LoginTarget {
    pub customer_id: CustomerId,
    pub email: Email,
    pub status: CustomerStatus,
    pub password_hash: Option<String>,
    pub initial_password: bool,
    pub epoch: u64,
    /// Empty when a guard written by an older release does not carry it.
    pub customer_number: String,
    /// An authenticator is enrolled: the password alone does not sign in.
    pub second_factor: bool,
}

/// An e-mail guard as stored, before any rule looked at it.
#[derive(Debug, Clone)]
pub struct StoredIdentity {
    pub key: String,
    pub customer_id: String,
    pub email: String,
}

/// A stored identity that the current e-mail rules see differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityFinding {
    /// Stored under `stored`; the rules now normalise it to `now`: logins
    /// and sign-ups with that address find another key.
    Renormalises { customer_id: String, stored: String, now: String },
    /// No plain address under the current rules (a display name, a domain
    /// literal, ...): no mail reaches it and nobody can log in with it.
    Refused { customer_id: String, stored: String },
}

impl StoredIdentity {
    /// What today's rules say of this stored address; `None`: it stands.
    pub fn finding(self) -> Option<IdentityFinding> {
        let Self { key: stored, customer_id, email } = self;
        match Email::parse(&email) {
            Ok(email) if email.normalized() == stored => None,
            Ok(email) => Some(IdentityFinding::Renormalises { customer_id, stored, now: email.normalized() }),
            Err(_) => Some(IdentityFinding::Refused { customer_id, stored }),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawGuard {
    customer_id: String,
    email: String,
}

impl LoginTarget {
    fn from_guard(guard: EmailGuard) -> Self {
        Self {
            customer_id: guard.customer_id,
            email: guard.email,
            status: guard.status,
            password_hash: guard.password_hash,
            initial_password: guard.initial_password,
            epoch: guard.epoch,
            customer_number: guard.customer_number,
            second_factor: guard.second_factor,
        }
    }

    /// Read by id, from the profile: the guard's fields are the profile's.
    fn from_profile(profile: &CustomerRecord) -> Self {
        Self::from_guard(EmailGuard::of(profile))
    }
}

/// What a password login reads in its one round trip.
pub struct LoginLookup {
    /// The storefront (anonymous) session the login upgrades.
    pub storefront_session: Option<SessionRecord>,
    /// The account named, if there is one.
    pub target: Option<LoginTarget>,
    /// How long the longest of the failed-login limits asked for still holds, if one is used up.
    pub limit_wait: Option<u64>,
}

impl Store {
    /// The storefront session, the account (by its e-mail guard, or its
    /// profile for a login by id) and the failed-login
    /// `limits`, in one round trip. `consistent: false` reads at half the
    /// units; the caller reads again consistently when what it found may
    /// be a second old (see `services::login`).
    pub async fn login_lookup(
        &self,
        tenant: &TenantId,
        storefront_session: &SessionId,
        name: &LoginName,
        limits: &[(String, super::Allowance)],
        consistent: bool,
    ) -> Result<LoginLookup, StoreError> {
        let session_key = ItemKey::anonymous_session(tenant, storefront_session);
        let target_key = match name {
            LoginName::Email(email) => ItemKey::email_guard(tenant, &email.normalized()),
            LoginName::Id(id) => ItemKey::profile(tenant, id),
        };
        let limit_keys: Vec<ItemKey> = limits.iter().map(|(name, _)| ItemKey::limit(tenant, name)).collect();
        let mut keys = vec![session_key.clone(), target_key.clone()];
        keys.extend(limit_keys.iter().cloned());
        let mut found = self.get_many_with(&keys, consistent).await?;
        let now = crate::clock::now_epoch();
        let mut limit_wait = None;
        for (key, (_, allowance)) in limit_keys.iter().zip(limits) {
            if let Some(item) = found.remove(key) {
                limit_wait = limit_wait.max(super::limits::exhausted(&from_item(item)?, *allowance, now));
            }
        }
        let target = match (name, found.remove(&target_key)) {
            (_, None) => None,
            (LoginName::Email(_), Some(item)) => Some(LoginTarget::from_guard(from_item(item)?)),
            (LoginName::Id(_), Some(item)) => Some(LoginTarget::from_profile(&from_item(item)?)),
        };
        Ok(LoginLookup {
            storefront_session: found.remove(&session_key).map(from_item).transpose()?,
            target,
            limit_wait,
        })
    }

    /// For each of `emails` (at most 100), whether an account has it.
    pub async fn taken_emails(&self, tenant: &TenantId, emails: &[&Email]) -> Result<Vec<bool>, StoreError> {
        let keys: Vec<ItemKey> = emails.iter().map(|email| ItemKey::email_guard(tenant, &email.normalized())).collect();
        let found = self.get_many(&keys).await?;
        Ok(keys.iter().map(|key| found.contains_key(key)).collect())
    }

    /// The e-mail guard of `email`'s identity: who owns it, and what login needs.
    pub async fn get_email_guard(&self, tenant: &TenantId, email: &Email) -> Result<Option<EmailGuard>, StoreError> {
        self.get(&ItemKey::email_guard(tenant, &email.normalized())).await
    }

    /// Writes profile and e-mail guard (plus `extra` items, e.g. an activation
    /// token or a first address) in one transaction; the guard's condition makes
    /// the e-mail unique per tenant even under parallel sign-ups.
    pub async fn create_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerRecord,
        extra: Vec<Write>,
    ) -> Result<CreateCustomerOutcome, StoreError> {
        let mut items = vec![
            put_new_or_expired(
                &self.table,
                &ItemKey::email_guard(tenant, &customer.email.normalized()),
                &EmailGuard::of(customer),
            )?,
            put_new(&self.table, &ItemKey::profile(tenant, &customer.id), customer)?,
        ];
        items.extend(items_of(extra));
        match self.transact(items).await? {
            Ok(()) => Ok(CreateCustomerOutcome::Created),
            Err(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                Ok(CreateCustomerOutcome::EmailTaken)
            }
            Err(_) => Ok(CreateCustomerOutcome::Cancelled),
        }
    }

    /// Every e-mail guard of a tenant as stored, unchecked (the identity key,
    /// the customer id and the address as typed): the operator's migration
    /// check looks for exactly the addresses today's rules refuse. A Scan:
    /// never a route.
    pub async fn stored_identities(&self, tenant: &TenantId) -> Result<Vec<StoredIdentity>, StoreError> {
        let prefix = ItemKey::email_guard(tenant, "").pk;
        let scan = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(PK, :prefix)")
            .expression_attribute_values(":prefix", s(&prefix))
            .consistent_read(true);
        let mut guards = Vec::new();
        let mut start = None;
        loop {
            let out = scan.clone().set_exclusive_start_key(start).send().await?;
            for item in out.items.unwrap_or_default() {
                let key = ItemKey::of_item(&item).map(|k| k.pk[prefix.len()..].to_owned()).unwrap_or_default();
                let RawGuard { customer_id, email } = from_item(item)?;
                guards.push(StoredIdentity { key, customer_id, email });
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(guards),
            }
        }
    }

    pub async fn get_customer(&self, tenant: &TenantId, id: &CustomerId) -> Result<Option<CustomerRecord>, StoreError> {
        self.get(&ItemKey::profile(tenant, id)).await
    }

    /// A transaction item storing the first address of a new customer.
    pub fn put_address_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        address: &AddressRecord,
    ) -> Result<Write, StoreError> {
        put_new(&self.table, &ItemKey::address(tenant, customer, address.id.as_str()), address).map(Write)
    }

    /// A transaction item stamping the last login on the profile.
    pub fn touch_last_login(&self, tenant: &TenantId, id: &CustomerId, at: &str) -> Result<Write, StoreError> {
        let key = ItemKey::profile(tenant, id);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .update_expression("SET lastLoginAt = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":at", s(at))
            .build()?;
        Ok(Write(TransactWriteItem::builder().update(update).build()))
    }
}
