//! The fixtures of e-mail codes and second factors (`events/login-email-code*`,
//! `events/login-second-factor*`, `events/profile-totp*`),
//! through `lambda_http::request::from_str` into the `login` function's
//! router, against DynamoDB Local.

use http::StatusCode;
use serde_json::Value;
use tests::TestApp;
use tests::fixtures::{Values, case, fields_in_order, problem};

const EMAIL: &str = "fixture@example.com";
const PASSWORD: &str = "fixture-password-2026";

/// The code of the newest mail to `to`: the line that is six digits.
fn mailed_code(app: &TestApp, to: &str) -> String {
    let mails = app.mails_to(to);
    let text = mails.last().and_then(|m| m["text"].as_str()).expect("a code mail");
    text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())).unwrap().to_owned()
}

/// A fresh anonymous token, the code mailed and one that is not it.
async fn values(app: &TestApp, code: &str) -> Values {
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap_or(0) + 1) % 1_000_000);
    Values(vec![
        ("ANONYMOUS_TOKEN", app.anonymous().await.field("access_token")),
        ("EMAIL_CODE", code.to_owned()),
        ("WRONG_CODE", wrong),
    ])
}

#[tokio::test]
async fn every_email_code_fixture_answers_as_documented() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let router = || login::router(app.state.clone());
    let accepted = |b: &Value| b["result"] == "email_sent";
    case("login-email-code.json", StatusCode::ACCEPTED, accepted).run(router(), &values(&app, "").await).await;
    let code = mailed_code(&app, EMAIL);
    let cases = vec![
        case("login-email-code-missing-email.json", StatusCode::BAD_REQUEST, |b| fields_in_order(b) == ["email"]),
        case("login-email-code-verify-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
            fields_in_order(b) == ["email", "code"]
        }),
        case("login-email-code-verify-wrong.json", StatusCode::UNAUTHORIZED, problem("invalid_code")),
        case("login-email-code-verify.json", StatusCode::OK, |b| {
            b["customerId"].is_string() && b["access_token"].is_string() && b["saas_token"].is_string()
        }),
        // Spent by the case before.
        case("login-email-code-verify.json", StatusCode::UNAUTHORIZED, problem("invalid_code")),
    ];
    for case in cases {
        case.run(router(), &values(&app, &code).await).await;
    }
}

/// The authenticator's code `offset` steps from now.
fn totp(secret: &str, offset: i64) -> String {
    let totp = totp_rs::Builder::new().with_secret(totp_rs::Secret::try_from_base32(secret).unwrap()).build().unwrap();
    totp.generate((shared::clock::now_epoch() + offset * 30) as u64).to_string()
}

#[tokio::test]
async fn every_authenticator_fixture_answers_as_documented() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await.field("access_token");
    let value = |name: &'static str, value: String| (name, value);

    let started = case("profile-totp-start.json", StatusCode::OK, |b| b["otpauthUri"].is_string())
        .run(profile::router(app.state.clone()), &[value("CUSTOMER_TOKEN", customer.clone())])
        .await;
    let secret = started.field("secret");
    let values = Values(vec![value("CUSTOMER_TOKEN", customer.clone()), value("TOTP_CODE", totp(&secret, 0))]);
    case("profile-totp-confirm-missing-code.json", StatusCode::BAD_REQUEST, |b| fields_in_order(b) == ["code"])
        .run(profile::router(app.state.clone()), &values)
        .await;
    let confirmed =
        case("profile-totp-confirm.json", StatusCode::OK, |b| b["recoveryCodes"].as_array().unwrap().len() == 10)
            .run(profile::router(app.state.clone()), &values)
            .await;

    let anonymous = app.anonymous().await.field("access_token");
    let challenged = app.login_with(&anonymous, EMAIL, PASSWORD).await;
    challenged.assert_problem(StatusCode::UNAUTHORIZED, "second_factor_required");
    let values = Values(vec![
        value("ANONYMOUS_TOKEN", anonymous),
        value("CHALLENGE", challenged.field("challenge")),
        value("TOTP_CODE", totp(&secret, 1)),
    ]);
    let cases = vec![
        case("login-second-factor-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
            fields_in_order(b) == ["challenge", "code"]
        }),
        case("login-second-factor-unknown-challenge.json", StatusCode::UNAUTHORIZED, problem("invalid_challenge")),
        case("login-second-factor.json", StatusCode::OK, |b| b["customerId"].is_string()),
    ];
    for case in cases {
        case.run(login::router(app.state.clone()), &values).await;
    }

    let recovery = confirmed.body["recoveryCodes"][0].as_str().unwrap().to_owned();
    let values = Values(vec![value("CUSTOMER_TOKEN", customer), value("RECOVERY_CODE", recovery)]);
    let cases = vec![
        case("profile-totp-remove-missing-proof.json", StatusCode::BAD_REQUEST, |b| fields_in_order(b) == ["code"]),
        case("profile-totp-remove.json", StatusCode::NO_CONTENT, Value::is_null),
    ];
    for case in cases {
        case.run(profile::router(app.state.clone()), &values).await;
    }
}
