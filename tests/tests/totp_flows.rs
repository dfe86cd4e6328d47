//! A second factor: an authenticator (TOTP) enrolled on `me`, recovery
//! codes, the challenge a password login answers, and the tenant rule that
//! asks every password login for one.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::store::LoginBudget;
use tests::{Reply, TestApp, parallel, request, tally};
use totp_rs::{Builder, Secret};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const COMPLETE: &str = "/customer/demo/login/secondFactor";

/// The authenticator's code `offset_steps` steps from now.
fn code(secret: &str, offset_steps: i64) -> String {
    let totp = Builder::new().with_secret(Secret::try_from_base32(secret).unwrap()).build().unwrap();
    let time = shared::clock::now_epoch() + offset_steps * 30;
    totp.generate(time as u64).to_string()
}

/// Enrols an authenticator for `EMAIL`: the session that did it, the secret
/// and the recovery codes.
async fn enrol(app: &TestApp) -> (String, String, Vec<String>) {
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let started = app.post("/customer/demo/me/totp", Some(&token), json!({})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let secret = started.field("secret");
    let confirmed = app.post("/customer/demo/me/totp/confirm", Some(&token), json!({"code": code(&secret, 0)})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let codes = confirmed.body["recoveryCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned());
    (token, secret, codes.collect())
}

/// A password login that is answered with a challenge, and the anonymous
/// token that must complete it.
async fn challenged(app: &TestApp) -> (String, Reply) {
    let anonymous = app.anonymous().await.field("access_token");
    let reply = app.login_with(&anonymous, EMAIL, PASSWORD).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "second_factor_required");
    (anonymous, reply)
}

async fn complete(app: &TestApp, anonymous: &str, challenge: &Reply, proof: Value) -> Reply {
    let mut body = proof;
    body["challenge"] = challenge.body["challenge"].clone();
    app.post(COMPLETE, Some(anonymous), body).await
}

#[tokio::test]
async fn an_enrolled_authenticator_completes_password_logins_and_a_code_works_once() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let other = app.login(EMAIL, PASSWORD).await.field("access_token");
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let started = app.post("/customer/demo/me/totp", Some(&token), json!({})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let (secret, uri) = (started.field("secret"), started.field("otpauthUri"));
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    let confirm = "/customer/demo/me/totp/confirm";
    let wrong = format!("{:06}", (code(&secret, 0).parse::<u32>().unwrap() + 500_000) % 1_000_000);
    app.post(confirm, Some(&token), json!({"code": wrong})).await.assert_problem(StatusCode::FORBIDDEN, "invalid_code");
    let confirmed = app.post(confirm, Some(&token), json!({"code": code(&secret, 0)})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let recovery: Vec<&Value> = confirmed.body["recoveryCodes"].as_array().unwrap().iter().collect();
    assert_eq!(recovery.len(), 10);
    // A credential change: the other session ends, this one stays, a notice goes out.
    assert_eq!(app.get("/customer/demo/validateauthtoken", Some(&other)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/customer/demo/validateauthtoken", Some(&token)).await.status, StatusCode::OK);
    let notices = app.mails_to(EMAIL);
    assert!(notices.last().unwrap()["subject"].as_str().unwrap().contains("sign-in methods changed"));
    assert_eq!(app.post("/customer/demo/me/totp", Some(&token), json!({})).await.status, StatusCode::CONFLICT);
    let accounts = app.get("/customer/demo/me/accounts", Some(&token)).await;
    assert_eq!(accounts.body[0]["hasTotp"], true, "{}", accounts.body);

    // The password alone is answered with a challenge; the next step's code completes it.
    let (anonymous, challenge) = challenged(&app).await;
    assert_eq!(challenge.body["secondFactorMethods"], json!(["totp", "recovery_code"]));
    let next = code(&secret, 1);
    let signed_in = complete(&app, &anonymous, &challenge, json!({"code": next})).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(signed_in.body["access_token"].is_string());
    // The same code again, within its window, is refused; so is the spent challenge.
    let (anonymous, again) = challenged(&app).await;
    complete(&app, &anonymous, &again, json!({"code": next}))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");
    let other_session = app.anonymous().await.field("access_token");
    complete(&app, &other_session, &again, json!({"code": code(&secret, 0)}))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_challenge");

    // The mailbox alone does not stand in for the authenticator either.
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/login/emailCode", Some(&anonymous), json!({"email": EMAIL})).await;
    let mail = app.mails_to(EMAIL).pop().unwrap();
    let text = mail["text"].as_str().unwrap();
    let mailed = text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())).unwrap();
    let body = json!({"email": EMAIL, "code": mailed});
    app.post("/customer/demo/login/emailCode/verify", Some(&anonymous), body)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "second_factor_required");
}

#[tokio::test]
async fn recovery_codes_work_once_and_removal_takes_the_password_and_a_code() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let (token, _, recovery) = enrol(&app).await;
    let (anonymous, challenge) = challenged(&app).await;
    let used = json!({"recoveryCode": recovery[0]});
    assert_eq!(complete(&app, &anonymous, &challenge, used.clone()).await.status, StatusCode::OK);
    let (anonymous, challenge) = challenged(&app).await;
    complete(&app, &anonymous, &challenge, used).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_code");

    let remove = |body: Value| request(Method::DELETE, "/customer/demo/me/totp", Some(&token), Some(body));
    let wrong_password = json!({"password": "not the password", "recoveryCode": recovery[1]});
    app.send(remove(wrong_password)).await.assert_problem(StatusCode::FORBIDDEN, "invalid_credentials");
    let spent = json!({"password": PASSWORD, "recoveryCode": recovery[0]});
    app.send(remove(spent)).await.assert_problem(StatusCode::FORBIDDEN, "invalid_code");
    let removed = app.send(remove(json!({"password": PASSWORD, "recoveryCode": recovery[1]}))).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(app.get("/customer/demo/me/accounts", Some(&token)).await.body[0]["hasTotp"], false);
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn six_wrong_codes_in_parallel_verify_at_most_the_lock_out_budget() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let (_, secret, _) = enrol(&app).await;
    let (anonymous, challenge) = challenged(&app).await;
    let right: u32 = code(&secret, 0).parse().unwrap();
    let app = std::sync::Arc::new(app);
    let replies = parallel(1..=6u32, |n| {
        let (app, anonymous, challenge) = (app.clone(), anonymous.clone(), challenge.body["challenge"].clone());
        // Far from the codes of the steps around now.
        let wrong = format!("{:06}", (right + n * 100_003) % 1_000_000);
        async move { app.post(COMPLETE, Some(&anonymous), json!({"challenge": challenge, "code": wrong})).await }
    })
    .await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    let verified = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert!(verified <= 5, "{:?}", tally(&statuses));
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{:?}", tally(&statuses));
    let id = app.store().get_email_guard(&app.tenant, &shared::domain::Email::parse(EMAIL).unwrap()).await;
    let budget = LoginBudget::Account(id.unwrap().unwrap().customer_id);
    let stored = app.store().login_budget(&app.tenant, &budget).await.unwrap().unwrap();
    assert!(stored.attempts <= 5, "{stored:?}");
    // Locked now: even the right code waits.
    let right = json!({"challenge": challenge.body["challenge"], "code": code(&secret, 1)});
    let late = app.post(COMPLETE, Some(&anonymous), right).await;
    assert_eq!(late.status, StatusCode::TOO_MANY_REQUESTS, "{}", late.body);
}

#[tokio::test]
async fn a_device_that_signed_in_before_is_not_locked_out_of_its_second_factor() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let device = app.login(EMAIL, PASSWORD).await.field("device_token");
    let (_, secret, _) = enrol(&app).await;
    // Someone else runs the account's budget into its lock.
    for _ in 0..6 {
        app.login(EMAIL, "not the password").await;
    }
    app.login(EMAIL, PASSWORD).await.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // The owner's device: its own budget for the password and for the code.
    let anonymous = app.anonymous().await.field("access_token");
    let body = json!({"email": EMAIL, "password": PASSWORD, "device_token": device});
    let challenge = app.post("/customer/demo/login", Some(&anonymous), body).await;
    challenge.assert_problem(StatusCode::UNAUTHORIZED, "second_factor_required");
    let signed_in = complete(&app, &anonymous, &challenge, json!({"code": code(&secret, 1)})).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
}

#[tokio::test]
async fn a_tenant_can_require_a_second_factor_for_every_password_login() {
    let app = TestApp::new().await;
    let mut settings = cli::demo_settings(&shared::domain::TenantId::parse("strict").unwrap());
    settings.require_second_factor = true;
    let tenant = app.add_tenant_with("strict", settings).await;
    app.create_customer_in(&tenant, EMAIL, PASSWORD).await;
    let anonymous = app.anonymous_for(&tenant).await.field("access_token");
    let login =
        app.post("/customer/strict/login", Some(&anonymous), json!({"email": EMAIL, "password": PASSWORD})).await;
    login.assert_problem(StatusCode::UNAUTHORIZED, "second_factor_required");
    assert_eq!(login.body["secondFactorMethods"], json!(["email_code"]));
    let mail = app.mails_to(EMAIL).pop().expect("a code by mail");
    let text = mail["text"].as_str().unwrap();
    let mailed = text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())).unwrap();
    let body = json!({"challenge": login.body["challenge"], "code": mailed});
    let signed_in = app.post("/customer/strict/login/secondFactor", Some(&anonymous), body).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(signed_in.body["customerId"].is_string());
}
