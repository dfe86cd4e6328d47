use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};

use super::{MailError, MailMessage};

pub struct SesMailer {
    /// Built at the first mail.
    client: crate::state::LazyClient<aws_sdk_sesv2::Client>,
    /// Bounce and complaint events of every mail go to this configuration set's destinations.
    configuration_set: Option<String>,
}

/// SES message tag values allow `[A-Za-z0-9_-]` only (at most 256 characters):
/// anything else becomes `_`, so a tag never makes SES refuse a mail.
fn tag_value(value: &str) -> String {
    value.chars().take(256).map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

impl SesMailer {
    pub fn new(client: crate::state::LazyClient<aws_sdk_sesv2::Client>, configuration_set: Option<String>) -> Self {
        Self { client, configuration_set }
    }

    /// One `SendEmail` (simple content: subject, text and HTML parts in UTF-8;
    /// `ReplyToAddresses` when the tenant has one; the configuration set; tags
    /// `kind` and `tenant`). Throttling (`TooManyRequestsException`, 429) and
    /// transient faults are retried by the SDK's standard retry (3 tries with
    /// jittered backoff, inside the operation timeout); what still fails comes
    /// back as `MailError::Ses`, which the caller logs (`mail_failed`).
    pub async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let ses_error = |e: &dyn std::fmt::Display| MailError::Ses(e.to_string());
        let body = Body::builder()
            .text(content(&message.text).map_err(|e| ses_error(&e))?)
            .html(content(&message.html).map_err(|e| ses_error(&e))?)
            .build();
        let simple =
            Message::builder().subject(content(&message.subject).map_err(|e| ses_error(&e))?).body(body).build();
        let tag = |name: &str, value: &str| {
            MessageTag::builder().name(name).value(tag_value(value)).build().map_err(|e| ses_error(&e))
        };
        let tags = vec![tag("kind", message.kind)?, tag("tenant", &message.tenant)?];
        self.client
            .send_email()
            .from_email_address(&message.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .set_reply_to_addresses(message.reply_to.clone().map(|address| vec![address]))
            .content(EmailContent::builder().simple(simple).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .set_email_tags(Some(tags))
            .send()
            .await
            .map_err(|e| MailError::Ses(aws_sdk_sesv2::Error::from(e).to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::tag_value;

    #[test]
    fn tag_values_are_what_ses_accepts() {
        assert_eq!(tag_value("password_reset"), "password_reset");
        assert_eq!(tag_value("shop-1"), "shop-1");
        assert_eq!(tag_value("a.b c/ü"), "a_b_c__");
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
    }
}
