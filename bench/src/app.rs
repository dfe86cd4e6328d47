//! The bench's own table in DynamoDB Local, with the demo tenant, one active
//! customer, and an in-process router over the same state the functions build.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use http::StatusCode;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::config::Config;
use shared::customer::CustomerDetails;
use shared::domain::{Email, Password, TenantId};
use shared::services::provisioning;
use shared::signing::{KeySetFile, KeyStatus, generate_key};
use shared::state::sdk_config;
use tower::ServiceExt;

use crate::apigw::Call;
use crate::capture::{Recorder, SharedRecorder};

pub const TENANT: &str = cli::DEMO_TENANT;
pub const CLIENT: &str = cli::DEMO_CLIENT;
pub const EMAIL: &str = "bench@shop.test";
/// The customer the cold starts log in, hundreds of times: its sessions stay
/// out of the bench customer's partition, which the warm routes read.
pub const COLD_EMAIL: &str = "cold@shop.test";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct BenchApp {
    pub config: Config,
    pub key_set_json: String,
    pub recorder: Arc<Recorder>,
    pub raw: aws_sdk_dynamodb::Client,
    state: shared::AppState,
    router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn field(&self, name: &str) -> String {
        self.body[name].as_str().unwrap_or_else(|| panic!("no field {name} in {}", self.body)).to_owned()
    }
}

impl BenchApp {
    pub async fn new(endpoint: &str, outbox: PathBuf) -> Self {
        let key_set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).expect("RSA key generation")] };
        let key_set_json = serde_json::to_string(&key_set).expect("key set serializes");
        let scratch = cli::Scratch {
            table_name: format!("bench-{}", uuid::Uuid::new_v4().simple()),
            issuer_base: "https://accounts.bench",
            endpoint,
            key_set_json: &key_set_json,
            outbox: &outbox,
        };
        let config = scratch.config();
        let sdk = sdk_config(&config).await;
        let recorder = Arc::new(Recorder::default());
        let recording = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .interceptor(SharedRecorder(recorder.clone()))
            .build();
        let raw = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(endpoint).build(),
        );
        let state = scratch.provision(aws_sdk_dynamodb::Client::from_conf(recording)).await;
        let tenant = TenantId::parse(TENANT).unwrap();
        for email in [EMAIL, COLD_EMAIL] {
            provisioning::create_active_customer(
                &state.store,
                &tenant,
                &Email::parse(email).unwrap(),
                &Password::parse(PASSWORD.into()).unwrap(),
                false,
                CustomerDetails {
                    first_name: Some("Bench".into()),
                    last_name: Some("Customer".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("bench customers are created");
        }
        let router = shared::http::service(cli::all_routes(), state.clone());
        let state = state.clone();
        Self { config, key_set_json, recorder, raw, router, state }
    }

    /// Runs `call` through the router the way Lambda does: from an API Gateway event.
    pub async fn send(&self, call: &Call) -> Reply {
        let request = lambda_http::request::from_str(&call.event("bench")).expect("a valid API Gateway event");
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body }
    }

    /// DynamoDB Local compiles (JIT) what it runs often. A cold container's
    /// first calls happen once per cold start, above all the BatchGetItem of
    /// the tenant and its storefront client, which no warm request makes
    /// (both are cached per container). Unwarmed, the emulator answers them
    /// from its interpreter, several ms each, and the cold starts would
    /// measure its JIT rather than the binaries: AWS's DynamoDB has no cold
    /// code paths. So each of those calls, hello-dynamodb's `GetItem` and each
    /// cold event's own are run here `rounds` times first.
    pub async fn warm_emulator(&self, rounds: usize, calls: &[Call]) {
        let tenant = TenantId::parse(TENANT).expect("the demo tenant id");
        let client = shared::domain::ClientId::parse(CLIENT).expect("the demo client id");
        let hello = aws_sdk_dynamodb::types::AttributeValue::S("hello".into());
        for _ in 0..rounds {
            let _ = self.state.store.get_tenant_and_client(&tenant, &client).await;
            let _ = self
                .raw
                .get_item()
                .table_name(&self.config.table_name)
                .key("PK", hello.clone())
                .key("SK", hello.clone())
                .send()
                .await;
            for call in calls {
                self.send(call).await;
            }
        }
    }

    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub async fn anonymous_token(&self) -> String {
        let reply = self.send(&anonymous_login()).await;
        assert_eq!(reply.status, StatusCode::OK, "anonymous login: {}", reply.body);
        reply.field("access_token")
    }

    /// `n` customers who signed in on this device before (their device
    /// tokens), as a storefront's returning customers log in: imported with
    /// one argon2id hash of `PASSWORD`, signed in once, and their login
    /// budgets forgotten again, as they are between logins of a real customer.
    pub async fn returning_customers(&self, n: usize, password_hash: &str) -> Vec<(String, String)> {
        let tenant = TenantId::parse(TENANT).unwrap();
        let batch = uuid::Uuid::new_v4().simple().to_string();
        let emails: Vec<String> = (0..n).map(|i| format!("returning-{}-{i}@shop.test", &batch[..8])).collect();
        let lines: Vec<String> = emails
            .iter()
            .map(|email| json!({"email": email, "passwordHash": password_hash, "status": "ACTIVE"}).to_string())
            .collect();
        let records = shared::services::import::parse(&lines.join("\n")).expect("the import lines are valid");
        shared::services::import::import(&self.state.store, &tenant, &records).await.expect("imported");
        let mut returning = Vec::with_capacity(n);
        for email in emails {
            let anonymous = self.anonymous_token().await;
            let first = self.send(&login_as(&anonymous, &email, None)).await;
            assert_eq!(first.status, StatusCode::OK, "first login: {}", first.body);
            // That login had no device token yet: it reserved from the account's budget.
            let customer = shared::domain::CustomerId::parse(&first.field("customerId")).unwrap();
            let budget = shared::store::LoginBudget::Account(customer);
            self.state.store.clear_budget(&tenant, &budget).await.expect("budget cleared");
            returning.push((email, first.field("device_token")));
        }
        returning
    }

    /// The bench customer's token set.
    pub async fn customer_login(&self) -> Reply {
        let anonymous = self.anonymous_token().await;
        let reply = self.send(&login(&anonymous)).await;
        assert_eq!(reply.status, StatusCode::OK, "customer login: {}", reply.body);
        reply
    }
}

pub fn anonymous_login() -> Call {
    Call::get(format!("/customerlogin/auth/anonymous/login?tenant={TENANT}&client_id={CLIENT}"), None)
}

pub fn login(anonymous_token: &str) -> Call {
    login_as(anonymous_token, EMAIL, None)
}

/// A login of `email`, from a device that has its `device_token` if given.
pub fn login_as(anonymous_token: &str, email: &str, device_token: Option<&str>) -> Call {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(token) = device_token {
        body["device_token"] = json!(token);
    }
    Call::with_body("POST", format!("/customer/{TENANT}/login"), Some(anonymous_token), body)
}
