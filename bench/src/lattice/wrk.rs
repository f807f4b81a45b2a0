//! HTTP load with wrk (Debian's package): keep-alive connections, one per client, `POST
//! /process` with a fixed body, latency percentiles from wrk's own histogram.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::process::Command;

/// What one wrk run reported.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkRun {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Non-2xx answers plus socket errors (connect, read, write, timeout).
    pub errors: u64,
}

/// Makes every request a `POST` of "hello", the payload the other figures use too.
const POST_SCRIPT: &str = "wrk.method = \"POST\"\nwrk.body = \"hello\"\n";

pub fn write_post_script(dir: &Path) -> Result<std::path::PathBuf> {
    let path = dir.join("post.lua");
    std::fs::write(&path, POST_SCRIPT).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `clients` connections on up to two threads (the machine's cores are shared with the host).
pub async fn run(url: &str, clients: usize, duration: Duration, script: &Path) -> Result<WrkRun> {
    let threads = clients.clamp(1, 2).to_string();
    let connections = clients.to_string();
    let seconds = format!("{}s", duration.as_secs().max(1));
    let output = Command::new("wrk")
        .args([
            "-t",
            &threads,
            "-c",
            &connections,
            "-d",
            &seconds,
            "--latency",
        ])
        .args(["--timeout", "10s", "-s"])
        .arg(script)
        .arg(url)
        .kill_on_drop(true)
        .output()
        .await
        .context("running wrk (scripts/bench.sh installs it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            String::from_utf8_lossy(&output.stderr),
            text
        );
    }
    parse(&text).with_context(|| format!("unexpected wrk output:\n{text}"))
}

/// Reads wrk 4's text report.
pub fn parse(text: &str) -> Result<WrkRun> {
    let mut run = WrkRun {
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        requests: 0,
        errors: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => run.rps = value.parse()?,
            ["50%", value] => run.p50_ms = millis(value)?,
            ["99%", value] => run.p99_ms = millis(value)?,
            [count, "requests", "in", ..] => run.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => run.errors += count.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 1, write 0, timeout 0"
                for pair in rest.chunks(2) {
                    if let [_, count] = pair {
                        run.errors += count.trim_end_matches(',').parse::<u64>()?;
                    }
                }
            }
            _ => {}
        }
    }
    if run.rps.is_nan() || run.p50_ms.is_nan() || run.p99_ms.is_nan() {
        bail!("no Requests/sec or latency distribution");
    }
    Ok(run)
}

/// "812.00us", "3.84ms", "1.02s" -> milliseconds.
fn millis(value: &str) -> Result<f64> {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in {value:?}"))?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1e3,
        "ms" => number,
        "s" => number * 1e3,
        "m" => number * 60e3,
        other => bail!("unknown unit {other:?} in {value:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running 1s test @ http://127.0.0.1:18777/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.94ms    2.87ms  15.01ms   60.62%
    Req/Sec   504.82    191.07     0.97k    81.82%
  Latency Distribution
     50%  812.00us
     75%    5.70ms
     90%    7.91ms
     99%    1.02s
  553 requests in 1.10s, 1.17MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    503.84
Transfer/sec:      1.07MB
";

    #[test]
    fn reads_rate_percentiles_and_errors() {
        let run = parse(SAMPLE).unwrap();
        assert_eq!(run.rps, 503.84);
        assert!((run.p50_ms - 0.812).abs() < 1e-9);
        assert_eq!(run.p99_ms, 1020.0);
        assert_eq!(run.requests, 553);
        assert_eq!(run.errors, 7);
    }

    #[test]
    fn output_without_a_rate_is_an_error() {
        assert!(parse("Running 1s test\n").is_err());
    }
}
