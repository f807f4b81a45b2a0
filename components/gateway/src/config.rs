//! The gateway's config, from `wasi:config/store` (component config in the wadm manifest).

use crate::wasi::config::store;

/// 1 MiB: enough for any sane payload, small enough that a runaway client cannot pin memory.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;

/// `max_body_bytes`, or the default when it is absent or not a positive integer. A bad value is
/// reported on stderr (the host's log) rather than failing every request.
pub fn max_body_bytes() -> u64 {
    match store::get("max_body_bytes") {
        Ok(None) => DEFAULT_MAX_BODY_BYTES,
        Ok(Some(value)) => match value.trim().parse::<u64>() {
            Ok(limit) if limit > 0 => limit,
            _ => {
                eprintln!(
                    "gateway config: invalid max_body_bytes {value:?} (expected a positive integer); using {DEFAULT_MAX_BODY_BYTES}"
                );
                DEFAULT_MAX_BODY_BYTES
            }
        },
        Err(e) => {
            eprintln!("gateway config: cannot read config ({e:?}); using defaults");
            DEFAULT_MAX_BODY_BYTES
        }
    }
}
