//! One file per `neon` command.

pub mod down;
pub mod edge;
pub mod up;

use std::time::Duration;

use anyhow::{bail, Result};
use neon_ops::{net, wait};

pub fn wait_port(port: u16, limit_s: u64) -> Result<()> {
    wait::until_blocking(
        &format!("a listener on 127.0.0.1:{port}"),
        Duration::from_secs(limit_s),
        Duration::from_millis(200),
        || match net::port_answers(port) {
            true => Ok(()),
            false => bail!("nothing listens"),
        },
    )
}
