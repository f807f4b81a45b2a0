//! The edge nodes' network: one namespace per node with its own address on a bridge, so cutting
//! a node off is a real link going down. Without the privilege to make namespaces the nodes are
//! plain processes on loopback ports ("loopback mode"): everything but a cut still works.

use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::{Mode, Settings};
use crate::say::warn;

/// Runs `ip <args>`; an error with what it said.
fn ip(args: &[&str]) -> Result<()> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running ip (iproute2)")?;
    if !output.status.success() {
        bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Netns when a namespace can be made here, else loopback (with a warning saying what it costs).
pub fn pick_mode(s: &Settings) -> Mode {
    if let Some(mode) = s.mode {
        return mode;
    }
    let probe = format!("{}-probe-{}", s.name, std::process::id());
    if ip(&["netns", "add", &probe]).is_ok() {
        let _ = ip(&["netns", "del", &probe]);
        return Mode::Netns;
    }
    warn("cannot create network namespaces here (needs root or CAP_NET_ADMIN, and iproute2)");
    warn(
        "LOOPBACK MODE: edge nodes are plain processes on 127.0.0.1 ports; they cannot be cut off",
    );
    warn("from the hub, so the partition test is skipped. Host and leaf failures still work.");
    Mode::Loopback
}

pub fn namespace(s: &Settings, i: usize) -> String {
    format!("{}-edge-{i}", s.name)
}

fn veth(s: &Settings, i: usize) -> String {
    format!("{}v{i}", s.name)
}

fn bridge(s: &Settings) -> String {
    format!("{}br", s.name)
}

/// The bridge (hub at .1) and one namespace per node (node i at .10+i).
pub fn up(s: &Settings) -> Result<()> {
    let br = bridge(s);
    if ip(&["link", "show", &br]).is_ok() {
        bail!("interface {br} exists: another edge lattice is up (scripts/edge.sh down, or set NEON_EDGE_NAME)");
    }
    ip(&["link", "add", &br, "type", "bridge"])?;
    ip(&["addr", "add", &format!("{}.1/24", s.subnet), "dev", &br])?;
    ip(&["link", "set", &br, "up"])?;
    for i in 1..=s.nodes {
        let (ns, veth) = (namespace(s, i), veth(s, i));
        ip(&["netns", "add", &ns])?;
        ip(&[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ])?;
        ip(&["link", "set", &veth, "master", &br])?;
        ip(&["link", "set", &veth, "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        let address = format!("{}.{}/24", s.subnet, 10 + i);
        ip(&["-n", &ns, "addr", "add", &address, "dev", "eth0"])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
    }
    Ok(())
}

/// Removes what `up` made; what is already gone is skipped.
pub fn down(s: &Settings) {
    for i in 1..=s.nodes {
        let _ = ip(&["netns", "del", &namespace(s, i)]);
        let _ = ip(&["link", "del", &veth(s, i)]);
    }
    let _ = ip(&["link", "del", &bridge(s)]);
}

/// Takes node i's link down (cut off from the hub) or up again.
pub fn set_link(s: &Settings, i: usize, up: bool) -> Result<()> {
    if s.mode != Some(Mode::Netns) {
        bail!("cut and heal need netns mode (this edge lattice runs in loopback mode)");
    }
    ip(&["link", "set", &veth(s, i), if up { "up" } else { "down" }])
}
