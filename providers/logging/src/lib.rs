//! Neon's logging capability provider.
//!
//! Exports `cyber:system/sink` (for the logger component) and `cyber:system/logging` (so a
//! processor can be linked straight to it), and writes records as JSON lines to the sinks each
//! link asks for: a file, a JetStream stream, stdout. See README.md for the record schema and
//! the config keys.

pub mod config;
pub mod metrics;
pub mod provider;
pub mod record;
pub mod serve;
pub mod sink;
pub mod stats;
pub mod writer;

use anyhow::Context as _;
use wasmcloud_provider_sdk::{get_connection, run_provider, HostData};

use crate::provider::LoggingProvider;
use crate::record::Stamp;

/// Server-side bindings for the world the provider implements, from the project's own WIT: the
/// same contract the components are built against.
pub mod bindings {
    wit_bindgen_wrpc::generate!({
        world: "logging-provider",
        path: "../../wit/system",
    });
}

/// The name the provider gives its NATS connection and its log lines.
pub const NAME: &str = "neon-logging-provider";

/// Runs the provider until the host shuts it down.
pub async fn run(host_data: &HostData) -> anyhow::Result<()> {
    let stamp = Stamp {
        host_id: host_data.host_id.clone(),
        lattice: host_data.lattice_rpc_prefix.clone(),
    };
    let instance_id = if host_data.instance_id.is_empty() {
        format!("{}-{}", std::process::id(), stamp.host_id)
    } else {
        host_data.instance_id.clone()
    };
    let provider = LoggingProvider::new(stamp, instance_id);
    let shutdown = run_provider(provider.clone(), NAME)
        .await
        .context("failed to start the provider")?;
    let connection = get_connection();
    let wrpc = connection
        .get_wrpc_client(connection.provider_key())
        .await
        .context("failed to create the wRPC client")?;
    let invocations = bindings::serve(&wrpc, provider)
        .await
        .context("failed to serve the provider's exports")?;
    serve::serve_invocations(invocations, shutdown).await;
    Ok(())
}
