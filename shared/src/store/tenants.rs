use super::{Store, StoreError, to_item};
use crate::domain::{ClientId, TenantId};
use crate::table_keys::ItemKey;
use crate::tenant::{StorefrontClient, TenantSettings};

impl Store {
    pub async fn get_tenant(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        self.get(&ItemKey::tenant(tenant)).await
    }

    pub async fn put_tenant(&self, tenant: &TenantId, settings: &TenantSettings) -> Result<(), StoreError> {
        let item = to_item(&ItemKey::tenant(tenant), settings)?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await?;
        Ok(())
    }

    pub async fn get_client(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<StorefrontClient>, StoreError> {
        self.get(&ItemKey::client(tenant, client)).await
    }

    pub async fn put_client(&self, tenant: &TenantId, client: &StorefrontClient) -> Result<(), StoreError> {
        let id = &client.client_id;
        let item = to_item(&ItemKey::client(tenant, id), client)?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await?;
        Ok(())
    }
}
