//! The customer as stored: profile, credentials and lifecycle status.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum CustomerStatus {
    /// Signed up, not yet activated: cannot log in.
    #[default]
    Pending,
    Active,
}

/// The editable profile fields of API.md "Profile".
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_site: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord {
    pub id: String,
    pub customer_number: String,
    /// As typed (trimmed); uniqueness is on the lowercase form.
    pub email: String,
    pub status: CustomerStatus,
    /// PHC string; absent until a password is set (sign-up without password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Set by an operator; the customer should change it.
    #[serde(default)]
    pub initial_password: bool,
    #[serde(default)]
    pub details: CustomerDetails,
    pub version: u64,
    pub created_at: String,
    pub modified_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<String>,
}

/// The e-mail uniqueness guard. It carries what login needs (id, status,
/// password hash) so that checking a password is one read; it is written in
/// the same transaction as the profile whenever those change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailGuard {
    pub customer_id: String,
    pub email: String,
    pub status: CustomerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub initial_password: bool,
}

impl EmailGuard {
    pub fn of(customer: &CustomerRecord) -> Self {
        Self {
            customer_id: customer.id.clone(),
            email: customer.email.clone(),
            status: customer.status,
            password_hash: customer.password_hash.clone(),
            initial_password: customer.initial_password,
        }
    }
}

/// A short number for people (support calls, invoices), distinct from the id.
pub fn new_customer_number() -> String {
    let bytes = crate::secrets::random_bytes::<8>();
    let n = u64::from_le_bytes(bytes) % 10_000_000_000;
    format!("C{n:010}")
}
