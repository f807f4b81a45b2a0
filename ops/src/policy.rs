//! Neon's policy service (platform/policy) beside a lattice: the hosts are started with
//! `--policy-topic` and ask it before they start or invoke code; it permits only what Neon's
//! issuer signed (see signing.rs). Started once NATS answers and before anything is deployed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::auth::{Auth, Role};
use crate::{detached, paths, signing, wait};

/// The topic the hosts ask on (the policy user may only listen under `wasmcloud.policy.`).
pub const TOPIC: &str = "wasmcloud.policy.neon";

/// The service's binary, built and placed by set-up.
pub fn binary() -> PathBuf {
    paths::platform_dir().join("neon-policy")
}

/// The service's arguments for the NATS at `nats` (host:port), logging its decisions to `log`.
pub fn args(nats: &str, log: &Path) -> Result<Vec<String>> {
    let binary = binary();
    if !binary.exists() {
        bail!("{} is missing: run scripts/setup.sh", binary.display());
    }
    let creds = Auth::ensure()?.creds(Role::Policy);
    Ok([
        "--nats",
        nats,
        "--topic",
        TOPIC,
        "--issuer",
        &signing::issuer()?,
        "--creds",
        &creds.display().to_string(),
        "--log",
        &log.display().to_string(),
    ]
    .map(String::from)
    .to_vec())
}

/// Starts the service as a child of this process and waits until it answers (its log says so).
pub fn start(nats_port: u16, log: &Path) -> Result<Child> {
    let _ = std::fs::remove_file(log);
    let child = Command::new(binary())
        .args(args(&format!("127.0.0.1:{nats_port}"), log)?)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the policy service")?;
    wait_answering(log)?;
    Ok(child)
}

/// For a lattice that outlives this process (`neon up`): the service in a process group of its
/// own, its pid in `<dir>/policy-<port>.pid`, its decisions in `<dir>/policy-<port>.log`. Does
/// nothing when the one started before still runs.
pub fn start_detached(nats_port: u16, dir: &Path) -> Result<PathBuf> {
    use std::os::unix::process::CommandExt as _;
    let (pid_file, log) = detached_files(nats_port, dir);
    if detached::runs(&pid_file, "neon-policy") {
        return Ok(log);
    }
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_file(&log);
    let child = Command::new(binary())
        .args(args(&format!("127.0.0.1:{nats_port}"), &log)?)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting the policy service")?;
    std::fs::write(&pid_file, child.id().to_string())?;
    wait_answering(&log)?;
    Ok(log)
}

/// Stops what `start_detached` started, if it runs.
pub fn stop_detached(nats_port: u16, dir: &Path) {
    let (pid_file, _) = detached_files(nats_port, dir);
    detached::stop(&pid_file, "neon-policy");
}

fn detached_files(nats_port: u16, dir: &Path) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("policy-{nats_port}.pid")),
        dir.join(format!("policy-{nats_port}.log")),
    )
}

/// Waits (bounded) until the service's log says it answers.
pub fn wait_answering(log: &Path) -> Result<()> {
    wait::until_blocking(
        "the policy service answering",
        Duration::from_secs(15),
        Duration::from_millis(100),
        || {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            match text.contains("answering on") {
                true => Ok(()),
                false => bail!("not yet (log: {})", log.display()),
            }
        },
    )
}
