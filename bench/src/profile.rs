//! Where weir's time goes end to end: `perf report` samples of a weir run (the harness
//! records it with `perf record -e cpu-clock -g`) grouped by thread and by part of the data
//! path: broker client, envelope decode, boundary, guest, sink, allocator, kernel.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

/// Options of `weir-bench profile-summary`.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// The output of `perf report --stdio --no-children -g none --sort comm,dso,sym`.
    #[arg(long)]
    pub report: PathBuf,
    /// The JSON summary to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// The part of the data path a sampled symbol belongs to.
fn category(dso: &str, symbol: &str) -> &'static str {
    let s = symbol;
    if dso.ends_with(".cwasm") || s.contains("wasm[") {
        "guest (the plugin's Wasm code)"
    } else if s.starts_with("[k]") || dso.contains("kernel") {
        "kernel (network, files, scheduling)"
    } else if s.contains("rd_kafka") || s.contains("rd_") || s.contains("rdkafka") || dso.contains("rdkafka") {
        "broker client (librdkafka)"
    } else if s.contains("sqlite3") || s.contains("rusqlite") || s.contains("postgres") || s.contains("weir::sink::sql") {
        "sink (SQLite / PostgreSQL)"
    } else if s.contains("wasmtime") || s.contains("cranelift") || s.contains("weir::plugin") {
        "boundary (wasmtime, host imports, overlay)"
    } else if s.contains("serde") || s.contains("weir::source::envelope") || s.contains("from_utf8") {
        "envelope decode (host JSON)"
    } else if s.contains("malloc") || s.contains("free") || s.contains("memmove") || s.contains("memcpy") || s.contains("_int_") || s.contains("realloc") || s.contains("calloc") {
        "allocator and copies (libc)"
    } else {
        "other (locks, clocks, weir's loop)"
    }
}

/// Reads the report and writes the summary.
pub fn summarise(args: &ProfileArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.report).with_context(|| format!("reading {}", args.report.display()))?;
    let mut by_thread: BTreeMap<String, BTreeMap<&'static str, f64>> = BTreeMap::new();
    let mut top: Vec<(f64, String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((percent, rest)) = line.split_once('%') else { continue };
        let Ok(percent) = percent.trim().parse::<f64>() else { continue };
        let mut fields = rest.split_whitespace();
        let (Some(comm), Some(dso)) = (fields.next(), fields.next()) else { continue };
        let symbol: String = fields.collect::<Vec<_>>().join(" ");
        // Threads named after their pipeline: `pipeline-NAME` and `writer-NAME`.
        let thread = if comm.starts_with("pipeline-") {
            "pipeline thread (decode, plugin, routing)".to_owned()
        } else if comm.starts_with("writer-") {
            "writer thread (database)".to_owned()
        } else if comm.starts_with("rdk:") {
            "librdkafka threads".to_owned()
        } else {
            "other threads".to_owned()
        };
        *by_thread.entry(thread.clone()).or_default().entry(category(dso, &symbol)).or_default() += percent;
        top.push((percent, thread, symbol));
    }
    top.sort_by(|a, b| b.0.total_cmp(&a.0));
    top.truncate(15);
    let threads: Vec<_> = by_thread
        .iter()
        .map(|(t, cats)| {
            let mut cats: Vec<_> = cats.iter().map(|(c, p)| json!({"part": c, "percent": p})).collect();
            cats.sort_by(|a, b| b["percent"].as_f64().unwrap_or(0.0).total_cmp(&a["percent"].as_f64().unwrap_or(0.0)));
            json!({"thread": t, "percent": cats.iter().map(|c| c["percent"].as_f64().unwrap_or(0.0)).sum::<f64>(), "parts": cats})
        })
        .collect();
    let summary = json!({
        "threads": threads,
        "top_symbols": top.iter().map(|(p, t, s)| json!({"percent": p, "thread": t, "symbol": s})).collect::<Vec<_>>(),
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&summary)?)?;
    Ok(())
}
