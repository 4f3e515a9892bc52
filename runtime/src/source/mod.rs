//! Sources: the Kafka consumer of a pipeline and the decoding of each record into an
//! event.

pub mod envelope;
pub mod kafka;
