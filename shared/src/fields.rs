//! Field specifications: one table per input object (address, customer
//! details) drives validation, the stored shape and the published form
//! schema (`GET me/addresses/fields`), so the three cannot drift apart.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    String,
    Boolean,
    /// ISO 3166-1 alpha-2, upper case.
    Country,
    /// An e-mail address.
    Email,
    /// A language tag: `de`, `de-CH`.
    Language,
    /// ISO 4217 alphabetic code, upper case.
    Currency,
    /// A list of distinct strings from `allowedValues`.
    StringList,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    pub field: &'static str,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(skip_serializing_if = "<[&str]>::is_empty")]
    pub allowed_values: &'static [&'static str],
}

impl FieldSpec {
    pub const fn text(field: &'static str, required: bool, max: usize) -> Self {
        Self { field, kind: FieldType::String, required, max_length: Some(max), allowed_values: &[] }
    }

    pub const fn of(field: &'static str, kind: FieldType, required: bool, max: Option<usize>) -> Self {
        Self { field, kind, required, max_length: max, allowed_values: &[] }
    }
}

/// Validates `input` against `specs`, reporting every bad field (named with
/// `prefix`, e.g. `customerAddress.`). Keys in `passthrough` are ignored
/// (e.g. `metadata`); any other unknown key is an error. Returns the
/// normalised object (strings trimmed, codes upper-cased, nulls dropped,
/// empty strings kept as empty strings).
pub fn validate(
    specs: &[FieldSpec],
    input: &Map<String, Value>,
    prefix: &str,
    passthrough: &[&str],
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut clean = Map::new();
    for key in input.keys() {
        if !specs.iter().any(|s| s.field == key) && !passthrough.contains(&key.as_str()) {
            errors.push(FieldError::new(format!("{prefix}{key}"), "is not a known field"));
        }
    }
    for spec in specs {
        let name = format!("{prefix}{}", spec.field);
        match input.get(spec.field) {
            None | Some(Value::Null) => {
                if spec.required {
                    errors.push(FieldError::new(name, "is required"));
                }
            }
            Some(value) => match check(spec, value) {
                Ok(Some(value)) => {
                    clean.insert(spec.field.to_owned(), value);
                }
                Ok(None) if spec.required => errors.push(FieldError::new(name, "is required")),
                Ok(None) => {}
                Err(message) => errors.push(FieldError::new(name, message)),
            },
        }
    }
    if errors.is_empty() { Ok(clean) } else { Err(errors) }
}

/// One value; `Ok(None)` for an empty string in a required field (then it is missing).
fn check(spec: &FieldSpec, value: &Value) -> Result<Option<Value>, String> {
    // The length as sent (surrounding white space included): the limit a
    // client reads in the form schema is the one it is held to.
    let bounded = |s: &str| match spec.max_length {
        Some(max) if s.chars().count() > max => Err(format!("must be at most {max} characters")),
        _ => Ok(()),
    };
    match spec.kind {
        FieldType::Boolean => {
            value.as_bool().map(|b| Some(Value::Bool(b))).ok_or_else(|| "must be true or false".into())
        }
        FieldType::StringList => {
            let items = value.as_array().ok_or("must be a list")?;
            let mut out: Vec<Value> = Vec::new();
            for item in items {
                let item = item.as_str().ok_or("must be a list of strings")?;
                if !spec.allowed_values.is_empty() && !spec.allowed_values.contains(&item) {
                    return Err(format!("may only contain {}", spec.allowed_values.join(", ")));
                }
                if out.iter().any(|v| v == item) {
                    return Err("must not repeat a value".into());
                }
                out.push(Value::String(item.to_owned()));
            }
            Ok(Some(Value::Array(out)))
        }
        kind => {
            let raw = value.as_str().ok_or("must be a string")?;
            bounded(raw)?;
            let s = raw.trim();
            if s.is_empty() {
                // Kept as sent (a client that sends "" reads "" back); a
                // required field needs more (`Ok(None)` makes it missing).
                return Ok((!spec.required).then(|| Value::String(String::new())));
            }
            let s = &crate::domain::text::clean(s).map_err(|e| e.0.to_owned())?;
            let normalised = match kind {
                FieldType::Country => {
                    let code = s.to_ascii_uppercase();
                    if code.len() != 2 || isocountry::CountryCode::for_alpha2(&code).is_err() {
                        return Err("must be an ISO 3166-1 alpha-2 country code".into());
                    }
                    code
                }
                FieldType::Currency => {
                    let code = s.to_ascii_uppercase();
                    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err("must be an ISO 4217 currency code".into());
                    }
                    code
                }
                FieldType::Language => {
                    let mut parts = s.split(['-', '_']);
                    let primary = parts.next().unwrap_or_default();
                    let ok = (2..=3).contains(&primary.len())
                        && primary.bytes().all(|b| b.is_ascii_alphabetic())
                        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
                    if !ok {
                        return Err("must be a language tag such as de or de-CH".into());
                    }
                    s.to_owned()
                }
                FieldType::Email => crate::domain::Email::parse(s).map_err(|e| e.0.to_owned())?.to_string(),
                _ => s.to_owned(),
            };
            Ok(Some(Value::String(normalised)))
        }
    }
}

/// DynamoDB stores a number only with at most 38 significant digits and a
/// magnitude from 1e-130 to below 1e126.
fn storable_number(number: &serde_json::Number) -> bool {
    if number.is_i64() || number.is_u64() {
        return true;
    }
    number.as_f64().is_some_and(|f| f == 0.0 || (f.is_finite() && (1e-130..1e126).contains(&f.abs())))
}

/// Free-form JSON (mixins) as DynamoDB can store it and a reader can trust
/// it: every string and key without control characters and NFC-normalised,
/// no empty key, every number in DynamoDB's range. Errors name the path
/// (`{field}.a.b[2]`).
pub fn storable_json(value: &Value, field: &str, errors: &mut Vec<FieldError>) -> Value {
    match value {
        Value::String(text) => match crate::domain::text::clean(text) {
            Ok(text) => Value::String(text),
            Err(e) => {
                errors.push(FieldError::new(field, e.0));
                Value::Null
            }
        },
        Value::Number(number) if !storable_number(number) => {
            errors.push(FieldError::new(field, "must be a number of at most 38 digits between 1e-130 and 1e126"));
            Value::Null
        }
        Value::Array(items) => Value::Array(
            items.iter().enumerate().map(|(i, item)| storable_json(item, &format!("{field}[{i}]"), errors)).collect(),
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                let path = format!("{field}.{key}");
                match crate::domain::text::clean(key) {
                    Ok(clean) if !clean.is_empty() => {
                        out.insert(clean, storable_json(item, &path, errors));
                    }
                    Ok(_) => errors.push(FieldError::new(&path, "keys must not be empty")),
                    Err(e) => errors.push(FieldError::new(&path, e.0)),
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `base` with `patch` laid over it, as JSON merge patch (RFC 7396) does:
/// an object in the patch merges into the object it names (what the patch
/// does not name stays), `null` removes, anything else replaces.
pub fn merge_patch(base: &Map<String, Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    let mut out = base.clone();
    for (key, value) in patch {
        match (value, out.get(key)) {
            (Value::Null, _) => {
                out.remove(key);
            }
            (Value::Object(inner), Some(Value::Object(existing))) => {
                out.insert(key.clone(), Value::Object(merge_patch(existing, inner)));
            }
            (Value::Object(inner), _) => {
                out.insert(key.clone(), Value::Object(merge_patch(&Map::new(), inner)));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SPECS: &[FieldSpec] = &[
        FieldSpec::text("name", true, 5),
        FieldSpec::of("country", FieldType::Country, true, Some(2)),
        FieldSpec::of("flag", FieldType::Boolean, false, None),
    ];

    #[test]
    fn reports_every_bad_field_with_its_prefix() {
        let input = json!({"name": "toolong", "country": "XX", "flag": "yes", "extra": 1});
        let errors = validate(SPECS, input.as_object().unwrap(), "a.", &[]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a.extra", "a.name", "a.country", "a.flag"]);
    }

    #[test]
    fn free_form_json_is_checked_for_what_dynamodb_and_mail_refuse() {
        let input = json!({"ok": [1, 2.5, -3e-5, "Jo\u{308}rg", {"k": true}], "big": 1e300, "tiny": 1e-200,
            "nul": "a\u{0}b", "crlf\r\n": "x", "": 1});
        let mut errors = Vec::new();
        let clean = storable_json(&input, "mixins.m", &mut errors);
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["mixins.m.", "mixins.m.big", "mixins.m.crlf\r\n", "mixins.m.nul", "mixins.m.tiny"]);
        assert_eq!(clean["ok"], json!([1, 2.5, -3e-5, "Jörg", {"k": true}]));
    }

    #[test]
    fn text_with_control_characters_is_refused() {
        let input = json!({"name": "Ann\r\nBcc", "country": "DE"});
        let errors = validate(SPECS, input.as_object().unwrap(), "", &[]).unwrap_err();
        assert_eq!(errors[0].field, "name");
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The examples of RFC 7396, section 3.
        let base = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let patch = json!({"a": "z", "c": {"f": null}});
        let merged = merge_patch(base.as_object().unwrap(), patch.as_object().unwrap());
        assert_eq!(Value::Object(merged), json!({"a": "z", "c": {"d": "e"}}));
        let base = json!({"b2b": {"companyRegistrationId": "1", "legalEntities": [{"id": "x"}]}});
        let patch = json!({"b2b": {"companyRegistrationId": "2"}, "new": {"deep": {"x": null, "y": 1}}});
        let merged = merge_patch(base.as_object().unwrap(), patch.as_object().unwrap());
        assert_eq!(
            Value::Object(merged),
            json!({"b2b": {"companyRegistrationId": "2", "legalEntities": [{"id": "x"}]}, "new": {"deep": {"y": 1}}})
        );
    }

    #[test]
    fn normalises_values() {
        let input = json!({"name": " Ann ", "country": "de", "meta": {}});
        let clean = validate(SPECS, input.as_object().unwrap(), "", &["meta"]).unwrap();
        assert_eq!(Value::Object(clean), json!({"name": "Ann", "country": "DE"}));
        let optional = [FieldSpec::text("note", false, 5)];
        let clean = validate(&optional, json!({"note": ""}).as_object().unwrap(), "", &[]).unwrap();
        assert_eq!(Value::Object(clean), json!({"note": ""}), "an empty string is kept as sent");
    }
}
