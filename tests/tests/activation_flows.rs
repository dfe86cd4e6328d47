//! Sign-up, activation and e-mail change rules, against DynamoDB Local, with
//! real parallel requests where the rule is about concurrency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::{Value, json};
use shared::address::AddressRecord;
use shared::customer::{CustomerRecord, CustomerStatus, EmailGuard};
use shared::domain::CustomerId;
use shared::table_keys::ItemKey;
use tests::links::MailedLink;
use tests::{Reply, TestApp, parallel, tally};

const PASSWORD: &str = "violet tulips under rain";

async fn signup(app: &TestApp, body: Value) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/signup", Some(&anonymous), body).await
}

async fn activate(app: &TestApp, link: &MailedLink, extra: Value) -> Reply {
    let mut body = json!({"identifier": link.identifier, "secret": link.secret});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.post("/customer/demo/activate", None, body).await
}

async fn resend(app: &TestApp, email: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post("/customer/demo/activate/resend", Some(&anonymous), json!({"email": email})).await
}

async fn change_email(app: &TestApp, token: &str, email: &str, new_email: &str, sync: bool) -> Reply {
    app.post(
        "/customer/demo/me/accounts/internal/email/change",
        Some(token),
        json!({"email": email, "password": PASSWORD, "newEmail": new_email, "syncContactEmail": sync}),
    )
    .await
}

async fn confirm(app: &TestApp, link: &MailedLink) -> Reply {
    app.post("/customer/demo/email/confirm", None, json!({"identifier": link.identifier, "key": link.secret})).await
}

async fn profile(app: &TestApp, id: &str) -> CustomerRecord {
    app.store().get_customer(&app.tenant, &CustomerId::parse(id).unwrap()).await.unwrap().expect("profile exists")
}

async fn guard(app: &TestApp, email: &str) -> Option<EmailGuard> {
    app.store().get(&ItemKey::email_guard(&app.tenant, &email.to_lowercase())).await.unwrap()
}

/// Every profile item in this app's table (tests only: a scan).
async fn profile_count(app: &TestApp) -> usize {
    let out = app.store().client().scan().table_name(app.store().table()).send().await.unwrap();
    out.items()
        .iter()
        .filter(|item| item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == "PROFILE"))
        .count()
}

fn invalid_token(reply: &Reply) -> bool {
    reply.status == StatusCode::BAD_REQUEST && reply.body["code"] == "invalid_token"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_signups_with_one_email_create_exactly_one_customer() {
    let app = Arc::new(TestApp::new().await);
    let variants = ["race@example.com", "  Race@Example.com", "RACE@EXAMPLE.COM  ", " race@EXAMPLE.com "];
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(app.anonymous().await.field("access_token"));
    }
    let replies = parallel(tokens.into_iter().enumerate(), |(i, token)| {
        let app = app.clone();
        let body = json!({"email": variants[i % variants.len()], "password": PASSWORD,
            "customerDetails": {"firstName": format!("Racer{i}")}});
        async move {
            let reply = app.post("/customer/demo/signup", Some(&token), body).await;
            (reply.status, reply.headers["content-type"].clone(), reply.body)
        }
    })
    .await;
    assert!(replies.iter().all(|r| *r == replies[0]), "every response is identical: {replies:?}");
    assert_eq!(replies[0].0, StatusCode::ACCEPTED);
    assert_eq!(replies[0].2, json!({"result": "activation_pending"}));

    assert_eq!(profile_count(&app).await, 1, "exactly one customer");
    let guard = guard(&app, "race@example.com").await.expect("one guard");
    assert_eq!(guard.status, CustomerStatus::Pending);
    let mails = app.mails_to("race@example.com");
    // The mail cap (security issue #14): at most 3 of a kind per address and hour.
    assert_eq!(mails.len(), 1 + 3, "one activation link, then at most three 'you already have an account'");
    let activations = mails.iter().filter(|m| m["text"].as_str().unwrap().contains("secret=")).count();
    assert_eq!(activations, 1, "one activation link; the others are 'you already have an account'");
    let link = app.latest_link("race@example.com", "secret").unwrap();
    assert_eq!(link.identifier, guard.customer_id);
}

#[tokio::test]
async fn a_taken_email_answers_like_a_new_one_and_costs_comparable_time() {
    let app = TestApp::new().await;
    let body = |email: &str| json!({"email": email, "password": PASSWORD});
    assert_eq!(signup(&app, body("taken@example.com")).await.status, StatusCode::ACCEPTED);

    let mut new_times = Vec::new();
    let mut taken_times = Vec::new();
    let mut replies = Vec::new();
    for i in 0..3 {
        let anonymous = app.anonymous().await.field("access_token");
        let started = Instant::now();
        let fresh = app.post("/customer/demo/signup", Some(&anonymous), body(&format!("new{i}@example.com"))).await;
        new_times.push(started.elapsed());
        let started = Instant::now();
        let taken = app.post("/customer/demo/signup", Some(&anonymous), body(" TAKEN@example.com")).await;
        taken_times.push(started.elapsed());
        replies.push((fresh.status, fresh.body, fresh.headers["content-type"].clone()));
        replies.push((taken.status, taken.body, taken.headers["content-type"].clone()));
    }
    assert!(replies.iter().all(|r| *r == replies[0]), "{replies:?}");
    // Both paths hash the password: neither is a small fraction of the other.
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[1]
    };
    let (new, taken) = (median(&mut new_times), median(&mut taken_times));
    assert!(taken * 4 >= new && new * 4 >= taken, "new {new:?} vs taken {taken:?}");

    let mails = app.mails_to("taken@example.com");
    assert_eq!(mails.len(), 4, "activation, then three notices");
    assert!(mails[1]["subject"].as_str().unwrap().contains("already have"), "{}", mails[1]["subject"]);
    assert!(!mails[1]["text"].as_str().unwrap().contains("secret="));
    assert_eq!(profile_count(&app).await, 4);
}

#[tokio::test]
async fn signup_then_mailed_link_activates_and_login_works() {
    let app = TestApp::new().await;
    let email = "ann@example.com";
    let reply = signup(
        &app,
        json!({"email": email, "password": PASSWORD,
            "customerDetails": {"firstName": "Ann", "lastName": "Lee", "b2b": {"companyRegistrationId": "HRB 1", "legalEntities": [{"id": "le1"}]}},
            "customerAddress": {"street": "Hauptstr.", "zipCode": "10115", "city": "Berlin", "country": "de"}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);

    // Stored as PENDING, with the first address as the default.
    let link = app.latest_link(email, "secret").expect("activation mail");
    let stored = profile(&app, &link.identifier).await;
    assert_eq!(stored.status, CustomerStatus::Pending);
    assert_eq!(stored.details.business_model(), "B2B");
    assert_eq!(stored.details.contact_email.as_deref(), Some(email), "contactEmail defaults to the e-mail");
    assert_eq!(stored.address_count, 1);
    let address_id = stored.default_address_id.clone().expect("default address");
    let address: AddressRecord = app
        .store()
        .get(&ItemKey::address(&app.tenant, &CustomerId::parse(&link.identifier).unwrap(), address_id.as_str()))
        .await
        .unwrap()
        .expect("address stored");
    assert_eq!(address.address.country, "DE");
    assert!(!format!("{stored:?}").contains(&link.secret), "only the hash is stored");

    // Before activation: 403 only with the right password.
    let early = app.login(email, PASSWORD).await;
    early.assert_problem(StatusCode::FORBIDDEN, "account_not_activated");
    let wrong = app.login(email, "not the password at all").await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");

    let reply = activate(&app, &link, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(app.login(email, PASSWORD).await.status, StatusCode::OK);
    let stored = profile(&app, &link.identifier).await;
    assert_eq!(stored.status, CustomerStatus::Active);
    assert!(stored.pending_tokens.is_empty());

    // The secret works once.
    assert!(invalid_token(&activate(&app, &link, json!({})).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_activations_with_one_secret_let_exactly_one_through() {
    let app = Arc::new(TestApp::new().await);
    signup(&app, json!({"email": "once@example.com", "password": PASSWORD})).await;
    let link = app.latest_link("once@example.com", "secret").unwrap();
    let statuses = parallel(0..10, |_| {
        let (app, link) = (app.clone(), link.clone());
        async move { activate(&app, &link, json!({})).await.status }
    })
    .await;
    assert_eq!(tally(&statuses), [(StatusCode::OK, 1), (StatusCode::BAD_REQUEST, 9)], "{statuses:?}");
}

#[tokio::test]
async fn signup_without_password_must_choose_one_at_activation() {
    let app = TestApp::new().await;
    let email = "nopass@example.com";
    let reply = signup(&app, json!({"email": email, "customerDetails": {"firstName": "Nora"}})).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let link = app.latest_link(email, "secret").unwrap();

    let missing = activate(&app, &link, json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error_fields(), ["password", "password_check"]);
    let weak = activate(&app, &link, json!({"password": "nora1234", "password_check": "nora1234"})).await;
    weak.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "weak_password");

    let ok = activate(&app, &link, json!({"password": PASSWORD, "password_check": PASSWORD})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(app.login(email, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_secret_is_bound_to_its_identifier_purpose_and_tenant() {
    let app = TestApp::new().await;
    app.add_tenant("other").await;
    signup(&app, json!({"email": "bound@example.com", "password": PASSWORD})).await;
    let link = app.latest_link("bound@example.com", "secret").unwrap();
    let someone = app.create_customer("someone@example.com", PASSWORD).await;

    let wrong_identifier = MailedLink { identifier: someone.to_string(), secret: link.secret.clone() };
    assert!(invalid_token(&activate(&app, &wrong_identifier, json!({})).await));
    assert!(invalid_token(&confirm(&app, &link).await), "an activation secret is no e-mail key");
    let other_tenant =
        app.post("/customer/other/activate", None, json!({"identifier": link.identifier, "secret": link.secret})).await;
    assert!(invalid_token(&other_tenant));
    let garbage = MailedLink { identifier: "not an id!".into(), secret: link.secret.clone() };
    assert!(invalid_token(&activate(&app, &garbage, json!({})).await));
    // None of that consumed it.
    assert_eq!(activate(&app, &link, json!({})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn resend_retires_the_old_secret_and_mails_at_most_three_times_an_hour() {
    let app = TestApp::new().await;
    let email = "late@example.com";
    signup(&app, json!({"email": email, "password": PASSWORD})).await;
    let first = app.latest_link(email, "secret").unwrap();

    for _ in 0..5 {
        let reply = resend(&app, " LATE@example.com").await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(reply.body, json!({"result": "email_sent"}));
    }
    assert_eq!(app.mails_to(email).len(), 1 + 3, "sign-up mail, then three resends");
    let latest = app.latest_link(email, "secret").unwrap();
    assert_ne!(first.secret, latest.secret);
    assert!(invalid_token(&activate(&app, &first, json!({})).await), "the old secret is retired");
    // A resent link asks whoever opens it to choose the password (security issue #14).
    let chosen = json!({"password": "my own new passphrase", "password_check": "my own new passphrase"});
    assert_eq!(activate(&app, &latest, chosen).await.status, StatusCode::OK);

    // Active and unknown accounts: the same answer, no mail.
    let before = app.outbox_messages().len();
    assert_eq!(resend(&app, email).await.body, json!({"result": "email_sent"}));
    assert_eq!(resend(&app, "nobody@example.com").await.status, StatusCode::ACCEPTED);
    assert_eq!(app.outbox_messages().len(), before);
}

#[tokio::test]
async fn email_change_swaps_the_login_and_follows_with_contact_email() {
    let app = TestApp::new().await;
    let id = app.create_customer("old@example.com", PASSWORD).await.to_string();
    let token = app.login("old@example.com", PASSWORD).await.field("access_token");
    let before = profile(&app, &id).await;

    let reply = change_email(&app, &token, "OLD@example.com", "New@Example.com", true).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let notice = app.mails_to("old@example.com").pop().expect("notice to the old address");
    assert!(notice["text"].as_str().unwrap().contains("New@Example.com"));
    let link = app.latest_link("new@example.com", "key").expect("key to the new address");
    assert_eq!(link.identifier, id);
    // Nothing changes before confirmation.
    assert_eq!(app.login("old@example.com", PASSWORD).await.status, StatusCode::OK);

    let reply = confirm(&app, &link).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let after = profile(&app, &id).await;
    assert_eq!(after.email.as_str(), "New@Example.com");
    assert_eq!(after.details.contact_email.as_deref(), Some("New@Example.com"));
    assert_eq!(after.version, before.version + 1);
    assert!(after.pending_tokens.is_empty());
    assert_eq!(app.login("new@example.com", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.login("old@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED, "old address is gone");
    assert!(guard(&app, "old@example.com").await.is_none());
    assert!(invalid_token(&confirm(&app, &link).await), "the key works once");

    // Without sync, contactEmail stays.
    let token = app.login("new@example.com", PASSWORD).await.field("access_token");
    let reply = change_email(&app, &token, "new@example.com", "third@example.com", false).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "a second change after a confirmed one: {}", reply.body);
    confirm(&app, &app.latest_link("third@example.com", "key").unwrap()).await;
    let after = profile(&app, &id).await;
    assert_eq!(after.email.as_str(), "third@example.com");
    assert_eq!(after.details.contact_email.as_deref(), Some("New@Example.com"));
}

#[tokio::test]
async fn email_change_confirmed_after_someone_took_the_address_is_409_and_changes_nothing() {
    let app = TestApp::new().await;
    let ann = app.create_customer("ann@example.com", PASSWORD).await.to_string();
    let token = app.login("ann@example.com", PASSWORD).await.field("access_token");
    assert_eq!(
        change_email(&app, &token, "ann@example.com", "wanted@example.com", true).await.status,
        StatusCode::ACCEPTED
    );
    let link = app.latest_link("wanted@example.com", "key").unwrap();

    // Bob signs up with the address and activates it before Ann confirms.
    signup(&app, json!({"email": "Wanted@example.com", "password": "bob's own long passphrase"})).await;
    let bob_link = app.latest_link("wanted@example.com", "secret").unwrap();
    assert_eq!(activate(&app, &bob_link, json!({})).await.status, StatusCode::OK);
    let ann_before = profile(&app, &ann).await;
    let bob_before = profile(&app, &bob_link.identifier).await;

    let reply = confirm(&app, &link).await;
    reply.assert_problem(StatusCode::CONFLICT, "email_taken");

    let (ann_after, bob_after) = (profile(&app, &ann).await, profile(&app, &bob_link.identifier).await);
    assert_eq!((ann_after.email.as_str(), ann_after.version), (ann_before.email.as_str(), ann_before.version));
    assert_eq!(ann_after.details, ann_before.details);
    assert_eq!((bob_after.email.as_str(), bob_after.version), (bob_before.email.as_str(), bob_before.version));
    assert_eq!(guard(&app, "wanted@example.com").await.unwrap().customer_id, bob_link.identifier);
    assert_eq!(guard(&app, "ann@example.com").await.unwrap().customer_id, ann);
    assert_eq!(app.login("ann@example.com", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.login("wanted@example.com", "bob's own long passphrase").await.status, StatusCode::OK);
    // The key was not spent: the same answer again.
    assert_eq!(confirm(&app, &link).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn email_change_rechecks_the_password_and_does_not_reveal_taken_addresses() {
    let app = TestApp::with_customer("me@example.com", PASSWORD).await;
    app.create_customer("taken@example.com", PASSWORD).await;
    let token = app.login("me@example.com", PASSWORD).await.field("access_token");

    let taken = change_email(&app, &token, "me@example.com", "taken@example.com", false).await;
    let free = change_email(&app, &token, "me@example.com", "free@example.com", false).await;
    assert_eq!((taken.status, &taken.body), (free.status, &free.body));
    assert!(app.mails_to("taken@example.com").is_empty(), "nothing mailed to a taken address");
    assert_eq!(app.mails_to("free@example.com").len(), 1);

    let mismatch = app
        .post(
            "/customer/demo/me/accounts/internal/email/change",
            Some(&token),
            json!({"email": "someone@example.com", "password": PASSWORD, "newEmail": "x@example.com"}),
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert_eq!(mismatch.error_fields(), ["email"]);
    let same = change_email(&app, &token, "me@example.com", " ME@example.com", false).await;
    assert_eq!(same.error_fields(), ["newEmail"]);

    // Wrong passwords count towards the login lock of this e-mail.
    for _ in 0..5 {
        let wrong = app
            .post(
                "/customer/demo/me/accounts/internal/email/change",
                Some(&token),
                json!({"email": "me@example.com", "password": "wrong password", "newEmail": "y@example.com"}),
            )
            .await;
        wrong.assert_problem(StatusCode::FORBIDDEN, "invalid_credentials");
    }
    let locked = change_email(&app, &token, "me@example.com", "y@example.com", false).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.login("me@example.com", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_newer_email_change_key_retires_the_older_one() {
    let app = TestApp::with_customer("me@example.com", PASSWORD).await;
    let token = app.login("me@example.com", PASSWORD).await.field("access_token");
    change_email(&app, &token, "me@example.com", "first@example.com", false).await;
    change_email(&app, &token, "me@example.com", "second@example.com", false).await;
    let first = app.latest_link("first@example.com", "key").unwrap();
    let second = app.latest_link("second@example.com", "key").unwrap();
    assert!(invalid_token(&confirm(&app, &first).await));
    assert_eq!(confirm(&app, &second).await.status, StatusCode::OK);
    assert_eq!(app.login("second@example.com", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn email_change_requests_are_capped_per_hour() {
    let app = TestApp::with_customer("busy@example.com", PASSWORD).await;
    let token = app.login("busy@example.com", PASSWORD).await.field("access_token");
    for i in 0..5 {
        let reply = change_email(&app, &token, "busy@example.com", &format!("to{i}@example.com"), false).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{i}: {}", reply.body);
    }
    let capped = change_email(&app, &token, "busy@example.com", "to5@example.com", false).await;
    assert_eq!(capped.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(capped.headers.contains_key("retry-after"));
    assert!(app.mails_to("to5@example.com").is_empty());
}
