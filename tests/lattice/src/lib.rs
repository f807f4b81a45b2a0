//! Neon on a real wasmCloud lattice, for the end-to-end tests: a wiring deployed and serving, a
//! reader for the logging provider's JSON-lines sink, the per-request accounting of what a load
//! left in it, a small disk to fill under it, HTTP spoken by hand for the hostile-input test, and a bare
//! nats-server for the tests of wRPC itself. Lattices, manifests and the HTTP client come from
//! neon-ops.

pub mod accounting;
pub mod deploy;
pub mod nats_server;
pub mod raw_http;
pub mod records;
pub mod semantics;
pub mod small_disk;
