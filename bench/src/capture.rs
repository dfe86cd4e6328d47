//! Records the DynamoDB calls a route makes, with the capacity they consume,
//! and replays the same calls raw through the SDK: the baseline a route's
//! latency is compared with.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
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
    timing: AtomicBool,
    in_calls: Mutex<InCalls>,
}

/// Wall-clock time during which at least one DynamoDB call was under way
/// (calls made side by side count once).
#[derive(Debug, Default)]
struct InCalls {
    outstanding: u32,
    since: Option<Instant>,
    total: Duration,
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

    /// Starts timing the DynamoDB calls (the SDK's own work included), so
    /// that a request's compute is its time minus theirs.
    pub fn start_timing(&self) {
        *self.in_calls.lock().unwrap() = InCalls::default();
        self.timing.store(true, Ordering::SeqCst);
    }

    /// The time spent in DynamoDB calls since `start_timing`.
    pub fn stop_timing(&self) -> Duration {
        self.timing.store(false, Ordering::SeqCst);
        self.in_calls.lock().unwrap().total
    }

    fn call_started(&self) {
        if self.timing.load(Ordering::SeqCst) {
            let mut in_calls = self.in_calls.lock().unwrap();
            if in_calls.outstanding == 0 {
                in_calls.since = Some(Instant::now());
            }
            in_calls.outstanding += 1;
        }
    }

    fn call_ended(&self) {
        let mut in_calls = self.in_calls.lock().unwrap();
        if in_calls.outstanding == 0 {
            return;
        }
        in_calls.outstanding -= 1;
        if in_calls.outstanding == 0
            && let Some(since) = in_calls.since.take()
        {
            in_calls.total += since.elapsed();
        }
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

            fn read_before_execution(
                &self,
                _: &BeforeSerializationInterceptorContextRef<'_>,
                _: &mut ConfigBag,
            ) -> Result<(), BoxError> {
                self.0.call_started();
                Ok(())
            }

            fn read_after_execution(
                &self,
                _: &FinalizerInterceptorContextRef<'_>,
                _: &RuntimeComponents,
                _: &mut ConfigBag,
            ) -> Result<(), BoxError> {
                self.0.call_ended();
                Ok(())
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

/// Sends an input again through its builder: each `setter: field` pair hands
/// the input's field to the builder's setter. (The SDK makes no builder from
/// an input, so the fields are named.) A `conditional_write` adds the fields
/// every conditional single-item write (put, update, delete) has.
macro_rules! resend {
    ($client:expr, $builder:ty, $input:expr, { $($setter:ident: $field:ident),* $(,)? }) => {{
        let input = $input;
        let _ = <$builder>::default()$(.$setter(input.$field))*.send_with($client).await;
    }};
    ($client:expr, $builder:ty, $input:expr, conditional_write { $($setter:ident: $field:ident),* $(,)? }) => {
        resend!($client, $builder, $input, {
            $($setter: $field,)*
            set_table_name: table_name, set_expected: expected, set_conditional_operator: conditional_operator,
            set_return_values: return_values, set_return_consumed_capacity: return_consumed_capacity,
            set_return_item_collection_metrics: return_item_collection_metrics,
            set_condition_expression: condition_expression,
            set_expression_attribute_names: expression_attribute_names,
            set_expression_attribute_values: expression_attribute_values,
            set_return_values_on_condition_check_failure: return_values_on_condition_check_failure,
        })
    };
}

impl DynamoCall {
    /// Sends the same input again, raw. Conditions that held the first time may
    /// fail now; the round trip is what counts, so errors are ignored.
    pub async fn replay(&self, client: &Client) {
        use aws_sdk_dynamodb::operation::*;
        match self.clone() {
            Self::GetItem(i) => resend!(client, get_item::builders::GetItemInputBuilder, i, {
                set_table_name: table_name, set_key: key, set_attributes_to_get: attributes_to_get,
                set_consistent_read: consistent_read, set_return_consumed_capacity: return_consumed_capacity,
                set_projection_expression: projection_expression,
                set_expression_attribute_names: expression_attribute_names,
            }),
            Self::BatchGetItem(i) => resend!(client, batch_get_item::builders::BatchGetItemInputBuilder, i, {
                set_request_items: request_items, set_return_consumed_capacity: return_consumed_capacity,
            }),
            Self::Query(i) => resend!(client, query::builders::QueryInputBuilder, i, {
                set_table_name: table_name, set_index_name: index_name, set_select: select,
                set_attributes_to_get: attributes_to_get, set_limit: limit, set_consistent_read: consistent_read,
                set_key_conditions: key_conditions, set_query_filter: query_filter,
                set_conditional_operator: conditional_operator, set_scan_index_forward: scan_index_forward,
                set_exclusive_start_key: exclusive_start_key, set_return_consumed_capacity: return_consumed_capacity,
                set_projection_expression: projection_expression, set_filter_expression: filter_expression,
                set_key_condition_expression: key_condition_expression,
                set_expression_attribute_names: expression_attribute_names,
                set_expression_attribute_values: expression_attribute_values,
            }),
            Self::PutItem(i) => {
                resend!(client, put_item::builders::PutItemInputBuilder, i, conditional_write { set_item: item })
            }
            Self::UpdateItem(i) => resend!(
                client,
                update_item::builders::UpdateItemInputBuilder,
                i,
                conditional_write {
                    set_key: key,
                    set_attribute_updates: attribute_updates,
                    set_update_expression: update_expression,
                }
            ),
            Self::DeleteItem(i) => {
                resend!(client, delete_item::builders::DeleteItemInputBuilder, i, conditional_write { set_key: key })
            }
            Self::TransactWriteItems(i) => {
                resend!(client, transact_write_items::builders::TransactWriteItemsInputBuilder, i, {
                    set_transact_items: transact_items, set_return_consumed_capacity: return_consumed_capacity,
                    set_return_item_collection_metrics: return_item_collection_metrics,
                    set_client_request_token: client_request_token,
                })
            }
            Self::TransactGetItems(i) => {
                resend!(client, transact_get_items::builders::TransactGetItemsInputBuilder, i, {
                    set_transact_items: transact_items, set_return_consumed_capacity: return_consumed_capacity,
                })
            }
            Self::BatchWriteItem(i) => resend!(client, batch_write_item::builders::BatchWriteItemInputBuilder, i, {
                set_request_items: request_items, set_return_consumed_capacity: return_consumed_capacity,
                set_return_item_collection_metrics: return_item_collection_metrics,
            }),
        }
    }
}
