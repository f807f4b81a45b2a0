//! Figure 3, the linked side: one `cyber:system/logging.log` call into the logger component over
//! the lattice. The client calls the logger as the host calls it for the processor: wRPC on
//! NATS, to the logger's subject prefix `<lattice>.<component id>`; the host instantiates the
//! logger, which calls `sink.write` on the logging provider (awaited) before the call completes.
//! The generated client waits for the (empty) result, so each sample is a full round trip.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wrpc_transport::InvokeExt as _;

/// Client bindings from the contract itself (wit/system).
mod client {
    wit_bindgen_wrpc::generate!({
        world: "neon:bench-client/client",
        generate_all,
        inline: "package neon:bench-client;
                 world client {
                     import cyber:system/logging@0.1.0;
                 }",
        path: "../wit/system",
    });
}

use client::cyber::system::logging;
use client::cyber::system::types::Level;
use neon_ops::auth::{Auth, Role};

/// Times `calls` sequential `logging.log` calls after `warmup` untimed ones; µs per call.
///
/// Run it on Tokio's current-thread runtime: one thread for client and demux keeps the timing
/// free of cross-thread wake-ups.
pub async fn linked_log_calls(
    nats_url: &str,
    lattice: &str,
    logger_id: &str,
    warmup: usize,
    calls: usize,
) -> Result<Vec<f64>> {
    // Calls as a host makes them, with the identity a host's invocations use.
    let creds = Auth::ensure()?.creds(Role::Providers);
    let nats = async_nats::ConnectOptions::with_credentials_file(&creds)
        .await
        .with_context(|| format!("reading {}", creds.display()))?
        .connect(nats_url)
        .await
        .with_context(|| format!("connecting to NATS at {nats_url}"))?;
    let prefix = format!("{lattice}.{logger_id}");
    let wrpc = wrpc_transport_nats::Client::new(nats, prefix, None)
        .await
        .context("creating the wRPC client")?;
    let timeout = Duration::from_secs(10);
    let wrpc = wrpc.timeout(timeout);
    let mut samples = Vec::with_capacity(calls);
    for i in 0..warmup + calls {
        let start = Instant::now();
        tokio::time::timeout(
            timeout,
            logging::log(&wrpc, None, "neon bench: one linked log call", Level::Info),
        )
        .await
        .with_context(|| format!("logging.log call {i}: no answer within {timeout:?}"))?
        .with_context(|| format!("logging.log call {i}"))?;
        if i >= warmup {
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(samples)
}
