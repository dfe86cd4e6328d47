use super::{Store, StoreError, from_item};
use crate::domain::{ClientId, TenantId};
use crate::table_keys::ItemKey;
use crate::tenant::{StorefrontClient, TenantSettings};

impl Store {
    pub async fn get_tenant(&self, tenant: &TenantId) -> Result<Option<TenantSettings>, StoreError> {
        self.get(&ItemKey::tenant(tenant)).await
    }

    pub async fn put_tenant(&self, tenant: &TenantId, settings: &TenantSettings) -> Result<(), StoreError> {
        self.put(&ItemKey::tenant(tenant), settings).await
    }

    pub async fn get_client(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<StorefrontClient>, StoreError> {
        self.get(&ItemKey::client(tenant, client)).await
    }

    /// The tenant's settings, and whether it has `client`: one round trip
    /// (a cold container's first anonymous session needs both).
    pub async fn get_tenant_and_client(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<(Option<TenantSettings>, bool), StoreError> {
        let (tenant_key, client_key) = (ItemKey::tenant(tenant), ItemKey::client(tenant, client));
        let mut found = self.get_many(&[tenant_key.clone(), client_key.clone()]).await?;
        let settings = found.remove(&tenant_key).map(from_item).transpose()?;
        Ok((settings, found.contains_key(&client_key)))
    }

    pub async fn put_client(&self, tenant: &TenantId, client: &StorefrontClient) -> Result<(), StoreError> {
        self.put(&ItemKey::client(tenant, &client.client_id), client).await
    }
}
