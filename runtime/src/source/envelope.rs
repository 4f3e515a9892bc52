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

/// A JSON value's text exactly as written, borrowed from the record (what serde_json's
/// `&RawValue` holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a>(pub &'a str);

impl<'a> Raw<'a> {
    /// The JSON text.
    pub fn get(&self) -> &'a str {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| Raw(raw.get()))
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
    pub timestamp: Option<Raw<'a>>,
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
    pub data: Option<Raw<'a>>,
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
    let mut envelope = match scan::envelope(payload) {
        Some(envelope) => envelope,
        None => serde_json::from_slice(payload).map_err(|e| DecodeError::Json(e.to_string()))?,
    };
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
    // Text without escapes (the usual case) is the JSON string's content as it stands.
    if let Some(text) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).filter(|t| !t.contains('\\')) {
        if let Some(ms) = rfc3339_ms(text.as_bytes()) {
            return Ok(ms);
        }
        return chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp_millis())
            .map_err(|_| DecodeError::BadTimestamp(raw.to_owned()));
    }
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(ms);
    }
    let bad = || DecodeError::BadTimestamp(raw.to_owned());
    let text: String = serde_json::from_str(raw).map_err(|_| bad())?;
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| bad())
}

/// The common RFC 3339 shape, `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)`, in
/// milliseconds since the epoch, without chrono's general parser (about a quarter of the
/// envelope's decoding time). `None` for anything else, which chrono then decides: every
/// text accepted here is one chrono accepts, with the same value.
fn rfc3339_ms(t: &[u8]) -> Option<i64> {
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = t.get(from..from + n)?;
        part.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    if t.len() < 20 || t[4] != b'-' || t[7] != b'-' || t[10] != b'T' || t[13] != b':' || t[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (h, mi, s) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if y < 1 || !(1..=12).contains(&mo) || d < 1 || d > month_days[mo as usize - 1] || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if t[at] == b'.' {
        let n = t[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        let first = n.min(3);
        millis = digits(at + 1, first)? * [100, 10, 1][first - 1];
        at += 1 + n;
    }
    let offset = match t.get(at..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    // Howard Hinnant's days_from_civil.
    let (y, mo) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) * 1000 + millis)
}

/// The envelope in one pass without serde, for the records that need none of serde's
/// care: valid UTF-8, no escapes, no duplicate envelope fields, nesting under 128 levels.
/// Anything else returns `None` and goes through serde_json, which then decides, so every
/// record decodes exactly as serde_json decodes it (same fields, same spans); only the
/// plain ones are faster. JSON is checked as strictly as serde_json checks it, including
/// the values skipped over.
mod scan {
    use std::borrow::Cow;

    use super::{Envelope, Raw, Text};

    /// Containers open at once beyond which serde_json decides (it has no limit for
    /// values it skips; this scanner keeps its stack in one `u128`).
    const MAX_DEPTH: u32 = 127;

    pub(super) fn envelope(payload: &[u8]) -> Option<Envelope<'_>> {
        // Records are nearly always ASCII, which is checked a word at a time.
        let text = if payload.is_ascii() {
            // SAFETY: ASCII is UTF-8.
            unsafe { std::str::from_utf8_unchecked(payload) }
        } else {
            std::str::from_utf8(payload).ok()?
        };
        let b = payload;
        let mut env = Envelope {
            event_id: None,
            event_type: None,
            timestamp: None,
            version: None,
            source: None,
            correlation_id: None,
            aggregate_id: None,
            data: None,
        };
        let mut seen = 0u8;
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        i = ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                let key_end = string_end(b, i + 1)?;
                let field = match &b[i + 1..key_end] {
                    b"eventId" => 0,
                    b"eventType" => 1,
                    b"timestamp" => 2,
                    b"version" => 3,
                    b"source" => 4,
                    b"correlationId" => 5,
                    b"aggregateId" => 6,
                    b"data" => 7,
                    _ => 8,
                };
                i = ws(b, key_end + 1);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i = ws(b, i + 1);
                if field < 8 {
                    // serde rejects a repeated field; let it say so.
                    if seen & (1 << field) != 0 {
                        return None;
                    }
                    seen |= 1 << field;
                }
                let null = b[i..].starts_with(b"null");
                match field {
                    0 | 1 | 4 | 5 | 6 => {
                        let value = if null {
                            i += 4;
                            None
                        } else {
                            if b.get(i) != Some(&b'"') {
                                return None;
                            }
                            let end = string_end(b, i + 1)?;
                            let value = &text[i + 1..end];
                            i = end + 1;
                            Some(Text(Cow::Borrowed(value)))
                        };
                        match field {
                            0 => env.event_id = value,
                            1 => env.event_type = value,
                            4 => env.source = value,
                            5 => env.correlation_id = value,
                            _ => env.aggregate_id = value,
                        }
                    }
                    2 | 7 => {
                        let value = if null {
                            i += 4;
                            None
                        } else {
                            let end = value_end(b, i)?;
                            let value = Raw(&text[i..end]);
                            i = end;
                            Some(value)
                        };
                        if field == 2 {
                            env.timestamp = value;
                        } else {
                            env.data = value;
                        }
                    }
                    3 => {
                        env.version = if null {
                            i += 4;
                            None
                        } else {
                            let (version, end) = version(b, i)?;
                            i = end;
                            Some(version)
                        }
                    }
                    _ => i = value_end(b, i)?,
                }
                i = ws(b, i);
                match b.get(i) {
                    Some(b',') => i = ws(b, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        (ws(b, i) == b.len()).then_some(env)
    }

    /// Past JSON whitespace, as serde_json skips it.
    #[inline(always)]
    fn ws(b: &[u8], mut i: usize) -> usize {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
            i += 1;
        }
        i
    }

    /// The closing quote of a string whose content starts at `i`, if the string has no
    /// escapes and no control characters.
    #[inline(always)]
    fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
        // Eight bytes at a time: the first quote, backslash or control character.
        const ONES: u64 = u64::MAX / 255;
        const HIGH: u64 = ONES * 0x80;
        while let Some(chunk) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            let quote = w ^ (ONES * b'"' as u64);
            let backslash = w ^ (ONES * b'\\' as u64);
            let found = (quote.wrapping_sub(ONES) & !quote
                | backslash.wrapping_sub(ONES) & !backslash
                | w.wrapping_sub(ONES * 0x20) & !w)
                & HIGH;
            if found != 0 {
                let at = i + (found.trailing_zeros() / 8) as usize;
                return (b[at] == b'"').then_some(at);
            }
            i += 8;
        }
        loop {
            match *b.get(i)? {
                b'"' => return Some(i),
                b'\\' | 0..0x20 => return None,
                _ => i += 1,
            }
        }
    }

    /// The end of the value starting at `i`, checked as serde_json's `ignore_value` checks it.
    fn value_end(b: &[u8], mut i: usize) -> Option<usize> {
        // Open containers, innermost in the lowest bit: 1 for an object.
        let mut stack: u128 = 0;
        let mut depth = 0u32;
        loop {
            // One value.
            match *b.get(i)? {
                b'"' => i = string_end(b, i + 1)? + 1,
                open @ (b'{' | b'[') => {
                    let object = open == b'{';
                    i = ws(b, i + 1);
                    if b.get(i) == Some(if object { &b'}' } else { &b']' }) {
                        i += 1;
                    } else {
                        if depth == MAX_DEPTH {
                            return None;
                        }
                        stack = stack << 1 | u128::from(object);
                        depth += 1;
                        if object {
                            i = key_end(b, i)?;
                        }
                        continue;
                    }
                }
                b't' => i = literal(b, i, b"true")?,
                b'f' => i = literal(b, i, b"false")?,
                b'n' => i = literal(b, i, b"null")?,
                b'-' | b'0'..=b'9' => i = number_end(b, i)?,
                _ => return None,
            }
            // Then commas and closing brackets, up to the next value or the end.
            loop {
                if depth == 0 {
                    return Some(i);
                }
                let object = stack & 1 == 1;
                i = ws(b, i);
                match *b.get(i)? {
                    b',' => {
                        i = ws(b, i + 1);
                        if object {
                            i = key_end(b, i)?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                i += 1;
                stack >>= 1;
                depth -= 1;
            }
        }
    }

    /// Past an object member's key, its colon and the whitespace up to its value.
    #[inline(always)]
    fn key_end(b: &[u8], i: usize) -> Option<usize> {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let i = ws(b, string_end(b, i + 1)? + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        Some(ws(b, i + 1))
    }

    #[inline(always)]
    fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
        b[i..].starts_with(word).then_some(i + word.len())
    }

    #[inline(always)]
    fn digits(b: &[u8], mut i: usize) -> usize {
        while let Some(b'0'..=b'9') = b.get(i) {
            i += 1;
        }
        i
    }

    /// The end of a number in JSON's grammar (what serde_json's `ignore_integer` accepts).
    #[inline(always)]
    fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
        if b[i] == b'-' {
            i += 1;
        }
        match *b.get(i)? {
            b'0' => {
                i += 1;
                if let Some(b'0'..=b'9') = b.get(i) {
                    return None;
                }
            }
            b'1'..=b'9' => i = digits(b, i + 1),
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            let end = digits(b, i + 1);
            if end == i + 1 {
                return None;
            }
            i = end;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let end = digits(b, i);
            if end == i {
                return None;
            }
            i = end;
        }
        Some(i)
    }

    /// `version`: a plain non-negative integer that fits a `u32` (serde decides the rest).
    fn version(b: &[u8], i: usize) -> Option<(u32, usize)> {
        let end = digits(b, i);
        let text = &b[i..end];
        if text.is_empty() || text.len() > 10 || (text.len() > 1 && text[0] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = b.get(end) {
            return None;
        }
        let v = text.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        Some((u32::try_from(v).ok()?, end))
    }
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
    fn rfc3339_fast_path_agrees_with_chrono() {
        let chrono_ms = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| t.timestamp_millis());
        let mut texts: Vec<String> = [
            "2026-03-30T10:00:00Z", "2026-03-30T10:00:00.5Z", "2026-03-30T10:00:00.123456789Z",
            "2026-03-30T10:00:00.1234567891Z", "2026-03-30T10:00:00+02:00", "2026-03-30T10:00:00.25-05:30",
            "1969-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
            "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z", "2026-03-30T24:00:00Z", "2026-03-30T23:60:00Z", "2016-12-31T23:59:60Z",
            "2026-03-30t10:00:00z", "2026-03-30 10:00:00Z", "2026-03-30T10:00:00", "2026-03-30T10:00:00.Z",
            "2026-03-30T10:00:00+2:00", "2026-03-30T10:00:00+23:59", "2026-03-30T10:00:00+24:00",
            "2026-03-30T10:00:00-00:00", "2026-3-30T10:00:00Z", "+2026-03-30T10:00:00Z", "2026-03-30T10:00:00ZZ",
            "2026-03-30T10:00:00+02:00x", "2026-03-30T1a:00:00Z", "2026-03-30T10:00:00.1a", "",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        // And a spread of dates, times and offsets.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = |n: u64| (x >> n) as usize;
            let frac = ["", ".1", ".12", ".123", ".1234", ".000001"][f(50) % 6];
            let zone = ["Z".to_string(), format!("+{:02}:{:02}", f(40) % 25, f(44) % 61), format!("-{:02}:{:02}", f(40) % 24, f(44) % 60)][f(56) % 3].clone();
            texts.push(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{frac}{zone}",
                f(0) % 10_000,
                f(14) % 14,
                f(18) % 33,
                f(24) % 25,
                f(30) % 61,
                f(36) % 61
            ));
        }
        for t in &texts {
            if let Some(ms) = rfc3339_ms(t.as_bytes()) {
                assert_eq!(Some(ms), chrono_ms(t), "{t}");
            }
        }
        for t in ["2026-03-30T10:00:00Z", "1969-12-31T23:59:59.999Z", "2026-03-30T10:00:00.25-05:30"] {
            assert_eq!(rfc3339_ms(t.as_bytes()), chrono_ms(t), "{t} takes the fast path");
        }
        // Through `decode`, escaped and odd forms still reach chrono.
        let ts = |json: &str| decode(Some(format!(r#"{{"eventType":"X","timestamp":{json}}}"#).as_bytes()), None, None).map(|d| d.timestamp_ms);
        assert_eq!(ts(r#""2026-03-30T10:00:00Z""#), Ok(1_774_864_800_000));
        assert_eq!(ts(r#""2026-03-30T10:00:00\u005a""#), Ok(1_774_864_800_000));
        assert_eq!(ts(r#""2026-03-30t10:00:00z""#).ok(), chrono_ms("2026-03-30t10:00:00z"));
        assert_eq!(ts("1700000000000"), Ok(1_700_000_000_000));
        assert!(matches!(ts(r#""2026-02-30T10:00:00Z""#), Err(DecodeError::BadTimestamp(_))));
    }

    type Fields = [Option<String>; 8];

    fn fields(e: &Envelope<'_>) -> Fields {
        let t = |t: &Option<Text<'_>>| t.as_ref().map(|t| t.0.to_string());
        let r = |r: &Option<Raw<'_>>| r.map(|r| r.get().to_owned());
        [
            t(&e.event_id),
            t(&e.event_type),
            r(&e.timestamp),
            e.version.map(|v| v.to_string()),
            t(&e.source),
            t(&e.correlation_id),
            t(&e.aggregate_id),
            r(&e.data),
        ]
    }

    /// Whatever the scanner accepts, serde_json accepts with the same fields.
    fn agrees(payload: &[u8]) -> bool {
        let Some(fast) = scan::envelope(payload) else { return false };
        let slow: Envelope<'_> = serde_json::from_slice(payload)
            .unwrap_or_else(|e| panic!("scanner accepted what serde rejects ({e}): {}", String::from_utf8_lossy(payload)));
        assert_eq!(fields(&fast), fields(&slow), "{}", String::from_utf8_lossy(payload));
        true
    }

    #[test]
    fn scanner_agrees_with_serde() {
        let seed = r#"{"eventType":"OrderPlaced","eventId":"550e8400","timestamp":"2026-03-30T10:00:00Z","version":1,"source":"order-service","correlationId":"req-abc123","aggregateId":"ord-1","data":{"orderId":"ord-123","items":[{"q":2,"p":29.99},{"q":1,"p":1e3}],"total":-59.98,"ok":true,"no":false,"n":null,"s":"é ✓"}}"#.as_bytes();
        assert!(agrees(seed), "the seed shape takes the fast path");
        let cases: &[&str] = &[
            r#"{}"#, r#" { } "#, r#"{"eventType":"A"}"#, "{\n\t\"eventType\" : \"A\" ,\r\n \"data\" : [ 1 , 2 ] }",
            r#"{"eventType":"A","data":null,"timestamp":null,"version":null,"eventId":null}"#,
            r#"{"eventType":"A","version":0}"#, r#"{"eventType":"A","version":4294967295}"#,
            r#"{"eventType":"A","version":4294967296}"#, r#"{"eventType":"A","version":01}"#,
            r#"{"eventType":"A","version":-0}"#, r#"{"eventType":"A","version":1.0}"#, r#"{"eventType":"A","version":1e0}"#,
            r#"{"eventType":"A","version":"1"}"#, r#"{"eventType":"A","eventType":"B"}"#, r#"{"x":1,"x":2,"eventType":"A"}"#,
            r#"{"eventType":"A\"B"}"#, r#"{"eventType":"A\u0042"}"#, r#"{"event\u0054ype":"A"}"#, "{\"eventType\":\"A\u{1}\"}",
            r#"{"eventType":"A",}"#, r#"{"eventType":"A"} x"#, r#"{"eventType":"A"}}"#, r#"{"eventType":"A""#, r#"{"eventType":}"#,
            r#"{"eventType" "A"}"#, r#"{"eventType":"A" "b":1}"#, r#"["A"]"#, r#""A""#, r#"{eventType:"A"}"#, "",
            r#"{"eventType":5}"#, r#"{"eventType":"A","data":01}"#, r#"{"eventType":"A","data":-}"#, r#"{"eventType":"A","data":1.}"#,
            r#"{"eventType":"A","data":1.5e}"#, r#"{"eventType":"A","data":1.5e+7}"#, r#"{"eventType":"A","data":-0.0E-0}"#,
            r#"{"eventType":"A","data":[1,]}"#, r#"{"eventType":"A","data":[,1]}"#, r#"{"eventType":"A","data":{"a":1,}}"#,
            r#"{"eventType":"A","data":{"a" 1}}"#, r#"{"eventType":"A","data":{1:1}}"#, r#"{"eventType":"A","data":[[],{},[{}],{"a":[]}]}"#,
            r#"{"eventType":"A","data":[1}"#, r#"{"eventType":"A","data":{"a":1]}"#, r#"{"eventType":"A","data":tru}"#,
            r#"{"eventType":"A","data":nul}"#, r#"{"eventType":"A","data":nullx}"#, r#"{"eventType":"A","data":true false}"#,
            r#"{"eventType":"A","timestamp":1700000000000,"data":"x"}"#, r#"{"eventType":"A","timestamp":"x\ty"}"#,
            r#"{"eventType":"A","other":{"deep":[[[["\u00e9"]]]]}}"#, r#"{"eventType":"A","other":"\\"}"#,
        ];
        for case in cases {
            agrees(case.as_bytes());
        }
        let deep = |n: usize| format!(r#"{{"eventType":"A","data":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        assert!(agrees(deep(120).as_bytes()));
        agrees(deep(127).as_bytes());
        agrees(deep(200).as_bytes());
        agrees(b"{\"eventType\":\"A\",\"x\":\"\xff\"}");
        agrees(b"{\"eventType\":\"\xc3\xa9\"}");

        // Every one-byte change and every truncation of the seed, and of a few others.
        let bytes = b" \t\"\\{}[],:-+.0159eEtrufalsn\x01\xc3";
        for base in [seed, br#"{"eventType":"A","data":[1,{"b":[true,null]},-2.5e3,"s"],"version":7}"#] {
            for at in 0..base.len() {
                agrees(&base[..at]);
                for &b in bytes {
                    let mut m = base.to_vec();
                    m[at] = b;
                    agrees(&m);
                    m.insert(at, b);
                    agrees(&m);
                    m.remove(at);
                    m.remove(at);
                    agrees(&m);
                }
            }
        }
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
