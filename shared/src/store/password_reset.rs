//! Reset tokens beside the profile: the profile's `pendingTokens.PASSWORD_RESET`
//! names the latest reset token issued, so issuing a new one can delete the
//! older one in the same transaction (only the newest link works).

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};

use super::{Store, StoreError, from_item, s};
use crate::customer::CustomerRecord;
use crate::domain::{CustomerId, TenantId};
use crate::store::{OneTimeTokenRecord, TokenPurpose};
use crate::table_keys::ItemKey;

const POINTERS: &str = "pendingTokens";

/// The profile as read before issuing a token, with what the pointer update
/// must assume: whether the `pendingTokens` map exists at all (a nested path
/// can only be set inside an existing map) and which hash it names.
#[derive(Debug, Clone)]
pub struct ResetProfile {
    pub record: CustomerRecord,
    pub pointer_map_exists: bool,
}

impl ResetProfile {
    pub fn current_reset_hash(&self) -> Option<&str> {
        self.record.pending_tokens.get(TokenPurpose::PasswordReset.as_str()).map(String::as_str)
    }
}

impl Store {
    /// The profile, read consistently, noting whether `pendingTokens` exists.
    pub async fn get_reset_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<ResetProfile>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else { return Ok(None) };
        let pointer_map_exists = item.contains_key(POINTERS);
        Ok(Some(ResetProfile { record: from_item(item)?, pointer_map_exists }))
    }

    /// Stores a new reset token, deletes the one the profile named (if any)
    /// and points the profile at the new one, all or nothing. The pointer
    /// update is conditioned on what `profile` saw, so two parallel requests
    /// cannot both keep a live token: `Ok(false)` means the pointer moved in
    /// between, and the caller re-reads and tries again.
    pub async fn issue_reset_token(
        &self,
        tenant: &TenantId,
        profile: &ResetProfile,
        new_hash: &str,
        record: &OneTimeTokenRecord,
    ) -> Result<bool, StoreError> {
        let customer = CustomerId::parse(&profile.record.id).map_err(|_| StoreError::Invalid("customer id".into()))?;
        let purpose = TokenPurpose::PasswordReset.as_str();
        let mut pointer = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, &customer).to_attributes()))
            .expression_attribute_names("#pointers", POINTERS);
        pointer = if profile.pointer_map_exists {
            let condition = match profile.current_reset_hash() {
                Some(_) => "attribute_exists(PK) AND #pointers.#purpose = :old",
                None => {
                    "attribute_exists(PK) AND attribute_exists(#pointers) AND attribute_not_exists(#pointers.#purpose)"
                }
            };
            let mut update = pointer
                .update_expression("SET #pointers.#purpose = :new")
                .condition_expression(condition)
                .expression_attribute_names("#purpose", purpose)
                .expression_attribute_values(":new", s(new_hash));
            if let Some(old) = profile.current_reset_hash() {
                update = update.expression_attribute_values(":old", s(old));
            }
            update
        } else {
            let map = std::collections::HashMap::from([(purpose.to_owned(), s(new_hash))]);
            pointer
                .update_expression("SET #pointers = :map")
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(#pointers)")
                .expression_attribute_values(":map", aws_sdk_dynamodb::types::AttributeValue::M(map))
        };
        let mut items = vec![
            self.put_one_time_token_item(tenant, new_hash, record)?,
            TransactWriteItem::builder().update(pointer.build()?).build(),
        ];
        if let Some(old) = profile.current_reset_hash().filter(|old| *old != new_hash) {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(ItemKey::one_time_token(tenant, old).to_attributes()))
                .build()?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        Ok(self.transact(items).await?.is_ok())
    }

    /// Forgets the pointer to a reset token that was just used, unless a
    /// newer token has been issued meanwhile. (It cannot ride in the
    /// transaction that used the token: that one already writes the profile.)
    pub async fn clear_reset_pointer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        used_hash: &str,
    ) -> Result<(), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .update_expression("REMOVE #pointers.#purpose")
            .condition_expression("#pointers.#purpose = :used")
            .expression_attribute_names("#pointers", POINTERS)
            .expression_attribute_names("#purpose", TokenPurpose::PasswordReset.as_str())
            .expression_attribute_values(":used", s(used_hash))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
