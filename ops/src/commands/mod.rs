//! One file per `neon` command.

pub mod down;
pub mod edge;
pub mod fuzz;
pub mod logs;
pub mod soak;
pub mod status;
pub mod test;
pub mod up;
