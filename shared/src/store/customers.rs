use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::{Store, StoreError, from_item, put_new, put_new_or_expired, s};
use crate::address::AddressRecord;
use crate::customer::{CustomerRecord, CustomerStatus, EmailGuard};
use crate::domain::{CustomerId, Email, TenantId};
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
    pub email: String,
    pub status: CustomerStatus,
    pub password_hash: Option<String>,
    pub initial_password: bool,
    pub epoch: u64,
    /// Empty when a guard written by an older release does not carry it.
    pub customer_number: String,
}

impl LoginTarget {
    pub fn from_guard(item: super::Item) -> Result<Option<Self>, StoreError> {
        let guard: EmailGuard = from_item(item)?;
        Ok(CustomerId::parse(&guard.customer_id).ok().map(|customer_id| Self {
            customer_id,
            email: guard.email,
            status: guard.status,
            password_hash: guard.password_hash,
            initial_password: guard.initial_password,
            epoch: guard.epoch,
            customer_number: guard.customer_number,
        }))
    }

    pub fn from_profile(item: super::Item) -> Result<Option<Self>, StoreError> {
        let profile: CustomerRecord = from_item(item)?;
        Ok(CustomerId::parse(&profile.id).ok().map(|customer_id| Self {
            customer_id,
            email: profile.email,
            status: profile.status,
            password_hash: profile.password_hash,
            initial_password: profile.initial_password,
            epoch: profile.epoch,
            customer_number: profile.customer_number,
        }))
    }
}

impl Store {
    /// Writes profile and e-mail guard (plus `extra` items, e.g. an activation
    /// token or a first address) in one transaction; the guard's condition makes
    /// the e-mail unique per tenant even under parallel sign-ups.
    pub async fn create_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerRecord,
        extra: Vec<TransactWriteItem>,
    ) -> Result<CreateCustomerOutcome, StoreError> {
        let id = CustomerId::parse(&customer.id).map_err(|_| StoreError::Invalid("customer id".into()))?;
        let email = Email::parse(&customer.email).map_err(|_| StoreError::Invalid("e-mail".into()))?;
        let mut items = vec![
            put_new_or_expired(
                &self.table,
                &ItemKey::email_guard(tenant, &email.normalized()),
                &EmailGuard::of(customer),
            )?,
            put_new(&self.table, &ItemKey::profile(tenant, &id), customer)?,
        ];
        items.extend(extra);
        match self.transact(items).await? {
            Ok(()) => Ok(CreateCustomerOutcome::Created),
            Err(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                Ok(CreateCustomerOutcome::EmailTaken)
            }
            Err(_) => Ok(CreateCustomerOutcome::Cancelled),
        }
    }

    /// Every e-mail guard of a tenant with the identity key it is stored
    /// under. A Scan: for the operator's migration check only, never a route.
    pub async fn email_guards(&self, tenant: &TenantId) -> Result<Vec<(String, EmailGuard)>, StoreError> {
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
                guards.push((key, from_item(item)?));
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
    ) -> Result<TransactWriteItem, StoreError> {
        put_new(&self.table, &ItemKey::address(tenant, customer, &address.id), address)
    }

    /// A transaction item stamping the last login on the profile.
    pub fn touch_last_login(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
        at: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let key = ItemKey::profile(tenant, id);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .update_expression("SET lastLoginAt = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":at", s(at))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
