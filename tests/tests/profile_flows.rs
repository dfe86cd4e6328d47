//! The profile function's rules against DynamoDB Local: no lost updates under
//! parallel PATCHes, deletion that leaves nothing behind, a password change
//! that signs out every other session, and customers kept apart.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::table_keys::ItemKey;
use tests::{Reply, TestApp, parallel, request};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "violet tundra maple lantern 2026";
const ME: &str = "/customer/demo/me";

async fn patch(app: &TestApp, token: &str, body: Value) -> Reply {
    app.send(request(Method::PATCH, ME, Some(token), Some(body))).await
}

async fn delete_me(app: &TestApp, token: &str, password: &str) -> Reply {
    app.send(request(Method::DELETE, ME, Some(token), Some(json!({"password": password})))).await
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Reply {
    app.post("/customer/demo/me/password/change", Some(token), json!({"currentPassword": current, "newPassword": new}))
        .await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Reply {
    app.post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": refresh_token})).await
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_parallel_patches_on_one_version_let_exactly_one_through_and_lose_nothing() {
    let app = Arc::new(TestApp::with_customer(EMAIL, PASSWORD).await);
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");

    let patches = parallel(0..30, |i| {
        let (app, token) = (app.clone(), token.clone());
        async move {
            let body = json!({"mixins": {format!("m{i}"): i}, "metadata": {"version": 1}});
            (i, patch(&app, &token, body).await)
        }
    })
    .await;
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for (i, reply) in patches {
        match reply.status {
            StatusCode::OK => winners.push(i),
            StatusCode::CONFLICT => {
                assert_eq!(reply.body["code"], "version_conflict");
                assert_eq!(reply.body["currentVersion"], 2, "the 409 names the version that won");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one PATCH of version 1 wins");
    assert_eq!(conflicts, 29);
    let winner = winners[0];
    let profile = app.get(ME, Some(&token)).await;
    assert_eq!(profile.body["metadata"]["version"], 2);
    assert_eq!(profile.body["mixins"], json!({format!("m{winner}"): winner}));
    assert_eq!(profile.body["firstName"], "Test", "fields the PATCH did not name stay");

    // The 29 losers re-read and re-apply, in parallel, until each gets through:
    // every change lands, none overwrites another.
    parallel((0..30).filter(|i| *i != winner), |i| {
        let (app, token) = (app.clone(), token.clone());
        async move {
            for _ in 0..200 {
                let version = app.get(ME, Some(&token)).await.body["metadata"]["version"].clone();
                let body = json!({"mixins": {format!("m{i}"): i}, "metadata": {"version": version}});
                let reply = patch(&app, &token, body).await;
                match reply.status {
                    StatusCode::OK => return,
                    StatusCode::CONFLICT => continue,
                    other => panic!("unexpected {other}: {}", reply.body),
                }
            }
            panic!("m{i} never got through");
        }
    })
    .await;
    let profile = app.get(ME, Some(&token)).await;
    assert_eq!(profile.body["metadata"]["version"], 31);
    let mixins = profile.body["mixins"].as_object().unwrap();
    assert_eq!(mixins.len(), 30, "no update was lost: {mixins:?}");
    assert!((0..30).all(|i| mixins[&format!("m{i}")] == i));
    assert_eq!(profile.body["lastName"], "Customer");
}

#[tokio::test]
async fn a_stale_or_missing_version_is_a_409_and_writes_nothing() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    let first = patch(&app, &token, json!({"firstName": "Anna", "metadata": {"version": 1}})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["metadata"]["version"], 2);
    assert_ne!(first.body["metadata"]["modifiedAt"], Value::Null);
    for body in [json!({"firstName": "Old", "metadata": {"version": 1}}), json!({"firstName": "Old"})] {
        let reply = patch(&app, &token, body).await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert_eq!(reply.body["currentVersion"], 2);
    }
    let bad = patch(&app, &token, json!({"email": "x@example.com", "accounts": [], "metadata": {"version": 2}})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, ["accounts", "email"]);
    let profile = app.get(ME, Some(&token)).await;
    assert_eq!(profile.body["firstName"], "Anna");
    assert_eq!(profile.body["metadata"]["version"], 2);
    assert_eq!(profile.body["accounts"][0]["email"], EMAIL);
}

#[tokio::test]
async fn deleting_the_account_removes_every_item_and_the_email_can_sign_up_again() {
    let app = TestApp::new().await;
    let other = app.create_customer("bob@example.com", PASSWORD).await;
    let id = app.create_customer(EMAIL, PASSWORD).await;
    let first = app.login(EMAIL, PASSWORD).await;
    let second = app.login(EMAIL, PASSWORD).await;
    let token = first.field("access_token");
    // What other functions leave on a customer: an address, a pending reset
    // token, a social link, login-failure counters.
    app.put_address(&id, "a1").await;
    let owner = || HashMap::from([("customerId".into(), s(id.as_str()))]);
    app.put_raw(&ItemKey::one_time_token(&app.tenant, "feedbeef"), owner()).await;
    app.put_raw(&ItemKey::social(&app.tenant, "google", "g-123"), owner()).await;
    let pending = AttributeValue::M(HashMap::from([("PASSWORD_RESET".into(), s("feedbeef"))]));
    let link = AttributeValue::M(HashMap::from([("issuer".into(), s("google")), ("subject".into(), s("g-123"))]));
    app.update_raw(
        &ItemKey::profile(&app.tenant, &id),
        "SET pendingTokens = :p, socialLinks = :l, defaultAddressId = :a",
        &[],
        vec![(":p", pending), (":l", AttributeValue::L(vec![link])), (":a", s("a1"))],
    )
    .await;
    assert_eq!(app.login(EMAIL, "wrong password").await.status, StatusCode::UNAUTHORIZED);

    let wrong = delete_me(&app, &token, "wrong password").await;
    wrong.assert_problem(StatusCode::FORBIDDEN, "invalid_credentials");
    assert_eq!(app.get(ME, Some(&token)).await.status, StatusCode::OK, "a wrong password deletes nothing");
    let exported = app.get("/customer/demo/me/export", Some(&token)).await;
    assert_eq!(exported.status, StatusCode::OK, "{}", exported.body);
    assert_eq!(exported.body["addresses"][0]["isDefault"], true);
    assert_eq!(exported.body["socialLinks"][0]["subject"], "g-123");
    assert!(!exported.body.to_string().contains("feedbeef"), "no token material in the export");

    let deleted = delete_me(&app, &token, PASSWORD).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(deleted.body, json!({"result": "deleted"}));

    // Nothing is left: the partition, the guard, the token, the link, the counters.
    let store = app.store();
    assert_eq!(store.customer_partition_keys(&app.tenant, &id).await.unwrap(), Vec::<ItemKey>::new());
    let guard_pk = ItemKey::email_guard(&app.tenant, EMAIL).pk;
    assert!(store.query_prefix(&guard_pk, "EMAIL").await.unwrap().is_empty(), "a Query of the guard finds nothing");
    assert!(store.get_many(&[ItemKey::email_guard(&app.tenant, EMAIL)]).await.unwrap().is_empty());
    let leftovers = store
        .get_many(&[
            ItemKey::one_time_token(&app.tenant, "feedbeef"),
            ItemKey::social(&app.tenant, "google", "g-123"),
            ItemKey::throttle(&app.tenant, &format!("id:{id}")),
            ItemKey::throttle(&app.tenant, &format!("email:{EMAIL}")),
        ])
        .await
        .unwrap();
    assert!(leftovers.is_empty(), "left behind: {:?}", leftovers.keys());
    let budget = shared::store::LoginBudget::Account(id.clone());
    assert!(store.login_budget(&app.tenant, &budget).await.unwrap().is_none(), "the login budget is gone too");

    // Both sessions are gone: every route answers 401.
    for access in [token.clone(), second.field("access_token")] {
        let replies = [
            app.get(ME, Some(&access)).await,
            patch(&app, &access, json!({"firstName": "X", "metadata": {"version": 1}})).await,
            delete_me(&app, &access, PASSWORD).await,
            change_password(&app, &access, PASSWORD, NEW_PASSWORD).await,
            app.get("/customer/demo/me/export", Some(&access)).await,
            app.get("/customer/demo/me/sessions", Some(&access)).await,
            app.get("/customer/demo/validateauthtoken", Some(&access)).await,
        ];
        for reply in replies {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        }
    }
    for refresh_token in [first.field("refresh_token"), second.field("refresh_token")] {
        assert_eq!(refresh(&app, &refresh_token).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let mails = app.outbox_messages();
    assert!(mails.iter().any(|m| m["to"] == EMAIL && m["subject"].as_str().unwrap().contains("deleted")));

    // The other customer is untouched, and the e-mail is free again.
    assert!(store.get_customer(&app.tenant, &other).await.unwrap().is_some());
    assert_eq!(app.login("bob@example.com", PASSWORD).await.status, StatusCode::OK);
    let again = app.create_customer(EMAIL, PASSWORD).await;
    assert_ne!(again, id);
    let login = app.login(EMAIL, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.field("customerId"), again.to_string());
}

#[tokio::test]
async fn a_password_change_refuses_the_other_sessions_tokens_and_keeps_this_one() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let mine = app.login(EMAIL, PASSWORD).await;
    let other = app.login(EMAIL, PASSWORD).await;
    let token = mine.field("access_token");

    let changed = change_password(&app, &token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);

    let other_access = app.get(ME, Some(&other.field("access_token"))).await;
    other_access.assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(refresh(&app, &other.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);

    assert_eq!(app.get(ME, Some(&token)).await.status, StatusCode::OK, "this session stays");
    assert_eq!(refresh(&app, &mine.field("refresh_token")).await.status, StatusCode::OK);
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(EMAIL, NEW_PASSWORD).await.status, StatusCode::OK);
    let mails = app.outbox_messages();
    let notice = mails.iter().find(|m| m["subject"].as_str().unwrap().contains("password was changed")).unwrap();
    assert_eq!(notice["to"], EMAIL);
    assert!(!notice.to_string().contains(NEW_PASSWORD));
}

#[tokio::test]
async fn the_current_password_check_is_throttled_like_login() {
    let app = TestApp::new().await;
    let id = app.create_customer(EMAIL, PASSWORD).await;
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    // The login a moment ago took no attempt (a right password only reads
    // the budget): five wrong passwords use up the five.
    for _ in 0..5 {
        let reply = change_password(&app, &token, "wrong password", NEW_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    // Locked now: even the right password waits, here, on DELETE me and on login by id.
    let locked = change_password(&app, &token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers.contains_key("retry-after"));
    assert_eq!(delete_me(&app, &token, PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    let anonymous = app.anonymous().await.field("access_token");
    let by_id =
        app.post("/customer/demo/login", Some(&anonymous), json!({"id": id.to_string(), "password": PASSWORD})).await;
    assert_eq!(by_id.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(app.store().get_customer(&app.tenant, &id).await.unwrap().is_some());
}

#[tokio::test]
async fn customer_a_never_reads_or_changes_customer_b() {
    let app = TestApp::new().await;
    let a = app.create_customer(EMAIL, PASSWORD).await;
    let b = app.create_customer("bob@example.com", PASSWORD).await;
    let token_a = app.login(EMAIL, PASSWORD).await.field("access_token");
    let token_b = app.login("bob@example.com", PASSWORD).await.field("access_token");

    let me_a = app.get(ME, Some(&token_a)).await;
    assert_eq!(me_a.field("id"), a.to_string());
    let patched = patch(&app, &token_a, json!({"firstName": "Anna", "metadata": {"version": 1}})).await;
    assert_eq!(patched.field("id"), a.to_string());
    let me_b = app.get(ME, Some(&token_b)).await;
    assert_eq!(me_b.field("id"), b.to_string());
    assert_eq!(me_b.body["firstName"], "Test");
    assert_eq!(me_b.body["metadata"]["version"], 1);

    let export_a = app.get("/customer/demo/me/export", Some(&token_a)).await;
    assert!(!export_a.body.to_string().contains(b.as_str()));
    assert!(!export_a.body.to_string().contains("bob@example.com"));

    // A's password and deletion act on A only.
    assert_eq!(change_password(&app, &token_a, PASSWORD, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(ME, Some(&token_b)).await.status, StatusCode::OK, "B's session lives on");
    assert_eq!(delete_me(&app, &token_a, NEW_PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.get(ME, Some(&token_b)).await.field("id"), b.to_string());
    assert_eq!(app.login("bob@example.com", PASSWORD).await.status, StatusCode::OK);

    // A token of tenant demo is refused on another tenant's `me`.
    app.add_tenant("other").await;
    assert_eq!(app.get("/customer/other/me", Some(&token_b)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn after_deletion_the_email_signs_up_again_through_the_signup_route() {
    let app = TestApp::new().await;
    let old_id = app.create_customer(EMAIL, PASSWORD).await;
    let token = app.login(EMAIL, PASSWORD).await.field("access_token");
    assert_eq!(delete_me(&app, &token, PASSWORD).await.status, StatusCode::OK);

    let anonymous = app.anonymous().await.field("access_token");
    let signup =
        app.post("/customer/demo/signup", Some(&anonymous), json!({"email": EMAIL, "password": NEW_PASSWORD})).await;
    assert_eq!(signup.status, StatusCode::ACCEPTED, "{}", signup.body);
    // A new account is created (an activation link, not "you already have an account").
    let link = app.latest_link(EMAIL, "secret").expect("an activation link was mailed");
    let activated =
        app.post("/customer/demo/activate", None, json!({"identifier": link.identifier, "secret": link.secret})).await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
    let again = app.login(EMAIL, NEW_PASSWORD).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_ne!(again.field("customerId"), old_id.to_string(), "a new customer, not the deleted one");
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
}
