use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::{MailError, MailMessage};

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    /// Bounce and complaint events of every mail go to this configuration set's destinations.
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, configuration_set: Option<String>) -> Self {
        Self { client, configuration_set }
    }

    pub async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let ses_error = |e: &dyn std::fmt::Display| MailError::Ses(e.to_string());
        let body = Body::builder()
            .text(content(&message.text).map_err(|e| ses_error(&e))?)
            .html(content(&message.html).map_err(|e| ses_error(&e))?)
            .build();
        let simple =
            Message::builder().subject(content(&message.subject).map_err(|e| ses_error(&e))?).body(body).build();
        self.client
            .send_email()
            .from_email_address(&message.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(EmailContent::builder().simple(simple).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| MailError::Ses(aws_sdk_sesv2::Error::from(e).to_string()))?;
        Ok(())
    }
}
