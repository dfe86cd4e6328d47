//! Every login-route fixture in `events/`, through `lambda_http::request::from_str`
//! into the `login` function's router, against DynamoDB Local.

use http::StatusCode;
use serde_json::Value;
use tests::TestApp;
use tests::fixtures::{invoke, problem};

const EMAIL: &str = "fixture@example.com";
const PASSWORD: &str = "fixture-password-2026";

/// Fresh values for the placeholders, so each fixture meets a clean state.
struct Values {
    pairs: Vec<(&'static str, String)>,
}

impl Values {
    async fn prepare(app: &TestApp, customer_id: &str) -> Self {
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
        Self {
            pairs: vec![
                ("ANONYMOUS_TOKEN", anonymous.field("access_token")),
                ("ANONYMOUS_REFRESH_TOKEN", anonymous.field("refresh_token")),
                ("CUSTOMER_TOKEN", customer.field("access_token")),
                ("CUSTOMER_REFRESH_TOKEN", customer.field("refresh_token")),
                ("OTHER_SESSION_ID", other.field("sessionId")),
                ("USED_REFRESH_TOKEN", spent),
                ("CUSTOMER_ID", customer_id.to_owned()),
            ],
        }
    }

    fn as_refs(&self) -> Vec<(&str, &str)> {
        self.pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
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

    type Check = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, StatusCode, Check)> = vec![
        ("login-anonymous.json", StatusCode::OK, Box::new(|b| has_token_set(b) && b["scope"] == "tenant=demo")),
        ("login-anonymous-unknown-client.json", StatusCode::UNAUTHORIZED, Box::new(problem("invalid_client"))),
        (
            "login-anonymous-missing-params.json",
            StatusCode::BAD_REQUEST,
            Box::new(|b| {
                let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
                fields == ["tenant", "client_id"]
            }),
        ),
        ("login-anonymous-refresh-get.json", StatusCode::OK, Box::new(has_token_set)),
        ("login-anonymous-refresh-post.json", StatusCode::OK, Box::new(has_token_set)),
        ("login-anonymous-refresh-reused.json", StatusCode::UNAUTHORIZED, Box::new(problem("invalid_refresh_token"))),
        (
            "login-customer.json",
            StatusCode::OK,
            Box::new(|b| {
                has_token_set(b)
                    && b["customerId"].is_string()
                    && b["session_id"] == b["sessionId"]
                    && b["initialPassword"] == false
            }),
        ),
        ("login-customer-by-id.json", StatusCode::OK, Box::new(|b| has_token_set(b) && b["customerId"].is_string())),
        ("login-customer-wrong-password.json", StatusCode::UNAUTHORIZED, Box::new(problem("invalid_credentials"))),
        (
            "login-customer-missing-fields.json",
            StatusCode::BAD_REQUEST,
            Box::new(|b| {
                let fields: Vec<_> = b["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
                fields == ["email", "password"]
            }),
        ),
        ("login-customer-no-token.json", StatusCode::UNAUTHORIZED, Box::new(problem("missing_token"))),
        ("login-customer-wrong-tenant.json", StatusCode::FORBIDDEN, Box::new(problem("wrong_tenant"))),
        ("login-refresh.json", StatusCode::OK, Box::new(|b| has_token_set(b) && b["customerId"].is_string())),
        (
            "login-refresh-missing-token.json",
            StatusCode::BAD_REQUEST,
            Box::new(|b| b["errors"][0]["field"] == "refresh_token"),
        ),
        (
            "login-validate.json",
            StatusCode::OK,
            Box::new(|b| {
                b["email"] == EMAIL
                    && b["customerId"].is_string()
                    && b["sessionId"].is_string()
                    && b["token_type"] == "Bearer"
            }),
        ),
        ("login-validate-bad-token.json", StatusCode::UNAUTHORIZED, Box::new(problem("invalid_token"))),
        ("login-logout.json", StatusCode::NO_CONTENT, Box::new(Value::is_null)),
        ("login-logout-anonymous.json", StatusCode::FORBIDDEN, Box::new(problem("customer_token_required"))),
        (
            "login-sessions-list.json",
            StatusCode::OK,
            Box::new(|b| {
                let list = b.as_array().unwrap();
                list.len() >= 2
                    && list.iter().filter(|s| s["current"] == true).count() == 1
                    && list[0]["createdAt"].is_string()
            }),
        ),
        ("login-session-delete.json", StatusCode::NO_CONTENT, Box::new(Value::is_null)),
        ("login-session-delete-unknown.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
        (
            "login-openid-configuration.json",
            StatusCode::OK,
            Box::new(|b| {
                b["issuer"] == "https://accounts.test/customer/demo"
                    && b["jwks_uri"] == "https://accounts.test/.well-known/jwks.json"
            }),
        ),
        ("login-openid-configuration-unknown-tenant.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
        (
            "login-jwks.json",
            StatusCode::OK,
            Box::new(|b| b["keys"][0]["kty"] == "RSA" && b["keys"][0]["kid"].is_string()),
        ),
    ];

    for (name, status, check) in cases {
        let values = Values::prepare(&app, &customer_id).await;
        let reply = invoke(login::router(app.state.clone()), name, &values.as_refs()).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert!(check(&reply.body), "{name}: unexpected body {}", reply.body);
        let request_id = format!("fixture-{}", name.trim_end_matches(".json"));
        assert_eq!(reply.headers["x-request-id"], request_id.as_str(), "{name}: x-request-id is API Gateway's");
        let content_type = reply.headers.get("content-type").map(|v| v.to_str().unwrap().to_owned());
        if status.is_client_error() {
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{name}");
        }
    }
}
