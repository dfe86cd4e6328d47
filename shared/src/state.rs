//! What every handler shares: configuration, the store, the signing keys and
//! the mailer, built once at cold start and shared across warm invocations.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;

use crate::config::{Config, MailTransport, SigningKeySource};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::mail::{Mailer, OutboxMailer, SesMailer};
use crate::signing::{KeyError, SigningKeys};
use crate::store::Store;
use crate::tenant::TenantSettings;

/// Tenant settings change rarely; a warm container re-reads them after this.
const TENANT_CACHE_SECS: i64 = 60;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub keys: SigningKeys,
    pub mailer: Mailer,
    tenants: Mutex<HashMap<String, (i64, Arc<TenantSettings>)>>,
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
    #[error("reading the signing keys secret: {0}")]
    Secret(String),
}

/// The string value of a Secrets Manager secret.
pub async fn read_secret(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<String, StartupError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| StartupError::Secret(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
    out.secret_string.ok_or_else(|| StartupError::Secret("the secret has no string value".into()))
}

impl AppState {
    pub fn new(config: Config, store: Store, keys: SigningKeys, mailer: Mailer) -> Self {
        Self(Arc::new(Inner { config, store, keys, mailer, tenants: Mutex::new(HashMap::new()) }))
    }

    /// Everything from the environment (see `Config::from_env`), with the
    /// SDK's default credential chain (profiles, SSO, …): the local server and the CLI.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env();
        let sdk = sdk_config(&config).await;
        Self::build(config, sdk).await
    }

    /// Inside Lambda (see `lambda_sdk_config`).
    pub async fn for_lambda() -> Result<Self, StartupError> {
        let config = Config::from_env();
        let sdk = lambda_sdk_config(&config);
        Self::build(config, sdk).await
    }

    async fn build(config: Config, sdk: aws_config::SdkConfig) -> Result<Self, StartupError> {
        let store = Store::new(dynamodb_client(&sdk, &config), &config.table_name);
        let keys = match &config.signing_keys {
            SigningKeySource::File(path) => SigningKeys::load_or_create_file(path)?,
            SigningKeySource::Inline(json) => SigningKeys::from_json(json)?,
            SigningKeySource::SecretsManager(arn) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                SigningKeys::from_json(&read_secret(&client, arn).await?)?
            }
        };
        let mailer = match &config.mail {
            MailTransport::Outbox(dir) => Mailer::Outbox(OutboxMailer::new(dir)),
            MailTransport::Ses => Mailer::Ses(SesMailer::new(aws_sdk_sesv2::Client::new(&sdk))),
        };
        Ok(Self::new(config, store, keys, mailer))
    }

    /// Tenant settings, cached briefly per container; `None` for an unknown tenant.
    pub async fn tenant_settings(&self, tenant: &TenantId) -> Result<Option<Arc<TenantSettings>>, ApiError> {
        let now = crate::clock::now_epoch();
        if let Some((at, settings)) = self.tenants.lock().ok().and_then(|c| c.get(tenant.as_str()).cloned())
            && now - at < TENANT_CACHE_SECS
        {
            return Ok(Some(settings));
        }
        let Some(settings) = self.store.get_tenant(tenant).await? else { return Ok(None) };
        let settings = Arc::new(settings);
        if let Ok(mut cache) = self.tenants.lock() {
            cache.insert(tenant.as_str().to_owned(), (now, settings.clone()));
        }
        Ok(Some(settings))
    }
}

/// The AWS SDK configuration. With `DYNAMODB_ENDPOINT` set (DynamoDB Local)
/// and no credentials in the environment, static dummy credentials are used so
/// nothing probes for real ones.
pub async fn sdk_config(config: &Config) -> aws_config::SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(aws_config::Region::new(config.region.clone()));
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
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new(config.region.clone()))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .build()
}

pub fn dynamodb_client(sdk: &aws_config::SdkConfig, config: &Config) -> aws_sdk_dynamodb::Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(endpoint) = &config.dynamodb_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}
