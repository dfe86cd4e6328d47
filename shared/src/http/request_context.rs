//! Per-request context: the request id (API Gateway's when present) on every
//! response and log line, with Powertools field names.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use tracing::Instrument;

use crate::error::ApiError;
use crate::state::AppState;

/// True until the first request of this process has been served.
pub static COLD_START: AtomicBool = AtomicBool::new(true);

pub async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let gateway = request.request_context_ref().and_then(|ctx| match ctx {
        RequestContext::ApiGatewayV2(ctx) => Some(ctx),
        #[allow(unreachable_patterns)]
        _ => None,
    });
    if let Some(domain) = gateway.and_then(|ctx| ctx.domain_name.as_deref()) {
        crate::config::learn_issuer_base(domain);
    }
    let request_id = gateway.and_then(|ctx| ctx.request_id.clone()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let xray_trace_id = std::env::var("_X_AMZN_TRACE_ID").unwrap_or_default();
    let cold_start = COLD_START.swap(false, Ordering::Relaxed);
    // The path only, never the query string: it may carry refresh tokens.
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        correlation_id = %request_id,
        cold_start,
        xray_trace_id = %xray_trace_id,
    );
    let started = std::time::Instant::now();
    // However the calls behind it fare, the request answers within its budget
    // (inside the function's timeout): Lambda's own timeout never answers.
    let budget = state.config.timeouts.request;
    let mut response = match tokio::time::timeout(budget, next.run(request).instrument(span.clone())).await {
        Ok(response) => response,
        Err(_) => {
            let cause = format!("the request took longer than its {} ms budget", budget.as_millis());
            span.in_scope(|| ApiError::Unavailable { cause, retry_after_secs: 2 }.into_response())
        }
    };
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            path = %path,
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    // Answers carry tokens, secrets and personal data: no cache keeps them,
    // unless a route says otherwise (the JWKS and discovery are public).
    response.headers_mut().entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
