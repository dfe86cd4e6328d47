//! Bad input through the routes, as a hostile client sends it: every case is
//! a 400 naming the field, nothing is stored, and nothing reaches a mail.

use http::StatusCode;
use serde_json::{Value, json};
use shared::table_keys::ItemKey;
use tests::{Reply, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn signup(app: &TestApp, body: Value) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/signup", Some(&anonymous), body).await
}

#[tokio::test]
async fn an_email_with_a_display_name_comment_quotes_or_a_literal_is_no_identity() {
    let app = TestApp::new().await;
    for email in [
        "victim@example.com <attacker@evil.example>",
        "Demo <demo@example.com>",
        "demo@example.com (Demo)",
        "\"demo\"@example.com",
        "x@[127.0.0.1]",
    ] {
        let reply = signup(&app, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{email}: {}", reply.body);
        assert_eq!(reply.error_fields(), ["email"], "{email}");
    }
    assert!(app.outbox_messages().is_empty(), "nothing was mailed to anyone");
}

#[tokio::test]
async fn one_mailbox_is_one_identity_whatever_its_spelling_and_mail_goes_only_to_it() {
    let app = TestApp::with_customer("demo@example.com", PASSWORD).await;
    // Fullwidth letters and upper case map to the same mailbox: a taken address.
    for spelling in ["demo@ｅｘａｍｐｌｅ.com", " DEMO@Example.COM "] {
        assert_eq!(signup(&app, json!({"email": spelling, "password": PASSWORD})).await.status, StatusCode::ACCEPTED);
    }
    let notices = app.mails_to("demo@example.com");
    assert_eq!(notices.len(), 2, "'you already have an account', to the one mailbox");
    assert!(app.outbox_messages().iter().all(|m| m["to"] == "demo@example.com"), "{:?}", app.outbox_messages());
    assert_eq!(app.login("demo@ｅｘａｍｐｌｅ.com", PASSWORD).await.status, StatusCode::OK, "the same login");
    // A Cyrillic look-alike is another mailbox, and another account.
    let lookalike = "demo@ехаmple.com";
    assert_eq!(signup(&app, json!({"email": lookalike, "password": PASSWORD})).await.status, StatusCode::ACCEPTED);
    let guard: Option<Value> =
        app.store().get(&ItemKey::email_guard(&app.tenant, "demo@xn--mple-43d3a6i.com")).await.unwrap();
    assert!(guard.is_some(), "stored under its own punycode identity");
    assert_eq!(app.mails_to("demo@xn--mple-43d3a6i.com").len(), 1, "its activation mail goes to that identity");
}

#[tokio::test]
async fn control_characters_are_refused_wherever_text_is_stored() {
    let app = TestApp::new().await;
    let body = json!({"email": "ann@example.com", "password": PASSWORD,
        "customerDetails": {"firstName": "Ann\r\nBcc: attacker@evil.example", "lastName": "Lee\u{0}",
            "b2b": {"companyRegistrationId": "HRB\u{7}1"}},
        "customerAddress": {"street": "Main\u{85}St", "zipCode": "10115", "city": "Berlin", "country": "DE"}});
    let reply = signup(&app, body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "customerAddress.street",
            "customerDetails.b2b.companyRegistrationId",
            "customerDetails.firstName",
            "customerDetails.lastName"
        ]
    );
    assert!(app.outbox_messages().is_empty());

    // Names are stored composed (NFC).
    let id = app.create_customer("zoe@example.com", PASSWORD).await;
    let token = app.login("zoe@example.com", PASSWORD).await.field("access_token");
    let patch = json!({"firstName": "Zoe\u{308}", "metadata": {"version": 1}});
    let reply = app.send(tests::request(http::Method::PATCH, "/customer/demo/me", Some(&token), Some(patch))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["firstName"], "Zoë");
    let stored = app.store().get_customer(&app.tenant, &id).await.unwrap().unwrap();
    assert_eq!(stored.details.first_name.as_deref(), Some("Zoë"));
}

#[tokio::test]
async fn mixins_hold_only_what_dynamodb_stores_and_a_reader_can_trust() {
    let app = TestApp::with_customer("ann@example.com", PASSWORD).await;
    let token = app.login("ann@example.com", PASSWORD).await.field("access_token");
    let patch = |mixins: Value| json!({"mixins": mixins, "metadata": {"version": 1}});
    for (mixins, field) in [
        (json!({"x": 1e300}), "mixins.x"),
        (json!({"x": {"tiny": 1e-200}}), "mixins.x.tiny"),
        (json!({"x": {"k\r\n": 1}}), "mixins.x.k\r\n"),
        (json!({"x": ["ok", "nul\u{0}"]}), "mixins.x[1]"),
        (json!({"x": {"": 1}}), "mixins.x."),
    ] {
        let request = tests::request(http::Method::PATCH, "/customer/demo/me", Some(&token), Some(patch(mixins)));
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {}", reply.body);
        assert_eq!(reply.error_fields(), [field]);
    }
    let fine = patch(json!({"x": {"big": 9.99e125, "small": -1e-129, "int": 9007199254740993u64}}));
    let reply = app.send(tests::request(http::Method::PATCH, "/customer/demo/me", Some(&token), Some(fine))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_query_or_form_parameter_given_twice_is_named() {
    let app = TestApp::new().await;
    let reply = app.get("/customerlogin/auth/anonymous/login?tenant=evil&tenant=demo&client_id=storefront", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.error_fields(), ["tenant"]);
    let anonymous = app.anonymous().await;
    let form = format!(
        "tenant=demo&client_id=storefront&refresh_token={0}&refresh_token={0}",
        anonymous.field("refresh_token")
    );
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri("/customerlogin/auth/anonymous/refresh")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.error_fields(), ["refresh_token"]);
}
