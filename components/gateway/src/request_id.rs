//! The identity of the request being answered, echoed in the `x-request-id` response header.
//!
//! On a Neon host every HTTP request reaches the gateway with one (the host names each request:
//! the caller's `x-request-id`, else the trace id of its `traceparent`, else a new id), and every
//! record the request produces carries the same. On another runtime the caller's own
//! `x-request-id`, if any, is echoed.

use crate::wasi::http::types::IncomingRequest;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

/// The request's identity as its headers give it, if they give a usable one.
pub fn of(request: &IncomingRequest) -> Option<String> {
    request
        .headers()
        .get(HEADER)
        .into_iter()
        .next()
        .and_then(|v| String::from_utf8(v).ok())
        .filter(|id| is_sensible(id))
}

/// What a header value may hold and be echoed as is: 1 to 128 visible ASCII characters.
fn is_sensible(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_visible_ascii() {
        assert!(is_sensible("order-42"));
        assert!(is_sensible("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(!is_sensible(""));
        assert!(!is_sensible("has space"));
        assert!(!is_sensible(&"x".repeat(129)));
    }
}
