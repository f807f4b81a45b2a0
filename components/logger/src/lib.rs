//! The logger: logging policy in front of a durable sink.
//!
//! Exports `cyber:system/logging`, imports `cyber:system/sink`. Each log call that passes the
//! level filter becomes one sink entry: redacted message, level, configured source and a
//! wall-clock timestamp. `log` returns nothing, so a sink failure cannot reach the caller; it
//! goes to stderr (the host's log) instead of being dropped silently, and never panics.
//!
//! `no_std` on wasm (see components/guest-rt): its imports are exactly its world's. Messages are
//! built by concatenation, not `format!`: core::fmt alone would be a quarter of the binary.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

mod policy;
mod redact;

wit_bindgen::generate!({
    path: [
        "../../wit/deps/io",
        "../../wit/deps/clocks",
        "../../wit/deps/random",
        "../../wit/deps/filesystem",
        "../../wit/deps/sockets",
        "../../wit/deps/cli",
        "../../wit/deps/config",
        "../../wit/system",
        "../../wit/logger",
    ],
    world: "cyber:logger/logger",
    generate_all,
});

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use cyber::system::sink::{self, Entry};
use cyber::system::types::Level;
use exports::cyber::system::logging::Guest;
use guest_rt::InstanceCell;
use policy::Policy;
use wasi::cli::stderr;
use wasi::clocks::wall_clock;
use wasi::config::store as config;

/// Per-instance state, read from config on the first call.
struct State {
    policy: Policy,
    /// What was wrong with the config; sent once, with the first record of this instance.
    config_warning: Option<String>,
}

static STATE: InstanceCell<Option<State>> = InstanceCell::new(None);

fn load_state() -> State {
    let (policy, warnings) = match config::get_all() {
        Ok(pairs) => policy::from_config(&pairs),
        Err(e) => (
            Policy::default(),
            vec![[
                "logger config: cannot read config (",
                config_error(&e),
                "); using defaults",
            ]
            .concat()],
        ),
    };
    State {
        policy,
        config_warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
    }
}

fn now_ms() -> u64 {
    let now = wall_clock::now();
    now.seconds * 1000 + u64::from(now.nanoseconds / 1_000_000)
}

struct Logger;

impl Guest for Logger {
    fn log(msg: String, lvl: Level) {
        let entries = STATE.with(|state| {
            let state = state.get_or_insert_with(load_state);
            let timestamp_ms = now_ms();
            let source = &state.policy.source;
            let mut entries = Vec::with_capacity(2);
            if let Some(warning) = state.config_warning.take() {
                entries.push(Entry {
                    level: Level::Warn,
                    message: warning,
                    source: source.clone(),
                    timestamp_ms,
                });
            }
            if policy::rank(lvl) >= policy::rank(state.policy.min_level) {
                entries.push(Entry {
                    level: lvl,
                    message: redact::redact(&msg),
                    source: source.clone(),
                    timestamp_ms,
                });
            }
            entries
        });
        if entries.is_empty() {
            return;
        }
        if let Err(e) = sink::write(&entries) {
            // A batch is this record plus, once per instance, the config warning.
            let count = if entries.len() == 1 {
                "1 record"
            } else {
                "2 records"
            };
            report(
                &[
                    "neon logger: sink refused ",
                    count,
                    ", not written: ",
                    &e,
                    "\n",
                ]
                .concat(),
            );
        }
    }
}

fn config_error(e: &config::Error) -> &str {
    match e {
        config::Error::Upstream(message) | config::Error::Io(message) => message,
    }
}

/// Writes to the host's log. Nothing more can be done if that fails too.
fn report(message: &str) {
    // wasi:io/streams takes at most 4096 bytes per blocking write.
    let stream = stderr::get_stderr();
    for chunk in message.as_bytes().chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}

export!(Logger);
