//! Entry point: the wasmCloud SDK's observability set-up from the HostData the host hands over
//! on stdin (diagnostics on stderr at the host's log level, RUST_LOG on top; OpenTelemetry
//! export when the host has it on), then the provider.

mod allocator;

use std::process::ExitCode;

use wasmcloud_provider_sdk::{initialize_observability, load_host_data};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e:#}", neon_logging_provider::NAME);
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics go to stderr: stdout is the `stdout` sink and carries records only.
async fn run() -> anyhow::Result<()> {
    // Keeps the stderr writer and exporters alive; dropped on return, which flushes them.
    initialize_observability!(neon_logging_provider::NAME, None::<&str>);
    let host_data = load_host_data()?;
    neon_logging_provider::run(host_data).await
}
