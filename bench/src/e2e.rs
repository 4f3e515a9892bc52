//! The end-to-end runs at maximum throughput: for each sink, a fresh topic with a fixed
//! backlog of seeded events, then each consumer (weir and the hand-written baselines)
//! drains it into a fresh read model. Timed from the consumer's first fetch to its last
//! commit (each reports both), repeated and interleaved, every read model checked.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::events::{Expected, Load};
use crate::{Sink, child, produce};

/// A consumer under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Consumer {
    /// weir with the order-summary Rust component.
    Weir,
    /// The hand-written Rust consumer (`weir-bench native`).
    Native,
    /// The hand-written Python consumer (confluent-kafka).
    Python,
    /// The hand-written Node consumer (kafkajs, `eachBatch`).
    Node,
}

/// Where the events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// A SQLite read model (WAL, one transaction per batch).
    Sqlite,
    /// A PostgreSQL read model (set-based upsert per batch).
    Postgres,
    /// An output topic (weir only: the order-notifications transform).
    Topic,
}

/// One measured run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// `tansu` or `embedded`.
    pub broker: String,
    /// The sink.
    pub sink: SinkKind,
    /// The consumer.
    pub consumer: Consumer,
    /// Repetition number, from 1.
    pub rep: u32,
    /// Events in the backlog.
    pub events: u64,
    /// Mean payload size, bytes.
    pub payload_bytes: u64,
    /// Partitions of the source topic.
    pub partitions: i32,
    /// First fetch to last commit, seconds.
    pub seconds: f64,
    /// Events per second over that time.
    pub events_per_sec: f64,
    /// CPU time of the consumer process over its whole life, seconds.
    pub cpu_seconds: f64,
    /// Wall time of the consumer process (start-up and exit included), seconds.
    pub wall_seconds: f64,
    /// Peak resident memory, MiB.
    pub peak_rss_mib: f64,
    /// Whether the read model (or output topic) was checked correct. A run that is not
    /// correct fails the harness, so this is always true in a results file.
    pub verified: bool,
}

/// The settings of a set of runs.
#[derive(Clone)]
pub struct Settings {
    /// The broker's bootstrap servers (tansu).
    pub brokers: String,
    /// A PostgreSQL server URL whose database the harness may reset.
    pub postgres: String,
    /// Events per backlog.
    pub events: u64,
    /// Repetitions of each run.
    pub reps: u32,
    /// Source partitions.
    pub partitions: i32,
    /// Pad payloads to this size (0: seed size).
    pub payload_bytes: usize,
    /// Consumers to run.
    pub consumers: Vec<Consumer>,
    /// Sinks to run.
    pub sinks: Vec<SinkKind>,
    /// The repository root.
    pub root: PathBuf,
    /// Scratch space for databases and pipeline files.
    pub work: PathBuf,
    /// Seed of the load.
    pub seed: u64,
    /// Whether the broker takes CreateTopics requests (tansu). librdkafka's mock cluster
    /// does not: whoever hosts it creates the topics a run needs beforehand.
    pub creates_topics: bool,
    /// A batch closes this long after its first record (or at 1,000 records), for weir
    /// and the native baseline alike.
    pub batch_wait_ms: u64,
    /// librdkafka's `fetch.wait.max.ms`, for weir and the native baseline alike.
    pub fetch_wait_ms: u64,
}

/// The throughput runs' batch window (ms), for weir's `batch.max_wait_ms` and the native
/// consumer alike.
pub const BATCH_WAIT_MS: u64 = 20;
/// The throughput runs' `fetch.wait.max.ms`: tansu holds every fetch for all of it.
pub const FETCH_WAIT_MS: u64 = 10;

/// A unique-enough name for this run's topics and groups.
fn run_id() -> String {
    format!("{}-{}", std::process::id(), crate::unix_ms() % 100_000_000)
}

/// Runs every (sink, rep, consumer) at maximum throughput on the broker, interleaved:
/// rep 1 of every consumer, then rep 2, so that drift on a shared machine hits all alike.
pub fn throughput(s: &Settings, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    let id = run_id();
    for &sink in &s.sinks {
        let consumers: Vec<Consumer> = s.consumers.iter().copied().filter(|c| sink != SinkKind::Topic || *c == Consumer::Weir).collect();
        if consumers.is_empty() {
            continue;
        }
        for rep in 1..=s.reps {
            // One backlog per (sink, rep), read by every consumer with its own group.
            let topic = format!("bench-{id}-{sink:?}-{rep}").to_lowercase();
            produce::create_topic(&s.brokers, &topic, s.partitions)?;
            let mut load = Load::new(s.seed, s.payload_bytes);
            progress(&format!("producing {} events to {topic}", s.events));
            let produced = produce::produce(&s.brokers, &topic, &mut load, s.events, None, &mut |n| progress(&format!("  produced {n}")))?;
            progress(&format!(
                "  produced {} events ({} MB) in {:.1} s",
                produced.events,
                produced.bytes / 1_000_000,
                produced.elapsed.as_secs_f64()
            ));
            for &consumer in &consumers {
                progress(&format!("{consumer:?} → {sink:?}, rep {rep}/{}", s.reps));
                let group = format!("{topic}-{consumer:?}").to_lowercase();
                let run = one(s, sink, consumer, &topic, &group, Some(produced.expected), produced.bytes / produced.events.max(1))
                    .with_context(|| format!("{consumer:?} into {sink:?}, rep {rep}"))?;
                progress(&format!(
                    "  {:.0} events/s ({:.2} s, {:.2} CPU s, {:.0} MiB peak)",
                    run.events_per_sec, run.seconds, run.cpu_seconds, run.peak_rss_mib
                ));
                runs.push(Run { rep, ..run });
            }
        }
    }
    Ok(runs)
}

/// weir alone on its embedded broker (librdkafka's mock cluster, in the weir process)
/// into SQLite: `weir run --input` streams a file of the seeded events into it while the
/// pipeline consumes. The mock cluster keeps only about 5 MiB per partition, so the load
/// is small (see README); the producer runs in the same process, on the other core.
pub fn embedded(s: &Settings, events: u64, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    let input = s.work.join("embedded-input.jsonl");
    let mut load = Load::new(s.seed, 0);
    let mut text = Vec::new();
    let mut bytes = 0u64;
    for _ in 0..events {
        let r = load.next_record();
        bytes += r.payload.len() as u64;
        text.extend_from_slice(&r.payload);
        text.push(b'\n');
    }
    std::fs::write(&input, text)?;
    let embedded = Settings { brokers: String::new(), ..s.clone() };
    for rep in 1..=s.reps {
        let group = format!("embedded-{}-{rep}", crate::unix_ms() % 100_000_000);
        let path = s.work.join(format!("{group}.db"));
        let database = format!("sqlite://{}", path.display());
        let pipeline = weir_pipeline(&embedded, "bench", SinkKind::Sqlite, "order-events", &group, &database)?;
        progress(&format!("Weir → Sqlite on the embedded broker, rep {rep}/{}", s.reps));
        let mut c = weir_run(s);
        c.arg("--input").arg(format!("order-events={}", input.display())).arg(&pipeline);
        let finished = child::run(c, Duration::from_secs(600))?;
        let _ = std::fs::write(s.work.join(format!("{group}.log")), &finished.stderr);
        let report = weir_report(&finished.stderr)?;
        verify(&database, load.expected()).context("the embedded broker's run")?;
        let seconds = report.last_commit_unix_ms.saturating_sub(report.first_fetch_unix_ms) as f64 / 1000.0;
        let run = Run {
            broker: "embedded".into(),
            sink: SinkKind::Sqlite,
            consumer: Consumer::Weir,
            rep,
            events,
            payload_bytes: bytes / events.max(1),
            partitions: 0,
            seconds,
            events_per_sec: events as f64 / seconds.max(0.001),
            cpu_seconds: finished.cpu.as_secs_f64(),
            wall_seconds: finished.wall.as_secs_f64(),
            peak_rss_mib: finished.peak_rss as f64 / (1024.0 * 1024.0),
            verified: true,
        };
        progress(&format!("  {:.0} events/s ({:.2} s)", run.events_per_sec, run.seconds));
        runs.push(run);
    }
    Ok(runs)
}

/// The consumer's own report: events and its first-fetch and last-commit times.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Report {
    /// Events (records) it consumed.
    pub events: u64,
    /// When its first records arrived.
    pub first_fetch_unix_ms: u64,
    /// When its last commit returned.
    pub last_commit_unix_ms: u64,
}

impl Report {
    /// Two consumers' reports as one: all events, from the first fetch to the last commit.
    pub fn merge(&self, other: &Report) -> Report {
        // A consumer that got no records (no partitions) has no times.
        if other.events == 0 {
            return *self;
        }
        if self.events == 0 {
            return *other;
        }
        Report {
            events: self.events + other.events,
            first_fetch_unix_ms: self.first_fetch_unix_ms.min(other.first_fetch_unix_ms),
            last_commit_unix_ms: self.last_commit_unix_ms.max(other.last_commit_unix_ms),
        }
    }

    /// Events per second from the first fetch to the last commit.
    pub fn rate(&self) -> f64 {
        self.events as f64 * 1000.0 / (self.last_commit_unix_ms.saturating_sub(self.first_fetch_unix_ms)).max(1) as f64
    }
}

/// Runs one consumer on `topic` to the end of `s.events` events. `expected`: check the
/// read model against it (`None`: the caller checks).
pub fn one(s: &Settings, sink: SinkKind, consumer: Consumer, topic: &str, group: &str, expected: Option<Expected>, payload_bytes: u64) -> anyhow::Result<Run> {
    let database = match sink {
        SinkKind::Sqlite => {
            let path = s.work.join(format!("{group}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        }
        SinkKind::Postgres => {
            reset_postgres(&s.postgres)?;
            s.postgres.clone()
        }
        SinkKind::Topic => String::new(),
    };
    // The transform's output topic, emptied before each run: the plugin names it, and
    // runs of one seed emit the same event ids.
    let out_topic = "order-notifications";
    if sink == SinkKind::Topic {
        produce::recreate_topic(&s.brokers, out_topic, s.partitions)?;
    }
    let timeout = Duration::from_secs(600);
    let finished = match consumer {
        Consumer::Weir => {
            let pipeline = weir_pipeline(s, "bench", sink, topic, group, &database)?;
            let mut c = weir_run(s);
            c.arg(&pipeline);
            child::run(c, timeout)?
        }
        Consumer::Native => {
            let mut c = Command::new(std::env::current_exe()?);
            c.args(["native", "--brokers", &s.brokers, "--topic", topic, "--group", group, "--database", &database, "--expect"]).arg(s.events.to_string());
            c.arg("--batch-wait-ms").arg(s.batch_wait_ms.to_string()).arg("--fetch-wait-ms").arg(s.fetch_wait_ms.to_string());
            child::run(c, timeout)?
        }
        Consumer::Python | Consumer::Node => {
            let mut c = if consumer == Consumer::Python {
                let mut c = Command::new(s.root.join("target/toolchains/bench-python/bin/python"));
                c.arg(s.root.join("bench/baselines/python/consumer.py"));
                c
            } else {
                let mut c = Command::new("node");
                c.arg(s.root.join("bench/baselines/node/consumer.js"));
                c
            };
            c.args(["--brokers", &s.brokers, "--topic", topic, "--group", group]);
            match Sink::of(&database)? {
                Sink::Sqlite(path) => c.args(["--sqlite", &path]),
                Sink::Postgres(url) => c.args(["--postgres", &url]),
            };
            // Generous: the first group join on tansu takes seconds.
            c.arg("--expect").arg(s.events.to_string()).args(["--idle-exit-ms", "30000"]);
            child::run(c, timeout)?
        }
    };
    // Kept for whoever wonders about a figure.
    let _ = std::fs::write(s.work.join(format!("{group}.log")), &finished.stderr);
    let report = match consumer {
        Consumer::Weir => weir_report(&finished.stderr)?,
        _ => {
            let line = finished.stdout.lines().rev().find(|l| l.starts_with('{')).context("the consumer printed no result line")?;
            serde_json::from_str(line).with_context(|| format!("reading the consumer's result line `{line}`"))?
        }
    };
    if report.events < s.events {
        bail!("the consumer reports {} of {} events", report.events, s.events);
    }
    match sink {
        SinkKind::Sqlite | SinkKind::Postgres => {
            if let Some(expected) = expected {
                verify(&database, expected)?
            }
        }
        SinkKind::Topic => {
            let (records, distinct) = count_emitted(&s.brokers, out_topic, s.events)?;
            if distinct != s.events {
                bail!("the output topic holds {distinct} distinct event ids ({records} records), expected {}", s.events);
            }
        }
    }
    let seconds = (report.last_commit_unix_ms.saturating_sub(report.first_fetch_unix_ms)) as f64 / 1000.0;
    Ok(Run {
        broker: "tansu".into(),
        sink,
        consumer,
        rep: 0,
        events: s.events,
        payload_bytes,
        partitions: s.partitions,
        seconds,
        events_per_sec: s.events as f64 / seconds.max(0.001),
        cpu_seconds: finished.cpu.as_secs_f64(),
        wall_seconds: finished.wall.as_secs_f64(),
        peak_rss_mib: finished.peak_rss as f64 / (1024.0 * 1024.0),
        verified: true,
    })
}

/// `weir run` as every benchmark runs it (JSON logs, exit when idle, no metrics
/// endpoint), under `WEIR_BENCH_WRAP` when set (a command such as a profiler); the
/// caller adds the pipeline files.
pub fn weir_run(s: &Settings) -> Command {
    let weir = s.root.join("target/release/weir");
    let mut c = match std::env::var("WEIR_BENCH_WRAP").ok().filter(|w| !w.trim().is_empty()) {
        Some(wrap) => {
            let mut words = wrap.split_whitespace();
            let mut c = Command::new(words.next().expect("not empty"));
            c.args(words).arg(&weir);
            c
        }
        None => Command::new(&weir),
    };
    c.args(["--log-format", "json", "run", "--exit-when-idle", "--metrics-addr", "off"]);
    c
}

/// weir's `pipeline stopped` log lines (JSON logs), one per pipeline, added up: all
/// records, the earliest first fetch and the latest last commit.
pub fn weir_report(stderr: &str) -> anyhow::Result<Report> {
    let mut total: Option<Report> = None;
    for line in stderr.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["message"] == "pipeline stopped" {
            let field = |k: &str| v[k].as_u64().with_context(|| format!("`{k}` missing in `{line}`"));
            let r = Report { events: field("records")?, first_fetch_unix_ms: field("first_fetch_unix_ms")?, last_commit_unix_ms: field("last_commit_unix_ms")? };
            total = Some(match total {
                None => r,
                Some(t) => t.merge(&r),
            });
        }
    }
    total.with_context(|| format!("weir logged no `pipeline stopped` line; its last output:\n{}", stderr.lines().rev().take(10).collect::<Vec<_>>().join("\n")))
}

/// Writes the pipeline file `name` that weir runs, into `s.work`.
pub fn weir_pipeline(s: &Settings, name: &str, sink: SinkKind, topic: &str, group: &str, database: &str) -> anyhow::Result<PathBuf> {
    let plugins = s.root.join("target/wasm32-wasip2/release");
    let (plugin, events, sink_toml) = match sink {
        SinkKind::Topic => ("order_notifications.wasm", r#"["OrderPlaced", "OrderShipped"]"#, "[sink.topics]\nallowed = [\"order-notifications\"]\n".to_owned()),
        _ => (
            "order_summary.wasm",
            r#"["OrderPlaced", "OrderCreated", "OrderShipped"]"#,
            format!(
                "[sink.read_model]\ndatabase = \"{database}\"\n\n[[sink.read_model.tables]]\nname = \"order_summaries\"\nprimary_key = [\"id\"]\n\
                 columns = {{ id = \"text\", user_id = \"text\", status = \"text\", total = \"numeric\", item_count = \"integer\", created_at = \"timestamptz\", shipped_at = \"timestamptz\" }}\n"
            ),
        ),
    };
    let text = format!(
        "# Written by weir-bench for one run.\n[pipeline]\nname = \"{name}\"\n{}group = \"{group}\"\nkafka = {{ \"fetch.wait.max.ms\" = \"{}\" }}\n\n[source]\ntopics = [\"{topic}\"]\n\n\
         [handler]\nkind = \"projection\"\nplugin = \"{}\"\nevents = {events}\nbatch = {{ max_events = 1000, max_wait_ms = {} }}\n\
         limits = {{ memory_mib = 64, deadline_ms = 1000 }}\n\n{sink_toml}",
        // No brokers: the embedded broker.
        if s.brokers.is_empty() { String::new() } else { format!("brokers = \"{}\"\n", s.brokers) },
        s.fetch_wait_ms,
        plugins.join(plugin).display(),
        s.batch_wait_ms
    );
    // tansu creates no topics by itself: without its dead-letter topic, a pipeline that
    // dead-letters an event waits for it (and says so) instead of moving on.
    if !s.brokers.is_empty() && s.creates_topics {
        produce::create_topic(&s.brokers, &format!("{name}.dlq"), 1)?;
    }
    let path = s.work.join(format!("{group}.toml"));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Drops the tables a run writes, so that every run starts from an empty read model.
pub fn reset_postgres(url: &str) -> anyhow::Result<()> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).with_context(|| format!("connecting to {url}"))?;
    client.batch_execute("DROP TABLE IF EXISTS order_summaries, weir_offsets, weir_event_ids")?;
    Ok(())
}

/// Checks the read model against what the load says it must hold.
pub fn verify(database: &str, expected: Expected) -> anyhow::Result<()> {
    let (orders, shipped, total): (i64, i64, f64) = match Sink::of(database)? {
        Sink::Sqlite(path) => {
            let conn = rusqlite::Connection::open(Path::new(&path))?;
            conn.query_row(
                "SELECT count(*), count(*) FILTER (WHERE status = 'shipped' AND shipped_at IS NOT NULL), coalesce(sum(total), 0) FROM order_summaries",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?
        }
        Sink::Postgres(url) => {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            let r = client.query_one(
                "SELECT count(*), count(*) FILTER (WHERE status = 'shipped' AND shipped_at IS NOT NULL), coalesce(sum(total), 0)::float8 FROM order_summaries",
                &[],
            )?;
            (r.get(0), r.get(1), r.get(2))
        }
    };
    let cents = (total * 100.0).round() as i64;
    if orders as u64 != expected.orders || shipped as u64 != expected.shipped || (cents - expected.total_cents).abs() > 1 {
        bail!(
            "wrong read model: {orders} orders, {shipped} shipped, total {cents} cents; expected {} orders, {} shipped, {} cents",
            expected.orders,
            expected.shipped,
            expected.total_cents
        );
    }
    Ok(())
}

/// Reads `topic` from its start until `expected` distinct `event-id` headers were seen
/// (or nothing came for 5 s): (records, distinct event ids). tansu's high watermarks lag
/// behind what a consumer reads, so the records are counted, not the offsets.
fn count_emitted(brokers: &str, topic: &str, expected: u64) -> anyhow::Result<(u64, u64)> {
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("weir-bench-count-{}", crate::unix_ms()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()?;
    consumer.subscribe(&[topic])?;
    let mut ids = std::collections::HashSet::new();
    let mut records = 0u64;
    let mut last = std::time::Instant::now();
    while (ids.len() as u64) < expected && last.elapsed() < Duration::from_secs(5) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                records += 1;
                last = std::time::Instant::now();
                if let Some(id) = m.headers().and_then(|h| h.iter().find(|h| h.key == "event-id").and_then(|h| h.value)) {
                    ids.insert(id.to_vec());
                }
            }
            Some(Err(e)) => return Err(e).context("reading the output topic"),
            None => {}
        }
    }
    Ok((records, ids.len() as u64))
}
