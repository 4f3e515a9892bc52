//! A sandboxed plugin instance and one batch through it, with failures isolated to the
//! events that caused them.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context;
use wasmtime::{Store, StoreLimitsBuilder, Trap};

use super::bindings::Projection;
use super::bindings::weir::plugin::types::Failure;
use super::engine::{EPOCH_TICK, Plugin};
use super::host::{Emit, HostState, Origin, Schema};
use super::overlay::Change;
use super::Batch;
use crate::config::PluginLimits;
use crate::sink::sql::ReadStore;

/// Why one input event failed.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFailure {
    /// Position of the event in the batch.
    pub position: u32,
    /// What went wrong.
    pub message: String,
    /// Whether the plugin said a retry may succeed.
    pub retryable: bool,
    /// How often the event was retried before this failure.
    pub retries: u32,
}

/// What a batch produced: final row changes, events to emit, and the events that failed.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Final change per touched row, ordered by table.
    pub changes: Vec<(u16, Change)>,
    /// Emitted events of the events that succeeded, in order.
    pub emits: Vec<Emit>,
    /// Failed events; their writes and emits are not in the outcome.
    pub failures: Vec<InputFailure>,
}

/// Why a call did not return.
#[derive(Debug)]
pub enum CallError {
    /// The plugin trapped, ran past its deadline or its memory limit. The instance is
    /// replaced.
    Trap(String),
    /// The host failed (the database behind `get`): the batch must be retried later.
    Host(anyhow::Error),
}

/// One plugin instance with its store, reused across batches.
pub struct Instance {
    plugin: Plugin,
    schema: Arc<Schema>,
    limits: PluginLimits,
    store: Store<HostState>,
    projection: Projection,
}

impl Instance {
    /// Instantiates `plugin` with the pipeline's schema, limits and read store.
    pub fn new(
        plugin: &Plugin,
        schema: Arc<Schema>,
        limits: PluginLimits,
        read_store: Option<Box<dyn ReadStore>>,
    ) -> anyhow::Result<Self> {
        let (store, projection) = instantiate(plugin, &schema, limits, read_store)?;
        Ok(Instance { plugin: plugin.clone(), schema, limits, store, projection })
    }

    /// The plugin this instance runs.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The read store, for the sink to apply a batch's changes through.
    pub fn read_store(&mut self) -> Option<&mut Box<dyn ReadStore>> {
        self.store.data_mut().store.as_mut()
    }

    /// Sets the Kafka metadata that `context.record-info` serves for the next batch.
    pub fn set_origins(&mut self, origins: Vec<Origin>) {
        self.store.data_mut().origins = origins;
    }

    /// Runs `batch` through the plugin. Failures of single events (error results,
    /// rejected outputs, traps, deadlines, memory) come back in the outcome; only a host
    /// failure is an `Err`.
    pub fn run(&mut self, batch: &Batch) -> anyhow::Result<BatchOutcome> {
        self.begin_batch();
        let all: Vec<u32> = (0..batch.len() as u32).collect();
        let failures = self.run_positions(batch, &all)?;
        Ok(self.finish_batch(failures))
    }

    /// Starts a batch: forgets the previous batch's writes and emits.
    pub fn begin_batch(&mut self) {
        let state = self.store.data_mut();
        state.overlay.clear();
        state.emits.clear();
    }

    /// Runs the events at `positions` of `batch`, on top of what this batch already wrote
    /// (a retry sees the writes of the events that succeeded before). Returns the failures.
    pub fn run_positions(&mut self, batch: &Batch, positions: &[u32]) -> anyhow::Result<Vec<InputFailure>> {
        let mut failures = Vec::new();
        let mut positions = positions.to_vec();
        while !positions.is_empty() {
            let subset = (positions.len() != batch.len()).then(|| batch.subset(&positions));
            let emitted_before = self.begin(&positions);
            match self.call(subset.as_ref().unwrap_or(batch)) {
                Ok(failed) => {
                    let newly = self.collect_failures(failed);
                    if newly.is_empty() {
                        break;
                    }
                    let failed_set: HashSet<u32> = newly.iter().map(|f| f.position).collect();
                    let state = self.store.data_mut();
                    let failed_wrote = state.overlay.writers.iter().any(|w| failed_set.contains(w));
                    failures.extend(newly);
                    if failed_wrote {
                        // Later events may have read what a failed one wrote: run them
                        // again without the failed events.
                        state.overlay.rollback();
                        state.emits.truncate(emitted_before);
                        positions.retain(|p| !failed_set.contains(p));
                        continue;
                    }
                    state.emits.retain(|e| !failed_set.contains(&e.input));
                    break;
                }
                Err(CallError::Host(e)) => return Err(e),
                Err(CallError::Trap(message)) => {
                    self.undo(emitted_before);
                    self.replace()?;
                    tracing::warn!(pipeline = %self.schema.pipeline, "plugin trapped ({message}); running the batch one event at a time to find the failing event");
                    self.run_one_by_one(batch, &positions, &mut failures)?;
                    break;
                }
            }
        }
        failures.sort_by_key(|f| f.position);
        Ok(failures)
    }

    /// Ends a batch: its final row changes and emitted events, with `failures`.
    pub fn finish_batch(&mut self, failures: Vec<InputFailure>) -> BatchOutcome {
        let state = self.store.data_mut();
        BatchOutcome { changes: state.overlay.drain(), emits: std::mem::take(&mut state.emits), failures }
    }

    fn run_one_by_one(&mut self, batch: &Batch, positions: &[u32], failures: &mut Vec<InputFailure>) -> anyhow::Result<()> {
        for &p in positions {
            let emitted_before = self.begin(&[p]);
            match self.call(&batch.subset(&[p])) {
                Ok(failed) => {
                    let newly = self.collect_failures(failed);
                    if !newly.is_empty() {
                        self.undo(emitted_before);
                        failures.extend(newly);
                    }
                }
                Err(CallError::Host(e)) => return Err(e),
                Err(CallError::Trap(message)) => {
                    self.undo(emitted_before);
                    failures.push(InputFailure { position: p, message, retryable: false, retries: 0 });
                    self.replace()?;
                }
            }
        }
        Ok(())
    }

    /// Starts a call over `positions`; returns the emit count to roll back to.
    fn begin(&mut self, positions: &[u32]) -> usize {
        let state = self.store.data_mut();
        state.overlay.begin();
        state.rejected.clear();
        state.positions.clear();
        state.positions.extend_from_slice(positions);
        state.emits.len()
    }

    fn undo(&mut self, emitted_before: usize) {
        let state = self.store.data_mut();
        state.overlay.rollback();
        state.emits.truncate(emitted_before);
    }

    fn collect_failures(&mut self, failed: Vec<Failure>) -> Vec<InputFailure> {
        let state = self.store.data_mut();
        let mut out: Vec<InputFailure> = failed
            .into_iter()
            .map(|f| InputFailure {
                position: state.positions.get(f.index as usize).copied().unwrap_or(f.index),
                message: f.error.message,
                retryable: f.error.retryable,
                retries: 0,
            })
            .collect();
        for (position, message) in state.rejected.drain(..) {
            if !out.iter().any(|f| f.position == position) {
                out.push(InputFailure { position, message, retryable: false, retries: 0 });
            }
        }
        out
    }

    fn call(&mut self, batch: &Batch) -> Result<Vec<Failure>, CallError> {
        let ticks = self.limits.deadline_ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1);
        self.store.set_epoch_deadline(ticks);
        match self.projection.call_handle(&mut self.store, batch) {
            Ok(failures) => Ok(failures),
            Err(e) => {
                if let Some(host) = self.store.data_mut().host_error.take() {
                    return Err(CallError::Host(host));
                }
                Err(CallError::Trap(self.describe(&e)))
            }
        }
    }

    fn describe(&self, e: &wasmtime::Error) -> String {
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!("plugin exceeded its deadline of {} ms", self.limits.deadline_ms),
            Some(trap) => {
                let memory = e.chain().any(|c| c.to_string().contains("memory"));
                if memory && matches!(trap, Trap::UnreachableCodeReached) {
                    format!("plugin trapped: {trap} (possibly out of memory: limit {} MiB)", self.limits.memory_mib)
                } else {
                    format!("plugin trapped: {trap}")
                }
            }
            None if e.chain().any(|c| c.to_string().contains("forcing trap when growing memory")) => {
                format!("plugin exceeded its memory limit of {} MiB", self.limits.memory_mib)
            }
            None => format!("plugin failed: {e:#}"),
        }
    }

    /// Replaces a broken instance with a fresh one, keeping the read store.
    fn replace(&mut self) -> anyhow::Result<()> {
        let state = self.store.data_mut();
        let read_store = state.store.take();
        let origins = std::mem::take(&mut state.origins);
        let overlay = std::mem::take(&mut state.overlay);
        let emits = std::mem::take(&mut state.emits);
        let (store, projection) = instantiate(&self.plugin, &self.schema, self.limits, read_store)?;
        self.store = store;
        self.projection = projection;
        let state = self.store.data_mut();
        state.origins = origins;
        state.overlay = overlay;
        state.emits = emits;
        Ok(())
    }
}

fn instantiate(
    plugin: &Plugin,
    schema: &Arc<Schema>,
    limits: PluginLimits,
    read_store: Option<Box<dyn ReadStore>>,
) -> anyhow::Result<(Store<HostState>, Projection)> {
    let store_limits = StoreLimitsBuilder::new()
        .memory_size((limits.memory_mib as usize) << 20)
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(&plugin.engine, HostState::new(schema.clone(), store_limits, read_store));
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(u64::MAX / 2);
    let projection = super::engine::wt(plugin.pre.instantiate(&mut store))
        .with_context(|| format!("instantiating plugin {}", plugin.path.display()))?;
    Ok((store, projection))
}
