//! The Wasm side: bindings for the `projection` world, the batch loop, and a [`Backend`]
//! that forwards to the host's imports.

use std::sync::OnceLock;

use crate::{Backend, Ctx, Error, Event, Level, RecordMeta, Schema, TableSchema, Value};

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "projection",
        path: "wit",
        pub_export_macro: true,
        default_bindings_module: "::weir_sdk::__private::bindings",
    });
}

use bindings::weir::plugin::{context, read_model, topics, types};

/// The pipeline's tables and topics, asked once per instance.
static SCHEMA: OnceLock<Schema> = OnceLock::new();

fn schema() -> &'static Schema {
    SCHEMA.get_or_init(|| Schema {
        tables: context::tables()
            .into_iter()
            .map(|t| TableSchema { name: t.name, columns: t.columns, primary_key: t.primary_key })
            .collect(),
        topics: context::topics(),
    })
}

struct HostBackend;

fn to_wit(v: Value) -> types::Value {
    match v {
        Value::Null => types::Value::Null,
        Value::Boolean(b) => types::Value::Boolean(b),
        Value::Integer(i) => types::Value::Integer(i),
        Value::Float(f) => types::Value::Float(f),
        Value::Text(s) => types::Value::Text(s),
        Value::Json(j) => types::Value::Json(j),
    }
}

fn from_wit(v: types::Value) -> Value {
    match v {
        types::Value::Null => Value::Null,
        types::Value::Boolean(b) => Value::Boolean(b),
        types::Value::Integer(i) => Value::Integer(i),
        types::Value::Float(f) => Value::Float(f),
        types::Value::Text(s) => Value::Text(s),
        types::Value::Json(j) => Value::Json(j),
    }
}

fn wit_row(table: u16, values: Vec<Value>) -> types::Row {
    types::Row { table, values: values.into_iter().map(to_wit).collect() }
}

impl Backend for HostBackend {
    fn schema(&self) -> &Schema {
        schema()
    }

    fn get(&mut self, table: u16, key: Vec<Value>) -> Option<Vec<Value>> {
        let key: Vec<types::Value> = key.into_iter().map(to_wit).collect();
        read_model::get(table, &key).map(|row| row.values.into_iter().map(from_wit).collect())
    }

    fn upsert(&mut self, input: u32, table: u16, values: Vec<Value>) {
        read_model::upsert(input, &wit_row(table, values));
    }

    fn delete(&mut self, input: u32, table: u16, values: Vec<Value>) {
        read_model::delete(input, &wit_row(table, values));
    }

    fn emit(&mut self, input: u32, topic: u16, key: Option<Vec<u8>>, event_type: String, data: Vec<u8>) {
        topics::emit(input, &types::Outgoing { topic, key, event_type, data });
    }

    fn record_info(&mut self, origin: u32) -> RecordMeta {
        let m = context::record_info(origin);
        RecordMeta { topic: m.topic, partition: m.partition, offset: m.offset, headers: m.headers }
    }

    fn log(&mut self, level: Level, message: &str) {
        context::log(level as u8, message);
    }
}

const ROW: usize = 64;
const ABSENT: u32 = u32::MAX;

fn u32_at(row: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(row[at..at + 4].try_into().expect("4 bytes"))
}

fn span<'a>(bytes: &'a [u8], row: &[u8], at: usize) -> Option<&'a [u8]> {
    let start = u32_at(row, at);
    let len = u32_at(row, at + 4);
    (len != ABSENT).then(|| &bytes[start as usize..(start + len) as usize])
}

fn text<'a>(bytes: &'a [u8], row: &[u8], at: usize) -> Option<&'a str> {
    // The host validated the envelope as UTF-8 JSON before packing it.
    span(bytes, row, at).map(|s| std::str::from_utf8(s).expect("host sends UTF-8"))
}

/// Calls `handler` once per event of the batch, in order, and collects the failures.
pub fn run_batch(
    batch: types::Batch,
    handler: impl Fn(&Event, &mut Ctx) -> Result<(), Error>,
) -> Vec<types::Failure> {
    let mut failures = Vec::new();
    let mut backend = HostBackend;
    for (k, row) in batch.index.chunks_exact(ROW).enumerate() {
        let bytes = &batch.bytes[..];
        let event_type = u16::from_le_bytes([row[20], row[21]]);
        let event = Event {
            event_type: &batch.event_types[event_type as usize],
            id: text(bytes, row, 0),
            timestamp_ms: i64::from_le_bytes(row[8..16].try_into().expect("8 bytes")),
            version: u32_at(row, 16),
            aggregate_id: text(bytes, row, 24),
            correlation_id: text(bytes, row, 32),
            key: span(bytes, row, 40),
            data: span(bytes, row, 48).unwrap_or(b"null"),
            origin: u32_at(row, 56),
        };
        let mut ctx = Ctx::new(&mut backend, k as u32, event.origin);
        if let Err(e) = handler(&event, &mut ctx) {
            failures.push(types::Failure {
                index: k as u32,
                error: types::HandlerError { message: e.message, retryable: e.retryable },
            });
        }
    }
    failures
}
