//! A private edge lattice brought up by `scripts/edge.sh up`, with its own directory, interface
//! prefix, subnet, ports and lattice name, so it never meets a user's lattice. Dropping it runs
//! `scripts/edge.sh down`, which stops every process and removes the namespaces.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use neon_ops::edge::APP;
use neon_ops::{free_port, repo_root, Ctl};

/// How the edge nodes are isolated (decided by `up`: namespaces need root).
pub use neon_ops::edge::Mode;

pub struct EdgeLattice {
    pub nodes: usize,
    pub mode: Mode,
    pub nats_port: u16,
    pub http_port: u16,
    pub lattice: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

/// One host's inventory, as far as the tests care.
#[derive(Debug, Clone)]
pub struct HostInventory {
    pub id: String,
    pub zone: String,
    /// (component name, max instances): name is the manifest's (`processor`, ...).
    pub components: Vec<(String, u64)>,
    /// Provider names from the manifest (`logging`, `httpserver`).
    pub providers: Vec<String>,
}

impl HostInventory {
    pub fn count(&self, component: &str) -> u64 {
        self.components
            .iter()
            .filter(|(name, _)| name == component)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn edge_index(&self) -> Option<usize> {
        self.zone.strip_prefix("edge-")?.parse().ok()
    }
}

impl EdgeLattice {
    /// Brings up hub + `nodes` edge nodes and deploys the edge app (v1).
    pub fn start(nodes: usize) -> Result<Self> {
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("neon-edge-test-{pid}"));
        let nats_port = free_port()?;
        let http_port = free_port()?;
        let leaf_port = free_port()?;
        let lattice = format!("neon-edge-test-{pid}");
        // A subnet and interface prefix of its own (10.214-10.253.x), so a user's edge lattice
        // (10.213.0, prefix ne) and another test run can coexist.
        let subnet = format!("10.{}.{}", 214 + pid % 40, (pid / 40) % 250);
        let env = vec![
            ("NEON_EDGE_DIR".to_string(), dir.display().to_string()),
            ("NEON_EDGE_NAME".to_string(), format!("t{}", pid % 100_000)),
            ("NEON_EDGE_SUBNET".to_string(), subnet),
            ("NEON_EDGE_NATS_PORT".to_string(), nats_port.to_string()),
            ("NEON_EDGE_HTTP_PORT".to_string(), http_port.to_string()),
            ("NEON_EDGE_LEAF_PORT".to_string(), leaf_port.to_string()),
            ("NEON_EDGE_LATTICE".to_string(), lattice.clone()),
            ("NEON_EDGE_NO_SETUP".to_string(), "1".to_string()),
        ];
        let mut edge = Self {
            nodes,
            mode: Mode::Loopback,
            nats_port,
            http_port,
            lattice,
            dir,
            env,
        };
        // From here on Drop tears down whatever `up` managed to start.
        edge.run(&["up", &nodes.to_string()], Duration::from_secs(300))?;
        let settings = neon_ops::edge::Settings::load(&edge.dir)?;
        edge.mode = settings.mode.unwrap_or(Mode::Loopback);
        Ok(edge)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `scripts/edge.sh <args>` against this lattice; its combined output.
    pub fn run(&self, args: &[&str], limit: Duration) -> Result<String> {
        let script = repo_root().join("scripts/edge.sh");
        let mut command = Command::new("timeout");
        command
            .arg(format!("{}s", limit.as_secs()))
            .arg(&script)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        let output = command
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            bail!(
                "edge.sh {} failed ({}):\n{text}",
                args.join(" "),
                output.status
            );
        }
        Ok(text)
    }

    /// The control connection to this lattice (through the hub's NATS).
    pub fn ctl(&self) -> Ctl {
        Ctl::new(self.nats_port, Some(self.lattice.clone()))
    }

    /// Every host's inventory, sorted by zone.
    pub async fn inventory(&self) -> Result<Vec<HostInventory>> {
        let mut hosts: Vec<HostInventory> = self
            .ctl()
            .inventories()
            .await?
            .into_iter()
            .map(|inv| HostInventory {
                zone: inv
                    .labels
                    .get("zone")
                    .cloned()
                    .unwrap_or_else(|| "?".into()),
                id: inv.host_id,
                components: inv
                    .components
                    .iter()
                    .map(|c| {
                        (
                            c.manifest_name(APP).to_string(),
                            c.max_instances.unwrap_or(0),
                        )
                    })
                    .collect(),
                providers: inv
                    .providers
                    .iter()
                    .map(|p| p.manifest_name(APP).to_string())
                    .collect(),
            })
            .collect();
        hosts.sort_by(|a, b| a.zone.cmp(&b.zone));
        Ok(hosts)
    }
}

impl Drop for EdgeLattice {
    fn drop(&mut self) {
        let keep = std::thread::panicking() || std::env::var_os("NEON_KEEP_EDGE").is_some();
        if let Err(e) = self.run(&["down"], Duration::from_secs(60)) {
            eprintln!("edge.sh down failed: {e:#}");
        }
        if keep {
            eprintln!(
                "edge lattice logs kept in {}",
                self.dir.join("logs").display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
