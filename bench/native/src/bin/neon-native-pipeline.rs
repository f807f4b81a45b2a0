//! One request per process: `neon-native-pipeline DATA` prints the result on stdout (exit 0) or
//! the error on stderr (exit 1), and appends the records to `$NEON_LOG_FILE`
//! (default /tmp/neon-logs/neon.native.jsonl). The cold-start anchor of the benchmark: what a
//! user without WebAssembly gets for per-request isolation, a process.

use std::path::PathBuf;
use std::process::ExitCode;

use neon_logging_provider::config::{FileSettings, Fsync};
use neon_logging_provider::record::{encode_line, Stamp};
use neon_logging_provider::sink::file::FileSink;

const DEFAULT_LOG_FILE: &str = "/tmp/neon-logs/neon.native.jsonl";

fn main() -> ExitCode {
    let Some(data) = std::env::args_os().nth(1) else {
        eprintln!("usage: neon-native-pipeline DATA");
        return ExitCode::from(2);
    };
    let path =
        std::env::var_os("NEON_LOG_FILE").map_or_else(|| DEFAULT_LOG_FILE.into(), PathBuf::from);
    let stamp = Stamp {
        host_id: "native".to_string(),
        lattice: "none".to_string(),
    };

    let mut lines = Vec::new();
    let mut seq = 1;
    let result = neon_native::process(data.as_encoded_bytes(), |record| {
        encode_line(&mut lines, &record, &stamp, seq);
        seq += 1;
    });

    // No fsync: the WebAssembly side of the cold-start figure does not touch a disk either.
    let written = FileSink::open(FileSettings {
        path,
        max_bytes: u64::MAX,
        keep: 0,
        fsync: Fsync::Never,
    })
    .and_then(|mut sink| sink.append(&lines, false));
    if let Err(reason) = written {
        eprintln!("neon-native-pipeline: logging failed: {reason}");
        return ExitCode::FAILURE;
    }

    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            eprintln!("{reason}");
            ExitCode::FAILURE
        }
    }
}
