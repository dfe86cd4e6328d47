//! Sign-in with a mailed six-digit code (`login/emailCode`): once, within
//! ten minutes, five guesses, and the same answer for every address.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use http::StatusCode;
use serde_json::{Value, json};
use shared::domain::CustomerId;
use shared::services::equal_time::RESPONSE_FLOOR;
use shared::store::EMAIL_CODE_ATTEMPTS;
use shared::table_keys::ItemKey;
use tests::{Reply, TestApp, parallel, tally};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const REQUEST: &str = "/customer/demo/login/emailCode";
const VERIFY: &str = "/customer/demo/login/emailCode/verify";

/// The code of the newest sign-in mail to `to`: the line that is six digits.
fn mailed_code(app: &TestApp, to: &str) -> String {
    let mails = app.mails_to(to);
    let text = mails.last().and_then(|m| m["text"].as_str()).unwrap_or_else(|| panic!("a mail to {to}"));
    let line = text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()));
    line.unwrap_or_else(|| panic!("a code in {text}")).to_owned()
}

async fn request_code(app: &TestApp, email: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post(REQUEST, Some(&anonymous), json!({"email": email})).await
}

async fn sign_in(app: &TestApp, email: &str, code: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post(VERIFY, Some(&anonymous), json!({"email": email, "code": code})).await
}

/// A six-digit code that is not `code`.
fn wrong(code: &str, n: u32) -> String {
    let value: u32 = code.parse().unwrap();
    format!("{:06}", (value + 1 + n) % 1_000_000)
}

#[tokio::test]
async fn a_mailed_code_signs_in_once_and_only_the_newest_works() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let asked = request_code(&app, EMAIL).await;
    assert_eq!((asked.status, &asked.body), (StatusCode::ACCEPTED, &json!({"result": "email_sent"})));
    let first = mailed_code(&app, EMAIL);
    // A second request retires the first code.
    request_code(&app, EMAIL).await;
    let code = mailed_code(&app, EMAIL);
    if code != first {
        sign_in(&app, EMAIL, &first).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");
    }

    let signed_in = sign_in(&app, EMAIL, &code).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(signed_in.body["customerId"].is_string() && signed_in.body["saas_token"].is_string());
    let token = signed_in.field("access_token");
    let me = app.get("/customer/demo/validateauthtoken", Some(&token)).await;
    assert_eq!((me.status, me.body["email"].as_str()), (StatusCode::OK, Some(EMAIL)));

    // Once: the same code again is refused, and so is the spent anonymous session.
    sign_in(&app, EMAIL, &code).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");
    let anonymous = app.anonymous().await.field("access_token");
    request_code(&app, EMAIL).await;
    let next = mailed_code(&app, EMAIL);
    let body = json!({"email": EMAIL, "code": next});
    assert_eq!(app.post(VERIFY, Some(&anonymous), body.clone()).await.status, StatusCode::OK);
    app.post(VERIFY, Some(&anonymous), body).await.assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
}

#[tokio::test]
async fn an_expired_code_or_one_from_before_a_password_change_is_refused() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let customer = CustomerId::parse(&app.login(EMAIL, PASSWORD).await.field("customerId")).unwrap();
    request_code(&app, EMAIL).await;
    let code = mailed_code(&app, EMAIL);
    let past = (shared::clock::now_epoch() - 1).to_string();
    let key = ItemKey::email_code(&app.tenant, &customer);
    app.update_raw(&key, "SET expiresAt = :past", &[], vec![(":past", AttributeValue::N(past))]).await;
    sign_in(&app, EMAIL, &code).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");

    // A new credential epoch ends the codes issued before it.
    request_code(&app, EMAIL).await;
    let code = mailed_code(&app, EMAIL);
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let change = json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase 2026"});
    assert_eq!(
        app.post("/customer/demo/me/password/change", Some(&token), change).await.status,
        StatusCode::NO_CONTENT
    );
    sign_in(&app, EMAIL, &code).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");
}

#[tokio::test]
async fn five_wrong_codes_burn_it_even_in_parallel() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await.field("customerId");
    let customer = CustomerId::parse(&customer).unwrap();
    request_code(&app, EMAIL).await;
    let code = mailed_code(&app, EMAIL);

    let app = std::sync::Arc::new(app);
    let guesses = parallel(0..8, |n| {
        let (app, guess) = (app.clone(), wrong(&code, n));
        async move { sign_in(&app, EMAIL, &guess).await }
    })
    .await;
    let statuses: Vec<StatusCode> = guesses.iter().map(|r| r.status).collect();
    assert_eq!(tally(&statuses), [(StatusCode::UNAUTHORIZED, 8)]);
    assert!(guesses.iter().all(|r| r.body["code"] == "invalid_code"));
    // Exactly five guesses were compared; the right code comes too late.
    let stored = app.store().email_code(&app.tenant, &customer).await.unwrap().unwrap();
    assert_eq!(stored.attempts, EMAIL_CODE_ATTEMPTS);
    sign_in(&app, EMAIL, &code).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");

    // Four wrong guesses leave the fifth to the right code.
    request_code(&app, EMAIL).await;
    let code = mailed_code(&app, EMAIL);
    for n in 0..EMAIL_CODE_ATTEMPTS - 1 {
        sign_in(&app, EMAIL, &wrong(&code, n)).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");
    }
    assert_eq!(sign_in(&app, EMAIL, &code).await.status, StatusCode::OK);
}

async fn timed(reply: impl Future<Output = Reply>) -> (Duration, StatusCode, Value) {
    let started = Instant::now();
    let reply = reply.await;
    (started.elapsed(), reply.status, reply.body)
}

/// Every case answers the same, no sooner than the floor, and none takes
/// more than twice as long as another.
fn assert_equal_answers(what: &str, cases: &[(Duration, StatusCode, Value)]) {
    assert!(cases.iter().all(|c| (c.1, &c.2) == (cases[0].1, &cases[0].2)), "{what}: {cases:?}");
    assert!(cases.iter().all(|c| c.0 >= RESPONSE_FLOOR), "{what}: {cases:?}");
    let (min, max) = (cases.iter().map(|c| c.0).min().unwrap(), cases.iter().map(|c| c.0).max().unwrap());
    assert!(max < min * 2, "{what}: {min:?} vs {max:?}");
}

#[tokio::test]
async fn unknown_and_pending_addresses_get_the_same_answers_in_the_same_time() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let anonymous = app.anonymous().await.field("access_token");
    let signup = json!({"email": "pending@example.com", "password": "violet tulips under rain"});
    assert_eq!(app.post("/customer/demo/signup", Some(&anonymous), signup).await.status, StatusCode::ACCEPTED);

    let mut requests = Vec::new();
    for email in [EMAIL, "nobody@example.com", "pending@example.com"] {
        let anonymous = app.anonymous().await.field("access_token");
        requests.push(timed(app.post(REQUEST, Some(&anonymous), json!({"email": email}))).await);
    }
    assert_equal_answers("login/emailCode", &requests);
    assert!(app.mails_to("nobody@example.com").is_empty());
    assert_eq!(app.mails_to("pending@example.com").len(), 1, "the activation mail only");

    let mut guesses = Vec::new();
    for email in [EMAIL, "nobody@example.com", "pending@example.com"] {
        let anonymous = app.anonymous().await.field("access_token");
        let body = json!({"email": email, "code": "000000"});
        guesses.push(timed(app.post(VERIFY, Some(&anonymous), body)).await);
    }
    // (The real code is 000000 once in a million runs.)
    assert_equal_answers("login/emailCode/verify", &guesses);
    assert_eq!(guesses[0].1, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn codes_are_capped_like_every_mail() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(request_code(&app, EMAIL).await.status, StatusCode::ACCEPTED);
    }
    assert_eq!(app.mails_to(EMAIL).len(), 3);
    // A capped request does not retire the code last mailed.
    assert_eq!(sign_in(&app, EMAIL, &mailed_code(&app, EMAIL)).await.status, StatusCode::OK);
}
