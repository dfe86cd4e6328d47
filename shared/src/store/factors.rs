//! The authenticator (TOTP) of a customer and its recovery codes: one item
//! in the customer's partition (`FACTOR#TOTP`), so deleting the account
//! deletes it. The shared secret must be readable to check a code, so it is
//! stored as is (the table is encrypted at rest); recovery codes are stored
//! only as hashes. An enrolment not confirmed within `ENROLMENT_TTL_SECS`
//! expires. A code is accepted once: the item keeps the last time step
//! used, and a conditional write refuses that step or an earlier one.
//!
//! Second-factor challenges (a password that was right, waiting for the
//! code) are items of their own, by hash, like one-time tokens.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Write, n, s, to_item};
use crate::domain::{CustomerId, SessionId, TenantId};
use crate::table_keys::ItemKey;

/// An enrolment waits this long for its first code.
pub const ENROLMENT_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpRecord {
    /// The shared secret, base32 (RFC 4648, no padding), as the authenticator has it.
    pub secret: String,
    /// False while the enrolment waits for its first code.
    pub enabled: bool,
    /// The last time step a code was accepted for (replays of it are refused).
    #[serde(default)]
    pub last_step: u64,
    /// SHA-256 hashes of the unused recovery codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

/// A password (or an e-mail code) that was right, waiting for the second
/// factor: bound to the storefront session that asked, the account and its
/// credential epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeRecord {
    pub customer_id: CustomerId,
    pub epoch: u64,
    pub session_id: SessionId,
    pub family: String,
    /// The known device the password came from (its hash): the guesses
    /// spend from that device's budget, as the password did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The factors that complete it (`totp`, `recovery_code`, `email_code`).
    pub methods: Vec<String>,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Store {
    /// Starts (or restarts) an enrolment: refused (`false`) while an
    /// authenticator is enabled.
    pub async fn put_totp_enrolment(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        record: &TotpRecord,
    ) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        let item = to_item(&ItemKey::totp(tenant, customer), record)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR enabled = :false")
            .expression_attribute_values(":false", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Ok(false)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The customer's authenticator, enrolled or waiting (strongly
    /// consistent; an expired enrolment is absent). A Query for its one
    /// key: the profile function reads only with Query (its role has no GetItem).
    pub async fn get_totp(&self, tenant: &TenantId, customer: &CustomerId) -> Result<Option<TotpRecord>, StoreError> {
        let key = ItemKey::totp(tenant, customer);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK = :sk")
            .expression_attribute_values(":pk", s(&key.pk))
            .expression_attribute_values(":sk", s(&key.sk))
            .consistent_read(true);
        let now = crate::clock::now_epoch();
        let item = self.query_all(query).await?.into_iter().find(|item| !super::is_expired(item, now));
        item.map(super::from_item).transpose()
    }

    /// A transaction item that enables the waiting enrolment with its first
    /// step and the recovery codes' hashes (it goes with the credential change).
    pub fn enable_totp_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        secret: &str,
        step: u64,
        recovery_hashes: &[String],
    ) -> Result<Write, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::totp(tenant, customer).to_attributes()))
            .update_expression("SET enabled = :true, lastStep = :step, recoveryCodes = :codes REMOVE #ttl")
            .condition_expression("enabled = :false AND secret = :secret")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .expression_attribute_values(":false", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":secret", s(secret))
            .expression_attribute_values(":codes", serde_dynamo::to_attribute_value(recovery_hashes)?)
            .build()?;
        Ok(Write(TransactWriteItem::builder().update(update).build()))
    }

    /// A transaction item removing the authenticator (disabling it).
    pub fn delete_totp_item(&self, tenant: &TenantId, customer: &CustomerId) -> Result<Write, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::totp(tenant, customer).to_attributes()))
            .condition_expression("enabled = :true")
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .build()?;
        Ok(Write(TransactWriteItem::builder().delete(delete).build()))
    }

    /// Accepts a code of time step `step` once: `false` when that step or a
    /// later one was used already (a replay), or the authenticator is gone.
    pub async fn use_totp_step(&self, tenant: &TenantId, customer: &CustomerId, step: u64) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::totp(tenant, customer).to_attributes()))
            .update_expression("SET lastStep = :step")
            .condition_expression("enabled = :true AND lastStep < :step")
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .expression_attribute_values(":step", n(step));
        Ok(self.conditional_update(update).await?.is_ok())
    }

    /// Spends the recovery code at `index` of the list as read, if it is
    /// still `hash` there: each works once, also in parallel.
    pub async fn use_recovery_code(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        index: usize,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::totp(tenant, customer).to_attributes()))
            .update_expression(format!("REMOVE recoveryCodes[{index}]"))
            .condition_expression(format!("enabled = :true AND recoveryCodes[{index}] = :hash"))
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .expression_attribute_values(":hash", s(hash));
        Ok(self.conditional_update(update).await?.is_ok())
    }

    /// Stores a new challenge under `hash`.
    pub async fn put_challenge(
        &self,
        tenant: &TenantId,
        hash: &str,
        record: &ChallengeRecord,
    ) -> Result<(), StoreError> {
        self.put(&ItemKey::challenge(tenant, hash), record).await
    }

    /// The live challenge under `hash`.
    pub async fn get_challenge(&self, tenant: &TenantId, hash: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        let now = crate::clock::now_epoch();
        Ok(self.get::<ChallengeRecord>(&ItemKey::challenge(tenant, hash)).await?.filter(|c| c.expires_at > now))
    }

    /// Spends a challenge: `false` when another request spent it first.
    pub async fn spend_challenge(&self, tenant: &TenantId, hash: &str) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::challenge(tenant, hash).to_attributes()))
            .condition_expression("attribute_exists(PK)")
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
}
