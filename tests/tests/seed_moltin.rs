//! The Moltin v1 "Customer Tokens" seed (`../shared/seeds/000_…`), called as
//! a storefront written from it calls: the seed's curl lines verbatim (form
//! bodies as `curl -d` sends them: joined with `&`, not encoded), with only
//! the base URL (`{base}/{tenant}`), the bearer (the storefront's anonymous
//! token, what Moltin's public key stood for) and the token from the login
//! replaced. The seed's customer is an imported Moltin customer: its
//! numeric id and its password hash came along, so the seed's
//! `supersecret` logs it in. Each answer is checked for status, envelope
//! and every field the seed shows, with the seed's JSON type.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::Password;
use shared::services::dialects::moltin::{BAD_TOKEN, INCORRECT, NO_IDENTIFIER, NO_PASSWORD};
use tests::seeds::{SeedBody, assert_seed_shape, bearer, call};
use tests::{Reply, TestApp};

const EMAIL: &str = "support@moltin.com";
const PASSWORD: &str = "supersecret";
const ID: &str = "1055961503028478872";

/// The seed's successful login answer, as it prints it.
fn seed_login() -> Value {
    json!({"status": true, "result": {"email": "support@moltin.com", "group": "", "password": true,
        "last_name": "Doe", "first_name": "John", "id": 1055961503028478872u64,
        "token": "202d4b0f08fff904601c9c74cd550156242cbf538aca95f9145d7d38615f8ff3"}})
}

/// The seed's customer, imported from Moltin with its id and password hash.
async fn app_with_seed_customer() -> TestApp {
    let app = TestApp::new().await;
    let hash = shared::passwords::hash(&Password::parse(PASSWORD.into()).unwrap()).await.unwrap();
    let line = json!({"id": ID, "email": EMAIL, "passwordHash": hash, "firstName": "John", "lastName": "Doe"});
    let records = shared::services::import::parse(&line.to_string()).expect("the import line is good");
    shared::services::import::import(app.store(), &app.tenant, &records).await.expect("imported");
    app
}

/// `Authorization: Bearer XXXX`: the storefront's anonymous token.
async fn storefront_bearer(app: &TestApp) -> String {
    bearer(&app.anonymous().await.field("access_token"))
}

/// The seed's login line: `-d "password=supersecret" -d "email=support@moltin.com"`.
async fn seed_token_call(app: &TestApp, auth: &str) -> Reply {
    let form = SeedBody::Form(&["password=supersecret", "email=support@moltin.com"]);
    call(app, Method::POST, "/demo/v1/customers/token", &[("Authorization", auth)], form).await
}

#[track_caller]
fn assert_envelope_error(reply: &Reply, status: StatusCode, errors: &[&str]) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.body, json!({"status": false, "errors": errors}));
}

#[tokio::test]
async fn customer_tokens_as_the_seed_calls_them() {
    let app = app_with_seed_customer().await;

    // "If you don't supply the required fields, you will receive a combination of errors".
    let auth = storefront_bearer(&app).await;
    let empty = call(&app, Method::POST, "/demo/v1/customers/token", &[("Authorization", &auth)], SeedBody::None).await;
    assert_envelope_error(&empty, StatusCode::BAD_REQUEST, &[NO_PASSWORD, NO_IDENTIFIER]);
    let only_email = SeedBody::Form(&["email=support@moltin.com"]);
    let reply = call(&app, Method::POST, "/demo/v1/customers/token", &[("Authorization", &auth)], only_email).await;
    assert_envelope_error(&reply, StatusCode::BAD_REQUEST, &[NO_PASSWORD]);

    // "If the combination of user identifier and password are incorrect": the same for an unknown customer.
    let wrong = SeedBody::Form(&["password=notsosecret", "email=support@moltin.com"]);
    let reply = call(&app, Method::POST, "/demo/v1/customers/token", &[("Authorization", &auth)], wrong).await;
    assert_envelope_error(&reply, StatusCode::UNAUTHORIZED, &[INCORRECT]);
    let unknown = SeedBody::Form(&["password=supersecret", "email=nobody@moltin.com"]);
    let reply = call(&app, Method::POST, "/demo/v1/customers/token", &[("Authorization", &auth)], unknown).await;
    assert_envelope_error(&reply, StatusCode::UNAUTHORIZED, &[INCORRECT]);

    // "If the credentials can be used to authenticate the user".
    let login = seed_token_call(&app, &auth).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_seed_shape("token", &login.body, &seed_login());
    let result = &login.body["result"];
    assert_eq!(result["id"], json!(1055961503028478872u64), "the imported numeric id, as a number");
    assert_eq!((result["email"].clone(), result["first_name"].clone()), (json!(EMAIL), json!("John")));
    let token = result["token"].as_str().unwrap().to_owned();
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    // The login spent the storefront session (as every login does); the bearer still names the shop.

    // By id, as a JSON number, on a fresh storefront session.
    let auth_2 = storefront_bearer(&app).await;
    let headers = [("Authorization", auth_2.as_str()), ("Content-Type", "application/json")];
    let by_id = json!({"id": 1055961503028478872u64, "password": PASSWORD});
    let reply = call(&app, Method::POST, "/demo/v1/customers/token", &headers, SeedBody::Json(by_id)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_ne!(reply.body["result"]["token"], json!(token), "each login its own token");

    // "Making calls on behalf of the customer".
    let read = [("Authorization", auth.as_str())];
    let me = call(&app, Method::GET, &format!("/demo/v1/customers/{token}"), &read, SeedBody::None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let mut seed_customer = seed_login();
    seed_customer["result"].as_object_mut().unwrap().remove("token");
    assert_seed_shape("customer", &me.body, &seed_customer);
    assert!(me.body["result"].get("token").is_none(), "the token is not echoed");

    // Addresses: form-encoded as curl sends it, then JSON.
    let base = format!("/demo/v1/customers/{token}/addresses");
    let form = SeedBody::Form(&[
        "contactName=John Doe",
        "street=Main Street",
        "streetNumber=1",
        "zipCode=10115",
        "city=Berlin",
        "country=DE",
        "tags=BILLING,SHIPPING",
    ]);
    let created = call(&app, Method::POST, &base, &read, form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], true);
    let address = &created.body["result"];
    assert_eq!((address["isDefault"].clone(), address["tags"].clone()), (json!(true), json!(["BILLING", "SHIPPING"])));
    let id = address["id"].as_str().unwrap().to_owned();
    let list = call(&app, Method::GET, &base, &read, SeedBody::None).await;
    assert_eq!((list.status, list.body["result"][0]["id"].clone()), (StatusCode::OK, json!(id)));
    let fields = call(&app, Method::GET, &format!("{base}/fields"), &read, SeedBody::None).await;
    assert_eq!(fields.status, StatusCode::OK);
    let names: Vec<&str> =
        fields.body["result"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(names.contains(&"street") && names.contains(&"country"), "{names:?}");
    let one = call(&app, Method::GET, &format!("{base}/{id}"), &read, SeedBody::None).await;
    assert_eq!((one.status, one.body["result"]["city"].clone()), (StatusCode::OK, json!("Berlin")));
    let write = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let whole =
        json!({"street": "Main Street", "streetNumber": "2", "zipCode": "10115", "city": "Berlin", "country": "DE"});
    let put = call(&app, Method::PUT, &format!("{base}/{id}"), &write, SeedBody::Json(whole)).await;
    assert_eq!((put.status, put.body["result"]["streetNumber"].clone()), (StatusCode::OK, json!("2")));
    let filled = call(&app, Method::GET, &format!("{base}/{id}/fields"), &read, SeedBody::None).await;
    let street_number = filled.body["result"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "streetNumber")
        .unwrap()
        .clone();
    assert_eq!(street_number["value"], "2", "{}", filled.body);
    let bad = json!({"street": "Main Street", "country": "XX"});
    let refused = call(&app, Method::PUT, &format!("{base}/{id}"), &write, SeedBody::Json(bad)).await;
    assert_eq!((refused.status, refused.body["status"].clone()), (StatusCode::BAD_REQUEST, json!(false)));
    assert_eq!(refused.body["errors"].as_array().unwrap().len(), 3, "zipCode, city and country: {}", refused.body);

    // Orders belong to the order service: a clear 501 problem, on each of the seed's order routes.
    for path in ["orders", "orders/42", "orders/42/items"] {
        let reply = call(&app, Method::GET, &format!("/demo/v1/customers/{token}/{path}"), &read, SeedBody::None).await;
        reply.assert_problem(StatusCode::NOT_IMPLEMENTED, "not_implemented");
        assert!(reply.body["detail"].as_str().unwrap().contains("order service"), "{}", reply.body);
    }

    // Without the storefront's bearer, or with a token nobody issued.
    let reply = call(&app, Method::GET, &format!("/demo/v1/customers/{token}"), &[], SeedBody::None).await;
    assert_envelope_error(
        &reply,
        StatusCode::UNAUTHORIZED,
        &[&shared::ApiError::Unauthorized("missing_token").detail()],
    );
    let nobody = "0".repeat(64);
    let reply = call(&app, Method::GET, &format!("/demo/v1/customers/{nobody}"), &read, SeedBody::None).await;
    assert_envelope_error(&reply, StatusCode::UNAUTHORIZED, &[BAD_TOKEN]);

    // "Log a customer out": the token, and the session it stood for, end.
    let path = format!("/demo/v1/customers/token/{token}");
    let logout = call(&app, Method::DELETE, &path, &read, SeedBody::None).await;
    assert_eq!(
        (logout.status, logout.body.clone()),
        (StatusCode::OK, json!({"status": true, "result": {"deleted": true}}))
    );
    let after = call(&app, Method::GET, &format!("/demo/v1/customers/{token}"), &read, SeedBody::None).await;
    assert_envelope_error(&after, StatusCode::UNAUTHORIZED, &[BAD_TOKEN]);
    let again = call(&app, Method::DELETE, &path, &read, SeedBody::None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_customer_needs_the_password_and_ends_every_token() {
    let app = app_with_seed_customer().await;
    let auth = storefront_bearer(&app).await;
    let token = seed_token_call(&app, &auth).await.body["result"]["token"].as_str().unwrap().to_owned();
    let path = format!("/demo/v1/customers/{token}");
    let headers = [("Authorization", auth.as_str())];

    let no_password = call(&app, Method::DELETE, &path, &headers, SeedBody::None).await;
    assert_eq!((no_password.status, no_password.body["status"].clone()), (StatusCode::BAD_REQUEST, json!(false)));
    let wrong = call(&app, Method::DELETE, &path, &headers, SeedBody::Form(&["password=notsosecret"])).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
    let deleted = call(&app, Method::DELETE, &path, &headers, SeedBody::Form(&["password=supersecret"])).await;
    assert_eq!(
        (deleted.status, deleted.body.clone()),
        (StatusCode::OK, json!({"status": true, "result": {"deleted": true}}))
    );

    assert_envelope_error(
        &call(&app, Method::GET, &path, &headers, SeedBody::None).await,
        StatusCode::UNAUTHORIZED,
        &[BAD_TOKEN],
    );
    let auth = storefront_bearer(&app).await;
    assert_envelope_error(&seed_token_call(&app, &auth).await, StatusCode::UNAUTHORIZED, &[INCORRECT]);
}

#[tokio::test]
async fn a_password_change_elsewhere_ends_the_token_and_the_lockout_holds() {
    let app = app_with_seed_customer().await;
    let auth = storefront_bearer(&app).await;
    let token = seed_token_call(&app, &auth).await.body["result"]["token"].as_str().unwrap().to_owned();

    // The same customer changes the password through the Emporix routes: every other session ends.
    let access = app.login(EMAIL, PASSWORD).await.field("access_token");
    let change = json!({"currentPassword": PASSWORD, "newPassword": "violet tundra maple lantern 2026"});
    assert_eq!(
        app.post("/customer/demo/me/password/change", Some(&access), change).await.status,
        StatusCode::NO_CONTENT
    );
    let path = format!("/demo/v1/customers/{token}");
    let reply = call(&app, Method::GET, &path, &[("Authorization", auth.as_str())], SeedBody::None).await;
    assert_envelope_error(&reply, StatusCode::UNAUTHORIZED, &[BAD_TOKEN]);

    // The account's lock-out counts Moltin logins as any other: after the threshold, 429.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let auth = storefront_bearer(&app).await;
        let wrong = SeedBody::Form(&["password=notsosecret", "email=support@moltin.com"]);
        statuses.push(call(&app, Method::POST, "/demo/v1/customers/token", &[("Authorization", &auth)], wrong).await);
    }
    let last = statuses.last().unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.body);
    assert_eq!(last.body["status"], false);
    assert!(last.headers.contains_key("retry-after"));
}
