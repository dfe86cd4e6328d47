//! Counters in fixed windows: per-source and per-tenant request limits and
//! the mail cap per address. Taking from a counter is atomic under parallel
//! calls, so a limit is never exceeded.

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use serde::Deserialize;

use super::{Store, StoreError, from_item, n};
use crate::domain::TenantId;
use crate::table_keys::ItemKey;

/// What a counter allows: at most `limit` in any window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub limit: u32,
    pub window_secs: i64,
}

/// The answer of `take`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Granted,
    /// Used up: the window ends in this many seconds.
    Exhausted {
        retry_after_secs: u64,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Counter {
    window_start: i64,
    count: u32,
}

impl Store {
    /// Takes one from the counter `name`, unless `allowance` is used up.
    pub async fn take(
        &self,
        tenant: &TenantId,
        name: &str,
        allowance: Allowance,
        now: i64,
    ) -> Result<Taken, StoreError> {
        if allowance.limit == 0 {
            return Ok(Taken::Exhausted { retry_after_secs: allowance.window_secs.max(1) as u64 });
        }
        let key = ItemKey::limit(tenant, name).to_attributes();
        let floor = now - allowance.window_secs;
        // A fresh window when there is none or the last one is over...
        let fresh = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .update_expression("SET windowStart = :now, #count = :one, #ttl = :ttl")
            .condition_expression("attribute_not_exists(windowStart) OR windowStart <= :floor")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":floor", n(floor))
            .expression_attribute_values(":ttl", n(now + allowance.window_secs));
        if self.conditional_update(fresh).await?.is_ok() {
            return Ok(Taken::Granted);
        }
        // ...else one more in the current window, while under the limit.
        let more = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD #count :one")
            .condition_expression("windowStart > :floor AND #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":floor", n(floor))
            .expression_attribute_values(":limit", n(allowance.limit))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match self.conditional_update(more).await? {
            Ok(_) => Ok(Taken::Granted),
            Err(old) => {
                let counter: Counter = old.map(from_item).transpose()?.unwrap_or_default();
                let ends = counter.window_start + allowance.window_secs;
                Ok(Taken::Exhausted { retry_after_secs: (ends - now).max(1) as u64 })
            }
        }
    }

    /// The longest wait among `counters` that are used up (one read for all),
    /// without taking from any: for limits that count failures only.
    pub async fn exhausted(
        &self,
        tenant: &TenantId,
        counters: &[(String, Allowance)],
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        if counters.is_empty() {
            return Ok(None);
        }
        let keys: Vec<ItemKey> = counters.iter().map(|(name, _)| ItemKey::limit(tenant, name)).collect();
        let mut found = self.get_many(&keys).await?;
        let mut wait = None;
        for (key, (_, allowance)) in keys.iter().zip(counters) {
            if let Some(item) = found.remove(key) {
                let counter: Counter = from_item(item)?;
                wait = wait.max(exhausted(&counter, *allowance, now));
            }
        }
        Ok(wait)
    }
}

/// `Some(retry_after)` when `counter` has no room left in its window.
pub(super) fn exhausted(counter: &Counter, allowance: Allowance, now: i64) -> Option<u64> {
    let ends = counter.window_start + allowance.window_secs;
    (ends > now && counter.count >= allowance.limit).then(|| (ends - now) as u64)
}
