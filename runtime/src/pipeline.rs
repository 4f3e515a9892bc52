//! One pipeline's loop, in data-path order: source → decode → router → plugin → sinks →
//! commit. Runs on its own thread.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::message::{BorrowedMessage, Headers, Message};

use crate::config::{OnError, Pipeline};
use crate::plugin::{Batch, BatchBuilder, BatchOutcome, Instance, Origin, Plugin, Schema};
use crate::sink::kafka::{DeadLetter, KafkaSink, ProducerFenced};
use crate::sink::sql::write_behind::{self, Outcome, WriteBehind};
use crate::sink::sql::{self, OffsetAdvance, Offsets};
use crate::source::envelope::decode;
use crate::source::kafka::{Source, client_config, next_offsets};
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
    /// `--instance-id`: appended to the transactional id of `exactly_once` pipelines, so
    /// that processes sharing a consumer group do not fence each other.
    pub instance_id: Option<String>,
}

/// What a pipeline did in this run, logged when it stops: batch jobs and the benchmarks
/// read their throughput from it (records from the first fetch to the last commit).
#[derive(Default)]
struct RunTotals {
    /// Records fetched, including redone and skipped ones.
    records: u64,
    /// Wall-clock time of the first non-empty fetch, ms since the epoch (0: none).
    first_fetch_unix_ms: u64,
    /// Wall-clock time the last batch finished committing, ms since the epoch (0: none).
    last_commit_unix_ms: u64,
}

impl RunTotals {
    /// `first_arrived`: when the batch's first record arrived.
    fn fetched(&mut self, records: usize, first_arrived: Instant) {
        if self.first_fetch_unix_ms == 0 {
            self.first_fetch_unix_ms = write_behind::unix_ms().saturating_sub(first_arrived.elapsed().as_millis() as u64);
        }
        self.records += records as u64;
    }
    fn committed_at(&mut self, unix_ms: u64) {
        self.last_commit_unix_ms = self.last_commit_unix_ms.max(unix_ms);
    }
}

/// First delay after a failed sink write; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl PipelineRun {
    /// Runs until shutdown. Returns an error only for failures that stop the pipeline
    /// (it cannot start); everything else is retried with backoff.
    pub fn run(self, control: &Control) -> anyhow::Result<()> {
        let p = &self.pipeline;
        let name = p.name.as_str();
        let schema = Arc::new(Schema::of(p));
        let read_store = sql::open(p, self.database.as_deref())?;
        // Rows and offsets commit in one database transaction: the database's offsets
        // are the truth, Kafka's copy is for lag monitoring.
        let offsets_in_db = read_store.is_some();
        // Write-behind (see sink::sql::write_behind): the database commits on its own
        // thread while the next batch is handled. Not with Kafka transactions, whose
        // commit must precede the database's, nor with deduplication, which reads the
        // applied event ids back from the database.
        let write_behind = offsets_in_db && !p.exactly_once && !p.source.deduplicate;
        // The consumer outlives the writer thread, which commits Kafka's copy of the offsets.
        let in_flight = write_behind.then(|| Arc::new(write_behind::InFlight::default()));
        let source = Source::new(&self.brokers, p, in_flight.clone())?;
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let (mut wb, read_store) = if write_behind {
                let mut writer_store = sql::open(p, self.database.as_deref())?.expect("a read model");
                let in_flight = in_flight.clone().expect("with write-behind");
                let (wb, commands, done) = write_behind::channels(schema.tables.iter().map(|t| t.key_positions.clone()).collect(), in_flight.clone());
                let group = p.group.clone();
                let source = &source;
                std::thread::Builder::new().name(format!("writer-{name}")).spawn_scoped(scope, move || {
                    write_behind::writer(commands, done, &in_flight, |changes, advances| {
                        let applied = retry(control, name, "read_model", || writer_store.apply_unless_conflict(changes, &group, advances, &[]));
                        if let Some(Ok(())) = applied {
                            // Kafka's copy, for lag monitoring, at once: a failure loses nothing.
                            let positions: Vec<(&str, i32, i64)> = advances.iter().map(|a| (a.topic.as_str(), a.partition, a.to)).collect();
                            if let Err(e) = source.commit_positions(&positions, false) {
                                tracing::debug!(pipeline = name, "committing offsets to Kafka: {e:#}");
                            }
                        }
                        applied
                    })
                })?;
                let reader = read_store.map(|s| wb.reader(s));
                (Some(wb), reader)
            } else {
                (None, read_store)
            };
            let mut instance = Instance::new(&self.plugin, schema, p.handler.limits, read_store)?;
            let transactional_id = p.exactly_once.then(|| match &self.instance_id {
                Some(i) => format!("{}-{i}", p.transactional_id),
                None => p.transactional_id.clone(),
            });
            let sink = KafkaSink::new(client_config(&self.brokers, p, &[]), p.kafka_topics(), name, transactional_id.as_deref())
                .with_context(|| format!("pipeline `{name}`"))?;
            // Emitted events, dead letters and consumer offsets commit in one Kafka transaction.
            let transactional = sink.is_transactional();
            let version = &self.plugin.digest[..12];
            tracing::info!(pipeline = name, plugin = %self.plugin.path.display(), version, topics = ?p.source.topics, offsets_in_db, transactional, "pipeline started");
            METRICS.up.with_label_values(&[name]).set(1);

            // What the read model already holds, per partition: loaded on every assignment.
            let mut applied: Option<Offsets> = None;
            let mut resume_check = ResumeCheck::default();
            // Transactional pipelines with a read model: partitions whose Kafka offsets (from
            // the transactions) are ahead of the database's, after a crash between the two
            // commits. Records below them are applied to the database again, but what they
            // emitted and dead-lettered is not sent again: their transaction committed it.
            let mut emitted: Offsets = Offsets::new();
            let mut source_backoff = Backoff::new();
            let mut kafka_backoff = Backoff::new();
            let mut builder = BatchBuilder::new();
            let mut topic_names: Vec<Arc<str>> = Vec::new();
            let mut records: Vec<(BorrowedMessage<'_>, Instant)> = Vec::new();
            let mut totals = RunTotals::default();
            while !control.shutdown.load(Ordering::Relaxed) {
                // 1. Source: a batch of records.
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
                let rebalanced = source.take_rebalanced();
                if offsets_in_db && (rebalanced || applied.is_none()) {
                    // What the writer holds commits first; its cached rows may be someone
                    // else's to write now.
                    if let Some(wb) = wb.as_mut() {
                        settle(wb, true, &source, &mut totals, name)?;
                        wb.reset()?;
                    }
                    // Partitions moved: what this process fetched may be someone else's now,
                    // and what it was given may have progressed elsewhere.
                    let Some(offsets) = retry(control, name, "read_model", || load_offsets(&mut instance, &p.group)) else { break };
                    // The database is the truth; where Kafka's group is ahead of it, go back.
                    let Some(committed) = retry(control, name, "kafka", || source.committed()) else { break };
                    emitted = Offsets::new();
                    let mut rewound = false;
                    for ((topic, partition), kafka) in committed {
                        let db = offsets.get(&(topic.clone(), partition)).copied();
                        match db {
                            Some(db) if db >= kafka => continue,
                            _ if transactional => {
                                tracing::info!(pipeline = name, topic, partition, db = db.unwrap_or(0), kafka, "the read model is behind the last transaction: applying the records again without emitting them twice");
                                emitted.insert((topic.clone(), partition), kafka);
                            }
                            // Kafka's copy is committed after the database's: ahead of it only
                            // when the database was restored from an older state.
                            Some(db) => tracing::warn!(pipeline = name, topic, partition, db, kafka, "the read model is behind the consumer group's committed offset (a database restored from a backup?): applying the records again from the database's offset"),
                            None => {
                                tracing::warn!(pipeline = name, topic, partition, kafka, "the read model holds no offset of this partition but the consumer group is at {kafka}: records before it are not in the read model (to rebuild a wiped database, use a new consumer group)");
                                continue;
                            }
                        }
                        source.rewind(&topic, partition, db.unwrap_or(0));
                        rewound = true;
                    }
                    if rewound {
                        records.clear();
                    }
                    resume_check.expect(&offsets, &source.assigned().unwrap_or_default());
                    applied = Some(offsets);
                }
                if (offsets_in_db || transactional) && rebalanced {
                    if let Ok(assigned) = source.assigned() {
                        records.retain(|(m, _)| assigned.iter().any(|(t, q)| t == m.topic() && *q == m.partition()));
                    }
                }
                resume_check.check(records.iter().map(|(m, _)| (m.topic(), m.partition(), m.offset())), name);
                if let Some(applied) = &applied {
                    let before = records.len();
                    let positions = drop_applied(&mut records, applied);
                    let duplicates = before - records.len();
                    if duplicates > 0 {
                        tracing::debug!(pipeline = name, duplicates, "skipped records the read model already holds");
                        METRICS.count(name, "", Status::Duplicate, duplicates as u64);
                        if records.is_empty() {
                            // Let Kafka's copy of the offsets catch up with the database's.
                            let positions: Vec<(&str, i32, i64)> = positions.iter().map(|(t, p, o)| (t.as_str(), *p, *o)).collect();
                            let _ = source.commit_positions(&positions, false);
                        }
                    }
                }
                if records.is_empty() {
                    // Nothing new: let the writer finish, so that idle means committed.
                    if let Some(wb) = wb.as_mut().filter(|wb| wb.busy()) {
                        if settle(wb, true, &source, &mut totals, name)? {
                            applied = None;
                        }
                        continue;
                    }
                    self.report_idle(control, &source);
                    continue;
                }
                self.not_idle(control);
                totals.fetched(records.len(), records[0].1);

                // 2. Decode and route.
                builder.clear();
                let mut origins = Vec::with_capacity(records.len());
                let mut undecodable: Vec<(usize, String)> = Vec::new();
                let mut routed = Vec::with_capacity(records.len());
                for (i, (m, _)) in records.iter().enumerate() {
                    // Origin handles index `records`, so every record gets its metadata slot.
                    origins.push(origin_of(m, &mut topic_names));
                    let header_type = m.headers().and_then(|h| {
                        h.iter().find(|h| h.key == "event-type").and_then(|h| h.value).and_then(|v| std::str::from_utf8(v).ok())
                    });
                    match decode(m.payload(), header_type, m.timestamp().to_millis()) {
                        Err(e) => {
                            tracing::warn!(pipeline = name, topic = m.topic(), partition = m.partition(), offset = m.offset(), "event does not decode, dead-lettered: {e}");
                            METRICS.count(name, "", Status::Invalid, 1);
                            undecodable.push((i, e.to_string()));
                        }
                        Ok(d) if !p.routes(&d.event_type) => METRICS.count(name, &d.event_type, Status::Skipped, 1),
                        Ok(d) => routed.push((i, d)),
                    }
                }
                if p.source.deduplicate {
                    let ids: Vec<&str> = routed.iter().filter_map(|(_, d)| d.envelope.event_id.as_deref()).collect();
                    let Some(seen) = retry(control, name, "read_model", || {
                        instance.read_store().expect("deduplication needs a read model").applied_ids(&p.group, &ids)
                    }) else {
                        break;
                    };
                    let mut in_batch = HashSet::new();
                    routed.retain(|(_, d)| match d.envelope.event_id.as_deref() {
                        Some(id) if seen.contains(id) || !in_batch.insert(id.to_owned()) => {
                            METRICS.count(name, &d.event_type, Status::Duplicate, 1);
                            false
                        }
                        _ => true,
                    });
                }
                for (i, d) in &routed {
                    let m = &records[*i].0;
                    builder.push(m.payload().unwrap_or_default(), m.key(), d, *i as u32);
                }

                // 3. Plugin: one call per batch, retryable failures retried.
                let outcome = if builder.is_empty() {
                    BatchOutcome::default()
                } else {
                    let call_started = Instant::now();
                    instance.set_origins(origins);
                    let outcome = retry(control, name, "plugin", || handle(&mut instance, builder.batch(), &p.on_error));
                    METRICS.handler_call.with_label_values(&[name]).observe(call_started.elapsed().as_secs_f64());
                    METRICS.batch_size.with_label_values(&[name]).observe(builder.len() as f64);
                    match outcome {
                        Some(o) => o,
                        None => break,
                    }
                };
                let batch = builder.batch();

                // 4. Sinks: dead letters and emitted events first (acknowledged), then the
                // rows with the offsets in one transaction, then the offsets in Kafka.
                // Records whose transaction committed their outputs before a crash.
                let already_sent = |origin: usize| {
                    let m = &records[origin].0;
                    !emitted.is_empty() && emitted.get(&(m.topic().to_owned(), m.partition())).is_some_and(|&k| m.offset() < k)
                };
                let mut letters = Vec::new();
                for (i, error) in &undecodable {
                    if !already_sent(*i) {
                        letters.push(dead_letter(&records[*i].0, error, "decode", 0, version));
                    }
                }
                for f in &outcome.failures {
                    let (m, _) = &records[batch.origin(f.position) as usize];
                    tracing::error!(
                        pipeline = name, topic = m.topic(), partition = m.partition(), offset = m.offset(),
                        event_id = batch.event_id(f.position).unwrap_or(""), event_type = batch.event_type(f.position), retries = f.retries,
                        "handler failed for an event, dead-lettered: {}", f.message
                    );
                    METRICS.count(name, batch.event_type(f.position), Status::Failed, 1);
                    if !already_sent(batch.origin(f.position) as usize) {
                        letters.push(dead_letter(m, &f.message, "handler", f.retries, version));
                    }
                }
                let emits: Cow<'_, [_]> = if emitted.is_empty() {
                    Cow::Borrowed(&outcome.emits[..])
                } else {
                    Cow::Owned(outcome.emits.iter().filter(|e| !already_sent(batch.origin(e.input) as usize)).cloned().collect())
                };
                let dlq = &p.on_error.dead_letter_topic;
                let identity = |position: u32| {
                    let (m, _) = &records[batch.origin(position) as usize];
                    format!("{}/{}/{}", m.topic(), m.partition(), m.offset())
                };
                if transactional {
                    // One transaction: dead letters, emitted events and the consumer offsets.
                    let sent = sink
                        .begin()
                        .and_then(|()| sink.send_dead_letters(dlq, &letters))
                        .and_then(|()| sink.send(batch, &emits, identity))
                        .and_then(|()| sink.commit(&next_offsets(&records, &emitted)?, &source.group_metadata()?));
                    match sent {
                        Ok(()) => kafka_backoff.reset(name),
                        Err(e) if e.is::<ProducerFenced>() => {
                            METRICS.up.with_label_values(&[name]).set(0);
                            return Err(e);
                        }
                        Err(e) => {
                            // Nothing of the batch is visible; consume it again from the
                            // committed state, which a rebalance may have moved.
                            sink.abort();
                            source.rewind_batch(&records);
                            applied = None;
                            if !kafka_backoff.wait(control, name, "kafka", &format!("the batch's transaction failed and will be redone: {e:#}")) {
                                break;
                            }
                            continue;
                        }
                    }
                } else {
                    if retry(control, name, "dead_letter", || sink.send_dead_letters(dlq, &letters)).is_none() {
                        break;
                    }
                    if retry(control, name, "kafka", || sink.send(batch, &emits, identity)).is_none() {
                        break;
                    }
                }
                for l in &letters {
                    METRICS.dead_letters.with_label_values(&[name, l.stage]).inc();
                }
                let failed: HashSet<u32> = outcome.failures.iter().map(|f| f.position).collect();
                if let (Some(known), Some(wb)) = (applied.as_mut(), wb.as_mut()) {
                    let advances = advances(&records, known);
                    for a in &advances {
                        known.insert((a.topic.clone(), a.partition), a.to);
                    }
                    wb.submit(outcome.changes, advances)?;
                    if settle(wb, false, &source, &mut totals, name)? {
                        applied = None;
                        continue;
                    }
                } else if let Some(known) = applied.as_mut() {
                    let advances = advances(&records, known);
                    // Remembered only for events that succeeded: a replayed dead letter has
                    // the same id and must run again.
                    let applied_ids: Vec<&str> = if p.source.deduplicate {
                        (0..batch.len() as u32).filter(|q| !failed.contains(q)).filter_map(|q| batch.event_id(q)).collect()
                    } else {
                        Vec::new()
                    };
                    let committed = retry(control, name, "read_model", || {
                        instance.read_store().expect("exactly-once pipelines have a read model").apply_unless_conflict(&outcome.changes, &p.group, &advances, &applied_ids)
                    });
                    match committed {
                        None => break,
                        Some(Err(conflict)) => {
                            tracing::warn!(pipeline = name, "{conflict}");
                            applied = None;
                            for a in &advances {
                                source.rewind(&a.topic, a.partition, a.from.unwrap_or(0));
                            }
                            continue;
                        }
                        Some(Ok(())) => {
                            for a in advances {
                                known.insert((a.topic, a.partition), a.to);
                            }
                        }
                    }
                } else if !outcome.changes.is_empty() {
                    anyhow::bail!("plugin wrote rows but the pipeline has no read model");
                }
                if !transactional && wb.is_none() && retry(control, name, "commit", || source.commit(&records, !offsets_in_db)).is_none() {
                    break;
                }

                // 5. Account.
                if wb.is_none() {
                    totals.committed_at(write_behind::unix_ms());
                }
                // Counted per event type per batch: a labelled counter costs a lookup.
                let mut ok: Vec<(&str, u64)> = Vec::new();
                for position in (0..batch.len() as u32).filter(|p| !failed.contains(p)) {
                    let t = batch.event_type(position);
                    match ok.iter_mut().find(|(seen, _)| *seen == t) {
                        Some((_, n)) => *n += 1,
                        None => ok.push((t, 1)),
                    }
                }
                for (t, n) in ok {
                    METRICS.count(name, t, Status::Ok, n);
                }
                let done = Instant::now();
                let histogram = METRICS.duration.with_label_values(&[name]);
                for (_, arrived) in &records {
                    histogram.observe((done - *arrived).as_secs_f64());
                }
            }
            if let Some(wb) = wb.as_mut() {
                settle(wb, true, &source, &mut totals, name)?;
            }
            METRICS.up.with_label_values(&[name]).set(0);
            tracing::info!(
                pipeline = name,
                records = totals.records,
                first_fetch_unix_ms = totals.first_fetch_unix_ms,
                last_commit_unix_ms = totals.last_commit_unix_ms,
                "pipeline stopped"
            );
            Ok(())
        })
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

/// Runs a batch through the plugin, then retries the events whose failure is retryable,
/// up to `on_error.retries` times with backoff. A retry sees the batch's other writes.
fn handle(instance: &mut Instance, batch: &Batch, on_error: &OnError) -> anyhow::Result<BatchOutcome> {
    instance.begin_batch();
    let all: Vec<u32> = (0..batch.len() as u32).collect();
    let mut failures = instance.run_positions(batch, &all)?;
    for attempt in 1..=on_error.retries {
        let again: Vec<u32> = failures.iter().filter(|f| f.retryable).map(|f| f.position).collect();
        if again.is_empty() {
            break;
        }
        std::thread::sleep(on_error.backoff.delay(attempt));
        failures.retain(|f| !f.retryable);
        for mut f in instance.run_positions(batch, &again)? {
            f.retries = attempt;
            failures.push(f);
        }
    }
    failures.sort_by_key(|f| f.position);
    Ok(instance.finish_batch(failures))
}

fn load_offsets(instance: &mut Instance, group: &str) -> anyhow::Result<Offsets> {
    instance.read_store().expect("exactly-once pipelines have a read model").offsets(group)
}

/// Checks that the broker delivers a resumed partition from where the read model left
/// off. After loading the applied offsets (start, rebalance), the first record of each
/// partition must not lie beyond its applied offset: the records in between were never
/// delivered. That happens on a compacted topic, after retention deleted records the
/// pipeline had not read, with aborted transactions, or with a broker that skips the
/// rest of a record batch a fetch starts inside of (tansu 0.6.0). One offset is allowed
/// for the commit marker of a transactional producer.
#[derive(Default)]
struct ResumeCheck {
    /// (topic, partition, applied offset the partition's next record should not exceed);
    /// a few entries, searched without allocating.
    pending: Vec<(String, i32, i64)>,
}

impl ResumeCheck {
    /// Expects each of the `assigned` partitions to resume at its offset in `applied`.
    fn expect(&mut self, applied: &Offsets, assigned: &[(String, i32)]) {
        self.pending = assigned.iter().filter_map(|(t, p)| applied.get(&(t.clone(), *p)).map(|&o| (t.clone(), *p, o))).collect();
    }

    /// Looks at the first record of each expected partition among `records` (topic,
    /// partition, offset); warns and counts where offsets were skipped. Returns how many.
    fn check<'r>(&mut self, records: impl IntoIterator<Item = (&'r str, i32, i64)>, pipeline: &str) -> u64 {
        let mut not_delivered = 0;
        for (topic, partition, offset) in records {
            if self.pending.is_empty() {
                break;
            }
            let Some(at) = self.pending.iter().position(|(t, p, _)| t == topic && *p == partition) else { continue };
            let (_, _, expected) = self.pending.swap_remove(at);
            let skipped = offset - expected;
            if skipped > 1 {
                tracing::warn!(
                    pipeline, topic, partition, resumed_at = expected, first_delivered = offset,
                    "the broker delivered nothing of offsets {expected}..{}: a compacted topic, records deleted by retention, aborted transactions, or a broker that skips the rest of a record batch (tansu 0.6.0 does)",
                    offset - 1
                );
                METRICS.not_delivered.with_label_values(&[pipeline]).inc_by(skipped as u64);
                not_delivered += skipped as u64;
            }
        }
        not_delivered
    }
}

/// Drops records below what the read model already applied (and repeats within the
/// batch); returns the next offset per partition seen.
fn drop_applied(records: &mut Vec<(BorrowedMessage<'_>, Instant)>, applied: &Offsets) -> Vec<(String, i32, i64)> {
    let mut next: Vec<(String, i32, i64)> = Vec::new();
    records.retain(|(m, _)| {
        let at = match next.iter().position(|(t, p, _)| t == m.topic() && *p == m.partition()) {
            Some(at) => at,
            None => {
                let floor = applied.get(&(m.topic().to_owned(), m.partition())).copied().unwrap_or(0);
                next.push((m.topic().to_owned(), m.partition(), floor));
                next.len() - 1
            }
        };
        if m.offset() < next[at].2 {
            return false;
        }
        next[at].2 = m.offset() + 1;
        true
    });
    next
}

/// The offset moves a batch makes, per partition.
fn advances(records: &[(BorrowedMessage<'_>, Instant)], applied: &Offsets) -> Vec<OffsetAdvance> {
    let mut out: Vec<OffsetAdvance> = Vec::new();
    for (m, _) in records {
        match out.iter_mut().find(|a| a.topic == m.topic() && a.partition == m.partition()) {
            Some(a) => a.to = a.to.max(m.offset() + 1),
            None => out.push(OffsetAdvance {
                topic: m.topic().to_owned(),
                partition: m.partition(),
                from: applied.get(&(m.topic().to_owned(), m.partition())).copied(),
                to: m.offset() + 1,
            }),
        }
    }
    out
}

fn dead_letter<'m>(m: &'m BorrowedMessage<'_>, error: &'m str, stage: &'static str, retry_count: u32, version: &'m str) -> DeadLetter<'m> {
    DeadLetter {
        payload: m.payload(),
        key: m.key(),
        topic: m.topic(),
        partition: m.partition(),
        offset: m.offset(),
        error,
        stage,
        retry_count,
        plugin_version: version,
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

/// Takes what the read-model writer finished (it committed Kafka's copy of their offsets
/// too) and counts them as committed. After a conflict (another consumer applied
/// those records) it waits for the batches the writer then discarded and rewinds their
/// partitions; the database's offsets, read again, say where to go on. `wait`: until
/// everything submitted is finished. Returns whether the offsets must be read again.
fn settle(wb: &mut WriteBehind, wait: bool, source: &Source, totals: &mut RunTotals, name: &str) -> anyhow::Result<bool> {
    let mut redo: Vec<OffsetAdvance> = Vec::new();
    for done in wb.finished(wait)? {
        match done.outcome {
            Outcome::Committed => totals.committed_at(done.at_unix_ms),
            Outcome::Conflict(e) => {
                tracing::warn!(pipeline = name, "{e:#}");
                redo.extend(done.advances);
            }
            Outcome::Discarded => redo.extend(done.advances),
        }
    }
    if redo.is_empty() {
        return Ok(false);
    }
    for done in wb.finished(true)? {
        redo.extend(done.advances);
    }
    wb.reset()?;
    source.rewind_to_earliest(redo.iter().map(|a| (a.topic.as_str(), a.partition, a.from.unwrap_or(0))));
    Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(entries: &[(&str, i32, i64)]) -> Offsets {
        entries.iter().map(|(t, p, o)| ((t.to_string(), *p), *o)).collect()
    }

    #[test]
    fn a_partition_resumed_beyond_its_applied_offset_is_reported_once() {
        let mut check = ResumeCheck::default();
        let assigned = vec![("orders".to_owned(), 0), ("orders".to_owned(), 1)];
        // Partition 2 is not ours: not checked. Partition 1 resumes exactly, partition 0
        // 311 offsets late (as tansu did), then a marker-sized gap on partition 1 later on.
        check.expect(&applied(&[("orders", 0, 84746), ("orders", 1, 100), ("orders", 2, 5)]), &assigned);
        let first = [("orders", 1, 100), ("orders", 2, 900), ("orders", 0, 85058), ("orders", 0, 85059)];
        assert_eq!(check.check(first, "p"), 85058 - 84746);
        // Checked once per resume: later records are not looked at again.
        assert_eq!(check.check([("orders", 0, 99_999)], "p"), 0);
    }

    #[test]
    fn records_below_the_applied_offset_and_a_commit_marker_are_not_reported() {
        let mut check = ResumeCheck::default();
        let assigned = vec![("t".to_owned(), 0), ("t".to_owned(), 1)];
        check.expect(&applied(&[("t", 0, 50), ("t", 1, 50)]), &assigned);
        // Kafka's copy of the offsets lags the database's: records before 50 come again
        // (and are dropped as applied); one offset past it is a transaction's marker.
        assert_eq!(check.check([("t", 0, 40), ("t", 1, 51)], "p"), 0);
    }
}
