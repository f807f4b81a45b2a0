//! Request bodies for driving the gateway: whole, or streamed with a count of what was read.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame};

pub type RequestBody = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

/// A body sent in one piece (with a Content-Length when the request says so).
pub fn full(data: impl Into<Bytes>) -> RequestBody {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A body of `chunks` chunks of `chunk_size` bytes ('a'), produced only as the reader pulls
/// them. `pulled` counts the chunks handed out, so a test can tell how much the server read.
pub struct CountingBody {
    chunk: Bytes,
    remaining: usize,
    pulled: Arc<AtomicUsize>,
}

impl CountingBody {
    pub fn new(chunk_size: usize, chunks: usize) -> (Self, Arc<AtomicUsize>) {
        let pulled = Arc::new(AtomicUsize::new(0));
        let body = Self {
            chunk: Bytes::from(vec![b'a'; chunk_size]),
            remaining: chunks,
            pulled: pulled.clone(),
        };
        (body, pulled)
    }
}

impl Body for CountingBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.remaining -= 1;
        self.pulled.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
    }
}
