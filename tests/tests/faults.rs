//! A database that stops answering: every call has timeouts inside the
//! request's budget, and the answer is 503 problem+json with `Retry-After`,
//! not a hung request or a 500. Each test runs its own DynamoDB Local and
//! freezes (SIGSTOP) or stops it by the PID it started.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::json;
use shared::config::Timeouts;
use shared::state::{dynamodb_client, sdk_config};
use tests::{Reply, request};
use tower::ServiceExt;

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// Short enough for a test, the same shape as production's.
const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_millis(300),
    attempt: Duration::from_millis(700),
    operation: Duration::from_millis(1500),
    request: Duration::from_secs(5),
};

/// A DynamoDB Local of the test's own; stopped when dropped.
struct Database {
    port: String,
    pidfile: PathBuf,
}

fn script(args: &[&str]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("scripts/dynamodb-local.sh")).args(args).output().expect("the script runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Database {
    fn start() -> Self {
        let port = script(&["free-port"]);
        let pidfile = std::env::temp_dir().join(format!("faults-ddb-{port}.pid"));
        script(&["start", &port, pidfile.to_str().unwrap()]);
        Self { port, pidfile }
    }

    fn pid(&self) -> String {
        std::fs::read_to_string(&self.pidfile).unwrap().trim().to_owned()
    }

    fn signal(&self, signal: &str) {
        assert!(Command::new("kill").args([signal, &self.pid()]).status().unwrap().success());
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.pid()]).status();
        let _ = Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/dynamodb-local.sh"))
            .args(["stop", self.pidfile.to_str().unwrap()])
            .status();
    }
}

/// The whole API over `database`, with `TIMEOUTS`, and a customer's token.
async fn app(database: &Database) -> (axum::Router, String) {
    let outbox = std::env::temp_dir().join(format!("faults-outbox-{}", database.port));
    let endpoint = format!("http://127.0.0.1:{}", database.port);
    let scratch = cli::Scratch {
        table_name: "faults".into(),
        issuer_base: tests::ISSUER_BASE,
        endpoint: &endpoint,
        key_set_json: tests::key_set_json(),
        outbox: &outbox,
    };
    // Set up with the default timeouts: a fresh DynamoDB Local's first table
    // can take longer than the short ones on a loaded machine.
    let patient = scratch.config();
    let sdk = sdk_config(&patient).await;
    let setup = scratch.provision_with(dynamodb_client(&sdk, &patient), patient).await;
    let tenant = shared::domain::TenantId::parse("demo").unwrap();
    shared::services::provisioning::create_active_customer(
        &setup.store,
        &tenant,
        &shared::domain::Email::parse(EMAIL).unwrap(),
        &shared::domain::Password::parse(PASSWORD.into()).unwrap(),
        false,
        Default::default(),
    )
    .await
    .unwrap();
    let config = shared::config::Config { timeouts: TIMEOUTS, ..scratch.config() };
    let sdk = sdk_config(&config).await;
    let state = scratch.provision_with(dynamodb_client(&sdk, &config), config).await;
    let router = shared::http::service(cli::all_routes(), state);
    let anonymous = call(
        &router,
        request(Method::GET, "/customerlogin/auth/anonymous/login?tenant=demo&client_id=storefront", None, None),
    )
    .await;
    let login = call(
        &router,
        request(
            Method::POST,
            "/customer/demo/login",
            Some(&anonymous.field("access_token")),
            Some(json!({"email": EMAIL, "password": PASSWORD})),
        ),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    (router, login.field("access_token"))
}

async fn call(router: &axum::Router, request: http::Request<axum::body::Body>) -> Reply {
    Reply::read(router.clone().oneshot(request).await.unwrap()).await
}

async fn me(router: &axum::Router, token: &str) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = call(router, request(Method::GET, "/customer/demo/me", Some(token), None)).await;
    (reply, started.elapsed())
}

fn assert_unavailable(reply: &Reply, took: Duration) {
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(reply.body["code"], "service_unavailable");
    assert!(reply.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // The SDK's operation timeout, and some room for a loaded machine: never the request budget.
    assert!(took < TIMEOUTS.operation + Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test]
async fn a_frozen_database_is_a_503_within_the_timeout_and_service_resumes() {
    let database = Database::start();
    let (router, token) = app(&database).await;
    assert_eq!(me(&router, &token).await.0.status, StatusCode::OK);

    database.signal("-STOP");
    let (reply, took) = me(&router, &token).await;
    database.signal("-CONT");
    assert_unavailable(&reply, took);

    // Thawed: the next request is answered as usual.
    let (reply, _) = me(&router, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_stopped_database_is_a_503() {
    let database = Database::start();
    let (router, token) = app(&database).await;
    database.signal("-TERM");
    // Gone for good: wait until the port is closed.
    for _ in 0..50 {
        if std::net::TcpStream::connect(format!("127.0.0.1:{}", database.port)).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (reply, took) = me(&router, &token).await;
    assert_unavailable(&reply, took);
    let (login, _) = (
        call(
            &router,
            request(Method::GET, "/customerlogin/auth/anonymous/login?tenant=demo&client_id=storefront", None, None),
        )
        .await,
        (),
    );
    assert_eq!(login.status, StatusCode::SERVICE_UNAVAILABLE, "{}", login.body);
}
