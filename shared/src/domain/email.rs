use std::fmt;

use super::ParseError;

/// An e-mail address, trimmed. Uniqueness and login use `normalized()`
/// (lowercase), so `Ann@Shop.com ` and `ann@shop.com` are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ParseError("is required"));
        }
        if trimmed.len() > 254 || !email_address::EmailAddress::is_valid(trimmed) || !trimmed.contains('.') {
            return Err(ParseError("must be a valid e-mail address"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_normalizes() {
        let email = Email::parse("  Ann.Lee@Shop.Example ").unwrap();
        assert_eq!(email.as_str(), "Ann.Lee@Shop.Example");
        assert_eq!(email.normalized(), "ann.lee@shop.example");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "   ", "ann", "ann@", "@shop.example", "a b@shop.example"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
