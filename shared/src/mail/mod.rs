//! The `Mailer` port: SES v2 in production, a local outbox folder in
//! development. The two adapters are the only places that send mail.

mod outbox;
mod ses;
pub mod templates;

use serde::Serialize;

pub use outbox::OutboxMailer;
pub use ses::SesMailer;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailMessage {
    pub to: String,
    pub from: String,
    /// Where replies go (the tenant's `replyTo`); none: to `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What the mail is (the template's name) and whose: SES sends them as
    /// the message tags `kind` and `tenant`, so the configuration set's
    /// event destinations can tell bounces of one shop's resets apart.
    #[serde(skip)]
    pub kind: &'static str,
    #[serde(skip)]
    pub tenant: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("writing to the outbox: {0}")]
    Outbox(#[from] std::io::Error),
    #[error("sending through SES: {0}")]
    Ses(String),
}

pub enum Mailer {
    Outbox(OutboxMailer),
    Ses(SesMailer),
}

impl Mailer {
    pub async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        match self {
            Self::Outbox(outbox) => outbox.send(message).await,
            Self::Ses(ses) => ses.send(message).await,
        }
    }
}
