//! What every handler shares: configuration, the store, the signing keys and
//! the mailer, built once at cold start and shared across warm invocations.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;

use crate::config::{Config, MailTransport, SigningKeySource, TlsRoots};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::key_ring::{KeyRing, KeySource, LocalLoad};
use crate::mail::{Mailer, OutboxMailer, SesMailer};
use crate::signing::KeyError;
use crate::store::Store;
use crate::tenant::TenantSettings;

/// An AWS client built at its first use. SES and Secrets Manager serve few
/// requests (a mail, a provider's secret), and each SDK crate's first
/// client costs a cold start about 0.37 ms (the crate parses its endpoint
/// partitions), so a container that never needs one never builds it.
pub type LazyClient<C> = std::sync::LazyLock<C, Box<dyn FnOnce() -> C + Send>>;

/// A `LazyClient` built by `build`.
pub fn lazy_client<C>(build: impl FnOnce() -> C + Send + 'static) -> LazyClient<C> {
    std::sync::LazyLock::new(Box::new(build))
}

/// Tenant settings change rarely; a warm container re-reads them after this.
const TENANT_CACHE_SECS: i64 = 60;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub keys: KeyRing,
    pub mailer: Mailer,
    /// Secrets Manager, configured like every other AWS client (credentials,
    /// timeouts, pinned roots in Lambda): social providers' client secrets.
    /// `None` where no AWS is configured (tests with inline secrets).
    pub secrets: Option<LazyClient<aws_sdk_secretsmanager::Client>>,
    tenants: Mutex<HashMap<String, (i64, Arc<TenantSettings>)>>,
    /// Storefront clients found, by `{tenant}/{client}`, and when (see `storefront_client_exists`).
    clients: Mutex<HashMap<String, i64>>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
}

impl AppState {
    pub fn new(config: Config, store: Store, keys: KeyRing, mailer: Mailer) -> Self {
        Self::with_secrets(config, store, keys, mailer, None)
    }

    pub fn with_secrets(
        config: Config,
        store: Store,
        keys: KeyRing,
        mailer: Mailer,
        secrets: Option<LazyClient<aws_sdk_secretsmanager::Client>>,
    ) -> Self {
        Self(Arc::new(Inner {
            config,
            store,
            keys,
            mailer,
            secrets,
            tenants: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
        }))
    }

    /// Everything from the environment (see `Config::from_env`), with the
    /// SDK's default credential chain (profiles, SSO, …): the local server and the CLI.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env();
        let sdk = sdk_config(&config).await;
        Self::build(config, sdk).await
    }

    /// Inside Lambda (see `lambda_sdk_config`), everything that needs no
    /// network: the configuration, the SDK clients and a file's or an inline
    /// key set. It is CPU work only, so a cold start runs it on a thread of
    /// its own beside the runtime's start (see `run_lambda`).
    pub fn prepare_for_lambda() -> Result<Prepared, StartupError> {
        let config = Config::from_env();
        let sdk = lambda_sdk_config(&config);
        Prepared::new(config, sdk)
    }

    async fn build(config: Config, sdk: aws_config::SdkConfig) -> Result<Self, StartupError> {
        Prepared::new(config, sdk)?.finish().await
    }

    /// Tenant settings, cached briefly per container; `None` for an unknown tenant.
    pub async fn tenant_settings(&self, tenant: &TenantId) -> Result<Option<Arc<TenantSettings>>, ApiError> {
        let now = crate::clock::now_epoch();
        if let Some(settings) = self.cached_tenant(tenant, now) {
            return Ok(Some(settings));
        }
        let Some(settings) = self.store.get_tenant(tenant).await? else { return Ok(None) };
        Ok(Some(self.remember_tenant(tenant, settings, now)))
    }

    fn cached_tenant(&self, tenant: &TenantId, now: i64) -> Option<Arc<TenantSettings>> {
        let (at, settings) = self.tenants.lock().ok()?.get(tenant.as_str()).cloned()?;
        (now - at < TENANT_CACHE_SECS).then_some(settings)
    }

    fn remember_tenant(&self, tenant: &TenantId, settings: TenantSettings, now: i64) -> Arc<TenantSettings> {
        let settings = Arc::new(settings);
        if let Ok(mut cache) = self.tenants.lock() {
            cache.insert(tenant.as_str().to_owned(), (now, settings.clone()));
        }
        settings
    }
}

/// A state built as far as it goes without the network: only a key set
/// held in Secrets Manager is still to be read (`finish`).
pub struct Prepared {
    config: Config,
    store: Store,
    keys: LocalLoad,
    mailer: Mailer,
    secrets: LazyClient<aws_sdk_secretsmanager::Client>,
}

impl Prepared {
    fn new(config: Config, sdk: aws_config::SdkConfig) -> Result<Self, StartupError> {
        let store = Store::new(dynamodb_client(&sdk, &config), &config.table_name);
        // A provider's client secret may live in Secrets Manager too: read with
        // the key set's client when the keys live there, else with one built
        // when a secret is first read.
        let (source, secrets) = match &config.signing_keys {
            SigningKeySource::File(path) => (KeySource::File(path.clone()), None),
            SigningKeySource::Inline(json) => (KeySource::Inline(json.clone()), None),
            SigningKeySource::SecretsManager(arn) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                (KeySource::Secret { client: client.clone(), arn: arn.clone() }, Some(client))
            }
        };
        let secrets = match secrets {
            Some(client) => lazy_client(move || client),
            None => {
                let sdk = sdk.clone();
                lazy_client(move || aws_sdk_secretsmanager::Client::new(&sdk))
            }
        };
        let keys = KeyRing::load_local(source, crate::key_ring::REFRESH_INTERVAL)?;
        let mailer = match &config.mail {
            MailTransport::Outbox(dir) => Mailer::Outbox(OutboxMailer::new(dir)),
            MailTransport::Ses => {
                let sdk = sdk.clone();
                let client = lazy_client(move || aws_sdk_sesv2::Client::new(&sdk));
                Mailer::Ses(SesMailer::new(client, config.ses_configuration_set.clone()))
            }
        };
        Ok(Self { config, store, keys, mailer, secrets })
    }

    /// The state, when nothing is left to read (`Err` hands it back otherwise).
    pub fn into_state(self) -> Result<AppState, Box<Self>> {
        match self.keys {
            LocalLoad::Loaded(keys) => {
                Ok(AppState::with_secrets(self.config, self.store, keys, self.mailer, Some(self.secrets)))
            }
            keys @ LocalLoad::NeedsNetwork(_) => Err(Box::new(Self { keys, ..self })),
        }
    }

    /// The state, once a key set held in Secrets Manager has been read.
    pub async fn finish(self) -> Result<AppState, StartupError> {
        let keys = match self.keys {
            LocalLoad::Loaded(ring) => ring,
            LocalLoad::NeedsNetwork(source) => KeyRing::load(source, crate::key_ring::REFRESH_INTERVAL).await?,
        };
        Ok(AppState::with_secrets(self.config, self.store, keys, self.mailer, Some(self.secrets)))
    }
}

impl AppState {
    /// Whether the tenant has this storefront client. A client found is
    /// remembered per container for `TENANT_CACHE_SECS`, as tenant settings
    /// are: every anonymous session checks its client, and without the cache
    /// each one was a strongly consistent read of the same item, a tenant's
    /// hottest key (docs/scale.md). An unknown client is read every time.
    async fn storefront_client_exists(
        &self,
        tenant: &TenantId,
        client: &crate::domain::ClientId,
    ) -> Result<bool, ApiError> {
        let now = crate::clock::now_epoch();
        if self.client_cached(tenant, client, now) {
            return Ok(true);
        }
        if self.store.get_client(tenant, client).await?.is_none() {
            return Ok(false);
        }
        self.remember_client(tenant, client, now);
        Ok(true)
    }

    /// The settings of a tenant that has storefront client `client` (`None`
    /// when either is unknown): what an anonymous session starts from.
    /// Cached as the two above; when neither is, as in a cold container's
    /// first anonymous login, both are read in one round trip.
    pub async fn storefront(
        &self,
        tenant: &TenantId,
        client: &crate::domain::ClientId,
    ) -> Result<Option<Arc<TenantSettings>>, ApiError> {
        let now = crate::clock::now_epoch();
        if let Some(settings) = self.cached_tenant(tenant, now) {
            return Ok(self.storefront_client_exists(tenant, client).await?.then_some(settings));
        }
        let (settings, client_found) = self.store.get_tenant_and_client(tenant, client).await?;
        let Some(settings) = settings else { return Ok(None) };
        let settings = self.remember_tenant(tenant, settings, now);
        if !client_found {
            return Ok(None);
        }
        self.remember_client(tenant, client, now);
        Ok(Some(settings))
    }

    fn client_cached(&self, tenant: &TenantId, client: &crate::domain::ClientId, now: i64) -> bool {
        let at = self.clients.lock().ok().and_then(|c| c.get(&format!("{tenant}/{client}")).copied());
        at.is_some_and(|at| now - at < TENANT_CACHE_SECS)
    }

    fn remember_client(&self, tenant: &TenantId, client: &crate::domain::ClientId, now: i64) {
        if let Ok(mut cache) = self.clients.lock() {
            cache.insert(format!("{tenant}/{client}"), now);
        }
    }
}

/// The AWS SDK configuration. With `DYNAMODB_ENDPOINT` set (DynamoDB Local)
/// and no credentials in the environment, static dummy credentials are used so
/// nothing probes for real ones.
pub async fn sdk_config(config: &Config) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(config.region.clone()))
        .timeout_config(config.timeouts.sdk())
        .retry_config(aws_config::retry::RetryConfig::standard());
    if config.dynamodb_endpoint.is_some() && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "local"));
    }
    loader.load().await
}

/// The SDK configuration inside Lambda, where the execution role's
/// credentials are in the environment and the region is known. Skipping the
/// default chain (profile files, SSO, IMDS, STS web identity) keeps that code
/// out of the function binaries and its work out of the cold start.
pub fn lambda_sdk_config(config: &Config) -> aws_config::SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new(config.region.clone()))
        .timeout_config(config.timeouts.sdk())
        // Throttling and transient errors: 3 tries with jittered backoff, inside the operation timeout.
        .retry_config(aws_config::retry::RetryConfig::standard())
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ));
    if config.tls_roots == TlsRoots::AmazonTrustServices {
        builder = builder.http_client(amazon_roots_https_client());
    }
    builder.build()
}

/// Amazon Root CA 1–4 and Starfield Services Root CA G2 (which cross-signs
/// them), as Debian's ca-certificates ships them; their SHA-256 fingerprints
/// are checked by a test against those Amazon Trust Services publishes.
pub const AMAZON_TRUST_SERVICES_ROOTS: &str = include_str!("amazon-trust-services-roots.pem");

/// The SDK's default HTTPS client (rustls on aws-lc), trusting only Amazon
/// Trust Services' roots.
fn amazon_roots_https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust_store = TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS);
    let context = TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .expect("a trust store without native roots always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

pub fn dynamodb_client(sdk: &aws_config::SdkConfig, config: &Config) -> aws_sdk_dynamodb::Client {
    // Multi-region: the table's calls go to its home region's replica (see `home_region`).
    let mut builder = crate::home_region::route(
        aws_sdk_dynamodb::config::Builder::from(sdk),
        crate::home_region::from_env().as_deref(),
    );
    if let Some(endpoint) = &config.dynamodb_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn the_pinned_roots_are_amazon_trust_services_own() {
        // SHA-256 fingerprints as https://www.amazontrust.com/repository/ lists them.
        let published = [
            "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e", // Amazon Root CA 1
            "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4", // Amazon Root CA 2
            "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4", // Amazon Root CA 3
            "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092", // Amazon Root CA 4
            "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5", // Starfield Services Root CA G2
        ];
        let fingerprints: Vec<String> = pem::parse_many(AMAZON_TRUST_SERVICES_ROOTS)
            .expect("the bundle is PEM")
            .iter()
            .map(|cert| Sha256::digest(cert.contents()).iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        assert_eq!(fingerprints, published);
    }

    #[test]
    fn lambda_clients_trust_the_pinned_roots_unless_told_otherwise() {
        let mut config = Config::from_env();
        config.tls_roots = TlsRoots::AmazonTrustServices;
        assert!(lambda_sdk_config(&config).http_client().is_some());
        config.tls_roots = TlsRoots::System;
        // Without a client of its own, each SDK client builds the default one.
        assert!(lambda_sdk_config(&config).http_client().is_none());
    }

    #[tokio::test]
    async fn the_pinned_client_loads_its_roots_and_connects() {
        let mut config = Config::from_env();
        config.tls_roots = TlsRoots::AmazonTrustServices;
        let sdk = lambda_sdk_config(&config);
        // Nothing listens on port 9: the request gets as far as connecting,
        // after the connector has parsed the pinned roots (it panics on a bad one).
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("https://127.0.0.1:9")
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("a", "b", None, None, "test"))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let error = aws_sdk_dynamodb::Client::from_conf(dynamodb).list_tables().send().await.unwrap_err();
        assert!(matches!(error, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)), "{error:?}");
    }
}
