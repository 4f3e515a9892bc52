//! End-to-end latency at fixed rates: a consumer (weir or the native baseline) runs on a
//! fresh topic while the load generator produces at 25 %, 50 % and 90 % of that
//! consumer's measured maximum. A record's latency is the time from when it was *due*
//! to be produced (its schedule, not its actual send: a stalled producer does not hide
//! the stall, which corrects coordinated omission) to when its consumer group's committed
//! offset passed it, in an HdrHistogram.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;

use crate::e2e::{self, Consumer, Run, SinkKind};
use crate::events::Load;
use crate::produce::{self, Schedule};

/// Options of `weir-bench latency`.
#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    /// The broker's bootstrap servers (tansu); not needed with `--mock-broker`.
    #[arg(long, default_value = "", required_unless_present = "mock_broker")]
    pub brokers: String,
    /// Run on a librdkafka mock cluster hosted by this process instead of `--brokers`. It
    /// answers a fetch that finds data at once (tansu holds each fetch for the consumer's
    /// full wait), so the figures show more of what the consumer itself adds. It keeps
    /// at most 5 MiB or 100,000 records per partition: enough for a consumer that keeps up.
    #[arg(long)]
    pub mock_broker: bool,
    /// weir's `batch.max_wait_ms` and the native consumer's batch window; by default the
    /// throughput runs'. A latency-minded user sets less.
    #[arg(long, default_value_t = e2e::BATCH_WAIT_MS)]
    pub batch_wait_ms: u64,
    /// librdkafka's `fetch.wait.max.ms` for weir and the native consumer; by default the
    /// throughput runs'. The mock cluster holds a fetch that finds no new data for all of
    /// it, even when data arrives meanwhile, so it bounds the latency from below.
    #[arg(long, default_value_t = e2e::FETCH_WAIT_MS)]
    pub fetch_wait_ms: u64,
    /// The maximum-throughput results (`weir-bench e2e`), for each consumer's maximum.
    #[arg(long)]
    pub throughput: PathBuf,
    /// Seconds of load per rate.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Consumers to measure.
    #[arg(long, value_delimiter = ',', default_value = "weir,native")]
    pub consumers: Vec<Consumer>,
    /// Fractions of the maximum to offer.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,0.9")]
    pub fractions: Vec<f64>,
    /// The results file.
    #[arg(long)]
    pub out: PathBuf,
}

const PARTITIONS: i32 = 3;
/// How often the group's committed offsets are read.
const POLL: Duration = Duration::from_millis(1);
/// Events produced and committed before the measured load, so the group has joined.
const WARM_UP: u64 = 1_000;

/// Runs every (consumer, fraction) and writes the results.
pub fn run(args: &LatencyArgs, root: PathBuf, work: PathBuf, progress: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    // The mock cluster lives as long as this function: every run uses it.
    let mock: Option<MockCluster<'static, DefaultProducerContext>> =
        if args.mock_broker { Some(MockCluster::new(1).context("starting the mock cluster")?) } else { None };
    let brokers = mock.as_ref().map_or_else(|| args.brokers.clone(), MockCluster::bootstrap_servers);
    let broker = Broker { brokers: &brokers, mock: mock.as_ref() };
    if mock.is_some() {
        // weir's dead-letter topic, which e2e::weir_pipeline creates where the broker can.
        broker.create_topic("bench.dlq", 1)?;
    }
    let runs: Vec<Run> = serde_json::from_str(&std::fs::read_to_string(&args.throughput).with_context(|| format!("reading {}", args.throughput.display()))?)?;
    let mut results = Vec::new();
    for &consumer in &args.consumers {
        // The tansu runs: the embedded broker's small loads are not this consumer's maximum.
        let mut max: Vec<f64> = runs
            .iter()
            .filter(|r| r.consumer == consumer && r.sink == SinkKind::Sqlite && r.broker == "tansu")
            .map(|r| r.events_per_sec)
            .collect();
        if max.is_empty() {
            bail!("{} holds no SQLite run of {consumer:?} on tansu", args.throughput.display());
        }
        max.sort_by(f64::total_cmp);
        let maximum = max[max.len() / 2];
        for &fraction in &args.fractions {
            let rate = (maximum * fraction).max(100.0);
            progress(&format!("{consumer:?} at {:.0} % of {maximum:.0} = {rate:.0} events/s for {} s", fraction * 100.0, args.seconds));
            let (l, events) = one(args, &broker, &root, &work, consumer, rate)?;
            let ms = |h: &Histogram<u64>, p: f64| h.value_at_quantile(p) as f64 / 1e3;
            progress(&format!(
                "  end to end p50 {:.1} ms, p99 {:.1} ms; produce p99 {:.1} ms; added by the consumer p50 {:.1} ms, p99 {:.1} ms",
                ms(&l.end_to_end, 0.5),
                ms(&l.end_to_end, 0.99),
                ms(&l.produce, 0.99),
                ms(&l.added, 0.5),
                ms(&l.added, 0.99)
            ));
            results.push(json!({
                "consumer": format!("{consumer:?}").to_lowercase(), "fraction": fraction, "rate": rate, "maximum": maximum, "events": events,
                "latency_us": percentiles(&l.end_to_end), "produce_us": percentiles(&l.produce), "added_us": percentiles(&l.added),
            }));
        }
    }
    let on = if args.mock_broker { "librdkafka's mock cluster, hosted by the harness (it answers a fetch that finds data at once)" } else { "tansu" };
    let fractions: Vec<String> = args.fractions.iter().map(|f| format!("{:.0} %", f * 100.0)).collect();
    let method = format!(
        "On {on}, batches closing {} ms after their first record, fetch.wait.max.ms={}. Each consumer runs on a fresh 3-partition topic into SQLite while seed-style events are produced at a fixed rate for {} s, at {} of that consumer's own maximum from the throughput runs. Latency: from when an event was due to be produced (its schedule, so coordinated omission is corrected) to when its consumer group's committed Kafka offset passed it, read every {} ms with OffsetFetch. `added` is the consumer's part: from the broker's acknowledgement of the event to that commit. weir commits to SQLite first and to Kafka after it, so its figure includes that second commit.",
        args.batch_wait_ms,
        args.fetch_wait_ms,
        args.seconds,
        fractions.join(", "),
        POLL.as_millis()
    );
    let name = if args.mock_broker { "mock" } else { "tansu" };
    std::fs::write(&args.out, serde_json::to_string_pretty(&json!({"broker": name, "method": method, "runs": results}))?)?;
    progress(&format!("wrote {}", args.out.display()));
    Ok(())
}

/// The broker the runs use, and how topics are made on it.
struct Broker<'a> {
    brokers: &'a str,
    mock: Option<&'a MockCluster<'static, DefaultProducerContext>>,
}

impl Broker<'_> {
    fn create_topic(&self, topic: &str, partitions: i32) -> anyhow::Result<()> {
        match self.mock {
            Some(m) => m.create_topic(topic, partitions, 1).with_context(|| format!("creating {topic} on the mock cluster")),
            None => produce::create_topic(self.brokers, topic, partitions),
        }
    }
}

fn one(args: &LatencyArgs, broker: &Broker<'_>, root: &std::path::Path, work: &std::path::Path, consumer: Consumer, rate: f64) -> anyhow::Result<(Latencies, u64)> {
    let id = format!("lat-{}-{}", std::process::id(), crate::unix_ms() % 100_000_000);
    let topic = format!("bench-{id}");
    let group = format!("{topic}-{consumer:?}").to_lowercase();
    broker.create_topic(&topic, PARTITIONS)?;
    let brokers = broker.brokers;
    let measured = (rate * args.seconds as f64) as u64;
    let total = WARM_UP + measured;
    let settings = e2e::Settings {
        brokers: brokers.to_owned(),
        postgres: String::new(),
        events: total,
        reps: 1,
        partitions: PARTITIONS,
        payload_bytes: 0,
        consumers: vec![consumer],
        sinks: vec![SinkKind::Sqlite],
        root: root.to_path_buf(),
        work: work.to_path_buf(),
        seed: 42,
        creates_topics: broker.mock.is_none(),
        batch_wait_ms: args.batch_wait_ms,
        fetch_wait_ms: args.fetch_wait_ms,
    };
    let mut load = Load::new(42, 0);
    // The consumer runs in the background for the whole load.
    let (topic2, group2) = (topic.clone(), group.clone());
    let consumer_thread = std::thread::spawn(move || e2e::one(&settings, SinkKind::Sqlite, consumer, &topic2, &group2, None, 0));
    produce::produce(brokers, &topic, &mut load, WARM_UP, None, &mut |_| {})?;
    let committed = CommittedOffsets::new(brokers, &group, &topic)?;
    let warm_deadline = Instant::now() + Duration::from_secs(60);
    while committed.sum()? < WARM_UP {
        if Instant::now() > warm_deadline {
            bail!("the consumer did not commit the warm-up events within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The measured load, and a poller watching the commits.
    let schedule = Arc::new(Mutex::new(Schedule::default()));
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let done = done.clone();
        std::thread::spawn(move || poll_commits(&committed, &done, total))
    };
    let produced = produce::produce_into(brokers, &topic, &mut load, measured, Some(rate), produce::BATCH_RECORDS, schedule.clone(), &mut |_| {});
    if produced.is_err() {
        done.store(true, Ordering::SeqCst);
    }
    produced?;
    let seen = poller.join().map_err(|_| anyhow::anyhow!("the latency poller panicked"))??;
    consumer_thread.join().map_err(|_| anyhow::anyhow!("the consumer thread panicked"))??;
    e2e::verify(&format!("sqlite://{}", work.join(format!("{group}.db")).display()), load.expected())?;
    let l = latencies(&schedule.lock().unwrap(), &seen)?;
    Ok((l, measured))
}

/// Reads a group's committed offsets on a topic without joining the group.
struct CommittedOffsets {
    consumer: BaseConsumer,
    partitions: TopicPartitionList,
}

impl CommittedOffsets {
    fn new(brokers: &str, group: &str, topic: &str) -> anyhow::Result<Self> {
        let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", brokers).set("group.id", group).create()?;
        let mut partitions = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            partitions.add_partition(topic, p);
        }
        Ok(CommittedOffsets { consumer, partitions })
    }

    /// Committed next offset per partition.
    fn get(&self) -> anyhow::Result<Vec<i64>> {
        let tpl = self.consumer.committed_offsets(self.partitions.clone(), Duration::from_secs(10))?;
        Ok(tpl.elements().iter().map(|e| if let Offset::Offset(o) = e.offset() { o } else { 0 }).collect())
    }

    fn sum(&self) -> anyhow::Result<u64> {
        Ok(self.get()?.iter().map(|o| *o as u64).sum())
    }
}

/// Polls the group's committed offsets until they cover `total` records (or `done`),
/// keeping each change per partition: (when seen, committed next offset).
fn poll_commits(committed: &CommittedOffsets, done: &AtomicBool, total: u64) -> anyhow::Result<Vec<Vec<(Instant, i64)>>> {
    let mut seen: Vec<Vec<(Instant, i64)>> = vec![Vec::new(); PARTITIONS as usize];
    let mut last_progress = Instant::now();
    loop {
        let offsets = committed.get()?;
        let now = Instant::now();
        for (p, &c) in offsets.iter().enumerate() {
            if seen[p].last().is_none_or(|&(_, last)| c > last) {
                seen[p].push((now, c));
                last_progress = now;
            }
        }
        if offsets.iter().map(|o| *o as u64).sum::<u64>() >= total || done.load(Ordering::SeqCst) {
            return Ok(seen);
        }
        if now.duration_since(last_progress) > Duration::from_secs(60) {
            bail!("no commit progress for 60 s");
        }
        std::thread::sleep(POLL);
    }
}

/// The latency histograms of one run, microseconds.
struct Latencies {
    /// From due to committed by the consumer: the end-to-end latency.
    end_to_end: Histogram<u64>,
    /// From due to acknowledged by the broker: the producer's and broker's share.
    produce: Histogram<u64>,
    /// From acknowledged by the broker to committed: what the consumer adds.
    added: Histogram<u64>,
}

/// Each scheduled record's latencies, up to the first observation of its partition's
/// committed offset beyond it.
fn latencies(schedule: &Schedule, seen: &[Vec<(Instant, i64)>]) -> anyhow::Result<Latencies> {
    let new = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 3);
    let mut l = Latencies { end_to_end: new()?, produce: new()?, added: new()? };
    let micros = |from: Instant, to: Instant| (to.saturating_duration_since(from).as_micros() as u64).max(1);
    for (p, records) in schedule.due.iter().enumerate() {
        let observations = seen.get(p).map(Vec::as_slice).unwrap_or_default();
        let mut k = 0;
        for &(offset, due, acked) in records {
            while k < observations.len() && observations[k].1 <= offset {
                k += 1;
            }
            let Some(&(at, _)) = observations.get(k) else { bail!("partition {p} offset {offset} was never committed") };
            l.end_to_end.record(micros(due, at))?;
            l.produce.record(micros(due, acked))?;
            l.added.record(micros(acked, at))?;
        }
    }
    Ok(l)
}

fn percentiles(h: &Histogram<u64>) -> serde_json::Value {
    let q = |p: f64| h.value_at_quantile(p);
    json!({"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p99_9": q(0.999), "max": h.max(), "mean": h.mean()})
}
