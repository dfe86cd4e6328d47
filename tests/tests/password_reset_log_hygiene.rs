//! No reset token, passphrase, new password or their hashes reach a log line
//! during the reset flows. (Its own test binary: it installs the global
//! subscriber in the production format.)

use http::StatusCode;
use serde_json::json;
use shared::secrets::hash_secret;
use tests::TestApp;

fn newest_token(app: &TestApp) -> String {
    let mails = app.outbox_messages();
    let text = mails.last().unwrap()["text"].as_str().unwrap().to_owned();
    let link = text.split_whitespace().find(|w| w.contains("token=")).unwrap().to_owned();
    link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

#[tokio::test]
async fn no_reset_secret_reaches_the_logs() {
    let captured = tests::logs::CapturedLogs::install();

    let app = TestApp::new().await;
    let email = "logs@example.com";
    let new_password = "log-hygiene new passphrase 2026";
    app.create_customer(email, "log-hygiene old passphrase 2026").await;
    let anonymous = app.anonymous().await.field("access_token");
    let reset = |body| app.post("/customer/demo/password/reset", Some(&anonymous), body);
    assert_eq!(reset(json!({"email": email})).await.status, StatusCode::ACCEPTED);
    assert_eq!(reset(json!({"email": "ghost@example.com"})).await.status, StatusCode::ACCEPTED);
    let token = newest_token(&app);
    let weak = app
        .post(
            "/customer/demo/password/reset/update",
            Some(&anonymous),
            json!({"token": token, "password": "password1"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let updated = app
        .post(
            "/customer/demo/password/reset/update",
            Some(&anonymous),
            json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT);
    let replay = app
        .post(
            "/customer/demo/password/reset/update",
            Some(&anonymous),
            json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(reset(json!({"email": email})).await.status, StatusCode::ACCEPTED);
    let code = newest_token(&app);
    let generated = app
        .post("/customer/demo/password/reset/generate", Some(&anonymous), json!({"email": email, "code": code}))
        .await;
    assert_eq!(generated.status, StatusCode::OK);
    let jwt = generated.field("token");

    let logs = captured.text();
    assert!(logs.contains("\"event\":\"password_reset_request\""), "audit lines are captured: {logs}");
    assert!(logs.contains("\"event\":\"password_reset\""));
    let passphrase_part = jwt.split('.').nth(1).unwrap().to_owned();
    for secret in [token.clone(), hash_secret(&token), code.clone(), hash_secret(&code), jwt, passphrase_part] {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
    assert!(!logs.contains(new_password) && !logs.contains("password1"));
    assert!(!logs.contains("$argon2"), "no hash in the logs");
    assert!(!logs.contains(email) && !logs.contains("ghost@example.com"), "no e-mail addresses either");
}
