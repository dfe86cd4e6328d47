//! The second cold-start yardstick: a `lambda_http` function that reads one
//! DynamoDB item per request, written the way AWS's examples write it (the
//! SDK's default configuration and HTTPS client). Every one of our functions
//! does at least this much I/O; hello-world does none.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk);
    // The bench points it at DynamoDB Local, as it does our functions.
    if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
        dynamodb = dynamodb.endpoint_url(endpoint);
    }
    let client = aws_sdk_dynamodb::Client::from_conf(dynamodb.build());
    let table = std::env::var("TABLE_NAME")?;
    run(service_fn(|_request: Request| async {
        let key = AttributeValue::S("hello".into());
        let read = client.get_item().table_name(&table).key("PK", key.clone()).key("SK", key).send().await?;
        Ok::<_, Error>(Response::new(Body::from(if read.item.is_some() { "found" } else { "not found" })))
    }))
    .await
}
