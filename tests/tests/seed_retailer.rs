//! The retailer `customers/self` seed (`../shared/seeds/001_…`), called as a
//! client written from it calls: every example body verbatim, with only
//! the base URL (`{base}/{tenant}`), the e-mail addresses and ids of
//! earlier steps, and — where the seed sets a password — a strong one
//! replaced. Routes the seed marks "None." are called without a token; the
//! login, which the seed shows without one, too. Each answer is checked for
//! status and for every field the seed shows, with the seed's JSON type.
//! The last test is one customer using all three seed dialects in turn.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::services::dialects::moltin::BAD_TOKEN;
use tests::seeds::{SeedBody, assert_seed_shape, bearer, call};
use tests::{Reply, TestApp};

const EMAIL: &str = "testemail@mycompany.com";
const NEW_EMAIL: &str = "myname@mycompany.com";
/// In place of the seed's `MyP4ssw0rd` and `aAy1wweFw`, which the password
/// policy refuses (422, as in every dialect).
const STRONG: &str = "violet tundra maple lantern 2026";

fn seed_self() -> Value {
    json!({"address": null, "mobile": null, "phone": null, "name": "Test Name", "country": null,
        "address_town": null, "address_postcode": null, "email": "testemail@mycompany.com", "id": "58937470420006",
        "subscriptions": [], "address_region": null})
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

async fn seed_login(app: &TestApp, email: &str, password: &str) -> Reply {
    let body = json!({"email": email, "password": password});
    call(app, Method::POST, "/demo/customers/login", &[JSON], SeedBody::Json(body)).await
}

/// "Require authorization.": the login's token as the bearer.
async fn logged_in(app: &TestApp, email: &str, password: &str) -> String {
    let login = seed_login(app, email, password).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_seed_shape("login", &login.body, &json!({"token": "12345abcdef"}));
    bearer(&login.field("token"))
}

#[tokio::test]
async fn customer_area_as_the_seed_calls_it() {
    let app = TestApp::with_customer(EMAIL, STRONG).await;

    // POST /customers/login, without any token.
    let auth = logged_in(&app, EMAIL, STRONG).await;
    let wrong = seed_login(&app, EMAIL, "MyP4ssw0rd").await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown = seed_login(&app, "nobody@mycompany.com", "MyP4ssw0rd").await;
    unknown.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");

    // GET /customers/self: a customer without address, phone or mobile shows the seed's nulls.
    let me = call(&app, Method::GET, "/demo/customers/self", &[("Authorization", &auth)], SeedBody::None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_seed_shape("self", &me.body, &seed_self());
    assert_eq!((me.field("name"), me.field("email")), ("Test Customer".to_owned(), EMAIL.to_owned()));
    let no_token = call(&app, Method::GET, "/demo/customers/self", &[], SeedBody::None).await;
    no_token.assert_problem(StatusCode::UNAUTHORIZED, "missing_token");

    // PATCH /customers/self with the seed's body (our id): `name` lands on the profile.
    let mut body = seed_self();
    body["id"] = me.body["id"].clone();
    let headers = [("Authorization", auth.as_str()), JSON];
    let patched = call(&app, Method::PATCH, "/demo/customers/self", &headers, SeedBody::Json(body)).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_seed_shape("patched", &patched.body, &seed_self());
    assert_eq!(patched.body["name"], "Test Name");

    // Every flat field: the address ones create the default address.
    let body = json!({"name": "Ann Marie Lee", "phone": "+49 30 1234", "mobile": "+49 170 5678", "address": "Hauptstr. 5",
        "address_town": "Berlin", "address_postcode": "10115", "address_region": "Berlin", "country": "DE"});
    let patched = call(&app, Method::PATCH, "/demo/customers/self", &headers, SeedBody::Json(body.clone())).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    for (key, value) in body.as_object().unwrap() {
        assert_eq!(&patched.body[key], value, "{key}");
    }
    // Unknown fields and a bad country are named, in the seed's field names.
    let bad = json!({"country": "XX", "nickname": "Ann"});
    let refused = call(&app, Method::PATCH, "/demo/customers/self", &headers, SeedBody::Json(bad)).await;
    refused.assert_problem(StatusCode::BAD_REQUEST, "invalid_request");
    let mut fields = refused.error_fields();
    fields.sort();
    assert_eq!(fields, ["nickname"], "unknown fields first, before anything is written");
    let bad = json!({"country": "XX"});
    let refused = call(&app, Method::PATCH, "/demo/customers/self", &headers, SeedBody::Json(bad)).await;
    assert_eq!(refused.error_fields(), ["country"], "{}", refused.body);

    // A new e-mail (with the password) starts the change; POST /customers/newemail_confirm ("None.") ends it.
    let body = json!({"email": NEW_EMAIL, "password": STRONG});
    let started = call(&app, Method::PATCH, "/demo/customers/self", &headers, SeedBody::Json(body)).await;
    assert_eq!((started.status, started.field("email")), (StatusCode::OK, EMAIL.to_owned()), "{}", started.body);
    let link = app.latest_link(NEW_EMAIL, "key").expect("a key to the new address");
    let seed_example = json!({"identifier": "test-user-1", "key": "J32NA974R4F7N1HB"});
    let refused =
        call(&app, Method::POST, "/demo/customers/newemail_confirm", &[JSON], SeedBody::Json(seed_example)).await;
    refused.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    let confirm = json!({"identifier": link.identifier, "key": link.secret});
    let updated = call(&app, Method::POST, "/demo/customers/newemail_confirm", &[JSON], SeedBody::Json(confirm)).await;
    assert_eq!((updated.status, updated.body.clone()), (StatusCode::OK, json!({"result": "updated"})));

    // POST /customers/password_reset ("None."): the seed's relative reset_uri, resolved against the storefront.
    let body = json!({"email": NEW_EMAIL, "reset_uri": "/customers/do_reset"});
    let sent = call(&app, Method::POST, "/demo/customers/password_reset", &[JSON], SeedBody::Json(body)).await;
    assert_eq!((sent.status, sent.body.clone()), (StatusCode::ACCEPTED, json!({"result": "email_sent"})));
    let mail = app.mails_to(NEW_EMAIL).pop().unwrap();
    let prefix = "http://localhost:8080/customers/do_reset/";
    let link = mail["text"].as_str().unwrap().split_whitespace().find(|w| w.starts_with(prefix)).unwrap().to_owned();
    // "code - a token extracted from reset_link's path param".
    let code = link[prefix.len()..].split('?').next().unwrap().to_owned();
    let elsewhere = json!({"email": NEW_EMAIL, "reset_uri": "https://evil.example/customers/do_reset"});
    let refused = call(&app, Method::POST, "/demo/customers/password_reset", &[JSON], SeedBody::Json(elsewhere)).await;
    refused.assert_problem(StatusCode::BAD_REQUEST, "invalid_reset_uri");
    let unknown = json!({"email": "nobody@mycompany.com", "reset_uri": "/customers/do_reset"});
    let same = call(&app, Method::POST, "/demo/customers/password_reset", &[JSON], SeedBody::Json(unknown)).await;
    assert_eq!((same.status, same.body.clone()), (sent.status, sent.body.clone()), "no enumeration");

    // POST /customers/do_reset ("None."): a JWT signed with the code, holding the new passphrase.
    let body = json!({"email": NEW_EMAIL, "code": code});
    let reset = call(&app, Method::POST, "/demo/customers/do_reset", &[JSON], SeedBody::Json(body.clone())).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_seed_shape("do_reset", &reset.body, &json!({"token": "eyJhbGciOiJIUzI1NiJ9..."}));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_secret(code.as_bytes());
    let decoded = jsonwebtoken::decode::<Value>(reset.field("token"), &key, &validation).expect("signed with the code");
    assert_seed_shape("passphrase", &decoded.claims, &json!({"passphrase": "MyNewRandomP4ssw0rD"}));
    let passphrase = decoded.claims["passphrase"].as_str().unwrap().to_owned();
    let again = call(&app, Method::POST, "/demo/customers/do_reset", &[JSON], SeedBody::Json(body)).await;
    again.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    // The reset ended the session of before; the passphrase logs in.
    let old = call(&app, Method::GET, "/demo/customers/self", &[("Authorization", &auth)], SeedBody::None).await;
    old.assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    let auth = logged_in(&app, NEW_EMAIL, &passphrase).await;

    // DELETE /customers/self: with the password, as every dialect asks.
    let headers = [("Authorization", auth.as_str()), JSON];
    let refused = call(&app, Method::DELETE, "/demo/customers/self", &headers, SeedBody::None).await;
    assert_eq!(refused.error_fields(), ["password"]);
    let body = json!({"password": passphrase});
    let deleted = call(&app, Method::DELETE, "/demo/customers/self", &headers, SeedBody::Json(body)).await;
    assert_eq!((deleted.status, deleted.body.clone()), (StatusCode::OK, json!({"result": "deleted"})));
    seed_login(&app, NEW_EMAIL, &passphrase).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn activation_as_the_seed_calls_it() {
    let app = TestApp::new().await;
    // Signed up without a password (Emporix-style), so activation sets it.
    let anonymous = app.anonymous().await.field("access_token");
    let signup = json!({"email": EMAIL, "customerDetails": {"firstName": "Test", "lastName": "Name"}});
    assert_eq!(app.post("/customer/demo/signup", Some(&anonymous), signup).await.status, StatusCode::ACCEPTED);
    let link = app.latest_link(EMAIL, "secret").expect("an activation mail");

    let seed_example = json!({"identifier": "test-user-4", "secret": "MBMRDTVTD5", "password": "aAy1wweFw",
        "password_check": "aAy1wweFw"});
    let refused = call(&app, Method::POST, "/demo/customers/activate", &[JSON], SeedBody::Json(seed_example)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let mismatch =
        json!({"identifier": link.identifier, "secret": link.secret, "password": STRONG, "password_check": "other"});
    let refused = call(&app, Method::POST, "/demo/customers/activate", &[JSON], SeedBody::Json(mismatch)).await;
    assert_eq!(refused.error_fields(), ["password_check"], "{}", refused.body);
    let body =
        json!({"identifier": link.identifier, "secret": link.secret, "password": STRONG, "password_check": STRONG});
    let activated = call(&app, Method::POST, "/demo/customers/activate", &[JSON], SeedBody::Json(body)).await;
    assert_eq!((activated.status, activated.body.clone()), (StatusCode::OK, json!({"result": "activated"})));
    logged_in(&app, EMAIL, STRONG).await;
}

/// One customer, three dialects: signs up Emporix-style, logs in
/// Moltin-style, edits `self` retailer-style, and every dialect shows the
/// same account.
#[tokio::test]
async fn one_customer_three_dialects_one_account() {
    let app = TestApp::new().await;
    const ANN: &str = "ann.lee@example.com";

    // Emporix: sign-up with a first address, activation by the mailed link.
    let anonymous = app.anonymous().await.field("access_token");
    let signup = json!({"email": ANN, "password": STRONG, "customerDetails": {"firstName": "Ann", "lastName": "Lee"},
        "customerAddress": {"street": "Hauptstr.", "streetNumber": "1", "zipCode": "10115", "city": "Berlin", "country": "DE"}});
    assert_eq!(app.post("/customer/demo/signup", Some(&anonymous), signup).await.status, StatusCode::ACCEPTED);
    let link = app.latest_link(ANN, "secret").unwrap();
    let activate = json!({"identifier": link.identifier, "secret": link.secret});
    assert_eq!(app.post("/customer/demo/activate", None, activate).await.status, StatusCode::OK);

    // Moltin: log in (form), read the customer and the address book.
    let shop = bearer(&app.anonymous().await.field("access_token"));
    let email_field = format!("email={ANN}");
    let password_field = format!("password={STRONG}");
    let form = SeedBody::Form(&[&password_field, &email_field]);
    let login = call(&app, Method::POST, "/demo/v1/customers/token", &[("Authorization", &shop)], form).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let result = &login.body["result"];
    assert_eq!((result["first_name"].clone(), result["last_name"].clone()), (json!("Ann"), json!("Lee")));
    let token = result["token"].as_str().unwrap().to_owned();
    let moltin = |path: &str| format!("/demo/v1/customers/{token}{path}");

    // Retailer: log in, read `self` (the sign-up address is the default), edit it.
    let auth = logged_in(&app, ANN, STRONG).await;
    let me = call(&app, Method::GET, "/demo/customers/self", &[("Authorization", &auth)], SeedBody::None).await;
    assert_eq!(me.body["id"], result["id"], "one id");
    assert_eq!((me.field("name"), me.field("address")), ("Ann Lee".to_owned(), "Hauptstr. 1".to_owned()));
    let edit = json!({"name": "Ann Marie Lee-Park", "phone": "+49 30 1234", "mobile": "+49 170 5678",
        "address": "Platz der Republik 1", "address_postcode": "11011"});
    let headers = [("Authorization", auth.as_str()), JSON];
    let edited = call(&app, Method::PATCH, "/demo/customers/self", &headers, SeedBody::Json(edit)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);

    // Moltin sees the new name and the edited default address.
    let read = [("Authorization", shop.as_str())];
    let customer = call(&app, Method::GET, &moltin(""), &read, SeedBody::None).await;
    assert_eq!(customer.body["result"]["first_name"], "Ann Marie", "{}", customer.body);
    assert_eq!(customer.body["result"]["last_name"], "Lee-Park");
    let addresses = call(&app, Method::GET, &moltin("/addresses"), &read, SeedBody::None).await;
    let list = addresses.body["result"].as_array().unwrap();
    assert_eq!(list.len(), 1, "the default address was edited, not added: {list:?}");
    assert_eq!(
        (list[0]["street"].clone(), list[0]["zipCode"].clone()),
        (json!("Platz der Republik 1"), json!("11011"))
    );
    assert_eq!(list[0]["city"], "Berlin", "what the edit did not name stays");

    // Emporix sees the same account: names, phone, mobile, address.
    let access = app.login(ANN, STRONG).await.field("access_token");
    let profile = app.get("/customer/demo/me?expand=addresses", Some(&access)).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    let p = &profile.body;
    assert_eq!(
        (p["firstName"].clone(), p["middleName"].clone(), p["lastName"].clone()),
        (json!("Ann Marie"), Value::Null, json!("Lee-Park"))
    );
    assert_eq!((p["contactPhone"].clone(), p["mobilePhone"].clone()), (json!("+49 30 1234"), json!("+49 170 5678")));
    assert_eq!(p["addresses"][0]["street"], "Platz der Republik 1");
    assert!(p["addresses"][0].get("streetNumber").is_none_or(Value::is_null), "the line went to street whole");

    // Leaving in one dialect ends the others: the Moltin token and the Emporix token are dead.
    let body = json!({"password": STRONG});
    let deleted = call(&app, Method::DELETE, "/demo/customers/self", &headers, SeedBody::Json(body)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let gone = call(&app, Method::GET, &moltin(""), &read, SeedBody::None).await;
    assert_eq!((gone.status, gone.body["errors"][0].clone()), (StatusCode::UNAUTHORIZED, json!(BAD_TOKEN)));
    assert_eq!(app.get("/customer/demo/me", Some(&access)).await.status, StatusCode::UNAUTHORIZED);
}
