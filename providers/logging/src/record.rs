//! The record schema: one JSON object per line, the same bytes in every sink.
//!
//! The field set and order are a stable contract documented in the README; readers (jq, a log
//! shipper, a JetStream consumer) depend on it, so change it only with a new schema version.

use std::sync::Arc;

use serde::Serialize;

/// Severity, the provider's own copy of `cyber:system/types.level` so that this module (and its
/// tests) do not depend on generated bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Critical => "critical",
        }
    }
}

/// One log record as a caller handed it in, before the provider stamps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub timestamp_ms: u64,
    pub level: Level,
    pub source: String,
    pub message: String,
    /// The request whose work wrote it (the caller's `x-request-id`), when the call carried one.
    pub request: Option<Arc<str>>,
}

/// What the provider adds to every record: where it was written.
#[derive(Clone, Debug)]
pub struct Stamp {
    pub host_id: String,
    pub lattice: String,
}

/// The wire form; field order here is the order in the JSON line.
#[derive(Serialize)]
struct Line<'a> {
    ts: &'a str,
    level: &'a str,
    source: &'a str,
    message: &'a str,
    host_id: &'a str,
    lattice: &'a str,
    seq: u64,
    /// Last and only when known, so that lines without one read as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<&'a str>,
}

/// Appends `record` to `buf` as one JSON line (terminated by `\n`) and returns the length of the
/// JSON object without the newline. serde_json escapes control characters and quotes, so a
/// message with newlines still occupies exactly one line.
pub fn encode_line(buf: &mut Vec<u8>, record: &Record, stamp: &Stamp, seq: u64) -> usize {
    let start = buf.len();
    let ts = rfc3339_millis(record.timestamp_ms);
    let line = Line {
        ts: &ts,
        level: record.level.as_str(),
        source: &record.source,
        message: &record.message,
        host_id: &stamp.host_id,
        lattice: &stamp.lattice,
        seq,
        request: record.request.as_deref(),
    };
    // Serializing plain strings and integers into a Vec cannot fail (no I/O, no maps with
    // non-string keys); falling back keeps the line valid JSON instead of panicking anyway.
    if serde_json::to_writer(&mut *buf, &line).is_err() {
        buf.truncate(start);
        buf.extend_from_slice(b"{}");
    }
    let len = buf.len() - start;
    buf.push(b'\n');
    len
}

/// The latest instant RFC 3339's four-digit year can express: 9999-12-31T23:59:59.999Z.
const MAX_RFC3339_MS: u64 = 253_402_300_799_999;

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds, e.g.
/// `2026-11-24T09:15:02.042Z`. Timestamps come from callers, so absurd values are clamped to
/// year 9999 rather than rejected: the record is still worth keeping.
pub fn rfc3339_millis(ms: u64) -> String {
    let ms = ms.min(MAX_RFC3339_MS);
    let millis = ms % 1000;
    let secs = ms / 1000;
    let (hour, min, sec) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let (year, month, day) = civil_from_days(secs / 86_400);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}.{millis:03}Z")
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`, restricted to non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            host_id: "NHOST".into(),
            lattice: "neon".into(),
        }
    }

    fn record(message: &str) -> Record {
        Record {
            timestamp_ms: 1_764_000_000_123,
            level: Level::Warn,
            source: "neon-processor".into(),
            message: message.into(),
            request: None,
        }
    }

    #[test]
    fn line_has_the_documented_fields_in_order() {
        let mut buf = Vec::new();
        let len = encode_line(&mut buf, &record("hello"), &stamp(), 7);
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "{\"ts\":\"2025-11-24T16:00:00.123Z\",\"level\":\"warn\",\"source\":\"neon-processor\",\
             \"message\":\"hello\",\"host_id\":\"NHOST\",\"lattice\":\"neon\",\"seq\":7}\n"
        );
        assert_eq!(len, text.len() - 1);
    }

    #[test]
    fn a_known_request_comes_last() {
        let mut buf = Vec::new();
        let mut with_request = record("hello");
        with_request.request = Some("order-42".into());
        encode_line(&mut buf, &with_request, &stamp(), 7);
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.ends_with(",\"seq\":7,\"request\":\"order-42\"}\n"),
            "{text}"
        );
    }

    #[test]
    fn newlines_and_quotes_stay_on_one_line() {
        let nasty = "line one\nline \"two\"\r\n\ttab \\ backslash \u{1b}[31m and ünïcode";
        let mut buf = Vec::new();
        encode_line(&mut buf, &record(nasty), &stamp(), 1);
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text.matches('\n').count(),
            1,
            "exactly the terminating newline"
        );
        assert!(text.ends_with('\n'));
        let parsed: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(parsed["message"], nasty);
    }

    #[test]
    fn lines_append_to_one_buffer() {
        let mut buf = Vec::new();
        encode_line(&mut buf, &record("a"), &stamp(), 1);
        encode_line(&mut buf, &record("b"), &stamp(), 2);
        let text = String::from_utf8(buf).unwrap();
        let seqs: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, [1, 2]);
    }

    #[test]
    fn timestamps_format_as_rfc3339_utc_millis() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400_001), "2000-02-29T00:00:00.001Z");
        assert_eq!(
            rfc3339_millis(1_709_251_199_999),
            "2024-02-29T23:59:59.999Z"
        );
        assert_eq!(
            rfc3339_millis(4_102_444_800_000),
            "2100-01-01T00:00:00.000Z"
        );
        assert_eq!(rfc3339_millis(u64::MAX), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn levels_are_lowercase_words() {
        assert_eq!(Level::Info.as_str(), "info");
        assert_eq!(Level::Warn.as_str(), "warn");
        assert_eq!(Level::Critical.as_str(), "critical");
    }
}
