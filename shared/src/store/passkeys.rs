//! Passkeys (WebAuthn credentials) of a customer: one item each in the
//! customer's partition (`FACTOR#PASSKEY#{id}`, the id derived from the
//! credential id), so a discoverable sign-in reads it by key from the user
//! handle (the customer id) and the credential id, and a credential of
//! another tenant or customer is simply not there. The public key and its
//! counter are stored as webauthn-rs keeps them (JSON); nothing in it is a
//! secret.
//!
//! A ceremony's challenge (registration on `me`, sign-in on an anonymous
//! session) is an item of its own under the hash of the id handed out,
//! bound to the session that asked, short-lived, and taken with one
//! conditional delete: it works once, also under parallel use.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Write, from_item, is_expired, s, to_item};
use crate::domain::{CustomerId, SessionId, TenantId};
use crate::table_keys::ItemKey;

/// A passkey as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyRecord {
    /// Hex SHA-256 of the credential id, first 32 characters: the id in paths.
    pub id: String,
    /// The customer's name for it ("Laptop", "Phone").
    pub name: String,
    /// webauthn-rs's `Passkey` (credential id, public key, counter, backup state), as JSON.
    pub credential: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasskeyCeremony {
    /// `me/passkeys/options` → `me/passkeys`: bound to the customer session.
    Registration,
    /// `login/passkey/options` → `login/passkey`: bound to the anonymous session.
    SignIn,
}

/// A waiting ceremony: webauthn-rs's state (the WebAuthn challenge and what
/// the answer must meet), bound to the session that asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyChallengeRecord {
    pub ceremony: PasskeyCeremony,
    pub session_id: SessionId,
    /// The anonymous session's token family (sign-in), or the customer (registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// The customer's credential epoch when a registration began.
    #[serde(default)]
    pub epoch: u64,
    /// webauthn-rs's `PasskeyRegistration` or `DiscoverableAuthentication`, as JSON.
    pub state: String,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Store {
    /// Stores a new ceremony under `hash`.
    pub async fn put_passkey_challenge(
        &self,
        tenant: &TenantId,
        hash: &str,
        record: &PasskeyChallengeRecord,
    ) -> Result<(), StoreError> {
        self.put(&ItemKey::passkey_challenge(tenant, hash), record).await
    }

    /// Takes the ceremony under `hash`: deletes it and answers it as it
    /// was, if it was there and live. Of two parallel takes, one gets it.
    pub async fn take_passkey_challenge(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<PasskeyChallengeRecord>, StoreError> {
        use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::passkey_challenge(tenant, hash).to_attributes()))
            .condition_expression("attribute_exists(PK)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let item = match result {
            Ok(out) => out.attributes,
            Err(err) if matches!(err.as_service_error(), Some(DeleteItemError::ConditionalCheckFailedException(_))) => {
                None
            }
            Err(err) => return Err(err.into()),
        };
        let now = crate::clock::now_epoch();
        let Some(item) = item.filter(|item| !is_expired(item, now)) else { return Ok(None) };
        let record: PasskeyChallengeRecord = from_item(item)?;
        Ok(Some(record).filter(|r| r.expires_at > now))
    }

    /// The customer's passkeys, oldest first (strongly consistent).
    pub async fn list_passkeys(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<PasskeyRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(ItemKey::customer_partition(tenant, customer)))
            .expression_attribute_values(":prefix", s(ItemKey::PASSKEY_PREFIX))
            .consistent_read(true);
        let mut passkeys: Vec<PasskeyRecord> =
            self.query_all(query).await?.into_iter().map(from_item).collect::<Result<_, _>>()?;
        passkeys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(passkeys)
    }

    /// A transaction item adding `record` (refused if the customer has that
    /// credential already); it goes with the credential change.
    pub fn add_passkey_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        record: &PasskeyRecord,
    ) -> Result<Write, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&ItemKey::passkey(tenant, customer, &record.id), record)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()?;
        Ok(Write(TransactWriteItem::builder().put(put).build()))
    }

    /// A transaction item removing passkey `id` (refused if it is not there).
    pub fn remove_passkey_item(&self, tenant: &TenantId, customer: &CustomerId, id: &str) -> Result<Write, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::passkey(tenant, customer, id).to_attributes()))
            .condition_expression("attribute_exists(PK)")
            .build()?;
        Ok(Write(TransactWriteItem::builder().delete(delete).build()))
    }

    /// Notes a sign-in with passkey `id`: the credential as updated (counter,
    /// backup state) and the time. `false` when the passkey was removed meanwhile.
    pub async fn record_passkey_use(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &str,
        credential: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::passkey(tenant, customer, id).to_attributes()))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
        update = match credential {
            Some(credential) => update
                .update_expression("SET lastUsedAt = :now, credential = :credential")
                .expression_attribute_values(":credential", s(credential)),
            None => update.update_expression("SET lastUsedAt = :now"),
        };
        Ok(self.conditional_update(update).await?.is_ok())
    }
}

impl Store {
    /// What a passkey sign-in needs, in one round trip: the customer's
    /// profile and the passkey `id` (either absent when not there).
    pub async fn passkey_sign_in_read(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        id: &str,
    ) -> Result<(Option<crate::customer::CustomerRecord>, Option<PasskeyRecord>), StoreError> {
        let (profile_key, passkey_key) = (ItemKey::profile(tenant, customer), ItemKey::passkey(tenant, customer, id));
        let mut found = self.get_many(&[profile_key.clone(), passkey_key.clone()]).await?;
        let profile = found.remove(&profile_key).map(from_item).transpose()?;
        let passkey = found.remove(&passkey_key).map(from_item).transpose()?;
        Ok((profile, passkey))
    }
}
