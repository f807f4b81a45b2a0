//! A private edge lattice brought up by `scripts/edge.sh up`, with its own directory, interface
//! prefix, subnet, ports and lattice name, so it never meets a user's lattice. Dropping it runs
//! `scripts/edge.sh down`, which stops every process and removes the namespaces.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// How the edge nodes are isolated (decided by edge.sh: namespaces need root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Netns,
    Loopback,
}

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

pub fn repo_root() -> PathBuf {
    if let Ok(root) = std::env::var("NEON_ROOT") {
        return PathBuf::from(root);
    }
    // Resolved at run time: a shared target dir may hold this crate built in another checkout.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
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
        let settings = std::fs::read_to_string(edge.dir.join("edge.env"))
            .context("edge.sh up left no edge.env")?;
        edge.mode = if settings.contains("EDGE_MODE=netns") {
            Mode::Netns
        } else {
            Mode::Loopback
        };
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

    /// `wash <args> -o json` against this lattice.
    pub fn wash_json(&self, args: &[&str]) -> Result<Value> {
        let port = self.nats_port.to_string();
        let output = Command::new("timeout")
            .args(["30s", "wash"])
            .args(args)
            .args(["--ctl-host", "127.0.0.1", "--ctl-port", &port])
            .args(["--lattice", &self.lattice, "-o", "json"])
            .stdin(Stdio::null())
            .output()
            .context("running wash")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wash {} failed: {}{text}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        serde_json::from_str(&text)
            .with_context(|| format!("wash {}: not JSON: {text}", args.join(" ")))
    }

    /// Every host's inventory, sorted by zone.
    pub fn inventory(&self) -> Result<Vec<HostInventory>> {
        let json = self.wash_json(&["get", "inventory"])?;
        let mut hosts: Vec<HostInventory> = json["inventories"]
            .as_array()
            .context("wash get inventory: no inventories")?
            .iter()
            .map(|inv| HostInventory {
                id: inv["host_id"].as_str().unwrap_or_default().to_string(),
                zone: inv["labels"]["zone"].as_str().unwrap_or("?").to_string(),
                components: inv["components"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|c| (manifest_name(c), c["max_instances"].as_u64().unwrap_or(0)))
                            .collect()
                    })
                    .unwrap_or_default(),
                providers: inv["providers"]
                    .as_array()
                    .map(|list| list.iter().map(manifest_name).collect())
                    .unwrap_or_default(),
            })
            .collect();
        hosts.sort_by(|a, b| a.zone.cmp(&b.zone));
        Ok(hosts)
    }

    /// The app's status type (`deployed`, `reconciling`, ...) and message.
    pub fn app_status(&self) -> Result<(String, String)> {
        let json = self.wash_json(&["app", "status", "neon-edge"])?;
        let status = &json["status"]["status"];
        Ok((
            status["type"].as_str().unwrap_or("unknown").to_string(),
            status["message"].as_str().unwrap_or_default().to_string(),
        ))
    }
}

/// wadm names what it starts `<app>-<name>` (app name with `-` as `_`); the manifest's name is
/// the part after the app's prefix.
fn manifest_name(entry: &Value) -> String {
    let id = entry["id"].as_str().unwrap_or_default();
    id.strip_prefix("neon_edge-").unwrap_or(id).to_string()
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
