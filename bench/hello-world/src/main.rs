//! The cold-start yardstick: a `lambda_http` function that answers every
//! request with a fixed body, built with the release profile the functions ship.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_request: Request| async { Ok::<_, Error>(Response::new(Body::from("hello"))) })).await
}
