//! `make bench`: measures, in one run on this machine, what matters for the
//! functions on Lambda: cold start against two yardsticks (hello-world, and
//! hello-dynamodb, one DynamoDB read with the SDK defaults), binary and zip
//! size, peak memory, warm latency per route against the raw DynamoDB calls,
//! throughput beside a reference stack, and the cost that follows. Prints
//! tables and writes the figures as JSON.

mod apigw;
mod app;
mod capture;
mod cost;
mod init_costs;
mod latency;
mod report;
mod runtime_api;
mod sizes;
mod stats;
mod throughput;

use std::path::PathBuf;

use clap::Parser;
use serde::Serialize;

use crate::apigw::Call;
use crate::app::{BenchApp, TENANT};
use crate::runtime_api::ColdFunction;

#[derive(Parser)]
struct Args {
    /// DynamoDB Local (scripts/bench.sh starts one).
    #[arg(long, env = "DYNAMODB_ENDPOINT")]
    endpoint: String,
    /// Where the release binaries are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Also measure arm64 bootstraps here (`<dir>/<function>/bootstrap`, as
    /// `cargo lambda build --arm64` writes them; `ARM64=1 make bench` does).
    #[arg(long)]
    arm64_dir: Option<PathBuf>,
    /// The repository root (events, wrk scripts, reference app, template).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Cold starts per function.
    #[arg(long, default_value_t = 30)]
    cold_runs: usize,
    /// Warm invocations after each cold start.
    #[arg(long, default_value_t = 50)]
    warm: usize,
    /// Requests per route for warm latency (login: `login_iterations`).
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    #[arg(long, default_value_t = 40)]
    login_iterations: usize,
    /// Skip the wrk runs (no wrk, no reference venv).
    #[arg(long)]
    skip_throughput: bool,
    /// Skip the better-auth peer of the wrk runs (not installed).
    #[arg(long)]
    skip_better_auth: bool,
    /// Measure the cold starts only, print them and stop (quick comparisons
    /// while working on start-up; writes no results).
    #[arg(long)]
    cold_starts_only: bool,
}

/// Rounds of the cold events' DynamoDB calls before the cold starts (see `BenchApp::warm_emulator`).
const EMULATOR_WARM_UP_ROUNDS: usize = 300;

pub const FUNCTIONS: [&str; 5] = ["login", "activation", "profile", "addresses", "password-reset"];
/// Cold-start yardsticks built with the same profile: no I/O, and one
/// DynamoDB read with the SDK's defaults.
pub const YARDSTICKS: [&str; 2] = ["hello-world", "hello-dynamodb"];

#[derive(Serialize)]
pub struct Results {
    pub measured_at: String,
    pub machine: String,
    pub sizes: Vec<sizes::BinarySize>,
    pub cold_start: Vec<runtime_api::ColdStart>,
    /// init against hello-world's init (the yardstick of init).
    pub init_vs_hello_world: Vec<(String, f64)>,
    pub cold_start_vs_hello_dynamodb: Vec<(String, f64)>,
    pub init_costs: Vec<init_costs::InitCost>,
    pub latency: latency::LatencyReport,
    pub throughput: Vec<throughput::Throughput>,
    pub throughput_error: Option<String>,
    pub cost: Vec<cost::CostPerMillion>,
    pub cost_assumptions: cost::Assumptions,
    /// Per function: cost and p99 at each memory size, and the size picked.
    pub memory_sweep: Vec<cost::MemoryChoice>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let work = args.out.parent().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let app = BenchApp::new(&args.endpoint, work.join("outbox")).await;

    eprintln!("sizes…");
    let mut all_sizes = Vec::new();
    for name in FUNCTIONS.iter().chain(&YARDSTICKS) {
        all_sizes.push(sizes::measure(name, "x86_64", &args.bin_dir.join(name))?);
    }
    if let Some(dir) = &args.arm64_dir {
        for name in FUNCTIONS {
            all_sizes.push(sizes::measure(name, "arm64", &dir.join(name).join("bootstrap"))?);
        }
    }

    eprintln!("cold starts…");
    let cold_start = cold_starts(&args, &app, &work).await?;
    let ratios = |yardstick: &str, of: fn(&runtime_api::ColdStart) -> f64| {
        let base = cold_start.iter().find(|c| c.function == yardstick).map(of).unwrap_or(f64::NAN);
        cold_start.iter().map(|c| (c.function.clone(), of(c) / base)).collect::<Vec<_>>()
    };
    let init_vs_hello_world = ratios("hello-world", |c| c.init_ms);
    let cold_start_vs_hello_dynamodb = ratios("hello-dynamodb", |c| c.cold_start_ms);
    if args.cold_starts_only {
        let all_ratios = init_vs_hello_world.iter().zip(&cold_start_vs_hello_dynamodb);
        for (c, ((_, vs_hello_world), (_, vs_dynamodb))) in cold_start.iter().zip(all_ratios) {
            println!(
                "{:<18} init {:>5.2} ms ({:.2}x hello-world)  first invoke {:>6.2}  exec→response {:>6.2} ms ({:.2}x hello-dynamodb)",
                c.function, c.init_ms, vs_hello_world, c.first_invoke_ms, c.cold_start_ms, vs_dynamodb
            );
        }
        return Ok(());
    }

    let init_costs = init_costs::measure(&app.config, &app.key_set_json).await;

    eprintln!("warm latency…");
    let latency = latency::run(&app, args.iterations, args.login_iterations).await;

    let (throughput, throughput_error) = if args.skip_throughput {
        (Vec::new(), Some("skipped".to_owned()))
    } else {
        eprintln!("throughput…");
        run_throughput(&args, &app, &work).await
    };

    let template = args.root.join("template.yaml");
    let login_mb = cost::template_memory_mb(&template, "LoginFunction").unwrap_or(1024);
    let profile_mb = cost::template_memory_mb(&template, "ProfileFunction").unwrap_or(1024);
    let (cost, cost_assumptions) = cost::from_latency(&latency, login_mb, profile_mb);
    let peak_rss: Vec<(String, f64)> = cold_start.iter().map(|c| (c.function.clone(), c.peak_rss_mib)).collect();
    let memory_sweep = cost::memory_sweep(&latency, &peak_rss);

    let results = Results {
        measured_at: shared::clock::rfc3339(shared::clock::now_epoch()),
        machine: report::machine(),
        sizes: all_sizes,
        cold_start,
        init_vs_hello_world,
        cold_start_vs_hello_dynamodb,
        init_costs,
        latency,
        throughput,
        throughput_error,
        cost,
        cost_assumptions,
        memory_sweep,
    };
    print!("{}", report::tables(&results));
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// Ours, then each peer; a peer that fails leaves the figures measured before it.
async fn run_throughput(
    args: &Args,
    app: &BenchApp,
    work: &std::path::Path,
) -> (Vec<throughput::Throughput>, Option<String>) {
    let mut all = Vec::new();
    let mut errors = Vec::new();
    match throughput::ours(&args.root, work, app).await {
        Ok(t) => all.extend(t),
        Err(e) => return (all, Some(e)),
    }
    match throughput::reference(&args.root, work).await {
        Ok(t) => all.extend(t),
        Err(e) => errors.push(format!("fastapi-users: {e}")),
    }
    if args.skip_better_auth {
        errors.push("better-auth: skipped".to_owned());
    } else {
        match throughput::better_auth(&args.root, work).await {
            Ok(t) => all.extend(t),
            Err(e) => errors.push(format!("better-auth: {e}")),
        }
    }
    (all, (!errors.is_empty()).then(|| errors.join("; ")))
}

/// The environment Lambda and `template.yaml` give a function (SES as the
/// mail transport, the signing keys inline), pointed at `endpoint`.
fn lambda_env(app: &BenchApp, endpoint: &str) -> Vec<(String, String)> {
    [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_SESSION_TOKEN", "local".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("TABLE_NAME", app.config.table_name.clone()),
        ("DYNAMODB_ENDPOINT", endpoint.to_owned()),
        ("ISSUER_BASE_URL", app.config.issuer_base().to_owned()),
        ("SIGNING_KEYS", app.key_set_json.clone()),
        ("MAIL_TRANSPORT", "ses".into()),
        ("MAIL_FROM", "no-reply@shop.test".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Each function's binary started cold against the emulator, with the
/// environment Lambda and `template.yaml` give it (SES as the mail transport).
async fn cold_starts(
    args: &Args,
    app: &BenchApp,
    work: &std::path::Path,
) -> Result<Vec<runtime_api::ColdStart>, String> {
    let customer = app.customer_login().await.field("access_token");
    let anonymous = app.anonymous_token().await;
    // A login spends its anonymous session: each password login gets its own.
    let mut logins = Vec::new();
    for _ in 0..args.cold_runs * (args.warm + 1) {
        logins.push(app::login_as(&app.anonymous_token().await, app::COLD_EMAIL, None).event("cold"));
    }
    let me = format!("/customer/{TENANT}/me");
    let one = |call: &Call| vec![call.event("cold")];
    let (anonymous_login, get_me) = (app::anonymous_login(), Call::get(&me, Some(&customer)));
    let list_addresses = Call::get(format!("{me}/addresses"), Some(&customer));
    // A reset request, or an activation resend, is answered no sooner than
    // 400 ms by design (R9), and the mail-request limit refuses most of a
    // run's resends from one address: what a cold start serves is the
    // opened link, a secret no token has (one read, answered 400).
    let reset_update = Call::with_body(
        "POST",
        format!("/customer/{TENANT}/password/reset/update"),
        Some(&anonymous),
        serde_json::json!({"token": "not-a-reset-token", "password": "a brand new passphrase 2026"}),
    );
    let activate = Call::with_body(
        "POST",
        format!("/customer/{TENANT}/activate"),
        None,
        serde_json::json!({"identifier": "not-a-customer", "secret": "not-an-activation-secret"}),
    );
    // (label, binary, events): each function with a request that reaches DynamoDB.
    let events: Vec<(&str, &str, Vec<String>)> = vec![
        ("hello-world", "hello-world", one(&anonymous_login)),
        ("hello-dynamodb", "hello-dynamodb", one(&anonymous_login)),
        ("login", "login", one(&anonymous_login)),
        // The same binary logging a customer in: argon2id's 19 MiB is the peak memory.
        ("login (password)", "login", logins),
        ("activation", "activation", one(&activate)),
        ("profile", "profile", one(&get_me)),
        ("addresses", "addresses", one(&list_addresses)),
        ("password-reset", "password-reset", one(&reset_update)),
    ];
    // The password logins spend their sessions: they are not repeated.
    let warm_up = [anonymous_login, get_me, list_addresses, reset_update, activate];
    app.warm_emulator(EMULATOR_WARM_UP_ROUNDS, &warm_up).await;
    let env = lambda_env(app, &args.endpoint);
    let functions: Vec<ColdFunction> = events
        .into_iter()
        .map(|(label, name, events)| {
            let mut env = env.clone();
            env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), name.into()));
            let (binary, log) = (args.bin_dir.join(name), work.join(format!("{name}.log")));
            ColdFunction { label: label.to_owned(), binary, env, events, log }
        })
        .collect();
    runtime_api::measure(&functions, args.cold_runs, args.warm).await
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    /// `run_lambda` as Lambda runs it: the login binary (the debug build
    /// `make test` makes beside this test) serves a cold and two warm events
    /// under the Runtime API emulator; given a key set it cannot read, it
    /// answers nothing and exits with a failure, as a failed init does.
    #[tokio::test]
    async fn a_function_serves_events_under_the_runtime_api_and_exits_when_it_cannot_start() {
        let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT: run with `make test`");
        let work = std::env::temp_dir().join(format!("bench-runtime-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&work).unwrap();
        let app = BenchApp::new(&endpoint, work.join("outbox")).await;
        let binary = workspace_binary("login");
        let mut env = lambda_env(&app, &endpoint);
        env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), "login".into()));
        let event = app::anonymous_login().event("cold");
        let log = work.join("login.log");

        let login = ColdFunction {
            label: "login".into(),
            binary: binary.clone(),
            env: env.clone(),
            events: vec![event.clone()],
            log: log.clone(),
        };
        let served = runtime_api::measure(std::slice::from_ref(&login), 1, 2)
            .await
            .unwrap_or_else(|e| panic!("{e}; log: {}", std::fs::read_to_string(&log).unwrap_or_default()));
        assert_eq!(served[0].warm_ms.n, 2, "{served:?}");

        env.retain(|(name, _)| name != "SIGNING_KEYS");
        env.push(("SIGNING_KEYS".into(), "not a key set".into()));
        let (status, answers) =
            runtime_api::exit_after_first_event(&binary, &env, &event, &log, Duration::from_secs(20)).await.unwrap();
        assert!(!status.success(), "{status:?}");
        assert_eq!(answers, 0, "a function without its state answers nothing");
    }

    /// A function binary of the workspace, built by `make test` into the
    /// folder above this test's own (`target/debug`).
    fn workspace_binary(name: &str) -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
        let binary = dir.join(name);
        assert!(binary.exists(), "{} is not built: `make test` builds it", binary.display());
        binary
    }
}
