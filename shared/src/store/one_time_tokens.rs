//! One-time tokens (activation secrets, e-mail change keys, reset tokens):
//! stored only by hash, with an expiry, consumed by a conditional delete so
//! each works exactly once, even under parallel requests. A customer has at
//! most one live token per purpose: issuing one deletes the one before
//! (`pendingTokens` on the profile names them).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Write, epoch_condition, n, put_new, s};
use crate::customer::{CustomerRecord, CustomerStatus};
use crate::domain::{CustomerId, Email, TenantId};
use crate::table_keys::ItemKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenPurpose {
    Activation,
    EmailChange,
    PasswordReset,
    /// Linking a provider identity to the account, once its owner proves control.
    SocialLink,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "ACTIVATION",
            Self::EmailChange => "EMAIL_CHANGE",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::SocialLink => "SOCIAL_LINK",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeTokenRecord {
    pub purpose: TokenPurpose,
    pub customer_id: CustomerId,
    /// E-mail change: the address to switch to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<Email>,
    /// E-mail change: whether `contactEmail` follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_contact_email: Option<bool>,
    /// The customer's credential epoch when issued: redeemable only while it holds.
    #[serde(default)]
    pub epoch: u64,
    /// Activation links that did not come from the sign-up itself (resend):
    /// whoever opens them must choose the password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_password: bool,
    /// Social link: the provider identity waiting for the owner's consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<crate::customer::SocialLink>,
    pub created_at: i64,
    pub expires_at: i64,
    pub ttl: i64,
}

impl OneTimeTokenRecord {
    /// A token for `purpose`, valid `ttl_secs` from `now`, under the profile's current epoch.
    pub fn new(purpose: TokenPurpose, customer: &CustomerRecord, ttl_secs: i64, now: i64) -> Self {
        Self {
            purpose,
            customer_id: customer.id.clone(),
            new_email: None,
            sync_contact_email: None,
            epoch: customer.epoch,
            requires_password: false,
            link: None,
            created_at: now,
            expires_at: now + ttl_secs,
            ttl: now + ttl_secs,
        }
    }

    /// Whether this token may still be redeemed against `profile` as it is now.
    pub fn holds_for(&self, profile: &CustomerRecord) -> bool {
        self.customer_id == profile.id && self.epoch == profile.epoch
    }
}

impl Store {
    /// A transaction item storing a new token under `hash` (a new account's first token).
    pub fn put_one_time_token_item(
        &self,
        tenant: &TenantId,
        hash: &str,
        record: &OneTimeTokenRecord,
    ) -> Result<Write, StoreError> {
        put_new(&self.table, &ItemKey::one_time_token(tenant, hash), record).map(Write)
    }

    /// Issues `record` under `hash` as the customer's one live token of its
    /// purpose: stores it, points the profile at it and deletes the token it
    /// replaces, all or nothing. Conditioned on the profile as read (`profile`:
    /// the pointer, the epoch and, with `require_pending`, the status), so of
    /// parallel requests exactly one wins and no token is issued under an
    /// epoch that has moved on. `Ok(false)`: the profile changed meanwhile.
    pub async fn issue_one_time_token(
        &self,
        tenant: &TenantId,
        profile: &CustomerRecord,
        hash: &str,
        record: &OneTimeTokenRecord,
        require_pending: bool,
    ) -> Result<bool, StoreError> {
        let id = &profile.id;
        let purpose = record.purpose.as_str();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, id).to_attributes()))
            .expression_attribute_names("#pt", "pendingTokens")
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_values(":epoch", n(profile.epoch));
        let mut conditions = vec!["attribute_exists(PK)".to_owned(), epoch_condition(profile.epoch).to_owned()];
        let previous = profile.pending_tokens.get(purpose);
        if profile.pending_tokens.is_empty() {
            // The map may not exist (no token ever) or be empty: write it whole.
            update = update
                .update_expression("SET #pt = :tokens")
                .expression_attribute_values(
                    ":tokens",
                    AttributeValue::M(HashMap::from([(purpose.to_owned(), s(hash))])),
                )
                .expression_attribute_values(":zero", n(0));
            conditions.push("(attribute_not_exists(#pt) OR size(#pt) = :zero)".into());
        } else {
            update = update
                .update_expression("SET #pt.#purpose = :hash")
                .expression_attribute_names("#purpose", purpose)
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
        if require_pending {
            conditions.push("#status = :pending".into());
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pending", super::credentials::status_value(CustomerStatus::Pending));
        }
        let update = update.condition_expression(conditions.join(" AND ")).build()?;
        let mut items = vec![
            put_new(&self.table, &ItemKey::one_time_token(tenant, hash), record)?,
            TransactWriteItem::builder().update(update).build(),
        ];
        if let Some(old) = previous.filter(|old| *old != hash) {
            items.push(self.delete_one_time_token_item(tenant, old)?);
        }
        Ok(self.transact(items).await?.is_ok())
    }

    /// A transaction item deleting a token that may already be gone.
    pub(crate) fn delete_one_time_token_item(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::one_time_token(tenant, hash).to_attributes()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    pub async fn get_one_time_token(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<OneTimeTokenRecord>, StoreError> {
        let now = crate::clock::now_epoch();
        Ok(self.get::<OneTimeTokenRecord>(&ItemKey::one_time_token(tenant, hash)).await?.filter(|t| t.expires_at > now))
    }

    /// A transaction item that deletes the token only if it exists, has this
    /// purpose and has not expired: the transaction fails otherwise.
    pub fn consume_one_time_token_item(
        &self,
        tenant: &TenantId,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Write, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::one_time_token(tenant, hash).to_attributes()))
            .condition_expression("attribute_exists(PK) AND purpose = :purpose AND expiresAt > :now")
            .expression_attribute_values(":purpose", s(purpose.as_str()))
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None)
            .build()?;
        Ok(Write(TransactWriteItem::builder().delete(delete).build()))
    }
}
