//! No password, activation secret, e-mail key or hash from sign-up,
//! activation and e-mail change reaches a log line (production format and level).

use http::StatusCode;
use serde_json::json;
use tests::logs::{CapturedLogs, phc_parts, with_hash};

#[tokio::test]
async fn no_activation_or_email_secret_reaches_the_logs() {
    let (captured, app) = CapturedLogs::with_app().await;
    let password = "log hygiene sign-up passphrase";
    let chosen = "log hygiene chosen passphrase";
    let wrong = "log hygiene wrong guess";
    let anonymous = app.anonymous().await.field("access_token");
    let signup = json!({"email": "logs@example.com", "password": password});
    for _ in 0..2 {
        // The second one meets a taken e-mail.
        let reply = app.post("/customer/demo/signup", Some(&anonymous), signup.clone()).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    let resent =
        app.post("/customer/demo/activate/resend", Some(&anonymous), json!({"email": "logs@example.com"})).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED);
    let activation = app.latest_link("logs@example.com", "secret").unwrap();
    let body = json!({"identifier": activation.identifier, "secret": activation.secret,
        "password": chosen, "password_check": chosen});
    assert_eq!(app.post("/customer/demo/activate", None, body.clone()).await.status, StatusCode::OK);
    assert_eq!(app.post("/customer/demo/activate", None, body).await.status, StatusCode::BAD_REQUEST);

    let token = app.login("logs@example.com", chosen).await.field("access_token");
    let change = |password: &str| json!({"email": "logs@example.com", "password": password, "newEmail": "moved@example.com", "syncContactEmail": true});
    let uri = "/customer/demo/me/accounts/internal/email/change";
    assert_eq!(app.post(uri, Some(&token), change(wrong)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post(uri, Some(&token), change(chosen)).await.status, StatusCode::ACCEPTED);
    let key = app.latest_link("moved@example.com", "key").unwrap();
    let confirm = json!({"identifier": key.identifier, "key": key.secret});
    assert_eq!(app.post("/customer/demo/email/confirm", None, confirm).await.status, StatusCode::OK);

    let password_hash = app.guard_password_hash("moved@example.com").await;
    let mut secrets = vec![password.to_owned(), chosen.to_owned(), wrong.to_owned()];
    for secret in [&activation.secret, &key.secret] {
        secrets.extend(with_hash(secret));
    }
    secrets.extend(phc_parts(&password_hash));

    let logs = captured.text();
    for event in ["\"event\":\"signup\"", "\"event\":\"activation\"", "\"event\":\"email_change\""] {
        assert!(logs.contains(event), "audit lines are captured: {event}");
    }
    captured.assert_free_of(&secrets);
}
