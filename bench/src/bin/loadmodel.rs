//! `make loadmodel`: many tenants and customers, driven over HTTP at a bounded
//! rate against the local server (the routers `accounts serve` mounts, on a
//! port of their own), with every DynamoDB call recorded (`capture.rs`, the
//! bench's recorder). Prints, per scale, how the item accesses spread over
//! partition keys: per key class, how many keys, the busiest key's accesses
//! and its share of all, and its ratio to the class's mean. A key whose
//! share does not fall as tenants and customers grow is a hot key.
//!
//! Not part of `make test`: it asserts nothing but that the visits succeed.

#[allow(dead_code)]
#[path = "../capture.rs"]
mod capture;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use capture::{DynamoCall, Recorder, SharedRecorder};
use clap::Parser;
use serde_json::{Value, json};
use shared::domain::{ClientId, Password, TenantId};
use shared::services::provisioning;
use shared::signing::{KeySetFile, KeyStatus, generate_key};
use shared::state::sdk_config;
use shared::tenant::{RequestLimits, TenantSettings};

const CLIENT: &str = "storefront";
const PASSWORD: &str = "correct horse battery staple";

#[derive(Parser)]
struct Args {
    /// DynamoDB Local (scripts/loadmodel.sh starts one).
    #[arg(long, env = "DYNAMODB_ENDPOINT")]
    endpoint: String,
    /// Scales to run, `TENANTSxCUSTOMERS` (customers per tenant), comma-separated.
    #[arg(long, default_value = "1x50,4x50,16x50,16x200")]
    scales: String,
    /// Shopper visits per scale (each: anonymous session, login, GET me, refresh; some more).
    #[arg(long, default_value_t = 240)]
    visits: usize,
    /// Visits started per second, at most (the bound on the rate).
    #[arg(long, default_value_t = 12.0)]
    rate: f64,
    /// Visits in flight at most.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Shopper addresses the visits come from (per-address counters).
    #[arg(long, default_value_t = 500)]
    addresses: u32,
    /// Where the Markdown report goes (also printed).
    #[arg(long, default_value = "target/loadmodel/report.md")]
    out: std::path::PathBuf,
}

/// splitmix64: a fixed seed gives the same visits every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Access {
    Read,
    Write,
}

fn pk_of(item: &HashMap<String, AttributeValue>) -> Option<String> {
    item.get("PK").and_then(|v| v.as_s().ok()).cloned()
}

/// The partition key of every item a call reads or writes (a BatchGetItem of
/// four keys is four reads; a transaction's condition check counts as a write,
/// as DynamoDB bills it).
fn accesses(call: &DynamoCall) -> Vec<(String, Access)> {
    use Access::*;
    let mut out = Vec::new();
    match call {
        DynamoCall::GetItem(i) => out.extend(i.key.as_ref().and_then(pk_of).map(|pk| (pk, Read))),
        DynamoCall::BatchGetItem(i) => {
            for keys in i.request_items.iter().flat_map(|m| m.values()) {
                out.extend(keys.keys.iter().filter_map(pk_of).map(|pk| (pk, Read)));
            }
        }
        DynamoCall::Query(i) => {
            // "PK = :pk ..." names the partition.
            let expr = i.key_condition_expression.clone().unwrap_or_default();
            let placeholder = expr.split("PK = ").nth(1).and_then(|rest| rest.split_whitespace().next());
            let values = i.expression_attribute_values.clone().unwrap_or_default();
            if let Some(pk) = placeholder.and_then(|p| values.get(p)).and_then(|v| v.as_s().ok()) {
                out.push((pk.clone(), Read));
            }
        }
        DynamoCall::PutItem(i) => out.extend(i.item.as_ref().and_then(pk_of).map(|pk| (pk, Write))),
        DynamoCall::UpdateItem(i) => out.extend(i.key.as_ref().and_then(pk_of).map(|pk| (pk, Write))),
        DynamoCall::DeleteItem(i) => out.extend(i.key.as_ref().and_then(pk_of).map(|pk| (pk, Write))),
        DynamoCall::TransactWriteItems(i) => {
            for item in i.transact_items.iter().flatten() {
                let pk = item
                    .put
                    .as_ref()
                    .and_then(|p| pk_of(&p.item))
                    .or_else(|| item.update.as_ref().and_then(|u| pk_of(&u.key)))
                    .or_else(|| item.delete.as_ref().and_then(|d| pk_of(&d.key)))
                    .or_else(|| item.condition_check.as_ref().and_then(|c| pk_of(&c.key)));
                out.extend(pk.map(|pk| (pk, Write)));
            }
        }
        DynamoCall::TransactGetItems(i) => {
            for item in i.transact_items.iter().flatten() {
                out.extend(item.get.as_ref().and_then(|g| pk_of(&g.key)).map(|pk| (pk, Read)));
            }
        }
        DynamoCall::BatchWriteItem(i) => {
            for requests in i.request_items.iter().flat_map(|m| m.values()) {
                for r in requests {
                    let pk = r
                        .put_request
                        .as_ref()
                        .and_then(|p| pk_of(&p.item))
                        .or_else(|| r.delete_request.as_ref().and_then(|d| pk_of(&d.key)));
                    out.extend(pk.map(|pk| (pk, Write)));
                }
            }
        }
    }
    out
}

/// The key's shape with ids taken out: `T#{t}#C#{customer}`, `T#{t}#LIMIT#tenant:failed_login`, ...
fn class_of(pk: &str) -> String {
    let parts: Vec<&str> = pk.splitn(4, '#').collect();
    match parts.as_slice() {
        ["T", _] => "T#{t} (settings, clients)".into(),
        ["T", _, "LIMIT", name] => {
            let mut segments = name.splitn(3, ':');
            match (segments.next(), segments.next()) {
                (Some("tenant"), Some(what)) => format!("T#{{t}}#LIMIT#tenant:{what}"),
                (Some(scope), Some(what)) => format!("T#{{t}}#LIMIT#{scope}:{what}:{{…}}"),
                _ => "T#{t}#LIMIT#{…}".into(),
            }
        }
        ["T", _, "THROTTLE", subject] => {
            let kind = subject.split(':').next().unwrap_or("");
            let device = if subject.contains(":device:") { ":device:{hash}" } else { "" };
            format!("T#{{t}}#THROTTLE#{kind}:{{…}}{device}")
        }
        ["T", _, kind, _] => format!("T#{{t}}#{kind}#{{…}}"),
        _ => pk.into(),
    }
}

#[derive(Default)]
struct Tally {
    per_key: HashMap<(String, Access), u64>,
}

impl Tally {
    fn add(&mut self, calls: &[DynamoCall]) {
        for call in calls {
            for key in accesses(call) {
                *self.per_key.entry(key).or_default() += 1;
            }
        }
    }
}

struct ClassRow {
    class: String,
    access: Access,
    keys: usize,
    accesses: u64,
    busiest: u64,
    /// The busiest key's accesses over all accesses of this kind (reads or writes).
    busiest_share: f64,
    /// The busiest key over the class's mean key.
    skew: f64,
}

struct ScaleReport {
    tenants: usize,
    customers: usize,
    requests: BTreeMap<String, (u64, u64)>,
    seconds: f64,
    totals: Totals,
    rows: Vec<ClassRow>,
    hottest: Vec<Hot>,
}

/// Per kind of access: accesses and keys.
type Totals = BTreeMap<Access, (u64, usize)>;
/// A partition key, its kind of access, its accesses and their share.
type Hot = (String, Access, u64, f64);

fn summarise(tally: &Tally) -> (Totals, Vec<ClassRow>, Vec<Hot>) {
    let mut totals = Totals::new();
    let mut classes: BTreeMap<(String, Access), Vec<u64>> = BTreeMap::new();
    for ((pk, access), count) in &tally.per_key {
        let total = totals.entry(*access).or_default();
        total.0 += count;
        total.1 += 1;
        classes.entry((class_of(pk), *access)).or_default().push(*count);
    }
    let rows = classes
        .into_iter()
        .map(|((class, access), counts)| {
            let accesses: u64 = counts.iter().sum();
            let busiest = counts.iter().copied().max().unwrap_or(0);
            let mean = accesses as f64 / counts.len() as f64;
            ClassRow {
                class,
                access,
                keys: counts.len(),
                accesses,
                busiest,
                busiest_share: busiest as f64 / totals[&access].0 as f64,
                skew: busiest as f64 / mean,
            }
        })
        .collect();
    let mut hottest: Vec<Hot> = tally
        .per_key
        .iter()
        .map(|((pk, access), count)| (pk.clone(), *access, *count, *count as f64 / totals[access].0 as f64))
        .collect();
    hottest.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    hottest.truncate(5);
    (totals, rows, hottest)
}

/// The local server over a table of its own, with the recorder on its DynamoDB client.
async fn serve(endpoint: &str, recorder: Arc<Recorder>) -> (String, shared::AppState) {
    let key_set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).expect("RSA key generation")] };
    let key_set_json = serde_json::to_string(&key_set).unwrap();
    let outbox = std::env::temp_dir().join(format!("loadmodel-outbox-{}", std::process::id()));
    let scratch = cli::Scratch {
        table_name: format!("loadmodel-{}", uuid::Uuid::new_v4().simple()),
        issuer_base: "https://accounts.loadmodel",
        endpoint,
        key_set_json: &key_set_json,
        outbox: &outbox,
    };
    let config = scratch.config();
    let sdk = sdk_config(&config).await;
    let recording = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .interceptor(SharedRecorder(recorder))
        .build();
    let state = scratch.provision(aws_sdk_dynamodb::Client::from_conf(recording)).await;
    let app = shared::http::service(cli::all_routes(), state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    (url, state)
}

/// A tenant as a shop runs it, behind its storefront server (trusted proxy
/// 127.0.0.1, so each shopper counts under their own address), with limits
/// far above what the model sends.
fn shop_settings(tenant: &TenantId) -> TenantSettings {
    TenantSettings {
        trusted_proxies: vec!["127.0.0.1".into()],
        limits: RequestLimits {
            per_ip_failed_logins: 100_000,
            per_ip_signups: 100_000,
            per_ip_mail_requests: 100_000,
            per_tenant_failed_logins: 1_000_000,
            per_tenant_signups: 1_000_000,
            per_tenant_mail_requests: 1_000_000,
            mails_per_address: 1000,
            ..RequestLimits::default()
        },
        lockout_threshold: 1000,
        ..cli::demo_settings(tenant)
    }
}

struct Shop {
    tenant: String,
    emails: Vec<String>,
}

async fn provision_shops(
    state: &shared::AppState,
    tenants: usize,
    customers: usize,
    hash: &str,
    run: &str,
) -> Vec<Shop> {
    let client = ClientId::parse(CLIENT).unwrap();
    let mut shops = Vec::new();
    for t in 0..tenants {
        let name = format!("s{t}r{run}");
        let tenant = TenantId::parse(&name).expect("a valid tenant id");
        provisioning::ensure_tenant(&state.store, &tenant, &shop_settings(&tenant), &client).await.unwrap();
        let emails: Vec<String> = (0..customers).map(|c| format!("c{c}@{name}.test")).collect();
        let lines: Vec<String> = emails
            .iter()
            .map(|email| json!({"email": email, "passwordHash": hash, "status": "ACTIVE"}).to_string())
            .collect();
        let records = shared::services::import::parse(&lines.join("\n")).expect("valid import lines");
        shared::services::import::import(&state.store, &tenant, &records).await.expect("imported");
        shops.push(Shop { tenant: name, emails });
    }
    shops
}

struct Visit {
    tenant: String,
    email: String,
    address: String,
    failed_first: bool,
    signup: bool,
    reset: bool,
}

type Outcomes = Arc<std::sync::Mutex<BTreeMap<String, (u64, u64)>>>;

async fn call(
    http: &reqwest::Client,
    outcomes: &Outcomes,
    name: &str,
    request: reqwest::RequestBuilder,
    address: &str,
) -> Value {
    let response = request.header("x-forwarded-for", address).send().await;
    let (ok, body) = match response {
        Ok(r) => {
            let ok = r.status().is_success();
            (ok, r.json::<Value>().await.unwrap_or(Value::Null))
        }
        Err(_) => (false, Value::Null),
    };
    let _ = http;
    let mut outcomes = outcomes.lock().unwrap();
    let entry = outcomes.entry(name.to_owned()).or_default();
    if ok {
        entry.0 += 1
    } else {
        entry.1 += 1
    }
    body
}

async fn visit(http: reqwest::Client, url: String, v: Visit, outcomes: Outcomes) {
    let anon = |http: &reqwest::Client| {
        http.get(format!("{url}/customerlogin/auth/anonymous/login?tenant={}&client_id={CLIENT}", v.tenant))
    };
    let a = &v.address;
    let token = |body: &Value, field: &str| body[field].as_str().unwrap_or_default().to_owned();
    let session = call(&http, &outcomes, "anonymous login", anon(&http), a).await;
    let anonymous = token(&session, "access_token");
    let login = |password: &str| {
        http.post(format!("{url}/customer/{}/login", v.tenant))
            .bearer_auth(&anonymous)
            .json(&json!({"email": v.email, "password": password}))
    };
    if v.failed_first {
        call(&http, &outcomes, "login (wrong password, 401)", login("wrong password entirely"), a).await;
    }
    let tokens = call(&http, &outcomes, "login", login(PASSWORD), a).await;
    let access = token(&tokens, "access_token");
    let me = http.get(format!("{url}/customer/{}/me", v.tenant)).bearer_auth(&access);
    call(&http, &outcomes, "GET me", me, a).await;
    let refresh = http
        .post(format!("{url}/customer/{}/refreshauthtoken", v.tenant))
        .json(&json!({"refresh_token": token(&tokens, "refresh_token")}));
    call(&http, &outcomes, "refresh", refresh, a).await;
    if v.signup {
        let anonymous = token(&call(&http, &outcomes, "anonymous login", anon(&http), a).await, "access_token");
        let email = format!("new-{}@example.com", uuid::Uuid::new_v4().simple());
        let signup = http
            .post(format!("{url}/customer/{}/signup", v.tenant))
            .bearer_auth(&anonymous)
            .json(&json!({"email": email, "password": "violet tulips under rain"}));
        call(&http, &outcomes, "signup", signup, a).await;
    }
    if v.reset {
        let anonymous = token(&call(&http, &outcomes, "anonymous login", anon(&http), a).await, "access_token");
        let reset = http
            .post(format!("{url}/customer/{}/password/reset", v.tenant))
            .bearer_auth(&anonymous)
            .json(&json!({"email": v.email}));
        call(&http, &outcomes, "password reset request", reset, a).await;
    }
}

async fn run_scale(
    args: &Args,
    url: &str,
    state: &shared::AppState,
    recorder: &Arc<Recorder>,
    hash: &str,
    (tenants, customers): (usize, usize),
) -> ScaleReport {
    let run = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let shops = provision_shops(state, tenants, customers, hash, run).await;
    let mut rng = Rng(0x5eed ^ (tenants as u64) << 20 ^ customers as u64);
    let http = reqwest::Client::new();
    let outcomes: Outcomes = Default::default();
    let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    let started = Instant::now();
    recorder.start();
    let mut tasks = Vec::new();
    for _ in 0..args.visits {
        ticker.tick().await;
        let shop = &shops[rng.below(tenants as u64) as usize];
        let email = shop.emails[rng.below(customers as u64) as usize].clone();
        let i = rng.below(args.addresses.max(1) as u64);
        let address = format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256);
        let v = Visit {
            tenant: shop.tenant.clone(),
            email,
            address,
            failed_first: rng.chance(10),
            signup: rng.chance(5),
            reset: rng.chance(5),
        };
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (http, url, outcomes) = (http.clone(), url.to_owned(), outcomes.clone());
        tasks.push(tokio::spawn(async move {
            visit(http, url, v, outcomes).await;
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let (calls, _capacity) = recorder.stop();
    let mut tally = Tally::default();
    tally.add(&calls);
    let (totals, rows, hottest) = summarise(&tally);
    let requests = outcomes.lock().unwrap().clone();
    ScaleReport { tenants, customers, requests, seconds, totals, rows, hottest }
}

fn render(args: &Args, reports: &[ScaleReport]) -> String {
    use std::fmt::Write;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Load model run of {} ({} visits per scale, at most {} visits/s and {} in flight; shoppers from {} addresses).\n",
        shared::clock::now_rfc3339(),
        args.visits,
        args.rate,
        args.concurrency,
        args.addresses
    );
    for r in reports {
        let _ = writeln!(md, "#### {} tenant(s) × {} customers ({:.0} s)\n", r.tenants, r.customers, r.seconds);
        let requests: Vec<String> =
            r.requests.iter().map(|(name, (ok, failed))| format!("{name} {ok} ok / {failed} not 2xx")).collect();
        let _ = writeln!(md, "Requests: {}.\n", requests.join("; "));
        for (access, (count, keys)) in &r.totals {
            let _ = writeln!(md, "- {:?}s: {count} item accesses over {keys} partition keys", access);
        }
        let _ = writeln!(
            md,
            "\n| key class | access | keys | accesses | busiest key | busiest's share of all | busiest / class mean |"
        );
        let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|");
        for row in &r.rows {
            let _ = writeln!(
                md,
                "| `{}` | {:?} | {} | {} | {} | {:.1} % | {:.1} |",
                row.class,
                row.access,
                row.keys,
                row.accesses,
                row.busiest,
                100.0 * row.busiest_share,
                row.skew
            );
        }
        let _ = writeln!(md, "\nBusiest partition keys:\n");
        for (pk, access, count, share) in &r.hottest {
            let _ = writeln!(md, "- `{pk}` ({access:?}): {count}, {:.1} %", 100.0 * share);
        }
        let _ = writeln!(md);
    }
    md
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let scales: Vec<(usize, usize)> = args
        .scales
        .split(',')
        .map(|s| {
            let (t, c) = s.trim().split_once('x').ok_or(format!("scale {s}: TENANTSxCUSTOMERS"))?;
            Ok((t.parse().map_err(|_| format!("scale {s}"))?, c.parse().map_err(|_| format!("scale {s}"))?))
        })
        .collect::<Result<_, String>>()?;
    let recorder = Arc::new(Recorder::default());
    let (url, state) = serve(&args.endpoint, recorder.clone()).await;
    let hash = shared::passwords::hash(&Password::parse(PASSWORD.into()).unwrap()).await.map_err(|e| e.to_string())?;
    let mut reports = Vec::new();
    for scale in scales {
        eprintln!("loadmodel: {} tenant(s) x {} customers, {} visits", scale.0, scale.1, args.visits);
        reports.push(run_scale(&args, &url, &state, &recorder, &hash, scale).await);
    }
    let md = render(&args, &reports);
    println!("{md}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&args.out, &md).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
