//! Permissions proven from the code. DynamoDB Local and the outbox ignore
//! IAM, so what only AWS enforces gets a test of its own: every route of
//! every function runs through that function's own router (its success
//! paths and the error paths that reach other store calls), an interceptor
//! names the IAM action of every DynamoDB call, a mail in the outbox stands
//! for `ses:SendEmail`, and the sets must equal what template.yaml grants
//! that function: nothing missing (a 500 in AWS), nothing more.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::customer::{CustomerRecord, CustomerStatus};
use shared::domain::{CustomerId, Email};
use tests::oidc_provider::{OidcProvider, configure};
use tests::permissions::ActionRecorder;
use tests::{Reply, TestApp, request};
use tower::ServiceExt;

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase 2026";

/// The app, each function's own router, and what each function was seen doing.
struct Audit {
    app: TestApp,
    recorder: ActionRecorder,
    routers: BTreeMap<&'static str, Router>,
    used: BTreeMap<&'static str, BTreeSet<String>>,
}

impl Audit {
    async fn new() -> Self {
        let recorder = ActionRecorder::default();
        let app = TestApp::recording(recorder.clone()).await;
        let state = app.state.clone();
        let routers = BTreeMap::from([
            ("LoginFunction", login::router(state.clone())),
            ("ActivationFunction", activation::router(state.clone())),
            ("ProfileFunction", profile::router(state.clone())),
            ("AddressesFunction", addresses::router(state.clone())),
            ("PasswordResetFunction", password_reset::router(state)),
        ]);
        Self { app, recorder, routers, used: BTreeMap::new() }
    }

    /// Sends one request through `function`'s router and notes what it did.
    async fn call(
        &mut self,
        function: &'static str,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.recorder.take();
        let mails = self.app.outbox_messages().len();
        let router = self.routers[function].clone();
        let response = router.oneshot(request(method, uri, token, body)).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut used = self.recorder.take();
        if self.app.outbox_messages().len() > mails {
            used.insert("ses:SendEmail".into());
        }
        assert!(!status.is_server_error(), "{function} {uri}: {status} {body}");
        self.used.entry(function).or_default().extend(used);
        Reply { status, headers, body }
    }

    async fn post(&mut self, function: &'static str, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(function, Method::POST, uri, token, Some(body)).await
    }

    async fn get(&mut self, function: &'static str, uri: &str, token: Option<&str>) -> Reply {
        self.call(function, Method::GET, uri, token, None).await
    }

    async fn anonymous(&mut self) -> String {
        let uri = "/customerlogin/auth/anonymous/login?tenant=demo&client_id=storefront";
        self.get("LoginFunction", uri, None).await.field("access_token")
    }

    async fn login(&mut self, email: &str, password: &str) -> Reply {
        let anonymous = self.anonymous().await;
        self.post(
            "LoginFunction",
            "/customer/demo/login",
            Some(&anonymous),
            json!({"email": email, "password": password}),
        )
        .await
    }

    fn latest(&self, to: &str, param: &str) -> String {
        let mail = self.app.mails_to(to).pop().unwrap_or_else(|| panic!("a mail to {to}"));
        tests::links::link_param(mail["text"].as_str().unwrap(), param).unwrap_or_else(|| panic!("{param} in the mail"))
    }
}

async fn exercise_login(audit: &mut Audit, provider: &OidcProvider) {
    let f = "LoginFunction";
    // Before the first request reads (and caches) the tenant's settings.
    configure(&audit.app, vec![provider.settings("acme")]).await;
    audit.app.create_customer(EMAIL, PASSWORD).await;
    // Anonymous sessions: login, refresh by query and by body.
    let uri = "/customerlogin/auth/anonymous/login?tenant=demo&client_id=storefront";
    let anonymous = audit.get(f, uri, None).await;
    let refresh = |token: &str| {
        format!("/customerlogin/auth/anonymous/refresh?tenant=demo&client_id=storefront&refresh_token={token}")
    };
    let by_query = audit.get(f, &refresh(&anonymous.field("refresh_token")), None).await;
    let body = json!({"tenant": "demo", "client_id": "storefront", "refresh_token": by_query.field("refresh_token")});
    assert_eq!(audit.post(f, "/customerlogin/auth/anonymous/refresh", None, body).await.status, StatusCode::OK);
    // Customer login: by e-mail, by id, with a device token; failures to a lock.
    let first = audit.login(EMAIL, PASSWORD).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let id = first.field("customerId");
    let anon = audit.anonymous().await;
    let by_id = json!({"id": id, "password": PASSWORD, "device_token": first.field("device_token")});
    assert_eq!(audit.post(f, "/customer/demo/login", Some(&anon), by_id).await.status, StatusCode::OK);
    for _ in 0..6 {
        audit.login(EMAIL, "wrong guess").await;
    }
    assert_eq!(audit.login("nobody@example.com", "guess").await.status, StatusCode::UNAUTHORIZED);
    // A pending account with the right password; a legacy hash that is upgraded.
    let record = |email: &str, status| {
        CustomerRecord::new(CustomerId::generate(), Email::parse(email).unwrap(), status, &shared::clock::now_rfc3339())
    };
    let pending = CustomerRecord {
        password_hash: Some(
            shared::passwords::hash(&shared::domain::Password::parse(PASSWORD.into()).unwrap()).await.unwrap(),
        ),
        ..record("pending@example.com", CustomerStatus::Pending)
    };
    audit.app.store().create_customer(&audit.app.tenant, &pending, Vec::new()).await.unwrap();
    assert_eq!(audit.login("pending@example.com", PASSWORD).await.status, StatusCode::FORBIDDEN);
    let legacy = CustomerRecord {
        password_hash: Some(bcrypt::hash(PASSWORD, 4).unwrap()),
        ..record("legacy@example.com", CustomerStatus::Active)
    };
    audit.app.store().create_customer(&audit.app.tenant, &legacy, Vec::new()).await.unwrap();
    let upgraded = audit.login("legacy@example.com", PASSWORD).await;
    assert_eq!(upgraded.status, StatusCode::OK);
    // Refresh, replay, validation, sessions, logout.
    let token = upgraded.field("access_token");
    let rotated = audit
        .post(f, "/customer/demo/refreshauthtoken", None, json!({"refresh_token": upgraded.field("refresh_token")}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let replay = audit
        .post(f, "/customer/demo/refreshauthtoken", None, json!({"refresh_token": upgraded.field("refresh_token")}))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(audit.get(f, "/customer/demo/validateauthtoken", Some(&token)).await.status, StatusCode::UNAUTHORIZED);
    let legacy_login = audit.login("legacy@example.com", PASSWORD).await;
    let (access, sid) = (legacy_login.field("access_token"), legacy_login.field("sessionId"));
    assert_eq!(audit.get(f, "/customer/demo/validateauthtoken", Some(&access)).await.status, StatusCode::OK);
    assert_eq!(audit.get(f, "/customer/demo/me/sessions", Some(&access)).await.status, StatusCode::OK);
    let other = audit.login("legacy@example.com", PASSWORD).await.field("access_token");
    let revoke = audit.call(f, Method::DELETE, &format!("/customer/demo/me/sessions/{sid}"), Some(&other), None).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert_eq!(audit.post(f, "/customer/demo/logout", Some(&other), json!({})).await.status, StatusCode::NO_CONTENT);
    let again = audit.login("legacy@example.com", PASSWORD).await.field("access_token");
    let all = audit.post(f, "/customer/demo/logout", Some(&again), json!({"allSessions": true})).await;
    assert_eq!(all.status, StatusCode::NO_CONTENT);
    assert_eq!(audit.get(f, "/customer/demo/.well-known/openid-configuration", None).await.status, StatusCode::OK);
    assert_eq!(audit.get(f, "/.well-known/jwks.json", None).await.status, StatusCode::OK);
    assert_eq!(audit.get(f, "/customer/demo/branding", None).await.status, StatusCode::OK);

    // Social login: a new person; one meeting an existing account (409), who
    // links by password and, for a second identity, by mailed consent; then a
    // linked login.
    const OWNER: &str = "link.owner@example.com";
    audit.app.create_customer(OWNER, PASSWORD).await;
    assert_eq!(social_login(audit, provider, "sub-new", "new.social@example.com").await.status, StatusCode::OK);
    // (One link token per account at a time: each is used before the next is asked for.)
    let required = social_login(audit, provider, "sub-ann", OWNER).await;
    assert_eq!(required.status, StatusCode::CONFLICT, "{}", required.body);
    let anonymous = audit.anonymous().await;
    let by_password = json!({"linkToken": required.field("linkToken"), "password": PASSWORD});
    let linked = audit.post(f, "/customer/demo/socialLogin/link", Some(&anonymous), by_password).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    let required = social_login(audit, provider, "sub-ann-2", OWNER).await;
    assert_eq!(required.status, StatusCode::CONFLICT, "{}", required.body);
    let anonymous = audit.anonymous().await;
    let by_mail = json!({"linkToken": required.field("linkToken")});
    let mailed = audit.post(f, "/customer/demo/socialLogin/link/mail", Some(&anonymous), by_mail).await;
    assert_eq!(mailed.status, StatusCode::ACCEPTED, "{}", mailed.body);
    let confirm = json!({"identifier": audit.latest(OWNER, "identifier"), "key": audit.latest(OWNER, "key")});
    let confirmed = audit.post(f, "/customer/demo/socialLogin/link/confirm", None, confirm).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(social_login(audit, provider, "sub-ann", OWNER).await.status, StatusCode::OK);
}

async fn social_login(audit: &mut Audit, provider: &OidcProvider, sub: &str, email: &str) -> Reply {
    let claims = json!({"sub": sub, "email": email, "email_verified": true});
    let auth = provider.authorize(claims, None).await;
    let anonymous = audit.anonymous().await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("provider", "acme")
        .append_pair("code", &auth.code)
        .append_pair("redirect_uri", tests::oidc_provider::REDIRECT_URI)
        .append_pair("code_verifier", &auth.verifier)
        .finish();
    audit.post("LoginFunction", &format!("/customer/demo/socialLogin?{query}"), Some(&anonymous), json!({})).await
}

/// Sign-in without a password: an e-mail code asked for, a wrong guess, the right one.
async fn exercise_second_factors(audit: &mut Audit) {
    let f = "LoginFunction";
    const CODE_OWNER: &str = "code.owner@example.com";
    audit.app.create_customer(CODE_OWNER, PASSWORD).await;
    let anonymous = audit.anonymous().await;
    let asked = audit.post(f, "/customer/demo/login/emailCode", Some(&anonymous), json!({"email": CODE_OWNER})).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    let mail = audit.app.mails_to(CODE_OWNER).pop().expect("a code mail");
    let text = mail["text"].as_str().unwrap();
    let code = text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())).unwrap();
    let verify = "/customer/demo/login/emailCode/verify";
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let guess = audit.post(f, verify, Some(&anonymous), json!({"email": CODE_OWNER, "code": wrong})).await;
    assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    let signed_in = audit.post(f, verify, Some(&anonymous), json!({"email": CODE_OWNER, "code": code})).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);

    // An authenticator: enrolled and confirmed (profile), a challenged
    // login completed with a wrong code, the next step's code and a
    // recovery code (login), then removed (profile).
    let p = "ProfileFunction";
    let token = signed_in.field("access_token");
    let started = audit.post(p, "/customer/demo/me/totp", Some(&token), json!({})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let secret = started.field("secret");
    let totp = |offset: i64| {
        let secret = totp_rs::Secret::try_from_base32(&secret).unwrap();
        let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
        totp.generate((shared::clock::now_epoch() + offset * 30) as u64).to_string()
    };
    let confirm = "/customer/demo/me/totp/confirm";
    let confirmed = audit.post(p, confirm, Some(&token), json!({"code": totp(0)})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let recovery = confirmed.body["recoveryCodes"].clone();
    let complete = "/customer/demo/login/secondFactor";
    let password = json!({"email": CODE_OWNER, "password": PASSWORD});
    let anonymous = audit.anonymous().await;
    let challenged = audit.post(f, "/customer/demo/login", Some(&anonymous), password.clone()).await;
    assert_eq!(challenged.status, StatusCode::UNAUTHORIZED, "{}", challenged.body);
    let mut proof = json!({"challenge": challenged.body["challenge"], "code": wrong});
    assert_eq!(audit.post(f, complete, Some(&anonymous), proof.clone()).await.status, StatusCode::UNAUTHORIZED);
    proof["code"] = json!(totp(1));
    assert_eq!(audit.post(f, complete, Some(&anonymous), proof).await.status, StatusCode::OK);
    let removal = json!({"password": PASSWORD, "recoveryCode": recovery[0]});
    let removed = audit.call(p, Method::DELETE, "/customer/demo/me/totp", Some(&token), Some(removal)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
}

/// Passkeys: registered (profile), listed, used to sign in with a failed
/// try first (login), removed (profile).
async fn exercise_passkeys(audit: &mut Audit) {
    const OWNER: &str = "passkey.owner@example.com";
    let (p, f) = ("ProfileFunction", "LoginFunction");
    audit.app.create_customer(OWNER, PASSWORD).await;
    let token = audit.login(OWNER, PASSWORD).await.field("access_token");
    let mut authenticator = tests::passkey::SoftPasskey::default();
    let options =
        audit.post(p, "/customer/demo/me/passkeys/options", Some(&token), json!({"password": PASSWORD})).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = authenticator.create(&options.body["publicKey"]);
    let body = json!({"challengeId": options.field("challengeId"), "name": "Laptop", "credential": credential});
    let added = audit.post(p, "/customer/demo/me/passkeys", Some(&token), body).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(audit.get(p, "/customer/demo/me/passkeys", Some(&token)).await.status, StatusCode::OK);
    for wrong in [true, false] {
        let anonymous = audit.anonymous().await;
        let options = audit.post(f, "/customer/demo/login/passkey/options", Some(&anonymous), json!({})).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let ceremony =
            tests::passkey::Ceremony { origin: wrong.then(|| "https://evil.example".to_owned()), ..Default::default() };
        let assertion = authenticator.get_with(&options.body["publicKey"], &ceremony);
        let body = json!({"challengeId": options.field("challengeId"), "credential": assertion});
        let signed_in = audit.post(f, "/customer/demo/login/passkey", Some(&anonymous), body).await;
        let expected = if wrong { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
        assert_eq!(signed_in.status, expected, "{}", signed_in.body);
    }
    let uri = format!("/customer/demo/me/passkeys/{}", added.field("id"));
    let removed = audit.call(p, Method::DELETE, &uri, Some(&token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
}

async fn exercise_activation(audit: &mut Audit) {
    let f = "ActivationFunction";
    let anonymous = audit.anonymous().await;
    let signup = json!({"email": "new@example.com", "password": PASSWORD,
        "customerAddress": {"street": "Main St", "zipCode": "10115", "city": "Berlin", "country": "DE"}});
    assert_eq!(
        audit.post(f, "/customer/demo/signup", Some(&anonymous), signup.clone()).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(audit.post(f, "/customer/demo/signup", Some(&anonymous), signup).await.status, StatusCode::ACCEPTED);
    let resend = json!({"email": "new@example.com"});
    assert_eq!(
        audit.post(f, "/customer/demo/activate/resend", Some(&anonymous), resend).await.status,
        StatusCode::ACCEPTED
    );
    let activate = json!({"identifier": audit.latest("new@example.com", "identifier"),
        "secret": audit.latest("new@example.com", "secret"), "password": NEW_PASSWORD, "password_check": NEW_PASSWORD});
    assert_eq!(audit.post(f, "/customer/demo/activate", None, activate).await.status, StatusCode::OK);
    let token = audit.login("new@example.com", NEW_PASSWORD).await.field("access_token");
    audit.login("new@example.com", NEW_PASSWORD).await;
    let change =
        |password: &str| json!({"email": "new@example.com", "password": password, "newEmail": "newer@example.com"});
    let uri = "/customer/demo/me/accounts/internal/email/change";
    assert_eq!(audit.post(f, uri, Some(&token), change("wrong guess")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(audit.post(f, uri, Some(&token), change(NEW_PASSWORD)).await.status, StatusCode::ACCEPTED);
    let confirm = json!({"identifier": audit.latest("newer@example.com", "identifier"), "key": audit.latest("newer@example.com", "key")});
    assert_eq!(audit.post(f, "/customer/demo/email/confirm", None, confirm).await.status, StatusCode::OK);
}

async fn exercise_profile(audit: &mut Audit) {
    let f = "ProfileFunction";
    audit.app.create_customer("me@example.com", PASSWORD).await;
    let token = audit.login("me@example.com", PASSWORD).await.field("access_token");
    // A second device: the password change ends its session.
    audit.login("me@example.com", PASSWORD).await;
    assert_eq!(audit.get(f, "/customer/demo/me?expand=addresses", Some(&token)).await.status, StatusCode::OK);
    let patch = json!({"firstName": "Ann", "metadata": {"version": 1}});
    assert_eq!(
        audit.call(f, Method::PATCH, "/customer/demo/me", Some(&token), Some(patch)).await.status,
        StatusCode::OK
    );
    assert_eq!(audit.get(f, "/customer/demo/me/export", Some(&token)).await.status, StatusCode::OK);
    // A linked identity (set up in the table directly), listed and removed.
    let me = CustomerId::parse(&audit.login("me@example.com", PASSWORD).await.field("customerId")).unwrap();
    let profile = audit.app.store().get_customer(&audit.app.tenant, &me).await.unwrap().unwrap();
    let link = shared::customer::SocialLink {
        issuer: "https://id.example".into(),
        subject: "me-at-example".into(),
        ..Default::default()
    };
    let expected = (profile.version, profile.epoch);
    assert!(audit.app.store().link_social_identity(&audit.app.tenant, &me, expected, &link, Vec::new()).await.unwrap());
    assert_eq!(audit.get(f, "/customer/demo/me/accounts", Some(&token)).await.status, StatusCode::OK);
    let unlink = format!("/customer/demo/me/accounts/{}", link.id());
    let proof = json!({"password": PASSWORD});
    let unlinked = audit.call(f, Method::DELETE, &unlink, Some(&token), Some(proof)).await;
    assert_eq!(unlinked.status, StatusCode::NO_CONTENT, "{}", unlinked.body);
    let change = json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD});
    assert_eq!(
        audit.post(f, "/customer/demo/me/password/change", Some(&token), change).await.status,
        StatusCode::NO_CONTENT
    );
    let wrong = json!({"password": "wrong guess"});
    assert_eq!(
        audit.call(f, Method::DELETE, "/customer/demo/me", Some(&token), Some(wrong)).await.status,
        StatusCode::FORBIDDEN
    );
    let right = json!({"password": NEW_PASSWORD});
    assert_eq!(
        audit.call(f, Method::DELETE, "/customer/demo/me", Some(&token), Some(right)).await.status,
        StatusCode::OK
    );
}

async fn exercise_addresses(audit: &mut Audit) {
    let f = "AddressesFunction";
    audit.app.create_customer("home@example.com", PASSWORD).await;
    let token = audit.login("home@example.com", PASSWORD).await.field("access_token");
    let address = |street: &str| json!({"street": street, "zipCode": "10115", "city": "Berlin", "country": "DE"});
    assert_eq!(audit.get(f, "/customer/demo/me/addresses/fields", None).await.status, StatusCode::OK);
    let first = audit.post(f, "/customer/demo/me/addresses", Some(&token), address("First St")).await.field("id");
    let second = audit.post(f, "/customer/demo/me/addresses", Some(&token), address("Second St")).await.field("id");
    assert_eq!(audit.get(f, "/customer/demo/me/addresses", Some(&token)).await.status, StatusCode::OK);
    let one = format!("/customer/demo/me/addresses/{second}");
    assert_eq!(audit.get(f, &one, Some(&token)).await.status, StatusCode::OK);
    let patch = json!({"city": "Hamburg", "isDefault": true, "metadata": {"version": 1}});
    assert_eq!(audit.call(f, Method::PATCH, &one, Some(&token), Some(patch)).await.status, StatusCode::OK);
    let put = json!({"street": "Second St", "zipCode": "20095", "city": "Hamburg", "country": "DE", "isDefault": false, "metadata": {"version": 1}});
    let put_first = format!("/customer/demo/me/addresses/{first}");
    assert_eq!(audit.call(f, Method::PUT, &put_first, Some(&token), Some(put)).await.status, StatusCode::OK);
    assert_eq!(audit.call(f, Method::DELETE, &one, Some(&token), None).await.status, StatusCode::NO_CONTENT);
}

async fn exercise_password_reset(audit: &mut Audit) {
    let f = "PasswordResetFunction";
    audit.app.create_customer("reset@example.com", PASSWORD).await;
    // Signed in elsewhere: the reset ends that session.
    audit.login("reset@example.com", PASSWORD).await;
    let anonymous = audit.anonymous().await;
    let request = json!({"email": "reset@example.com"});
    assert_eq!(
        audit.post(f, "/customer/demo/password/reset", Some(&anonymous), request.clone()).await.status,
        StatusCode::ACCEPTED
    );
    let token = audit.latest("reset@example.com", "token");
    let update = json!({"token": token, "password": NEW_PASSWORD});
    assert_eq!(
        audit.post(f, "/customer/demo/password/reset/update", Some(&anonymous), update).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        audit.post(f, "/customer/demo/password/reset", Some(&anonymous), request).await.status,
        StatusCode::ACCEPTED
    );
    let generate = json!({"email": "reset@example.com", "code": audit.latest("reset@example.com", "token")});
    assert_eq!(
        audit.post(f, "/customer/demo/password/reset/generate", Some(&anonymous), generate).await.status,
        StatusCode::OK
    );
    let unknown = json!({"email": "nobody@example.com"});
    assert_eq!(
        audit.post(f, "/customer/demo/password/reset", Some(&anonymous), unknown).await.status,
        StatusCode::ACCEPTED
    );
}

/// The seed dialects' routes, in the functions that serve them (Moltin v1
/// and the retailer API): the same services, but other store calls (the
/// Moltin token's own item, the default address written from `self`).
async fn exercise_dialects(audit: &mut Audit) {
    audit.app.create_customer("moltin@example.com", PASSWORD).await;
    let shop = audit.anonymous().await;
    let body = json!({"email": "moltin@example.com", "password": PASSWORD});
    let login = audit.post("LoginFunction", "/demo/v1/customers/token", Some(&shop), body).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.body["result"]["token"].as_str().unwrap().to_owned();
    let me = format!("/demo/v1/customers/{token}");
    assert_eq!(audit.get("ProfileFunction", &me, Some(&shop)).await.status, StatusCode::OK);
    let f = "AddressesFunction";
    let addresses = format!("{me}/addresses");
    let address = json!({"street": "First St", "zipCode": "10115", "city": "Berlin", "country": "DE"});
    let created = audit.post(f, &addresses, Some(&shop), address.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let one = format!("{addresses}/{}", created.body["result"]["id"].as_str().unwrap());
    assert_eq!(audit.get(f, &addresses, Some(&shop)).await.status, StatusCode::OK);
    assert_eq!(audit.get(f, &format!("{addresses}/fields"), Some(&shop)).await.status, StatusCode::OK);
    assert_eq!(audit.get(f, &one, Some(&shop)).await.status, StatusCode::OK);
    assert_eq!(audit.call(f, Method::PUT, &one, Some(&shop), Some(address)).await.status, StatusCode::OK);
    assert_eq!(audit.get(f, &format!("{one}/fields"), Some(&shop)).await.status, StatusCode::OK);
    let logout = format!("/demo/v1/customers/token/{token}");
    assert_eq!(audit.call("LoginFunction", Method::DELETE, &logout, Some(&shop), None).await.status, StatusCode::OK);
    // Deletion through a Moltin token.
    let shop = audit.anonymous().await;
    let body = json!({"email": "moltin@example.com", "password": PASSWORD});
    let token =
        audit.post("LoginFunction", "/demo/v1/customers/token", Some(&shop), body).await.body["result"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let me = format!("/demo/v1/customers/{token}");
    let proof = json!({"password": PASSWORD});
    assert_eq!(
        audit.call("ProfileFunction", Method::DELETE, &me, Some(&shop), Some(proof)).await.status,
        StatusCode::OK
    );

    // The retailer API: login without a token, `self`, e-mail change, reset, deletion.
    audit.app.create_customer("retail@example.com", PASSWORD).await;
    let body = json!({"email": "retail@example.com", "password": PASSWORD});
    let token = audit.post("LoginFunction", "/demo/customers/login", None, body).await.field("token");
    let f = "ProfileFunction";
    assert_eq!(audit.get(f, "/demo/customers/self", Some(&token)).await.status, StatusCode::OK);
    let edit = json!({"name": "Ann Lee", "mobile": "+49 170 1", "address": "Main St 1", "address_town": "Berlin",
        "address_postcode": "10115", "country": "DE"});
    let patched = audit.call(f, Method::PATCH, "/demo/customers/self", Some(&token), Some(edit)).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let edit = json!({"address_town": "Hamburg", "email": "retail.new@example.com", "password": PASSWORD});
    let patched = audit.call(f, Method::PATCH, "/demo/customers/self", Some(&token), Some(edit)).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let confirm = json!({"identifier": audit.latest("retail.new@example.com", "identifier"),
        "key": audit.latest("retail.new@example.com", "key")});
    let confirmed = audit.post("ActivationFunction", "/demo/customers/newemail_confirm", None, confirm).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let f = "PasswordResetFunction";
    let request = json!({"email": "retail.new@example.com", "reset_uri": "/customers/do_reset"});
    assert_eq!(audit.post(f, "/demo/customers/password_reset", None, request).await.status, StatusCode::ACCEPTED);
    let mail = audit.app.mails_to("retail.new@example.com").pop().unwrap();
    let text = mail["text"].as_str().unwrap();
    let link = text.split_whitespace().find(|w| w.contains("/customers/do_reset/")).unwrap();
    let code = link.rsplit('/').next().unwrap().split('?').next().unwrap();
    let body = json!({"email": "retail.new@example.com", "code": code});
    let reset = audit.post(f, "/demo/customers/do_reset", None, body).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let body = json!({"email": "retail.new@example.com", "password": NEW_PASSWORD});
    let wrong = audit.post("LoginFunction", "/demo/customers/login", None, body).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

/// What each function's policy grants on the table and for mail.
fn granted() -> BTreeMap<String, BTreeSet<String>> {
    tests::template::function_policies()
        .into_iter()
        .map(|(function, statements)| {
            let actions = statements
                .iter()
                .flat_map(|s| s.actions.iter().cloned())
                .filter(|a| a.starts_with("dynamodb:") || a.starts_with("ses:"))
                .collect();
            (function, actions)
        })
        .collect()
}

#[tokio::test]
async fn each_function_is_granted_exactly_what_its_code_calls() {
    let provider = OidcProvider::start();
    let mut audit = Audit::new().await;
    exercise_login(&mut audit, &provider).await;
    exercise_second_factors(&mut audit).await;
    exercise_passkeys(&mut audit).await;
    exercise_activation(&mut audit).await;
    exercise_profile(&mut audit).await;
    exercise_addresses(&mut audit).await;
    exercise_password_reset(&mut audit).await;
    exercise_dialects(&mut audit).await;

    let used: BTreeMap<String, BTreeSet<String>> =
        audit.used.iter().map(|(f, actions)| (f.to_string(), actions.clone())).collect();
    let granted = granted();
    let mut wrong = Vec::new();
    for (function, actions) in &used {
        let grants = granted.get(function).cloned().unwrap_or_default();
        let missing: Vec<_> = actions.difference(&grants).collect();
        let unused: Vec<_> = grants.difference(actions).collect();
        if !missing.is_empty() || !unused.is_empty() {
            wrong.push(format!("{function}: missing {missing:?}, granted but never called {unused:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(used.keys().collect::<Vec<_>>(), granted.keys().collect::<Vec<_>>(), "every function was exercised");
}

#[test]
fn secrets_and_mail_are_granted_narrowly() {
    for (function, statements) in tests::template::function_policies() {
        let secrets: Vec<&tests::template::Statement> =
            statements.iter().filter(|s| s.actions.contains("secretsmanager:GetSecretValue")).collect();
        // Every function reads the signing key set at cold start; login also reads
        // social providers' client secrets (tenant setting `clientSecretArn`).
        let mut resources: Vec<&str> = secrets.iter().flat_map(|s| s.resources.iter().map(String::as_str)).collect();
        resources.sort();
        // The stack's own secret, or in a replica region's stack its replica there (docs/multi-region.md).
        let mut expected = vec!["!If [IsReplicaStack, !Ref ReplicaSigningKeysSecretArn, !Ref SigningKeys]"];
        if function == "LoginFunction" {
            expected.push("!Sub \"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:customer-accounts/social/*\"");
        }
        expected.sort();
        assert_eq!(resources, expected, "{function}");
        for statement in &statements {
            assert!(statement.resources.iter().all(|r| !r.contains("/index/")), "{function}: no index is read");
            if statement.actions.contains("ses:SendEmail") {
                assert!(
                    statement.condition.iter().any(|line| line.starts_with("ses:FromAddress")),
                    "{function}: mail only from the configured sender"
                );
            }
        }
    }
}
