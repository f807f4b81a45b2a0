//! `neon up`: what scripts/up.sh promises after set-up. Uses the lattice already running on the
//! NATS port (or starts one with `wash up -d`), deploys the manifest, waits until the app is
//! Deployed, sends a sample request and shows the log records it produced.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use neon_ops::auth::Auth;
use neon_ops::load::Client;
use neon_ops::manifest::Draft;
use neon_ops::paths::cache_dir;
use neon_ops::prometheus::{self, Target};
use neon_ops::say::{info, step, warn};
use neon_ops::{net, platform, policy, repo_root, wait, Ctl};

#[derive(clap::Args)]
pub struct Args {
    /// The manifest to deploy (default: wadm.yaml, the linked wiring).
    manifest: Option<PathBuf>,
    /// The local lattice's NATS port.
    #[arg(long, env = "NEON_NATS_PORT", default_value_t = 4222)]
    nats_port: u16,
    /// The lattice's name (wash's default: "default").
    #[arg(long, env = "NEON_LATTICE")]
    lattice: Option<String>,
    /// Where the logging provider's file sinks write (its `state_dir`).
    #[arg(long, env = "NEON_LOG_DIR", default_value = "/tmp/neon-logs")]
    log_dir: PathBuf,
    #[command(flatten)]
    metrics: MetricsArgs,
}

/// Where the lattice's metrics are served and watched (when `neon up` starts the lattice).
#[derive(clap::Args)]
pub struct MetricsArgs {
    /// The host's Prometheus metrics port on 127.0.0.1.
    #[arg(long, env = "NEON_METRICS_PORT", default_value_t = 9464)]
    pub metrics_port: u16,
    /// The port of the Prometheus that scrapes the host and the logging provider (what
    /// `neon status` asks).
    #[arg(long, env = "NEON_PROMETHEUS_PORT", default_value_t = 9090)]
    pub prometheus_port: u16,
}

/// How often the lattice's Prometheus scrapes.
const SCRAPE_EVERY: Duration = Duration::from_secs(5);

pub async fn run(args: Args) -> Result<()> {
    let manifest = match args.manifest {
        Some(path) => manifest_path(&path)?,
        None => repo_root().join("wadm.yaml"),
    };
    let mut draft = Draft::load(&manifest)?;
    let address = draft.config_value("address")?;
    let log_file = draft
        .config_value("file_path")
        .ok()
        .map(|file| args.log_dir.join(file));
    let rendered = draft.absolute_images()?.render(None)?;
    let (app, version) = (&rendered.app, &rendered.version);
    let auth = Auth::ensure()?;
    let mut ctl = Ctl::new(args.nats_port, args.lattice.clone()).with_progress();
    for (key, value) in auth.wash_up_env() {
        ctl = ctl.with_env(key, &value);
    }

    step(&format!("lattice on 127.0.0.1:{}", args.nats_port));
    let started_here = !ctl.hosts().await.is_ok_and(|hosts| !hosts.is_empty());
    if !started_here {
        info("already running, using it");
        if admits_anyone(args.nats_port).await {
            warn("its NATS admits clients without credentials (it was not started by this version of scripts/up.sh): scripts/down.sh, then scripts/up.sh, to run it authenticated");
        }
    } else {
        net::ensure_ports_free(
            &[args.nats_port],
            ", which is not a wasmCloud lattice. Stop it, or run NEON_NATS_PORT=<port> scripts/up.sh",
        )?;
        let port = args.nats_port.to_string();
        let mut up = vec!["up".to_string(), "-d".into(), "--nats-port".into(), port];
        if let Some(lattice) = &args.lattice {
            up.extend(["--lattice".to_string(), lattice.clone()]);
        }
        let lattice_dir = cache_dir().join("lattice");
        std::fs::create_dir_all(&lattice_dir)?;
        let config = lattice_dir.join(format!("nats-{}.conf", args.nats_port));
        let store = std::env::temp_dir().join(format!("neon-jetstream-{}", args.nats_port));
        up.extend(auth.wash_up_flags(&config, &store, None)?);
        up.extend(["--policy-topic".to_string(), policy::TOPIC.to_string()]);
        up.extend(platform::wash_up_flags());
        let metrics_addr = format!("127.0.0.1:{}", args.metrics.metrics_port);
        ctl = ctl.with_env("NEON_METRICS_ADDR", &metrics_addr);
        info(&format!(
            "NEON_METRICS_ADDR={metrics_addr} wash {}",
            up.join(" ")
        ));
        let up: Vec<&str> = up.iter().map(String::as_str).collect();
        ctl.wash(&up, Duration::from_secs(120)).await?;
        ctl.wait_for_hosts(1, Duration::from_secs(60)).await?;
    }
    let decisions = policy::start_detached(args.nats_port, &cache_dir().join("lattice"))?;
    info(&format!(
        "policy service: only code signed by Neon's issuer runs (decisions in {})",
        decisions.display()
    ));

    let shown = manifest.strip_prefix(repo_root()).unwrap_or(&manifest);
    step(&format!("deploy {app} {version} from {}", shown.display()));
    let deployed = ctl.deployed_version(app).await?;
    if deployed.as_deref() == Some(version.as_str()) {
        info(&format!("{app} {version} is already deployed"));
    } else {
        // A deployed version of this app owns the HTTP port itself: a new one replaces it.
        if deployed.is_none() {
            if let Some(port) = address.rsplit(':').next().and_then(|p| p.parse().ok()) {
                net::ensure_ports_free(&[port], ". Free it or change the address in the manifest")?;
            }
        }
        let dir = cache_dir().join("manifests");
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{app}-{version}.yaml"));
        std::fs::write(&file, &rendered.yaml)
            .with_context(|| format!("writing {}", file.display()))?;
        ctl.deploy_file(&file, &rendered, Duration::from_secs(180))
            .await
            .with_context(|| format!("see: wash app status {app}"))?;
        info("deployed");
    }

    if started_here {
        watch(&args.metrics, rendered.provider_metrics_port).await;
    }

    step("sample request");
    let before = log_file.as_deref().map(line_count).unwrap_or(0);
    // Retried until it answers 200: right after a deploy the HTTP listener may restart once,
    // and a component that has only just started may not be listening on the lattice yet.
    let client = Client::at(&address, Duration::from_secs(10))?;
    let reply = wait::until(
        &format!("a 200 from http://{address}/process"),
        Duration::from_secs(30),
        Duration::from_secs(1),
        || async {
            let reply = client.post("/process", "hello from neon").await?;
            match reply.status {
                200 => Ok(reply),
                status => bail!("{} [{status}]", reply.body.trim_end()),
            }
        },
    )
    .await
    .with_context(|| format!("see: wash app status {app}"))?;
    info(&format!(
        "POST /process 'hello from neon' -> {} [{}]",
        reply.body, reply.status
    ));
    if let Some(log_file) = &log_file {
        let _ = wait::until_blocking(
            "a new record",
            Duration::from_secs(10),
            Duration::from_millis(200),
            || match line_count(log_file) > before {
                true => Ok(()),
                false => bail!("none yet"),
            },
        );
        info(&format!(
            "log records it produced ({}):",
            log_file.display()
        ));
        let text = std::fs::read_to_string(log_file).unwrap_or_default();
        for line in text.lines().skip(before) {
            info(&format!("  {line}"));
        }
    }

    let scripts = repo_root().join("scripts");
    let logs = log_file
        .map(|f| {
            format!(
                "{} --follow   (one request: --request <its x-request-id>; the file: {})",
                scripts.join("logs.sh").display(),
                f.display()
            )
        })
        .unwrap_or_else(|| "in the sinks the manifest names".to_string());
    eprintln!(
        "
Neon is up ({app} {version}).
  try it:    curl -i -X POST --data 'hello' http://{address}/process   (its x-request-id names its records)
  health:    curl http://{address}/healthz
  logs:      {logs}
  status:    {}   (hosts, apps, calls/s, errors, p50/p99, links)
  wash:      . {}   then: wash app status {app}   (wash as the lattice's operator)
  stop:      {}   (undeploys and runs wash down)",
        scripts.join("status.sh").display(),
        auth.operator_env().display(),
        scripts.join("down.sh").display()
    );
    Ok(())
}

/// A manifest named on the command line: from the caller's directory, or else from the
/// checkout's (`manifests/direct.wadm.yaml` works wherever the script is run from).
fn manifest_path(path: &Path) -> Result<PathBuf> {
    let from_cwd = std::path::absolute(path)?;
    if from_cwd.exists() || path.is_absolute() {
        return Ok(from_cwd);
    }
    let from_root = repo_root().join(path);
    if !from_root.exists() {
        bail!(
            "no manifest {} (looked in {} and in the checkout {})",
            path.display(),
            std::env::current_dir()?.display(),
            repo_root().display()
        );
    }
    Ok(from_root)
}

/// True when a client without credentials gets in.
async fn admits_anyone(port: u16) -> bool {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(format!("127.0.0.1:{port}"))
        .await
        .is_ok()
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

/// A Prometheus beside the lattice `neon up` started, scraping the host and the logging
/// provider; a lattice without one still runs, so a failure here is a warning.
async fn watch(metrics: &MetricsArgs, provider_port: Option<u16>) {
    step(&format!(
        "prometheus on 127.0.0.1:{} (what neon status reads)",
        metrics.prometheus_port
    ));
    let mut targets = vec![Target {
        job: "host",
        port: metrics.metrics_port,
    }];
    targets.extend(provider_port.map(|port| Target {
        job: "provider",
        port,
    }));
    let dir = cache_dir().join("lattice").join("prometheus");
    match prometheus::start_detached(&dir, &targets, SCRAPE_EVERY, metrics.prometheus_port).await {
        Ok(()) => info(&format!(
            "scraping {} every {SCRAPE_EVERY:?} (files in {})",
            targets
                .iter()
                .map(|t| format!("{} 127.0.0.1:{}", t.job, t.port))
                .collect::<Vec<_>>()
                .join(", "),
            dir.display()
        )),
        Err(e) => warn(&format!("{e:#}; the lattice runs unwatched")),
    }
}
