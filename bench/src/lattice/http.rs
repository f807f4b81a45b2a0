//! Figure 4: end-to-end HTTP. Every variant is measured the same way: warm up, then wrk at each
//! client count, `repeats` times, the median kept with its min and max.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::wrk::{self, WrkRun};
use crate::schema::HttpRun;
use crate::stats::Spread;

pub struct Plan {
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub repeats: usize,
    pub warmup: Duration,
}

/// Runs the plan against `url` (a `POST /process` endpoint) and returns one run per client
/// count. The runs follow each other on the same
/// deployment, with nothing redeployed in between: what one run leaves behind, the next sees.
pub async fn measure(variant: &str, url: &str, plan: &Plan, script: &Path) -> Result<Vec<HttpRun>> {
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
            let run = wrk::run(url, clients, plan.duration, script)
                .await
                .with_context(|| format!("{variant}: {clients} clients, run {repeat}"))?;
            eprintln!(
                "    {variant:>8} c={clients:<3} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                run.rps, run.p50_ms, run.p99_ms, run.errors
            );
            samples.push(run);
        }
        let pick = |f: fn(&WrkRun) -> f64| {
            Spread::of(&samples.iter().map(f).collect::<Vec<_>>())
                .with_context(|| format!("{variant}: no run at {clients} clients"))
        };
        runs.push(HttpRun {
            variant: variant.to_string(),
            clients: clients as u32,
            duration_s: plan.duration.as_secs_f64(),
            repeats: plan.repeats as u32,
            rps: pick(|r| r.rps)?,
            p50_ms: pick(|r| r.p50_ms)?,
            p99_ms: pick(|r| r.p99_ms)?,
            errors: samples.iter().map(|r| r.errors).sum(),
            requests: samples.iter().map(|r| r.requests).sum(),
        });
    }
    Ok(runs)
}
