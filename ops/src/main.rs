//! `neon`: operating Neon's lattices. scripts/*.sh are the README's entry points; after they
//! bootstrap the toolchain they call this.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "neon", about = "Operate Neon's wasmCloud lattices")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything after the toolchain and patched crates: pinned tools, the platform binaries
    /// where `wash up` finds them, Neon's components (scripts/setup.sh).
    Setup,
    /// Build Neon's components and compose them into build/ (scripts/build.sh).
    Build {
        /// Plain cargo instead of `wash build`.
        #[arg(long)]
        cargo: bool,
    },
    /// Run every check and test suite, or the ones named (scripts/test.sh).
    Test(commands::test::Args),
    /// Run the wRPC reply-race stress test several times (scripts/soak.sh).
    Soak(commands::soak::Args),
    /// Fuzz the logging provider's config parsing and record encoding (scripts/fuzz.sh).
    Fuzz(commands::fuzz::Args),
    /// Neon on the local lattice: start it if none runs, deploy a manifest, send a sample request.
    Up(commands::up::Args),
    /// Undeploy Neon and stop the local lattice.
    Down(commands::down::Args),
    /// The records Neon wrote: by request, level and age, followed as they arrive.
    Logs(commands::logs::Args),
    /// The lattice at a glance: hosts, apps, components with live rates, links, what is unhealthy.
    Status(commands::status::Args),
    /// Neon across a hub and N edge nodes on this machine (scripts/edge.sh).
    #[command(subcommand)]
    Edge(commands::edge::Command),
    /// Fail, naming the owner, when something listens on one of these loopback ports.
    PortsFree {
        ports: Vec<u16>,
        /// Appended to the error (what to set instead).
        #[arg(long, default_value = "")]
        hint: String,
    },
    /// Wait until something listens on 127.0.0.1:PORT.
    WaitPort {
        port: u16,
        #[arg(long, default_value_t = 20)]
        limit_s: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Setup => neon_ops::setup::run(),
        Command::Build { cargo } => neon_ops::build::run(if cargo {
            neon_ops::build::Tool::Cargo
        } else {
            neon_ops::build::Tool::Wash
        }),
        Command::Test(args) => commands::test::run(args),
        Command::Soak(args) => commands::soak::run(args),
        Command::Fuzz(args) => commands::fuzz::run(args),
        Command::Up(args) => commands::up::run(args).await,
        Command::Down(args) => commands::down::run(args).await,
        Command::Logs(args) => commands::logs::run(args).await,
        Command::Status(args) => commands::status::run(args).await,
        Command::Edge(command) => commands::edge::run(command).await,
        Command::PortsFree { ports, hint } => neon_ops::net::ensure_ports_free(&ports, &hint),
        Command::WaitPort { port, limit_s } => {
            neon_ops::net::wait_for_port(port, std::time::Duration::from_secs(limit_s))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\x1b[1;31merror:\x1b[0m {error:#}");
            ExitCode::FAILURE
        }
    }
}
