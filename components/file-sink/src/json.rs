//! One sink entry as one JSON line. Written by hand: serde would be most of the component.

use crate::exports::cyber::system::sink::Entry;
use crate::exports::cyber::system::types::Level;

pub fn encode_line(out: &mut Vec<u8>, entry: &Entry) {
    out.extend_from_slice(b"{\"timestamp_ms\":");
    out.extend_from_slice(entry.timestamp_ms.to_string().as_bytes());
    out.extend_from_slice(b",\"level\":\"");
    out.extend_from_slice(level_name(entry.level).as_bytes());
    out.extend_from_slice(b"\",\"source\":");
    string(out, &entry.source);
    out.extend_from_slice(b",\"message\":");
    string(out, &entry.message);
    out.extend_from_slice(b"}\n");
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Critical => "critical",
    }
}

/// A JSON string: quotes, backslashes and every control character escaped, so a message with
/// newlines still takes exactly one line.
fn string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
            }
            c => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: Level, source: &str, message: &str) -> String {
        let mut out = Vec::new();
        encode_line(
            &mut out,
            &Entry {
                level,
                message: message.to_string(),
                source: source.to_string(),
                timestamp_ms: 1_764_000_000_123,
            },
        );
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn a_plain_entry_is_one_line_with_every_field() {
        assert_eq!(
            line(Level::Warn, "neon-processor", "Sequence complete."),
            "{\"timestamp_ms\":1764000000123,\"level\":\"warn\",\"source\":\"neon-processor\",\
             \"message\":\"Sequence complete.\"}\n"
        );
    }

    #[test]
    fn quotes_backslashes_and_control_characters_are_escaped() {
        let text = line(Level::Critical, "s\"rc", "a\nb\\c\u{1}\t\u{e9}");
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"source\":\"s\\\"rc\""));
        assert!(text.contains("\"message\":\"a\\nb\\\\c\\u0001\\t\u{e9}\""));
    }
}
