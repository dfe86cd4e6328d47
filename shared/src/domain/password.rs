use secrecy::{ExposeSecret, SecretString};

use super::ParseError;

/// A password as typed. Wrapped in `SecretString` so it cannot reach a log
/// through `Debug`. Only the shape is checked here (present, bounded so a
/// huge input cannot make hashing expensive); strength rules live in the
/// tenant's password policy.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// In characters, as the form schema and the spec count (≤ 4 KiB of input to the hash).
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: String) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError("is required"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ParseError("is too long"));
        }
        Ok(Self(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}
