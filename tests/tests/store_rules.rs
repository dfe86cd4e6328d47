//! Store-level rules shared by several functions, against DynamoDB Local.

use shared::domain::CustomerId;
use tests::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mail_quota_is_never_exceeded_under_parallel_use() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let customer = CustomerId::generate();
    let now = shared::clock::now_epoch();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            let customer = customer.clone();
            tokio::spawn(async move {
                app.store().take_mail_quota(&app.tenant, "RESET", &customer, 3, 3600, now).await.unwrap()
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += usize::from(task.await.unwrap());
    }
    assert_eq!(granted, 3);
    // A new window opens once the old one is over.
    assert!(app.store().take_mail_quota(&app.tenant, "RESET", &customer, 3, 3600, now + 3601).await.unwrap());
    // Other purposes and customers have their own allowance.
    assert!(app.store().take_mail_quota(&app.tenant, "ACTIVATION", &customer, 3, 3600, now).await.unwrap());
}
