//! `neon-run`: push one payload through Neon's pipeline in an embedded Wasmtime and show what
//! came out: the processing result and the log records that reached the sink.
//!
//!     neon-run [--linked] [--config key=value]... <payload>
//!
//! Default: the composed component (processor + logger in one binary). `--linked`: processor
//! and logger as two components, the log calls passed between them by the host.

use std::process::ExitCode;

use anyhow::{bail, Result};
use neon_harness::{Entry, Harness, Level};

struct Args {
    linked: bool,
    config: Vec<(String, String)>,
    payload: String,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        linked: false,
        config: Vec::new(),
        payload: String::new(),
    };
    let mut payload = None;
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--linked" => args.linked = true,
            "--config" => {
                let Some(pair) = argv.next() else {
                    bail!("--config needs key=value");
                };
                let Some((key, value)) = pair.split_once('=') else {
                    bail!("--config needs key=value, got {pair:?}");
                };
                args.config.push((key.to_string(), value.to_string()));
            }
            "-h" | "--help" => {
                println!("usage: neon-run [--linked] [--config key=value]... <payload>");
                std::process::exit(0);
            }
            _ if payload.is_none() => payload = Some(arg),
            _ => bail!("unexpected argument {arg:?} (quote a payload with spaces)"),
        }
    }
    args.payload = payload.unwrap_or_default();
    Ok(args)
}

fn print_entry(entry: &Entry) {
    let level = match entry.level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Critical => "critical",
    };
    println!(
        "  {:>13} {level:<8} {:<10} {}",
        entry.timestamp_ms, entry.source, entry.message
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("neon-run: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<ExitCode> {
    let args = parse_args()?;
    let harness = Harness::new()?;
    let config: Vec<(&str, &str)> = args
        .config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let wiring = if args.linked {
        "linked: processor.wasm -> logger.wasm"
    } else {
        "composed: processor-composed.wasm"
    };
    let (result, entries) = if args.linked {
        harness.linked(&config, args.payload.as_bytes()).await?
    } else {
        harness.composed(&config, args.payload.as_bytes()).await?
    };
    println!("wiring:  {wiring}");
    println!("input:   {:?}", args.payload);
    let code = match &result {
        Ok(output) => {
            println!("result:  ok {output:?}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            println!("result:  err {message:?}");
            ExitCode::FAILURE
        }
    };
    println!("sink received {} record(s):", entries.len());
    entries.iter().for_each(print_entry);
    Ok(code)
}
