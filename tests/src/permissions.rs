//! What a function does in AWS, recorded as the IAM actions it needs: an SDK
//! interceptor on the store's DynamoDB client names each call's action (a
//! transaction, one action per item kind, as IAM authorises it), so a test
//! can hold each function's calls against what template.yaml grants.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableInput;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::operation::update_time_to_live::UpdateTimeToLiveInput;

/// The IAM actions of the calls made since the last `take`.
#[derive(Debug, Clone, Default)]
pub struct ActionRecorder(Arc<Mutex<BTreeSet<String>>>);

impl ActionRecorder {
    pub fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The IAM actions one DynamoDB call needs.
fn actions(context: &BeforeSerializationInterceptorContextRef<'_>) -> Vec<String> {
    let input = context.input();
    let named = |action: &str| vec![format!("dynamodb:{action}")];
    if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
        return transaction
            .transact_items()
            .iter()
            .map(|item| {
                let action = if item.put().is_some() {
                    "PutItem"
                } else if item.update().is_some() {
                    "UpdateItem"
                } else if item.delete().is_some() {
                    "DeleteItem"
                } else {
                    "ConditionCheckItem"
                };
                format!("dynamodb:{action}")
            })
            .collect();
    }
    if let Some(query) = input.downcast_ref::<QueryInput>() {
        // A query of an index needs the index's ARN granted.
        return named(if query.index_name().is_some() { "Query(index)" } else { "Query" });
    }
    macro_rules! simple {
        ($($input:ty => $action:literal),* $(,)?) => {
            $(if input.downcast_ref::<$input>().is_some() { return named($action); })*
        };
    }
    simple! {
        GetItemInput => "GetItem",
        BatchGetItemInput => "BatchGetItem",
        TransactGetItemsInput => "GetItem",
        PutItemInput => "PutItem",
        UpdateItemInput => "UpdateItem",
        DeleteItemInput => "DeleteItem",
        BatchWriteItemInput => "BatchWriteItem",
        ScanInput => "Scan",
        CreateTableInput => "CreateTable",
        DescribeTableInput => "DescribeTable",
        UpdateTimeToLiveInput => "UpdateTimeToLive",
    }
    named("an operation this recorder does not know")
}

impl Intercept for ActionRecorder {
    fn name(&self) -> &'static str {
        "iam-action-recorder"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.lock().unwrap().extend(actions(context));
        Ok(())
    }
}
