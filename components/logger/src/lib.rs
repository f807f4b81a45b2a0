//! The logger: logging policy in front of a durable sink.
//!
//! Exports `cyber:system/logging` and `cyber:system/batch`, imports `cyber:system/sink`. Each
//! log call that passes the level filter becomes one sink entry: redacted message, level,
//! configured source and a wall-clock timestamp. Outside a batch each entry is written at once;
//! inside one (`batch.begin` .. `batch.flush`, called by a pipeline fused into one component)
//! the entries are held and written together by `flush`, which reports whether they were kept.
//!
//! `log` returns nothing, so when the sink refuses a record the only way to tell the caller is
//! to fail the call: the logger reports the refusal on stderr (the host's log) and traps. The
//! caller's request then fails instead of answering as if its records were kept.
//!
//! `no_std` on wasm (see components/guest-rt): its imports are exactly its world's. Messages are
//! built by concatenation, not `format!`: core::fmt alone would be a quarter of the binary.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

mod policy;
mod redact;
#[cfg(test)]
mod redact_props;

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
use exports::cyber::system::batch::Guest as BatchGuest;
use exports::cyber::system::logging::Guest as LoggingGuest;
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
    /// Records held for `batch.flush`; `None` outside a batch.
    held: Option<Vec<Entry>>,
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
        held: None,
    }
}

fn now_ms() -> u64 {
    let now = wall_clock::now();
    now.seconds * 1000 + u64::from(now.nanoseconds / 1_000_000)
}

struct Logger;

impl LoggingGuest for Logger {
    fn log(msg: String, lvl: Level) {
        let to_write = STATE.with(|state| {
            let state = state.get_or_insert_with(load_state);
            let entries = entries_for(state, msg, lvl);
            match state.held.as_mut() {
                Some(held) => {
                    held.extend(entries);
                    Vec::new()
                }
                None => entries,
            }
        });
        if to_write.is_empty() {
            return;
        }
        if let Err(e) = sink::write(&to_write) {
            report(&refusal(to_write.len(), &e));
            // `log` cannot return the error: failing the call is how the caller learns.
            panic!("sink refused a record");
        }
    }
}

impl BatchGuest for Logger {
    fn begin() {
        STATE.with(|state| {
            let state = state.get_or_insert_with(load_state);
            state.held.get_or_insert_with(Vec::new);
        });
    }

    fn flush() -> Result<(), String> {
        let held = STATE.with(|state| state.as_mut().and_then(|state| state.held.take()));
        let held = held.unwrap_or_default();
        if held.is_empty() {
            return Ok(());
        }
        sink::write(&held).map_err(|e| {
            let message = refusal(held.len(), &e);
            report(&message);
            message
        })
    }
}

/// The sink entries one log call makes: the record itself when it passes the level filter, and,
/// with the first record of this instance, the warning about its config.
fn entries_for(state: &mut State, msg: String, lvl: Level) -> Vec<Entry> {
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
}

/// "neon logger: sink refused 3 records, not written: <why>", for stderr and for `flush`'s caller.
fn refusal(count: usize, why: &str) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = count;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let count = core::str::from_utf8(&digits[at..]).unwrap_or("some");
    let noun = if count == "1" { " record" } else { " records" };
    [
        "neon logger: sink refused ",
        count,
        noun,
        ", not written: ",
        why,
    ]
    .concat()
}

fn config_error(e: &config::Error) -> &str {
    match e {
        config::Error::Upstream(message) | config::Error::Io(message) => message,
    }
}

/// Writes one line to the host's log. Nothing more can be done if that fails too.
fn report(message: &str) {
    let line = [message, "\n"].concat();
    // wasi:io/streams takes at most 4096 bytes per blocking write.
    let stream = stderr::get_stderr();
    for chunk in line.as_bytes().chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}

export!(Logger);
