//! The handler path, side by side in one run: a 1,000-event batch of seed order events
//! through the order-summary component (one call per batch, epoch deadlines on), and the
//! same logic compiled natively, both starting from the raw Kafka payloads (envelope
//! decoding included) and writing into an in-memory overlay of the batch's rows.
//!
//! Run: `scripts/build-plugins.sh && cargo bench -p weir --bench handler`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir::config::PluginLimits;
use weir::plugin::{BatchBuilder, Engine, Instance};
use weir::source::envelope::decode;

mod common;

use common::{BATCH, COLUMNS, order_summary_schema, payloads};

/// The native twin of the host's overlay: rows by key, as the SDK's values.
#[derive(Default)]
struct NativeBackend {
    schema: weir_sdk::Schema,
    rows: HashMap<String, Vec<weir_sdk::Value>>,
}

impl weir_sdk::Backend for NativeBackend {
    fn schema(&self) -> &weir_sdk::Schema {
        &self.schema
    }
    fn get(&mut self, _: u16, key: Vec<weir_sdk::Value>) -> Option<Vec<weir_sdk::Value>> {
        self.rows.get(key[0].as_str()?).cloned()
    }
    fn upsert(&mut self, _: u32, _: u16, values: Vec<weir_sdk::Value>) {
        let key = values[0].as_str().unwrap_or_default().to_owned();
        self.rows.insert(key, values);
    }
    fn delete(&mut self, _: u32, _: u16, values: Vec<weir_sdk::Value>) {
        self.rows.remove(values[0].as_str().unwrap_or_default());
    }
    fn emit(&mut self, _: u32, _: u16, _: Option<Vec<u8>>, _: String, _: Vec<u8>) {}
    fn record_info(&mut self, _: u32) -> weir_sdk::RecordMeta {
        unreachable!("not used by order-summary")
    }
    fn log(&mut self, _: weir_sdk::Level, _: &str) {}
}

/// Decodes every payload's envelope and packs the batch, as the host does.
fn pack(builder: &mut BatchBuilder, payloads: &[Vec<u8>]) {
    builder.clear();
    for (i, p) in payloads.iter().enumerate() {
        builder.push(p, None, &decode(Some(p), None, None).unwrap(), i as u32);
    }
}

fn handler(c: &mut Criterion) {
    let plugin_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release/order_summary.wasm");
    let engine = Engine::new(None).unwrap();
    let plugin = engine.load(&plugin_path).expect("build the plugins first: scripts/build-plugins.sh");
    let schema = Arc::new(order_summary_schema());
    let mut instance = Instance::new(&plugin, schema, PluginLimits { memory_mib: 64, deadline_ms: 1000 }, None).unwrap();
    let payloads = payloads();
    let mut builder = BatchBuilder::new();
    let mut native = NativeBackend::default();
    native.schema.tables.push(weir_sdk::TableSchema {
        name: "order_summaries".into(),
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        primary_key: vec!["id".into()],
    });

    let mut group = c.benchmark_group("order_summary_batch_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("native", |b| {
        b.iter(|| {
            native.rows.clear();
            for (i, p) in payloads.iter().enumerate() {
                let d = decode(Some(p), None, None).unwrap();
                let env = &d.envelope;
                let event = weir_sdk::Event::from_parts(
                    &d.event_type,
                    env.event_id.as_deref(),
                    d.timestamp_ms,
                    env.version.unwrap_or(1),
                    env.aggregate_id.as_deref(),
                    env.correlation_id.as_deref(),
                    None,
                    d.data,
                    i as u32,
                );
                order_summary::handle(&event, &mut weir_sdk::Ctx::new(&mut native, i as u32, i as u32)).unwrap();
            }
            assert_eq!(native.rows.len(), 900);
        })
    });
    group.bench_function("component", |b| {
        b.iter(|| {
            pack(&mut builder, &payloads);
            let outcome = instance.run(builder.batch()).unwrap();
            assert_eq!(outcome.changes.len(), 900);
        })
    });
    // The same component call on a batch packed beforehand: the boundary and the guest,
    // without the host's envelope decoding.
    pack(&mut builder, &payloads);
    group.bench_function("component_call_only", |b| {
        b.iter(|| {
            let outcome = instance.run(builder.batch()).unwrap();
            assert_eq!(outcome.changes.len(), 900);
        })
    });
    // Host envelope decoding and packing alone.
    group.bench_function("decode_and_pack_only", |b| {
        b.iter(|| {
            pack(&mut builder, &payloads);
            assert_eq!(builder.len(), BATCH);
        })
    });
    group.finish();
}

criterion_group!(benches, handler);
criterion_main!(benches);
