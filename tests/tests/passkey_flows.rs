//! Passkeys end to end, with the software authenticator of
//! `tests::passkey`: registered on `me` (several, named, listed, removed,
//! each change ending the other sessions and mailing a notice), and a
//! discoverable sign-in from an anonymous session. Refused: a replayed
//! assertion, a spent or expired challenge, another session's challenge, a
//! wrong origin, a wrong RP id, another tenant's credential, a removed
//! passkey. And the fixtures `events/*passkey*` through the functions' routers.

use aws_sdk_dynamodb::types::AttributeValue;
use http::StatusCode;
use serde_json::{Value, json};
use shared::secrets::hash_secret;
use shared::table_keys::ItemKey;
use tests::fixtures::{Values, case, fields_in_order, problem};
use tests::passkey::{Ceremony, SoftPasskey};
use tests::{Reply, TestApp};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const ME: &str = "/customer/demo/me";
const PASSKEYS: &str = "/customer/demo/me/passkeys";
const SIGN_IN_OPTIONS: &str = "/customer/demo/login/passkey/options";
const SIGN_IN: &str = "/customer/demo/login/passkey";

/// Registers a passkey named `name` on the session of `token`.
async fn register(app: &TestApp, token: &str, authenticator: &mut SoftPasskey, name: &str) -> Reply {
    let options = app.post(&format!("{PASSKEYS}/options"), Some(token), json!({"password": PASSWORD})).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = authenticator.create(&options.body["publicKey"]);
    let body = json!({"challengeId": options.field("challengeId"), "name": name, "credential": credential});
    app.post(PASSKEYS, Some(token), body).await
}

/// Sign-in options on a fresh anonymous session: (anonymous token, options).
async fn sign_in_options(app: &TestApp) -> (String, Reply) {
    let anonymous = app.anonymous().await.field("access_token");
    let options = app.post(SIGN_IN_OPTIONS, Some(&anonymous), json!({})).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    (anonymous, options)
}

fn sign_in_body(options: &Reply, credential: Value) -> Value {
    json!({"challengeId": options.field("challengeId"), "credential": credential})
}

/// A whole discoverable sign-in with the authenticator's newest passkey.
async fn sign_in(app: &TestApp, authenticator: &mut SoftPasskey) -> Reply {
    let (anonymous, options) = sign_in_options(app).await;
    let assertion = authenticator.get(&options.body["publicKey"]);
    app.post(SIGN_IN, Some(&anonymous), sign_in_body(&options, assertion)).await
}

#[tokio::test]
async fn passkeys_register_list_sign_in_and_remove() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mut laptop = SoftPasskey::default();
    let mut phone = SoftPasskey::default();
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let other = app.login(EMAIL, PASSWORD).await.field("access_token");

    // The creation options: discoverable, user verification, the customer id as user handle.
    let options = app.post(&format!("{PASSKEYS}/options"), Some(&token), json!({"password": PASSWORD})).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let public_key = &options.body["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(public_key["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(public_key["authenticatorSelection"]["userVerification"], "required");
    let me = app.get(ME, Some(&token)).await;
    let user_id = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, me.field("id"));
    assert_eq!(public_key["user"]["id"], user_id.as_str());
    assert_eq!(options.body["expiresIn"], 300);

    let added = register(&app, &token, &mut laptop, "Laptop").await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["name"], "Laptop");
    assert!(added.body["createdAt"].is_string() && added.body["lastUsedAt"].is_null(), "{}", added.body);
    // The credential epoch moved: the other session is over, this one goes on.
    app.get(ME, Some(&other)).await.assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(app.get(ME, Some(&token)).await.status, StatusCode::OK);
    let notices = app.mails_to(EMAIL);
    let notice = notices.last().expect("a notice");
    assert!(notice["text"].as_str().unwrap().contains("passkey (\"Laptop\")"), "{notice}");

    let second = register(&app, &token, &mut phone, "Phone").await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let listed = app.get(PASSKEYS, Some(&token)).await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<&str> = listed.body.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    // The export names them too (read with the rest, in its one Query), without key material.
    let export = app.get(&format!("{ME}/export"), Some(&token)).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.body["passkeys"], listed.body, "the export lists what GET me/passkeys lists");
    assert!(!export.body.to_string().contains("credential"), "{}", export.body);

    // Discoverable sign-in: no e-mail; the usual token set, which works on `me`.
    let signed_in = sign_in(&app, &mut laptop).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(signed_in.body["customerId"], me.body["id"]);
    assert!(signed_in.body["refresh_token"].is_string() && signed_in.body["saas_token"].is_string());
    let passkey_token = signed_in.field("access_token");
    assert_eq!(app.get(ME, Some(&passkey_token)).await.status, StatusCode::OK);
    let listed = app.get(PASSKEYS, Some(&token)).await;
    assert!(listed.body[0]["lastUsedAt"].is_string(), "the use is noted: {}", listed.body);
    // Again: the counter went up, and the stored one follows.
    assert_eq!(sign_in(&app, &mut laptop).await.status, StatusCode::OK);

    // Removing one: the other sessions end (the passkey's among them), a notice.
    let mails = app.mails_to(EMAIL).len();
    let phone_id = second.field("id");
    let removed = app.delete(&format!("{PASSKEYS}/{phone_id}"), Some(&token)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    app.get(ME, Some(&passkey_token)).await.assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(app.get(ME, Some(&token)).await.status, StatusCode::OK);
    let notices = app.mails_to(EMAIL);
    assert_eq!(notices.len(), mails + 1);
    assert!(notices.last().unwrap()["text"].as_str().unwrap().contains("\"Phone\" can no longer"));
    let listed = app.get(PASSKEYS, Some(&token)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    app.delete(&format!("{PASSKEYS}/{phone_id}"), Some(&token))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    // The removed passkey no longer signs in; the other one does.
    sign_in(&app, &mut phone).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_passkey");
    assert_eq!(sign_in(&app, &mut laptop).await.status, StatusCode::OK);

    // Leaving takes the passkeys along.
    let left = app.delete_with(ME, Some(&token), json!({"password": PASSWORD})).await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    let customer = shared::domain::CustomerId::parse(me.body["id"].as_str().unwrap()).unwrap();
    assert!(app.store().list_passkeys(&app.tenant, &customer).await.unwrap().is_empty());
    sign_in(&app, &mut laptop).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_passkey");
}

#[tokio::test]
async fn registration_needs_the_password_and_its_own_session() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mut authenticator = SoftPasskey::default();
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let uri = format!("{PASSKEYS}/options");

    // A stolen access token alone does not plant a passkey.
    let missing = app.post(&uri, Some(&token), json!({})).await;
    missing.assert_problem(StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(fields_in_order(&missing.body), ["password"]);
    let wrong = app.post(&uri, Some(&token), json!({"password": "not the password at all"})).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
    let anonymous = app.anonymous().await.field("access_token");
    assert_eq!(app.post(&uri, Some(&anonymous), json!({"password": PASSWORD})).await.status, StatusCode::FORBIDDEN);

    // Options of one session, completed by another session of the same customer: refused.
    let options = app.post(&uri, Some(&token), json!({"password": PASSWORD})).await;
    let credential = authenticator.create(&options.body["publicKey"]);
    let body = json!({"challengeId": options.field("challengeId"), "name": "Laptop", "credential": credential});
    let other = app.login(EMAIL, PASSWORD).await.field("access_token");
    app.post(PASSKEYS, Some(&other), body.clone()).await.assert_problem(StatusCode::FORBIDDEN, "invalid_passkey");
    // ... which spent the challenge: the right session cannot use it any more.
    app.post(PASSKEYS, Some(&token), body).await.assert_problem(StatusCode::FORBIDDEN, "invalid_passkey");

    // A registration made for another origin or RP id is refused.
    for ceremony in [
        Ceremony { origin: Some("https://evil.example".into()), rp_id: None },
        Ceremony { origin: None, rp_id: Some("evil.example".into()) },
    ] {
        let options = app.post(&uri, Some(&token), json!({"password": PASSWORD})).await;
        let credential = SoftPasskey::default().create_with(&options.body["publicKey"], &ceremony);
        let body = json!({"challengeId": options.field("challengeId"), "name": "Evil", "credential": credential});
        app.post(PASSKEYS, Some(&token), body).await.assert_problem(StatusCode::FORBIDDEN, "invalid_passkey");
    }

    // Malformed: every bad field named.
    let bad = app.post(PASSKEYS, Some(&token), json!({"name": " ", "credential": {"id": 1}})).await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(fields_in_order(&bad.body), ["challengeId", "name", "credential"]);
    assert_eq!(app.get(PASSKEYS, Some(&token)).await.body, json!([]), "nothing was added");
}

#[tokio::test]
async fn sign_in_refuses_replays_foreign_challenges_and_lies() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mut authenticator = SoftPasskey::default();
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    assert_eq!(register(&app, &token, &mut authenticator, "Laptop").await.status, StatusCode::CREATED);
    let refused = |reply: Reply| reply.assert_problem(StatusCode::UNAUTHORIZED, "invalid_passkey");

    // A replayed assertion: the same answer twice (the challenge is spent),
    // also on a new session, and the old answer to a new challenge.
    let (anonymous, options) = sign_in_options(&app).await;
    let assertion = authenticator.get(&options.body["publicKey"]);
    let body = sign_in_body(&options, assertion.clone());
    assert_eq!(app.post(SIGN_IN, Some(&anonymous), body.clone()).await.status, StatusCode::OK);
    let again = app.anonymous().await.field("access_token");
    refused(app.post(SIGN_IN, Some(&again), body).await);
    let (fresh, options) = sign_in_options(&app).await;
    refused(app.post(SIGN_IN, Some(&fresh), sign_in_body(&options, assertion)).await);

    // A challenge of another anonymous session; it is spent by the try.
    let (_, options) = sign_in_options(&app).await;
    let assertion = authenticator.get(&options.body["publicKey"]);
    let thief = app.anonymous().await.field("access_token");
    refused(app.post(SIGN_IN, Some(&thief), sign_in_body(&options, assertion)).await);

    // Wrong origin, wrong RP id.
    for ceremony in [
        Ceremony { origin: Some("https://evil.example".into()), rp_id: None },
        Ceremony { origin: Some("http://localhost:4000".into()), rp_id: None },
        Ceremony { origin: None, rp_id: Some("evil.example".into()) },
    ] {
        let (anonymous, options) = sign_in_options(&app).await;
        let assertion = authenticator.get_with(&options.body["publicKey"], &ceremony);
        refused(app.post(SIGN_IN, Some(&anonymous), sign_in_body(&options, assertion)).await);
    }

    // An expired challenge (5 minutes; aged here in the table).
    let (anonymous, options) = sign_in_options(&app).await;
    let key = ItemKey::passkey_challenge(&app.tenant, &hash_secret(&options.field("challengeId")));
    let past = AttributeValue::N((shared::clock::now_epoch() - 1).to_string());
    app.update_raw(&key, "SET expiresAt = :past", &[], vec![(":past", past)]).await;
    let assertion = authenticator.get(&options.body["publicKey"]);
    refused(app.post(SIGN_IN, Some(&anonymous), sign_in_body(&options, assertion)).await);

    // A user handle that names another customer: not that customer's passkey.
    let bob = app.create_customer("bob@example.com", PASSWORD).await;
    authenticator.set_user_handle(0, bob.as_str().as_bytes());
    let (anonymous, options) = sign_in_options(&app).await;
    let assertion = authenticator.get(&options.body["publicKey"]);
    refused(app.post(SIGN_IN, Some(&anonymous), sign_in_body(&options, assertion)).await);

    // Malformed: 400 naming the fields; an unknown challenge id: 401.
    let anonymous = app.anonymous().await.field("access_token");
    let bad = app.post(SIGN_IN, Some(&anonymous), json!({"credential": "nope"})).await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(fields_in_order(&bad.body), ["challengeId", "credential"]);
    // A customer token is not an anonymous session.
    let options = app.post(SIGN_IN_OPTIONS, Some(&token), json!({})).await;
    assert_eq!(options.status, StatusCode::FORBIDDEN, "{}", options.body);
}

#[tokio::test]
async fn another_tenants_credential_is_not_found() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    // The same relying party (localhost) on a second tenant, with the same customer id nowhere.
    let shop = app.add_tenant("othershop").await;
    let mut authenticator = SoftPasskey::default();
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    assert_eq!(register(&app, &token, &mut authenticator, "Laptop").await.status, StatusCode::CREATED);

    let anonymous = app.anonymous_for(&shop).await.field("access_token");
    let options = app.post("/customer/othershop/login/passkey/options", Some(&anonymous), json!({})).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let assertion = authenticator.get(&options.body["publicKey"]);
    let signed_in =
        app.post("/customer/othershop/login/passkey", Some(&anonymous), sign_in_body(&options, assertion)).await;
    signed_in.assert_problem(StatusCode::UNAUTHORIZED, "invalid_passkey");

    // A tenant without passkeys answers so, before any ceremony.
    let plain = shared::tenant::TenantSettings { passkeys: None, ..cli::demo_settings(&shop) };
    let bare = app.add_tenant_with("bareshop", plain).await;
    let anonymous = app.anonymous_for(&bare).await.field("access_token");
    let options = app.post("/customer/bareshop/login/passkey/options", Some(&anonymous), json!({})).await;
    options.assert_problem(StatusCode::CONFLICT, "passkeys_not_configured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_challenge_works_once_under_parallel_use() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mut authenticator = SoftPasskey::default();
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    assert_eq!(register(&app, &token, &mut authenticator, "Laptop").await.status, StatusCode::CREATED);
    let (anonymous, options) = sign_in_options(&app).await;
    let body = sign_in_body(&options, authenticator.get(&options.body["publicKey"]));
    let app = std::sync::Arc::new(app);
    let replies = tests::parallel(0..4, |_| {
        let (app, anonymous, body) = (app.clone(), anonymous.clone(), body.clone());
        async move { app.post(SIGN_IN, Some(&anonymous), body).await.status }
    })
    .await;
    assert_eq!(replies.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{replies:?}");
}

/// `{{CREDENTIAL}}` stands inside the event's JSON-string body: escaped.
fn in_body(value: &Value) -> String {
    let text = serde_json::to_string(&value.to_string()).unwrap();
    text[1..text.len() - 1].to_owned()
}

#[tokio::test]
async fn every_passkey_fixture_answers_as_documented() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await.field("access_token");
    let mut authenticator = SoftPasskey::default();
    let profile = || profile::router(app.state.clone());
    let login = || login::router(app.state.clone());
    let value = |name: &'static str, value: &str| (name, value.to_owned());

    let values = Values(vec![value("CUSTOMER_TOKEN", &customer), value("PASSWORD", PASSWORD)]);
    case("profile-passkeys-options-missing-password.json", StatusCode::BAD_REQUEST, |b| {
        fields_in_order(b) == ["password"]
    })
    .run(profile(), &values)
    .await;
    let options = case("profile-passkeys-options.json", StatusCode::OK, |b| b["publicKey"]["challenge"].is_string())
        .run(profile(), &values)
        .await;
    let credential = authenticator.create(&options.body["publicKey"]);
    let values = Values(vec![
        value("CUSTOMER_TOKEN", &customer),
        value("CHALLENGE_ID", &options.field("challengeId")),
        value("CREDENTIAL", &in_body(&credential)),
    ]);
    case("profile-passkeys-register-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
        fields_in_order(b) == ["challengeId", "name", "credential"]
    })
    .run(profile(), &values)
    .await;
    let added = case("profile-passkeys-register.json", StatusCode::CREATED, |b| b["name"] == "Laptop")
        .run(profile(), &values)
        .await;
    case("profile-passkeys-list.json", StatusCode::OK, |b| b.as_array().is_some_and(|l| l.len() == 1))
        .run(profile(), &values)
        .await;

    let anonymous = app.anonymous().await.field("access_token");
    let values = Values(vec![value("ANONYMOUS_TOKEN", &anonymous)]);
    let options =
        case("login-passkey-options.json", StatusCode::OK, |b| b["publicKey"]["allowCredentials"] == json!([]))
            .run(login(), &values)
            .await;
    let assertion = authenticator.get(&options.body["publicKey"]);
    let values = Values(vec![
        value("ANONYMOUS_TOKEN", &anonymous),
        value("CHALLENGE_ID", &options.field("challengeId")),
        value("CREDENTIAL", &in_body(&assertion)),
    ]);
    let cases = vec![
        case("login-passkey-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
            fields_in_order(b) == ["challengeId", "credential"]
        }),
        case("login-passkey.json", StatusCode::OK, |b| b["customerId"].is_string() && b["access_token"].is_string()),
    ];
    for case in cases {
        case.run(login(), &values).await;
    }
    // Once: the same answer again, from a fresh anonymous session.
    let mut values = values;
    values.0[0].1 = app.anonymous().await.field("access_token");
    case("login-passkey.json", StatusCode::UNAUTHORIZED, problem("invalid_passkey")).run(login(), &values).await;

    let values = Values(vec![value("CUSTOMER_TOKEN", &customer), value("PASSKEY_ID", &added.field("id"))]);
    let cases = vec![
        case("profile-passkeys-delete-unknown.json", StatusCode::NOT_FOUND, problem("not_found")),
        case("profile-passkeys-delete.json", StatusCode::NO_CONTENT, Value::is_null),
    ];
    for case in cases {
        case.run(profile(), &values).await;
    }
}

#[tokio::test]
async fn a_registration_begun_before_a_password_change_cannot_be_finished_after_it() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let options = app.post(&format!("{PASSKEYS}/options"), Some(&token), json!({"password": PASSWORD})).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = SoftPasskey::default().create(&options.body["publicKey"]);
    // Another flow moves the credential epoch in between.
    let new_password = "a brand-new passphrase 2026";
    let body = json!({"currentPassword": PASSWORD, "newPassword": new_password});
    let changed = app.post(&format!("{ME}/password/change"), Some(&token), body).await;
    assert!(changed.status.is_success(), "{}", changed.body);
    let body = json!({"challengeId": options.field("challengeId"), "name": "Late", "credential": credential});
    // The caller's session survives its own password change; the challenge's epoch does not.
    app.post(PASSKEYS, Some(&token), body).await.assert_problem(StatusCode::FORBIDDEN, "invalid_passkey");
    let fresh = app.login(EMAIL, new_password).await.field("access_token");
    let listed = app.get(PASSKEYS, Some(&fresh)).await;
    assert_eq!(listed.body, json!([]), "no passkey was added");
}
