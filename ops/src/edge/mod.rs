//! An edge lattice on one machine: a hub (NATS with JetStream, wadm, a wasmCloud host labelled
//! zone=hub) and N edge nodes, each a NATS leaf node plus a host labelled zone=edge-<i> and
//! ring=a|b (odd nodes a, even b). Each node is a network namespace of its own where that can be
//! made (see network.rs).
//!
//! Everything an edge lattice is lives in its folder: its settings (edge.json), pid files, logs,
//! NATS configs and JetStream store. Taking it down stops what the pid files name, then anything
//! whose command line names the folder, then removes the namespaces and the bridge.

mod nats;
mod network;
mod process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::auth::{tls, Auth, Role};
use crate::load::Client;
use crate::manifest::render_edge;
use crate::paths::{placed_binary, repo_root};
use crate::say::{info, step};
use crate::{lattice, net, platform, policy, Ctl};
use process::Processes;

/// The edge app's name in manifests/edge.wadm.yaml.
pub const APP: &str = "neon-edge";

/// How the edge nodes are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Netns,
    Loopback,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Netns => "netns",
            Mode::Loopback => "loopback",
        })
    }
}

/// An edge lattice's settings: from NEON_EDGE_* when it comes up, from its folder afterwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub dir: PathBuf,
    /// Prefix of namespaces and interfaces (at most 6 characters: interface names are short).
    pub name: String,
    /// The bridge's /24: hub .1, edge node i .(10+i).
    pub subnet: String,
    /// The hub's NATS client port on 127.0.0.1.
    pub nats_port: u16,
    /// The hub's leaf node port.
    pub leaf_port: u16,
    /// The app's HTTP port on 127.0.0.1.
    pub http_port: u16,
    pub lattice: String,
    /// Edge hosts heartbeat this often and wadm forgets a host after `cleanup_s` of silence
    /// (wadm's default is 70 s for 30 s heartbeats): a dead node's share moves within seconds.
    pub heartbeat_s: u64,
    pub cleanup_s: u64,
    pub nodes: usize,
    /// `None` until `up` decides (auto).
    pub mode: Option<Mode>,
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> Result<T> {
    match std::env::var(key) {
        Ok(value) => value
            .parse()
            .map_err(|_| anyhow::anyhow!("{key}={value} is not valid")),
        Err(_) => Ok(default),
    }
}

impl Settings {
    /// The folder: NEON_EDGE_DIR, else .neon/edge in the checkout.
    pub fn dir_from_env() -> PathBuf {
        std::env::var_os("NEON_EDGE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".neon/edge"))
    }

    /// Settings for a new edge lattice of `nodes` edge nodes.
    pub fn from_env(nodes: usize) -> Result<Self> {
        let mode = match std::env::var("NEON_EDGE_MODE").as_deref() {
            Err(_) | Ok("auto") => None,
            Ok("netns") => Some(Mode::Netns),
            Ok("loopback") => Some(Mode::Loopback),
            Ok(other) => bail!("NEON_EDGE_MODE must be auto, netns or loopback (got {other})"),
        };
        Ok(Self {
            dir: Self::dir_from_env(),
            name: env_or("NEON_EDGE_NAME", "ne".to_string())?,
            subnet: env_or("NEON_EDGE_SUBNET", "10.213.0".to_string())?,
            nats_port: env_or("NEON_EDGE_NATS_PORT", 4222)?,
            leaf_port: env_or("NEON_EDGE_LEAF_PORT", 7422)?,
            http_port: env_or("NEON_EDGE_HTTP_PORT", 8000)?,
            lattice: env_or("NEON_EDGE_LATTICE", "default".to_string())?,
            heartbeat_s: env_or("NEON_EDGE_HEARTBEAT_S", 5)?,
            cleanup_s: env_or("NEON_EDGE_CLEANUP_S", 15)?,
            nodes,
            mode,
        })
    }

    fn file(dir: &Path) -> PathBuf {
        dir.join("edge.json")
    }

    /// The settings of the edge lattice that is up in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let Ok(text) = std::fs::read_to_string(Self::file(dir)) else {
            bail!(
                "no edge lattice is up (in {}): run scripts/edge.sh up",
                dir.display()
            );
        };
        serde_json::from_str(&text).context("reading edge.json")
    }

    fn save(&self) -> Result<()> {
        std::fs::write(Self::file(&self.dir), serde_json::to_string_pretty(self)?)?;
        Ok(())
    }

    /// Neon's tooling on the hub, as the operator.
    pub fn ctl(&self) -> Ctl {
        Ctl::new(self.nats_port, Some(self.lattice.clone())).with_progress()
    }

    /// Edge node i's leaf client port: the same in every namespace (each has its own loopback),
    /// distinct ports in loopback mode.
    pub fn leaf_client_port(&self, i: usize) -> u16 {
        match self.mode {
            Some(Mode::Netns) => self.nats_port,
            _ => self.nats_port + i as u16,
        }
    }

    /// Where the hub listens for leaf nodes: on the bridge in netns mode, else on loopback.
    pub fn hub_leaf_address(&self) -> String {
        match self.mode {
            Some(Mode::Netns) => format!("{}.1", self.subnet),
            _ => "127.0.0.1".to_string(),
        }
    }

    /// The command prefix that runs something on edge node i.
    fn on(&self, i: usize) -> Vec<String> {
        match self.mode {
            Some(Mode::Netns) => ["ip", "netns", "exec", &network::namespace(self, i)]
                .map(String::from)
                .to_vec(),
            _ => Vec::new(),
        }
    }

    fn ring(i: usize) -> char {
        if i % 2 == 1 {
            'a'
        } else {
            'b'
        }
    }
}

/// An edge lattice that is up.
pub struct Edge {
    pub settings: Settings,
    processes: Processes,
    /// The credentials its NATS servers, wadm and hub host use.
    auth: Auth,
}

impl Edge {
    pub fn load(dir: &Path) -> Result<Self> {
        let settings = Settings::load(dir)?;
        Ok(Self {
            processes: Processes::new(&settings.dir),
            settings,
            auth: Auth::ensure()?,
        })
    }

    /// Brings up the hub and the edge nodes and deploys the edge app (v1). On a failure it
    /// tears down what it started (logs kept).
    pub async fn up(mut settings: Settings) -> Result<Self> {
        if !(1..=99).contains(&settings.nodes) {
            bail!(
                "N must be a number of edge nodes from 1 to 99 (got {})",
                settings.nodes
            );
        }
        if settings.nodes == 1 {
            crate::say::warn("with 1 edge node, ring b has no host: the processor's second spread cannot be placed");
        }
        if let Ok(edge) = Edge::load(&settings.dir) {
            if edge.processes.is_running("nats-hub") {
                bail!(
                    "an edge lattice is already up (in {}): scripts/edge.sh down first",
                    settings.dir.display()
                );
            }
        }
        net::ensure_ports_free(
            &[settings.nats_port, settings.http_port, settings.leaf_port],
            " (set NEON_EDGE_NATS_PORT / NEON_EDGE_HTTP_PORT / NEON_EDGE_LEAF_PORT)",
        )?;
        settings.mode = Some(network::pick_mode(&settings));
        if settings.mode == Some(Mode::Loopback) {
            let leaves: Vec<u16> = (1..=settings.nodes)
                .map(|i| settings.leaf_client_port(i))
                .collect();
            net::ensure_ports_free(&leaves, " (an edge node's leaf port)")?;
        }
        let _ = std::fs::remove_dir_all(&settings.dir);
        for sub in ["pids", "logs", "nats", "manifests"] {
            std::fs::create_dir_all(settings.dir.join(sub))?;
        }
        settings.save()?;
        let edge = Self {
            processes: Processes::new(&settings.dir),
            settings,
            auth: Auth::ensure()?,
        };
        match edge.start_everything().await {
            Ok(()) => Ok(edge),
            Err(error) => {
                crate::say::warn(&format!(
                    "edge up failed: tearing down (logs kept in {})",
                    edge.settings.dir.join("logs").display()
                ));
                edge.teardown();
                Err(error)
            }
        }
    }

    async fn start_everything(&self) -> Result<()> {
        let s = &self.settings;
        let mode = s.mode.unwrap_or(Mode::Loopback);
        step(&format!(
            "edge lattice: hub + {} edge nodes ({mode} mode, lattice {})",
            s.nodes, s.lattice
        ));
        if s.mode == Some(Mode::Netns) {
            network::up(s)?;
        }
        self.start_hub_nats()?;
        wait_port(&[], s.nats_port)?;
        for i in 1..=s.nodes {
            self.start_leaf(i)?;
        }
        for i in 1..=s.nodes {
            wait_port(&s.on(i), s.leaf_client_port(i))?;
        }
        info(&format!(
            "NATS: hub 127.0.0.1:{} (JetStream domain hub; Neon's credentials only), {} leaf nodes (TLS, leaf credentials)",
            s.nats_port, s.nodes
        ));
        let wadm_args = [
            "--nats-server".to_string(),
            format!("127.0.0.1:{}", s.nats_port),
            "--nats-creds-file".to_string(),
            self.auth.creds(Role::Wadm).display().to_string(),
            "--cleanup-interval".to_string(),
            s.cleanup_s.to_string(),
        ];
        self.processes
            .spawn("wadm", &[], &placed_binary("wadm")?, &wadm_args, &[])?;
        // Every host asks Neon's policy service, on the hub, before it starts or invokes code.
        let decisions = s.dir.join("logs/policy-decisions.log");
        let policy_args = policy::args(&format!("127.0.0.1:{}", s.nats_port), &decisions)?;
        self.processes
            .spawn("policy", &[], &policy::binary(), &policy_args, &[])?;
        policy::wait_answering(&decisions)?;
        self.start_host(None)?;
        for i in 1..=s.nodes {
            self.start_host(Some(i))?;
        }
        let ctl = s.ctl();
        ctl.wait_for_hosts(s.nodes + 1, Duration::from_secs(90))
            .await
            .with_context(|| format!("see {}", s.dir.join("logs").display()))?;
        let mut zones: Vec<String> = ctl
            .hosts()
            .await?
            .into_iter()
            .map(|h| h.labels.get("zone").cloned().unwrap_or(h.id))
            .collect();
        zones.sort();
        info(&format!("hosts: {}", zones.join(" ")));
        self.deploy("v1").await
    }

    fn start_hub_nats(&self) -> Result<()> {
        let s = &self.settings;
        let (cert, key) = tls::server_cert(
            self.auth.dir(),
            &[s.hub_leaf_address()],
            &s.dir.join("nats"),
            "hub-leafnodes",
        )?;
        let conf = s.dir.join("nats/hub.conf");
        std::fs::write(&conf, nats::hub(s, &self.auth, &cert, &key)?)?;
        let args = ["-c".to_string(), conf.display().to_string()];
        self.processes
            .spawn("nats-hub", &[], &placed_binary("nats-server")?, &args, &[])
    }

    fn start_leaf(&self, i: usize) -> Result<()> {
        let conf = self.settings.dir.join(format!("nats/edge-{i}.conf"));
        std::fs::write(&conf, nats::leaf(&self.settings, i, &self.auth))?;
        let args = ["-c".to_string(), conf.display().to_string()];
        let binary = placed_binary("nats-server")?;
        self.processes.spawn(
            &format!("nats-edge-{i}"),
            &self.settings.on(i),
            &binary,
            &args,
            &[],
        )
    }

    /// The hub's host (`None`) or edge node i's, with a TMPDIR of its own: hosts unpack provider
    /// archives into their temp dir.
    fn start_host(&self, node: Option<usize>) -> Result<()> {
        let s = &self.settings;
        let (name, port, labels, on) = match node {
            None => (
                "host-hub".to_string(),
                s.nats_port,
                vec!["zone=hub".to_string(), "neon.edge=hub".to_string()],
                Vec::new(),
            ),
            Some(i) => (
                format!("host-edge-{i}"),
                s.leaf_client_port(i),
                vec![
                    format!("zone=edge-{i}"),
                    format!("ring={}", Settings::ring(i)),
                    "neon.edge=edge".to_string(),
                ],
                s.on(i),
            ),
        };
        let mut args: Vec<String> = [
            "--nats-host",
            "127.0.0.1",
            "--nats-port",
            &port.to_string(),
            "--lattice",
            &s.lattice,
            "--js-domain",
            "hub",
            "--allow-file-load",
            "--heartbeat-interval-seconds",
            &s.heartbeat_s.to_string(),
            "--policy-topic",
            policy::TOPIC,
        ]
        .map(String::from)
        .to_vec();
        for label in labels {
            args.extend(["--label".to_string(), label]);
        }
        // The hub's host connects to the hub with its roles' credentials; an edge host to its
        // own leaf node, which needs none (see nats.rs).
        if node.is_none() {
            for (flag, role) in [
                ("--ctl-creds", Role::Host),
                ("--rpc-creds", Role::Providers),
            ] {
                args.extend([
                    flag.to_string(),
                    self.auth.creds(role).display().to_string(),
                ]);
            }
        }
        let tmp = s.dir.join("tmp").join(name.trim_start_matches("host-"));
        std::fs::create_dir_all(&tmp)?;
        let host = placed_binary(&format!("v{}/wasmcloud_host", platform::host_version()))?;
        self.processes
            .spawn(&name, &on, &host, &args, &[("TMPDIR", &tmp)])
    }

    /// Deploys `version` of the edge app and waits until it is Deployed and serving.
    pub async fn deploy(&self, version: &str) -> Result<()> {
        let s = &self.settings;
        let rendered = render_edge(version, s.http_port)?;
        let file = s.dir.join(format!("manifests/edge.{version}.yaml"));
        std::fs::write(&file, &rendered.yaml)
            .with_context(|| format!("writing {}", file.display()))?;
        step(&format!("deploy {APP} {version}"));
        s.ctl()
            .deploy_file(&file, &rendered, Duration::from_secs(180))
            .await?;
        Client::new(s.http_port)?
            .wait_ready(Duration::from_secs(60))
            .await
            .context("scripts/edge.sh status shows where things landed")?;
        info(&format!(
            "{APP} {version} is serving on 127.0.0.1:{}",
            s.http_port
        ));
        Ok(())
    }

    /// Prints the app's status and what runs where.
    pub async fn status(&self) -> Result<()> {
        let ctl = self.settings.ctl();
        let status = ctl.status(APP).await?;
        let version = ctl.deployed_version(APP).await?.unwrap_or_default();
        let message = match status.message.as_str() {
            "" => String::new(),
            message => format!(" ({message})"),
        };
        step(&format!(
            "{APP}: {}{message}, version {version}",
            status.kind
        ));
        step("placement");
        let mut inventories = ctl.inventories().await?;
        inventories.sort_by(|a, b| a.labels.get("zone").cmp(&b.labels.get("zone")));
        for host in inventories {
            let mut components: Vec<String> = host
                .components
                .iter()
                .map(|c| {
                    let n = c.max_instances.map(|n| n.to_string()).unwrap_or_default();
                    format!("{} x{n}", c.display_name())
                })
                .collect();
            let mut providers: Vec<&str> =
                host.providers.iter().map(|p| p.display_name()).collect();
            components.sort();
            providers.sort();
            let zone = host.labels.get("zone").map(String::as_str).unwrap_or("?");
            let or_dash = |list: String| {
                if list.is_empty() {
                    "-".to_string()
                } else {
                    list
                }
            };
            info(&format!(
                "{zone:<8} components: {:<44} providers: {}",
                or_dash(components.join(", ")),
                or_dash(providers.join(", "))
            ));
        }
        Ok(())
    }

    fn node(&self, i: usize) -> Result<usize> {
        if !(1..=self.settings.nodes).contains(&i) {
            bail!("give an edge node number from 1 to {}", self.settings.nodes);
        }
        Ok(i)
    }

    /// SIGKILL edge node i's host and its providers.
    pub fn kill_host(&self, i: usize) -> Result<()> {
        self.processes
            .stop(&format!("host-edge-{}", self.node(i)?), "KILL");
        Ok(())
    }

    pub fn start_host_again(&self, i: usize) -> Result<()> {
        self.start_host(Some(self.node(i)?))
    }

    /// Takes edge node i's link down (`false`) or up again.
    pub fn set_link(&self, i: usize, up: bool) -> Result<()> {
        network::set_link(&self.settings, self.node(i)?, up)
    }

    pub fn restart_leaf(&self, i: usize) -> Result<()> {
        let i = self.node(i)?;
        self.processes.stop(&format!("nats-edge-{i}"), "TERM");
        self.start_leaf(i)?;
        wait_port(&self.settings.on(i), self.settings.leaf_client_port(i))
    }

    /// Stops every process, then the network; keeps the logs.
    pub fn teardown(&self) {
        let mut names = self.processes.names();
        // Hosts first (they stop their providers), NATS last.
        names.sort_by_key(|n| (n.starts_with("nats"), n.clone()));
        for name in names {
            self.processes.stop(&name, "TERM");
        }
        // Anything that escaped its session (a provider re-parented elsewhere) but names our dir.
        lattice::stop_processes_naming(&self.settings.dir, "edge lattice");
        if self.settings.mode == Some(Mode::Netns) {
            network::down(&self.settings);
        }
        let _ = std::fs::remove_file(Settings::file(&self.settings.dir));
    }
}

/// Waits until a TCP port answers on 127.0.0.1 (inside a namespace: through `neon wait-port`
/// run there).
fn wait_port(on: &[String], port: u16) -> Result<()> {
    let limit = 20;
    if on.is_empty() {
        return net::wait_for_port(port, Duration::from_secs(limit));
    }
    let me = std::env::current_exe().context("finding the neon binary")?;
    let status = std::process::Command::new(&on[0])
        .args(&on[1..])
        .arg(me)
        .args([
            "wait-port",
            &port.to_string(),
            "--limit-s",
            &limit.to_string(),
        ])
        .status()?;
    if !status.success() {
        bail!("nothing listens on port {port} in {}", on.join(" "));
    }
    Ok(())
}
