//! `neon test`: every check and test Neon has, suite by suite, then a summary. A failing suite
//! does not stop the others: the summary names every one that failed.

use std::process::Command;

use anyhow::{bail, Result};

use neon_ops::paths;
use neon_ops::say::step;

/// One suite: its name and the commands it runs, in order, all of which must pass.
struct Suite {
    /// What `neon test KEY...` selects it by.
    key: &'static str,
    name: &'static str,
    commands: Vec<Command>,
}

/// cargo in the native workspace (the shared target dir).
fn native(args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command.current_dir(paths::repo_root()).args(args);
    command
}

/// Every test of `package` in the native workspace, release build. A failing test binary does
/// not stop the ones after it: one run shows every failure.
fn release_tests(package: &str) -> Command {
    native(&["test", "--release", "--no-fail-fast", "-p", package])
}

/// cargo in the components workspace, which builds in its own target dir (see `neon build`).
fn components(args: &[&str]) -> Command {
    let components = paths::repo_root().join("components");
    let mut command = Command::new("cargo");
    command
        .current_dir(&components)
        .env("CARGO_TARGET_DIR", components.join("target"))
        .args(args);
    command
}

/// The harness's logger tests, run against the Python logger.
fn python_logger(mut command: Command) -> Command {
    command.env("NEON_HARNESS_LOGGER", "python");
    command
}

fn suites() -> Vec<Suite> {
    vec![
        Suite {
            key: "lint",
            name: "lint (fmt, clippy -D warnings)",
            commands: vec![
                native(&["fmt", "--all", "--check"]),
                components(&["fmt", "--all", "--check"]),
                components(&[
                    "clippy",
                    "--quiet",
                    "--release",
                    "--target",
                    "wasm32-wasip2",
                    "--",
                    "-D",
                    "warnings",
                ]),
                components(&[
                    "clippy", "--quiet", "--lib", "--tests", "--", "-D", "warnings",
                ]),
                native(&[
                    "clippy",
                    "--quiet",
                    "--release",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]),
            ],
        },
        // --lib: the cdylibs only link for wasm; the pure logic's unit tests run natively.
        Suite {
            key: "components",
            name: "component unit tests",
            commands: vec![components(&["test", "--quiet", "--lib"])],
        },
        // Release: Cranelift compiling components at opt-level 0 makes debug runs crawl, and the
        // release dependencies are shared with the platform build.
        Suite {
            key: "harness",
            name: "components in Wasmtime + capability audit (+ the logger tests on the Python logger)",
            commands: vec![
                release_tests("neon-harness"),
                python_logger(native(&[
                    "test",
                    "--release",
                    "-p",
                    "neon-harness",
                    "--test",
                    "logger",
                    "--test",
                    "composed",
                ])),
            ],
        },
        // Pinned versions, manifest rendering, set-up and build helpers, waits, and the platform
        // smoke test (`wash up` on a private lattice: the pinned host answers with our label, wadm
        // answers, the http-server provider starts, `wash down` leaves nothing running).
        Suite {
            key: "ops",
            name: "ops crate + platform smoke (wash up: NATS + host + wadm)",
            commands: vec![release_tests("neon-ops")],
        },
        Suite {
            key: "host",
            name: "host launcher unit tests",
            commands: vec![release_tests("neon-wasmcloud-host")],
        },
        // Unit tests, and the provider binary against a real nats-server over wRPC.
        Suite {
            key: "provider",
            name: "logging provider (unit + real nats-server)",
            commands: vec![release_tests("neon-logging-provider")],
        },
        // Each wiring on its own private `wash up` lattice: HTTP through the host's built-in
        // server (and once through the http-server provider), records in the logging provider's
        // sink, undeploy/redeploy, 1000 sequential requests, 2 x 60 s of 64 clients, a frozen
        // sink, a killed logging provider (every record accounted to its request), a sink's
        // disk filling up (every wiring); every record naming its request (every wiring); the
        // metrics read back through a real Prometheus, `neon status` and `neon logs`; who gets in
        // (credentials and permissions, asked with plain clients); only signed code runs; hostile
        // HTTP; a rogue component contained beside Neon; bodies trickled in over twice the
        // execution limit (served) and stalled (408). The standalone pipeline on `wasmtime
        // serve` and wash 2.x, asked the same HTTP cases. Each call is two NATS messages and
        // makes no subscription; a call nobody serves fails at once. (The wRPC reply-race stress
        // test is a soak: scripts/soak.sh.)
        Suite {
            key: "lattice",
            name: "end to end on a real lattice (every wiring, both ingresses), and on wasmtime serve and wash 2.x",
            commands: vec![release_tests("neon-lattice-tests")],
        },
        // The report generator and the native anchors (figures are scripts/bench.sh's).
        Suite {
            key: "bench",
            name: "benchmark tools (parsers, native anchors)",
            commands: vec![native(&[
                "test",
                "--quiet",
                "--release",
                "-p",
                "neon-native",
                "-p",
                "neon-bench",
            ])],
        },
        // A hub and three edge nodes (network namespaces, or loopback processes where they
        // cannot be made), rollout/rollback under traffic, host kill, partition, leaf restart.
        Suite {
            key: "edge",
            name: "edge: hub + 3 edge nodes over NATS leaf nodes",
            commands: vec![edge_tests()],
        },
    ]
}

/// The edge tests, with their figures (--nocapture: recovery times, failed requests, records
/// lost are the point).
fn edge_tests() -> Command {
    native(&[
        "test",
        "--release",
        "-p",
        "neon-edge-tests",
        "--",
        "--nocapture",
    ])
}

#[derive(clap::Args)]
pub struct Args {
    /// Only these suites (lint, components, harness, ops, host, provider, lattice, bench, edge);
    /// all of them when none is given.
    only: Vec<String>,
}

fn passes(mut command: Command) -> bool {
    command.status().is_ok_and(|status| status.success())
}

pub fn run(args: Args) -> Result<()> {
    let all = suites();
    if let Some(unknown) = args
        .only
        .iter()
        .find(|key| !all.iter().any(|s| s.key == key.as_str()))
    {
        let keys: Vec<_> = all.iter().map(|s| s.key).collect();
        bail!("no suite '{unknown}' (suites: {})", keys.join(", "));
    }
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for suite in all {
        if !args.only.is_empty() && !args.only.iter().any(|key| key == suite.key) {
            continue;
        }
        step(&format!("test: {}", suite.name));
        if suite.commands.into_iter().all(passes) {
            passed.push(suite.name);
        } else {
            failed.push(suite.name);
        }
    }
    println!();
    passed.iter().for_each(|name| println!("  ok    {name}"));
    failed.iter().for_each(|name| println!("  FAIL  {name}"));
    println!("suites: {} passed, {} failed", passed.len(), failed.len());
    if !failed.is_empty() {
        bail!("{} suite(s) failed", failed.len());
    }
    Ok(())
}
