//! No reset token, passphrase, new password or their hashes reach a log line
//! during the reset flows. (Its own test binary: it installs the global
//! subscriber in the production format.)

use http::StatusCode;
use serde_json::json;
use tests::logs::{CapturedLogs, with_hash};

#[tokio::test]
async fn no_reset_secret_reaches_the_logs() {
    let (captured, app) = CapturedLogs::with_app().await;
    let email = "logs@example.com";
    let new_password = "log-hygiene new passphrase 2026";
    app.create_customer(email, "log-hygiene old passphrase 2026").await;
    let anonymous = app.anonymous().await.field("access_token");
    let reset = |body| app.post("/customer/demo/password/reset", Some(&anonymous), body);
    assert_eq!(reset(json!({"email": email})).await.status, StatusCode::ACCEPTED);
    assert_eq!(reset(json!({"email": "ghost@example.com"})).await.status, StatusCode::ACCEPTED);
    let token = app.newest_reset_token();
    let update = |password| {
        app.post(
            "/customer/demo/password/reset/update",
            Some(&anonymous),
            json!({"token": token, "password": password}),
        )
    };
    assert_eq!(update("password1").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(update(new_password).await.status, StatusCode::NO_CONTENT);
    // A replay of the same update.
    assert_eq!(update(new_password).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(reset(json!({"email": email})).await.status, StatusCode::ACCEPTED);
    let code = app.newest_reset_token();
    let generated = app
        .post("/customer/demo/password/reset/generate", Some(&anonymous), json!({"email": email, "code": code}))
        .await;
    assert_eq!(generated.status, StatusCode::OK);
    let jwt = generated.field("token");

    let logs = captured.text();
    assert!(logs.contains("\"event\":\"password_reset_request\""), "audit lines are captured: {logs}");
    assert!(logs.contains("\"event\":\"password_reset\""));
    let passphrase_part = jwt.split('.').nth(1).unwrap().to_owned();
    let mut secrets = vec![jwt, passphrase_part];
    secrets.extend(with_hash(&token));
    secrets.extend(with_hash(&code));
    captured.assert_free_of(&secrets);
    assert!(!logs.contains(new_password) && !logs.contains("password1"));
    assert!(!logs.contains(email) && !logs.contains("ghost@example.com"), "no e-mail addresses either");
}
