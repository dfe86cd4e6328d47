//! Raw items, written past the API: the state another function (or time)
//! leaves behind, for the tests of the function that meets it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use shared::address::{Address, AddressRecord};
use shared::domain::CustomerId;
use shared::table_keys::ItemKey;

use crate::TestApp;

impl TestApp {
    /// Puts `attributes` under `key`, as they are.
    pub async fn put_raw(&self, key: &ItemKey, mut attributes: HashMap<String, AttributeValue>) {
        attributes.extend(key.to_attributes());
        let store = self.store();
        store.client().put_item().table_name(store.table()).set_item(Some(attributes)).send().await.unwrap();
    }

    /// Runs the update `expression` on the item under `key`, with its
    /// `#names` and `:values`.
    pub async fn update_raw(
        &self,
        key: &ItemKey,
        expression: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) {
        let store = self.store();
        let mut update = store
            .client()
            .update_item()
            .table_name(store.table())
            .set_key(Some(key.to_attributes()))
            .update_expression(expression);
        for (name, attribute) in names {
            update = update.expression_attribute_names(*name, *attribute);
        }
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        update.send().await.unwrap();
    }

    /// The password hash on the e-mail guard of `email`, as stored.
    pub async fn guard_password_hash(&self, email: &str) -> String {
        let guard: serde_json::Value =
            self.store().get(&ItemKey::email_guard(&self.tenant, email)).await.unwrap().unwrap();
        guard["passwordHash"].as_str().unwrap().to_owned()
    }

    /// Address `id` of `customer` (Main St, Berlin, version 1) as the address
    /// book stores it; the profile is left as it is.
    pub async fn put_address(&self, customer: &CustomerId, id: &str) {
        let record = AddressRecord {
            id: shared::domain::AddressId::parse(id).unwrap(),
            address: Address {
                street: "Main St".into(),
                zip_code: "10115".into(),
                city: "Berlin".into(),
                country: "DE".into(),
                ..Default::default()
            },
            version: 1,
            created_at: "2026-11-22T10:00:00Z".into(),
            modified_at: "2026-11-22T10:00:00Z".into(),
            ttl: None,
        };
        let key = ItemKey::address(&self.tenant, customer, id);
        self.put_raw(&key, shared::store::to_item(&key, &record).unwrap()).await;
    }
}
