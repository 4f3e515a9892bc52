//! Test a handler natively, without Wasm or a broker: [`TestHost`] plays the host's part
//! with an in-memory read model, keeping the host's rules (one event's failure drops that
//! event's writes and emits; later events see earlier events' writes).

use std::collections::BTreeMap;

use crate::{Backend, Ctx, Error, Event, Level, RecordMeta, Row, Schema, TableSchema, Value};

/// An event emitted by a handler under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    /// The topic's name.
    pub topic: String,
    /// The record key.
    pub key: Option<Vec<u8>>,
    /// The emitted `eventType`.
    pub event_type: String,
    /// The emitted `data`, parsed.
    pub data: serde_json::Value,
}

/// An in-memory stand-in for the weir host.
#[derive(Debug, Default)]
pub struct TestHost {
    schema: Schema,
    /// Committed rows per table, by primary key (rendered as debug text for ordering).
    tables: Vec<BTreeMap<String, Vec<Value>>>,
    /// The current event's writes: (table, key, row or None for a delete).
    pending: Vec<(u16, String, Option<Vec<Value>>)>,
    pending_emits: Vec<Emitted>,
    emitted: Vec<Emitted>,
    /// Log lines the handler wrote.
    pub logs: Vec<(Level, String)>,
}

impl TestHost {
    /// A host with no tables and no topics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a table, as `[[sink.read_model.tables]]` does in the pipeline.
    pub fn table(mut self, name: &str, columns: &[&str], primary_key: &[&str]) -> Self {
        self.schema.tables.push(TableSchema {
            name: name.to_owned(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            primary_key: primary_key.iter().map(|c| c.to_string()).collect(),
        });
        self.tables.push(BTreeMap::new());
        self
    }

    /// Allows emitting to a topic, as `[sink.topics] allowed` does.
    pub fn topic(mut self, name: &str) -> Self {
        self.schema.topics.push(name.to_owned());
        self
    }

    /// Runs `handler` on each event in order, as one batch. Returns each event's result.
    pub fn run<F>(&mut self, handler: F, events: &[TestEvent]) -> Vec<Result<(), Error>>
    where
        F: Fn(&Event, &mut Ctx) -> Result<(), Error>,
    {
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let event = e.as_event(i as u32);
                let result = handler(&event, &mut Ctx::new(self, i as u32, i as u32));
                let writes = std::mem::take(&mut self.pending);
                let emits = std::mem::take(&mut self.pending_emits);
                if result.is_ok() {
                    for (table, key, row) in writes {
                        let rows = &mut self.tables[table as usize];
                        match row {
                            Some(values) => rows.insert(key, values),
                            None => rows.remove(&key),
                        };
                    }
                    self.emitted.extend(emits);
                }
                result
            })
            .collect()
    }

    /// The rows of `table`, ordered by primary key.
    pub fn rows(&self, table: &str) -> Vec<Row> {
        let at = self.table_index(table);
        let schema = &self.schema.tables[at];
        self.tables[at]
            .values()
            .map(|values| Row::from_positional(table, &schema.columns, values.clone()))
            .collect()
    }

    /// The row of `table` with primary key `key`.
    pub fn row(&self, table: &str, key: impl Into<crate::Key>) -> Option<Row> {
        let at = self.table_index(table);
        let schema = &self.schema.tables[at];
        let key = format!("{:?}", key.into().0);
        self.tables[at]
            .get(&key)
            .map(|values| Row::from_positional(table, &schema.columns, values.clone()))
    }

    /// Every event emitted so far by events that succeeded, in order.
    pub fn emitted(&self) -> &[Emitted] {
        &self.emitted
    }

    fn table_index(&self, table: &str) -> usize {
        self.schema
            .tables
            .iter()
            .position(|t| t.name == table)
            .unwrap_or_else(|| panic!("table `{table}` not declared in the TestHost"))
    }

    fn key_of(&self, table: u16, values: &[Value]) -> String {
        let schema = &self.schema.tables[table as usize];
        let key: Vec<&Value> = schema
            .primary_key
            .iter()
            .map(|k| &values[schema.columns.iter().position(|c| c == k).expect("key column")])
            .collect();
        format!("{key:?}")
    }
}

impl Backend for TestHost {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn get(&mut self, table: u16, key: Vec<Value>) -> Option<Vec<Value>> {
        let key = format!("{:?}", key.iter().collect::<Vec<_>>());
        if let Some((_, _, row)) = self.pending.iter().rev().find(|(t, k, _)| *t == table && *k == key) {
            return row.clone();
        }
        self.tables[table as usize].get(&key).cloned()
    }

    fn upsert(&mut self, _input: u32, table: u16, values: Vec<Value>) {
        let key = self.key_of(table, &values);
        self.pending.push((table, key, Some(values)));
    }

    fn delete(&mut self, _input: u32, table: u16, values: Vec<Value>) {
        let key = self.key_of(table, &values);
        self.pending.push((table, key, None));
    }

    fn emit(&mut self, _input: u32, topic: u16, key: Option<Vec<u8>>, event_type: String, data: Vec<u8>) {
        self.pending_emits.push(Emitted {
            topic: self.schema.topics[topic as usize].clone(),
            key,
            event_type,
            data: serde_json::from_slice(&data).expect("emitted data is JSON"),
        });
    }

    fn record_info(&mut self, origin: u32) -> RecordMeta {
        RecordMeta { topic: "test".into(), partition: 0, offset: origin.into(), headers: Vec::new() }
    }

    fn log(&mut self, level: Level, message: &str) {
        self.logs.push((level, message.to_owned()));
    }
}

/// An input event for tests, built field by field.
#[derive(Debug, Clone)]
pub struct TestEvent {
    event_type: String,
    id: Option<String>,
    timestamp_ms: i64,
    version: u32,
    aggregate_id: Option<String>,
    correlation_id: Option<String>,
    key: Option<Vec<u8>>,
    data: Vec<u8>,
}

impl TestEvent {
    /// An event of type `event_type` whose `data` is `data`.
    pub fn new(event_type: &str, data: serde_json::Value) -> Self {
        TestEvent {
            event_type: event_type.to_owned(),
            id: None,
            timestamp_ms: 0,
            version: 1,
            aggregate_id: None,
            correlation_id: None,
            key: None,
            data: serde_json::to_vec(&data).expect("JSON"),
        }
    }

    /// Sets `eventId`.
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// Sets `timestamp` (milliseconds since the epoch).
    pub fn timestamp_ms(mut self, ms: i64) -> Self {
        self.timestamp_ms = ms;
        self
    }

    /// Sets `aggregateId`.
    pub fn aggregate_id(mut self, id: &str) -> Self {
        self.aggregate_id = Some(id.to_owned());
        self
    }

    /// Sets `correlationId`.
    pub fn correlation_id(mut self, id: &str) -> Self {
        self.correlation_id = Some(id.to_owned());
        self
    }

    /// Sets the record key.
    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.as_bytes().to_vec());
        self
    }

    fn as_event(&self, origin: u32) -> Event<'_> {
        Event {
            event_type: &self.event_type,
            id: self.id.as_deref().map(str::as_bytes),
            timestamp_ms: self.timestamp_ms,
            version: self.version,
            aggregate_id: self.aggregate_id.as_deref().map(str::as_bytes),
            correlation_id: self.correlation_id.as_deref().map(str::as_bytes),
            key: self.key.as_deref(),
            data: &self.data,
            origin,
        }
    }
}
