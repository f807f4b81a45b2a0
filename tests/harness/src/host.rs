//! The host side of every component Neon runs in this harness: WASI (std's imports, wasi:http,
//! wasi:config) from the wasmtime-wasi crates, and recording stand-ins for Neon's own contracts
//! (`logging`, `sink`, `processing`) so tests can see exactly what a component did.

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use crate::bindings::{logger, processor, Entry, Level};

/// What the host-side `processing` import does when the gateway calls it.
pub type ProcessFn = Box<dyn FnMut(&[u8]) -> Result<String, String> + Send>;

/// How much of a component's stderr is kept.
const STDERR_CAPACITY: usize = 1 << 20;

/// Per-instance host state; one fresh `Store` (and so one of these) per instantiation.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    config: WasiConfigVariables,
    stderr: MemoryOutputPipe,
    /// Calls the component made to `cyber:system/logging.log`, in order.
    pub logs: Vec<(String, Level)>,
    /// Entries the component wrote to `cyber:system/sink`, in order.
    pub sink: Vec<Entry>,
    /// Calls the component made to `sink.write`, kept or refused: the sink round trips it waited
    /// on when the sink is a provider across the lattice.
    pub sink_writes: usize,
    /// When set, `sink.write` fails with this message and keeps nothing.
    pub sink_failure: Option<String>,
    /// Inputs the component passed to `cyber:core/processing.process`, in order.
    pub processed: Vec<Vec<u8>>,
    process: ProcessFn,
}

impl HostState {
    /// `config`: the component config, as wasmCloud would pass it through wasi:config.
    pub fn new(config: &[(&str, &str)]) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            config: config.iter().copied().collect(),
            stderr,
            logs: Vec::new(),
            sink: Vec::new(),
            sink_writes: 0,
            sink_failure: None,
            processed: Vec::new(),
            process: Box::new(|_| Err("no processing configured in this test".to_string())),
        }
    }

    /// Sets what the host-side `processing.process` answers.
    pub fn with_processing(
        mut self,
        process: impl FnMut(&[u8]) -> Result<String, String> + Send + 'static,
    ) -> Self {
        self.process = Box::new(process);
        self
    }

    /// Makes every `sink.write` fail with `message`.
    pub fn with_failing_sink(mut self, message: &str) -> Self {
        self.sink_failure = Some(message.to_string());
        self
    }

    /// What the component wrote to stderr (the host's log in wasmCloud).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl processor::cyber::system::types::Host for HostState {}

impl processor::cyber::system::logging::Host for HostState {
    fn log(&mut self, msg: String, lvl: Level) {
        self.logs.push((msg, lvl));
    }
}

impl logger::cyber::system::sink::Host for HostState {
    fn write(&mut self, entries: Vec<Entry>) -> Result<(), String> {
        self.sink_writes += 1;
        match &self.sink_failure {
            Some(message) => Err(message.clone()),
            None => {
                self.sink.extend(entries);
                Ok(())
            }
        }
    }
}

/// An engine configured like the wasmCloud host's: component model on, async calls.
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true).async_support(true);
    Engine::new(&config)
}

/// One linker that satisfies every Neon component: each uses the subset it imports.
pub fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::add_only_http_to_linker_async(&mut linker)?;
    wasmtime_wasi_config::add_to_linker(&mut linker, |state: &mut HostState| {
        WasiConfig::from(&state.config)
    })?;
    processor::cyber::system::types::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    processor::cyber::system::logging::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    logger::cyber::system::sink::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    // No bindings for a world that imports `processing` alone; one function is simply wrapped.
    linker.instance("cyber:core/processing@0.1.0")?.func_wrap(
        "process",
        |mut store, (data,): (Vec<u8>,)| -> Result<(Result<String, String>,)> {
            let state: &mut HostState = store.data_mut();
            let result = (state.process)(&data);
            state.processed.push(data);
            Ok((result,))
        },
    )?;
    Ok(linker)
}
