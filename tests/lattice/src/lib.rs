//! Neon on a real wasmCloud lattice, for the end-to-end tests: a reader for the logging
//! provider's JSON-lines sink. Lattices, manifests and the HTTP client come from neon-ops.

pub mod records;
