//! What the benchmarks share: the seed-style events and the order-summary schema.
#![allow(dead_code)]

use weir::plugin::{Schema, TableSchema};

/// Events per batch.
pub const BATCH: usize = 1000;

/// Seed-style events of about 400 bytes: nine `OrderPlaced` for every `OrderShipped` of
/// an order placed earlier in the batch.
pub fn payloads() -> Vec<Vec<u8>> {
    (0..BATCH)
        .map(|i| {
            let event = if i % 10 == 9 {
                serde_json::json!({"eventType": "OrderShipped", "eventId": format!("evt-{i:08}"), "timestamp": "2026-03-30T12:00:00Z",
                    "version": 1, "source": "shipping-service", "correlationId": format!("req-{i:08}"), "aggregateId": format!("ord-{:08}", i - 5),
                    "data": {"orderId": format!("ord-{:08}", i - 5), "carrier": "DHL", "trackingNumber": "1Z999AA10123456784"}})
            } else {
                serde_json::json!({"eventType": "OrderPlaced", "eventId": format!("evt-{i:08}"), "timestamp": "2026-03-30T10:00:00Z",
                    "version": 1, "source": "order-service", "correlationId": format!("req-{i:08}"), "aggregateId": format!("ord-{i:08}"),
                    "data": {"orderId": format!("ord-{i:08}"), "userId": format!("user-{:05}", i % 977),
                             "items": [{"productId": "prod-789", "quantity": 2, "price": 29.99}, {"productId": "prod-123", "quantity": 1, "price": 10.0}],
                             "total": 69.98, "currency": "EUR", "shippingAddress": {"city": "Berlin", "zip": "10115"}}})
            };
            serde_json::to_vec(&event).unwrap()
        })
        .collect()
}

/// The `order_summaries` columns, declared order.
pub const COLUMNS: [&str; 7] = ["id", "user_id", "status", "total", "item_count", "created_at", "shipped_at"];


/// The schema the order-summary pipeline declares.
pub fn order_summary_schema() -> Schema {
    Schema {
        pipeline: "bench".into(),
        tables: vec![TableSchema {
            name: "order_summaries".into(),
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            primary_key: vec!["id".into()],
            key_positions: vec![0],
        }],
        topics: vec![],
    }
}
