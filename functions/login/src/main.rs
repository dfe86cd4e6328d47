fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda("login", login::router)
}
