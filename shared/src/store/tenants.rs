use super::{Store, StoreError};
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

    pub async fn put_client(&self, tenant: &TenantId, client: &StorefrontClient) -> Result<(), StoreError> {
        self.put(&ItemKey::client(tenant, &client.client_id), client).await
    }
}
