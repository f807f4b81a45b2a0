//! `wadm`: the wasmCloud application deployment manager, built from crate `wadm` 0.21.1.
//!
//! The library carries the whole CLI (feature `cli` derives clap's Parser on `WadmConfig`,
//! including `--version`, which prints `wadm 0.21.1` as `wash up` checks); this launcher adds
//! only logging and the process lifecycle.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use clap::Parser as _;
use tracing_subscriber::EnvFilter;
use wadm::config::WadmConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = WadmConfig::parse();

    // Logs go to stderr (wash up -d sends them to its wadm log); RUST_LOG overrides the level.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if config.structured_logging {
        logs.json().init();
    } else {
        logs.init();
    }
    if config.tracing_enabled || config.tracing_endpoint.is_some() {
        // Upstream's binary wires an OTLP exporter here; this launcher keeps wadm small.
        tracing::warn!("OpenTelemetry tracing is not built into this wadm launcher; ignoring");
    }

    let mut tasks = wadm::start_wadm(config)
        .await
        .context("failed to start wadm")?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("failed to listen for SIGTERM")?;
    // wadm keeps its state in JetStream, so stopping means just leaving: nothing to flush.
    tokio::select! {
        res = tasks.join_next() => match res {
            Some(Ok(Ok(()))) | None => tracing::info!("wadm exited"),
            Some(Ok(Err(e))) => return Err(e.context("wadm failed")),
            Some(Err(e)) => return Err(anyhow::Error::new(e).context("wadm task panicked")),
        },
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, stopping"),
        _ = sigterm.recv() => tracing::info!("SIGTERM received, stopping"),
    }
    // Exit at once, as upstream's binary does: waiting for the runtime to wind down the aborted
    // consumers only delays `wash down` by seconds.
    std::process::exit(0)
}
