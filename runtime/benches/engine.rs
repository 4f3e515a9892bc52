//! Engine benchmarks (issue 11, deliverable 2): the batch call through a component against
//! the same logic compiled natively, in one run, for every batch size; the fixed cost of
//! one call; instantiation; loading a cached compiled component against compiling it.
//!
//! Every component call runs with epoch deadlines on, as weir runs plugins. "component"
//! and "native" both start from the raw Kafka payloads: the host's envelope decoding is in
//! both, the packing of the batch in the component side only (the native twin hands each
//! decoded event straight to the handler), as in `benches/handler.rs`.
//!
//! Benchmark IDs: criterion writes each to
//! `target/criterion/<group>/<function>/<parameter>/new/estimates.json` (nanoseconds per
//! iteration; an iteration is one batch, or one call, instantiation or load):
//!
//! | group                  | function              | parameter                     | what one iteration is |
//! | ---------------------- | --------------------- | ----------------------------- | --------------------- |
//! | `engine_noop`          | `component`           | `1` `10` `100` `1000` `10000` | decode + pack + one `Instance::run` of the no-op plugin (`tests/plugins/noop`) |
//! | `engine_noop`          | `native`              | same                          | decode + `noop::handle` per event, natively |
//! | `engine_order_summary` | `component`           | `1` `10` `100` `1000` `10000` | decode + pack + one `Instance::run` of order-summary |
//! | `engine_order_summary` | `native`              | same                          | decode + `order_summary::handle` per event, natively |
//! | `engine_order_summary` | `component_call_only` | `1000`                        | one `Instance::run` on a batch packed beforehand |
//! | `engine_order_summary` | `decode_and_pack`     | `1000`                        | the host's envelope decoding and packing alone |
//! | `engine_call`          | `instance_run`        | `1`                           | `Instance::run` of the no-op plugin on one event packed beforehand: the runtime's fixed cost of a call |
//! | `engine_call`          | `wasmtime_call`       | `0` `1`                       | the bare typed call of the no-op's `handle` (what `Instance` wraps), empty batch / one event: the boundary's floor |
//! | `engine_instantiate`   | `instance_new`        | `noop` `order_summary`        | `Instance::new` from the pre-linked component (what a worker does, and what replaces a trapped instance) |
//! | `engine_load`          | `compile`             | `order_summary`               | `Engine::load` with no cache: Cranelift compiles the component |
//! | `engine_load`          | `cached`              | `order_summary`               | `Engine::load` with a warm cache: the `.cwasm` is mapped, not compiled |
//!
//! The groups with batch sizes set `Throughput::Elements(size)`. After criterion, a custom
//! measurement writes `target/bench-results/engine.json`: instantiation percentiles over
//! 10,000 timed `Instance::new` calls (criterion gives no per-iteration p99), load times
//! with no cache / a cold cache / a warm cache, and the component/native ratios of the
//! medians criterion just measured. It runs unless a filter selects only other groups.
//!
//! Run: `scripts/build-plugins.sh rust && cargo bench -p weir --bench engine`
//! (`-- --quick` for a smoke run: at most half a second per benchmark, about 25 s in all).

use std::path::PathBuf;
use std::sync::Arc;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use serde_json::{Value as Json, json};
use weir::config::PluginLimits;
use weir::plugin::{Batch, BatchBuilder, Engine, Instance, Plugin};

mod common;

use common::{BareCall, NativeBackend, order_summary_rows, order_summary_schema, pack, payloads_n, run_native, target_dir, wasm};

/// Batch sizes of the size groups.
const SIZES: [usize; 5] = [1, 10, 100, 1_000, 10_000];

/// Limits roomy enough for the 10,000-event batch; deadlines stay on.
const LIMITS: PluginLimits = PluginLimits { memory_mib: 256, deadline_ms: 10_000 };

/// Measurement time per benchmark: 3 s; with `--quick` at most 0.5 s (criterion's quick
/// mode stops earlier once its estimate is stable, and skips the warm-up).
fn measurement_time() -> Duration {
    if std::env::args().any(|a| a == "--quick") { Duration::from_millis(500) } else { Duration::from_secs(3) }
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(measurement_time());
}

fn instance(plugin: &Plugin) -> Instance {
    Instance::new(plugin, Arc::new(order_summary_schema()), LIMITS, None).unwrap()
}

/// The no-op plugin against `noop::handle` natively, for every batch size.
fn engine_noop(c: &mut Criterion) {
    let engine = Engine::new(None).unwrap();
    let plugin = engine.load(&wasm("noop")).unwrap();
    let mut instance = instance(&plugin);
    let mut builder = BatchBuilder::new();
    let mut native = NativeBackend::order_summary();
    let mut group = c.benchmark_group("engine_noop");
    configure(&mut group);
    for n in SIZES {
        let payloads = payloads_n(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("component", n), &payloads, |b, payloads| {
            b.iter(|| {
                pack(&mut builder, payloads);
                let outcome = instance.run(builder.batch()).unwrap();
                assert!(outcome.failures.is_empty() && outcome.changes.is_empty());
            })
        });
        group.bench_with_input(BenchmarkId::new("native", n), &payloads, |b, payloads| {
            b.iter(|| run_native(noop::handle, &mut native, payloads))
        });
    }
    group.finish();
}

/// Order-summary through the component against the same code natively, for every batch
/// size; at 1,000 also the call alone and the host's decoding and packing alone.
fn engine_order_summary(c: &mut Criterion) {
    let engine = Engine::new(None).unwrap();
    let plugin = engine.load(&wasm("order_summary")).unwrap();
    let mut instance = instance(&plugin);
    let mut builder = BatchBuilder::new();
    let mut native = NativeBackend::order_summary();
    let mut group = c.benchmark_group("engine_order_summary");
    configure(&mut group);
    for n in SIZES {
        let payloads = payloads_n(n);
        let rows = order_summary_rows(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("component", n), &payloads, |b, payloads| {
            b.iter(|| {
                pack(&mut builder, payloads);
                let outcome = instance.run(builder.batch()).unwrap();
                assert_eq!(outcome.changes.len(), rows);
            })
        });
        group.bench_with_input(BenchmarkId::new("native", n), &payloads, |b, payloads| {
            b.iter(|| {
                run_native(order_summary::handle, &mut native, payloads);
                assert_eq!(native.rows.len(), rows);
            })
        });
        if n == 1_000 {
            pack(&mut builder, &payloads);
            group.bench_function(BenchmarkId::new("component_call_only", n), |b| {
                b.iter(|| {
                    let outcome = instance.run(builder.batch()).unwrap();
                    assert_eq!(outcome.changes.len(), rows);
                })
            });
            group.bench_with_input(BenchmarkId::new("decode_and_pack", n), &payloads, |b, payloads| {
                b.iter(|| {
                    pack(&mut builder, payloads);
                    assert_eq!(builder.len(), n);
                })
            });
        }
    }
    group.finish();
}

/// The fixed cost of one call, through the runtime and bare.
fn engine_call(c: &mut Criterion) {
    let engine = Engine::new(None).unwrap();
    let path = wasm("noop");
    let plugin = engine.load(&path).unwrap();
    let mut instance = instance(&plugin);
    let mut one = BatchBuilder::new();
    pack(&mut one, &payloads_n(1));
    let mut group = c.benchmark_group("engine_call");
    configure(&mut group);
    group.bench_function(BenchmarkId::new("instance_run", 1), |b| {
        b.iter(|| {
            let outcome = instance.run(one.batch()).unwrap();
            assert!(outcome.failures.is_empty());
        })
    });

    // The bare call that `Instance::run` wraps: the typed export of the pre-linked
    // component, with the epoch deadline set per call as the runtime does. (The runtime
    // skips the call for an empty batch, so only the bare call can measure one.)
    let mut bare = BareCall::new(&engine, &path, LIMITS, None);
    let empty = Batch::default();
    for (n, batch) in [(0, &empty), (1, one.batch())] {
        group.bench_function(BenchmarkId::new("wasmtime_call", n), |b| b.iter(|| bare.call(batch)));
    }
    group.finish();
}

/// `Instance::new` from the pre-linked component.
fn engine_instantiate(c: &mut Criterion) {
    let engine = Engine::new(None).unwrap();
    let mut group = c.benchmark_group("engine_instantiate");
    configure(&mut group);
    for name in ["noop", "order_summary"] {
        let plugin = engine.load(&wasm(name)).unwrap();
        group.bench_function(BenchmarkId::new("instance_new", name), |b| {
            // Instances are dropped outside the timed section, a few at a time.
            b.iter_batched(|| (), |()| instance(&plugin), BatchSize::NumIterations(16))
        });
    }
    group.finish();
}

/// `Engine::load` compiling the component, against `Engine::load` from a warm cache.
fn engine_load(c: &mut Criterion) {
    let path = wasm("order_summary");
    let uncached = Engine::new(None).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cached = Engine::new(Some(cache.path().to_owned())).unwrap();
    cached.load(&path).unwrap(); // compiles and fills the cache
    let mut group = c.benchmark_group("engine_load");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(measurement_time());
    group.bench_function(BenchmarkId::new("compile", "order_summary"), |b| b.iter(|| uncached.load(&path).unwrap()));
    group.bench_function(BenchmarkId::new("cached", "order_summary"), |b| b.iter(|| cached.load(&path).unwrap()));
    group.finish();
}

/// The measurements criterion cannot make (percentiles), written as JSON.
fn engine_json(_: &mut Criterion) {
    let Some(mode) = Mode::from_args() else { return };
    let started = std::time::Instant::now();
    let (instantiations, compiles, cold_loads, cached_loads) = match mode {
        Mode::Full => (10_000, 7, 3, 50),
        Mode::Quick => (2_000, 2, 1, 10),
        Mode::Test => (10, 1, 1, 1),
    };
    let engine = Engine::new(None).unwrap();
    let mut instantiate = serde_json::Map::new();
    for name in ["order_summary", "noop"] {
        let plugin = engine.load(&wasm(name)).unwrap();
        for _ in 0..instantiations / 20 {
            drop(instance(&plugin)); // warm-up
        }
        let mut ns = Vec::with_capacity(instantiations);
        for _ in 0..instantiations {
            let t = Instant::now();
            let i = instance(&plugin);
            ns.push(t.elapsed().as_nanos() as f64);
            drop(i);
        }
        instantiate.insert(name.to_owned(), percentiles(ns));
    }

    let path = wasm("order_summary");
    let compile_ms = times_ms(compiles, || {
        engine.load(&path).unwrap();
    });
    let cold_ms = times_ms(cold_loads, || {
        let dir = tempfile::tempdir().unwrap();
        Engine::new(Some(dir.path().to_owned())).unwrap().load(&path).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let cached = Engine::new(Some(dir.path().to_owned())).unwrap();
    cached.load(&path).unwrap();
    let cached_ms = times_ms(cached_loads, || {
        cached.load(&path).unwrap();
    });
    let engine_new_ms = times_ms(cached_loads.min(10), || {
        drop(Engine::new(None).unwrap());
    });

    // component/native again, interleaved: in each round k batches through the component
    // and k natively, back to back (which goes first alternates), so that both sides of a
    // ratio see the same machine; the spread is over rounds.
    let budget = match mode {
        Mode::Full => Duration::from_millis(1500),
        Mode::Quick => Duration::from_millis(300),
        Mode::Test => Duration::ZERO,
    };
    let mut interleaved = serde_json::Map::new();
    for (group, name) in [("engine_noop", "noop"), ("engine_order_summary", "order_summary")] {
        let plugin = engine.load(&wasm(name)).unwrap();
        let mut instance = instance(&plugin);
        let mut builder = BatchBuilder::new();
        let mut backend = NativeBackend::order_summary();
        let mut sizes = serde_json::Map::new();
        for n in SIZES {
            let payloads = payloads_n(n);
            let component = || {
                pack(&mut builder, &payloads);
                black_box(instance.run(builder.batch()).unwrap());
            };
            let native = || {
                if name == "noop" {
                    run_native(noop::handle, &mut backend, &payloads)
                } else {
                    run_native(order_summary::handle, &mut backend, &payloads)
                }
            };
            sizes.insert(n.to_string(), interleave(component, native, n, budget));
        }
        interleaved.insert(group.to_owned(), Json::Object(sizes));
    }

    let out = json!({
        "what": "benches/engine.rs: Instance::new percentiles (ns) of the pre-linked component; Engine::load times (ms) of order_summary.wasm; component/native ratios of criterion's medians from this run, and measured interleaved (median and p10/p90 over rounds)",
        "mode": format!("{mode:?}").to_lowercase(),
        "plugin_bytes": std::fs::metadata(&path).unwrap().len(),
        // The seed plugin's figures at the top, as the report reads them.
        "instantiate_ns": instantiate["order_summary"],
        "instantiate_noop_ns": instantiate["noop"],
        "compile_ms": compile_ms["median"],
        "load_cold_cache_ms": cold_ms["median"],
        "load_cached_ms": cached_ms["median"],
        "engine_new_ms": engine_new_ms["median"],
        "load_ms": {"compile": compile_ms, "cold_cache": cold_ms, "cached": cached_ms, "engine_new": engine_new_ms},
        "ratios_component_over_native": ratios(started_at()),
        "interleaved_component_over_native": interleaved,
    });
    eprintln!("{}", serde_json::to_string_pretty(&out).unwrap());
    if mode != Mode::Test {
        let file = target_dir().join("bench-results/engine.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
        eprintln!("wrote {} in {:.1} s", file.display(), started.elapsed().as_secs_f64());
    }
}

/// How much of the custom measurement to run, from criterion's command line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Full,
    Quick,
    Test,
}

impl Mode {
    /// None when the command line lists benchmarks, or filters for other groups only.
    fn from_args() -> Option<Mode> {
        // criterion's options that take a value.
        const VALUED: [&str; 16] = [
            "-c", "--color", "-s", "--save-baseline", "-b", "--baseline", "--baseline-lenient", "--load-baseline",
            "--sample-size", "--warm-up-time", "--measurement-time", "--nresamples", "--noise-threshold",
            "--confidence-level", "--significance-level", "--profile-time",
        ];
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut filter = None;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a.starts_with('-') {
                if VALUED.contains(&a.as_str()) || a == "--plotting-backend" || a == "--output-format" || a == "--format" {
                    i += 1;
                }
            } else {
                filter = Some(a.clone());
            }
            i += 1;
        }
        let has = |flag: &str| args.iter().any(|a| a == flag);
        if has("--list") || has("--profile-time") || has("--ignored") {
            return None;
        }
        if let Some(f) = filter {
            let ours = ["engine_instantiate", "engine_load", "engine_json"];
            if !ours.iter().any(|o| o.contains(f.as_str()) || f.contains(o)) {
                return None;
            }
        }
        // As criterion: without `--bench` (cargo test --benches), or with `--test`, it tests.
        Some(if has("--test") || !has("--bench") {
            Mode::Test
        } else if has("--quick") {
            Mode::Quick
        } else {
            Mode::Full
        })
    }
}

fn started_at() -> SystemTime {
    static START: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();
    *START.get_or_init(SystemTime::now)
}

/// p50, p90, p99, p99.9, min, max and mean of `values`.
fn percentiles(mut values: Vec<f64>) -> Json {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let at = |p: f64| values[((n as f64 * p) as usize).min(n - 1)];
    let mean = values.iter().sum::<f64>() / n as f64;
    json!({"n": n, "p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "p999": at(0.999),
           "min": values[0], "max": values[n - 1], "mean": mean.round()})
}

/// `times` runs of `f`, in milliseconds: median, min, max.
fn times_ms(times: usize, mut f: impl FnMut()) -> Json {
    let mut ms: Vec<f64> = (0..times)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    json!({"n": times, "median": round(ms[times / 2]), "min": round(ms[0]), "max": round(ms[times - 1])})
}

/// Rounds of `k` runs of `component` and `k` of `native` (order alternating) within
/// `budget`: the median and spread of the per-round ratio, and each side's median time per
/// event (`n` events per run).
fn interleave(mut component: impl FnMut(), mut native: impl FnMut(), n: usize, budget: Duration) -> Json {
    fn timed(f: &mut impl FnMut(), k: u32) -> f64 {
        let t = Instant::now();
        for _ in 0..k {
            f();
        }
        t.elapsed().as_nanos() as f64
    }
    // Warm up; then k such that a round takes about 10 ms, and at least 20 rounds.
    let one = timed(&mut component, 3) / 3.0 + timed(&mut native, 3) / 3.0;
    let k = ((10e6 / one) as u32).max(1);
    let rounds = ((budget.as_nanos() as f64 / (one * k as f64)) as usize).max(if budget.is_zero() { 1 } else { 20 });
    let (mut ratios, mut c_ns, mut n_ns) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (c, m) = if round % 2 == 0 {
            let c = timed(&mut component, k);
            (c, timed(&mut native, k))
        } else {
            let m = timed(&mut native, k);
            (timed(&mut component, k), m)
        };
        ratios.push(c / m);
        c_ns.push(c / (k as usize * n) as f64);
        n_ns.push(m / (k as usize * n) as f64);
    }
    let median = |mut v: Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
    };
    let r3 = |v: f64| (v * 1000.0).round() / 1000.0;
    let r1 = |v: f64| (v * 10.0).round() / 10.0;
    json!({"ratio": r3(median(ratios.clone(), 0.5)), "ratio_p10": r3(median(ratios.clone(), 0.1)),
           "ratio_p90": r3(median(ratios, 0.9)), "component_ns_per_event": r1(median(c_ns, 0.5)),
           "native_ns_per_event": r1(median(n_ns, 0.5)), "rounds": rounds, "batches_per_side_per_round": k})
}

/// component/native of criterion's median estimates per group and size, for the
/// estimates this run wrote (written after `since`).
fn ratios(since: SystemTime) -> Json {
    let root = target_dir().join("criterion");
    let median = |group: &str, function: &str, n: usize| -> Option<f64> {
        let file: PathBuf = root.join(group).join(function).join(n.to_string()).join("new/estimates.json");
        if std::fs::metadata(&file).ok()?.modified().ok()? < since {
            return None;
        }
        let estimates: Json = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
        estimates["median"]["point_estimate"].as_f64()
    };
    let mut out = serde_json::Map::new();
    for group in ["engine_noop", "engine_order_summary"] {
        let mut sizes = serde_json::Map::new();
        for n in SIZES {
            if let (Some(component), Some(native)) = (median(group, "component", n), median(group, "native", n)) {
                sizes.insert(
                    n.to_string(),
                    json!({"component_ns_per_event": component / n as f64, "native_ns_per_event": native / n as f64,
                           "ratio": (component / native * 1000.0).round() / 1000.0}),
                );
            }
        }
        if !sizes.is_empty() {
            out.insert(group.to_owned(), Json::Object(sizes));
        }
    }
    Json::Object(out)
}

/// Records the start time before the first benchmark, for [`ratios`].
fn start(_: &mut Criterion) {
    started_at();
}

criterion_group!(benches, start, engine_noop, engine_order_summary, engine_call, engine_instantiate, engine_load, engine_json);
criterion_main!(benches);
