//! Social identity links: (issuer, subject) → customer id, one item each,
//! mirrored on the profile's `socialLinks` so account deletion finds them.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, put_new, s};
use crate::customer::SocialLink;
use crate::domain::{CustomerId, TenantId};
use crate::table_keys::ItemKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialLinkRecord {
    pub customer_id: String,
    pub issuer: String,
    pub subject: String,
    pub created_at: String,
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
    pub fn new_social_link_item(
        &self,
        tenant: &TenantId,
        link: &SocialLinkRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        put_new(&self.table, &ItemKey::social(tenant, &link.issuer, &link.subject), link)
    }

    /// Links an existing, active account: the link item and the profile's
    /// `socialLinks` in one transaction, conditional on the profile's version
    /// (no lost update) and status. `Ok(false)` when a condition failed.
    pub async fn link_social_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        expected_version: u64,
        link: &SocialLinkRecord,
    ) -> Result<bool, StoreError> {
        let entry = serde_dynamo::to_attribute_value::<_, AttributeValue>(SocialLink {
            issuer: link.issuer.clone(),
            subject: link.subject.clone(),
        })?;
        let profile = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
            .update_expression(
                "SET socialLinks = list_append(if_not_exists(socialLinks, :empty), :links), \
                 #version = #version + :one, modifiedAt = :now",
            )
            .condition_expression("attribute_exists(PK) AND #version = :version AND #status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":links", AttributeValue::L(vec![entry]))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":version", AttributeValue::N(expected_version.to_string()))
            .expression_attribute_values(":active", s("ACTIVE"))
            .expression_attribute_values(":now", s(crate::clock::now_rfc3339()))
            .build()?;
        let items =
            vec![self.new_social_link_item(tenant, link)?, TransactWriteItem::builder().update(profile).build()];
        Ok(self.transact(items).await?.is_ok())
    }
}
