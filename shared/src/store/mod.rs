//! The DynamoDB adapter: the only place that talks to the table. Uniqueness
//! and concurrency are condition expressions and transactions, never
//! read-then-write.

mod addresses;
mod credentials;
mod customer_read;
mod customers;
mod email_codes;
mod factors;
mod limits;
mod moltin_tokens;
mod one_time_tokens;
mod passkeys;
pub mod profile;
mod schema;
mod sessions;
mod social;
mod tenants;
mod throttle;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use addresses::{DefaultChange, DeleteOutcome, DeletePlan, InsertOutcome, WriteOutcome};
pub use credentials::{CommitOutcome, CredentialChange, CredentialCommit};
pub use customer_read::{Beside, CustomerRead};
pub use customers::{CreateCustomerOutcome, IdentityFinding, LoginLookup, LoginTarget, StoredIdentity};
pub use email_codes::{EMAIL_CODE_ATTEMPTS, EmailCodeRecord};
pub use factors::{ChallengeRecord, ENROLMENT_TTL_SECS, TotpRecord};
pub use limits::{Allowance, Taken};
pub use moltin_tokens::MoltinTokenRecord;
pub use one_time_tokens::{OneTimeTokenRecord, TokenPurpose};
pub use passkeys::{PasskeyCeremony, PasskeyChallengeRecord, PasskeyRecord};
pub use sessions::{RefreshToken, Rotation, SessionRecord};
pub use social::SocialLinkRecord;
pub use throttle::{BudgetCheck, LoginBudget, Reservation, ThrottleRecord};

use crate::table_keys::{ItemKey, PK, TTL};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("dynamodb: {0}")]
    Dynamo(String),
    /// DynamoDB did not answer in time, could not be reached, throttled us
    /// past our retries, or failed on its side: the request may succeed soon.
    #[error("dynamodb unavailable: {0}")]
    Unavailable(String),
    #[error("item mapping: {0}")]
    Mapping(#[from] serde_dynamo::Error),
    #[error("invalid record: {0}")]
    Invalid(String),
    #[error("request building: {0}")]
    Build(#[from] aws_sdk_dynamodb::error::BuildError),
}

/// What the API answers for a store failure: 503 with `Retry-After` when it
/// may pass soon, else a 500 (the cause is logged, never sent).
impl From<StoreError> for crate::error::ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(cause) => Self::Unavailable { cause, retry_after_secs: 2 },
            err => Self::Internal(format!("{err:#}")),
        }
    }
}

impl<E> From<SdkError<E, HttpResponse>> for StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        // The context chain names the failing condition or validation message.
        let described = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
        // Timeouts, connection failures, throttling past our retries and
        // DynamoDB's own 5xx may pass soon (503); anything else is ours.
        let transient = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                service.raw().status().is_server_error()
                    || matches!(
                        service.err().code(),
                        Some(
                            "ProvisionedThroughputExceededException"
                                | "RequestLimitExceeded"
                                | "ThrottlingException"
                                | "InternalServerError"
                                | "ServiceUnavailable"
                        )
                    )
            }
            _ => false,
        };
        if transient { Self::Unavailable(described) } else { Self::Dynamo(described) }
    }
}

/// One write that has to go with another in the same transaction (a sign-up
/// with its activation token, a login with its cleared lock-out), made by
/// a store function and handed back to one; opaque above the store.
pub struct Write(pub(crate) TransactWriteItem);

/// The writes that go with a store operation, as the items of its transaction.
fn items_of(writes: Vec<Write>) -> impl Iterator<Item = TransactWriteItem> {
    writes.into_iter().map(|write| write.0)
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A strongly consistent read of one item, treating expired items as absent
    /// (DynamoDB deletes expired items lazily, DynamoDB Local unreliably).
    pub async fn get<T: DeserializeOwned>(&self, key: &ItemKey) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.to_attributes()))
            .consistent_read(true)
            .send()
            .await?;
        match out.item {
            Some(item) if !is_expired(&item, crate::clock::now_epoch()) => Ok(Some(serde_dynamo::from_item(item)?)),
            _ => Ok(None),
        }
    }

    /// Writes one item, replacing whatever was under its key.
    pub(crate) async fn put<T: Serialize>(&self, key: &ItemKey, record: &T) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(to_item(key, record)?)).send().await?;
        Ok(())
    }

    /// Writes one item unless one is under its key; `false` when one was.
    pub(crate) async fn put_if_absent<T: Serialize>(&self, key: &ItemKey, record: &T) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(key, record)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Ok(false)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Reads several items in one round trip (strongly consistent); expired
    /// items are left out. Returns items by key.
    pub async fn get_many(&self, keys: &[ItemKey]) -> Result<HashMap<ItemKey, Item>, StoreError> {
        self.get_many_with(keys, true).await
    }

    /// `get_many`, strongly consistent or not (half the read units; a write
    /// of the last second may not show yet).
    pub(crate) async fn get_many_with(
        &self,
        keys: &[ItemKey],
        consistent: bool,
    ) -> Result<HashMap<ItemKey, Item>, StoreError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(keys.iter().map(ItemKey::to_attributes).collect()))
            .consistent_read(consistent)
            .build()?;
        let now = crate::clock::now_epoch();
        let mut found = HashMap::new();
        loop {
            let out = self.client.batch_get_item().request_items(&self.table, pending).send().await?;
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                if let Some(key) = ItemKey::of_item(&item)
                    && !is_expired(&item, now)
                {
                    found.insert(key, item);
                }
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(rest) if !rest.keys.is_empty() => pending = rest,
                _ => return Ok(found),
            }
        }
    }

    /// Runs a prepared query to its last page.
    pub(crate) async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = query.clone().set_exclusive_start_key(start).send().await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Runs a conditional UpdateItem: `Ok(Ok(new))` with the item as written
    /// when its condition held (ask for `ReturnValue::AllNew` to get it),
    /// `Ok(Err(old))` when it did not, with the item as it was if the request
    /// asked for `ReturnValuesOnConditionCheckFailure::AllOld`.
    pub(crate) async fn conditional_update(
        &self,
        update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<Result<Item, Option<Item>>, StoreError> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        match update.send().await {
            Ok(out) => Ok(Ok(out.attributes.unwrap_or_default())),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(Err(failed.item().cloned())),
                _ => Err(err.into()),
            },
        }
    }

    /// Runs a transaction; `Ok(Err(codes))` when it was cancelled, with one
    /// cancellation code per item (`None`, `ConditionalCheckFailed`, ...).
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Vec<String>>, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Ok(())),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) => Ok(Err(codes)),
                None => Err(err.into()),
            },
        }
    }
}

fn cancellation_codes(err: &SdkError<TransactWriteItemsError>) -> Option<Vec<String>> {
    match err.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        _ => None,
    }
}

pub fn is_expired(item: &Item, now: i64) -> bool {
    item.get(TTL).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()).is_some_and(|ttl| ttl <= now)
}

/// The record's attributes plus its key.
pub fn to_item<T: Serialize>(key: &ItemKey, record: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record)?;
    item.extend(key.to_attributes());
    Ok(item)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

/// A transaction Put that fails if the item already exists.
pub fn put_new<T: Serialize>(table: &str, key: &ItemKey, record: &T) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_item(key, record)?))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PK)
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A transaction Put that fails if a live item is there; an expired one
/// (a pending account nobody activated, not yet deleted by TTL) is replaced.
pub fn put_new_or_expired<T: Serialize>(
    table: &str,
    key: &ItemKey,
    record: &T,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_item(key, record)?))
        .condition_expression("attribute_not_exists(#pk) OR #ttl <= :now")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":now", n(crate::clock::now_epoch()))
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// "The item's `#epoch` is `:epoch`", where an item written before epochs
/// existed counts as epoch 0. The caller binds `#epoch` and `:epoch`.
pub(crate) fn epoch_condition(epoch: u64) -> &'static str {
    if epoch == 0 { "(attribute_not_exists(#epoch) OR #epoch = :epoch)" } else { "#epoch = :epoch" }
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn s(value: impl AsRef<str>) -> AttributeValue {
    AttributeValue::S(value.as_ref().to_owned())
}
