//! `wasmcloud_host`: the wasmCloud 1.9 host, built from crate `wasmcloud-host` 0.27.1.
//!
//! No package registry ships the host binary, so this launcher stands in for the official
//! `wasmcloud` 1.9 one: it accepts the same flags and `WASMCLOUD_*` variables for everything
//! `wash up` passes (wash 0.43 configures the host through the environment only), reports
//! version 1.9.1 (wadm refuses older hosts), and stops gracefully on SIGINT/SIGTERM.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use clap::Parser;
use nkeys::KeyPair;
use tokio::signal::unix::{signal, SignalKind};
use tracing::{debug, Level};
use wasmcloud_core::logging::Level as HostLogLevel;
use wasmcloud_core::OtelConfig;
use wasmcloud_host::oci::Config as OciConfig;
use wasmcloud_host::url::Url;
use wasmcloud_host::wasmbus::host_config::PolicyService;
use wasmcloud_host::wasmbus::{Features, Host};
use wasmcloud_host::WasmbusHostConfig;

mod allocator;
mod http_body;
mod link_redelivery;
mod metrics;
mod recycling;

/// What the host reports to the lattice and on `--version`: this package's version.
const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Upper bound on a shutdown the host did not give a deadline for (as upstream).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Durations are given in milliseconds on the command line, as upstream.
fn millis(arg: &str) -> anyhow::Result<Duration> {
    Ok(Duration::from_millis(arg.parse()?))
}

fn secs(arg: &str) -> anyhow::Result<Duration> {
    Ok(Duration::from_secs(arg.parse()?))
}

/// The wasmCloud host (1.9.1, library wasmcloud-host 0.27.1). Flags fall back to `WASMCLOUD_*`.
#[derive(Debug, Parser)]
#[command(name = "wasmcloud", version, about)]
#[allow(clippy::struct_excessive_bools)]
struct Args {
    /// Log level of the host and of the providers it starts
    #[arg(long, alias = "structured-log-level", env = "WASMCLOUD_LOG_LEVEL", default_value_t = Level::INFO)]
    log_level: Level,
    /// Emit logs as JSON
    #[arg(long, env = "WASMCLOUD_STRUCTURED_LOGGING_ENABLED")]
    enable_structured_logging: bool,

    /// NATS server host (ctl and rpc connections fall back to it)
    #[arg(long, env = "WASMCLOUD_NATS_HOST", default_value = "127.0.0.1")]
    nats_host: String,
    /// NATS server port (ctl and rpc connections fall back to it)
    #[arg(long, env = "WASMCLOUD_NATS_PORT", default_value_t = 4222)]
    nats_port: u16,
    /// NATS user JWT (with --nats-seed)
    #[arg(
        long,
        env = "WASMCLOUD_NATS_JWT",
        requires = "nats_seed",
        conflicts_with = "nats_creds"
    )]
    nats_jwt: Option<String>,
    /// NATS user seed nkey (with --nats-jwt)
    #[arg(
        long,
        env = "WASMCLOUD_NATS_SEED",
        requires = "nats_jwt",
        conflicts_with = "nats_creds"
    )]
    nats_seed: Option<String>,
    /// NATS credentials file holding a JWT and a seed
    #[arg(long, env = "WASMCLOUD_NATS_CREDS")]
    nats_creds: Option<PathBuf>,

    /// Lattice the host joins
    #[arg(
        short = 'x',
        long,
        env = "WASMCLOUD_LATTICE",
        default_value = "default"
    )]
    lattice: String,
    /// Server seed nkey the host identity is derived from (random if absent)
    #[arg(long, env = "WASMCLOUD_HOST_SEED")]
    host_seed: Option<String>,
    /// Accepted for compatibility with wash; wasmCloud 1.x no longer signs invocations
    #[arg(long, env = "WASMCLOUD_CLUSTER_SEED", hide = true)]
    cluster_seed: Option<String>,
    /// Accepted for compatibility with wash; wasmCloud 1.x no longer signs invocations
    #[arg(
        long,
        env = "WASMCLOUD_CLUSTER_ISSUERS",
        value_delimiter = ',',
        hide = true
    )]
    cluster_issuers: Option<Vec<String>>,
    /// Host label `key=value`, repeatable; `WASMCLOUD_LABEL_<key>=<value>` works too
    #[arg(short = 'l', long = "label")]
    labels: Vec<String>,

    /// Control interface NATS host [default: --nats-host]
    #[arg(long, env = "WASMCLOUD_CTL_HOST")]
    ctl_host: Option<String>,
    /// Control interface NATS port [default: --nats-port]
    #[arg(long, env = "WASMCLOUD_CTL_PORT")]
    ctl_port: Option<u16>,
    #[arg(
        long,
        env = "WASMCLOUD_CTL_JWT",
        requires = "ctl_seed",
        conflicts_with = "ctl_creds",
        hide = true
    )]
    ctl_jwt: Option<String>,
    #[arg(
        long,
        env = "WASMCLOUD_CTL_SEED",
        requires = "ctl_jwt",
        conflicts_with = "ctl_creds",
        hide = true
    )]
    ctl_seed: Option<String>,
    #[arg(long, env = "WASMCLOUD_CTL_CREDS", hide = true)]
    ctl_creds: Option<PathBuf>,
    #[arg(long, env = "WASMCLOUD_CTL_TLS", hide = true)]
    ctl_tls: bool,
    #[arg(
        long,
        env = "WASMCLOUD_CTL_TOPIC_PREFIX",
        default_value = "wasmbus.ctl",
        hide = true
    )]
    ctl_topic_prefix: String,

    /// RPC NATS host [default: --nats-host]
    #[arg(long, env = "WASMCLOUD_RPC_HOST")]
    rpc_host: Option<String>,
    /// RPC NATS port [default: --nats-port]
    #[arg(long, env = "WASMCLOUD_RPC_PORT")]
    rpc_port: Option<u16>,
    #[arg(
        long,
        env = "WASMCLOUD_RPC_JWT",
        requires = "rpc_seed",
        conflicts_with = "rpc_creds",
        hide = true
    )]
    rpc_jwt: Option<String>,
    #[arg(
        long,
        env = "WASMCLOUD_RPC_SEED",
        requires = "rpc_jwt",
        conflicts_with = "rpc_creds",
        hide = true
    )]
    rpc_seed: Option<String>,
    #[arg(long, env = "WASMCLOUD_RPC_CREDS", hide = true)]
    rpc_creds: Option<PathBuf>,
    #[arg(long, env = "WASMCLOUD_RPC_TLS", hide = true)]
    rpc_tls: bool,
    /// Timeout of every RPC call, in ms
    #[arg(long = "rpc-timeout-ms", env = "WASMCLOUD_RPC_TIMEOUT_MS", default_value = "2000", value_parser = millis)]
    rpc_timeout: Duration,

    /// JetStream domain
    #[arg(long, alias = "wasmcloud-js-domain", env = "WASMCLOUD_JS_DOMAIN")]
    js_domain: Option<String>,
    /// Allow starting components and providers from `file://` references
    #[arg(long, env = "WASMCLOUD_ALLOW_FILE_LOAD")]
    allow_file_load: bool,
    /// Ask a config service for supplemental configuration at start
    #[arg(long, env = "WASMCLOUD_CONFIG_SERVICE")]
    config_service_enabled: bool,
    /// Accepted for compatibility with wash (which may pass it); has no effect
    #[arg(long, env = "WASMCLOUD_ENABLE_IPV6", hide = true)]
    enable_ipv6: bool,
    /// Delay between asking a provider to stop and killing it, in ms
    #[arg(long = "provider-shutdown-delay-ms", alias = "provider-shutdown-delay", env = "WASMCLOUD_PROV_SHUTDOWN_DELAY_MS", default_value = "300", value_parser = millis)]
    provider_shutdown_delay: Duration,
    /// Maximum execution time of one component invocation, in ms; also bounds the component's
    /// outgoing calls. When it fires, the invocation fails and its instance slot comes back.
    /// The host's deadline ticks once a second, so below ~3 s it can fire almost at once.
    #[arg(long = "max-execution-time-ms", env = "WASMCLOUD_MAX_EXECUTION_TIME_MS", default_value = "5000", value_parser = millis)]
    max_execution_time: Duration,
    /// How long a component that is stopped or replaced keeps taking invocations, in ms, before
    /// it drains (finishes what it was given) and goes: time for its replacement to start, so a
    /// rollout fails no call. 0 drains at once.
    #[arg(long = "component-handover-ms", env = "WASMCLOUD_COMPONENT_HANDOVER_MS", default_value = "2000", value_parser = millis)]
    component_handover: Duration,
    #[command(flatten)]
    recycling: recycling::RecyclingArgs,
    #[command(flatten)]
    http_body: http_body::HttpBodyArgs,
    #[command(flatten)]
    metrics: metrics::MetricsArgs,
    #[arg(long = "max-linear-memory-bytes", env = "WASMCLOUD_MAX_LINEAR_MEMORY", default_value_t = 256 << 20)]
    max_linear_memory: u32,
    #[arg(long = "max-component-size-bytes", env = "WASMCLOUD_MAX_COMPONENT_SIZE", default_value_t = 50 << 20)]
    max_component_size: u64,
    #[arg(long, env = "WASMCLOUD_MAX_COMPONENTS", default_value_t = 10_000)]
    max_components: u32,
    #[arg(
        long,
        env = "WASMCLOUD_MAX_CORE_INSTANCES_PER_COMPONENT",
        default_value_t = 30
    )]
    max_core_instances_per_component: u32,
    #[arg(long = "heartbeat-interval-seconds", env = "WASMCLOUD_HEARTBEAT_INTERVAL", value_parser = secs, hide = true)]
    heartbeat_interval: Option<Duration>,

    /// Subject on which to ask for policy decisions
    #[arg(long, env = "WASMCLOUD_POLICY_TOPIC")]
    policy_topic: Option<String>,
    #[arg(
        long,
        env = "WASMCLOUD_POLICY_CHANGES_TOPIC",
        requires = "policy_topic"
    )]
    policy_changes_topic: Option<String>,
    #[arg(long = "policy-timeout-ms", env = "WASMCLOUD_POLICY_TIMEOUT", requires = "policy_topic", value_parser = millis)]
    policy_timeout: Option<Duration>,
    /// Subject prefix of the secrets backend
    #[arg(long = "secrets-topic", env = "WASMCLOUD_SECRETS_TOPIC")]
    secrets_topic_prefix: Option<String>,

    #[arg(long, env = "WASMCLOUD_OCI_ALLOW_LATEST")]
    allow_latest: bool,
    #[arg(long, env = "WASMCLOUD_OCI_ALLOWED_INSECURE", value_delimiter = ',')]
    allowed_insecure: Vec<String>,
    #[arg(long, env = "WASMCLOUD_OCI_REGISTRY", requires_all = ["oci_user", "oci_password"])]
    oci_registry: Option<String>,
    #[arg(long, env = "WASMCLOUD_OCI_REGISTRY_USER", requires = "oci_registry")]
    oci_user: Option<String>,
    #[arg(
        long,
        env = "WASMCLOUD_OCI_REGISTRY_PASSWORD",
        requires = "oci_registry"
    )]
    oci_password: Option<String>,

    /// Experimental host features, e.g. `builtin-messaging-nats` (repeatable, comma-separated).
    /// `builtin-http-server` is always on: Neon's manifests serve HTTP from it.
    #[arg(
        long = "feature",
        env = "WASMCLOUD_EXPERIMENTAL_FEATURES",
        value_delimiter = ','
    )]
    features: Vec<Features>,
    /// Address of the HTTP admin endpoint (health checks)
    #[arg(long, env = "WASMCLOUD_HTTP_ADMIN")]
    http_admin: Option<SocketAddr>,
    /// Take part in component auctions (wadm places components through them)
    #[arg(long, env = "WASMCLOUD_COMPONENT_AUCTION_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    enable_component_auction: bool,
    /// Take part in provider auctions (wadm places providers through them)
    #[arg(long, env = "WASMCLOUD_PROVIDER_AUCTION_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    enable_provider_auction: bool,
}

/// NATS user credentials: a JWT and the key pair that signs with it.
type Creds = (Option<String>, Option<Arc<KeyPair>>);

/// Credentials from a creds file, or from a JWT and seed pair, or none.
fn nats_creds(
    file: Option<&Path>,
    jwt: Option<String>,
    seed: Option<String>,
) -> anyhow::Result<Creds> {
    let (jwt, seed) = match (file, jwt, seed) {
        (Some(file), _, _) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("failed to read NATS credentials {}", file.display()))?;
            let jwt = creds_block(&text, "NATS USER JWT").context("no JWT in NATS credentials")?;
            let seed =
                creds_block(&text, "USER NKEY SEED").context("no seed in NATS credentials")?;
            (jwt.to_string(), seed.to_string())
        }
        (None, Some(jwt), Some(seed)) => (jwt, seed),
        _ => return Ok((None, None)),
    };
    let key = KeyPair::from_seed(&seed).context("invalid NATS seed")?;
    Ok((Some(jwt), Some(Arc::new(key))))
}

/// The first non-empty line after `-----BEGIN <what>-----` in a NATS creds file.
fn creds_block<'a>(text: &'a str, what: &str) -> Option<&'a str> {
    let begin = format!("BEGIN {what}");
    let lines = text.lines().skip_while(|l| !l.contains(&begin)).skip(1);
    lines
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("---"))
}

/// A NATS subject we publish to: dot-separated tokens of `[A-Za-z0-9_-]`, no wildcards.
fn check_subject(what: &str, subject: &str) -> anyhow::Result<()> {
    let token_ok = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    ensure!(
        subject.split('.').all(token_ok),
        "invalid {what} `{subject}`: not a plain NATS subject"
    );
    Ok(())
}

/// Labels from `--label k=v` and `WASMCLOUD_LABEL_k=v`; a flag wins over the variable.
fn labels(flags: &[String]) -> anyhow::Result<HashMap<String, String>> {
    // vars_os: std::env::vars() panics on a variable that is not UTF-8; such labels are skipped.
    let mut labels: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let key = k.to_str()?.strip_prefix("WASMCLOUD_LABEL_")?;
            Some((key.to_string(), v.into_string().ok()?))
        })
        .collect();
    for pair in flags {
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.contains('=') => {
                labels.insert(k.to_string(), v.to_string());
            }
            _ => bail!("invalid label `{pair}`: expected `key=value`"),
        }
    }
    Ok(labels)
}

fn nats_url(host: Option<String>, port: Option<u16>, args: &Args) -> anyhow::Result<Url> {
    let host = host.unwrap_or_else(|| args.nats_host.clone());
    let port = port.unwrap_or(args.nats_port);
    Url::parse(&format!("nats://{host}:{port}"))
        .with_context(|| format!("invalid NATS address {host}:{port}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();

    // The same tracing set-up as the official host: plain or JSON logs on stderr (wash up -d
    // sends stderr to the host log file), OpenTelemetry export off unless OTEL_* says so.
    let log_level = HostLogLevel::from(args.log_level);
    let otel = OtelConfig {
        trace_level: log_level.clone(),
        ..OtelConfig::default()
    };
    let _flush_guard = match wasmcloud_tracing::configure_observability(
        "wasmcloud-host",
        &otel,
        args.enable_structured_logging,
        None::<PathBuf>,
        Some(&log_level),
        Some(&otel.trace_level),
    ) {
        Ok((dispatch, guard)) => {
            tracing::dispatcher::set_global_default(dispatch)
                .context("failed to install logging")?;
            Some(guard)
        }
        Err(e) => {
            eprintln!("failed to configure logging: {e:#}");
            None
        }
    };

    // Before the host is built: it takes its meter from the global provider once.
    let _metrics = args.metrics.start().await?;

    if args.cluster_seed.is_some() || args.cluster_issuers.is_some() {
        // wash passes its context's cluster seed on every `wash up`; the official 1.x host
        // ignores it silently, so this is no warning.
        debug!("cluster seed and issuers are ignored: wasmCloud 1.x does not sign invocations");
    }
    for (what, topic) in [
        ("policy topic", &args.policy_topic),
        ("secrets topic", &args.secrets_topic_prefix),
    ] {
        if let Some(topic) = topic {
            check_subject(what, topic)?;
        }
    }

    let ctl_nats_url = nats_url(args.ctl_host.take(), args.ctl_port, &args)?;
    let rpc_nats_url = nats_url(args.rpc_host.take(), args.rpc_port, &args)?;
    // Made here when not given, so that the link re-delivery below knows this host's id.
    let host_key = Arc::new(match args.host_seed.as_deref() {
        Some(seed) => KeyPair::from_seed(seed).context("invalid host seed")?,
        None => KeyPair::new_server(),
    });
    // Per-connection credentials fall back to the shared --nats-* ones.
    let (nats_jwt, nats_key) = nats_creds(
        args.nats_creds.as_deref(),
        args.nats_jwt.take(),
        args.nats_seed.take(),
    )?;
    let (ctl_jwt, ctl_key) = nats_creds(
        args.ctl_creds.as_deref(),
        args.ctl_jwt.take(),
        args.ctl_seed.take(),
    )?;
    let (rpc_jwt, rpc_key) = nats_creds(
        args.rpc_creds.as_deref(),
        args.rpc_jwt.take(),
        args.rpc_seed.take(),
    )?;

    let redelivery = link_redelivery::Settings {
        nats_url: ctl_nats_url.clone(),
        jwt: ctl_jwt.clone().or_else(|| nats_jwt.clone()),
        key: ctl_key.clone().or_else(|| nats_key.clone()),
        tls: args.ctl_tls,
        topic_prefix: args.ctl_topic_prefix.clone(),
        lattice: args.lattice.clone(),
        host_id: host_key.public_key(),
    };
    let config = WasmbusHostConfig {
        ctl_nats_url,
        ctl_jwt: ctl_jwt.or_else(|| nats_jwt.clone()),
        ctl_key: ctl_key.or_else(|| nats_key.clone()),
        ctl_tls: args.ctl_tls,
        ctl_topic_prefix: args.ctl_topic_prefix,
        rpc_nats_url,
        rpc_timeout: args.rpc_timeout,
        rpc_jwt: rpc_jwt.or(nats_jwt),
        rpc_key: rpc_key.or(nats_key),
        rpc_tls: args.rpc_tls,
        lattice: Arc::from(args.lattice),
        js_domain: args.js_domain,
        labels: labels(&args.labels)?,
        host_key: Some(host_key),
        provider_shutdown_delay: Some(args.provider_shutdown_delay),
        oci_opts: OciConfig {
            allow_latest: args.allow_latest,
            allowed_insecure: args.allowed_insecure,
            oci_registry: args.oci_registry,
            oci_user: args.oci_user,
            oci_password: args.oci_password,
            ..OciConfig::default()
        },
        allow_file_load: args.allow_file_load,
        enable_structured_logging: args.enable_structured_logging,
        log_level,
        config_service_enabled: args.config_service_enabled,
        otel_config: otel,
        policy_service_config: PolicyService {
            policy_topic: args.policy_topic,
            policy_changes_topic: args.policy_changes_topic,
            policy_timeout_ms: args.policy_timeout,
        },
        secrets_topic_prefix: args.secrets_topic_prefix,
        version: HOST_VERSION.to_string(),
        max_execution_time: args.max_execution_time,
        component_handover: args.component_handover,
        instance_recycling: args.recycling.config(),
        http_body_limits: args.http_body.limits(),
        max_linear_memory: args.max_linear_memory,
        max_component_size: args.max_component_size,
        max_components: args.max_components,
        max_core_instances_per_component: args.max_core_instances_per_component,
        heartbeat_interval: args.heartbeat_interval,
        experimental_features: args
            .features
            .into_iter()
            .chain([Features::new().enable_builtin_http_server()])
            .sum(),
        http_admin: args.http_admin,
        enable_component_auction: args.enable_component_auction,
        enable_provider_auction: args.enable_provider_auction,
    };
    // Boxed: the host's start-up future is large.
    let (host, shutdown) = Box::pin(Host::new(config))
        .await
        .context("failed to start the host")?;

    tokio::spawn(link_redelivery::run(redelivery));

    let mut sigterm = signal(SignalKind::terminate()).context("failed to listen for SIGTERM")?;
    let deadline = tokio::select! {
        res = tokio::signal::ctrl_c() => { res.context("failed to listen for SIGINT")?; None }
        _ = sigterm.recv() => None,
        // Stopped over the control interface (`wash stop host`), possibly with a deadline.
        res = host.stopped() => res?,
    };
    // Shutdown drains components and stops providers; it needs the last reference to the host.
    drop(host);
    match deadline {
        Some(at) => tokio::time::timeout_at(at, shutdown).await,
        None => tokio::time::timeout(SHUTDOWN_TIMEOUT, shutdown).await,
    }
    .context("host shutdown timed out")?
    .context("host shutdown failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_creds_blocks() {
        let text = "-----BEGIN NATS USER JWT-----\neyJ.a.b\n------END NATS USER JWT------\n\n\
                    -----BEGIN USER NKEY SEED-----\nSUAX\n------END USER NKEY SEED------\n";
        assert_eq!(creds_block(text, "NATS USER JWT"), Some("eyJ.a.b"));
        assert_eq!(creds_block(text, "USER NKEY SEED"), Some("SUAX"));
        assert_eq!(
            creds_block(
                "-----BEGIN USER NKEY SEED-----\n------END",
                "USER NKEY SEED"
            ),
            None
        );
    }

    #[test]
    fn checks_subjects() {
        assert!(check_subject("t", "wasmcloud.secrets").is_ok());
        for bad in ["", ".", "a..b", "a.", "a.*", "a.>", "a b"] {
            assert!(check_subject("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_labels_and_version() {
        assert!(labels(&["a=b=c".into()]).is_err());
        assert!(labels(&["=b".into()]).is_err());
        let l = labels(&["zone=edge".into()]).expect("valid label");
        assert_eq!(l.get("zone").map(String::as_str), Some("edge"));
        assert_eq!(HOST_VERSION, "1.9.1");
        let args = Args::try_parse_from(["wasmcloud", "--enable-provider-auction", "false"])
            .expect("args");
        assert!(!args.enable_provider_auction && args.enable_component_auction);
    }
}
