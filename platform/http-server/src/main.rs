//! `http-server-provider`: wasmCloud's HTTP server capability provider, built from crate
//! `wasmcloud-provider-http-server` 0.27.1, the newest published (measured: it pairs with
//! host 0.27.1 although it uses provider SDK 0.15).
//!
//! The library does everything (host data on stdin, NATS, routing modes, shutdown); the host
//! starts this binary from the provider archive scripts/setup.sh packs with `wash par create`.

use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    wasmcloud_provider_http_server::run()
        .await
        .context("HTTP server provider failed")
}
