//! The processor: the seed's semantics behind `cyber:core/processing`.
//!
//! It can log and do nothing else: its world imports `cyber:system/logging` and no network, file
//! or clock interface, so whatever it is linked to decides where the records go.
//!
//! `no_std` on wasm (see components/guest-rt): the binary imports its contract and nothing else,
//! not even the WASI interfaces Rust std would pull in.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

wit_bindgen::generate!({
    path: ["../../wit/system", "../../wit/core"],
    world: "cyber:core/data-processor",
    // The world imports an interface from another package (cyber:system).
    generate_all,
});

use cyber::system::logging::log;
use cyber::system::types::Level;
use exports::cyber::core::processing::Guest;

// Allocator, panic handler and cabi_realloc for no_std on wasm.
use guest_rt as _;

struct Processor;

impl Guest for Processor {
    fn process(data: Vec<u8>) -> Result<String, String> {
        log("Initiating data sequence...", Level::Info);
        if data.is_empty() {
            log("Null data packet received.", Level::Warn);
            return Err("Empty payload".to_string());
        }
        // Lossy: invalid UTF-8 becomes U+FFFD instead of failing the whole payload.
        let result = String::from_utf8_lossy(&data).to_uppercase();
        log("Sequence complete.", Level::Info);
        Ok(result)
    }
}

export!(Processor);
