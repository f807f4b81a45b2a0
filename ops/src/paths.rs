//! Where things are, decided at run time: Neon's native binaries live in a target dir shared
//! between checkouts, so a path compiled in could name another checkout.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The checkout: `NEON_ROOT` (the scripts export it), else the nearest directory above the
/// current one that holds Neon's contracts, else the one `cargo test` runs a crate from.
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("NEON_ROOT") {
        return PathBuf::from(root);
    }
    let is_root = |dir: &Path| dir.join("wit/system/system.wit").is_file();
    let from_cwd = std::env::current_dir().ok().and_then(|cwd| {
        cwd.ancestors()
            .find(|dir| is_root(dir))
            .map(Path::to_path_buf)
    });
    let from_manifest = std::env::var_os("CARGO_MANIFEST_DIR").and_then(|dir| {
        PathBuf::from(dir)
            .ancestors()
            .find(|dir| is_root(dir))
            .map(Path::to_path_buf)
    });
    from_cwd
        .or(from_manifest)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Neon's cache folder: `NEON_CACHE`, else ~/.cache/neon (the shared target dir lives there).
pub fn cache_dir() -> PathBuf {
    env_dir("NEON_CACHE", || home().join(".cache/neon"))
}

/// build/ in the checkout, where scripts/build.sh puts components and provider archives.
pub fn build_dir() -> Result<PathBuf> {
    let build = repo_root().join("build");
    build
        .canonicalize()
        .with_context(|| format!("{} missing: run scripts/build.sh", build.display()))
}

/// Where set-up placed nats-server, wadm and the host: wash's own default folder, so a user's
/// plain `wash up` finds the same binaries.
pub fn placed_downloads_dir() -> PathBuf {
    env_dir("WASH_DOWNLOADS_DIR", || {
        home().join(".local/share/wash/downloads")
    })
}

/// A placed platform binary (`nats-server`, `wadm`, `v1.9.1/wasmcloud_host`), or an error that
/// says how to get it.
pub fn placed_binary(name: &str) -> Result<PathBuf> {
    let path = placed_downloads_dir().join(name);
    if !path.exists() {
        bail!("{} missing: run scripts/setup.sh", path.display());
    }
    Ok(path)
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
}

fn env_dir(key: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    std::env::var_os(key).map_or_else(default, PathBuf::from)
}

/// Neon's data folder: `NEON_DATA`, else ~/.local/share/neon (canonical platform binaries,
/// the wasm-tools venv, signing keys).
pub fn data_dir() -> PathBuf {
    env_dir("NEON_DATA", || home().join(".local/share/neon"))
}

/// The canonical copies of nats-server and the launchers built by set-up.
pub fn platform_dir() -> PathBuf {
    data_dir().join("platform")
}

/// Where set-up links the tools it installs outside cargo (wasm-tools); first on the scripts'
/// PATH, so the pinned versions win.
pub fn neon_bin() -> PathBuf {
    env_dir("NEON_BIN", || data_dir().join("bin"))
}

/// Where `cargo install` puts wash and wac.
pub fn cargo_bin() -> PathBuf {
    env_dir("CARGO_HOME", || home().join(".cargo")).join("bin")
}

/// The native target dir shared between checkouts (the host alone is 15+ min cold).
pub fn target_dir() -> PathBuf {
    env_dir("CARGO_TARGET_DIR", || cache_dir().join("target"))
}

/// The http-server provider archive the manifests reference.
pub fn http_server_par() -> PathBuf {
    repo_root().join("build/http-server.par.gz")
}

/// Every file at or under `path`, in sorted order, leaving out folders `skip` names (below
/// `path` itself). A file is itself; a folder that cannot be read is an error.
pub fn files_under(path: &Path, skip: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    if !std::fs::metadata(path)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            if !skip(&entry) {
                files.extend(files_under(&entry, skip)?);
            }
        } else {
            files.push(entry);
        }
    }
    Ok(files)
}
