//! Figure 3, call cost: one log call inside the composed component, where processor and logger
//! are fused and the call is a function call through the adapter `wac plug` generated.
//!
//! The composed component exports only `process`, so a log call cannot be timed alone. Both
//! processor.wasm (its `logging` import served by a host function that only counts) and
//! processor-composed.wasm run `process("hello")` on instances made once, alternately, each
//! call timed; the difference of a pair is what the two log calls inside the composed
//! component cost beyond two calls to a no-op host import, so half of it estimates one call.
//! The whole composed `process()` divided by its log calls is an upper bound.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use wasmtime::component::TypedFunc;
use wasmtime::{AsContextMut, Store};

use crate::machine::Machine;
use crate::schema::CallcostComposed;
use crate::stats::{Spread, Summary};
use crate::wasm_host::{self, LoggingHost, Mode, SinkHost, LOGGING, PROCESSING};

use neon_harness::Level;

const PAYLOAD: &[u8] = b"hello";
/// process() on a non-empty payload logs "Initiating data sequence..." and "Sequence
/// complete." (components/processor/src/lib.rs); checked against the host's counters below.
const LOG_CALLS_PER_PROCESS: u32 = 2;

type Process = TypedFunc<(&'static [u8],), (Result<String, String>,)>;
type Log = TypedFunc<(&'static str, Level), ()>;

pub struct Options {
    pub calls: usize,
    pub rounds: usize,
    pub warmup: usize,
}

pub fn run(build_dir: &Path, opts: &Options) -> Result<CallcostComposed> {
    let machine = Machine::detect();
    let engine = wasm_host::engine(Mode::Sync)?;

    let processor = wasm_host::precompiled(
        &engine,
        &read(build_dir, "processor.wasm")?,
        "processor.wasm",
    )?;
    let processor_index = wasm_host::export_func(&processor, PROCESSING, "process")?;
    let mut processor_store = Store::new(&engine, LoggingHost::default());
    let processor_fn: Process = wasm_host::logging_pre(&engine, &processor)?
        .instantiate(&mut processor_store)?
        .get_typed_func(&mut processor_store, processor_index)?;

    let composed_file = "processor-composed.wasm";
    let composed =
        wasm_host::precompiled(&engine, &read(build_dir, composed_file)?, composed_file)?;
    let composed_index = wasm_host::export_func(&composed, PROCESSING, "process")?;
    let mut composed_store = Store::new(&engine, SinkHost::new());
    let composed_fn: Process = wasm_host::sink_pre(&engine, Mode::Sync, &composed)?
        .instantiate(&mut composed_store)?
        .get_typed_func(&mut composed_store, composed_index)?;

    let logger = wasm_host::precompiled(&engine, &read(build_dir, "logger.wasm")?, "logger.wasm")?;
    let logger_index = wasm_host::export_func(&logger, LOGGING, "log")?;
    let mut logger_store = Store::new(&engine, SinkHost::new());
    let log_fn: Log = wasm_host::sink_pre(&engine, Mode::Sync, &logger)?
        .instantiate(&mut logger_store)?
        .get_typed_func(&mut logger_store, logger_index)?;

    eprintln!("callcost: warm-up");
    for _ in 0..opts.warmup {
        time_process(&processor_fn, &mut processor_store)?;
        time_process(&composed_fn, &mut composed_store)?;
        time_log(&log_fn, &mut logger_store)?;
    }
    let warm_log_calls = processor_store.data().log_calls;
    let warm_entries = composed_store.data().entries;

    let rounds = opts.rounds.max(1);
    let per_round = opts.calls.div_ceil(rounds);
    let mut processor_ns = Vec::with_capacity(opts.calls);
    let mut composed_ns = Vec::with_capacity(opts.calls);
    let mut per_log_ns = Vec::with_capacity(opts.calls);
    let mut round_p50 = Vec::with_capacity(rounds);
    eprintln!("callcost: {} paired process() calls", per_round * rounds);
    for _ in 0..rounds {
        let mut round = Vec::with_capacity(per_round);
        for i in 0..per_round {
            // Alternate which goes first, so neither always runs on the other's warm caches.
            let (p, c) = if i % 2 == 0 {
                let p = time_process(&processor_fn, &mut processor_store)?;
                (p, time_process(&composed_fn, &mut composed_store)?)
            } else {
                let c = time_process(&composed_fn, &mut composed_store)?;
                (time_process(&processor_fn, &mut processor_store)?, c)
            };
            processor_ns.push(p);
            composed_ns.push(c);
            round.push((c - p) / f64::from(LOG_CALLS_PER_PROCESS));
        }
        round_p50.extend(Summary::of(&round).map(|s| s.p50));
        per_log_ns.extend(round);
    }
    let calls = (per_round * rounds) as u64;
    let log_calls = processor_store.data().log_calls - warm_log_calls;
    let entries = composed_store.data().entries - warm_entries;
    let expected = calls * u64::from(LOG_CALLS_PER_PROCESS);
    if log_calls != expected || entries != expected {
        bail!(
            "expected {expected} log calls from each side, saw {log_calls} host log calls \
             (processor.wasm) and {entries} sink entries (composed): the processor's logging \
             changed, update LOG_CALLS_PER_PROCESS"
        );
    }

    eprintln!("callcost: logger.wasm logging.log from the host");
    let mut logger_ns = Vec::with_capacity(opts.calls);
    for _ in 0..per_round * rounds {
        logger_ns.push(time_log(&log_fn, &mut logger_store)?);
    }

    let upper: Vec<f64> = composed_ns
        .iter()
        .map(|c| c / f64::from(LOG_CALLS_PER_PROCESS))
        .collect();
    Ok(CallcostComposed {
        machine,
        method: format!(
            "processor.wasm (logging import = host function that counts) and \
             processor-composed.wasm (sink import = host function that counts) each instantiated \
             once; process({:?}) called on both alternately, {} pairs in {} rounds after {} \
             warm-up pairs, each call timed with post-return. One pair's (composed - processor) \
             / {n} is one sample: the cost of a log call through the fused adapter into the \
             logger (level filter, redaction, wall-clock read, sink write to the host) beyond a \
             call to a no-op host import. Upper bound: composed process() / {n}. Synchronous \
             Wasmtime 38 calls, pooling allocator, precompiled components.",
            String::from_utf8_lossy(PAYLOAD),
            per_round * rounds,
            rounds,
            opts.warmup,
            n = LOG_CALLS_PER_PROCESS,
        ),
        composed_log_call_ns: Summary::of(&per_log_ns).context("no calls")?,
        composed_log_call_upper_bound_ns: Summary::of(&upper).context("no calls")?,
        round_p50_ns: Spread::of(&round_p50).context("no rounds")?,
        log_calls_per_process: LOG_CALLS_PER_PROCESS,
        process_processor_noop_host_ns: Summary::of(&processor_ns).context("no calls")?,
        process_composed_ns: Summary::of(&composed_ns).context("no calls")?,
        logger_export_call_ns: Summary::of(&logger_ns).context("no calls")?,
        notes: vec![
            "Each timed call includes reading the clock twice (tens of ns); it cancels out of \
             the paired difference but not out of the upper bound."
                .to_string(),
            "The estimate's min and max come from pairs where one call was interrupted (by the \
             OS or another process), so the min can be negative; p50 and p99 are the figures."
                .to_string(),
            "logger_export_call_ns: the host calling logger.wasm's exported logging.log(\
             \"Sequence complete.\", info) on one instance, for reference: a host->guest call \
             that lowers the string into the guest instead of passing it between two guests."
                .to_string(),
        ],
    })
}

fn read(build_dir: &Path, file: &str) -> Result<Vec<u8>> {
    let path = build_dir.join(file);
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (build the components first: scripts/build.sh)",
            path.display()
        )
    })
}

/// One `process("hello")` on a live instance, ns, post-return included.
fn time_process<T>(process: &Process, mut store: impl AsContextMut<Data = T>) -> Result<f64> {
    let start = Instant::now();
    let (result,) = process.call(&mut store, (PAYLOAD,))?;
    process.post_return(&mut store)?;
    let elapsed = start.elapsed();
    if result.as_deref() != Ok("HELLO") {
        bail!("process(\"hello\") answered {result:?}");
    }
    Ok(elapsed.as_secs_f64() * 1e9)
}

/// One `logging.log` on a live logger instance, ns, post-return included.
fn time_log<T>(log: &Log, mut store: impl AsContextMut<Data = T>) -> Result<f64> {
    let start = Instant::now();
    log.call(&mut store, ("Sequence complete.", Level::Info))?;
    log.post_return(&mut store)?;
    Ok(start.elapsed().as_secs_f64() * 1e9)
}
