//! The lattice's metrics, read back through a real Prometheus (Debian's package) that scrapes the
//! host launcher and the logging provider of a private lattice: after a known number of
//! requests the counts equal what the requests did, `neon status` shows the live rate and
//! `neon logs --request` exactly that request's records, and while the provider is frozen the
//! failed requests are counted as errors and the provider's target is down.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use futures::future::join_all;
use neon_lattice_tests::deploy::deploy_wiring;
use neon_ops::prometheus::{Prometheus, Target};
use neon_ops::{Lattice, Wiring};

/// How the host names the provider's process (after its archive).
const LOGGING_PROVIDER: &str = "neon_logging_provider_par_gz";
const REQUESTS: usize = 40;
/// Requests sent while the provider is frozen; each fails after the host's call timeout.
const FROZEN_REQUESTS: usize = 3;
const SCRAPE_EVERY: Duration = Duration::from_millis(500);

/// The gateway's invocations: the one component every request enters.
const GATEWAY_INVOCATIONS: &str =
    r#"sum(wasmcloud_host_component_invocations_total{component_ref=~".*gateway.*"})"#;
const GATEWAY_ERRORS: &str =
    r#"sum(wasmcloud_host_component_invocation_errors_total{component_ref=~".*gateway.*"})"#;
const LOGGER_INVOCATIONS: &str =
    r#"sum(wasmcloud_host_component_invocations_total{component_ref=~".*logger.*"})"#;
const RECORDS_WRITTEN: &str = r#"sum(neon_logging_records_written_total{sink="file"})"#;
const PROVIDER_UP: &str = r#"up{job="provider"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_counts_what_the_requests_did() -> Result<()> {
    let lattice = Lattice::start("metrics").await?;
    let (rendered, client) = deploy_wiring(&lattice, Wiring::Linked, "neon-metrics").await?;
    let provider_port = rendered
        .provider_metrics_port
        .context("the rendered manifest gives the provider no metrics port")?;
    let prometheus = Prometheus::start(
        &lattice.work_dir().join("prometheus"),
        &[
            Target {
                job: "host",
                port: lattice.metrics_port,
            },
            Target {
                job: "provider",
                port: provider_port,
            },
        ],
        SCRAPE_EVERY,
    )
    .await?;
    let limit = Duration::from_secs(30);
    let up = prometheus
        .value_when(r#"sum(up{job=~"host|provider"})"#, limit, |v| v == 2.0)
        .await?;
    ensure!(up == 2.0, "host and provider scraped: {up} of 2 up");

    // Counters only grow: the figures are differences across the requests, once settled.
    let before = figures(&prometheus).await?;
    for n in 0..REQUESTS {
        client.process_checked(&format!("counted {n}")).await?;
    }
    let expected_gateway = before.gateway + REQUESTS as f64;
    prometheus
        .value_when(GATEWAY_INVOCATIONS, limit, |v| v >= expected_gateway)
        .await?;
    let expected_records = before.records + 2.0 * REQUESTS as f64;
    prometheus
        .value_when(RECORDS_WRITTEN, limit, |v| v >= expected_records)
        .await?;
    // One more scrape, so that nothing counted late is missed.
    tokio::time::sleep(2 * SCRAPE_EVERY).await;
    let after = figures(&prometheus).await?;
    let counted = Figures {
        gateway: after.gateway - before.gateway,
        gateway_errors: after.gateway_errors - before.gateway_errors,
        logger: after.logger - before.logger,
        records: after.records - before.records,
    };
    eprintln!("{REQUESTS} requests, counted by Prometheus: {counted:?}");
    let n = REQUESTS as f64;
    ensure!(
        counted.gateway == n && counted.logger == 2.0 * n && counted.records == 2.0 * n,
        "{REQUESTS} requests (each: 1 gateway call, 2 logger calls, 2 records), Prometheus counted {counted:?}"
    );
    ensure!(
        counted.gateway_errors == 0.0,
        "errors counted for requests that all succeeded: {counted:?}"
    );

    // What a user reads: `neon status` from this Prometheus, `neon logs` for one request.
    let status = neon(&[
        "status",
        "--nats-port",
        &lattice.nats_port.to_string(),
        "--lattice",
        &lattice.name,
        "--prometheus-port",
        &prometheus.port.to_string(),
    ])?;
    let gateway_line = status
        .lines()
        .find(|l| l.contains("gateway") && l.contains("calls/s"))
        .with_context(|| format!("neon status shows no gateway:\n{status}"))?;
    let calls: f64 = gateway_line
        .split_whitespace()
        .zip(gateway_line.split_whitespace().skip(1))
        .find(|(_, unit)| *unit == "calls/s")
        .and_then(|(n, _)| n.parse().ok())
        .with_context(|| format!("no calls/s figure in {gateway_line:?}"))?;
    ensure!(
        calls > 0.0
            && status
                .lines()
                .any(|l| l.ends_with(" healthy") && !l.ends_with("not healthy")),
        "neon status after {REQUESTS} requests:\n{status}"
    );
    let id = "metrics-follow-me";
    client
        .process_with_headers("follow me", &[("x-request-id", id)])
        .await?
        .expect(200, Some("FOLLOW ME"), "the followed request")?;
    let logs = neon(&[
        "logs",
        "--file",
        &rendered.log_file.display().to_string(),
        "--request",
        id,
    ])?;
    let shown: Vec<&str> = logs.lines().collect();
    ensure!(
        shown.len() == 2
            && shown[0].contains("Initiating data sequence...")
            && shown[1].contains("Sequence complete.")
            && shown.iter().all(|l| l.ends_with(&format!("[{id}]"))),
        "neon logs --request {id}:\n{logs}"
    );

    // The provider frozen: its target goes down, and each request that needed it is an error.
    lattice.signal(LOGGING_PROVIDER, "-STOP")?;
    let frozen = async {
        let replies =
            join_all((0..FROZEN_REQUESTS).map(|n| client.post("/process", format!("frozen {n}"))))
                .await;
        let failed = replies
            .iter()
            .filter(|r| r.as_ref().map_or(true, |r| r.status != 200))
            .count();
        let provider_up = prometheus
            .value_when(PROVIDER_UP, limit, |v| v == 0.0)
            .await;
        (failed, provider_up)
    }
    .await;
    lattice.signal(LOGGING_PROVIDER, "-CONT")?;
    let (failed, provider_up) = frozen;
    ensure!(
        failed == FROZEN_REQUESTS,
        "{failed} of {FROZEN_REQUESTS} requests failed while the provider was frozen"
    );
    ensure!(
        provider_up? == 0.0,
        "the frozen provider's target stayed up"
    );
    let expected_errors = after.gateway_errors + FROZEN_REQUESTS as f64;
    let errors = prometheus
        .value_when(GATEWAY_ERRORS, limit, |v| v >= expected_errors)
        .await?;
    ensure!(
        errors - after.gateway_errors == FROZEN_REQUESTS as f64,
        "{FROZEN_REQUESTS} failed requests, {} gateway errors counted",
        errors - after.gateway_errors
    );
    let up = prometheus
        .value_when(PROVIDER_UP, limit, |v| v == 1.0)
        .await?;
    ensure!(up == 1.0, "the thawed provider's target is not up again");
    client
        .wait_ready(Duration::from_secs(30))
        .await
        .context("after the provider was thawed")?;
    Ok(())
}

#[derive(Debug)]
struct Figures {
    gateway: f64,
    gateway_errors: f64,
    logger: f64,
    records: f64,
}

async fn figures(prometheus: &Prometheus) -> Result<Figures> {
    Ok(Figures {
        gateway: prometheus.value(GATEWAY_INVOCATIONS).await?,
        gateway_errors: prometheus.value(GATEWAY_ERRORS).await?,
        logger: prometheus.value(LOGGER_INVOCATIONS).await?,
        records: prometheus.value(RECORDS_WRITTEN).await?,
    })
}

/// Runs the `neon` command set-up built; its standard output, or an error with both outputs.
fn neon(args: &[&str]) -> Result<String> {
    let binary = neon_ops::paths::target_dir().join("release/neon");
    let out = std::process::Command::new(&binary)
        .args(args)
        .output()
        .with_context(|| format!("running {} (scripts/setup.sh builds it)", binary.display()))?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    ensure!(
        out.status.success(),
        "neon {}: {}\n{stdout}{stderr}",
        args.join(" "),
        out.status
    );
    Ok(stdout + &stderr)
}
