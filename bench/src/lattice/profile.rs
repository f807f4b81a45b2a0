//! `neon-bench profile`: where the machine's CPU goes while one variant serves wrk, by
//! process and by function, from a system-wide `perf record` taken during the load.
//!
//! The same private lattice as the other lattice figures; the variant (a wiring, or `hello`,
//! the platform's ceiling) is deployed alone. perf samples every CPU with call graphs, so each
//! kernel entry point's share counts what it calls too: page faults, `madvise` and `mprotect`
//! (setting up and tearing down instance memory), the socket calls NATS traffic costs, the
//! sink's `fdatasync`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use neon_ops::load::Client;
use neon_ops::manifest::{render, render_ceiling};
use neon_ops::nats_monitor::{NatsCounters, NatsPerRequest};
use neon_ops::{free_port, Ingress, Lattice, Wiring};
use serde::Serialize;
use tokio::process::Command;

use super::wrk;

/// Kernel entry points whose share (with everything under them) the profile reports.
const KERNEL_ENTRIES: [(&str, &str); 7] = [
    ("page faults", "asm_exc_page_fault"),
    ("madvise", "__x64_sys_madvise"),
    ("mprotect", "__x64_sys_mprotect"),
    ("ioctl (PAGEMAP_SCAN)", "__x64_sys_ioctl"),
    ("fdatasync", "__x64_sys_fdatasync"),
    ("recvfrom", "__x64_sys_recvfrom"),
    ("writev", "__x64_sys_writev"),
];

/// How many processes and functions the profile lists.
const TOP: usize = 15;

#[derive(Debug, Serialize)]
pub struct Profile {
    pub variant: String,
    pub clients: usize,
    pub seconds: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// What each request cost nats-server, from its own counters over the load.
    pub nats_per_request: NatsPerRequest,
    /// Share of all samples per process (its executable's name), largest first.
    pub by_process: Vec<(String, f64)>,
    /// Share of all samples spent in the kernel.
    pub kernel: f64,
    /// Share of all samples under each of [`KERNEL_ENTRIES`], callees included.
    pub kernel_entries: BTreeMap<String, f64>,
    /// The functions with the most samples of their own, with their process (its executable's
    /// name, threads summed).
    pub top_functions: Vec<(String, f64)>,
}

pub struct Options {
    pub variant: String,
    pub clients: usize,
    pub duration: Duration,
}

pub async fn run(options: &Options, out: &Path) -> Result<Profile> {
    ensure_perf().await?;
    eprintln!("==> lattice: wash up (private NATS port and lattice name)");
    let lattice = Lattice::start("profile").await?;
    let logs = lattice.work_dir().join("logs");
    let port = free_port()?;
    let rendered = if options.variant == "hello" {
        render_ceiling("neon-profile-hello", port, 100, Ingress::Builtin)?
    } else {
        let wiring = Wiring::ALL
            .into_iter()
            .find(|w| w.name() == options.variant)
            .with_context(|| {
                format!(
                    "unknown variant {} (expected hello or a wiring: {})",
                    options.variant,
                    Wiring::ALL.map(Wiring::name).join(", ")
                )
            })?;
        render(wiring, "neon-profile", port, &logs)?
    };
    eprintln!("==> deploy {}", options.variant);
    lattice.deploy(&rendered, Duration::from_secs(120)).await?;
    Client::new(port)?
        .wait_ready(Duration::from_secs(60))
        .await?;
    let url = format!("http://127.0.0.1:{port}/process");
    let script = wrk::write_post_script(lattice.work_dir())?;
    wrk::run(&url, options.clients, Duration::from_secs(2), &script)
        .await
        .context("warm-up")?;

    std::fs::create_dir_all(out)?;
    let data = out.join(format!("profile-{}.perf.data", options.variant));
    eprintln!(
        "==> wrk -c{} for {} s, perf record -a -g meanwhile",
        options.clients,
        options.duration.as_secs()
    );
    let perf = Command::new("perf")
        .args(["record", "-a", "-g", "-F", "499", "-o"])
        .arg(&data)
        .args(["--", "sleep"])
        .arg(options.duration.as_secs().to_string())
        .kill_on_drop(true)
        .output();
    let before = NatsCounters::read(lattice.monitor_port).await?;
    let load = wrk::run(&url, options.clients, options.duration, &script);
    let (perf, load) = tokio::join!(perf, load);
    let after = NatsCounters::read(lattice.monitor_port).await?;
    let perf = perf.context("running perf record")?;
    if !perf.status.success() {
        bail!(
            "perf record failed: {}",
            String::from_utf8_lossy(&perf.stderr)
        );
    }
    let load = load?;
    let nats_per_request = after.per(&before, load.requests);

    // Threads are sampled by id; they are summed into their processes while those still run.
    let by_process = per_process(report(&data, &["--no-children", "--sort", "pid"]).await?);
    let top_functions = per_process(report(&data, &["--no-children", "--sort", "pid,sym"]).await?);
    let with_callees = report(&data, &["--children", "--sort", "sym"]).await?;
    let kernel = report(&data, &["--no-children", "--sort", "dso"])
        .await?
        .iter()
        .filter(|(dso, _)| dso.contains("[kernel"))
        .map(|(_, share)| share)
        .sum();
    let kernel_entries = KERNEL_ENTRIES
        .iter()
        .map(|(label, symbol)| {
            let share = with_callees
                .iter()
                .filter(|(sym, _)| sym.ends_with(symbol))
                .map(|(_, share)| *share)
                .fold(0.0, f64::max);
            (label.to_string(), share)
        })
        .collect();
    lattice
        .undeploy(&rendered.app, Duration::from_secs(60))
        .await?;
    Ok(Profile {
        variant: options.variant.clone(),
        clients: options.clients,
        seconds: options.duration.as_secs(),
        rps: load.rps,
        p50_ms: load.p50_ms,
        p99_ms: load.p99_ms,
        errors: load.errors,
        nats_per_request,
        by_process: by_process.into_iter().take(TOP).collect(),
        kernel,
        kernel_entries,
        top_functions: top_functions.into_iter().take(TOP).collect(),
    })
}

/// Rows keyed `tid:comm` (then any further sort keys) summed per process, named by its
/// executable; largest first.
fn per_process(threads: Vec<(String, f64)>) -> Vec<(String, f64)> {
    let mut shares: BTreeMap<String, f64> = BTreeMap::new();
    for (key, share) in threads {
        let (thread, rest) = key.split_once(' ').unwrap_or((key.as_str(), ""));
        let (tid, comm) = thread.split_once(':').unwrap_or(("", thread));
        let process = process_name(tid, comm);
        let key = if rest.is_empty() {
            process
        } else {
            format!("{process} {rest}")
        };
        *shares.entry(key).or_default() += share;
    }
    let mut rows: Vec<(String, f64)> = shares.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    rows
}

/// The executable's file name of the process thread `tid` belongs to: "idle" for tid 0, the
/// thread's name for kernel threads (no executable) and for threads already gone (the load
/// generator, which has finished by the time the profile is read).
fn process_name(tid: &str, comm: &str) -> String {
    if tid == "0" {
        return "idle".to_string();
    }
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Tgid:").map(|v| v.trim().to_string()))
        })
        .and_then(|tgid| std::fs::read_link(format!("/proc/{tgid}/exe")).ok())
        .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| comm.to_string())
}

/// The profile as a person reads it.
pub fn print(profile: &Profile) {
    println!(
        "{} at {} clients for {} s: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        profile.variant,
        profile.clients,
        profile.seconds,
        profile.rps,
        profile.p50_ms,
        profile.p99_ms,
        profile.errors
    );
    let nats = &profile.nats_per_request;
    println!(
        "nats-server per request: {:.1} messages in, {:.1} out, {:.2} subscription changes",
        nats.messages_in, nats.messages_out, nats.subscription_changes
    );
    println!("by process (share of all samples):");
    for (process, share) in &profile.by_process {
        println!("  {share:>6.2}%  {process}");
    }
    println!(
        "in the kernel: {:.1}%; kernel entry points, callees included:",
        profile.kernel
    );
    for (label, share) in &profile.kernel_entries {
        println!("  {share:>6.2}%  {label}");
    }
    println!("functions with the most samples of their own:");
    for (function, share) in &profile.top_functions {
        println!("  {share:>6.2}%  {function}");
    }
}

/// perf is Debian's `linux-perf`; system-wide sampling needs root or a permissive
/// `perf_event_paranoid`.
async fn ensure_perf() -> Result<()> {
    let found = Command::new("perf").arg("--version").output().await;
    match found {
        Ok(output) if output.status.success() => Ok(()),
        _ => bail!("perf not found (scripts/profile.sh installs it: apt-get install linux-perf)"),
    }
}

/// `perf report --stdio` with `args`, as (key, percent of all samples) rows, largest first.
async fn report(data: &Path, args: &[&str]) -> Result<Vec<(String, f64)>> {
    let output = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--percent-limit",
            "0.05",
            "-g",
            "none",
            "-i",
        ])
        .arg(data)
        .args(args)
        .output()
        .await
        .context("running perf report")?;
    if !output.status.success() {
        bail!(
            "perf report failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(parse_report(&String::from_utf8_lossy(&output.stdout)))
}

/// Rows of `perf report --stdio -g none`: one or two leading percentages (children, self),
/// then the sort keys. The first percentage is the one asked for (children with
/// `--children`, self otherwise).
fn parse_report(text: &str) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace().peekable();
        let Some(share) = fields
            .next()
            .and_then(|f| f.strip_suffix('%'))
            .and_then(|f| f.parse::<f64>().ok())
        else {
            continue;
        };
        // A second percentage (self, beside children) is not part of the key.
        if fields.peek().is_some_and(|f| f.ends_with('%')) {
            fields.next();
        }
        let key: Vec<&str> = fields.filter(|f| *f != "[k]" && *f != "[.]").collect();
        rows.push((key.join(" "), share));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::parse_report;

    #[test]
    fn reads_perf_report_rows() {
        let text = "# Samples: 12K\n#\n# Overhead  Command\n    64.10%  wasmcloud_host\n    15.02%  nats-server\n\n";
        assert_eq!(
            parse_report(text),
            vec![
                ("wasmcloud_host".to_string(), 64.10),
                ("nats-server".to_string(), 15.02)
            ]
        );
        let children = "    10.40%     0.01%  [k] asm_exc_page_fault\n     7.00%     0.00%  [k] __x64_sys_madvise\n";
        assert_eq!(
            parse_report(children),
            vec![
                ("asm_exc_page_fault".to_string(), 10.40),
                ("__x64_sys_madvise".to_string(), 7.00)
            ]
        );
    }
}
