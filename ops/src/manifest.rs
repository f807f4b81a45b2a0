//! The repository's manifests, rendered for a lattice: parsed with wadm's own types, changed
//! field by field, written back as YAML. The manifests stay the single source of truth: a test
//! deploys what a user deploys, give or take the values changed here (app name, HTTP address,
//! log directory, absolute image paths, and what a bench or rollout varies).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use wadm_types::{ConfigProperty, Manifest, Properties, TraitProperty};

use crate::net::free_port;
use crate::paths::{build_dir, repo_root};

/// The ways the processor's logging is wired (see README: "Three wirings"), and the ingress.
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
    /// Linked, with the logger written in Python (manifests/python-logger.wadm.yaml)
    PythonLogger,
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
    /// The wirings the benchmark compares.
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
            Wiring::PythonLogger => "python-logger",
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
            Wiring::PythonLogger => root.join("manifests/python-logger.wadm.yaml"),
        }
    }
}

/// A manifest ready to deploy.
pub struct Rendered {
    pub app: String,
    pub version: String,
    pub yaml: String,
    /// The file sink of the processor's records (empty when the manifest names none).
    pub log_file: PathBuf,
    pub http_port: u16,
    /// Where the logging provider serves its Prometheus metrics, when the manifest says.
    pub provider_metrics_port: Option<u16>,
}

/// A manifest being rendered: the parsed document and the edits made to it.
pub struct Draft {
    manifest: Manifest,
    source: PathBuf,
}

impl Draft {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let manifest = serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not a wadm manifest", path.display()))?;
        Ok(Self {
            manifest,
            source: path.to_path_buf(),
        })
    }

    pub fn app(&self) -> &str {
        &self.manifest.metadata.name
    }

    pub fn version(&self) -> Result<&str> {
        self.manifest
            .metadata
            .annotations
            .get("version")
            .map(String::as_str)
            .with_context(|| format!("{}: no metadata.annotations.version", self.source.display()))
    }

    pub fn set_app(&mut self, app: &str) -> &mut Self {
        self.manifest.metadata.name = app.to_string();
        self
    }

    pub fn set_version(&mut self, version: &str) -> &mut Self {
        self.manifest
            .metadata
            .annotations
            .insert("version".to_string(), version.to_string());
        self
    }

    /// The one config value named `key` in the manifest (a link's `address`, the provider's
    /// `state_dir`, the sink's `file_path`).
    pub fn config_value(&mut self, key: &str) -> Result<String> {
        let found: Vec<String> = configs(&mut self.manifest)
            .into_iter()
            .filter_map(|config| config.properties.as_ref()?.get(key).cloned())
            .collect();
        match found.as_slice() {
            [value] => Ok(value.clone()),
            _ => bail!(
                "{}: expected one config value {key}, found {}",
                self.source.display(),
                found.len()
            ),
        }
    }

    /// Sets the one config value named `key`; a manifest with none or several is an error, so a
    /// change of the manifests' shape is noticed instead of silently rendering the wrong thing.
    pub fn set_config_value(&mut self, key: &str, value: &str) -> Result<&mut Self> {
        let mut count = 0;
        for config in configs(&mut self.manifest) {
            if let Some(current) = config.properties.as_mut().and_then(|p| p.get_mut(key)) {
                *current = value.to_string();
                count += 1;
            }
        }
        if count != 1 {
            bail!(
                "{}: expected one config value {key}, found {count}",
                self.source.display()
            );
        }
        Ok(self)
    }

    /// Adds `new_key: value` to the one config that holds `key` (the sink link's `sinks`, say).
    pub fn add_beside(&mut self, key: &str, new_key: &str, value: &str) -> Result<&mut Self> {
        let mut holders: Vec<_> = configs(&mut self.manifest)
            .into_iter()
            .filter_map(|config| config.properties.as_mut())
            .filter(|properties| properties.contains_key(key))
            .collect();
        match holders.as_mut_slice() {
            [properties] => {
                properties.insert(new_key.to_string(), value.to_string());
            }
            _ => bail!(
                "{}: expected one config with {key}, found {}",
                self.source.display(),
                holders.len()
            ),
        }
        Ok(self)
    }

    /// Renames a named config (wadm deletes the configs of the version it replaces, so a
    /// changed config needs a name of its own).
    pub fn rename_config(&mut self, from: &str, to: &str) -> Result<&mut Self> {
        let mut count = 0;
        for config in configs(&mut self.manifest) {
            if config.name == from {
                config.name = to.to_string();
                count += 1;
            }
        }
        if count == 0 {
            bail!("{}: no config named {from}", self.source.display());
        }
        Ok(self)
    }

    pub fn set_http_port(&mut self, port: u16) -> Result<&mut Self> {
        self.set_config_value("address", &format!("127.0.0.1:{port}"))
    }

    /// The instances of every spread scaler of the named component.
    pub fn set_instances(&mut self, component: &str, instances: usize) -> Result<&mut Self> {
        let mut count = 0;
        for c in self.components(component)? {
            for t in c.traits.iter_mut().flatten() {
                if let TraitProperty::SpreadScaler(scaler) = &mut t.properties {
                    scaler.instances = instances;
                    count += 1;
                }
            }
        }
        if count == 0 {
            bail!("{}: {component} has no scaler", self.source.display());
        }
        Ok(self)
    }

    pub fn set_image(&mut self, component: &str, image: &str) -> Result<&mut Self> {
        for c in self.components(component)? {
            *image_of(&mut c.properties) = Some(image.to_string());
        }
        Ok(self)
    }

    fn components(&mut self, name: &str) -> Result<Vec<&mut wadm_types::Component>> {
        let found: Vec<_> = self
            .manifest
            .spec
            .components
            .iter_mut()
            .filter(|c| c.name == name)
            .collect();
        if found.is_empty() {
            bail!("{}: no component named {name}", self.source.display());
        }
        Ok(found)
    }

    /// Relative `file://` images (relative to the manifest's folder, as wash resolves them) made
    /// absolute, so the rendered manifest deploys from anywhere.
    pub fn absolute_images(&mut self) -> Result<&mut Self> {
        let base = self
            .source
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for c in &mut self.manifest.spec.components {
            let image = image_of(&mut c.properties);
            if let Some(path) = image.as_deref().and_then(|i| i.strip_prefix("file://")) {
                if Path::new(path).is_relative() {
                    let absolute = base.join(path);
                    let absolute = absolute.canonicalize().with_context(|| {
                        format!("{} missing: run scripts/build.sh", absolute.display())
                    })?;
                    *image = Some(format!("file://{}", absolute.display()));
                }
            }
        }
        Ok(self)
    }

    /// The YAML to deploy, with the figures a caller needs about it. `state_dir` is where the
    /// manifest's file sink writes (the log file is resolved against it when there is one).
    pub fn render(&mut self, state_dir: Option<&Path>) -> Result<Rendered> {
        let http_port = self
            .config_value("address")
            .ok()
            .and_then(|address| address.rsplit(':').next()?.parse().ok())
            .unwrap_or(0);
        let log_file = match (state_dir, self.config_value("file_path")) {
            (Some(dir), Ok(file)) => dir.join(file),
            _ => PathBuf::new(),
        };
        let provider_metrics_port = self
            .config_value("metrics_addr")
            .ok()
            .and_then(|address| address.rsplit(':').next()?.parse().ok());
        Ok(Rendered {
            app: self.app().to_string(),
            version: self.version()?.to_string(),
            yaml: serde_yaml::to_string(&self.manifest).context("writing the manifest")?,
            log_file,
            http_port,
            provider_metrics_port,
        })
    }
}

fn image_of(properties: &mut Properties) -> &mut Option<String> {
    match properties {
        Properties::Component { properties } => &mut properties.image,
        Properties::Capability { properties } => &mut properties.image,
    }
}

/// Every named config in the manifest: components', providers' and both ends of each link.
fn configs(manifest: &mut Manifest) -> Vec<&mut ConfigProperty> {
    let mut out = Vec::new();
    for c in &mut manifest.spec.components {
        match &mut c.properties {
            Properties::Component { properties } => out.extend(properties.config.iter_mut()),
            Properties::Capability { properties } => out.extend(properties.config.iter_mut()),
        }
        for t in c.traits.iter_mut().flatten() {
            if let TraitProperty::Link(link) = &mut t.properties {
                if let Some(source) = &mut link.source {
                    out.extend(source.config.iter_mut());
                }
                out.extend(link.target.config.iter_mut());
            }
        }
    }
    out
}

/// A wiring's manifest as app `app` on `http_port`, its file sink under `state_dir`, and its
/// logging provider's metrics on a free loopback port.
pub fn render(wiring: Wiring, app: &str, http_port: u16, state_dir: &Path) -> Result<Rendered> {
    draft(wiring, app, http_port, state_dir)?
        .absolute_images()?
        .render(Some(state_dir))
}

/// As [`render`], with a file sink that keeps every file it rotates out (the default keeps 5 of
/// 64 MiB): for tests that account for every record of a long run.
pub fn render_keeping_every_record(
    wiring: Wiring,
    app: &str,
    http_port: u16,
    state_dir: &Path,
) -> Result<Rendered> {
    draft(wiring, app, http_port, state_dir)?
        .add_beside("sinks", "keep", "1000")?
        .absolute_images()?
        .render(Some(state_dir))
}

fn draft(wiring: Wiring, app: &str, http_port: u16, state_dir: &Path) -> Result<Draft> {
    let metrics_addr = format!("127.0.0.1:{}", free_port()?);
    let mut draft = Draft::load(&wiring.manifest())?;
    draft
        .set_app(app)
        .set_http_port(http_port)?
        .set_config_value("state_dir", &state_dir.display().to_string())?;
    if draft.config_value("metrics_addr").is_ok() {
        draft.set_config_value("metrics_addr", &metrics_addr)?;
    } else {
        draft.add_beside("state_dir", "metrics_addr", &metrics_addr)?;
    }
    Ok(draft)
}

/// manifests/hello.wadm.yaml, the benchmark's platform ceiling, as app `app` on `http_port`
/// with `instances` of the hello component (0: deployed but not running, to time a scale-up),
/// behind the given ingress.
pub fn render_ceiling(
    app: &str,
    http_port: u16,
    instances: usize,
    ingress: Ingress,
) -> Result<Rendered> {
    let mut draft = Draft::load(&repo_root().join("manifests/hello.wadm.yaml"))?;
    draft
        .set_app(app)
        .set_http_port(http_port)?
        .set_instances("hello", instances)?;
    if ingress == Ingress::Provider {
        let archive = build_dir()?.join("http-server.par.gz");
        draft.set_image("httpserver", &format!("file://{}", archive.display()))?;
    }
    // Each instance count and ingress is its own version: wadm replaces one with the other.
    let version = format!("{}-x{instances}-{}", draft.version()?, ingress.name());
    draft.set_version(&version).absolute_images()?.render(None)
}

/// manifests/edge.wadm.yaml as `version` (v1 is the file as it is): another version changes the
/// logger's `source` to `neon-edge-<version>` under a config name of its own.
pub fn render_edge(version: &str, http_port: u16) -> Result<Rendered> {
    let mut draft = Draft::load(&repo_root().join("manifests/edge.wadm.yaml"))?;
    let base = draft.version()?.to_string();
    draft.set_http_port(http_port)?.absolute_images()?;
    if version != base {
        draft
            .set_version(version)
            .rename_config(
                &format!("neon-edge-logger-{base}"),
                &format!("neon-edge-logger-{version}"),
            )?
            .set_config_value("source", &format!("neon-edge-{version}"))?;
    }
    draft.render(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reparse(rendered: &Rendered) -> Manifest {
        serde_yaml::from_str(&rendered.yaml).expect("rendered YAML parses as a manifest")
    }

    #[test]
    fn a_wiring_renders_with_its_own_name_port_and_state_dir() {
        for wiring in Wiring::ALL {
            let dir = Path::new("/tmp/neon-render-test");
            let Ok(rendered) = render(wiring, "neon-t", 41234, dir) else {
                // Images are resolved against build/: without a build there is nothing to check.
                assert!(build_dir().is_err(), "{} did not render", wiring.name());
                return;
            };
            let mut again = Draft {
                manifest: reparse(&rendered),
                source: PathBuf::from("rendered"),
            };
            assert_eq!(again.app(), "neon-t");
            assert_eq!(
                again.config_value("address").ok().as_deref(),
                Some("127.0.0.1:41234")
            );
            assert_eq!(rendered.http_port, 41234);
            assert!(
                rendered.log_file.starts_with(dir),
                "{:?}",
                rendered.log_file
            );
            assert!(!rendered.yaml.contains("file://."), "{}", rendered.yaml);
        }
    }

    #[test]
    fn an_edge_version_renames_the_changed_config() {
        let Ok(v2) = render_edge("v2", 40001) else {
            assert!(build_dir().is_err(), "edge v2 did not render");
            return;
        };
        assert_eq!(v2.version, "v2");
        assert!(v2.yaml.contains("neon-edge-logger-v2"));
        assert!(v2.yaml.contains("neon-edge-v2"));
        assert!(!v2.yaml.contains("neon-edge-logger-v1"));
        let v1 = render_edge("v1", 40001).expect("v1 renders when v2 does");
        assert!(v1.yaml.contains("neon-edge-logger-v1"));
    }
}
