//! The host side of the contract: what a plugin's imports do, and the per-store state
//! they work on.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::weir::plugin::{context, read_model, topics, types};
use super::overlay::{Change, Overlay};
use super::packed::{PackError, PackedRow};
use super::Value;
use crate::sink::sql::ReadStore;

/// A declared table as the host checks writes against it.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// Table name.
    pub name: String,
    /// Column names, declared order.
    pub columns: Vec<String>,
    /// Primary-key column names.
    pub primary_key: Vec<String>,
    /// Positions of the primary-key columns in `columns`.
    pub key_positions: Vec<usize>,
}

/// What a pipeline declares, as the plugin sees it.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The pipeline's name.
    pub pipeline: String,
    /// Declared tables, in order.
    pub tables: Vec<TableSchema>,
    /// Topics the plugin may emit to, in order.
    pub topics: Vec<String>,
}

impl Schema {
    /// The schema of a parsed pipeline.
    pub fn of(pipeline: &crate::config::Pipeline) -> Self {
        let tables = pipeline.read_model.as_ref().map_or(&[][..], |rm| &rm.tables[..]);
        Schema::new(&pipeline.name, tables, &pipeline.topics)
    }

    /// The schema of declared `tables` and allowed `topics`.
    pub fn new(pipeline: &str, tables: &[crate::config::Table], topics: &[String]) -> Self {
        let tables = tables
            .iter()
            .map(|t| TableSchema {
                name: t.name.clone(),
                columns: t.column_names().map(str::to_owned).collect(),
                primary_key: t.primary_key.clone(),
                key_positions: t.key_positions(),
            })
            .collect();
        Schema { pipeline: pipeline.to_owned(), tables, topics: topics.to_vec() }
    }
}

/// An event a plugin emitted, tagged with its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Emit {
    /// Position of the input event in the batch.
    pub input: u32,
    /// Index into the pipeline's allowed topics.
    pub topic: u16,
    /// Record key.
    pub key: Option<Vec<u8>>,
    /// `eventType` of the emitted event.
    pub event_type: String,
    /// `data`, raw JSON.
    pub data: Vec<u8>,
}

/// Kafka metadata of one input, for `context.record-info`.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Source topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Headers (only copied when the record has any).
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Everything a plugin instance's imports touch. Lives in the wasmtime `Store`.
pub struct HostState {
    wasi: WasiCtx,
    resources: ResourceTable,
    /// Memory limit of the instance.
    pub limits: StoreLimits,
    /// What the pipeline declares.
    pub schema: Arc<Schema>,
    /// The database behind `read-model.get`, if the pipeline has a read model.
    pub store: Option<Box<dyn ReadStore>>,
    /// This batch's writes.
    pub overlay: Overlay,
    /// This batch's emitted events.
    pub emits: Vec<Emit>,
    /// Inputs whose outputs the host rejected (undeclared table, wrong column count...).
    pub rejected: Vec<(u32, String)>,
    /// A host-side failure (the database) that aborted the call: not the plugin's fault.
    pub host_error: Option<anyhow::Error>,
    /// Kafka metadata of the batch's inputs, by origin handle.
    pub origins: Vec<Origin>,
    /// Maps the positions the plugin sees to positions in the full batch.
    pub positions: Vec<u32>,
    /// Reused for the encoded key of each `get` and write.
    key: Vec<u8>,
}

impl HostState {
    /// State for a new store. The plugin gets no filesystem, network, environment or
    /// clock beyond what WASI's defaults expose (a monotonic and a wall clock).
    pub fn new(schema: Arc<Schema>, limits: StoreLimits, store: Option<Box<dyn ReadStore>>) -> Self {
        HostState {
            wasi: WasiCtx::builder().build(),
            resources: ResourceTable::new(),
            limits,
            schema,
            store,
            overlay: Overlay::default(),
            emits: Vec::new(),
            rejected: Vec::new(),
            host_error: None,
            origins: Vec::new(),
            positions: Vec::new(),
            key: Vec::with_capacity(64),
        }
    }

    fn position(&self, input: u32) -> u32 {
        self.positions.get(input as usize).copied().unwrap_or(input)
    }

    /// Checks a row from the plugin and records it in the overlay; on a problem, rejects
    /// its input instead. `pack` checks or packs the values for the table's column count.
    fn write(&mut self, input: u32, table: u16, pack: impl FnOnce(usize) -> Result<PackedRow, PackError>, change: fn(PackedRow) -> Change) {
        let position = self.position(input);
        let Some(schema) = self.schema.tables.get(table as usize) else {
            let message = format!("plugin wrote to table #{table} but the pipeline declares {}", self.schema.tables.len());
            self.rejected.push((position, message));
            return;
        };
        let row = match pack(schema.columns.len()) {
            Ok(row) => row,
            Err(PackError::Count { found, expected }) => {
                let message = format!("plugin wrote {found} values to table `{}`, which has {expected} columns", schema.name);
                self.rejected.push((position, message));
                return;
            }
            Err(e) => {
                self.rejected.push((position, format!("plugin wrote a row to `{}` that is not valid packed values: {e}", schema.name)));
                return;
            }
        };
        self.key.clear();
        row.key_into(&schema.key_positions, &mut self.key);
        // A NULL key column is encoded as the single byte 0; any other value is longer.
        if let Some(&k) = schema.key_positions.iter().find(|&&k| row.encoded(k) == [0]) {
            let message = format!("plugin wrote a row to `{}` with NULL key column `{}`", schema.name, schema.columns[k]);
            self.rejected.push((position, message));
            return;
        }
        self.overlay.write(position, table, &self.key, change(row));
    }

    /// Writes a row that came as a `list<value>` (the Python, JavaScript, C and Go SDKs).
    fn write_values(&mut self, input: u32, row: types::Row, change: fn(PackedRow) -> Change) {
        let pack = |columns| match row.values.len() {
            n if n == columns => Ok(PackedRow::from_values(&row.values)),
            found => Err(PackError::Count { found, expected: columns }),
        };
        self.write(input, row.table, pack, change);
    }

    /// The row of `table` with the key `key` (its values packed, checked by the caller):
    /// this batch's own write first, then the database.
    fn read(&mut self, table: u16, key: &PackedRow) -> wasmtime::Result<Option<PackedRow>> {
        if let Some(own) = self.overlay.get(table, key.bytes()) {
            return Ok(own.cloned());
        }
        let Some(store) = self.store.as_mut() else {
            return Ok(None);
        };
        match store.get(table as usize, key) {
            Ok(row) => Ok(row),
            Err(e) => {
                let message = format!("read-model get on `{}` failed: {e:#}", self.schema.tables[table as usize].name);
                self.host_error = Some(e);
                wasmtime::bail!("{message}")
            }
        }
    }

    /// The schema of `table` for a read; a plugin asking for an undeclared table is
    /// stopped (a trap), as one asking with the wrong number of key values is.
    fn read_schema(&self, table: u16) -> wasmtime::Result<&TableSchema> {
        match self.schema.tables.get(table as usize) {
            Some(schema) => Ok(schema),
            None => wasmtime::bail!("plugin read table #{table}, which the pipeline does not declare"),
        }
    }
}

/// The trap of a read with `found` key values where `schema`'s key has another number.
fn wrong_key_count(schema: &TableSchema, found: usize) -> wasmtime::Error {
    wasmtime::format_err!("plugin read `{}` with {found} key values; its key has {}", schema.name, schema.key_positions.len())
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.resources }
    }
}

impl types::Host for HostState {}

impl read_model::Host for HostState {
    fn get(&mut self, table: u16, key: Vec<Value>) -> wasmtime::Result<Option<types::Row>> {
        let schema = self.read_schema(table)?;
        if key.len() != schema.key_positions.len() {
            return Err(wrong_key_count(schema, key.len()));
        }
        let key = PackedRow::from_values_in(std::mem::take(&mut self.key), &key);
        let row = self.read(table, &key);
        self.key = key.into_bytes();
        Ok(row?.map(|row| types::Row { table, values: row.to_values() }))
    }

    fn get_packed(&mut self, table: u16, key: Vec<u8>) -> wasmtime::Result<Option<Vec<u8>>> {
        let schema = self.read_schema(table)?;
        let key = match PackedRow::new(key, schema.key_positions.len()) {
            Ok(key) => key,
            Err(PackError::Count { found, .. }) => return Err(wrong_key_count(schema, found)),
            Err(e) => wasmtime::bail!("plugin read `{}` with a key that is not valid packed values: {e}", schema.name),
        };
        Ok(self.read(table, &key)?.map(PackedRow::into_bytes))
    }

    fn upsert(&mut self, input: u32, row: types::Row) -> wasmtime::Result<()> {
        self.write_values(input, row, Change::Upsert);
        Ok(())
    }

    fn upsert_packed(&mut self, input: u32, table: u16, values: Vec<u8>) -> wasmtime::Result<()> {
        self.write(input, table, |columns| PackedRow::new(values, columns), Change::Upsert);
        Ok(())
    }

    fn delete(&mut self, input: u32, row: types::Row) -> wasmtime::Result<()> {
        self.write_values(input, row, Change::Delete);
        Ok(())
    }
}

impl topics::Host for HostState {
    fn emit(&mut self, input: u32, event: types::Outgoing) -> wasmtime::Result<()> {
        let position = self.position(input);
        if event.topic as usize >= self.schema.topics.len() {
            let message = format!(
                "plugin emitted to topic #{} but the pipeline allows {} topic(s) in [sink.topics]",
                event.topic,
                self.schema.topics.len()
            );
            self.rejected.push((position, message));
            return Ok(());
        }
        self.emits.push(Emit {
            input: position,
            topic: event.topic,
            key: event.key,
            event_type: event.event_type,
            data: event.data,
        });
        Ok(())
    }
}

impl context::Host for HostState {
    fn record_info(&mut self, origin: u32) -> wasmtime::Result<types::RecordMeta> {
        let o = self.origins.get(origin as usize).cloned().unwrap_or_default();
        Ok(types::RecordMeta { topic: o.topic.to_string(), partition: o.partition, offset: o.offset, headers: o.headers })
    }

    fn log(&mut self, level: u8, message: String) -> wasmtime::Result<()> {
        let pipeline = &self.schema.pipeline;
        match level {
            0 => tracing::error!(target: "weir::plugin", pipeline, "{message}"),
            1 => tracing::warn!(target: "weir::plugin", pipeline, "{message}"),
            2 => tracing::info!(target: "weir::plugin", pipeline, "{message}"),
            3 => tracing::debug!(target: "weir::plugin", pipeline, "{message}"),
            _ => tracing::trace!(target: "weir::plugin", pipeline, "{message}"),
        }
        Ok(())
    }

    fn tables(&mut self) -> wasmtime::Result<Vec<types::TableSchema>> {
        Ok(self
            .schema
            .tables
            .iter()
            .map(|t| types::TableSchema { name: t.name.clone(), columns: t.columns.clone(), primary_key: t.primary_key.clone() })
            .collect())
    }

    fn topics(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.schema.topics.clone())
    }

    fn pipeline(&mut self) -> wasmtime::Result<String> {
        Ok(self.schema.pipeline.clone())
    }
}
