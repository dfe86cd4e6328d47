//! Process configuration, read once at cold start from the environment.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table name (`TABLE_NAME`).
    pub table_name: String,
    /// Base of every issuer: `{issuer_base}/customer/{tenant}` (`ISSUER_BASE_URL`).
    /// `None` (the variable set but empty, as the template does without a custom
    /// domain): the API's own URL, learnt from the first request (`learn_issuer_base`).
    pub issuer_base: Option<String>,
    /// Set for DynamoDB Local (`DYNAMODB_ENDPOINT`); unset on AWS.
    pub dynamodb_endpoint: Option<String>,
    pub region: String,
    pub signing_keys: SigningKeySource,
    pub mail: MailTransport,
    /// Sender when a tenant has none (`MAIL_FROM`).
    pub default_sender: String,
    /// SES configuration set every mail is sent with, for bounce and complaint
    /// events (`SES_CONFIGURATION_SET`; the template sets it).
    pub ses_configuration_set: Option<String>,
    /// Which roots Lambda's AWS clients trust (`TLS_ROOTS`).
    pub tls_roots: TlsRoots,
    /// Every AWS call is bounded by these (`AWS_CONNECT_TIMEOUT_MS`,
    /// `AWS_ATTEMPT_TIMEOUT_MS`, `AWS_OPERATION_TIMEOUT_MS`), and every
    /// request by `REQUEST_TIMEOUT_MS`, all inside the function's own timeout:
    /// a slow or frozen database is a 503, never a Lambda timeout.
    pub timeouts: Timeouts,
    /// Requests from loopback addresses are exempt from the per-address
    /// limits (`RATE_LIMIT_LOOPBACK=exempt`, the default; `limit` counts them):
    /// development and tests are not throttled by their own address. API
    /// Gateway never passes a loopback address.
    pub exempt_loopback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: std::time::Duration,
    /// One try of a call (the SDK retries throttling and transient errors, with jitter).
    pub attempt: std::time::Duration,
    /// A call with all its retries.
    pub operation: std::time::Duration,
    /// A whole request: answered 503 when it runs longer.
    pub request: std::time::Duration,
}

impl Timeouts {
    /// Within the template's 10 s function timeout: one call fails after at
    /// most 4 s, and a request answers by 8 s whatever its calls do.
    pub const DEFAULT: Self = Self {
        connect: std::time::Duration::from_millis(1000),
        attempt: std::time::Duration::from_millis(2000),
        operation: std::time::Duration::from_millis(4000),
        request: std::time::Duration::from_millis(8000),
    };

    fn from_env() -> Self {
        let ms = |name: &str, default: std::time::Duration| {
            var(name).and_then(|v| v.parse().ok()).map(std::time::Duration::from_millis).unwrap_or(default)
        };
        let d = Self::DEFAULT;
        Self {
            connect: ms("AWS_CONNECT_TIMEOUT_MS", d.connect),
            attempt: ms("AWS_ATTEMPT_TIMEOUT_MS", d.attempt),
            operation: ms("AWS_OPERATION_TIMEOUT_MS", d.operation),
            request: ms("REQUEST_TIMEOUT_MS", d.request),
        }
    }

    /// The SDK's form of the first three.
    pub fn sdk(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// The certificates the SDK clients trust for AWS endpoints inside Lambda.
/// The local server and the CLI always use the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRoots {
    /// Amazon Trust Services' roots, which every AWS endpoint chains to
    /// (`TLS_ROOTS=amazon`, the default). Loading the system bundle instead
    /// costs ≈ 4 ms of every cold start (docs/performance.md).
    AmazonTrustServices,
    /// The system's trust store (`TLS_ROOTS=system`): for a TLS-inspecting
    /// egress proxy whose own CA is installed on the system.
    System,
}

#[derive(Debug, Clone)]
pub enum SigningKeySource {
    /// A key-set JSON file (development; `SIGNING_KEYS_FILE`).
    File(PathBuf),
    /// The key-set JSON itself (`SIGNING_KEYS`).
    Inline(String),
    /// A Secrets Manager secret holding the key-set JSON (`SIGNING_KEYS_SECRET_ARN`; production).
    SecretsManager(String),
}

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// One JSON file per message in a folder (`MAIL_TRANSPORT=outbox`, `OUTBOX_DIR`).
    Outbox(PathBuf),
    /// Amazon SES v2 (`MAIL_TRANSPORT=ses`).
    Ses,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Self {
        let signing_keys = match (var("SIGNING_KEYS_SECRET_ARN"), var("SIGNING_KEYS")) {
            (Some(arn), _) => SigningKeySource::SecretsManager(arn),
            (None, Some(json)) => SigningKeySource::Inline(json),
            (None, None) => SigningKeySource::File(
                var("SIGNING_KEYS_FILE").unwrap_or_else(|| ".local/signing-keys.json".into()).into(),
            ),
        };
        let mail = match var("MAIL_TRANSPORT").as_deref() {
            Some("ses") => MailTransport::Ses,
            _ => MailTransport::Outbox(var("OUTBOX_DIR").unwrap_or_else(|| ".local/outbox".into()).into()),
        };
        Self {
            table_name: var("TABLE_NAME").unwrap_or_else(|| "customer-accounts".into()),
            issuer_base: match std::env::var("ISSUER_BASE_URL") {
                Ok(base) if base.trim().is_empty() => None,
                Ok(base) => Some(base.trim().trim_end_matches('/').to_owned()),
                Err(_) => Some("http://127.0.0.1:3000".into()),
            },
            dynamodb_endpoint: var("DYNAMODB_ENDPOINT"),
            region: var("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            signing_keys,
            mail,
            default_sender: var("MAIL_FROM").unwrap_or_else(|| "no-reply@customer-accounts.local".into()),
            ses_configuration_set: var("SES_CONFIGURATION_SET"),
            tls_roots: match var("TLS_ROOTS").as_deref() {
                Some("system") => TlsRoots::System,
                _ => TlsRoots::AmazonTrustServices,
            },
            exempt_loopback: var("RATE_LIMIT_LOOPBACK").as_deref() != Some("limit"),
            timeouts: Timeouts::from_env(),
        }
    }

    /// The configured base, or the one learnt from the API's first request.
    pub fn issuer_base(&self) -> &str {
        self.issuer_base.as_deref().or_else(|| LEARNT_ISSUER_BASE.get().map(String::as_str)).unwrap_or_default()
    }

    pub fn issuer(&self, tenant: &crate::domain::TenantId) -> String {
        format!("{}/customer/{tenant}", self.issuer_base())
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer_base())
    }
}

/// `https://{domain}` of the API Gateway endpoint that invoked this process:
/// every request of a stack comes through the same API, so the first one's
/// domain is the API's own URL.
static LEARNT_ISSUER_BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Notes the domain a request came in on (API Gateway's `domainName`); only
/// the first one counts, and only when no `ISSUER_BASE_URL` is configured.
pub fn learn_issuer_base(domain: &str) {
    if !domain.is_empty() && LEARNT_ISSUER_BASE.get().is_none() {
        let _ = LEARNT_ISSUER_BASE.set(format!("https://{domain}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_configured_base_the_issuer_is_the_api_the_first_request_came_through() {
        let config = Config { issuer_base: None, ..Config::from_env() };
        let tenant = crate::domain::TenantId::parse("shop").unwrap();
        learn_issuer_base("abc123.execute-api.eu-central-1.amazonaws.com");
        learn_issuer_base("another.example.com");
        assert_eq!(config.issuer(&tenant), "https://abc123.execute-api.eu-central-1.amazonaws.com/customer/shop");
        assert_eq!(config.jwks_uri(), "https://abc123.execute-api.eu-central-1.amazonaws.com/.well-known/jwks.json");
        let fixed = Config { issuer_base: Some("https://accounts.shop.test".into()), ..config };
        assert_eq!(fixed.issuer(&tenant), "https://accounts.shop.test/customer/shop");
    }
}
