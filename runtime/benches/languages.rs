//! The same projection in every plugin language, side by side in one run: a 1,000-event
//! batch of seed order events through the order-summary component written in Rust,
//! Python, JavaScript, C and Go (one call per batch, epoch deadlines on), from packed
//! batches, so the figures are the boundary plus the guest.
//!
//! Run: `scripts/build-plugins.sh && cargo bench -p weir --bench languages`. A language
//! whose component is not built is reported and left out.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{BATCH, order_summary_schema, payloads};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir::config::PluginLimits;
use weir::plugin::{BatchBuilder, Engine, Instance};
use weir::source::envelope::decode;

/// (language, component path under target/).
const COMPONENTS: [(&str, &str); 5] = [
    ("rust", "wasm32-wasip2/release/order_summary.wasm"),
    ("c", "plugins/order-summary-c.wasm"),
    ("go", "plugins/order-summary-go.wasm"),
    ("python", "plugins/order-summary-py.wasm"),
    ("javascript", "plugins/order-summary-js.wasm"),
];

fn languages(c: &mut Criterion) {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let engine = Engine::new(Engine::default_cache_dir()).unwrap();
    let payloads = payloads();
    let mut builder = BatchBuilder::new();
    for (i, p) in payloads.iter().enumerate() {
        builder.push(p, None, &decode(Some(p), None, None).unwrap(), i as u32);
    }
    let mut group = c.benchmark_group("order_summary_by_language_batch_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(5));
    for (language, path) in COMPONENTS {
        let path = target.join(path);
        if !path.is_file() {
            eprintln!("{language}: {} is not built, left out", path.display());
            continue;
        }
        let plugin = engine.load(&path).unwrap();
        let limits = PluginLimits { memory_mib: 256, deadline_ms: 10_000 };
        let mut instance = Instance::new(&plugin, Arc::new(order_summary_schema()), limits, None).unwrap();
        group.bench_function(language, |b| {
            b.iter(|| {
                let outcome = instance.run(builder.batch()).unwrap();
                assert_eq!(outcome.changes.len(), 900, "{language}");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, languages);
criterion_main!(benches);
