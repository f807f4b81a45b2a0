//! A private wasmCloud lattice: NATS + host + wadm started by `wash up -d` from the binaries
//! set-up placed, isolated from anything else on the machine, and taken down (every process it
//! started, also on panic) when dropped.
//!
//! Isolation: its own lattice name, a free NATS port (and no websocket listener: NATS runs from
//! Neon's config, see auth), its own TMPDIR (JetStream store, provider cache) and its own
//! WASH_DOWNLOADS_DIR holding links to the placed binaries.
//!
//! Authenticated like every Neon lattice: NATS admits only Neon's credentials, the host, its
//! providers and wadm each connect with their role's, and this handle with the operator's. Its
//! host runs only code signed by Neon's issuer: Neon's policy service runs beside it. The last matters: wash keeps pid
//! files and nats.conf in the downloads folder, so sharing it would let this lattice's
//! `wash down` stop a user's host.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::auth::Auth;
use crate::ctl::Ctl;
use crate::manifest::Rendered;
use crate::net::free_port;
use crate::paths::placed_binary;
use crate::platform;
use crate::policy;
use crate::wait;

pub struct Lattice {
    pub name: String,
    pub nats_port: u16,
    /// nats-server's monitoring endpoint (`/varz`, `/subsz`) on loopback.
    pub monitor_port: u16,
    /// The host's Prometheus metrics (`/metrics`) on loopback.
    pub metrics_port: u16,
    /// What `wash up` printed.
    pub up_output: String,
    ctl: Ctl,
    work: PathBuf,
    /// `down` already ran `wash down`.
    downed: bool,
    policy: Option<std::process::Child>,
}

/// A lattice is driven through its control connection: `lattice.wash(..)`, `lattice.hosts()`.
impl Deref for Lattice {
    type Target = Ctl;
    fn deref(&self) -> &Ctl {
        &self.ctl
    }
}

impl Lattice {
    /// Brings a lattice up and waits until its host answers. `label` names it (and its folder
    /// under the temp dir) among others.
    pub async fn start(label: &str) -> Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let auth = Auth::ensure()?;
        let name = format!("neon-{label}-{}-{n}", std::process::id());
        let work = std::env::temp_dir().join(&name);
        let downloads = work.join("downloads");
        let tmp = work.join("tmp");
        let host_dir = format!("v{}", platform::host_version());
        std::fs::create_dir_all(downloads.join(&host_dir))?;
        std::fs::create_dir_all(&tmp)?;
        let host = format!("{host_dir}/wasmcloud_host");
        for binary in ["nats-server", "wadm", &host] {
            let source = match std::env::var_os("NEON_HOST_BINARY") {
                // Another build of the host launcher (the profiling build keeps its symbols).
                Some(other) if binary == host => {
                    let other = PathBuf::from(other);
                    if !other.is_file() {
                        bail!("NEON_HOST_BINARY {} is not a file", other.display());
                    }
                    other
                }
                _ => placed_binary(binary)?,
            };
            std::os::unix::fs::symlink(source, downloads.join(binary))?;
        }
        let nats_port = free_port()?;
        let metrics_port = free_port()?;
        let mut ctl = Ctl::new(nats_port, Some(name.clone()))
            .with_env("WASH_DOWNLOADS_DIR", &downloads)
            .with_env("TMPDIR", &tmp)
            .with_env("NEON_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"));
        for (key, value) in auth.wash_up_env() {
            ctl = ctl.with_env(key, &value);
        }
        let mut lattice = Self {
            ctl,
            name,
            nats_port,
            monitor_port: free_port()?,
            metrics_port,
            up_output: String::new(),
            work,
            downed: false,
            policy: None,
        };
        // From here on Drop takes down whatever `wash up` managed to start.
        let port = nats_port.to_string();
        let auth_flags = auth.wash_up_flags(
            &lattice.work.join("nats.conf"),
            &lattice.work.join("jetstream"),
            Some(lattice.monitor_port),
        )?;
        let log = lattice.work.join("host.log").display().to_string();
        let run_label = format!("neon.test={label}");
        let mut args = vec!["up", "-d", "--nats-port", &port, "--lattice", &lattice.name];
        args.extend(auth_flags.iter().map(String::as_str));
        args.extend(["--policy-topic", policy::TOPIC]);
        args.extend(["--host-log-path", &log, "--label", &run_label]);
        let flags = platform::wash_up_flags();
        args.extend(flags.iter().map(String::as_str));
        lattice.up_output = lattice.wash(&args, Duration::from_secs(120)).await?;
        lattice.policy = Some(policy::start(nats_port, &lattice.work.join("policy.log"))?);
        lattice
            .wait_for_hosts(1, Duration::from_secs(60))
            .await
            .with_context(|| format!("logs in {}", lattice.work.display()))?;
        Ok(lattice)
    }

    /// Where this lattice keeps its files (logs of host, NATS and wadm included).
    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    /// Deploys a rendered manifest (stored and deployed by wadm) and waits until it is Deployed.
    pub async fn deploy(&self, rendered: &Rendered, limit: Duration) -> Result<()> {
        let path = self.write_manifest(rendered)?;
        self.deploy_file(&path, rendered, limit).await
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

    /// Sends `signal` (`-STOP`, `-CONT`, `-KILL`) to this lattice's processes whose command line
    /// also contains `name` (a provider's binary, say); how many there were, an error if none.
    pub fn signal(&self, name: &str, signal: &str) -> Result<usize> {
        let pids: Vec<String> = processes_naming(&self.work)
            .into_iter()
            .filter(|pid| cmdline(*pid).contains(name))
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
}

impl Lattice {
    /// `wash down` (purging this lattice's JetStream state), then a bounded wait until no
    /// process of this lattice runs; an error naming what is left. Dropping the lattice then
    /// kills whatever is left.
    pub fn down(mut self) -> Result<()> {
        self.wash_down();
        wait::until_blocking(
            "wash down stopping every process",
            Duration::from_secs(15),
            Duration::from_millis(200),
            || match processes_naming(&self.work).as_slice() {
                [] => Ok(()),
                left => bail!("left running: {left:?}"),
            },
        )
    }

    /// Blocking, so that Drop can use it; bounded by `timeout`.
    fn wash_down(&mut self) {
        if std::mem::replace(&mut self.downed, true) {
            return;
        }
        let _ = self
            .ctl
            .std_command(&["timeout", "60"], &["down", "--purge-jetstream", "all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut policy) = self.policy.take() {
            let _ = policy.kill();
            let _ = policy.wait();
        }
    }
}

impl Drop for Lattice {
    fn drop(&mut self) {
        self.wash_down();
        stop_processes_naming(&self.work, &self.name);
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

/// Stops every process whose command line names `dir` (what a lattice started there): TERM, then
/// KILL for what is left, each after a bounded wait.
pub fn stop_processes_naming(dir: &Path, what: &str) {
    for signal in ["-TERM", "-KILL"] {
        let gone = wait::until_blocking(
            "processes gone",
            Duration::from_secs(10),
            Duration::from_millis(200),
            || match processes_naming(dir).len() {
                0 => Ok(()),
                n => bail!("{n} left"),
            },
        );
        if gone.is_ok() {
            return;
        }
        let pids: Vec<String> = processes_naming(dir).iter().map(u32::to_string).collect();
        eprintln!("{what}: still running, kill {signal} {pids:?}");
        let _ = std::process::Command::new("kill")
            .arg(signal)
            .args(&pids)
            .status();
    }
}

/// Processes (other than this one) whose command line names `dir`: NATS, host, wadm, providers.
pub fn processes_naming(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != own && cmdline(*pid).contains(&needle))
        .collect()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
