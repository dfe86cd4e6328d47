//! Every activation-route fixture in `events/`, through `lambda_http::request::from_str`
//! into the `activation` function's router, against DynamoDB Local.

use std::sync::atomic::{AtomicUsize, Ordering};

use http::StatusCode;
use serde_json::json;
use tests::TestApp;
use tests::fixtures::{FixtureReply, error_fields, invoke};

const PASSWORD: &str = "fixture-password-2026";
const SIGNUP_PASSWORD: &str = "violet tulips under rain";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Fresh values for every placeholder, so each fixture meets a clean state:
/// a pending sign-up with its mailed secret, an active customer with a token,
/// and an e-mail change key for that customer.
struct Values {
    pairs: Vec<(&'static str, String)>,
}

impl Values {
    async fn prepare(app: &TestApp) -> Self {
        let anonymous = app.anonymous().await.field("access_token");
        let pending_email = unique("pending");
        let signup = app
            .post(
                "/customer/demo/signup",
                Some(&anonymous),
                json!({"email": pending_email, "password": SIGNUP_PASSWORD, "customerDetails": {"firstName": "Pia"}}),
            )
            .await;
        assert_eq!(signup.status, StatusCode::ACCEPTED, "{}", signup.body);
        let activation = app.latest_link(&pending_email, "secret").expect("activation mail");

        let customer_email = unique("customer");
        let customer_id = app.create_customer(&customer_email, PASSWORD).await.to_string();
        let customer_token = app.login(&customer_email, PASSWORD).await.field("access_token");
        let change_to = unique("changed");
        let change = app
            .post(
                "/customer/demo/me/accounts/internal/email/change",
                Some(&customer_token),
                json!({"email": customer_email, "password": PASSWORD, "newEmail": change_to}),
            )
            .await;
        assert_eq!(change.status, StatusCode::ACCEPTED, "{}", change.body);
        let key = app.latest_link(&change_to, "key").expect("e-mail change mail");

        Self {
            pairs: vec![
                ("ANONYMOUS_TOKEN", anonymous),
                ("SIGNUP_EMAIL", unique("signup")),
                ("PENDING_EMAIL", pending_email),
                ("PENDING_ID", activation.identifier),
                ("ACTIVATION_SECRET", activation.secret),
                ("CUSTOMER_EMAIL", customer_email),
                ("CUSTOMER_ID", customer_id),
                ("CUSTOMER_TOKEN", customer_token),
                ("NEW_EMAIL", unique("new")),
                ("CHANGE_TO", change_to),
                ("EMAIL_KEY", key.secret),
            ],
        }
    }

    fn get(&self, name: &str) -> &str {
        self.pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap()
    }

    fn as_refs(&self) -> Vec<(&str, &str)> {
        self.pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

async fn run(app: &TestApp, name: &str, values: &Values) -> FixtureReply {
    let reply = invoke(activation::router(app.state.clone()), name, &values.as_refs()).await;
    let request_id = format!("fixture-{}", name.trim_end_matches(".json"));
    assert_eq!(reply.headers["x-request-id"], request_id.as_str(), "{name}: x-request-id is API Gateway's");
    if reply.status.is_client_error() {
        assert_eq!(reply.headers["content-type"], "application/problem+json", "{name}");
    }
    reply
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.login(email, password).await.status
}

#[tokio::test]
async fn signup_fixtures_answer_as_documented() {
    let app = TestApp::new().await;

    let values = Values::prepare(&app).await;
    let reply = run(&app, "activation-signup.json", &values).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body, json!({"result": "activation_pending"}));
    let email = values.get("SIGNUP_EMAIL");
    let mail = &app.mails_to(email)[0];
    assert!(mail["subject"].as_str().unwrap().starts_with("Aktivieren"), "German, as preferred: {}", mail["subject"]);
    assert_eq!(login_status(&app, email, SIGNUP_PASSWORD).await, StatusCode::FORBIDDEN, "pending until activated");

    let reply = run(&app, "activation-signup-invalid.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_fields(&reply.body),
        [
            "customerAddress.city",
            "customerAddress.country",
            "customerAddress.zipCode",
            "customerDetails.contactEmail",
            "customerDetails.nickname",
            "customerDetails.preferredCurrency",
            "email",
            "newsletter",
            "password",
        ],
        "{}",
        reply.body
    );

    let reply = run(&app, "activation-signup-weak-password.json", &values).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["code"], "weak_password");
    assert_eq!(reply.body["errors"][0]["field"], "password");

    let reply = run(&app, "activation-signup-customer-token.json", &values).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["code"], "anonymous_token_required");

    let reply = run(&app, "activation-signup-no-token.json", &values).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "missing_token");
    assert!(app.mails_to(email).len() == 1, "refused sign-ups send nothing");
}

#[tokio::test]
async fn activate_fixtures_answer_as_documented() {
    let app = TestApp::new().await;

    let values = Values::prepare(&app).await;
    let reply = run(&app, "activation-activate.json", &values).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({"result": "activated"}));
    assert_eq!(login_status(&app, values.get("PENDING_EMAIL"), SIGNUP_PASSWORD).await, StatusCode::OK);
    // The same secret again: the generic answer.
    let again = run(&app, "activation-activate.json", &values).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body["code"], "invalid_token");

    let values = Values::prepare(&app).await;
    let reply = run(&app, "activation-activate-with-password.json", &values).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let email = values.get("PENDING_EMAIL");
    assert_eq!(login_status(&app, email, "amber kites over hills").await, StatusCode::OK);
    assert_eq!(login_status(&app, email, SIGNUP_PASSWORD).await, StatusCode::UNAUTHORIZED, "replaced");

    let values = Values::prepare(&app).await;
    let reply = run(&app, "activation-activate-invalid-secret.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, again.body, "one generic answer for used and unknown secrets");

    let reply = run(&app, "activation-activate-missing-fields.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&reply.body), ["identifier", "secret"]);

    let reply = run(&app, "activation-activate-password-mismatch.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&reply.body), ["password_check"]);
    // Nothing was consumed: the right request still works.
    assert_eq!(run(&app, "activation-activate.json", &values).await.status, StatusCode::OK);
}

#[tokio::test]
async fn resend_fixtures_always_answer_202() {
    let app = TestApp::new().await;

    let values = Values::prepare(&app).await;
    let old = app.latest_link(values.get("PENDING_EMAIL"), "secret").unwrap();
    let reply = run(&app, "activation-resend.json", &values).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body, json!({"result": "email_sent"}));
    let new = app.latest_link(values.get("PENDING_EMAIL"), "secret").unwrap();
    assert_ne!(old.secret, new.secret, "a new secret was mailed");

    let unknown = run(&app, "activation-resend-unknown-email.json", &values).await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(unknown.body, reply.body);

    let reply = run(&app, "activation-resend-missing-email.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&reply.body), ["email"]);
}

#[tokio::test]
async fn email_change_fixtures_answer_as_documented() {
    let app = TestApp::new().await;

    let values = Values::prepare(&app).await;
    let reply = run(&app, "activation-email-change.json", &values).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body, json!({"result": "email_sent"}));
    assert!(app.latest_link(values.get("NEW_EMAIL"), "key").is_some(), "key mailed to the new address");
    let notices = app.mails_to(values.get("CUSTOMER_EMAIL"));
    assert_eq!(notices.len(), 2, "one notice per request to the old address");
    assert!(!notices[1]["text"].as_str().unwrap().contains("key="), "the notice carries no key");

    let reply = run(&app, "activation-email-change-wrong-password.json", &values).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["code"], "invalid_credentials");

    let reply = run(&app, "activation-email-change-anonymous.json", &values).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["code"], "customer_token_required");

    let reply = run(&app, "activation-email-change-missing-fields.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&reply.body), ["email", "newEmail", "password"]);
}

#[tokio::test]
async fn email_confirm_fixtures_answer_as_documented() {
    let app = TestApp::new().await;

    let values = Values::prepare(&app).await;
    let reply = run(&app, "activation-email-confirm.json", &values).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({"result": "updated"}));
    assert_eq!(login_status(&app, values.get("CHANGE_TO"), PASSWORD).await, StatusCode::OK);
    assert_eq!(login_status(&app, values.get("CUSTOMER_EMAIL"), PASSWORD).await, StatusCode::UNAUTHORIZED);

    let reply = run(&app, "activation-email-confirm-invalid-key.json", &values).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["code"], "invalid_token");

    // Someone registers the new address before the key is used.
    let values = Values::prepare(&app).await;
    app.create_customer(values.get("CHANGE_TO"), "another password 2026").await;
    let reply = run(&app, "activation-email-confirm-taken.json", &values).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["code"], "email_taken");
    assert_eq!(login_status(&app, values.get("CUSTOMER_EMAIL"), PASSWORD).await, StatusCode::OK, "unchanged");
}
