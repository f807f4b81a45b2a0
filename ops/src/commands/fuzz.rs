//! `neon fuzz`: the logging provider's fuzz targets (providers/logging/fuzz: config parsing,
//! record encoding), each for a set time with cargo fuzz on a nightly toolchain. Not part of
//! `neon test`: a fuzz run is as long as one asks for. Prints each target's executions and
//! time; fails, naming the saved input, when a target finds a crash.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use neon_ops::paths;
use neon_ops::run::{reports, run as run_command, run_logged};
use neon_ops::say::{info, step};

/// Pinned like every other tool: `cargo install --locked` from crates.io.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const TARGETS: [&str; 2] = ["config", "record"];

#[derive(clap::Args)]
pub struct Args {
    /// Seconds per target.
    #[arg(default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
}

fn ensure_nightly() -> Result<()> {
    let listed = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()?;
    if !String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|l| l.starts_with("nightly"))
    {
        bail!(
            "cargo fuzz needs a nightly Rust toolchain for its sanitizers, and rustup lists none \
             (rustup toolchain install nightly, where rustup can reach its servers)"
        );
    }
    Ok(())
}

fn ensure_cargo_fuzz() -> Result<()> {
    step(&format!("cargo-fuzz {CARGO_FUZZ_VERSION}"));
    let bin = paths::cargo_bin().join("cargo-fuzz");
    if reports(CARGO_FUZZ_VERSION, &bin, &["--version"]) {
        info("present, skipped");
        return Ok(());
    }
    run_command(
        Command::new("cargo").args([
            "install",
            "cargo-fuzz",
            "--version",
            CARGO_FUZZ_VERSION,
            "--locked",
        ]),
        "cargo install cargo-fuzz",
    )
}

/// `cargo +nightly fuzz ...` in the provider's folder, building apart from the shared target
/// dir (sanitizer flags would rebuild everything there).
fn cargo_fuzz(provider: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(provider)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env("CARGO_TARGET_DIR", paths::cache_dir().join("fuzz-target"))
        .arg("+nightly")
        .arg("fuzz")
        .args(args);
    command
}

/// libFuzzer's closing line: `Done 123456 runs in 60 second(s)`.
fn executions(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|line| line.strip_prefix("Done ")?.split(' ').next()?.parse().ok())
}

pub fn run(args: Args) -> Result<()> {
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    let provider = paths::repo_root().join("providers/logging");
    step("cargo fuzz build (nightly, address sanitizer; the first build takes minutes)");
    run_command(&mut cargo_fuzz(&provider, &["build"]), "cargo fuzz build")?;
    let logs = paths::cache_dir().join("fuzz-logs");
    let mut summary = Vec::new();
    for target in TARGETS {
        step(&format!("fuzz {target} for {} s", args.seconds));
        let log = logs.join(format!("{target}.log"));
        let started = Instant::now();
        let time = format!("-max_total_time={}", args.seconds);
        let outcome = run_logged(
            &mut cargo_fuzz(&provider, &["run", target, "--", &time]),
            &log,
            &format!("fuzz target {target} (input that crashed it: providers/logging/fuzz/artifacts/{target}/)"),
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let runs = executions(&text).map_or_else(|| "?".to_string(), |n| n.to_string());
        let line = format!(
            "{target}: {runs} executions in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        info(&line);
        outcome.with_context(|| line.clone())?;
        summary.push(line);
    }
    step("fuzzing done: no crash");
    summary.iter().for_each(|line| info(line));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_libfuzzers_run_count() {
        let log = "#1024 pulse cov: 12\nDone 1234567 runs in 61 second(s)\n";
        assert_eq!(super::executions(log), Some(1234567));
        assert_eq!(super::executions("crashed"), None);
    }
}
