//! Social accounts you can trust and undo (issue #18), against DynamoDB
//! Local and the local OpenID Connect provider: linking to an existing
//! account needs its owner; linked identities are listed and removable;
//! accounts without a password manage themselves after a fresh provider login.

use http::StatusCode;
use serde_json::{Value, json};
use shared::customer::link_id;
use tests::oidc_provider::{Authorization, OidcProvider, REDIRECT_URI, app_with};
use tests::{Reply, TestApp};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "owner passphrase 2026!";

fn person(sub: &str, email: &str) -> Value {
    json!({"sub": sub, "email": email, "email_verified": true, "given_name": "Ada"})
}

/// A tenant whose one provider is trusted to verify e-mails (links by itself).
async fn trusting_app(provider: &OidcProvider) -> TestApp {
    let mut trusted = provider.settings("acme");
    trusted.trust_email_verified = true;
    app_with(vec![trusted]).await
}

async fn social_login_with(app: &TestApp, anonymous: &str, auth: &Authorization) -> Reply {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("provider", "acme")
        .append_pair("code", &auth.code)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_verifier", &auth.verifier);
    app.post(&format!("/customer/demo/socialLogin?{}", url.finish()), Some(anonymous), json!({})).await
}

async fn social_login(app: &TestApp, provider: &OidcProvider, sub: &str) -> Reply {
    let auth = provider.authorize(person(sub, EMAIL), None).await;
    let anonymous = app.anonymous().await.field("access_token");
    social_login_with(app, &anonymous, &auth).await
}

fn link_required(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.body["code"], "link_required", "{}", reply.body);
    assert_eq!(reply.body["linkTokenExpiresIn"], 900);
    reply.field("linkToken")
}

async fn link_with_password(app: &TestApp, link_token: &str, password: &str) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    app.post(
        "/customer/demo/socialLogin/link",
        Some(&anonymous),
        json!({"linkToken": link_token, "password": password}),
    )
    .await
}

async fn linked_subjects(app: &TestApp, id: &shared::domain::CustomerId) -> Vec<String> {
    let profile = app.store().get_customer(&app.tenant, id).await.unwrap().unwrap();
    profile.social_links.iter().map(|l| l.subject.clone()).collect()
}

#[tokio::test]
async fn a_verified_email_of_an_existing_account_links_only_with_the_owners_password() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let owner = app.create_customer(EMAIL, PASSWORD).await;

    // The provider says the e-mail is verified: not enough on its own.
    let token = link_required(&social_login(&app, &provider, "ada-at-acme").await);
    assert!(linked_subjects(&app, &owner).await.is_empty(), "nothing linked yet");
    assert!(app.store().get_social_link(&app.tenant, &provider.issuer, "ada-at-acme").await.unwrap().is_none());

    // A wrong password: refused (and counted against the login budget), still nothing linked.
    let wrong = link_with_password(&app, &token, "not the owner's password").await;
    assert_eq!((wrong.status, wrong.body["code"].clone()), (StatusCode::FORBIDDEN, json!("invalid_credentials")));
    assert!(linked_subjects(&app, &owner).await.is_empty());

    // The owner's password links it and signs in.
    let linked = link_with_password(&app, &token, PASSWORD).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert_eq!(linked.field("customerId"), owner.to_string());
    assert!(linked.field("saas_token").split('.').count() == 3);
    assert_eq!(linked_subjects(&app, &owner).await, ["ada-at-acme"]);
    // The token was single-use.
    let again = link_with_password(&app, &token, PASSWORD).await;
    assert_eq!((again.status, again.body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_token")));

    // From now on the provider login finds the account by (issuer, sub).
    let next = social_login(&app, &provider, "ada-at-acme").await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert_eq!(next.field("customerId"), owner.to_string());
}

#[tokio::test]
async fn the_mailed_consent_links_once_and_only_for_the_owners_mailbox() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let owner = app.create_customer(EMAIL, PASSWORD).await;
    let token = link_required(&social_login(&app, &provider, "ada-at-acme").await);

    let anonymous = app.anonymous().await.field("access_token");
    let mailed = app.post("/customer/demo/socialLogin/link/mail", Some(&anonymous), json!({"linkToken": token})).await;
    assert_eq!(mailed.status, StatusCode::ACCEPTED, "{}", mailed.body);
    let link = app.latest_link(EMAIL, "key").expect("a consent link to the account's address");
    assert_eq!(link.identifier, owner.to_string());
    assert_ne!(link.secret, token, "the mailbox gets a secret of its own");
    // The storefront's token was spent for it: it cannot link with a password now.
    let spent = link_with_password(&app, &token, PASSWORD).await;
    assert_eq!(spent.body["code"], "invalid_token", "{}", spent.body);

    let confirm = |key: String| {
        let app = &app;
        let identifier = link.identifier.clone();
        async move {
            app.post("/customer/demo/socialLogin/link/confirm", None, json!({"identifier": identifier, "key": key}))
                .await
        }
    };
    let wrong = confirm("x".repeat(43)).await;
    assert_eq!(wrong.body["code"], "invalid_token", "{}", wrong.body);
    assert!(linked_subjects(&app, &owner).await.is_empty());
    let ok = confirm(link.secret.clone()).await;
    assert_eq!((ok.status, ok.body.clone()), (StatusCode::OK, json!({"result": "linked"})));
    assert_eq!(linked_subjects(&app, &owner).await, ["ada-at-acme"]);
    let twice = confirm(link.secret.clone()).await;
    assert_eq!(twice.body["code"], "invalid_token", "single use");

    let next = social_login(&app, &provider, "ada-at-acme").await;
    assert_eq!(next.field("customerId"), owner.to_string());
}

#[tokio::test]
async fn a_consent_given_before_a_password_change_is_void_after_it() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    app.create_customer(EMAIL, PASSWORD).await;
    let token = link_required(&social_login(&app, &provider, "ada-at-acme").await);
    // The owner changes the password (a credential change: the epoch moves).
    let session = app.login(EMAIL, PASSWORD).await.field("access_token");
    let changed = app
        .post(
            "/customer/demo/me/password/change",
            Some(&session),
            json!({"currentPassword": PASSWORD, "newPassword": "a brand new owner passphrase"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    let late = link_with_password(&app, &token, "a brand new owner passphrase").await;
    assert_eq!(late.body["code"], "invalid_token", "{}", late.body);
}

#[tokio::test]
async fn a_trusted_provider_links_by_itself_and_tells_the_owner_how_to_undo_it() {
    let provider = OidcProvider::start();
    let app = trusting_app(&provider).await;
    let owner = app.create_customer(EMAIL, PASSWORD).await;
    let reply = social_login(&app, &provider, "ada-at-acme").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.field("customerId"), owner.to_string());
    let notice = app.mails_to(EMAIL).pop().expect("the owner is told");
    assert!(notice["text"].as_str().unwrap().contains("remove acme"), "{notice}");
    let profile = app.store().get_customer(&app.tenant, &owner).await.unwrap().unwrap();
    let link = &profile.social_links[0];
    assert_eq!((link.provider.as_deref(), link.email.as_deref()), (Some("acme"), Some(EMAIL)));
    assert!(link.linked_at.is_some());
    assert_eq!(link.id(), link_id(&provider.issuer, "ada-at-acme"));
}

/// Makes a session's sign-in `secs` older than it is (no waiting in tests).
async fn age_session(app: &TestApp, tokens: &Reply, secs: i64) {
    let customer = shared::domain::CustomerId::parse(&tokens.field("customerId")).unwrap();
    let sid = shared::domain::SessionId::parse(&tokens.field("sessionId")).unwrap();
    let key = shared::table_keys::ItemKey::customer_session(&app.tenant, &customer, &sid);
    let older = vec![(":secs", shared::store::n(secs))];
    app.update_raw(&key, "SET createdAt = createdAt - :secs", &[], older).await;
}

fn social_account<'a>(accounts: &'a Value, subject: &str) -> &'a Value {
    accounts.as_array().unwrap().iter().find(|a| a["subject"] == subject).unwrap_or_else(|| panic!("{accounts}"))
}

#[tokio::test]
async fn linked_identities_are_listed_and_unlinking_one_ends_its_sessions() {
    let provider = OidcProvider::start();
    let app = trusting_app(&provider).await;
    let owner = app.create_customer(EMAIL, PASSWORD).await;
    let by_provider = social_login(&app, &provider, "ada-at-acme").await;
    assert_eq!(by_provider.field("customerId"), owner.to_string());
    let by_password = app.login(EMAIL, PASSWORD).await;
    let token = by_password.field("access_token");

    let accounts = app.get("/customer/demo/me/accounts", Some(&token)).await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.body);
    assert_eq!(
        accounts.body[0],
        json!({"id": EMAIL, "type": "internal", "email": EMAIL, "hasPassword": true, "hasTotp": false})
    );
    let linked = social_account(&accounts.body, "ada-at-acme");
    assert_eq!(linked["type"], "social");
    assert_eq!(linked["provider"], "acme");
    assert_eq!(linked["issuer"], provider.issuer.as_str());
    assert_eq!(linked["email"], EMAIL);
    assert!(linked["linkedAt"].is_string());
    let id = linked["id"].as_str().unwrap().to_owned();
    // The profile shows the same list.
    assert_eq!(app.get("/customer/demo/me", Some(&token)).await.body["accounts"], accounts.body);

    // Someone else's id, the e-mail account, a wrong password: nothing changes.
    let unknown = app.delete_with("/customer/demo/me/accounts/nope", Some(&token), json!({"password": PASSWORD})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let internal = app
        .delete_with(&format!("/customer/demo/me/accounts/{EMAIL}"), Some(&token), json!({"password": PASSWORD}))
        .await;
    assert_eq!(
        (internal.status, internal.body["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("internal_account"))
    );
    let uri = format!("/customer/demo/me/accounts/{id}");
    let wrong = app.delete_with(&uri, Some(&token), json!({"password": "not it at all"})).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let no_password = app.delete_with(&uri, Some(&token), json!({})).await;
    assert_eq!(
        (no_password.status, no_password.error_fields()),
        (StatusCode::BAD_REQUEST, vec!["password".to_owned()])
    );

    // Unlinked with the password: the provider's session ends, the caller's stays.
    let removed = app.delete_with(&uri, Some(&token), json!({"password": PASSWORD})).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    let provider_token = by_provider.field("access_token");
    assert_eq!(
        app.get("/customer/demo/validateauthtoken", Some(&provider_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/customer/demo/validateauthtoken", Some(&token)).await.status, StatusCode::OK);
    let refreshed = app
        .post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": by_provider.field("refresh_token")}))
        .await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    assert!(app.store().get_social_link(&app.tenant, &provider.issuer, "ada-at-acme").await.unwrap().is_none());
    let accounts = app.get("/customer/demo/me/accounts", Some(&token)).await.body;
    assert_eq!(accounts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unlinked_identity_needs_consent_again() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    app.create_customer(EMAIL, PASSWORD).await;
    let token = link_required(&social_login(&app, &provider, "ada-at-acme").await);
    let signed_in = link_with_password(&app, &token, PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    // Fresh from the provider: the sign-in stands in for the password, and
    // removing the identity it came with ends this very session.
    let access = signed_in.field("access_token");
    let id = link_id(&provider.issuer, "ada-at-acme");
    let removed = app.delete_with(&format!("/customer/demo/me/accounts/{id}"), Some(&access), json!({})).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(app.get("/customer/demo/validateauthtoken", Some(&access)).await.status, StatusCode::UNAUTHORIZED);
    link_required(&social_login(&app, &provider, "ada-at-acme").await);
}

#[tokio::test]
async fn a_social_only_customer_sets_a_password_and_leaves_after_a_fresh_provider_sign_in() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let first = social_login(&app, &provider, "new-person").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let token = first.field("access_token");
    let accounts = app.get("/customer/demo/me/accounts", Some(&token)).await.body;
    assert_eq!(accounts[0]["hasPassword"], false);
    let id = social_account(&accounts, "new-person")["id"].as_str().unwrap().to_owned();

    // The only way in cannot go.
    let last = app.delete_with(&format!("/customer/demo/me/accounts/{id}"), Some(&token), json!({})).await;
    assert_eq!(
        (last.status, last.body["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("last_sign_in_method"))
    );

    // Not fresh any more: a first password needs a new provider sign-in.
    age_session(&app, &first, 600).await;
    let set = json!({"newPassword": "a first password of my own"});
    let stale = app.post("/customer/demo/me/password/change", Some(&token), set.clone()).await;
    assert_eq!((stale.status, stale.error_fields()), (StatusCode::BAD_REQUEST, vec!["currentPassword".to_owned()]));
    let again = social_login(&app, &provider, "new-person").await;
    let fresh = again.field("access_token");
    let sent_one = app
        .post(
            "/customer/demo/me/password/change",
            Some(&fresh),
            json!({"currentPassword": "guess", "newPassword": "a first password of my own"}),
        )
        .await;
    assert_eq!(sent_one.status, StatusCode::BAD_REQUEST, "there is none to send");
    let done = app.post("/customer/demo/me/password/change", Some(&fresh), set).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    assert_eq!(app.login(EMAIL, "a first password of my own").await.status, StatusCode::OK);

    // A second social-only customer leaves without ever having had a password.
    let other = social_login_for(&app, &provider, "leaver", "leaver@example.com").await;
    let leaving = other.field("access_token");
    age_session(&app, &other, 600).await;
    let stale = app.delete_with("/customer/demo/me", Some(&leaving), json!({})).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
    let other = social_login_for(&app, &provider, "leaver", "leaver@example.com").await;
    let deleted = app.delete_with("/customer/demo/me", Some(&other.field("access_token")), json!({})).await;
    assert_eq!((deleted.status, deleted.body.clone()), (StatusCode::OK, json!({"result": "deleted"})));
    assert!(app.store().get_social_link(&app.tenant, &provider.issuer, "leaver").await.unwrap().is_none());
}

async fn social_login_for(app: &TestApp, provider: &OidcProvider, sub: &str, email: &str) -> Reply {
    let auth = provider.authorize(person(sub, email), None).await;
    let anonymous = app.anonymous().await.field("access_token");
    let reply = social_login_with(app, &anonymous, &auth).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply
}

#[tokio::test]
async fn a_social_only_customer_changes_the_email_after_a_fresh_provider_sign_in() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let signed_in = social_login(&app, &provider, "mover").await;
    let token = signed_in.field("access_token");
    let change = json!({"email": EMAIL, "newEmail": "ada.new@example.com"});
    let fresh = app.post("/customer/demo/me/accounts/internal/email/change", Some(&token), change.clone()).await;
    assert_eq!(fresh.status, StatusCode::ACCEPTED, "{}", fresh.body);
    assert!(app.latest_link("ada.new@example.com", "key").is_some());
    age_session(&app, &signed_in, 600).await;
    let stale = app.post("/customer/demo/me/accounts/internal/email/change", Some(&token), change).await;
    assert_eq!((stale.status, stale.error_fields()), (StatusCode::BAD_REQUEST, vec!["password".to_owned()]));
}
