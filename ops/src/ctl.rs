//! Talking to a lattice: its control interface and wadm over NATS, with wasmCloud's own typed
//! clients (hosts, inventories, app status, deploy, undeploy), and `wash` for what a user runs
//! by hand (`wash up`, `wash down`). Every call is bounded and says what it waited for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::process::Command;
use tokio::sync::OnceCell;

use crate::auth::{Auth, Role};
use crate::manifest::Rendered;
use crate::wait;

/// How to reach a lattice (NATS on 127.0.0.1, lattice name) and the environment `wash` runs in.
#[derive(Clone)]
pub struct Ctl {
    pub nats_port: u16,
    /// `None`: the default lattice.
    pub lattice: Option<String>,
    env: Vec<(String, String)>,
    /// The operator's creds file, when this machine has Neon's credentials.
    creds: Option<PathBuf>,
    /// Print each change of an app's status while waiting on it.
    progress: bool,
    /// Connected on first use: a `Ctl` is made before its lattice runs.
    nats: OnceCell<async_nats::Client>,
}

#[derive(Debug)]
pub struct Host {
    pub id: String,
    pub version: String,
    pub labels: BTreeMap<String, String>,
}

/// What one host runs.
#[derive(Debug)]
pub struct Inventory {
    pub host_id: String,
    pub labels: BTreeMap<String, String>,
    pub components: Vec<Running>,
    pub providers: Vec<Running>,
}

/// A component or provider on a host. wadm names what it starts `<app>-<name>`, with `-` in the
/// app's name as `_`.
#[derive(Debug)]
pub struct Running {
    pub id: String,
    /// The name its claims give it (`HTTP Server`), if any.
    pub name: Option<String>,
    /// Components only.
    pub max_instances: Option<u64>,
    /// Where it was loaded from (`file:///.../gateway.wasm`): what the host's metrics name.
    pub image_ref: String,
}

/// An app as wadm knows it.
pub struct App {
    pub name: String,
    pub deployed_version: Option<String>,
    /// wadm's word for its state (`deployed`, `reconciling`, `failed`, ...).
    pub status: String,
    pub message: String,
}

/// A link between two lattice entities.
pub struct LinkInfo {
    pub source: String,
    pub target: String,
    pub name: String,
    /// `namespace:package/interface,...`
    pub interfaces: String,
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

#[derive(Debug)]
pub struct AppStatus {
    /// deployed, undeployed, reconciling, failed, ...
    pub kind: String,
    pub message: String,
}

/// The bound on one control-interface request to a host (wash's default).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a question to every host gathers answers: hosts on loopback or behind a leaf node
/// answer in milliseconds, and every caller polls, so a host that misses one round is asked again.
const GATHER: Duration = Duration::from_secs(1);
/// The bound on one wadm request.
const WADM_TIMEOUT: Duration = Duration::from_secs(30);

impl Ctl {
    /// Connects as the operator, with the credentials set-up made (`wash` too: through
    /// `WASH_CTL_CREDS` and `WASMCLOUD_CTL_CREDSFILE`, the variables its commands read).
    pub fn new(nats_port: u16, lattice: Option<String>) -> Self {
        let ctl = Self {
            nats_port,
            lattice,
            env: Vec::new(),
            creds: None,
            progress: false,
            nats: OnceCell::new(),
        };
        let operator = Auth::default_dir().join(format!("{}.creds", Role::Operator.name()));
        match operator.exists() {
            true => ctl.with_creds(&operator),
            false => ctl,
        }
    }

    /// Connects with this creds file instead.
    pub fn with_creds(mut self, creds: &Path) -> Self {
        self.creds = Some(creds.to_path_buf());
        self.env
            .retain(|(k, _)| k != "WASH_CTL_CREDS" && k != "WASMCLOUD_CTL_CREDSFILE");
        self.with_env("WASH_CTL_CREDS", creds)
            .with_env("WASMCLOUD_CTL_CREDSFILE", creds)
    }

    pub fn with_progress(mut self) -> Self {
        self.progress = true;
        self
    }

    /// An environment variable for every wash this connection runs.
    pub fn with_env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env.push((
            key.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
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
        // wash reads project files (wasmcloud.toml) from its working directory: the checkout's,
        // never whatever directory the user ran a script from.
        command
            .current_dir(crate::paths::repo_root())
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

    fn lattice_name(&self) -> &str {
        self.lattice.as_deref().unwrap_or("default")
    }

    async fn nats(&self) -> Result<&async_nats::Client> {
        let address = format!("127.0.0.1:{}", self.nats_port);
        self.nats
            .get_or_try_init(|| async {
                let options = match &self.creds {
                    Some(creds) => async_nats::ConnectOptions::with_credentials_file(creds)
                        .await
                        .with_context(|| format!("reading {}", creds.display()))?,
                    None => async_nats::ConnectOptions::new(),
                };
                options
                    .connection_timeout(Duration::from_secs(2))
                    .connect(&address)
                    .await
                    .with_context(|| format!("connecting to NATS on {address}"))
            })
            .await
    }

    async fn control(&self) -> Result<wasmcloud_control_interface::Client> {
        Ok(
            wasmcloud_control_interface::ClientBuilder::new(self.nats().await?.clone())
                .lattice(self.lattice_name())
                .timeout(CONTROL_TIMEOUT)
                .auction_timeout(GATHER)
                .build(),
        )
    }

    async fn wadm(&self) -> Result<wadm_client::Client> {
        let nats = self.nats().await?.clone();
        Ok(wadm_client::Client::from_nats_client(
            self.lattice_name(),
            None,
            nats,
        ))
    }

    /// One wadm request, bounded, its error naming what was asked.
    async fn ask_wadm<T, F>(&self, what: &str, request: F) -> Result<T>
    where
        F: std::future::Future<Output = wadm_client::Result<T>>,
    {
        match tokio::time::timeout(WADM_TIMEOUT, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(anyhow!("wadm: {what}: {error}")),
            Err(_) => Err(anyhow!("wadm: {what}: no answer in {WADM_TIMEOUT:?}")),
        }
    }

    pub async fn hosts(&self) -> Result<Vec<Host>> {
        let answers = self
            .control()
            .await?
            .get_hosts()
            .await
            .map_err(|e| anyhow!("asking the lattice for its hosts: {e}"))?;
        Ok(answers
            .into_iter()
            .filter_map(|answer| answer.into_data())
            .map(|host| Host {
                id: host.id().to_string(),
                version: host.version().unwrap_or_default().to_string(),
                labels: host.labels().clone(),
            })
            .collect())
    }

    /// Every host's inventory.
    pub async fn inventories(&self) -> Result<Vec<Inventory>> {
        let control = self.control().await?;
        let mut inventories = Vec::new();
        for host in self.hosts().await? {
            let answer = control
                .get_host_inventory(&host.id)
                .await
                .map_err(|e| anyhow!("asking host {} for its inventory: {e}", host.id))?;
            let message = answer.message().to_string();
            let inventory = answer
                .into_data()
                .with_context(|| format!("host {} sent no inventory: {message}", host.id))?;
            inventories.push(Inventory {
                host_id: inventory.host_id().to_string(),
                labels: inventory.labels().clone(),
                components: inventory
                    .components()
                    .iter()
                    .map(|c| Running {
                        id: c.id().to_string(),
                        name: c.name().map(str::to_string),
                        max_instances: Some(u64::from(c.max_instances())),
                        image_ref: c.image_ref().to_string(),
                    })
                    .collect(),
                providers: inventory
                    .providers()
                    .iter()
                    .map(|p| Running {
                        id: p.id().to_string(),
                        name: p.name().map(str::to_string),
                        max_instances: None,
                        image_ref: p.image_ref().unwrap_or_default().to_string(),
                    })
                    .collect(),
            });
        }
        Ok(inventories)
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
        let wadm = self.wadm().await?;
        let status = self
            .ask_wadm(&format!("status of {app}"), wadm.get_manifest_status(app))
            .await?;
        let kind = serde_json::to_value(status.info.status_type)?
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        Ok(AppStatus {
            kind,
            message: status.info.message,
        })
    }

    /// Every app wadm stores, with its deployed version and state.
    pub async fn apps(&self) -> Result<Vec<App>> {
        let wadm = self.wadm().await?;
        let apps = self.ask_wadm("list of apps", wadm.list_manifests()).await?;
        Ok(apps
            .into_iter()
            .map(|a| App {
                status: serde_json::to_value(a.detailed_status.info.status_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "unknown".into()),
                message: a.detailed_status.info.message.clone(),
                deployed_version: a.deployed_version.filter(|v| !v.is_empty()),
                name: a.name,
            })
            .collect())
    }

    /// Every link the lattice holds.
    pub async fn links(&self) -> Result<Vec<LinkInfo>> {
        let answers = self
            .control()
            .await?
            .get_links()
            .await
            .map_err(|e| anyhow!("asking the lattice for its links: {e}"))?;
        Ok(answers
            .into_data()
            .unwrap_or_default()
            .into_iter()
            .map(|link| LinkInfo {
                source: link.source_id().to_string(),
                target: link.target().to_string(),
                name: link.name().to_string(),
                interfaces: format!(
                    "{}:{}/{}",
                    link.wit_namespace(),
                    link.wit_package(),
                    link.interfaces().join(",")
                ),
            })
            .collect())
    }

    /// The deployed version of an app, if any.
    pub async fn deployed_version(&self, app: &str) -> Result<Option<String>> {
        let wadm = self.wadm().await?;
        let apps = self.ask_wadm("list of apps", wadm.list_manifests()).await?;
        Ok(apps
            .into_iter()
            .find(|a| a.name == app)
            .and_then(|a| a.deployed_version)
            .filter(|v| !v.is_empty()))
    }

    /// Stores a manifest file in wadm and deploys it, then waits until that version is
    /// Deployed. A version wadm already stores is deployed as stored (wadm refuses to store a
    /// version twice).
    pub async fn deploy_file(
        &self,
        file: &Path,
        rendered: &Rendered,
        limit: Duration,
    ) -> Result<()> {
        let (app, version) = (&rendered.app, &rendered.version);
        let wadm = self.wadm().await?;
        let stored = match self
            .ask_wadm(&format!("versions of {app}"), wadm.list_versions(app))
            .await
        {
            Ok(versions) => versions.iter().any(|v| &v.version == version),
            // An app wadm never saw has no versions.
            Err(_) => false,
        };
        if stored {
            crate::say::warn(&format!(
                "wadm already stores {app} {version}: deploying the stored copy (bump metadata.annotations.version to deploy edits)"
            ));
        } else {
            self.ask_wadm(
                &format!("storing {}", file.display()),
                wadm.put_manifest(file),
            )
            .await?;
        }
        self.deploy_stored(app, version, limit).await
    }

    /// Deploys a version wadm already stores (after an undeploy, say).
    pub async fn deploy_stored(&self, app: &str, version: &str, limit: Duration) -> Result<()> {
        let wadm = self.wadm().await?;
        self.ask_wadm(
            &format!("deploying {app} {version}"),
            wadm.deploy_manifest(app, Some(version)),
        )
        .await?;
        self.wait_deployed(app, version, limit).await
    }

    /// Undeploys the app and waits until wadm reports it undeployed.
    pub async fn undeploy(&self, app: &str, limit: Duration) -> Result<()> {
        self.request_undeploy(app).await?;
        self.wait_status(app, "undeployed", limit).await
    }

    /// Asks wadm to undeploy the app, without waiting for it to happen.
    pub async fn request_undeploy(&self, app: &str) -> Result<()> {
        let wadm = self.wadm().await?;
        self.ask_wadm(&format!("undeploying {app}"), wadm.undeploy_manifest(app))
            .await
            .map(drop)
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
