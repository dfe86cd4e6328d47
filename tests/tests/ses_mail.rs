//! The SES v2 adapter against an SES v2 emulator: moto's server mode (PyPI
//! `moto[server]`), which `make test` starts and names in `SES_ENDPOINT`.
//!
//! Between the SDK and moto sits a small proxy of the test's own: it keeps the
//! exact HTTP request the service made (moto keeps only the HTML part of a
//! simple message, and neither reply-to, configuration set nor tags), and it
//! injects faults (429 `TooManyRequestsException`, SES's throttling answer).
//! Moto answers everything that passes: it refuses a sender whose identity is
//! not verified, as SES does, and lists what it accepted at
//! `/moto-api/data.json`.
//!
//! Without `SES_ENDPOINT` the tests say so and pass, unless
//! `SES_EMULATOR_REQUIRED=1` (as `make test` sets it).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::{Body, Bytes};
use http::{Request, Response, StatusCode};
use serde_json::{Value, json};
use shared::AppState;
use shared::domain::{Email, TenantId};
use shared::key_ring::KeyRing;
use shared::mail::templates::{self, Template};
use shared::mail::{Mailer, SesMailer};
use shared::services::notify;
use shared::signing::SigningKeys;
use shared::state::{dynamodb_client, sdk_config};
use shared::store::Store;
use shared::tenant::TenantSettings;
use tests::Reply;
use tests::links::link_param;
use tests::logs::CapturedLogs;
use tower::ServiceExt;

const CONFIGURATION_SET: &str = "accounts-test";
const SENDER: &str = "no-reply@shop.test";
const REPLY_TO: &str = "support@shop.test";
const PASSWORD: &str = "violet tulips under rain";

fn logs() -> &'static CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(CapturedLogs::install)
}

/// What the proxy answers instead of passing a request on.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// 429 `TooManyRequestsException`: "Maximum sending rate exceeded."
    Throttle,
}

#[derive(Default)]
struct ProxyState {
    /// Every request to `SendEmail` (`POST /v2/email/outbound-emails`), faulted or not: its JSON body.
    sends: Vec<Value>,
    /// Faults for the next requests, in order; `always` once they run out.
    faults: VecDeque<Fault>,
    always: Option<Fault>,
}

#[derive(Clone)]
struct Proxy {
    state: Arc<Mutex<ProxyState>>,
    url: String,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = state.clone();
        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let (state, http, upstream) = (shared.clone(), http.clone(), upstream.clone());
            async move { forward(state, http, upstream, request).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { state, url }
    }

    fn sends(&self) -> Vec<Value> {
        self.state.lock().unwrap().sends.clone()
    }

    fn sends_to(&self, to: &str) -> Vec<Value> {
        self.sends().into_iter().filter(|s| s["Destination"]["ToAddresses"][0] == to).collect()
    }

    fn fail_next(&self, faults: &[Fault]) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    fn fail_always(&self, fault: Option<Fault>) {
        self.state.lock().unwrap().always = fault;
    }
}

async fn forward(
    state: Arc<Mutex<ProxyState>>,
    http: reqwest::Client,
    upstream: String,
    request: Request<Body>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let is_send = parts.method == http::Method::POST && parts.uri.path() == "/v2/email/outbound-emails";
    let fault = {
        let mut state = state.lock().unwrap();
        if is_send {
            state.sends.push(serde_json::from_slice(&body).expect("SendEmail's body is JSON"));
            let always = state.always;
            state.faults.pop_front().or(always)
        } else {
            None
        }
    };
    if let Some(Fault::Throttle) = fault {
        return Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("x-amzn-ErrorType", "TooManyRequestsException")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"message":"Maximum sending rate exceeded."}"#))
            .unwrap();
    }
    let uri = format!("{upstream}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut outgoing = http.request(parts.method.clone(), uri).body(body);
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.expect("moto answers");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(answer.bytes().await.unwrap())).unwrap()
}

/// The whole API with mail through SES (via the proxy, to moto), a table of
/// its own, and the demo tenant with `sender` and `replyTo`.
struct SesApp {
    state: AppState,
    router: axum::Router,
    proxy: Proxy,
    moto: String,
}

async fn ses_app() -> Option<SesApp> {
    let moto = tests::moto_endpoint()?;
    logs();
    let proxy = Proxy::start(moto.clone()).await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let outbox = std::env::temp_dir().join(format!("ses-mail-unused-outbox-{id}"));
    let scratch = cli::Scratch {
        table_name: format!("ses-{id}"),
        issuer_base: tests::ISSUER_BASE,
        endpoint: &tests::endpoint(),
        key_set_json: tests::key_set_json(),
        outbox: &outbox,
    };
    let mut config = scratch.config();
    config.mail = shared::config::MailTransport::Ses;
    config.ses_configuration_set = Some(CONFIGURATION_SET.into());
    let sdk = sdk_config(&config).await;
    let dynamodb = dynamodb_client(&sdk, &config);
    scratch.provision(dynamodb.clone()).await;
    let tenant = TenantId::parse(tests::TENANT).unwrap();
    let settings =
        TenantSettings { sender: Some(SENDER.into()), reply_to: Some(REPLY_TO.into()), ..cli::demo_settings(&tenant) };
    let store = Store::new(dynamodb, &config.table_name);
    store.put_tenant(&tenant, &settings).await.unwrap();
    let ses_config = aws_sdk_sesv2::config::Builder::from(&sdk).endpoint_url(&proxy.url).build();
    let ses = aws_sdk_sesv2::Client::from_conf(ses_config);
    // SES sends only from a verified identity; moto checks the same.
    match ses.create_email_identity().email_identity("shop.test").send().await {
        Ok(_) => {}
        Err(err) if format!("{err:?}").contains("AlreadyExists") => {}
        Err(err) => panic!("creating the sender identity in moto: {err:?}"),
    }
    let keys = KeyRing::fixed(SigningKeys::from_json(tests::key_set_json()).unwrap());
    let state = AppState::new(
        config,
        store,
        keys,
        Mailer::Ses(SesMailer::new(shared::state::lazy_client(move || ses), Some(CONFIGURATION_SET.into()))),
    );
    let router = shared::http::service(cli::all_routes(), state.clone());
    Some(SesApp { state, router, proxy, moto })
}

impl SesApp {
    async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        let request = tests::request(http::Method::POST, uri, token, Some(body));
        Reply::read(self.router.clone().oneshot(request).await.unwrap()).await
    }

    async fn anonymous(&self) -> String {
        let uri = format!("/customerlogin/auth/anonymous/login?tenant=demo&client_id={}", tests::CLIENT);
        let request = tests::request(http::Method::GET, &uri, None, None);
        Reply::read(self.router.clone().oneshot(request).await.unwrap()).await.field("access_token")
    }

    async fn signup(&self, email: &str) -> Reply {
        let anonymous = self.anonymous().await;
        self.post("/customer/demo/signup", Some(&anonymous), json!({"email": email, "password": PASSWORD})).await
    }

    /// Messages moto accepted for `to`: `(subject, body)`.
    async fn delivered_to(&self, to: &str) -> Vec<(String, String)> {
        let data: Value =
            reqwest::get(format!("{}/moto-api/data.json", self.moto)).await.unwrap().json().await.unwrap();
        let mut delivered = Vec::new();
        for message in data["ses"]["Message"].as_array().into_iter().flatten() {
            // `destinations` is SES v2's Destination ({ToAddresses: [...]}) under moto's account and region nesting.
            if message.to_string().contains(&format!("\"{to}\"")) {
                delivered.push((
                    message["subject"].as_str().unwrap_or_default().to_owned(),
                    message["body"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        delivered
    }

    async fn guard_exists(&self, email: &str) -> bool {
        let tenant = TenantId::parse(tests::TENANT).unwrap();
        self.state.store.get_email_guard(&tenant, &Email::parse(email).unwrap()).await.unwrap().is_some()
    }
}

fn unique(name: &str) -> String {
    format!("{name}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// The `SendEmail` body the adapter must send for `template` in `lang`.
fn expected_send(to: &str, template: Template, lang: &str, context: minijinja::Value) -> Value {
    let rendered = templates::render(template, lang, context).unwrap();
    let content = |data: &str| json!({"Data": data, "Charset": "UTF-8"});
    json!({
        "FromEmailAddress": SENDER,
        "Destination": {"ToAddresses": [to]},
        "ReplyToAddresses": [REPLY_TO],
        "Content": {"Simple": {
            "Subject": content(&rendered.subject),
            "Body": {"Text": content(&rendered.text), "Html": content(&rendered.html)},
        }},
        "ConfigurationSetName": CONFIGURATION_SET,
        "EmailTags": [{"Name": "kind", "Value": template.name()}, {"Name": "tenant", "Value": "demo"}],
    })
}

const ALL_TEMPLATES: [Template; 9] = [
    Template::Activation,
    Template::AccountExists,
    Template::EmailChangeConfirm,
    Template::EmailChangeNotice,
    Template::PasswordReset,
    Template::PasswordChanged,
    Template::AccountDeleted,
    Template::SocialLinked,
    Template::SocialLinkConfirm,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mail_kind_is_one_exact_send_email_that_ses_accepts() {
    let Some(app) = ses_app().await else { return };
    let tenant = TenantId::parse(tests::TENANT).unwrap();
    let settings = app.state.tenant_settings(&tenant).await.unwrap().unwrap();
    for (i, template) in ALL_TEMPLATES.into_iter().enumerate() {
        let lang = if i % 2 == 0 { "en" } else { "de" };
        let to = unique(template.name());
        let context = minijinja::context! {
            link => format!("https://shop.test/x?identifier=c1&secret=s{i}"),
            first_name => "Ann", new_email => "new@example.com", provider => "Acme",
        };
        let email = Email::parse(&to).unwrap();
        let slot = notify::reserve(&app.state, &tenant, &settings, &email, template).await.unwrap().expect("a slot");
        notify::send(&app.state, &tenant, &settings, slot, Some(lang), context.clone()).await;
        let full = minijinja::context! { shop => "demo shop", lang => lang, ..context };
        let sends = app.proxy.sends_to(&to);
        assert_eq!(sends, [expected_send(&to, template, lang, full.clone())], "{}", template.name());
        // moto took it: subject, and the HTML part (all it keeps of a simple message).
        let rendered = templates::render(template, lang, full).unwrap();
        assert_eq!(app.delivered_to(&to).await, [(rendered.subject, rendered.html)], "{}", template.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_reset_mail_through_ses_and_their_links_work() {
    let Some(app) = ses_app().await else { return };
    let email = unique("ann");
    assert_eq!(app.signup(&email).await.status, StatusCode::ACCEPTED);
    let sends = app.proxy.sends_to(&email);
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["EmailTags"][0], json!({"Name": "kind", "Value": "activation"}));
    assert_eq!(sends[0]["ReplyToAddresses"], json!([REPLY_TO]));
    let text = sends[0]["Content"]["Simple"]["Body"]["Text"]["Data"].as_str().unwrap();
    let (identifier, secret) = (link_param(text, "identifier").unwrap(), link_param(text, "secret").unwrap());
    let activated =
        app.post("/customer/demo/activate", None, json!({"identifier": identifier, "secret": secret})).await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);

    let anonymous = app.anonymous().await;
    let reset = app.post("/customer/demo/password/reset", Some(&anonymous), json!({"email": email})).await;
    assert_eq!(reset.status, StatusCode::ACCEPTED, "{}", reset.body);
    let sends = app.proxy.sends_to(&email);
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[1]["EmailTags"][0], json!({"Name": "kind", "Value": "password_reset"}));
    assert_eq!(app.delivered_to(&email).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_send_is_retried_and_delivered_once() {
    let Some(app) = ses_app().await else { return };
    let email = unique("throttled");
    app.proxy.fail_next(&[Fault::Throttle, Fault::Throttle]);
    assert_eq!(app.signup(&email).await.status, StatusCode::ACCEPTED);
    // Two 429s, then the third try of the SDK's standard retry goes through.
    let sends = app.proxy.sends_to(&email);
    assert_eq!(sends.len(), 3);
    assert!(sends.iter().all(|s| *s == sends[0]), "every try sends the same message");
    assert_eq!(app.delivered_to(&email).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_keeps_failing_is_logged_and_the_account_waits_for_a_resend() {
    let Some(app) = ses_app().await else { return };
    let email = unique("outage");
    app.proxy.fail_always(Some(Fault::Throttle));
    let before = logs().lines().iter().filter(|l| l["event"] == "mail_failed").count();
    // The answer does not depend on the mail system, and the sign-up is kept.
    assert_eq!(app.signup(&email).await.status, StatusCode::ACCEPTED);
    assert_eq!(app.proxy.sends_to(&email).len(), 3, "three tries, then reported");
    assert!(app.delivered_to(&email).await.is_empty());
    assert!(app.guard_exists(&email).await, "the pending account is written");
    let failed: Vec<Value> = logs().lines().into_iter().filter(|l| l["event"] == "mail_failed").collect();
    assert!(failed.len() > before, "the failure is logged as mail_failed (the MailFailures metric filter)");
    assert!(
        failed
            .iter()
            .any(|l| l["template"] == "activation" && l["error"].as_str().unwrap().contains("TooManyRequests"))
    );

    // SES recovers: a resend mails a link that activates the account kept from the sign-up.
    app.proxy.fail_always(None);
    let anonymous = app.anonymous().await;
    let resent = app.post("/customer/demo/activate/resend", Some(&anonymous), json!({"email": email})).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.body);
    assert_eq!(app.delivered_to(&email).await.len(), 1);
    let sends = app.proxy.sends_to(&email);
    let text = sends.last().unwrap()["Content"]["Simple"]["Body"]["Text"]["Data"].as_str().unwrap().to_owned();
    let body = json!({"identifier": link_param(&text, "identifier").unwrap(), "secret": link_param(&text, "secret").unwrap(),
        "password": "a new violet password 2026", "password_check": "a new violet password 2026"});
    let activated = app.post("/customer/demo/activate", None, body).await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sender_is_not_retried_and_is_logged() {
    let Some(app) = ses_app().await else { return };
    let tenant = TenantId::parse(tests::TENANT).unwrap();
    let settings = TenantSettings { sender: Some("no-reply@unverified.test".into()), ..cli::demo_settings(&tenant) };
    let to = unique("refused");
    let slot = notify::reserve(&app.state, &tenant, &settings, &Email::parse(&to).unwrap(), Template::PasswordChanged)
        .await
        .unwrap()
        .unwrap();
    notify::send(&app.state, &tenant, &settings, slot, None, minijinja::context! {}).await;
    // MessageRejected (400) is permanent: one try, nothing delivered, logged.
    assert_eq!(app.proxy.sends_to(&to).len(), 1);
    assert!(app.delivered_to(&to).await.is_empty());
    assert!(logs().lines().iter().any(|l| l["event"] == "mail_failed"
        && l["template"] == "password_changed"
        && l["error"].as_str().unwrap().contains("not verified")));
}
