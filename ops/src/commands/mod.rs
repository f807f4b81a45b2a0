//! One file per `neon` command.

pub mod down;
pub mod edge;
pub mod fuzz;
pub mod soak;
pub mod test;
pub mod up;
