//! Operating Neon's lattices, in one place: the pinned platform and its set-up, the component
//! build, private lattices brought up and torn down with `wash`, queried and deployed to through
//! wasmCloud's typed clients, the repository's manifests rendered with wadm's types, and bounded
//! waits. Scripts call the `neon` command built from this crate; tests use it as a library.

pub mod auth;
pub mod build;
pub mod ctl;
pub mod detached;
pub mod edge;
pub mod lattice;
pub mod load;
pub mod manifest;
pub mod nats_monitor;
pub mod net;
pub mod paths;
pub mod platform;
pub mod policy;
pub mod prometheus;
pub mod run;
pub mod say;
pub mod setup;
pub mod signing;
pub mod standalone;
pub mod wait;

pub use ctl::Ctl;
pub use lattice::Lattice;
pub use manifest::{Ingress, Rendered, Wiring};
pub use net::free_port;
pub use paths::repo_root;
