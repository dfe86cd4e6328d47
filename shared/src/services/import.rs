//! Importing customers from JSON Lines, with their existing password hashes
//! (bcrypt, scrypt, PBKDF2 or argon2 PHC strings). The whole file is checked
//! first (every error with its line number and field), and nothing is written
//! unless all lines are good; each customer is then one transaction.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::clock;
use crate::customer::{CustomerDetails, CustomerRecord, CustomerStatus};
use crate::domain::{CustomerId, Email, TenantId};
use crate::passwords::Scheme;
use crate::store::{CreateCustomerOutcome, Store, StoreError};

/// Keys of an import line besides the `customerDetails` fields.
const LINE_KEYS: &[&str] = &["email", "passwordHash", "status", "id", "customerNumber"];

/// Parses and checks every line; `Err` lists every problem as `line N: field: message`.
pub fn parse(text: &str) -> Result<Vec<CustomerRecord>, Vec<String>> {
    let mut errors = Vec::new();
    let mut records = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let now = clock::now_rfc3339();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut problem = |field: &str, message: &str| errors.push(format!("line {number}: {field}: {message}"));
        let map: Map<String, Value> = match serde_json::from_str(line) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                problem("line", "must be a JSON object");
                continue;
            }
            Err(err) => {
                problem("line", &format!("is not valid JSON ({err})"));
                continue;
            }
        };
        let text_field = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        let email = match text_field("email").map(|e| Email::parse(&e)) {
            Some(Ok(email)) => Some(email),
            Some(Err(err)) => {
                problem("email", err.0);
                None
            }
            None => {
                problem("email", "is required");
                None
            }
        };
        let hash = match text_field("passwordHash") {
            Some(hash) if Scheme::of(&hash).is_some() => Some(hash),
            Some(_) => {
                problem("passwordHash", "must be a bcrypt, scrypt, PBKDF2 or argon2 hash");
                None
            }
            None => {
                problem("passwordHash", "is required");
                None
            }
        };
        let status = match text_field("status").as_deref() {
            None | Some("ACTIVE") => CustomerStatus::Active,
            Some("PENDING") => CustomerStatus::Pending,
            Some(_) => {
                problem("status", "must be ACTIVE or PENDING");
                CustomerStatus::Active
            }
        };
        let id = match text_field("id").map(|id| CustomerId::parse(&id)) {
            None => CustomerId::generate(),
            Some(Ok(id)) => id,
            Some(Err(err)) => {
                problem("id", err.0);
                CustomerId::generate()
            }
        };
        let details = match CustomerDetails::parse(&map, "", LINE_KEYS) {
            Ok(details) => details,
            Err(field_errors) => {
                for e in field_errors {
                    problem(&e.field, &e.message);
                }
                CustomerDetails::default()
            }
        };
        let (Some(email), Some(hash)) = (email, hash) else { continue };
        if let Some(first) = seen.insert(email.normalized(), number) {
            problem("email", &format!("appears already on line {first}"));
            continue;
        }
        let record = CustomerRecord::new(id, email, status, &now);
        records.push(CustomerRecord {
            customer_number: text_field("customerNumber").unwrap_or(record.customer_number.clone()),
            password_hash: Some(hash),
            details,
            ..record
        });
    }
    if errors.is_empty() { Ok(records) } else { Err(errors) }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Checks that no e-mail exists yet in the tenant, then creates every customer.
pub async fn import(store: &Store, tenant: &TenantId, records: &[CustomerRecord]) -> Result<usize, ImportError> {
    let mut taken = Vec::new();
    for chunk in records.chunks(100) {
        let emails: Vec<&Email> = chunk.iter().map(|r| &r.email).collect();
        let found = store.taken_emails(tenant, &emails).await?;
        for (record, taken_already) in chunk.iter().zip(found) {
            if taken_already {
                taken.push(format!("{}: an account with this e-mail exists already", record.email));
            }
        }
    }
    if !taken.is_empty() {
        return Err(ImportError::Invalid(taken));
    }
    let mut created = 0;
    for record in records {
        match store.create_customer(tenant, record, Vec::new()).await? {
            CreateCustomerOutcome::Created => created += 1,
            CreateCustomerOutcome::EmailTaken | CreateCustomerOutcome::Cancelled => {
                tracing::warn!(customer_id = %record.id, "skipped: the e-mail was taken during the import")
            }
        }
    }
    Ok(created)
}
