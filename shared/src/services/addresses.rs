//! The address book's rules: at most `MAX_ADDRESSES` per customer, exactly one
//! default once any address exists, optimistic versions on every change.
//! The store enforces each rule with conditions in one transaction; a
//! transaction cancelled because another request held the profile at the same
//! moment is retried here after a short, random pause.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::address::{ADDRESS_FIELDS, Address, AddressRecord, ParsedAddress};
use crate::clock;
use crate::domain::{AddressId, CustomerId, TenantId};
use crate::error::{ApiError, FieldError};
use crate::fields::FieldSpec;
use crate::http::{AddressBook, CustomerCaller, OneAddress};
use crate::state::AppState;
use crate::store::{DefaultChange, DeleteOutcome, DeletePlan, InsertOutcome, WriteOutcome};

pub const MAX_ADDRESSES: u32 = 50;

/// Attempts per request when parallel requests contend for the profile.
const MAX_ATTEMPTS: u32 = 20;

/// An address as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    pub id: AddressId,
    #[serde(flatten)]
    pub address: Address,
    pub is_default: bool,
    pub metadata: AddressMetadata,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressMetadata {
    pub version: u64,
    pub created_at: String,
    pub modified_at: String,
}

impl AddressView {
    pub fn of(record: AddressRecord, default_id: Option<&AddressId>) -> Self {
        let is_default = default_id == Some(&record.id);
        Self {
            id: record.id,
            address: record.address,
            is_default,
            metadata: AddressMetadata {
                version: record.version,
                created_at: record.created_at,
                modified_at: record.modified_at,
            },
        }
    }
}

/// `GET me/addresses/fields`: the very table the validation runs on.
#[derive(Debug, Serialize)]
pub struct FormSchema {
    pub fields: &'static [FieldSpec],
}

pub fn form_schema() -> FormSchema {
    FormSchema { fields: ADDRESS_FIELDS }
}

/// PATCH lays the body over the stored address; PUT replaces it whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Patch,
    Replace,
}

/// Every address of the customer, oldest first, with `isDefault`.
/// The address book read with the caller's session, oldest first.
pub fn list(caller: &CustomerCaller<AddressBook>) -> Vec<AddressView> {
    let default_id = caller.profile.default_address_id.as_ref();
    oldest_first(caller.beside.0.clone()).into_iter().map(|r| AddressView::of(r, default_id)).collect()
}

/// The address read with the caller's session.
pub fn get(caller: &CustomerCaller<OneAddress>) -> Result<AddressView, ApiError> {
    let record = caller.beside.record.clone().ok_or(ApiError::NotFound)?;
    Ok(AddressView::of(record, caller.profile.default_address_id.as_ref()))
}

/// The address book read on its own (for callers without a `CustomerCaller`
/// read: the seed dialects' token handles), oldest first.
pub async fn list_stored(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
) -> Result<Vec<AddressView>, ApiError> {
    let (records, profile) =
        tokio::try_join!(state.store.list_addresses(tenant, customer), state.store.get_customer(tenant, customer))?;
    let default_id = profile.and_then(|p| p.default_address_id);
    Ok(oldest_first(records).into_iter().map(|r| AddressView::of(r, default_id.as_ref())).collect())
}

/// One address read on its own (see `list_stored`).
pub async fn get_stored(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    id: &AddressId,
) -> Result<AddressView, ApiError> {
    let (record, default_id) =
        state.store.get_address_and_default(tenant, customer, id).await?.ok_or(ApiError::NotFound)?;
    Ok(AddressView::of(record, default_id.as_ref()))
}

/// Adds an address; the first one, or one sent with `isDefault: true`,
/// becomes the default. Returns the new id.
pub async fn create(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    body: &Map<String, Value>,
) -> Result<AddressId, ApiError> {
    let ParsedAddress { address, is_default } = Address::parse(body, "").map_err(ApiError::Validation)?;
    let record = AddressRecord::new(address);
    let make_default = is_default == Some(true);
    for attempt in 0..MAX_ATTEMPTS {
        match state.store.insert_address(tenant, customer, &record, make_default, MAX_ADDRESSES).await? {
            InsertOutcome::Inserted => return Ok(record.id),
            InsertOutcome::LimitReached => return Err(limit_reached()),
            InsertOutcome::Contended => pause(attempt).await,
        }
    }
    Err(busy())
}

/// PATCH or PUT. `metadata.version`, when sent, must be the stored version
/// (else 409 with the current one); without it the update applies to the
/// address as it is. `isDefault: true` moves the default here in the
/// same transaction; `isDefault: false` on the default is refused (422),
/// because exactly one address must stay default.
pub async fn update(
    state: &AppState,
    caller: &CustomerCaller<OneAddress>,
    kind: UpdateKind,
    body: &Map<String, Value>,
) -> Result<AddressView, ApiError> {
    let record = caller.beside.record.clone().ok_or(ApiError::NotFound)?;
    let first = (record, caller.profile.default_address_id.clone());
    let address = StoredAddress { tenant: &caller.tenant, customer: &caller.customer, id: &caller.beside.id };
    update_with(state, address, Some(first), kind, body).await
}

/// `update` for a caller that has not read the address yet (the seed dialects).
pub async fn update_stored(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    id: &AddressId,
    kind: UpdateKind,
    body: &Map<String, Value>,
) -> Result<AddressView, ApiError> {
    update_with(state, StoredAddress { tenant, customer, id }, None, kind, body).await
}

/// Whose address, and which.
#[derive(Clone, Copy)]
struct StoredAddress<'a> {
    tenant: &'a TenantId,
    customer: &'a CustomerId,
    id: &'a AddressId,
}

impl StoredAddress<'_> {
    /// The address and the default address id: `first` when the caller read
    /// them with its session (no second round trip), else read now.
    async fn read(
        self,
        state: &AppState,
        first: &mut Option<(AddressRecord, Option<AddressId>)>,
    ) -> Result<(AddressRecord, Option<AddressId>), ApiError> {
        if let Some(first) = first.take() {
            return Ok(first);
        }
        state.store.get_address_and_default(self.tenant, self.customer, self.id).await?.ok_or(ApiError::NotFound)
    }
}

async fn update_with(
    state: &AppState,
    address: StoredAddress<'_>,
    mut first: Option<(AddressRecord, Option<AddressId>)>,
    kind: UpdateKind,
    body: &Map<String, Value>,
) -> Result<AddressView, ApiError> {
    let StoredAddress { tenant, customer, id } = address;
    let sent_version = sent_version(body);
    // PUT can be validated before any read; PATCH needs the stored address.
    if kind == UpdateKind::Replace {
        let mut errors = sent_version.as_ref().err().cloned().into_iter().collect::<Vec<_>>();
        if let Err(e) = Address::parse(body, "") {
            errors.extend(e);
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    for attempt in 0..MAX_ATTEMPTS {
        let (current, default_id) = address.read(state, &mut first).await?;
        let parsed = match kind {
            UpdateKind::Patch => current.address.patched(body),
            UpdateKind::Replace => Address::parse(body, ""),
        };
        let (parsed, expected) = match (parsed, &sent_version) {
            (Ok(parsed), Ok(expected)) => (parsed, *expected),
            (parsed, version) => {
                let mut errors: Vec<FieldError> = version.as_ref().err().cloned().into_iter().collect();
                errors.extend(parsed.err().unwrap_or_default());
                return Err(ApiError::Validation(errors));
            }
        };
        // A version sent must be the stored one; without one the change is
        // laid over what is stored now (last writer wins, as the seed's
        // clients expect), still conditioned on what this round read.
        if expected.is_some_and(|v| v != current.version) {
            return Err(version_conflict(current.version));
        }
        let expected = expected.unwrap_or(current.version);
        let is_default_now = default_id.as_ref() == Some(id);
        let change = match parsed.is_default {
            Some(true) => DefaultChange::Make,
            Some(false) if is_default_now => return Err(default_required()),
            Some(false) => DefaultChange::MustNotBe,
            None => DefaultChange::Keep,
        };
        let next = AddressRecord {
            address: parsed.address,
            version: current.version + 1,
            modified_at: clock::now_rfc3339_millis(),
            ..current
        };
        match state.store.write_address(tenant, customer, &next, expected, change).await? {
            WriteOutcome::Written => {
                let is_default = match change {
                    DefaultChange::Make => true,
                    DefaultChange::MustNotBe => false,
                    DefaultChange::Keep => is_default_now,
                };
                let default_id = is_default.then_some(next.id.clone());
                return Ok(AddressView::of(next, default_id.as_ref()));
            }
            // Read again: the next round answers 404 or 409 from fresh data.
            WriteOutcome::AddressChanged => {}
            WriteOutcome::IsDefault => return Err(default_required()),
            WriteOutcome::ProfileGone => return Err(ApiError::NotFound),
            WriteOutcome::Contended => pause(attempt).await,
        }
    }
    Err(busy())
}

/// Deletes an address. When it was the default, the oldest remaining address
/// becomes the default in the same transaction.
pub async fn delete(state: &AppState, caller: &CustomerCaller<OneAddress>) -> Result<(), ApiError> {
    let record = caller.beside.record.clone().ok_or(ApiError::NotFound)?;
    let mut first = Some((record, caller.profile.default_address_id.clone()));
    let address = StoredAddress { tenant: &caller.tenant, customer: &caller.customer, id: &caller.beside.id };
    let (tenant, customer, id) = (address.tenant, address.customer, address.id);
    for attempt in 0..MAX_ATTEMPTS {
        let (_, default_id) = address.read(state, &mut first).await?;
        let plan = if default_id.as_ref() == Some(id) {
            let others = state.store.list_addresses(tenant, customer).await?;
            let others = others.into_iter().filter(|a| &a.id != id).collect();
            match oldest_first(others).into_iter().next() {
                Some(oldest) => DeletePlan::DefaultPassesTo(oldest.id),
                None => DeletePlan::LastAddress,
            }
        } else {
            DeletePlan::NotDefault
        };
        match state.store.delete_address(tenant, customer, id, &plan).await? {
            DeleteOutcome::Deleted => return Ok(()),
            DeleteOutcome::AddressGone => return Err(ApiError::NotFound),
            DeleteOutcome::Stale => pause(attempt).await,
        }
    }
    Err(busy())
}

/// Creation order: `createdAt` (parsed, as precision may differ between
/// writers), then id.
/// Creation order (parsed times: sign-up stores seconds, the address book milliseconds).
pub fn oldest_first(mut records: Vec<AddressRecord>) -> Vec<AddressRecord> {
    records.sort_by(|a, b| {
        let created = |r: &AddressRecord| clock::parse_rfc3339(&r.created_at);
        created(a).cmp(&created(b)).then_with(|| a.id.cmp(&b.id))
    });
    records
}

/// `metadata.version` from a body: `Ok(None)` when absent.
fn sent_version(body: &Map<String, Value>) -> Result<Option<u64>, FieldError> {
    match body.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(metadata)) => match metadata.get("version") {
            None => Ok(None),
            Some(version) => {
                version.as_u64().map(Some).ok_or_else(|| FieldError::new("metadata.version", "must be a whole number"))
            }
        },
        Some(_) => Err(FieldError::new("metadata", "must be an object")),
    }
}

/// Contention backs off a little more each time, with jitter so parallel
/// requests do not collide again in lock-step.
async fn pause(attempt: u32) {
    tracing::debug!(attempt, "address book contended; retrying");
    let [jitter] = crate::secrets::random_bytes::<1>();
    let millis = (10 * u64::from(attempt + 1)).min(150) + u64::from(jitter % 40);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

fn limit_reached() -> ApiError {
    ApiError::Unprocessable {
        code: "address_limit_reached",
        errors: vec![FieldError::new("address", format!("at most {MAX_ADDRESSES} addresses can be stored"))],
    }
}

fn default_required() -> ApiError {
    ApiError::Unprocessable {
        code: "default_address_required",
        errors: vec![FieldError::new(
            "isDefault",
            "this is the default address; make another address the default instead",
        )],
    }
}

fn version_conflict(current: u64) -> ApiError {
    ApiError::Conflict {
        code: "version_conflict",
        detail: "metadata.version is missing or stale: read the address again and retry.".into(),
        current_version: Some(current),
    }
}

fn busy() -> ApiError {
    ApiError::Conflict {
        code: "concurrent_update",
        detail: "The address book is being changed by other requests; retry.".into(),
        current_version: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(id: &str, created_at: &str) -> AddressRecord {
        AddressRecord {
            id: AddressId::parse(id).unwrap(),
            created_at: created_at.into(),
            modified_at: created_at.into(),
            ..AddressRecord::new(Address::default())
        }
    }

    #[test]
    fn creation_order_compares_times_of_any_precision_then_ids() {
        let records = vec![
            record("c", "2026-11-22T10:00:01Z"),
            record("b", "2026-11-22T10:00:00.500Z"),
            record("a", "2026-11-22T10:00:00.500Z"),
            record("d", "2026-11-22T10:00:00Z"),
        ];
        let ids: Vec<_> = oldest_first(records).into_iter().map(|r| r.id.to_string()).collect();
        assert_eq!(ids, ["d", "a", "b", "c"]);
    }

    #[test]
    fn the_sent_version_is_read_from_metadata() {
        let version = |v: Value| sent_version(v.as_object().unwrap());
        assert_eq!(version(json!({"metadata": {"version": 3}})), Ok(Some(3)));
        assert_eq!(version(json!({"city": "Berlin"})), Ok(None));
        assert_eq!(version(json!({"metadata": {"version": null}})).unwrap_err().field, "metadata.version");
        assert_eq!(version(json!({"metadata": {"version": "3"}})).unwrap_err().field, "metadata.version");
        assert_eq!(version(json!({"metadata": 3})).unwrap_err().field, "metadata");
    }

    #[test]
    fn the_form_schema_is_the_validation_table() {
        let schema = serde_json::to_value(form_schema()).unwrap();
        let fields = schema["fields"].as_array().unwrap();
        assert_eq!(fields.len(), ADDRESS_FIELDS.len());
        let country = fields.iter().find(|f| f["field"] == "country").unwrap();
        assert_eq!(country["type"], "country");
        assert_eq!(country["required"], true);
        let tags = fields.iter().find(|f| f["field"] == "tags").unwrap();
        assert_eq!(tags["allowedValues"], json!(["BILLING", "SHIPPING"]));
    }
}
