//! `neon soak`: what is too long or too load-sensitive for `neon test`: the wRPC reply-race
//! stress test (tests/lattice/tests/wrpc_reply_race.rs: 200,000 calls from 64 callers while
//! every core is busy), run several times in a row. Prints each run's figures and a summary;
//! fails if any run had a hung, failed or wrong call.

use std::process::Command;

use anyhow::{bail, Result};

use neon_ops::paths;
use neon_ops::run::run as run_command;
use neon_ops::say::{info, step};

#[derive(clap::Args)]
pub struct Args {
    /// How many runs (about 10 s each on 2 cores).
    #[arg(default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
}

fn reply_race_test(extra: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(paths::repo_root())
        .args([
            "test",
            "--release",
            "-p",
            "neon-lattice-tests",
            "--test",
            "wrpc_reply_race",
        ])
        .args(extra);
    command
}

pub fn run(args: Args) -> Result<()> {
    step("build the reply-race test");
    run_command(
        &mut reply_race_test(&["--no-run"]),
        "building the reply-race test",
    )?;
    let mut clean = 0;
    for run in 1..=args.runs {
        step(&format!("reply-race soak: run {run} of {}", args.runs));
        let output = reply_race_test(&["--", "--ignored", "--nocapture"]).output()?;
        if output.status.success() {
            clean += 1;
        }
        let text =
            String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        // The run's figures, or what stopped it.
        let figures: Vec<&str> = text
            .lines()
            .filter(|line| {
                ["wRPC calls", "panicked", "never answered"]
                    .iter()
                    .any(|k| line.contains(k))
            })
            .collect();
        let shown = if figures.is_empty() {
            text.lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        } else {
            figures
        };
        shown.iter().for_each(|line| println!("{line}"));
    }
    info(&format!(
        "reply-race soak: {clean} of {} runs without a hung, failed or wrong call",
        args.runs
    ));
    if clean != args.runs {
        bail!(
            "{} of {} runs had a hung, failed or wrong call",
            args.runs - clean,
            args.runs
        );
    }
    Ok(())
}
