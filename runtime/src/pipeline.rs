//! One pipeline's loop, in data-path order: source → decode → router → plugin → sinks →
//! commit. Runs on its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::message::{BorrowedMessage, Headers, Message};

use crate::config::Pipeline;
use crate::plugin::{BatchBuilder, BatchOutcome, Instance, Origin, Plugin, Schema};
use crate::sink::kafka::KafkaSink;
use crate::sink::sql;
use crate::source::envelope::decode;
use crate::source::kafka::{Source, client_config};
use crate::telemetry::metrics::{METRICS, Status};

/// What the process tells its pipelines, and what they tell it back.
#[derive(Default)]
pub struct Control {
    /// Set on SIGINT/SIGTERM: finish the current batch, commit, and stop.
    pub shutdown: AtomicBool,
    /// With `--exit-when-idle`: per pipeline, since when it has had nothing to do.
    pub idle_since: Mutex<Vec<Option<Instant>>>,
}

/// Everything one pipeline needs to run.
pub struct PipelineRun {
    /// The parsed pipeline.
    pub pipeline: Pipeline,
    /// Its position among the process's pipelines.
    pub slot: usize,
    /// The bootstrap servers it uses (its own, or the embedded broker's).
    pub brokers: String,
    /// Overrides the read model's `database`.
    pub database: Option<String>,
    /// The compiled plugin.
    pub plugin: Plugin,
    /// Whether to report idleness (for `--exit-when-idle`).
    pub report_idle: bool,
}

/// First delay after a failed sink write; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl PipelineRun {
    /// Runs until shutdown. Returns an error only for failures that stop the pipeline
    /// (it cannot start); sink failures are retried.
    pub fn run(self, control: &Control) -> anyhow::Result<()> {
        let p = &self.pipeline;
        let name = p.name.as_str();
        let schema = Arc::new(Schema::of(p));
        let read_store = sql::open(p, self.database.as_deref())?;
        let mut instance = Instance::new(&self.plugin, schema, p.handler.limits, read_store)?;
        let kafka_sink = if p.topics.is_empty() {
            None
        } else {
            Some(KafkaSink::new(client_config(&self.brokers, p, &[]), p.kafka_topics(), name)?)
        };
        let source = Source::new(&self.brokers, p)?;
        tracing::info!(pipeline = name, plugin = %self.plugin.path.display(), version = &self.plugin.digest[..12], topics = ?p.source.topics, "pipeline started");
        METRICS.up.with_label_values(&[name]).set(1);

        let mut source_backoff = Backoff::new();
        let mut builder = BatchBuilder::new();
        let mut topic_names: Vec<Arc<str>> = Vec::new();
        let mut records: Vec<(BorrowedMessage<'_>, Instant)> = Vec::new();
        while !control.shutdown.load(Ordering::Relaxed) {
            records.clear();
            if let Err(e) = source.next_batch(&mut records) {
                // Records polled before the error stay in the batch and are handled.
                if records.is_empty() {
                    source_backoff.wait(control, name, "source", &format!("consumer error: {e}"));
                    continue;
                }
            } else {
                source_backoff.reset(name);
            }
            if records.is_empty() {
                self.report_idle(control, &source);
                continue;
            }
            self.not_idle(control);

            // Decode and route.
            builder.clear();
            let mut origins = Vec::with_capacity(records.len());
            for (i, (m, _)) in records.iter().enumerate() {
                // Origin handles index `records`, so every record gets its metadata slot.
                origins.push(origin_of(m, &mut topic_names));
                let header_type = m.headers().and_then(|h| {
                    h.iter().find(|h| h.key == "event-type").and_then(|h| h.value).and_then(|v| std::str::from_utf8(v).ok())
                });
                match decode(m.payload(), header_type, m.timestamp().to_millis()) {
                    Err(e) => {
                        tracing::warn!(pipeline = name, topic = m.topic(), partition = m.partition(), offset = m.offset(), "skipping an event that does not decode: {e}");
                        METRICS.count(name, "", Status::Invalid, 1);
                    }
                    Ok(d) if !p.routes(&d.event_type) => {
                        METRICS.count(name, &d.event_type, Status::Skipped, 1);
                    }
                    Ok(d) => {
                        builder.push(m.payload().unwrap_or_default(), m.key(), &d, i as u32);
                    }
                }
            }

            // Handle, write, commit.
            let outcome = if builder.is_empty() {
                BatchOutcome::default()
            } else {
                let call_started = Instant::now();
                instance.set_origins(origins);
                let outcome = retry(control, name, "plugin", || instance.run(builder.batch()));
                METRICS.handler_call.with_label_values(&[name]).observe(call_started.elapsed().as_secs_f64());
                METRICS.batch_size.with_label_values(&[name]).observe(builder.len() as f64);
                match outcome {
                    Some(o) => o,
                    None => break,
                }
            };
            let batch = builder.batch();
            for f in &outcome.failures {
                let event_type = batch.event_type(f.position);
                let (m, _) = &records[batch.origin(f.position) as usize];
                tracing::error!(
                    pipeline = name, topic = m.topic(), partition = m.partition(), offset = m.offset(),
                    event_id = batch.event_id(f.position).unwrap_or(""), event_type,
                    "handler failed for an event: {}", f.message
                );
                METRICS.count(name, event_type, Status::Failed, 1);
            }
            if let Some(sink) = &kafka_sink {
                let identity = |position: u32| {
                    let (m, _) = &records[batch.origin(position) as usize];
                    format!("{}/{}/{}", m.topic(), m.partition(), m.offset())
                };
                if retry(control, name, "kafka", || sink.send(batch, &outcome.emits, identity)).is_none() {
                    break;
                }
            }
            if !outcome.changes.is_empty() {
                let applied = retry(control, name, "read_model", || match instance.read_store() {
                    Some(store) => store.apply(&outcome.changes),
                    None => anyhow::bail!("plugin wrote rows but the pipeline has no read model"),
                });
                if applied.is_none() {
                    break;
                }
            }
            if retry(control, name, "commit", || source.commit(&records)).is_none() {
                break;
            }

            // Account.
            let failed: std::collections::HashSet<u32> = outcome.failures.iter().map(|f| f.position).collect();
            for position in (0..batch.len() as u32).filter(|p| !failed.contains(p)) {
                METRICS.count(name, batch.event_type(position), Status::Ok, 1);
            }
            let done = Instant::now();
            let histogram = METRICS.duration.with_label_values(&[name]);
            for (_, arrived) in &records {
                histogram.observe((done - *arrived).as_secs_f64());
            }
        }
        METRICS.up.with_label_values(&[name]).set(0);
        tracing::info!(pipeline = name, "pipeline stopped");
        Ok(())
    }

    fn report_idle(&self, control: &Control, source: &Source) {
        if !self.report_idle {
            return;
        }
        let caught_up = source.caught_up().unwrap_or(false);
        let mut idle = control.idle_since.lock().expect("lock");
        let slot = &mut idle[self.slot];
        if !caught_up {
            *slot = None;
        } else if slot.is_none() {
            *slot = Some(Instant::now());
        }
    }

    fn not_idle(&self, control: &Control) {
        if self.report_idle {
            control.idle_since.lock().expect("lock")[self.slot] = None;
        }
    }
}

/// The Kafka metadata `context.record-info` serves, sharing topic names.
fn origin_of(m: &BorrowedMessage<'_>, topic_names: &mut Vec<Arc<str>>) -> Origin {
    let topic = match topic_names.iter().find(|t| ***t == *m.topic()) {
        Some(t) => t.clone(),
        None => {
            topic_names.push(Arc::from(m.topic()));
            topic_names.last().expect("pushed").clone()
        }
    };
    let headers = m.headers().map_or_else(Vec::new, |h| {
        h.iter().map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())).collect()
    });
    Origin { topic, partition: m.partition(), offset: m.offset(), headers }
}

/// Exponential backoff after failures of one stage, with the log line and metrics that
/// go with them.
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Backoff { next: FIRST_BACKOFF }
    }

    /// Records a failure and waits before the next attempt; `false` on shutdown.
    fn wait(&mut self, control: &Control, pipeline: &str, stage: &str, error: &dyn std::fmt::Display) -> bool {
        METRICS.errors.with_label_values(&[pipeline, stage]).inc();
        METRICS.up.with_label_values(&[pipeline]).set(0);
        tracing::error!(pipeline, stage, retry_in_ms = self.next.as_millis() as u64, "{error:#}");
        let until = Instant::now() + self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        while Instant::now() < until {
            if control.shutdown.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Records a success after failures.
    fn reset(&mut self, pipeline: &str) {
        if self.next != FIRST_BACKOFF {
            self.next = FIRST_BACKOFF;
            METRICS.up.with_label_values(&[pipeline]).set(1);
            tracing::info!(pipeline, "recovered");
        }
    }
}

/// Runs `attempt` until it succeeds, backing off exponentially; `None` on shutdown.
fn retry<T>(control: &Control, pipeline: &str, stage: &str, mut attempt: impl FnMut() -> anyhow::Result<T>) -> Option<T> {
    let mut backoff = Backoff::new();
    loop {
        match attempt() {
            Ok(v) => {
                backoff.reset(pipeline);
                return Some(v);
            }
            Err(e) => {
                if !backoff.wait(control, pipeline, stage, &format!("{e:#}")) {
                    tracing::warn!(pipeline, "shutting down with an uncommitted batch: it will be consumed again on restart");
                    return None;
                }
            }
        }
    }
}
