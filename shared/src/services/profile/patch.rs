//! `PATCH me` input: which keys may be sent, and the profile they make.
//! Every bad key is reported at once; the version check comes after.

use serde_json::{Map, Value};

use crate::customer::{CUSTOMER_DETAIL_FIELDS, CustomerDetails, CustomerRecord, Subscription};
use crate::error::{ApiError, FieldError};
use crate::fields;
use crate::store::profile::ProfileChanges;

/// `mixins` as stored JSON may take at most this many bytes.
pub const MAX_MIXINS_BYTES: usize = 16 * 1024;
/// DynamoDB nests documents at most 32 levels; stay well inside.
const MAX_MIXIN_DEPTH: usize = 16;
const MAX_SUBSCRIPTIONS: usize = 50;
const MAX_SUBSCRIPTION_CODE: usize = 64;

/// Shown by the profile but not writable through `PATCH me`.
const READ_ONLY: &[&str] = &["id", "customerNumber", "accounts", "businessModel", "addresses"];

/// A parsed `PATCH me`: the profile it asks for and the version it was based on.
#[derive(Debug)]
pub struct ProfilePatch {
    /// `metadata.version` as sent; `None` when missing (a 409).
    pub expected_version: Option<u64>,
    pub changes: ProfileChanges,
}

/// A mixin name: what `expand=mixin:<name>` can name (no commas, no colons).
pub fn valid_mixin_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Lays `body` over `current` as JSON merge patch (RFC 7396): detail fields
/// replace (null clears), `b2b` and each mixin merge (what the body does not
/// name stays; `legalEntities`, a list, is replaced whole); `subscriptions`
/// replace the list.
pub fn parse(current: &CustomerRecord, body: &Map<String, Value>) -> Result<ProfilePatch, ApiError> {
    let mut errors = Vec::new();
    let mut detail_patch = Map::new();
    for (key, value) in body {
        match key.as_str() {
            k if k == "b2b" || CUSTOMER_DETAIL_FIELDS.iter().any(|spec| spec.field == k) => {
                detail_patch.insert(key.clone(), value.clone());
            }
            "mixins" | "subscriptions" | "metadata" => {}
            "email" => errors.push(FieldError::new(
                "email",
                "cannot be changed here: use POST /customer/{tenant}/me/accounts/internal/email/change",
            )),
            k if READ_ONLY.contains(&k) => errors.push(FieldError::new(key.clone(), "is read-only")),
            _ => errors.push(FieldError::new(key.clone(), "is not a known field")),
        }
    }

    let details = merged_details(current, &detail_patch).map_err(|e| errors.extend(e)).ok();
    let mixins = match body.get("mixins") {
        None => Some(current.mixins.clone()),
        Some(value) => merged_mixins(&current.mixins, value).map_err(|e| errors.extend(e)).ok(),
    };
    let subscriptions = match body.get("subscriptions") {
        None => Some(current.subscriptions.clone()),
        Some(value) => parse_subscriptions(value).map_err(|e| errors.extend(e)).ok(),
    };
    let expected_version = parse_metadata(body.get("metadata")).map_err(|e| errors.extend(e)).ok();

    match (details, mixins, subscriptions, expected_version) {
        (Some(details), Some(mixins), Some(subscriptions), Some(expected_version)) if errors.is_empty() => {
            Ok(ProfilePatch { expected_version, changes: ProfileChanges { details, mixins, subscriptions } })
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

fn merged_details(current: &CustomerRecord, patch: &Map<String, Value>) -> Result<CustomerDetails, Vec<FieldError>> {
    if patch.is_empty() {
        return Ok(current.details.clone());
    }
    let base = match serde_json::to_value(&current.details) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    CustomerDetails::parse(&fields::merge_patch(&base, patch), "", &[])
}

fn merged_mixins(current: &Map<String, Value>, value: &Value) -> Result<Map<String, Value>, Vec<FieldError>> {
    let patch = match value {
        Value::Null => return Ok(Map::new()),
        Value::Object(patch) => patch,
        _ => return Err(vec![FieldError::new("mixins", "must be an object of named mixins")]),
    };
    let mut errors = Vec::new();
    let mut cleaned = Map::new();
    for (name, mixin) in patch {
        if !valid_mixin_name(name) {
            errors
                .push(FieldError::new(format!("mixins.{name}"), "must be named with 1-64 letters, digits, '_' or '-'"));
        } else if depth(mixin) > MAX_MIXIN_DEPTH {
            errors.push(FieldError::new(
                format!("mixins.{name}"),
                format!("must not nest deeper than {MAX_MIXIN_DEPTH} levels"),
            ));
        } else {
            cleaned.insert(name.clone(), fields::storable_json(mixin, &format!("mixins.{name}"), &mut errors));
        }
    }
    // JSON merge patch (RFC 7396): inside a mixin too, what is not named stays.
    let merged = fields::merge_patch(current, &cleaned);
    for (name, mixin) in &merged {
        if depth(mixin) > MAX_MIXIN_DEPTH {
            errors.push(FieldError::new(
                format!("mixins.{name}"),
                format!("must not nest deeper than {MAX_MIXIN_DEPTH} levels"),
            ));
        }
    }
    let size = serde_json::to_vec(&merged).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_MIXINS_BYTES {
        errors.push(FieldError::new("mixins", format!("must be at most 16 KiB as JSON (would be {size} bytes)")));
    }
    if errors.is_empty() { Ok(merged) } else { Err(errors) }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn parse_subscriptions(value: &Value) -> Result<Vec<Subscription>, Vec<FieldError>> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) if items.len() <= MAX_SUBSCRIPTIONS => items,
        _ => {
            return Err(vec![FieldError::new(
                "subscriptions",
                format!("must be a list of at most {MAX_SUBSCRIPTIONS} {{\"code\", \"optIn\"}} objects"),
            )]);
        }
    };
    let mut errors = Vec::new();
    let mut out: Vec<Subscription> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("subscriptions[{i}]");
        let Some(map) = item.as_object() else {
            errors.push(FieldError::new(prefix, "must be an object {\"code\", \"optIn\"}"));
            continue;
        };
        for key in map.keys().filter(|k| *k != "code" && *k != "optIn") {
            errors.push(FieldError::new(format!("{prefix}.{key}"), "is not a known field"));
        }
        let code = map.get("code").and_then(Value::as_str).map(str::trim);
        let code = match code {
            Some(c) if c.chars().any(char::is_control) => {
                errors.push(FieldError::new(format!("{prefix}.code"), crate::domain::text::CONTROL_CHARACTERS.0));
                None
            }
            Some(c) if !c.is_empty() && c.chars().count() <= MAX_SUBSCRIPTION_CODE => {
                if out.iter().any(|s| s.code == c) {
                    errors.push(FieldError::new(format!("{prefix}.code"), "must not repeat an earlier code"));
                }
                Some(c.to_owned())
            }
            _ => {
                errors.push(FieldError::new(
                    format!("{prefix}.code"),
                    format!("is required (a string of at most {MAX_SUBSCRIPTION_CODE} characters)"),
                ));
                None
            }
        };
        let opt_in = map.get("optIn").and_then(Value::as_bool);
        if opt_in.is_none() {
            errors.push(FieldError::new(format!("{prefix}.optIn"), "is required (true or false)"));
        }
        if let (Some(code), Some(opt_in)) = (code, opt_in) {
            out.push(Subscription { code, opt_in });
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// `metadata.version` (a positive integer); `createdAt` and `modifiedAt` may
/// come back as the profile showed them and are ignored.
fn parse_metadata(value: Option<&Value>) -> Result<Option<u64>, Vec<FieldError>> {
    let map = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(vec![FieldError::new("metadata", "must be an object {\"version\"}")]),
    };
    let mut errors: Vec<FieldError> = map
        .keys()
        .filter(|k| !["version", "createdAt", "modifiedAt"].contains(&k.as_str()))
        .map(|k| FieldError::new(format!("metadata.{k}"), "is not a known field"))
        .collect();
    let version = match map.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().filter(|v| *v >= 1) {
            Some(v) => Some(v),
            None => {
                errors.push(FieldError::new("metadata.version", "must be a positive integer"));
                None
            }
        },
    };
    if errors.is_empty() { Ok(version) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn customer() -> CustomerRecord {
        let id = crate::domain::CustomerId::parse("c1").unwrap();
        let email = crate::domain::Email::parse("ann@shop.example").unwrap();
        CustomerRecord {
            version: 3,
            details: CustomerDetails {
                first_name: Some("Ann".into()),
                last_name: Some("Lee".into()),
                ..Default::default()
            },
            mixins: json!({"loyalty": {"tier": "gold"}, "prefs": {"news": true}}).as_object().unwrap().clone(),
            ..CustomerRecord::new(id, email, crate::customer::CustomerStatus::Active, "2026-12-01T00:00:00Z")
        }
    }

    fn fields_of(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_patch_replaces_details_merges_mixins_and_keeps_the_rest() {
        let body = json!({"firstName": "Anna", "lastName": null, "preferredCurrency": "chf",
            "mixins": {"prefs": null, "size": {"shoe": 38}},
            "subscriptions": [{"code": "newsletter", "optIn": true}],
            "b2b": {"companyRegistrationId": "HRB 1"},
            "metadata": {"version": 3, "createdAt": "x"}});
        let patch = parse(&customer(), body.as_object().unwrap()).unwrap();
        assert_eq!(patch.expected_version, Some(3));
        let d = &patch.changes.details;
        assert_eq!(d.first_name.as_deref(), Some("Anna"));
        assert_eq!(d.last_name, None);
        assert_eq!(d.preferred_currency.as_deref(), Some("CHF"));
        assert_eq!(d.business_model(), "B2B");
        assert_eq!(Value::Object(patch.changes.mixins), json!({"loyalty": {"tier": "gold"}, "size": {"shoe": 38}}));
        assert_eq!(patch.changes.subscriptions, vec![Subscription { code: "newsletter".into(), opt_in: true }]);
    }

    #[test]
    fn every_bad_key_is_named_at_once() {
        let body = json!({"email": "x@example.com", "id": "other", "businessModel": "B2B", "color": 1,
            "contactEmail": "nope", "mixins": {"bad name": 1}, "subscriptions": [{"code": ""}],
            "metadata": {"version": "3"}});
        let mut fields = fields_of(parse(&customer(), body.as_object().unwrap()).unwrap_err());
        fields.sort();
        assert_eq!(
            fields,
            [
                "businessModel",
                "color",
                "contactEmail",
                "email",
                "id",
                "metadata.version",
                "mixins.bad name",
                "subscriptions[0].code",
                "subscriptions[0].optIn"
            ]
        );
    }

    #[test]
    fn mixins_are_capped_at_16_kib_and_missing_version_is_not_a_400() {
        let big = json!({"mixins": {"blob": "x".repeat(MAX_MIXINS_BYTES)}, "metadata": {"version": 3}});
        assert_eq!(fields_of(parse(&customer(), big.as_object().unwrap()).unwrap_err()), ["mixins"]);
        let mut deep = json!(1);
        for _ in 0..20 {
            deep = json!([deep]);
        }
        let nested = json!({"mixins": {"deep": deep}});
        assert_eq!(fields_of(parse(&customer(), nested.as_object().unwrap()).unwrap_err()), ["mixins.deep"]);
        let no_version = json!({"firstName": "Anna"});
        assert_eq!(parse(&customer(), no_version.as_object().unwrap()).unwrap().expected_version, None);
        let cleared = json!({"mixins": null, "subscriptions": null, "b2b": null, "metadata": {"version": 3}});
        let patch = parse(&customer(), cleared.as_object().unwrap()).unwrap();
        assert!(patch.changes.mixins.is_empty() && patch.changes.subscriptions.is_empty());
        assert_eq!(patch.changes.details.business_model(), "B2C");
    }
}
