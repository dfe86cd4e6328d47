//! Every address-route fixture in `events/`, through `lambda_http::request::from_str`
//! into the `addresses` function's router, against DynamoDB Local.

use http::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;
use tests::fixtures::{error_fields, invoke, problem};

const PASSWORD: &str = "fixture-password-2026";

fn address(street: &str) -> Value {
    json!({"street": street, "zipCode": "10115", "city": "Berlin", "country": "DE"})
}

async fn customer_token(app: &TestApp, email: &str) -> String {
    app.create_customer(email, PASSWORD).await;
    app.login(email, PASSWORD).await.field("access_token")
}

async fn add_address(app: &TestApp, token: &str, body: Value) -> String {
    let reply = app.post("/customer/demo/me/addresses", Some(token), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.field("id")
}

#[tokio::test]
async fn every_addresses_fixture_answers_as_documented() {
    let app = TestApp::new().await;
    let token = customer_token(&app, "ann@example.com").await;
    let first = add_address(&app, &token, address("First Street")).await;
    let second = add_address(&app, &token, address("Second Street")).await;
    let third = add_address(&app, &token, address("Third Street")).await;
    let other_token = customer_token(&app, "bob@example.com").await;
    let other = add_address(&app, &other_token, address("Bob Street")).await;
    let full_token = customer_token(&app, "full@example.com").await;
    for i in 0..50 {
        add_address(&app, &full_token, address(&format!("Street {i}"))).await;
    }
    let anonymous = app.anonymous().await.field("access_token");
    let values = [
        ("CUSTOMER_TOKEN", token.as_str()),
        ("ANONYMOUS_TOKEN", anonymous.as_str()),
        ("FULL_BOOK_TOKEN", full_token.as_str()),
        ("ADDRESS_ID", first.as_str()),
        ("SECOND_ADDRESS_ID", second.as_str()),
        ("THIRD_ADDRESS_ID", third.as_str()),
        ("OTHER_ADDRESS_ID", other.as_str()),
    ];

    type Check = Box<dyn Fn(&Value) -> bool>;
    // In order: later cases see what earlier ones changed.
    let cases: Vec<(&str, StatusCode, Check)> = vec![
        (
            "addresses-list.json",
            StatusCode::OK,
            Box::new({
                let ids = [first.clone(), second.clone(), third.clone()];
                move |b| {
                    let list = b.as_array().unwrap();
                    list.iter().map(|a| a["id"].as_str().unwrap()).eq(ids.iter().map(String::as_str))
                        && list.iter().map(|a| a["isDefault"] == true).eq([true, false, false])
                        && list[0]["metadata"]["version"] == 1
                        && list[0]["metadata"]["createdAt"].is_string()
                }
            }),
        ),
        ("addresses-list-no-token.json", StatusCode::UNAUTHORIZED, Box::new(problem("missing_token"))),
        ("addresses-list-anonymous.json", StatusCode::FORBIDDEN, Box::new(problem("customer_token_required"))),
        ("addresses-create.json", StatusCode::CREATED, Box::new(|b| b["id"].as_str().is_some_and(|id| id.len() == 32))),
        (
            "addresses-create-invalid.json",
            StatusCode::BAD_REQUEST,
            Box::new(|b| error_fields(b) == ["city", "colour", "country", "street", "tags", "zipCode"]),
        ),
        (
            "addresses-create-over-limit.json",
            StatusCode::UNPROCESSABLE_ENTITY,
            Box::new(problem("address_limit_reached")),
        ),
        (
            "addresses-fields.json",
            StatusCode::OK,
            Box::new(|b| {
                let fields = b["fields"].as_array().unwrap();
                let street = fields.iter().find(|f| f["field"] == "street").unwrap();
                let tags = fields.iter().find(|f| f["field"] == "tags").unwrap();
                fields.len() == shared::address::ADDRESS_FIELDS.len()
                    && *street == json!({"field": "street", "type": "string", "required": true, "maxLength": 200})
                    && tags["allowedValues"] == json!(["BILLING", "SHIPPING"])
            }),
        ),
        ("addresses-fields-bad-tenant.json", StatusCode::BAD_REQUEST, Box::new(|b| error_fields(b) == ["tenant"])),
        (
            "addresses-get.json",
            StatusCode::OK,
            Box::new({
                let first = first.clone();
                move |b| {
                    b["id"] == first.as_str()
                        && b["street"] == "First Street"
                        && b["country"] == "DE"
                        && b["isDefault"] == true
                        && b["metadata"]["version"] == 1
                }
            }),
        ),
        ("addresses-get-unknown.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
        ("addresses-get-other-customer.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
        (
            "addresses-patch.json",
            StatusCode::OK,
            Box::new(|b| {
                b["city"] == "Hamburg"
                    && b["zipCode"] == "20095"
                    && b["street"] == "First Street"
                    && b["metadata"]["version"] == 2
                    && b["isDefault"] == true
            }),
        ),
        (
            "addresses-patch-stale.json",
            StatusCode::CONFLICT,
            Box::new(|b| problem("version_conflict")(b) && b["currentVersion"] == 2),
        ),
        (
            "addresses-patch-invalid.json",
            StatusCode::BAD_REQUEST,
            Box::new(|b| error_fields(b) == ["country", "metadata.version", "tags"]),
        ),
        (
            "addresses-patch-undefault.json",
            StatusCode::UNPROCESSABLE_ENTITY,
            Box::new(|b| problem("default_address_required")(b) && error_fields(b) == ["isDefault"]),
        ),
        (
            // The Emporix seed's update: the whole address, no `metadata.version`
            // (last writer wins), empty strings kept.
            "addresses-patch-seed.json",
            StatusCode::OK,
            Box::new({
                let first = first.clone();
                move |b| {
                    b["id"] == first.as_str()
                        && b["streetNumber"] == "2"
                        && b["extraLine3"] == ""
                        && b["isDefault"] == true
                        && b["metadata"]["version"] == 3
                }
            }),
        ),
        (
            "addresses-patch-make-default.json",
            StatusCode::OK,
            Box::new({
                let second = second.clone();
                move |b| b["id"] == second.as_str() && b["isDefault"] == true && b["metadata"]["version"] == 2
            }),
        ),
        ("addresses-patch-other-customer.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
        (
            "addresses-put.json",
            StatusCode::OK,
            Box::new(|b| {
                b["city"] == "Paris"
                    && b["country"] == "FR"
                    && b["tags"] == json!(["SHIPPING"])
                    && b["isDefault"] == false
                    && b["metadata"]["version"] == 2
            }),
        ),
        (
            "addresses-put-invalid.json",
            StatusCode::BAD_REQUEST,
            Box::new(|b| error_fields(b) == ["country", "street", "zipCode"]),
        ),
        ("addresses-put-other-customer.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
        ("addresses-delete.json", StatusCode::NO_CONTENT, Box::new(Value::is_null)),
        ("addresses-delete-other-customer.json", StatusCode::NOT_FOUND, Box::new(problem("not_found"))),
    ];
    for (name, status, check) in cases {
        let reply = invoke(addresses::router(app.state.clone()), name, &values).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert!(check(&reply.body), "{name}: unexpected body {}", reply.body);
    }

    // What the fixtures changed, seen through the API.
    let list = app.get("/customer/demo/me/addresses", Some(&token)).await.body;
    let defaults: Vec<_> = list.as_array().unwrap().iter().filter(|a| a["isDefault"] == true).collect();
    assert_eq!(defaults.len(), 1, "{list}");
    assert_eq!(defaults[0]["id"], second.as_str());
    assert!(list.as_array().unwrap().iter().all(|a| a["id"] != third.as_str()), "third was deleted");
    let bob = app.get(&format!("/customer/demo/me/addresses/{other}"), Some(&other_token)).await;
    assert_eq!(
        (bob.status, bob.body["street"].clone()),
        (StatusCode::OK, json!("Bob Street")),
        "B's address untouched"
    );
}
