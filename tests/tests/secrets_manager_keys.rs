//! The signing key set where production keeps it: a Secrets Manager secret.
//! Here the secret lives in moto's Secrets Manager: the emulator `make test`
//! starts for SES and names in `SES_ENDPOINT` answers every service it
//! emulates on one port. Without `SES_ENDPOINT` the test says so and
//! passes, unless `SES_EMULATOR_REQUIRED=1` (as `make test` sets it).

use std::time::Duration;

use shared::config::Config;
use shared::key_ring::{KeyRing, KeySource};
use shared::signing::{KeySetFile, KeyStatus, generate_key};
use shared::state::sdk_config;

async fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let sdk = sdk_config(&Config::from_env()).await;
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&sdk).endpoint_url(endpoint).build(),
    )
}

fn key_set(status: KeyStatus) -> (String, String) {
    let key = generate_key(status).expect("RSA key generation");
    let kid = key.kid.clone();
    (kid, serde_json::to_string(&KeySetFile { keys: vec![key] }).expect("a key set serializes"))
}

/// A cold start reads the key set from its secret (what `Prepared::finish`
/// does on the first event); a token naming a key the process does not
/// know yet reads the secret again, so a rotation reaches it without a deploy.
#[tokio::test]
async fn the_key_set_is_read_from_its_secret_and_again_after_a_rotation() {
    let Some(endpoint) = tests::moto_endpoint() else { return };
    let client = secrets_client(&endpoint).await;
    let (first_kid, first) = key_set(KeyStatus::Active);
    let name = format!("accounts-test-keys-{}", uuid::Uuid::new_v4().simple());
    let created =
        client.create_secret().name(&name).secret_string(first).send().await.expect("moto creates the secret");
    let arn = created.arn.expect("a created secret has an ARN");

    let source = KeySource::Secret { client: client.clone(), arn: arn.clone() };
    let ring = KeyRing::load(source, Duration::from_secs(300)).await.expect("the key set is read from its secret");
    assert_eq!(ring.snapshot().active_kid(), first_kid);

    let (second_kid, second) = key_set(KeyStatus::Active);
    client.put_secret_value().secret_id(&arn).secret_string(second).send().await.expect("moto stores a new version");
    assert!(ring.look_for(&second_kid).await, "an unknown kid reads the secret again");
    assert_eq!(ring.snapshot().active_kid(), second_kid);
}

/// A secret that holds no key set, or no secret at all: the process must
/// not start (`run_lambda` ends it without answering).
#[tokio::test]
async fn a_secret_without_a_key_set_or_no_secret_does_not_load() {
    let Some(endpoint) = tests::moto_endpoint() else { return };
    let client = secrets_client(&endpoint).await;
    let name = format!("accounts-test-not-keys-{}", uuid::Uuid::new_v4().simple());
    let created = client
        .create_secret()
        .name(&name)
        .secret_string("not a key set")
        .send()
        .await
        .expect("moto creates the secret");
    let arn = created.arn.expect("a created secret has an ARN");
    let not_keys = KeySource::Secret { client: client.clone(), arn };
    assert!(KeyRing::load(not_keys, Duration::from_secs(300)).await.is_err());

    let missing = KeySource::Secret { client, arn: format!("{name}-missing") };
    assert!(KeyRing::load(missing, Duration::from_secs(300)).await.is_err());
}
