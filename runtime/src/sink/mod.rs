//! Sinks: where a batch's results go. Rows to the read model ([`sql`]), emitted events to
//! Kafka ([`kafka`]).

pub mod api_versions;
pub mod kafka;
pub mod sql;
