use super::{CustomerId, Email};

/// What a customer logs in with: the e-mail of the account, or its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    Email(Email),
    Id(CustomerId),
}

impl LoginName {
    /// The budget of an identifier no account has, as given.
    pub fn unknown_subject(&self) -> String {
        match self {
            Self::Email(email) => format!("email:{}", email.normalized()),
            Self::Id(id) => format!("id:{id}"),
        }
    }
}
