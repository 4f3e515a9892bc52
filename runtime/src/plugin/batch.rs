//! Packing a batch of decoded events into the contract's one buffer and 64-byte index.

use crate::source::envelope::Decoded;

use super::Batch;

/// Bytes per event in the batch index (see `guest-sdk/wit/weir.wit`).
pub const ROW_BYTES: usize = 64;
const ABSENT: u32 = u32::MAX;

/// Builds one [`Batch`]: every event's bytes once, each type name once.
#[derive(Debug, Default)]
pub struct BatchBuilder {
    batch: Batch,
}

impl Default for Batch {
    fn default() -> Self {
        Batch { bytes: Vec::new(), event_types: Vec::new(), index: Vec::new() }
    }
}

impl BatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the builder, keeping its allocations.
    pub fn clear(&mut self) {
        self.batch.bytes.clear();
        self.batch.event_types.clear();
        self.batch.index.clear();
    }

    /// Events so far.
    pub fn len(&self) -> usize {
        self.batch.index.len() / ROW_BYTES
    }

    /// Whether no event was pushed.
    pub fn is_empty(&self) -> bool {
        self.batch.index.is_empty()
    }

    /// Appends one event. `payload` is the record value that `decoded` borrows from.
    pub fn push(&mut self, payload: &[u8], key: Option<&[u8]>, decoded: &Decoded, origin: u32) {
        let bytes = &mut self.batch.bytes;
        let base = bytes.len();
        bytes.extend_from_slice(payload);
        let payload_range = payload.as_ptr() as usize..payload.as_ptr() as usize + payload.len();

        // A field borrowed from the payload points into the copy just made; an unescaped
        // (owned) one is appended after it.
        let mut span = |s: Option<&[u8]>| -> (u32, u32) {
            let Some(s) = s else { return (0, ABSENT) };
            let at = s.as_ptr() as usize;
            if !s.is_empty() && payload_range.contains(&at) && at + s.len() <= payload_range.end {
                ((base + at - payload_range.start) as u32, s.len() as u32)
            } else {
                let start = bytes.len();
                bytes.extend_from_slice(s);
                (start as u32, s.len() as u32)
            }
        };
        let env = &decoded.envelope;
        let id = span(env.event_id.as_deref().map(str::as_bytes));
        let aggregate = span(env.aggregate_id.as_deref().map(str::as_bytes));
        let correlation = span(env.correlation_id.as_deref().map(str::as_bytes));
        let data = span(Some(decoded.data));
        let key = span(key);

        let types = &mut self.batch.event_types;
        let type_index = match types.iter().position(|t| *t == decoded.event_type) {
            Some(i) => i,
            None => {
                types.push(decoded.event_type.as_ref().to_owned());
                types.len() - 1
            }
        };

        let mut row = [0u8; ROW_BYTES];
        let mut put = |at: usize, bytes: &[u8]| row[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &id.0.to_le_bytes());
        put(4, &id.1.to_le_bytes());
        put(8, &decoded.timestamp_ms.to_le_bytes());
        put(16, &env.version.unwrap_or(1).to_le_bytes());
        put(20, &(type_index as u16).to_le_bytes());
        for (at, (start, len)) in [(24, aggregate), (32, correlation), (40, key), (48, data)] {
            put(at, &start.to_le_bytes());
            put(at + 4, &len.to_le_bytes());
        }
        put(56, &origin.to_le_bytes());
        self.batch.index.extend_from_slice(&row);
    }

    /// The packed batch.
    pub fn batch(&self) -> &Batch {
        &self.batch
    }
}

/// Reads fields back out of a packed batch (used for output ids and metrics).
impl Batch {
    fn row(&self, position: u32) -> &[u8] {
        let at = position as usize * ROW_BYTES;
        &self.index[at..at + ROW_BYTES]
    }

    fn field(&self, position: u32, offset: usize) -> Option<&str> {
        let row = self.row(position);
        let start = u32::from_le_bytes(row[offset..offset + 4].try_into().expect("4")) as usize;
        let len = u32::from_le_bytes(row[offset + 4..offset + 8].try_into().expect("4"));
        if len == ABSENT {
            return None;
        }
        std::str::from_utf8(&self.bytes[start..start + len as usize]).ok()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.index.len() / ROW_BYTES
    }

    /// Whether the batch has no events.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The `eventId` of the event at `position`.
    pub fn event_id(&self, position: u32) -> Option<&str> {
        self.field(position, 0)
    }

    /// The `correlationId` of the event at `position`.
    pub fn correlation_id(&self, position: u32) -> Option<&str> {
        self.field(position, 32)
    }

    /// The event type of the event at `position`.
    pub fn event_type(&self, position: u32) -> &str {
        let row = self.row(position);
        &self.event_types[u16::from_le_bytes([row[20], row[21]]) as usize]
    }

    /// The timestamp (ms) of the event at `position`.
    pub fn timestamp_ms(&self, position: u32) -> i64 {
        i64::from_le_bytes(self.row(position)[8..16].try_into().expect("8"))
    }

    /// The origin handle of the event at `position`.
    pub fn origin(&self, position: u32) -> u32 {
        u32::from_le_bytes(self.row(position)[56..60].try_into().expect("4"))
    }

    /// A batch of the events at `positions` only (same bytes, fewer index rows).
    pub fn subset(&self, positions: &[u32]) -> Batch {
        let mut index = Vec::with_capacity(positions.len() * ROW_BYTES);
        for p in positions {
            index.extend_from_slice(self.row(*p));
        }
        Batch { bytes: self.bytes.clone(), event_types: self.event_types.clone(), index }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::envelope::decode;

    #[test]
    fn packs_borrowed_and_escaped_fields() {
        let a = br#"{"eventType":"A","eventId":"id-1","correlationId":"c\"1","data":{"x":1}}"#;
        let b = br#"{"eventType":"B","eventId":"id-2","data":[2]}"#;
        let mut builder = BatchBuilder::new();
        builder.push(a, Some(b"k1"), &decode(Some(a), None, Some(5)).unwrap(), 7);
        builder.push(b, None, &decode(Some(b), None, Some(6)).unwrap(), 8);
        let batch = builder.batch();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.event_id(0), Some("id-1"));
        assert_eq!(batch.correlation_id(0), Some("c\"1"));
        assert_eq!(batch.event_id(1), Some("id-2"));
        assert_eq!(batch.correlation_id(1), None);
        assert_eq!(batch.event_type(1), "B");
        assert_eq!(batch.timestamp_ms(1), 6);
        assert_eq!(batch.origin(1), 8);
        assert_eq!(batch.field(0, 48), Some(r#"{"x":1}"#));
        assert_eq!(batch.field(0, 40), Some("k1"));
        assert_eq!(batch.subset(&[1]).event_id(0), Some("id-2"));
    }
}
