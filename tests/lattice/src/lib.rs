//! Neon on a real wasmCloud lattice, for the end-to-end tests and the benchmarks: a private
//! lattice brought up with `wash up` (its own lattice name, NATS port and state, so a user's own
//! `wash up` is never touched), the repository's manifests rendered for it, an HTTP load
//! generator, and a reader for the logging provider's JSON-lines sink.

pub mod bench;
pub mod lattice;
pub mod load;
pub mod manifest;
pub mod records;

pub use lattice::Lattice;
pub use manifest::{Rendered, Wiring};
