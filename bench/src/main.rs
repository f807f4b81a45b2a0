//! `neon-bench`: Neon's benchmark and its report.
//!
//!     neon-bench sizes | coldstart | callcost | machine | lattice | report   [--out DIR]
//!
//! Each measuring subcommand writes JSON files into the output dir (default build/bench in the
//! checkout): the in-process figures, then `lattice`, the figures on a private wasmCloud
//! lattice. `report` turns every JSON file there into docs/benchmarks.md and
//! docs/benchmarks.svg. bench/README.md has the schemas.

mod callcost;
mod coldstart;
mod lattice;
mod machine;
mod native;
mod paths;
mod report;
mod schema;
mod sizes;
mod stats;
mod wasm_host;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;

#[derive(Parser)]
#[command(name = "neon-bench", about = "Neon's benchmarks and report")]
struct Cli {
    /// Where the JSON figures go (and where `report` reads them). Default: build/bench.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// sizes.json: each component .wasm and the stripped native pipeline binary.
    Sizes {
        /// The native pipeline binary. Default: $CARGO_TARGET_DIR/release/neon-native-pipeline.
        #[arg(long)]
        native_bin: Option<PathBuf>,
    },
    /// coldstart.json: new instance + first process() in Wasmtime, against spawning the native
    /// pipeline.
    Coldstart {
        #[arg(long)]
        native_bin: Option<PathBuf>,
        /// Timed cold starts per wasm variant.
        #[arg(long, default_value_t = 5000)]
        runs: usize,
        /// Timed native spawns.
        #[arg(long, default_value_t = 200)]
        native_runs: usize,
        /// Rounds the runs are split into (their spread is the noise).
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        #[arg(long, default_value_t = 200)]
        warmup: usize,
    },
    /// callcost-composed.json: one log call inside the composed component.
    Callcost {
        /// Timed process() pairs.
        #[arg(long, default_value_t = 100_000)]
        calls: usize,
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        #[arg(long, default_value_t = 5000)]
        warmup: usize,
    },
    /// machine.json: CPU model, cores, kernel, memory, load, date.
    Machine,
    /// http.json, deploy.json, callcost-linked.json: on a private wasmCloud lattice.
    Lattice {
        /// Which figures (http, deploy, callcost).
        #[arg(long, value_delimiter = ',', default_value = "http,deploy,callcost")]
        only: Vec<String>,
        /// Concurrent clients per HTTP run.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        clients: Vec<usize>,
        /// Seconds per HTTP run.
        #[arg(long, default_value_t = 5)]
        duration: u64,
        /// HTTP runs per client count (the median is kept, with min and max).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// The native anchor. Default: $CARGO_TARGET_DIR/release/neon-native-service.
        #[arg(long)]
        native_service: Option<PathBuf>,
    },
    /// profile-<variant>.json: where the CPU goes while wrk drives one variant on a private
    /// lattice (a system-wide `perf record`: by process, kernel entry points, top functions).
    Profile {
        /// A wiring (linked, direct, composed, python-logger) or hello (the platform's ceiling).
        #[arg(long, default_value = "composed")]
        variant: String,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds of load, all of them profiled.
        #[arg(long, default_value_t = 12)]
        duration: u64,
    },
    /// docs/benchmarks.md and docs/benchmarks.svg from every JSON file in the output dir.
    Report {
        /// Where the report goes. Default: docs/ in the checkout.
        #[arg(long)]
        docs: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("neon-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = paths::repo_root()?;
    let build_dir = paths::build_dir(&root);
    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| paths::default_out_dir(&root));
    let machine = machine::Machine::detect();
    eprintln!("machine: {}", machine.line());
    match cli.command {
        Command::Sizes { native_bin } => {
            let native = paths::native_bin(native_bin.as_deref())?;
            let sizes = sizes::run(&root, &build_dir, &native)?;
            for file in sizes.artifacts.iter().chain(std::iter::once(&sizes.native)) {
                println!("{:<32} {:>10} bytes", file.name, file.bytes);
            }
            write_json(&out, schema::SIZES, &sizes)
        }
        Command::Coldstart {
            native_bin,
            runs,
            native_runs,
            rounds,
            warmup,
        } => {
            let native = paths::native_bin(native_bin.as_deref())?;
            let opts = coldstart::Options {
                runs,
                rounds,
                warmup,
                native_runs,
            };
            let cold = coldstart::run(&build_dir, &native, &opts)?;
            for row in &cold.wasm {
                println!(
                    "{:<36} p50 {:>9.2} µs  p99 {:>9.2} µs  (native/wasm p50 {:.0}×)",
                    row.label,
                    row.to_first_result_us.p50,
                    row.to_first_result_us.p99,
                    cold.native.to_first_result_us.p50 / row.to_first_result_us.p50
                );
            }
            println!(
                "{:<36} p50 {:>9.2} µs  p99 {:>9.2} µs",
                "native spawn to first result",
                cold.native.to_first_result_us.p50,
                cold.native.to_first_result_us.p99
            );
            write_json(&out, schema::COLDSTART, &cold)
        }
        Command::Callcost {
            calls,
            rounds,
            warmup,
        } => {
            let opts = callcost::Options {
                calls,
                rounds,
                warmup,
            };
            let cost = callcost::run(&build_dir, &opts)?;
            println!(
                "composed log call: p50 {:.0} ns, p99 {:.0} ns (upper bound p50 {:.0} ns); \
                 host->logger.log p50 {:.0} ns",
                cost.composed_log_call_ns.p50,
                cost.composed_log_call_ns.p99,
                cost.composed_log_call_upper_bound_ns.p50,
                cost.logger_export_call_ns.p50
            );
            write_json(&out, schema::CALLCOST_COMPOSED, &cost)
        }
        Command::Machine => {
            println!("{}", machine.line());
            write_json(&out, schema::MACHINE, &machine)
        }
        Command::Lattice {
            only,
            clients,
            duration,
            repeats,
            native_service,
        } => {
            let options = lattice::Options {
                parts: only,
                plan: lattice::Plan {
                    clients,
                    duration: std::time::Duration::from_secs(duration),
                    repeats,
                    warmup: std::time::Duration::from_secs(2),
                },
                native_service: paths::native_service(native_service.as_deref())?,
            };
            // One thread for client and demux keeps the call-cost timing free of cross-thread
            // wake-ups (see lattice::callcost).
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(lattice::run(&options, &out))
        }
        Command::Profile {
            variant,
            clients,
            duration,
        } => {
            let options = lattice::profile::Options {
                variant,
                clients,
                duration: std::time::Duration::from_secs(duration),
            };
            let profile = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(lattice::profile::run(&options, &out))?;
            lattice::profile::print(&profile);
            write_json(&out, &format!("profile-{}.json", profile.variant), &profile)
        }
        Command::Report { docs } => {
            let docs = docs.unwrap_or_else(|| root.join("docs"));
            let (md, svg) = report::run(&out, &docs)?;
            println!("wrote {} and {}", md.display(), svg.display());
            Ok(())
        }
    }
}

pub(crate) fn write_json<T: Serialize>(dir: &Path, file: &str, value: &T) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(file);
    let text = serde_json::to_string_pretty(value).context("encoding JSON")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
