//! Re-delivers links to a provider shortly after it starts on this host.
//!
//! Why: wasmcloud-host 0.27.1 hands a starting provider the links it knows at that moment
//! (HostData), and publishes later link puts on a subject the provider only subscribes to once
//! it runs. A link put in between (wadm puts links while it starts providers, so a fresh
//! `wash app deploy` hits this often) is never delivered: the provider serves nothing for that
//! link while the lattice lists it as present, and wadm sees nothing to reconcile. Measured here:
//! the http-server provider never listened, or the logging provider answered "no link" to
//! every call, in about one deploy in three.
//!
//! Putting the same link again does not help: the host only forwards links that changed. So the
//! link is deleted and put again through the control interface, which the host forwards to the
//! now-running provider as a delete and a put. wadm, seeing the delete, puts it once more: a
//! provider may see that third put of a link it has; Neon's logging provider replaces the link in
//! place, wasmCloud's http-server provider logs that the address mapping already exists and
//! keeps serving. All of it happens within a second of the provider's start, before traffic.
//!
//! When: once the provider answers its health check. The SDK subscribes to health checks and to
//! link puts together, so from that answer on every link put reaches it; the links the lattice
//! lists then are exactly those it may have missed. A fixed delay instead lost the race on a
//! loaded machine, where a provider can take longer than the delay to subscribe.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use nkeys::KeyPair;
use tracing::{debug, info, warn};
use wasmcloud_control_interface::{Client, ClientBuilder};
use wasmcloud_host::url::Url;

/// Between the delete and the put: a provider that had the link needs a moment to let go of
/// what it held (the http-server provider's listening socket: put back at once, the new
/// listener fails to bind, measured).
const RELEASE: Duration = Duration::from_secs(1);

/// After the first health answer: the provider's other subscriptions, sent right behind the
/// health one on the same connection, are in place. Short, so the re-delivery lands before
/// traffic does: the delete and put briefly take a link down (the http-server provider closes
/// and reopens its listener).
const SETTLE: Duration = Duration::from_millis(100);

/// How long a started provider may take to answer its first health check, and how often it is
/// asked meanwhile.
const HEALTH_WITHIN: Duration = Duration::from_secs(30);
const HEALTH_EVERY: Duration = Duration::from_millis(250);

/// How to reach the control interface: the host's own ctl connection settings.
pub struct Settings {
    pub nats_url: Url,
    pub jwt: Option<String>,
    pub key: Option<Arc<KeyPair>>,
    pub tls: bool,
    pub topic_prefix: String,
    pub lattice: String,
    pub host_id: String,
}

/// Runs until the host exits; a failure only costs the workaround, so it is logged, not fatal.
pub async fn run(settings: Settings) {
    if let Err(e) = watch(settings).await {
        warn!("link re-delivery stopped: {e:#}");
    }
}

async fn watch(settings: Settings) -> anyhow::Result<()> {
    let mut options = async_nats::ConnectOptions::new().require_tls(settings.tls);
    if let (Some(jwt), Some(key)) = (settings.jwt, settings.key) {
        options = options.jwt(jwt, move |nonce| {
            let key = key.clone();
            async move { key.sign(&nonce).map_err(async_nats::AuthError::new) }
        });
    }
    let nats = options
        .connect(settings.nats_url.as_str())
        .await
        .context("failed to connect to the control interface's NATS")?;
    let subject = format!("wasmbus.evt.{}.provider_started", settings.lattice);
    let mut events = nats
        .subscribe(subject.clone())
        .await
        .with_context(|| format!("failed to subscribe to {subject}"))?;
    let ctl = ClientBuilder::new(nats.clone())
        .lattice(settings.lattice.clone())
        .topic_prefix(settings.topic_prefix)
        .build();
    while let Some(event) = events.next().await {
        let Some(provider_id) = started_here(&event.payload, &settings.host_id) else {
            continue;
        };
        let (ctl, nats) = (ctl.clone(), nats.clone());
        let health = wasmcloud_core::rpc::health_subject(&settings.lattice, &provider_id);
        tokio::spawn(async move {
            if !answers_health_check(&nats, health).await {
                warn!(
                    provider_id,
                    "no health answer within {HEALTH_WITHIN:?}; re-delivering its links anyway"
                );
            }
            tokio::time::sleep(SETTLE).await;
            if let Err(e) = redeliver(&ctl, &provider_id).await {
                warn!(provider_id, "could not re-deliver links: {e:#}");
            }
        });
    }
    Ok(())
}

/// Asks the provider's health subject until it answers (true) or [`HEALTH_WITHIN`] passes.
async fn answers_health_check(nats: &async_nats::Client, subject: String) -> bool {
    let deadline = tokio::time::Instant::now() + HEALTH_WITHIN;
    while tokio::time::Instant::now() < deadline {
        let asked = nats.request(subject.clone(), "{}".into());
        if let Ok(Ok(_)) = tokio::time::timeout(HEALTH_EVERY, asked).await {
            return true;
        }
        // No responders is an immediate error: wait before asking again.
        tokio::time::sleep(HEALTH_EVERY).await;
    }
    false
}

/// The provider id of a `provider_started` CloudEvent from this host.
fn started_here(payload: &[u8], host_id: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let data = &event["data"];
    (data["host_id"].as_str()? == host_id)
        .then(|| data["provider_id"].as_str().map(String::from))?
}

async fn redeliver(ctl: &Client, provider_id: &str) -> anyhow::Result<()> {
    let links = ctl
        .get_links()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_data()
        .unwrap_or_default();
    let links: Vec<_> = links
        .into_iter()
        .filter(|link| link.source_id() == provider_id || link.target() == provider_id)
        .collect();
    if links.is_empty() {
        debug!(provider_id, "no links to re-deliver");
        return Ok(());
    }
    info!(
        provider_id,
        count = links.len(),
        "re-delivering links to the started provider (start-up race of wasmcloud-host 0.27.1)"
    );
    for link in links {
        let name = format!("{} -> {}", link.source_id(), link.target());
        let deleted = ctl
            .delete_link(
                link.source_id(),
                link.name(),
                link.wit_namespace(),
                link.wit_package(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tokio::time::sleep(RELEASE).await;
        if !deleted.succeeded() {
            warn!(
                provider_id,
                link = name,
                "delete refused: {}",
                deleted.message()
            );
        }
        let put = ctl
            .put_link(link)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !put.succeeded() {
            warn!(
                provider_id,
                link = name,
                "re-put refused: {}",
                put.message()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::started_here;

    #[test]
    fn picks_provider_started_on_this_host_only() {
        let event = br#"{"specversion":"1.0","type":"com.wasmcloud.lattice.provider_started",
            "data":{"host_id":"NHOST","provider_id":"app-logging","image_ref":"file:///x"}}"#;
        assert_eq!(started_here(event, "NHOST").as_deref(), Some("app-logging"));
        assert_eq!(started_here(event, "NOTHER"), None);
        assert_eq!(started_here(b"not json", "NHOST"), None);
    }
}
