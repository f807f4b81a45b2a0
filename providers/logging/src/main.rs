//! Entry point: read HostData from stdin (as the wasmCloud host hands it over), set up logging
//! to stderr, run the provider.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use wasmcloud_provider_sdk::{load_host_data, HostData};

#[tokio::main]
async fn main() -> ExitCode {
    let host_data = match load_host_data() {
        Ok(host_data) => host_data,
        Err(e) => {
            eprintln!("{}: {e}", neon_logging_provider::NAME);
            return ExitCode::FAILURE;
        }
    };
    init_tracing(host_data);
    match neon_logging_provider::run(host_data).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics go to stderr: stdout is the `stdout` sink and carries records only. The host
/// passes RUST_LOG through; without it, the host's own log level (from HostData) applies.
fn init_tracing(host_data: &HostData) {
    let level = host_data.log_level.as_ref().map_or("info", |l| match l {
        wasmcloud_provider_sdk::core::logging::Level::Error
        | wasmcloud_provider_sdk::core::logging::Level::Critical => "error",
        wasmcloud_provider_sdk::core::logging::Level::Warn => "warn",
        wasmcloud_provider_sdk::core::logging::Level::Info => "info",
        wasmcloud_provider_sdk::core::logging::Level::Debug => "debug",
        wasmcloud_provider_sdk::core::logging::Level::Trace => "trace",
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if host_data.structured_logging {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
