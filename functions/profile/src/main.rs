// One event at a time per sandbox: a single-threaded runtime starts faster and
// holds less memory (argon2id still runs on the blocking pool).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda("profile", profile::router).await
}
