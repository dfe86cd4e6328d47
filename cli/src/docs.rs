//! The API description for people: `/openapi.yaml` and a `/docs` page (local
//! server only). The page is Swagger UI when `make dev` could fetch it
//! (npm `swagger-ui-dist` in `.tools/swagger-ui`), else a plain page.

use std::path::PathBuf;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use shared::AppState;

pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

fn assets_dir() -> PathBuf {
    std::env::var_os("SWAGGER_UI_DIR").map(PathBuf::from).unwrap_or_else(|| ".tools/swagger-ui".into())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.yaml", get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML) }))
        .route("/docs", get(page))
        .route("/docs/assets/{file}", get(asset))
}

async fn page() -> Html<String> {
    if assets_dir().join("swagger-ui-bundle.js").exists() {
        return Html(
            r##"<!doctype html><html><head><meta charset="utf-8"><title>customer-accounts API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: "/openapi.yaml", dom_id: "#ui" });</script></body></html>"##
                .into(),
        );
    }
    Html(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>customer-accounts API</title></head>
<body style="font-family: sans-serif"><h1>customer-accounts API</h1>
<p>The OpenAPI 3.1 description is at <a href="/openapi.yaml">/openapi.yaml</a>.
Run <code>make dev</code> with npm available to get the interactive Swagger UI here.</p></body></html>"#
            .into(),
    )
}

async fn asset(Path(file): Path<String>) -> Response {
    let content_type = match file.as_str() {
        "swagger-ui.css" => "text/css",
        "swagger-ui-bundle.js" => "text/javascript",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match tokio::fs::read(assets_dir().join(&file)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
