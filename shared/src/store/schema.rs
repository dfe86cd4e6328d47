//! The table itself: created by the operator command and the local server.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::{Store, StoreError};
use crate::table_keys::{PK, SK, TTL};

impl Store {
    /// Creates the table (keys, on-demand, TTL on `ttl`) unless it exists, as
    /// template.yaml defines it. Every access is by key: no index.
    /// Returns whether it was created.
    pub async fn create_table_if_missing(&self) -> Result<bool, StoreError> {
        let exists = self.client.describe_table().table_name(&self.table).send().await;
        match exists {
            Ok(_) => return Ok(false),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(err) => return Err(err.into()),
        }
        let attr = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK)?)
            .attribute_definitions(attr(SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Another process created it meanwhile: fine.
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL).build()?)
            .send()
            .await?;
        Ok(true)
    }
}
