//! The hub's log stream made to refuse every new record, as a full stream does: its message
//! limit set to what it holds, with new messages discarded, so JetStream answers each publish
//! with an error instead of storing it. The operator's credentials change it; [`Refusing::lift`]
//! puts the stream's own configuration back.

use anyhow::{Context, Result};
use async_nats::jetstream::{self, stream::DiscardPolicy};
use neon_ops::auth::{Auth, Role};

use crate::records::STREAM;

pub struct Refusing {
    js: jetstream::Context,
    original: jetstream::stream::Config,
}

/// Makes the hub's stream refuse new records; returns once the hub has applied it.
pub async fn refuse_new_records(nats_port: u16) -> Result<Refusing> {
    let creds = Auth::ensure()?.creds(Role::Operator);
    let client = async_nats::ConnectOptions::with_credentials_file(&creds)
        .await
        .with_context(|| format!("reading {}", creds.display()))?
        .connect(format!("127.0.0.1:{nats_port}"))
        .await
        .context("connecting to the hub's NATS as the operator")?;
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream(STREAM)
        .await
        .with_context(|| format!("stream {STREAM} on the hub"))?;
    let info = stream.info().await?;
    let original = info.config.clone();
    let held = i64::try_from(info.state.messages.max(1)).unwrap_or(i64::MAX);
    let full = jetstream::stream::Config {
        max_messages: held,
        discard: DiscardPolicy::New,
        ..original.clone()
    };
    js.update_stream(&full)
        .await
        .with_context(|| format!("limiting {STREAM} to the {held} records it holds"))?;
    Ok(Refusing { js, original })
}

impl Refusing {
    /// The stream takes records again, with its own limits.
    pub async fn lift(self) -> Result<()> {
        self.js
            .update_stream(&self.original)
            .await
            .with_context(|| format!("restoring {STREAM}'s configuration"))?;
        Ok(())
    }
}
