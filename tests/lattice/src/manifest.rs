//! The repository's manifests, rendered for a private lattice: their own app name, HTTP port and
//! log directory, with image paths made absolute. The manifests stay the single source of truth:
//! a test deploys what a user deploys, give or take those four values.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The three ways the processor's logging is wired (see README: "Three wirings").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wiring {
    /// processor -> logger component -> provider (wadm.yaml)
    Linked,
    /// processor -> provider (manifests/direct.wadm.yaml)
    Direct,
    /// processor+logger composed -> provider (manifests/composed.wadm.yaml)
    Composed,
    /// Linked, served by the http-server provider (manifests/provider-ingress.wadm.yaml)
    ProviderIngress,
}

/// What serves HTTP to the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    /// The host's built-in HTTP server: the gateway is called in-process.
    Builtin,
    /// wasmCloud's http-server provider: a process of its own, one NATS hop to the gateway.
    Provider,
}

impl Ingress {
    pub fn name(self) -> &'static str {
        match self {
            Ingress::Builtin => "built-in",
            Ingress::Provider => "provider",
        }
    }
}

impl Wiring {
    pub const ALL: [Wiring; 4] = [
        Wiring::Linked,
        Wiring::Direct,
        Wiring::Composed,
        Wiring::ProviderIngress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Wiring::Linked => "linked",
            Wiring::Direct => "direct",
            Wiring::Composed => "composed",
            Wiring::ProviderIngress => "provider-ingress",
        }
    }

    pub fn ingress(self) -> Ingress {
        match self {
            Wiring::ProviderIngress => Ingress::Provider,
            _ => Ingress::Builtin,
        }
    }

    pub fn manifest(self) -> PathBuf {
        let root = repo_root();
        match self {
            Wiring::Linked => root.join("wadm.yaml"),
            Wiring::Direct => root.join("manifests/direct.wadm.yaml"),
            Wiring::Composed => root.join("manifests/composed.wadm.yaml"),
            Wiring::ProviderIngress => root.join("manifests/provider-ingress.wadm.yaml"),
        }
    }
}

/// Looked up at run time (scripts export NEON_ROOT, `cargo test` sets CARGO_MANIFEST_DIR): the
/// native target dir is shared between checkouts, so a path compiled in could name another one.
pub fn repo_root() -> PathBuf {
    match (
        std::env::var_os("NEON_ROOT"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) {
        (Some(root), _) => PathBuf::from(root),
        (None, Some(manifest_dir)) => PathBuf::from(manifest_dir).join("../.."),
        (None, None) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    }
}

/// A manifest ready to deploy on a private lattice.
pub struct Rendered {
    pub app: String,
    pub version: String,
    pub yaml: String,
    /// The file sink of the processor's records (empty for the hello manifest, which logs none).
    pub log_file: PathBuf,
    pub http_port: u16,
}

const DEFAULT_HTTP: &str = "address: 127.0.0.1:8000";
const DEFAULT_STATE_DIR: &str = "state_dir: /tmp/neon-logs";

pub fn render(wiring: Wiring, app: &str, http_port: u16, state_dir: &Path) -> Result<Rendered> {
    let path = wiring.manifest();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut yaml = replace_once(&text, "\n  name: neon\n", &format!("\n  name: {app}\n"))?;
    yaml = replace_once(
        &yaml,
        DEFAULT_HTTP,
        &format!("address: 127.0.0.1:{http_port}"),
    )?;
    yaml = replace_once(
        &yaml,
        DEFAULT_STATE_DIR,
        &format!("state_dir: {}", state_dir.display()),
    )?;
    yaml = absolute_images(&yaml)?;
    let version = field(&yaml, "version")?;
    let file_name = field(&yaml, "file_path")?;
    Ok(Rendered {
        app: app.to_string(),
        version,
        log_file: state_dir.join(file_name),
        yaml,
        http_port,
    })
}

/// manifests/hello.wadm.yaml, the benchmark's platform ceiling, as app `app` on `http_port`
/// with `instances` of the hello component (0: deployed but not running, to time a scale-up),
/// behind the given ingress.
pub fn render_ceiling(
    app: &str,
    http_port: u16,
    instances: u32,
    ingress: Ingress,
) -> Result<Rendered> {
    let path = repo_root().join("manifests/hello.wadm.yaml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut yaml = replace_once(
        &text,
        "\n  name: neon-hello\n",
        &format!("\n  name: {app}\n"),
    )?;
    yaml = replace_once(
        &yaml,
        DEFAULT_HTTP,
        &format!("address: 127.0.0.1:{http_port}"),
    )?;
    yaml = replace_once(&yaml, "instances: 100", &format!("instances: {instances}"))?;
    if ingress == Ingress::Provider {
        yaml = replace_once(
            &yaml,
            "image: wasmcloud+builtin://http-server",
            "image: file://../build/http-server.par.gz",
        )?;
    }
    // Each instance count and ingress is its own version: wadm replaces one with the other.
    yaml = replace_once(
        &yaml,
        "version: v0.2.0\n",
        &format!("version: v0.2.0-x{instances}-{}\n", ingress.name()),
    )?;
    yaml = absolute_images(&yaml)?;
    let version = field(&yaml, "version")?;
    Ok(Rendered {
        app: app.to_string(),
        version,
        yaml,
        log_file: PathBuf::new(),
        http_port,
    })
}

/// `file://./build/x` (wadm.yaml) and `file://../build/x` (manifests/) made absolute, so the
/// rendered manifest deploys from anywhere.
fn absolute_images(yaml: &str) -> Result<String> {
    let build = repo_root()
        .join("build")
        .canonicalize()
        .context("build/ missing: run scripts/build.sh")?;
    let mut yaml = yaml.to_string();
    for relative in ["file://./build/", "file://../build/"] {
        yaml = yaml.replace(relative, &format!("file://{}/", build.display()));
    }
    Ok(yaml)
}

fn replace_once(text: &str, from: &str, to: &str) -> Result<String> {
    if text.matches(from).count() != 1 {
        bail!("the manifest should hold {from:?} exactly once; did its shape change?");
    }
    Ok(text.replacen(from, to, 1))
}

/// The first `key: value` in the manifest (our manifests are flat enough for this).
fn field(yaml: &str, key: &str) -> Result<String> {
    let prefix = format!("{key}:");
    yaml.lines()
        .find_map(|line| line.trim().strip_prefix(&prefix))
        .map(|value| value.trim().trim_matches('"').to_string())
        .with_context(|| format!("no {key} in the manifest"))
}
