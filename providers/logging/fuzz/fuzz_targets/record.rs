//! Any record and stamp: the encoded line is exactly one line of valid JSON that reads back as
//! the same fields, and the length `encode_line` reports is the line's.

#![no_main]

use libfuzzer_sys::fuzz_target;
#[path = "../../src/record.rs"]
#[allow(dead_code)]
mod record;

use record::{encode_line, Level, Record, Stamp};

#[derive(Debug, arbitrary::Arbitrary)]
struct Input {
    timestamp_ms: u64,
    level: u8,
    source: String,
    message: String,
    host_id: String,
    lattice: String,
    seq: u64,
    request: Option<String>,
}

fuzz_target!(|input: Input| {
    let level = [Level::Info, Level::Warn, Level::Critical][usize::from(input.level % 3)];
    let record = Record {
        timestamp_ms: input.timestamp_ms,
        level,
        source: input.source,
        message: input.message,
        request: input.request.map(Into::into),
    };
    let stamp = Stamp {
        host_id: input.host_id,
        lattice: input.lattice,
    };
    let mut buf = b"earlier line\n".to_vec();
    let start = buf.len();
    let len = encode_line(&mut buf, &record, &stamp, input.seq);
    let line = &buf[start..];
    assert_eq!(line.len(), len + 1);
    assert_eq!(line.last(), Some(&b'\n'));
    assert!(
        !line[..len].contains(&b'\n'),
        "a record took more than one line"
    );
    let value: serde_json::Value = match serde_json::from_slice(&line[..len]) {
        Ok(value) => value,
        Err(error) => panic!("not JSON ({error}): {:?}", String::from_utf8_lossy(line)),
    };
    assert_eq!(value["message"], record.message.as_str());
    assert_eq!(value["source"], record.source.as_str());
    assert_eq!(value["host_id"], stamp.host_id.as_str());
    assert_eq!(value["lattice"], stamp.lattice.as_str());
    assert_eq!(value["level"], level.as_str());
    assert_eq!(value["seq"], input.seq);
    assert_eq!(value["request"].as_str(), record.request.as_deref());
    let ts = value["ts"].as_str().unwrap_or_default();
    assert!(ts.len() == 24 && ts.ends_with('Z'), "timestamp {ts:?}");
});
