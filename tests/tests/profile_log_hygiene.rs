//! The profile routes log audit lines (password change, deletion) but never
//! a password, token or hash. Own test binary: it installs the global
//! subscriber in the production format.

use http::{Method, StatusCode};
use serde_json::json;
use tests::logs::{CapturedLogs, phc_parts, with_hash};
use tests::request;

#[tokio::test]
async fn profile_routes_log_audit_lines_without_secrets() {
    let (captured, app) = CapturedLogs::with_app().await;
    let email = "logs@example.com";
    let password = "log-hygiene password 2026";
    let wrong = "log-hygiene wrong guess";
    let new_password = "log-hygiene violet tundra lantern";
    let id = app.create_customer(email, password).await;
    let login = app.login(email, password).await;
    let token = login.field("access_token");
    let hash_before = app.store().get_customer(&app.tenant, &id).await.unwrap().unwrap().password_hash.unwrap();

    let change = |current: &'static str| {
        app.post(
            "/customer/demo/me/password/change",
            Some(&token),
            json!({"currentPassword": current, "newPassword": new_password}),
        )
    };
    assert_eq!(change(wrong).await.status, StatusCode::FORBIDDEN);
    assert_eq!(change(password).await.status, StatusCode::NO_CONTENT);
    let hash_after = app.store().get_customer(&app.tenant, &id).await.unwrap().unwrap().password_hash.unwrap();
    let patch = json!({"firstName": "Logs", "metadata": {"version": 1}});
    assert_eq!(
        app.send(request(Method::PATCH, "/customer/demo/me", Some(&token), Some(patch))).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/customer/demo/me/export", Some(&token)).await.status, StatusCode::OK);
    let delete = |pw: &'static str| {
        app.send(request(Method::DELETE, "/customer/demo/me", Some(&token), Some(json!({"password": pw}))))
    };
    assert_eq!(delete(wrong).await.status, StatusCode::FORBIDDEN);
    assert_eq!(delete(new_password).await.status, StatusCode::OK);

    let mut secrets = vec![password.to_owned(), wrong.to_owned(), new_password.to_owned()];
    for hash in [&hash_before, &hash_after] {
        secrets.extend(phc_parts(hash));
    }
    for field in ["access_token", "refresh_token"] {
        secrets.extend(with_hash(&login.field(field)));
    }

    let logs = captured.text();
    for event in ["password_change", "profile_updated", "profile_exported", "account_deletion", "account_deleted"] {
        assert!(logs.contains(&format!("\"event\":\"{event}\"")), "audit line {event} missing: {logs}");
    }
    captured.assert_free_of(&secrets);
}
