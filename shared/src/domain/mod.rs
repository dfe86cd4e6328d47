//! Domain types that cannot hold invalid values: each has a private field and a
//! `parse` constructor, so a value that exists has been checked.

pub use code::{RecoveryCode, SixDigitCode};
pub use email::Email;
pub use ids::{AddressId, ClientId, CustomerId, SessionId};
pub use login_name::LoginName;
pub use password::Password;
pub use tenant_id::TenantId;

/// Stored and sent as its string: `try_from` runs `parse`, so a record
/// read from the table holds only checked values; `into` writes the same
/// bytes as the plain strings records held before.
macro_rules! string_serde {
    ($name:ty, $as_string:expr) => {
        impl TryFrom<String> for $name {
            type Error = $crate::domain::ParseError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                let as_string: fn(&$name) -> String = $as_string;
                as_string(&value)
            }
        }
    };
}
pub(crate) use string_serde;

mod code;
mod email;
mod ids;
mod login_name;
mod password;
mod tenant_id;
pub mod text;

/// Why a raw value was refused; the message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);
