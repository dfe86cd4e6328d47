//! API Gateway HTTP API (payload 2.0) events, as Lambda hands them to a function.

use serde_json::{Map, Value, json};

/// One request the bench sends: through a router in process, or to a Lambda binary.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: &'static str,
    /// Path and optional query, e.g. `/customerlogin/auth/anonymous/login?tenant=demo`.
    pub uri: String,
    pub token: Option<String>,
    pub body: Option<Value>,
}

impl Call {
    pub fn get(uri: impl Into<String>, token: Option<&str>) -> Self {
        Self { method: "GET", uri: uri.into(), token: token.map(str::to_owned), body: None }
    }

    pub fn with_body(method: &'static str, uri: impl Into<String>, token: Option<&str>, body: Value) -> Self {
        Self { method, uri: uri.into(), token: token.map(str::to_owned), body: Some(body) }
    }

    /// The API Gateway v2 event for this request, as JSON text.
    pub fn event(&self, request_id: &str) -> String {
        let (path, query) = self.uri.split_once('?').unwrap_or((&self.uri, ""));
        let mut headers = Map::new();
        headers.insert("host".into(), "api.example.com".into());
        headers.insert("user-agent".into(), "bench".into());
        headers.insert("x-forwarded-for".into(), "203.0.113.10".into());
        headers.insert("x-forwarded-proto".into(), "https".into());
        if let Some(token) = &self.token {
            headers.insert("authorization".into(), format!("Bearer {token}").into());
        }
        if self.body.is_some() {
            headers.insert("content-type".into(), "application/json".into());
        }
        let mut query_parameters = Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            query_parameters.insert(k.into(), v.into());
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "bench",
                "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": { "method": self.method, "path": path, "protocol": "HTTP/1.1",
                          "sourceIp": "203.0.113.10", "userAgent": "bench" },
                "requestId": request_id,
                "routeKey": "$default",
                "stage": "$default",
                "time": "22/Nov/2026:10:00:00 +0000",
                "timeEpoch": 1_795_341_600_000u64
            },
            "isBase64Encoded": false
        });
        if !query_parameters.is_empty() {
            event["queryStringParameters"] = Value::Object(query_parameters);
        }
        if let Some(body) = &self.body {
            event["body"] = Value::String(body.to_string());
        }
        event.to_string()
    }
}

impl Call {
    pub fn method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }
}
