use aws_sdk_dynamodb::types::{
    Delete, DeleteRequest, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, WriteRequest,
};
use serde::{Deserialize, Serialize};

use super::{Item, Store, StoreError, from_item, n, s};
use crate::customer::CustomerRecord;
use crate::domain::{ClientId, CustomerId, SessionId, TenantId};
use crate::secrets::{OpaqueSecret, hash_secret};
use crate::table_keys::ItemKey;

/// A session: one sign-in on one device, in one item that also holds its
/// refresh token (by hash). It exists exactly as long as it is valid;
/// revoking a session deletes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub session_id: SessionId,
    /// Changes whenever the session is (re)started, so tokens of an earlier
    /// session with the same id never work again.
    pub family: String,
    pub client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub created_at: i64,
    pub last_used_at: i64,
    /// Absolute end of the session (refresh token lifetime).
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The customer's credential epoch when the session began (customer sessions).
    #[serde(default)]
    pub epoch: u64,
    /// The provider identity the customer signed in with (social login);
    /// with `created_at`, a fresh one stands in for the password (step-up),
    /// and unlinking it ends the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<crate::customer::SocialLink>,
    /// Hex SHA-256 of the session's current refresh token.
    #[serde(default)]
    pub refresh_hash: String,
    /// The refresh token rotated away last: presented again, it is a replay,
    /// and the session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_hash: Option<String>,
    pub ttl: i64,
}

impl SessionRecord {
    /// Whether this session is the live one a token of `client` and `family`
    /// speaks for; a customer session also needs its profile, still at the
    /// session's epoch (a password, e-mail or reset since ends it).
    pub fn is_live(&self, client: &ClientId, family: &str, profile: Option<&CustomerRecord>, now: i64) -> bool {
        let epoch_holds = match &self.customer_id {
            Some(_) => profile.is_some_and(|p| p.epoch == self.epoch),
            None => true,
        };
        &self.client_id == client && self.family == family && self.expires_at > now && epoch_holds
    }
}

/// A refresh token names its session, so rotating it is one conditional
/// update of the session item and no lookup item is needed:
/// `{sessionId}.{secret}` for a storefront session and
/// `{customerId}.{sessionId}.{secret}` for a customer's (ids never hold a dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub customer: Option<CustomerId>,
    pub session: SessionId,
    pub hash: String,
}

impl RefreshToken {
    /// `None` for anything not shaped like a refresh token.
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.split('.').collect();
        let (customer, session, secret) = match parts.as_slice() {
            [session, secret] => (None, *session, *secret),
            [customer, session, secret] => (Some(CustomerId::parse(customer).ok()?), *session, *secret),
            _ => return None,
        };
        if secret.len() < 32 {
            return None;
        }
        Some(Self { customer, session: SessionId::parse(session).ok()?, hash: hash_secret(raw) })
    }

    /// A new token for a session: the value to hand out, and its parsed form.
    pub fn issue(customer: Option<&CustomerId>, session: &SessionId) -> (String, Self) {
        let secret = OpaqueSecret::generate().value;
        let value = match customer {
            Some(customer) => format!("{customer}.{session}.{secret}"),
            None => format!("{session}.{secret}"),
        };
        let token = Self { customer: customer.cloned(), session: session.clone(), hash: hash_secret(&value) };
        (value, token)
    }

    fn key(&self, tenant: &TenantId) -> ItemKey {
        session_key(tenant, self.customer.as_ref(), &self.session)
    }
}

/// How presenting a refresh token ended.
#[derive(Debug)]
pub enum Rotation {
    /// The token was the session's current one; the session as it is now.
    Rotated(SessionRecord),
    /// The token had been rotated away already (replayed, or used by a
    /// parallel request): the session as it was.
    Replayed(SessionRecord),
    /// No such session, an expired one, another client's, or not its token.
    Invalid,
}

pub fn session_key(tenant: &TenantId, customer: Option<&CustomerId>, sid: &SessionId) -> ItemKey {
    match customer {
        Some(customer) => ItemKey::customer_session(tenant, customer, sid),
        None => ItemKey::anonymous_session(tenant, sid),
    }
}

impl Store {
    /// Writes a new session (one item); `false` when one with its key exists.
    pub async fn put_session(&self, tenant: &TenantId, session: &SessionRecord) -> Result<bool, StoreError> {
        self.put_if_absent(&session_key(tenant, session.customer_id.as_ref(), &session.session_id), session).await
    }

    /// Spends a storefront session for the login that upgrades it: deletes
    /// it if it is still the login (family) the token speaks for. Of
    /// parallel logins from one storefront session, exactly one gets `true`.
    pub async fn spend_storefront_session(
        &self,
        tenant: &TenantId,
        sid: &SessionId,
        family: &str,
    ) -> Result<bool, StoreError> {
        self.revoke_family(tenant, None, sid, family).await
    }

    /// A storefront (anonymous) session: what a login or sign-up from it checks.
    pub async fn get_storefront_session(
        &self,
        tenant: &TenantId,
        sid: &SessionId,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.get(&ItemKey::anonymous_session(tenant, sid)).await
    }

    /// The session and, for a customer session, the customer's profile, in
    /// one round trip: enough to tell whether a token is still good.
    pub async fn session_and_profile(
        &self,
        tenant: &TenantId,
        customer: Option<&CustomerId>,
        sid: &SessionId,
    ) -> Result<(Option<SessionRecord>, Option<CustomerRecord>), StoreError> {
        let Some(customer) = customer else { return Ok((self.get(&session_key(tenant, None, sid)).await?, None)) };
        let read = self.customer_read(tenant, customer, sid, &super::Beside::Nothing).await?;
        Ok((read.session, read.profile))
    }

    /// Rotates a refresh token in one conditional update of its session:
    /// the token must be the session's current one, the session unexpired
    /// (and, for `client`, that client's). The old hash is kept as spent, so
    /// a replay of it is recognised.
    pub async fn rotate_refresh_token(
        &self,
        tenant: &TenantId,
        token: &RefreshToken,
        new_hash: &str,
        client: Option<&ClientId>,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let mut condition = "refreshHash = :old AND expiresAt > :now".to_owned();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(token.key(tenant).to_attributes()))
            .update_expression("SET refreshHash = :new, spentHash = :old, lastUsedAt = :now")
            .expression_attribute_values(":old", s(&token.hash))
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(client) = client {
            condition.push_str(" AND clientId = :client");
            update = update.expression_attribute_values(":client", s(client));
        }
        Ok(match self.conditional_update(update.condition_expression(condition)).await? {
            Ok(now_item) => Rotation::Rotated(from_item(now_item)?),
            Err(Some(old)) => {
                let session: SessionRecord = from_item(old)?;
                let client_holds = client.is_none_or(|c| &session.client_id == c);
                if client_holds && session.spent_hash.as_deref() == Some(token.hash.as_str()) {
                    Rotation::Replayed(session)
                } else {
                    Rotation::Invalid
                }
            }
            Err(None) => Rotation::Invalid,
        })
    }

    /// Ends the session of a replayed refresh token, only if it is still the
    /// login (family) that token belongs to: a newer login of the same
    /// storefront session is left alone.
    pub async fn revoke_family(
        &self,
        tenant: &TenantId,
        customer: Option<&CustomerId>,
        sid: &SessionId,
        family: &str,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(tenant, customer, sid).to_attributes()))
            .condition_expression("#family = :family")
            .expression_attribute_names("#family", "family")
            .expression_attribute_values(":family", s(family))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes (revokes) one session; returns whether it existed.
    pub async fn delete_session(
        &self,
        tenant: &TenantId,
        customer: Option<&CustomerId>,
        sid: &SessionId,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(tenant, customer, sid).to_attributes()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// A transaction item deleting a session (e.g. beside a password change).
    pub fn delete_session_item(&self, key: &ItemKey) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key.to_attributes())).build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Revokes every session of a customer except `keep`.
    pub async fn delete_sessions(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        keep: Option<&SessionId>,
    ) -> Result<usize, StoreError> {
        let items = self.query_prefix(&ItemKey::customer_partition(tenant, customer), ItemKey::SESSION_PREFIX).await?;
        let keys: Vec<ItemKey> = items
            .iter()
            .filter_map(ItemKey::of_item)
            .filter(|k| keep.is_none_or(|sid| k.sk != format!("{}{sid}", ItemKey::SESSION_PREFIX)))
            .collect();
        self.delete_keys(&keys).await?;
        Ok(keys.len())
    }

    /// Every item of a partition whose sort key starts with `prefix`.
    pub async fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        self.query_all(query).await
    }

    /// Deletes items in batches of 25, retrying unprocessed ones.
    pub async fn delete_keys(&self, keys: &[ItemKey]) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|k| {
                    Ok(WriteRequest::builder()
                        .delete_request(DeleteRequest::builder().set_key(Some(k.to_attributes())).build()?)
                        .build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            while !requests.is_empty() {
                let out = self.client.batch_write_item().request_items(&self.table, requests).send().await?;
                requests = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
            }
        }
        Ok(())
    }
}
