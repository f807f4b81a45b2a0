//! The native alternative: the same pipeline as a native program (bench/native), started as a
//! process per request, the way a user without WASM would get isolation.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::stats::{Spread, Summary};

/// Kills and reaps the child unless it was waited for: no process outlives a failed run.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn child(&mut self) -> Result<&mut Child> {
        self.0.as_mut().context("the child was already reaped")
    }

    fn wait(mut self) -> Result<std::process::ExitStatus> {
        let mut child = self.0.take().context("the child was already reaped")?;
        child.wait().context("waiting for the native pipeline")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A scratch directory removed on every exit path.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(tag: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("neon-bench-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating scratch dir {}", dir.display()))?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct NativeSamples {
    pub to_first_result_us: Summary,
    pub to_exit_us: Summary,
    pub round_p50_us: Spread,
    pub log_records_written: usize,
}

/// Spawns the native pipeline in rounds, keeping its timings.
pub struct NativeRunner {
    bin: PathBuf,
    scratch: ScratchDir,
    log_file: PathBuf,
    first: Vec<f64>,
    exit: Vec<f64>,
    round_p50: Vec<f64>,
}

impl NativeRunner {
    pub fn new(bin: &Path) -> Result<Self> {
        let scratch = ScratchDir::new("native")?;
        let log_file = scratch.path().join("native.jsonl");
        Ok(Self {
            bin: bin.to_path_buf(),
            scratch,
            log_file,
            first: Vec::new(),
            exit: Vec::new(),
            round_p50: Vec::new(),
        })
    }

    /// `runs` spawns of `bin hello`; kept when `record`, else warm-up (its records go to
    /// another file, so the count of records written stays checkable).
    pub fn round(&mut self, runs: usize, record: bool) -> Result<()> {
        let warmup_log = self.scratch.path().join("warmup.jsonl");
        let log_file = if record { &self.log_file } else { &warmup_log };
        let start = self.first.len();
        for _ in 0..runs {
            let (to_result, to_exit) = once(&self.bin, log_file)?;
            if record {
                self.first.push(to_result);
                self.exit.push(to_exit);
            }
        }
        if record {
            self.round_p50
                .extend(Summary::of(&self.first[start..]).map(|s| s.p50));
        }
        Ok(())
    }

    pub fn finish(&self) -> Result<NativeSamples> {
        let records = std::fs::read_to_string(&self.log_file)
            .map(|text| text.lines().filter(|l| !l.trim().is_empty()).count())
            .unwrap_or(0);
        Ok(NativeSamples {
            to_first_result_us: Summary::of(&self.first).context("no native runs")?,
            to_exit_us: Summary::of(&self.exit).context("no native runs")?,
            round_p50_us: Spread::of(&self.round_p50).context("no native rounds")?,
            log_records_written: records,
        })
    }
}

/// One request: spawn, read the first line of the result, then reap. Returns µs to the result
/// and to the exit.
fn once(bin: &Path, log_file: &Path) -> Result<(f64, f64)> {
    let start = Instant::now();
    let child = Command::new(bin)
        .arg("hello")
        .env("NEON_LOG_FILE", log_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;
    let mut guard = ChildGuard(Some(child));
    let stdout = guard
        .child()?
        .stdout
        .take()
        .context("the native pipeline's stdout was not captured")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .context("reading the native pipeline's result")?;
    let answered = Instant::now();
    let status = guard.wait()?;
    let exited = Instant::now();
    if line.trim_end() != "HELLO" {
        bail!(
            "{} hello printed {:?}, expected \"HELLO\"",
            bin.display(),
            line.trim_end()
        );
    }
    if !status.success() {
        bail!("{} hello exited with {status}", bin.display());
    }
    Ok((
        micros(answered.duration_since(start)),
        micros(exited.duration_since(start)),
    ))
}

pub fn micros(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
