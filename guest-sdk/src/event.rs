use serde::Deserialize;

/// One input event: the seed envelope's fields, borrowed from the batch.
///
/// `data` is the envelope's `data` object as raw JSON: parse it into your own type with
/// [`Event::data`], or read it as bytes with [`Event::data_raw`].
#[derive(Clone, Copy)]
pub struct Event<'a> {
    pub(crate) event_type: &'a str,
    // Text fields the host sends are checked as UTF-8 when read, not for every event.
    pub(crate) id: Option<&'a [u8]>,
    pub(crate) timestamp_ms: i64,
    pub(crate) version: u32,
    pub(crate) aggregate_id: Option<&'a [u8]>,
    pub(crate) correlation_id: Option<&'a [u8]>,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) data: &'a [u8],
    pub(crate) origin: u32,
}

impl<'a> Event<'a> {
    /// An event from its parts. Hosts and benchmarks use this; plugins receive events.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        event_type: &'a str,
        id: Option<&'a str>,
        timestamp_ms: i64,
        version: u32,
        aggregate_id: Option<&'a str>,
        correlation_id: Option<&'a str>,
        key: Option<&'a [u8]>,
        data: &'a [u8],
        origin: u32,
    ) -> Self {
        Event {
            event_type,
            id: id.map(str::as_bytes),
            timestamp_ms,
            version,
            aggregate_id: aggregate_id.map(str::as_bytes),
            correlation_id: correlation_id.map(str::as_bytes),
            key,
            data,
            origin,
        }
    }

    /// The envelope's `eventType`.
    pub fn event_type(&self) -> &'a str {
        self.event_type
    }

    /// The envelope's `eventId`.
    pub fn id(&self) -> Option<&'a str> {
        self.id.map(text)
    }

    /// The envelope's `timestamp`, in milliseconds since the Unix epoch (0 when absent).
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }

    /// The envelope's `timestamp` as RFC 3339 text in UTC, millisecond precision.
    pub fn timestamp_rfc3339(&self) -> String {
        crate::event::rfc3339_from_ms(self.timestamp_ms)
    }

    /// The envelope's schema `version` (1 when absent).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The envelope's `aggregateId`.
    pub fn aggregate_id(&self) -> Option<&'a str> {
        self.aggregate_id.map(text)
    }

    /// The envelope's `correlationId`.
    pub fn correlation_id(&self) -> Option<&'a str> {
        self.correlation_id.map(text)
    }

    /// The Kafka record key.
    pub fn key(&self) -> Option<&'a [u8]> {
        self.key
    }

    /// The envelope's `data`, raw JSON text (`null` when absent).
    pub fn data_raw(&self) -> &'a [u8] {
        self.data
    }

    /// The envelope's `data`, parsed into `T`. `T` may borrow from the event (`&str`,
    /// `Cow<str>` with `#[serde(borrow)]`, `&RawValue`), which saves a copy per field.
    pub fn data<T: Deserialize<'a>>(&self) -> Result<T, crate::Error> {
        // Checked as UTF-8 once here, the parser need not check each string it borrows
        // (the same result as parsing the bytes, which is what happens when the check fails).
        Ok(match std::str::from_utf8(self.data) {
            Ok(text) => serde_json::from_str(text)?,
            Err(_) => serde_json::from_slice(self.data)?,
        })
    }

    /// The handle the host uses to find this event's Kafka metadata.
    pub fn origin(&self) -> u32 {
        self.origin
    }
}

impl std::fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type)
            .field("id", &self.id.map(String::from_utf8_lossy))
            .field("timestamp_ms", &self.timestamp_ms)
            .field("version", &self.version)
            .field("aggregate_id", &self.aggregate_id.map(String::from_utf8_lossy))
            .field("correlation_id", &self.correlation_id.map(String::from_utf8_lossy))
            .field("key", &self.key)
            .field("data", &self.data)
            .field("origin", &self.origin)
            .finish()
    }
}

/// A text field of the batch: the host sends the envelope's text as UTF-8.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("host sends UTF-8")
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic
/// Gregorian, UTC), without pulling a date library into every plugin.
pub(crate) fn rfc3339_from_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z");
    }
    // Called once per event by many projections: digits by hand, not `format!`.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut two = |at: usize, v: i64| {
        out[at] = b'0' + (v / 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    two(0, y / 100);
    two(2, y % 100);
    two(5, m);
    two(8, d);
    two(11, hh);
    two(14, mm);
    two(17, ss);
    two(20, millis / 10);
    out[22] = b'0' + (millis % 10) as u8;
    String::from_utf8(out.to_vec()).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    use super::rfc3339_from_ms;

    #[test]
    fn formats_timestamps() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_from_ms(1_774_864_800_123), "2026-03-30T10:00:00.123Z");
        assert_eq!(rfc3339_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_from_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_from_ms(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_from_ms(253_402_300_800_000), "10000-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_from_ms(-62_167_219_200_001), "-001-12-31T23:59:59.999Z");
    }
}
