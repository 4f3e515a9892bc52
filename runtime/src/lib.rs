//! weir: a WebAssembly-pluggable stream processor.
//!
//! Modules follow one event through the runtime: [`source`] (Kafka consumer, envelope
//! decoding) → [`config`]'s routing rules → [`plugin`] (one Wasm call per batch) →
//! [`sink`] (read model, Kafka) → commit, all driven by [`pipeline`].

pub mod app;
pub mod cli;
pub mod config;
pub mod dlq;
pub mod embedded;
pub mod pipeline;
pub mod plugin;
pub mod scaffold;
pub mod sink;
pub mod source;
pub mod telemetry;
pub mod test_runner;
