//! The social login fixtures in `events/`, through `lambda_http::request::from_str`
//! into the `login` function's router, against DynamoDB Local and a real
//! OpenID Connect provider on 127.0.0.1 (oauth2-mock-server).

use http::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;
use tests::fixtures::invoke;
use tests::oidc_provider::{OidcProvider, configure};

fn person(sub: &str) -> Value {
    json!({"sub": sub, "email": format!("{sub}@example.com"), "email_verified": true})
}

fn problem(body: &Value, status: StatusCode, code: &str) {
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
}

#[tokio::test]
async fn every_social_login_fixture_answers_as_documented() {
    let provider = OidcProvider::start();
    let app = TestApp::new().await;
    let mut down = provider.settings("down");
    down.issuer = "http://127.0.0.1:9".into();
    configure(&app, vec![provider.settings("acme"), down]).await;
    // Two providers, so a socialLogin without `provider` (the seed's) needs the default.
    let mut settings = app.store().get_tenant(&app.tenant).await.unwrap().unwrap();
    settings.default_social_provider = Some("acme".into());
    app.store().put_tenant(&app.tenant, &settings).await.unwrap();
    let router = || login::router(app.state.clone());
    let anonymous = app.anonymous().await;
    let anonymous_token = anonymous.field("access_token");

    // Happy path: a customer token set on the anonymous session, plus the provider's ID token.
    let auth = provider.authorize(person("fixture-person"), None).await;
    let values =
        [("ANONYMOUS_TOKEN", anonymous_token.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    let ok = invoke(router(), "login-social.json", &values).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["sessionId"], anonymous.body["sessionId"]);
    assert!(ok.body["customerId"].is_string() && ok.body["social_id_token"].is_string(), "{}", ok.body);
    assert!(ok.body["access_token"].is_string() && ok.body["refresh_token"].is_string());
    let customer_token = ok.body["access_token"].as_str().unwrap().to_owned();
    // The login spent that anonymous session; the failures below use another.
    let anonymous_token = app.anonymous().await.field("access_token");

    // The same parameters in a JSON body; the same person → the same customer.
    let auth = provider.authorize(person("fixture-person"), None).await;
    let fresh = app.anonymous().await.field("access_token");
    let values = [("ANONYMOUS_TOKEN", fresh.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    let body = invoke(router(), "login-social-json-body.json", &values).await;
    assert_eq!(body.status, StatusCode::OK, "{}", body.body);
    assert_eq!(body.body["customerId"], ok.body["customerId"]);

    let auth = provider.authorize(person("fixture-person"), None).await;
    let values = [("ANONYMOUS_TOKEN", anonymous_token.as_str()), ("CODE", &auth.code)];
    let wrong = invoke(router(), "login-social-wrong-verifier.json", &values).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    problem(&wrong.body, StatusCode::UNAUTHORIZED, "social_login_failed");

    let mut other_audience = person("fixture-person");
    other_audience["aud"] = json!("someone-else");
    let auth = provider.authorize(other_audience, None).await;
    let values =
        [("ANONYMOUS_TOKEN", anonymous_token.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    let invalid = invoke(router(), "login-social-invalid-id-token.json", &values).await;
    problem(&invalid.body, StatusCode::UNAUTHORIZED, "invalid_id_token");

    let values = [("ANONYMOUS_TOKEN", anonymous_token.as_str())];
    let unknown = invoke(router(), "login-social-unknown-provider.json", &values).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.body["errors"][0]["field"], "provider", "{}", unknown.body);

    let redirect = invoke(router(), "login-social-redirect-not-allowed.json", &values).await;
    assert_eq!(redirect.status, StatusCode::BAD_REQUEST);
    assert_eq!(redirect.body["errors"][0]["field"], "redirect_uri", "{}", redirect.body);

    let missing = invoke(router(), "login-social-missing-params.json", &values).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let fields: Vec<_> = missing.body["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    // Without `provider` the tenant's default provider is meant (issue #17).
    assert_eq!(fields, ["code", "redirect_uri", "code_verifier"]);

    let unavailable = invoke(router(), "login-social-provider-unavailable.json", &values).await;
    problem(&unavailable.body, StatusCode::BAD_GATEWAY, "provider_unavailable");
    assert_eq!(unavailable.headers["content-type"], "application/problem+json");

    let customer = invoke(router(), "login-social-customer-token.json", &[("CUSTOMER_TOKEN", &customer_token)]).await;
    problem(&customer.body, StatusCode::FORBIDDEN, "anonymous_token_required");

    // As the Emporix seed calls it: no `provider` (the tenant's default) and
    // the `session-id` header, which must name the anonymous token's session.
    let anonymous = app.anonymous().await;
    let (token, session) = (anonymous.field("access_token"), anonymous.field("sessionId"));
    let auth = provider.authorize(person("seed-person"), None).await;
    let values = [
        ("ANONYMOUS_TOKEN", token.as_str()),
        ("SESSION_ID", session.as_str()),
        ("CODE", &auth.code),
        ("CODE_VERIFIER", &auth.verifier),
    ];
    let mismatch = invoke(router(), "login-social-session-mismatch.json", &values).await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert_eq!(mismatch.body["errors"][0]["field"], "session-id", "{}", mismatch.body);
    let seed = invoke(router(), "login-social-seed.json", &values).await;
    assert_eq!(seed.status, StatusCode::OK, "{}", seed.body);
    assert_eq!(seed.body["sessionId"], session.as_str());
    for key in ["expires_in", "refresh_token_expires_in", "saas_token", "social_id_token", "social_access_token"] {
        assert!(seed.body[key].is_string(), "{key}: {}", seed.body);
    }
    assert!(seed.body["session_idle_time"].is_u64(), "{}", seed.body);
}

/// A socialLogin that meets an existing account: 409 link_required with a token.
async fn link_token(app: &TestApp, provider: &OidcProvider, person: Value) -> String {
    let auth = provider.authorize(person, None).await;
    let anonymous = app.anonymous().await.field("access_token");
    let values = [("ANONYMOUS_TOKEN", anonymous.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    let reply = invoke(login::router(app.state.clone()), "login-social.json", &values).await;
    problem(&reply.body, StatusCode::CONFLICT, "link_required");
    reply.body["linkToken"].as_str().unwrap().to_owned()
}

/// The consent routes of a `link_required` answer (issue #18).
#[tokio::test]
async fn every_social_link_fixture_answers_as_documented() {
    let provider = OidcProvider::start();
    let app = TestApp::new().await;
    configure(&app, vec![provider.settings("acme")]).await;
    let router = || login::router(app.state.clone());
    let owner = app.create_customer("owner@example.com", "fixture-owner-password-2026").await;
    let owner_person = json!({"sub": "owner-at-acme", "email": "owner@example.com", "email_verified": true});

    let anonymous = app.anonymous().await.field("access_token");
    let missing = invoke(router(), "login-social-link-missing-fields.json", &[("ANONYMOUS_TOKEN", &anonymous)]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let fields: Vec<_> = missing.body["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, ["linkToken", "password"]);

    // By mail: 202, a consent link to the owner; the confirm fixture spends it.
    let token = link_token(&app, &provider, owner_person.clone()).await;
    let values = [("ANONYMOUS_TOKEN", anonymous.as_str()), ("LINK_TOKEN", token.as_str())];
    let mailed = invoke(router(), "login-social-link-mail.json", &values).await;
    assert_eq!((mailed.status, mailed.body.clone()), (StatusCode::ACCEPTED, json!({"result": "email_sent"})));
    let link = app.latest_link("owner@example.com", "key").expect("a consent link");
    let values = [("IDENTIFIER", link.identifier.as_str()), ("KEY", link.secret.as_str())];
    let invalid = invoke(router(), "login-social-link-confirm-invalid.json", &values).await;
    problem(&invalid.body, StatusCode::BAD_REQUEST, "invalid_token");
    let confirmed = invoke(router(), "login-social-link-confirm.json", &values).await;
    assert_eq!((confirmed.status, confirmed.body.clone()), (StatusCode::OK, json!({"result": "linked"})));
    let profile = app.store().get_customer(&app.tenant, &owner).await.unwrap().unwrap();
    assert_eq!(profile.social_links.len(), 1);

    // By password (for another identity of the same person).
    let second = json!({"sub": "owner-2-at-acme", "email": "owner@example.com", "email_verified": true});
    let token = link_token(&app, &provider, second).await;
    let anonymous = app.anonymous().await.field("access_token");
    let values = [("ANONYMOUS_TOKEN", anonymous.as_str()), ("LINK_TOKEN", token.as_str())];
    let linked = invoke(router(), "login-social-link.json", &values).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert_eq!(linked.body["customerId"], owner.as_str());
}
