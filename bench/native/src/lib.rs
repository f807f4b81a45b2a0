//! The processor's semantics as plain Rust, for the benchmark's native anchors.
//!
//! `neon-native-pipeline` runs it once per process (the cold-start anchor), `neon-native-service`
//! behind axum (the HTTP anchor). Records go through the logging provider's own encoding and
//! file sink; what the native side leaves out is the logger component's redaction, which does
//! nothing to the pipeline's fixed messages.

use std::time::{SystemTime, UNIX_EPOCH};

use neon_logging_provider::record::{Level, Record};

/// The `source` the logger component stamps in the default wiring.
pub const SOURCE: &str = "neon-processor";

/// What `cyber:core/processing.process` does, with logging handed in by the caller.
pub fn process(data: &[u8], mut log: impl FnMut(Record)) -> Result<String, String> {
    log(record("Initiating data sequence...", Level::Info));
    if data.is_empty() {
        log(record("Null data packet received.", Level::Warn));
        return Err("Empty payload".to_string());
    }
    // Lossy, like the component: invalid UTF-8 becomes U+FFFD instead of failing the payload.
    let result = String::from_utf8_lossy(data).to_uppercase();
    log(record("Sequence complete.", Level::Info));
    Ok(result)
}

fn record(message: &str, level: Level) -> Record {
    Record {
        timestamp_ms: now_ms(),
        level,
        source: SOURCE.to_string(),
        message: message.to_string(),
        request: None,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8]) -> (Result<String, String>, Vec<(String, Level)>) {
        let mut logged = Vec::new();
        let result = process(data, |r| logged.push((r.message, r.level)));
        (result, logged)
    }

    #[test]
    fn uppercases_and_logs_start_and_end() {
        let (result, logged) = run(b"hello");
        assert_eq!(result, Ok("HELLO".to_string()));
        assert_eq!(
            logged,
            vec![
                ("Initiating data sequence...".to_string(), Level::Info),
                ("Sequence complete.".to_string(), Level::Info),
            ]
        );
    }

    #[test]
    fn rejects_empty_with_a_warning() {
        let (result, logged) = run(b"");
        assert_eq!(result, Err("Empty payload".to_string()));
        assert_eq!(
            logged[1],
            ("Null data packet received.".to_string(), Level::Warn)
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        let (result, _) = run(b"a\xffb");
        assert_eq!(result, Ok("A\u{FFFD}B".to_string()));
    }
}
