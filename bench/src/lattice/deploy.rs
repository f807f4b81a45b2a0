//! Figure 5: deploy-to-ready. `wash app deploy` of each wiring until the first 200 from `POST
//! /process`, and the hello component scaled from 0 instances to serving.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use neon_ops::load::Client;
use neon_ops::{Lattice, Rendered};

/// How long one deploy may take before the figure is an error instead.
const LIMIT: Duration = Duration::from_secs(120);

/// Deploys `rendered` (not deployed before the call) and returns ms from the `wash app deploy`
/// to the first 200. `stored`: wadm already holds this version (wadm refuses to store a version
/// twice), so it is deployed by name, as `wash app deploy <app> <version>`.
pub async fn to_first_200(lattice: &Lattice, rendered: &Rendered, stored: bool) -> Result<f64> {
    let path = lattice.write_manifest(rendered)?.display().to_string();
    let args: Vec<&str> = if stored {
        vec!["app", "deploy", &rendered.app, &rendered.version]
    } else {
        vec!["app", "deploy", &path]
    };
    let client = Client::new(rendered.http_port)?;
    let start = Instant::now();
    lattice.wash(&args, Duration::from_secs(60)).await?;
    first_200(&client, start).await
}

/// Polls `POST /process` every 10 ms until it answers 200; ms since `start`.
pub async fn first_200(client: &Client, start: Instant) -> Result<f64> {
    loop {
        if matches!(client.post("/process", "hello").await, Ok(r) if r.status == 200) {
            return Ok(start.elapsed().as_secs_f64() * 1e3);
        }
        if start.elapsed() > LIMIT {
            bail!("no 200 within {LIMIT:?} of the deploy");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `POST /process` stops answering 200 (a scale-down took effect).
pub async fn until_not_serving(client: &Client) -> Result<()> {
    let start = Instant::now();
    while matches!(client.post("/process", "hello").await, Ok(r) if r.status == 200) {
        if start.elapsed() > LIMIT {
            bail!("still answering 200 {LIMIT:?} after the scale-down");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
