//! The lattice half of Neon's benchmark (`neon-bench lattice`; `scripts/bench.sh` runs it
//! between the in-process figures and the report). On one private lattice (its own NATS port,
//! lattice name and state, like the end-to-end tests) it measures:
//!
//! - `http.json`: wrk at each client count against the three wirings and the linked one behind
//!   the http-server provider, the hello component (the platform's ceiling) behind each ingress,
//!   the standalone pipeline on `wasmtime serve` and on wash 2.x (beside the lattice, not on
//!   it), and the native axum service (the anchor);
//! - `deploy.json`: `wash app deploy` to the first 200 per wiring, and hello scaled 0 -> serving;
//! - `callcost-linked.json`: one `logging.log` call into the logger component over wRPC, one
//!   `sink.write` call into the logging provider, one plain NATS request/reply.
//!
//! Figures, never assertions. Each file is written with the types the report reads
//! (crate::schema), so the two halves cannot disagree on a field.

mod callcost;
mod deploy;
mod http;
pub mod profile;
mod wrk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use neon_ops::load::Client;
use neon_ops::manifest::{render, render_ceiling, Draft};
use neon_ops::standalone::{Runtime, Served, Sink, DEFAULT_TOTAL, REQUESTS_AT_ONCE};
use neon_ops::{free_port, wait, Ingress, Lattice, Wiring};

use crate::schema::{self, CallcostLinked, Deploy, Http};
use crate::stats::{Spread, Summary};

pub use http::Plan;

/// What `neon-bench lattice` measures.
pub struct Options {
    pub parts: Vec<String>,
    pub plan: Plan,
    pub native_service: PathBuf,
}

/// Measures each part on one private lattice; writes each file as soon as it is done.
pub async fn run(options: &Options, out: &Path) -> Result<()> {
    if options.parts.iter().any(|o| o == "http") && !options.native_service.exists() {
        bail!(
            "{} missing: cargo build --release -p neon-native",
            options.native_service.display()
        );
    }
    eprintln!("==> lattice: wash up (private NATS port and lattice name)");
    let lattice = Lattice::start("bench").await?;
    let logs = lattice.work_dir().join("logs");
    for part in &options.parts {
        let started = Instant::now();
        let file = match part.as_str() {
            "http" => {
                let figures = http_figures(&lattice, &logs, options).await?;
                crate::write_json(out, schema::HTTP, &figures)?;
                schema::HTTP
            }
            "deploy" => {
                let figures = deploy_figures(&lattice, &logs).await?;
                crate::write_json(out, schema::DEPLOY, &figures)?;
                schema::DEPLOY
            }
            "callcost" => {
                let figures = callcost_figures(&lattice, &logs).await?;
                crate::write_json(out, schema::CALLCOST_LINKED, &figures)?;
                schema::CALLCOST_LINKED
            }
            other => bail!("unknown part {other} (expected http, deploy, callcost)"),
        };
        eprintln!("    {file} done ({:.0} s)", started.elapsed().as_secs_f64());
    }
    Ok(())
}

async fn http_figures(lattice: &Lattice, logs: &Path, options: &Options) -> Result<Http> {
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

    // The standalone pipeline on the other runtimes: the same gateway, processor and logger, with
    // the sink inside the component (a file append per request) instead of a provider.
    let standalone = neon_ops::paths::build_dir()?.join("pipeline-standalone.wasm");
    let mut served_by = Vec::new();
    let mut sized = None;
    for runtime in Runtime::ALL {
        served_by.push(runtime.describe());
        eprintln!("==> http: {}", runtime.describe());
        let work = logs.join(runtime.name());
        let served = Served::start(runtime, &standalone, &work, Sink::File).await?;
        sized = Some((served.footprint, served.pool));
        let url = format!("http://{}/process", served.address);
        runs.extend(http::measure(runtime.name(), &url, &options.plan, &script).await?);
    }

    let (footprint, pool) = sized.context("no standalone runtime was measured")?;

    eprintln!("==> http: native axum service (the anchor)");
    let native_port = free_port()?;
    let native_log = logs.join("neon.native.jsonl");
    let _native = NativeService::start(&options.native_service, native_port, &native_log)?;
    Client::new(native_port)?
        .wait_ready(Duration::from_secs(30))
        .await?;
    let native_url = format!("http://127.0.0.1:{native_port}/process");
    runs.extend(http::measure("native", &native_url, &options.plan, &script).await?);

    Ok(Http {
        runs,
        tool: wrk_version().await,
        notes: [
            "POST /process \"hello\" on keep-alive connections; wrk on the same 2 cores as the host, NATS and providers",
            "threads = min(clients, 2); each figure is the median of the repeats, with min and max",
            "each variant is deployed once; its runs follow each other with nothing redeployed in between",
            "ingress: the three wirings and `hello` are served by the host's built-in HTTP server; `provider-ingress` (linked) and `hello-provider-ingress` by the http-server provider",
            "errors = non-2xx answers + socket errors; answers are checked for correctness by scripts/test.sh, not here",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!(
            "wasmtime-serve and wash2: build/pipeline-standalone.wasm (the composed pipeline with its sink and config inside) served by {}; a request takes {} core instances, {} tables and {} memories, so each runtime's instance pool holds {} core instances, {} tables and {} memories ({} requests at once; the default {} of each holds {} requests of this component); no lattice, no provider",
            served_by.join(" and by "),
            footprint.core_instances,
            footprint.tables,
            footprint.memories,
            pool.core_instances,
            pool.tables,
            pool.memories,
            REQUESTS_AT_ONCE,
            DEFAULT_TOTAL,
            footprint.requests_held_by(DEFAULT_TOTAL),
        )])
        .collect(),
    })
}

async fn deploy_figures(lattice: &Lattice, logs: &Path) -> Result<Deploy> {
    const REPEATS: usize = 3;
    let port = free_port()?;
    let mut per_wiring = BTreeMap::new();
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
        per_wiring.insert(wiring.name().to_string(), measured(&samples)?);
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

    Ok(Deploy {
        deploy_to_first_200_ms: per_wiring,
        scale_from_zero_ms: measured(&samples)?,
        notes: [
            "deploy: from starting `wash app deploy` to the first 200 of POST /process, polled every 10 ms; the app was undeployed before each run, so providers start too",
            "scale from zero: hello deployed with 0 instances behind the http-server provider (provider and link in place), then the version with 100 instances deployed; to the first 200",
        ]
        .map(String::from)
        .to_vec(),
    })
}

async fn callcost_figures(lattice: &Lattice, logs: &Path) -> Result<CallcostLinked> {
    const WARMUP: usize = 50;
    const CALLS: usize = 1000;
    let port = free_port()?;
    // The composed side's sink is a no-op in the host; keep the disk out of the linked side too.
    let mut draft = Draft::load(&Wiring::Linked.manifest())?;
    draft
        .set_app("neon-callcost")
        .set_http_port(port)?
        .set_config_value("state_dir", &logs.display().to_string())?
        .add_beside("sinks", "fsync", "never")?;
    let rendered = draft.absolute_images()?.render(Some(logs))?;
    lattice.deploy(&rendered, Duration::from_secs(120)).await?;
    Client::new(port)?
        .wait_ready(Duration::from_secs(60))
        .await?;
    let logger = component_id(lattice, "-logger").await?;
    let provider = component_id(lattice, "-logging").await?;
    let nats = format!("127.0.0.1:{}", lattice.nats_port);
    let calls = callcost::Calls {
        nats_url: &nats,
        lattice: &lattice.name,
        warmup: WARMUP,
        timed: CALLS,
    };
    let summarize = |what: &str, samples: Vec<f64>| {
        let summary = Summary::of(&samples).with_context(|| format!("no {what} was timed"))?;
        eprintln!(
            "    {what}: p50 {:.0} µs, p99 {:.0} µs",
            summary.p50, summary.p99
        );
        anyhow::Ok(summary)
    };
    eprintln!("==> callcost: {CALLS} logging.log calls into {logger} over wRPC");
    let log_call = summarize("linked log call", calls.log_calls(&logger).await?)?;
    eprintln!("==> callcost: {CALLS} sink.write calls into {provider} over wRPC");
    let provider_call = summarize(
        "component -> provider call",
        calls.sink_write_calls(&provider, &logger).await?,
    )?;
    eprintln!("==> callcost: {CALLS} plain NATS requests on the same server");
    let nats_request = summarize("NATS request/reply", calls.nats_requests().await?)?;
    lattice
        .undeploy(&rendered.app, Duration::from_secs(60))
        .await?;
    Ok(CallcostLinked {
        linked_log_call_us: log_call,
        provider_call_us: Some(provider_call),
        nats_request_us: Some(nats_request),
        method: "wRPC client on NATS loopback, with the host's identity, calling on the real host (linked wiring deployed), sequentially, each call awaited to its result: the logger component's cyber:system/logging.log, which includes the logger's own awaited sink.write to the logging provider (a second lattice round trip; file sink with fsync never, as the composed side's sink is a no-op); the logging provider's cyber:system/sink.write of one record, made as the host makes it for the logger (one component -> provider call); and a plain NATS request/reply to a responder that answers at once, on the same server (the floor for any call over NATS)".to_string(),
        notes: vec![format!("{WARMUP} untimed warm-up calls first, for each of the three")],
    })
}

/// The spread of repeated measurements; an error when nothing was measured.
fn measured(samples: &[f64]) -> Result<Spread> {
    Spread::of(samples).context("nothing was measured")
}

/// Waits until no component or provider whose id starts with `prefix` runs on any host.
async fn wait_gone(lattice: &Lattice, prefix: &str) -> Result<()> {
    wait::until(
        &format!("{prefix}* gone after the undeploy"),
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let ids = inventory_ids(lattice).await?;
            if ids.iter().any(|id| id.starts_with(prefix)) {
                bail!("still running: {ids:?}");
            }
            Ok(())
        },
    )
    .await
}

/// The id wadm gave the app's component whose id ends with `suffix`.
async fn component_id(lattice: &Lattice, suffix: &str) -> Result<String> {
    let ids = inventory_ids(lattice).await?;
    ids.iter()
        .find(|id| id.ends_with(suffix))
        .cloned()
        .with_context(|| format!("no component id ending in {suffix} in the inventory: {ids:?}"))
}

/// The ids of every component and provider on every host.
async fn inventory_ids(lattice: &Lattice) -> Result<Vec<String>> {
    Ok(lattice
        .inventories()
        .await?
        .into_iter()
        .flat_map(|host| host.components.into_iter().chain(host.providers))
        .map(|running| running.id)
        .collect())
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
