//! Wasmtime set up the way a host that cares about cold starts would: components precompiled
//! ahead of time, the pooling allocator, imports linked and types checked once
//! (`InstancePre`), so a request pays only for a store, an instance and the call.
//!
//! Host stand-ins are the cheapest honest ones: processor.wasm's `logging` import counts calls;
//! the composed component's `sink` counts entries and its WASI imports get a real, minimal
//! `WasiCtx` per store, as a host must build one per instance.

use anyhow::{Context, Result};
use wasmtime::component::{
    Component, ComponentExportIndex, HasSelf, InstancePre, Linker, ResourceTable,
};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};

use neon_harness::bindings::{logger, processor, Entry, Level};

pub const PROCESSING: &str = "cyber:core/processing@0.1.0";
pub const LOGGING: &str = "cyber:system/logging@0.1.0";

/// Pool slots: far more than the bench keeps alive at once (one instance per store at a time),
/// few enough that reserving their address space stays cheap.
const POOL_INSTANCES: u32 = 64;
/// Rust guests start at ~1 MiB of linear memory; nothing here grows past a few MiB.
const POOL_MAX_MEMORY: usize = 64 << 20;
/// Reset a returned memory in place instead of unmapping it, finding the pages the request
/// dirtied with the PAGEMAP_SCAN ioctl (Linux 6.7+): only those are restored and none is
/// faulted in again on the next request. Measured here: 2-3x faster instantiate + teardown
/// than the default madvise reset; without PAGEMAP_SCAN, keeping this much resident would
/// memset all of it, so the setting is only worth it with the scan.
const KEEP_RESIDENT: usize = POOL_MAX_MEMORY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain calls on the caller's stack.
    Sync,
    /// Calls on fibers, as the wasmCloud host makes them.
    Async,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Async => "async",
        }
    }
}

/// The engine settings, in words, for the JSON files.
pub fn engine_description() -> Vec<String> {
    vec![
        "wasmtime 38.0.4 (the version inside wasmCloud host 1.9), cranelift, component model"
            .to_string(),
        format!(
            "pooling allocator: {POOL_INSTANCES} component instances, memories up to {} MiB, \
             copy-on-write memory images; returned memories and tables reset in place ({} MiB \
             kept resident), dirty pages found with PAGEMAP_SCAN: {}",
            POOL_MAX_MEMORY >> 20,
            KEEP_RESIDENT >> 20,
            if PoolingAllocationConfig::is_pagemap_scan_available() {
                "available"
            } else {
                "NOT available on this kernel, so nothing is kept resident (madvise reset)"
            }
        ),
        "components precompiled with Engine::precompile_component, loaded with \
         Component::deserialize, imports resolved once with Linker::instantiate_pre"
            .to_string(),
    ]
}

pub fn engine(mode: Mode) -> Result<Engine> {
    let keep_resident = if PoolingAllocationConfig::is_pagemap_scan_available() {
        KEEP_RESIDENT
    } else {
        0
    };
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 4)
        .total_memories(POOL_INSTANCES * 4)
        .total_tables(POOL_INSTANCES * 4)
        .total_stacks(POOL_INSTANCES)
        .max_memory_size(POOL_MAX_MEMORY)
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(keep_resident)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .async_support(mode == Mode::Async)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).context("creating the Wasmtime engine (pooling allocator)")
}

/// Compiles `wasm` ahead of time and loads the artifact, as a host loads its compile cache.
pub fn precompiled(engine: &Engine, wasm: &[u8], name: &str) -> Result<Component> {
    let artifact = engine
        .precompile_component(wasm)
        .with_context(|| format!("precompiling {name}"))?;
    // SAFETY: the artifact was produced a moment ago by this very engine, in this process;
    // deserialize trusts its input to be a well-formed Wasmtime artifact, which it is.
    unsafe { Component::deserialize(engine, &artifact) }
        .with_context(|| format!("loading precompiled {name}"))
}

/// The index of `interface`'s function `func` among the component's exports.
pub fn export_func(
    component: &Component,
    interface: &str,
    func: &str,
) -> Result<ComponentExportIndex> {
    let instance = component
        .get_export_index(None, interface)
        .with_context(|| format!("the component does not export {interface}"))?;
    component
        .get_export_index(Some(&instance), func)
        .with_context(|| format!("{interface} has no function {func}"))
}

/// Host state for processor.wasm, whose only import is `cyber:system/logging`.
#[derive(Default)]
pub struct LoggingHost {
    pub log_calls: u64,
}

impl processor::cyber::system::types::Host for LoggingHost {}

impl processor::cyber::system::logging::Host for LoggingHost {
    fn log(&mut self, _msg: String, _lvl: Level) {
        self.log_calls += 1;
    }
}

pub fn logging_pre(engine: &Engine, component: &Component) -> Result<InstancePre<LoggingHost>> {
    let mut linker = Linker::new(engine);
    processor::cyber::system::types::add_to_linker::<_, HasSelf<LoggingHost>>(&mut linker, |s| s)?;
    processor::cyber::system::logging::add_to_linker::<_, HasSelf<LoggingHost>>(
        &mut linker,
        |s| s,
    )?;
    linker
        .instantiate_pre(component)
        .context("linking processor.wasm's imports")
}

/// Host state for components that hold the logger (composed, logger.wasm): a no-op sink and
/// the WASI the logger imports (wall clock, stderr, config).
pub struct SinkHost {
    wasi: WasiCtx,
    table: ResourceTable,
    config: WasiConfigVariables,
    pub entries: u64,
}

impl SinkHost {
    /// What a host builds per instance: a WASI context with nothing inherited (no env, no
    /// stdio, no files), an empty resource table, empty component config.
    pub fn new() -> Self {
        Self {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            config: WasiConfigVariables::new(),
            entries: 0,
        }
    }
}

impl Default for SinkHost {
    fn default() -> Self {
        Self::new()
    }
}

impl WasiView for SinkHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl processor::cyber::system::types::Host for SinkHost {}

impl logger::cyber::system::sink::Host for SinkHost {
    fn write(&mut self, entries: Vec<Entry>) -> Result<(), String> {
        self.entries += entries.len() as u64;
        Ok(())
    }
}

pub fn sink_pre(
    engine: &Engine,
    mode: Mode,
    component: &Component,
) -> Result<InstancePre<SinkHost>> {
    let mut linker = Linker::new(engine);
    match mode {
        Mode::Sync => wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?,
        Mode::Async => wasmtime_wasi::p2::add_to_linker_async(&mut linker)?,
    }
    wasmtime_wasi_config::add_to_linker(&mut linker, |state: &mut SinkHost| {
        WasiConfig::from(&state.config)
    })?;
    processor::cyber::system::types::add_to_linker::<_, HasSelf<SinkHost>>(&mut linker, |s| s)?;
    logger::cyber::system::sink::add_to_linker::<_, HasSelf<SinkHost>>(&mut linker, |s| s)?;
    linker
        .instantiate_pre(component)
        .context("linking the logger's imports (sink, WASI)")
}
