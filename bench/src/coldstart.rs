//! Figure 2, cold start: a fresh instance answering its first `process("hello")`, per request,
//! against spawning the native pipeline until it prints its result.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use tokio::runtime::Runtime;
use wasmtime::component::{ComponentExportIndex, InstancePre, TypedFunc};
use wasmtime::{Engine, Store};

use crate::machine::Machine;
use crate::native::{micros, NativeRunner};
use crate::schema::{Coldstart, ColdstartRatio, NativeColdstart, Phases, WasmColdstart};
use crate::stats::{Spread, Summary};
use crate::wasm_host::{self, LoggingHost, Mode, SinkHost, PROCESSING};

const PAYLOAD: &[u8] = b"hello";
const EXPECTED: &str = "HELLO";

type Process = TypedFunc<(&'static [u8],), (Result<String, String>,)>;

pub struct Options {
    /// Timed cold starts per wasm variant.
    pub runs: usize,
    pub rounds: usize,
    /// Unrecorded runs per wasm variant first (the native side does at most 20).
    pub warmup: usize,
    pub native_runs: usize,
}

/// Per-run timings, µs.
#[derive(Default)]
struct Samples {
    to_first_result: Vec<f64>,
    with_teardown: Vec<f64>,
    phases: [Vec<f64>; 5],
}

impl Samples {
    fn push(&mut self, run: Run) {
        let phases = run.phases();
        self.to_first_result.push(micros(run.answered - run.start));
        self.with_teardown.push(micros(run.end - run.start));
        for (samples, phase) in self.phases.iter_mut().zip(phases) {
            samples.push(phase);
        }
    }

    fn phases_p50(&self) -> Result<Phases> {
        let p50 =
            |i: usize| -> Result<f64> { Ok(Summary::of(&self.phases[i]).context("no runs")?.p50) };
        Ok(Phases {
            host_state: p50(0)?,
            store_new: p50(1)?,
            instantiate: p50(2)?,
            first_call: p50(3)?,
            teardown: p50(4)?,
        })
    }
}

/// The instants of one cold start, in order.
struct Run {
    start: Instant,
    state_built: Instant,
    store_made: Instant,
    instantiated: Instant,
    answered: Instant,
    end: Instant,
}

impl Run {
    fn phases(&self) -> [f64; 5] {
        [
            micros(self.state_built - self.start),
            micros(self.store_made - self.state_built),
            micros(self.instantiated - self.store_made),
            micros(self.answered - self.instantiated),
            micros(self.end - self.answered),
        ]
    }
}

/// Which component, and how its imports are served.
#[derive(Clone, Copy)]
enum Subject {
    Processor,
    Composed,
    /// The processor composed with the Python logger: the same work as `Composed`, so the two
    /// rows compare the loggers' languages. Measured when it was built.
    ComposedPython,
}

impl Subject {
    const ALL: [Subject; 3] = [
        Subject::Processor,
        Subject::Composed,
        Subject::ComposedPython,
    ];

    fn file(self) -> &'static str {
        match self {
            Subject::Processor => "processor.wasm",
            Subject::Composed => "processor-composed.wasm",
            Subject::ComposedPython => "processor-composed-py.wasm",
        }
    }

    fn optional(self) -> bool {
        matches!(self, Subject::ComposedPython)
    }

    fn host(self) -> &'static str {
        match self {
            Subject::Processor => "cyber:system/logging as a host function that counts calls",
            Subject::Composed | Subject::ComposedPython => {
                "cyber:system/sink as a host function that counts entries; a fresh minimal \
                 WasiCtx (nothing inherited), resource table and empty wasi:config per store"
            }
        }
    }
}

pub fn run(build_dir: &Path, native_bin: &Path, opts: &Options) -> Result<Coldstart> {
    let machine = Machine::detect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut contenders: Vec<Box<dyn Contender>> = Vec::new();
    for mode in [Mode::Sync, Mode::Async] {
        let engine = wasm_host::engine(mode)?;
        for subject in Subject::ALL {
            if subject.optional() && !build_dir.join(subject.file()).exists() {
                continue;
            }
            eprintln!("coldstart: preparing {}", label(subject, mode));
            contenders.push(prepare(&engine, mode, subject, build_dir)?);
        }
    }
    let mut native = NativeRunner::new(native_bin)?;

    eprintln!("coldstart: warm-up");
    for contender in &mut contenders {
        contender.round(&runtime, opts.warmup, false)?;
    }
    native.round(opts.warmup.min(20), false)?;
    // Rounds interleave the variants, so a busy spell on the machine hits all of them alike
    // and the ratios stay fair.
    let rounds = opts.rounds.max(1);
    for round in 1..=rounds {
        eprintln!("coldstart: round {round}/{rounds}");
        for contender in &mut contenders {
            contender.round(&runtime, opts.runs.div_ceil(rounds), true)?;
        }
        native.round(opts.native_runs.div_ceil(rounds), true)?;
    }

    let wasm = contenders
        .iter()
        .map(|c| c.finish())
        .collect::<Result<Vec<_>>>()?;
    let native = native.finish()?;
    let ratios = wasm
        .iter()
        .map(|row| ColdstartRatio {
            wasm: row.label.clone(),
            native_over_wasm_p50: native.to_first_result_us.p50 / row.to_first_result_us.p50,
        })
        .collect();
    Ok(Coldstart {
        machine,
        included: format!(
            "per run: build the host state, Store::new, InstancePre::instantiate, look up the \
             export, first process({:?}) until its result is lifted into the host; \
             with_teardown adds post-return and dropping the store (instance back to the pool)",
            String::from_utf8_lossy(PAYLOAD)
        ),
        excluded: format!(
            "once per component before the runs: compiling, precompile_component + \
             deserialize, linking imports (instantiate_pre); {} unrecorded warm-up runs each",
            opts.warmup
        ),
        engine: wasm_host::engine_description(),
        wasm,
        native: NativeColdstart {
            binary: native_bin.display().to_string(),
            to_first_result_us: native.to_first_result_us,
            to_exit_us: native.to_exit_us,
            round_p50_us: native.round_p50_us,
            log_records_written: native.log_records_written,
        },
        headline: label(Subject::Composed, Mode::Async),
        ratios,
        notes: vec![
            "Headline: the composed component, called async as the wasmCloud host calls \
             components (on fibers from the pool). It is the like-for-like comparison with the \
             native pipeline: both hold processor and logger; the native one also appends its \
             records to a file."
                .to_string(),
            "sync calls on the caller's stack; processor.wasm alone has no logger inside."
                .to_string(),
            "processor-composed-py.wasm: the same processor composed with the Python logger \
             (componentize-py, CPython inside); beside processor-composed.wasm it shows what \
             the logger's language costs a cold start."
                .to_string(),
            format!(
                "{rounds} rounds; each round runs every variant in turn, then the native spawns."
            ),
            "Native: std::process::Command spawn (the program gets \"hello\" in argv and \
             NEON_LOG_FILE in its environment) until the first line of its stdout is read."
                .to_string(),
        ],
    })
}

fn label(subject: Subject, mode: Mode) -> String {
    format!("{} ({})", subject.file(), mode.name())
}

/// One wasm variant being measured, whatever its host state type.
trait Contender {
    /// `runs` cold starts; kept when `record`, else warm-up.
    fn round(&mut self, runtime: &Runtime, runs: usize, record: bool) -> Result<()>;
    fn finish(&self) -> Result<WasmColdstart>;
}

/// A component ready for cold starts: everything a host does once is done.
struct Prepared<T: 'static> {
    subject: Subject,
    mode: Mode,
    engine: Engine,
    pre: InstancePre<T>,
    index: ComponentExportIndex,
    new_state: fn() -> T,
    prepare_ms: f64,
    samples: Samples,
    round_p50: Vec<f64>,
}

fn prepare(
    engine: &Engine,
    mode: Mode,
    subject: Subject,
    build_dir: &Path,
) -> Result<Box<dyn Contender>> {
    let path = build_dir.join(subject.file());
    let wasm = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (build the components first: scripts/build.sh)",
            path.display()
        )
    })?;
    let start = Instant::now();
    let component = wasm_host::precompiled(engine, &wasm, subject.file())?;
    let index = wasm_host::export_func(&component, PROCESSING, "process")?;
    Ok(match subject {
        Subject::Processor => Box::new(Prepared {
            subject,
            mode,
            engine: engine.clone(),
            pre: wasm_host::logging_pre(engine, &component)?,
            index,
            new_state: LoggingHost::default,
            prepare_ms: start.elapsed().as_secs_f64() * 1e3,
            samples: Samples::default(),
            round_p50: Vec::new(),
        }),
        Subject::Composed | Subject::ComposedPython => Box::new(Prepared {
            subject,
            mode,
            engine: engine.clone(),
            pre: wasm_host::sink_pre(engine, mode, &component)?,
            index,
            new_state: SinkHost::new,
            prepare_ms: start.elapsed().as_secs_f64() * 1e3,
            samples: Samples::default(),
            round_p50: Vec::new(),
        }),
    })
}

impl<T: Send + 'static> Contender for Prepared<T> {
    fn round(&mut self, runtime: &Runtime, runs: usize, record: bool) -> Result<()> {
        let first = self.samples.to_first_result.len();
        for _ in 0..runs {
            let run = match self.mode {
                Mode::Sync => cold_start_sync(&self.engine, &self.pre, &self.index, self.new_state),
                Mode::Async => runtime.block_on(cold_start_async(
                    &self.engine,
                    &self.pre,
                    &self.index,
                    self.new_state,
                )),
            }
            .with_context(|| format!("cold start of {}", label(self.subject, self.mode)))?;
            if record {
                self.samples.push(run);
            }
        }
        if record {
            self.round_p50
                .extend(Summary::of(&self.samples.to_first_result[first..]).map(|s| s.p50));
        }
        Ok(())
    }

    fn finish(&self) -> Result<WasmColdstart> {
        Ok(WasmColdstart {
            label: label(self.subject, self.mode),
            component: self.subject.file().to_string(),
            mode: self.mode.name().to_string(),
            host: self.subject.host().to_string(),
            to_first_result_us: Summary::of(&self.samples.to_first_result).context("no runs")?,
            with_teardown_us: Summary::of(&self.samples.with_teardown).context("no runs")?,
            phases_p50_us: self.samples.phases_p50()?,
            round_p50_us: Spread::of(&self.round_p50).context("no rounds")?,
            prepare_ms: self.prepare_ms,
        })
    }
}

// The timed paths below are written out twice (sync, async) rather than abstracted: what is
// inside the timed region must be plain to see.

fn cold_start_sync<T>(
    engine: &Engine,
    pre: &InstancePre<T>,
    index: &ComponentExportIndex,
    new_state: fn() -> T,
) -> Result<Run> {
    let start = Instant::now();
    let state = new_state();
    let state_built = Instant::now();
    let mut store = Store::new(engine, state);
    let store_made = Instant::now();
    let instance = pre.instantiate(&mut store)?;
    let instantiated = Instant::now();
    let process: Process = instance.get_typed_func(&mut store, index)?;
    let (result,) = process.call(&mut store, (PAYLOAD,))?;
    let answered = Instant::now();
    process.post_return(&mut store)?;
    drop(store);
    let end = Instant::now();
    check(result)?;
    Ok(Run {
        start,
        state_built,
        store_made,
        instantiated,
        answered,
        end,
    })
}

async fn cold_start_async<T: Send + 'static>(
    engine: &Engine,
    pre: &InstancePre<T>,
    index: &ComponentExportIndex,
    new_state: fn() -> T,
) -> Result<Run> {
    let start = Instant::now();
    let state = new_state();
    let state_built = Instant::now();
    let mut store = Store::new(engine, state);
    let store_made = Instant::now();
    let instance = pre.instantiate_async(&mut store).await?;
    let instantiated = Instant::now();
    let process: Process = instance.get_typed_func(&mut store, index)?;
    let (result,) = process.call_async(&mut store, (PAYLOAD,)).await?;
    let answered = Instant::now();
    process.post_return_async(&mut store).await?;
    drop(store);
    let end = Instant::now();
    check(result)?;
    Ok(Run {
        start,
        state_built,
        store_made,
        instantiated,
        answered,
        end,
    })
}

fn check(result: Result<String, String>) -> Result<()> {
    match result {
        Ok(text) if text == EXPECTED => Ok(()),
        other => bail!("process(\"hello\") answered {other:?}, expected Ok({EXPECTED:?})"),
    }
}
