//! The local server serves the account pages under `/account/` with their
//! Content-Security-Policy, and the demo tenant's links open them.

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use shared::domain::TenantId;
use tests::TestApp;
use tower::ServiceExt;

#[tokio::test]
async fn the_pages_are_served_with_their_policy_beside_the_api() {
    let app = TestApp::new().await;
    let local = shared::http::service(cli::all_routes().merge(cli::pages::routes()), app.state.clone());
    let get = |uri: &'static str| local.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap());

    for (uri, content_type) in [
        ("/account/", "text/html"),
        ("/account/index.html", "text/html"),
        ("/account/activate.html", "text/html"),
        ("/account/js/common.js", "text/javascript"),
        ("/account/css/pages.css", "text/css"),
    ] {
        let page = get(uri).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{uri}");
        let headers = page.headers();
        assert!(headers["content-type"].to_str().unwrap().starts_with(content_type), "{uri}: {:?}", headers);
        assert_eq!(headers["content-security-policy"], cli::pages::CONTENT_SECURITY_POLICY, "{uri}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{uri}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
    }
    let html = get("/account/index.html").await.unwrap().into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(html.to_vec()).unwrap();
    assert!(!html.contains("<script>") && !html.contains(" style="), "no inline script or style");

    let bare = get("/account").await.unwrap();
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers()["location"], "/account/");
    assert_eq!(get("/account/no-such-page.html").await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(get("/account/../Cargo.toml").await.unwrap().status(), StatusCode::NOT_FOUND);
    // The API is mounted beside them.
    assert_eq!(get("/customer/demo/branding").await.unwrap().status(), StatusCode::OK);
}

#[test]
fn the_demo_tenant_links_open_the_pages() {
    let settings = cli::demo_settings_at(&TenantId::parse("demo").unwrap(), "http://127.0.0.1:3000/account");
    assert_eq!(settings.activation_uri.as_deref(), Some("http://127.0.0.1:3000/account/activate.html"));
    assert_eq!(settings.email_confirm_uri.as_deref(), Some("http://127.0.0.1:3000/account/confirm-email.html"));
    assert_eq!(settings.reset_uri.as_deref(), Some("http://127.0.0.1:3000/account/reset-password.html"));
    assert!(settings.allowed_link_uris.contains(&"http://127.0.0.1:3000/account/reset-password.html".to_owned()));
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../account-pages/site");
    for page in ["activate.html", "confirm-email.html", "reset-password.html", "account.html"] {
        assert!(site.join(page).is_file(), "{page} exists");
    }
}
