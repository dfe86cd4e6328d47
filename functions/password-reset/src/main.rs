fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda("password-reset", password_reset::router)
}
