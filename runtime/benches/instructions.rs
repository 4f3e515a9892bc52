//! The deterministic workload of the instruction-count regression guard (issue 11,
//! deliverable 7): `scripts/bench-instructions.sh` runs each case under
//! `valgrind --tool=callgrind`, counting only inside `weir_bench_measured`, with two
//! iteration counts, and takes the difference per iteration, so start-up, loading and the
//! first iterations cancel out.
//!
//! ```text
//! instructions <case> [--iterations N] [--cache-dir DIR]    N iterations of one case (default 10)
//! instructions --list                                        the cases, one a line
//! ```
//!
//! Cases (one iteration each):
//! - `noop_call_1`: `Instance::run` of the no-op plugin on one event packed beforehand
//!   (the fixed cost of a call; criterion's `engine_call/instance_run/1`);
//! - `noop_wasmtime_call_0`: the bare typed call of the no-op's `handle` that
//!   `Instance::run` wraps, on an empty batch (the boundary's floor;
//!   `engine_call/wasmtime_call/0`);
//! - `order_summary_component_1000`: decode + pack + `Instance::run` of 1,000 seed events
//!   through order-summary (`engine_order_summary/component/1000`);
//! - `order_summary_call_only_1000`: the same call on a batch packed beforehand
//!   (`engine_order_summary/component_call_only/1000`);
//! - `order_summary_native_1000`: the same logic natively (`engine_order_summary/native/1000`);
//! - `instantiate_order_summary`: `Instance::new` of order-summary, and its drop.
//!
//! Components come through the compile cache (`--cache-dir`, else weir's default), so that
//! Cranelift runs under valgrind only the first time. Run without a case (as
//! `cargo bench` does), it prints this usage and exits 0.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use weir::config::PluginLimits;
use weir::plugin::{Batch, BatchBuilder, Engine, Instance, Plugin};

mod common;

use common::{BareCall, NativeBackend, order_summary_rows, order_summary_schema, pack, payloads_n, run_native, wasm};

const CASES: [&str; 6] = [
    "noop_call_1",
    "noop_wasmtime_call_0",
    "order_summary_component_1000",
    "order_summary_call_only_1000",
    "order_summary_native_1000",
    "instantiate_order_summary",
];

const LIMITS: PluginLimits = PluginLimits { memory_mib: 64, deadline_ms: 1000 };

/// What callgrind counts: everything from entering this function to leaving it.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn weir_bench_measured(work: &mut dyn FnMut(), iterations: u64) {
    for _ in 0..iterations {
        work();
    }
}

fn instance(plugin: &Plugin) -> Instance {
    Instance::new(plugin, Arc::new(order_summary_schema()), LIMITS, None).unwrap()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut case = None;
    let mut iterations = 10u64;
    let mut cache_dir = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--iterations" => iterations = args.next().and_then(|n| n.parse().ok()).expect("--iterations N"),
            "--cache-dir" => cache_dir = Some(PathBuf::from(args.next().expect("--cache-dir DIR"))),
            "--list" => {
                CASES.iter().for_each(|c| println!("{c}"));
                return;
            }
            "--bench" => {}
            other if other.starts_with('-') => panic!("unknown option {other}"),
            other => case = Some(other.to_owned()),
        }
    }
    let Some(case) = case else {
        eprintln!(
            "instructions: the workload of scripts/bench-instructions.sh (run that); \
             usage: instructions <case> [--iterations N] [--cache-dir DIR] | --list"
        );
        return;
    };

    let cache_dir = cache_dir.or_else(Engine::default_cache_dir);
    let engine = Engine::new(cache_dir.clone()).unwrap();
    let mut builder = BatchBuilder::new();
    let mut work: Box<dyn FnMut()> = match case.as_str() {
        "noop_call_1" => {
            let mut instance = instance(&engine.load(&wasm("noop")).unwrap());
            pack(&mut builder, &payloads_n(1));
            Box::new(move || {
                let outcome = instance.run(builder.batch()).unwrap();
                assert!(outcome.failures.is_empty());
                black_box(outcome);
            })
        }
        "noop_wasmtime_call_0" => {
            let mut bare = BareCall::new(&engine, &wasm("noop"), LIMITS, cache_dir.as_deref());
            let empty = Batch::default();
            Box::new(move || bare.call(&empty))
        }
        "order_summary_component_1000" => {
            let mut instance = instance(&engine.load(&wasm("order_summary")).unwrap());
            let payloads = payloads_n(1000);
            Box::new(move || {
                pack(&mut builder, &payloads);
                let outcome = instance.run(builder.batch()).unwrap();
                assert_eq!(outcome.changes.len(), order_summary_rows(1000));
                black_box(outcome);
            })
        }
        "order_summary_call_only_1000" => {
            let mut instance = instance(&engine.load(&wasm("order_summary")).unwrap());
            pack(&mut builder, &payloads_n(1000));
            Box::new(move || {
                let outcome = instance.run(builder.batch()).unwrap();
                assert_eq!(outcome.changes.len(), order_summary_rows(1000));
                black_box(outcome);
            })
        }
        "order_summary_native_1000" => {
            let mut native = NativeBackend::order_summary();
            let payloads = payloads_n(1000);
            Box::new(move || {
                run_native(order_summary::handle, &mut native, &payloads);
                assert_eq!(native.rows.len(), order_summary_rows(1000));
            })
        }
        "instantiate_order_summary" => {
            let plugin = engine.load(&wasm("order_summary")).unwrap();
            Box::new(move || drop(black_box(instance(&plugin))))
        }
        other => {
            eprintln!("unknown case {other}; the cases: {}", CASES.join(", "));
            std::process::exit(2);
        }
    };
    // One iteration outside the count: first-call effects (memory growth, lazy set-up).
    work();
    weir_bench_measured(&mut *work, iterations);
}
