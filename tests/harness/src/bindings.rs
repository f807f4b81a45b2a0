//! Host-side bindings generated from the contracts in wit/ (never edited by hand).

/// The processor's world. Its `DataProcessor` also drives the composed component, which exports
/// the same `cyber:core/processing`.
pub mod processor {
    wasmtime::component::bindgen!({
        path: ["../../wit/system", "../../wit/core"],
        world: "cyber:core/data-processor",
        exports: { default: async },
    });
}

/// The logger's world; shares `level` with the processor bindings so records compare directly.
/// Only its `sink` import is implemented from here: WASI (config included) comes from the
/// wasmtime-wasi crates, as in the wasmCloud host.
pub mod logger {
    wasmtime::component::bindgen!({
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
        exports: { default: async },
        with: {
            "cyber:system/types": super::processor::cyber::system::types,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:cli": wasmtime_wasi::p2::bindings::cli,
        },
    });
}

pub use logger::cyber::system::sink::Entry;
pub use processor::cyber::system::types::Level;
