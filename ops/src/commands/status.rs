//! `neon status`: the lattice at a glance. Hosts, apps and their versions, components with
//! their instances, providers and links from the control interface and wadm; per component the
//! invocations/s, errors/s and p50/p99 over the last minute, and the logging provider's records
//! and failed writes, from the Prometheus `neon up` runs beside the lattice. Whatever is not
//! healthy gets a line of its own at the end.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use neon_ops::ctl::Inventory;
use neon_ops::prometheus::query_vector;
use neon_ops::say::{info, step, warn};
use neon_ops::Ctl;

#[derive(clap::Args)]
pub struct Args {
    /// The lattice's NATS port.
    #[arg(long, env = "NEON_NATS_PORT", default_value_t = 4222)]
    nats_port: u16,
    /// The lattice's name (wash's default: "default").
    #[arg(long, env = "NEON_LATTICE")]
    lattice: Option<String>,
    /// The Prometheus that scrapes the lattice (the one `neon up` starts).
    #[arg(long, env = "NEON_PROMETHEUS_PORT", default_value_t = 9090)]
    prometheus_port: u16,
}

/// The window rates and quantiles are taken over.
const WINDOW: &str = "1m";

pub async fn run(args: Args) -> Result<()> {
    let ctl = Ctl::new(args.nats_port, args.lattice.clone());
    let mut unhealthy = Vec::new();

    let hosts = ctl.hosts().await?;
    step(&format!(
        "lattice {} on 127.0.0.1:{}: {} host(s)",
        args.lattice.as_deref().unwrap_or("default"),
        args.nats_port,
        hosts.len()
    ));
    if hosts.is_empty() {
        unhealthy.push("no host answers: scripts/up.sh starts one".to_string());
    }
    for host in &hosts {
        info(&format!("{} (wasmCloud {})", host.id, host.version));
    }

    step("apps");
    let apps = ctl.apps().await.unwrap_or_else(|e| {
        unhealthy.push(format!("wadm does not answer: {e:#}"));
        Vec::new()
    });
    for app in &apps {
        let version = app.deployed_version.as_deref().unwrap_or("not deployed");
        info(&format!("{:<28} {version:<20} {}", app.name, app.status));
        if app.deployed_version.is_some() && app.status != "deployed" {
            unhealthy.push(format!(
                "app {} is {}: {}",
                app.name, app.status, app.message
            ));
        }
    }

    let inventories = ctl.inventories().await?;
    let figures = Figures::read(args.prometheus_port).await;
    if let Err(why) = &figures {
        unhealthy.push(why.clone());
    }
    let figures = figures.unwrap_or_default();

    step(&format!(
        "components (per second and latency over the last {WINDOW})"
    ));
    for (host, component) in components(&inventories) {
        let rate = figures.by_ref("invocations", &component.image_ref);
        // A component that never failed has no error series: none is zero.
        let errors = figures
            .by_ref("errors", &component.image_ref)
            .or(rate.map(|_| 0.0));
        let p50 = figures.by_ref("p50", &component.image_ref);
        let p99 = figures.by_ref("p99", &component.image_ref);
        info(&format!(
            "{:<28} max {:>4} instances  {:>9} calls/s  {:>7} errors/s  p50 {:>9}  p99 {:>9}  on {}",
            component.id,
            component.max_instances.unwrap_or_default(),
            number(rate),
            number(errors),
            millis(p50),
            millis(p99),
            short(host)
        ));
        if errors.is_some_and(|e| e > 0.0) {
            unhealthy.push(format!(
                "component {} fails {} calls/s",
                component.id,
                number(errors)
            ));
        }
    }

    step("providers");
    for inventory in &inventories {
        for provider in &inventory.providers {
            info(&format!(
                "{:<28} on {}",
                provider.id,
                short(&inventory.host_id)
            ));
        }
    }
    if let Some(records) = figures.single("records") {
        let failures = figures.single("write_failures").unwrap_or(0.0);
        info(&format!(
            "logging provider: {} records/s written, {} failed writes/s, write p99 {}",
            number(Some(records)),
            number(Some(failures)),
            seconds_as_millis(figures.single("write_p99"))
        ));
        if failures > 0.0 {
            unhealthy.push("the logging provider's sinks are failing writes".into());
        }
    }
    for (job, up) in &figures.targets {
        if *up < 1.0 {
            unhealthy.push(format!("Prometheus cannot scrape the {job}'s metrics"));
        }
    }

    step("links");
    match ctl.links().await {
        Ok(links) => {
            for link in links {
                info(&format!(
                    "{} -> {}  {} ({})",
                    link.source, link.target, link.interfaces, link.name
                ));
            }
        }
        Err(e) => unhealthy.push(format!("links unknown: {e:#}")),
    }

    if unhealthy.is_empty() {
        step("healthy");
    } else {
        step("not healthy");
        for line in &unhealthy {
            warn(line);
        }
    }
    Ok(())
}

/// What Prometheus says about the last minute, by component image (the host's metrics name a
/// component by where it was loaded from).
#[derive(Default)]
struct Figures {
    by_component: HashMap<(&'static str, String), f64>,
    single: HashMap<&'static str, f64>,
    targets: Vec<(String, f64)>,
}

impl Figures {
    async fn read(port: u16) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let per_component = [
            (
                "invocations",
                format!("sum by (component_ref) (rate(wasmcloud_host_component_invocations_total[{WINDOW}]))"),
            ),
            (
                "errors",
                format!("sum by (component_ref) (rate(wasmcloud_host_component_invocation_errors_total[{WINDOW}]))"),
            ),
            ("p50", quantile(0.5)),
            ("p99", quantile(0.99)),
        ];
        let mut figures = Figures::default();
        for (what, promql) in per_component {
            let vector = query_vector(&http, port, &promql).await.map_err(|e| {
                format!("no metrics: {e:#} (scripts/up.sh starts a Prometheus beside the lattice it starts)")
            })?;
            for (labels, value) in vector {
                let image = labels["component_ref"].as_str().unwrap_or_default();
                figures
                    .by_component
                    .insert((what, image.to_string()), value);
            }
        }
        let single = [
            (
                "records",
                format!("sum(rate(neon_logging_records_written_total[{WINDOW}]))"),
            ),
            (
                "write_failures",
                format!("sum(rate(neon_logging_write_failures_total[{WINDOW}]))"),
            ),
            (
                "write_p99",
                format!("histogram_quantile(0.99, sum by (le) (rate(neon_logging_write_seconds_bucket[{WINDOW}])))"),
            ),
        ];
        for (what, promql) in single {
            if let Ok(vector) = query_vector(&http, port, &promql).await {
                if let Some((_, value)) = vector.first() {
                    figures.single.insert(what, *value);
                }
            }
        }
        if let Ok(vector) = query_vector(&http, port, "up").await {
            figures.targets = vector
                .into_iter()
                .map(|(labels, up)| (labels["job"].as_str().unwrap_or("?").to_string(), up))
                .collect();
        }
        Ok(figures)
    }

    /// A figure of the component loaded from `image` (the host names it with a `file://` URL
    /// where the inventory may name the bare path).
    fn by_ref(&self, what: &'static str, image: &str) -> Option<f64> {
        self.by_component
            .iter()
            .find(|((w, r), _)| *w == what && (r == image || r.ends_with(image)))
            .map(|(_, v)| *v)
            .filter(|v| v.is_finite())
    }

    fn single(&self, what: &'static str) -> Option<f64> {
        self.single.get(what).copied().filter(|v| v.is_finite())
    }
}

/// A quantile of component call durations (the host records nanoseconds).
fn quantile(q: f64) -> String {
    format!(
        "histogram_quantile({q}, sum by (component_ref, le) (rate(wasmcloud_host_handle_rpc_message_duration_bucket[{WINDOW}])))"
    )
}

fn components(inventories: &[Inventory]) -> Vec<(&str, &neon_ops::ctl::Running)> {
    inventories
        .iter()
        .flat_map(|i| i.components.iter().map(move |c| (i.host_id.as_str(), c)))
        .collect()
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

fn millis(nanos: Option<f64>) -> String {
    nanos.map_or_else(|| "-".into(), |n| format!("{:.2} ms", n / 1e6))
}

fn seconds_as_millis(seconds: Option<f64>) -> String {
    millis(seconds.map(|s| s * 1e9))
}

/// The first characters of a host id, enough to tell hosts apart.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
