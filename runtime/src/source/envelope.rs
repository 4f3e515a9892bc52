//! Decoding the seed envelope from a Kafka record, in one borrowing pass.
//!
//! ```json
//! {"eventId": "...", "eventType": "OrderPlaced", "timestamp": "2026-03-30T10:00:00Z",
//!  "version": 1, "source": "order-service", "correlationId": "...",
//!  "aggregateId": "...", "data": {...}}
//! ```
//!
//! Rules: `eventType` is required (the record header `event-type` stands in when the body
//! lacks it); `timestamp` is RFC 3339 text or milliseconds since the epoch (the record's
//! Kafka timestamp when absent); `version` defaults to 1; when there is no `data` member
//! the whole body is the data, so flat events such as `{"eventType": "PaymentProcessed",
//! "orderId": ...}` work too. `data` itself is never parsed here: the plugin gets its
//! bytes.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a record is not a valid event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The record has no value (a tombstone).
    #[error("record has no value")]
    Empty,
    /// The value is not a JSON object.
    #[error("value is not a JSON event envelope: {0}")]
    Json(String),
    /// Neither the body nor the `event-type` header names the event type.
    #[error("event has no `eventType` (and no `event-type` header)")]
    MissingEventType,
    /// `timestamp` is neither RFC 3339 text nor a number of milliseconds.
    #[error("`timestamp` {0:?} is neither RFC 3339 text nor milliseconds since the epoch")]
    BadTimestamp(String),
}

/// A JSON string, borrowed from the record unless it had escapes. (serde does not
/// borrow through `Option<Cow<str>>` by itself, hence the newtype.)
#[derive(Debug, Deserialize)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The envelope fields, borrowed from the record where no unescaping was needed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    /// `eventId`.
    #[serde(borrow, default)]
    pub event_id: Option<Text<'a>>,
    /// `eventType`.
    #[serde(borrow, default)]
    pub event_type: Option<Text<'a>>,
    /// `timestamp`, as written.
    #[serde(borrow, default)]
    pub timestamp: Option<&'a RawValue>,
    /// `version`.
    #[serde(default)]
    pub version: Option<u32>,
    /// `source`.
    #[serde(borrow, default)]
    pub source: Option<Text<'a>>,
    /// `correlationId`.
    #[serde(borrow, default)]
    pub correlation_id: Option<Text<'a>>,
    /// `aggregateId`.
    #[serde(borrow, default)]
    pub aggregate_id: Option<Text<'a>>,
    /// `data`, raw.
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

/// A decoded event: the envelope plus the values the runtime derives.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The envelope as parsed.
    pub envelope: Envelope<'a>,
    /// The event type, from the body or the header.
    pub event_type: Cow<'a, str>,
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// The envelope's `data`, or the whole body when it has none.
    pub data: &'a [u8],
}

/// Decodes `payload`. `header_type` is the `event-type` header, `record_ms` the Kafka
/// record timestamp.
pub fn decode<'a>(
    payload: Option<&'a [u8]>,
    header_type: Option<&'a str>,
    record_ms: Option<i64>,
) -> Result<Decoded<'a>, DecodeError> {
    let payload = payload.ok_or(DecodeError::Empty)?;
    let mut envelope: Envelope<'a> =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Json(e.to_string()))?;
    let event_type = match envelope.event_type.take() {
        Some(Text(t)) if !t.is_empty() => t,
        _ => Cow::Borrowed(header_type.filter(|h| !h.is_empty()).ok_or(DecodeError::MissingEventType)?),
    };
    let timestamp_ms = match envelope.timestamp {
        None => record_ms.unwrap_or(0),
        Some(raw) => parse_timestamp(raw.get())?,
    };
    let data = envelope.data.map_or(payload, |d| d.get().as_bytes());
    Ok(Decoded { envelope, event_type, timestamp_ms, data })
}

fn parse_timestamp(raw: &str) -> Result<i64, DecodeError> {
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(ms);
    }
    let bad = || DecodeError::BadTimestamp(raw.to_owned());
    let text: String = serde_json::from_str(raw).map_err(|_| bad())?;
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_envelope() {
        let payload = br#"{"eventType":"OrderPlaced","eventId":"550e8400","timestamp":"2026-03-30T10:00:00Z","version":1,"source":"order-service","correlationId":"req-abc123","data":{"orderId":"ord-123","total":59.98}}"#;
        let d = decode(Some(payload), None, None).unwrap();
        assert_eq!(d.event_type, "OrderPlaced");
        assert_eq!(d.envelope.event_id.as_deref(), Some("550e8400"));
        assert_eq!(d.timestamp_ms, 1_774_864_800_000);
        assert_eq!(d.data, br#"{"orderId":"ord-123","total":59.98}"#);
        assert!(matches!(d.event_type, Cow::Borrowed(_)));
    }

    #[test]
    fn flat_event_and_header_type() {
        let payload = br#"{"orderId":"o1","timestamp":1700000000000}"#;
        let d = decode(Some(payload), Some("PaymentProcessed"), None).unwrap();
        assert_eq!(d.event_type, "PaymentProcessed");
        assert_eq!(d.timestamp_ms, 1_700_000_000_000);
        assert_eq!(d.data, payload);
    }

    #[test]
    fn bad_inputs() {
        assert_eq!(decode(None, None, None).unwrap_err(), DecodeError::Empty);
        assert!(matches!(decode(Some(b"not json"), None, None).unwrap_err(), DecodeError::Json(_)));
        assert_eq!(decode(Some(b"{\"data\":{}}"), None, None).unwrap_err(), DecodeError::MissingEventType);
        assert!(matches!(
            decode(Some(br#"{"eventType":"X","timestamp":"yesterday"}"#), None, None).unwrap_err(),
            DecodeError::BadTimestamp(_)
        ));
    }
}
