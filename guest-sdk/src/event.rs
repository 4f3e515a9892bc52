use serde::de::DeserializeOwned;

/// One input event: the seed envelope's fields, borrowed from the batch.
///
/// `data` is the envelope's `data` object as raw JSON: parse it into your own type with
/// [`Event::data`], or read it as bytes with [`Event::data_raw`].
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub(crate) event_type: &'a str,
    pub(crate) id: Option<&'a str>,
    pub(crate) timestamp_ms: i64,
    pub(crate) version: u32,
    pub(crate) aggregate_id: Option<&'a str>,
    pub(crate) correlation_id: Option<&'a str>,
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
        Event { event_type, id, timestamp_ms, version, aggregate_id, correlation_id, key, data, origin }
    }

    /// The envelope's `eventType`.
    pub fn event_type(&self) -> &'a str {
        self.event_type
    }

    /// The envelope's `eventId`.
    pub fn id(&self) -> Option<&'a str> {
        self.id
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
        self.aggregate_id
    }

    /// The envelope's `correlationId`.
    pub fn correlation_id(&self) -> Option<&'a str> {
        self.correlation_id
    }

    /// The Kafka record key.
    pub fn key(&self) -> Option<&'a [u8]> {
        self.key
    }

    /// The envelope's `data`, raw JSON text (`null` when absent).
    pub fn data_raw(&self) -> &'a [u8] {
        self.data
    }

    /// The envelope's `data`, parsed into `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, crate::Error> {
        Ok(serde_json::from_slice(self.data)?)
    }

    /// The handle the host uses to find this event's Kafka metadata.
    pub fn origin(&self) -> u32 {
        self.origin
    }
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
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339_from_ms;

    #[test]
    fn formats_timestamps() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_from_ms(1_774_864_800_123), "2026-03-30T10:00:00.123Z");
        assert_eq!(rfc3339_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
