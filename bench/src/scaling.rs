//! How weir's cost grows with the work: payload size, partitions and processes in one
//! consumer group, pipelines loaded in one process, and idle memory with the seed
//! pipelines loaded. weir only; every read model is checked.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

use crate::e2e::{self, Consumer, Report, Settings, SinkKind};
use crate::events::Load;
use crate::{child, produce};

/// Options of `weir-bench scaling`.
#[derive(Debug, clap::Args)]
pub struct ScalingArgs {
    /// tansu's bootstrap servers.
    #[arg(long)]
    pub brokers: String,
    /// A PostgreSQL database the harness may reset.
    #[arg(long)]
    pub postgres: String,
    /// Small loads (a smoke test).
    #[arg(long)]
    pub quick: bool,
    /// The results file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the scaling sections and writes them as tables.
pub fn run(args: &ScalingArgs, root: PathBuf, work: PathBuf, progress: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    let base = Settings {
        brokers: args.brokers.clone(),
        postgres: args.postgres.clone(),
        events: if args.quick { 5_000 } else { 200_000 },
        reps: 1,
        partitions: 3,
        payload_bytes: 0,
        consumers: vec![Consumer::Weir],
        sinks: vec![SinkKind::Sqlite],
        root,
        work,
        seed: 42,
        creates_topics: true,
        batch_wait_ms: e2e::BATCH_WAIT_MS,
        fetch_wait_ms: e2e::FETCH_WAIT_MS,
    };
    let mut sections = Vec::new();

    // Payload size: the same number of bytes per run, so big events are not a long run.
    let budget: u64 = if args.quick { 4 << 20 } else { 256 << 20 };
    let mut rows = Vec::new();
    for size in [0usize, 1024, 4096, 16_384, 65_536] {
        let events = (budget / size.max(420) as u64).min(base.events);
        let s = Settings { events, payload_bytes: size, ..base.clone() };
        progress(&format!("payload {} B: {events} events", if size == 0 { "seed".into() } else { size.to_string() }));
        let run = e2e::throughput(&s, &mut |_| {})?.remove(0);
        progress(&format!("  {:.0} events/s, {:.1} MB/s", run.events_per_sec, run.events_per_sec * run.payload_bytes as f64 / 1e6));
        rows.push(json!([run.payload_bytes, run.events, format!("{:.0}", run.events_per_sec), format!("{:.1}", run.events_per_sec * run.payload_bytes as f64 / 1e6), format!("{:.0}", run.peak_rss_mib)]));
    }
    sections.push(json!({
        "title": "Payload size (weir into SQLite, 3 partitions)",
        "note": "OrderPlaced events are padded with a field the projection does not read; OrderShipped events keep their seed size, so the mean is a little below the target size.",
        "columns": ["mean payload (B)", "events", "events/s", "MB/s", "peak RSS (MiB)"],
        "rows": rows,
    }));

    // Partitions and processes in one consumer group, into PostgreSQL (SQLite is one file
    // with one writer at a time; two processes would only queue on its lock).
    let mut rows = Vec::new();
    for (partitions, processes) in [(1, 1), (3, 1), (3, 2)] {
        let s = Settings { partitions, ..base.clone() };
        progress(&format!("{partitions} partition(s), {processes} process(es), PostgreSQL"));
        // A failure here is a finding, not the end of the report: it is shown in the table.
        match group_run(&s, processes) {
            Ok((report, rss)) => {
                progress(&format!("  {:.0} events/s", report.rate()));
                rows.push(json!([partitions, processes, format!("{:.0}", report.rate()), format!("{rss:.0}")]));
            }
            Err(e) => {
                progress(&format!("  FAILED: {e:#}"));
                rows.push(json!([partitions, processes, format!("failed: {e:#}"), ""]));
            }
        }
    }
    sections.push(json!({
        "title": "Partitions and processes in one consumer group (weir into PostgreSQL)",
        "note": "Both processes on this 2-core machine, one consumer group, committed offsets in PostgreSQL; the rate counts from the first fetch of either process to the last commit of either. The topics hold one record per record batch, and so the rates are far below the other sections': tansu 0.6.0 answers a fetch that starts inside a record batch with the batches after it, so a partition taken over mid-stream (the second process joining) would lose the rest of that batch with any client; with one record per batch no fetch starts inside one. One record per batch also costs memory: librdkafka's prefetch queue holds up to 100,000 such records per partition, hence the peak RSS. The same hand-over with ordinary batches loses 100 to 400 records on tansu, and none on librdkafka's mock cluster (runtime/tests/crash.rs, rebalances_and_cut_database_connections_lose_and_double_nothing).",
        "columns": ["partitions", "processes", "events/s (all processes)", "peak RSS per process (MiB)"],
        "rows": rows,
    }));

    // Pipelines in one process: each its own consumer group over the same topic and its
    // own SQLite file, so k pipelines do k times the work of one topic of events/k.
    let mut rows = Vec::new();
    for k in [1usize, 10, 100] {
        let per = (base.events / k as u64).max(100);
        progress(&format!("{k} pipeline(s) in one process, {per} events each"));
        let (report, rss) = pipelines_run(&base, k, per)?;
        progress(&format!("  {:.0} events/s in all, {rss:.0} MiB peak", report.rate()));
        rows.push(json!([k, per * k as u64, format!("{:.0}", report.rate()), format!("{rss:.0}"), format!("{:.2}", rss / k as f64)]));
    }
    sections.push(json!({
        "title": "Pipelines loaded in one process (weir into SQLite)",
        "note": "Each pipeline has its own consumer group, Kafka clients and SQLite file, and reads the same topic.",
        "columns": ["pipelines", "events in all", "events/s in all", "peak RSS (MiB)", "MiB per pipeline"],
        "rows": rows,
    }));

    progress("idle memory with the seed pipelines loaded");
    let (idle, anonymous) = idle_rss(&base)?;
    progress(&format!("  {idle:.1} MiB resident, of which {anonymous:.1} MiB anonymous (heap, stacks, linear memories)"));
    let result = json!({"sections": sections, "idle_rss_mib": idle, "idle_anon_mib": anonymous});
    std::fs::write(&args.out, serde_json::to_string_pretty(&result)?)?;
    progress(&format!("wrote {}", args.out.display()));
    Ok(())
}

/// A new topic holding `events` events of the load; `unbatched`: one record per record
/// batch (see [`produce::produce_unbatched`]).
fn fresh_topic(s: &Settings, what: &str, events: u64, unbatched: bool) -> anyhow::Result<(String, crate::events::Expected)> {
    let topic = format!("bench-{what}-{}-{}", std::process::id(), crate::unix_ms() % 100_000_000);
    produce::create_topic(&s.brokers, &topic, s.partitions)?;
    let mut load = Load::new(s.seed, s.payload_bytes);
    let produced = if unbatched {
        produce::produce_unbatched(&s.brokers, &topic, &mut load, events)?
    } else {
        produce::produce(&s.brokers, &topic, &mut load, events, None, &mut |_| {})?
    };
    Ok((topic, produced.expected))
}

fn weir(s: &Settings, files: &[PathBuf]) -> Command {
    let mut c = e2e::weir_run(s);
    c.args(files);
    c
}

/// `processes` weir processes sharing one consumer group, into PostgreSQL.
fn group_run(s: &Settings, processes: usize) -> anyhow::Result<(Report, f64)> {
    // Unbatched: the second process takes partitions over mid-stream, and tansu would
    // skip the rest of the record batch it resumes in.
    let (topic, expected) = fresh_topic(s, "group", s.events, true)?;
    e2e::reset_postgres(&s.postgres)?;
    let group = format!("{topic}-weir");
    let file = e2e::weir_pipeline(s, "bench", SinkKind::Postgres, &topic, &group, &s.postgres)?;
    // Generous for 200,000 events, short enough that a stuck process is reported soon.
    let children: Vec<_> = (0..processes)
        .map(|_| {
            let c = weir(s, std::slice::from_ref(&file));
            std::thread::spawn(move || child::run(c, Duration::from_secs(120)))
        })
        .collect();
    let mut total: Option<Report> = None;
    let mut rss: f64 = 0.0;
    for (i, c) in children.into_iter().enumerate() {
        let finished = c.join().map_err(|_| anyhow::anyhow!("a weir thread panicked"))??;
        let _ = std::fs::write(s.work.join(format!("{group}-{i}.log")), &finished.stderr);
        let r = e2e::weir_report(&finished.stderr)?;
        rss = rss.max(finished.peak_rss as f64 / (1 << 20) as f64);
        total = Some(total.map_or(r, |t| t.merge(&r)));
    }
    let total = total.context("no process ran")?;
    // The read model first: it says whether anything was lost; the count only how much
    // the processes' reports add up to.
    e2e::verify(&s.postgres, expected).with_context(|| format!("the processes reported {} of {} records", total.events, s.events))?;
    if total.events < s.events {
        bail!("the processes reported {} of {} records, though the read model is right", total.events, s.events);
    }
    Ok((total, rss))
}

/// `k` pipelines in one process over one topic of `per` events.
fn pipelines_run(s: &Settings, k: usize, per: u64) -> anyhow::Result<(Report, f64)> {
    let (topic, expected) = fresh_topic(s, "pipes", per, false)?;
    let mut files = Vec::new();
    let mut databases = Vec::new();
    for i in 0..k {
        let group = format!("{topic}-p{i}");
        let db = format!("sqlite://{}", s.work.join(format!("{group}.db")).display());
        files.push(e2e::weir_pipeline(s, &format!("bench-{i}"), SinkKind::Sqlite, &topic, &group, &db)?);
        databases.push(db);
    }
    let finished = child::run(weir(s, &files), Duration::from_secs(900))?;
    let report = e2e::weir_report(&finished.stderr)?;
    if report.events < per * k as u64 {
        bail!("the pipelines consumed {} of {} events", report.events, per * k as u64);
    }
    for db in &databases {
        e2e::verify(db, expected)?;
    }
    Ok((report, finished.peak_rss as f64 / (1 << 20) as f64))
}

/// The resident memory of a weir process with the Rust seed pipelines loaded, after it
/// has joined its groups and sat idle for eight seconds: (all resident, anonymous only)
/// in MiB. The plugins are compiled into the cache first, as in production after the
/// first start (compiling holds memory that an idle process would not).
fn idle_rss(s: &Settings) -> anyhow::Result<(f64, f64)> {
    let pipelines = ["order-summary", "bank-account", "event-store", "order-notifications"];
    let files: Vec<PathBuf> = pipelines.iter().map(|p| s.root.join(format!("pipelines/{p}.toml"))).collect();
    let checked = Command::new(s.root.join("target/release/weir")).arg("check").args(&files).output().context("running weir check")?;
    if !checked.status.success() {
        bail!("weir check failed: {}", String::from_utf8_lossy(&checked.stderr));
    }
    let db = s.work.join("idle.db");
    let start = || {
        Command::new(s.root.join("target/release/weir"))
            .args(["run", "--metrics-addr", "off", "--brokers", &s.brokers])
            .arg("--database")
            .arg(format!("sqlite://{}", db.display()))
            .args(&files)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting weir")
    };
    // A first start compiles the components into weir's cache (on a machine that never
    // ran them); the memory compiling takes is not what an idle process holds.
    let mut first = start()?;
    std::thread::sleep(Duration::from_secs(8));
    let _ = first.kill();
    let _ = first.wait();
    let mut child = start()?;
    std::thread::sleep(Duration::from_secs(8));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).context("reading weir's /proc status")?;
    let _ = child.kill();
    let _ = child.wait();
    let kib = |field: &str| -> anyhow::Result<f64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {field} in /proc status"))
    };
    Ok((kib("VmRSS:")? / 1024.0, kib("RssAnon:")? / 1024.0))
}
