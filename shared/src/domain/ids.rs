use std::fmt;

use super::ParseError;

/// Opaque ids: 32 lowercase hex characters from a v4 UUID for the ones we
/// mint; parsing accepts any short, safe token so imported ids keep working.
macro_rules! opaque_id {
    ($name:ident, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        super::string_serde!($name, |id| id.0.clone());

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().simple().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                let ok = !raw.is_empty()
                    && raw.len() <= 64
                    && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if ok { Ok(Self(raw.to_owned())) } else { Err(ParseError(concat!("must be a valid ", $what))) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        // Compared with plain strings as their text (tests, wire values).
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(CustomerId, "customer id");
opaque_id!(SessionId, "session id");
opaque_id!(ClientId, "client id");
opaque_id!(AddressId, "address id");
