//! Warm latency per route, in process, against DynamoDB Local: each request
//! goes from an API Gateway event through the function's router, as in a warm
//! Lambda. The baseline is the same DynamoDB calls, recorded from the route and
//! replayed raw through the SDK in the same run.

use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::apigw::Call;
use crate::app::{self, BenchApp, TENANT};
use crate::capture::{Capacity, DynamoCall};
use crate::stats::Summary;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    AnonymousLogin,
    Login,
    Refresh,
    Validate,
    Sessions,
    Jwks,
    GetMe,
    PatchMe,
    Export,
    ListAddresses,
    GetAddress,
    CreateAddress,
    UpdateAddress,
    DeleteAddress,
    AddressFields,
}

impl Route {
    const ALL: [Route; 15] = [
        Route::AnonymousLogin,
        Route::Login,
        Route::Refresh,
        Route::Validate,
        Route::Sessions,
        Route::Jwks,
        Route::GetMe,
        Route::PatchMe,
        Route::Export,
        Route::ListAddresses,
        Route::GetAddress,
        Route::CreateAddress,
        Route::UpdateAddress,
        Route::DeleteAddress,
        Route::AddressFields,
    ];

    fn name(self) -> &'static str {
        match self {
            Route::AnonymousLogin => "GET /customerlogin/auth/anonymous/login",
            Route::Login => "POST /customer/{tenant}/login",
            Route::Refresh => "POST /customer/{tenant}/refreshauthtoken",
            Route::Validate => "GET /customer/{tenant}/validateauthtoken",
            Route::Sessions => "GET /customer/{tenant}/me/sessions",
            Route::Jwks => "GET /.well-known/jwks.json",
            Route::GetMe => "GET /customer/{tenant}/me",
            Route::PatchMe => "PATCH /customer/{tenant}/me",
            Route::Export => "GET /customer/{tenant}/me/export",
            Route::ListAddresses => "GET /customer/{tenant}/me/addresses",
            Route::GetAddress => "GET /customer/{tenant}/me/addresses/{id}",
            Route::CreateAddress => "POST /customer/{tenant}/me/addresses",
            Route::UpdateAddress => "PATCH /customer/{tenant}/me/addresses/{id}",
            Route::DeleteAddress => "DELETE /customer/{tenant}/me/addresses/{id}",
            Route::AddressFields => "GET /customer/{tenant}/me/addresses/fields",
        }
    }

    fn function(self) -> &'static str {
        match self {
            Route::AnonymousLogin | Route::Login | Route::Refresh | Route::Validate | Route::Sessions | Route::Jwks => {
                "login"
            }
            Route::GetMe | Route::PatchMe | Route::Export => "profile",
            _ => "addresses",
        }
    }

    fn hashes(self) -> bool {
        self == Route::Login
    }

    /// The most a request of this route may cost DynamoDB (see
    /// `no_route_costs_dynamodb_more_than_its_budget`): every authenticated
    /// GET is one round trip.
    #[cfg(test)]
    fn budget(self) -> Budget {
        let (calls, read_units, write_units) = match self {
            // The session: one item (the client check is cached per
            // container; the first request of a container reads it).
            Route::AnonymousLogin => (2, 1.0, 1.0),
            // One read (eventually consistent: the storefront session and
            // the account; the device token proves itself), the login budget
            // read consistently after the verify, the storefront session
            // spent, the customer session written (see README, "Login").
            Route::Login => (4, 2.0, 2.0),
            // One conditional update of the session, the profile read beside it.
            Route::Refresh => (2, 1.0, 1.0),
            // One Query over the customer's partition: the profile, the
            // sessions (up to the caller's) and what the route lists, billed
            // by size (4 KB a unit).
            // The customer's newest session: the other sessions sort after it.
            Route::Validate | Route::GetMe | Route::ListAddresses => (1, 1.0, 0.0),
            // Every session of the customer, 41 here (about 300 bytes each).
            Route::Sessions | Route::Export => (1, 4.0, 0.0),
            // One BatchGetItem: session, profile, address (a unit each).
            Route::GetAddress => (1, 3.0, 0.0),
            Route::Jwks | Route::AddressFields => (0, 0.0, 0.0),
            Route::PatchMe => (2, 1.0, 1.0),
            Route::CreateAddress => (2, 1.0, 4.0),
            Route::UpdateAddress | Route::DeleteAddress => (2, 3.0, 4.0),
        };
        Budget { calls, read_units, write_units }
    }
}

#[cfg(test)]
#[derive(Debug, Clone, Copy)]
struct Budget {
    calls: usize,
    read_units: f64,
    write_units: f64,
}

#[derive(Debug, Serialize)]
pub struct RouteLatency {
    pub route: &'static str,
    pub function: &'static str,
    pub hashes_password: bool,
    pub dynamodb_calls: f64,
    /// Mean capacity per request, as DynamoDB (Local) reports it.
    pub capacity: Capacity,
    pub route_ms: Summary,
    pub raw_sdk_ms: Summary,
    /// Per request: its time minus the time its DynamoDB calls took (the
    /// SDK's own work included), i.e. what our code computes. Steadier at
    /// p99 than a difference of two p99s, which are of different requests.
    pub compute_ms: Summary,
    pub overhead_p50_ms: f64,
    pub overhead_p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct LatencyReport {
    pub routes: Vec<RouteLatency>,
    /// One argon2id verify (m=19456 KiB, t=2, p=1) on this machine: the login yardstick.
    pub argon2id_verify_ms: Summary,
    pub login_vs_argon2id_verify: f64,
}

/// Per-iteration state for routes whose next request depends on the last reply.
struct Session {
    customer_token: String,
    refresh_token: String,
    profile_version: i64,
    address_id: Option<String>,
    address_version: i64,
    /// Returning customers not yet logged in again (e-mail, device token).
    returning: Vec<(String, String)>,
    password_hash: String,
}

impl Session {
    /// Untimed setup for one request of `route`; returns the request.
    async fn prepare(&mut self, app: &BenchApp, route: Route) -> Call {
        let me = format!("/customer/{TENANT}/me");
        let customer_token = self.customer_token.clone();
        let token = Some(customer_token.as_str());
        match route {
            Route::AnonymousLogin => app::anonymous_login(),
            // A returning customer on a known device, as most logins are;
            // each measured login is a different customer's.
            Route::Login => {
                if self.returning.is_empty() {
                    self.returning = app.returning_customers(8, &self.password_hash).await;
                }
                let (email, device) = self.returning.pop().expect("returning customers");
                app::login_as(&app.anonymous_token().await, &email, Some(&device))
            }
            Route::Refresh => Call::with_body(
                "POST",
                format!("/customer/{TENANT}/refreshauthtoken"),
                None,
                json!({"refresh_token": self.refresh_token}),
            ),
            Route::Validate => Call::get(format!("/customer/{TENANT}/validateauthtoken"), token),
            Route::Sessions => Call::get(format!("{me}/sessions"), token),
            Route::Jwks => Call::get("/.well-known/jwks.json", None),
            Route::GetMe => Call::get(&me, token),
            Route::PatchMe => Call::with_body(
                "PATCH",
                &me,
                token,
                json!({"firstName": "Bench", "metadata": {"version": self.profile_version}}),
            ),
            Route::Export => Call::get(format!("{me}/export"), token),
            Route::ListAddresses => Call::get(format!("{me}/addresses"), token),
            Route::GetAddress => {
                let id = self.ensure_address(app).await;
                Call::get(format!("{me}/addresses/{id}"), token)
            }
            Route::CreateAddress => {
                // Keep the book small: remove the address the last iteration made.
                if let Some(id) = self.address_id.take() {
                    app.send(&Call::get(format!("{me}/addresses/{id}"), token).method("DELETE")).await;
                }
                Call::with_body("POST", format!("{me}/addresses"), token, address_body())
            }
            Route::UpdateAddress => {
                let id = self.ensure_address(app).await;
                Call::with_body(
                    "PATCH",
                    format!("{me}/addresses/{id}"),
                    token,
                    json!({"city": "Hamburg", "metadata": {"version": self.address_version}}),
                )
            }
            Route::DeleteAddress => {
                let id = self.ensure_address(app).await;
                self.address_id = None;
                Call::get(format!("{me}/addresses/{id}"), token).method("DELETE")
            }
            Route::AddressFields => Call::get(format!("{me}/addresses/fields"), token),
        }
    }

    async fn ensure_address(&mut self, app: &BenchApp) -> String {
        if let Some(id) = &self.address_id {
            return id.clone();
        }
        let token = Some(self.customer_token.as_str());
        let reply =
            app.send(&Call::with_body("POST", format!("/customer/{TENANT}/me/addresses"), token, address_body())).await;
        assert_eq!(reply.status, StatusCode::CREATED, "address create: {}", reply.body);
        self.observe(Route::CreateAddress, &reply.body);
        reply.field("id")
    }

    fn observe(&mut self, route: Route, body: &Value) {
        let version = body["metadata"]["version"].as_i64();
        match route {
            Route::Refresh => {
                if let Some(token) = body["refresh_token"].as_str() {
                    self.refresh_token = token.to_owned();
                }
            }
            Route::PatchMe => self.profile_version = version.unwrap_or(self.profile_version),
            Route::CreateAddress | Route::UpdateAddress => {
                self.address_id = body["id"].as_str().map(str::to_owned).or(self.address_id.take());
                self.address_version = version.unwrap_or(self.address_version);
            }
            _ => {}
        }
    }
}

fn address_body() -> Value {
    json!({"street": "Invalidenstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"})
}

impl Session {
    async fn start(app: &BenchApp) -> Self {
        let tokens = app.customer_login().await;
        let profile = app.send(&Call::get(format!("/customer/{TENANT}/me"), Some(&tokens.field("access_token")))).await;
        Session {
            customer_token: tokens.field("access_token"),
            refresh_token: tokens.field("refresh_token"),
            profile_version: profile.body["metadata"]["version"].as_i64().unwrap_or(1),
            address_id: None,
            address_version: 1,
            returning: Vec::new(),
            password_hash: Verifier::new().phc,
        }
    }
}

pub async fn run(app: &BenchApp, iterations: usize, login_iterations: usize) -> LatencyReport {
    let mut session = Session::start(app).await;
    let mut routes = Vec::new();
    let verifier = Verifier::new();
    let mut verify_samples = Vec::with_capacity(login_iterations);
    for route in Route::ALL {
        let n = if route.hashes() { login_iterations } else { iterations };
        // Login's yardstick is timed between its requests, so that both see
        // the same load from DynamoDB Local on these shared cores.
        let yardstick = route.hashes().then_some((&verifier, &mut verify_samples));
        routes.push(measure(app, &mut session, route, n, yardstick).await);
    }
    let argon2id_verify_ms = Summary::of(&verify_samples);
    let login = routes.iter().find(|r| r.hashes_password).map(|r| r.route_ms.p50_ms).unwrap_or(f64::NAN);
    LatencyReport { routes, argon2id_verify_ms, login_vs_argon2id_verify: login / argon2id_verify_ms.p50_ms }
}

async fn measure(
    app: &BenchApp,
    session: &mut Session,
    route: Route,
    n: usize,
    mut yardstick: Option<(&Verifier, &mut Vec<Duration>)>,
) -> RouteLatency {
    // Warm-up: connections, JIT in DynamoDB Local, the tenant cache.
    for _ in 0..(n / 5).max(3) {
        let call = session.prepare(app, route).await;
        let reply = app.send(&call).await;
        session.observe(route, &reply.body);
    }
    // Record which DynamoDB calls the route makes, and the capacity they consume.
    let mut recorded: Vec<Vec<DynamoCall>> = Vec::with_capacity(n);
    let mut capacity = Capacity::default();
    let mut timings = Vec::with_capacity(n);
    let mut compute = Vec::with_capacity(n);
    for _ in 0..n {
        let call = session.prepare(app, route).await;
        app.recorder.start();
        let reply = app.send(&call).await;
        let (calls, used) = app.recorder.stop();
        assert!(reply.status.is_success(), "{}: {} {}", route.name(), reply.status, reply.body);
        session.observe(route, &reply.body);
        recorded.push(calls);
        capacity.read_units += used.read_units / n as f64;
        capacity.write_units += used.write_units / n as f64;
    }
    // Timed: the route as a warm function serves it (recorder off).
    for _ in 0..n {
        let call = session.prepare(app, route).await;
        app.recorder.start_timing();
        let started = Instant::now();
        let reply = app.send(&call).await;
        let elapsed = started.elapsed();
        compute.push(elapsed.saturating_sub(app.recorder.stop_timing()));
        timings.push(elapsed);
        session.observe(route, &reply.body);
        if let Some((verifier, samples)) = yardstick.as_mut() {
            samples.push(verifier.time_one());
        }
    }
    // Timed: the same DynamoDB calls, raw.
    let mut raw = Vec::with_capacity(n);
    for calls in &recorded {
        let started = Instant::now();
        for call in calls {
            call.replay(&app.raw).await;
        }
        raw.push(started.elapsed());
    }
    let route_ms = Summary::of(&timings);
    let raw_sdk_ms = Summary::of(&raw);
    RouteLatency {
        route: route.name(),
        function: route.function(),
        hashes_password: route.hashes(),
        dynamodb_calls: recorded.iter().map(Vec::len).sum::<usize>() as f64 / n as f64,
        capacity,
        route_ms,
        raw_sdk_ms,
        compute_ms: Summary::of(&compute),
        overhead_p50_ms: route_ms.p50_ms - raw_sdk_ms.p50_ms,
        overhead_p99_ms: route_ms.p99_ms - raw_sdk_ms.p99_ms,
    }
}

/// One argon2id verify with the crate directly, as login's yardstick.
struct Verifier {
    argon2: argon2::Argon2<'static>,
    phc: String,
}

impl Verifier {
    fn new() -> Self {
        let argon2 = argon2::Argon2::default();
        let phc = argon2.hash_password(app::PASSWORD.as_bytes()).expect("argon2 hashes").to_string();
        Self { argon2, phc }
    }

    fn time_one(&self) -> Duration {
        let parsed = PasswordHash::new(&self.phc).expect("a PHC string");
        let started = Instant::now();
        self.argon2.verify_password(app::PASSWORD.as_bytes(), &parsed).expect("the password verifies");
        started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bench's own machinery, not its figures: every route it measures
    /// answers 2xx, the recorder sees the DynamoDB calls and their capacity,
    /// and login's yardstick is timed once per login request.
    #[tokio::test]
    async fn every_route_runs_and_its_dynamodb_calls_are_recorded() {
        let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT: run with `make test`");
        let outbox = std::env::temp_dir().join(format!("bench-outbox-{}", uuid::Uuid::new_v4().simple()));
        let app = BenchApp::new(&endpoint, outbox).await;
        let mut session = Session::start(&app).await;
        let verifier = Verifier::new();
        let mut verifies = Vec::new();
        for route in Route::ALL {
            let yardstick = route.hashes().then_some((&verifier, &mut verifies));
            let measured = measure(&app, &mut session, route, 2, yardstick).await;
            if route == Route::GetMe {
                assert!(measured.dynamodb_calls >= 1.0, "{measured:?}");
                assert!(measured.capacity.read_units > 0.0, "DynamoDB Local reports capacity: {measured:?}");
                // The time in the call is taken off: what is left is ours.
                assert!(measured.compute_ms.mean_ms < measured.route_ms.mean_ms, "{measured:?}");
            }
            if route == Route::Jwks {
                assert_eq!(measured.compute_ms.p50_ms, measured.route_ms.p50_ms, "no call, all compute");
            }
        }
        assert_eq!(verifies.len(), 2, "one verify per timed login request");
    }

    const OLDER_SESSIONS: usize = 40;

    /// What each route may cost DynamoDB: calls per request and capacity
    /// units, as the recorder sees them. A change that adds a round trip or
    /// makes an item bigger fails here, not on the bill.
    #[tokio::test]
    async fn no_route_costs_dynamodb_more_than_its_budget() {
        let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT: run with `make test`");
        let outbox = std::env::temp_dir().join(format!("bench-outbox-{}", uuid::Uuid::new_v4().simple()));
        let app = BenchApp::new(&endpoint, outbox).await;
        // The bench customer signed in on other devices before: reading its
        // profile with the newest session passes over none of them.
        for _ in 0..OLDER_SESSIONS {
            app.customer_login().await;
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mut session = Session::start(&app).await;
        let mut over = Vec::new();
        for route in Route::ALL {
            let measured = measure(&app, &mut session, route, 3, None).await;
            let budget = route.budget();
            let used = (measured.dynamodb_calls, measured.capacity.read_units, measured.capacity.write_units);
            println!("{:<48} calls {:.1} RRU {:.2} WRU {:.2}", route.name(), used.0, used.1, used.2);
            if used.0 > budget.calls as f64 || used.1 > budget.read_units || used.2 > budget.write_units {
                over.push(format!("{}: used {used:?}, budget {budget:?}", route.name()));
            }
        }
        assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
    }
}
