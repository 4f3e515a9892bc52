//! The handler path, side by side in one run: a 1,000-event batch of seed order events
//! through the order-summary component (one call per batch, epoch deadlines on), and the
//! same logic compiled natively, both starting from the raw Kafka payloads (envelope
//! decoding included) and writing into an in-memory overlay of the batch's rows.
//!
//! Benchmark IDs (group `order_summary_batch_1000`): `native`, `component`,
//! `component_call_only` (batch packed beforehand), `decode_and_pack_only`.
//! `benches/engine.rs` has the same comparison for every batch size.
//!
//! Run: `scripts/build-plugins.sh rust && cargo bench -p weir --bench handler`.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir::config::PluginLimits;
use weir::plugin::{BatchBuilder, Engine, Instance};

mod common;

use common::{BATCH, NativeBackend, order_summary_schema, pack, payloads, run_native, wasm};

fn handler(c: &mut Criterion) {
    let engine = Engine::new(None).unwrap();
    let plugin = engine.load(&wasm("order_summary")).unwrap();
    let schema = Arc::new(order_summary_schema());
    let mut instance = Instance::new(&plugin, schema, PluginLimits { memory_mib: 64, deadline_ms: 1000 }, None).unwrap();
    let payloads = payloads();
    let mut builder = BatchBuilder::new();
    let mut native = NativeBackend::order_summary();

    let mut group = c.benchmark_group("order_summary_batch_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("native", |b| {
        b.iter(|| {
            run_native(order_summary::handle, &mut native, &payloads);
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
