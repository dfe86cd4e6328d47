//! A real OpenID Connect provider on 127.0.0.1 for the social login tests:
//! the npm package `oauth2-mock-server`, installed into `.tools/oidc` on first
//! use and started per test by `tests/oidc/mock-provider.mjs`. Dropping the
//! handle stops it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::tenant::SocialProvider;

use crate::TestApp;

pub const PACKAGE: &str = "oauth2-mock-server@7.2.1";
pub const CLIENT_ID: &str = "shop-client";
pub const CLIENT_SECRET: &str = "shop-client-secret";
pub const REDIRECT_URI: &str = "https://shop.test/social/callback";

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tools_dir() -> PathBuf {
    repo_dir().join(".tools/oidc")
}

/// `npm install` once per checkout (the folder is ignored by git).
fn ensure_installed() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = tools_dir();
        if dir.join("node_modules/oauth2-mock-server/package.json").exists() {
            return;
        }
        std::fs::create_dir_all(&dir).expect(".tools/oidc can be created");
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg(PACKAGE)
            .status()
            .expect("npm runs (Node.js is needed for the social login tests)");
        assert!(status.success(), "npm install {PACKAGE} failed");
    });
}

pub struct OidcProvider {
    pub issuer: String,
    child: Child,
}

/// What the storefront holds after the provider redirected back.
pub struct Authorization {
    pub code: String,
    pub verifier: String,
}

impl OidcProvider {
    /// A fresh app whose demo tenant signs in with this provider, as `acme`.
    pub async fn app(&self) -> TestApp {
        app_with(vec![self.settings("acme")]).await
    }

    pub fn start() -> Self {
        ensure_installed();
        let mut child = Command::new("node")
            .arg(repo_dir().join("tests/oidc/mock-provider.mjs"))
            .env("OIDC_TOOLS_DIR", tools_dir())
            .env("OIDC_EXIT_ON_STDIN_CLOSE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("provider prints its issuer");
        let started: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("provider start line {line:?}: {e}"));
        let issuer = started["issuer"].as_str().expect("issuer").to_owned();
        Self { issuer, child }
    }

    /// The tenant setting for this provider under `name`.
    pub fn settings(&self, name: &str) -> SocialProvider {
        SocialProvider {
            name: name.into(),
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            client_secret_arn: None,
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            require_nonce: false,
            trust_email_verified: false,
        }
    }

    /// The storefront's half of the flow: a PKCE pair (S256), the
    /// authorization request, and the code from the redirect. `claims` go
    /// into the ID token of this code (see mock-provider.mjs).
    pub async fn authorize(&self, claims: Value, nonce: Option<&str>) -> Authorization {
        let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut url = url::Url::parse(&format!("{}/authorize", self.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", "openid email profile")
            .append_pair("state", "st")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("test_claims", &claims.to_string());
        if let Some(nonce) = nonce {
            url.query_pairs_mut().append_pair("nonce", nonce);
        }
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = client.get(url).send().await.expect("authorize answers");
        assert!(response.status().is_redirection(), "authorize: {}", response.status());
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let location = url::Url::parse(&location).unwrap();
        assert!(location.as_str().starts_with(REDIRECT_URI), "redirected to {location}");
        let code = location.query_pairs().find(|(k, _)| k == "code").expect("code in redirect").1.into_owned();
        Authorization { code, verifier }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds `providers` to the demo tenant's settings (before the first request
/// reads and caches them).
pub async fn configure(app: &TestApp, providers: Vec<SocialProvider>) {
    let mut settings = app.store().get_tenant(&app.tenant).await.unwrap().expect("demo tenant");
    settings.social_providers = providers;
    app.store().put_tenant(&app.tenant, &settings).await.unwrap();
}

/// A fresh app whose demo tenant signs in with `providers`.
pub async fn app_with(providers: Vec<SocialProvider>) -> TestApp {
    let app = TestApp::new().await;
    configure(&app, providers).await;
    app
}
