//! The pieces of `accounts` that the tests and the bench share: the merged
//! routes of all five functions, the demo tenant's settings, and a scratch
//! table in DynamoDB Local provisioned with them.

pub mod docs;
pub mod pages;

use std::path::Path;

use axum::Router;
use shared::AppState;
use shared::config::{Config, MailTransport, SigningKeySource, TlsRoots};
use shared::domain::{ClientId, TenantId};
use shared::key_ring::KeyRing;
use shared::mail::{Mailer, OutboxMailer};
use shared::services::provisioning;
use shared::signing::SigningKeys;
use shared::store::Store;
use shared::tenant::TenantSettings;

pub const DEMO_TENANT: &str = "demo";
pub const DEMO_CLIENT: &str = "storefront";

/// Every function's routes, merged: the local server's whole API.
pub fn all_routes() -> Router<AppState> {
    login::routes()
        .merge(activation::routes())
        .merge(profile::routes())
        .merge(addresses::routes())
        .merge(password_reset::routes())
}

/// The demo storefront's own origin (the retailer seed's relative links resolve against it).
pub const DEMO_STOREFRONT: &str = "http://localhost:8080";

/// Where the demo tenant's links point: the account pages of `make dev`'s server.
pub const DEMO_PAGES_BASE: &str = "http://127.0.0.1:3000/account";

/// The demo tenant: its links open the account pages at `DEMO_PAGES_BASE`.
pub fn demo_settings(tenant: &TenantId) -> TenantSettings {
    demo_settings_at(tenant, DEMO_PAGES_BASE)
}

/// The demo tenant with its links on the account pages at `pages`
/// (e.g. `http://127.0.0.1:3000/account`), themed in green.
pub fn demo_settings_at(tenant: &TenantId, pages: &str) -> TenantSettings {
    let mut settings = TenantSettings {
        display_name: format!("{tenant} shop"),
        // The retailer seed's relative `reset_uri` resolves against the storefront.
        storefront_uri: Some(DEMO_STOREFRONT.to_owned()),
        default_client_id: Some(ClientId::parse(DEMO_CLIENT).expect("a valid client id")),
        logo_url: Some("/account/demo-logo.svg".into()),
        accent_color: Some("#0b6e4f".into()),
        passkeys: Some(demo_passkeys()),
        ..TenantSettings::default()
    };
    point_links_at(&mut settings, pages);
    settings.allowed_link_uris.push(format!("{DEMO_STOREFRONT}/customers/do_reset"));
    settings
}

/// The demo relying party: `localhost` (browsers refuse IP addresses as RP
/// ids), for the pages of `make dev`'s server. A page opened at
/// `127.0.0.1:3000` is a listed origin too, but a browser there cannot use
/// the RP id `localhost`: open the pages at `localhost:3000` for passkeys.
pub fn demo_passkeys() -> shared::tenant::PasskeySettings {
    shared::tenant::PasskeySettings {
        rp_id: "localhost".into(),
        rp_name: String::new(),
        origins: vec!["http://localhost:3000".into(), "http://127.0.0.1:3000".into()],
    }
}

/// Sets the link targets (activation, e-mail confirmation, reset)
/// to the account pages at `pages`.
pub fn point_links_at(settings: &mut TenantSettings, pages: &str) {
    let reset = format!("{pages}/reset-password.html");
    let activate = format!("{pages}/activate.html");
    // The old targets leave the allow-list; any other allowed target (a storefront's own page) stays.
    let old: Vec<String> = [settings.reset_uri.take(), settings.activation_uri.take()].into_iter().flatten().collect();
    settings.allowed_link_uris.retain(|uri| !old.contains(uri));
    settings.allowed_link_uris.extend([reset.clone(), activate.clone()]);
    settings.activation_uri = Some(activate);
    settings.email_confirm_uri = Some(format!("{pages}/confirm-email.html"));
    settings.reset_uri = Some(reset);
}

/// A table of its own in DynamoDB Local at `endpoint`, named `table_name`,
/// with mail to `outbox` and tokens signed by `key_set_json`.
pub struct Scratch<'a> {
    pub table_name: String,
    pub issuer_base: &'a str,
    pub endpoint: &'a str,
    pub key_set_json: &'a str,
    pub outbox: &'a Path,
}

impl Scratch<'_> {
    pub fn config(&self) -> Config {
        Config {
            table_name: self.table_name.clone(),
            issuer_base: Some(self.issuer_base.into()),
            dynamodb_endpoint: Some(self.endpoint.into()),
            region: "us-east-1".into(),
            signing_keys: SigningKeySource::Inline(self.key_set_json.into()),
            mail: MailTransport::Outbox(self.outbox.into()),
            default_sender: "no-reply@shop.test".into(),
            ses_configuration_set: None,
            tls_roots: TlsRoots::System,
            exempt_loopback: true,
            // DynamoDB Local on a busy 2-core machine can take seconds for one call.
            timeouts: shared::config::Timeouts {
                connect: std::time::Duration::from_secs(5),
                attempt: std::time::Duration::from_secs(20),
                operation: std::time::Duration::from_secs(30),
                request: std::time::Duration::from_secs(60),
            },
        }
    }

    /// The state over `dynamodb`, once the table exists with the demo tenant
    /// and its storefront client. Panics if DynamoDB Local is not there.
    pub async fn provision(&self, dynamodb: aws_sdk_dynamodb::Client) -> AppState {
        self.provision_with(dynamodb, self.config()).await
    }

    /// `provision` with a configuration of the caller's (other timeouts, say).
    pub async fn provision_with(&self, dynamodb: aws_sdk_dynamodb::Client, config: Config) -> AppState {
        let store = Store::new(dynamodb, &config.table_name);
        let keys = KeyRing::fixed(SigningKeys::from_json(self.key_set_json).expect("the key set loads"));
        let state = AppState::new(config, store, keys, Mailer::Outbox(OutboxMailer::new(self.outbox)));
        let tenant = TenantId::parse(DEMO_TENANT).expect("a valid tenant id");
        let client = ClientId::parse(DEMO_CLIENT).expect("a valid client id");
        provisioning::ensure_tenant(&state.store, &tenant, &demo_settings(&tenant), &client)
            .await
            .expect("table and demo tenant are created in DynamoDB Local");
        state
    }
}
