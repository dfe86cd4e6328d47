//! Sending a templated message to a customer, in the tenant's name.

use minijinja::Value;

use crate::domain::TenantId;
use crate::mail::MailMessage;
use crate::mail::templates::{self, Template};
use crate::state::AppState;
use crate::tenant::TenantSettings;

/// Renders and sends; a failure is logged, not returned: the answer to the
/// request must not depend on the mail system (nor reveal anything).
pub async fn send(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    to: &str,
    template: Template,
    preferred_language: Option<&str>,
    context: Value,
) {
    let lang = templates::language(preferred_language);
    let shop = if settings.display_name.is_empty() { tenant.to_string() } else { settings.display_name.clone() };
    let context = minijinja::context! { shop => shop, lang => lang, ..context };
    let rendered = match templates::render(template, lang, context) {
        Ok(rendered) => rendered,
        Err(err) => {
            tracing::error!(template = template.name(), error = %err, "mail template failed");
            return;
        }
    };
    let message = MailMessage {
        to: to.to_owned(),
        from: settings.sender.clone().unwrap_or_else(|| state.config.default_sender.clone()),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    };
    if let Err(err) = state.mailer.send(&message).await {
        tracing::error!(template = template.name(), error = %err, "sending mail failed");
    }
}

/// `{base}?tenant=..&identifier=..&secret=..`: a link with query parameters
/// appended correctly whether or not `base` has a query already.
pub fn link(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = match url::Url::parse(base) {
        Ok(url) => url,
        Err(_) => return base.to_owned(),
    };
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}
