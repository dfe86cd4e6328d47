//! The deployment description matches the code: the (method, path, function)
//! triples of template.yaml equal the routes of openapi.yaml, and each is
//! served by exactly the function the template maps it to.

use std::collections::BTreeSet;

use axum::Router;
use http::{Method, StatusCode};
use shared::AppState;
use tests::{TestApp, request};
use tower::ServiceExt;

fn root_file(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)).unwrap()
}

/// `{anything}` → `{}`, so `{session_id}` and `{sessionId}` compare equal.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// (function logical id, METHOD, path) from the `Events:` of each function.
/// template.yaml uses CloudFormation tags, so it is read line by line.
fn template_routes() -> Vec<(String, String, String)> {
    let text = root_file("template.yaml");
    let mut routes = Vec::new();
    let mut function = String::new();
    let mut method = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 2 && trimmed.ends_with("Function:") {
            function = trimmed.trim_end_matches(':').to_owned();
        } else if let Some(m) = trimmed.strip_prefix("Method: ") {
            method = m.to_owned();
        } else if let Some(p) = trimmed.strip_prefix("Path: ") {
            routes.push((function.clone(), method.clone(), p.to_owned()));
        }
    }
    routes
}

/// (METHOD, path) of every operation in openapi.yaml.
fn openapi_routes() -> BTreeSet<(String, String)> {
    let text = root_file("openapi.yaml");
    let mut routes = BTreeSet::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && indent == 0 {
            in_paths = line.starts_with("paths:");
            continue;
        }
        if !in_paths {
            continue;
        }
        let trimmed = line.trim();
        if indent == 2 && trimmed.starts_with('/') {
            path = trimmed.trim_end_matches(':').to_owned();
        } else if indent == 4 {
            let key = trimmed.trim_end_matches(':');
            if ["get", "post", "put", "patch", "delete"].contains(&key) {
                routes.insert((key.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

fn router_of(function: &str, state: AppState) -> Router {
    match function {
        "LoginFunction" => login::router(state),
        "ActivationFunction" => activation::router(state),
        "ProfileFunction" => profile::router(state),
        "AddressesFunction" => addresses::router(state),
        "PasswordResetFunction" => password_reset::router(state),
        other => panic!("template.yaml names an unknown function {other}"),
    }
}

fn concrete(path: &str) -> String {
    path.replace("{tenant}", "demo").replace("{sessionId}", "s1").replace("{addressId}", "a1")
}

#[test]
fn template_and_openapi_describe_the_same_routes() {
    let template: BTreeSet<(String, String)> = template_routes().into_iter().map(|(_, m, p)| (m, shape(&p))).collect();
    let openapi: BTreeSet<(String, String)> = openapi_routes().into_iter().map(|(m, p)| (m, shape(&p))).collect();
    assert!(template.len() >= 31, "{template:?}");
    let only_template: Vec<_> = template.difference(&openapi).collect();
    let only_openapi: Vec<_> = openapi.difference(&template).collect();
    assert!(
        only_template.is_empty() && only_openapi.is_empty(),
        "template only: {only_template:?}; openapi only: {only_openapi:?}"
    );
    let all = template_routes();
    assert_eq!(all.len(), template.len(), "a route is mapped twice in template.yaml");
}

#[test]
fn every_function_is_built_with_cargo_lambda_for_arm64() {
    let text = root_file("template.yaml");
    let functions: BTreeSet<String> = template_routes().into_iter().map(|(f, _, _)| f).collect();
    assert_eq!(functions.len(), 5);
    assert_eq!(text.matches("BuildMethod: rust-cargolambda").count(), 5);
    assert!(text.contains("Runtime: provided.al2023") && text.contains("Architectures: [arm64]"));
    assert!(!text.contains("{proxy+}") && !text.contains("$default\n          Type: HttpApi"), "no catch-all route");
}

#[tokio::test]
async fn each_template_route_is_served_by_its_function_and_no_other_method_is() {
    let app = TestApp::new().await;
    let routes = template_routes();
    for (function, method, path) in &routes {
        let router = router_of(function, app.state.clone());
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = router.oneshot(request(method.clone(), &concrete(path), None, None)).await.unwrap();
        assert!(
            reply.status() != StatusCode::NOT_FOUND && reply.status() != StatusCode::METHOD_NOT_ALLOWED,
            "{function} does not serve {method} {path}: {}",
            reply.status()
        );
    }
    // On each path, the methods the template does not list are refused (405 or 404).
    for (function, _, path) in &routes {
        let listed: BTreeSet<&str> =
            routes.iter().filter(|(f, _, p)| f == function && p == path).map(|(_, m, _)| m.as_str()).collect();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if listed.contains(method) {
                continue;
            }
            let router = router_of(function, app.state.clone());
            let reply = router
                .oneshot(request(Method::from_bytes(method.as_bytes()).unwrap(), &concrete(path), None, None))
                .await
                .unwrap();
            assert!(
                matches!(reply.status(), StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND),
                "{function} serves {method} {path}, which template.yaml does not map"
            );
        }
    }
}
