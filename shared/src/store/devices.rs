//! Device tokens: handed to a client after a successful password login and
//! sent back with its later logins, so that device keeps a login budget of
//! its own (OWASP "device cookies"). A token is `{customerId}.{secret}`:
//! login finds its item without another read, and only by hash.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::domain::{CustomerId, TenantId};
use crate::secrets::{OpaqueSecret, hash_secret};
use crate::table_keys::ItemKey;

/// A device token is remembered this long after the login that issued it.
pub const DEVICE_TOKEN_TTL_SECS: i64 = 180 * 86_400;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRecord {
    pub created_at: i64,
    pub ttl: i64,
}

/// A device token as presented: whose it claims to be, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceToken {
    pub customer: CustomerId,
    pub hash: String,
}

impl DeviceToken {
    /// `None` for anything that is not shaped like a device token.
    pub fn parse(raw: &str) -> Option<Self> {
        let (customer, _secret) = raw.split_once('.')?;
        Some(Self { customer: CustomerId::parse(customer).ok()?, hash: hash_secret(raw) })
    }

    /// A new token for `customer`: the value to hand out, and its parsed form.
    pub fn generate(customer: &CustomerId) -> (String, Self) {
        let value = format!("{customer}.{}", OpaqueSecret::generate().value);
        let token = Self { customer: customer.clone(), hash: hash_secret(&value) };
        (value, token)
    }

    pub fn key(&self, tenant: &TenantId) -> ItemKey {
        ItemKey::device(tenant, &self.customer, &self.hash)
    }
}

impl Store {
    /// Remembers a new device token.
    pub async fn put_device(
        &self,
        tenant: &TenantId,
        token: &DeviceToken,
        record: &DeviceRecord,
    ) -> Result<(), StoreError> {
        self.put(&token.key(tenant), record).await
    }
}
