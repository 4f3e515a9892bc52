//! The seeds' CQRS read model: `OrderPlaced` (or `OrderCreated`) inserts a row into
//! `order_summaries` with status `pending`; `OrderShipped` sets `shipped` and `shipped_at`.

use std::borrow::Cow;

use serde::Deserialize;
use weir_sdk::{projection, Ctx, Error, Event, Row};

/// A JSON string, borrowed from the event unless it has escapes. (serde borrows a `Cow`
/// only when told to, and not through an `Option` by itself: hence the newtype.)
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The fields of `OrderPlaced` this projection reads. Both seed shapes are accepted:
/// `total` (OrderPlaced) and `totalAmount` (OrderCreated).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderPlaced<'a> {
    #[serde(borrow)]
    order_id: Text<'a>,
    #[serde(borrow)]
    user_id: Option<Text<'a>>,
    #[serde(default)]
    items: Vec<serde::de::IgnoredAny>,
    #[serde(alias = "totalAmount")]
    total: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderShipped<'a> {
    #[serde(borrow)]
    order_id: Text<'a>,
}

/// Projects one order event into `order_summaries`.
#[projection]
pub fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
    match event.event_type() {
        "OrderPlaced" | "OrderCreated" => {
            let order: OrderPlaced = event.data()?;
            ctx.upsert(
                Row::new("order_summaries")
                    .set("id", order.order_id.0)
                    .set("user_id", order.user_id.map(|u| u.0))
                    .set("status", "pending")
                    .set("total", order.total)
                    .set("item_count", order.items.len())
                    .set("created_at", event.timestamp_rfc3339()),
            )
        }
        "OrderShipped" => {
            let shipped: OrderShipped = event.data()?;
            let order_id = &*shipped.order_id.0;
            let Some(row) = ctx.get("order_summaries", order_id)? else {
                return Err(Error::new(format!("OrderShipped for unknown order {order_id}")));
            };
            ctx.upsert(row.set("status", "shipped").set("shipped_at", event.timestamp_rfc3339()))
        }
        // The pipeline routes only the types above; anything else is ignored on purpose.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::handle;
    use serde_json::json;
    use weir_sdk::testing::{TestEvent, TestHost};

    fn host() -> TestHost {
        TestHost::new().table(
            "order_summaries",
            &["id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"],
            &["id"],
        )
    }

    fn placed(id: &str) -> TestEvent {
        TestEvent::new(
            "OrderPlaced",
            json!({"orderId": id, "userId": "user-456",
                   "items": [{"productId": "prod-789", "quantity": 2, "price": 29.99}],
                   "total": 59.98}),
        )
        .timestamp_ms(1_774_864_800_000)
    }

    #[test]
    fn placed_then_shipped_in_one_batch() {
        let mut host = host();
        let shipped = TestEvent::new("OrderShipped", json!({"orderId": "ord-123"}))
            .timestamp_ms(1_774_868_400_000);
        let results = host.run(handle, &[placed("ord-123"), shipped]);
        assert_eq!(results, vec![Ok(()), Ok(())]);
        let row = host.row("order_summaries", "ord-123").expect("row");
        assert_eq!(row.str("status"), Some("shipped"));
        assert_eq!(row.f64("total"), Some(59.98));
        assert_eq!(row.i64("item_count"), Some(1));
        assert_eq!(row.str("user_id"), Some("user-456"));
        assert_eq!(row.str("created_at"), Some("2026-03-30T10:00:00.000Z"));
        assert_eq!(row.str("shipped_at"), Some("2026-03-30T11:00:00.000Z"));
    }

    #[test]
    fn order_created_shape_is_accepted() {
        let mut host = host();
        let created = TestEvent::new(
            "OrderCreated",
            json!({"orderId": "ORD-12345", "userId": "USR-123", "totalAmount": 99.99, "items": []}),
        );
        assert_eq!(host.run(handle, &[created]), vec![Ok(())]);
        assert_eq!(host.row("order_summaries", "ORD-12345").unwrap().f64("total"), Some(99.99));
    }

    #[test]
    fn shipping_an_unknown_order_fails_alone() {
        let mut host = host();
        let shipped = TestEvent::new("OrderShipped", json!({"orderId": "nope"}));
        let results = host.run(handle, &[shipped, placed("ord-1")]);
        assert!(results[0].as_ref().unwrap_err().message.contains("unknown order nope"));
        assert_eq!(results[1], Ok(()));
        assert_eq!(host.rows("order_summaries").len(), 1);
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        let mut host = host();
        let bad = TestEvent::new("OrderPlaced", json!({"orderId": 5}));
        let err = host.run(handle, &[bad]).remove(0).unwrap_err();
        assert!(err.message.starts_with("invalid event data"), "{}", err.message);
        assert!(host.rows("order_summaries").is_empty());
    }
}
