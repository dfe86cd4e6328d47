//! The credential epoch: every change of what proves who the customer is (a
//! new password, an activation, a new login e-mail) is one transaction that
//! moves the profile and its e-mail guard to the next epoch. Sessions and
//! one-time secrets carry the epoch they were issued under and are dead once
//! it has moved on; this transaction also deletes the outstanding secrets it
//! knows of, so nothing lingers.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use super::{Store, StoreError, epoch_condition, n, put_new_or_expired, s};
use crate::customer::{CustomerRecord, CustomerStatus, EmailGuard, SocialLink};
use crate::domain::{CustomerId, Email, TenantId};
use crate::store::throttle::LoginBudget;
use crate::store::{SessionRecord, TokenPurpose};
use crate::table_keys::ItemKey;

/// What changes besides the epoch.
#[derive(Debug, Clone, Copy)]
pub enum CredentialChange<'a> {
    /// A new password (PHC string): changed, reset, generated, or chosen at activation.
    Password { hash: &'a str, initial: bool },
    /// Activation with the password the account has.
    Activation,
    /// A new login e-mail (confirmed through a key sent to it).
    Email { new: &'a Email, sync_contact_email: bool },
    /// A linked provider identity removed: one way in less.
    Unlink { link: &'a SocialLink },
    /// An authenticator (TOTP) enrolled or removed; its own item goes with
    /// the change (`commit_credential_change_with`).
    SecondFactor { enabled: bool },
    /// A passkey added or removed; its own item goes with the change.
    Passkey,
}

/// One credential change, against the profile as read.
pub struct CredentialCommit<'a> {
    /// The profile as read: its epoch, e-mail and outstanding tokens are what
    /// the transaction assumes (and checks).
    pub profile: &'a CustomerRecord,
    pub change: CredentialChange<'a>,
    /// `PENDING` → `ACTIVE` as well (activation; a reset of a pending account).
    pub activate: bool,
    /// The one-time token this change spends (by hash), if any.
    pub redeem: Option<(&'a str, TokenPurpose)>,
    /// A password change keeps the session that made it: it moves along to the new epoch.
    pub keep_session: Option<&'a SessionRecord>,
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    Done,
    /// The token was spent, expired or retired, or the account changed meanwhile.
    Rejected,
    /// E-mail change only: the new address belongs to someone else now.
    EmailTaken,
}

pub(crate) fn status_value(status: CustomerStatus) -> AttributeValue {
    s(match status {
        CustomerStatus::Pending => "PENDING",
        CustomerStatus::Active => "ACTIVE",
    })
}

impl Store {
    /// Commits `commit` in one transaction and then clears away the sessions
    /// it ended (they are already dead by their epoch; this keeps the table
    /// and the session list tidy).
    pub async fn commit_credential_change(
        &self,
        tenant: &TenantId,
        commit: CredentialCommit<'_>,
    ) -> Result<CommitOutcome, StoreError> {
        self.commit_credential_change_with(tenant, commit, Vec::new()).await
    }

    /// `commit_credential_change` with `extra` writes in the same transaction
    /// (after its own items, so a failed condition of theirs is `Rejected`).
    pub async fn commit_credential_change_with(
        &self,
        tenant: &TenantId,
        commit: CredentialCommit<'_>,
        extra: Vec<super::Write>,
    ) -> Result<CommitOutcome, StoreError> {
        let profile = commit.profile;
        let (id, email) = (&profile.id, &profile.email);
        let next = profile.epoch + 1;
        let mut items = Vec::new();

        if let Some((hash, purpose)) = commit.redeem {
            items.push(self.consume_one_time_token_item(tenant, hash, purpose, commit.now)?.0);
        }
        let redeem_index = commit.redeem.map(|_| 0);
        items.push(self.profile_update(tenant, id, &commit, next)?);
        let new_guard_index = items.len();
        items.extend(self.guard_writes(tenant, id, email, &commit, next)?);
        let spent = commit.redeem.map(|(hash, _)| hash);
        for hash in profile.pending_tokens.values().filter(|hash| Some(hash.as_str()) != spent) {
            items.push(self.delete_one_time_token_item(tenant, hash)?);
        }
        if matches!(commit.change, CredentialChange::Password { .. }) {
            // A new password ends a lock: the owner is back in control.
            items.push(self.clear_budget_item(tenant, &LoginBudget::Account(id.clone()))?.0);
        }
        if let Some(session) = commit.keep_session {
            items.push(self.keep_session_item(tenant, id, session, next)?);
        }
        if let CredentialChange::Unlink { link } = commit.change {
            items.push(self.delete_social_link_item(tenant, id, link)?);
        }
        if commit.activate
            && let Some(address) = &profile.default_address_id
        {
            // The sign-up address was to expire with the pending account.
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(ItemKey::address(tenant, id, address.as_str()).to_attributes()))
                .update_expression("REMOVE #ttl")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#ttl", "ttl")
                .build()?;
            items.push(TransactWriteItem::builder().update(update).build());
        }

        items.extend(super::items_of(extra));
        let outcome = match self.transact(items).await? {
            Ok(()) => CommitOutcome::Done,
            Err(codes) => {
                let failed =
                    |i: Option<usize>| i.and_then(|i| codes.get(i)).is_some_and(|c| c == "ConditionalCheckFailed");
                // The token is checked first: a spent key says nothing about the address.
                if failed(redeem_index) {
                    CommitOutcome::Rejected
                } else if matches!(commit.change, CredentialChange::Email { .. }) && failed(Some(new_guard_index)) {
                    CommitOutcome::EmailTaken
                } else {
                    CommitOutcome::Rejected
                }
            }
        };
        if outcome == CommitOutcome::Done {
            let keep = commit.keep_session.map(|s| &s.session_id);
            if let Err(err) = self.delete_sessions(tenant, id, keep).await {
                tracing::warn!(tenant = %tenant, customer_id = %id, error = %err, "ended sessions not cleared");
            }
        }
        Ok(outcome)
    }

    fn profile_update(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
        commit: &CredentialCommit<'_>,
        next: u64,
    ) -> Result<TransactWriteItem, StoreError> {
        let profile = commit.profile;
        let mut set = vec!["#epoch = :next", "modifiedAt = :now"];
        let mut remove = vec!["pendingTokens"];
        let mut conditions = vec!["attribute_exists(PK)".to_owned(), epoch_condition(profile.epoch).to_owned()];
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::profile(tenant, id).to_attributes()))
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_values(":epoch", n(profile.epoch))
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":now", s(crate::clock::rfc3339(commit.now)));
        // The version counts changes a client can see: status, e-mail.
        let visible = commit.activate
            || matches!(commit.change, CredentialChange::Email { .. } | CredentialChange::Unlink { .. });
        if visible {
            set.push("#version = #version + :one");
            update = update.expression_attribute_names("#version", "version").expression_attribute_values(":one", n(1));
        }
        match commit.change {
            CredentialChange::Password { hash, initial } => {
                set.extend(["passwordHash = :hash", "initialPassword = :initial"]);
                update = update
                    .expression_attribute_values(":hash", s(hash))
                    .expression_attribute_values(":initial", AttributeValue::Bool(initial));
            }
            CredentialChange::Activation | CredentialChange::Passkey => {}
            CredentialChange::SecondFactor { enabled } => {
                set.push("secondFactor = :second");
                update = update.expression_attribute_values(":second", AttributeValue::Bool(enabled));
            }
            CredentialChange::Unlink { link } => {
                // The list as read, less the link; the version says nobody changed it since.
                let remaining: Vec<&SocialLink> =
                    profile.social_links.iter().filter(|l| !l.is(&link.issuer, &link.subject)).collect();
                set.push("socialLinks = :links");
                conditions.push("#version = :version".into());
                update = update
                    .expression_attribute_values(":links", serde_dynamo::to_attribute_value(remaining)?)
                    .expression_attribute_values(":version", n(profile.version));
            }
            CredentialChange::Email { new, sync_contact_email } => {
                set.push("#email = :new");
                conditions.push("#email = :old".into());
                update = update
                    .expression_attribute_names("#email", "email")
                    .expression_attribute_values(":new", s(new.as_str()))
                    .expression_attribute_values(":old", s(profile.email.as_str()));
                if sync_contact_email {
                    set.push("#details.contactEmail = :new");
                    update = update.expression_attribute_names("#details", "details");
                }
            }
        }
        if commit.activate {
            set.push("#status = :active");
            remove.push("#ttl");
            conditions.push("#status = :pending".into());
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":active", status_value(CustomerStatus::Active))
                .expression_attribute_values(":pending", status_value(CustomerStatus::Pending));
        }
        let update = update
            .update_expression(format!("SET {} REMOVE {}", set.join(", "), remove.join(", ")))
            .condition_expression(conditions.join(" AND "))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The e-mail guard follows the profile: login reads it alone.
    fn guard_writes(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
        email: &Email,
        commit: &CredentialCommit<'_>,
        next: u64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let old_guard = ItemKey::email_guard(tenant, &email.normalized());
        if let CredentialChange::Email { new, .. } = commit.change {
            let guard = EmailGuard { email: new.clone(), epoch: next, ..EmailGuard::of(commit.profile) };
            let put = put_new_or_expired(&self.table, &ItemKey::email_guard(tenant, &new.normalized()), &guard)?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(old_guard.to_attributes()))
                .condition_expression("customerId = :id")
                .expression_attribute_values(":id", s(id.as_str()))
                .build()?;
            return Ok(vec![put, TransactWriteItem::builder().delete(delete).build()]);
        }
        let mut set = vec!["#epoch = :next"];
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(old_guard.to_attributes()))
            .condition_expression("customerId = :id")
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_values(":id", s(id.as_str()))
            .expression_attribute_values(":next", n(next));
        if let CredentialChange::Password { hash, initial } = commit.change {
            set.extend(["passwordHash = :hash", "initialPassword = :initial"]);
            update = update
                .expression_attribute_values(":hash", s(hash))
                .expression_attribute_values(":initial", AttributeValue::Bool(initial));
        }
        if let CredentialChange::SecondFactor { enabled } = commit.change {
            set.push("secondFactor = :second");
            update = update.expression_attribute_values(":second", AttributeValue::Bool(enabled));
        }
        let mut expression = String::new();
        if commit.activate {
            set.push("#status = :active");
            expression = " REMOVE #ttl".into();
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":active", status_value(CustomerStatus::Active));
        }
        let update = update.update_expression(format!("SET {}{expression}", set.join(", "))).build()?;
        Ok(vec![TransactWriteItem::builder().update(update).build()])
    }

    /// Moves the session making a password change to the new epoch, if it is
    /// still the login that asked.
    fn keep_session_item(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
        session: &SessionRecord,
        next: u64,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::customer_session(tenant, id, &session.session_id).to_attributes()))
            .update_expression("SET #epoch = :next")
            .condition_expression("#family = :family")
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_names("#family", "family")
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":family", s(&session.family))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Replaces an imported legacy hash (or weaker argon2 parameters) by a
    /// current hash of the same password, on profile and guard, only while
    /// the epoch is the one the login verified against: a reset committed in
    /// between is never undone. Not a credential change: the epoch stays.
    pub async fn upgrade_password_hash(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
        email: &Email,
        hash: &str,
        epoch: u64,
    ) -> Result<bool, StoreError> {
        let keys = [ItemKey::profile(tenant, id), ItemKey::email_guard(tenant, &email.normalized())];
        let items = keys
            .iter()
            .map(|key| {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key.to_attributes()))
                    .update_expression("SET passwordHash = :hash")
                    .condition_expression(format!("(customerId = :id OR #id = :id) AND {}", epoch_condition(epoch)))
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_names("#epoch", "epoch")
                    .expression_attribute_values(":hash", s(hash))
                    .expression_attribute_values(":id", s(id.as_str()))
                    .expression_attribute_values(":epoch", n(epoch))
                    .build()?;
                Ok(TransactWriteItem::builder().update(update).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(self.transact(items).await?.is_ok())
    }
}
