//! Moltin v1 customer tokens: a 64-character handle on a customer session,
//! stored only as its SHA-256 (`T#{tenant}#MOLTIN#{hash}` / `MOLTIN`). The
//! handle holds no rights of its own: every use re-checks the session it
//! names (client, family, expiry, credential epoch), so whatever ends the
//! session (logout, password change or reset, e-mail change, deletion)
//! ends the handle too; `ttl` removes it afterwards.

use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, to_item};
use crate::domain::{ClientId, CustomerId, SessionId, TenantId};
use crate::table_keys::ItemKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoltinTokenRecord {
    pub customer_id: CustomerId,
    pub session_id: SessionId,
    /// The login (session family) the handle was issued for: a later login
    /// on the same session id does not revive it.
    pub family: String,
    pub client_id: ClientId,
    pub expires_at: i64,
    pub ttl: i64,
}

impl Store {
    pub async fn put_moltin_token(
        &self,
        tenant: &TenantId,
        hash: &str,
        record: &MoltinTokenRecord,
    ) -> Result<(), StoreError> {
        let item = to_item(&ItemKey::moltin_token(tenant, hash), record)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // 256 random bits never collide; the condition says no handle is overwritten.
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await?;
        Ok(())
    }

    pub async fn get_moltin_token(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<MoltinTokenRecord>, StoreError> {
        self.get(&ItemKey::moltin_token(tenant, hash)).await
    }

    /// Removes the handle; answers what it pointed at, if it existed.
    pub async fn delete_moltin_token(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<MoltinTokenRecord>, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::moltin_token(tenant, hash).to_attributes()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await?;
        match out.attributes {
            Some(item) if !item.is_empty() && !super::is_expired(&item, crate::clock::now_epoch()) => {
                Ok(Some(serde_dynamo::from_item(item)?))
            }
            _ => Ok(None),
        }
    }
}
