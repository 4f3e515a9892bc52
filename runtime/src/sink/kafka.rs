//! Emitted events to Kafka: each wrapped in the seed envelope with an id derived from its
//! input event and its position, produced by an idempotent producer and flushed before
//! the batch's offsets are committed (at least once; duplicates carry the same id).
//!
//! With `sink.topics.exactly_once`, a batch's emitted events, its dead letters and its
//! consumer offsets go into one Kafka transaction instead: [`KafkaSink::begin`], the
//! sends, then [`KafkaSink::commit`] (or [`KafkaSink::abort`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::TopicPartitionList;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::plugin::{Batch, Emit};

/// Namespace of weir's derived event ids (UUID v5).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x8f0c_53a4_1c3e_4d0e_9a57_3b6f_5e21_7c40);

/// How long a batch's emitted events may take to be acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// How long transaction calls (init, offsets, commit, abort) may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// The transactional producer cannot go on: another process took over its
/// `transactional.id` (it was fenced), or the broker failed it fatally. The pipeline stops.
#[derive(Debug, thiserror::Error)]
#[error("the transactional producer `{transactional_id}` cannot continue: {reason} (another weir process with the same transactional id took over, or the broker failed it)")]
pub struct ProducerFenced {
    /// The producer's `transactional.id`.
    pub transactional_id: String,
    /// librdkafka's error.
    pub reason: String,
}

/// Collects delivery failures reported by librdkafka's background thread.
#[derive(Default, Clone)]
pub struct DeliveryErrors(Arc<Mutex<Vec<String>>>);

impl ClientContext for DeliveryErrors {}

impl ProducerContext for DeliveryErrors {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0.lock().expect("lock").push(e.to_string());
        }
    }
}

/// The producer of one pipeline's emitted events.
pub struct KafkaSink {
    producer: ThreadedProducer<DeliveryErrors>,
    errors: DeliveryErrors,
    topics: Vec<String>,
    pipeline: String,
    /// `Some(transactional.id)` with `exactly_once`.
    transactional_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    event_id: String,
    event_type: &'a str,
    timestamp: String,
    version: u32,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregate_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation_id: Option<&'a str>,
    data: &'a RawValue,
}

/// The id of the `index`-th event emitted for the input with id `input_id`: the same
/// input always yields the same ids, so a replay after a crash can be deduplicated.
pub fn derived_event_id(input_id: &str, index: usize) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, format!("{input_id}/{index}").as_bytes())
}

impl KafkaSink {
    /// A producer on `config` (the pipeline's broker settings) for the allowed `topics`
    /// (Kafka names, in declared order). With a `transactional_id`, the producer is
    /// transactional and registers with the broker's transaction coordinator now, which
    /// also aborts what an earlier process with the same id left open.
    pub fn new(mut config: ClientConfig, topics: Vec<String>, pipeline: &str, transactional_id: Option<&str>) -> anyhow::Result<Self> {
        config
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("compression.type", "lz4");
        if let Some(id) = transactional_id {
            config.set("transactional.id", id).set("transaction.timeout.ms", "60000");
        }
        let errors = DeliveryErrors::default();
        let producer: ThreadedProducer<DeliveryErrors> =
            config.create_with_context(errors.clone()).context("creating the Kafka producer")?;
        if let Some(id) = transactional_id {
            let bootstrap = config.get("bootstrap.servers").unwrap_or_default().to_owned();
            // librdkafka would find out only at the first commit, and then retry forever.
            let missing = super::api_versions::missing_transaction_apis(&bootstrap, TXN_TIMEOUT)
                .with_context(|| format!("asking the brokers `{bootstrap}` whether they provide transactions"))?;
            if !missing.is_empty() {
                bail!(
                    "`sink.topics.exactly_once` needs Kafka transactions, and the broker did not provide them \
                     (`{bootstrap}` lacks the APIs {}); brokers without transactions (tansu) can run this \
                     pipeline only without `exactly_once`",
                    missing.join(", ")
                );
            }
            producer.init_transactions(TXN_TIMEOUT).map_err(|e| {
                anyhow::anyhow!(
                    "`sink.topics.exactly_once` needs Kafka transactions, and the broker did not provide them \
                     (initialising transactional producer `{id}`: {e}); brokers without transactions (tansu) \
                     can run this pipeline only without `exactly_once`"
                )
            })?;
        }
        Ok(KafkaSink { producer, errors, topics, pipeline: pipeline.to_owned(), transactional_id: transactional_id.map(str::to_owned) })
    }

    /// Whether batches go through Kafka transactions.
    pub fn is_transactional(&self) -> bool {
        self.transactional_id.is_some()
    }

    /// Opens the batch's transaction (transactional producers only).
    pub fn begin(&self) -> anyhow::Result<()> {
        if self.is_transactional() {
            self.producer.begin_transaction().map_err(|e| self.txn_error("beginning a transaction", e))?;
        }
        Ok(())
    }

    /// Commits the open transaction with the consumer's `offsets` (the next offset per
    /// partition) for the group `group`: the produced records and the offsets become
    /// visible together, or not at all. On an error the caller aborts and sends the
    /// batch again in a new transaction; a [`ProducerFenced`] error is final.
    pub fn commit(&self, offsets: &TopicPartitionList, group: &ConsumerGroupMetadata) -> anyhow::Result<()> {
        self.producer
            .send_offsets_to_transaction(offsets, group, TXN_TIMEOUT)
            .map_err(|e| self.txn_error("adding the consumer offsets to the transaction", e))?;
        self.commit_retrying()?;
        self.take_delivery_errors()
    }

    /// Aborts the open transaction, if any; what it produced is never seen by
    /// `read_committed` consumers.
    pub fn abort(&self) {
        if self.is_transactional() {
            if let Err(e) = self.producer.abort_transaction(TXN_TIMEOUT) {
                tracing::warn!(pipeline = %self.pipeline, "aborting the transaction failed: {e}");
            }
            // Failures of the aborted records no longer matter: they are sent again.
            self.errors.0.lock().expect("lock").clear();
        }
    }

    fn commit_retrying(&self) -> anyhow::Result<()> {
        // A retriable commit error leaves the outcome open: librdkafka asks to call
        // commit again, which either completes or reports the real state.
        for attempt in 1..=10u32 {
            match self.producer.commit_transaction(TXN_TIMEOUT) {
                Ok(()) => return Ok(()),
                Err(KafkaError::Transaction(e)) if e.is_retriable() && !e.txn_requires_abort() && !e.is_fatal() => {
                    tracing::warn!(pipeline = %self.pipeline, "committing the transaction: {e}; trying again");
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                }
                Err(e) => return Err(self.txn_error("committing the transaction", e)),
            }
        }
        Err(self.txn_error("committing the transaction", KafkaError::MessageProduction(RDKafkaErrorCode::RequestTimedOut)))
    }

    fn txn_error(&self, doing: &str, e: KafkaError) -> anyhow::Error {
        let fatal = matches!(&e, KafkaError::Transaction(t) if t.is_fatal());
        if fatal {
            return ProducerFenced { transactional_id: self.transactional_id.clone().unwrap_or_default(), reason: format!("{doing}: {e}") }.into();
        }
        anyhow::anyhow!("{doing}: {e}")
    }

    /// Produces the batch's emitted events and waits until the broker has them all.
    /// `input_identity(position)` names an input for id derivation when it has no `eventId`.
    pub fn send(&self, batch: &Batch, emits: &[Emit], input_identity: impl Fn(u32) -> String) -> anyhow::Result<()> {
        if emits.is_empty() {
            return Ok(());
        }
        let mut per_input = 0;
        for (i, emit) in emits.iter().enumerate() {
            per_input = if i > 0 && emits[i - 1].input == emit.input { per_input + 1 } else { 0 };
            let input_id = batch.event_id(emit.input).map_or_else(|| input_identity(emit.input), str::to_owned);
            let event_id = derived_event_id(&input_id, per_input).to_string();
            let data: &RawValue = serde_json::from_slice(&emit.data)
                .with_context(|| format!("plugin emitted `{}` whose data is not JSON", emit.event_type))?;
            let envelope = Envelope {
                event_id,
                event_type: &emit.event_type,
                timestamp: rfc3339(batch.timestamp_ms(emit.input)),
                version: 1,
                source: &self.pipeline,
                correlation_id: batch.correlation_id(emit.input).or(batch.event_id(emit.input)),
                causation_id: batch.event_id(emit.input),
                aggregate_id: emit.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()),
                data,
            };
            let value = serde_json::to_vec(&envelope)?;
            let headers = OwnedHeaders::new()
                .insert(Header { key: "event-type", value: Some(emit.event_type.as_bytes()) })
                .insert(Header { key: "event-id", value: Some(envelope.event_id.as_bytes()) });
            self.produce(&self.topics[emit.topic as usize], emit.key.as_deref(), &value, headers)?;
        }
        self.flush()
    }

    /// Produces dead letters to `topic` and waits until the broker has them all.
    pub fn send_dead_letters(&self, topic: &str, letters: &[DeadLetter<'_>]) -> anyhow::Result<()> {
        if letters.is_empty() {
            return Ok(());
        }
        let failed_at = rfc3339(chrono::Utc::now().timestamp_millis());
        for l in letters {
            let original: std::borrow::Cow<'_, RawValue> =
                match l.payload.and_then(|p| serde_json::from_slice::<&RawValue>(p).ok()) {
                    Some(raw) => std::borrow::Cow::Borrowed(raw),
                    // Not JSON: the bytes as a JSON string (invalid UTF-8 replaced).
                    None => {
                        let text = l.payload.map(String::from_utf8_lossy).unwrap_or_default();
                        std::borrow::Cow::Owned(RawValue::from_string(serde_json::to_string(&text)?)?)
                    }
                };
            let value = serde_json::to_vec(&DeadLetterValue {
                original_event: &original,
                error: l.error,
                failed_at: &failed_at,
                retry_count: l.retry_count,
                stage: l.stage,
                pipeline: &self.pipeline,
                plugin_version: l.plugin_version,
                source_topic: l.topic,
                source_partition: l.partition,
                source_offset: l.offset,
            })?;
            let (partition, offset, retries) = (l.partition.to_string(), l.offset.to_string(), l.retry_count.to_string());
            let headers = OwnedHeaders::new()
                .insert(Header { key: "weir-error", value: Some(l.error.as_bytes()) })
                .insert(Header { key: "weir-stage", value: Some(l.stage.as_bytes()) })
                .insert(Header { key: "weir-failed-at", value: Some(failed_at.as_bytes()) })
                .insert(Header { key: "weir-retry-count", value: Some(retries.as_bytes()) })
                .insert(Header { key: "weir-pipeline", value: Some(self.pipeline.as_bytes()) })
                .insert(Header { key: "weir-plugin-version", value: Some(l.plugin_version.as_bytes()) })
                .insert(Header { key: "weir-source-topic", value: Some(l.topic.as_bytes()) })
                .insert(Header { key: "weir-source-partition", value: Some(partition.as_bytes()) })
                .insert(Header { key: "weir-source-offset", value: Some(offset.as_bytes()) });
            self.produce(topic, l.key, &value, headers)?;
        }
        self.flush()
    }

    fn produce(&self, topic: &str, key: Option<&[u8]>, value: &[u8], headers: OwnedHeaders) -> anyhow::Result<()> {
        let mut record = BaseRecord::to(topic).payload(value).headers(headers);
        if let Some(key) = key {
            record = record.key(key);
        }
        send_waiting(&self.producer, record).map_err(|e| anyhow::anyhow!("producing to `{topic}` failed: {e}"))
    }

    /// Waits for acknowledgements, except in a transaction, whose commit flushes.
    fn flush(&self) -> anyhow::Result<()> {
        if self.is_transactional() {
            return Ok(());
        }
        wait_acknowledged(&self.producer, FLUSH_TIMEOUT).context("waiting for produced events to be acknowledged")?;
        self.take_delivery_errors()
    }

    fn take_delivery_errors(&self) -> anyhow::Result<()> {
        let failed = std::mem::take(&mut *self.errors.0.lock().expect("lock"));
        if let Some(first) = failed.first() {
            bail!("{} produced event(s) were not delivered; first error: {first}", failed.len());
        }
        Ok(())
    }
}

/// Waits until the broker acknowledged everything `producer` queued.
///
/// Not `ThreadedProducer::flush`: it polls for events in up to 100 ms slices while the
/// producer's own thread takes the same events, so every flush lasted about 100 ms
/// (one batch's emits to tansu: 1.4 ms by hand, 100 ms through `flush`). Instead one
/// zero-timeout flush wakes the broker threads to send at once (ignoring `linger.ms`),
/// and the outgoing queue is watched until the delivery reports are served.
pub fn wait_acknowledged<C: ProducerContext + 'static>(producer: &ThreadedProducer<C>, timeout: Duration) -> Result<(), KafkaError> {
    let deadline = std::time::Instant::now() + timeout;
    let _ = producer.flush(Duration::ZERO);
    let mut pause = Duration::from_micros(20);
    while producer.in_flight_count() > 0 {
        if std::time::Instant::now() >= deadline {
            return Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
    Ok(())
}

/// Queues `record` on `producer`, waiting while librdkafka's queue is full (the broker is
/// slower than the producer) instead of failing.
pub fn send_waiting<C, K, P>(producer: &ThreadedProducer<C>, record: BaseRecord<'_, K, P, C::DeliveryOpaque>) -> Result<(), KafkaError>
where
    C: ProducerContext,
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    let mut record = Some(record);
    while let Some(r) = record.take() {
        match producer.send(r) {
            Ok(()) => {}
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                std::thread::sleep(Duration::from_millis(5));
                record = Some(r);
            }
            Err((e, _)) => return Err(e),
        }
    }
    Ok(())
}

/// An event that failed, for the dead-letter topic.
#[derive(Debug)]
pub struct DeadLetter<'a> {
    /// The record value as consumed.
    pub payload: Option<&'a [u8]>,
    /// The record key.
    pub key: Option<&'a [u8]>,
    /// Source topic, partition and offset.
    pub topic: &'a str,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
    /// Why it failed.
    pub error: &'a str,
    /// `decode` (not an event) or `handler` (the plugin failed).
    pub stage: &'static str,
    /// How often it was retried.
    pub retry_count: u32,
    /// The plugin version (content hash prefix) that failed on it.
    pub plugin_version: &'a str,
}

/// The dead-letter record's value: the seeds' fields plus where the event came from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetterValue<'a> {
    original_event: &'a RawValue,
    error: &'a str,
    failed_at: &'a str,
    retry_count: u32,
    stage: &'a str,
    pipeline: &'a str,
    plugin_version: &'a str,
    source_topic: &'a str,
    source_partition: i32,
    source_offset: i64,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::derived_event_id;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_event_id("e1", 0), derived_event_id("e1", 0));
        assert_ne!(derived_event_id("e1", 0), derived_event_id("e1", 1));
        assert_ne!(derived_event_id("e1", 0), derived_event_id("e2", 0));
        assert_eq!(derived_event_id("e1", 0).get_version_num(), 5);
    }
}
