//! The rules, one module per concern. Handlers parse input and call these;
//! these call the store and mailer.

pub mod import;
pub mod login;
pub mod notify;
pub mod provisioning;
pub mod sessions;
pub mod social_login;
pub mod token_set;
