//! The places a record can go, behind one trait. A link's writer hands each of its sinks the
//! same batch; a sink takes the whole batch or none of it, and can be asked to take back the
//! batch it last took when a later sink of the link fails. Sinks that can do that run first,
//! so that a failure in one that cannot (stdout) never leaves records behind elsewhere.
//!
//! A new sink is one file here implementing [`Sink`], its settings in `config.rs`, and one line
//! in the provider where a link's sinks are opened.

use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;

pub mod file;
pub mod jetstream;
pub mod stdout;

/// One group commit: whole JSON lines in one buffer, and each record's `seq` and byte range.
pub struct Batch {
    pub buf: Bytes,
    pub lines: Vec<(u64, Range<usize>)>,
}

impl Batch {
    /// Each record alone, for sinks that store records one by one.
    pub fn records(&self) -> impl Iterator<Item = (u64, Bytes)> + '_ {
        self.lines
            .iter()
            .map(|(seq, range)| (*seq, self.buf.slice(range.clone())))
    }
}

#[async_trait]
pub trait Sink: Send {
    /// Names the sink in the writer's log lines (`file /var/neon/app.jsonl`).
    fn describe(&self) -> String;

    /// The sink's kind as the `sinks` config names it (`file`): its metrics' label.
    fn kind(&self) -> &'static str;

    /// Whether [`Sink::undo_last`] can take a batch back; the writer runs these sinks first.
    fn can_undo(&self) -> bool;

    /// Whether concurrent calls may share one write. A sink that promises each call its own
    /// write (a file with `fsync=always`) turns group commit off for its link.
    fn groups_calls(&self) -> bool {
        true
    }

    /// The largest encoded record the sink takes; a larger one is refused before any write.
    fn max_record_len(&self) -> Option<usize> {
        None
    }

    /// Runs once before the first batch: the sink may have changed since it was opened (a
    /// previous writer of the same link appended to the file meanwhile).
    async fn prepare(&mut self) -> Result<(), String> {
        Ok(())
    }

    /// Writes the whole batch, or on `Err` none of it.
    async fn write(&mut self, batch: &Batch) -> Result<(), String>;

    /// Takes back the batch of the last successful `write`.
    async fn undo_last(&mut self) -> Result<(), String>;

    /// Runs when the link's writer stops: nothing may stay in a buffer.
    async fn finish(&mut self) -> Result<(), String>;
}
