//! Test harness: each `TestApp` gets its own table in DynamoDB Local (started
//! by `make test`, found through `DYNAMODB_ENDPOINT`), the demo tenant and
//! client, and its own outbox folder. Requests go through the same routers
//! that Lambda and the local server run.

pub mod fixtures;
pub mod items;
pub mod links;
pub mod logs;
pub mod oidc_provider;
pub mod passkey;
pub mod permissions;
pub mod seeds;
pub mod template;

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::AppState;
use shared::customer::CustomerDetails;
use shared::domain::{ClientId, CustomerId, Email, Password, TenantId};
use shared::services::provisioning;
use shared::signing::{KeySetFile, KeyStatus, generate_key};
use shared::state::{dynamodb_client, sdk_config};
use shared::store::Store;
use tower::ServiceExt;

pub const TENANT: &str = cli::DEMO_TENANT;
pub const CLIENT: &str = cli::DEMO_CLIENT;
pub const ISSUER_BASE: &str = "https://accounts.test";

/// One RSA key set per test process (key generation is the slow part).
pub fn key_set_json() -> &'static str {
    static KEYS: OnceLock<String> = OnceLock::new();
    KEYS.get_or_init(|| {
        let set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).expect("RSA key generation")] };
        serde_json::to_string(&set).expect("key set serializes")
    })
}

pub struct TestApp {
    pub state: AppState,
    pub tenant: TenantId,
    pub client: ClientId,
    pub outbox: PathBuf,
    router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Status, headers and the body as JSON (`Null` when empty or not JSON).
    pub async fn read(response: http::Response<Body>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Reply { status, headers, body }
    }

    /// Asserts that this is the problem `code` with `status`.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["code"], code, "{}", self.body);
    }

    pub fn field(&self, name: &str) -> String {
        self.body[name].as_str().unwrap_or_else(|| panic!("no string field {name} in {}", self.body)).to_owned()
    }

    /// The `field` names of a problem's `errors`, in the order given.
    pub fn error_fields(&self) -> Vec<String> {
        fixtures::fields_in_order(&self.body)
    }
}

/// Runs `task` once for every input, each on a tokio task of its own (so on a
/// multi-thread runtime they really run in parallel), all started before any
/// is awaited; the outputs come back in the order of the inputs.
pub async fn parallel<I, F, Fut>(inputs: impl IntoIterator<Item = I>, mut task: F) -> Vec<Fut::Output>
where
    F: FnMut(I) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let handles: Vec<_> = inputs.into_iter().map(|input| tokio::spawn(task(input))).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(match handle.await {
            Ok(output) => output,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a parallel task did not finish: {e}"),
        });
    }
    outputs
}

/// How many of `statuses` there are of each status, lowest status first.
pub fn tally(statuses: &[StatusCode]) -> Vec<(StatusCode, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for status in statuses {
        *counts.entry(*status).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// Logs to the test's captured output (shown for failing tests); `RUST_LOG` filters.
fn init_test_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

pub fn endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT")
        .expect("DYNAMODB_ENDPOINT must point at DynamoDB Local: run the tests with `make test`")
}

/// moto's server (SES v2 and Secrets Manager on one port), which `make test`
/// starts and names in `SES_ENDPOINT`. Without it a test says so and passes,
/// unless `SES_EMULATOR_REQUIRED=1` (as `make test` sets it).
pub fn moto_endpoint() -> Option<String> {
    match std::env::var("SES_ENDPOINT") {
        Ok(endpoint) => Some(endpoint),
        Err(_) if std::env::var("SES_EMULATOR_REQUIRED").as_deref() == Ok("1") => {
            panic!("SES_ENDPOINT must point at the SES emulator (make test starts moto)")
        }
        Err(_) => {
            eprintln!("SES_ENDPOINT is not set: skipped (make test starts the SES emulator)");
            None
        }
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::build(None).await
    }

    /// A `TestApp` with one active customer, `email` with `password`.
    pub async fn with_customer(email: &str, password: &str) -> Self {
        let app = Self::new().await;
        app.create_customer(email, password).await;
        app
    }

    /// A `TestApp` whose DynamoDB calls `recorder` names (see `permissions`).
    pub async fn recording(recorder: permissions::ActionRecorder) -> Self {
        Self::build(Some(recorder)).await
    }

    async fn build(recorder: Option<permissions::ActionRecorder>) -> Self {
        init_test_logging();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let outbox = std::env::temp_dir().join(format!("customer-accounts-outbox-{id}"));
        let scratch = cli::Scratch {
            table_name: format!("test-{id}"),
            issuer_base: ISSUER_BASE,
            endpoint: &endpoint(),
            key_set_json: key_set_json(),
            outbox: &outbox,
        };
        let config = scratch.config();
        let sdk = sdk_config(&config).await;
        let mut dynamodb = dynamodb_client(&sdk, &config);
        if let Some(recorder) = recorder {
            dynamodb =
                aws_sdk_dynamodb::Client::from_conf(dynamodb.config().to_builder().interceptor(recorder).build());
        }
        let state = scratch.provision(dynamodb).await;
        let tenant = TenantId::parse(TENANT).unwrap();
        let client = ClientId::parse(CLIENT).unwrap();
        let router = shared::http::service(cli::all_routes(), state.clone());
        Self { state, tenant, client, outbox, router }
    }

    /// Adds another tenant (with client `storefront`) to this app's table.
    pub async fn add_tenant(&self, name: &str) -> TenantId {
        let tenant = TenantId::parse(name).unwrap();
        self.add_tenant_with(name, cli::demo_settings(&tenant)).await
    }

    /// Adds a tenant with settings of the test's own (limits, trusted proxies, ...).
    pub async fn add_tenant_with(&self, name: &str, settings: shared::tenant::TenantSettings) -> TenantId {
        let tenant = TenantId::parse(name).unwrap();
        provisioning::ensure_tenant(&self.state.store, &tenant, &settings, &self.client).await.unwrap();
        tenant
    }

    /// Sends `request` as if it came over the network from `peer` (the local
    /// server's TCP peer; API Gateway's `sourceIp` in Lambda).
    pub async fn send_from(&self, peer: &str, mut request: Request<Body>) -> Reply {
        let addr: std::net::SocketAddr = format!("{peer}:40000").parse().expect("an IPv4 peer");
        request.extensions_mut().insert(axum::extract::ConnectInfo(addr));
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        Reply::read(self.router.clone().oneshot(request).await.expect("the router is infallible")).await
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Reply {
        self.send(request(Method::GET, uri, token, None)).await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(request(Method::POST, uri, token, Some(body))).await
    }

    pub async fn delete(&self, uri: &str, token: Option<&str>) -> Reply {
        self.send(request(Method::DELETE, uri, token, None)).await
    }

    pub async fn delete_with(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(request(Method::DELETE, uri, token, Some(body))).await
    }

    /// An anonymous token set for the demo tenant and client.
    pub async fn anonymous(&self) -> Reply {
        self.anonymous_for(&self.tenant).await
    }

    pub async fn anonymous_for(&self, tenant: &TenantId) -> Reply {
        let reply =
            self.get(&format!("/customerlogin/auth/anonymous/login?tenant={tenant}&client_id={CLIENT}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "anonymous login: {}", reply.body);
        reply
    }

    pub async fn create_customer(&self, email: &str, password: &str) -> CustomerId {
        self.create_customer_in(&self.tenant, email, password).await
    }

    pub async fn create_customer_in(&self, tenant: &TenantId, email: &str, password: &str) -> CustomerId {
        provisioning::create_active_customer(
            &self.state.store,
            tenant,
            &Email::parse(email).unwrap(),
            &Password::parse(password.into()).unwrap(),
            false,
            CustomerDetails {
                first_name: Some("Test".into()),
                last_name: Some("Customer".into()),
                ..Default::default()
            },
        )
        .await
        .expect("customer is created")
    }

    /// Anonymous login, then customer login; returns the customer token set.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let anonymous = self.anonymous().await;
        self.login_with(&anonymous.field("access_token"), email, password).await
    }

    pub async fn login_with(&self, anonymous_token: &str, email: &str, password: &str) -> Reply {
        self.post(
            &format!("/customer/{}/login", self.tenant),
            Some(anonymous_token),
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Every message written to this app's outbox, oldest first.
    pub fn outbox_messages(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.outbox) else { return Vec::new() };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        paths.iter().filter_map(|p| std::fs::read(p).ok()).filter_map(|b| serde_json::from_slice(&b).ok()).collect()
    }

    /// The store this app's table lives in (for assertions on raw items).
    pub fn store(&self) -> &Store {
        &self.state.store
    }
}

pub fn request(method: Method, uri: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri).header("user-agent", "integration-test/1.0");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}
