//! Social login against a real OpenID Connect provider on 127.0.0.1
//! (oauth2-mock-server, see tests/src/oidc_provider.rs): the storefront's
//! authorization request with S256 PKCE, then `POST socialLogin`.

use http::StatusCode;
use serde_json::{Value, json};
use shared::customer::CustomerRecord;
use shared::domain::CustomerId;
use shared::store::SocialLinkRecord;
use tests::oidc_provider::{Authorization, OidcProvider, REDIRECT_URI, app_with};
use tests::{Reply, TestApp, parallel};

const EMAIL: &str = "ada@example.com";

fn person(sub: &str, email: &str, verified: bool) -> Value {
    json!({"sub": sub, "email": email, "email_verified": verified, "given_name": "Ada", "family_name": "Lovelace"})
}

fn query(provider: &str, auth: &Authorization, redirect_uri: &str) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("provider", provider)
        .append_pair("code", &auth.code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", &auth.verifier);
    url.finish()
}

async fn social_login(app: &TestApp, anonymous: &str, auth: &Authorization) -> Reply {
    let uri = format!("/customer/demo/socialLogin?{}", query("acme", auth, REDIRECT_URI));
    app.post(&uri, Some(anonymous), json!({})).await
}

async fn fresh_social_login(app: &TestApp, auth: &Authorization) -> Reply {
    let anonymous = app.anonymous().await.field("access_token");
    social_login(app, &anonymous, auth).await
}

async fn profile(app: &TestApp, id: &str) -> CustomerRecord {
    app.store().get_customer(&app.tenant, &CustomerId::parse(id).unwrap()).await.unwrap().expect("profile")
}

#[tokio::test]
async fn first_login_creates_a_linked_customer_and_the_second_finds_it() {
    let provider = OidcProvider::start();
    let app = provider.app().await;

    let anonymous = app.anonymous().await;
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let first = social_login(&app, &anonymous.field("access_token"), &auth).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.field("sessionId"), anonymous.field("sessionId"), "the storefront session carries over");
    assert!(first.field("social_id_token").split('.').count() == 3);
    let id = first.field("customerId");
    assert!(first.field("scope").contains("customer"), "{}", first.body);

    let record = profile(&app, &id).await;
    assert_eq!(record.email.as_str(), EMAIL);
    assert!(record.password_hash.is_none(), "a social-only customer has no password");
    assert_eq!(record.details.first_name.as_deref(), Some("Ada"));
    assert_eq!(record.social_links.len(), 1);
    assert_eq!(record.social_links[0].issuer, provider.issuer);
    assert_eq!(record.social_links[0].subject, "sub-ada");
    let link: SocialLinkRecord =
        app.store().get_social_link(&app.tenant, &provider.issuer, "sub-ada").await.unwrap().unwrap();
    assert_eq!(link.customer_id, id);

    // The customer token works like a password login's.
    let me = app.get("/customer/demo/validateauthtoken", Some(&first.field("access_token"))).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.field("customerId"), id);

    // The anonymous session was spent by the login: no second login from it,
    // by provider or password.
    let reuse = provider.authorize(person("sub-bob", "bob@example.com", true), None).await;
    let refused = social_login(&app, &anonymous.field("access_token"), &reuse).await;
    assert_eq!((refused.status, refused.body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("session_revoked")));

    // Second login, new code: the same customer, found by (issuer, sub).
    let again = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let second = fresh_social_login(&app, &again).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.field("customerId"), id);
    assert!(app.outbox_messages().is_empty(), "no linking notice for a new account");

    // Without a password, password login fails like a wrong password.
    let password = app.login(EMAIL, "any-password-at-all-2026").await;
    password.assert_problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn the_person_is_the_subject_not_the_email() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let first = fresh_social_login(&app, &provider.authorize(person("sub-1", EMAIL, true), None).await).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // Same subject, the e-mail changed at the provider: still the same customer.
    let renamed = provider.authorize(person("sub-1", "ada.new@example.com", true), None).await;
    let second = fresh_social_login(&app, &renamed).await;
    assert_eq!(second.field("customerId"), first.field("customerId"));
}

#[tokio::test]
async fn a_wrong_verifier_is_refused() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let mut auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    auth.verifier = format!("{}x", &auth.verifier[..auth.verifier.len() - 1]);
    let reply = fresh_social_login(&app, &auth).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "social_login_failed");
}

#[tokio::test]
async fn a_code_is_used_once() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    assert_eq!(fresh_social_login(&app, &auth).await.status, StatusCode::OK);
    let reused = fresh_social_login(&app, &auth).await;
    reused.assert_problem(StatusCode::UNAUTHORIZED, "social_login_failed");
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let mut claims = person("sub-ada", EMAIL, true);
    claims["aud"] = json!("another-client");
    let reply = fresh_social_login(&app, &provider.authorize(claims, None).await).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "invalid_id_token");
    assert!(app.store().get_social_link(&app.tenant, &provider.issuer, "sub-ada").await.unwrap().is_none());
}

#[tokio::test]
async fn issuer_mix_up_is_refused() {
    let provider = OidcProvider::start();
    let other = OidcProvider::start();
    let app = provider.app().await;
    // An ID token claiming another issuer.
    let mut claims = person("sub-ada", EMAIL, true);
    claims["iss"] = json!(other.issuer);
    let reply = fresh_social_login(&app, &provider.authorize(claims, None).await).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "invalid_id_token");

    // A provider configured as `…/` whose discovery names the issuer without the slash: not the same issuer.
    let mut spelled = provider.settings("acme");
    spelled.issuer = format!("{}/", provider.issuer);
    let app = app_with(vec![spelled]).await;
    let reply = fresh_social_login(&app, &provider.authorize(person("sub-ada", EMAIL, true), None).await).await;
    reply.assert_problem(StatusCode::BAD_GATEWAY, "provider_unavailable");

    // Configured as `localhost`, while the provider calls itself `127.0.0.1`.
    let mut spelled = provider.settings("acme");
    spelled.issuer = provider.issuer.replace("127.0.0.1", "localhost");
    assert_ne!(spelled.issuer, provider.issuer);
    let app = app_with(vec![spelled]).await;
    let reply = fresh_social_login(&app, &provider.authorize(person("sub-ada", EMAIL, true), None).await).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
}

#[tokio::test]
async fn an_unverified_provider_email_does_not_take_over_an_existing_account() {
    let provider = OidcProvider::start();
    // A provider the operator vouches for: its verified e-mails link by themselves.
    let mut trusted = provider.settings("acme");
    trusted.trust_email_verified = true;
    let app = app_with(vec![trusted]).await;
    let owner = app.create_customer(EMAIL, "owner-password-2026!").await;

    let unverified = provider.authorize(person("intruder", EMAIL, false), None).await;
    let reply = fresh_social_login(&app, &unverified).await;
    reply.assert_problem(StatusCode::FORBIDDEN, "email_not_verified");
    assert!(app.store().get_social_link(&app.tenant, &provider.issuer, "intruder").await.unwrap().is_none());
    assert!(profile(&app, owner.as_str()).await.social_links.is_empty());
    assert!(app.outbox_messages().is_empty());

    // A verified e-mail of a trusted provider links the existing account, and
    // the owner is told (social_accounts.rs: an untrusted one needs consent).
    let verified = provider.authorize(person("ada-at-acme", EMAIL, true), None).await;
    let reply = fresh_social_login(&app, &verified).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.field("customerId"), owner.to_string());
    let record = profile(&app, owner.as_str()).await;
    assert_eq!(record.social_links.len(), 1);
    assert!(record.password_hash.is_some(), "the password stays");
    let mails = app.outbox_messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["to"], EMAIL);
    assert!(mails[0]["text"].as_str().unwrap().contains("acme"), "{}", mails[0]);
    // And the password still works.
    assert_eq!(app.login(EMAIL, "owner-password-2026!").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_nonce_must_match_when_the_storefront_sent_one() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let anonymous = app.anonymous().await.field("access_token");
    let auth = provider.authorize(person("sub-ada", EMAIL, true), Some("nonce-1")).await;
    let uri = format!("/customer/demo/socialLogin?{}&nonce=nonce-2", query("acme", &auth, REDIRECT_URI));
    let reply = app.post(&uri, Some(&anonymous), json!({})).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "invalid_id_token");

    let auth = provider.authorize(person("sub-ada", EMAIL, true), Some("nonce-3")).await;
    // The parameters may come as a JSON body too.
    let body = json!({"provider": "acme", "code": auth.code, "redirect_uri": REDIRECT_URI,
        "code_verifier": auth.verifier, "nonce": "nonce-3"});
    let reply = app.post("/customer/demo/socialLogin", Some(&anonymous), body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_nonce_the_authorization_request_carried_cannot_be_left_out() {
    let provider = OidcProvider::start();
    let mut strict = provider.settings("strict");
    strict.require_nonce = true;
    let app = app_with(vec![provider.settings("acme"), strict]).await;
    // The provider echoes the nonce into the ID token: the request must send it.
    let auth = provider.authorize(person("sub-ada", EMAIL, true), Some("nonce-1")).await;
    let reply = fresh_social_login(&app, &auth).await;
    assert_eq!((reply.status, reply.body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_id_token")));

    // A provider whose settings require nonces refuses a request without one
    // before the code is spent.
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let anonymous = app.anonymous().await.field("access_token");
    let uri = format!("/customer/demo/socialLogin?{}", query("strict", &auth, REDIRECT_URI));
    let reply = app.post(&uri, Some(&anonymous), json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.error_fields(), ["nonce"]);
}

#[tokio::test]
async fn bad_requests_name_the_field_before_the_provider_is_asked() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let anonymous = app.anonymous().await.field("access_token");
    let cases = [
        (query("nope", &auth, REDIRECT_URI), "provider"),
        (query("acme", &auth, "https://shop.test/social/callback/"), "redirect_uri"),
        (
            query("acme", &Authorization { code: auth.code.clone(), verifier: "short".into() }, REDIRECT_URI),
            "code_verifier",
        ),
    ];
    for (q, field) in cases {
        let reply = app.post(&format!("/customer/demo/socialLogin?{q}"), Some(&anonymous), json!({})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {}", reply.body);
        assert_eq!(reply.error_fields(), [field]);
    }
    let reply = app.post("/customer/demo/socialLogin", Some(&anonymous), json!({})).await;
    // Without `provider` the tenant's only provider is meant (issue #17).
    assert_eq!(reply.error_fields(), ["code", "redirect_uri", "code_verifier"]);
    // The code was not spent by the refused requests.
    assert_eq!(social_login(&app, &anonymous, &auth).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_customer_token_or_no_token_is_refused() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let customer = fresh_social_login(&app, &auth).await.field("access_token");
    let next = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let reply = social_login(&app, &customer, &next).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let uri = format!("/customer/demo/socialLogin?{}", query("acme", &next, REDIRECT_URI));
    assert_eq!(app.post(&uri, None, json!({})).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_bad_gateway() {
    let provider = OidcProvider::start();
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let mut gone = provider.settings("acme");
    gone.issuer = "http://127.0.0.1:9".into();
    let app = app_with(vec![gone]).await;
    let reply = fresh_social_login(&app, &auth).await;
    reply.assert_problem(StatusCode::BAD_GATEWAY, "provider_unavailable");
    assert_eq!(reply.headers["content-type"], "application/problem+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_first_logins_of_one_person_make_one_customer() {
    let provider = OidcProvider::start();
    let app = std::sync::Arc::new(provider.app().await);
    let mut auths = Vec::new();
    for _ in 0..4 {
        auths.push(provider.authorize(person("sub-par", EMAIL, true), None).await);
    }
    let replies = parallel(auths, |auth| {
        let app = app.clone();
        async move { fresh_social_login(&app, &auth).await }
    })
    .await;
    let mut ids = Vec::new();
    for reply in replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        ids.push(reply.field("customerId"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(app.outbox_messages().is_empty(), "no linking notice: the account was made by this person");
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut claims = person("sub-ada", EMAIL, true);
    claims["iat"] = json!(now - 4000);
    claims["exp"] = json!(now - 3600);
    let reply = fresh_social_login(&app, &provider.authorize(claims, None).await).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "invalid_id_token");
}

/// A "provider" on 127.0.0.1 that answers every request with `response`.
async fn broken_provider(response: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn provider_failures_are_a_bad_gateway_never_a_500() {
    let provider = OidcProvider::start();
    let auth = provider.authorize(person("sub-ada", EMAIL, true), None).await;
    let answers = [
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\nnot json",
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ];
    for answer in answers {
        let mut broken = provider.settings("acme");
        broken.issuer = broken_provider(answer).await;
        let app = app_with(vec![broken]).await;
        let reply = fresh_social_login(&app, &auth).await;
        assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{answer:?}: {}", reply.body);
        assert_eq!(reply.body["code"], "provider_unavailable");
    }
}

#[tokio::test]
async fn a_link_left_behind_by_a_deleted_account_does_not_lock_the_person_out() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let first = fresh_social_login(&app, &provider.authorize(person("sub-gone", EMAIL, true), None).await).await;
    let old_id = CustomerId::parse(&first.field("customerId")).unwrap();
    let record = profile(&app, old_id.as_str()).await;
    // The profile and its e-mail guard are gone, the social link item stayed.
    app.store()
        .delete_keys(&[
            shared::table_keys::ItemKey::profile(&app.tenant, &old_id),
            shared::table_keys::ItemKey::email_guard(&app.tenant, &record.email.normalized()),
        ])
        .await
        .unwrap();
    let again = fresh_social_login(&app, &provider.authorize(person("sub-gone", EMAIL, true), None).await).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_ne!(again.field("customerId"), old_id.to_string());
}
