//! One-time tokens (activation secrets, e-mail change keys, reset tokens):
//! stored only by hash, with an expiry, consumed by a conditional delete so
//! each works exactly once, even under parallel requests.

use aws_sdk_dynamodb::types::{Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, n, put_new, s};
use crate::domain::TenantId;
use crate::table_keys::ItemKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenPurpose {
    Activation,
    EmailChange,
    PasswordReset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "ACTIVATION",
            Self::EmailChange => "EMAIL_CHANGE",
            Self::PasswordReset => "PASSWORD_RESET",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeTokenRecord {
    pub purpose: TokenPurpose,
    pub customer_id: String,
    /// E-mail change: the address to switch to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    /// E-mail change: whether `contactEmail` follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_contact_email: Option<bool>,
    pub created_at: i64,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Store {
    /// A transaction item storing a new token under `hash`.
    pub fn put_one_time_token_item(
        &self,
        tenant: &TenantId,
        hash: &str,
        record: &OneTimeTokenRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        put_new(&self.table, &ItemKey::one_time_token(tenant, hash), record)
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
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::one_time_token(tenant, hash).to_attributes()))
            .condition_expression("attribute_exists(PK) AND purpose = :purpose AND expiresAt > :now")
            .expression_attribute_values(":purpose", s(purpose.as_str()))
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None)
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Consumes a token on its own; `None` when it was unknown, used, expired
    /// or for another purpose.
    pub async fn consume_one_time_token(
        &self,
        tenant: &TenantId,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<OneTimeTokenRecord>, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::one_time_token(tenant, hash).to_attributes()))
            .condition_expression("attribute_exists(PK) AND purpose = :purpose AND expiresAt > :now")
            .expression_attribute_values(":purpose", s(purpose.as_str()))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.attributes.map(super::from_item).transpose()?),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes a token by hash, if present (e.g. replaced by a newer one).
    pub async fn delete_one_time_token(&self, tenant: &TenantId, hash: &str) -> Result<(), StoreError> {
        self.delete_keys(&[ItemKey::one_time_token(tenant, hash)]).await
    }
}
