//! Reading request bodies under a size limit and writing plain-text responses.

use crate::wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use crate::wasi::io::streams::StreamError;

/// Bytes asked for per read: big enough to keep host calls few, small enough to stop an
/// oversize upload soon after it crosses the limit.
const READ_CHUNK: u64 = 64 * 1024;

/// A body whose Content-Length is over the limit by at most this much is read and thrown away
/// before the 413 goes out. An HTTP server closes a connection whose request body was left
/// unread, and a client still sending then sees "broken pipe" instead of its 413; reading the
/// rest (never holding it) lets an ordinary client read the answer. A larger one is answered
/// at once.
const DRAIN_MARGIN: u64 = 4 * 1024 * 1024;

/// `blocking-write-and-flush` takes at most 4096 bytes per call (wasi:io/streams).
const WRITE_CHUNK: usize = 4096;

pub enum BodyError {
    TooLarge,
    Unreadable(String),
}

/// The whole body, or `TooLarge` as soon as it is known to exceed `limit`: from Content-Length
/// before reading anything, else while streaming, so at most `limit + READ_CHUNK` is held.
pub fn read_limited(request: IncomingRequest, limit: u64) -> Result<Vec<u8>, BodyError> {
    if let Some(length) = declared_length(&request).filter(|&length| length > limit) {
        if length <= limit.saturating_add(DRAIN_MARGIN) {
            drain(request);
        }
        return Err(BodyError::TooLarge);
    }
    let body = request
        .consume()
        .map_err(|()| BodyError::Unreadable("body already consumed".into()))?;
    let stream = body
        .stream()
        .map_err(|()| BodyError::Unreadable("body stream unavailable".into()))?;
    let mut data = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                if (data.len() + chunk.len()) as u64 > limit {
                    return Err(BodyError::TooLarge);
                }
                data.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(BodyError::Unreadable(e.to_debug_string()))
            }
        }
    }
    // The stream is a child of the body: it must go before the body is finished.
    drop(stream);
    drop(IncomingBody::finish(body));
    Ok(data)
}

/// Reads the body to its end and drops every byte.
fn drain(request: IncomingRequest) {
    let Ok(body) = request.consume() else {
        return;
    };
    if let Ok(stream) = body.stream() {
        while stream.blocking_read(READ_CHUNK).is_ok() {}
    }
}

fn declared_length(request: &IncomingRequest) -> Option<u64> {
    let values = request.headers().get("content-length");
    let first = values.first()?;
    std::str::from_utf8(first).ok()?.trim().parse().ok()
}

/// Sends a `text/plain` response. Errors past this point (the client went away) have no one
/// left to report to, so they end the response quietly.
pub fn respond(out: ResponseOutparam, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let fields = Fields::new();
    let length = body.len().to_string();
    let standard = [
        ("content-type", "text/plain; charset=utf-8"),
        ("content-length", length.as_str()),
    ];
    for (name, value) in standard.iter().chain(headers) {
        // Names and values here are our own constants; they are valid by construction.
        let _ = fields.append(name, value.as_bytes());
    }
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    let Ok(stream) = outgoing.write() else {
        return;
    };
    for chunk in body.chunks(WRITE_CHUNK) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing, None);
}
