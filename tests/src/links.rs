//! One-time links as a customer receives them: read from the outbox mail's
//! text part, so tests use exactly what the mail carries.

use serde_json::Value;

use crate::TestApp;

/// The value of query parameter `param` in the first link of `text` that has it.
pub fn link_param(text: &str, param: &str) -> Option<String> {
    text.split_whitespace().filter(|word| word.starts_with("http")).find_map(|link| {
        let query = link.split_once('?')?.1;
        query.split('&').find_map(|pair| pair.strip_prefix(&format!("{param}=")).map(str::to_owned))
    })
}

/// The `token` parameter of a password-reset link.
pub fn token_of(link: &str) -> String {
    link_param(link, "token").unwrap_or_else(|| panic!("no token parameter in {link}"))
}

/// A link's `identifier` and its secret parameter (`secret` or `key`).
#[derive(Debug, Clone)]
pub struct MailedLink {
    pub identifier: String,
    pub secret: String,
}

impl TestApp {
    /// Mails sent to `to` (compared case-insensitively), oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<Value> {
        let to = to.trim().to_lowercase();
        self.outbox_messages()
            .into_iter()
            .filter(|m| m["to"].as_str().is_some_and(|t| t.to_lowercase() == to))
            .collect()
    }

    /// The password-reset links mailed so far (to anyone), oldest first.
    pub fn reset_links(&self) -> Vec<String> {
        self.outbox_messages()
            .iter()
            .filter_map(|m| m["text"].as_str())
            .filter_map(|text| text.split_whitespace().find(|w| w.contains("token=")).map(str::to_owned))
            .collect()
    }

    /// The token of the newest password-reset link mailed.
    pub fn newest_reset_token(&self) -> String {
        token_of(self.reset_links().last().expect("a reset mail"))
    }

    /// The newest link mailed to `to` that carries `param` (`secret` or `key`).
    pub fn latest_link(&self, to: &str, param: &str) -> Option<MailedLink> {
        self.mails_to(to).iter().rev().find_map(|mail| {
            let text = mail["text"].as_str()?;
            Some(MailedLink { identifier: link_param(text, "identifier")?, secret: link_param(text, param)? })
        })
    }
}
