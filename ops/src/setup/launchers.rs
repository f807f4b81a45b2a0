//! wasmCloud's host, wadm and http-server provider, built from their crates by the launchers in
//! platform/, placed where `wash up` looks, and the provider packed as an archive manifests
//! reference (signed with Neon's issuer); Neon's policy service, `wasmtime serve` and wash
//! itself, built beside them in the same cargo run, so that the crates they share (Wasmtime
//! above all) compile once, with one feature set.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::place;
use crate::paths;
use crate::platform;
use crate::run::{reports, run, run_logged};
use crate::say::{info, step};
use crate::signing;

const LAUNCHERS: [&str; 5] = [
    "wasmcloud_host",
    "wadm",
    "http-server-provider",
    "neon-policy",
    "wasmtime",
];

/// The launchers in release, skipped entirely when the canonical copies report the right
/// versions and were built from the current sources (a warm set-up must not even start cargo).
pub fn ensure_built() -> Result<()> {
    let dir = paths::platform_dir();
    let (host, wadm) = (platform::host_version(), platform::wadm_version());
    let wasmtime = platform::wasmtime_version();
    let wash_version = platform::wash_version();
    let wash = paths::cargo_bin().join("wash");
    step(&format!(
        "platform binaries: wasmcloud_host {host}, wadm {wadm}, http-server-provider {}, neon-policy, wasmtime {wasmtime} (serve), wash {wash_version}",
        platform::http_server_version()
    ));
    let stamp = dir.join("built-from");
    let fingerprint = fingerprint()?;
    let versions_right = || {
        reports(
            &format!("wasmcloud {host}"),
            &dir.join("wasmcloud_host"),
            &["--version"],
        ) && reports(&format!("wadm {wadm}"), &dir.join("wadm"), &["--version"])
            && reports(
                &format!("wasmtime {wasmtime}"),
                &dir.join("wasmtime"),
                &["--version"],
            )
            // wash prints `wash          v0.43.0`
            && reports(&format!("v{wash_version}"), &wash, &["--version"])
    };
    if versions_right()
        && dir.join("http-server-provider").exists()
        && dir.join("neon-policy").exists()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(fingerprint.as_str())
    {
        info(&format!(
            "present in {}, built from the current sources, skipped",
            dir.display()
        ));
        return Ok(());
    }
    let target = paths::target_dir();
    info(&format!(
        "cargo build --release (cold: ~14 min on 2 cores; target dir {})",
        target.display()
    ));
    run(
        Command::new("cargo")
            .current_dir(paths::repo_root())
            .args(["build", "--release"])
            .args([
                "-p",
                "neon-wasmcloud-host",
                "-p",
                "neon-wadm",
                "-p",
                "neon-http-server-provider",
                "-p",
                "neon-policy",
                "-p",
                "neon-wasmtime-serve",
                // neon-wash brings crate wash into the build, whose binary is the part wanted.
                "-p",
                "neon-wash",
                "-p",
                "wash",
                "--bins",
            ]),
        "building the platform launchers",
    )?;
    for name in LAUNCHERS {
        let built = target.join("release").join(name);
        // Unchanged binaries keep their mtime, so the provider archive is not repacked for nothing.
        if !same_bytes(&built, &dir.join(name)) {
            place(&built, &dir.join(name))?;
        }
    }
    // Where `cargo install` puts it, so the user's `wash` is this one.
    let built = target.join("release").join("wash");
    if !same_bytes(&built, &wash) {
        place(&built, &wash)?;
    }
    if !versions_right() {
        bail!(
            "the built host, wadm, wasmtime or wash does not report wasmcloud {host} / wadm {wadm} / wasmtime {wasmtime} / wash v{wash_version}"
        );
    }
    std::fs::write(&stamp, fingerprint)?;
    Ok(())
}

/// What the launchers are built from: the toolchain, platform/ and patches/, the workspace
/// manifest and lock file (versions, `[patch.crates-io]`).
fn fingerprint() -> Result<String> {
    let root = paths::repo_root();
    let mut files = Vec::new();
    for dir in ["platform", "patches"] {
        let dir = root.join(dir);
        files.extend(
            paths::files_under(&dir, &|_| false)
                .with_context(|| format!("listing {}", dir.display()))?,
        );
    }
    files.extend(["Cargo.toml", "Cargo.lock"].map(|name| root.join(name)));
    let mut hash = Sha256::new();
    hash.update(platform::rust_toolchain());
    for file in files {
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        hash.update(
            file.strip_prefix(&root)
                .unwrap_or(&file)
                .to_string_lossy()
                .as_bytes(),
        );
        hash.update(Sha256::digest(&bytes));
    }
    Ok(hash
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

/// nats-server, wadm and v<host>/wasmcloud_host where wash looks, so that `wash up` (given
/// explicit versions) finds them and downloads nothing.
pub fn ensure_placed() -> Result<()> {
    let downloads = paths::placed_downloads_dir();
    step(&format!(
        "place binaries for wash up in {}",
        downloads.display()
    ));
    let host = format!("v{}/wasmcloud_host", platform::host_version());
    for name in ["nats-server", "wadm", host.as_str()] {
        let source = paths::platform_dir().join(Path::new(name).file_name().unwrap_or_default());
        let dest = downloads.join(name);
        if same_bytes(&source, &dest) {
            info(&format!("{name}: in place, skipped"));
        } else {
            place(&source, &dest)?;
            info(&format!("{name}: placed"));
        }
    }
    Ok(())
}

/// The http-server provider as a provider archive signed by Neon's issuer, repacked when the
/// binary or the issuer is newer.
pub fn ensure_http_server_par() -> Result<()> {
    let binary = paths::platform_dir().join("http-server-provider");
    let archive = paths::http_server_par();
    step(&format!("provider archive {}", archive.display()));
    let signing = signing::wash_env()?;
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if std::fs::metadata(&archive).is_ok_and(|m| m.len() > 0)
        && modified(&archive) > modified(&binary)
        && modified(&archive) > modified(&signing::issuer_file())
    {
        info("up to date, skipped");
        return Ok(());
    }
    let dir = archive.parent().context("archive path has no folder")?;
    std::fs::create_dir_all(dir)?;
    // Must end in .gz, or wash appends .gz to the name.
    let tmp = dir.join(format!(".tmp-{}.par.gz", std::process::id()));
    // Signed with Neon's issuer (not ~/.wash/keys); no WIT_DIR, so no WIT gets embedded.
    run_logged(
        Command::new("wash")
            .current_dir(paths::repo_root())
            .env_remove("WIT_DIR")
            .envs(signing.iter().map(|(k, v)| (k, v)))
            .args([
                "par",
                "create",
                "--vendor",
                "wasmCloud",
                "--name",
                "HTTP Server",
            ])
            .args([
                "--version",
                platform::http_server_version(),
                "--revision",
                "0",
            ])
            .arg("--binary")
            .arg(&binary)
            .arg("--destination")
            .arg(&tmp)
            .arg("--compress"),
        &paths::target_dir().join("wash-par-http-server.log"),
        "wash par create (http-server provider)",
    )?;
    std::fs::rename(&tmp, &archive)?;
    info("created");
    Ok(())
}
