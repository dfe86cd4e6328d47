//! Social accounts you can trust and undo (issue #18), against DynamoDB
//! Local and the local OpenID Connect provider: linking to an existing
//! account needs its owner; linked identities are listed and removable;
//! accounts without a password manage themselves after a fresh provider login.

use http::StatusCode;
use serde_json::{Value, json};
use shared::customer::link_id;
use tests::oidc_provider::{Authorization, OidcProvider, REDIRECT_URI, configure};
use tests::{Reply, TestApp};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "owner passphrase 2026!";

fn person(sub: &str, email: &str) -> Value {
    json!({"sub": sub, "email": email, "email_verified": true, "given_name": "Ada"})
}

async fn app_with(provider: &OidcProvider) -> TestApp {
    let app = TestApp::new().await;
    configure(&app, vec![provider.settings("acme")]).await;
    app
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
    let app = app_with(&provider).await;
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
    let app = app_with(&provider).await;
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
    let app = app_with(&provider).await;
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
    let app = TestApp::new().await;
    let mut trusted = provider.settings("acme");
    trusted.trust_email_verified = true;
    configure(&app, vec![trusted]).await;
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
