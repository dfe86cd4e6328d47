use std::fmt;

use super::ParseError;

/// 3–16 lowercase ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

super::string_serde!(TenantId, |id| id.0.clone());

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ok = (3..=16).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok { Ok(Self(raw.to_owned())) } else { Err(ParseError("must be 3-16 lowercase letters or digits")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_letters_and_digits() {
        assert!(TenantId::parse("demo").is_ok());
        assert!(TenantId::parse("shop2026").is_ok());
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in ["de", "Demo", "a-b-c", "abcdefghijklmnopq", "", "dé mo"] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }
}
