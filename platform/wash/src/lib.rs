//! Brings crate `wash` (wasmCloud 1.x's CLI) into this workspace, so that set-up builds its
//! binary (`cargo build --release -p wash --bin wash`) in the same cargo run as the host and
//! wadm: one lockfile and one target folder, the crates they share (Wasmtime, async-nats,
//! wasmcloud-core, tokio, ...) compiled once. The published crate's build script only probes for
//! docker and for github.com for its own tests; patches/wash-0.43.0.patch drops it.
