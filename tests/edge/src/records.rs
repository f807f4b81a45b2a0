//! The log records in the hub's JetStream stream NEON_LOGS, read by a client of our own (not
//! the provider's) with the log reader's credentials, which allow reading that stream and
//! nothing else: what the tests compare with the requests that got a 200.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use async_nats::jetstream;
use futures::StreamExt;
use neon_ops::auth::{Auth, Role, LOG_READER_INBOX};

pub const STREAM: &str = "NEON_LOGS";

pub struct Records {
    js: jetstream::Context,
}

/// One record's fields the tests need (providers/logging/README.md has the whole schema).
#[derive(Debug)]
pub struct Record {
    pub source: String,
    pub host_id: String,
    /// The request whose work wrote it.
    pub request: Option<String>,
}

impl Records {
    pub async fn connect(nats_port: u16) -> Result<Self> {
        let creds = Auth::ensure()?.creds(Role::LogReader);
        let client = async_nats::ConnectOptions::with_credentials_file(&creds)
            .await
            .with_context(|| format!("reading {}", creds.display()))?
            .custom_inbox_prefix(LOG_READER_INBOX)
            .connect(format!("127.0.0.1:{nats_port}"))
            .await
            .context("connecting to the hub's NATS as the log reader")?;
        // The hub's own JetStream: no domain prefix needed there.
        Ok(Self {
            js: jetstream::new(client),
        })
    }

    /// Records per subject (`neon.logs.<lattice>.<source>`).
    pub async fn count_by_subject(&self) -> Result<Vec<(String, usize)>> {
        let stream = self
            .js
            .get_stream(STREAM)
            .await
            .with_context(|| format!("stream {STREAM} on the hub"))?;
        let mut subjects = stream.info_with_subjects(">").await?;
        let mut counts = Vec::new();
        while let Some(entry) = subjects.next().await {
            counts.push(entry?);
        }
        counts.sort();
        Ok(counts)
    }

    pub async fn total(&self) -> Result<u64> {
        let mut stream = self.js.get_stream(STREAM).await?;
        Ok(stream.info().await?.state.messages)
    }

    pub async fn last_sequence(&self) -> Result<u64> {
        let mut stream = self.js.get_stream(STREAM).await?;
        Ok(stream.info().await?.state.last_sequence)
    }

    /// Records with sequence numbers in `after + 1 ..= last`, in order.
    async fn between(&self, after: u64, last: u64) -> Result<Vec<Record>> {
        let stream = self.js.get_stream(STREAM).await?;
        let mut records = Vec::new();
        for seq in after + 1..=last {
            let message = stream.get_raw_message(seq).await?;
            let json: serde_json::Value = serde_json::from_slice(&message.payload)
                .with_context(|| format!("record {seq} is not JSON"))?;
            records.push(record(&json));
        }
        Ok(records)
    }

    /// Every record in the stream, read with one ordered consumer (fast for tens of thousands).
    pub async fn all(&self) -> Result<Vec<Record>> {
        use jetstream::consumer::pull::OrderedConfig;
        let mut stream = self.js.get_stream(STREAM).await?;
        let total = stream.info().await?.state.messages;
        let mut records = Vec::with_capacity(total as usize);
        if total == 0 {
            return Ok(records);
        }
        let consumer = stream.create_consumer(OrderedConfig::default()).await?;
        let mut messages = consumer.messages().await?;
        while let Some(message) = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .context("the stream stopped delivering")?
        {
            let message = message?;
            let json: serde_json::Value =
                serde_json::from_slice(&message.payload).context("a record is not JSON")?;
            records.push(record(&json));
            if message.info().is_ok_and(|info| info.pending == 0) {
                break;
            }
        }
        Ok(records)
    }

    /// Waits (bounded) until a record stored after sequence `after` matches `wanted`; whether one
    /// did. Each poll reads only the records that arrived since the previous one.
    pub async fn wait_for(
        &self,
        after: u64,
        limit: Duration,
        wanted: impl Fn(&Record) -> bool,
    ) -> Result<bool> {
        let deadline = Instant::now() + limit;
        let mut seen = after;
        loop {
            let last = self.last_sequence().await?;
            if self.between(seen, last).await?.iter().any(&wanted) {
                return Ok(true);
            }
            seen = last;
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits (bounded) until the stream holds at least `want` records; the count it saw last.
    pub async fn wait_total(&self, want: u64, limit: Duration) -> Result<u64> {
        let deadline = Instant::now() + limit;
        loop {
            let total = self.total().await?;
            if total >= want || Instant::now() >= deadline {
                return Ok(total);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn record(json: &serde_json::Value) -> Record {
    let text = |key: &str| json[key].as_str().unwrap_or_default().to_string();
    Record {
        source: text("source"),
        host_id: text("host_id"),
        request: json["request"].as_str().map(str::to_string),
    }
}
