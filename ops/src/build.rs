//! Neon's build: the components in release, processor + logger composed into one component, the
//! whole request path composed into one HTTP component, and the logging provider packed:
//!
//!   build/processor.wasm  build/logger.wasm  build/gateway.wasm  build/hello.wasm (the bench's
//!   platform ceiling)  build/rogue.wasm (misbehaves on purpose, for the containment test)
//!   build/gateway-fused.wasm (the gateway with its `fused` feature)
//!   build/processor-composed.wasm  build/pipeline-composed.wasm (gateway-fused + processor +
//!   logger by components/pipeline.wac: what the composed wiring runs)
//!   build/logger-py.wasm (the logger in Python, components/logger-py, by componentize-py)
//!   build/processor-composed-py.wasm (processor + the Python logger)
//!   build/file-sink.wasm, build/env-config.wasm, build/pipeline-standalone.wasm (pipeline-composed
//!   with file-sink as its sink and env-config as its config, by components/standalone.wac:
//!   served alone by `wasmtime serve` or wash 2.x, no provider)
//!   build/neon-logging-provider.par.gz
//!
//! Each component is built by `wash build --skip-fetch` (what a wasmCloud user runs;
//! --skip-fetch because every WIT dependency is vendored in wit/), or by plain cargo with
//! `--cargo`. Both write the same paths. Every component and the provider archive is signed
//! with Neon's issuer (signing.rs): wash build signs what it builds, `wash claims sign` what
//! cargo and wac make. A step whose inputs did not change since its output was made is skipped
//! (NEON_REBUILD=1 forces it).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::paths;
use crate::run::{run as run_command, run_logged};
use crate::say::{info, step};
use crate::signing;

const COMPONENTS: [&str; 7] = [
    "processor",
    "logger",
    "gateway",
    "hello",
    "rogue",
    "file-sink",
    "env-config",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Wash,
    Cargo,
}

pub fn run(tool: Tool) -> Result<()> {
    let root = paths::repo_root();
    let out = root.join("build");
    std::fs::create_dir_all(&out)?;
    build_provider(&root, &out)?;

    // Components keep their own small target dir, where their wasmcloud.toml files point wash;
    // the shared native target dir is for the heavy native crates.
    let components = root.join("components");
    let target = components.join("target");
    let signing = signing::wash_env()?;
    let component_inputs = |name: &str| {
        [name, "guest-rt", "Cargo.toml", "Cargo.lock"]
            .map(|p| components.join(p))
            .into_iter()
            .chain([root.join("wit"), signing::issuer_file()])
            .collect::<Vec<_>>()
    };
    let cargo_wasm = |extra: &[&str]| {
        let mut command = Command::new("cargo");
        command
            .current_dir(&components)
            .env("CARGO_TARGET_DIR", &target)
            .args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"])
            .args(extra);
        command
    };
    let built_wasm = |name: &str| target.join(format!("wasm32-wasip2/release/{name}.wasm"));

    match tool {
        Tool::Wash => {
            for name in COMPONENTS {
                step(&format!("wash build --skip-fetch: {name}"));
                if up_to_date(&out.join(format!("{name}.wasm")), &component_inputs(name)) {
                    info("up to date, skipped");
                    continue;
                }
                run_logged(
                    Command::new("wash")
                        .current_dir(components.join(name))
                        .env("CARGO_TARGET_DIR", &target)
                        .envs(signing.iter().map(|(k, v)| (k, v)))
                        .args(["build", "--skip-fetch"]),
                    &target.join(format!("wash-build-{name}.log")),
                    &format!("wash build for {name} (rerun: cd components/{name} && wash build --skip-fetch)"),
                )?;
            }
        }
        Tool::Cargo => {
            step(&format!(
                "cargo build --release --target wasm32-wasip2 ({})",
                COMPONENTS.join(" ")
            ));
            run_command(&mut cargo_wasm(&[]), "cargo build of the components")?;
            for name in COMPONENTS {
                copy(&built_wasm(name), &out.join(format!("{name}.wasm")))?;
                sign(&out.join(format!("{name}.wasm")), name)?;
            }
        }
    }

    build_python_logger(&root, &out)?;

    // The pipeline's gateway brackets each request with the logger's `batch` (feature `fused`).
    step("cargo build --features fused: gateway -> gateway-fused.wasm");
    let fused = out.join("gateway-fused.wasm");
    if up_to_date(&fused, &component_inputs("gateway")) {
        info("up to date, skipped");
    } else {
        run_command(
            &mut cargo_wasm(&["-p", "gateway", "--features", "fused"]),
            "cargo build of the fused gateway",
        )?;
        // Same output path as the plain gateway: cargo rebuilds whichever the features ask for.
        copy(&built_wasm("gateway"), &fused)?;
    }

    plug(&out, "logger.wasm", "processor-composed")?;
    // The same composition with the Python logger: the processor does not change.
    plug(&out, "logger-py.wasm", "processor-composed-py")?;
    // The whole request path in one component (the composed wiring deploys this): HTTP in, the
    // processor and logger as function calls, one `sink.write` per request the only call that
    // leaves it.
    compose(
        &components,
        &out,
        "pipeline",
        "pipeline-composed",
        &[
            ("logger", "logger.wasm"),
            ("processor", "processor.wasm"),
            ("fused-gateway", "gateway-fused.wasm"),
        ],
    )?;
    // The same pipeline with its sink and config inside: it imports only WASI, so any runtime
    // with wasi:http serves it alone (`wasmtime serve`, wash 2.x).
    compose(
        &components,
        &out,
        "standalone",
        "pipeline-standalone",
        &[
            ("pipeline", "pipeline-composed.wasm"),
            ("file-sink", "file-sink.wasm"),
            ("env-config", "env-config.wasm"),
        ],
    )?;

    let artifacts = COMPONENTS
        .iter()
        .map(|name| format!("{name}.wasm"))
        .chain(
            [
                "logger-py.wasm",
                "gateway-fused.wasm",
                "processor-composed.wasm",
                "processor-composed-py.wasm",
                "pipeline-composed.wasm",
                "pipeline-standalone.wasm",
            ]
            .map(String::from),
        )
        .chain(["neon-logging-provider.par.gz".to_string()]);
    for artifact in artifacts {
        let size = std::fs::metadata(out.join(&artifact))
            .with_context(|| format!("build/{artifact} missing after the build"))?
            .len();
        info(&format!("{artifact:<30} {size:>8} bytes"));
    }
    Ok(())
}

/// The Python logger: componentize-py builds it against the Rust logger's world
/// (wit/logger), with CPython inside, then it is signed like the others.
fn build_python_logger(root: &Path, out: &Path) -> Result<()> {
    step("componentize-py: logger-py -> logger-py.wasm");
    let artifact = out.join("logger-py.wasm");
    let inputs = [
        root.join("components/logger-py"),
        root.join("wit"),
        signing::issuer_file(),
    ];
    if up_to_date(&artifact, &inputs) {
        info("up to date, skipped");
        return Ok(());
    }
    let mut command = Command::new(paths::neon_bin().join("componentize-py"));
    command.current_dir(root);
    // No __pycache__ in the source folder (it would also look like a changed input).
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    // The same WIT the Rust logger is generated from.
    for dir in [
        "io",
        "clocks",
        "random",
        "filesystem",
        "sockets",
        "cli",
        "config",
    ] {
        command.arg("-d").arg(root.join("wit/deps").join(dir));
    }
    command
        .arg("-d")
        .arg(root.join("wit/system"))
        .arg("-d")
        .arg(root.join("wit/logger"))
        .args(["-w", "cyber:logger/logger", "componentize", "-p"])
        .arg(root.join("components/logger-py"))
        .arg("app")
        .arg("-o")
        .arg(&artifact);
    run_logged(
        &mut command,
        &paths::target_dir().join("componentize-py-logger.log"),
        "componentize-py for the Python logger (componentize-py missing? run scripts/setup.sh)",
    )?;
    sign(&artifact, "logger-py")
}

/// `wac compose components/<wac>.wac` with each `neon:<package>` a file in `out`, written to
/// `out/<composed>.wasm` and signed.
fn compose(
    components: &Path,
    out: &Path,
    wac: &str,
    composed: &str,
    deps: &[(&str, &str)],
) -> Result<()> {
    step(&format!(
        "wac compose components/{wac}.wac -> {composed}.wasm"
    ));
    let file = out.join(format!("{composed}.wasm"));
    let inputs = deps
        .iter()
        .map(|(_, dep)| out.join(dep))
        .chain([
            components.join(format!("{wac}.wac")),
            signing::issuer_file(),
        ])
        .collect::<Vec<_>>();
    if up_to_date(&file, &inputs) {
        info("up to date, skipped");
        return Ok(());
    }
    let mut command = Command::new("wac");
    command
        .current_dir(components)
        .arg("compose")
        .arg(components.join(format!("{wac}.wac")));
    for (package, dep) in deps {
        command
            .arg("--dep")
            .arg(format!("neon:{package}={}", out.join(dep).display()));
    }
    run_command(
        command.arg("-o").arg(&file),
        &format!("wac compose components/{wac}.wac"),
    )?;
    sign(&file, composed)
}

/// `wac plug`: the processor with `logger` (a file in `out`) plugged into its logging import,
/// written to `<composed>.wasm` and signed.
fn plug(out: &Path, logger: &str, composed: &str) -> Result<()> {
    step(&format!(
        "wac plug: processor + {logger} -> {composed}.wasm"
    ));
    let file = out.join(format!("{composed}.wasm"));
    let inputs = [
        out.join("processor.wasm"),
        out.join(logger),
        signing::issuer_file(),
    ];
    if up_to_date(&file, &inputs) {
        info("up to date, skipped");
        return Ok(());
    }
    run_command(
        Command::new("wac")
            .current_dir(out)
            .arg("plug")
            .arg(out.join("processor.wasm"))
            .arg("--plug")
            .arg(out.join(logger))
            .arg("-o")
            .arg(&file),
        "wac plug (wac missing? run scripts/setup.sh)",
    )?;
    sign(&file, composed)
}

/// Signs a component in place with Neon's issuer (what wac composes or cargo builds carries no
/// signature).
fn sign(file: &Path, name: &str) -> Result<()> {
    run_logged(
        &mut signing::sign_command(file, name)?,
        &paths::target_dir().join(format!("wash-claims-sign-{name}.log")),
        &format!("wash claims sign {}", file.display()),
    )
}

/// The provider is a native crate: it builds in the shared native target dir.
fn build_provider(root: &Path, out: &Path) -> Result<()> {
    step("wash build --skip-fetch: logging provider -> neon-logging-provider.par.gz");
    let inputs = ["providers/logging", "wit/system", "Cargo.lock", "patches"]
        .map(|p| root.join(p))
        .into_iter()
        .chain([signing::issuer_file()])
        .collect::<Vec<_>>();
    if up_to_date(&out.join("neon-logging-provider.par.gz"), &inputs) {
        info("up to date, skipped");
        return Ok(());
    }
    run_logged(
        Command::new("wash")
            .current_dir(root.join("providers/logging"))
            .envs(signing::wash_env()?.iter().map(|(k, v)| (k, v)))
            .args(["build", "--skip-fetch"]),
        &paths::target_dir().join("wash-build-logging-provider.log"),
        "wash build for the logging provider (rerun: cd providers/logging && wash build --skip-fetch)",
    )
}

/// True when `artifact` exists and no file under `inputs` (build output folders aside) changed
/// since it was made.
fn up_to_date(artifact: &Path, inputs: &[PathBuf]) -> bool {
    if std::env::var_os("NEON_REBUILD").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    let Ok(made) = std::fs::metadata(artifact).and_then(|m| m.modified()) else {
        return false;
    };
    // Build output folders inside the inputs do not count.
    let output = |dir: &Path| {
        dir.file_name()
            .is_some_and(|n| n == "target" || n == "build")
    };
    let newer = |file: &PathBuf| {
        std::fs::metadata(file)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified > made)
    };
    !inputs.iter().any(|input| {
        paths::files_under(input, &output)
            .unwrap_or_default()
            .iter()
            .any(newer)
    })
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_newer_than_the_artifact_makes_it_stale() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("neon-build-test-{}", std::process::id()));
        let inputs = dir.join("inputs");
        std::fs::create_dir_all(inputs.join("target"))?;
        let artifact = dir.join("out.wasm");
        std::fs::write(inputs.join("lib.rs"), "old")?;
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&artifact, "built")?;
        let fresh = up_to_date(&artifact, std::slice::from_ref(&inputs));
        // Output folders inside the inputs do not count.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(inputs.join("target/x.wasm"), "output")?;
        let fresh_despite_target = up_to_date(&artifact, std::slice::from_ref(&inputs));
        std::fs::write(inputs.join("lib.rs"), "new")?;
        let stale = !up_to_date(&artifact, &[inputs]);
        let missing = !up_to_date(&dir.join("none.wasm"), &[]);
        std::fs::remove_dir_all(&dir)?;
        assert!(fresh && fresh_despite_target && stale && missing);
        Ok(())
    }
}
