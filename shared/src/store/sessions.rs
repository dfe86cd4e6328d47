use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, DeleteRequest, Put, ReturnValue, TransactWriteItem, Update, WriteRequest,
};
use serde::{Deserialize, Serialize};

use super::{Item, Store, StoreError, Write, epoch_condition, from_item, items_of, n, put_new, s, to_item};
use crate::customer::CustomerRecord;
use crate::domain::{ClientId, CustomerId, SessionId, TenantId};
use crate::table_keys::ItemKey;

/// A session: one sign-in on one device. It exists exactly as long as it is
/// valid; revoking a session deletes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub session_id: SessionId,
    /// Changes whenever the session is (re)started, so refresh tokens of an
    /// earlier session with the same id never work again.
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

/// A refresh token, stored by hash. Used tokens stay (marked `used`) until the
/// session would have ended, so a replay is recognised and revokes the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenRecord {
    pub session_id: SessionId,
    pub family: String,
    pub client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub used: bool,
    pub ttl: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    Rotated,
    /// The old token had been used already (possibly by a parallel request).
    Reused,
    /// The session was revoked, restarted or has expired.
    SessionGone,
}

pub fn session_key(tenant: &TenantId, customer: Option<&CustomerId>, sid: &SessionId) -> ItemKey {
    match customer {
        Some(customer) => ItemKey::customer_session(tenant, customer, sid),
        None => ItemKey::anonymous_session(tenant, sid),
    }
}

/// How starting a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStart {
    Started,
    /// The storefront session the login upgrades was spent (by a parallel
    /// login) or ended meanwhile: nothing was written.
    StorefrontSessionGone,
    /// A parallel transaction on the same items won; nothing was written.
    Contended,
}

impl Store {
    /// Writes a session and its first refresh token (plus `extra` items) in one
    /// transaction. An existing session with the same id is replaced, which
    /// retires its refresh tokens (new family). `upgrades`: the family of the
    /// anonymous storefront session (same id) a login upgrades; that session
    /// is deleted in the same transaction, so its access and refresh tokens
    /// are spent and no second login can start from it.
    pub async fn start_session(
        &self,
        tenant: &TenantId,
        session: &SessionRecord,
        refresh_hash: &str,
        upgrades: Option<&str>,
        extra: Vec<Write>,
    ) -> Result<SessionStart, StoreError> {
        let sid = &session.session_id;
        let key = session_key(tenant, session.customer_id.as_ref(), sid);
        let put_session = Put::builder().table_name(&self.table).set_item(Some(to_item(&key, session)?)).build()?;
        let mut items = vec![
            TransactWriteItem::builder().put(put_session).build(),
            put_new(&self.table, &ItemKey::refresh_token(tenant, refresh_hash), &refresh_record(session, false))?,
        ];
        const SPEND_AT: usize = 2;
        if let Some(family) = upgrades {
            let spend = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(ItemKey::anonymous_session(tenant, sid).to_attributes()))
                .condition_expression("#family = :family")
                .expression_attribute_names("#family", "family")
                .expression_attribute_values(":family", s(family))
                .build()?;
            items.push(TransactWriteItem::builder().delete(spend).build());
        }
        items.extend(items_of(extra));
        match self.transact(items).await? {
            Ok(()) => Ok(SessionStart::Started),
            Err(codes) if upgrades.is_some() && codes.get(SPEND_AT).is_some_and(|c| c == "ConditionalCheckFailed") => {
                Ok(SessionStart::StorefrontSessionGone)
            }
            Err(codes) if codes.iter().any(|c| c == "TransactionConflict") => Ok(SessionStart::Contended),
            Err(codes) => Err(StoreError::Invalid(format!("start session cancelled: {codes:?}"))),
        }
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
        let session_key = session_key(tenant, customer, sid);
        let Some(customer) = customer else { return Ok((self.get(&session_key).await?, None)) };
        let profile_key = ItemKey::profile(tenant, customer);
        let mut found = self.get_many(&[session_key.clone(), profile_key.clone()]).await?;
        let session = found.remove(&session_key).map(from_item).transpose()?;
        let profile = found.remove(&profile_key).map(from_item).transpose()?;
        Ok((session, profile))
    }

    pub async fn get_refresh_token(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.get(&ItemKey::refresh_token(tenant, hash)).await
    }

    /// Marks the old refresh token used, stores the new one and touches the
    /// session, all or nothing; the conditions make a token single-use even
    /// under parallel requests, and refuse a session whose family or
    /// credential epoch (`epoch`, customer sessions) moved on meanwhile.
    pub async fn rotate_refresh_token(
        &self,
        tenant: &TenantId,
        old_hash: &str,
        old: &RefreshTokenRecord,
        new_hash: &str,
        epoch: Option<u64>,
        now: i64,
    ) -> Result<RotateOutcome, StoreError> {
        let customer = old.customer_id.as_ref();
        let session = session_key(tenant, customer, &old.session_id);
        let mark_used = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::refresh_token(tenant, old_hash).to_attributes()))
            .update_expression("SET #used = :true")
            .condition_expression("#used = :false")
            .expression_attribute_names("#used", "used")
            .expression_attribute_values(":true", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .expression_attribute_values(":false", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .build()?;
        let mut touch_session = Update::builder()
            .table_name(&self.table)
            .set_key(Some(session.to_attributes()))
            .update_expression("SET lastUsedAt = :now")
            .expression_attribute_names("#family", "family")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":family", s(&old.family));
        let mut items = Vec::new();
        match (epoch, customer) {
            (Some(epoch), Some(customer)) => {
                touch_session = touch_session
                    .condition_expression(format!(
                        "attribute_exists(PK) AND #family = :family AND expiresAt > :now AND {}",
                        epoch_condition(epoch)
                    ))
                    .expression_attribute_names("#epoch", "epoch")
                    .expression_attribute_values(":epoch", n(epoch));
                let profile_holds = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(ItemKey::profile(tenant, customer).to_attributes()))
                    .condition_expression(epoch_condition(epoch))
                    .expression_attribute_names("#epoch", "epoch")
                    .expression_attribute_values(":epoch", n(epoch))
                    .build()?;
                items.push(TransactWriteItem::builder().condition_check(profile_holds).build());
            }
            _ => {
                touch_session = touch_session
                    .condition_expression("attribute_exists(PK) AND #family = :family AND expiresAt > :now")
            }
        }
        let new_record = RefreshTokenRecord { used: false, ..old.clone() };
        items.splice(
            0..0,
            [
                TransactWriteItem::builder().update(mark_used).build(),
                put_new(&self.table, &ItemKey::refresh_token(tenant, new_hash), &new_record)?,
                TransactWriteItem::builder().update(touch_session.build()?).build(),
            ],
        );
        Ok(match self.transact(items).await? {
            Ok(()) => RotateOutcome::Rotated,
            Err(codes) => match codes.first().map(String::as_str) {
                Some("ConditionalCheckFailed" | "TransactionConflict") => RotateOutcome::Reused,
                _ => RotateOutcome::SessionGone,
            },
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

    /// The customer's live sessions: not expired and begun in `epoch`.
    pub async fn list_sessions(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        epoch: u64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let now = crate::clock::now_epoch();
        let items = self.query_prefix(&ItemKey::customer_partition(tenant, customer), ItemKey::SESSION_PREFIX).await?;
        let mut sessions = items.into_iter().map(from_item::<SessionRecord>).collect::<Result<Vec<_>, _>>()?;
        sessions.retain(|s| s.expires_at > now && s.epoch == epoch);
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
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

pub(crate) fn refresh_record(session: &SessionRecord, used: bool) -> RefreshTokenRecord {
    RefreshTokenRecord {
        session_id: session.session_id.clone(),
        family: session.family.clone(),
        client_id: session.client_id.clone(),
        customer_id: session.customer_id.clone(),
        used,
        ttl: session.expires_at,
    }
}
