fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda("activation", activation::router)
}
