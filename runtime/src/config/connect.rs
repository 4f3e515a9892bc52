//! `weir check --connect`: what a file cannot tell, asked of the live brokers. Each
//! pipeline's brokers must answer, its source topics must exist, and an `exactly_once`
//! pipeline's brokers must provide Kafka transactions.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, Producer};

use super::Pipeline;
use super::check::at;
use super::diagnostics::Diagnostic;

/// How long each question to a broker may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Checks `pipeline` against `brokers` (its own, or the command line's); pipelines on
/// the embedded broker are not checked (it provides everything weir uses).
pub fn probe(pipeline: &Pipeline, brokers: Option<&str>) -> Vec<Diagnostic> {
    let Some(brokers) = brokers.or(pipeline.brokers.as_deref()) else { return Vec::new() };
    let mut found = Vec::new();
    let base = || {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", brokers);
        for (k, v) in &pipeline.kafka {
            c.set(k, v);
        }
        c
    };
    let consumer: BaseConsumer = match base().create() {
        Ok(c) => c,
        Err(e) => return vec![at(&pipeline.file, pipeline.spans.name.clone(), format!("cannot create a Kafka client for `{brokers}`: {e}"))],
    };
    let metadata = match consumer.fetch_metadata(None, TIMEOUT) {
        Ok(m) => m,
        Err(e) => return vec![at(&pipeline.file, pipeline.spans.name.clone(), format!("brokers `{brokers}` do not answer: {e}"))],
    };
    for topic in &pipeline.source.topics {
        if !metadata.topics().iter().any(|t| t.name() == topic && t.error().is_none()) {
            found.push(at(&pipeline.file, pipeline.spans.name.clone(), format!("source topic `{topic}` does not exist on `{brokers}`")));
        }
    }
    if pipeline.exactly_once {
        let id = format!("weir-check-{}-{}", std::process::id(), pipeline.name);
        let result = crate::sink::api_versions::missing_transaction_apis(brokers, TIMEOUT)
            .map_err(|e| format!("{e:#}"))
            .and_then(|missing| match missing.is_empty() {
                true => Ok(()),
                false => Err(format!("it lacks the APIs {}", missing.join(", "))),
            })
            .and_then(|()| base().set("transactional.id", &id).create::<BaseProducer>().map_err(|e| e.to_string()))
            .and_then(|p| p.init_transactions(TIMEOUT).map_err(|e| e.to_string()));
        if let Err(e) = result {
            found.push(at(
                &pipeline.file,
                pipeline.spans.exactly_once.clone(),
                format!("`exactly_once` needs Kafka transactions, which `{brokers}` does not provide: {e}"),
            ));
        }
    }
    found
}
