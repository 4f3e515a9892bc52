//! Plugins: the wasmtime engine, compiled components, sandboxed instances, and the host
//! side of the `weir:plugin` contract.
//!
//! One [`Engine`] per process compiles each component once (and caches the compiled
//! artefact by content hash); a [`Plugin`] is a compiled, linked component ready to
//! instantiate; an [`Instance`] owns a wasmtime `Store` that is reused across batches.

mod batch;
mod engine;
mod host;
mod instance;
mod overlay;
mod packed;

pub use batch::{BatchBuilder, ROW_BYTES};
pub use engine::{Engine, Plugin};
pub use host::{Emit, HostState, Origin, Schema, TableSchema};
pub use instance::{BatchOutcome, CallError, Instance, InputFailure};
pub use overlay::{Change, Overlay};
pub use packed::{PackError, PackedRow, ValueRef};

/// Bindings generated from `guest-sdk/wit` for the `projection` world.
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "projection",
        path: "../guest-sdk/wit",
        imports: { default: trappable },
        additional_derives: [PartialEq],
    });
}

pub use bindings::weir::plugin::types::{Batch, Value};
