//! `weir test`: runs the test cases declared next to a pipeline and compares what the
//! pipeline produced with golden files.
//!
//! The cases of `PIPE.toml` live in `PIPE.tests/`, one directory per case:
//!
//! ```text
//! pipelines/order-summary.toml
//! pipelines/order-summary.tests/seed/input.jsonl     events, one JSON object per line
//! pipelines/order-summary.tests/seed/input.toml      or: [[input]] tables (see below)
//! pipelines/order-summary.tests/seed/rows.golden     expected read-model rows
//! pipelines/order-summary.tests/seed/emitted.golden  expected emitted events and dead letters
//! ```
//!
//! Each case runs the pipeline on a fresh embedded broker and a fresh SQLite database
//! until it is idle. `input.jsonl` lines go to the pipeline's first source topic, keyed by
//! their `aggregateId`; `input.TOPIC.jsonl` goes to `TOPIC`. `input.toml` holds
//! `[[input]]` tables with `event` (the envelope as a TOML table), and optionally
//! `topic` and `key`. With `BLESS=1` the golden files are rewritten instead of compared.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::app::{RunSettings, start_pipelines};
use crate::config::Pipeline;
use crate::embedded::EmbeddedBroker;
use crate::plugin::{Engine, Plugin};

/// The longest one case may run before it counts as failed.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Dead-letter fields that differ from run to run (or build to build), left out of
/// golden files.
const UNSTABLE_LETTER_FIELDS: [&str; 2] = ["failedAt", "pluginVersion"];

/// One input record.
struct Input {
    topic: String,
    key: Option<String>,
    value: String,
}

/// How one case went.
pub enum Outcome {
    /// Everything matched (or was blessed).
    Passed,
    /// The differences, as unified diffs of the golden files.
    Failed(String),
}

/// Runs every case of every pipeline in `files` (pipeline files, or directories whose
/// `*.toml` pipelines that have a `.tests` directory are taken). Returns the exit code.
pub fn run(files: &[PathBuf], engine: &Engine, bless: bool) -> anyhow::Result<i32> {
    let pipelines = pipeline_files(files)?;
    let (mut passed, mut failed) = (0, 0);
    for file in &pipelines {
        let (pipeline, plugin) = match crate::config::check::check(std::slice::from_ref(file), engine) {
            Ok(mut checked) => checked.remove(0),
            Err(diagnostics) => {
                eprint!("{diagnostics}");
                failed += 1;
                continue;
            }
        };
        let cases = cases_of(file)?;
        if cases.is_empty() {
            println!("{}: no test cases (add {})", file.display(), tests_dir(file).join("CASE/input.jsonl").display());
        }
        for case in cases {
            let started = Instant::now();
            let name = format!("{}::{}", pipeline.name, case.file_name().unwrap_or_default().to_string_lossy());
            match run_case(&pipeline, &plugin, &case, bless) {
                Ok(Outcome::Passed) => {
                    passed += 1;
                    println!("test {name} ... ok ({} ms){}", started.elapsed().as_millis(), if bless { " (blessed)" } else { "" });
                }
                Ok(Outcome::Failed(diff)) => {
                    failed += 1;
                    println!("test {name} ... FAILED\n{diff}");
                }
                Err(e) => {
                    failed += 1;
                    println!("test {name} ... ERROR: {e:#}");
                }
            }
        }
    }
    println!("weir test: {passed} passed, {failed} failed");
    if failed > 0 && !bless {
        println!("(run with BLESS=1 to accept the new output as golden)");
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn tests_dir(pipeline_file: &Path) -> PathBuf {
    pipeline_file.with_extension("tests")
}

fn pipeline_files(args: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(arg)
                .with_context(|| format!("reading {}", arg.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && tests_dir(p).is_dir())
                .collect();
            found.sort();
            out.extend(found);
        } else if arg.is_file() {
            out.push(arg.clone());
        } else {
            bail!("{}: no such pipeline file or directory", arg.display());
        }
    }
    Ok(out)
}

fn cases_of(file: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = tests_dir(file);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    Ok(cases)
}

/// Runs one case: the pipeline on a fresh embedded broker and SQLite database.
pub fn run_case(pipeline: &Pipeline, plugin: &Plugin, case: &Path, bless: bool) -> anyhow::Result<Outcome> {
    let inputs = read_inputs(pipeline, case)?;
    let broker = EmbeddedBroker::start()?;
    let mut topics = BTreeSet::new();
    topics.extend(pipeline.source.topics.iter().cloned());
    topics.extend(pipeline.kafka_topics());
    topics.insert(pipeline.on_error.dead_letter_topic.clone());
    topics.extend(inputs.iter().map(|i| i.topic.clone()));
    for t in &topics {
        broker.create_topic(t)?;
    }
    let brokers = broker.bootstrap_servers();
    let mut producer = crate::app::InputProducer::new(&brokers)?;
    for i in &inputs {
        producer.send(&i.topic, i.key.as_deref(), i.value.as_bytes())?;
    }
    producer.finish()?;

    let db_dir = tempfile::tempdir().context("creating a temporary directory")?;
    let db = db_dir.path().join("read-model.db");
    let mut pipeline = pipeline.clone();
    // The pipeline's own broker settings are for production; a case runs embedded.
    pipeline.brokers = None;
    let settings = RunSettings { database: Some(format!("sqlite://{}", db.display())), report_idle: true, instance_id: None };
    let running = start_pipelines(vec![(pipeline.clone(), plugin.clone())], |_| brokers.clone(), &settings)?;
    let deadline = Instant::now() + CASE_TIMEOUT;
    while !running.all_idle() && !running.any_stopped() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let timed_out = Instant::now() >= deadline;
    if running.stop() != 0 {
        bail!("the pipeline failed (see the log above)");
    }
    if timed_out {
        bail!("the pipeline did not finish within {} s", CASE_TIMEOUT.as_secs());
    }

    let rows = render_rows(&pipeline, &db)?;
    let mut emitted = String::new();
    for topic in pipeline.kafka_topics() {
        emitted.push_str(&render_topic(&brokers, &topic, false)?);
    }
    emitted.push_str(&render_topic(&brokers, &pipeline.on_error.dead_letter_topic, true)?);

    let mut diffs = String::new();
    for (name, actual) in [("rows.golden", rows), ("emitted.golden", emitted)] {
        let path = case.join(name);
        if bless {
            std::fs::write(&path, &actual).with_context(|| format!("writing {}", path.display()))?;
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            let diff = similar::TextDiff::from_lines(&expected, &actual);
            let _ = write!(diffs, "{}", diff.unified_diff().header(&format!("{} (expected)", path.display()), "actual"));
        }
    }
    Ok(if diffs.is_empty() { Outcome::Passed } else { Outcome::Failed(diffs) })
}

fn read_inputs(pipeline: &Pipeline, case: &Path) -> anyhow::Result<Vec<Input>> {
    let first_topic = pipeline.source.topics.first().context("the pipeline has no source topic")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(case)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("input.")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no input.jsonl or input.toml", case.display());
    }
    let mut inputs = Vec::new();
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let topic = match name.as_str() {
            "input.toml" => {
                inputs.extend(toml_inputs(&file, &text, first_topic)?);
                continue;
            }
            "input.jsonl" => first_topic.clone(),
            other => match other.strip_prefix("input.").and_then(|n| n.strip_suffix(".jsonl")) {
                Some(topic) => topic.to_owned(),
                None => bail!("{}: input files are input.jsonl, input.TOPIC.jsonl or input.toml", file.display()),
            },
        };
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let event: serde_json::Value =
                serde_json::from_str(line).with_context(|| format!("{}:{}: not a JSON event", file.display(), n + 1))?;
            let key = event.get("aggregateId").and_then(|k| k.as_str()).map(str::to_owned);
            inputs.push(Input { topic: topic.clone(), key, value: line.to_owned() });
        }
    }
    Ok(inputs)
}

/// `[[input]]` tables: `event` (required), `topic`, `key`.
fn toml_inputs(file: &Path, text: &str, first_topic: &str) -> anyhow::Result<Vec<Input>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        input: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        topic: Option<String>,
        key: Option<String>,
        event: serde_json::Value,
    }
    let doc: Doc = toml_edit::de::from_str(text).with_context(|| format!("{}: not a list of [[input]] tables", file.display()))?;
    Ok(doc
        .input
        .into_iter()
        .map(|e| Input {
            topic: e.topic.unwrap_or_else(|| first_topic.to_owned()),
            key: e.key.or_else(|| e.event.get("aggregateId").and_then(|k| k.as_str()).map(str::to_owned)),
            value: e.event.to_string(),
        })
        .collect())
}

/// Every declared table, one JSON object per row in primary-key order, columns in
/// declared order.
fn render_rows(pipeline: &Pipeline, db: &Path) -> anyhow::Result<String> {
    let mut out = String::new();
    let Some(rm) = &pipeline.read_model else { return Ok(out) };
    let mut store = crate::sink::sql::open_url(&format!("sqlite://{}", db.display()), &pipeline.file, &rm.tables)?;
    for (i, table) in rm.tables.iter().enumerate() {
        let rows = store.scan(i)?;
        let _ = writeln!(out, "# {} ({} rows)", table.name, rows.len());
        for row in rows {
            let cells: Vec<String> = table
                .column_names()
                .zip(&row)
                .map(|(c, v)| format!("{}:{}", serde_json::Value::from(c), crate::sink::sql::json_text(v)))
                .collect();
            let _ = writeln!(out, "{{{}}}", cells.join(","));
        }
    }
    Ok(out)
}

/// Every record of `topic`, as `{"topic", "key", "value"}` lines sorted by key (order
/// within a key, which is one partition, is kept).
fn render_topic(brokers: &str, topic: &str, dead_letters: bool) -> anyhow::Result<String> {
    let mut records = read_topic(brokers, topic)?;
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (key, mut value) in records {
        if dead_letters && let Some(object) = value.as_object_mut() {
            for field in UNSTABLE_LETTER_FIELDS {
                object.remove(field);
            }
        }
        let line = serde_json::json!({ "topic": topic, "key": key, "value": value });
        let _ = writeln!(out, "{line}");
    }
    Ok(out)
}

/// Reads `topic` from the start to its high watermarks (reliable on the embedded broker).
fn read_topic(brokers: &str, topic: &str) -> anyhow::Result<Vec<(Option<String>, serde_json::Value)>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "weir-test-reader")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("fetch.wait.max.ms", "10")
        .create()
        .context("creating a reader")?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut tpl = TopicPartitionList::new();
    let mut remaining = 0;
    let mut ends = Vec::new();
    for p in metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())) {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout)?;
        if high > low {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
            remaining += 1;
            ends.push((p, high));
        }
    }
    let mut out = Vec::new();
    if remaining == 0 {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + timeout;
    let mut done = BTreeSet::new();
    while done.len() < ends.len() && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let value = serde_json::from_slice(m.payload().unwrap_or(b"null"))
                    .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()));
                out.push((m.key().map(|k| String::from_utf8_lossy(k).into_owned()), value));
                if ends.iter().any(|(p, high)| *p == m.partition() && m.offset() + 1 >= *high) {
                    done.insert(m.partition());
                }
            }
            Some(Err(e)) => bail!("reading `{topic}`: {e}"),
            None => {
                // Transaction markers take offsets too: a partition whose position
                // reached its end is done even if its last offset was a marker.
                if let Ok(positions) = consumer.position() {
                    for e in positions.elements() {
                        if let Offset::Offset(at) = e.offset()
                            && ends.iter().any(|(p, high)| *p == e.partition() && at >= *high)
                        {
                            done.insert(e.partition());
                        }
                    }
                }
            }
        }
    }
    if done.len() < ends.len() {
        bail!("reading `{topic}` did not reach its end within {} s", timeout.as_secs());
    }
    Ok(out)
}
