//! The lattice half of Neon's benchmark: `scripts/bench.sh` runs it between the in-process
//! figures (`neon-bench`) and the report. On one private lattice (its own NATS port, lattice
//! name and state, like the end-to-end tests) it measures:
//!
//! - `http.json`: wrk at each client count against the three wirings and the linked one behind
//!   the http-server provider, the hello component (the platform's ceiling) behind each ingress,
//!   and the native axum service (the anchor);
//! - `deploy.json`: `wash app deploy` to the first 200 per wiring, and hello scaled 0 -> serving;
//! - `callcost-linked.json`: one `logging.log` call into the logger component over wRPC.
//!
//! Usage: neon-lattice-bench [--out DIR] [--only http,deploy,callcost] [--clients 1,16,64]
//!        [--duration SECS] [--repeats N] [--native-service PATH]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use neon_lattice_tests::bench::stats::{quantile, spread};
use neon_lattice_tests::bench::{callcost, deploy, http, wrk};
use neon_lattice_tests::lattice::free_port;
use neon_lattice_tests::load::Client;
use neon_lattice_tests::manifest::{render, render_ceiling, repo_root, Ingress};
use neon_lattice_tests::{Lattice, Wiring};
use serde_json::{json, Value};

struct Options {
    out: PathBuf,
    only: Vec<String>,
    plan: http::Plan,
    native_service: PathBuf,
}

fn options() -> Result<Options> {
    // cargo puts both binaries in the same dir (neon-native is built with this one).
    let beside_me = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut options = Options {
        out: repo_root().join("build/bench"),
        only: vec!["http".into(), "deploy".into(), "callcost".into()],
        plan: http::Plan {
            clients: vec![1, 16, 64],
            duration: Duration::from_secs(5),
            repeats: 3,
            warmup: Duration::from_secs(2),
        },
        native_service: beside_me.join("neon-native-service"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--out" => options.out = value.into(),
            "--only" => options.only = value.split(',').map(str::to_string).collect(),
            "--clients" => {
                options.plan.clients = value
                    .split(',')
                    .map(|c| c.parse().with_context(|| format!("--clients {value}")))
                    .collect::<Result<_>>()?;
            }
            "--duration" => options.plan.duration = Duration::from_secs(value.parse()?),
            "--repeats" => options.plan.repeats = value.parse()?,
            "--native-service" => options.native_service = value.into(),
            other => bail!(
                "unknown option {other} (expected --out, --only, --clients, --duration, --repeats, --native-service)"
            ),
        }
    }
    Ok(options)
}

// Current-thread on purpose: see bench::callcost.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let options = options()?;
    std::fs::create_dir_all(&options.out)?;
    if options.only.iter().any(|o| o == "http") && !options.native_service.exists() {
        bail!(
            "{} missing: cargo build --release -p neon-native",
            options.native_service.display()
        );
    }
    eprintln!("==> lattice: wash up (private NATS port and lattice name)");
    let lattice = Lattice::start("bench").await?;
    let logs = lattice.work_dir().join("logs");
    for part in &options.only {
        let started = Instant::now();
        let (file, value) = match part.as_str() {
            "http" => ("http.json", http_figures(&lattice, &logs, &options).await?),
            "deploy" => ("deploy.json", deploy_figures(&lattice, &logs).await?),
            "callcost" => (
                "callcost-linked.json",
                callcost_figures(&lattice, &logs).await?,
            ),
            other => bail!("unknown part {other} (expected http, deploy, callcost)"),
        };
        write_json(&options.out.join(file), &value)?;
        eprintln!(
            "    {file} written ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

async fn http_figures(lattice: &Lattice, logs: &Path, options: &Options) -> Result<Value> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}/process");
    let script = wrk::write_post_script(lattice.work_dir())?;
    let mut runs = Vec::new();
    for wiring in Wiring::ALL {
        eprintln!("==> http: {} wiring", wiring.name());
        let rendered = render(wiring, "neon-bench", port, logs)?;
        lattice.deploy(&rendered, Duration::from_secs(120)).await?;
        Client::new(port)?
            .wait_ready(Duration::from_secs(60))
            .await?;
        runs.extend(http::measure(wiring.name(), &url, &options.plan, &script).await?);
        lattice
            .undeploy(&rendered.app, Duration::from_secs(60))
            .await?;
    }

    // The platform's ceiling behind each ingress: what Neon costs is what it adds to these.
    for ingress in [Ingress::Builtin, Ingress::Provider] {
        eprintln!(
            "==> http: hello component (the platform's ceiling), {} ingress",
            ingress.name()
        );
        let rendered = render_ceiling("neon-bench-hello", port, 100, ingress)?;
        lattice.deploy(&rendered, Duration::from_secs(120)).await?;
        Client::new(port)?
            .wait_ready(Duration::from_secs(60))
            .await?;
        let variant = match ingress {
            Ingress::Builtin => "hello",
            Ingress::Provider => "hello-provider-ingress",
        };
        runs.extend(http::measure(variant, &url, &options.plan, &script).await?);
        lattice
            .undeploy(&rendered.app, Duration::from_secs(60))
            .await?;
    }

    eprintln!("==> http: native axum service (the anchor)");
    let native_port = free_port()?;
    let native_log = logs.join("neon.native.jsonl");
    let _native = NativeService::start(&options.native_service, native_port, &native_log)?;
    Client::new(native_port)?
        .wait_ready(Duration::from_secs(30))
        .await?;
    let native_url = format!("http://127.0.0.1:{native_port}/process");
    runs.extend(http::measure("native", &native_url, &options.plan, &script).await?);

    Ok(json!({
        "runs": runs,
        "tool": wrk_version().await,
        "notes": [
            "POST /process \"hello\" on keep-alive connections; wrk on the same 2 cores as the host, NATS and providers",
            "threads = min(clients, 2); each figure is the median of the repeats, with min and max",
            "each variant is deployed once; its runs follow each other with nothing redeployed in between",
            "ingress: the three wirings and `hello` are served by the host's built-in HTTP server; `provider-ingress` (linked) and `hello-provider-ingress` by the http-server provider",
            "errors = non-2xx answers + socket errors; answers are checked for correctness by scripts/test.sh, not here",
        ],
    }))
}

async fn deploy_figures(lattice: &Lattice, logs: &Path) -> Result<Value> {
    const REPEATS: usize = 3;
    let port = free_port()?;
    let mut per_wiring = serde_json::Map::new();
    for wiring in Wiring::ALL {
        let mut samples = Vec::new();
        for repeat in 0..REPEATS {
            let rendered = render(wiring, "neon-deploy", port, logs)?;
            let ms = deploy::to_first_200(lattice, &rendered, repeat > 0).await?;
            eprintln!(
                "    deploy {:>8} #{repeat}: first 200 after {ms:.0} ms",
                wiring.name()
            );
            samples.push(ms);
            lattice
                .wait_status(&rendered.app, "deployed", Duration::from_secs(120))
                .await?;
            lattice
                .undeploy(&rendered.app, Duration::from_secs(60))
                .await?;
            // "undeployed" is wadm's intent; the next deploy must start from nothing running.
            wait_gone(lattice, "neon_deploy-").await?;
        }
        per_wiring.insert(wiring.name().to_string(), spread(&samples));
    }

    // hello deployed with 0 instances (provider and link in place), then scaled to 100. Behind
    // the http-server provider: the built-in server takes no link to a component with no
    // instance on its host (wadm kept reconciling "Putting link definition", measured).
    let client = Client::new(port)?;
    let zero = render_ceiling("neon-bench-scale", port, 0, Ingress::Provider)?;
    let up = render_ceiling("neon-bench-scale", port, 100, Ingress::Provider)?;
    let mut samples = Vec::new();
    for repeat in 0..REPEATS {
        if repeat == 0 {
            lattice.deploy(&zero, Duration::from_secs(120)).await?;
        } else {
            lattice
                .deploy_stored(&zero.app, &zero.version, Duration::from_secs(120))
                .await?;
        }
        deploy::until_not_serving(&client).await?;
        let ms = deploy::to_first_200(lattice, &up, repeat > 0).await?;
        eprintln!("    scale hello 0 -> serving #{repeat}: first 200 after {ms:.0} ms");
        samples.push(ms);
        lattice
            .wait_status(&up.app, "deployed", Duration::from_secs(120))
            .await?;
    }
    lattice.undeploy(&up.app, Duration::from_secs(60)).await?;

    Ok(json!({
        "deploy_to_first_200_ms": per_wiring,
        "scale_from_zero_ms": spread(&samples),
        "notes": [
            "deploy: from starting `wash app deploy` to the first 200 of POST /process, polled every 10 ms; the app was undeployed before each run, so providers start too",
            "scale from zero: hello deployed with 0 instances behind the http-server provider (provider and link in place), then the version with 100 instances deployed; to the first 200",
        ],
    }))
}

async fn callcost_figures(lattice: &Lattice, logs: &Path) -> Result<Value> {
    const WARMUP: usize = 50;
    const CALLS: usize = 1000;
    let port = free_port()?;
    let mut rendered = render(Wiring::Linked, "neon-callcost", port, logs)?;
    // The composed side's sink is a no-op in the host; keep the disk out of the linked side too.
    let sinks = "\n                    sinks: file\n";
    if !rendered.yaml.contains(sinks) {
        bail!(
            "wadm.yaml's logger -> provider link has no `sinks: file` line; did its shape change?"
        );
    }
    rendered.yaml = rendered.yaml.replacen(
        sinks,
        "\n                    sinks: file\n                    fsync: never\n",
        1,
    );
    lattice.deploy(&rendered, Duration::from_secs(120)).await?;
    Client::new(port)?
        .wait_ready(Duration::from_secs(60))
        .await?;
    let logger = component_id(lattice, "-logger").await?;
    eprintln!("==> callcost: {CALLS} logging.log calls into {logger} over wRPC");
    let nats = format!("127.0.0.1:{}", lattice.nats_port);
    let mut samples =
        callcost::linked_log_calls(&nats, &lattice.name, &logger, WARMUP, CALLS).await?;
    lattice
        .undeploy(&rendered.app, Duration::from_secs(60))
        .await?;
    samples.sort_by(f64::total_cmp);
    let p50 = quantile(&samples, 0.5);
    let p99 = quantile(&samples, 0.99);
    eprintln!("    linked log call: p50 {p50:.0} µs, p99 {p99:.0} µs");
    Ok(json!({
        "linked_log_call_us": {
            "p50": p50,
            "p99": p99,
            "min": samples.first().copied().unwrap_or(0.0),
            "max": samples.last().copied().unwrap_or(0.0),
            "n": samples.len(),
        },
        "method": "wRPC client on NATS loopback calling the logger component's cyber:system/logging.log on the real host (linked wiring deployed), sequentially, each call awaited to its empty result; it includes the logger's own awaited sink.write to the logging provider (a second lattice round trip; file sink with fsync never, as the composed side's sink is a no-op)",
        "notes": [format!("{WARMUP} untimed warm-up calls first")],
    }))
}

/// Waits until no component or provider whose id starts with `prefix` runs on any host.
async fn wait_gone(lattice: &Lattice, prefix: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ids = inventory_ids(lattice).await?;
        if !ids.iter().any(|id| id.starts_with(prefix)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{prefix}* still running 60 s after the undeploy: {ids:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The id wadm gave the app's component whose id ends with `suffix`.
async fn component_id(lattice: &Lattice, suffix: &str) -> Result<String> {
    let ids = inventory_ids(lattice).await?;
    ids.iter()
        .find(|id| id.ends_with(suffix))
        .cloned()
        .with_context(|| format!("no component id ending in {suffix} in the inventory: {ids:?}"))
}

/// The ids of every component and provider on every host, from `wash get inventory`.
async fn inventory_ids(lattice: &Lattice) -> Result<Vec<String>> {
    let out = lattice
        .wash(&["get", "inventory", "-o", "json"], Duration::from_secs(30))
        .await?;
    let inventory: Value = serde_json::from_str(&out).context("wash get inventory: not JSON")?;
    let mut ids = Vec::new();
    collect_ids(&inventory, &mut ids);
    Ok(ids)
}

fn collect_ids(value: &Value, ids: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("id") {
                ids.push(id.clone());
            }
            map.values().for_each(|v| collect_ids(v, ids));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, ids)),
        _ => {}
    }
}

async fn wrk_version() -> String {
    let output = tokio::process::Command::new("wrk")
        .arg("--version")
        .output()
        .await;
    output
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().map(str::to_string)
        })
        .unwrap_or_else(|| "wrk".to_string())
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// The native anchor, killed when dropped.
struct NativeService(std::process::Child);

impl NativeService {
    fn start(binary: &Path, port: u16, log_file: &Path) -> Result<Self> {
        let child = std::process::Command::new(binary)
            .args(["--addr", &format!("127.0.0.1:{port}"), "--log-file"])
            .arg(log_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self(child))
    }
}

impl Drop for NativeService {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
