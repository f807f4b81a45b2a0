//! Figure 3, the linked side, three calls on the same nats-server, each timed sequentially:
//!
//! - one `cyber:system/logging.log` call into the logger component, as the host makes it for the
//!   processor: wRPC on NATS to the logger's subject prefix `<lattice>.<component id>`; the host
//!   instantiates the logger, which calls `sink.write` on the logging provider (awaited) before
//!   the call completes;
//! - one `cyber:system/sink.write` call into the logging provider, as the host makes it for the
//!   logger (the same caller identity in the headers): one component -> provider call;
//! - one plain NATS request/reply to a responder on the same connection's server: the floor for
//!   any call over NATS.
//!
//! Each sample waits for its answer, so each is a full round trip.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wrpc_transport::InvokeExt as _;

/// Client bindings from the contract itself (wit/system).
mod client {
    wit_bindgen_wrpc::generate!({
        world: "neon:bench-client/client",
        generate_all,
        inline: "package neon:bench-client;
                 world client {
                     import cyber:system/logging@0.1.0;
                     import cyber:system/sink@0.1.0;
                 }",
        path: "../wit/system",
    });
}

use client::cyber::system::types::Level;
use client::cyber::system::{logging, sink};
use neon_ops::auth::{Auth, Role};

/// No call on loopback takes this long; one that does has lost its answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the calls go and how many to time.
pub struct Calls<'a> {
    pub nats_url: &'a str,
    pub lattice: &'a str,
    pub warmup: usize,
    pub timed: usize,
}

impl Calls<'_> {
    /// A connection with the identity a host's invocations use.
    async fn connect(&self) -> Result<async_nats::Client> {
        let creds = Auth::ensure()?.creds(Role::Providers);
        async_nats::ConnectOptions::with_credentials_file(&creds)
            .await
            .with_context(|| format!("reading {}", creds.display()))?
            .connect(self.nats_url)
            .await
            .with_context(|| format!("connecting to NATS at {}", self.nats_url))
    }

    /// A wRPC client for calls to the lattice entity `id`.
    async fn wrpc(&self, id: &str) -> Result<wrpc_transport_nats::Client> {
        let prefix = format!("{}.{id}", self.lattice);
        wrpc_transport_nats::Client::new(self.connect().await?, prefix, None)
            .await
            .context("creating the wRPC client")
    }

    /// Times `call` `timed` times after `warmup` untimed calls, one after another; µs per call.
    ///
    /// Run it on Tokio's current-thread runtime: one thread for client and demux keeps the
    /// timing free of cross-thread wake-ups.
    async fn time<F, Fut>(&self, what: &str, mut call: F) -> Result<Vec<f64>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut samples = Vec::with_capacity(self.timed);
        for i in 0..self.warmup + self.timed {
            let start = Instant::now();
            tokio::time::timeout(CALL_TIMEOUT, call())
                .await
                .with_context(|| format!("{what} {i}: no answer within {CALL_TIMEOUT:?}"))?
                .with_context(|| format!("{what} {i}"))?;
            if i >= self.warmup {
                samples.push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
        Ok(samples)
    }

    /// `logging.log` calls into the logger component `logger_id`.
    pub async fn log_calls(&self, logger_id: &str) -> Result<Vec<f64>> {
        let client = self.wrpc(logger_id).await?;
        let wrpc = client.timeout(CALL_TIMEOUT);
        self.time("logging.log call", || async {
            logging::log(&wrpc, None, "neon bench: one linked log call", Level::Info).await
        })
        .await
    }

    /// `sink.write` calls of one record into the logging provider `provider_id`, made as the
    /// host makes them for the logger `logger_id` (the provider finds the link by the caller).
    pub async fn sink_write_calls(&self, provider_id: &str, logger_id: &str) -> Result<Vec<f64>> {
        let client = self.wrpc(provider_id).await?;
        let wrpc = client.timeout(CALL_TIMEOUT);
        let entries = [sink::Entry {
            level: Level::Info,
            message: "neon bench: one component -> provider call".to_string(),
            source: "neon-bench".to_string(),
            timestamp_ms: 0,
        }];
        self.time("sink.write call", || async {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("source-id", logger_id);
            headers.insert("link-name", "default");
            sink::write(&wrpc, Some(headers), &entries)
                .await?
                .map_err(|refused| anyhow::anyhow!("the provider refused the record: {refused}"))
        })
        .await
    }

    /// Plain NATS requests to a responder that answers each at once, on the same server.
    pub async fn nats_requests(&self) -> Result<Vec<f64>> {
        let nats = self.connect().await?;
        // A subject of the shape wRPC invocations use, which the host identity may use too.
        let subject = format!("{}.neon-bench.wrpc.echo", self.lattice);
        let mut requests = nats
            .subscribe(subject.clone())
            .await
            .context("subscribing the responder")?;
        let responder = nats.clone();
        let answering = tokio::spawn(async move {
            use wit_bindgen_wrpc::futures::StreamExt as _;
            while let Some(request) = requests.next().await {
                if let Some(reply) = request.reply {
                    if responder.publish(reply, request.payload).await.is_err() {
                        return;
                    }
                }
            }
        });
        let timed = self
            .time("NATS request", || async {
                nats.request(
                    subject.clone(),
                    wit_bindgen_wrpc::bytes::Bytes::from_static(b"ping"),
                )
                .await
                .map(drop)
                .map_err(anyhow::Error::from)
            })
            .await;
        answering.abort();
        timed
    }
}
