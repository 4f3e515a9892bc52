//! The seeds' event store as a projection: every event becomes one row of `events`
//! (JSONB `data` and `metadata` on PostgreSQL), keyed by `eventId`. Replaying an event
//! rewrites the same row, so the store holds each event once.

use serde_json::json;
use weir_sdk::{projection, Ctx, Error, Event, Row, Value};

/// Appends one event to `events`.
#[projection]
pub fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
    let meta = ctx.record_info();
    // Events without an id are still stored once: their Kafka position identifies them.
    let event_id = match event.id() {
        Some(id) => id.to_owned(),
        None => format!("{}/{}/{}", meta.topic, meta.partition, meta.offset),
    };
    let aggregate_type = meta.topic.strip_suffix("-events").unwrap_or(&meta.topic).to_owned();
    let metadata = json!({
        "correlationId": event.correlation_id(),
        "key": event.key().map(String::from_utf8_lossy),
        "topic": meta.topic,
        "partition": meta.partition,
        "offset": meta.offset,
    });
    ctx.upsert(
        Row::new("events")
            .set("event_id", event_id)
            .set("event_type", event.event_type())
            .set("aggregate_id", event.aggregate_id().or(event.correlation_id()).unwrap_or(""))
            .set("aggregate_type", aggregate_type)
            .set("version", event.version())
            .set("data", Value::Json(event.data_raw().to_vec()))
            .set("metadata", Value::Json(serde_json::to_vec(&metadata)?))
            .set("timestamp", event.timestamp_rfc3339()),
    )
}

#[cfg(test)]
mod tests {
    use super::handle;
    use serde_json::json;
    use weir_sdk::Value;
    use weir_sdk::testing::{TestEvent, TestHost};

    #[test]
    fn stores_each_event_once() {
        let mut host = TestHost::new().table(
            "events",
            &["event_id", "event_type", "aggregate_id", "aggregate_type", "version", "data", "metadata", "timestamp"],
            &["event_id"],
        );
        let placed = TestEvent::new("OrderPlaced", json!({"orderId": "o1"})).id("e1").aggregate_id("o1");
        let results = host.run(handle, &[placed.clone(), placed, TestEvent::new("X", json!(null))]);
        assert!(results.iter().all(Result::is_ok));
        let rows = host.rows("events");
        assert_eq!(rows.len(), 2);
        let e1 = host.row("events", "e1").unwrap();
        assert_eq!(e1.str("event_type"), Some("OrderPlaced"));
        assert_eq!(e1.str("aggregate_id"), Some("o1"));
        assert_eq!(e1.get("data"), Some(&Value::Json(br#"{"orderId":"o1"}"#.to_vec())));
        assert!(host.row("events", "test/0/2").is_some(), "an event without id is keyed by its position");
    }
}
