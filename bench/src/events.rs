//! The seeded load: seed-style order envelopes (`OrderPlaced` and `OrderShipped`, the
//! seeds' shapes, about 400 bytes), the same bytes for every consumer and every run with
//! the same seed, and what a correct `order_summaries` read model holds afterwards.

use std::fmt::Write;

/// One event to produce: its record key (the order id) and its JSON payload.
pub struct Record {
    /// The order id: every event of an order goes to the same partition, in order.
    pub key: String,
    /// The envelope, JSON.
    pub payload: Vec<u8>,
}

/// splitmix64: tiny, fast and fully determined by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a correct read model holds after all events of a [`Load`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Expected {
    /// Rows of `order_summaries` (one per `OrderPlaced`).
    pub orders: u64,
    /// Rows with status `shipped`.
    pub shipped: u64,
    /// The sum of `total` over all rows, in cents (totals have two decimals).
    pub total_cents: i64,
}

/// The deterministic event sequence.
pub struct Load {
    rng: Rng,
    /// Pad `OrderPlaced` payloads with a `note` up to this many bytes (0: the seed size).
    payload_bytes: usize,
    /// Orders placed so far and not shipped, by number; shipments pick from the most
    /// recent ones so that an order and its shipment are usually close (often in one batch).
    open: Vec<u64>,
    next_order: u64,
    produced: u64,
    /// Base event time, ms since the epoch (2026-03-30T10:00:00Z).
    base_ms: i64,
    expected: Expected,
}

/// Nine in ten events place an order; one in ten ships an open order.
const SHIP_EVERY: u64 = 10;
/// Shipments pick among the most recent open orders.
const SHIP_WINDOW: usize = 2_000;

impl Load {
    /// A load from `seed`; `payload_bytes` > 0 pads events to about that size.
    pub fn new(seed: u64, payload_bytes: usize) -> Self {
        Load {
            rng: Rng(seed),
            payload_bytes,
            open: Vec::new(),
            next_order: 0,
            produced: 0,
            base_ms: 1_774_864_800_000,
            expected: Expected::default(),
        }
    }

    /// What a correct read model holds after the events produced so far.
    pub fn expected(&self) -> Expected {
        self.expected
    }

    /// The next event.
    pub fn next_record(&mut self) -> Record {
        let n = self.produced;
        self.produced += 1;
        let ts = chrono_like(self.base_ms + n as i64);
        let ship = n % SHIP_EVERY == SHIP_EVERY - 1 && !self.open.is_empty();
        let mut out = String::with_capacity(self.payload_bytes.max(480));
        if ship {
            let window = self.open.len().min(SHIP_WINDOW);
            let pick = self.open.len() - 1 - self.rng.below(window as u64) as usize;
            let order = self.open.swap_remove(pick);
            self.expected.shipped += 1;
            let id = format!("ord-{order:09}");
            write!(
                out,
                r#"{{"eventType":"OrderShipped","eventId":"evt-{n:010}","timestamp":"{ts}","version":1,"source":"shipping-service","correlationId":"req-{n:010}","aggregateId":"{id}","data":{{"orderId":"{id}","carrier":"DHL","trackingNumber":"1Z999AA1{n:010}"}}}}"#
            )
            .unwrap();
            return Record { key: id, payload: out.into_bytes() };
        }
        let order = self.next_order;
        self.next_order += 1;
        self.open.push(order);
        let id = format!("ord-{order:09}");
        let user = self.rng.below(100_000);
        let items = 1 + self.rng.below(3);
        let mut total_cents = 0i64;
        let mut items_json = String::new();
        for k in 0..items {
            let quantity = 1 + self.rng.below(4) as i64;
            let price_cents = 100 + self.rng.below(9_900) as i64;
            total_cents += quantity * price_cents;
            if k > 0 {
                items_json.push(',');
            }
            write!(
                items_json,
                r#"{{"productId":"prod-{:05}","quantity":{quantity},"price":{}.{:02}}}"#,
                self.rng.below(10_000),
                price_cents / 100,
                price_cents % 100
            )
            .unwrap();
        }
        self.expected.orders += 1;
        self.expected.total_cents += total_cents;
        write!(
            out,
            r#"{{"eventType":"OrderPlaced","eventId":"evt-{n:010}","timestamp":"{ts}","version":1,"source":"order-service","correlationId":"req-{n:010}","aggregateId":"{id}","data":{{"orderId":"{id}","userId":"user-{user:06}","items":[{items_json}],"total":{}.{:02},"currency":"EUR","shippingAddress":{{"street":"Unter den Linden 1","city":"Berlin","zip":"10115","country":"DE"}}"#,
            total_cents / 100,
            total_cents % 100
        )
        .unwrap();
        // Padding for the payload-size runs: a note the projection does not read.
        let closing = 2;
        if self.payload_bytes > out.len() + closing + 10 {
            let pad = self.payload_bytes - out.len() - closing - 10;
            out.push_str(r#","note":""#);
            out.extend(std::iter::repeat_n('x', pad));
            out.push('"');
        }
        out.push_str("}}");
        Record { key: id, payload: out.into_bytes() }
    }
}

/// RFC 3339 in UTC with milliseconds, as the seeds write event times.
fn chrono_like(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).expect("in range").format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_seed_sized_events() {
        let (mut a, mut b) = (Load::new(7, 0), Load::new(7, 0));
        let mut bytes = 0;
        for _ in 0..10_000 {
            let (x, y) = (a.next_record(), b.next_record());
            assert_eq!(x.payload, y.payload);
            let v: serde_json::Value = serde_json::from_slice(&x.payload).expect("valid JSON");
            assert_eq!(v["aggregateId"].as_str(), Some(x.key.as_str()));
            bytes += x.payload.len();
        }
        let mean = bytes / 10_000;
        assert!((330..=480).contains(&mean), "mean payload {mean} B");
        assert_eq!(a.expected(), b.expected());
        assert_eq!(a.expected().orders + a.expected().shipped, 10_000);
    }

    #[test]
    fn padding_reaches_the_asked_size() {
        let mut load = Load::new(1, 4096);
        let r = load.next_record();
        assert!((4090..=4100).contains(&r.payload.len()), "{}", r.payload.len());
        serde_json::from_slice::<serde_json::Value>(&r.payload).unwrap();
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(chrono_like(1_774_864_800_000), "2026-03-30T10:00:00.000Z");
        assert_eq!(chrono_like(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(chrono_like(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
