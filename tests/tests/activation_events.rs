//! Every activation-route fixture in `events/`, through `lambda_http::request::from_str`
//! into the `activation` function's router, against DynamoDB Local.

use std::sync::atomic::{AtomicUsize, Ordering};

use http::StatusCode;
use serde_json::json;
use tests::fixtures::{Case, Values, case, error_fields, problem, result, run_cases};
use tests::{Reply, TestApp};

const PASSWORD: &str = "fixture-password-2026";
const SIGNUP_PASSWORD: &str = "violet tulips under rain";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Fresh values for every placeholder, so each fixture meets a clean state:
/// a pending sign-up with its mailed secret, an active customer with a token,
/// and an e-mail change key for that customer.
async fn prepare(app: &TestApp) -> Values {
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

    Values(vec![
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
    ])
}

/// A fresh app, and values prepared in it.
async fn start() -> (TestApp, Values) {
    let app = TestApp::new().await;
    let values = prepare(&app).await;
    (app, values)
}

/// Runs `case` through the activation router.
async fn run(app: &TestApp, case: Case, values: &Values) -> Reply {
    case.run(activation::router(app.state.clone()), values).await
}

/// Runs `cases` in order through the activation router.
async fn run_all(app: &TestApp, values: &Values, cases: Vec<Case>) {
    run_cases(|| activation::router(app.state.clone()), values, cases).await;
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.login(email, password).await.status
}

#[tokio::test]
async fn signup_fixtures_answer_as_documented() {
    let (app, values) = start().await;
    run(&app, case("activation-signup.json", StatusCode::ACCEPTED, result("activation_pending")), &values).await;
    let email = values.get("SIGNUP_EMAIL");
    let mail = &app.mails_to(email)[0];
    assert!(mail["subject"].as_str().unwrap().starts_with("Aktivieren"), "German, as preferred: {}", mail["subject"]);
    assert_eq!(login_status(&app, email, SIGNUP_PASSWORD).await, StatusCode::FORBIDDEN, "pending until activated");

    let cases = vec![
        case("activation-signup-invalid.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b)
                == [
                    "customerAddress.city",
                    "customerAddress.country",
                    "customerAddress.zipCode",
                    "customerDetails.contactEmail",
                    "customerDetails.nickname",
                    "customerDetails.preferredCurrency",
                    "email",
                    "newsletter",
                    "password",
                ]
        }),
        case("activation-signup-weak-password.json", StatusCode::UNPROCESSABLE_ENTITY, |b| {
            problem("weak_password")(b) && b["errors"][0]["field"] == "password"
        }),
        case("activation-signup-customer-token.json", StatusCode::FORBIDDEN, problem("anonymous_token_required")),
        case("activation-signup-no-token.json", StatusCode::UNAUTHORIZED, problem("missing_token")),
    ];
    run_all(&app, &values, cases).await;
    assert!(app.mails_to(email).len() == 1, "refused sign-ups send nothing");
}

#[tokio::test]
async fn activate_fixtures_answer_as_documented() {
    let (app, values) = start().await;
    run(&app, case("activation-activate.json", StatusCode::OK, result("activated")), &values).await;
    assert_eq!(login_status(&app, values.get("PENDING_EMAIL"), SIGNUP_PASSWORD).await, StatusCode::OK);
    // The same secret again: the generic answer.
    let again =
        run(&app, case("activation-activate.json", StatusCode::BAD_REQUEST, problem("invalid_token")), &values).await;

    let values = prepare(&app).await;
    run(&app, case("activation-activate-with-password.json", StatusCode::OK, |_| true), &values).await;
    let email = values.get("PENDING_EMAIL");
    assert_eq!(login_status(&app, email, "amber kites over hills").await, StatusCode::OK);
    assert_eq!(login_status(&app, email, SIGNUP_PASSWORD).await, StatusCode::UNAUTHORIZED, "replaced");

    let values = prepare(&app).await;
    let cases = vec![
        // One generic answer for used and unknown secrets.
        case("activation-activate-invalid-secret.json", StatusCode::BAD_REQUEST, move |b| *b == again.body),
        case("activation-activate-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b) == ["identifier", "secret"]
        }),
        case("activation-activate-password-mismatch.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b) == ["password_check"]
        }),
        // Nothing was consumed: the right request still works.
        case("activation-activate.json", StatusCode::OK, |_| true),
    ];
    run_all(&app, &values, cases).await;
}

#[tokio::test]
async fn resend_fixtures_always_answer_202() {
    let (app, values) = start().await;
    let old = app.latest_link(values.get("PENDING_EMAIL"), "secret").unwrap();
    let reply = run(&app, case("activation-resend.json", StatusCode::ACCEPTED, result("email_sent")), &values).await;
    let new = app.latest_link(values.get("PENDING_EMAIL"), "secret").unwrap();
    assert_ne!(old.secret, new.secret, "a new secret was mailed");

    let cases = vec![
        case("activation-resend-unknown-email.json", StatusCode::ACCEPTED, move |b| *b == reply.body),
        case("activation-resend-missing-email.json", StatusCode::BAD_REQUEST, |b| error_fields(b) == ["email"]),
    ];
    run_all(&app, &values, cases).await;
}

#[tokio::test]
async fn email_change_fixtures_answer_as_documented() {
    let (app, values) = start().await;
    run(&app, case("activation-email-change.json", StatusCode::ACCEPTED, result("email_sent")), &values).await;
    assert!(app.latest_link(values.get("NEW_EMAIL"), "key").is_some(), "key mailed to the new address");
    let notices = app.mails_to(values.get("CUSTOMER_EMAIL"));
    assert_eq!(notices.len(), 2, "one notice per request to the old address");
    assert!(!notices[1]["text"].as_str().unwrap().contains("key="), "the notice carries no key");

    let cases = vec![
        case("activation-email-change-wrong-password.json", StatusCode::FORBIDDEN, problem("invalid_credentials")),
        case("activation-email-change-anonymous.json", StatusCode::FORBIDDEN, problem("customer_token_required")),
        case("activation-email-change-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b) == ["email", "newEmail", "password"]
        }),
    ];
    run_all(&app, &values, cases).await;
}

#[tokio::test]
async fn email_confirm_fixtures_answer_as_documented() {
    let (app, values) = start().await;
    run(&app, case("activation-email-confirm.json", StatusCode::OK, result("updated")), &values).await;
    assert_eq!(login_status(&app, values.get("CHANGE_TO"), PASSWORD).await, StatusCode::OK);
    assert_eq!(login_status(&app, values.get("CUSTOMER_EMAIL"), PASSWORD).await, StatusCode::UNAUTHORIZED);
    run(
        &app,
        case("activation-email-confirm-invalid-key.json", StatusCode::BAD_REQUEST, problem("invalid_token")),
        &values,
    )
    .await;

    // Someone registers the new address before the key is used.
    let values = prepare(&app).await;
    app.create_customer(values.get("CHANGE_TO"), "another password 2026").await;
    run(&app, case("activation-email-confirm-taken.json", StatusCode::CONFLICT, problem("email_taken")), &values).await;
    assert_eq!(login_status(&app, values.get("CUSTOMER_EMAIL"), PASSWORD).await, StatusCode::OK, "unchanged");
}
