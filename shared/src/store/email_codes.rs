//! E-mail sign-in codes: six digits mailed to the account's address. A code
//! has a million values, so it cannot be found by its hash the way a
//! 256-bit secret is (`one_time_tokens`): it lives in the customer's
//! partition, one per customer (a new one replaces the old), and a guess is
//! an attempt reserved with a conditional write before it is compared, so
//! however many arrive at once, at most `EMAIL_CODE_ATTEMPTS` are compared.
//! Spending it is a conditional delete: a code signs in once.

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, from_item, n, s};
use crate::domain::{CustomerId, TenantId};
use crate::table_keys::ItemKey;

/// Guesses a code allows; the last wrong one burns it.
pub const EMAIL_CODE_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailCodeRecord {
    /// SHA-256 of the salt and the code (see `services::email_code`).
    pub code_hash: String,
    pub salt: String,
    /// The credential epoch it was issued under: it signs in only while that holds.
    pub epoch: u64,
    /// Guesses reserved so far (the right one included).
    #[serde(default)]
    pub attempts: u32,
    pub created_at: i64,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Store {
    /// Stores `record` as the customer's one code, replacing (and so
    /// retiring) any earlier one.
    pub async fn put_email_code(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        record: &EmailCodeRecord,
    ) -> Result<(), StoreError> {
        self.put(&ItemKey::email_code(tenant, customer), record).await
    }

    /// Reserves one guess at the customer's code: the code as stored (with
    /// this guess counted) while it is unexpired and has guesses left;
    /// `None` when there is none, it expired, or it is burnt.
    pub async fn reserve_email_code_attempt(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        now: i64,
    ) -> Result<Option<EmailCodeRecord>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::email_code(tenant, customer).to_attributes()))
            .update_expression("ADD attempts :one")
            .condition_expression("attribute_exists(PK) AND attempts < :max AND expiresAt > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(EMAIL_CODE_ATTEMPTS))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::None);
        match self.conditional_update(update).await? {
            Ok(item) => Ok(Some(from_item(item)?)),
            Err(_) => Ok(None),
        }
    }

    /// Spends the code whose hash is `code_hash`: `false` when it was spent
    /// already or replaced by a newer one meanwhile.
    pub async fn spend_email_code(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        code_hash: &str,
    ) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::email_code(tenant, customer).to_attributes()))
            .condition_expression("codeHash = :hash")
            .expression_attribute_values(":hash", s(code_hash))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.as_service_error(), Some(DeleteItemError::ConditionalCheckFailedException(_))) => {
                Ok(false)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The stored code (for tests).
    pub async fn email_code(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<EmailCodeRecord>, StoreError> {
        self.get(&ItemKey::email_code(tenant, customer)).await
    }
}
