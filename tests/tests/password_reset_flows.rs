//! The password-reset rules, against DynamoDB Local: no enumeration, allow-
//! listed links, single-use and superseded tokens, sessions revoked, the
//! generated-passphrase variant, and the mail allowance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use shared::customer::{CustomerRecord, CustomerStatus};
use shared::domain::CustomerId;
use shared::secrets::hash_secret;
use shared::services::equal_time::RESPONSE_FLOOR as REQUEST_RESPONSE_FLOOR;
use tests::links::token_of;
use tests::{Reply, TestApp, parallel};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase 2026";
/// The demo tenant's reset page: the account pages of the local server.
const RESET_PAGE: &str = "http://127.0.0.1:3000/account/reset-password.html";

async fn request_reset(app: &TestApp, body: Value) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/password/reset", Some(&anonymous), body).await
}

async fn update(app: &TestApp, token: &str, password: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/password/reset/update", Some(&anonymous), json!({"token": token, "password": password}))
        .await
}

async fn generate(app: &TestApp, email: &str, code: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/password/reset/generate", Some(&anonymous), json!({"email": email, "code": code})).await
}

/// Requests a reset for `email` and returns the token from the mail.
async fn fresh_token(app: &TestApp, email: &str) -> String {
    let before = app.reset_links().len();
    let reply = request_reset(app, json!({"email": email})).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let links = app.reset_links();
    assert_eq!(links.len(), before + 1, "one reset mail");
    token_of(links.last().unwrap())
}

fn decode_passphrase(jwt: &str, code: &str) -> Result<String, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_secret(code.as_bytes()), &validation)?;
    Ok(data.claims["passphrase"].as_str().expect("a passphrase claim").to_owned())
}

#[tokio::test]
async fn known_and_unknown_emails_get_the_same_answer_in_comparable_time() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mut known_times = Vec::new();
    let mut unknown_times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let known = request_reset(&app, json!({"email": EMAIL})).await;
        known_times.push(started.elapsed());
        let started = Instant::now();
        let unknown = request_reset(&app, json!({"email": "nobody@example.com"})).await;
        unknown_times.push(started.elapsed());
        assert_eq!(known.status, StatusCode::ACCEPTED);
        assert_eq!(known.status, unknown.status);
        assert_eq!(known.body, unknown.body);
        assert_eq!(known.body, json!({"result": "email_sent"}));
        assert_eq!(known.headers["content-type"], unknown.headers["content-type"]);
        assert_eq!(known.headers.len(), unknown.headers.len(), "same headers");
    }
    // Each timing includes an anonymous login; the floor dominates both.
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[1]
    };
    let (known, unknown) = (median(&mut known_times), median(&mut unknown_times));
    assert!(known >= REQUEST_RESPONSE_FLOOR && unknown >= REQUEST_RESPONSE_FLOOR, "{known:?} {unknown:?}");
    assert!(known.abs_diff(unknown) < Duration::from_millis(200), "known {known:?} vs unknown {unknown:?}");
    // Only the account's owner got mail: three links to the tenant's reset page.
    let mails = app.outbox_messages();
    assert_eq!(mails.len(), 3);
    assert!(mails.iter().all(|m| m["to"] == EMAIL));
    for link in app.reset_links() {
        assert!(link.starts_with(&format!("{RESET_PAGE}?tenant=demo&token=")), "{link}");
    }
}

#[tokio::test]
async fn a_reset_uri_off_the_allow_list_is_refused_for_known_and_unknown_emails() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mut answers = Vec::new();
    for email in [EMAIL, "nobody@example.com"] {
        for uri in [
            "https://attacker.example/reset",
            "http://127.0.0.1:3000/account/reset-password.html/../evil",
            "javascript:x",
        ] {
            let reply = request_reset(&app, json!({"email": email, "reset_uri": uri})).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(reply.body["code"], "invalid_reset_uri");
            answers.push(reply.body);
        }
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "one answer whether or not the e-mail exists");
    assert!(app.outbox_messages().is_empty(), "nothing was mailed");

    // An allowed one is used as given; the tenant's default otherwise.
    let allowed = "http://127.0.0.1:3000/account/activate.html";
    let reply = request_reset(&app, json!({"email": EMAIL, "reset_uri": allowed})).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert!(app.reset_links()[0].starts_with(&format!("{allowed}?tenant=demo&token=")));
}

#[tokio::test]
async fn the_link_is_built_from_configuration_never_from_request_headers() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let anonymous = app.anonymous().await.field("access_token");
    let mut request = tests::request(
        Method::POST,
        "/customer/demo/password/reset",
        Some(&anonymous),
        Some(json!({"email": EMAIL, "site": "main"})),
    );
    for (name, value) in [
        ("host", "attacker.example"),
        ("x-forwarded-host", "attacker.example"),
        ("origin", "https://attacker.example"),
        ("referer", "https://attacker.example/reset"),
    ] {
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    assert_eq!(app.send(request).await.status, StatusCode::ACCEPTED);
    let links = app.reset_links();
    assert_eq!(links.len(), 1);
    assert!(links[0].starts_with(&format!("{RESET_PAGE}?tenant=demo&token=")), "{}", links[0]);
    assert!(!links[0].contains("attacker"));
}

#[tokio::test]
async fn a_token_works_once_sets_the_password_and_does_not_log_in() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let token = fresh_token(&app, EMAIL).await;
    // Only the hash is stored.
    assert!(app.store().get_one_time_token(&app.tenant, &hash_secret(&token)).await.unwrap().is_some());
    assert!(app.store().get_one_time_token(&app.tenant, &token).await.unwrap().is_none());

    let first = update(&app, &token, NEW_PASSWORD).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT);
    assert_eq!(first.body, Value::Null, "no tokens: the customer is not logged in");
    let again = update(&app, &token, "yet another passphrase 2027").await;
    again.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    let unknown = update(&app, "never-issued-token", NEW_PASSWORD).await;
    assert_eq!(unknown.body, again.body, "used and unknown tokens look the same");

    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let login = app.login(EMAIL, NEW_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["initialPassword"], false);
    // A notice went out after the link.
    let mails = app.outbox_messages();
    assert_eq!(mails.len(), 2);
    assert!(mails[1]["subject"].as_str().unwrap().contains("password was changed"), "{}", mails[1]["subject"]);
    assert!(!mails[1]["text"].as_str().unwrap().contains(NEW_PASSWORD));
    // The profile no longer points at a token.
    let profile: CustomerRecord = app.store().get(&profile_key(&app, EMAIL).await).await.unwrap().unwrap();
    assert!(!profile.pending_tokens.contains_key("PASSWORD_RESET"), "{:?}", profile.pending_tokens);
    // A later reset (the pointer map now exists, empty) works as the first did.
    let later = fresh_token(&app, EMAIL).await;
    assert_eq!(update(&app, &later, PASSWORD).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_weak_password_is_refused_and_the_token_stays_usable() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let token = fresh_token(&app, EMAIL).await;
    for weak in ["password1", "ann.example", "short"] {
        let reply = update(&app, &token, weak).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert_eq!(reply.body["code"], "weak_password");
    }
    assert_eq!(update(&app, &token, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_parallel_updates_with_one_token_let_exactly_one_through() {
    let app = Arc::new(TestApp::with_customer(EMAIL, PASSWORD).await);
    let token = fresh_token(&app, EMAIL).await;
    let passwords = ["first parallel passphrase 2026", "second parallel passphrase 2026"];
    let updates = parallel(passwords, |password| {
        let (app, token) = (app.clone(), token.clone());
        async move { (password, update(&app, &token, password).await) }
    })
    .await;
    let mut winners = Vec::new();
    let mut statuses = Vec::new();
    for (password, reply) in updates {
        statuses.push(reply.status);
        if reply.status == StatusCode::NO_CONTENT {
            winners.push(password);
        } else {
            assert_eq!(reply.body["code"], "invalid_token");
        }
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]);
    // The winner's password is the one set, on profile and guard alike.
    assert_eq!(app.login(EMAIL, winners[0]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_older_token_stops_working_once_a_newer_one_is_issued() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let older = fresh_token(&app, EMAIL).await;
    let newer = fresh_token(&app, EMAIL).await;
    assert!(app.store().get_one_time_token(&app.tenant, &hash_secret(&older)).await.unwrap().is_none());
    let reply = update(&app, &older, NEW_PASSWORD).await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    assert_eq!(generate(&app, EMAIL, &older).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(update(&app, &newer, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_leave_exactly_one_live_token() {
    let app = Arc::new(TestApp::with_customer(EMAIL, PASSWORD).await);
    let statuses = parallel(0..3, |_| {
        let app = app.clone();
        async move { request_reset(&app, json!({"email": EMAIL})).await.status }
    })
    .await;
    for status in statuses {
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let mut live = 0;
    for link in app.reset_links() {
        let token = token_of(&link);
        if app.store().get_one_time_token(&app.tenant, &hash_secret(&token)).await.unwrap().is_some() {
            live += 1;
        }
    }
    assert_eq!(live, 1, "only the newest token survives");
}

#[tokio::test]
async fn after_an_update_every_old_session_and_refresh_token_is_refused() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let phone = app.login(EMAIL, PASSWORD).await;
    let laptop = app.login(EMAIL, PASSWORD).await;
    let token = fresh_token(&app, EMAIL).await;
    assert_eq!(update(&app, &token, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    for session in [&phone, &laptop] {
        let refresh = app
            .post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": session.field("refresh_token")}))
            .await;
        assert_eq!(refresh.status, StatusCode::UNAUTHORIZED, "{}", refresh.body);
        let validate = app.get("/customer/demo/validateauthtoken", Some(&session.field("access_token"))).await;
        assert_eq!(validate.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn generate_returns_a_jwt_signed_with_the_code_whose_passphrase_logs_in() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let old_session = app.login(EMAIL, PASSWORD).await;
    let code = fresh_token(&app, EMAIL).await;
    let reply = generate(&app, "  ANN@example.com ", &code).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let jwt = reply.field("token");
    assert_eq!(reply.body.as_object().unwrap().len(), 1, "only the token");

    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert!(decode_passphrase(&jwt, "some other code").is_err(), "only the code verifies it");
    let passphrase = decode_passphrase(&jwt, &code).unwrap();
    assert!(passphrase.chars().count() >= 16, "{} characters", passphrase.chars().count());

    let login = app.login(EMAIL, &passphrase).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["initialPassword"], true, "the storefront should ask for a password of the customer's own");
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    // The code was used up, the old session ended, and the owner was told.
    assert_eq!(generate(&app, EMAIL, &code).await.body["code"], "invalid_token");
    assert_eq!(update(&app, &code, NEW_PASSWORD).await.body["code"], "invalid_token");
    let refresh = app
        .post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": old_session.field("refresh_token")}))
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    let last = app.outbox_messages().pop().unwrap();
    assert!(last["subject"].as_str().unwrap().contains("password was changed"));
    assert!(!last["text"].as_str().unwrap().contains(&passphrase), "the passphrase travels only in the JWT");
}

#[tokio::test]
async fn generate_needs_the_email_the_code_was_issued_for() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    app.create_customer("bob@example.com", PASSWORD).await;
    let code = fresh_token(&app, EMAIL).await;
    for email in ["bob@example.com", "nobody@example.com"] {
        let reply = generate(&app, email, &code).await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    }
    assert_eq!(app.login("bob@example.com", PASSWORD).await.status, StatusCode::OK, "bob is untouched");
    // The refusals did not use the code up.
    assert_eq!(generate(&app, EMAIL, &code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn at_most_three_reset_mails_per_account_and_hour() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    for _ in 0..5 {
        let reply = request_reset(&app, json!({"email": EMAIL})).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(reply.body, json!({"result": "email_sent"}));
    }
    let links = app.reset_links();
    assert_eq!(links.len(), 3);
    // The requests past the allowance issued nothing: the third link still works.
    assert_eq!(update(&app, &token_of(&links[2]), NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn requesting_a_reset_changes_nothing_about_the_account() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let session = app.login(EMAIL, PASSWORD).await;
    let key = profile_key(&app, EMAIL).await;
    let before: CustomerRecord = app.store().get(&key).await.unwrap().unwrap();
    fresh_token(&app, EMAIL).await;
    fresh_token(&app, EMAIL).await;
    let after: CustomerRecord = app.store().get(&key).await.unwrap().unwrap();
    assert_eq!(before.version, after.version);
    assert_eq!(before.password_hash, after.password_hash);
    assert_eq!(before.status, after.status);
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::OK);
    let validate = app.get("/customer/demo/validateauthtoken", Some(&session.field("access_token"))).await;
    assert_eq!(validate.status, StatusCode::OK, "sessions live on until a token is used");
}

#[tokio::test]
async fn a_pending_account_is_reset_and_activated_by_whoever_holds_its_mailbox() {
    // Security issue #14, rule 8: someone signed up with Ann's address and a
    // password of theirs; Ann never activated. A reset through her mailbox
    // activates the account with her password, and the other password is gone.
    let app = TestApp::new().await;
    let anonymous = app.anonymous().await.field("access_token");
    let signup = json!({"email": EMAIL, "password": "the squatter's own password"});
    assert_eq!(app.post("/customer/demo/signup", Some(&anonymous), signup).await.status, StatusCode::ACCEPTED);
    assert_eq!(app.login(EMAIL, "the squatter's own password").await.status, StatusCode::FORBIDDEN);

    let token = fresh_token(&app, EMAIL).await;
    assert_eq!(update(&app, &token, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    let key = profile_key(&app, EMAIL).await;
    let profile: CustomerRecord = app.store().get(&key).await.unwrap().unwrap();
    assert_eq!(profile.status, CustomerStatus::Active);
    assert_eq!(profile.ttl, None, "an active account does not expire");
    assert_eq!(app.login(EMAIL, NEW_PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.login(EMAIL, "the squatter's own password").await.status, StatusCode::UNAUTHORIZED);
    // The sign-up's activation link died with the old epoch.
    let link = app.latest_link(EMAIL, "secret").unwrap();
    let activate = json!({"identifier": link.identifier, "secret": link.secret});
    assert_eq!(app.post("/customer/demo/activate", None, activate).await.body["code"], "invalid_token");
}

#[tokio::test]
async fn a_token_is_bound_to_its_tenant_and_routes_want_an_anonymous_token() {
    let app = TestApp::new().await;
    let other = app.add_tenant("other").await;
    app.create_customer(EMAIL, PASSWORD).await;
    let token = fresh_token(&app, EMAIL).await;
    let other_anonymous = app.anonymous_for(&other).await.field("access_token");
    let reply = app
        .post(
            "/customer/other/password/reset/update",
            Some(&other_anonymous),
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "invalid_token");
    // demo's anonymous token on other's path.
    let demo_anonymous = app.anonymous().await.field("access_token");
    let wrong_tenant = app.post("/customer/other/password/reset", Some(&demo_anonymous), json!({"email": EMAIL})).await;
    assert_eq!(wrong_tenant.status, StatusCode::FORBIDDEN);
    // A customer token may not use the routes.
    let customer = app.login(EMAIL, PASSWORD).await.field("access_token");
    for (uri, body) in [
        ("/customer/demo/password/reset/update", json!({"token": token, "password": NEW_PASSWORD})),
        ("/customer/demo/password/reset/generate", json!({"email": EMAIL, "code": token})),
    ] {
        let reply = app.post(uri, Some(&customer), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(reply.body["code"], "anonymous_token_required");
    }
    assert_eq!(update(&app, &token, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT, "still unused");
}

async fn profile_key(app: &TestApp, email: &str) -> shared::table_keys::ItemKey {
    let guard: Value =
        app.store().get(&shared::table_keys::ItemKey::email_guard(&app.tenant, email)).await.unwrap().unwrap();
    let id = CustomerId::parse(guard["customerId"].as_str().unwrap()).unwrap();
    shared::table_keys::ItemKey::profile(&app.tenant, &id)
}
