//! The customer's own profile: optimistic-concurrency updates, reading the
//! address book with it, and removing every item of a customer.

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use serde_json::{Map, Value};

use super::{Store, StoreError, from_item, n, s};
use crate::customer::{CustomerDetails, CustomerRecord, Subscription};
use crate::domain::{CustomerId, Email, TenantId};
use crate::table_keys::{ItemKey, PK, SK};

/// The editable part of a profile, written as a whole by `PATCH me`.
#[derive(Debug, Clone)]
pub struct ProfileChanges {
    pub details: CustomerDetails,
    pub mixins: Map<String, Value>,
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug)]
pub enum ProfileUpdate {
    /// Written; the profile as it is now.
    Updated(Box<CustomerRecord>),
    /// The stored version is another one (someone wrote first).
    Stale { current_version: u64 },
    /// The profile does not exist (any more).
    Gone,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ProfileRemoval {
    Removed,
    /// The profile or its guard changed in between (e.g. an e-mail change): read again.
    Changed,
}

impl Store {
    /// Writes `changes` if the profile is still at `expected_version`, and
    /// moves it to the next version; the condition lets exactly one of many
    /// parallel writers of one version through.
    pub async fn update_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        expected_version: u64,
        changes: &ProfileChanges,
        modified_at: &str,
    ) -> Result<ProfileUpdate, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .update_expression(
                "SET #details = :details, #mixins = :mixins, #subscriptions = :subscriptions, \
                 #version = :next, #modifiedAt = :now",
            )
            .condition_expression("attribute_exists(#pk) AND #version = :expected")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#details", "details")
            .expression_attribute_names("#mixins", "mixins")
            .expression_attribute_names("#subscriptions", "subscriptions")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#modifiedAt", "modifiedAt")
            .expression_attribute_values(":details", serde_dynamo::to_attribute_value(&changes.details)?)
            .expression_attribute_values(":mixins", serde_dynamo::to_attribute_value(&changes.mixins)?)
            .expression_attribute_values(":subscriptions", serde_dynamo::to_attribute_value(&changes.subscriptions)?)
            .expression_attribute_values(":next", n(expected_version + 1))
            .expression_attribute_values(":expected", n(expected_version))
            .expression_attribute_values(":now", s(modified_at))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(ProfileUpdate::Updated(Box::new(from_item(out.attributes.unwrap_or_default())?))),
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_conditional_check_failed_exception() => {
                    let old = match e {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                            c,
                        ) => c.item().cloned(),
                        _ => None,
                    };
                    let current = old
                        .as_ref()
                        .and_then(|item| item.get("version"))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u64>().ok());
                    Ok(match current {
                        Some(current_version) => ProfileUpdate::Stale { current_version },
                        None => ProfileUpdate::Gone,
                    })
                }
                _ => Err(err.into()),
            },
        }
    }

    /// Removes the profile and its e-mail guard in one transaction, only if
    /// the profile still has `email` and the guard still points at it, so an
    /// account is either loginable and whole or gone.
    pub async fn remove_profile_and_guard(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        email: &Email,
    ) -> Result<ProfileRemoval, StoreError> {
        let profile = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .condition_expression("attribute_exists(#pk) AND #email = :email")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#email", "email")
            .expression_attribute_values(":email", s(email.as_str()))
            .build()?;
        let guard = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::email_guard(tenant, &email.normalized()).to_attributes()))
            .condition_expression("customerId = :id")
            .expression_attribute_values(":id", s(customer.as_str()))
            .build()?;
        let items = vec![
            TransactWriteItem::builder().delete(profile).build(),
            TransactWriteItem::builder().delete(guard).build(),
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => ProfileRemoval::Removed,
            Err(_) => ProfileRemoval::Changed,
        })
    }

    /// What an account leaves outside its own partition once its profile is
    /// gone: outstanding one-time tokens and social identity links (the
    /// profile names both); then everything in the partition. Returns how
    /// many items went.
    pub async fn delete_account_items(&self, tenant: &TenantId, profile: &CustomerRecord) -> Result<usize, StoreError> {
        let mut keys = self.customer_partition_keys(tenant, &profile.id).await?;
        keys.extend(profile.pending_tokens.values().map(|hash| ItemKey::one_time_token(tenant, hash)));
        keys.extend(profile.social_links.iter().map(|link| ItemKey::social(tenant, &link.issuer, &link.subject)));
        self.delete_keys(&keys).await?;
        Ok(keys.len())
    }

    /// The key of every item in the customer's partition (addresses,
    /// sessions, and whatever else lives there), read as keys only.
    pub async fn customer_partition_keys(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<ItemKey>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .projection_expression("#pk, #sk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", AttributeValue::S(ItemKey::customer_partition(tenant, customer)))
            .consistent_read(true);
        Ok(self.query_all(query).await?.iter().filter_map(ItemKey::of_item).collect())
    }
}
