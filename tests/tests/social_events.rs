//! The social login fixtures in `events/`, through `lambda_http::request::from_str`
//! into the `login` function's router, against DynamoDB Local and a real
//! OpenID Connect provider on 127.0.0.1 (oauth2-mock-server).

use http::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;
use tests::fixtures::{case, fields_in_order, problem, result, run_cases};
use tests::oidc_provider::{OidcProvider, app_with};

fn person(sub: &str) -> Value {
    json!({"sub": sub, "email": format!("{sub}@example.com"), "email_verified": true})
}

#[tokio::test]
async fn every_social_login_fixture_answers_as_documented() {
    let provider = OidcProvider::start();
    let mut down = provider.settings("down");
    down.issuer = "http://127.0.0.1:9".into();
    let app = app_with(vec![provider.settings("acme"), down]).await;
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
    let session = anonymous.body["sessionId"].clone();
    let ok = case("login-social.json", StatusCode::OK, move |b| {
        b["sessionId"] == session
            && b["customerId"].is_string()
            && b["social_id_token"].is_string()
            && b["access_token"].is_string()
            && b["refresh_token"].is_string()
    })
    .run(router(), &values)
    .await;
    let customer_token = ok.field("access_token");
    // The login spent that anonymous session; the failures below use another.
    let anonymous_token = app.anonymous().await.field("access_token");

    // The same parameters in a JSON body; the same person → the same customer.
    let auth = provider.authorize(person("fixture-person"), None).await;
    let fresh = app.anonymous().await.field("access_token");
    let values = [("ANONYMOUS_TOKEN", fresh.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    let customer = ok.body["customerId"].clone();
    case("login-social-json-body.json", StatusCode::OK, move |b| b["customerId"] == customer)
        .run(router(), &values)
        .await;

    let auth = provider.authorize(person("fixture-person"), None).await;
    let values = [("ANONYMOUS_TOKEN", anonymous_token.as_str()), ("CODE", &auth.code)];
    case("login-social-wrong-verifier.json", StatusCode::UNAUTHORIZED, problem("social_login_failed"))
        .run(router(), &values)
        .await;

    let mut other_audience = person("fixture-person");
    other_audience["aud"] = json!("someone-else");
    let auth = provider.authorize(other_audience, None).await;
    let values =
        [("ANONYMOUS_TOKEN", anonymous_token.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    case("login-social-invalid-id-token.json", StatusCode::UNAUTHORIZED, problem("invalid_id_token"))
        .run(router(), &values)
        .await;

    let cases = vec![
        case("login-social-unknown-provider.json", StatusCode::BAD_REQUEST, |b| b["errors"][0]["field"] == "provider"),
        case("login-social-redirect-not-allowed.json", StatusCode::BAD_REQUEST, |b| {
            b["errors"][0]["field"] == "redirect_uri"
        }),
        // Without `provider` the tenant's default provider is meant (issue #17).
        case("login-social-missing-params.json", StatusCode::BAD_REQUEST, |b| {
            fields_in_order(b) == ["code", "redirect_uri", "code_verifier"]
        }),
        case("login-social-provider-unavailable.json", StatusCode::BAD_GATEWAY, problem("provider_unavailable")),
    ];
    run_cases(router, &[("ANONYMOUS_TOKEN", anonymous_token.as_str())], cases).await;

    case("login-social-customer-token.json", StatusCode::FORBIDDEN, problem("anonymous_token_required"))
        .run(router(), &[("CUSTOMER_TOKEN", customer_token.as_str())])
        .await;

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
    let seed_session = session.clone();
    let seed_keys = ["expires_in", "refresh_token_expires_in", "saas_token", "social_id_token", "social_access_token"];
    let cases = vec![
        case("login-social-session-mismatch.json", StatusCode::BAD_REQUEST, |b| {
            b["errors"][0]["field"] == "session-id"
        }),
        case("login-social-seed.json", StatusCode::OK, move |b| {
            b["sessionId"] == seed_session.as_str()
                && seed_keys.iter().all(|key| b[key].is_string())
                && b["session_idle_time"].is_u64()
        }),
    ];
    run_cases(router, &values, cases).await;
}

/// A socialLogin that meets an existing account: 409 link_required with a token.
async fn link_token(app: &TestApp, provider: &OidcProvider, person: Value) -> String {
    let auth = provider.authorize(person, None).await;
    let anonymous = app.anonymous().await.field("access_token");
    let values = [("ANONYMOUS_TOKEN", anonymous.as_str()), ("CODE", &auth.code), ("CODE_VERIFIER", &auth.verifier)];
    let reply = case("login-social.json", StatusCode::CONFLICT, problem("link_required"))
        .run(login::router(app.state.clone()), &values)
        .await;
    reply.field("linkToken")
}

/// The consent routes of a `link_required` answer (issue #18).
#[tokio::test]
async fn every_social_link_fixture_answers_as_documented() {
    let provider = OidcProvider::start();
    let app = provider.app().await;
    let router = || login::router(app.state.clone());
    let owner = app.create_customer("owner@example.com", "fixture-owner-password-2026").await;
    let owner_person = json!({"sub": "owner-at-acme", "email": "owner@example.com", "email_verified": true});

    let anonymous = app.anonymous().await.field("access_token");
    case("login-social-link-missing-fields.json", StatusCode::BAD_REQUEST, |b| {
        fields_in_order(b) == ["linkToken", "password"]
    })
    .run(router(), &[("ANONYMOUS_TOKEN", anonymous.as_str())])
    .await;

    // By mail: 202, a consent link to the owner; the confirm fixture spends it.
    let token = link_token(&app, &provider, owner_person.clone()).await;
    let values = [("ANONYMOUS_TOKEN", anonymous.as_str()), ("LINK_TOKEN", token.as_str())];
    case("login-social-link-mail.json", StatusCode::ACCEPTED, result("email_sent")).run(router(), &values).await;
    let link = app.latest_link("owner@example.com", "key").expect("a consent link");
    let values = [("IDENTIFIER", link.identifier.as_str()), ("KEY", link.secret.as_str())];
    let cases = vec![
        case("login-social-link-confirm-invalid.json", StatusCode::BAD_REQUEST, problem("invalid_token")),
        case("login-social-link-confirm.json", StatusCode::OK, result("linked")),
    ];
    run_cases(router, &values, cases).await;
    let profile = app.store().get_customer(&app.tenant, &owner).await.unwrap().unwrap();
    assert_eq!(profile.social_links.len(), 1);

    // By password (for another identity of the same person).
    let second = json!({"sub": "owner-2-at-acme", "email": "owner@example.com", "email_verified": true});
    let token = link_token(&app, &provider, second).await;
    let anonymous = app.anonymous().await.field("access_token");
    let values = [("ANONYMOUS_TOKEN", anonymous.as_str()), ("LINK_TOKEN", token.as_str())];
    let owner_id = owner.as_str().to_owned();
    case("login-social-link.json", StatusCode::OK, move |b| b["customerId"] == owner_id.as_str())
        .run(router(), &values)
        .await;
}
