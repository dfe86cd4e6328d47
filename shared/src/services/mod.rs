//! The rules, one module per concern. Handlers parse input and call these;
//! these call the store and mailer.

pub mod addresses;
pub mod branding;
pub mod dialects;
pub mod email_change;
pub mod email_code;
pub mod equal_time;
pub mod import;
pub mod limits;
pub mod login;
pub mod notify;
pub mod one_time;
pub mod passkeys;
pub mod password_reset;
pub mod profile;
pub mod provisioning;
pub mod second_factor;
pub mod sessions;
pub mod signup;
pub mod social_link;
pub mod social_login;
pub mod token_set;
