use aws_sdk_dynamodb::types::{Delete, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, from_item, n};
use crate::domain::{CustomerId, TenantId};
use crate::table_keys::ItemKey;
use crate::tenant::TenantSettings;

/// Consecutive login failures for one subject (an e-mail or id, whether or
/// not an account has it, so throttling reveals nothing).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleRecord {
    #[serde(default)]
    pub failures: u32,
    #[serde(default)]
    pub locked_until: i64,
    #[serde(default)]
    pub ttl: i64,
}

/// Failure counters are forgotten a day after the last failure.
const FORGET_AFTER_SECS: i64 = 86_400;

impl Store {
    /// Counts one more failure (atomically) and, at the threshold, locks.
    pub async fn record_login_failure(
        &self,
        tenant: &TenantId,
        subject: &str,
        settings: &TenantSettings,
        now: i64,
    ) -> Result<ThrottleRecord, StoreError> {
        let key = ItemKey::throttle(tenant, subject);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .update_expression("ADD failures :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(now + FORGET_AFTER_SECS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        let mut record: ThrottleRecord = from_item(out.attributes.unwrap_or_default())?;
        if let Some(lock) = settings.lock_duration(record.failures) {
            record.locked_until = now + lock;
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.to_attributes()))
                .update_expression("SET lockedUntil = :until")
                .expression_attribute_values(":until", n(record.locked_until))
                .send()
                .await?;
        }
        Ok(record)
    }

    /// A transaction item clearing the counter after a successful login.
    pub fn reset_throttle_item(&self, tenant: &TenantId, subject: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::throttle(tenant, subject).to_attributes()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

impl Store {
    /// Takes one mail from a customer's allowance of `limit` per `window_secs`
    /// for `purpose`; `false` when it is used up. Atomic under parallel calls.
    pub async fn take_mail_quota(
        &self,
        tenant: &TenantId,
        purpose: &str,
        customer: &CustomerId,
        limit: u32,
        window_secs: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let key = ItemKey::mail_quota(tenant, purpose, customer).to_attributes();
        // A fresh window when there is none or the last one is over...
        let fresh = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .update_expression("SET windowStart = :now, sent = :one, #ttl = :ttl")
            .condition_expression("attribute_not_exists(windowStart) OR windowStart <= :floor")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":floor", n(now - window_secs))
            .expression_attribute_values(":ttl", n(now + window_secs))
            .send()
            .await;
        match fresh {
            Ok(_) => return Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(err) => return Err(err.into()),
        }
        // ...else one more in the current window, while under the limit.
        let more = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD sent :one")
            .condition_expression("windowStart > :floor AND sent < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":floor", n(now - window_secs))
            .expression_attribute_values(":limit", n(limit))
            .send()
            .await;
        match more {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}
