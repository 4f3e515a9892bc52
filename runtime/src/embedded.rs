//! The embedded default broker: librdkafka's in-process mock cluster, reachable on a
//! local TCP port by any Kafka client. It keeps nothing on disk: for trying weir and for
//! tests, not for production.

use anyhow::Context;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

/// Partitions of topics the embedded broker creates for pipelines.
pub const PARTITIONS: i32 = 3;

/// A running embedded broker.
pub struct EmbeddedBroker {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster.
    pub fn start() -> anyhow::Result<Self> {
        let cluster = MockCluster::new(1).context("starting the embedded Kafka broker")?;
        Ok(EmbeddedBroker { cluster })
    }

    /// Its bootstrap servers (`127.0.0.1:PORT`).
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    /// Creates `topic` with [`PARTITIONS`] partitions (the mock auto-creates topics too,
    /// but with its own partition count).
    pub fn create_topic(&self, topic: &str) -> anyhow::Result<()> {
        self.cluster
            .create_topic(topic, PARTITIONS, 1)
            .with_context(|| format!("creating topic `{topic}` on the embedded broker"))
    }
}
