//! One writer task per link: group commit of concurrent calls, all-or-nothing across sinks.
//!
//! Callers queue their records and wait for the answer. The task takes every request waiting
//! in the queue, encodes them into one buffer, and commits that buffer with one JetStream round
//! of acks, one file write (+ one fsync) and one stdout write. Sinks run in the order in which
//! they can be undone: JetStream (delete), then file (truncate), then stdout (cannot be taken
//! back, so last). If any fails, the earlier ones are undone and every caller in the group gets
//! the error: they share the link, hence the sinks and the cause.
//!
//! A link owns its sinks exclusively (the provider refuses two links on one file), so rotation
//! and truncation never race another writer.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{block_in_place, JoinHandle};
use tracing::{debug, warn};

use crate::config::Fsync;
use crate::record::{encode_line, Record, Stamp};
use crate::sink::jetstream::{JetStreamSink, Published};
use crate::sink::{file::FileSink, stdout};
use crate::stats::Stats;

/// Requests taken into one group commit at most; bounds the buffer and the ack round.
const MAX_GROUP_REQUESTS: usize = 1024;
const MAX_GROUP_BYTES: usize = 8 * 1024 * 1024;
/// Queue depth per link. Callers wait for their answer, so it only fills when more calls are
/// in flight than this; then senders wait (backpressure) rather than anything being dropped.
const QUEUE_DEPTH: usize = 1024;
/// Bytes kept free for the JetStream headers of a message when checking `max_payload`.
const HEADER_ALLOWANCE: usize = 256;
/// How long a replacing writer waits for the one it replaces.
const CLOSE_PREVIOUS_WITHIN: Duration = Duration::from_secs(10);

/// Provider-wide state every writer needs.
pub struct Shared {
    pub stamp: Stamp,
    /// `seq` of the record schema: one counter for the whole provider process.
    pub seq: AtomicU64,
    pub stats: Stats,
}

impl Shared {
    pub fn new(stamp: Stamp) -> Self {
        Self {
            stamp,
            seq: AtomicU64::new(1),
            stats: Stats::default(),
        }
    }
}

/// The sinks one link writes to.
pub struct Sinks {
    pub stdout: bool,
    pub file: Option<FileSink>,
    pub fsync: Fsync,
    pub nats: Option<JetStreamSink>,
}

struct Request {
    records: Vec<Record>,
    reply: oneshot::Sender<Result<(), String>>,
}

/// Where callers send records; cheap to clone into each invocation.
#[derive(Clone)]
pub struct Queue(mpsc::Sender<Request>);

impl Queue {
    /// Queues the records and waits until every sink of the link holds them, or for the reason
    /// none does.
    pub async fn write(&self, records: Vec<Record>) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Request { records, reply })
            .await
            .map_err(|_| "the link is closing; nothing was written".to_string())?;
        answer
            .await
            .map_err(|_| "the link's writer stopped; nothing was written".to_string())?
    }
}

/// A running writer: its queue and its task.
pub struct Writer {
    queue: Queue,
    task: JoinHandle<()>,
}

impl Writer {
    /// Starts the task. Requires the multi-threaded Tokio runtime (file and stdout writes run
    /// in `block_in_place`, so a slow disk stalls only this link). With `previous` (the writer
    /// of the link this one replaces), calls queue up at once but are written only after the
    /// previous writer has finished, so two writers never append to one file together.
    pub fn spawn(
        sinks: Sinks,
        shared: Arc<Shared>,
        label: String,
        previous: Option<Writer>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let committer = Committer {
            sinks,
            shared,
            label,
        };
        let task = tokio::spawn(async move {
            if let Some(previous) = previous {
                previous.close(CLOSE_PREVIOUS_WITHIN).await;
            }
            run(rx, committer).await;
        });
        Self {
            queue: Queue(tx),
            task,
        }
    }

    pub fn queue(&self) -> Queue {
        self.queue.clone()
    }

    /// Stops taking new work, lets the queued calls finish, syncs and flushes the sinks. Calls
    /// still holding a clone of the queue keep it open until they are answered.
    pub async fn close(self, within: Duration) {
        drop(self.queue);
        if tokio::time::timeout(within, self.task).await.is_err() {
            warn!(?within, "a link writer did not finish in time");
        }
    }
}

async fn run(mut rx: mpsc::Receiver<Request>, mut committer: Committer) {
    if let Some(file) = committer.sinks.file.as_mut() {
        // The file may have grown since it was opened (a previous writer of this link).
        if let Err(e) = block_in_place(|| file.refresh_len()) {
            warn!(link = %committer.label, error = %e, "cannot re-read the file length");
        }
    }
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        // `always` means every call is synced on its own: no group commit.
        if committer.sinks.fsync != Fsync::Always {
            let mut bytes: usize = group[0].records.iter().map(approx_len).sum();
            while group.len() < MAX_GROUP_REQUESTS && bytes < MAX_GROUP_BYTES {
                match rx.try_recv() {
                    Ok(req) => {
                        bytes += req.records.iter().map(approx_len).sum::<usize>();
                        group.push(req);
                    }
                    Err(_) => break,
                }
            }
        }
        committer.commit(group).await;
    }
    committer.finish().await;
}

fn approx_len(r: &Record) -> usize {
    r.message.len() + r.source.len() + 128
}

struct Committer {
    sinks: Sinks,
    shared: Arc<Shared>,
    label: String,
}

impl Committer {
    async fn commit(&mut self, group: Vec<Request>) {
        let max_payload = self.sinks.nats.as_ref().map(JetStreamSink::max_payload);
        let mut buf = Vec::new();
        let mut lines: Vec<(u64, Range<usize>)> = Vec::new();
        let mut callers = Vec::with_capacity(group.len());
        let mut records = 0u64;
        for req in group {
            let (buf_start, lines_start) = (buf.len(), lines.len());
            let mut oversized = None;
            for record in &req.records {
                let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
                let start = buf.len();
                let len = encode_line(&mut buf, record, &self.shared.stamp, seq);
                // Headers (Nats-Msg-Id, expected stream) count against max_payload too.
                if max_payload.is_some_and(|max| len + HEADER_ALLOWANCE > max) {
                    oversized = Some(len);
                }
                lines.push((seq, start..start + len));
            }
            // Refused alone, before anything is written: the other callers are not at fault.
            if let (Some(len), Some(max)) = (oversized, max_payload) {
                buf.truncate(buf_start);
                lines.truncate(lines_start);
                let msg = format!(
                    "a record is {len} bytes as JSON, more than the NATS server's max_payload of {max}; nothing was written"
                );
                self.shared.stats.batch_failed(&self.label, 1, &msg);
                let _ = req.reply.send(Err(msg));
                continue;
            }
            records += req.records.len() as u64;
            callers.push(req.reply);
        }
        if callers.is_empty() {
            return;
        }
        let buf = Bytes::from(buf);
        let result = self.write_all_sinks(&buf, &lines).await;
        match &result {
            Ok(()) => {
                self.shared.stats.batch_ok(&self.label, records);
                debug!(link = %self.label, records, calls = callers.len(), "batch written");
            }
            Err(e) => {
                self.shared
                    .stats
                    .batch_failed(&self.label, callers.len() as u64, e);
                warn!(link = %self.label, records, error = %e, "batch refused");
            }
        }
        for caller in callers {
            // A caller that gave up (timeout) has dropped its receiver; nothing to tell it.
            let _ = caller.send(result.clone());
        }
    }

    async fn write_all_sinks(
        &mut self,
        buf: &Bytes,
        lines: &[(u64, Range<usize>)],
    ) -> Result<(), String> {
        let published = match &self.sinks.nats {
            Some(nats) => {
                let records: Vec<(u64, Bytes)> = lines
                    .iter()
                    .map(|(seq, range)| (*seq, buf.slice(range.clone())))
                    .collect();
                Some(nats.publish(&records).await?)
            }
            None => None,
        };

        let sync = self.sinks.fsync != Fsync::Never;
        let mark = match self.sinks.file.as_mut() {
            Some(file) => match block_in_place(|| file.append(buf, sync)) {
                Ok(mark) => Some(mark),
                Err(e) => return Err(self.undo_nats(published, e).await),
            },
            None => None,
        };

        if self.sinks.stdout {
            if let Err(mut e) = block_in_place(|| stdout::write(buf)) {
                if let (Some(file), Some(mark)) = (self.sinks.file.as_mut(), mark) {
                    if let Err(undo) = block_in_place(|| file.undo(mark)) {
                        e.push_str("; ");
                        e.push_str(&undo);
                    }
                }
                return Err(self.undo_nats(published, e).await);
            }
        }
        Ok(())
    }

    /// Deletes the batch from the stream after a later sink failed; returns the error to report.
    async fn undo_nats(&self, published: Option<Published>, mut error: String) -> String {
        if let (Some(nats), Some(published)) = (&self.sinks.nats, published) {
            if let Err(undo) = nats.undo(published).await {
                error.push_str("; ");
                error.push_str(&undo);
            }
        }
        error
    }

    /// Runs when the queue is closed and drained: nothing may stay in a buffer.
    async fn finish(&mut self) {
        if let Some(file) = self.sinks.file.as_mut() {
            if let Err(e) = block_in_place(|| file.sync()) {
                warn!(link = %self.label, error = %e, "final sync failed");
            }
        }
        if self.sinks.stdout {
            if let Err(e) = block_in_place(stdout::flush) {
                warn!(link = %self.label, error = %e, "final stdout flush failed");
            }
        }
        if let Some(nats) = &self.sinks.nats {
            if let Err(e) = nats.flush().await {
                warn!(link = %self.label, error = %e, "final NATS flush failed");
            }
        }
        debug!(link = %self.label, "writer finished");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileSettings;
    use crate::record::Level;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::new(Stamp {
            host_id: "NHOST".into(),
            lattice: "test".into(),
        }))
    }

    fn file_sinks(path: &std::path::Path, fsync: Fsync) -> Sinks {
        Sinks {
            stdout: false,
            file: Some(
                FileSink::open(FileSettings {
                    path: path.to_path_buf(),
                    max_bytes: u64::MAX,
                    keep: 1,
                    fsync,
                })
                .unwrap(),
            ),
            fsync,
            nats: None,
        }
    }

    fn record(message: String) -> Record {
        Record {
            timestamp_ms: 1,
            level: Level::Info,
            source: "test".into(),
            message,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_all_land_with_unique_sequence_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        let shared = shared();
        let writer = Writer::spawn(
            file_sinks(&path, Fsync::Batch),
            shared.clone(),
            "t".into(),
            None,
        );
        let calls = (0..64).map(|i| {
            let queue = writer.queue();
            tokio::spawn(async move {
                queue
                    .write(vec![record(format!("{i}-a")), record(format!("{i}-b"))])
                    .await
            })
        });
        for call in futures::future::join_all(calls).await {
            call.unwrap().unwrap();
        }
        writer.close(Duration::from_secs(5)).await;

        let text = std::fs::read_to_string(&path).unwrap();
        let mut seqs: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs.len(), 128);
        // Within one call the two records are adjacent and in order.
        for pair in text.lines().collect::<Vec<_>>().chunks(2) {
            let a: serde_json::Value = serde_json::from_str(pair[0]).unwrap();
            let b: serde_json::Value = serde_json::from_str(pair[1]).unwrap();
            let (ma, mb) = (
                a["message"].as_str().unwrap(),
                b["message"].as_str().unwrap(),
            );
            assert_eq!(ma.trim_end_matches("-a"), mb.trim_end_matches("-b"));
        }
        let sorted = {
            let mut s = seqs.clone();
            s.sort_unstable();
            s
        };
        assert_eq!(seqs, sorted, "seq grows along the file");
        seqs.dedup();
        assert_eq!(seqs.len(), 128);
        assert!(shared.stats.health(1).0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_file_fails_every_call_of_the_group() {
        let dev_full = std::path::Path::new("/dev/full");
        if !dev_full.exists() {
            return;
        }
        let shared = shared();
        let writer = Writer::spawn(
            file_sinks(dev_full, Fsync::Batch),
            shared.clone(),
            "t".into(),
            None,
        );
        let err = writer
            .queue()
            .write(vec![record("x".into())])
            .await
            .unwrap_err();
        assert!(err.contains("/dev/full"), "{err}");
        let (healthy, msg) = shared.stats.health(1);
        assert!(!healthy);
        assert!(msg.contains("failed_calls=1"), "{msg}");
        writer.close(Duration::from_secs(5)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_answers_queued_calls_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        let writer = Writer::spawn(file_sinks(&path, Fsync::Never), shared(), "t".into(), None);
        let queue = writer.queue();
        let pending = tokio::spawn(async move { queue.write(vec![record("last".into())]).await });
        // Give the call time to be queued, then close while it may still be in flight.
        tokio::task::yield_now().await;
        writer.close(Duration::from_secs(5)).await;
        pending.await.unwrap().unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"last\""));
    }
}
