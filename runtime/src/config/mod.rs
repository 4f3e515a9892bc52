//! Pipeline files: the TOML model, its parsing with every error at once, and the checks
//! `weir check` runs.
//!
//! A pipeline file declares one pipeline: where events come from (`[source]`), the plugin
//! that handles them (`[handler]`), and where results go (`[sink.read_model]`,
//! `[sink.topics]`). The README's TOML reference documents every key.

pub mod check;
pub mod connect;
pub mod diagnostics;
mod reader;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use diagnostics::{Diagnostic, Diagnostics};
use diagnostics::Collector;
use reader::TableReader;

/// One pipeline, as declared in one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The file it came from.
    pub file: PathBuf,
    /// `pipeline.name`: unique among the pipelines of one process; labels metrics and logs.
    pub name: String,
    /// `pipeline.brokers`: Kafka bootstrap servers. `None`: the embedded broker.
    pub brokers: Option<String>,
    /// `pipeline.group`: the consumer group id (default: the pipeline name).
    pub group: String,
    /// `pipeline.kafka`: extra librdkafka properties for the consumer and producer,
    /// such as `"fetch.wait.max.ms" = "10"`.
    pub kafka: BTreeMap<String, String>,
    /// `[source]`.
    pub source: Source,
    /// `[handler]`.
    pub handler: Handler,
    /// `[sink.read_model]`, if the pipeline writes rows.
    pub read_model: Option<ReadModel>,
    /// `[sink.topics] allowed`: topics the plugin may emit to, in declared order, by the
    /// names the plugin uses.
    pub topics: Vec<String>,
    /// `[sink.topics] rename = { NAME = "kafka-topic" }`: the Kafka topic a plugin's topic
    /// name is produced to, where it differs (say, a per-environment prefix).
    pub topic_renames: BTreeMap<String, String>,
    /// `[sink.topics] exactly_once`: produce emitted events and dead letters in Kafka
    /// transactions that also commit the consumer offsets, so downstream consumers with
    /// `isolation.level=read_committed` see each exactly once. Needs a broker with
    /// transactions (tansu has none; librdkafka's mock cluster and Kafka do).
    pub exactly_once: bool,
    /// `[sink.topics] transactional_id`: the producer's `transactional.id` prefix
    /// (default `weir-GROUP`); the process's `--instance-id` is appended when given.
    pub transactional_id: String,
    /// `[on_error]`: retries and the dead-letter topic.
    pub on_error: OnError,
    /// Byte spans of values that later checks point at.
    pub spans: Spans,
}

/// `[on_error]`: what happens to an event the plugin fails on.
#[derive(Debug, Clone, PartialEq)]
pub struct OnError {
    /// `retries`: how often an event whose error is retryable is tried again (default 3).
    /// Other failures (bad data, traps, deadlines, memory) are not retried.
    pub retries: u32,
    /// `backoff = { initial_ms, multiplier, max_ms }`: the wait before each retry
    /// (default 100 ms, doubling, at most 10 s).
    pub backoff: Backoff,
    /// `dead_letter_topic`: where failed and undecodable events go (default
    /// `<pipeline name>.dlq`).
    pub dead_letter_topic: String,
}

/// Exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// `initial_ms`: the first wait.
    pub initial_ms: u64,
    /// `multiplier`: each wait is this many times the previous one.
    pub multiplier: f64,
    /// `max_ms`: no wait is longer.
    pub max_ms: u64,
}

impl Backoff {
    /// The wait before retry number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> std::time::Duration {
        let ms = self.initial_ms as f64 * self.multiplier.powi(attempt.saturating_sub(1) as i32);
        std::time::Duration::from_millis(ms.min(self.max_ms as f64) as u64)
    }
}

/// Where a few values were written, so checks after parsing can point at them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spans {
    /// `handler.plugin`.
    pub plugin: Option<Range<usize>>,
    /// `pipeline.name`.
    pub name: Option<Range<usize>>,
    /// Each table's header, in declared order.
    pub tables: Vec<Option<Range<usize>>>,
    /// `sink.topics.allowed` entries, in declared order.
    pub topics: Vec<Option<Range<usize>>>,
    /// `sink.topics.exactly_once`.
    pub exactly_once: Option<Range<usize>>,
}

/// `[source]`: the topics a pipeline consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// `topics`: Kafka topics to subscribe to.
    pub topics: Vec<String>,
    /// `start`: where a new consumer group starts, `earliest` (default) or `latest`.
    pub start: StartFrom,
    /// `deduplicate`: skip an event whose `eventId` this pipeline already applied, for
    /// producers that publish duplicates (default false; needs a read model, where the
    /// applied ids are kept).
    pub deduplicate: bool,
}

/// Where a consumer group without committed offsets starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// The oldest retained event.
    Earliest,
    /// Only events produced after the group first joins.
    Latest,
}

/// `[handler]`: the plugin and how it is called.
#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    /// `kind`: `projection` (sagas come later).
    pub kind: HandlerKind,
    /// `plugin`: path to the plugin component (`.wasm`), relative to the pipeline file.
    pub plugin: PathBuf,
    /// `events`: event types routed to the plugin. Each is an exact name or a glob with
    /// `*`; empty means every type. Other events are skipped and counted.
    pub events: Vec<String>,
    /// `batch = { max_events, max_wait_ms }`.
    pub batch: BatchLimits,
    /// `limits = { memory_mib, deadline_ms }`.
    pub limits: PluginLimits,
}

/// The kinds of handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    /// Reads events, writes rows, emits events.
    Projection,
}

/// How events are grouped into one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// `max_events`: at most this many events per call (default 1000).
    pub max_events: usize,
    /// `max_wait_ms`: a batch closes this long after its first event (default 20).
    pub max_wait_ms: u64,
}

/// Sandbox limits for one plugin instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// `memory_mib`: the most linear memory an instance may have (default 64).
    pub memory_mib: u64,
    /// `deadline_ms`: the longest one call may run (default 1000).
    pub deadline_ms: u64,
}

/// `[sink.read_model]`: the database rows go to.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadModel {
    /// `database`: `sqlite://PATH` (relative to the pipeline file; the default is
    /// `sqlite://weir.db`) or `postgres://...`.
    pub database: String,
    /// `[[sink.read_model.tables]]`, in declared order.
    pub tables: Vec<Table>,
}

/// A read-model table. weir creates it if missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `name`.
    pub name: String,
    /// `primary_key`: column names; every upsert replaces the row with the same key.
    pub primary_key: Vec<String>,
    /// `columns = { name = "type", ... }` in declared order (the plugin sees this order).
    pub columns: Vec<(String, ColumnType)>,
}

/// Column types, mapped to each database's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `text`.
    Text,
    /// `integer`: 64-bit.
    Integer,
    /// `real`: 64-bit float.
    Real,
    /// `numeric`: exact decimal on PostgreSQL, NUMERIC affinity on SQLite.
    Numeric,
    /// `boolean`.
    Boolean,
    /// `json`: JSONB on PostgreSQL, text on SQLite.
    Json,
    /// `timestamptz`: timestamp with time zone on PostgreSQL, RFC 3339 text on SQLite.
    Timestamptz,
}

impl ColumnType {
    /// Every type name a pipeline may use.
    pub const NAMES: [&'static str; 7] =
        ["text", "integer", "real", "numeric", "boolean", "json", "timestamptz"];

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => ColumnType::Text,
            "integer" => ColumnType::Integer,
            "real" => ColumnType::Real,
            "numeric" => ColumnType::Numeric,
            "boolean" => ColumnType::Boolean,
            "json" => ColumnType::Json,
            "timestamptz" => ColumnType::Timestamptz,
            _ => return None,
        })
    }
}

impl Table {
    /// Column names in declared order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(n, _)| n.as_str())
    }

    /// Positions of the primary-key columns.
    pub fn key_positions(&self) -> Vec<usize> {
        self.primary_key
            .iter()
            .map(|k| self.columns.iter().position(|(c, _)| c == k).expect("validated key column"))
            .collect()
    }
}

impl Pipeline {
    /// The plugin path, resolved against the pipeline file's directory.
    pub fn plugin_path(&self) -> PathBuf {
        resolve(&self.file, &self.handler.plugin)
    }

    /// The Kafka topic the plugin's topic `name` is produced to.
    pub fn kafka_topic<'n>(&'n self, name: &'n str) -> &'n str {
        self.topic_renames.get(name).map_or(name, String::as_str)
    }

    /// The Kafka topics emitted events go to, in declared order.
    pub fn kafka_topics(&self) -> Vec<String> {
        self.topics.iter().map(|t| self.kafka_topic(t).to_owned()).collect()
    }

    /// Whether an event type is routed to the handler.
    pub fn routes(&self, event_type: &str) -> bool {
        self.handler.events.is_empty() || self.handler.events.iter().any(|p| glob_match(p, event_type))
    }
}

/// Resolves `path` against the directory of `file`.
pub fn resolve(file: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    file.parent().unwrap_or(Path::new(".")).join(path)
}

/// Matches `*` against any run of characters; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else { return false };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob_match(rest, &tail[i..]))
        }
    }
}

/// Parses one pipeline file's text. Returns the pipeline, or every problem found.
pub fn parse(file: &Path, source: &str) -> Result<Pipeline, Vec<Diagnostic>> {
    let mut cx = Collector::new(file, source);
    let doc = match toml_edit::Document::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let message = e.message().trim_end().to_owned();
            cx.error(e.span(), format!("invalid TOML: {message}"));
            return Err(cx.found);
        }
    };
    let mut root = TableReader::new(doc.as_table(), Some(0..0), "");
    let pipeline = read_pipeline(&mut cx, &mut root, file);
    root.finish(&mut cx);
    match pipeline {
        Some(p) if cx.found.is_empty() => Ok(p),
        _ => {
            cx.found.sort_by_key(|d| (d.line, d.col));
            Err(cx.found)
        }
    }
}

/// Reads and parses a pipeline file.
pub fn load(file: &Path) -> Result<Pipeline, Vec<Diagnostic>> {
    match std::fs::read_to_string(file) {
        Ok(source) => parse(file, &source),
        Err(e) => Err(vec![Diagnostic {
            file: file.to_owned(),
            line: 1,
            col: 1,
            message: format!("cannot read pipeline file: {e}"),
        }]),
    }
}

fn read_pipeline(cx: &mut Collector, root: &mut TableReader, file: &Path) -> Option<Pipeline> {
    let mut spans = Spans::default();

    // [pipeline]
    let mut p = root.table(cx, "pipeline", true);
    let name = p.as_mut().and_then(|p| p.string(cx, "name", true));
    if let Some(n) = &name {
        spans.name = n.span.clone();
        if !valid_name(&n.value) {
            cx.error(
                n.span.clone(),
                "`pipeline.name` must be 1-64 characters of letters, digits, `-`, `_` or `.`",
            );
        }
    }
    let brokers = p.as_mut().and_then(|p| p.string(cx, "brokers", false));
    if let Some(b) = &brokers
        && b.value.trim().is_empty()
    {
        cx.error(b.span.clone(), "`pipeline.brokers` is empty; leave it out to use the embedded broker");
    }
    let group = p.as_mut().and_then(|p| p.string(cx, "group", false));
    let mut kafka = BTreeMap::new();
    if let Some(mut k) = p.as_mut().and_then(|p| p.table(cx, "kafka", false)) {
        for (key, span, item) in k.entries() {
            match item.as_str() {
                Some(v) => {
                    kafka.insert(key, v.to_owned());
                }
                None => cx.error(
                    span,
                    format!("`pipeline.kafka.{key}` must be a string (librdkafka properties are strings)"),
                ),
            }
        }
        k.finish(cx);
    }
    if let Some(p) = p {
        p.finish(cx);
    }

    // [source]
    let mut s = root.table(cx, "source", true);
    let topics = s.as_mut().and_then(|s| s.strings(cx, "topics", true));
    if let (Some(s), Some(t)) = (&s, &topics)
        && t.is_empty()
    {
        cx.error(s.span.clone(), "`source.topics` must name at least one topic");
    }
    let start = match s.as_mut().and_then(|s| s.string(cx, "start", false)) {
        None => StartFrom::Earliest,
        Some(v) => match v.value.as_str() {
            "earliest" => StartFrom::Earliest,
            "latest" => StartFrom::Latest,
            other => {
                cx.error(v.span, format!("`source.start` must be \"earliest\" or \"latest\", found \"{other}\""));
                StartFrom::Earliest
            }
        },
    };
    let deduplicate = s.as_mut().and_then(|s| s.boolean(cx, "deduplicate")).unwrap_or(false);
    if let Some(s) = s {
        s.finish(cx);
    }

    // [handler]
    let handler = root.table(cx, "handler", true).and_then(|mut h| {
        let handler = read_handler(cx, &mut h, &mut spans);
        h.finish(cx);
        handler
    });

    // [sink]
    let mut read_model = None;
    let mut allowed = Vec::new();
    let mut renames = BTreeMap::new();
    let mut exactly_once = false;
    let mut transactional_id = None;
    if let Some(mut sink) = root.table(cx, "sink", false) {
        if let Some(mut rm) = sink.table(cx, "read_model", false) {
            read_model = read_read_model(cx, &mut rm, &mut spans);
            rm.finish(cx);
        }
        if let Some(mut t) = sink.table(cx, "topics", false) {
            for topic in t.strings(cx, "allowed", false).unwrap_or_default() {
                if let Some(earlier) = allowed.iter().position(|a| *a == topic.value) {
                    let _ = earlier;
                    cx.error(topic.span.clone(), format!("topic `{}` is listed twice", topic.value));
                }
                spans.topics.push(topic.span);
                allowed.push(topic.value);
            }
            if let Some(mut r) = t.table(cx, "rename", false) {
                for (name, span, item) in r.entries() {
                    match item.as_str() {
                        Some(kafka) if allowed.contains(&name) => {
                            renames.insert(name, kafka.to_owned());
                        }
                        Some(_) => cx.error(span, format!("`sink.topics.rename.{name}`: `{name}` is not in `allowed`")),
                        None => cx.error(item.span(), format!("`sink.topics.rename.{name}` must be a topic name string")),
                    }
                }
                r.finish(cx);
            }
            spans.exactly_once = t.item("exactly_once").and_then(reader::item_span);
            exactly_once = t.boolean(cx, "exactly_once").unwrap_or(false);
            transactional_id = t.string(cx, "transactional_id", false);
            if let Some(id) = &transactional_id {
                if id.value.trim().is_empty() {
                    cx.error(id.span.clone(), "`sink.topics.transactional_id` must not be empty");
                } else if !exactly_once {
                    cx.error(id.span.clone(), "`sink.topics.transactional_id` is used only with `exactly_once = true`");
                }
            }
            t.finish(cx);
        }
        sink.finish(cx);
    }
    if let (Some(topics), false) = (&topics, allowed.is_empty()) {
        for t in topics {
            if let Some(i) = allowed.iter().position(|a| renames.get(a).unwrap_or(a) == &t.value) {
                cx.error(
                    spans.topics[i].clone(),
                    format!("topic `{}` is both a source and an emit target: the pipeline would consume its own output", t.value),
                );
            }
        }
    }

    if deduplicate && read_model.is_none() {
        cx.error(root.span.clone(), "`source.deduplicate` needs a `[sink.read_model]`, where applied event ids are kept");
    }

    // [on_error]
    let mut on_error = OnError {
        retries: 3,
        backoff: Backoff { initial_ms: 100, multiplier: 2.0, max_ms: 10_000 },
        dead_letter_topic: name.as_ref().map_or_else(String::new, |n| format!("{}.dlq", n.value)),
    };
    if let Some(mut e) = root.table(cx, "on_error", false) {
        if let Some(n) = e.integer(cx, "retries", 0..=100) {
            on_error.retries = n as u32;
        }
        if let Some(mut b) = e.table(cx, "backoff", false) {
            if let Some(n) = b.integer(cx, "initial_ms", 0..=600_000) {
                on_error.backoff.initial_ms = n as u64;
            }
            if let Some(f) = b.float(cx, "multiplier", 1.0..=100.0) {
                on_error.backoff.multiplier = f;
            }
            if let Some(n) = b.integer(cx, "max_ms", 0..=3_600_000) {
                on_error.backoff.max_ms = n as u64;
            }
            b.finish(cx);
        }
        if let Some(t) = e.string(cx, "dead_letter_topic", false) {
            if t.value.trim().is_empty() {
                cx.error(t.span.clone(), "`on_error.dead_letter_topic` must not be empty");
            }
            if topics.as_ref().is_some_and(|ts| ts.iter().any(|s| s.value == t.value)) {
                cx.error(t.span.clone(), format!("dead-letter topic `{}` is also a source topic", t.value));
            }
            on_error.dead_letter_topic = t.value;
        }
        e.finish(cx);
    }

    let name = name?.value;
    let group = group.map_or_else(|| name.clone(), |g| g.value);
    Some(Pipeline {
        file: file.to_owned(),
        transactional_id: transactional_id.map_or_else(|| format!("weir-{group}"), |t| t.value),
        group,
        exactly_once,
        name,
        brokers: brokers.map(|b| b.value),
        kafka,
        source: Source { topics: topics?.into_iter().map(|t| t.value).collect(), start, deduplicate },
        handler: handler?,
        read_model,
        topics: allowed,
        topic_renames: renames,
        on_error,
        spans,
    })
}

fn read_handler(cx: &mut Collector, h: &mut TableReader, spans: &mut Spans) -> Option<Handler> {
    let kind = h.string(cx, "kind", true).and_then(|k| match k.value.as_str() {
        "projection" => Some(HandlerKind::Projection),
        other => {
            cx.error(k.span, format!("`handler.kind` must be \"projection\", found \"{other}\""));
            None
        }
    });
    let plugin = h.string(cx, "plugin", true);
    if let Some(p) = &plugin {
        spans.plugin = p.span.clone();
    }
    let events = h.strings(cx, "events", false).unwrap_or_default();
    for e in &events {
        if e.value.is_empty() {
            cx.error(e.span.clone(), "`handler.events` entries must not be empty");
        }
    }
    let mut batch = BatchLimits { max_events: 1000, max_wait_ms: 20 };
    if let Some(mut b) = h.table(cx, "batch", false) {
        if let Some(n) = b.integer(cx, "max_events", 1..=100_000) {
            batch.max_events = n as usize;
        }
        if let Some(n) = b.integer(cx, "max_wait_ms", 0..=60_000) {
            batch.max_wait_ms = n as u64;
        }
        b.finish(cx);
    }
    let mut limits = PluginLimits { memory_mib: 64, deadline_ms: 1000 };
    if let Some(mut l) = h.table(cx, "limits", false) {
        if let Some(n) = l.integer(cx, "memory_mib", 1..=4096) {
            limits.memory_mib = n as u64;
        }
        if let Some(n) = l.integer(cx, "deadline_ms", 1..=600_000) {
            limits.deadline_ms = n as u64;
        }
        l.finish(cx);
    }
    Some(Handler {
        kind: kind?,
        plugin: PathBuf::from(plugin?.value),
        events: events.into_iter().map(|e| e.value).collect(),
        batch,
        limits,
    })
}

fn read_read_model(cx: &mut Collector, rm: &mut TableReader, spans: &mut Spans) -> Option<ReadModel> {
    let database = rm
        .string(cx, "database", false)
        .map_or_else(|| "sqlite://weir.db".to_owned(), |d| {
            if !(d.value.starts_with("sqlite://")
                || d.value.starts_with("postgres://")
                || d.value.starts_with("postgresql://"))
            {
                cx.error(
                    d.span.clone(),
                    "`sink.read_model.database` must start with sqlite://, postgres:// or postgresql://",
                );
            }
            d.value
        });
    let mut tables: Vec<Table> = Vec::new();
    let mut ok = true;
    for mut t in rm.tables(cx, "tables") {
        let header = t.span.clone();
        match read_table(cx, &mut t) {
            Some(table) => {
                if tables.iter().any(|other| other.name == table.name) {
                    cx.error(header.clone(), format!("table `{}` is declared twice", table.name));
                }
                spans.tables.push(header);
                tables.push(table);
            }
            None => ok = false,
        }
        t.finish(cx);
    }
    if tables.is_empty() && ok {
        cx.error(rm.span.clone(), "`[sink.read_model]` declares no `[[sink.read_model.tables]]`");
    }
    Some(ReadModel { database, tables })
}

fn read_table(cx: &mut Collector, t: &mut TableReader) -> Option<Table> {
    let name = t.string(cx, "name", true);
    if let Some(n) = &name
        && !valid_identifier(&n.value)
    {
        cx.error(n.span.clone(), format!("table name `{}` must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)", n.value));
    }
    let mut columns = Vec::new();
    match t.table(cx, "columns", true) {
        None => {}
        Some(mut c) => {
            for (column, span, item) in c.entries() {
                if !valid_identifier(&column) {
                    cx.error(span.clone(), format!("column name `{column}` must be a plain SQL identifier"));
                }
                match item.as_str().map(|s| (s, ColumnType::parse(s))) {
                    Some((_, Some(ty))) => columns.push((column, ty)),
                    Some((s, None)) => cx.error(
                        item.span(),
                        format!("unknown column type \"{s}\" (known: {})", ColumnType::NAMES.join(", ")),
                    ),
                    None => cx.error(item.span(), format!("column `{column}` must have a type name string")),
                }
            }
            if columns.is_empty() && c.span.is_some() {
                cx.error(c.span.clone(), "a table needs at least one column");
            }
            c.finish(cx);
        }
    }
    let primary_key = t.strings(cx, "primary_key", true);
    if let Some(pk) = &primary_key {
        if pk.is_empty() {
            cx.error(t.span.clone(), "`primary_key` must name at least one column");
        }
        for k in pk {
            if !columns.is_empty() && !columns.iter().any(|(c, _)| *c == k.value) {
                cx.error(k.span.clone(), format!("primary key column `{}` is not among the table's columns", k.value));
            }
        }
    }
    Some(Table {
        name: name?.value,
        primary_key: primary_key?.into_iter().map(|k| k.value).collect(),
        columns,
    })
}

fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("Order*", "OrderPlaced"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("*Placed", "OrderPlaced"));
        assert!(!glob_match("Order*", "PaymentFailed"));
        assert!(glob_match("OrderPlaced", "OrderPlaced"));
        assert!(!glob_match("OrderPlaced", "OrderPlacedX"));
    }

    #[test]
    fn minimal_pipeline_gets_defaults() {
        let p = parse(
            Path::new("p.toml"),
            "[pipeline]\nname = \"x\"\n[source]\ntopics = [\"t\"]\n[handler]\nkind = \"projection\"\nplugin = \"x.wasm\"\n",
        )
        .unwrap();
        assert_eq!(p.group, "x");
        assert_eq!(p.brokers, None);
        assert_eq!(p.handler.batch, BatchLimits { max_events: 1000, max_wait_ms: 20 });
        assert_eq!(p.handler.limits, PluginLimits { memory_mib: 64, deadline_ms: 1000 });
        assert!(p.routes("Anything"));
    }

    #[test]
    fn exactly_once_settings() {
        let base = "[pipeline]\nname = \"x\"\ngroup = \"g\"\n[source]\ntopics = [\"t\"]\n[handler]\nkind = \"projection\"\nplugin = \"x.wasm\"\n";
        let p = parse(Path::new("p.toml"), &format!("{base}[sink.topics]\nexactly_once = true\n")).unwrap();
        assert!(p.exactly_once);
        assert_eq!(p.transactional_id, "weir-g");
        let p = parse(Path::new("p.toml"), &format!("{base}[sink.topics]\nexactly_once = true\ntransactional_id = \"orders-eos\"\n")).unwrap();
        assert_eq!(p.transactional_id, "orders-eos");
        let errors = parse(Path::new("p.toml"), &format!("{base}[sink.topics]\nexactly_once = \"yes\"\ntransactional_id = \"t\"\n")).unwrap_err();
        let text: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            text,
            vec![
                "p.toml:10:16: `sink.topics.exactly_once` must be a boolean, found a string",
                "p.toml:11:20: `sink.topics.transactional_id` is used only with `exactly_once = true`",
            ]
        );
    }

    #[test]
    fn every_error_at_once_with_positions() {
        let errors = parse(
            Path::new("bad.toml"),
            "[pipeline]\nname = 5\nbrokerz = \"x\"\n[source]\ntopics = \"t\"\n[handler]\nkind = \"saga2\"\n",
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            text,
            vec![
                "bad.toml:2:8: `pipeline.name` must be a string, found an integer",
                "bad.toml:3:1: unknown key `pipeline.brokerz` (did you mean `brokers`?)",
                "bad.toml:5:10: `source.topics` must be an array of strings, found a string",
                "bad.toml:6:1: missing required key `handler.plugin`",
                "bad.toml:7:8: `handler.kind` must be \"projection\", found \"saga2\"",
            ]
        );
    }
}
