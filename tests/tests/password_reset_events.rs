//! Every password-reset fixture in `events/`, through `lambda_http::request::from_str`
//! into the `password-reset` function's router, against DynamoDB Local.

use http::StatusCode;
use serde_json::{Value, json};
use shared::table_keys::ItemKey;
use tests::TestApp;
use tests::fixtures::{case, fixture_text, invalid_fields, problem, result};

const EMAIL: &str = "fixture@example.com";
const PASSWORD: &str = "fixture-password-2026";

/// Fresh placeholder values; a reset token only for fixtures that use one.
async fn values(app: &TestApp, needs_reset_token: bool) -> Vec<(&'static str, String)> {
    // The mail caps (3 of a kind an hour) would run out over this many cases.
    let caps =
        ["password_reset", "password_changed"].map(|kind| ItemKey::limit(&app.tenant, &format!("mail:{kind}:{EMAIL}")));
    app.store().delete_keys(&caps).await.unwrap();
    let anonymous = app.anonymous().await.field("access_token");
    let mut pairs = vec![
        ("ANONYMOUS_TOKEN", anonymous.clone()),
        ("CUSTOMER_TOKEN", app.login(EMAIL, PASSWORD).await.field("access_token")),
    ];
    if needs_reset_token {
        let reply = app.post("/customer/demo/password/reset", Some(&anonymous), json!({"email": EMAIL})).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        pairs.push(("RESET_TOKEN", app.newest_reset_token()));
    }
    pairs
}

async fn customer_id(app: &TestApp) -> String {
    let guard: Value = app.store().get(&ItemKey::email_guard(&app.tenant, EMAIL)).await.unwrap().unwrap();
    guard["customerId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_password_reset_fixture_answers_as_documented() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    app.create_customer("other@example.com", PASSWORD).await;

    // (case, new mails expected)
    let cases = vec![
        (case("password-reset-request.json", StatusCode::ACCEPTED, result("email_sent")), 1),
        (case("password-reset-request-allowed-uri.json", StatusCode::ACCEPTED, result("email_sent")), 1),
        (case("password-reset-request-unknown-email.json", StatusCode::ACCEPTED, result("email_sent")), 0),
        (case("password-reset-request-uri-not-allowed.json", StatusCode::BAD_REQUEST, problem("invalid_reset_uri")), 0),
        (
            case(
                "password-reset-request-invalid-fields.json",
                StatusCode::BAD_REQUEST,
                invalid_fields(&["email", "site"]),
            ),
            0,
        ),
        (
            case(
                "password-reset-request-customer-token.json",
                StatusCode::FORBIDDEN,
                problem("anonymous_token_required"),
            ),
            0,
        ),
        (case("password-reset-request-no-token.json", StatusCode::UNAUTHORIZED, problem("missing_token")), 0),
        // The notice that the password changed.
        (case("password-reset-update.json", StatusCode::NO_CONTENT, Value::is_null), 1),
        (case("password-reset-update-invalid-token.json", StatusCode::BAD_REQUEST, problem("invalid_token")), 0),
        (
            case("password-reset-update-weak-password.json", StatusCode::UNPROCESSABLE_ENTITY, |b| {
                problem("weak_password")(b) && b["errors"][0]["field"] == "password"
            }),
            0,
        ),
        (
            case(
                "password-reset-update-missing-fields.json",
                StatusCode::BAD_REQUEST,
                invalid_fields(&["token", "password"]),
            ),
            0,
        ),
        (
            case("password-reset-generate.json", StatusCode::OK, |b| {
                b["token"].as_str().is_some_and(|t| t.split('.').count() == 3)
            }),
            1,
        ),
        (case("password-reset-generate-wrong-email.json", StatusCode::BAD_REQUEST, problem("invalid_token")), 0),
        (case("password-reset-generate-missing-fields.json", StatusCode::BAD_REQUEST, invalid_fields(&["code"])), 0),
    ];

    for (case, new_mails) in cases {
        let name = case.fixture;
        let values = values(&app, fixture_text(name).contains("{{RESET_TOKEN}}")).await;
        let mails_before = app.outbox_messages().len();
        case.run(password_reset::router(app.state.clone()), &values).await;
        assert_eq!(app.outbox_messages().len() - mails_before, new_mails, "{name}: mails sent");
        // The passwords changed by `update` and `generate` are put back for the next case.
        if matches!(case.status, StatusCode::NO_CONTENT | StatusCode::OK) {
            restore_password(&app).await;
        }
    }
}

async fn restore_password(app: &TestApp) {
    let customer = shared::domain::CustomerId::parse(&customer_id(app).await).unwrap();
    let password = shared::domain::Password::parse(PASSWORD.into()).unwrap();
    let phc = shared::passwords::hash(&password).await.unwrap();
    let profile = app.store().get_customer(&app.tenant, &customer).await.unwrap().unwrap();
    let commit = shared::store::CredentialCommit {
        profile: &profile,
        change: shared::store::CredentialChange::Password { hash: &phc, initial: false },
        activate: false,
        redeem: None,
        keep_session: None,
        now: shared::clock::now_epoch(),
    };
    assert_eq!(
        app.store().commit_credential_change(&app.tenant, commit).await.unwrap(),
        shared::store::CommitOutcome::Done
    );
}
