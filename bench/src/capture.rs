//! Records the DynamoDB calls a route makes, with the capacity they consume,
//! and replays the same calls raw through the SDK: the baseline a route's
//! latency is compared with.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput};
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemInput, DeleteItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_get_items::{TransactGetItemsInput, TransactGetItemsOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};

/// Capacity a call consumed, as DynamoDB reports it (`ReturnConsumedCapacity::Total`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Capacity {
    pub read_units: f64,
    pub write_units: f64,
}

impl Capacity {
    fn add(&mut self, consumed: &ConsumedCapacity, writes: bool) {
        // DynamoDB Local may report only the total; which kind it is follows from the call.
        let total = consumed.capacity_units.unwrap_or(0.0);
        let (read, write) = match (consumed.read_capacity_units, consumed.write_capacity_units) {
            (None, None) if writes => (0.0, total),
            (None, None) => (total, 0.0),
            (r, w) => (r.unwrap_or(0.0), w.unwrap_or(0.0)),
        };
        self.read_units += read;
        self.write_units += write;
    }
}

/// Interceptor for the store's client: while `recording`, every call's input
/// is kept (asking DynamoDB for the capacity it consumes) and the capacity is summed.
#[derive(Debug, Default)]
pub struct Recorder {
    recording: AtomicBool,
    calls: Mutex<Vec<DynamoCall>>,
    capacity: Mutex<Capacity>,
}

impl Recorder {
    pub fn start(&self) {
        self.calls.lock().unwrap().clear();
        *self.capacity.lock().unwrap() = Default::default();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// The calls since `start`, and the capacity they consumed.
    pub fn stop(&self) -> (Vec<DynamoCall>, Capacity) {
        self.recording.store(false, Ordering::SeqCst);
        let capacity = *self.capacity.lock().unwrap();
        (std::mem::take(&mut *self.calls.lock().unwrap()), capacity)
    }
}

#[derive(Debug)]
pub struct SharedRecorder(pub std::sync::Arc<Recorder>);

/// Every operation the store uses: its input and output types, whether it
/// writes, and whether it reports one capacity or one per table.
macro_rules! operations {
    ($($op:ident($input:ident, $output:ident) writes: $writes:literal, capacity: $shape:ident;)*) => {
        /// One DynamoDB call, as the store made it.
        #[derive(Debug, Clone)]
        pub enum DynamoCall {
            $($op($input),)*
        }

        impl Intercept for SharedRecorder {
            fn name(&self) -> &'static str {
                "bench-recorder"
            }

            fn modify_before_serialization(
                &self,
                context: &mut BeforeSerializationInterceptorContextMut<'_>,
                _: &RuntimeComponents,
                _: &mut ConfigBag,
            ) -> Result<(), BoxError> {
                if !self.0.recording.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let input = context.input_mut();
                $(
                    if let Some(i) = input.downcast_mut::<$input>() {
                        i.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
                        self.0.calls.lock().unwrap().push(DynamoCall::$op(i.clone()));
                    }
                )*
                Ok(())
            }

            fn read_after_deserialization(
                &self,
                context: &AfterDeserializationInterceptorContextRef<'_>,
                _: &RuntimeComponents,
                _: &mut ConfigBag,
            ) -> Result<(), BoxError> {
                if !self.0.recording.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let Ok(output) = context.output_or_error() else { return Ok(()) };
                let mut sums = self.0.capacity.lock().unwrap();
                $(
                    if let Some(o) = output.downcast_ref::<$output>() {
                        for c in capacities!($shape, o) {
                            sums.add(&c, $writes);
                        }
                    }
                )*
                Ok(())
            }
        }
    };
}

macro_rules! capacities {
    (one, $o:expr) => {
        $o.consumed_capacity.clone().into_iter().collect::<Vec<_>>()
    };
    (per_table, $o:expr) => {
        $o.consumed_capacity.clone().unwrap_or_default()
    };
}

operations! {
    GetItem(GetItemInput, GetItemOutput) writes: false, capacity: one;
    BatchGetItem(BatchGetItemInput, BatchGetItemOutput) writes: false, capacity: per_table;
    Query(QueryInput, QueryOutput) writes: false, capacity: one;
    PutItem(PutItemInput, PutItemOutput) writes: true, capacity: one;
    UpdateItem(UpdateItemInput, UpdateItemOutput) writes: true, capacity: one;
    DeleteItem(DeleteItemInput, DeleteItemOutput) writes: true, capacity: one;
    TransactWriteItems(TransactWriteItemsInput, TransactWriteItemsOutput) writes: true, capacity: per_table;
    TransactGetItems(TransactGetItemsInput, TransactGetItemsOutput) writes: false, capacity: per_table;
    BatchWriteItem(BatchWriteItemInput, BatchWriteItemOutput) writes: true, capacity: per_table;
}

impl DynamoCall {
    /// Sends the same input again, raw. Conditions that held the first time may
    /// fail now; the round trip is what counts, so errors are ignored.
    pub async fn replay(&self, client: &Client) {
        match self.clone() {
            Self::GetItem(i) => {
                let _ = aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder::default()
                    .set_table_name(i.table_name)
                    .set_key(i.key)
                    .set_attributes_to_get(i.attributes_to_get)
                    .set_consistent_read(i.consistent_read)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .set_projection_expression(i.projection_expression)
                    .set_expression_attribute_names(i.expression_attribute_names)
                    .send_with(client)
                    .await;
            }
            Self::BatchGetItem(i) => {
                let _ = aws_sdk_dynamodb::operation::batch_get_item::builders::BatchGetItemInputBuilder::default()
                    .set_request_items(i.request_items)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .send_with(client)
                    .await;
            }
            Self::Query(i) => {
                let _ = aws_sdk_dynamodb::operation::query::builders::QueryInputBuilder::default()
                    .set_table_name(i.table_name)
                    .set_index_name(i.index_name)
                    .set_select(i.select)
                    .set_attributes_to_get(i.attributes_to_get)
                    .set_limit(i.limit)
                    .set_consistent_read(i.consistent_read)
                    .set_key_conditions(i.key_conditions)
                    .set_query_filter(i.query_filter)
                    .set_conditional_operator(i.conditional_operator)
                    .set_scan_index_forward(i.scan_index_forward)
                    .set_exclusive_start_key(i.exclusive_start_key)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .set_projection_expression(i.projection_expression)
                    .set_filter_expression(i.filter_expression)
                    .set_key_condition_expression(i.key_condition_expression)
                    .set_expression_attribute_names(i.expression_attribute_names)
                    .set_expression_attribute_values(i.expression_attribute_values)
                    .send_with(client)
                    .await;
            }
            Self::PutItem(i) => {
                let _ = aws_sdk_dynamodb::operation::put_item::builders::PutItemInputBuilder::default()
                    .set_table_name(i.table_name)
                    .set_item(i.item)
                    .set_expected(i.expected)
                    .set_return_values(i.return_values)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .set_return_item_collection_metrics(i.return_item_collection_metrics)
                    .set_conditional_operator(i.conditional_operator)
                    .set_condition_expression(i.condition_expression)
                    .set_expression_attribute_names(i.expression_attribute_names)
                    .set_expression_attribute_values(i.expression_attribute_values)
                    .set_return_values_on_condition_check_failure(i.return_values_on_condition_check_failure)
                    .send_with(client)
                    .await;
            }
            Self::UpdateItem(i) => {
                let _ = aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder::default()
                    .set_table_name(i.table_name)
                    .set_key(i.key)
                    .set_attribute_updates(i.attribute_updates)
                    .set_expected(i.expected)
                    .set_conditional_operator(i.conditional_operator)
                    .set_return_values(i.return_values)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .set_return_item_collection_metrics(i.return_item_collection_metrics)
                    .set_update_expression(i.update_expression)
                    .set_condition_expression(i.condition_expression)
                    .set_expression_attribute_names(i.expression_attribute_names)
                    .set_expression_attribute_values(i.expression_attribute_values)
                    .set_return_values_on_condition_check_failure(i.return_values_on_condition_check_failure)
                    .send_with(client)
                    .await;
            }
            Self::DeleteItem(i) => {
                let _ = aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemInputBuilder::default()
                    .set_table_name(i.table_name)
                    .set_key(i.key)
                    .set_expected(i.expected)
                    .set_conditional_operator(i.conditional_operator)
                    .set_return_values(i.return_values)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .set_return_item_collection_metrics(i.return_item_collection_metrics)
                    .set_condition_expression(i.condition_expression)
                    .set_expression_attribute_names(i.expression_attribute_names)
                    .set_expression_attribute_values(i.expression_attribute_values)
                    .set_return_values_on_condition_check_failure(i.return_values_on_condition_check_failure)
                    .send_with(client)
                    .await;
            }
            Self::TransactWriteItems(i) => {
                let _ = aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsInputBuilder::default().set_transact_items(i.transact_items).set_return_consumed_capacity(i.return_consumed_capacity).set_return_item_collection_metrics(i.return_item_collection_metrics).set_client_request_token(i.client_request_token).send_with(client).await;
            }
            Self::TransactGetItems(i) => {
                let _ =
                    aws_sdk_dynamodb::operation::transact_get_items::builders::TransactGetItemsInputBuilder::default()
                        .set_transact_items(i.transact_items)
                        .set_return_consumed_capacity(i.return_consumed_capacity)
                        .send_with(client)
                        .await;
            }
            Self::BatchWriteItem(i) => {
                let _ = aws_sdk_dynamodb::operation::batch_write_item::builders::BatchWriteItemInputBuilder::default()
                    .set_request_items(i.request_items)
                    .set_return_consumed_capacity(i.return_consumed_capacity)
                    .set_return_item_collection_metrics(i.return_item_collection_metrics)
                    .send_with(client)
                    .await;
            }
        }
    }
}
