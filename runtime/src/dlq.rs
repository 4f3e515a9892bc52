//! `weir dlq`: list, show and replay a pipeline's dead letters.
//!
//! Dead letters are read straight from the dead-letter topic (no consumer group, nothing
//! committed), from its start until it has been quiet for a second.

use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::Pipeline;

const TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the first dead letter before deciding there is none.
const FIRST_RECORD_WAIT: Duration = Duration::from_secs(5);
/// Reading stops once no dead letter arrived for this long.
const QUIET: Duration = Duration::from_secs(1);

/// One dead letter as read back.
#[derive(Debug, Clone)]
pub struct Letter {
    /// Partition of the dead-letter topic.
    pub partition: i32,
    /// Offset in it.
    pub offset: i64,
    /// Record key (the original event's key).
    pub key: Option<Vec<u8>>,
    /// The dead-letter value.
    pub value: serde_json::Value,
}

impl Letter {
    /// `partition:offset` in the dead-letter topic.
    pub fn id(&self) -> String {
        format!("{}:{}", self.partition, self.offset)
    }

    fn text(&self, field: &str) -> &str {
        self.value[field].as_str().unwrap_or("")
    }

    /// The failed event's `eventType`, when it had one.
    pub fn event_type(&self) -> &str {
        self.value["originalEvent"]["eventType"].as_str().unwrap_or("")
    }

    /// Whether this letter passes the filters (all given ones must match).
    pub fn matches(&self, filter: &Filter) -> bool {
        filter.error.as_deref().is_none_or(|e| self.text("error").contains(e))
            && filter.event_type.as_deref().is_none_or(|t| self.event_type() == t)
            && filter.stage.as_deref().is_none_or(|s| self.text("stage") == s)
    }
}

/// Which dead letters a command applies to.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Filter {
    /// Only letters whose error contains this text.
    #[arg(long, global = true)]
    pub error: Option<String>,
    /// Only letters of this event type.
    #[arg(long, global = true)]
    pub event_type: Option<String>,
    /// Only letters of this stage (`decode` or `handler`).
    #[arg(long, global = true)]
    pub stage: Option<String>,
}

/// Reads every dead letter of `pipeline` on `brokers`.
pub fn read(brokers: &str, pipeline: &Pipeline) -> anyhow::Result<Vec<Letter>> {
    let topic = &pipeline.on_error.dead_letter_topic;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "weir-dlq-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .context("creating the dead-letter reader")?;
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT).context("reading the dead-letter topic's metadata")?;
    let mut tpl = TopicPartitionList::new();
    for p in metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())) {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    // Read until the topic has been quiet for a while: watermarks are not reliable on
    // every Kafka-compatible broker.
    let mut letters = Vec::new();
    let mut wait = FIRST_RECORD_WAIT;
    loop {
        match consumer.poll(wait) {
            None => break,
            Some(Err(e)) => bail!("reading `{topic}`: {e}"),
            Some(Ok(m)) => {
                let value = serde_json::from_slice(m.payload().unwrap_or(b"null")).unwrap_or(serde_json::Value::Null);
                letters.push(Letter { partition: m.partition(), offset: m.offset(), key: m.key().map(<[u8]>::to_vec), value });
                wait = QUIET;
            }
        }
    }
    letters.sort_by_key(|l| (l.partition, l.offset));
    Ok(letters)
}

/// Prints one line per letter.
pub fn list(letters: &[Letter]) {
    println!("{:<10} {:<25} {:<8} {:<40} {:<20} error", "letter", "failed at", "stage", "source", "event type");
    for l in letters {
        let source = format!("{}/{}@{}", l.text("sourceTopic"), l.value["sourcePartition"], l.value["sourceOffset"]);
        println!("{:<10} {:<25} {:<8} {:<40} {:<20} {}", l.id(), l.text("failedAt"), l.text("stage"), source, l.event_type(), l.text("error"));
    }
    println!("{} dead letter(s)", letters.len());
}

/// Produces each letter's original event back to its source topic, with its key, and
/// a `weir-replayed-from` header naming the letter. Returns how many were replayed.
pub fn replay(brokers: &str, pipeline: &Pipeline, letters: &[Letter]) -> anyhow::Result<usize> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()
        .context("creating the replay producer")?;
    for l in letters {
        let topic = l.text("sourceTopic");
        if topic.is_empty() {
            bail!("letter {} names no source topic", l.id());
        }
        // A JSON event goes back as JSON; an undecodable one as the text it was.
        let payload = match &l.value["originalEvent"] {
            serde_json::Value::String(text) if l.text("stage") == "decode" => text.clone().into_bytes(),
            other => serde_json::to_vec(other)?,
        };
        let from = format!("{}/{}", pipeline.on_error.dead_letter_topic, l.id());
        let mut record = BaseRecord::to(topic)
            .payload(&payload)
            .headers(OwnedHeaders::new().insert(Header { key: "weir-replayed-from", value: Some(from.as_bytes()) }));
        if let Some(k) = &l.key {
            record = record.key(k);
        }
        producer.send(record).map_err(|(e, _)| anyhow::anyhow!("replaying letter {} to `{topic}`: {e}", l.id()))?;
    }
    crate::sink::kafka::wait_acknowledged(&producer, Duration::from_secs(30)).context("waiting for replayed events to be acknowledged")?;
    Ok(letters.len())
}
