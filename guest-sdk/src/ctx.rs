use serde::Serialize;

use crate::{Error, Row, Value};

/// A table the pipeline declares: its name, columns in declared order, primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    /// The table's name.
    pub name: String,
    /// Column names in declared order.
    pub columns: Vec<String>,
    /// The primary-key columns, in key order.
    pub primary_key: Vec<String>,
}

/// What the pipeline declares: its tables and the topics a plugin may emit to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Declared tables; a row's table number indexes this list.
    pub tables: Vec<TableSchema>,
    /// Topics the plugin may emit to; an outgoing event's topic number indexes this list.
    pub topics: Vec<String>,
}

/// Kafka metadata of an input event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// Source topic.
    pub topic: String,
    /// Source partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Record headers.
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Log levels for [`Ctx::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something failed.
    Error = 0,
    /// Something looks wrong.
    Warn = 1,
    /// Normal operation.
    Info = 2,
    /// Detail for debugging.
    Debug = 3,
    /// Very detailed.
    Trace = 4,
}

/// Where a [`Ctx`] sends its reads and writes: the Wasm host, or [`crate::testing::TestHost`].
/// Tables and topics are numbers here, resolved by [`Ctx`] from the [`Schema`].
pub trait Backend {
    /// The pipeline's declared tables and topics.
    fn schema(&self) -> &Schema;
    /// The row of table `table` whose primary key is `key`, values in declared order.
    fn get(&mut self, table: u16, key: Vec<Value>) -> Option<Vec<Value>>;
    /// Replaces (or inserts) a row, values in declared order.
    fn upsert(&mut self, input: u32, table: u16, values: Vec<Value>);
    /// Deletes the row with the primary key that `values` carries.
    fn delete(&mut self, input: u32, table: u16, values: Vec<Value>);
    /// Produces an event to the topic numbered `topic`.
    fn emit(&mut self, input: u32, topic: u16, key: Option<Vec<u8>>, event_type: String, data: Vec<u8>);
    /// Kafka metadata of the input event with this origin.
    fn record_info(&mut self, origin: u32) -> RecordMeta;
    /// Logs a message.
    fn log(&mut self, level: Level, message: &str);
}

/// What a handler uses to read and write the read model and to emit events, for the
/// event it is handling.
pub struct Ctx<'b> {
    backend: &'b mut dyn Backend,
    input: u32,
    origin: u32,
}

impl<'b> Ctx<'b> {
    /// A context for the input event numbered `input` in its batch.
    pub fn new(backend: &'b mut dyn Backend, input: u32, origin: u32) -> Self {
        Ctx { backend, input, origin }
    }

    /// The position of the event being handled in its batch (what the host's imports
    /// take as `input`).
    pub fn input(&self) -> u32 {
        self.input
    }

    #[inline]
    fn table(&self, name: &str) -> Result<(u16, &TableSchema), Error> {
        let tables = &self.backend.schema().tables;
        tables
            .iter()
            .position(|t| crate::same(&t.name, name))
            .map(|i| (i as u16, &tables[i]))
            .ok_or_else(|| {
                let declared: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                Error::new(format!(
                    "table `{name}` is not declared in the pipeline (declared: {})",
                    declared.join(", ")
                ))
            })
    }

    /// The row of `table` whose primary key is `key` (one value per key column), as this
    /// batch's earlier writes left it.
    pub fn get(&mut self, table: &str, key: impl Into<Key>) -> Result<Option<Row>, Error> {
        let (number, schema) = self.table(table)?;
        let key = key.into().0;
        if key.len() != schema.primary_key.len() {
            return Err(Error::new(format!(
                "table `{table}` has a primary key of {} column(s), got {}",
                schema.primary_key.len(),
                key.len()
            )));
        }
        let Some(values) = self.backend.get(number, key) else {
            return Ok(None);
        };
        let columns = &self.backend.schema().tables[number as usize].columns;
        Ok(Some(Row::from_positional(table, columns, values)))
    }

    /// Inserts `row`, or replaces the row with the same primary key. Columns not set are NULL.
    pub fn upsert(&mut self, row: Row) -> Result<(), Error> {
        let (number, schema) = self.table(row.table())?;
        let values = row.into_positional(&schema.columns).map_err(Error::new)?;
        self.backend.upsert(self.input, number, values);
        Ok(())
    }

    /// Deletes the row of `table` whose primary key is `key`.
    pub fn delete(&mut self, table: &str, key: impl Into<Key>) -> Result<(), Error> {
        let (number, schema) = self.table(table)?;
        let key = key.into().0;
        let mut values = vec![Value::Null; schema.columns.len()];
        for (column, value) in schema.primary_key.iter().zip(key) {
            let at = schema.columns.iter().position(|c| c == column).expect("key column");
            values[at] = value;
        }
        self.backend.delete(self.input, number, values);
        Ok(())
    }

    /// Emits an event of type `event_type` with `data` serialised as JSON to `topic`,
    /// which the pipeline must allow. The host wraps it in the standard envelope.
    pub fn emit(
        &mut self,
        topic: &str,
        key: Option<&str>,
        event_type: &str,
        data: &impl Serialize,
    ) -> Result<(), Error> {
        let data = serde_json::to_vec(data)?;
        self.emit_raw(topic, key.map(|k| k.as_bytes().to_vec()), event_type, data)
    }

    /// Emits an event whose `data` is already JSON bytes.
    pub fn emit_raw(
        &mut self,
        topic: &str,
        key: Option<Vec<u8>>,
        event_type: &str,
        data: Vec<u8>,
    ) -> Result<(), Error> {
        let topics = &self.backend.schema().topics;
        let number = topics.iter().position(|t| t == topic).ok_or_else(|| {
            Error::new(format!(
                "topic `{topic}` is not in the pipeline's [sink.topics] allowed list ({})",
                topics.join(", ")
            ))
        })?;
        self.backend.emit(self.input, number as u16, key, event_type.to_owned(), data);
        Ok(())
    }

    /// Kafka metadata (topic, partition, offset, headers) of the current event.
    pub fn record_info(&mut self) -> RecordMeta {
        self.backend.record_info(self.origin)
    }

    /// Logs through the host.
    pub fn log(&mut self, level: Level, message: &str) {
        self.backend.log(level, message);
    }
}

/// A primary key: one value per key column. Built from a single value or a `Vec`.
#[derive(Debug, Clone, PartialEq)]
pub struct Key(pub Vec<Value>);

impl<T: Into<Value>> From<T> for Key {
    fn from(v: T) -> Self {
        Key(vec![v.into()])
    }
}

impl From<Vec<Value>> for Key {
    fn from(v: Vec<Value>) -> Self {
        Key(v)
    }
}
