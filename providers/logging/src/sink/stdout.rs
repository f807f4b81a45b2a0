//! The stdout sink: JSON lines on the provider's stdout, which the host copies into its own log.
//!
//! The provider's diagnostics go to stderr, so stdout carries nothing but records. Stdout cannot
//! take a batch back, so the writer runs it after the sinks that can.

use std::io::Write;

use async_trait::async_trait;
use tokio::task::block_in_place;

use super::{Batch, Sink};

/// The provider's stdout as a sink.
pub struct Stdout;

#[async_trait]
impl Sink for Stdout {
    fn describe(&self) -> String {
        "stdout".into()
    }

    fn kind(&self) -> &'static str {
        "stdout"
    }

    fn can_undo(&self) -> bool {
        false
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), String> {
        block_in_place(|| write(&batch.buf))
    }

    async fn undo_last(&mut self) -> Result<(), String> {
        Err("records written to stdout cannot be taken back".into())
    }

    async fn finish(&mut self) -> Result<(), String> {
        block_in_place(flush)
    }
}

/// Writes a buffer of whole lines under the stdout lock, so that batches from different links
/// never interleave mid-line, and flushes it before the caller is answered.
pub fn write(buf: &[u8]) -> Result<(), String> {
    write_to(&mut std::io::stdout().lock(), buf)
}

pub fn flush() -> Result<(), String> {
    std::io::stdout()
        .lock()
        .flush()
        .map_err(|e| format!("cannot flush stdout: {e}"))
}

fn write_to(out: &mut impl Write, buf: &[u8]) -> Result<(), String> {
    out.write_all(buf)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_the_whole_buffer() {
        let mut out = Vec::new();
        write_to(&mut out, b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert_eq!(out, b"{\"a\":1}\n{\"a\":2}\n");
    }

    #[test]
    fn a_closed_pipe_is_an_error() {
        let err = write_to(&mut Broken, b"x\n").unwrap_err();
        assert!(err.contains("stdout"), "{err}");
    }
}
