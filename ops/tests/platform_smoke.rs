//! Platform smoke test: `wash up -d` brings up NATS + wasmCloud host + wadm from the binaries
//! set-up placed (no downloads) on a private lattice; one host answers with the pinned version
//! and our label, wadm answers, the http-server provider archive starts, and `wash down` leaves
//! nothing running.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use neon_ops::paths::build_dir;
use neon_ops::{platform, wait, Lattice};

#[tokio::test(flavor = "multi_thread")]
async fn wash_up_runs_the_pinned_platform_and_wash_down_stops_it() -> Result<()> {
    let lattice = Lattice::start("platform-smoke").await?;
    ensure!(
        !lattice.up_output.contains("Downloading"),
        "wash up tried to download something: {}",
        lattice.up_output
    );

    let hosts = lattice.hosts().await?;
    ensure!(hosts.len() == 1, "expected one host, got {hosts:?}");
    let host = &hosts[0];
    ensure!(
        host.version == platform::host_version(),
        "host version {} is not the pinned {}",
        host.version,
        platform::host_version()
    );
    ensure!(
        host.labels.get("neon.test").map(String::as_str) == Some("platform-smoke"),
        "host labels {:?}",
        host.labels
    );

    // wadm answers: an app nobody deployed has no deployed version.
    ensure!(lattice.deployed_version("nothing-here").await?.is_none());

    // The provider archive set-up packed starts on this host (host 0.27.1, provider SDK 0.15).
    let archive = build_dir()?.join("http-server.par.gz");
    let reference = format!("file://{}", archive.display());
    lattice
        .wash(
            &["start", "provider", &reference, "http-server"],
            Duration::from_secs(60),
        )
        .await
        .context("starting the http-server provider")?;
    wait::until(
        "the http-server provider in the inventory",
        Duration::from_secs(15),
        Duration::from_millis(500),
        || async {
            let inventories = lattice.inventories().await?;
            let running = inventories
                .iter()
                .flat_map(|i| &i.providers)
                .any(|p| p.id == "http-server");
            ensure!(running, "not yet");
            Ok(())
        },
    )
    .await?;

    lattice.down()
}
