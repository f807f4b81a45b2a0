//! A real Prometheus (Debian's `prometheus` package) scraping a lattice's metrics endpoints:
//! one owned by a test (stopped on drop), or one beside `neon up`'s lattice (detached); and
//! queries through its HTTP API.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

use crate::detached;
use crate::net::free_port;

/// What to scrape: a job name and a loopback port serving `/metrics`.
pub struct Target {
    pub job: &'static str,
    pub port: u16,
}

/// A Prometheus server of our own, stopped on drop.
pub struct Prometheus {
    pub port: u16,
    http: reqwest::Client,
    child: Child,
}

impl Prometheus {
    /// Starts Prometheus with its config and data under `dir`, scraping `targets` every
    /// `interval`, on a free loopback port; waits until its API answers.
    pub async fn start(dir: &Path, targets: &[Target], interval: Duration) -> Result<Self> {
        let port = free_port()?;
        let child = Command::from(command(dir, targets, interval, port)?)
            .kill_on_drop(true)
            .spawn()
            .context("starting prometheus")?;
        let prometheus = Self {
            port,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            child,
        };
        wait_ready(&prometheus.http, port, dir).await?;
        Ok(prometheus)
    }

    /// The value of an instant query that yields one number (`sum(...)`); an empty result is 0.
    pub async fn value(&self, promql: &str) -> Result<f64> {
        query_value(&self.http, self.port, promql).await
    }

    /// Waits until `promql`'s value satisfies `done` (checked every 250 ms, at most `limit`);
    /// returns the last value either way.
    pub async fn value_when(
        &self,
        promql: &str,
        limit: Duration,
        done: impl Fn(f64) -> bool,
    ) -> Result<f64> {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.value(promql).await?;
            if done(value) || Instant::now() >= deadline {
                return Ok(value);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts Prometheus in the background, beyond this process, on 127.0.0.1:`port` with its
/// files under `dir` (unless the one started there before still runs); stopped by
/// [`stop_detached`].
pub async fn start_detached(
    dir: &Path,
    targets: &[Target],
    interval: Duration,
    port: u16,
) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    let pid_file = dir.join("prometheus.pid");
    if detached::runs(&pid_file, "prometheus") {
        return Ok(());
    }
    let mut command = command(dir, targets, interval, port)?;
    let child = command
        .process_group(0)
        .spawn()
        .context("starting prometheus")?;
    std::fs::write(&pid_file, child.id().to_string())?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    wait_ready(&http, port, dir).await
}

/// Stops what [`start_detached`] started under `dir`, if it runs.
pub fn stop_detached(dir: &Path) {
    detached::stop(&dir.join("prometheus.pid"), "prometheus");
}

/// The command that runs Prometheus on 127.0.0.1:`port`, its config written into `dir`.
fn command(
    dir: &Path,
    targets: &[Target],
    interval: Duration,
    port: u16,
) -> Result<std::process::Command> {
    let binary = which("prometheus").context(
        "prometheus not found: scripts/setup.sh installs it (apt-get install prometheus)",
    )?;
    std::fs::create_dir_all(dir.join("data"))?;
    let interval = format!("{}ms", interval.as_millis());
    let mut config = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n  evaluation_interval: {interval}\nscrape_configs:\n"
    );
    for target in targets {
        config.push_str(&format!(
            "  - job_name: {}\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            target.job, target.port
        ));
    }
    let config_path = dir.join("prometheus.yml");
    std::fs::write(&config_path, config)?;
    let log = std::fs::File::create(dir.join("prometheus.log"))?;
    let mut command = std::process::Command::new(binary);
    command
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    Ok(command)
}

async fn wait_ready(http: &reqwest::Client, port: u16, dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http
            .get(format!("http://127.0.0.1:{port}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "prometheus did not get ready on port {port} within 30 s (log: {})",
                dir.join("prometheus.log").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One number from Prometheus's `/api/v1/query` at `127.0.0.1:port`.
pub async fn query_value(http: &reqwest::Client, port: u16, promql: &str) -> Result<f64> {
    let vector = query_vector(http, port, promql).await?;
    Ok(vector.iter().map(|(_, v)| v).sum())
}

/// Every (labels, value) of an instant query at `127.0.0.1:port`.
pub async fn query_vector(
    http: &reqwest::Client,
    port: u16,
    promql: &str,
) -> Result<Vec<(serde_json::Map<String, serde_json::Value>, f64)>> {
    let text = http
        .get(format!("http://127.0.0.1:{port}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await
        .with_context(|| format!("asking Prometheus on port {port}"))?
        .text()
        .await?;
    let answer: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("Prometheus answered {text}"))?;
    if answer["status"] != "success" {
        bail!("Prometheus refused {promql}: {text}");
    }
    let results = answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    results
        .into_iter()
        .map(|r| {
            let value = r["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .with_context(|| format!("no value in {r}"))?;
            let labels = r["metric"].as_object().cloned().unwrap_or_default();
            Ok((labels, value))
        })
        .collect()
}

fn which(binary: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(binary))
        .find(|path| path.is_file())
}
