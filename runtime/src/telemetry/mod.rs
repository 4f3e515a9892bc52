//! Telemetry: logs, Prometheus metrics, and the health endpoints.

pub mod http;
pub mod logging;
pub mod metrics;
