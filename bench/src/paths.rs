//! Where things are, decided at run time: the binary lives in a target dir shared between
//! checkouts, so a path compiled in could name another checkout.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The checkout (see neon_ops::repo_root), checked to hold Neon's contracts.
pub fn repo_root() -> Result<PathBuf> {
    let root = neon_ops::repo_root();
    if !root.join("wit/system/system.wit").is_file() {
        bail!(
            "cannot find the Neon checkout (at {}): run from inside it or set NEON_ROOT",
            root.display()
        );
    }
    Ok(root)
}

/// Built components: `NEON_BUILD_DIR`, else build/ in the checkout (what scripts/build.sh writes).
pub fn build_dir(root: &Path) -> PathBuf {
    match std::env::var_os("NEON_BUILD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root.join("build"),
    }
}

/// Default output directory for the JSON files: build/bench.
pub fn default_out_dir(root: &Path) -> PathBuf {
    build_dir(root).join("bench")
}

/// The native pipeline (bench/native): `--native-bin`, else the release build in the target dir.
pub fn native_bin(flag: Option<&Path>) -> Result<PathBuf> {
    native_binary(flag, "neon-native-pipeline", "--native-bin")
}

/// The native service (bench/native), the HTTP anchor: `--native-service`, else the release
/// build in the target dir.
pub fn native_service(flag: Option<&Path>) -> Result<PathBuf> {
    native_binary(flag, "neon-native-service", "--native-service")
}

fn native_binary(flag: Option<&Path>, name: &str, option: &str) -> Result<PathBuf> {
    let path = match flag {
        Some(path) => path.to_path_buf(),
        None => neon_ops::paths::target_dir().join("release").join(name),
    };
    if !path.is_file() {
        bail!(
            "{name} not found at {} (build it: cargo build --release -p neon-native, or pass \
             {option} PATH)",
            path.display()
        );
    }
    Ok(path)
}

/// `path` relative to the checkout when it is inside it: reports stay readable and portable.
pub fn display_relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
