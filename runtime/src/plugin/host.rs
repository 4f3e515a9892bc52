//! The host side of the contract: what a plugin's imports do, and the per-store state
//! they work on.

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::weir::plugin::{context, read_model, topics, types};
use super::overlay::{Change, Overlay, encode_key};
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
    /// its input instead.
    fn write(&mut self, input: u32, row: types::Row, change: fn(Vec<Value>) -> Change) {
        let position = self.position(input);
        let Some(table) = self.schema.tables.get(row.table as usize) else {
            let message = format!("plugin wrote to table #{} but the pipeline declares {}", row.table, self.schema.tables.len());
            self.rejected.push((position, message));
            return;
        };
        if row.values.len() != table.columns.len() {
            let message = format!(
                "plugin wrote {} values to table `{}`, which has {} columns",
                row.values.len(),
                table.name,
                table.columns.len()
            );
            self.rejected.push((position, message));
            return;
        }
        if let Some(&k) = table.key_positions.iter().find(|&&k| matches!(row.values[k], Value::Null)) {
            let message = format!("plugin wrote a row to `{}` with NULL key column `{}`", table.name, table.columns[k]);
            self.rejected.push((position, message));
            return;
        }
        encode_key(&mut self.key, table.key_positions.iter().map(|&k| &row.values[k]));
        self.overlay.write(position, row.table, &self.key, change(row.values));
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.resources }
    }
}

impl types::Host for HostState {}

impl read_model::Host for HostState {
    fn get(&mut self, table: u16, key: Vec<Value>) -> wasmtime::Result<Option<types::Row>> {
        let Some(schema) = self.schema.tables.get(table as usize) else {
            wasmtime::bail!("plugin read table #{table}, which the pipeline does not declare");
        };
        if key.len() != schema.key_positions.len() {
            wasmtime::bail!("plugin read `{}` with {} key values; its key has {}", schema.name, key.len(), schema.key_positions.len());
        }
        encode_key(&mut self.key, key.iter());
        if let Some(own) = self.overlay.get(table, &self.key) {
            return Ok(own.map(|values| types::Row { table, values: values.clone() }));
        }
        let Some(store) = self.store.as_mut() else {
            return Ok(None);
        };
        match store.get(table as usize, &key) {
            Ok(row) => Ok(row.map(|values| types::Row { table, values })),
            Err(e) => {
                let message = format!("read-model get on `{}` failed: {e:#}", schema.name);
                self.host_error = Some(e);
                wasmtime::bail!("{message}")
            }
        }
    }

    fn upsert(&mut self, input: u32, row: types::Row) -> wasmtime::Result<()> {
        self.write(input, row, Change::Upsert);
        Ok(())
    }

    fn delete(&mut self, input: u32, row: types::Row) -> wasmtime::Result<()> {
        self.write(input, row, Change::Delete);
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
