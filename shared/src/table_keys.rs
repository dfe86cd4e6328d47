//! Every key shape of the single table, and nothing else builds keys. Each
//! partition key starts with the tenant, so no access can cross tenants.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{ClientId, CustomerId, SessionId, TenantId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const TTL: &str = "ttl";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

impl ItemKey {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    pub fn tenant(tenant: &TenantId) -> Self {
        Self::new(format!("T#{tenant}"), "TENANT")
    }

    pub fn client(tenant: &TenantId, client: &ClientId) -> Self {
        Self::new(format!("T#{tenant}"), format!("CLIENT#{client}"))
    }

    pub fn customer_partition(tenant: &TenantId, customer: &CustomerId) -> String {
        format!("T#{tenant}#C#{customer}")
    }

    pub fn profile(tenant: &TenantId, customer: &CustomerId) -> Self {
        Self::new(Self::customer_partition(tenant, customer), "PROFILE")
    }

    /// `normalized_email` is `Email::normalized()`.
    pub fn email_guard(tenant: &TenantId, normalized_email: &str) -> Self {
        Self::new(format!("T#{tenant}#EMAIL#{normalized_email}"), "EMAIL")
    }

    pub const SESSION_PREFIX: &'static str = "SESSION#";

    pub fn customer_session(tenant: &TenantId, customer: &CustomerId, sid: &SessionId) -> Self {
        Self::new(Self::customer_partition(tenant, customer), format!("{}{sid}", Self::SESSION_PREFIX))
    }

    pub fn anonymous_session(tenant: &TenantId, sid: &SessionId) -> Self {
        Self::new(format!("T#{tenant}#ANON#{sid}"), "SESSION")
    }

    /// Activation secrets, e-mail change keys and reset tokens, by hash.
    pub fn one_time_token(tenant: &TenantId, hash: &str) -> Self {
        Self::new(format!("T#{tenant}#TOKEN#{hash}"), "TOKEN")
    }

    /// A login budget (see `store::throttle`): `subject` names an account,
    /// an account on one device, or an identifier nobody has.
    pub fn throttle(tenant: &TenantId, subject: &str) -> Self {
        Self::new(format!("T#{tenant}#THROTTLE#{subject}"), "THROTTLE")
    }

    /// A counter in a fixed window: per-source and per-tenant request limits,
    /// mail caps per address (see `store::limits`).
    pub fn limit(tenant: &TenantId, name: &str) -> Self {
        Self::new(format!("T#{tenant}#LIMIT#{name}"), "LIMIT")
    }

    /// A customer's e-mail sign-in code (see `store::email_codes`): one at a
    /// time, in the customer's partition, so deleting the account deletes it.
    /// `CODE#` sorts between `ADDR#` and `FACTOR#`: outside the range a session
    /// check reads, and skipped by the reads that take the address book.
    pub fn email_code(tenant: &TenantId, customer: &CustomerId) -> Self {
        Self::new(Self::customer_partition(tenant, customer), "CODE#EMAIL")
    }

    /// A customer's authenticator (TOTP) and recovery codes (see `store::factors`).
    /// `FACTOR#` sorts between `CODE#` and `PROFILE`.
    pub fn totp(tenant: &TenantId, customer: &CustomerId) -> Self {
        Self::new(Self::customer_partition(tenant, customer), "FACTOR#TOTP")
    }

    pub const PASSKEY_PREFIX: &'static str = "FACTOR#PASSKEY#";

    /// A passkey of a customer (see `store::passkeys`), by the id derived
    /// from its credential id: in the customer's partition, so a sign-in
    /// finds it from the user handle (the customer id) and deleting the
    /// account deletes it. Sorts with the authenticator under `FACTOR#`.
    pub fn passkey(tenant: &TenantId, customer: &CustomerId, passkey_id: &str) -> Self {
        Self::new(Self::customer_partition(tenant, customer), format!("{}{passkey_id}", Self::PASSKEY_PREFIX))
    }

    /// A passkey ceremony's challenge (registration or sign-in), by the hash
    /// of its id (see `store::passkeys`); apart from second-factor challenges
    /// by its sort key.
    pub fn passkey_challenge(tenant: &TenantId, hash: &str) -> Self {
        Self::new(format!("T#{tenant}#CHALLENGE#{hash}"), "PASSKEY")
    }

    /// A second-factor challenge, by hash (see `store::factors`).
    pub fn challenge(tenant: &TenantId, hash: &str) -> Self {
        Self::new(format!("T#{tenant}#CHALLENGE#{hash}"), "CHALLENGE")
    }

    pub const ADDRESS_PREFIX: &'static str = "ADDR#";

    pub fn address(tenant: &TenantId, customer: &CustomerId, address_id: &str) -> Self {
        Self::new(Self::customer_partition(tenant, customer), format!("{}{address_id}", Self::ADDRESS_PREFIX))
    }

    /// A Moltin v1 customer token, by hash (see `store::moltin_tokens`): a
    /// handle on a customer session, outside the customer's partition so
    /// one read finds it; it dies with its session and expires by `ttl`.
    pub fn moltin_token(tenant: &TenantId, hash: &str) -> Self {
        Self::new(format!("T#{tenant}#MOLTIN#{hash}"), "MOLTIN")
    }

    pub fn social(tenant: &TenantId, issuer: &str, subject: &str) -> Self {
        Self::new(format!("T#{tenant}#SOCIAL#{issuer}#{subject}"), "SOCIAL")
    }

    pub fn to_attributes(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }

    /// Reads the key back from a stored item.
    pub fn of_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let pk = item.get(PK)?.as_s().ok()?;
        let sk = item.get(SK)?.as_s().ok()?;
        Some(Self::new(pk.clone(), sk.clone()))
    }
}
