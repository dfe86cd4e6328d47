//! Social identity links: (issuer, subject) → customer id, one item each,
//! mirrored on the profile's `socialLinks` (with provider, e-mail and time)
//! so the account lists them and deletion finds them.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Write, items_of, n, put_new, s};
use crate::customer::SocialLink;
use crate::domain::{CustomerId, TenantId};
use crate::table_keys::ItemKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialLinkRecord {
    pub customer_id: CustomerId,
    pub issuer: String,
    pub subject: String,
    pub created_at: String,
}

impl SocialLinkRecord {
    pub fn of(customer: &CustomerId, link: &SocialLink) -> Self {
        Self {
            customer_id: customer.clone(),
            issuer: link.issuer.clone(),
            subject: link.subject.clone(),
            created_at: link.linked_at.clone().unwrap_or_else(crate::clock::now_rfc3339),
        }
    }
}

impl Store {
    pub async fn get_social_link(
        &self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<SocialLinkRecord>, StoreError> {
        self.get(&ItemKey::social(tenant, issuer, subject)).await
    }

    /// A transaction item creating the link; fails if (issuer, subject) is linked already.
    /// Deletes a link whose account is gone (customer ids are never reused).
    pub async fn forget_social_link(&self, tenant: &TenantId, link: &SocialLinkRecord) -> Result<(), StoreError> {
        self.delete_keys(&[ItemKey::social(tenant, &link.issuer, &link.subject)]).await
    }

    pub fn new_social_link_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        link: &SocialLink,
    ) -> Result<Write, StoreError> {
        put_new(
            &self.table,
            &ItemKey::social(tenant, &link.issuer, &link.subject),
            &SocialLinkRecord::of(customer, link),
        )
        .map(Write)
    }

    /// A transaction item deleting the link, only while it points at `customer`.
    pub fn delete_social_link_item(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        link: &SocialLink,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::social(tenant, &link.issuer, &link.subject).to_attributes()))
            .condition_expression("customerId = :id")
            .expression_attribute_values(":id", s(customer.as_str()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Links an existing, active account: the link item and the profile's
    /// `socialLinks` in one transaction (with `extra`, e.g. the spent consent
    /// token), conditional on the profile's version and epoch (no lost update,
    /// no link consented to under credentials that have changed since) and
    /// status. `Ok(false)` when a condition failed.
    pub async fn link_social_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        expected: (u64, u64),
        link: &SocialLink,
        extra: Vec<Write>,
    ) -> Result<bool, StoreError> {
        let (version, epoch) = expected;
        let entry = serde_dynamo::to_attribute_value::<_, AttributeValue>(link)?;
        let profile = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .update_expression(
                "SET socialLinks = list_append(if_not_exists(socialLinks, :empty), :links), \
                 #version = #version + :one, modifiedAt = :now",
            )
            .condition_expression(format!(
                "attribute_exists(PK) AND #version = :version AND #status = :active AND {}",
                super::epoch_condition(epoch)
            ))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":links", AttributeValue::L(vec![entry]))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":epoch", n(epoch))
            .expression_attribute_values(":active", s("ACTIVE"))
            .expression_attribute_values(":now", s(crate::clock::now_rfc3339()))
            .build()?;
        let mut items = vec![
            self.new_social_link_item(tenant, customer, link)?.0,
            TransactWriteItem::builder().update(profile).build(),
        ];
        items.extend(items_of(extra));
        Ok(self.transact(items).await?.is_ok())
    }
}
