//! The read model: declared tables in SQLite or PostgreSQL, created if missing; a batch's
//! changes applied in one transaction.

mod postgres;
mod sqlite;
pub mod write_behind;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use anyhow::bail;

use crate::config::{ColumnType, Pipeline, Table};
use crate::plugin::{Change, PackedRow, Value, ValueRef};

/// The table holding each consumer group's next offset per partition, written in the
/// same transaction as the rows: the database, not Kafka, says what was applied.
pub const OFFSETS_TABLE: &str = "weir_offsets";

/// The table of event ids applied per consumer group, for `source.deduplicate`.
pub const EVENT_IDS_TABLE: &str = "weir_event_ids";

/// Next offsets per (topic, partition).
pub type Offsets = HashMap<(String, i32), i64>;

/// A partition's stored offset moving forward with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAdvance {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The next offset the database held when the batch was read (`None`: no row yet).
    pub from: Option<i64>,
    /// The next offset after the batch.
    pub to: i64,
}

/// Another consumer advanced a partition's offset since this batch was read: the batch
/// was not applied (its transaction rolled back).
#[derive(Debug, thiserror::Error)]
#[error("offset of {topic}/{partition} moved since this batch was read (another consumer applied it); batch discarded")]
pub struct OffsetConflict {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
}

/// A read-model database as the runtime uses it.
pub trait ReadStore: Send {
    /// The row of table number `table` whose primary key is `key` (the key values,
    /// packed), its values in declared order.
    fn get(&mut self, table: usize, key: &PackedRow) -> anyhow::Result<Option<PackedRow>>;
    /// Applies a batch's final changes and moves the consumer group's offsets, in one
    /// transaction; when it returns `Ok`, both are durable. If an offset is not at
    /// `from` any more, nothing is applied and the error is an [`OffsetConflict`].
    /// `applied_ids` are event ids to remember as applied (for `source.deduplicate`).
    fn apply(&mut self, changes: &[(u16, Change)], group: &str, offsets: &[OffsetAdvance], applied_ids: &[&str]) -> anyhow::Result<()>;
    /// [`ReadStore::apply`] for callers that retry: an [`OffsetConflict`] (not to be
    /// retried: another consumer applied these records) is the inner error, any other
    /// failure the outer one.
    fn apply_unless_conflict(&mut self, changes: &[(u16, Change)], group: &str, offsets: &[OffsetAdvance], applied_ids: &[&str]) -> anyhow::Result<anyhow::Result<()>> {
        match self.apply(changes, group, offsets, applied_ids) {
            Err(e) if e.is::<OffsetConflict>() => Ok(Err(e)),
            other => other.map(Ok),
        }
    }
    /// Which of `ids` were applied by `group` before.
    fn applied_ids(&mut self, group: &str, ids: &[&str]) -> anyhow::Result<std::collections::HashSet<String>>;
    /// The next offsets stored for `group`.
    fn offsets(&mut self, group: &str) -> anyhow::Result<Offsets>;
    /// Every row of table number `table`, ordered by primary key (for `weir show`).
    fn scan(&mut self, table: usize) -> anyhow::Result<Vec<Vec<Value>>>;
}

/// Opens the pipeline's read model (creating its tables), or `None` if it has none.
/// `database` overrides the pipeline's own setting.
pub fn open(pipeline: &Pipeline, database: Option<&str>) -> anyhow::Result<Option<Box<dyn ReadStore>>> {
    let Some(rm) = &pipeline.read_model else { return Ok(None) };
    let url = database.unwrap_or(&rm.database);
    Ok(Some(open_url(url, &pipeline.file, &rm.tables)?))
}

/// Opens `url` (relative SQLite paths resolve against `pipeline_file`'s directory).
pub fn open_url(url: &str, pipeline_file: &Path, tables: &[Table]) -> anyhow::Result<Box<dyn ReadStore>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = crate::config::resolve(pipeline_file, Path::new(path));
        Ok(Box::new(sqlite::Sqlite::open(&path, tables)?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(postgres::Postgres::connect(url, tables)?))
    } else {
        bail!("unsupported database URL `{url}` (use sqlite://PATH or postgres://...)")
    }
}

/// The DDL of weir's own tables (offsets, applied event ids), in a dialect's type names.
fn bookkeeping_ddl(text: &str, int: &str, bigint: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {OFFSETS_TABLE} (consumer_group {text} NOT NULL, topic {text} NOT NULL, \
         partition {int} NOT NULL, next_offset {bigint} NOT NULL, PRIMARY KEY (consumer_group, topic, partition));\n\
         CREATE TABLE IF NOT EXISTS {EVENT_IDS_TABLE} (consumer_group {text} NOT NULL, event_id {text} NOT NULL, \
         PRIMARY KEY (consumer_group, event_id));"
    )
}

/// A value as text, for databases that take text and cast it to the column type; text
/// and JSON stay borrowed from the row.
fn value_text(v: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match v {
        ValueRef::Null => None,
        ValueRef::Boolean(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
        ValueRef::Integer(i) => Some(Cow::Owned(i.to_string())),
        ValueRef::Float(f) => Some(Cow::Owned(f.to_string())),
        ValueRef::Text(s) => Some(Cow::Borrowed(s)),
        ValueRef::Json(j) => Some(String::from_utf8_lossy(j)),
    }
}

/// Parses text read back from a database into a value of the column's declared type.
fn text_value(ty: ColumnType, text: Option<String>) -> Value {
    let Some(text) = text else { return Value::Null };
    match ty {
        ColumnType::Integer => text.parse().map(Value::Integer).unwrap_or(Value::Text(text)),
        ColumnType::Real | ColumnType::Numeric => text.parse().map(Value::Float).unwrap_or(Value::Text(text)),
        ColumnType::Boolean => Value::Boolean(matches!(text.as_str(), "t" | "true" | "1")),
        ColumnType::Json => Value::Json(text.into_bytes()),
        ColumnType::Text | ColumnType::Timestamptz => Value::Text(text),
    }
}

/// A value as JSON text (`weir test`'s golden files): JSON columns as they are.
pub fn json_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => serde_json::Value::from(*f).to_string(),
        Value::Text(s) => serde_json::Value::from(s.as_str()).to_string(),
        Value::Json(j) => String::from_utf8_lossy(j).into_owned(),
    }
}

/// Renders a value for people (`weir show`).
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        other => value_text(other.into()).map(Cow::into_owned).unwrap_or_default(),
    }
}
