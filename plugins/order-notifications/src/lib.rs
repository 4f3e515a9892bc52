//! A topic-to-topic transform, as the seeds' notification service: each `OrderPlaced`
//! and `OrderShipped` becomes a `NotificationRequested` event on `order-notifications`,
//! keyed by the order id. No read model.

use serde::{Deserialize, Serialize};
use weir_sdk::{projection, Ctx, Error, Event};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: String,
    user_id: Option<String>,
}

/// The emitted event's `data`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationRequested<'a> {
    order_id: &'a str,
    user_id: Option<&'a str>,
    channel: &'static str,
    template: &'static str,
}

/// Turns an order event into a notification request.
#[projection]
pub fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
    let template = match event.event_type() {
        "OrderPlaced" => "order-confirmation",
        "OrderShipped" => "shipping-notification",
        _ => return Ok(()),
    };
    let order: Order = event.data()?;
    let request = NotificationRequested {
        order_id: &order.order_id,
        user_id: order.user_id.as_deref(),
        channel: "email",
        template,
    };
    ctx.emit("order-notifications", Some(&order.order_id), "NotificationRequested", &request)
}

#[cfg(test)]
mod tests {
    use super::handle;
    use serde_json::json;
    use weir_sdk::testing::{TestEvent, TestHost};

    #[test]
    fn order_events_become_notifications() {
        let mut host = TestHost::new().topic("order-notifications");
        let results = host.run(
            handle,
            &[
                TestEvent::new("OrderPlaced", json!({"orderId": "o1", "userId": "u1", "total": 5})),
                TestEvent::new("OrderShipped", json!({"orderId": "o1"})),
                TestEvent::new("OrderShipped", json!({"order": "missing id"})),
            ],
        );
        assert_eq!(results[..2], [Ok(()), Ok(())]);
        assert!(results[2].is_err());
        let emitted = host.emitted();
        assert_eq!(emitted.len(), 2);
        assert_eq!(emitted[0].data, json!({"orderId": "o1", "userId": "u1", "channel": "email", "template": "order-confirmation"}));
        assert_eq!(emitted[1].data["template"], "shipping-notification");
        assert_eq!(emitted[1].key.as_deref(), Some(&b"o1"[..]));
    }
}
