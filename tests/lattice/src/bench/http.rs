//! Figure 4: end-to-end HTTP. Every variant is measured the same way: warm up, then wrk at each
//! client count, `repeats` times, the median kept with its min and max.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::stats::spread;
use super::wrk::{self, WrkRun};
use crate::load::Client;
use crate::{Lattice, Rendered};

pub struct Plan {
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub repeats: usize,
    pub warmup: Duration,
}

/// From this many clients on, each run gets a freshly deployed app (see `measure`).
const REDEPLOY_FROM_CLIENTS: usize = 64;

/// Runs the plan against `url` (a `POST /process` endpoint) and returns one JSON run per client
/// count, in the shape of bench/README.md's `http.json`.
///
/// With `app` (a deployed manifest), every run at 64 clients starts on a fresh deployment.
/// Measured: wrpc-transport-nats 0.29's lost reply (README, "Known limits") hits about 1% of
/// requests at 64 clients; each hangs one of the component's `instances` slots for good, and
/// after two 5-s runs the slots were gone and the third run served nothing. Redeploying frees
/// them, so each run measures the platform, not the leak the previous run left behind.
pub async fn measure(
    variant: &str,
    url: &str,
    plan: &Plan,
    script: &Path,
    app: Option<(&Lattice, &Rendered)>,
) -> Result<Vec<Value>> {
    wrk::run(
        url,
        plan.clients.iter().copied().max().unwrap_or(1),
        plan.warmup,
        script,
    )
    .await
    .with_context(|| format!("{variant}: warm-up"))?;
    let mut runs = Vec::new();
    for &clients in &plan.clients {
        let mut samples: Vec<WrkRun> = Vec::new();
        for repeat in 0..plan.repeats {
            if let (Some((lattice, rendered)), true) = (app, clients >= REDEPLOY_FROM_CLIENTS) {
                redeploy(lattice, rendered).await?;
            }
            let run = wrk::run(url, clients, plan.duration, script)
                .await
                .with_context(|| format!("{variant}: {clients} clients, run {repeat}"))?;
            eprintln!(
                "    {variant:>8} c={clients:<3} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                run.rps, run.p50_ms, run.p99_ms, run.errors
            );
            samples.push(run);
        }
        let pick = |f: fn(&WrkRun) -> f64| spread(&samples.iter().map(f).collect::<Vec<_>>());
        runs.push(json!({
            "variant": variant,
            "clients": clients,
            "duration_s": plan.duration.as_secs_f64(),
            "repeats": plan.repeats,
            "rps": pick(|r| r.rps),
            "p50_ms": pick(|r| r.p50_ms),
            "p99_ms": pick(|r| r.p99_ms),
            "errors": samples.iter().map(|r| r.errors).sum::<u64>(),
            "requests": samples.iter().map(|r| r.requests).sum::<u64>(),
        }));
    }
    Ok(runs)
}

async fn redeploy(lattice: &Lattice, rendered: &Rendered) -> Result<()> {
    lattice
        .undeploy(&rendered.app, Duration::from_secs(60))
        .await?;
    lattice
        .deploy_stored(&rendered.app, &rendered.version, Duration::from_secs(120))
        .await?;
    Client::new(rendered.http_port)?
        .wait_ready(Duration::from_secs(60))
        .await?;
    Ok(())
}
