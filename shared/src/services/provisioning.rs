//! Operator actions: the table, tenants, storefront clients and customers
//! created by an operator (never by a public route).

use crate::clock;
use crate::customer::{CustomerDetails, CustomerRecord, CustomerStatus};
use crate::domain::{ClientId, CustomerId, Email, Password, TenantId};
use crate::error::ApiError;
use crate::passwords;
pub use crate::store::IdentityFinding;
use crate::store::{CreateCustomerOutcome, Store, StoreError, StoredIdentity};
use crate::tenant::{StorefrontClient, TenantSettings};

/// Creates the table if missing, and the tenant and client if missing.
/// Existing settings are left as they are.
pub async fn ensure_tenant(
    store: &Store,
    tenant: &TenantId,
    settings: &TenantSettings,
    client: &ClientId,
) -> Result<(), StoreError> {
    store.create_table_if_missing().await?;
    if store.get_tenant(tenant).await?.is_none() {
        store.put_tenant(tenant, settings).await?;
    }
    if store.get_client(tenant, client).await?.is_none() {
        let record =
            StorefrontClient { client_id: client.clone(), name: client.to_string(), redirect_uris: Vec::new() };
        store.put_client(tenant, &record).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CreateCustomerError {
    #[error("an account with this e-mail exists already")]
    EmailTaken,
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// An active customer with a password set by the operator (`initialPassword`
/// tells the storefront to ask for a new one when `initial` is true).
pub async fn create_active_customer(
    store: &Store,
    tenant: &TenantId,
    email: &Email,
    password: &Password,
    initial: bool,
    details: CustomerDetails,
) -> Result<CustomerId, CreateCustomerError> {
    let id = CustomerId::generate();
    let now = clock::now_rfc3339();
    let record = CustomerRecord {
        password_hash: Some(passwords::hash(password).await.map_err(ApiError::from)?),
        initial_password: initial,
        details,
        ..CustomerRecord::new(id.clone(), email.clone(), CustomerStatus::Active, &now)
    };
    match store.create_customer(tenant, &record, Vec::new()).await.map_err(ApiError::from)? {
        CreateCustomerOutcome::Created => Ok(id),
        CreateCustomerOutcome::EmailTaken => Err(CreateCustomerError::EmailTaken),
        CreateCustomerOutcome::Cancelled => {
            Err(CreateCustomerError::Api(ApiError::internal("the customer was not created: a parallel change won")))
        }
    }
}

/// The tenant's stored identities that would normalise differently under
/// the current rules (`accounts customer check-emails`), for a migration by hand.
pub async fn check_identities(store: &Store, tenant: &TenantId) -> Result<Vec<IdentityFinding>, StoreError> {
    Ok(store.stored_identities(tenant).await?.into_iter().filter_map(StoredIdentity::finding).collect())
}
