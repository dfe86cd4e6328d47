//! The address book in the table: one item per address in the customer's
//! partition, and two attributes on the profile that keep the book's rules
//! under concurrency — `addressCount` (capped by a condition) and
//! `defaultAddressId` (one attribute, so there is never a second default).
//! Every change writes the address and the profile in one transaction.

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use super::{Store, StoreError, from_item, n, put_new, s, to_item};
use crate::address::AddressRecord;
use crate::customer::CustomerRecord;
use crate::domain::{AddressId, CustomerId, TenantId};
use crate::table_keys::ItemKey;

/// `ConditionalCheckFailed` in a cancelled transaction, per item.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

#[derive(Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted,
    /// The profile's condition failed: the book is full (or the profile is gone).
    LimitReached,
    /// Another transaction held the profile; try again.
    Contended,
}

/// What a write does to the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultChange {
    Keep,
    /// Make this address the default.
    Make,
    /// Only write if this address is not the default.
    MustNotBe,
}

#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The address is gone or its version moved on.
    AddressChanged,
    /// `DefaultChange::MustNotBe`, but it is the default.
    IsDefault,
    /// The profile is gone.
    ProfileGone,
    Contended,
}

/// How a delete keeps "exactly one default" true; chosen from a read and
/// checked by conditions, so a plan made on stale data is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletePlan {
    /// The address is not the default: the default stays.
    NotDefault,
    /// The address is the default; `successor` (still existing) takes over.
    DefaultPassesTo(AddressId),
    /// The default and the only address: the book becomes empty.
    LastAddress,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    /// The address did not exist (any more).
    AddressGone,
    /// The plan no longer fits (default moved, successor deleted, another
    /// address added) or another transaction held an item: read and plan again.
    Stale,
}

impl Store {
    pub async fn get_address(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &AddressId,
    ) -> Result<Option<AddressRecord>, StoreError> {
        self.get(&ItemKey::address(tenant, customer, id.as_str())).await
    }

    /// Every address of a customer, in no particular order.
    pub async fn list_addresses(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<AddressRecord>, StoreError> {
        let items = self.query_prefix(&ItemKey::customer_partition(tenant, customer), ItemKey::ADDRESS_PREFIX).await?;
        items.into_iter().map(from_item).collect()
    }

    /// One address and the profile's default address id, in one round trip.
    /// `None` when the address does not exist.
    pub async fn get_address_and_default(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &AddressId,
    ) -> Result<Option<(AddressRecord, Option<AddressId>)>, StoreError> {
        let address_key = ItemKey::address(tenant, customer, id.as_str());
        let profile_key = ItemKey::profile(tenant, customer);
        let mut found = self.get_many(&[address_key.clone(), profile_key.clone()]).await?;
        let Some(address) = found.remove(&address_key) else { return Ok(None) };
        let default = match found.remove(&profile_key) {
            Some(item) => from_item::<CustomerRecord>(item)?.default_address_id,
            None => None,
        };
        Ok(Some((from_item(address)?, default)))
    }

    /// Stores a new address and counts it on the profile, refusing when the
    /// book already holds `max`. The first address (no default yet) becomes
    /// the default; `make_default` makes it the default anyway.
    pub async fn insert_address(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        record: &AddressRecord,
        make_default: bool,
        max: u32,
    ) -> Result<InsertOutcome, StoreError> {
        let default_expression = if make_default {
            "defaultAddressId = :id"
        } else {
            "defaultAddressId = if_not_exists(defaultAddressId, :id)"
        };
        let profile = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .update_expression(format!(
                "SET addressCount = if_not_exists(addressCount, :zero) + :one, {default_expression}"
            ))
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(addressCount) OR addressCount < :max)",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":id", s(&record.id))
            .build()?;
        let items = vec![
            put_new(&self.table, &ItemKey::address(tenant, customer, record.id.as_str()), record)?,
            TransactWriteItem::builder().update(profile).build(),
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => InsertOutcome::Inserted,
            Err(codes) if failed(&codes, 1) => InsertOutcome::LimitReached,
            Err(codes) if failed(&codes, 0) => {
                return Err(StoreError::Invalid(format!("address id collision: {codes:?}")));
            }
            Err(_) => InsertOutcome::Contended,
        })
    }

    /// Replaces an address with `record` (the next version) if it still has
    /// `expected_version`, and moves or checks the default in the same
    /// transaction.
    pub async fn write_address(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        record: &AddressRecord,
        expected_version: u64,
        default: DefaultChange,
    ) -> Result<WriteOutcome, StoreError> {
        let key = ItemKey::address(tenant, customer, record.id.as_str());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&key, record)?))
            .condition_expression("attribute_exists(PK) AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected_version))
            .build()?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        let profile_key = Some(ItemKey::profile(tenant, customer).to_attributes());
        match default {
            DefaultChange::Keep => {}
            DefaultChange::Make => {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(profile_key)
                    .update_expression("SET defaultAddressId = :id")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":id", s(&record.id))
                    .build()?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
            DefaultChange::MustNotBe => {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(profile_key)
                    .condition_expression(
                        "attribute_exists(PK) AND (attribute_not_exists(defaultAddressId) OR defaultAddressId <> :id)",
                    )
                    .expression_attribute_values(":id", s(&record.id))
                    .build()?;
                items.push(TransactWriteItem::builder().condition_check(check).build());
            }
        }
        Ok(match self.transact(items).await? {
            Ok(()) => WriteOutcome::Written,
            Err(codes) if failed(&codes, 0) => WriteOutcome::AddressChanged,
            Err(codes) if failed(&codes, 1) && default == DefaultChange::MustNotBe => {
                // The check fails both when it is the default and when the
                // profile is gone; a deleted customer has no session left, so
                // reaching here means it is the default.
                WriteOutcome::IsDefault
            }
            Err(codes) if failed(&codes, 1) => WriteOutcome::ProfileGone,
            Err(_) => WriteOutcome::Contended,
        })
    }

    /// Deletes an address and keeps count and default right, following `plan`.
    pub async fn delete_address(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &AddressId,
        plan: &DeletePlan,
    ) -> Result<DeleteOutcome, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::address(tenant, customer, id.as_str()).to_attributes()))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        let profile = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .expression_attribute_values(":id", s(id.as_str()))
            .expression_attribute_values(":one", n(1));
        let profile = match plan {
            DeletePlan::NotDefault => profile
                .update_expression("SET addressCount = if_not_exists(addressCount, :one) - :one")
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(defaultAddressId) OR defaultAddressId <> :id)",
                ),
            DeletePlan::DefaultPassesTo(successor) => profile
                .update_expression(
                    "SET addressCount = if_not_exists(addressCount, :one) - :one, defaultAddressId = :successor",
                )
                .condition_expression("defaultAddressId = :id")
                .expression_attribute_values(":successor", s(successor)),
            // Only when no other address exists: a parallel create counted on
            // the profile would otherwise be left without a default.
            DeletePlan::LastAddress => profile
                .update_expression("SET addressCount = :zero REMOVE defaultAddressId")
                .condition_expression(
                    "defaultAddressId = :id AND (attribute_not_exists(addressCount) OR addressCount <= :one)",
                )
                .expression_attribute_values(":zero", n(0)),
        };
        let mut items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(profile.build()?).build(),
        ];
        if let DeletePlan::DefaultPassesTo(successor) = plan {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(ItemKey::address(tenant, customer, successor.as_str()).to_attributes()))
                .condition_expression("attribute_exists(PK)")
                .build()?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        Ok(match self.transact(items).await? {
            Ok(()) => DeleteOutcome::Deleted,
            Err(codes) if failed(&codes, 0) => DeleteOutcome::AddressGone,
            Err(_) => DeleteOutcome::Stale,
        })
    }
}

fn failed(codes: &[String], index: usize) -> bool {
    codes.get(index).is_some_and(|c| c == CONDITION_FAILED)
}
