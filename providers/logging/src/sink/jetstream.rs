//! The `nats` sink: one JetStream message per record, published with acks.
//!
//! A batch is published in one round (all messages sent, then all acks awaited), unacknowledged
//! records are retried a bounded number of times, and if some never get an ack the ones that
//! did are deleted again, so a failed batch leaves nothing in the stream. Every message carries
//! `Nats-Msg-Id: <provider instance>-<seq>`: a retry of a record whose ack was lost is dropped
//! by the stream's duplicate window instead of stored twice.

use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, context::Publish, stream};
use async_trait::async_trait;
use bytes::Bytes;
use futures::future::join_all;
use tokio::sync::Mutex;

use super::{Batch, Sink};
use crate::config::NatsSettings;

/// Stream creation and subject updates read-modify-write the stream config; doing them one at
/// a time in this provider keeps two link puts from overwriting each other's subject.
static STREAM_SETUP: Mutex<()> = Mutex::const_new(());

/// Management requests (create, update, delete) are rare; give them more time than an ack.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Room left in `max_payload` for a message's JetStream headers (Nats-Msg-Id, expected stream).
const HEADER_ALLOWANCE: usize = 256;

pub struct JetStreamSink {
    client: async_nats::Client,
    publisher: jetstream::Context,
    admin: jetstream::Context,
    stream: String,
    subject: String,
    retries: u32,
    msg_id_prefix: String,
    /// What the last batch stored, while it may still have to be taken back.
    last: Option<Published>,
}

/// Stream sequences of the records a batch stored, so they can be deleted again.
#[derive(Debug, Default)]
pub struct Published {
    sequences: Vec<u64>,
}

impl JetStreamSink {
    /// Makes sure the stream exists and takes the link's subject: creates it if absent, adds
    /// the subject if the stream exists without it. Failing here fails the link put.
    pub async fn connect(
        settings: &NatsSettings,
        client: async_nats::Client,
        msg_id_prefix: String,
    ) -> Result<Self, String> {
        let mut publisher = jetstream::new(client.clone());
        publisher.set_timeout(settings.ack_timeout);
        let mut admin = jetstream::new(client.clone());
        admin.set_timeout(ADMIN_TIMEOUT);
        ensure_stream(&admin, &settings.stream, &settings.subject).await?;
        Ok(Self {
            client,
            publisher,
            admin,
            stream: settings.stream.clone(),
            subject: settings.subject.clone(),
            retries: settings.retries,
            msg_id_prefix,
            last: None,
        })
    }

    /// The largest message the server takes; larger records are refused up front.
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Publishes `(seq, json)` records; `Ok` once every one is acknowledged by the stream.
    /// On `Err` the stream holds none of them (or the message says which could not be removed).
    pub async fn publish(&self, records: &[(u64, Bytes)]) -> Result<Published, String> {
        let mut acked: Vec<Option<u64>> = vec![None; records.len()];
        let mut pending: Vec<usize> = (0..records.len()).collect();
        let mut last_error = String::from("no attempt was made");
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            // A disconnected client would queue the messages and deliver them after we had
            // answered Err; refuse instead while the connection is down.
            let state = self.client.connection_state();
            if state != State::Connected {
                last_error = format!("NATS connection is {state:?}");
                continue;
            }
            let mut in_flight = Vec::with_capacity(pending.len());
            for &i in &pending {
                let (seq, payload) = &records[i];
                let message = Publish::build()
                    .payload(payload.clone())
                    .message_id(format!("{}-{seq}", self.msg_id_prefix))
                    .expected_stream(&self.stream);
                match self
                    .publisher
                    .send_publish(self.subject.clone(), message)
                    .await
                {
                    Ok(ack) => in_flight.push((i, ack)),
                    Err(e) => last_error = e.to_string(),
                }
            }
            let results = join_all(
                in_flight
                    .into_iter()
                    .map(|(i, ack)| async move { (i, ack.await) }),
            )
            .await;
            for (i, result) in results {
                match result {
                    Ok(ack) => acked[i] = Some(ack.sequence),
                    Err(e) => last_error = e.to_string(),
                }
            }
            pending.retain(|&i| acked[i].is_none());
            if pending.is_empty() {
                return Ok(Published {
                    sequences: acked.into_iter().flatten().collect(),
                });
            }
        }
        let published = Published {
            sequences: acked.into_iter().flatten().collect(),
        };
        let mut msg = format!(
            "JetStream stream {} did not acknowledge {} of {} record(s) on {} after {} attempt(s): {last_error}",
            self.stream,
            pending.len(),
            records.len(),
            self.subject,
            self.retries + 1,
        );
        if let Err(undo) = self.undo(published).await {
            msg.push_str("; ");
            msg.push_str(&undo);
        }
        Err(msg)
    }

    /// Deletes the messages of a batch that a later sink (or a later attempt) failed.
    pub async fn undo(&self, published: Published) -> Result<(), String> {
        if published.sequences.is_empty() {
            return Ok(());
        }
        let stream = self.admin.get_stream(&self.stream).await.map_err(|e| {
            format!(
                "{} record(s) stay in stream {} (cannot open it to remove them: {e})",
                published.sequences.len(),
                self.stream
            )
        })?;
        let mut left = Vec::new();
        for seq in published.sequences {
            if let Err(e) = stream.delete_message(seq).await {
                left.push(format!("{seq} ({e})"));
            }
        }
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "could not remove stream {} sequence(s) {}",
                self.stream,
                left.join(", ")
            ))
        }
    }

    pub async fn flush(&self) -> Result<(), String> {
        self.client
            .flush()
            .await
            .map_err(|e| format!("cannot flush NATS connection: {e}"))
    }
}

#[async_trait]
impl Sink for JetStreamSink {
    fn describe(&self) -> String {
        format!("stream {} ({})", self.stream, self.subject)
    }

    fn kind(&self) -> &'static str {
        "nats"
    }

    fn can_undo(&self) -> bool {
        true
    }

    fn max_record_len(&self) -> Option<usize> {
        Some(self.max_payload().saturating_sub(HEADER_ALLOWANCE))
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), String> {
        let records: Vec<(u64, Bytes)> = batch.records().collect();
        self.last = None;
        self.last = Some(self.publish(&records).await?);
        Ok(())
    }

    async fn undo_last(&mut self) -> Result<(), String> {
        match self.last.take() {
            Some(published) => self.undo(published).await,
            None => Ok(()),
        }
    }

    async fn finish(&mut self) -> Result<(), String> {
        self.flush().await
    }
}

async fn ensure_stream(js: &jetstream::Context, name: &str, subject: &str) -> Result<(), String> {
    let _guard = STREAM_SETUP.lock().await;
    let config = stream::Config {
        name: name.to_string(),
        subjects: vec![subject.to_string()],
        ..Default::default()
    };
    let mut stream = js
        .get_or_create_stream(config)
        .await
        .map_err(|e| format!("cannot create or open JetStream stream {name}: {e}"))?;
    let info = stream
        .info()
        .await
        .map_err(|e| format!("cannot read JetStream stream {name}: {e}"))?;
    if info
        .config
        .subjects
        .iter()
        .any(|p| subject_matches(p, subject))
    {
        return Ok(());
    }
    let mut config = info.config.clone();
    config.subjects.push(subject.to_string());
    js.update_stream(config).await.map_err(|e| {
        format!(
            "JetStream stream {name} does not take subject {subject}, and adding it failed: {e}"
        )
    })?;
    Ok(())
}

/// NATS subject matching: `*` matches one token, `>` the rest (one or more tokens).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for p in pattern.split('.') {
        match (p, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(s)) if p == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// 50 ms, 100 ms, 200 ms ... capped at 1 s: enough for a leader election blip, short enough to
/// stay within the caller's RPC timeout with the default retry count.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(25u64 << attempt.min(6)).min(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_patterns() {
        assert!(subject_matches("neon.logs.>", "neon.logs.default.app"));
        assert!(subject_matches("neon.logs.*.app", "neon.logs.default.app"));
        assert!(subject_matches(
            "neon.logs.default.app",
            "neon.logs.default.app"
        ));
        assert!(!subject_matches("neon.logs.>", "neon.logs"));
        assert!(!subject_matches("neon.logs.*", "neon.logs.default.app"));
        assert!(!subject_matches(
            "neon.logs.default.app",
            "neon.logs.default"
        ));
        assert!(!subject_matches("other.>", "neon.logs.default.app"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(200));
        assert_eq!(backoff(50), Duration::from_secs(1));
    }
}
