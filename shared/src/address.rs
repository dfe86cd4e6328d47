//! The address: its field table (the one source of truth for validation and
//! for the form schema) and its stored shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::AddressId;
use crate::error::FieldError;
use crate::fields::{self, FieldSpec, FieldType};

pub const TAGS: &[&str] = &["BILLING", "SHIPPING"];

pub const ADDRESS_FIELDS: &[FieldSpec] = &[
    FieldSpec::text("contactName", false, 200),
    FieldSpec::text("companyName", false, 200),
    FieldSpec::text("street", true, 200),
    FieldSpec::text("streetNumber", false, 50),
    FieldSpec::text("streetAppendix", false, 200),
    FieldSpec::text("extraLine1", false, 200),
    FieldSpec::text("extraLine2", false, 200),
    FieldSpec::text("extraLine3", false, 200),
    FieldSpec::text("extraLine4", false, 200),
    FieldSpec::text("zipCode", true, 20),
    FieldSpec::text("city", true, 100),
    FieldSpec::of("country", FieldType::Country, true, Some(2)),
    FieldSpec::text("state", false, 100),
    FieldSpec::text("contactPhone", false, 50),
    FieldSpec { field: "tags", kind: FieldType::StringList, required: false, max_length: None, allowed_values: TAGS },
    FieldSpec::of("isDefault", FieldType::Boolean, false, None),
];

/// A validated address (without id, default flag and metadata, which the
/// address book manages).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub street: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_appendix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_line3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_line4: Option<String>,
    pub zip_code: String,
    pub city: String,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// An address as stored (`T#{tenant}#C#{id}` / `ADDR#{address_id}`). Whether
/// it is the default lives on the profile (`defaultAddressId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressRecord {
    pub id: AddressId,
    #[serde(flatten)]
    pub address: Address,
    pub version: u64,
    pub created_at: String,
    pub modified_at: String,
    /// The sign-up address of a pending account expires with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl AddressRecord {
    /// A new address at version 1, created now (RFC 3339 with milliseconds,
    /// like every address change, so the book's order is stable).
    pub fn new(address: Address) -> Self {
        let now = crate::clock::now_rfc3339_millis();
        Self { id: AddressId::generate(), address, version: 1, created_at: now.clone(), modified_at: now, ttl: None }
    }
}

/// What a request asked for, beside the address itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedAddress {
    pub address: Address,
    /// `Some(true)` asks to make it the default.
    pub is_default: Option<bool>,
}

/// Keys an address body may carry besides the fields (ignored here).
pub const PASSTHROUGH: &[&str] = &["id", "metadata"];

impl Address {
    /// A whole address (POST, PUT, sign-up's `customerAddress`). Field names in
    /// errors carry `prefix`.
    pub fn parse(input: &Map<String, Value>, prefix: &str) -> Result<ParsedAddress, Vec<FieldError>> {
        let clean = fields::validate(ADDRESS_FIELDS, input, prefix, PASSTHROUGH)?;
        Self::from_clean(clean)
    }

    /// This address with `patch` laid over it (PATCH): present keys replace,
    /// `null` clears, and the result must still be a whole, valid address.
    pub fn patched(&self, patch: &Map<String, Value>) -> Result<ParsedAddress, Vec<FieldError>> {
        // Validate the patch on its own first, so errors name what was sent.
        let relaxed: Vec<FieldSpec> =
            ADDRESS_FIELDS.iter().map(|s| FieldSpec { required: false, ..s.clone() }).collect();
        let without_nulls: Map<String, Value> =
            patch.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
        fields::validate(&relaxed, &without_nulls, "", PASSTHROUGH)?;
        let base = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let merged = fields::merge_patch(&base, patch);
        Self::parse(&merged, "")
    }

    fn from_clean(mut clean: Map<String, Value>) -> Result<ParsedAddress, Vec<FieldError>> {
        let is_default = clean.remove("isDefault").and_then(|v| v.as_bool());
        let address = serde_json::from_value(Value::Object(clean))
            .map_err(|e| vec![FieldError::new("address", e.to_string())])?;
        Ok(ParsedAddress { address, is_default })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<ParsedAddress, Vec<FieldError>> {
        Address::parse(v.as_object().unwrap(), "")
    }

    #[test]
    fn a_valid_address_is_normalised() {
        let parsed = parse(json!({"street": " Main St ", "zipCode": "10115", "city": "Berlin", "country": "de", "tags": ["BILLING"], "isDefault": true}))
            .unwrap();
        assert_eq!(parsed.address.street, "Main St");
        assert_eq!(parsed.address.country, "DE");
        assert_eq!(parsed.is_default, Some(true));
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors =
            parse(json!({"country": "XX", "tags": ["HOME"], "zipCode": "1".repeat(21), "color": "red"})).unwrap_err();
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        fields.sort();
        assert_eq!(fields, ["city", "color", "country", "street", "tags", "zipCode"]);
    }

    #[test]
    fn a_patch_keeps_the_rest_and_may_clear_optional_fields() {
        let base =
            parse(json!({"street": "Main St", "zipCode": "10115", "city": "Berlin", "country": "DE", "state": "BE"}))
                .unwrap()
                .address;
        let patched = base.patched(json!({"city": "Hamburg", "state": null}).as_object().unwrap()).unwrap().address;
        assert_eq!(patched.city, "Hamburg");
        assert_eq!(patched.street, "Main St");
        assert_eq!(patched.state, None);
        assert!(base.patched(json!({"street": null}).as_object().unwrap()).is_err(), "required stays required");
    }
}
