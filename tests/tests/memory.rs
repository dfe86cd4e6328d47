//! Memory stays bounded under parallel logins: the whole API served on a
//! port in this process (as `accounts serve` does), 200 logins of 50
//! customers at concurrency 50, and the process's peak resident memory
//! (VmHWM) under 200 MiB. Each argon2id check needs 19 MiB; without a bound
//! on how many run at once, 50 at once would need 950 MiB.

use std::sync::Arc;

use serde_json::{Value, json};
use tests::{TestApp, parallel};

const CUSTOMERS: usize = 50;
const LOGINS_EACH: usize = 4;
const PASSWORD: &str = "correct horse battery staple";
const LIMIT_KIB: u64 = 200 * 1024;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_logins_at_concurrency_fifty_stay_under_200_mib() {
    let app = TestApp::new().await;
    for i in 0..CUSTOMERS {
        app.create_customer(&format!("c{i}@example.com"), PASSWORD).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = shared::http::service(cli::all_routes(), app.state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    let client = Arc::new(reqwest::Client::new());
    let workers = parallel(0..CUSTOMERS, |i| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let mut statuses = Vec::new();
            for _ in 0..LOGINS_EACH {
                let anonymous: Value = client
                    .get(format!("{base}/customerlogin/auth/anonymous/login?tenant=demo&client_id=storefront"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let login = client
                    .post(format!("{base}/customer/demo/login"))
                    .bearer_auth(anonymous["access_token"].as_str().unwrap())
                    .json(&json!({"email": format!("c{i}@example.com"), "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                statuses.push(login.status().as_u16());
            }
            statuses
        }
    })
    .await;
    let statuses: Vec<u16> = workers.into_iter().flatten().collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, CUSTOMERS * LOGINS_EACH, "every login succeeds: {statuses:?}");
    let peak = peak_rss_kib();
    assert!(peak < LIMIT_KIB, "peak RSS {} MiB", peak / 1024);
    eprintln!("peak RSS after {} logins: {} MiB", statuses.len(), peak / 1024);
}
