//! Every login-route fixture in `events/`, through `lambda_http::request::from_str`
//! into the `login` function's router, against DynamoDB Local.

use http::StatusCode;
use serde_json::Value;
use tests::TestApp;
use tests::fixtures::{Values, case, fields_in_order, problem};

const EMAIL: &str = "fixture@example.com";
const PASSWORD: &str = "fixture-password-2026";

/// Fresh values for the placeholders, so each fixture meets a clean state.
async fn prepare(app: &TestApp, customer_id: &str) -> Values {
    let anonymous = app.anonymous().await;
    let customer = app.login(EMAIL, PASSWORD).await;
    let other = app.login(EMAIL, PASSWORD).await;
    // A spent anonymous refresh token: used once already.
    let spent = app.anonymous().await.field("refresh_token");
    let refreshed = app
        .post(
            "/customerlogin/auth/anonymous/refresh",
            None,
            serde_json::json!({"tenant": "demo", "client_id": "storefront", "refresh_token": spent}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    Values(vec![
        ("ANONYMOUS_TOKEN", anonymous.field("access_token")),
        ("ANONYMOUS_REFRESH_TOKEN", anonymous.field("refresh_token")),
        ("CUSTOMER_TOKEN", customer.field("access_token")),
        ("CUSTOMER_REFRESH_TOKEN", customer.field("refresh_token")),
        ("OTHER_SESSION_ID", other.field("sessionId")),
        ("USED_REFRESH_TOKEN", spent),
        ("CUSTOMER_ID", customer_id.to_owned()),
    ])
}

fn has_token_set(body: &Value) -> bool {
    ["access_token", "refresh_token", "sessionId", "scope"].iter().all(|k| body[k].is_string())
        && body["token_type"] == "Bearer"
        && body["expires_in"].as_i64().is_some_and(|s| s > 0)
}

#[tokio::test]
async fn every_login_fixture_answers_as_documented() {
    let app = TestApp::new().await;
    app.add_tenant("other").await;
    let customer_id = app.create_customer(EMAIL, PASSWORD).await.to_string();

    let cases = vec![
        case("login-anonymous.json", StatusCode::OK, |b| has_token_set(b) && b["scope"] == "tenant=demo"),
        case("login-anonymous-unknown-client.json", StatusCode::UNAUTHORIZED, problem("invalid_client")),
        case("login-anonymous-missing-params.json", StatusCode::BAD_REQUEST, |b| {
            fields_in_order(b) == ["tenant", "client_id"]
        }),
        case("login-anonymous-refresh-get.json", StatusCode::OK, has_token_set),
        case("login-anonymous-refresh-post.json", StatusCode::OK, has_token_set),
        case("login-anonymous-refresh-reused.json", StatusCode::UNAUTHORIZED, problem("invalid_refresh_token")),
        case("login-customer.json", StatusCode::OK, |b| {
            has_token_set(b)
                && b["customerId"].is_string()
                && b["session_id"] == b["sessionId"]
                && b["initialPassword"] == false
        }),
        case("login-customer-by-id.json", StatusCode::OK, |b| has_token_set(b) && b["customerId"].is_string()),
        case("login-customer-wrong-password.json", StatusCode::UNAUTHORIZED, problem("invalid_credentials")),
        case("login-customer-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
            fields_in_order(b) == ["email", "password"]
        }),
        case("login-customer-no-token.json", StatusCode::UNAUTHORIZED, problem("missing_token")),
        case("login-customer-wrong-tenant.json", StatusCode::FORBIDDEN, problem("wrong_tenant")),
        case("login-refresh.json", StatusCode::OK, |b| has_token_set(b) && b["customerId"].is_string()),
        case("login-refresh-missing-token.json", StatusCode::BAD_REQUEST, |b| {
            b["errors"][0]["field"] == "refresh_token"
        }),
        case("login-validate.json", StatusCode::OK, |b| {
            b["email"] == EMAIL
                && b["customerId"].is_string()
                && b["sessionId"].is_string()
                && b["token_type"] == "Bearer"
        }),
        case("login-validate-bad-token.json", StatusCode::UNAUTHORIZED, problem("invalid_token")),
        case("login-logout.json", StatusCode::NO_CONTENT, Value::is_null),
        case("login-logout-anonymous.json", StatusCode::FORBIDDEN, problem("customer_token_required")),
        case("login-sessions-list.json", StatusCode::OK, |b| {
            let list = b.as_array().unwrap();
            list.len() >= 2
                && list.iter().filter(|s| s["current"] == true).count() == 1
                && list[0]["createdAt"].is_string()
        }),
        case("login-session-delete.json", StatusCode::NO_CONTENT, Value::is_null),
        case("login-session-delete-unknown.json", StatusCode::NOT_FOUND, problem("not_found")),
        case("login-openid-configuration.json", StatusCode::OK, |b| {
            b["issuer"] == "https://accounts.test/customer/demo"
                && b["jwks_uri"] == "https://accounts.test/.well-known/jwks.json"
        }),
        case("login-openid-configuration-unknown-tenant.json", StatusCode::NOT_FOUND, problem("not_found")),
        case("login-branding.json", StatusCode::OK, |b| {
            b["name"] == "demo shop"
                && b["accentColor"] == "#0b6e4f"
                && b["passwordPolicy"] == serde_json::json!({"minLength": 8, "maxLength": 128, "minScore": 3})
                && b.get("activationUri").is_none()
        }),
        case("login-branding-unknown-tenant.json", StatusCode::NOT_FOUND, problem("not_found")),
        case("login-jwks.json", StatusCode::OK, |b| b["keys"][0]["kty"] == "RSA" && b["keys"][0]["kid"].is_string()),
    ];

    for case in cases {
        let values = prepare(&app, &customer_id).await;
        case.run(login::router(app.state.clone()), &values).await;
    }
}
