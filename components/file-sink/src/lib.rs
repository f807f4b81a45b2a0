//! file-sink: `cyber:system/sink` without a capability provider.
//!
//! Each entry becomes one JSON line, `{"timestamp_ms":..,"level":..,"source":..,"message":..}`,
//! on stdout, or appended to the file named by config `sink_file` (a path inside a directory
//! the runtime preopens, e.g. `wasmtime serve --dir`). A batch is one write, so its lines stay
//! together. A failed open or write is the call's `err`: the fused gateway then answers 500,
//! never 200 for records that were not kept.
//!
//! std on purpose (unlike the other components): stdout and files are what it is for.

mod json;

wit_bindgen::generate!({
    path: [
        "../../wit/deps/config",
        "../../wit/system",
        "../../wit/file-sink",
    ],
    world: "cyber:file-sink/file-sink",
    generate_all,
});

use std::fs::OpenOptions;
use std::io::Write;

use exports::cyber::system::sink::{Entry, Guest};
use wasi::config::store as config;

/// The config key naming the file to append to; without it, stdout.
const SINK_FILE: &str = "sink_file";

struct FileSink;

impl Guest for FileSink {
    fn write(entries: Vec<Entry>) -> Result<(), String> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::with_capacity(entries.len() * 128);
        for entry in &entries {
            json::encode_line(&mut lines, entry);
        }
        match destination()? {
            Some(path) => append(&path, &lines),
            None => std::io::stdout()
                .lock()
                .write_all(&lines)
                .map_err(|e| format!("file-sink: cannot write to stdout: {e}")),
        }
    }
}

fn destination() -> Result<Option<String>, String> {
    match config::get(SINK_FILE) {
        Ok(Some(path)) if !path.trim().is_empty() => Ok(Some(path)),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("file-sink: cannot read config: {e:?}")),
    }
}

fn append(path: &str, lines: &[u8]) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("file-sink: cannot open {path} (is its directory preopened?): {e}"))?;
    file.write_all(lines)
        .and_then(|()| file.flush())
        .map_err(|e| format!("file-sink: cannot append to {path}: {e}"))
}

export!(FileSink);
