//! Figure 1, size: each built component against the stripped release binary of the native
//! program doing the same work.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::machine::Machine;
use crate::native::ScratchDir;
use crate::paths::display_relative;
use crate::schema::{SizeTarget, SizedFile, Sizes};

/// Components always measured, then the optional ones.
const COMPONENTS: [&str; 4] = [
    "processor.wasm",
    "logger.wasm",
    "gateway.wasm",
    "processor-composed.wasm",
];
/// Measured when they were built: the lattice half's hello-world component, the Python logger
/// alone and composed with the processor (beside logger.wasm and processor-composed.wasm), and
/// the standalone pipeline the other runtimes serve.
const OPTIONAL: [&str; 4] = [
    "hello.wasm",
    "logger-py.wasm",
    "processor-composed-py.wasm",
    "pipeline-standalone.wasm",
];

/// The benchmark's size targets.
const TARGETS: [(&str, u64); 2] = [
    ("processor.wasm", 32 * 1024),
    ("processor-composed.wasm", 64 * 1024),
];

pub fn run(root: &Path, build_dir: &Path, native_bin: &Path) -> Result<Sizes> {
    let mut artifacts = Vec::new();
    for name in COMPONENTS {
        let path = build_dir.join(name);
        let bytes = file_size(&path).with_context(|| {
            format!(
                "cannot stat {} (build the components first: scripts/build.sh)",
                path.display()
            )
        })?;
        artifacts.push(sized(name, &path, root, bytes));
    }
    for name in OPTIONAL {
        let path = build_dir.join(name);
        if let Ok(bytes) = file_size(&path) {
            artifacts.push(sized(name, &path, root, bytes));
        }
    }
    let (native_bytes, strip_note) = stripped_size(native_bin)?;
    let native_name = native_bin.file_name().map_or_else(
        || "native".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let native = sized(&native_name, native_bin, root, native_bytes);
    let targets = TARGETS
        .iter()
        .filter_map(|&(artifact, limit_bytes)| {
            let found = artifacts.iter().find(|a| a.name == artifact)?;
            Some(SizeTarget {
                artifact: artifact.to_string(),
                limit_bytes,
                bytes: found.bytes,
                met: found.bytes <= limit_bytes,
            })
        })
        .collect();
    Ok(Sizes {
        machine: Machine::detect(),
        artifacts,
        native,
        targets,
        notes: vec![
            "Components as scripts/build.sh writes them (release, size-tuned profile); the \
             composed ones are processor + logger fused by `wac plug`; the -py ones hold the \
             Python logger, which carries the CPython interpreter and its standard library."
                .to_string(),
            strip_note,
        ],
    })
}

fn sized(name: &str, path: &Path, root: &Path, bytes: u64) -> SizedFile {
    SizedFile {
        name: name.to_string(),
        path: display_relative(path, root),
        bytes,
    }
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len())
}

/// The binary's size after `strip` (the workspace's release profile strips already; stripping
/// a copy makes sure). Without a `strip` tool, the size as built, and the note says so.
fn stripped_size(bin: &Path) -> Result<(u64, String)> {
    let scratch = ScratchDir::new("strip")?;
    let copy = scratch.path().join("native");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(bin)
        .output()
        .is_ok_and(|out| out.status.success());
    if stripped {
        Ok((
            file_size(&copy)?,
            "Native: release build (profile strip = true), size after `strip`.".to_string(),
        ))
    } else {
        Ok((
            file_size(bin)?,
            "Native: release build (profile strip = true), size as built (no `strip` tool \
             found to check)."
                .to_string(),
        ))
    }
}
