use std::path::PathBuf;

use serde::Serialize;

use super::{MailError, MailMessage};

/// Writes each message as one JSON file `{to, from, subject, text, html, sentAt}`.
pub struct OutboxMailer {
    dir: PathBuf,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutboxFile<'a> {
    #[serde(flatten)]
    message: &'a MailMessage,
    sent_at: String,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub async fn send(&self, message: &MailMessage) -> Result<(), MailError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let name = format!(
            "{}-{}.json",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.dir.join(name);
        let file = OutboxFile { message, sent_at: crate::clock::now_rfc3339() };
        let json = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        tokio::fs::write(&path, json).await?;
        // The path, not the body: links in the body carry one-time secrets.
        tracing::info!(path = %path.display(), subject = %message.subject, "mail written to the outbox");
        Ok(())
    }
}
