//! A private wasmCloud lattice: NATS + host + wadm started by `wash up -d` from the binaries
//! scripts/setup.sh placed, isolated from anything else on the machine, and taken down (every
//! process it started, also on panic) when dropped.
//!
//! Isolation: its own lattice name, a free NATS port, its own TMPDIR (JetStream store, provider
//! cache) and its own WASH_DOWNLOADS_DIR holding links to the placed binaries. The last matters:
//! wash keeps pid files and nats.conf in the downloads folder, so sharing it would let this
//! lattice's `wash down` stop a user's host.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::Command;

use crate::manifest::Rendered;

/// Platform versions wash must use: with them it looks nothing up online.
const HOST_VERSION: &str = "1.9.1";
const WASH_UP_VERSIONS: [&str; 6] = [
    "--wasmcloud-version",
    "v1.9.1",
    "--wadm-version",
    "v0.21.1",
    "--nats-version",
    "v2.11.3",
];
/// What wash up passes to the host as its execution limit (wash's own default is 10 minutes):
/// an invocation, with the calls it makes, fails after this long and gives its instance slot
/// back, so a call that never gets its reply cannot take the app down.
pub const MAX_EXECUTION_TIME_MS: &str = "5000";

pub struct Lattice {
    pub name: String,
    pub nats_port: u16,
    work: PathBuf,
    downloads: PathBuf,
    tmp: PathBuf,
}

impl Lattice {
    /// Brings a lattice up and waits until its host answers.
    pub async fn start(label: &str) -> Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("neon-{label}-{}-{n}", std::process::id());
        let work = std::env::temp_dir().join(&name);
        let downloads = work.join("downloads");
        let tmp = work.join("tmp");
        std::fs::create_dir_all(downloads.join(format!("v{HOST_VERSION}")))?;
        std::fs::create_dir_all(&tmp)?;
        let placed = placed_downloads_dir();
        for binary in [
            "nats-server",
            "wadm",
            &format!("v{HOST_VERSION}/wasmcloud_host"),
        ] {
            let source = placed.join(binary);
            if !source.exists() {
                bail!("{} missing: run scripts/setup.sh", source.display());
            }
            std::os::unix::fs::symlink(&source, downloads.join(binary))?;
        }
        let lattice = Self {
            name,
            nats_port: free_port()?,
            work,
            downloads,
            tmp,
        };
        let port = lattice.nats_port.to_string();
        // wash up also opens a NATS websocket listener (4223 by default, on every interface):
        // left at the default it would collide with a user's own `wash up`.
        let websocket_port = free_port()?.to_string();
        let log = lattice.work.join("host.log");
        let mut args = vec!["up", "-d", "--nats-port", &port, "--lattice", &lattice.name];
        args.extend(["--nats-websocket-port", &websocket_port]);
        args.extend(WASH_UP_VERSIONS);
        args.extend(["--max-execution-time-ms", MAX_EXECUTION_TIME_MS]);
        let log_arg = log.display().to_string();
        args.extend(["--host-log-path", &log_arg, "--label", "neon.test=lattice"]);
        lattice.wash(&args, Duration::from_secs(120)).await?;
        lattice.wait_for_host(Duration::from_secs(60)).await?;
        Ok(lattice)
    }

    /// Where this lattice keeps its files (logs of host, NATS and wadm included).
    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    /// Runs `wash <args>` against this lattice; its stdout, or an error with what it said.
    pub async fn wash(&self, args: &[&str], limit: Duration) -> Result<String> {
        let port = self.nats_port.to_string();
        let mut command = Command::new("wash");
        command.args(args);
        // `wash up` takes the port and lattice as its own flags (see start).
        if args.first() != Some(&"up") {
            command.args([
                "--ctl-host",
                "127.0.0.1",
                "--ctl-port",
                &port,
                "--lattice",
                &self.name,
            ]);
        }
        command
            .env("WASH_DOWNLOADS_DIR", &self.downloads)
            .env("TMPDIR", &self.tmp)
            .env_remove("WASMCLOUD_LATTICE")
            .env_remove("WASMCLOUD_CTL_PORT")
            .env_remove("WASMCLOUD_RPC_PORT")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(limit, command.output())
            .await
            .with_context(|| format!("wash {} did not finish in {limit:?}", args.join(" ")))?
            .context("running wash (run scripts/setup.sh to install it)")?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!(
                "wash {} failed: {}{}",
                args.join(" "),
                essential(&String::from_utf8_lossy(&output.stderr)),
                essential(&stdout)
            );
        }
        Ok(stdout)
    }

    async fn wash_json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.wash(&args, Duration::from_secs(30)).await?;
        serde_json::from_str(&out)
            .with_context(|| format!("wash {}: not JSON: {out}", args.join(" ")))
    }

    async fn wait_for_host(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(hosts) = self.wash_json(&["get", "hosts"]).await {
                if hosts["hosts"].as_array().is_some_and(|h| !h.is_empty()) {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "no host answered within {limit:?} (logs in {})",
                    self.work.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Deploys a rendered manifest (stored and deployed by wadm) and waits until it is Deployed.
    pub async fn deploy(&self, rendered: &Rendered, limit: Duration) -> Result<()> {
        let path = self.write_manifest(rendered)?.display().to_string();
        self.wash(&["app", "deploy", &path], Duration::from_secs(60))
            .await?;
        self.wait_status(&rendered.app, "deployed", limit).await
    }

    /// Writes the rendered manifest into this lattice's folder, for `wash app deploy <file>`.
    pub fn write_manifest(&self, rendered: &Rendered) -> Result<PathBuf> {
        let path = self
            .work
            .join(format!("{}-{}.yaml", rendered.app, rendered.version));
        std::fs::write(&path, &rendered.yaml)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Deploys a version wadm already stores (after an undeploy, say).
    pub async fn deploy_stored(&self, app: &str, version: &str, limit: Duration) -> Result<()> {
        self.wash(&["app", "deploy", app, version], Duration::from_secs(60))
            .await?;
        self.wait_status(app, "deployed", limit).await
    }

    pub async fn undeploy(&self, app: &str, limit: Duration) -> Result<()> {
        self.wash(&["app", "undeploy", app], Duration::from_secs(60))
            .await?;
        self.wait_status(app, "undeployed", limit).await
    }

    /// Polls `wash app status` until the app reaches `wanted` (deployed, undeployed). A `failed`
    /// status on the way is not final: wadm keeps reconciling (a component may start before the
    /// config it names is stored, for one), so only the deadline ends the wait.
    pub async fn wait_status(&self, app: &str, wanted: &str, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let status = self.wash_json(&["app", "status", app]).await?;
            let kind = status["status"]["status"]["type"]
                .as_str()
                .unwrap_or("unknown");
            if kind == wanted {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let message = &status["status"]["status"]["message"];
                bail!("{app} is not {wanted} after {limit:?}: {kind} {message}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Sends `signal` (`-STOP`, `-CONT`, `-KILL`) to this lattice's processes whose command line
    /// also contains `name` (a provider's binary, say); how many there were, an error if none.
    pub fn signal(&self, name: &str, signal: &str) -> Result<usize> {
        let pids: Vec<String> = self
            .processes()
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(name))
            })
            .map(|pid| pid.to_string())
            .collect();
        if pids.is_empty() {
            bail!("no process of lattice {} runs {name}", self.name);
        }
        let status = std::process::Command::new("kill")
            .arg(signal)
            .args(&pids)
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill {signal} {pids:?} failed");
        }
        Ok(pids.len())
    }

    /// Processes whose command line names this lattice's folder: NATS, host, wadm, providers.
    fn processes(&self) -> Vec<u32> {
        let needle = self.work.display().to_string();
        let own = std::process::id();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| *pid != own)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for Lattice {
    fn drop(&mut self) {
        // Drop cannot await: plain processes, each bounded by `timeout`.
        let _ = std::process::Command::new("timeout")
            .args(["60", "wash", "down", "--purge-jetstream", "all"])
            .args([
                "--ctl-host",
                "127.0.0.1",
                "--ctl-port",
                &self.nats_port.to_string(),
            ])
            .args(["--lattice", &self.name])
            .env("WASH_DOWNLOADS_DIR", &self.downloads)
            .env("TMPDIR", &self.tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        for signal in ["-TERM", "-KILL"] {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.processes().is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
            let left = self.processes();
            if left.is_empty() {
                break;
            }
            let pids: Vec<String> = left.iter().map(u32::to_string).collect();
            eprintln!(
                "lattice {}: still running after wash down, kill {signal} {pids:?}",
                self.name
            );
            let _ = std::process::Command::new("kill")
                .arg(signal)
                .args(&pids)
                .status();
        }
        if std::thread::panicking() || std::env::var_os("NEON_KEEP_LATTICE").is_some() {
            eprintln!(
                "lattice {}: logs kept in {}",
                self.name,
                self.work.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

/// Where scripts/setup.sh placed nats-server, wadm and the host (wash's own default folder).
pub fn placed_downloads_dir() -> PathBuf {
    match std::env::var_os("WASH_DOWNLOADS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".local/share/wash/downloads"),
    }
}

/// A free TCP port on loopback, chosen by the kernel.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// wash's error output without its backtraces and migration notices.
fn essential(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.is_empty()
                || line.starts_with("Old configuration")
                || line.starts_with("at ")
                || line
                    .split(':')
                    .next()
                    .is_some_and(|n| n.parse::<u32>().is_ok()))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
