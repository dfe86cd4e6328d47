//! The login group's security rules, against DynamoDB Local.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::json;
use shared::domain::{ClientId, SessionId};
use shared::tokens::{self, NewAccessToken, Subject};
use tests::{TestApp, parallel, tally};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn validate_uri() -> &'static str {
    "/customer/demo/validateauthtoken"
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let wrong_password = app.login(EMAIL, "not the password").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;
    let unknown_id = {
        let anonymous = app.anonymous().await;
        app.post(
            "/customer/demo/login",
            Some(&anonymous.field("access_token")),
            json!({"id": "nosuchid", "password": PASSWORD}),
        )
        .await
    };
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.body, unknown_id.body);
    assert_eq!(wrong_password.body["code"], "invalid_credentials");
    assert_eq!(wrong_password.headers["content-type"], unknown_email.headers["content-type"], "same headers too");
}

#[tokio::test]
async fn email_login_is_case_and_space_insensitive_and_id_login_works() {
    let app = TestApp::new().await;
    let id = app.create_customer(EMAIL, PASSWORD).await;
    assert_eq!(app.login("  ANN@Example.com ", PASSWORD).await.status, StatusCode::OK);
    let anonymous = app.anonymous().await;
    let by_id = app
        .post(
            "/customer/demo/login",
            Some(&anonymous.field("access_token")),
            json!({"id": id.to_string(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
    assert_eq!(by_id.field("customerId"), id.to_string());
}

#[tokio::test]
async fn login_keeps_the_storefront_session_id_but_issues_new_tokens() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let anonymous = app.anonymous().await;
    let customer = app.login_with(&anonymous.field("access_token"), EMAIL, PASSWORD).await;
    assert_eq!(customer.status, StatusCode::OK);
    assert_eq!(customer.field("sessionId"), anonymous.field("sessionId"));
    assert_eq!(customer.field("session_id"), anonymous.field("sessionId"));
    assert_ne!(customer.field("access_token"), anonymous.field("access_token"));
    assert_ne!(customer.field("refresh_token"), anonymous.field("refresh_token"));
    // The customer access token names the storefront client as audience.
    let claims = decode_claims(&customer.field("access_token"));
    assert_eq!(claims["aud"], "storefront");
    assert_eq!(claims["iss"], "https://accounts.test/customer/demo");
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["sub"], customer.field("customerId"));
}

#[tokio::test]
async fn a_customer_token_cannot_log_in_again_and_anonymous_cannot_use_customer_routes() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await;
    let again = app.login_with(&customer.field("access_token"), EMAIL, PASSWORD).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    let anonymous = app.anonymous().await;
    let sessions = app.get("/customer/demo/me/sessions", Some(&anonymous.field("access_token"))).await;
    assert_eq!(sessions.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_token_of_tenant_a_is_refused_on_tenant_b() {
    let app = TestApp::new().await;
    let other = app.add_tenant("other").await;
    app.create_customer(EMAIL, PASSWORD).await;
    app.create_customer_in(&other, EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await;
    let token = customer.field("access_token");
    for uri in ["/customer/other/validateauthtoken", "/customer/other/me/sessions"] {
        let reply = app.get(uri, Some(&token)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(reply.body["code"], "wrong_tenant");
    }
    let anonymous = app.anonymous().await;
    let cross_login = app
        .post(
            "/customer/other/login",
            Some(&anonymous.field("access_token")),
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(cross_login.status, StatusCode::FORBIDDEN);
    // A refresh token of tenant A is unknown on tenant B.
    let refresh = app
        .post("/customer/other/refreshauthtoken", None, json!({"refresh_token": customer.field("refresh_token")}))
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
}

fn decode_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let app = TestApp::new().await;
    let customer_id = app.create_customer(EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await;
    let good = customer.field("access_token");
    assert_eq!(app.get(validate_uri(), Some(&good)).await.status, StatusCode::OK);
    let sid = SessionId::parse(&customer.field("sessionId")).unwrap();
    let subject = Subject::Customer(customer_id);
    let family = decode_claims(&good)["fam"].as_str().unwrap().to_owned();
    let now = shared::clock::now_epoch();
    let mint = |client: &str, lifetime: i64| {
        tokens::issue(
            &app.state.config,
            &app.state.keys.snapshot(),
            NewAccessToken {
                tenant: &app.tenant,
                client: &ClientId::parse(client).unwrap(),
                subject: &subject,
                session: &sid,
                family: &family,
                lifetime_secs: lifetime,
            },
            now,
        )
        .unwrap()
    };

    let parts: Vec<&str> = good.split('.').collect();
    // Tampered: the payload says another customer, the signature is the old one.
    let mut claims = decode_claims(&good);
    claims["sub"] = json!("someoneelse");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    // Expired an hour ago (beyond any leeway).
    let expired = mint("storefront", -3600);
    // alg: none, no signature.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    // HS256 signed with the public key (the classic RS/HS confusion).
    let jwks = serde_json::to_vec(app.state.keys.snapshot().jwks()).unwrap();
    let kid = app.state.keys.snapshot().active_kid().to_owned();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(kid);
    let hs256 = jsonwebtoken::encode(&hs_header, &decode_claims(&good), &jsonwebtoken::EncodingKey::from_secret(&jwks))
        .unwrap();
    // Correctly signed, but for another storefront client than the session's.
    let wrong_aud = mint("otherclient", 600);
    // Truncated signature.
    let truncated = &good[..good.len() - 10];

    for (what, token) in [
        ("tampered", tampered.as_str()),
        ("expired", expired.as_str()),
        ("alg none", alg_none.as_str()),
        ("HS256 with the public key", hs256.as_str()),
        ("wrong aud", wrong_aud.as_str()),
        ("truncated", truncated),
        ("garbage", "abc"),
    ] {
        let reply = app.get(validate_uri(), Some(token)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.body);
        assert_eq!(reply.headers["content-type"], "application/problem+json");
    }
    let missing = app.get(validate_uri(), None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
}

async fn refresh(app: &TestApp, token: &str) -> tests::Reply {
    app.post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": token})).await
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_session() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let customer = app.login(EMAIL, PASSWORD).await;
    let first = customer.field("refresh_token");
    let rotated = refresh(&app, &first).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(rotated.field("sessionId"), customer.field("sessionId"));
    assert_ne!(rotated.field("refresh_token"), first);
    // The replay fails...
    let replay = refresh(&app, &first).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    // ...and takes the whole session with it: the token it was replaced by, and access tokens.
    assert_eq!(refresh(&app, &rotated.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(validate_uri(), Some(&rotated.field("access_token"))).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(validate_uri(), Some(&customer.field("access_token"))).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn anonymous_refresh_rotates_and_detects_reuse_too() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous().await;
    let uri = "/customerlogin/auth/anonymous/refresh";
    let body = |t: &str| json!({"tenant": "demo", "client_id": "storefront", "refresh_token": t});
    let first = anonymous.field("refresh_token");
    let rotated = app.post(uri, None, body(&first)).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_eq!(rotated.field("sessionId"), anonymous.field("sessionId"));
    // Another client id may not use it.
    let foreign = app
        .post(
            uri,
            None,
            json!({"tenant": "demo", "client_id": "otherclient", "refresh_token": rotated.field("refresh_token")}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.post(uri, None, body(&first)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.post(uri, None, body(&rotated.field("refresh_token"))).await.status, StatusCode::UNAUTHORIZED);
    // A customer refresh route does not take an anonymous token.
    let fresh = app.anonymous().await;
    assert_eq!(refresh(&app, &fresh.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_refresh_and_validation() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let one = app.login(EMAIL, PASSWORD).await;
    let two = app.login(EMAIL, PASSWORD).await;
    let reply = app.post("/customer/demo/logout", Some(&one.field("access_token")), json!({})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &one.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(validate_uri(), Some(&one.field("access_token"))).await.status, StatusCode::UNAUTHORIZED);
    // The other session lives on until "allSessions".
    assert_eq!(app.get(validate_uri(), Some(&two.field("access_token"))).await.status, StatusCode::OK);
    let three = app.login(EMAIL, PASSWORD).await;
    let all = app.post("/customer/demo/logout", Some(&three.field("access_token")), json!({"allSessions": true})).await;
    assert_eq!(all.status, StatusCode::NO_CONTENT);
    for set in [&two, &three] {
        assert_eq!(app.get(validate_uri(), Some(&set.field("access_token"))).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refresh(&app, &set.field("refresh_token")).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_by_one() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let one = app.login(EMAIL, PASSWORD).await;
    let two = app.login(EMAIL, PASSWORD).await;
    let list = app.get("/customer/demo/me/sessions", Some(&one.field("access_token"))).await;
    assert_eq!(list.status, StatusCode::OK);
    let sessions = list.body.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["sessionId"], one.field("sessionId").as_str());
    assert_eq!(current[0]["userAgent"], "integration-test/1.0");
    let uri = format!("/customer/demo/me/sessions/{}", two.field("sessionId"));
    assert_eq!(app.delete(&uri, Some(&one.field("access_token"))).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(validate_uri(), Some(&two.field("access_token"))).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.delete(&uri, Some(&one.field("access_token"))).await.status, StatusCode::NOT_FOUND);
    // Someone else's session id is a 404 too.
    app.create_customer("bob@example.com", PASSWORD).await;
    let bob = app.login("bob@example.com", PASSWORD).await;
    let bobs = format!("/customer/demo/me/sessions/{}", bob.field("sessionId"));
    assert_eq!(app.delete(&bobs, Some(&one.field("access_token"))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(validate_uri(), Some(&bob.field("access_token"))).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_refreshes_of_one_token_let_exactly_one_through() {
    let app = std::sync::Arc::new(TestApp::with_customer(EMAIL, PASSWORD).await);
    let customer = app.login(EMAIL, PASSWORD).await;
    let token = customer.field("refresh_token");
    let statuses = parallel(0..10, |_| {
        let (app, token) = (app.clone(), token.clone());
        async move { refresh(&app, &token).await.status }
    })
    .await;
    assert_eq!(tally(&statuses), [(StatusCode::OK, 1), (StatusCode::UNAUTHORIZED, 9)], "{statuses:?}");
}

#[tokio::test]
async fn five_failures_lock_the_account_for_a_while_whether_or_not_it_exists() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    for who in [EMAIL, "ghost@example.com"] {
        for attempt in 1..=5 {
            let reply = app.login(who, "wrong password").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{who} attempt {attempt}");
        }
        // Locked now, even with the right password.
        let locked = app.login(who, PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{who}");
        let retry_after: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&retry_after), "first lock is 30 s, got {retry_after}");
        assert_eq!(locked.body["code"], "too_many_requests");
    }
    // Another account is not affected.
    app.create_customer("bob@example.com", PASSWORD).await;
    assert_eq!(app.login("bob@example.com", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    for _ in 0..4 {
        assert_eq!(app.login(EMAIL, "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login(EMAIL, PASSWORD).await.status, StatusCode::OK);
    for _ in 0..4 {
        assert_eq!(app.login(EMAIL, "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login(EMAIL, PASSWORD).await.status,
        StatusCode::OK,
        "4 + 4 failures with a success between do not lock"
    );
}

#[tokio::test]
async fn input_errors_are_problem_json_naming_each_field() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous().await;
    let token = anonymous.field("access_token");
    let reply = app.post("/customer/demo/login", Some(&token), json!({"email": "not-an-email"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_fields(), ["email", "password"]);
    let typed = app.post("/customer/demo/login", Some(&token), json!({"email": 42, "password": "x"})).await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    assert_eq!(typed.error_fields(), ["email"]);
    // Malformed JSON and oversized bodies.
    let mut malformed = tests::request(http::Method::POST, "/customer/demo/login", Some(&token), None);
    *malformed.body_mut() = axum::body::Body::from("{not json");
    malformed.headers_mut().insert("content-type", "application/json".parse().unwrap());
    let reply = app.send(malformed).await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "malformed_json");
    let big = "x".repeat(70 * 1024);
    let reply = app.post("/customer/demo/login", Some(&token), json!({"email": "a@b.co", "password": big})).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    // Unknown route and wrong method.
    assert_eq!(app.get("/nope", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/customer/demo/login", None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    // Every response carries a request id.
    assert!(reply.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_jwks_verifies_issued_tokens() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous().await;
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(app.get("/.well-known/jwks.json", None).await.body).unwrap();
    let token = anonymous.field("access_token");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("kid is published");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["storefront"]);
    validation.set_issuer(&["https://accounts.test/customer/demo"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims["tenant"], "demo");
    assert_eq!(data.claims["scope"], "tenant=demo");
    assert!(data.claims["sub"].as_str().unwrap().starts_with("anonymous:"));
}

#[tokio::test]
async fn answers_with_tokens_are_never_cached_and_the_keys_are() {
    let app = TestApp::with_customer(EMAIL, PASSWORD).await;
    let anonymous = app.anonymous().await;
    let customer = app.login_with(&anonymous.field("access_token"), EMAIL, PASSWORD).await;
    let refreshed = app
        .post("/customer/demo/refreshauthtoken", None, json!({"refresh_token": customer.field("refresh_token")}))
        .await;
    let failed = app.login(EMAIL, "wrong password").await;
    for reply in [&anonymous, &customer, &refreshed, &failed] {
        assert_eq!(reply.headers["cache-control"], "no-store", "{}", reply.body);
    }
    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.headers["cache-control"], "public, max-age=300");
}

#[tokio::test]
async fn an_anonymous_session_needs_a_known_tenant_and_client_whatever_is_cached() {
    let app = TestApp::new().await;
    let tenant = app.tenant.to_string();
    let uri =
        |tenant: &str, client: &str| format!("/customerlogin/auth/anonymous/login?tenant={tenant}&client_id={client}");
    // A cold container: tenant and client are read in one round trip.
    app.get(&uri(&tenant, "no-such-client"), None).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_client");
    // The tenant is cached now, the client still unknown (and never cached).
    app.get(&uri(&tenant, "no-such-client"), None).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_client");
    app.get(&uri("nosuchtenant", tests::CLIENT), None).await.assert_problem(StatusCode::UNAUTHORIZED, "invalid_client");
    for _ in 0..2 {
        assert_eq!(app.get(&uri(&tenant, tests::CLIENT), None).await.status, StatusCode::OK);
    }
    // Another tenant's client is not this tenant's.
    let other = app.add_tenant("othershop").await;
    assert_eq!(app.get(&uri(other.as_str(), tests::CLIENT), None).await.status, StatusCode::OK);
    let fresh = TestApp::new().await;
    fresh
        .get(&uri(other.as_str(), "no-such-client"), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_client");
}
