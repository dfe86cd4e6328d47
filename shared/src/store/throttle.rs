//! Login budgets: how many password checks an account may still have.
//!
//! However many requests arrive at once, at most the budget may learn an
//! answer. Two ways keep that:
//! - **Reserve, then verify** (password re-checks, second-factor codes): an
//!   attempt is reserved with a conditional write *before* the secret is
//!   checked, so at most the budget is even checked.
//! - **Verify, then count** (password login): the password is checked
//!   first; a wrong one then takes its attempt with the same conditional
//!   write, and is answered 429, not 401, when the budget has none left; a
//!   right one reads the budget consistently (`check_login_budget`) and is
//!   answered 429 too when it is spent or locked. So an answer is only ever
//!   given within the budget, and a login that goes well writes nothing
//!   here — its one read is cheaper than a write.
//!
//! A failed attempt stays spent (for a day); a successful login clears what
//! others left. A reservation that nobody settles lapses after
//! `RESERVATION_SECS` by itself.

use aws_sdk_dynamodb::types::{Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Write, from_item, n};
use crate::domain::{CustomerId, TenantId};
use crate::table_keys::ItemKey;
use crate::tenant::TenantSettings;

/// Whose budget an attempt spends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginBudget {
    /// An existing account: logins by e-mail and by id, and the password
    /// re-checks of signed-in customers, all spend from this one.
    Account(CustomerId),
    /// An account on a device that logged in to it before (a device token):
    /// failures elsewhere do not hold this device back.
    Device { customer: CustomerId, device: String },
    /// An identifier no account has (`email:…` or `id:…`): throttled the
    /// same way, so the answers do not tell the two apart.
    Unknown(String),
}

impl LoginBudget {
    fn key(&self, tenant: &TenantId) -> ItemKey {
        let subject = match self {
            Self::Account(customer) => format!("acct:{customer}"),
            Self::Device { customer, device } => format!("acct:{customer}:device:{device}"),
            Self::Unknown(subject) => subject.clone(),
        };
        ItemKey::throttle(tenant, &subject)
    }
}

/// The stored budget. `attempts` counts reserved attempts (a failure stays
/// counted); `allowance` is how many may be reserved before the next lock
/// ends; `lockedUntil` holds every attempt off until then.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThrottleRecord {
    pub attempts: u32,
    pub allowance: u32,
    pub locked_until: i64,
    pub ttl: i64,
}

/// The outcome of asking for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Verify the password; `attempt` is this attempt's number in the budget.
    Granted { attempt: u32, allowance: u32 },
    /// Answer 429 with this `Retry-After`.
    Refused { retry_after_secs: u64 },
}

/// What a right password finds in its budget (`check_login_budget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetCheck {
    /// The login may go on; `others` says attempts of others are in the
    /// budget (failures, or checks still running), to clear on success.
    Open { others: bool },
    /// Answer 429 with this `Retry-After`, as a refused reservation would.
    Refused { retry_after_secs: u64 },
}

/// A budget with a failure in it is forgotten a day after its last failure.
const FORGET_AFTER_SECS: i64 = 86_400;

/// A reservation lasts this long unless a failure makes it stay: far longer
/// than a password check takes (the login function's timeout is shorter).
pub const RESERVATION_SECS: i64 = 30;

impl Store {
    /// Reserves one attempt from `budget`, atomically: of any number of
    /// parallel callers, at most the remaining allowance get `Granted`.
    pub async fn reserve_login_attempt(
        &self,
        tenant: &TenantId,
        budget: &LoginBudget,
        settings: &TenantSettings,
        now: i64,
    ) -> Result<Reservation, StoreError> {
        let key = budget.key(tenant).to_attributes();
        let threshold = settings.lockout_threshold.max(1);
        // No budget yet, or one forgotten (expired, not yet deleted): start one.
        let fresh = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .update_expression("SET attempts = :one, allowance = :threshold, lockedUntil = :zero, #ttl = :ttl")
            .condition_expression("attribute_not_exists(attempts) OR #ttl <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":threshold", n(threshold))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":ttl", n(now + RESERVATION_SECS));
        if self.conditional_update(fresh).await?.is_ok() {
            return Ok(Reservation::Granted { attempt: 1, allowance: threshold });
        }
        // Else one more, while the allowance lasts and no lock holds.
        let more = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD attempts :one")
            .condition_expression("attempts < allowance AND lockedUntil <= :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match self.conditional_update(more).await? {
            Ok(new) => {
                let record: ThrottleRecord = from_item(new)?;
                Ok(Reservation::Granted { attempt: record.attempts, allowance: record.allowance })
            }
            Err(old) => {
                let record: ThrottleRecord = old.map(from_item).transpose()?.unwrap_or_default();
                // Locked: until the lock ends. Else the allowance is out in
                // attempts still being verified: they settle within a second.
                let wait = if record.locked_until > now { record.locked_until - now } else { 1 };
                Ok(Reservation::Refused { retry_after_secs: wait as u64 })
            }
        }
    }

    /// Whether a login whose password was right may be answered: the
    /// budget read consistently, after the verify. A lock, or an allowance
    /// used up by failures (or by checks still running) refuses it, exactly
    /// where a reservation would have been refused.
    pub async fn check_login_budget(
        &self,
        tenant: &TenantId,
        budget: &LoginBudget,
        now: i64,
    ) -> Result<BudgetCheck, StoreError> {
        let record: Option<ThrottleRecord> = self.get(&budget.key(tenant)).await?;
        Ok(match record {
            None => BudgetCheck::Open { others: false },
            Some(r) if r.locked_until > now => BudgetCheck::Refused { retry_after_secs: (r.locked_until - now) as u64 },
            // The allowance is out in attempts still being verified: they settle within a second.
            Some(r) if r.attempts >= r.allowance => BudgetCheck::Refused { retry_after_secs: 1 },
            Some(_) => BudgetCheck::Open { others: true },
        })
    }

    /// A reserved attempt failed. It stays counted for a day; the last one
    /// of the allowance locks the budget (for longer with each lock) and
    /// allows one more attempt after the lock. Returns the lock's end, if it locked.
    pub async fn settle_failed_attempt(
        &self,
        tenant: &TenantId,
        budget: &LoginBudget,
        reservation: Reservation,
        settings: &TenantSettings,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let Reservation::Granted { attempt, allowance } = reservation else { return Ok(None) };
        let mut settle = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(budget.key(tenant).to_attributes()))
            // Cleared meanwhile by a successful login or a reset: nothing to count.
            .condition_expression("attribute_exists(attempts)")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":ttl", n(now + FORGET_AFTER_SECS));
        let until =
            (attempt >= allowance).then(|| now + settings.lock_duration(attempt).unwrap_or(settings.lockout_base_secs));
        settle = match until {
            Some(until) => settle
                .update_expression("SET lockedUntil = :until, allowance = :next, #ttl = :ttl")
                .expression_attribute_values(":until", n(until))
                .expression_attribute_values(":next", n(attempt + 1)),
            None => settle.update_expression("SET #ttl = :ttl"),
        };
        Ok(self.conditional_update(settle).await?.ok().and(until))
    }

    /// Whether a successful login has anything to clear: attempts of others
    /// (failures, or reservations still running) beside its own.
    pub fn budget_needs_clearing(reservation: Reservation) -> bool {
        matches!(reservation, Reservation::Granted { attempt, .. } if attempt > 1)
    }

    /// A transaction item clearing a budget (a successful login, a completed reset).
    pub fn clear_budget_item(&self, tenant: &TenantId, budget: &LoginBudget) -> Result<Write, StoreError> {
        let delete =
            Delete::builder().table_name(&self.table).set_key(Some(budget.key(tenant).to_attributes())).build()?;
        Ok(Write(TransactWriteItem::builder().delete(delete).build()))
    }

    /// Clears a budget on its own (a correct password on an account that may not log in yet).
    pub async fn clear_budget(&self, tenant: &TenantId, budget: &LoginBudget) -> Result<(), StoreError> {
        self.delete_keys(&[budget.key(tenant)]).await
    }

    /// The stored budget (for tests and the operator).
    pub async fn login_budget(
        &self,
        tenant: &TenantId,
        budget: &LoginBudget,
    ) -> Result<Option<ThrottleRecord>, StoreError> {
        self.get(&budget.key(tenant)).await
    }
}
