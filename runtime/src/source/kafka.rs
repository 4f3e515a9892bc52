//! A pipeline's Kafka consumer: joins the pipeline's consumer group, gathers batches by
//! size and time, and commits offsets only when told (after the sinks accepted a batch).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, ConsumerGroupMetadata, Rebalance};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::config::{Pipeline, StartFrom};
use crate::sink::sql::write_behind::InFlight;

/// How long one poll waits when no batch is open, so that shutdown is noticed quickly.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// A client configuration for `pipeline`: the bootstrap servers, then weir's
/// `defaults`, then the pipeline's own `[pipeline.kafka]` properties, which win.
pub fn client_config(brokers: &str, pipeline: &Pipeline, defaults: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", format!("weir-{}", pipeline.name));
    for (k, v) in defaults {
        config.set(*k, *v);
    }
    for (k, v) in &pipeline.kafka {
        config.set(k, v);
    }
    config
}

/// For each partition in `batch`, the offset after its last record, but never below
/// `floor`'s offset for the partition (offsets must not move back).
pub fn next_offsets(batch: &[(BorrowedMessage<'_>, Instant)], floor: &HashMap<(String, i32), i64>) -> anyhow::Result<TopicPartitionList> {
    let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for (m, _) in batch {
        let at_least = if floor.is_empty() { 0 } else { floor.get(&(m.topic().to_owned(), m.partition())).copied().unwrap_or(0) };
        let slot = next.entry((m.topic(), m.partition())).or_insert(at_least);
        *slot = (*slot).max(m.offset() + 1);
    }
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in next {
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    }
    Ok(tpl)
}

/// Logs partition assignments and revocations, and flags them for the pipeline.
pub struct GroupContext {
    pipeline: String,
    rebalanced: Arc<AtomicBool>,
    /// With write-behind: what the database writer has yet to commit. Partitions are
    /// given up only after it did, so that their next owner reads this process's writes.
    in_flight: Option<Arc<InFlight>>,
}

/// How long giving partitions up waits for the database writer; beyond it the offsets
/// in the database still keep every record applied once.
const REVOKE_WAIT: Duration = Duration::from_secs(30);

impl ClientContext for GroupContext {
    /// The pipeline logs consumer errors itself, with backoff; librdkafka's own log
    /// lines still come through `log`.
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        tracing::debug!(pipeline = %self.pipeline, "librdkafka: {error}: {reason}");
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let (Rebalance::Revoke(_), Some(in_flight)) = (rebalance, &self.in_flight) {
            if !in_flight.wait(REVOKE_WAIT) {
                tracing::warn!(pipeline = %self.pipeline, "giving partitions up before the database writer finished: the next owner may redo those batches (the offsets in the database keep them applied once)");
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.rebalanced.store(true, Ordering::SeqCst);
        match rebalance {
            Rebalance::Assign(tpl) => tracing::info!(pipeline = %self.pipeline, partitions = %describe(tpl), "partitions assigned"),
            Rebalance::Revoke(tpl) => tracing::info!(pipeline = %self.pipeline, partitions = %describe(tpl), "partitions revoked"),
            Rebalance::Error(e) => tracing::warn!(pipeline = %self.pipeline, "rebalance error: {e}"),
        }
    }
}

fn describe(tpl: &TopicPartitionList) -> String {
    let parts: Vec<String> = tpl.elements().iter().map(|e| format!("{}/{}", e.topic(), e.partition())).collect();
    parts.join(",")
}

/// The consumer of one pipeline.
pub struct Source {
    consumer: BaseConsumer<GroupContext>,
    rebalanced: Arc<AtomicBool>,
    max_events: usize,
    max_wait: Duration,
}

impl Source {
    /// Creates the consumer and subscribes to the pipeline's topics. `in_flight`: the
    /// write-behind's unfinished batches, waited for before partitions are given up.
    pub fn new(brokers: &str, pipeline: &Pipeline, in_flight: Option<Arc<InFlight>>) -> anyhow::Result<Self> {
        let reset = match pipeline.source.start {
            StartFrom::Earliest => "earliest",
            StartFrom::Latest => "latest",
        };
        // Low fetch waits keep brokers that hold every fetch for the full wait (tansu)
        // from capping throughput; a short session lets a restarted process rejoin fast.
        let config = client_config(brokers, pipeline, &[
            ("group.id", &pipeline.group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", reset),
            ("session.timeout.ms", "10000"),
            ("heartbeat.interval.ms", "1000"),
            ("fetch.wait.max.ms", "10"),
            ("fetch.queue.backoff.ms", "10"),
        ]);
        let rebalanced = Arc::new(AtomicBool::new(false));
        let consumer: BaseConsumer<GroupContext> = config
            .create_with_context(GroupContext { pipeline: pipeline.name.clone(), rebalanced: rebalanced.clone(), in_flight })
            .context("creating the Kafka consumer")?;
        let topics: Vec<&str> = pipeline.source.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics).context("subscribing to the source topics")?;
        Ok(Source {
            consumer,
            rebalanced,
            max_events: pipeline.handler.batch.max_events,
            max_wait: Duration::from_millis(pipeline.handler.batch.max_wait_ms),
        })
    }

    /// Gathers up to `max_events` records; a batch closes `max_wait` after its first
    /// record. Returns an empty batch after a quiet poll, so the caller can look around.
    pub fn next_batch<'c>(&'c self, batch: &mut Vec<(BorrowedMessage<'c>, Instant)>) -> Result<(), rdkafka::error::KafkaError> {
        // One clock read per record: its arrival, which also tells the time left.
        let mut closes: Option<Instant> = None;
        let mut now = Instant::now();
        while batch.len() < self.max_events {
            let timeout = match closes {
                None => IDLE_POLL,
                Some(t) => match t.checked_duration_since(now) {
                    Some(left) if !left.is_zero() => left,
                    _ => break,
                },
            };
            match self.consumer.poll(timeout) {
                None if closes.is_none() => return Ok(()),
                None => break,
                Some(Ok(m)) => {
                    now = Instant::now();
                    closes.get_or_insert(now + self.max_wait);
                    batch.push((m, now));
                }
                Some(Err(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// Whether partitions were assigned or revoked since the last call.
    pub fn take_rebalanced(&self) -> bool {
        self.rebalanced.swap(false, Ordering::SeqCst)
    }

    /// The partitions currently assigned.
    pub fn assigned(&self) -> anyhow::Result<Vec<(String, i32)>> {
        let tpl = self.consumer.assignment()?;
        Ok(tpl.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect())
    }

    /// Moves consumption of a partition back (or forward) to `offset`.
    pub fn rewind(&self, topic: &str, partition: i32, offset: i64) {
        if let Err(e) = self.consumer.seek(topic, partition, Offset::Offset(offset), Duration::from_secs(5)) {
            tracing::warn!("cannot seek {topic}/{partition} to {offset}: {e}; the database's offsets still filter what was applied");
        }
    }

    /// Commits, for each partition in `batch`, the offset after its last record.
    /// `wait`: synchronously (the offsets are the only record of progress), or in the
    /// background (the database holds the offsets; Kafka's copy shows lag).
    pub fn commit(&self, batch: &[(BorrowedMessage<'_>, Instant)], wait: bool) -> anyhow::Result<()> {
        let mode = if wait { CommitMode::Sync } else { CommitMode::Async };
        self.consumer.commit(&next_offsets(batch, &HashMap::new())?, mode).context("committing offsets to Kafka")
    }

    /// Commits the given next offsets (topic, partition, offset).
    pub fn commit_positions(&self, positions: &[(&str, i32, i64)], wait: bool) -> anyhow::Result<()> {
        let mut tpl = TopicPartitionList::new();
        for (topic, partition, offset) in positions {
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        let mode = if wait { CommitMode::Sync } else { CommitMode::Async };
        self.consumer.commit(&tpl, mode).context("committing offsets to Kafka")
    }

    /// The group's identity and generation, for offsets committed in a producer's
    /// transaction: the broker refuses them from a member that was rebalanced away.
    pub fn group_metadata(&self) -> anyhow::Result<ConsumerGroupMetadata> {
        self.consumer.group_metadata().context("the consumer has no group metadata (not in a group)")
    }

    /// The offsets the group has committed in Kafka for the assigned partitions.
    pub fn committed(&self) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
        let assignment = self.consumer.assignment()?;
        let committed = self.consumer.committed_offsets(assignment, Duration::from_secs(10)).context("reading the group's committed offsets")?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(((e.topic().to_owned(), e.partition()), o)),
                _ => None,
            })
            .collect())
    }

    /// Moves each partition of `batch` back to its first record, so that the batch is
    /// consumed again (after an aborted transaction).
    pub fn rewind_batch(&self, batch: &[(BorrowedMessage<'_>, Instant)]) {
        self.rewind_to_earliest(batch.iter().map(|(m, _)| (m.topic(), m.partition(), m.offset())));
    }

    /// Moves each partition named in `positions` (topic, partition, offset) back to the
    /// lowest offset given for it.
    pub fn rewind_to_earliest<'t>(&self, positions: impl IntoIterator<Item = (&'t str, i32, i64)>) {
        let mut first: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for (topic, partition, offset) in positions {
            let slot = first.entry((topic, partition)).or_insert(i64::MAX);
            *slot = (*slot).min(offset);
        }
        for ((topic, partition), offset) in first {
            self.rewind(topic, partition, offset);
        }
    }

    /// Whether this consumer has partitions and has committed everything in them.
    pub fn caught_up(&self) -> anyhow::Result<bool> {
        let assignment = self.consumer.assignment()?;
        if assignment.count() == 0 {
            return Ok(false);
        }
        let timeout = Duration::from_secs(5);
        let committed = self.consumer.committed_offsets(assignment, timeout)?;
        for e in committed.elements() {
            let (low, high) = self.consumer.fetch_watermarks(e.topic(), e.partition(), timeout)?;
            let at = match e.offset() {
                Offset::Offset(o) => o,
                _ => low,
            };
            if at < high {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
