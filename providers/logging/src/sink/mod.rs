//! The places a record can go. Each sink takes a whole batch or none of it; the writer decides
//! the order (the ones that can take a batch back first) and undoes earlier sinks on failure.

pub mod file;
pub mod jetstream;
pub mod stdout;
