//! One writer task per link: group commit of concurrent calls, all-or-nothing across sinks.
//!
//! Callers queue their records and wait for the answer. The task takes every request waiting
//! in the queue, encodes them into one buffer, and hands that batch to each of the link's sinks
//! once (one JetStream round of acks, one file write and fsync, one stdout write). Sinks that
//! can take a batch back run first, the one that cannot (stdout) last. If any fails, the earlier
//! ones take the batch back and every caller in the group gets the error: they share the link,
//! hence the sinks and the cause.
//!
//! A link owns its sinks exclusively (the provider refuses two links on one file), so rotation
//! and truncation never race another writer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::record::{encode_line, Record, Stamp};
use crate::sink::{Batch, Sink};
use crate::stats::Stats;

/// Requests taken into one group commit at most; bounds the buffer and the ack round.
const MAX_GROUP_REQUESTS: usize = 1024;
const MAX_GROUP_BYTES: usize = 8 * 1024 * 1024;
/// Queue depth per link. Callers wait for their answer, so it only fills when more calls are
/// in flight than this; then senders wait (backpressure) rather than anything being dropped.
const QUEUE_DEPTH: usize = 1024;
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
pub type Sinks = Vec<Box<dyn Sink>>;

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
        mut sinks: Sinks,
        shared: Arc<Shared>,
        label: String,
        previous: Option<Writer>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        // Stable: sinks that can take a batch back first, in the order given.
        sinks.sort_by_key(|sink| !sink.can_undo());
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
    for sink in &mut committer.sinks {
        if let Err(e) = sink.prepare().await {
            warn!(link = %committer.label, sink = %sink.describe(), error = %e, "cannot prepare the sink");
        }
    }
    let group_commit = committer.sinks.iter().all(|sink| sink.groups_calls());
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        if group_commit {
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
        let max_len = self.sinks.iter().filter_map(|s| s.max_record_len()).min();
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        let mut callers = Vec::with_capacity(group.len());
        let mut records = 0u64;
        for req in group {
            let (buf_start, lines_start) = (buf.len(), lines.len());
            let mut oversized = None;
            for record in &req.records {
                let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
                let start = buf.len();
                let len = encode_line(&mut buf, record, &self.shared.stamp, seq);
                if max_len.is_some_and(|max| len > max) {
                    oversized = Some(len);
                }
                lines.push((seq, start..start + len));
            }
            // Refused alone, before anything is written: the other callers are not at fault.
            if let (Some(len), Some(max)) = (oversized, max_len) {
                buf.truncate(buf_start);
                lines.truncate(lines_start);
                let msg = format!(
                    "a record is {len} bytes as JSON, more than the {max} bytes a sink of this link takes (the NATS server's max_payload, less room for headers); nothing was written"
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
        let batch = Batch {
            buf: Bytes::from(buf),
            lines,
        };
        let result = self.write_all_sinks(&batch).await;
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

    /// Every sink in turn; on a failure the sinks before it take the batch back.
    async fn write_all_sinks(&mut self, batch: &Batch) -> Result<(), String> {
        for failed in 0..self.sinks.len() {
            let sink = &mut self.sinks[failed];
            let started = Instant::now();
            let written = sink.write(batch).await;
            let metrics = &self.shared.stats.metrics;
            let Err(mut error) = written else {
                metrics.sink_wrote(sink.kind(), batch.lines.len(), started.elapsed());
                continue;
            };
            metrics.sink_failed(sink.kind(), started.elapsed());
            for sink in self.sinks[..failed].iter_mut().rev() {
                if let Err(undo) = sink.undo_last().await {
                    error.push_str("; ");
                    error.push_str(&undo);
                }
            }
            return Err(error);
        }
        Ok(())
    }

    /// Runs when the queue is closed and drained: nothing may stay in a buffer.
    async fn finish(&mut self) {
        for sink in &mut self.sinks {
            if let Err(e) = sink.finish().await {
                warn!(link = %self.label, sink = %sink.describe(), error = %e, "final flush failed");
            }
        }
        debug!(link = %self.label, "writer finished");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileSettings, Fsync};
    use crate::record::Level;
    use crate::sink::file::FileSink;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::new(Stamp {
            host_id: "NHOST".into(),
            lattice: "test".into(),
        }))
    }

    fn file_sinks(path: &std::path::Path, fsync: Fsync) -> Sinks {
        let file = FileSink::open(FileSettings {
            path: path.to_path_buf(),
            max_bytes: u64::MAX,
            keep: 1,
            fsync,
        })
        .unwrap();
        vec![Box::new(file)]
    }

    fn record(message: String) -> Record {
        Record {
            timestamp_ms: 1,
            level: Level::Info,
            source: "test".into(),
            message,
            request: None,
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

    /// A sink that records what happened to it, in a log shared by the sinks of one test.
    struct Probe {
        name: &'static str,
        can_undo: bool,
        fails: bool,
        log: Arc<std::sync::Mutex<Vec<String>>>,
    }

    impl Probe {
        fn note(&self, what: &str) {
            self.log
                .lock()
                .unwrap()
                .push(format!("{} {what}", self.name));
        }
    }

    #[async_trait::async_trait]
    impl Sink for Probe {
        fn describe(&self) -> String {
            self.name.into()
        }
        fn kind(&self) -> &'static str {
            "probe"
        }
        fn can_undo(&self) -> bool {
            self.can_undo
        }
        async fn write(&mut self, batch: &Batch) -> Result<(), String> {
            self.note(&format!("write {}", batch.lines.len()));
            if self.fails {
                return Err(format!("{} is broken", self.name));
            }
            Ok(())
        }
        async fn undo_last(&mut self) -> Result<(), String> {
            self.note("undo");
            Ok(())
        }
        async fn finish(&mut self) -> Result<(), String> {
            self.note("finish");
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_sink_makes_the_earlier_ones_take_the_batch_back() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let probe = |name, can_undo, fails| -> Box<dyn Sink> {
            Box::new(Probe {
                name,
                can_undo,
                fails,
                log: log.clone(),
            })
        };
        // Given in an order that would write the one that cannot undo first.
        let sinks: Sinks = vec![
            probe("screen", false, false),
            probe("stream", true, false),
            probe("disk", true, true),
        ];
        let writer = Writer::spawn(sinks, shared(), "t".into(), None);
        let err = writer
            .queue()
            .write(vec![record("a".into()), record("b".into())])
            .await
            .unwrap_err();
        assert_eq!(err, "disk is broken");
        writer.close(Duration::from_secs(5)).await;
        assert_eq!(
            *log.lock().unwrap(),
            [
                "stream write 2",
                "disk write 2",
                "stream undo",
                "stream finish",
                "disk finish",
                "screen finish"
            ],
            "undoable sinks first, the failed batch taken back, never shown on the screen"
        );
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
