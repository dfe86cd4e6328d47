//! Cold start through a Lambda Runtime API emulator: the bench serves
//! `/2018-06-01/runtime/invocation/next` and takes the responses, the way the
//! Lambda service does, and times exec → first response of a real binary.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::stats::{Summary, median};

/// What the emulator saw of one invocation.
#[derive(Debug)]
struct Answer {
    served: Instant,
    answered: Instant,
    ok: bool,
    body: String,
}

struct Emulator {
    events: Mutex<VecDeque<(String, String)>>,
    served: Mutex<HashMap<String, Instant>>,
    first_next: Mutex<Option<Instant>>,
    answers: mpsc::UnboundedSender<Answer>,
}

async fn next(State(emu): State<Arc<Emulator>>) -> axum::response::Response {
    let now = Instant::now();
    emu.first_next.lock().unwrap().get_or_insert(now);
    let Some((id, event)) = emu.events.lock().unwrap().pop_front() else {
        // No more events: hold the long poll, as Lambda does while the sandbox is idle.
        std::future::pending::<()>().await;
        unreachable!()
    };
    emu.served.lock().unwrap().insert(id.clone(), now);
    let deadline =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap() + Duration::from_secs(10);
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_str(&id).unwrap());
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline.as_millis() as u64));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
    );
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (headers, event).into_response()
}

async fn answer(emu: &Emulator, id: &str, ok: bool, body: String) -> StatusCode {
    let answered = Instant::now();
    let served = emu.served.lock().unwrap().get(id).copied().unwrap_or(answered);
    let _ = emu.answers.send(Answer { served, answered, ok, body });
    StatusCode::ACCEPTED
}

async fn response(State(emu): State<Arc<Emulator>>, UrlPath(id): UrlPath<String>, body: String) -> StatusCode {
    answer(&emu, &id, true, body).await
}

async fn invocation_error(State(emu): State<Arc<Emulator>>, UrlPath(id): UrlPath<String>, body: String) -> StatusCode {
    answer(&emu, &id, false, body).await
}

async fn init_error(State(emu): State<Arc<Emulator>>, body: String) -> StatusCode {
    answer(&emu, "init", false, body).await
}

/// One cold start and the warm invocations after it.
#[derive(Debug)]
struct Run {
    init: Duration,
    cold: Duration,
    first_invoke: Duration,
    warm: Vec<Duration>,
    peak_rss_kib: u64,
}

#[derive(Debug, Serialize)]
pub struct ColdStart {
    pub function: String,
    pub runs: usize,
    /// exec → first `next` (the runtime is ready): median of runs.
    pub init_ms: f64,
    /// exec → first response: median of runs.
    pub cold_start_ms: f64,
    /// first `next` → first response (includes the first DynamoDB connection).
    pub first_invoke_ms: f64,
    /// later invocations, as the emulator sees them.
    pub warm_ms: Summary,
    /// VmHWM after the warm invocations: the largest of the runs.
    pub peak_rss_mib: f64,
}

/// A function to start cold: its binary, the environment Lambda gives it,
/// the events it serves (going round them), and where its output goes.
pub struct ColdFunction {
    pub label: String,
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
    pub events: Vec<String>,
    pub log: PathBuf,
}

/// Starts each function `runs` times against a fresh emulator; each run
/// serves an event once cold and then `warm` more times. The functions take
/// turns run by run, so that what the machine does meanwhile (another
/// process, a slower minute) falls on all of them alike and their ratios
/// hold even where the absolute times drift.
pub async fn measure(functions: &[ColdFunction], runs: usize, warm: usize) -> Result<Vec<ColdStart>, String> {
    let mut results: Vec<Vec<Run>> = functions.iter().map(|_| Vec::with_capacity(runs)).collect();
    // Each run takes the function's next `warm + 1` events, going round them.
    let mut next: Vec<_> = functions.iter().map(|f| f.events.iter().cycle()).collect();
    for run in 0..runs {
        for (i, function) in functions.iter().enumerate() {
            let batch: Vec<&String> = next[i].by_ref().take(warm + 1).collect();
            let result = one_run(function, &batch, run).await;
            results[i].push(result.map_err(|e| format!("{}: {e}", function.label))?);
        }
    }
    Ok(functions.iter().zip(&results).map(|(function, runs)| summary(&function.label, runs)).collect())
}

fn summary(name: &str, results: &[Run]) -> ColdStart {
    let ms = |f: fn(&Run) -> Duration| median(&results.iter().map(|r| f(r).as_secs_f64() * 1e3).collect::<Vec<_>>());
    let warm_samples: Vec<Duration> = results.iter().flat_map(|r| r.warm.iter().copied()).collect();
    ColdStart {
        function: name.to_owned(),
        runs: results.len(),
        init_ms: ms(|r| r.init),
        cold_start_ms: ms(|r| r.cold),
        first_invoke_ms: ms(|r| r.first_invoke),
        warm_ms: Summary::of(&warm_samples),
        peak_rss_mib: results.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0,
    }
}

async fn one_run(function: &ColdFunction, batch: &[&String], run: usize) -> Result<Run, String> {
    let warm = batch.len() - 1;
    let events = batch.iter().enumerate().map(|(i, event)| (format!("req-{run}-{i}"), (*event).clone())).collect();
    let (emu, addr, server, mut rx) = serve(events).await?;

    let log_file =
        std::fs::OpenOptions::new().create(true).append(true).open(&function.log).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = start(&function.binary, &function.env, addr, log_file)?;
    let pid = child.id().unwrap_or(0);

    let mut answers = Vec::with_capacity(warm + 1);
    while answers.len() <= warm {
        let answer = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .map_err(|_| "no response within 30 s".to_owned())?
            .ok_or("the emulator stopped")?;
        // A function error, or a 5xx, means the binary did not serve the
        // event; a 429 that a limit refused it, so the run would time the refusal.
        if !answer.ok || answer.body.contains("\"statusCode\":5") || answer.body.contains("\"statusCode\":429") {
            return Err(format!("invocation failed: {}", answer.body));
        }
        answers.push(answer);
    }
    let peak_rss_kib = peak_rss_kib(pid).unwrap_or(0);
    let _ = child.kill().await;
    server.abort();

    let first = &answers[0];
    let init = emu.first_next.lock().unwrap().map(|t| t - started).unwrap_or_default();
    Ok(Run {
        init,
        cold: first.answered - started,
        first_invoke: first.answered - first.served,
        warm: answers[1..].iter().map(|a| a.answered - a.served).collect(),
        peak_rss_kib,
    })
}

/// An emulator serving `events` (id, body) in order on a port of its own;
/// what the function answers arrives on the receiver.
async fn serve(
    events: VecDeque<(String, String)>,
) -> Result<
    (
        Arc<Emulator>,
        std::net::SocketAddr,
        tokio::task::JoinHandle<std::io::Result<()>>,
        mpsc::UnboundedReceiver<Answer>,
    ),
    String,
> {
    let (tx, rx) = mpsc::unbounded_channel();
    let emu = Arc::new(Emulator {
        events: Mutex::new(events),
        served: Mutex::new(HashMap::new()),
        first_next: Mutex::new(None),
        answers: tx,
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(emu.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((emu, addr, server, rx))
}

/// Starts `binary` against a fresh emulator holding `event`, and waits up to
/// `within` for the process to end: how a function that cannot start
/// behaves. Returns its exit status and how many answers it posted.
#[cfg(test)]
pub async fn exit_after_first_event(
    binary: &Path,
    env: &[(String, String)],
    event: &str,
    log: &Path,
    within: Duration,
) -> Result<(std::process::ExitStatus, usize), String> {
    let (_emu, addr, server, mut rx) = serve(VecDeque::from([("req-exit".to_owned(), event.to_owned())])).await?;
    let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(|e| e.to_string())?;
    let mut child = start(binary, env, addr, log_file)?;
    let status = tokio::time::timeout(within, child.wait())
        .await
        .map_err(|_| format!("still running after {within:?}"))?
        .map_err(|e| e.to_string())?;
    server.abort();
    let mut answers = 0;
    while rx.try_recv().is_ok() {
        answers += 1;
    }
    Ok((status, answers))
}

/// Starts `binary` as Lambda would, against the emulator at `addr`, with
/// its output appended to `log_file`.
fn start(
    binary: &Path,
    env: &[(String, String)],
    addr: std::net::SocketAddr,
    log_file: std::fs::File,
) -> Result<tokio::process::Child, String> {
    tokio::process::Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
