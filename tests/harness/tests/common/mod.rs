//! Shared by the test binaries: one harness (engine, linker, compiled components) per binary.

use std::sync::OnceLock;

use neon_harness::Harness;

pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| Harness::new().expect("creating the Wasmtime harness"))
}
