//! Security across flows (issue #14), tried as an attacker would, against
//! DynamoDB Local: what a secret, session or counter issued by one flow does
//! after another flow changed the account, and what parallel requests do
//! that sequential ones don't. One section per rule of docs/security.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::customer::{CustomerRecord, EmailGuard};
use shared::services::equal_time::RESPONSE_FLOOR;
use shared::store::LoginBudget;
use shared::table_keys::ItemKey;
use shared::tenant::{RequestLimits, TenantSettings};
use tests::links::MailedLink;
use tests::{Reply, TestApp, parallel, request};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase 2026";

// ---------------------------------------------------------------- helpers

async fn validate(app: &TestApp, token: &str) -> StatusCode {
    app.get("/customer/demo/validateauthtoken", Some(token)).await.status
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Reply {
    app.post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": refresh_token})).await
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Reply {
    app.post("/customer/demo/me/password/change", Some(token), json!({"currentPassword": current, "newPassword": new}))
        .await
}

async fn request_email_change(app: &TestApp, token: &str, password: &str, new_email: &str) -> MailedLink {
    let reply = app
        .post(
            "/customer/demo/me/accounts/internal/email/change",
            Some(token),
            json!({"email": EMAIL, "password": password, "newEmail": new_email}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    app.latest_link(new_email, "key").expect("a key to the new address")
}

async fn confirm_email(app: &TestApp, link: &MailedLink) -> Reply {
    app.post("/customer/demo/email/confirm", None, json!({"identifier": link.identifier, "key": link.secret})).await
}

async fn request_reset(app: &TestApp, email: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/password/reset", Some(&anonymous), json!({"email": email})).await
}

/// Requests a reset and returns the token of the mail it sent.
async fn reset_token(app: &TestApp, email: &str) -> String {
    let before = app.mails_to(email).len();
    assert_eq!(request_reset(app, email).await.status, StatusCode::ACCEPTED);
    let mails = app.mails_to(email);
    assert_eq!(mails.len(), before + 1, "a reset mail");
    tests::links::link_param(mails.last().unwrap()["text"].as_str().unwrap(), "token").expect("a token")
}

async fn reset_update(app: &TestApp, token: &str, password: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/password/reset/update", Some(&anonymous), json!({"token": token, "password": password}))
        .await
}

fn is_invalid_token(reply: &Reply) -> bool {
    reply.status == StatusCode::BAD_REQUEST && reply.body["code"] == "invalid_token"
}

async fn signup(app: &TestApp, email: &str, password: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/signup", Some(&anonymous), json!({"email": email, "password": password})).await
}

async fn resend(app: &TestApp, email: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/activate/resend", Some(&anonymous), json!({"email": email})).await
}

async fn activate(app: &TestApp, link: &MailedLink, extra: Value) -> Reply {
    let mut body = json!({"identifier": link.identifier, "secret": link.secret});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.post("/customer/demo/activate", None, body).await
}

async fn login_with_device(app: &TestApp, password: &str, device: Option<&str>) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    let mut body = json!({"email": EMAIL, "password": password});
    if let Some(device) = device {
        body["device_token"] = json!(device);
    }
    app.post("/customer/demo/login", Some(&anonymous), body).await
}

async fn profile_of(app: &TestApp, email: &str) -> CustomerRecord {
    let guard: EmailGuard = app.store().get(&ItemKey::email_guard(&app.tenant, email)).await.unwrap().unwrap();
    let id = guard.customer_id.clone();
    app.store().get_customer(&app.tenant, &id).await.unwrap().unwrap()
}

// ------------------------------------------- rule 1: one credential epoch

#[tokio::test]
async fn an_email_change_requested_before_a_password_change_or_reset_cannot_be_confirmed_after_it() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    // Someone who once knew the password asks to move the account to their address...
    let thief = app.login(EMAIL, PASSWORD).await.field("access_token");
    let stolen = request_email_change(&app, &thief, PASSWORD, "thief@example.com").await;
    // ...then the owner changes the password.
    let owner = app.login(EMAIL, PASSWORD).await.field("access_token");
    assert_eq!(change_password(&app, &owner, PASSWORD, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    assert!(is_invalid_token(&confirm_email(&app, &stolen).await), "the key died with the old epoch");
    assert_eq!(app.login("thief@example.com", NEW_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(validate(&app, &thief).await, StatusCode::UNAUTHORIZED, "and so did the thief's session");
    assert_eq!(validate(&app, &owner).await, StatusCode::OK, "the session that changed the password stays");

    // The same through a reset: a key requested before it is dead after it.
    let again = request_email_change(&app, &owner, NEW_PASSWORD, "thief2@example.com").await;
    let token = reset_token(&app, EMAIL).await;
    assert_eq!(reset_update(&app, &token, "yet another passphrase 2026").await.status, StatusCode::NO_CONTENT);
    assert!(is_invalid_token(&confirm_email(&app, &again).await));
    assert_eq!(profile_of(&app, EMAIL).await.email.as_str(), EMAIL);
}

#[tokio::test]
async fn a_secret_put_back_after_a_password_change_is_still_dead() {
    // The credential change deletes the outstanding secrets it knows of; the
    // epoch they carry is what kills them, even one that was not deleted.
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let token = reset_token(&app, EMAIL).await;
    let key = ItemKey::one_time_token(&app.tenant, &shared::secrets::hash_secret(&token));
    let item = app.store().get_many(std::slice::from_ref(&key)).await.unwrap().remove(&key).expect("the token item");
    let session = app.login(EMAIL, PASSWORD).await.field("access_token");
    assert_eq!(change_password(&app, &session, PASSWORD, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    assert!(app.store().get::<Value>(&key).await.unwrap().is_none(), "deleted by the change");
    app.put_raw(&key, item).await;
    assert!(is_invalid_token(&reset_update(&app, &token, "a passphrase of the attacker").await));
    assert_eq!(app.login(EMAIL, NEW_PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_confirmed_email_change_ends_every_session_and_refresh_token() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let first = app.login(EMAIL, PASSWORD).await;
    let second = app.login(EMAIL, PASSWORD).await;
    let link = request_email_change(&app, &first.field("access_token"), PASSWORD, "ann.new@example.com").await;
    assert_eq!(confirm_email(&app, &link).await.status, StatusCode::OK);
    for session in [&first, &second] {
        assert_eq!(validate(&app, &session.field("access_token")).await, StatusCode::UNAUTHORIZED);
        assert_eq!(refresh(&app, &session.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login("ann.new@example.com", PASSWORD).await.status, StatusCode::OK);
}

// ------------------------------------------- rule 2: no session from a stale verify

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_racing_a_reset_leave_no_live_session() {
    let app = Arc::new(TestApp::with_customer(EMAIL, PASSWORD).await);
    let mut password = PASSWORD.to_owned();
    let mut raced = 0;
    for round in 0..3 {
        let token = reset_token(&app, EMAIL).await;
        let next = format!("round {round} passphrase, long enough");
        let mut anonymous = Vec::new();
        for _ in 0..4 {
            anonymous.push(app.anonymous().await.field("access_token"));
        }
        let logins = parallel(anonymous, |anon| {
            let (app, password) = (app.clone(), password.clone());
            async move { app.login_with(&anon, EMAIL, &password).await }
        });
        // The reset runs while the logins do (they are spawned on the first poll).
        let (logins, reset) = tokio::join!(logins, reset_update(&app, &token, &next));
        assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.body);
        for login in logins {
            if login.status == StatusCode::OK {
                raced += 1;
                let access = login.field("access_token");
                assert_eq!(validate(&app, &access).await, StatusCode::UNAUTHORIZED, "round {round}");
                assert_eq!(refresh(&app, &login.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
            }
        }
        password = next;
    }
    assert!(raced > 0, "some logins verified the old password before the reset committed");
    assert_eq!(app.login(EMAIL, &password).await.status, StatusCode::OK);
}

// ------------------------------------------- rule 3: sessions are per login, and a guest session logs in once

#[tokio::test]
async fn an_anonymous_session_is_upgraded_once() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    app.create_customer("other@example.com", PASSWORD).await;
    let anonymous = app.anonymous().await;
    let token = anonymous.field("access_token");
    let first = app.login_with(&token, EMAIL, PASSWORD).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.field("sessionId"), anonymous.field("sessionId"), "the guest's session id carries over");
    // The anonymous token and its refresh token are spent with the login.
    assert_eq!(validate(&app, &token).await, StatusCode::UNAUTHORIZED);
    let anonymous_refresh = app
        .post(
            "/customerlogin/auth/anonymous/refresh",
            None,
            json!({"tenant": "demo", "client_id": "storefront", "refresh_token": anonymous.field("refresh_token")}),
        )
        .await;
    assert_eq!(anonymous_refresh.status, StatusCode::UNAUTHORIZED, "{}", anonymous_refresh.body);
    // A second login from it (another customer: a shared guest cart) is refused ...
    let second = app.login_with(&token, "other@example.com", PASSWORD).await;
    assert_eq!((second.status, second.body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("session_revoked")));
    // ... also after a logout, which leaves the logged-out token dead.
    let old = first.field("access_token");
    assert_eq!(app.post("/customer/demo/logout", Some(&old), json!({})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.login_with(&token, EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(validate(&app, &old).await, StatusCode::UNAUTHORIZED, "logged out stays logged out");
    assert_eq!(refresh(&app, &first.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn eight_parallel_logins_from_one_anonymous_token_make_one_session() {
    let app = Arc::new(TestApp::new().await);
    for i in 0..8 {
        app.create_customer(&format!("c{i}@example.com"), PASSWORD).await;
    }
    let token = app.anonymous().await.field("access_token");
    let replies = parallel(0..8, |i| {
        let (app, token) = (app.clone(), token.clone());
        async move { app.login_with(&token, &format!("c{i}@example.com"), PASSWORD).await }
    })
    .await;
    let statuses: Vec<_> = replies.iter().map(|r| r.status).collect();
    let won: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "{statuses:?}");
    assert!(
        replies.iter().all(|r| [StatusCode::OK, StatusCode::UNAUTHORIZED, StatusCode::CONFLICT].contains(&r.status)),
        "{statuses:?}"
    );
    assert_eq!(validate(&app, &won[0].field("access_token")).await, StatusCode::OK);
}

#[tokio::test]
async fn replaying_a_spent_refresh_token_ends_its_own_login_and_nothing_newer() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let first = app.login(EMAIL, PASSWORD).await;
    let spent = first.field("refresh_token");
    let rotated = refresh(&app, &spent).await;
    assert_eq!(rotated.status, StatusCode::OK);
    // The customer logs in again (a new storefront session).
    let second = app.login(EMAIL, PASSWORD).await;
    // An old copy of the spent token comes back: its own login ends (RFC 9700) ...
    assert_eq!(refresh(&app, &spent).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(validate(&app, &rotated.field("access_token")).await, StatusCode::UNAUTHORIZED);
    // ... and only that one.
    assert_eq!(validate(&app, &second.field("access_token")).await, StatusCode::OK, "the newer login lives");
    assert_eq!(refresh(&app, &second.field("refresh_token")).await.status, StatusCode::OK);
}

// ------------------------------------------- rule 4: atomic, shared lock-out

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_four_parallel_wrong_passwords_verify_at_most_five() {
    let app = Arc::new(TestApp::new().await);
    let id = app.create_customer(EMAIL, PASSWORD).await;
    let mut anonymous = Vec::new();
    for _ in 0..24 {
        anonymous.push(app.anonymous().await.field("access_token"));
    }
    let replies = parallel(anonymous.into_iter().enumerate(), |(i, anon)| {
        let app = app.clone();
        async move { app.login_with(&anon, EMAIL, &format!("wrong guess {i}")).await }
    })
    .await;
    let wrong = replies.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let throttled: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert!(wrong <= 5, "{wrong} wrong passwords were verified");
    assert_eq!(wrong + throttled.len(), 24, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(throttled.iter().all(|r| r.headers.contains_key("retry-after")));
    let budget = app.store().login_budget(&app.tenant, &LoginBudget::Account(id)).await.unwrap().unwrap();
    assert_eq!(budget.attempts as usize, wrong, "each answered wrong password took an attempt");
    // Locked: the right password waits too.
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn login_by_id_and_by_email_spend_one_budget() {
    let app = TestApp::new().await;
    let id = app.create_customer(EMAIL, PASSWORD).await;
    let by_id = |password: &'static str| {
        let app = &app;
        let id = id.to_string();
        async move {
            let anonymous = app.anonymous().await.field("access_token");
            app.post("/customer/demo/login", Some(&anonymous), json!({"id": id, "password": password})).await
        }
    };
    for _ in 0..3 {
        assert_eq!(app.login(EMAIL, "wrong by e-mail").await.status, StatusCode::UNAUTHORIZED);
    }
    for _ in 0..2 {
        assert_eq!(by_id("wrong by id").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(by_id(PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // An identifier nobody has is throttled alike: the answers tell nothing.
    for _ in 0..5 {
        assert_eq!(app.login("nobody@example.com", "guess").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login("nobody@example.com", "guess").await.status, StatusCode::TOO_MANY_REQUESTS);
}

// ------------------------------------------- rule 5: the lock-out cannot keep the owner out

#[tokio::test]
async fn a_device_that_logged_in_before_is_not_held_back_by_others_failures() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let earlier = login_with_device(&app, PASSWORD, None).await;
    assert_eq!(earlier.status, StatusCode::OK);
    let device = earlier.field("device_token");
    assert!(device.starts_with(&earlier.field("customerId")), "the token names its account");
    // Someone else runs the account into its lock: five guesses (the
    // owner's login a moment ago took no attempt: a right password only
    // reads the budget).
    for _ in 0..5 {
        assert_eq!(login_with_device(&app, "attacker guess", None).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_with_device(&app, PASSWORD, None).await.status, StatusCode::TOO_MANY_REQUESTS);
    // The owner's device still gets in, and keeps its token.
    let owner = login_with_device(&app, PASSWORD, Some(&device)).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    assert_eq!(owner.field("device_token"), device);
    // A device token of another account, a made-up one, or one with this
    // account's id put in, is no way around the lock.
    let other = app.create_customer("bob@example.com", PASSWORD).await;
    let bobs = app.login("bob@example.com", PASSWORD).await.field("device_token");
    let alice = earlier.field("customerId");
    let with_alices_id = bobs.replacen(other.as_str(), &alice, 1);
    for presented in [bobs.clone(), format!("{other}.made-up-secret"), with_alices_id] {
        let refused = login_with_device(&app, PASSWORD, Some(&presented)).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{presented}");
    }
    // Failures on the device lock the device, not the account of others.
    for _ in 0..5 {
        assert_eq!(login_with_device(&app, "typo", Some(&device)).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_with_device(&app, PASSWORD, Some(&device)).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_device_token_outlives_a_reset_and_its_budget_holds_in_parallel() {
    let app = Arc::new(TestApp::with_customer(EMAIL, PASSWORD).await);
    let earlier = login_with_device(&app, PASSWORD, None).await;
    let device = earlier.field("device_token");
    let customer = shared::domain::CustomerId::parse(&earlier.field("customerId")).unwrap();
    // A reset moves the credential epoch; the device token is not tied to it
    // (security.md R5: the owner's device keeps its way in).
    let token = reset_token(&app, EMAIL).await;
    assert_eq!(reset_update(&app, &token, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    for _ in 0..5 {
        assert_eq!(login_with_device(&app, "attacker guess", None).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_with_device(&app, NEW_PASSWORD, None).await.status, StatusCode::TOO_MANY_REQUESTS);
    let owner = login_with_device(&app, NEW_PASSWORD, Some(&device)).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    // Whoever holds the token gets the device's budget, no more, also in parallel.
    let replies = parallel(0..24, |i| {
        let (app, device) = (app.clone(), device.clone());
        async move { login_with_device(&app, &format!("wrong guess {i}"), Some(&device)).await }
    })
    .await;
    let wrong = replies.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let throttled = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(wrong <= 5, "{wrong} wrong passwords were verified on the device's budget");
    assert_eq!(wrong + throttled, 24, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let device_id = device.split('.').nth(1).unwrap().to_owned();
    let budget = LoginBudget::Device { customer, device: device_id };
    let stored = app.store().login_budget(&app.tenant, &budget).await.unwrap().unwrap();
    assert_eq!(stored.attempts as usize, wrong, "each answered wrong password took an attempt");
}

#[tokio::test]
async fn a_completed_reset_clears_the_lock() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    for _ in 0..5 {
        app.login(EMAIL, "attacker guess").await;
    }
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    let token = reset_token(&app, EMAIL).await;
    assert_eq!(reset_update(&app, &token, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.login(EMAIL, NEW_PASSWORD).await.status, StatusCode::OK);
}

// ------------------------------------------- rule 6: per-source and per-tenant limits

fn limited(limits: RequestLimits) -> TenantSettings {
    TenantSettings {
        limits,
        // The account lock-out is not what these tests are about.
        lockout_threshold: 1000,
        allowed_link_uris: vec!["http://localhost:8080/reset-password".into()],
        reset_uri: Some("http://localhost:8080/reset-password".into()),
        ..TenantSettings::default()
    }
}

async fn post_from(app: &TestApp, peer: &str, uri: &str, token: &str, body: Value, forwarded: Option<&str>) -> Reply {
    let mut request = request(Method::POST, uri, Some(token), Some(body));
    if let Some(forwarded) = forwarded {
        request.headers_mut().insert("x-forwarded-for", forwarded.parse().unwrap());
    }
    app.send_from(peer, request).await
}

#[tokio::test]
async fn failed_logins_are_limited_per_client_address_and_loopback_is_exempt() {
    let app = TestApp::new().await;
    let tenant =
        app.add_tenant_with("limited", limited(RequestLimits { per_ip_failed_logins: 3, ..Default::default() })).await;
    let anonymous = app.anonymous_for(&tenant).await.field("access_token");
    let login = |n: usize| json!({"email": format!("guess{n}@example.com"), "password": "guess"});
    let uri = "/customer/limited/login";
    for n in 0..3 {
        assert_eq!(
            post_from(&app, "203.0.113.1", uri, &anonymous, login(n), None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let refused = post_from(&app, "203.0.113.1", uri, &anonymous, login(3), None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    // A device that logged in to an account before is not held back by the
    // address's failures; its token is no way around them for another account.
    let (app_ref, tenant_ref) = (&app, &tenant);
    let login_at = |peer: &'static str, body: Value| async move {
        let anonymous = app_ref.anonymous_for(tenant_ref).await.field("access_token");
        post_from(app_ref, peer, uri, &anonymous, body, None).await
    };
    for email in ["owner@example.com", "other@example.com"] {
        app.create_customer_in(&tenant, email, PASSWORD).await;
    }
    let owners = login_at("203.0.113.9", json!({"email": "owner@example.com", "password": PASSWORD})).await;
    let device = owners.field("device_token");
    let with_device = |email: &str| json!({"email": email, "password": PASSWORD, "device_token": device});
    let owner = login_at("203.0.113.1", with_device("owner@example.com")).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
    let other = login_at("203.0.113.1", with_device("other@example.com")).await;
    assert_eq!(other.status, StatusCode::TOO_MANY_REQUESTS, "{}", other.body);
    // Another address has its own count; loopback (development, tests) none.
    assert_eq!(post_from(&app, "203.0.113.2", uri, &anonymous, login(4), None).await.status, StatusCode::UNAUTHORIZED);
    for n in 5..9 {
        assert_eq!(
            post_from(&app, "127.0.0.1", uri, &anonymous, login(n), None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn signups_and_mail_requests_are_limited_per_address_and_per_tenant() {
    let app = TestApp::new().await;
    let limits =
        RequestLimits { per_ip_signups: 2, per_tenant_signups: 3, per_ip_mail_requests: 2, ..Default::default() };
    let tenant = app.add_tenant_with("limited", limited(limits)).await;
    let anonymous = app.anonymous_for(&tenant).await.field("access_token");
    // From one address: two go through, the third is refused.
    let from_one_address = async |peer: &str, uri: &str, body: &dyn Fn(usize) -> Value| {
        for n in 0..2 {
            assert_eq!(
                post_from(&app, peer, uri, &anonymous, body(n), None).await.status,
                StatusCode::ACCEPTED,
                "{uri}"
            );
        }
        let third = post_from(&app, peer, uri, &anonymous, body(2), None).await;
        assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
    };
    let signup = |n: usize| json!({"email": format!("new{n}@example.com"), "password": PASSWORD});
    let uri = "/customer/limited/signup";
    from_one_address("203.0.113.1", uri, &signup).await;
    assert_eq!(post_from(&app, "203.0.113.2", uri, &anonymous, signup(3), None).await.status, StatusCode::ACCEPTED);
    let tenant_full = post_from(&app, "203.0.113.3", uri, &anonymous, signup(4), None).await;
    assert_eq!(tenant_full.status, StatusCode::TOO_MANY_REQUESTS, "the tenant's limit holds across addresses");

    let reset = |n: usize| json!({"email": format!("new{n}@example.com")});
    from_one_address("203.0.113.4", "/customer/limited/password/reset", &reset).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_shopper_counts_on_their_own() {
    let app = TestApp::new().await;
    let mut settings = limited(RequestLimits { per_ip_signups: 1, ..Default::default() });
    settings.trusted_proxies = vec!["198.51.100.0/28".into()];
    let tenant = app.add_tenant_with("limited", settings).await;
    let anonymous = app.anonymous_for(&tenant).await.field("access_token");
    let signup = |n: usize| json!({"email": format!("shopper{n}@example.com"), "password": PASSWORD});
    let uri = "/customer/limited/signup";
    // The shop's server-side rendering signs up two shoppers from one address.
    let ssr = "198.51.100.7";
    assert_eq!(post_from(&app, ssr, uri, &anonymous, signup(0), Some("192.0.2.1")).await.status, StatusCode::ACCEPTED);
    assert_eq!(post_from(&app, ssr, uri, &anonymous, signup(1), Some("192.0.2.2")).await.status, StatusCode::ACCEPTED);
    let again = post_from(&app, ssr, uri, &anonymous, signup(2), Some("192.0.2.1")).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "the first shopper's limit is reached");
    // Anyone else's X-Forwarded-For is ignored: the peer counts.
    let other = "203.0.113.9";
    assert_eq!(
        post_from(&app, other, uri, &anonymous, signup(3), Some("192.0.2.3")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post_from(&app, other, uri, &anonymous, signup(4), Some("192.0.2.4")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

// ------------------------------------------- rule 7: mail caps everywhere

#[tokio::test]
async fn eight_signups_for_one_address_send_at_most_three_mails_of_a_kind() {
    let app = TestApp::new().await;
    let mut replies = Vec::new();
    for _ in 0..8 {
        let reply = signup(&app, EMAIL, PASSWORD).await;
        replies.push((reply.status, reply.body));
    }
    assert!(replies.iter().all(|r| *r == (StatusCode::ACCEPTED, json!({"result": "activation_pending"}))));
    let mails = app.mails_to(EMAIL);
    let activations = mails.iter().filter(|m| m["text"].as_str().unwrap().contains("secret=")).count();
    assert_eq!((activations, mails.len() - activations), (1, 3), "one activation, three 'account exists' notices");
    for _ in 0..5 {
        assert_eq!(resend(&app, EMAIL).await.status, StatusCode::ACCEPTED);
    }
    assert_eq!(app.mails_to(EMAIL).len(), 4 + 3, "three resent links");
    for _ in 0..5 {
        assert_eq!(request_reset(&app, EMAIL).await.status, StatusCode::ACCEPTED);
    }
    assert_eq!(app.mails_to(EMAIL).len(), 7 + 3, "three reset links");
}

#[tokio::test]
async fn notices_are_capped_too() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let mut password = PASSWORD.to_owned();
    for i in 0..5 {
        let next = format!("passphrase number {i} of five");
        assert_eq!(change_password(&app, &token, &password, &next).await.status, StatusCode::NO_CONTENT);
        password = next;
    }
    assert_eq!(app.mails_to(EMAIL).len(), 3, "three 'password changed' notices an hour");
}

// ------------------------------------------- rule 8: no pre-hijacking

#[tokio::test]
async fn a_resent_link_makes_whoever_opens_it_choose_the_password() {
    let app = TestApp::new().await;
    // Someone signs up with Ann's address and a password of theirs.
    assert_eq!(signup(&app, EMAIL, "the squatter's own password").await.status, StatusCode::ACCEPTED);
    // Ann asks for a link herself.
    assert_eq!(resend(&app, EMAIL).await.status, StatusCode::ACCEPTED);
    let link = app.latest_link(EMAIL, "secret").unwrap();
    let bare = activate(&app, &link, json!({})).await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    assert_eq!(bare.error_fields(), ["password", "password_check"]);
    let chosen = json!({"password": NEW_PASSWORD, "password_check": NEW_PASSWORD});
    assert_eq!(activate(&app, &link, chosen).await.status, StatusCode::OK);
    assert_eq!(app.login(EMAIL, "the squatter's own password").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(EMAIL, NEW_PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn pending_accounts_expire_with_their_email_guard() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous().await.field("access_token");
    let body = json!({"email": EMAIL, "password": "the squatter's own password",
        "customerAddress": {"street": "Main St", "zipCode": "10115", "city": "Berlin", "country": "DE"}});
    assert_eq!(app.post("/customer/demo/signup", Some(&anonymous), body).await.status, StatusCode::ACCEPTED);
    let squatter = profile_of(&app, EMAIL).await;
    let id = squatter.id.clone();
    let now = shared::clock::now_epoch();
    let week = shared::customer::PENDING_LIFETIME_SECS;
    let keys = [
        ItemKey::profile(&app.tenant, &id),
        ItemKey::email_guard(&app.tenant, EMAIL),
        ItemKey::address(&app.tenant, &id, squatter.default_address_id.as_ref().unwrap().as_str()),
    ];
    for key in &keys {
        let item: Value = app.store().get(key).await.unwrap().unwrap();
        let ttl = item["ttl"].as_i64().expect("a pending account's items expire");
        assert!((now + week - 5..=now + week + 5).contains(&ttl), "{key:?}: ttl {ttl}");
    }
    // A week passes (DynamoDB's TTL deletes lazily; until then the items read as gone).
    for key in &keys {
        let past = AttributeValue::N((now - 1).to_string());
        app.update_raw(key, "SET #ttl = :past", &[("#ttl", "ttl")], vec![(":past", past)]).await;
    }
    assert_eq!(app.login(EMAIL, "the squatter's own password").await.status, StatusCode::UNAUTHORIZED);
    // Ann signs up for real: a new account, her own activation link.
    assert_eq!(signup(&app, EMAIL, NEW_PASSWORD).await.status, StatusCode::ACCEPTED);
    let link = app.latest_link(EMAIL, "secret").unwrap();
    assert_ne!(link.identifier, squatter.id);
    assert_eq!(activate(&app, &link, json!({})).await.status, StatusCode::OK);
    assert_eq!(app.login(EMAIL, NEW_PASSWORD).await.status, StatusCode::OK);
    let activated = profile_of(&app, EMAIL).await;
    assert_eq!(activated.ttl, None, "activation keeps the account");
}

// ------------------------------------------- rule 9: equal answers, equal time

async fn timed<F: std::future::Future<Output = Reply>>(work: F) -> (Duration, StatusCode, Value) {
    let started = Instant::now();
    let reply = work.await;
    (started.elapsed(), reply.status, reply.body)
}

/// Every case answers the same, no sooner than the floor, and none takes
/// more than twice as long as another.
fn assert_equal_answers(what: &str, cases: &[(Duration, StatusCode, Value)]) {
    assert!(cases.iter().all(|c| (c.1, &c.2) == (cases[0].1, &cases[0].2)), "{what}: {cases:?}");
    assert!(cases.iter().all(|c| c.0 >= RESPONSE_FLOOR), "{what}: {cases:?}");
    let (min, max) = (cases.iter().map(|c| c.0).min().unwrap(), cases.iter().map(|c| c.0).max().unwrap());
    assert!(max < min * 2, "{what}: {min:?} vs {max:?}");
}

#[tokio::test]
async fn resend_signup_and_email_change_answer_the_same_in_the_same_time() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    app.create_customer("taken@example.com", PASSWORD).await;
    signup(&app, "pending@example.com", PASSWORD).await;
    let anonymous = app.anonymous().await.field("access_token");

    let mut resends = Vec::new();
    for email in ["pending@example.com", EMAIL, "nobody@example.com"] {
        let body = json!({"email": email});
        resends.push(timed(app.post("/customer/demo/activate/resend", Some(&anonymous), body)).await);
    }
    assert_equal_answers("activate/resend", &resends);

    let mut signups = Vec::new();
    for email in ["fresh@example.com", EMAIL] {
        let body = json!({"email": email, "password": NEW_PASSWORD});
        signups.push(timed(app.post("/customer/demo/signup", Some(&anonymous), body)).await);
    }
    assert_equal_answers("signup", &signups);

    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let mut changes = Vec::new();
    for new_email in ["free@example.com", "taken@example.com"] {
        let body = json!({"email": EMAIL, "password": PASSWORD, "newEmail": new_email});
        changes.push(timed(app.post("/customer/demo/me/accounts/internal/email/change", Some(&token), body)).await);
    }
    assert_equal_answers("e-mail change", &changes);
}
