//! How the host's built-in HTTP server reads a request's body before the component runs.
//!
//! A component's execution limit counts from its instantiation. Handed a body still arriving,
//! the component would wait for the client inside that limit and in one of its instance slots:
//! a slow but steady upload would be cut off, and a client that stopped sending would hold a
//! slot until the limit fired. So the body is read first, with an idle timeout of its own: a
//! request whose body stops arriving is answered 408, and no instance is used for it.

use std::time::Duration;

use clap::Args;
use wasmcloud_host::wasmbus::host_config::HttpBodyLimits;

use crate::millis;

#[derive(Args, Debug, Clone)]
pub struct HttpBodyArgs {
    /// Longest wait for the next part of a request body, in ms, before the request is answered
    /// 408 Request Timeout. A body that keeps arriving is read however long it takes.
    #[arg(
        long = "http-body-idle-timeout-ms",
        env = "NEON_HTTP_BODY_IDLE_TIMEOUT_MS",
        default_value = "5000",
        value_parser = millis
    )]
    idle: Duration,
    /// Bytes of a request body read before the component runs; the rest of a larger body
    /// streams to the component as it arrives (its upload then counts against the execution
    /// limit). The gateway's default body limit is 1 MiB.
    #[arg(
        long = "http-body-prefetch-bytes",
        env = "NEON_HTTP_BODY_PREFETCH_BYTES",
        default_value_t = 1 << 20
    )]
    prefetch_bytes: usize,
}

impl HttpBodyArgs {
    pub fn limits(&self) -> HttpBodyLimits {
        HttpBodyLimits {
            idle: self.idle,
            prefetch_bytes: self.prefetch_bytes,
        }
    }
}
