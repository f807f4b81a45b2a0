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

#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Unreadable(String),
}

/// What a request's Content-Length says before any of its body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    /// Within the limit, or not declared: read it, counting.
    Read,
    /// Over the limit: answer 413, after reading the rest (see DRAIN_MARGIN).
    TooLargeDrain,
    /// Far over the limit: answer 413 at once.
    TooLargeNow,
}

fn judge_declared(length: Option<u64>, limit: u64) -> Declared {
    match length {
        Some(length) if length > limit.saturating_add(DRAIN_MARGIN) => Declared::TooLargeNow,
        Some(length) if length > limit => Declared::TooLargeDrain,
        _ => Declared::Read,
    }
}

/// The whole body, or `TooLarge` as soon as it is known to exceed `limit`: from Content-Length
/// before reading anything, else while streaming, so at most `limit` bytes are ever kept.
pub fn read_limited(request: IncomingRequest, limit: u64) -> Result<Vec<u8>, BodyError> {
    match judge_declared(declared_length(&request), limit) {
        Declared::Read => {}
        Declared::TooLargeDrain => {
            drain(request);
            return Err(BodyError::TooLarge);
        }
        Declared::TooLargeNow => return Err(BodyError::TooLarge),
    }
    let body = request
        .consume()
        .map_err(|()| BodyError::Unreadable("body already consumed".into()))?;
    let stream = body
        .stream()
        .map_err(|()| BodyError::Unreadable("body stream unavailable".into()))?;
    let data = collect_limited(limit, || match stream.blocking_read(READ_CHUNK) {
        Ok(chunk) => Ok(Some(chunk)),
        Err(StreamError::Closed) => Ok(None),
        Err(StreamError::LastOperationFailed(e)) => Err(e.to_debug_string()),
    });
    // The stream is a child of the body: it must go before the body is finished.
    drop(stream);
    drop(IncomingBody::finish(body));
    data
}

/// The chunks `next` yields until it says the end (`None`), or `TooLarge` as soon as one would
/// take the total past `limit`.
fn collect_limited(
    limit: u64,
    mut next: impl FnMut() -> Result<Option<Vec<u8>>, String>,
) -> Result<Vec<u8>, BodyError> {
    let mut data = Vec::new();
    while let Some(chunk) = next().map_err(BodyError::Unreadable)? {
        if (data.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        data.extend_from_slice(&chunk);
    }
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

/// Sends a `text/plain` response that names the request it answers, when that is known. Errors
/// past this point (the client went away) have no one left to report to, so they end the
/// response quietly.
pub fn respond(
    out: ResponseOutparam,
    request_id: Option<&str>,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    let fields = Fields::new();
    let length = body.len().to_string();
    let standard = [
        ("content-type", "text/plain; charset=utf-8"),
        ("content-length", length.as_str()),
    ];
    let id = request_id.map(|id| (crate::request_id::HEADER, id));
    for (name, value) in standard.iter().chain(id.iter()).chain(headers) {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_declared_length_over_the_limit_is_refused_before_reading(
            limit in 0u64..=(64 << 20),
            random_length in prop::option::of(any::<u64>()),
            at_the_limit in any::<bool>(),
            off_by in -1i64..=1,
        ) {
            // Half the cases declare the limit itself, one byte less or one byte more.
            let length = if at_the_limit {
                Some(limit.saturating_add_signed(off_by))
            } else {
                random_length
            };
            let judged = judge_declared(length, limit);
            match length {
                Some(length) if length > limit => prop_assert_ne!(judged, Declared::Read),
                _ => prop_assert_eq!(judged, Declared::Read),
            }
            if judged == Declared::TooLargeDrain {
                prop_assert!(length.is_some_and(|l| l - limit <= DRAIN_MARGIN));
            }
        }

        #[test]
        fn a_streamed_body_is_whole_within_the_limit_and_refused_past_it(
            random_limit in 0u64..4096,
            at_a_boundary in any::<bool>(),
            boundary in any::<prop::sample::Index>(),
            off_by in -1i64..=1,
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..700), 0..12),
            fail_at in prop::option::of(0usize..12),
        ) {
            // Half the cases put the limit at, just under or just over where some chunk ends:
            // the off-by-one cases a random limit would hardly ever hit.
            let ends: Vec<u64> = chunks
                .iter()
                .scan(0u64, |total, c| { *total += c.len() as u64; Some(*total) })
                .collect();
            let limit = match (at_a_boundary, ends.is_empty()) {
                (true, false) => ends[boundary.index(ends.len())].saturating_add_signed(off_by),
                _ => random_limit,
            };
            let mut given = chunks.clone().into_iter().enumerate();
            let result = collect_limited(limit, || match given.next() {
                Some((i, _)) if Some(i) == fail_at => Err("broken".to_string()),
                Some((_, chunk)) => Ok(Some(chunk)),
                None => Ok(None),
            });
            // What the reader saw before it stopped: every chunk up to a failure.
            let seen: Vec<_> = chunks.iter().take(fail_at.unwrap_or(usize::MAX)).collect();
            let whole: Vec<u8> = seen.iter().flat_map(|c| c.iter().copied()).collect();
            // The first moment the running total passes the limit, if it does before a failure.
            let mut total = 0u64;
            let passes = seen.iter().any(|c| { total += c.len() as u64; total > limit });
            let failed = fail_at.is_some_and(|i| i < chunks.len());
            match result {
                Ok(data) => {
                    prop_assert!(!passes && !failed);
                    prop_assert!(data.len() as u64 <= limit);
                    prop_assert_eq!(data, whole);
                }
                Err(BodyError::TooLarge) => prop_assert!(passes),
                Err(BodyError::Unreadable(why)) => {
                    prop_assert!(failed && !passes);
                    prop_assert_eq!(why, "broken");
                }
            }
        }
    }
}
