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

impl SessionId {
    /// A new session id made at `now`: 32 lowercase hex characters like the
    /// others, the first 8 counting *down* with the time (seconds to 2106),
    /// the other 24 random (96 bits). A customer's sessions then sort
    /// newest first in its partition, and the one Query that reads the
    /// profile with the caller's session (`PROFILE … SESSION#{sid}`,
    /// `store::customer_read`) passes over only the sessions newer than the
    /// caller's: none for the device that signed in last, however many
    /// older ones the customer keeps.
    pub fn newest_first(now: i64) -> Self {
        let countdown = u32::MAX - u32::try_from(now.max(0)).unwrap_or(u32::MAX);
        let random = crate::secrets::hex(&crate::secrets::random_bytes::<12>());
        Self(format!("{countdown:08x}{random}"))
    }
}
opaque_id!(ClientId, "client id");
opaque_id!(AddressId, "address id");

#[cfg(test)]
mod session_id_tests {
    use super::SessionId;

    #[test]
    fn newer_session_ids_sort_first_and_stay_well_formed() {
        let (older, newer) = (SessionId::newest_first(1_800_000_000), SessionId::newest_first(1_800_000_001));
        assert!(newer.as_str() < older.as_str(), "{newer} sorts before {older}");
        for id in [&older, &newer] {
            assert_eq!(id.as_str().len(), 32);
            assert!(id.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            assert_eq!(SessionId::parse(id.as_str()).as_ref(), Ok(id));
        }
        assert_ne!(SessionId::newest_first(1_800_000_000), older, "96 random bits besides the time");
    }
}
