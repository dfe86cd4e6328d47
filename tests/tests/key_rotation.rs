//! Key rotation reaches running functions without a deploy: two "containers"
//! share one key set (a file here; the Secrets Manager secret in AWS) and the
//! table, while `rotate` stages and promotes a key under them. Tokens of the
//! old and the new key stay in use on both throughout.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::AppState;
use shared::key_ring::{KeyRing, KeySource};
use shared::mail::{Mailer, OutboxMailer};
use shared::signing::{KeySetFile, KeyStatus, RotationStep, generate_key, replace_private_file};
use tests::{TestApp, request};
use tower::ServiceExt;

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const GAP: i64 = 3600;

/// A container: its own key ring over `keys`, the shared table and outbox.
async fn container(app: &TestApp, keys: &std::path::Path, refresh: Duration) -> Router {
    let ring = KeyRing::load(KeySource::File(keys.to_owned()), refresh).await.unwrap();
    let mailer = Mailer::Outbox(OutboxMailer::new(&app.outbox));
    let state = AppState::new(app.state.config.clone(), app.state.store.clone(), ring, mailer);
    shared::http::service(cli::all_routes(), state)
}

async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A customer access token signed by `router`'s container.
async fn login(router: &Router) -> String {
    let uri = "/customerlogin/auth/anonymous/login?tenant=demo&client_id=storefront";
    let (_, anonymous) = call(router, request(Method::GET, uri, None, None)).await;
    let token = anonymous["access_token"].as_str().unwrap();
    let body = json!({"email": EMAIL, "password": PASSWORD});
    let (status, set) = call(router, request(Method::POST, "/customer/demo/login", Some(token), Some(body))).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    set["access_token"].as_str().unwrap().to_owned()
}

async fn validates(router: &Router, token: &str) -> bool {
    call(router, request(Method::GET, "/customer/demo/validateauthtoken", Some(token), None)).await.0 == StatusCode::OK
}

async fn published_kids(router: &Router) -> Vec<String> {
    let (_, jwks) = call(router, request(Method::GET, "/.well-known/jwks.json", None, None)).await;
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

fn write(path: &std::path::Path, set: &KeySetFile) {
    replace_private_file(path, serde_json::to_string(set).unwrap().as_bytes()).unwrap();
}

#[tokio::test]
async fn tokens_of_both_keys_work_everywhere_while_a_rotation_runs_without_a_deploy() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let dir = std::env::temp_dir().join(format!("rotation-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("signing-keys.json");
    let mut set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).unwrap()] };
    let first = set.keys[0].kid.clone();
    write(&path, &set);

    // A warm container that read its keys long ago (production interval), and
    // one whose refresh interval has just passed.
    let warm = container(&app, &path, Duration::from_secs(300)).await;
    let fresh = container(&app, &path, Duration::from_millis(1)).await;
    let old_token = login(&warm).await;
    assert_eq!(kid_of(&old_token), first);

    // Stage: published by a container once it reads the set again; nobody signs with it.
    let now = shared::clock::now_epoch();
    let RotationStep::Staged { kid: second } = set.rotate(now, GAP).unwrap() else { panic!("stages first") };
    write(&path, &set);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(published_kids(&fresh).await.contains(&second), "the staged key is published without a deploy");
    assert_eq!(kid_of(&login(&fresh).await), first, "a staged key does not sign");

    // Promote: refused before the gap, done after it.
    assert!(set.rotate(now + GAP - 1, GAP).is_err(), "the CLI refuses to promote early");
    set.rotate(now + GAP, GAP).unwrap();
    write(&path, &set);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let new_token = login(&fresh).await;
    assert_eq!(kid_of(&new_token), second, "the promoted key signs");

    // The warm container has not read the set since: a token of the new key makes it look.
    assert!(validates(&warm, &new_token).await, "an unknown kid reads the key set again");
    assert!(published_kids(&warm).await.contains(&second));
    // Tokens of the old key keep working everywhere while it is retiring.
    assert!(validates(&warm, &old_token).await);
    assert!(validates(&fresh, &old_token).await);
    assert!(validates(&fresh, &new_token).await);

    // The next rotation removes the retiring key: its tokens are refused.
    set.rotate(now + 2 * GAP, GAP).unwrap();
    set.rotate(now + 3 * GAP, GAP).unwrap();
    assert!(set.keys.iter().all(|k| k.kid != first));
    write(&path, &set);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(!validates(&fresh, &old_token).await, "a removed key verifies nothing");
    assert!(validates(&fresh, &new_token).await, "the retiring key still verifies");
    std::fs::remove_dir_all(&dir).unwrap();
}
