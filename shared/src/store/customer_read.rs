//! What an authenticated customer call reads: its session and the profile,
//! plus what the route itself needs, in one round trip. The customer's
//! partition sorts `ADDR#… < CODE#… < FACTOR#… < PROFILE < SESSION#…`, so one key
//! range holds the profile and the session, with the addresses or with the
//! sessions, and a BatchGetItem holds one address beside the session.

use super::{Store, StoreError, from_item, is_expired, s};
use crate::address::AddressRecord;
use crate::customer::CustomerRecord;
use crate::domain::{AddressId, CustomerId, SessionId, TenantId};
use crate::store::{PasskeyRecord, SessionRecord};
use crate::table_keys::ItemKey;

/// What a route reads beside the caller's session and profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Beside {
    Nothing,
    /// One address (`GET`, `PATCH`, `PUT`, `DELETE me/addresses/{id}`).
    Address(AddressId),
    /// The address book (`GET me/addresses`).
    Addresses,
    /// Every session of the customer (`GET me/sessions`).
    Sessions,
    /// The address book and every session (`GET me/export`).
    Everything,
}

/// The items of one such read; what was not asked for is empty.
#[derive(Debug, Default)]
pub struct CustomerRead {
    pub session: Option<SessionRecord>,
    pub profile: Option<CustomerRecord>,
    pub address: Option<AddressRecord>,
    pub addresses: Vec<AddressRecord>,
    /// Unexpired sessions, the caller's included, in no particular order.
    pub sessions: Vec<SessionRecord>,
    /// The passkeys (`Beside::Everything` only: the export).
    pub passkeys: Vec<PasskeyRecord>,
}

impl Store {
    /// Reads a customer's session `sid`, the profile and `beside` in one
    /// strongly consistent round trip (expired items left out).
    pub async fn customer_read(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        sid: &SessionId,
        beside: &Beside,
    ) -> Result<CustomerRead, StoreError> {
        let session_key = ItemKey::customer_session(tenant, customer, sid);
        let profile_key = ItemKey::profile(tenant, customer);
        let range = match beside {
            // A Query is billed by the size it reads (4 KB a unit), a BatchGetItem
            // by the item: the profile and the sessions up to the caller's are
            // one unit for most customers, where the two items are two.
            Beside::Nothing => Some(("PROFILE".to_owned(), session_key.sk.clone())),
            Beside::Address(_) => None,
            // Addresses up to the caller's session: codes, factors and older sessions come along, and are skipped.
            Beside::Addresses => Some((ItemKey::ADDRESS_PREFIX.to_owned(), session_key.sk.clone())),
            // `$` sorts right after `#`: every `SESSION#…` key.
            Beside::Sessions => Some(("PROFILE".to_owned(), "SESSION$".to_owned())),
            Beside::Everything => Some((ItemKey::ADDRESS_PREFIX.to_owned(), "SESSION$".to_owned())),
        };
        let mut read = CustomerRead::default();
        if let Some((from, to)) = range {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(&profile_key.pk))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to))
                .consistent_read(true);
            let now = crate::clock::now_epoch();
            for item in self.query_all(query).await? {
                let Some(key) = ItemKey::of_item(&item) else { continue };
                if is_expired(&item, now) {
                    continue;
                }
                if key == profile_key {
                    read.profile = Some(from_item(item)?);
                } else if key.sk.starts_with(ItemKey::ADDRESS_PREFIX) {
                    read.addresses.push(from_item(item)?);
                } else if key.sk.starts_with(ItemKey::SESSION_PREFIX) {
                    let session: SessionRecord = from_item(item)?;
                    if key == session_key {
                        read.session = Some(session.clone());
                    }
                    if matches!(beside, Beside::Sessions | Beside::Everything) {
                        read.sessions.push(session);
                    }
                } else if key.sk.starts_with(ItemKey::PASSKEY_PREFIX) && matches!(beside, Beside::Everything) {
                    read.passkeys.push(from_item(item)?);
                }
            }
            return Ok(read);
        }
        let mut keys = vec![session_key.clone(), profile_key.clone()];
        let address_key = match beside {
            Beside::Address(id) => Some(ItemKey::address(tenant, customer, id.as_str())),
            _ => None,
        };
        keys.extend(address_key.clone());
        let mut found = self.get_many(&keys).await?;
        read.session = found.remove(&session_key).map(from_item).transpose()?;
        read.profile = found.remove(&profile_key).map(from_item).transpose()?;
        read.address = address_key.and_then(|key| found.remove(&key)).map(from_item).transpose()?;
        Ok(read)
    }
}
