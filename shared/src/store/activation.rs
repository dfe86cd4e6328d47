//! Sign-up, activation and e-mail change: the multi-item writes, each one
//! conditional transaction, so a half-done change never reaches the table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use super::{Store, StoreError, n, put_new, s};
use crate::address::AddressRecord;
use crate::customer::{CustomerRecord, CustomerStatus, EmailGuard};
use crate::domain::{CustomerId, Email, TenantId};
use crate::store::TokenPurpose;
use crate::table_keys::ItemKey;

/// How a token-carrying transaction ended.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenChangeOutcome {
    Done,
    /// The token was used, expired, retired or the account changed meanwhile.
    TokenRejected,
    /// E-mail confirmation only: the new address belongs to someone else now.
    EmailTaken,
}

/// What activation writes besides consuming the token.
pub struct Activation<'a> {
    pub customer: &'a CustomerId,
    pub normalized_email: &'a str,
    pub token_hash: &'a str,
    /// A password chosen at activation (PHC string), replacing any earlier one.
    pub password_hash: Option<&'a str>,
    pub now: i64,
}

/// What an e-mail confirmation writes besides consuming the key.
pub struct EmailSwap<'a> {
    /// The profile as read before the swap (its status and password go to the new guard).
    pub profile: &'a CustomerRecord,
    pub new_email: &'a Email,
    pub key_hash: &'a str,
    pub sync_contact_email: bool,
    pub now: i64,
}

fn status_value(status: CustomerStatus) -> AttributeValue {
    s(match status {
        CustomerStatus::Pending => "PENDING",
        CustomerStatus::Active => "ACTIVE",
    })
}

impl Store {
    /// A transaction item storing the first address of a new customer.
    pub fn put_address_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        address: &AddressRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        put_new(&self.table, &ItemKey::address(tenant, customer, &address.id), address)
    }

    /// A transaction item recording `hash` as the customer's current token for
    /// `purpose`, on condition that the current one is still the one in
    /// `customer` (as read), so of parallel requests only one can win. With
    /// `require_pending` the account must also still be `PENDING`.
    pub fn set_pending_token_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerRecord,
        purpose: TokenPurpose,
        hash: &str,
        require_pending: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let id = CustomerId::parse(&customer.id).map_err(|_| StoreError::Invalid("customer id".into()))?;
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, &id).to_attributes()))
            .expression_attribute_names("#pt", "pendingTokens")
            .expression_attribute_values(":now", s(crate::clock::now_rfc3339()));
        let mut conditions = vec!["attribute_exists(PK)".to_owned()];
        match customer.pending_tokens.get(purpose.as_str()) {
            // The map may not exist (no token ever) or be empty: write it whole.
            None if customer.pending_tokens.is_empty() => {
                update = update
                    .update_expression("SET #pt = :tokens, modifiedAt = :now")
                    .expression_attribute_values(
                        ":tokens",
                        AttributeValue::M(HashMap::from([(purpose.as_str().to_owned(), s(hash))])),
                    )
                    .expression_attribute_values(":zero", n(0));
                conditions.push("(attribute_not_exists(#pt) OR size(#pt) = :zero)".into());
            }
            previous => {
                update = update
                    .update_expression("SET #pt.#purpose = :hash, modifiedAt = :now")
                    .expression_attribute_names("#purpose", purpose.as_str())
                    .expression_attribute_values(":hash", s(hash));
                // Exactly the token we read is replaced: parallel requests cannot both win.
                match previous {
                    Some(old) => {
                        conditions.push("#pt.#purpose = :old".into());
                        update = update.expression_attribute_values(":old", s(old));
                    }
                    None => conditions.push("attribute_exists(#pt) AND attribute_not_exists(#pt.#purpose)".into()),
                }
            }
        }
        if require_pending {
            conditions.push("#status = :pending".into());
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pending", status_value(CustomerStatus::Pending));
        }
        let update = update.condition_expression(conditions.join(" AND ")).build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A transaction item deleting a retired token (no condition: it may be gone).
    pub fn delete_one_time_token_item(&self, tenant: &TenantId, hash: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::one_time_token(tenant, hash).to_attributes()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Activates a pending customer in one transaction: consumes the token,
    /// marks profile and guard `ACTIVE` (setting the password on both when one
    /// was chosen), and retires the pending token. The profile must still be
    /// `PENDING` with this very token as its current activation token.
    pub async fn activate_customer(
        &self,
        tenant: &TenantId,
        activation: Activation<'_>,
    ) -> Result<TokenChangeOutcome, StoreError> {
        let consume =
            self.consume_one_time_token_item(tenant, activation.token_hash, TokenPurpose::Activation, activation.now)?;
        let mut profile_set = vec!["#status = :active", "modifiedAt = :now", "#version = #version + :one"];
        let mut guard_set = vec!["#status = :active"];
        if activation.password_hash.is_some() {
            profile_set.extend(["passwordHash = :hash", "initialPassword = :false"]);
            guard_set.extend(["passwordHash = :hash", "initialPassword = :false"]);
        }
        let mut profile = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, activation.customer).to_attributes()))
            .update_expression(format!("SET {} REMOVE #pt.#purpose", profile_set.join(", ")))
            .condition_expression("#status = :pending AND #pt.#purpose = :token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#pt", "pendingTokens")
            .expression_attribute_names("#purpose", TokenPurpose::Activation.as_str())
            .expression_attribute_values(":active", status_value(CustomerStatus::Active))
            .expression_attribute_values(":pending", status_value(CustomerStatus::Pending))
            .expression_attribute_values(":token", s(activation.token_hash))
            .expression_attribute_values(":now", s(crate::clock::rfc3339(activation.now)))
            .expression_attribute_values(":one", n(1));
        let mut guard = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::email_guard(tenant, activation.normalized_email).to_attributes()))
            .update_expression(format!("SET {}", guard_set.join(", ")))
            .condition_expression("customerId = :id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", status_value(CustomerStatus::Active))
            .expression_attribute_values(":id", s(activation.customer.as_str()));
        if let Some(hash) = activation.password_hash {
            for (name, value) in [(":hash", s(hash)), (":false", AttributeValue::Bool(false))] {
                profile = profile.expression_attribute_values(name, value.clone());
                guard = guard.expression_attribute_values(name, value);
            }
        }
        let items = vec![
            consume,
            TransactWriteItem::builder().update(profile.build()?).build(),
            TransactWriteItem::builder().update(guard.build()?).build(),
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => TokenChangeOutcome::Done,
            Err(_) => TokenChangeOutcome::TokenRejected,
        })
    }

    /// Swaps the login e-mail in one transaction: consumes the key, puts the
    /// new guard (only if nobody holds that address), deletes the old guard
    /// (only if it is still this customer's) and updates the profile (only if
    /// its e-mail, pending key, status and password are still the ones read). If the new address
    /// was taken meanwhile nothing changes and the key stays usable.
    pub async fn swap_email(&self, tenant: &TenantId, swap: EmailSwap<'_>) -> Result<TokenChangeOutcome, StoreError> {
        let profile = swap.profile;
        let id = CustomerId::parse(&profile.id).map_err(|_| StoreError::Invalid("customer id".into()))?;
        let old_email = Email::parse(&profile.email).map_err(|_| StoreError::Invalid("e-mail".into()))?;
        let consume = self.consume_one_time_token_item(tenant, swap.key_hash, TokenPurpose::EmailChange, swap.now)?;
        let new_guard = EmailGuard { email: swap.new_email.to_string(), ..EmailGuard::of(profile) };
        let put_guard = put_new(&self.table, &ItemKey::email_guard(tenant, &swap.new_email.normalized()), &new_guard)?;
        let delete_old = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::email_guard(tenant, &old_email.normalized()).to_attributes()))
            .condition_expression("customerId = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .build()?;
        let mut set = vec!["#email = :new", "modifiedAt = :now", "#version = #version + :one"];
        if swap.sync_contact_email {
            set.push("#details.contactEmail = :new");
        }
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, &id).to_attributes()))
            .update_expression(format!("SET {} REMOVE #pt.#purpose", set.join(", ")))
            .expression_attribute_names("#email", "email")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#pt", "pendingTokens")
            .expression_attribute_names("#purpose", TokenPurpose::EmailChange.as_str())
            .expression_attribute_values(":new", s(swap.new_email.as_str()))
            .expression_attribute_values(":old", s(&profile.email))
            .expression_attribute_values(":key", s(swap.key_hash))
            .expression_attribute_values(":now", s(crate::clock::rfc3339(swap.now)))
            .expression_attribute_values(":one", n(1));
        if swap.sync_contact_email {
            update = update.expression_attribute_names("#details", "details");
        }
        // The new guard copies status and password from the profile as read:
        // a password change in between must cancel the swap, not be undone by it.
        let mut condition = "#email = :old AND #pt.#purpose = :key AND #status = :status".to_owned();
        update = update
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", status_value(profile.status));
        match &profile.password_hash {
            Some(hash) => {
                condition.push_str(" AND passwordHash = :password");
                update = update.expression_attribute_values(":password", s(hash));
            }
            None => condition.push_str(" AND attribute_not_exists(passwordHash)"),
        }
        update = update.condition_expression(condition);
        let items = vec![
            consume,
            put_guard,
            TransactWriteItem::builder().delete(delete_old).build(),
            TransactWriteItem::builder().update(update.build()?).build(),
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => TokenChangeOutcome::Done,
            // The key is checked first: a spent key says nothing about the address.
            Err(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                TokenChangeOutcome::TokenRejected
            }
            Err(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => TokenChangeOutcome::EmailTaken,
            Err(_) => TokenChangeOutcome::TokenRejected,
        })
    }
}
