//! weir's benchmark harness: the seeded load generator, the native Rust baseline, the
//! end-to-end runs and the report. `scripts/bench.sh` runs all of it; the subcommands
//! are also usable one by one.

mod child;
mod e2e;
mod events;
mod native;
mod latency;
mod produce;
mod profile;
mod report;
mod scaling;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// A read-model database given as a URL.
pub enum Sink {
    /// `sqlite://PATH`.
    Sqlite(String),
    /// `postgres://...`.
    Postgres(String),
}

impl Sink {
    /// Parses `sqlite://PATH` or `postgres://...`.
    pub fn of(url: &str) -> anyhow::Result<Sink> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Sink::Sqlite(path.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Sink::Postgres(url.to_owned()))
        } else {
            bail!("`{url}` is neither sqlite://PATH nor postgres://...")
        }
    }
}

/// Wall-clock milliseconds since the epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[derive(Parser)]
#[command(name = "weir-bench", about = "weir's benchmark harness (scripts/bench.sh runs it all)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Produce seeded seed-style order events to a topic (created if missing).
    Produce {
        /// Bootstrap servers.
        #[arg(long)]
        brokers: String,
        /// The topic.
        #[arg(long)]
        topic: String,
        /// How many events.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Partitions, if the topic is created.
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// Events per second (default: as fast as the broker takes them).
        #[arg(long)]
        rate: Option<f64>,
        /// Pad payloads to about this many bytes (default: the seed size, ~400 B).
        #[arg(long, default_value_t = 0)]
        payload_bytes: usize,
        /// The load's seed: the same seed gives the same bytes.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// One record per record batch (see `produce::produce_unbatched`: tansu skips the
        /// rest of a batch that a fetch starts inside of).
        #[arg(long)]
        unbatched: bool,
    },
    /// The hand-written Rust consumer (the baseline weir is measured against).
    Native(native::NativeArgs),
    /// End-to-end runs at maximum throughput; writes a JSON results file.
    E2e(E2eArgs),
    /// End-to-end latency at fixed fractions of the measured maximum; writes a JSON results file.
    Latency(latency::LatencyArgs),
    /// Payload size, partitions and processes, pipelines per process, idle memory.
    Scaling(scaling::ScalingArgs),
    /// Groups a `perf report` of a weir run by thread and by part of the data path.
    ProfileSummary(profile::ProfileArgs),
    /// Writes BENCHMARKS.md, its JSON twin and the SVG charts from the results files.
    Report(report::ReportArgs),
}

#[derive(clap::Args)]
struct E2eArgs {
    /// tansu's bootstrap servers.
    #[arg(long)]
    brokers: String,
    /// A PostgreSQL database the harness may reset (it drops order_summaries and weir's tables).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/weir_bench")]
    postgres: String,
    /// Events per backlog.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Repetitions, interleaved.
    #[arg(long, default_value_t = 3)]
    reps: u32,
    /// Source partitions.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Pad payloads to about this many bytes (0: the seed size).
    #[arg(long, default_value_t = 0)]
    payload_bytes: usize,
    /// Consumers to run.
    #[arg(long, value_delimiter = ',', default_value = "weir,native,python,node")]
    consumers: Vec<e2e::Consumer>,
    /// Sinks to run.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres,topic")]
    sinks: Vec<e2e::SinkKind>,
    /// The load's seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also run weir on its embedded broker with this many events (0: not). The embedded
    /// broker keeps about 5 MiB per partition, so keep it small.
    #[arg(long, default_value_t = 0)]
    embedded_events: u64,
    /// The results file to write.
    #[arg(long, default_value = "target/bench-results/e2e.json")]
    out: PathBuf,
}

/// The repository root (the working directory) and the scratch directory under it.
fn dirs() -> anyhow::Result<(PathBuf, PathBuf)> {
    let root = std::env::current_dir()?;
    let work = root.join("target/bench-work");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    Ok((root, work))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let mut progress = |line: &str| eprintln!("[{:>6.1}s] {line}", started.elapsed().as_secs_f64());
    match cli.command {
        Cmd::Produce { brokers, topic, events, partitions, rate, payload_bytes, seed, unbatched } => {
            produce::create_topic(&brokers, &topic, partitions)?;
            let mut load = events::Load::new(seed, payload_bytes);
            let p = if unbatched {
                anyhow::ensure!(rate.is_none(), "--unbatched produces as fast as it can: no --rate");
                produce::produce_unbatched(&brokers, &topic, &mut load, events)?
            } else {
                produce::produce(&brokers, &topic, &mut load, events, rate, &mut |n| progress(&format!("produced {n}")))?
            };
            println!(
                "{}",
                serde_json::json!({"events": p.events, "bytes": p.bytes, "seconds": p.elapsed.as_secs_f64(),
                    "expected": {"orders": p.expected.orders, "shipped": p.expected.shipped, "total_cents": p.expected.total_cents}})
            );
        }
        Cmd::Native(args) => native::run(&args)?,
        Cmd::E2e(a) => {
            let (root, work) = dirs()?;
            let settings = e2e::Settings {
                brokers: a.brokers,
                postgres: a.postgres,
                events: a.events,
                reps: a.reps,
                partitions: a.partitions,
                payload_bytes: a.payload_bytes,
                consumers: a.consumers,
                sinks: a.sinks,
                root,
                work,
                seed: a.seed,
                creates_topics: true,
                batch_wait_ms: e2e::BATCH_WAIT_MS,
                fetch_wait_ms: e2e::FETCH_WAIT_MS,
            };
            let mut runs = e2e::throughput(&settings, &mut progress)?;
            if a.embedded_events > 0 {
                runs.extend(e2e::embedded(&settings, a.embedded_events, &mut progress)?);
            }
            if let Some(dir) = a.out.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&a.out, serde_json::to_string_pretty(&runs)?).with_context(|| format!("writing {}", a.out.display()))?;
            progress(&format!("wrote {}", a.out.display()));
        }
        Cmd::Latency(args) => {
            let (root, work) = dirs()?;
            latency::run(&args, root, work, &mut progress)?
        }
        Cmd::Scaling(args) => {
            let (root, work) = dirs()?;
            scaling::run(&args, root, work, &mut progress)?
        }
        Cmd::ProfileSummary(args) => profile::summarise(&args)?,
        Cmd::Report(args) => report::write(&args)?,
    }
    Ok(())
}
