//! Sending a templated message to a customer, in the tenant's name. Every
//! mail needs a slot under the cap of its kind per address (tenant settings
//! `limits.mailsPerAddress` per window, 3 per hour by default), so no flow,
//! however often repeated, turns the service into a mail cannon.

use minijinja::Value;

use crate::clock;
use crate::customer::CustomerRecord;
use crate::domain::{Email, TenantId};
use crate::error::ApiError;
use crate::mail::MailMessage;
use crate::mail::templates::{self, Template};
use crate::state::AppState;
use crate::store::{Allowance, Taken};
use crate::tenant::TenantSettings;

/// Room for one mail of `template` to `to`: taken from the cap before
/// anything is issued that only the mail would carry (a new link must not
/// retire the old one if it cannot be sent).
#[must_use = "a slot is taken from the cap: send the mail"]
pub struct MailSlot {
    to: String,
    template: Template,
}

/// The cap a mail counts against: its template's, or a flow's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailQuota {
    Template(Template),
    /// A resent activation link is capped apart from the sign-up's own.
    ActivationResend,
}

impl MailQuota {
    fn name(self) -> &'static str {
        match self {
            Self::Template(template) => template.name(),
            Self::ActivationResend => "activation_resend",
        }
    }
}

/// Takes a slot, or `None` when the cap for this kind and address is used
/// up. The kind is the template's (see `reserve_counted` for another).
pub async fn reserve(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    to: &Email,
    template: Template,
) -> Result<Option<MailSlot>, ApiError> {
    reserve_counted(state, tenant, settings, to, template, MailQuota::Template(template)).await
}

/// `reserve`, counted against `quota`.
pub async fn reserve_counted(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    to: &Email,
    template: Template,
    quota: MailQuota,
) -> Result<Option<MailSlot>, ApiError> {
    // Mail goes to the identity's normalised address only.
    let address = to.normalized();
    let allowance = Allowance { limit: settings.limits.mails_per_address, window_secs: settings.limits.window_secs };
    let name = format!("mail:{}:{address}", quota.name());
    match state.store.take(tenant, &name, allowance, clock::now_epoch()).await? {
        Taken::Granted => Ok(Some(MailSlot { to: address, template })),
        Taken::Exhausted { .. } => {
            tracing::info!(event = "mail_capped", tenant = %tenant, template = template.name(), "mail cap reached; not sent");
            Ok(None)
        }
    }
}

/// A notice to the customer of `profile`, in their language, greeting them
/// by first name; `context` adds what the template needs beyond that.
pub async fn notice(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    profile: &CustomerRecord,
    template: Template,
    context: Value,
) {
    let details = &profile.details;
    let context = minijinja::context! { first_name => details.first_name.clone(), ..context };
    send_capped(state, tenant, settings, &profile.email, template, details.preferred_language.as_deref(), context).await
}

/// A notice that issues nothing: reserves its slot and sends, or skips
/// (logged) when the cap is used up or the store fails.
pub async fn send_capped(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    to: &Email,
    template: Template,
    preferred_language: Option<&str>,
    context: Value,
) {
    match reserve(state, tenant, settings, to, template).await {
        Ok(Some(slot)) => send(state, tenant, settings, slot, preferred_language, context).await,
        Ok(None) => {}
        Err(err) => tracing::error!(template = template.name(), error = %err, "mail cap not checked; not sent"),
    }
}

/// Renders and sends; a failure is logged, not returned: the answer to the
/// request must not depend on the mail system (nor reveal anything).
pub async fn send(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    slot: MailSlot,
    preferred_language: Option<&str>,
    context: Value,
) {
    let MailSlot { to, template } = slot;
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
        to,
        from: settings.sender.clone().unwrap_or_else(|| state.config.default_sender.clone()),
        reply_to: settings.reply_to.clone(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        kind: template.name(),
        tenant: tenant.to_string(),
    };
    if let Err(err) = state.mailer.send(&message).await {
        // A metric filter counts these (template.yaml, MailFailures): mail is never silently lost.
        tracing::error!(event = "mail_failed", template = template.name(), error = %err, "sending mail failed");
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
