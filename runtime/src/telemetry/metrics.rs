//! Prometheus metrics. Names follow the seeds: `events_processed_total` and
//! `event_processing_duration_seconds`. Label values stay bounded: event types beyond
//! [`MAX_EVENT_TYPES`] per pipeline are counted as `(other)`.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// Distinct `event_type` label values per pipeline before the rest become `(other)`.
pub const MAX_EVENT_TYPES: usize = 100;

/// The outcome of one event, the `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Handled and committed.
    Ok,
    /// The plugin failed for it (error, trap, deadline, memory).
    Failed,
    /// It did not decode as an event.
    Invalid,
    /// No handler routes its type.
    Skipped,
    /// Already applied to the read model (a redelivery after a crash or rebalance).
    Duplicate,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Skipped => "skipped",
            Status::Duplicate => "duplicate",
        }
    }
}

/// Every metric weir exports.
pub struct Metrics {
    /// The registry `/metrics` renders.
    pub registry: Registry,
    /// `events_processed_total{pipeline,event_type,status}`.
    pub events: IntCounterVec,
    /// `event_processing_duration_seconds{pipeline}`: from an event's arrival in weir to
    /// the commit of its batch.
    pub duration: HistogramVec,
    /// `handler_call_duration_seconds{pipeline}`: one plugin call (a whole batch).
    pub handler_call: HistogramVec,
    /// `batch_size_events{pipeline}`.
    pub batch_size: HistogramVec,
    /// `pipeline_errors_total{pipeline,stage}`: failed attempts of a stage (source,
    /// plugin, kafka, read_model, commit), each retried with backoff.
    pub errors: IntCounterVec,
    /// `dead_letters_total{pipeline,stage}`: events sent to the dead-letter topic.
    pub dead_letters: IntCounterVec,
    /// `pipeline_up{pipeline}`: 1 while the pipeline consumes normally.
    pub up: IntGaugeVec,
    /// `records_not_delivered_total{pipeline}`: offsets the broker skipped when a pipeline
    /// resumed a partition where its read model left off (see `pipeline::ResumeCheck`).
    pub not_delivered: IntCounterVec,
    seen_types: Mutex<HashMap<String, HashSet<String>>>,
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let events = IntCounterVec::new(
            Opts::new("events_processed_total", "Events seen by a pipeline, by type and outcome."),
            &["pipeline", "event_type", "status"],
        )
        .expect("metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "event_processing_duration_seconds",
                "Time from an event's arrival in weir to the commit of its batch.",
            )
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["pipeline"],
        )
        .expect("metric");
        let handler_call = HistogramVec::new(
            HistogramOpts::new("handler_call_duration_seconds", "Duration of one plugin call (one batch).")
                .buckets(prometheus::exponential_buckets(0.0001, 2.5, 12).expect("buckets")),
            &["pipeline"],
        )
        .expect("metric");
        let batch_size = HistogramVec::new(
            HistogramOpts::new("batch_size_events", "Events per batch.")
                .buckets(vec![1.0, 10.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0]),
            &["pipeline"],
        )
        .expect("metric");
        let errors = IntCounterVec::new(
            Opts::new("pipeline_errors_total", "Failed attempts of a pipeline stage, each retried with backoff."),
            &["pipeline", "stage"],
        )
        .expect("metric");
        let dead_letters = IntCounterVec::new(
            Opts::new("dead_letters_total", "Events sent to the dead-letter topic, by stage (decode, handler)."),
            &["pipeline", "stage"],
        )
        .expect("metric");
        let not_delivered = IntCounterVec::new(
            Opts::new(
                "records_not_delivered_total",
                "Offsets the broker skipped when a pipeline resumed a partition where its read model left off.",
            ),
            &["pipeline"],
        )
        .expect("metric");
        let up = IntGaugeVec::new(Opts::new("pipeline_up", "1 while the pipeline consumes normally."), &["pipeline"])
            .expect("metric");
        for m in [
            Box::new(events.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(handler_call.clone()),
            Box::new(batch_size.clone()),
            Box::new(errors.clone()),
            Box::new(dead_letters.clone()),
            Box::new(up.clone()),
            Box::new(not_delivered.clone()),
        ] {
            registry.register(m).expect("register");
        }
        Metrics { registry, events, duration, handler_call, batch_size, errors, dead_letters, up, not_delivered, seen_types: Mutex::default() }
    }

    /// Counts `n` events of `event_type` with `status` for `pipeline`.
    pub fn count(&self, pipeline: &str, event_type: &str, status: Status, n: u64) {
        let label = self.type_label(pipeline, event_type);
        self.events.with_label_values(&[pipeline, label, status.label()]).inc_by(n);
    }

    fn type_label<'t>(&self, pipeline: &str, event_type: &'t str) -> &'t str {
        let mut seen = self.seen_types.lock().expect("lock");
        // Looked up without allocating: this runs for every batch.
        if seen.get(pipeline).is_some_and(|types| types.contains(event_type)) {
            return event_type;
        }
        let types = seen.entry(pipeline.to_owned()).or_default();
        if types.len() < MAX_EVENT_TYPES {
            types.insert(event_type.to_owned());
            return event_type;
        }
        "(other)"
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("encode");
        String::from_utf8(out).expect("utf-8")
    }
}
