//! The {{name}} projection: one `aggregates` row per aggregate, with its last event type
//! and how many events it has seen. An event without `aggregateId` fails (and goes to the
//! dead-letter topic); the rest of its batch commits.

use weir_sdk::{projection, Ctx, Error, Event, Row};

/// Counts the event on its aggregate's row.
#[projection]
pub fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
    let Some(id) = event.aggregate_id() else {
        return Err(Error::new("event has no aggregateId"));
    };
    let events = ctx.get("aggregates", id)?.and_then(|row| row.i64("events")).unwrap_or(0);
    ctx.upsert(
        Row::new("aggregates")
            .set("id", id)
            .set("last_event", event.event_type())
            .set("events", events + 1)
            .set("updated_at", event.timestamp_rfc3339()),
    )
}

#[cfg(test)]
mod tests {
    use super::handle;
    use serde_json::json;
    use weir_sdk::testing::{TestEvent, TestHost};

    #[test]
    fn counts_events_per_aggregate() {
        let mut host = TestHost::new().table("aggregates", &["id", "last_event", "events", "updated_at"], &["id"]);
        let placed = TestEvent::new("OrderPlaced", json!({"orderId": "o1"})).aggregate_id("o1");
        let shipped = TestEvent::new("OrderShipped", json!({"orderId": "o1"})).aggregate_id("o1");
        let orphan = TestEvent::new("OrderPlaced", json!({}));
        let results = host.run(handle, &[placed, shipped, orphan]);
        assert!(results[0].is_ok() && results[1].is_ok() && results[2].is_err());
        let row = host.row("aggregates", "o1").unwrap();
        assert_eq!(row.i64("events"), Some(2));
        assert_eq!(row.str("last_event"), Some("OrderShipped"));
    }
}
