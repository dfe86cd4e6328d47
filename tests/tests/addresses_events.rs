//! Every address-route fixture in `events/`, through `lambda_http::request::from_str`
//! into the `addresses` function's router, against DynamoDB Local.

use http::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;
use tests::fixtures::{case, error_fields, includes, problem, run_cases};

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

    // In order: later cases see what earlier ones changed.
    let cases = vec![
        case("addresses-list.json", StatusCode::OK, {
            let ids = [first.clone(), second.clone(), third.clone()];
            move |b| {
                let list = b.as_array().unwrap();
                list.iter().map(|a| a["id"].as_str().unwrap()).eq(ids.iter().map(String::as_str))
                    && list.iter().map(|a| a["isDefault"] == true).eq([true, false, false])
                    && list[0]["metadata"]["version"] == 1
                    && list[0]["metadata"]["createdAt"].is_string()
            }
        }),
        case("addresses-list-no-token.json", StatusCode::UNAUTHORIZED, problem("missing_token")),
        case("addresses-list-anonymous.json", StatusCode::FORBIDDEN, problem("customer_token_required")),
        case("addresses-create.json", StatusCode::CREATED, |b| b["id"].as_str().is_some_and(|id| id.len() == 32)),
        case("addresses-create-invalid.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b) == ["city", "colour", "country", "street", "tags", "zipCode"]
        }),
        case("addresses-create-over-limit.json", StatusCode::UNPROCESSABLE_ENTITY, problem("address_limit_reached")),
        case("addresses-fields.json", StatusCode::OK, |b| {
            let fields = b["fields"].as_array().unwrap();
            let street = fields.iter().find(|f| f["field"] == "street").unwrap();
            let tags = fields.iter().find(|f| f["field"] == "tags").unwrap();
            fields.len() == shared::address::ADDRESS_FIELDS.len()
                && *street == json!({"field": "street", "type": "string", "required": true, "maxLength": 200})
                && tags["allowedValues"] == json!(["BILLING", "SHIPPING"])
        }),
        case("addresses-fields-bad-tenant.json", StatusCode::BAD_REQUEST, |b| error_fields(b) == ["tenant"]),
        case(
            "addresses-get.json",
            StatusCode::OK,
            includes(json!({"id": &first, "street": "First Street", "country": "DE", "isDefault": true,
                "metadata": {"version": 1}})),
        ),
        case("addresses-get-unknown.json", StatusCode::NOT_FOUND, problem("not_found")),
        case("addresses-get-other-customer.json", StatusCode::NOT_FOUND, problem("not_found")),
        case(
            "addresses-patch.json",
            StatusCode::OK,
            includes(json!({"city": "Hamburg", "zipCode": "20095", "street": "First Street",
                "metadata": {"version": 2}, "isDefault": true})),
        ),
        case("addresses-patch-stale.json", StatusCode::CONFLICT, |b| {
            problem("version_conflict")(b) && b["currentVersion"] == 2
        }),
        case("addresses-patch-invalid.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b) == ["country", "metadata.version", "tags"]
        }),
        case("addresses-patch-undefault.json", StatusCode::UNPROCESSABLE_ENTITY, |b| {
            problem("default_address_required")(b) && error_fields(b) == ["isDefault"]
        }),
        case(
            // The Emporix seed's update: the whole address, no `metadata.version`
            // (last writer wins), empty strings kept.
            "addresses-patch-seed.json",
            StatusCode::OK,
            includes(json!({"id": &first, "streetNumber": "2", "extraLine3": "", "isDefault": true,
                "metadata": {"version": 3}})),
        ),
        case(
            "addresses-patch-make-default.json",
            StatusCode::OK,
            includes(json!({"id": &second, "isDefault": true, "metadata": {"version": 2}})),
        ),
        case("addresses-patch-other-customer.json", StatusCode::NOT_FOUND, problem("not_found")),
        case(
            "addresses-put.json",
            StatusCode::OK,
            includes(json!({"city": "Paris", "country": "FR", "tags": ["SHIPPING"], "isDefault": false,
                "metadata": {"version": 2}})),
        ),
        case("addresses-put-invalid.json", StatusCode::BAD_REQUEST, |b| {
            error_fields(b) == ["country", "street", "zipCode"]
        }),
        case("addresses-put-other-customer.json", StatusCode::NOT_FOUND, problem("not_found")),
        case("addresses-delete.json", StatusCode::NO_CONTENT, Value::is_null),
        case("addresses-delete-other-customer.json", StatusCode::NOT_FOUND, problem("not_found")),
    ];
    run_cases(|| addresses::router(app.state.clone()), &values, cases).await;

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
