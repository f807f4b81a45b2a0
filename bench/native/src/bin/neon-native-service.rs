//! The HTTP anchor of the benchmark: Neon's gateway + processor + logger as one axum service,
//! what a user writes without WebAssembly. Same routes and answers as the gateway:
//! `POST /process` (200 result, 400 "Empty payload", 413 over 1 MiB), `GET /healthz`.
//!
//! Records go through the logging provider's own writer (group commit, one fsync per group, the
//! provider's default), awaited per log call.
//!
//! Usage: neon-native-service [--addr 127.0.0.1:8090] [--log-file /tmp/neon-logs/neon.native.jsonl]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use neon_logging_provider::config::{FileSettings, Fsync};
use neon_logging_provider::record::{Record, Stamp};
use neon_logging_provider::sink::file::FileSink;
use neon_logging_provider::writer::{Queue, Shared, Sinks, Writer};

/// The gateway's default `max_body_bytes`.
const MAX_BODY_BYTES: usize = 1024 * 1024;

struct Options {
    addr: SocketAddr,
    log_file: PathBuf,
}

fn options() -> Result<Options> {
    let mut options = Options {
        addr: "127.0.0.1:8090".parse()?,
        log_file: "/tmp/neon-logs/neon.native.jsonl".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => options.addr = value.parse().with_context(|| format!("--addr {value}"))?,
            "--log-file" => options.log_file = value.into(),
            other => bail!("unknown option {other} (expected --addr, --log-file)"),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options()?;
    let sink = FileSink::open(FileSettings {
        path: options.log_file.clone(),
        max_bytes: u64::MAX,
        keep: 0,
        fsync: Fsync::Batch,
    })
    .map_err(anyhow::Error::msg)?;
    let shared = Arc::new(Shared::new(Stamp {
        host_id: "native".to_string(),
        lattice: "none".to_string(),
    }));
    let sinks: Sinks = vec![Box::new(sink)];
    let writer = Writer::spawn(sinks, shared, "native".to_string(), None);

    let app = Router::new()
        .route("/process", post(process))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(writer.queue());
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .with_context(|| format!("cannot listen on {}", options.addr))?;
    eprintln!(
        "neon-native-service: listening on {}, records in {}",
        options.addr,
        options.log_file.display()
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn process(State(queue): State<Queue>, body: Bytes) -> (StatusCode, String) {
    let mut records: Vec<Record> = Vec::new();
    let result = neon_native::process(&body, |record| records.push(record));
    // One awaited write per log call, as the provider is called once per `logging.log`.
    for record in records {
        if let Err(reason) = queue.write(vec![record]).await {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("logging failed: {reason}"),
            );
        }
    }
    match result {
        Ok(text) => (StatusCode::OK, text),
        Err(reason) => (StatusCode::BAD_REQUEST, reason),
    }
}
