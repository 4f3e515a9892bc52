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
        // The SDK's `Value` has the WIT variant's shape: rows cross without a conversion.
        with: { "weir:plugin/types@0.1.1/value": crate::Value },
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

/// A table the pipeline declares, by name.
#[inline]
pub(crate) fn declared_table(table: &str) -> Option<&'static TableSchema> {
    schema().tables.iter().find(|t| crate::same(&t.name, table)).filter(|t| t.columns.len() <= 64)
}

/// Forwards to the host's imports. Rows and keys cross packed, through one buffer
/// reused for the whole batch.
struct HostBackend {
    packed: Vec<u8>,
}

impl Backend for HostBackend {
    fn schema(&self) -> &Schema {
        schema()
    }

    fn get(&mut self, table: u16, key: Vec<Value>) -> Option<Vec<Value>> {
        self.packed.clear();
        crate::packed::encode(&mut self.packed, &key);
        let row = read_model::get_packed(table, &self.packed)?;
        let mut values = Vec::with_capacity(schema().tables.get(table as usize).map_or(0, |t| t.columns.len()));
        crate::packed::decode(&row, &mut values).expect("the host answers with packed values");
        Some(values)
    }

    fn upsert(&mut self, input: u32, table: u16, values: Vec<Value>) {
        self.packed.clear();
        crate::packed::encode(&mut self.packed, &values);
        read_model::upsert_packed(input, table, &self.packed);
        // The storage, back for the next row.
        crate::row::recycle(values);
    }

    fn delete(&mut self, input: u32, table: u16, values: Vec<Value>) {
        let row = types::Row { table, values };
        read_model::delete(input, &row);
        crate::row::recycle(row.values);
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

#[inline]
fn u32_at(row: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(row[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
fn span<'a>(bytes: &'a [u8], row: &[u8], at: usize) -> Option<&'a [u8]> {
    let start = u32_at(row, at);
    let len = u32_at(row, at + 4);
    (len != ABSENT).then(|| &bytes[start as usize..(start + len) as usize])
}

/// Calls `handler` once per event of the batch, in order, and collects the failures.
pub fn run_batch(
    batch: types::Batch,
    handler: impl Fn(&Event, &mut Ctx) -> Result<(), Error>,
) -> Vec<types::Failure> {
    let mut failures = Vec::new();
    let mut backend = HostBackend { packed: Vec::with_capacity(256) };
    for (k, row) in batch.index.chunks_exact(ROW).enumerate() {
        let bytes = &batch.bytes[..];
        let event_type = u16::from_le_bytes([row[20], row[21]]);
        let event = Event {
            event_type: &batch.event_types[event_type as usize],
            // Text is checked as UTF-8 when the handler reads it (`Event::id` and so on).
            id: span(bytes, row, 0),
            timestamp_ms: i64::from_le_bytes(row[8..16].try_into().expect("8 bytes")),
            version: u32_at(row, 16),
            aggregate_id: span(bytes, row, 24),
            correlation_id: span(bytes, row, 32),
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
