//! Throughput of the local server under `wrk`, beside two reference stacks
//! run the same way in the same bench: fastapi-users with SQLite on uvicorn,
//! and better-auth with SQLite (better-sqlite3) on Node.
//!
//! Every load names a piece of text each 2xx body must hold (`BENCH_EXPECT`,
//! `bench/wrk/report.lua`): better-auth's get-session answers 200 `null` for
//! a session it does not know, so statuses alone would not show a bad token.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::{BenchApp, EMAIL, PASSWORD, TENANT};

/// How wrk drives one route.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub seconds: u32,
}

#[derive(Debug, Serialize)]
pub struct Throughput {
    pub stack: &'static str,
    pub route: &'static str,
    pub load: Load,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    /// 2xx responses whose body lacked the expected text (null: not checked).
    pub unexpected_bodies: Option<u64>,
    pub socket_errors: u64,
}

/// The line `bench/wrk/report.lua` prints when wrk is done.
#[derive(Debug, Deserialize)]
struct WrkJson {
    requests: u64,
    rps: f64,
    non_2xx: u64,
    #[serde(default)]
    unexpected_body: Option<u64>,
    errors: WrkErrors,
    latency_us: WrkLatency,
}

#[derive(Debug, Deserialize)]
struct WrkErrors {
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
}

#[derive(Debug, Deserialize)]
struct WrkLatency {
    p50: f64,
    p99: f64,
}

struct Target<'a> {
    url: String,
    script: &'a str,
    token: Option<String>,
    body: Option<(String, &'static str)>,
    /// Text every 2xx body must contain.
    expect: &'static str,
    /// One token per request, one a line (instead of `token`).
    tokens_file: Option<PathBuf>,
}

impl Target<'static> {
    /// A GET load with one bearer token (`bench/wrk/get.lua`).
    fn get(url: String, token: String, expect: &'static str) -> Self {
        Self { url, script: "bench/wrk/get.lua", token: Some(token), body: None, expect, tokens_file: None }
    }

    /// A POST load of `body` as `content_type` (`bench/wrk/post.lua`).
    fn post(url: String, body: String, content_type: &'static str, expect: &'static str) -> Self {
        let body = Some((body, content_type));
        Self { url, script: "bench/wrk/post.lua", token: None, body, expect, tokens_file: None }
    }
}

fn wrk(root: &Path, target: &Target<'_>, load: Load) -> Result<WrkJson, String> {
    let mut cmd = std::process::Command::new("wrk");
    cmd.current_dir(root)
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.seconds))
        .args(["-s", target.script, &target.url])
        .stderr(Stdio::inherit());
    if let Some(token) = &target.token {
        cmd.env("BENCH_TOKEN", token);
    }
    cmd.env("BENCH_EXPECT", target.expect);
    if let Some(file) = &target.tokens_file {
        cmd.env("BENCH_TOKENS_FILE", file).env("BENCH_THREADS", load.threads.to_string());
    }
    if let Some((body, content_type)) = &target.body {
        cmd.env("BENCH_BODY", body).env("BENCH_CONTENT_TYPE", content_type);
    }
    let out = cmd.output().map_err(|e| format!("running wrk (scripts/ensure-wrk.sh installs it): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("WRK_JSON ")).ok_or_else(|| format!("wrk printed: {text}"))?;
    serde_json::from_str(line).map_err(|e| format!("wrk summary {line}: {e}"))
}

fn record(stack: &'static str, route: &'static str, load: Load, w: WrkJson) -> Throughput {
    Throughput {
        stack,
        route,
        load,
        requests: w.requests,
        requests_per_sec: w.rps,
        p50_ms: w.latency_us.p50 / 1e3,
        p99_ms: w.latency_us.p99 / 1e3,
        non_2xx: w.non_2xx,
        unexpected_bodies: w.unexpected_body,
        socket_errors: w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout,
    }
}

pub const GET_LOAD: Load = Load { threads: 1, connections: 10, seconds: 10 };
/// `GET me` before the measured loads, not recorded: every stack's JIT
/// (Node's, DynamoDB Local's JVM) and connection pools start warm.
const WARM_UP: Load = Load { threads: 1, connections: 10, seconds: 3 };
pub const LOGIN_LOAD: Load = Load { threads: 1, connections: 4, seconds: 10 };
/// Anonymous sessions made for our login load: a login spends the one it is
/// made on, so each request needs its own (more than 10 s of logins take).
const LOGIN_TOKENS: usize = 2500;

/// `GET me` at [`GET_LOAD`], then `login` at [`LOGIN_LOAD`], of one stack
/// (wrk blocks: it runs on a blocking thread).
async fn me_and_login(
    root: &Path,
    stack: &'static str,
    me: Target<'static>,
    login: Target<'static>,
) -> Result<Vec<Throughput>, String> {
    let root = root.to_owned();
    tokio::task::spawn_blocking(move || -> Result<Vec<Throughput>, String> {
        wrk(&root, &me, WARM_UP)?;
        Ok(vec![
            record(stack, "GET me", GET_LOAD, wrk(&root, &me, GET_LOAD)?),
            record(stack, "login", LOGIN_LOAD, wrk(&root, &login, LOGIN_LOAD)?),
        ])
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Our local server: the same routers `accounts serve` mounts, on a free port.
pub async fn ours(root: &Path, work: &Path, app: &BenchApp) -> Result<Vec<Throughput>, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let tokens = app.customer_login().await;
    let mut anonymous = Vec::with_capacity(LOGIN_TOKENS);
    while anonymous.len() < LOGIN_TOKENS {
        let (a, b, c, d) =
            tokio::join!(app.anonymous_token(), app.anonymous_token(), app.anonymous_token(), app.anonymous_token());
        anonymous.extend([a, b, c, d]);
    }
    let tokens_file = work.join("anonymous-tokens.txt");
    std::fs::write(&tokens_file, anonymous.join("\n")).map_err(|e| format!("{}: {e}", tokens_file.display()))?;
    let login_body = serde_json::json!({"email": EMAIL, "password": PASSWORD}).to_string();
    let me = Target::get(format!("{base}/customer/{TENANT}/me"), tokens.field("access_token"), "\"customerNumber\"");
    let login = Target {
        tokens_file: Some(tokens_file),
        ..Target::post(format!("{base}/customer/{TENANT}/login"), login_body, "application/json", "\"access_token\"")
    };
    let results = me_and_login(root, "customer-accounts", me, login).await;
    server.abort();
    results
}

/// fastapi-users' JWT example on SQLite (`bench/reference/app.py`), one uvicorn worker.
pub async fn reference(root: &Path, work: &Path) -> Result<Vec<Throughput>, String> {
    let python: PathBuf = root.join(".venv-bench/bin/python");
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let db = work.join("reference.db");
    let _ = std::fs::remove_file(&db);
    let mut server = tokio::process::Command::new(&python)
        .current_dir(root)
        .args(["-m", "uvicorn", "app:app", "--app-dir", "bench/reference", "--workers", "1", "--log-level", "warning"])
        .args(["--port", &port.to_string()])
        .env("REFERENCE_DB", &db)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{} (scripts/bench.sh makes it with scripts/venv.sh): {e}", python.display()))?;
    let http = reqwest::Client::new();
    let email = "bench@example.com";
    let mut registered = false;
    for _ in 0..100 {
        let reply = http
            .post(format!("{base}/auth/register"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        if let Ok(reply) = reply {
            registered = reply.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !registered {
        return Err("the reference app did not register the bench user".into());
    }
    let form = [("username", email), ("password", PASSWORD)];
    let token: serde_json::Value = http
        .post(format!("{base}/auth/jwt/login"))
        .form(&form)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = token["access_token"].as_str().ok_or("no access_token from the reference login")?.to_owned();
    let login_body = format!("username={email}&password={}", PASSWORD.replace(' ', "+"));
    let me = Target::get(format!("{base}/users/me"), token, "\"email\"");
    let form = "application/x-www-form-urlencoded";
    let login = Target::post(format!("{base}/auth/jwt/login"), login_body, form, "\"access_token\"");
    let results = me_and_login(root, "fastapi-users (SQLite)", me, login).await;
    let _ = server.kill().await;
    let _ = std::fs::remove_file(&db);
    results
}

/// better-auth's e-mail and password sign-in with its bearer() plugin on SQLite
/// (`bench/better-auth/server.mjs`, installed by `scripts/better-auth.sh`),
/// one Node process. Its get-session is the `GET me` load, its sign-in the
/// `login` load.
pub async fn better_auth(root: &Path, work: &Path) -> Result<Vec<Throughput>, String> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}/api/auth");
    let db = work.join("better-auth.db");
    let remove_db = || {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    };
    remove_db();
    let mut server = tokio::process::Command::new("node")
        .current_dir(root)
        .arg("bench/better-auth/server.mjs")
        .env("PORT", port.to_string())
        .env("BETTER_AUTH_DB", &db)
        .env("NODE_ENV", "production")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("node bench/better-auth/server.mjs (scripts/better-auth.sh installs it): {e}"))?;
    let http = reqwest::Client::new();
    let email = "bench@example.com";
    let mut registered = false;
    for _ in 0..100 {
        let reply = http
            .post(format!("{base}/sign-up/email"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD, "name": "bench"}))
            .send()
            .await;
        if let Ok(reply) = reply {
            registered = reply.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !registered {
        return Err("better-auth did not sign the bench user up".into());
    }
    let login_body = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
    let reply = http
        .post(format!("{base}/sign-in/email"))
        .header("content-type", "application/json")
        .body(login_body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let token = reply
        .headers()
        .get("set-auth-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("better-auth sign-in answered {} without set-auth-token", reply.status()))?
        .to_owned();
    // get-session answers 200 `null` for a token it does not take: check it once here,
    // and every body under load (BENCH_EXPECT).
    let session: serde_json::Value = http
        .get(format!("{base}/get-session"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if session["user"]["email"] != email {
        return Err(format!("better-auth get-session with the bearer token answered {session}"));
    }
    let me = Target::get(format!("{base}/get-session"), token, "\"session\":{");
    let login = Target::post(format!("{base}/sign-in/email"), login_body, "application/json", "\"token\"");
    let results = me_and_login(root, "better-auth (SQLite)", me, login).await;
    let _ = server.kill().await;
    remove_db();
    results
}

fn free_port() -> Result<u16, String> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(socket.local_addr().map_err(|e| e.to_string())?.port())
}
