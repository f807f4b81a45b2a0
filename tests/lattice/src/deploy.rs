//! A wiring of Neon deployed on a test's private lattice and serving: the first step of every
//! end-to-end test.

use std::time::Duration;

use anyhow::Result;
use neon_ops::load::Client;
use neon_ops::manifest::render_keeping_every_record;
use neon_ops::{free_port, Lattice, Rendered, Wiring};

/// Renders the wiring's manifest as `app` on a free HTTP port with its sink files in the
/// lattice's folder (every rotated file kept), deploys it and waits for the first 200; the
/// manifest and a client.
pub async fn deploy_wiring(
    lattice: &Lattice,
    wiring: Wiring,
    app: &str,
) -> Result<(Rendered, Client)> {
    let logs = lattice.work_dir().join("logs");
    std::fs::create_dir_all(&logs)?;
    deploy_wiring_in(lattice, wiring, app, &logs).await
}

/// As [`deploy_wiring`], with the sink files in `logs`.
pub async fn deploy_wiring_in(
    lattice: &Lattice,
    wiring: Wiring,
    app: &str,
    logs: &std::path::Path,
) -> Result<(Rendered, Client)> {
    // The tests count every record a run wrote: none may be rotated away.
    let rendered = render_keeping_every_record(wiring, app, free_port()?, logs)?;
    let client = Client::new(rendered.http_port)?;
    lattice.deploy(&rendered, Duration::from_secs(180)).await?;
    client.wait_ready(Duration::from_secs(60)).await?;
    Ok((rendered, client))
}
