//! The provider: links in, calls in, records out.
//!
//! State is keyed by (source id, link name), not by source id alone: a component may link to
//! the provider twice under different link names with different sinks, and keying by source
//! would let the second link's config overwrite the first (measured with wasmCloud's own template).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::anyhow;
use futures::future::join_all;
use tokio::sync::RwLock;
use tracing::{error, info, warn};
use wasmcloud_provider_sdk::{
    Context, HealthCheckRequest, HealthCheckResponse, LinkConfig, LinkDeleteInfo, Provider,
    ProviderInitConfig,
};

use crate::bindings::cyber::system::types::Level as WitLevel;
use crate::bindings::exports::cyber::system::logging::Handler as LoggingHandler;
use crate::bindings::exports::cyber::system::sink::{Entry, Handler as SinkHandler};
use crate::config::{parse_link, LinkContext, LinkSettings, ProviderSettings};
use crate::record::{Level, Record, Stamp};
use crate::sink::{file::FileSink, jetstream::JetStreamSink, stdout::Stdout};
use crate::writer::{Queue, Shared, Sinks, Writer};

/// How long a removed link (or shutdown) waits for its queued calls to be written.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);
const NATS_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The wRPC header in which a Neon host passes on the request an invocation serves.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// A link as the provider tells links apart: who links, and under which link name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct LinkKey {
    source_id: String,
    link_name: String,
}

impl LinkKey {
    fn new(source_id: &str, link_name: &str) -> Self {
        Self {
            source_id: source_id.to_string(),
            link_name: link_name.to_string(),
        }
    }

    /// `source/link`, the link's name in log lines and health figures.
    fn label(&self) -> String {
        format!("{}/{}", self.source_id, self.link_name)
    }
}

struct Link {
    source: String,
    file_path: Option<PathBuf>,
    writer: Writer,
}

struct Inner {
    shared: Arc<Shared>,
    /// Prefix of `Nats-Msg-Id`: unique per provider process (the host's instance id).
    instance_id: String,
    settings: Mutex<ProviderSettings>,
    links: RwLock<HashMap<LinkKey, Link>>,
    /// Why a link's put was refused, so its calls can say so instead of "not linked".
    rejected: Mutex<HashMap<LinkKey, String>>,
    /// Connections to `nats_url` overrides, shared by the links that name the same server.
    nats_clients: tokio::sync::Mutex<HashMap<String, async_nats::Client>>,
    /// The task serving `/metrics`, when the config asks for it.
    metrics_server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Clone)]
pub struct LoggingProvider {
    inner: Arc<Inner>,
}

impl LoggingProvider {
    pub fn new(stamp: Stamp, instance_id: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared::new(stamp)),
                instance_id,
                settings: Mutex::new(ProviderSettings {
                    state_dir: std::env::temp_dir().join("neon-logs"),
                    nats_url: None,
                    metrics_addr: None,
                }),
                links: RwLock::default(),
                rejected: Mutex::default(),
                nats_clients: tokio::sync::Mutex::default(),
                metrics_server: Mutex::default(),
            }),
        }
    }

    fn settings(&self) -> ProviderSettings {
        match self.inner.settings.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_rejected(&self, key: &LinkKey, reason: Option<String>) {
        if let Ok(mut rejected) = self.inner.rejected.lock() {
            match reason {
                Some(reason) => rejected.insert(key.clone(), reason),
                None => rejected.remove(key),
            };
        }
    }

    /// The caller's queue and source name, or why there is none.
    async fn lookup(&self, cx: &Option<Context>) -> Result<(Queue, String), String> {
        let key = caller(cx);
        if let Some(link) = self.inner.links.read().await.get(&key) {
            return Ok((link.writer.queue(), link.source.clone()));
        }
        let refused = self
            .inner
            .rejected
            .lock()
            .ok()
            .and_then(|r| r.get(&key).cloned());
        Err(match refused {
            Some(reason) => format!("{reason}; nothing was written"),
            None => format!(
                "component `{}` has no link named `{}` to this provider; nothing was written",
                key.source_id, key.link_name
            ),
        })
    }

    /// Parses the config, opens the sinks and starts the link's writer. Any failure leaves the
    /// link absent (its calls fail with the reason) and other links untouched.
    async fn open_link(
        &self,
        key: &LinkKey,
        config: &HashMap<String, String>,
    ) -> Result<(), String> {
        let provider_settings = self.settings();
        let lattice = self.inner.shared.stamp.lattice.clone();
        let settings = parse_link(
            config,
            &LinkContext {
                source_id: &key.source_id,
                link_name: &key.link_name,
                lattice: &lattice,
                provider: &provider_settings,
            },
        )
        .map_err(|e| e.to_string())?;
        self.check_file_is_free(key, &settings).await?;

        let sinks = self.open_sinks(&settings).await?;
        let label = key.label();
        info!(
            link = %label,
            source = %settings.source,
            stdout = settings.stdout,
            file = ?settings.file.as_ref().map(|f| &f.path),
            stream = ?settings.nats.as_ref().map(|n| (&n.stream, &n.subject)),
            "link ready"
        );

        let mut links = self.inner.links.write().await;
        // A re-put replaces the link: the new writer starts only after the old one has written
        // what it had queued, so the two never append to the same file at once.
        let previous = links.remove(key).map(|l| l.writer);
        let writer = Writer::spawn(sinks, self.inner.shared.clone(), label, previous);
        links.insert(
            key.clone(),
            Link {
                source: settings.source,
                file_path: settings.file.map(|f| f.path),
                writer,
            },
        );
        Ok(())
    }

    /// Opens every sink the link asked for; a sink that cannot be opened fails the link put.
    async fn open_sinks(&self, settings: &LinkSettings) -> Result<Sinks, String> {
        let mut sinks: Sinks = Vec::new();
        if let Some(nats) = &settings.nats {
            let client = self.nats_client(nats.url.as_deref()).await?;
            let instance_id = self.inner.instance_id.clone();
            sinks.push(Box::new(
                JetStreamSink::connect(nats, client, instance_id).await?,
            ));
        }
        if let Some(file) = &settings.file {
            let file = tokio::task::block_in_place(|| FileSink::open(file.clone()))?;
            sinks.push(Box::new(file));
        }
        if settings.stdout {
            sinks.push(Box::new(Stdout));
        }
        Ok(sinks)
    }

    /// One file, one writer: rotation and undo-by-truncation are only safe that way.
    async fn check_file_is_free(
        &self,
        key: &LinkKey,
        settings: &LinkSettings,
    ) -> Result<(), String> {
        let Some(file) = &settings.file else {
            return Ok(());
        };
        let links = self.inner.links.read().await;
        let taken = links
            .iter()
            .find(|(k, l)| *k != key && l.file_path.as_ref() == Some(&file.path));
        match taken {
            Some((other, _)) => Err(format!(
                "invalid config `file_path` = `{}`: already written by the link `{}` from `{}`; give each link its own file",
                file.path.display(),
                other.link_name,
                other.source_id
            )),
            None => Ok(()),
        }
    }

    /// The lattice connection by default; a dedicated connection per `nats_url` override.
    async fn nats_client(&self, url: Option<&str>) -> Result<async_nats::Client, String> {
        let Some(url) = url else {
            // Links are only delivered after run_provider has set up the lattice connection.
            return Ok(wasmcloud_provider_sdk::get_connection()
                .nats
                .as_ref()
                .clone());
        };
        let mut clients = self.inner.nats_clients.lock().await;
        if let Some(client) = clients.get(url) {
            return Ok(client.clone());
        }
        let client = async_nats::ConnectOptions::new()
            .name("neon-logging-provider")
            .connection_timeout(NATS_CONNECT_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| format!("invalid config `nats_url` = `{url}`: cannot connect: {e}"))?;
        clients.insert(url.to_string(), client.clone());
        Ok(client)
    }

    async fn close_link(&self, key: &LinkKey) -> bool {
        let removed = self.inner.links.write().await.remove(key);
        self.inner.shared.stats.forget(&key.label());
        match removed {
            Some(link) => {
                link.writer.close(CLOSE_WITHIN).await;
                true
            }
            None => false,
        }
    }
}

/// (source id, link name) of an invocation, as the host stamps them in the wRPC headers.
fn caller(cx: &Option<Context>) -> LinkKey {
    match cx {
        Some(cx) => LinkKey::new(
            cx.component.as_deref().unwrap_or("<unknown>"),
            cx.link_name(),
        ),
        None => LinkKey::new("<unknown>", "default"),
    }
}

/// The request the call was made for, as the host passes it on (`x-request-id`).
fn request_of(cx: &Option<Context>) -> Option<Arc<str>> {
    cx.as_ref()?
        .tracing
        .get(REQUEST_ID_HEADER)
        .filter(|id| !id.is_empty())
        .map(|id| Arc::from(id.as_str()))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl From<WitLevel> for Level {
    fn from(level: WitLevel) -> Self {
        match level {
            WitLevel::Info => Level::Info,
            WitLevel::Warn => Level::Warn,
            WitLevel::Critical => Level::Critical,
        }
    }
}

impl SinkHandler<Option<Context>> for LoggingProvider {
    async fn write(
        &self,
        cx: Option<Context>,
        entries: Vec<Entry>,
    ) -> anyhow::Result<Result<(), String>> {
        let (queue, link_source) = match self.lookup(&cx).await {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        if entries.is_empty() {
            return Ok(Ok(()));
        }
        let request = request_of(&cx);
        let records = entries
            .into_iter()
            .map(|e| Record {
                timestamp_ms: e.timestamp_ms,
                level: e.level.into(),
                // The logger names the source; an empty one would make the record unattributable.
                source: if e.source.is_empty() {
                    link_source.clone()
                } else {
                    e.source
                },
                message: e.message,
                request: request.clone(),
            })
            .collect();
        Ok(queue.write(records).await)
    }
}

impl LoggingHandler<Option<Context>> for LoggingProvider {
    /// The record is written (and synced, per policy) before the call returns. When it cannot
    /// be, the call fails: a caller that awaits the end of the call (a Neon host does) fails
    /// too; one that does not cannot learn of it, so the loss is also counted, logged and
    /// reported in the health check.
    async fn log(&self, cx: Option<Context>, msg: String, lvl: WitLevel) -> anyhow::Result<()> {
        let (source, written) = match self.lookup(&cx).await {
            Ok((queue, source)) => {
                let record = Record {
                    timestamp_ms: now_ms(),
                    level: lvl.into(),
                    source: source.clone(),
                    message: msg,
                    request: request_of(&cx),
                };
                (source, queue.write(vec![record]).await)
            }
            Err(reason) => (caller(&cx).source_id, Err(reason)),
        };
        // A caller on a Neon host waits for this call to end: failing it fails the caller's
        // request, where returning would let it answer as if logged.
        written.map_err(|reason| {
            self.inner.shared.stats.dropped(&source, &reason);
            anyhow!("record not written: {reason}")
        })
    }
}

impl Provider for LoggingProvider {
    async fn init(&self, config: impl ProviderInitConfig) -> anyhow::Result<()> {
        let settings = ProviderSettings::from_config(config.get_config())
            .map_err(|e| anyhow!("provider config: {e}"))?;
        info!(
            provider_id = config.get_provider_id(),
            state_dir = %settings.state_dir.display(),
            nats_url = ?settings.nats_url,
            metrics_addr = ?settings.metrics_addr,
            "initializing"
        );
        if let Some(addr) = settings.metrics_addr {
            // Records matter more than their metrics: a taken address is reported, not fatal.
            match neon_metrics::serve(addr, self.inner.shared.stats.metrics.registry()).await {
                Ok(server) => {
                    if let Ok(mut slot) = self.inner.metrics_server.lock() {
                        if let Some(old) = slot.replace(server) {
                            old.abort();
                        }
                    }
                }
                Err(e) => error!("{e:#}; the provider runs without metrics"),
            }
        }
        match self.inner.settings.lock() {
            Ok(mut s) => *s = settings,
            Err(poisoned) => *poisoned.into_inner() = settings,
        }
        Ok(())
    }

    async fn receive_link_config_as_target(&self, link: LinkConfig<'_>) -> anyhow::Result<()> {
        let key = LinkKey::new(link.source_id, link.link_name);
        match self.open_link(&key, link.config).await {
            Ok(()) => {
                self.set_rejected(&key, None);
                Ok(())
            }
            Err(reason) => {
                // A refused re-put must not leave the old config running behind the operator's
                // back: the link is now whatever they asked for, which is invalid.
                self.close_link(&key).await;
                let reason = format!(
                    "link `{}` from `{}` refused: {reason}",
                    key.link_name, key.source_id
                );
                error!("{reason}");
                self.set_rejected(&key, Some(reason.clone()));
                Err(anyhow!(reason))
            }
        }
    }

    async fn delete_link_as_target(&self, link: impl LinkDeleteInfo) -> anyhow::Result<()> {
        let key = LinkKey::new(link.get_source_id(), link.get_link_name());
        self.set_rejected(&key, None);
        if self.close_link(&key).await {
            info!(source = %key.source_id, link = %key.link_name, "link removed; its queued records were written");
        }
        Ok(())
    }

    async fn health_request(&self, _: &HealthCheckRequest) -> anyhow::Result<HealthCheckResponse> {
        let links = self.inner.links.read().await.len();
        let (healthy, message) = self.inner.shared.stats.health(links);
        Ok(HealthCheckResponse {
            healthy,
            message: Some(message),
        })
    }

    /// The host kills the process right after this returns: everything queued is written,
    /// synced and flushed here, never after `serve_provider_exports` returns.
    async fn shutdown(&self) -> anyhow::Result<()> {
        let links: Vec<Link> = self
            .inner
            .links
            .write()
            .await
            .drain()
            .map(|(_, l)| l)
            .collect();
        let count = links.len();
        join_all(links.into_iter().map(|l| l.writer.close(CLOSE_WITHIN))).await;
        for client in self.inner.nats_clients.lock().await.values() {
            if let Err(e) = client.flush().await {
                warn!(error = %e, "NATS flush at shutdown failed");
            }
        }
        let dropped = self.inner.shared.stats.dropped_total();
        info!(
            links = count,
            dropped_log_records = dropped,
            "shut down; all queued records written"
        );
        Ok(())
    }
}
