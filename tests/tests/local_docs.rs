//! The local server describes the API to people: `/openapi.yaml` and `/docs`.

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tests::TestApp;
use tower::ServiceExt;

#[tokio::test]
async fn the_local_server_serves_the_openapi_document_and_a_docs_page() {
    let app = TestApp::new().await;
    let local = shared::http::service(cli::all_routes().merge(cli::docs::routes()), app.state.clone());
    let get = |uri: &'static str| local.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap());

    let spec = get("/openapi.yaml").await.unwrap();
    assert_eq!(spec.status(), StatusCode::OK);
    assert_eq!(spec.headers()["content-type"], "application/yaml");
    let text = String::from_utf8(spec.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.starts_with("openapi: 3.1"), "{}", &text[..40]);

    let docs = get("/docs").await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let page = String::from_utf8(docs.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(page.contains("/openapi.yaml"), "the page points at the document");
    // The API itself is mounted beside them.
    assert_eq!(get("/.well-known/jwks.json").await.unwrap().status(), StatusCode::OK);
}
