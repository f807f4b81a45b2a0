//! `neon down`: undeploys Neon (so wadm does not bring it back on the next `wash up`) and stops
//! NATS, the host and wadm with `wash down`, then Neon's policy service and Prometheus.

use std::time::Duration;

use anyhow::{Context, Result};
use neon_ops::paths::cache_dir;
use neon_ops::say::{info, step};
use neon_ops::{policy, prometheus, Ctl};

#[derive(clap::Args)]
pub struct Args {
    /// Also delete the lattice's JetStream state (wadm's stored manifests).
    #[arg(long)]
    purge: bool,
    #[arg(long, env = "NEON_NATS_PORT", default_value_t = 4222)]
    nats_port: u16,
}

pub async fn run(args: Args) -> Result<()> {
    let ctl = Ctl::new(args.nats_port, None);
    if ctl.hosts().await.is_ok_and(|hosts| !hosts.is_empty()) {
        step("undeploy neon");
        if ctl.request_undeploy("neon").await.is_err() {
            info("not deployed");
        }
    }
    step("wash down");
    let mut down = vec!["down"];
    if args.purge {
        down.extend(["--purge-jetstream", "all"]);
    }
    let out = ctl
        .wash(&down, Duration::from_secs(60))
        .await
        .context("wash down failed")?;
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        info(line.trim());
    }
    policy::stop_detached(args.nats_port, &cache_dir().join("lattice"));
    prometheus::stop_detached(&cache_dir().join("lattice").join("prometheus"));
    Ok(())
}
