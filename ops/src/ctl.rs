//! Talking to a lattice with `wash`: its control connection (NATS address and lattice name) and
//! the app lifecycle on top of it (deploy, wait for a status, undeploy). wash's JSON answers are
//! read into types, so a changed field is an error, not a silent default.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::process::Command;

use crate::manifest::Rendered;
use crate::wait;

/// How `wash` reaches a lattice, and the environment it runs in.
#[derive(Debug, Clone)]
pub struct Ctl {
    pub nats_port: u16,
    /// `None`: wash's default lattice.
    pub lattice: Option<String>,
    env: Vec<(String, String)>,
    /// Print each change of an app's status while waiting on it.
    progress: bool,
}

#[derive(Debug, Deserialize)]
pub struct Host {
    pub id: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Hosts {
    hosts: Vec<Host>,
}

/// What one host runs.
#[derive(Debug, Deserialize)]
pub struct Inventory {
    pub host_id: String,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub components: Vec<Running>,
    #[serde(default)]
    pub providers: Vec<Running>,
}

/// A component or provider on a host. wadm names what it starts `<app>-<name>`, with `-` in the
/// app's name as `_`.
#[derive(Debug, Deserialize)]
pub struct Running {
    pub id: String,
    /// The name its claims give it (`HTTP Server`), if any.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub max_instances: Option<u64>,
}

impl Running {
    /// What to call it for a person: its claims' name, else its id.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.id)
    }

    /// The name the app's manifest gives it.
    pub fn manifest_name(&self, app: &str) -> &str {
        let prefix = format!("{}-", app.replace('-', "_"));
        self.id.strip_prefix(&prefix).unwrap_or(&self.id)
    }
}

#[derive(Deserialize)]
struct Inventories {
    inventories: Vec<Inventory>,
}

#[derive(Debug, Deserialize)]
pub struct AppStatus {
    /// deployed, undeployed, reconciling, failed, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct StatusReply {
    status: StatusOuter,
}
#[derive(Deserialize)]
struct StatusOuter {
    status: AppStatus,
}

#[derive(Deserialize)]
struct AppList {
    applications: Vec<AppSummary>,
}
#[derive(Deserialize)]
struct AppSummary {
    name: String,
    #[serde(default)]
    deployed_version: Option<String>,
}

impl Ctl {
    pub fn new(nats_port: u16, lattice: Option<String>) -> Self {
        Self {
            nats_port,
            lattice,
            env: Vec::new(),
            progress: false,
        }
    }

    pub fn with_progress(mut self) -> Self {
        self.progress = true;
        self
    }

    /// An environment variable for every wash this connection runs.
    pub fn with_env(mut self, key: &str, value: &Path) -> Self {
        self.env
            .push((key.to_string(), value.display().to_string()));
        self
    }

    /// A `wash` command with this connection's environment, and the connection flags unless it
    /// is `wash up` (which takes the port and lattice as its own flags). `wrapper` runs before
    /// wash (`timeout 60`, say), for callers that cannot await.
    pub fn std_command(&self, wrapper: &[&str], args: &[&str]) -> std::process::Command {
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = std::process::Command::new(program);
                command.args(rest).arg("wash");
                command
            }
            None => std::process::Command::new("wash"),
        };
        command.args(args);
        if args.first() != Some(&"up") {
            command.args(["--ctl-host", "127.0.0.1", "--ctl-port"]);
            command.arg(self.nats_port.to_string());
            if let Some(lattice) = &self.lattice {
                command.args(["--lattice", lattice]);
            }
        }
        command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("WASMCLOUD_LATTICE")
            .env_remove("WASMCLOUD_CTL_PORT")
            .env_remove("WASMCLOUD_RPC_PORT")
            .stdin(Stdio::null());
        command
    }

    /// Runs `wash <args>`; its stdout, or an error with what it said.
    pub async fn wash(&self, args: &[&str], limit: Duration) -> Result<String> {
        let mut command = Command::from(self.std_command(&[], args));
        command.kill_on_drop(true);
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

    async fn json<T: DeserializeOwned>(&self, args: &[&str]) -> Result<T> {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.wash(&args, Duration::from_secs(30)).await?;
        serde_json::from_str(&out)
            .with_context(|| format!("wash {}: unexpected answer: {out}", args.join(" ")))
    }

    pub async fn hosts(&self) -> Result<Vec<Host>> {
        Ok(self.json::<Hosts>(&["get", "hosts"]).await?.hosts)
    }

    /// Every host's inventory.
    pub async fn inventories(&self) -> Result<Vec<Inventory>> {
        Ok(self
            .json::<Inventories>(&["get", "inventory"])
            .await?
            .inventories)
    }

    /// Waits until at least `count` hosts answer.
    pub async fn wait_for_hosts(&self, count: usize, limit: Duration) -> Result<()> {
        wait::until(
            "hosts answering",
            limit,
            Duration::from_millis(500),
            || async {
                let have = self.hosts().await?.len();
                if have < count {
                    bail!("{have} of {count} hosts");
                }
                Ok(())
            },
        )
        .await
    }

    pub async fn status(&self, app: &str) -> Result<AppStatus> {
        Ok(self
            .json::<StatusReply>(&["app", "status", app])
            .await?
            .status
            .status)
    }

    /// The deployed version of an app, if any.
    pub async fn deployed_version(&self, app: &str) -> Result<Option<String>> {
        let list: AppList = self.json(&["app", "list"]).await?;
        Ok(list
            .applications
            .into_iter()
            .find(|a| a.name == app)
            .and_then(|a| a.deployed_version)
            .filter(|v| !v.is_empty()))
    }

    /// Deploys a manifest file and waits until that version is Deployed. A version wadm already
    /// stores is deployed as stored (wadm refuses to store it twice).
    pub async fn deploy_file(
        &self,
        file: &Path,
        rendered: &Rendered,
        limit: Duration,
    ) -> Result<()> {
        let path = file.display().to_string();
        match self
            .wash(&["app", "deploy", &path], Duration::from_secs(60))
            .await
        {
            Ok(_) => {}
            Err(e) if e.to_string().contains("already exists") => {
                crate::say::warn(&format!(
                    "wadm already stores {} {}: deploying the stored copy (bump metadata.annotations.version to deploy edits)",
                    rendered.app, rendered.version
                ));
                self.wash(
                    &["app", "deploy", &rendered.app, &rendered.version],
                    Duration::from_secs(60),
                )
                .await?;
            }
            Err(e) => return Err(e),
        }
        self.wait_deployed(&rendered.app, &rendered.version, limit)
            .await
    }

    /// Deploys a version wadm already stores (after an undeploy, say).
    pub async fn deploy_stored(&self, app: &str, version: &str, limit: Duration) -> Result<()> {
        self.wash(&["app", "deploy", app, version], Duration::from_secs(60))
            .await?;
        self.wait_deployed(app, version, limit).await
    }

    pub async fn undeploy(&self, app: &str, limit: Duration) -> Result<()> {
        self.wash(&["app", "undeploy", app], Duration::from_secs(60))
            .await?;
        self.wait_status(app, "undeployed", limit).await
    }

    /// Waits until `version` of the app is Deployed (`wash app status` does not say which
    /// version it describes; `wash app list` does): one wait, both checked in each probe.
    pub async fn wait_deployed(&self, app: &str, version: &str, limit: Duration) -> Result<()> {
        self.wait_for(app, "deployed", Some(version), limit).await
    }

    /// Polls the app's status until it is `wanted` (deployed, undeployed).
    pub async fn wait_status(&self, app: &str, wanted: &str, limit: Duration) -> Result<()> {
        self.wait_for(app, wanted, None, limit).await
    }

    /// Polls until the app's status is `wanted` (and, when given, `version` is the deployed
    /// one), printing each status change with progress on. A `failed` status on the way is not
    /// final: wadm keeps reconciling (a component may start before the config it names is
    /// stored), so only the deadline ends the wait, with wadm's last reason.
    async fn wait_for(
        &self,
        app: &str,
        wanted: &str,
        version: Option<&str>,
        limit: Duration,
    ) -> Result<()> {
        let last = std::sync::Mutex::new(String::new());
        let what = match version {
            Some(version) => format!("{app} {version} {wanted}"),
            None => format!("{app} {wanted}"),
        };
        wait::until(&what, limit, Duration::from_millis(500), || async {
            let status = self.status(app).await?;
            let line = if status.message.is_empty() {
                status.kind.clone()
            } else {
                format!("{} ({})", status.kind, status.message)
            };
            if let Ok(mut last) = last.lock() {
                if *last != line && self.progress {
                    crate::say::info(&format!("{app}: {line}"));
                }
                *last = line.clone();
            }
            if status.kind != wanted {
                bail!("{line}");
            }
            if let Some(version) = version {
                match self.deployed_version(app).await? {
                    Some(v) if v == version => {}
                    other => bail!("{line}, but the deployed version is {other:?}"),
                }
            }
            Ok(())
        })
        .await
    }
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
