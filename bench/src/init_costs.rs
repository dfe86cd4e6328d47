//! What a cold start spends before the first request, piece by piece, timed
//! in process: the first call (cold caches, lazy statics) and the median of
//! later ones. Pieces the functions no longer pay are listed as such.

use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHasher as _;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde::Serialize;
use shared::config::Config;
use shared::signing::SigningKeys;

use crate::stats::median;

#[derive(Debug, Serialize)]
pub struct InitCost {
    pub step: &'static str,
    /// Whether a function's cold start still pays it.
    pub paid_at_cold_start: bool,
    pub first_ms: f64,
    pub median_ms: f64,
}

async fn time<F, Fut, T>(step: &'static str, paid_at_cold_start: bool, runs: usize, mut f: F) -> InitCost
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut samples: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(f().await);
        samples.push(started.elapsed());
    }
    let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    InitCost { step, paid_at_cold_start, first_ms: ms[0], median_ms: median(&ms[1..]) }
}

pub async fn measure(config: &Config, key_set_json: &str) -> Vec<InitCost> {
    let keys = SigningKeys::from_json(key_set_json).expect("bench keys load");
    let claims = serde_json::json!({"sub": "bench", "iat": 0, "exp": 1});
    vec![
        time("SDK config, Lambda (environment credentials)", true, 20, || async {
            shared::state::lambda_sdk_config(config)
        })
        .await,
        time("SDK config, default chain (profiles, SSO, IMDS)", false, 20, || async {
            shared::state::sdk_config(config).await
        })
        .await,
        time("DynamoDB client", true, 20, || async {
            let sdk = shared::state::lambda_sdk_config(config);
            shared::state::dynamodb_client(&sdk, config)
        })
        .await,
        time("SES client (now built at the first mail)", false, 20, || async {
            aws_sdk_sesv2::Client::new(&shared::state::lambda_sdk_config(config))
        })
        .await,
        time("Secrets Manager client (now built at the first secret read)", false, 20, || async {
            aws_sdk_secretsmanager::Client::new(&shared::state::lambda_sdk_config(config))
        })
        .await,
        time("signing keys: parse and check the RSA key set", true, 20, || async {
            SigningKeys::from_json(key_set_json).expect("keys load")
        })
        .await,
        time("sign one access token (key parsed once)", true, 20, || async { keys.sign_jwt(&claims).expect("signs") })
            .await,
        time("trust store: Amazon Trust Services roots (pinned, the default)", true, 20, || async {
            let mut roots = rustls::RootCertStore::empty();
            let pinned = CertificateDer::pem_slice_iter(shared::state::AMAZON_TRUST_SERVICES_ROOTS.as_bytes());
            roots.add_parsable_certificates(pinned.map(|cert| cert.expect("PEM")));
            roots
        })
        .await,
        time("trust store: the system's roots (TLS_ROOTS=system)", false, 20, || async {
            // What the SDK's default client does once per process.
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            roots
        })
        .await,
        time("argon2id dummy hash (was computed per cold start)", false, 5, || async {
            argon2::Argon2::default().hash_password(b"dummy").expect("hashes").to_string()
        })
        .await,
    ]
}
