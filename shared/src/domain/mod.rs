//! Domain types that cannot hold invalid values: each has a private field and a
//! `parse` constructor, so a value that exists has been checked.

mod email;
mod ids;
mod password;
mod tenant_id;
pub mod text;

pub use email::Email;
pub use ids::{AddressId, ClientId, CustomerId, SessionId};
pub use password::Password;
pub use tenant_id::TenantId;

/// Why a raw value was refused; the message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);
