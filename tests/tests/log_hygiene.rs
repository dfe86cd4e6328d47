//! No password, token, secret or hash reaches a log line. The logs of a whole
//! flow are captured in the production format and level, then searched for
//! every secret the flow handled.

use http::StatusCode;
use serde_json::json;
use tests::logs::{CapturedLogs, phc_parts, with_hash};

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let (captured, app) = CapturedLogs::with_app().await;
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

    let password_hash = app.guard_password_hash("logs@example.com").await;

    let mut secrets = vec![password.to_owned(), wrong.to_owned()];
    for set in [&anonymous, &other, &customer, &refreshed, &by_query] {
        for field in ["access_token", "refresh_token"] {
            secrets.extend(with_hash(&set.field(field)));
        }
    }
    // The device token of the login: its customer-id part is no secret, its
    // MAC is (the device id alone is no key to anything, but stays out too).
    let device = customer.field("device_token");
    secrets.push(device.split_once('.').unwrap().1.to_owned());
    secrets.push(device.rsplit_once('.').unwrap().1.to_owned());
    // The PHC string, and its salt and digest parts on their own.
    secrets.extend(phc_parts(&password_hash));

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
    captured.assert_free_of(&secrets);
}
