//! No password, token, secret or hash reaches a log line. The logs of a whole
//! flow are captured in the production format and level, then searched for
//! every secret the flow handled.

use http::StatusCode;
use serde_json::json;
use shared::secrets::hash_secret;
use tests::TestApp;

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let captured = tests::logs::CapturedLogs::install();

    let app = TestApp::new().await;
    let password = "log-hygiene password 2026";
    let wrong = "log-hygiene wrong guess";
    app.create_customer("logs@example.com", password).await;
    let failed = app.login("logs@example.com", wrong).await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let anonymous = app.anonymous().await;
    let customer = app.login_with(&anonymous.field("access_token"), "logs@example.com", password).await;
    assert_eq!(customer.status, StatusCode::OK);
    let refreshed = app
        .post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": customer.field("refresh_token")}))
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    // A replay (logged as a security event) and an anonymous refresh by query
    // string (of another storefront session: the login spent the first).
    let other = app.anonymous().await;
    let replay = app
        .post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": customer.field("refresh_token")}))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    let by_query = app
        .get(
            &format!(
                "/customerlogin/auth/anonymous/refresh?tenant=demo&client_id=storefront&refresh_token={}",
                other.field("refresh_token")
            ),
            None,
        )
        .await;
    assert_eq!(by_query.status, StatusCode::OK);
    let validate = app.get("/customer/demo/validateauthtoken", Some(&by_query.field("access_token"))).await;
    assert_eq!(validate.status, StatusCode::OK);

    let guard: serde_json::Value = app
        .store()
        .get(&shared::table_keys::ItemKey::email_guard(&app.tenant, "logs@example.com"))
        .await
        .unwrap()
        .unwrap();
    let password_hash = guard["passwordHash"].as_str().unwrap().to_owned();

    let mut secrets = vec![password.to_owned(), wrong.to_owned(), password_hash.clone()];
    for set in [&anonymous, &other, &customer, &refreshed, &by_query] {
        for field in ["access_token", "refresh_token"] {
            let value = set.field(field);
            secrets.push(hash_secret(&value));
            secrets.push(value);
        }
    }
    // The device token of the login, and its hash (the stored form): its
    // customer-id part is no secret, the rest is.
    let device = customer.field("device_token");
    secrets.push(hash_secret(&device));
    secrets.push(device.split_once('.').unwrap().1.to_owned());
    // The salt and digest parts of the PHC string, on their own.
    secrets.extend(password_hash.rsplit('$').take(2).map(str::to_owned));

    let logs = captured.text();
    assert!(logs.contains("\"event\":\"login\""), "audit lines are captured: {logs}");
    assert!(logs.contains("refresh_token_reuse"));
    // Powertools keys at the top level of every request line.
    let request_line: serde_json::Value = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["message"] == "request served")
        .expect("a request line");
    for key in ["timestamp", "level", "service", "cold_start", "correlation_id", "xray_trace_id", "status"] {
        assert!(request_line.get(key).is_some(), "{key} missing in {request_line}");
    }
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
    assert!(!logs.contains("$argon2"), "no hash in the logs");
}
