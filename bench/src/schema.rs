//! The JSON files in the output dir: what this crate writes (sizes, coldstart, callcost-composed,
//! machine) and what the lattice half writes (http, deploy, callcost-linked). bench/README.md
//! documents the same schemas; the two halves agree through them.
//!
//! Both halves write these types and the report reads them, so a renamed field is an error at
//! build time, not a figure that silently reads as 0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::machine::Machine;
use crate::stats::{Spread, Summary};

pub const SIZES: &str = "sizes.json";
pub const COLDSTART: &str = "coldstart.json";
pub const CALLCOST_COMPOSED: &str = "callcost-composed.json";
pub const MACHINE: &str = "machine.json";
pub const HTTP: &str = "http.json";
pub const DEPLOY: &str = "deploy.json";
pub const CALLCOST_LINKED: &str = "callcost-linked.json";

// ---- sizes.json ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sizes {
    pub machine: Machine,
    pub artifacts: Vec<SizedFile>,
    pub native: SizedFile,
    pub targets: Vec<SizeTarget>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizedFile {
    pub name: String,
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizeTarget {
    pub artifact: String,
    pub limit_bytes: u64,
    pub bytes: u64,
    pub met: bool,
}

// ---- coldstart.json ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coldstart {
    pub machine: Machine,
    /// What one timed wasm run contains.
    pub included: String,
    /// What is done once, before the timed runs.
    pub excluded: String,
    pub engine: Vec<String>,
    pub wasm: Vec<WasmColdstart>,
    pub native: NativeColdstart,
    /// The wasm row the targets are judged on.
    pub headline: String,
    pub ratios: Vec<ColdstartRatio>,
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Coldstart {
    /// The row the targets are judged on.
    pub fn headline_row(&self) -> Option<&WasmColdstart> {
        self.wasm.iter().find(|w| w.label == self.headline)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WasmColdstart {
    /// `<component> (<mode>)`, e.g. `processor-composed.wasm (sync)`.
    pub label: String,
    pub component: String,
    /// `sync` or `async` (the wasmCloud host runs components async, on fibers).
    pub mode: String,
    /// What the host provides for the component's imports.
    pub host: String,
    /// New store + instantiate + first `process("hello")` answered.
    pub to_first_result_us: Summary,
    /// The same plus post-return and dropping the store (the instance goes back to the pool).
    pub with_teardown_us: Summary,
    /// Where `with_teardown_us` goes, phase by phase (p50 of each).
    pub phases_p50_us: Phases,
    /// p50 of `to_first_result_us` per round: the run's noise.
    pub round_p50_us: Spread,
    /// Precompile + deserialize + `instantiate_pre`, once.
    pub prepare_ms: f64,
}

/// p50s of the phases of one wasm cold start, µs; the first four add up to about
/// `to_first_result_us`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Phases {
    /// Building the per-request host state (WASI context and all).
    pub host_state: f64,
    pub store_new: f64,
    /// `InstancePre::instantiate`: memory and tables from the pool, start-up code.
    pub instantiate: f64,
    /// Export look-up and the call until its result is lifted.
    pub first_call: f64,
    /// Post-return and dropping the store.
    pub teardown: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NativeColdstart {
    pub binary: String,
    /// Spawn until the first line of the result is read on its stdout.
    pub to_first_result_us: Summary,
    /// Spawn until the process has exited and been reaped.
    pub to_exit_us: Summary,
    pub round_p50_us: Spread,
    /// Log records the runs appended to the log file (2 per run when it did the same work).
    pub log_records_written: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdstartRatio {
    pub wasm: String,
    /// native p50 / wasm p50: how many times faster the wasm cold start is.
    pub native_over_wasm_p50: f64,
}

// ---- callcost-composed.json ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallcostComposed {
    pub machine: Machine,
    pub method: String,
    /// Estimate of one log call inside the composed component.
    pub composed_log_call_ns: Summary,
    /// Whole composed `process()` divided by its log calls: a bound nothing can exceed.
    pub composed_log_call_upper_bound_ns: Summary,
    pub round_p50_ns: Spread,
    pub log_calls_per_process: u32,
    pub process_processor_noop_host_ns: Summary,
    pub process_composed_ns: Summary,
    /// Reference: the host calling logger.wasm's exported `logging.log` (sink is a no-op).
    pub logger_export_call_ns: Summary,
    #[serde(default)]
    pub notes: Vec<String>,
}

// ---- written by the lattice half ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Http {
    pub runs: Vec<HttpRun>,
    pub tool: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpRun {
    /// linked | direct | composed | hello | native
    pub variant: String,
    pub clients: u32,
    pub duration_s: f64,
    pub repeats: u32,
    pub rps: Spread,
    pub p50_ms: Spread,
    pub p99_ms: Spread,
    pub errors: u64,
    pub requests: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deploy {
    /// Per wiring (linked, direct, composed).
    pub deploy_to_first_200_ms: BTreeMap<String, Spread>,
    pub scale_from_zero_ms: Spread,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallcostLinked {
    pub linked_log_call_us: Summary,
    /// One `sink.write` call into the logging provider: one component -> provider call.
    #[serde(default)]
    pub provider_call_us: Option<Summary>,
    /// One plain NATS request/reply on the same server: the floor for any call over NATS.
    #[serde(default)]
    pub nats_request_us: Option<Summary>,
    pub method: String,
    pub notes: Vec<String>,
}
