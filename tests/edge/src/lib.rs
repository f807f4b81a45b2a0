//! Neon across an edge lattice: a private `scripts/edge.sh` lattice ([`edge`]), steady traffic
//! under which it is changed ([`traffic`]), the placement the manifest asks for
//! ([`placement`]), the log records the hub's JetStream keeps ([`records`]) and that stream
//! made to refuse them ([`full_stream`]), and a leaf node without Neon's credentials knocking at
//! the hub ([`intruder`]). The tests are in tests/edge.rs.

pub mod edge;
pub mod full_stream;
pub mod intruder;
pub mod placement;
pub mod records;
pub mod traffic;
