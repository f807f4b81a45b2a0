//! The file sink: JSON lines appended to one file, size-based rotation, all-or-nothing batches.
//!
//! A batch is one `write_all` of a buffer that holds whole lines. If the write fails part-way
//! (disk full), the file is truncated back to its length before the batch, so a reader never
//! sees half a batch; the same truncation undoes a batch when a later sink of the link fails.
//! Rotation happens before a batch, never inside one, so a batch always lands in one file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::task::block_in_place;

use super::{Batch, Sink};
use crate::config::{FileSettings, Fsync};

/// Where a batch started, so it can be taken back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    generation: u64,
    len: u64,
}

pub struct FileSink {
    settings: FileSettings,
    file: File,
    /// Bytes in the current file, tracked here so rotation needs no stat per batch.
    len: u64,
    /// Bumped on every rotation: a mark from an older file cannot truncate the new one.
    generation: u64,
    /// Where the last batch started, while it may still have to be taken back.
    last: Option<Mark>,
}

impl FileSink {
    /// Creates the parent directory and opens (or creates) the file for appending. Failing here
    /// fails the link put, so a bad path is reported when the link is made, not at first write.
    pub fn open(settings: FileSettings) -> Result<Self, String> {
        let file = open_append(&settings.path)?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot stat {}: {e}", settings.path.display()))?
            .len();
        Ok(Self {
            settings,
            file,
            len,
            generation: 0,
            last: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.settings.path
    }

    /// Re-reads the length from the file system (someone else appended since `open`).
    pub fn refresh_len(&mut self) -> Result<(), String> {
        self.len = self
            .file
            .metadata()
            .map_err(|e| format!("cannot stat {}: {e}", self.settings.path.display()))?
            .len();
        Ok(())
    }

    /// Appends a buffer of whole lines; with `sync`, it is on disk when this returns `Ok`.
    /// On `Err` nothing of `buf` remains in the file.
    pub fn append(&mut self, buf: &[u8], sync: bool) -> Result<Mark, String> {
        if self.len > 0 && self.len.saturating_add(buf.len() as u64) > self.settings.max_bytes {
            self.rotate()?;
        }
        let mark = Mark {
            generation: self.generation,
            len: self.len,
        };
        let written =
            self.file.write_all(buf).and_then(
                |()| {
                    if sync {
                        self.file.sync_data()
                    } else {
                        Ok(())
                    }
                },
            );
        match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(mark)
            }
            Err(e) => {
                let mut msg = format!("cannot write {}: {e}", self.settings.path.display());
                if let Err(undo) = self.truncate_to(mark.len) {
                    msg.push_str(&format!("; and could not remove the partial batch: {undo}"));
                }
                Err(msg)
            }
        }
    }

    /// Takes back everything appended since `mark` (a later sink of the same batch failed).
    pub fn undo(&mut self, mark: Mark) -> Result<(), String> {
        if mark.generation != self.generation {
            // Cannot happen within one batch (rotation only precedes a write); refuse rather
            // than truncate a file the mark does not describe.
            return Err(format!(
                "cannot take back the batch in {}: the file was rotated",
                self.settings.path.display()
            ));
        }
        self.truncate_to(mark.len)
    }

    /// fsync regardless of policy: used at shutdown so that `fsync=never` loses nothing either.
    pub fn sync(&mut self) -> Result<(), String> {
        self.file
            .sync_data()
            .map_err(|e| format!("cannot sync {}: {e}", self.settings.path.display()))
    }

    fn truncate_to(&mut self, len: u64) -> Result<(), String> {
        // Only touch the file if it grew: a device such as /dev/full cannot be truncated, and
        // there is nothing to take back when the failed write wrote nothing.
        let actual = self
            .file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| format!("cannot stat {}: {e}", self.settings.path.display()))?;
        if actual > len {
            self.file
                .set_len(len)
                .map_err(|e| format!("cannot truncate {}: {e}", self.settings.path.display()))?;
        }
        self.len = len;
        Ok(())
    }

    /// `path` -> `path.1` -> ... -> `path.<keep>`; the oldest is dropped. With `keep` = 0 the
    /// full file is simply removed.
    fn rotate(&mut self) -> Result<(), String> {
        let path = self.settings.path.clone();
        let keep = self.settings.keep;
        let fail = |what: &str, p: &Path, e: std::io::Error| {
            format!(
                "cannot rotate {}: {what} {}: {e}",
                path.display(),
                p.display()
            )
        };
        // Whatever the policy, the old file is complete on disk before it is renamed away.
        self.sync()?;
        if keep == 0 {
            remove_if_exists(&path).map_err(|e| fail("remove", &path, e))?;
        } else {
            let oldest = rotated(&path, keep);
            remove_if_exists(&oldest).map_err(|e| fail("remove", &oldest, e))?;
            for n in (1..keep).rev() {
                let from = rotated(&path, n);
                if from.exists() {
                    let to = rotated(&path, n + 1);
                    fs::rename(&from, &to).map_err(|e| fail("rename", &from, e))?;
                }
            }
            let first = rotated(&path, 1);
            fs::rename(&path, &first).map_err(|e| fail("rename", &path, e))?;
        }
        self.file = open_append(&path)?;
        self.len = 0;
        self.generation += 1;
        // The renames live in the directory: sync it so a crash does not bring the old name back.
        if let Some(dir) = path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Sink for FileSink {
    fn describe(&self) -> String {
        format!("file {}", self.settings.path.display())
    }

    fn kind(&self) -> &'static str {
        "file"
    }

    fn can_undo(&self) -> bool {
        true
    }

    fn groups_calls(&self) -> bool {
        self.settings.fsync != Fsync::Always
    }

    async fn prepare(&mut self) -> Result<(), String> {
        block_in_place(|| self.refresh_len())
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), String> {
        let sync = self.settings.fsync != Fsync::Never;
        self.last = None;
        let mark = block_in_place(|| self.append(&batch.buf, sync))?;
        self.last = Some(mark);
        Ok(())
    }

    async fn undo_last(&mut self) -> Result<(), String> {
        match self.last.take() {
            Some(mark) => block_in_place(|| self.undo(mark)),
            None => Ok(()),
        }
    }

    async fn finish(&mut self) -> Result<(), String> {
        block_in_place(|| self.sync())
    }
}

/// `<path>.<n>`, e.g. `app.jsonl.1`.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open_append(path: &Path) -> Result<File, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {} for appending: {e}", path.display()))
}

fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Fsync;

    fn settings(path: &Path, max_bytes: u64, keep: u32) -> FileSettings {
        FileSettings {
            path: path.to_path_buf(),
            max_bytes,
            keep,
            fsync: Fsync::Batch,
        }
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn appends_and_creates_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/app.jsonl");
        let mut sink = FileSink::open(settings(&path, 1024, 2)).unwrap();
        sink.append(b"{\"a\":1}\n", true).unwrap();
        sink.append(b"{\"a\":2}\n", false).unwrap();
        assert_eq!(read(&path), "{\"a\":1}\n{\"a\":2}\n");
    }

    #[test]
    fn reopening_continues_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        FileSink::open(settings(&path, 1024, 2))
            .unwrap()
            .append(b"one\n", true)
            .unwrap();
        let mut again = FileSink::open(settings(&path, 1024, 2)).unwrap();
        again.append(b"two\n", true).unwrap();
        assert_eq!(read(&path), "one\ntwo\n");
    }

    #[test]
    fn rotation_keeps_batches_whole_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        // 9-byte batches, 25-byte limit: two batches per file.
        let mut sink = FileSink::open(settings(&path, 25, 2)).unwrap();
        for i in 0..7 {
            sink.append(format!("batch-{i:02}\n").as_bytes(), true)
                .unwrap();
        }
        assert_eq!(read(&path), "batch-06\n");
        assert_eq!(read(&rotated(&path, 1)), "batch-04\nbatch-05\n");
        assert_eq!(read(&rotated(&path, 2)), "batch-02\nbatch-03\n");
        assert!(!rotated(&path, 3).exists(), "only `keep` rotated files");
    }

    #[test]
    fn oversized_batch_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        let mut sink = FileSink::open(settings(&path, 8, 1)).unwrap();
        sink.append(b"small\n", true).unwrap();
        sink.append(b"a batch larger than max_bytes\n", true)
            .unwrap();
        assert_eq!(read(&path), "a batch larger than max_bytes\n");
        assert_eq!(read(&rotated(&path, 1)), "small\n");
    }

    #[test]
    fn keep_zero_removes_the_full_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        let mut sink = FileSink::open(settings(&path, 8, 0)).unwrap();
        sink.append(b"first\n", true).unwrap();
        sink.append(b"second\n", true).unwrap();
        assert_eq!(read(&path), "second\n");
        assert!(!rotated(&path, 1).exists());
    }

    #[test]
    fn undo_takes_back_exactly_one_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.jsonl");
        let mut sink = FileSink::open(settings(&path, 1024, 1)).unwrap();
        sink.append(b"kept\n", true).unwrap();
        let mark = sink.append(b"taken back\nboth lines\n", true).unwrap();
        sink.undo(mark).unwrap();
        assert_eq!(read(&path), "kept\n");
        sink.append(b"after\n", true).unwrap();
        assert_eq!(read(&path), "kept\nafter\n");
    }

    #[test]
    fn full_device_is_an_error_not_a_panic() {
        let dev_full = Path::new("/dev/full");
        if !dev_full.exists() {
            return;
        }
        let mut sink = FileSink::open(settings(dev_full, u64::MAX, 1)).unwrap();
        let err = sink.append(b"line\n", true).unwrap_err();
        assert!(err.contains("/dev/full"), "{err}");
    }

    #[test]
    fn path_under_a_file_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "x").unwrap();
        let err = FileSink::open(settings(&blocker.join("app.jsonl"), 1024, 1))
            .err()
            .unwrap();
        assert!(err.contains("cannot create directory"), "{err}");
    }
}
