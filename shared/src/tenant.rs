//! Tenant settings and storefront clients: created by the operator command,
//! never by a public route. Every field has a default, so settings written by
//! an older version keep loading.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct TenantSettings {
    /// The shop's name, in mail and on the account pages.
    pub display_name: String,
    /// Logo on the account pages (an `https://` URL, or a path on the pages' own origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The account pages' one accent colour, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    pub anonymous_access_ttl_secs: i64,
    pub anonymous_refresh_ttl_secs: i64,
    pub customer_access_ttl_secs: i64,
    /// Absolute lifetime of a customer session.
    pub customer_refresh_ttl_secs: i64,
    pub password_min_length: usize,
    pub password_max_length: usize,
    /// Minimum zxcvbn score (0-4) a new password must reach.
    pub password_min_score: u8,
    /// Sender address for this tenant's mail; the process default when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Where customers' replies to our mail go (SES `ReplyToAddresses`), e.g. the shop's support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_confirm_uri: Option<String>,
    /// The storefront page a mailed social-link consent opens (it posts
    /// `identifier` and `key` to `socialLogin/link/confirm`); without it the
    /// mail links the API route itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_confirm_uri: Option<String>,
    /// The storefront page where customers manage their sign-in methods,
    /// named in the mail that tells of a new linked provider (the way to undo it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_uri: Option<String>,
    /// Per-site reset pages (`site` of a reset request → URI); `reset_uri` otherwise.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reset_uris_by_site: std::collections::BTreeMap<String, String>,
    /// Link targets a request may choose (e.g. `reset_uri`); exact matches.
    pub allowed_link_uris: Vec<String>,
    /// Consecutive login failures before an account is locked for a while.
    pub lockout_threshold: u32,
    /// First lock duration; doubles with each further failure.
    pub lockout_base_secs: i64,
    pub lockout_max_secs: i64,
    /// Every password login needs a second factor: the customer's
    /// authenticator, or else a code mailed to the account.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_second_factor: bool,
    /// Passkeys (WebAuthn): the relying party customers' passkeys belong to.
    /// Without it the passkey routes answer 409 `passkeys_not_configured`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkeys: Option<PasskeySettings>,
    /// OpenID Connect providers for social login (`provider` = `name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub social_providers: Vec<SocialProvider>,
    /// The provider of a socialLogin that names none (the seed's calls do
    /// not); when unset and there is exactly one provider, that one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_social_provider: Option<String>,
    /// The permissions `validateauthtoken` lists for a customer (the seed's
    /// `scope`), before `tenant={tenant}`.
    pub customer_scopes: Vec<String>,
    /// JSON schema URL per mixin name, shown in the profile's `metadata.mixins`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mixin_schemas: std::collections::BTreeMap<String, String>,
    /// Per-source and per-tenant request limits, and the mail cap.
    pub limits: RequestLimits,
    /// The shop's own servers (IP addresses or CIDR blocks) that call for
    /// many shoppers, e.g. server-side rendering: for their requests the
    /// shopper's address is read from the `X-Forwarded-For` they pass on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// The storefront client of routes that take no storefront token (the
    /// retailer `customers/...` dialect: its login needs none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_client_id: Option<crate::domain::ClientId>,
    /// The storefront's base URL: a relative `reset_uri` (retailer
    /// `password_reset`) is resolved against it, then checked against
    /// `allowed_link_uris`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storefront_uri: Option<String>,
    /// Lifetime of a Moltin v1 customer token (the seed: 7 days); it never
    /// outlives the session it is a handle on.
    pub moltin_token_ttl_secs: i64,
}

/// Limits per client address and per tenant, each per `window_secs`;
/// answered with 429 and `Retry-After`. "Mail requests" are the requests
/// that mail someone on an address the request names: activation resend,
/// password reset, e-mail change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestLimits {
    pub window_secs: i64,
    pub per_ip_failed_logins: u32,
    pub per_ip_signups: u32,
    pub per_ip_mail_requests: u32,
    pub per_tenant_failed_logins: u32,
    pub per_tenant_signups: u32,
    pub per_tenant_mail_requests: u32,
    /// Mails of one kind (activation, reset, notices, ...) to one address per window.
    pub mails_per_address: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            window_secs: 3600,
            per_ip_failed_logins: 100,
            per_ip_signups: 20,
            per_ip_mail_requests: 30,
            per_tenant_failed_logins: 10_000,
            per_tenant_signups: 2_000,
            per_tenant_mail_requests: 5_000,
            mails_per_address: 3,
        }
    }
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            display_name: String::new(),
            logo_url: None,
            accent_color: None,
            anonymous_access_ttl_secs: 3600,
            anonymous_refresh_ttl_secs: 86_400,
            customer_access_ttl_secs: 3600,
            customer_refresh_ttl_secs: 30 * 86_400,
            password_min_length: 8,
            password_max_length: 128,
            password_min_score: 3,
            sender: None,
            reply_to: None,
            activation_uri: None,
            email_confirm_uri: None,
            link_confirm_uri: None,
            account_uri: None,
            reset_uri: None,
            reset_uris_by_site: Default::default(),
            allowed_link_uris: Vec::new(),
            lockout_threshold: 5,
            lockout_base_secs: 30,
            lockout_max_secs: 900,
            require_second_factor: false,
            passkeys: None,
            social_providers: Vec::new(),
            limits: RequestLimits::default(),
            trusted_proxies: Vec::new(),
            default_social_provider: None,
            customer_scopes: DEFAULT_CUSTOMER_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            mixin_schemas: Default::default(),
            default_client_id: None,
            storefront_uri: None,
            moltin_token_ttl_secs: 7 * 86_400,
        }
    }
}

/// The permissions the Emporix seed's `validateauthtoken` lists for a customer.
pub const DEFAULT_CUSTOMER_SCOPES: &[&str] = &[
    "approval.approval_read_own",
    "customermanagement.legalentity_read_own",
    "customer.customer_read_own",
    "quote.quote_read_own",
    "returns.returns_read_own",
    "iam.scope_read_own",
    "iam.user_read_own",
    "customersegment.segment_read_own",
    "iam.group_read_own",
    "order.order_readascustomer",
    "coupon.coupon_redeem",
    "customer.customerprofile_edit",
    "quote.quote_manage_own",
    "returns.returns_manage_own",
    "customer.customer_manage_own",
    "approval.approval_manage_own",
    "order.order_updateascustomer",
    "iam.assignment_delete_own",
    "customer.consent_view",
    "customer.customerprofile_view",
    "order.history_view",
    "iam.assignment_create_own",
    "customer.consent_manage",
];

impl TenantSettings {
    /// The provider a socialLogin means: the one it names, else the default one.
    pub fn social_provider(&self, name: Option<&str>) -> Option<&SocialProvider> {
        let name = name.or(self.default_social_provider.as_deref());
        match name {
            Some(name) => self.social_providers.iter().find(|p| p.name == name),
            None if self.social_providers.len() == 1 => self.social_providers.first(),
            None => None,
        }
    }

    /// How long an account stays locked after `failures` consecutive
    /// failures, or `None` below the threshold.
    pub fn lock_duration(&self, failures: u32) -> Option<i64> {
        let over = failures.checked_sub(self.lockout_threshold)?;
        let factor = 1i64.checked_shl(over.min(30)).unwrap_or(i64::MAX);
        Some(self.lockout_base_secs.saturating_mul(factor).min(self.lockout_max_secs))
    }
}

/// The WebAuthn relying party of a tenant's storefronts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PasskeySettings {
    /// The relying-party id: the storefront's registrable domain (e.g.
    /// `shop.example`, or `localhost` in development; browsers refuse IP
    /// addresses). A passkey works only under this id.
    pub rp_id: String,
    /// The name an authenticator shows; the tenant's display name when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rp_name: String,
    /// The exact origins (`https://shop.example`, `http://localhost:3000`)
    /// whose pages may register and use passkeys; each must be on `rpId` or
    /// a subdomain of it.
    pub origins: Vec<String>,
}

/// An OpenID Connect provider of a tenant (Google, Apple, any certified provider).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SocialProvider {
    /// What the storefront sends as `provider` (e.g. `google`).
    pub name: String,
    /// Compared exactly with the discovery document's and the ID token's `iss`.
    pub issuer: String,
    pub client_id: String,
    /// Inline secret: development only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Secrets Manager ARN of the client secret (production); wins over `client_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_arn: Option<String>,
    /// `redirect_uri` values the storefront may use; exact matches.
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// Every socialLogin must send the `nonce` of its authorization request
    /// (refused with 400 before the provider is asked otherwise).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_nonce: bool,
    /// Link a provider identity to an existing account with the same e-mail
    /// on the provider's `email_verified` alone, without the owner's consent.
    /// Only for providers whose e-mail verification the operator vouches for
    /// (one that verifies weakly would hand out accounts).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub trust_email_verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorefrontClient {
    pub client_id: crate::domain::ClientId,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(name: &str) -> SocialProvider {
        SocialProvider { name: name.into(), issuer: format!("https://{name}.example"), ..Default::default() }
    }

    #[test]
    fn a_social_login_without_provider_takes_the_default_or_the_only_one() {
        let mut s = TenantSettings { social_providers: vec![provider("acme")], ..Default::default() };
        let name = |p: Option<&SocialProvider>| p.map(|p| p.name.clone());
        assert_eq!(name(s.social_provider(None)), Some("acme".into()), "the only provider");
        s.social_providers.push(provider("other"));
        assert_eq!(name(s.social_provider(None)), None, "two and no default: the request must name one");
        s.default_social_provider = Some("other".into());
        assert_eq!(name(s.social_provider(None)), Some("other".into()));
        assert_eq!(name(s.social_provider(Some("acme"))), Some("acme".into()), "a named provider wins");
        assert_eq!(name(s.social_provider(Some("nope"))), None);
    }

    #[test]
    fn lock_doubles_from_the_threshold_up_to_the_cap() {
        let s = TenantSettings::default();
        assert_eq!(s.lock_duration(4), None);
        assert_eq!(s.lock_duration(5), Some(30));
        assert_eq!(s.lock_duration(6), Some(60));
        assert_eq!(s.lock_duration(9), Some(480));
        assert_eq!(s.lock_duration(10), Some(900));
        assert_eq!(s.lock_duration(200), Some(900));
    }
}
