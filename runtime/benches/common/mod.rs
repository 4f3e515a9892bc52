//! What the benchmarks share: the seed-style events, the order-summary schema, the host's
//! envelope decoding and packing, and the native twin of a component call.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use weir::config::PluginLimits;
use weir::plugin::{Batch, BatchBuilder, Engine, HostState, Schema, TableSchema};
use weir::source::envelope::decode;

/// Events per batch in the benchmarks that use one size.
pub const BATCH: usize = 1000;

/// The first `BATCH` seed-style events (see [`payloads_n`]).
pub fn payloads() -> Vec<Vec<u8>> {
    payloads_n(BATCH)
}

/// `n` seed-style events of about 400 bytes: nine `OrderPlaced` for every `OrderShipped`,
/// which ships the order placed five events earlier, in the same batch (event 9 ships
/// event 4, event 19 ships event 14...). Deterministic: the same `n` gives the same bytes.
pub fn payloads_n(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let event = if i % 10 == 9 {
                serde_json::json!({"eventType": "OrderShipped", "eventId": format!("evt-{i:08}"), "timestamp": "2026-03-30T12:00:00Z",
                    "version": 1, "source": "shipping-service", "correlationId": format!("req-{i:08}"), "aggregateId": format!("ord-{:08}", i - 5),
                    "data": {"orderId": format!("ord-{:08}", i - 5), "carrier": "DHL", "trackingNumber": "1Z999AA10123456784"}})
            } else {
                serde_json::json!({"eventType": "OrderPlaced", "eventId": format!("evt-{i:08}"), "timestamp": "2026-03-30T10:00:00Z",
                    "version": 1, "source": "order-service", "correlationId": format!("req-{i:08}"), "aggregateId": format!("ord-{i:08}"),
                    "data": {"orderId": format!("ord-{i:08}"), "userId": format!("user-{:05}", i % 977),
                             "items": [{"productId": "prod-789", "quantity": 2, "price": 29.99}, {"productId": "prod-123", "quantity": 1, "price": 10.0}],
                             "total": 69.98, "currency": "EUR", "shippingAddress": {"city": "Berlin", "zip": "10115"}}})
            };
            serde_json::to_vec(&event).unwrap()
        })
        .collect()
}

/// Rows order-summary leaves for `n` events of [`payloads_n`]: one per `OrderPlaced`.
pub fn order_summary_rows(n: usize) -> usize {
    n - n / 10
}

/// The `order_summaries` columns, declared order.
pub const COLUMNS: [&str; 7] = ["id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"];

/// The schema the order-summary pipeline declares.
pub fn order_summary_schema() -> Schema {
    Schema {
        pipeline: "bench".into(),
        tables: vec![TableSchema {
            name: "order_summaries".into(),
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            primary_key: vec!["id".into()],
            key_positions: vec![0],
        }],
        topics: vec![],
    }
}

/// The cargo target directory (`$CARGO_TARGET_DIR`, else the workspace's `target/`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").join("target"),
    }
}

/// A Rust plugin built by `scripts/build-plugins.sh rust`, e.g. `wasm("noop")`.
pub fn wasm(name: &str) -> PathBuf {
    let path = target_dir().join("wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} is missing: build the plugins first (scripts/build-plugins.sh rust)", path.display());
    path
}

/// Decodes every payload's envelope and packs the batch, as the host does.
pub fn pack(builder: &mut BatchBuilder, payloads: &[Vec<u8>]) {
    builder.clear();
    for (i, p) in payloads.iter().enumerate() {
        builder.push(p, None, &decode(Some(p), None, None).unwrap(), i as u32);
    }
}

/// The native twin of the host's overlay: rows by key, as the SDK's values.
#[derive(Default)]
pub struct NativeBackend {
    pub schema: weir_sdk::Schema,
    pub rows: HashMap<String, Vec<weir_sdk::Value>>,
}

impl NativeBackend {
    /// A backend with the `order_summaries` table.
    pub fn order_summary() -> Self {
        let mut native = NativeBackend::default();
        native.schema.tables.push(weir_sdk::TableSchema {
            name: "order_summaries".into(),
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            primary_key: vec!["id".into()],
        });
        native
    }
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
        unreachable!("not used by the benchmark plugins")
    }
    fn log(&mut self, _: weir_sdk::Level, _: &str) {}
}

/// The native twin of one batch call: decodes every payload's envelope as the host does
/// and runs `handle` (a plugin's `handle` compiled natively) on each event, writing into
/// `native` (emptied first, as the host's overlay is per batch).
#[inline]
pub fn run_native<F>(handle: F, native: &mut NativeBackend, payloads: &[Vec<u8>])
where
    F: Fn(&weir_sdk::Event, &mut weir_sdk::Ctx) -> Result<(), weir_sdk::Error>,
{
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
        handle(&event, &mut weir_sdk::Ctx::new(native, i as u32, i as u32)).unwrap();
    }
}

/// A plugin's `handle`, called through wasmtime's typed bindings with nothing around it:
/// what `Instance::run` wraps (the same engine, linker, store limits and epoch deadline,
/// set per call; the epoch ticks every millisecond).
pub struct BareCall {
    store: wasmtime::Store<HostState>,
    projection: weir::plugin::bindings::Projection,
    deadline_ticks: u64,
}

impl BareCall {
    /// Compiles (or, with `cache`, fetches from its own file there) the component at
    /// `path` and instantiates it in a store of its own.
    pub fn new(engine: &Engine, path: &Path, limits: PluginLimits, cache: Option<&Path>) -> Self {
        use weir::plugin::bindings::{Projection, ProjectionPre};
        let wt = engine.wasmtime();
        let component = bare_component(wt, path, cache);
        let mut linker = wasmtime::component::Linker::<HostState>::new(wt);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        Projection::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s).unwrap();
        let pre = ProjectionPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
        let store_limits = wasmtime::StoreLimitsBuilder::new()
            .memory_size((limits.memory_mib as usize) << 20)
            .trap_on_grow_failure(true)
            .build();
        let mut store = wasmtime::Store::new(wt, HostState::new(Arc::new(order_summary_schema()), store_limits, None));
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(u64::MAX / 2);
        let projection = pre.instantiate(&mut store).unwrap();
        BareCall { store, projection, deadline_ticks: limits.deadline_ms }
    }

    /// One call of `handle` on `batch`.
    #[inline]
    pub fn call(&mut self, batch: &Batch) {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let failures = self.projection.call_handle(&mut self.store, batch).unwrap();
        assert!(failures.is_empty());
    }
}

fn bare_component(wt: &wasmtime::Engine, path: &Path, cache: Option<&Path>) -> wasmtime::component::Component {
    use sha2::Digest;
    use std::hash::{Hash, Hasher};
    let Some(dir) = cache else {
        return wasmtime::component::Component::from_file(wt, path).unwrap();
    };
    let bytes = std::fs::read(path).unwrap();
    let mut compat = std::hash::DefaultHasher::new();
    wt.precompile_compatibility_hash().hash(&mut compat);
    let file = dir.join(format!("bare-{}-{:016x}.cwasm", hex::encode(sha2::Sha256::digest(&bytes)), compat.finish()));
    if !file.exists() {
        std::fs::create_dir_all(dir).unwrap();
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, wt.precompile_component(&bytes).unwrap()).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    }
    // SAFETY: written just above, or by an earlier run, by an engine with the same
    // compatibility hash.
    unsafe { wasmtime::component::Component::deserialize_file(wt, &file) }.unwrap()
}
