//! Multi-region as decided in docs/multi-region.md, against DynamoDB Local:
//! two "regions" are two app stacks (their own routers and state, their own
//! `AWS_REGION`), and a replica is a table of its own. DynamoDB's replication
//! between replicas (asynchronous, last writer wins per item) is played by
//! `replicate`, a copy of every item from one table into the other.
//!
//! - With a home region, both regions' stacks send their calls to the home
//!   replica (`DYNAMODB_HOME_REGION` in AWS): every rule resting on a
//!   condition holds for requests arriving in either region.
//! - Without one (each region writing its own replica), the same requests
//!   break one account per e-mail and reuse detection: why the home region.
//! - A failover keeps what had replicated and loses only what had not.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::AppState;
use shared::state::{dynamodb_client, sdk_config};
use tests::Reply;
use tower::ServiceExt;

const PASSWORD: &str = "violet tulips under rain";

/// One region's stack: its API (routers) over the replica `table` of DynamoDB Local.
struct Region {
    state: AppState,
    router: axum::Router,
}

impl Region {
    async fn over(table: &str, aws_region: &str) -> Self {
        let outbox = std::env::temp_dir().join(format!("multi-region-outbox-{table}-{aws_region}"));
        let scratch = cli::Scratch {
            table_name: table.to_owned(),
            issuer_base: tests::ISSUER_BASE,
            endpoint: &tests::endpoint(),
            key_set_json: tests::key_set_json(),
            outbox: &outbox,
        };
        let mut config = scratch.config();
        config.region = aws_region.to_owned();
        let sdk = sdk_config(&config).await;
        let state = scratch.provision_with(dynamodb_client(&sdk, &config), config).await;
        let router = shared::http::service(cli::all_routes(), state.clone());
        Self { state, router }
    }

    async fn send(&self, method: Method, uri: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let request = tests::request(method, uri, token, body);
        Reply::read(self.router.clone().oneshot(request).await.unwrap()).await
    }

    async fn anonymous(&self) -> String {
        let uri = format!("/customerlogin/auth/anonymous/login?tenant=demo&client_id={}", tests::CLIENT);
        self.send(Method::GET, &uri, None, None).await.field("access_token")
    }

    async fn signup(&self, email: &str) -> StatusCode {
        let anonymous = self.anonymous().await;
        let body = json!({"email": email, "password": PASSWORD});
        self.send(Method::POST, "/customer/demo/signup", Some(&anonymous), Some(body)).await.status
    }

    async fn login(&self, email: &str, password: &str) -> Reply {
        let anonymous = self.anonymous().await;
        let body = json!({"email": email, "password": password});
        self.send(Method::POST, "/customer/demo/login", Some(&anonymous), Some(body)).await
    }

    async fn refresh(&self, token: &str) -> Reply {
        let body = json!({"refresh_token": token});
        self.send(Method::POST, "/customer/demo/refreshauthtoken", None, Some(body)).await
    }

    async fn create_customer(&self, email: &str) {
        let tenant = shared::domain::TenantId::parse(tests::TENANT).unwrap();
        shared::services::provisioning::create_active_customer(
            &self.state.store,
            &tenant,
            &shared::domain::Email::parse(email).unwrap(),
            &shared::domain::Password::parse(PASSWORD.into()).unwrap(),
            false,
            Default::default(),
        )
        .await
        .unwrap();
    }
}

fn table_name(what: &str) -> String {
    format!("mr-{what}-{}", uuid::Uuid::new_v4().simple())
}

async fn raw_client() -> aws_sdk_dynamodb::Client {
    let scratch_config = cli::Scratch {
        table_name: String::new(),
        issuer_base: tests::ISSUER_BASE,
        endpoint: &tests::endpoint(),
        key_set_json: tests::key_set_json(),
        outbox: std::path::Path::new("/tmp"),
    }
    .config();
    dynamodb_client(&sdk_config(&scratch_config).await, &scratch_config)
}

async fn items(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<HashMap<String, AttributeValue>> {
    let mut all = Vec::new();
    let mut start = None;
    loop {
        let page = client.scan().table_name(table).set_exclusive_start_key(start).send().await.unwrap();
        all.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return all;
        }
    }
}

/// What global-table replication delivers: every item of `from` written into
/// `to`, the later write of an item replacing the earlier (last writer wins).
async fn replicate(from: &str, to: &str) {
    let client = raw_client().await;
    for chunk in items(&client, from).await.chunks(25) {
        let writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item.clone())).build().unwrap())
                    .build()
            })
            .collect();
        client.batch_write_item().request_items(to, writes).send().await.unwrap();
    }
}

/// The customer ids of profiles holding `email` in `table`.
async fn profiles_of(table: &str, email: &str) -> Vec<String> {
    let client = raw_client().await;
    items(&client, table)
        .await
        .into_iter()
        .filter(|item| item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == "PROFILE"))
        .filter(|item| item.get("email").and_then(|v| v.as_s().ok()).is_some_and(|e| e == email))
        .filter_map(|item| item.get("id").and_then(|v| v.as_s().ok()).cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_home_region_every_rule_holds_for_requests_in_either_region() {
    // Both regions' functions send their table calls to the home replica.
    let home = table_name("home");
    let regions =
        std::sync::Arc::new([Region::over(&home, "eu-west-1").await, Region::over(&home, "ap-southeast-1").await]);
    let (europe, asia) = (&regions[0], &regions[1]);

    // One account per e-mail: ten parallel sign-ups, half in each region.
    let email = "ann@example.com";
    let statuses = tests::parallel(0..10, |i| {
        let regions = regions.clone();
        async move { regions[i % 2].signup(email).await }
    })
    .await;
    assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED), "{statuses:?}");
    assert_eq!(profiles_of(&home, email).await.len(), 1, "exactly one account");

    // Refresh-token reuse: issued in Europe, rotated in Asia, replayed in Europe.
    let bob = "bob@example.com";
    europe.create_customer(bob).await;
    let login = europe.login(bob, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let first = login.field("refresh_token");
    let rotated = asia.refresh(&first).await;
    assert_eq!(rotated.status, StatusCode::OK, "a token issued in one region works in the other");
    assert_eq!(europe.refresh(&first).await.status, StatusCode::UNAUTHORIZED, "the replay is recognised");
    assert_eq!(
        asia.refresh(&rotated.field("refresh_token")).await.status,
        StatusCode::UNAUTHORIZED,
        "and ends the login"
    );

    // The lock-out budget: twelve wrong passwords at once, half in each region, verify at most five.
    let carl = "carl@example.com";
    europe.create_customer(carl).await;
    let replies = tests::parallel(0..12, |i| {
        let regions = regions.clone();
        async move { regions[i % 2].login(carl, "wrong password, sorry").await.status }
    })
    .await;
    let verified = replies.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert!(verified <= 5, "at most five verified across regions: {replies:?}");
    assert!(
        replies.iter().all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{replies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writing_each_regions_own_replica_breaks_the_rules_that_rest_on_conditions() {
    // The rejected alternative: each region writes its own replica (active-active).
    let (eu_table, ap_table) = (table_name("eu"), table_name("ap"));
    let europe = Region::over(&eu_table, "eu-west-1").await;
    let asia = Region::over(&ap_table, "ap-southeast-1").await;

    // The same e-mail signed up in both regions within the replication lag...
    let email = "dora@example.com";
    assert_eq!(europe.signup(email).await, StatusCode::ACCEPTED);
    assert_eq!(asia.signup(email).await, StatusCode::ACCEPTED);
    // ...each replica's condition held locally; replication then brings both profiles together.
    replicate(&eu_table, &ap_table).await;
    replicate(&ap_table, &eu_table).await;
    assert_eq!(
        profiles_of(&eu_table, email).await.len(),
        2,
        "two accounts for one e-mail: last writer wins on the guard only"
    );

    // A spent refresh token replayed in the other region before the rotation replicated is not recognised.
    let erik = "erik@example.com";
    europe.create_customer(erik).await;
    replicate(&eu_table, &ap_table).await;
    let login = europe.login(erik, PASSWORD).await;
    replicate(&eu_table, &ap_table).await;
    let first = login.field("refresh_token");
    assert_eq!(europe.refresh(&first).await.status, StatusCode::OK);
    assert_eq!(asia.refresh(&first).await.status, StatusCode::OK, "two live chains from one token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failover_keeps_what_replicated_and_loses_only_the_window() {
    let (home, replica) = (table_name("home"), table_name("replica"));
    let europe = Region::over(&home, "eu-west-1").await;
    // The replica's region runs its stack too (idle: its calls go to the home region until a failover).
    let asia = Region::over(&replica, "ap-southeast-1").await;
    let fran = "fran@example.com";
    europe.create_customer(fran).await;
    let login = europe.login(fran, PASSWORD).await;
    let first = login.field("refresh_token");
    let second = europe.refresh(&first).await.field("refresh_token");
    // Replicated up to here...
    replicate(&home, &replica).await;
    // ...and this rotation is in flight when the home region is lost.
    let third = europe.refresh(&second).await.field("refresh_token");

    // Failover: the replica's region is the new home (its stack's calls now go to its own replica).
    // The rotation lost with the region never happened there (the RPO's cost): its token is
    // unknown, and the token it spent is the current one again, good for one more rotation.
    assert_eq!(asia.refresh(&third).await.status, StatusCode::UNAUTHORIZED);
    let again = asia.refresh(&second).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    // From here the new home decides alone: replaying the token just spent there ends the login.
    assert_eq!(asia.refresh(&second).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        asia.refresh(&again.field("refresh_token")).await.status,
        StatusCode::UNAUTHORIZED,
        "the replay ended the login"
    );
    // The account itself replicated: one account, and the customer logs in again in the new home.
    assert_eq!(asia.signup(fran).await, StatusCode::ACCEPTED);
    assert_eq!(profiles_of(&replica, fran).await.len(), 1);
    assert_eq!(asia.login(fran, PASSWORD).await.status, StatusCode::OK);
}
