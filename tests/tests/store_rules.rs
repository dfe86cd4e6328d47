//! Store-level rules shared by several functions, against DynamoDB Local.

use shared::store::{Allowance, Taken};
use tests::{TestApp, parallel};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_limit_is_never_exceeded_under_parallel_use() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let now = shared::clock::now_epoch();
    let allowance = Allowance { limit: 3, window_secs: 3600 };
    let taken = parallel(0..8, |_| {
        let app = app.clone();
        async move { app.store().take(&app.tenant, "mail:reset:ann", allowance, now).await.unwrap() }
    })
    .await;
    let granted = taken.iter().filter(|t| **t == Taken::Granted).count();
    assert_eq!(granted, 3);
    let refused = app.store().take(&app.tenant, "mail:reset:ann", allowance, now + 10).await.unwrap();
    assert_eq!(refused, Taken::Exhausted { retry_after_secs: 3590 }, "the window's end, as Retry-After");
    // A new window opens once the old one is over.
    assert_eq!(app.store().take(&app.tenant, "mail:reset:ann", allowance, now + 3601).await.unwrap(), Taken::Granted);
    // Other counters have their own allowance.
    assert_eq!(app.store().take(&app.tenant, "mail:activation:ann", allowance, now).await.unwrap(), Taken::Granted);
}
