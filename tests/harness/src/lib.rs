//! Runs Neon's components in an embedded Wasmtime (38.0.x, the version inside the wasmCloud
//! host 1.9), with recording host-side stand-ins for the contracts they import. Used by the
//! tests in `tests/`, by the capability audit and by the `neon-run` CLI.

pub mod artifacts;
pub mod audit;
pub mod bindings;
pub mod body;
pub mod host;
pub mod runner;

pub use artifacts::Artifact;
pub use bindings::{Entry, Level};
pub use host::HostState;
pub use runner::{Harness, HttpReply};
