//! OpenID Connect relying party: discovery, JWKS, the authorization-code
//! exchange and ID token verification. The only code that calls identity
//! providers. Discovery documents and key sets are cached per issuer for the
//! life of the process (shared across warm invocations).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::tenant::SocialProvider;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
// Three calls at most (discovery, JWKS, token) stay under the 10 s Lambda timeout.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a discovery document and key set are trusted before re-fetching.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// A key set is re-fetched for an unknown `kid` (key rotation) at most this often.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);
/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: u64 = 60;
/// An ID token fresh from the token endpoint older than this is refused.
const MAX_ID_TOKEN_AGE_SECS: i64 = 600;
/// Responses larger than this are not JSON a provider should send us.
const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider refused the code or verifier (OAuth `error` code only, never secrets).
    #[error("the provider rejected the code: {0}")]
    Rejected(String),
    /// Unreachable, timed out, 5xx, malformed answer, or a discovery document that does not fit.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
}

/// The parts of the discovery document we use.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// The identity an ID token asserts, after verification.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    /// A bool, or the string "true"/"false" (Apple).
    #[serde(default)]
    pub email_verified: Option<Value>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    aud: Option<Value>,
}

impl IdClaims {
    pub fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

/// A verified sign-in: the claims and the raw ID token (answered to the storefront).
#[derive(Debug, Clone)]
pub struct SignIn {
    pub claims: IdClaims,
    pub id_token: String,
    /// The provider's own access token, passed on as the seed's `social_access_token`.
    pub access_token: Option<String>,
}

pub struct CodeExchange<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: &'a str,
    pub nonce: Option<&'a str>,
}

struct IssuerMetadata {
    discovery: Arc<Discovery>,
    jwks: Arc<JwkSet>,
    discovery_at: Instant,
    jwks_at: Instant,
}

fn cache() -> &'static Mutex<HashMap<String, IssuerMetadata>> {
    static CACHE: OnceLock<Mutex<HashMap<String, IssuerMetadata>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// One client per process: rustls on aws-lc-rs (as the AWS SDK), timeouts,
/// no redirects (a provider endpoint that redirects is misconfigured).
fn http() -> Result<&'static reqwest::Client, OidcError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("customer-accounts")
        .build()
        .map_err(|e| OidcError::Unavailable(format!("http client: {e}")))?;
    Ok(CLIENT.get_or_init(|| client))
}

/// https everywhere; plain http only for loopback hosts (a provider on the
/// developer's machine or in tests).
pub fn allowed_url(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else { return false };
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        },
        _ => false,
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, OidcError> {
    if !allowed_url(url) {
        return Err(OidcError::Unavailable(format!("refusing non-https url {url}")));
    }
    let response = http()?.get(url).send().await.map_err(|e| OidcError::Unavailable(format!("GET {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(OidcError::Unavailable(format!("GET {url}: status {}", response.status())));
    }
    let bytes = read_body(response).await?;
    serde_json::from_slice(&bytes).map_err(|e| OidcError::Unavailable(format!("GET {url}: bad JSON: {e}")))
}

async fn read_body(response: reqwest::Response) -> Result<Vec<u8>, OidcError> {
    if response.content_length().is_some_and(|n| n as usize > MAX_BODY_BYTES) {
        return Err(OidcError::Unavailable("response too large".into()));
    }
    let bytes = response.bytes().await.map_err(|e| OidcError::Unavailable(format!("reading response: {e}")))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(OidcError::Unavailable("response too large".into()));
    }
    Ok(bytes.to_vec())
}

/// The discovery document of `issuer` (cached), checked to name the same
/// issuer exactly (OpenID Connect Discovery 4.3: no issuer mix-up).
pub async fn discovery(issuer: &str) -> Result<Arc<Discovery>, OidcError> {
    if let Some(found) = cached(issuer, |m| (m.discovery_at.elapsed() < METADATA_TTL).then(|| m.discovery.clone())) {
        return Ok(found);
    }
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let doc: Discovery = get_json(&url).await?;
    if doc.issuer != issuer {
        return Err(OidcError::Unavailable(format!("discovery names issuer {} instead of {issuer}", doc.issuer)));
    }
    if !allowed_url(&doc.token_endpoint) || !allowed_url(&doc.jwks_uri) {
        return Err(OidcError::Unavailable("discovery endpoints must be https".into()));
    }
    let jwks: JwkSet = get_json(&doc.jwks_uri).await?;
    let doc = Arc::new(doc);
    let now = Instant::now();
    if let Ok(mut cache) = cache().lock() {
        cache.insert(
            issuer.to_owned(),
            IssuerMetadata { discovery: doc.clone(), jwks: Arc::new(jwks), discovery_at: now, jwks_at: now },
        );
    }
    Ok(doc)
}

fn cached<T>(issuer: &str, pick: impl FnOnce(&IssuerMetadata) -> Option<T>) -> Option<T> {
    cache().lock().ok().and_then(|c| c.get(issuer).and_then(pick))
}

/// The key set of `issuer`; `refresh` re-fetches it (unknown `kid`: the
/// provider rotated keys), at most every `JWKS_MIN_REFRESH`.
async fn jwks(issuer: &str, discovery: &Discovery, refresh: bool) -> Result<Arc<JwkSet>, OidcError> {
    let fresh_enough = |m: &IssuerMetadata| {
        let age = m.jwks_at.elapsed();
        let keep = if refresh { age < JWKS_MIN_REFRESH } else { age < METADATA_TTL };
        keep.then(|| m.jwks.clone())
    };
    if let Some(found) = cached(issuer, fresh_enough) {
        return Ok(found);
    }
    let jwks = Arc::new(get_json::<JwkSet>(&discovery.jwks_uri).await?);
    if let Ok(mut cache) = cache().lock()
        && let Some(entry) = cache.get_mut(issuer)
    {
        entry.jwks = jwks.clone();
        entry.jwks_at = Instant::now();
    }
    Ok(jwks)
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
}

/// Exchanges an authorization code (with its PKCE verifier) at the token
/// endpoint and verifies the ID token it returns.
pub async fn sign_in(
    provider: &SocialProvider,
    client_secret: Option<&str>,
    exchange: CodeExchange<'_>,
    now: i64,
) -> Result<SignIn, OidcError> {
    let discovery = discovery(&provider.issuer).await?;
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", exchange.code),
        ("redirect_uri", exchange.redirect_uri),
        ("code_verifier", exchange.code_verifier),
        ("client_id", &provider.client_id),
    ];
    let mut request = http()?.post(&discovery.token_endpoint).header("accept", "application/json");
    if let Some(secret) = client_secret {
        // client_secret_basic is the default of the spec; post when the provider lists only that (or none).
        let methods = discovery.token_endpoint_auth_methods_supported.clone().unwrap_or_default();
        if methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") {
            let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&provider.client_id), Some(encode(secret)));
        } else {
            form.push(("client_secret", secret));
        }
    }
    let response = request
        .form(&form)
        .send()
        .await
        .map_err(|e| OidcError::Unavailable(format!("token endpoint: {}", e.without_url())))?;
    let status = response.status();
    let body = read_body(response).await?;
    if status.is_client_error() {
        let code = serde_json::from_slice::<TokenError>(&body).map(|e| e.error).unwrap_or_else(|_| status.to_string());
        return Err(OidcError::Rejected(code));
    }
    if !status.is_success() {
        return Err(OidcError::Unavailable(format!("token endpoint: status {status}")));
    }
    let tokens: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| OidcError::Unavailable(format!("token endpoint: bad JSON: {e}")))?;
    let id_token = tokens.id_token.ok_or_else(|| OidcError::Unavailable("token endpoint: no id_token".into()))?;
    let claims = verify_id_token(provider, &discovery, &id_token, exchange.nonce, now).await?;
    Ok(SignIn { claims, id_token, access_token: tokens.access_token })
}

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Signature (JWKS, asymmetric algorithms only), `iss` exactly the configured
/// issuer, `aud` our client id (`azp` too when there are several audiences),
/// `exp`, `iat`, and `nonce` when the storefront sent one.
pub async fn verify_id_token(
    provider: &SocialProvider,
    discovery: &Discovery,
    token: &str,
    nonce: Option<&str>,
    now: i64,
) -> Result<IdClaims, OidcError> {
    let invalid = |why: &str| OidcError::InvalidIdToken(why.to_owned());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
    if !ASYMMETRIC.contains(&header.alg) {
        return Err(invalid("algorithm not allowed"));
    }
    let mut keys = jwks(&provider.issuer, discovery, false).await?;
    let mut jwk = pick_key(&keys, header.kid.as_deref());
    if jwk.is_none() {
        keys = jwks(&provider.issuer, discovery, true).await?;
        jwk = pick_key(&keys, header.kid.as_deref());
    }
    let jwk = jwk.ok_or_else(|| invalid("no matching key"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable key"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&provider.issuer]);
    validation.set_audience(&[&provider.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECS;
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|e| OidcError::InvalidIdToken(format!("{:?}", e.kind())))?
        .claims;
    match claims.iat {
        Some(iat) if iat <= now + LEEWAY_SECS as i64 && iat >= now - MAX_ID_TOKEN_AGE_SECS => {}
        _ => return Err(invalid("iat missing or out of range")),
    }
    if let Some(Value::Array(audiences)) = &claims.aud
        && audiences.len() > 1
        && claims.azp.as_deref() != Some(provider.client_id.as_str())
    {
        return Err(invalid("azp is not our client"));
    }
    // A nonce in the ID token means the authorization request carried one:
    // a socialLogin that leaves it out would skip the replay check.
    match (nonce, claims.nonce.as_deref()) {
        (Some(expected), got) if got != Some(expected) => return Err(invalid("nonce mismatch")),
        (None, Some(_)) => return Err(invalid("the ID token carries a nonce the request did not send")),
        _ => {}
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(invalid("sub missing or too long"));
    }
    Ok(claims)
}

fn pick_key<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Option<&'a jsonwebtoken::jwk::Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        // Without a kid, only an unambiguous key set will do.
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}

/// RFC 7636 4.1: 43-128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn valid_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The client secret of a provider: inline (development), or a Secrets
/// Manager secret (production) read with `secrets` (the service's own
/// client), once per container.
pub async fn client_secret(
    provider: &SocialProvider,
    secrets_client: Option<&crate::state::LazyClient<aws_sdk_secretsmanager::Client>>,
) -> Result<Option<Arc<str>>, OidcError> {
    if let Some(arn) = &provider.client_secret_arn {
        static SECRETS: OnceLock<Mutex<HashMap<String, Arc<str>>>> = OnceLock::new();
        let secrets = SECRETS.get_or_init(Default::default);
        if let Some(found) = secrets.lock().ok().and_then(|s| s.get(arn).cloned()) {
            return Ok(Some(found));
        }
        let client =
            secrets_client.ok_or_else(|| OidcError::Unavailable("client secret: no Secrets Manager client".into()))?;
        let value: Arc<str> = crate::key_ring::read_secret(client, arn)
            .await
            .map_err(|e| OidcError::Unavailable(format!("client secret: {e}")))?
            .into();
        if let Ok(mut s) = secrets.lock() {
            s.insert(arn.clone(), value.clone());
        }
        return Ok(Some(value));
    }
    Ok(provider.client_secret.as_deref().map(Arc::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_for_loopback() {
        assert!(allowed_url("https://accounts.google.com"));
        assert!(allowed_url("http://127.0.0.1:8080/x"));
        assert!(allowed_url("http://localhost:8080"));
        assert!(allowed_url("http://[::1]:8080"));
        assert!(!allowed_url("http://accounts.google.com"));
        assert!(!allowed_url("http://10.0.0.1"));
        assert!(!allowed_url("ftp://127.0.0.1"));
    }

    #[test]
    fn email_verified_is_a_bool_or_apples_string() {
        let claims = |v: Value| -> IdClaims {
            serde_json::from_value(serde_json::json!({"iss": "i", "sub": "s", "email_verified": v})).unwrap()
        };
        assert!(claims(Value::Bool(true)).email_verified());
        assert!(claims(Value::String("true".into())).email_verified());
        assert!(!claims(Value::String("false".into())).email_verified());
        assert!(!claims(Value::Bool(false)).email_verified());
        assert!(!claims(Value::Null).email_verified());
    }

    #[test]
    fn code_verifier_follows_rfc7636() {
        assert!(valid_code_verifier(&"a".repeat(43)));
        assert!(valid_code_verifier(&"A-._~9".repeat(20)));
        assert!(!valid_code_verifier(&"a".repeat(42)));
        assert!(!valid_code_verifier(&"a".repeat(129)));
        assert!(!valid_code_verifier(&format!("{}+", "a".repeat(43))));
    }
}
