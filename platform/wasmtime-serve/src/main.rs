//! `wasmtime serve`: Wasmtime's own HTTP server for components, built from crate wasmtime-cli
//! 38.0.4. As a member of Neon's workspace it shares the lockfile, and with it the one Wasmtime
//! the wasmCloud host runs (a unit test in ops holds both to the pin), and set-up builds it in
//! the same cargo run as the host, so the Wasmtime crates compile once for both.
//!
//! The library does everything; this is wasmtime-cli's own `wasmtime` with only `serve`.

use clap::Parser;
use wasmtime_cli::commands::ServeCommand;

#[derive(Parser)]
#[command(name = "wasmtime", version, about = "Wasmtime's `serve` command only")]
enum Wasmtime {
    /// Serve a `wasi:http/proxy` component over HTTP.
    Serve(ServeCommand),
}

fn main() -> anyhow::Result<()> {
    match Wasmtime::parse() {
        Wasmtime::Serve(command) => command.execute(),
    }
}
