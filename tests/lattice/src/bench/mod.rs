//! The lattice half of Neon's benchmark (figures 3-5), run by `neon-lattice-bench`:
//! HTTP load with wrk, deploy-to-ready, and one log call over wRPC. Each writes a JSON file that
//! `neon-bench report` reads (schemas in bench/README.md). Figures, never assertions.

pub mod callcost;
pub mod deploy;
pub mod http;
pub mod stats;
pub mod wrk;
