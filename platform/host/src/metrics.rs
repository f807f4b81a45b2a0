//! The host's Prometheus metrics: wasmCloud's own OpenTelemetry instruments (component
//! invocations, invocation errors, durations, active instances) and anything else recorded
//! through the global meter, exported to a Prometheus registry served on `--metrics-addr`.
//!
//! The exporter must be the global meter provider before the host is built: the host takes its
//! meter from the global provider once, at start.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;
use opentelemetry_sdk::metrics::{Aggregation, Instrument, SdkMeterProvider, Stream};
use tokio::task::JoinHandle;

#[derive(Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics on this address (GET /metrics); none when not given.
    #[arg(long = "metrics-addr", env = "NEON_METRICS_ADDR")]
    pub addr: Option<SocketAddr>,
}

impl MetricsArgs {
    /// Installs the exporter as the global meter provider and serves it; nothing when no
    /// address is set, or when it cannot be served (logged). The provider is returned so that
    /// the caller keeps it for the host's life.
    pub async fn start(&self) -> anyhow::Result<Option<(SdkMeterProvider, JoinHandle<()>)>> {
        let Some(addr) = self.addr else {
            return Ok(None);
        };
        let registry = prometheus::Registry::new();
        let exporter = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .build()
            .context("cannot build the Prometheus exporter")?;
        let provider = SdkMeterProvider::builder()
            .with_reader(exporter)
            .with_view(invocation_buckets)
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        // The lattice matters more than its metrics: a taken address is reported, not fatal.
        match neon_metrics::serve(addr, registry).await {
            Ok(server) => Ok(Some((provider, server))),
            Err(e) => {
                tracing::error!("{e:#}; the host runs without metrics");
                Ok(None)
            }
        }
    }
}

/// The host records each component invocation's duration in nanoseconds, into a histogram whose
/// default buckets end at 10,000 (10 µs): every invocation would land past the last one. These
/// span 50 µs to 10 s, so that quantiles over them mean something.
fn invocation_buckets(instrument: &Instrument) -> Option<Stream> {
    const NANOS: [f64; 17] = [
        5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 2.5e7, 5e7, 1e8, 2.5e8, 5e8, 1e9, 2.5e9, 5e9,
        1e10,
    ];
    (instrument.name() == INVOCATION_DURATION)
        .then(|| {
            Stream::builder()
                .with_aggregation(Aggregation::ExplicitBucketHistogram {
                    boundaries: NANOS.to_vec(),
                    record_min_max: false,
                })
                .build()
                .ok()
        })
        .flatten()
}

/// wasmcloud-host's name for it (one sample per component invocation, despite the name).
const INVOCATION_DURATION: &str = "wasmcloud_host.handle_rpc_message.duration";
