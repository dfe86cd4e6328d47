//! Every seed-dialect fixture in `events/` (Moltin v1 `moltin-*`, retailer
//! `retailer-*`), through `lambda_http::request::from_str` into the router
//! of the function template.yaml maps it to, against DynamoDB Local. Moltin
//! errors come in the seed's envelope, so these answers are checked here
//! rather than by `Case::run` (which expects problem+json for errors).

use axum::Router;
use http::StatusCode;
use serde_json::Value;
use tests::TestApp;
use tests::fixtures::{Values, invoke};

const EMAIL: &str = "fixture@example.com";
const PASSWORD: &str = "fixture-password-2026";

/// A Moltin token of the fixture customer, with one address, and a customer
/// access token: fresh for each fixture.
async fn prepare(app: &TestApp) -> Values {
    let shop = app.anonymous().await.field("access_token");
    let body = serde_json::json!({"email": EMAIL, "password": PASSWORD});
    let login = app.post("/demo/v1/customers/token", Some(&shop), body).await;
    let token = login.body["result"]["token"].as_str().expect("a Moltin token").to_owned();
    let address = serde_json::json!({"street": "Main St", "zipCode": "10115", "city": "Berlin", "country": "DE"});
    let created = app.post(&format!("/demo/v1/customers/{token}/addresses"), Some(&shop), address).await;
    let address_id = created.body["result"]["id"].as_str().expect("an address").to_owned();
    Values(vec![
        ("ANONYMOUS_TOKEN", app.anonymous().await.field("access_token")),
        ("MOLTIN_TOKEN", token),
        ("ADDRESS_ID", address_id),
        ("CUSTOMER_TOKEN", app.login(EMAIL, PASSWORD).await.field("access_token")),
    ])
}

fn envelope(body: &Value) -> bool {
    body["status"] == true && !body["result"].is_null()
}

fn envelope_error(body: &Value) -> bool {
    body["status"] == false && body["errors"].as_array().is_some_and(|e| !e.is_empty())
}

#[tokio::test]
async fn every_dialect_fixture_answers_as_documented() {
    let app = TestApp::new().await;
    app.create_customer(EMAIL, PASSWORD).await;
    let state = app.state.clone();
    let login = || login::router(state.clone());
    let profile = || profile::router(state.clone());
    let addresses = || addresses::router(state.clone());
    let activation = || activation::router(state.clone());
    let reset = || password_reset::router(state.clone());
    type Check = fn(&Value) -> bool;
    let cases: Vec<(&str, Router, StatusCode, Check)> = vec![
        ("moltin-token.json", login(), StatusCode::OK, |b| envelope(b) && b["result"]["token"].is_string()),
        ("moltin-token-missing-fields.json", login(), StatusCode::BAD_REQUEST, |b| {
            envelope_error(b) && b["errors"].as_array().unwrap().len() == 2
        }),
        ("moltin-logout.json", login(), StatusCode::OK, |b| b["result"]["deleted"] == true),
        ("moltin-customer.json", profile(), StatusCode::OK, |b| envelope(b) && b["result"]["email"] == EMAIL),
        ("moltin-customer-delete.json", profile(), StatusCode::FORBIDDEN, envelope_error),
        ("moltin-orders.json", profile(), StatusCode::NOT_IMPLEMENTED, |b| b["code"] == "not_implemented"),
        ("moltin-order.json", profile(), StatusCode::NOT_IMPLEMENTED, |b| b["code"] == "not_implemented"),
        ("moltin-order-items.json", profile(), StatusCode::NOT_IMPLEMENTED, |b| b["code"] == "not_implemented"),
        ("moltin-addresses.json", addresses(), StatusCode::OK, |b| envelope(b) && b["result"].is_array()),
        ("moltin-address-create.json", addresses(), StatusCode::CREATED, |b| {
            envelope(b) && b["result"]["id"].is_string()
        }),
        ("moltin-address-fields.json", addresses(), StatusCode::OK, |b| b["result"]["fields"].is_array()),
        ("moltin-address.json", addresses(), StatusCode::OK, |b| b["result"]["city"] == "Berlin"),
        ("moltin-address-replace.json", addresses(), StatusCode::OK, |b| b["result"]["city"] == "Hamburg"),
        ("moltin-address-values.json", addresses(), StatusCode::OK, |b| {
            b["result"]["fields"].as_array().unwrap().iter().any(|f| f["field"] == "city" && f["value"] == "Berlin")
        }),
        ("retailer-login.json", login(), StatusCode::OK, |b| b["token"].is_string()),
        ("retailer-self.json", profile(), StatusCode::OK, |b| b["email"] == EMAIL && b["mobile"].is_null()),
        ("retailer-self-patch.json", profile(), StatusCode::OK, |b| {
            b["name"] == "Fixture Person" && b["address"] == "Main St 1" && b["mobile"] == "+49 170 1"
        }),
        ("retailer-self-delete.json", profile(), StatusCode::BAD_REQUEST, |b| b["errors"][0]["field"] == "password"),
        ("retailer-newemail-confirm.json", activation(), StatusCode::BAD_REQUEST, |b| b["code"] == "invalid_token"),
        ("retailer-activate.json", activation(), StatusCode::BAD_REQUEST, |b| b["status"] == 400),
        ("retailer-password-reset.json", reset(), StatusCode::ACCEPTED, |b| b["result"] == "email_sent"),
        ("retailer-do-reset.json", reset(), StatusCode::BAD_REQUEST, |b| b["code"] == "invalid_token"),
    ];
    for (name, router, status, check) in cases {
        let values = prepare(&app).await;
        let reply = invoke(router, name, &values).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert!(check(&reply.body), "{name}: {}", reply.body);
        let request_id = format!("fixture-{}", name.trim_end_matches(".json"));
        assert_eq!(reply.headers["x-request-id"], request_id.as_str(), "{name}");
    }
}
