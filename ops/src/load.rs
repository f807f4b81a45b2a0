//! HTTP against Neon's gateway: single requests, and N concurrent clients for a while, every
//! answer checked (a fast wrong answer is a failure, not throughput).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    /// The request the answer names (its `x-request-id` header).
    pub request_id: Option<String>,
}

impl Reply {
    /// Fails, naming `what`, unless the answer has this status (and this body, when given).
    /// The body shown is cut at 200 characters: answers here can be megabytes long.
    pub fn expect(&self, status: u16, body: Option<&str>, what: &str) -> Result<()> {
        if self.status != status || body.is_some_and(|body| self.body != body) {
            let shown: String = self.body.chars().take(200).collect();
            anyhow::bail!("{what}: {} {shown:?}", self.status);
        }
        Ok(())
    }
}

impl Client {
    /// A client whose requests give up after 30 s: far beyond the host's execution limit, so a
    /// request that times out here is one the platform let hang.
    pub fn new(port: u16) -> Result<Self> {
        Self::with_timeout(port, Duration::from_secs(30))
    }

    /// A client whose requests give up after `timeout`.
    pub fn with_timeout(port: u16, timeout: Duration) -> Result<Self> {
        Self::at(&format!("127.0.0.1:{port}"), timeout)
    }

    /// A client of the app at `address` (`host:port`).
    pub fn at(address: &str, timeout: Duration) -> Result<Self> {
        // A fresh connection per request. Measured: the http-server provider (0.27.1) sometimes
        // closes a kept-alive connection after answering, and the next request sent on it fails
        // with "connection closed before message completed". That is a client/server keep-alive
        // race, not an answer of Neon's: a test should not report it as one.
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Self {
            http,
            base: format!("http://{address}"),
        })
    }

    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> Result<Reply> {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: impl Into<reqwest::Body>) -> Result<Reply> {
        self.send(reqwest::Method::PUT, path, body).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> Result<Reply> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body)
            .send()
            .await?;
        Self::reply(response).await
    }

    /// `POST /process` with `payload`, checked: a 200 with the payload uppercased, or an error
    /// saying what came back instead.
    pub async fn process_checked(&self, payload: &str) -> Result<()> {
        check(self.post("/process", payload.to_string()).await, payload)
    }

    /// `POST /process` with `payload` and these extra request headers.
    pub async fn process_with_headers(
        &self,
        payload: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply> {
        let mut request = self
            .http
            .post(format!("{}/process", self.base))
            .body(payload.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::reply(request.send().await?).await
    }

    pub async fn get(&self, path: &str) -> Result<Reply> {
        let response = self.http.get(format!("{}{path}", self.base)).send().await?;
        Self::reply(response).await
    }

    async fn reply(response: reqwest::Response) -> Result<Reply> {
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await?;
        Ok(Reply {
            status,
            body,
            request_id,
        })
    }

    /// Waits until `POST /process` answers 200 through the whole pipeline; returns how long the
    /// first 200 took. Then waits until it has answered 200 for a second without a miss: right
    /// after a deploy the host launcher re-delivers provider links (see
    /// platform/host/src/link_redelivery.rs), which restarts the HTTP listener once.
    pub async fn wait_ready(&self, limit: Duration) -> Result<Duration> {
        let start = Instant::now();
        let mut first_200 = None;
        let mut steady_since = None;
        loop {
            let ok = matches!(self.post("/process", "ready?").await, Ok(r) if r.status == 200);
            match (ok, steady_since) {
                (true, None) => {
                    first_200.get_or_insert(start.elapsed());
                    steady_since = Some(Instant::now());
                }
                (true, Some(since)) if since.elapsed() >= Duration::from_secs(1) => {
                    return Ok(first_200.unwrap_or_default());
                }
                (false, _) => steady_since = None,
                _ => {}
            }
            if start.elapsed() >= limit {
                bail!("{} did not answer 200 steadily within {limit:?}", self.base);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Correct answers (200 with the uppercased payload).
    pub ok: usize,
    /// Wrong status or body, or a transport error: the first few, described.
    pub failures: Vec<String>,
    pub failed: usize,
    /// Failed requests that got no HTTP answer at all (connection closed, or timed out).
    pub unanswered: usize,
    /// Of those, the ones that got no answer before the client's timeout: the hung ones.
    pub timed_out: usize,
    /// Latencies of the correct answers.
    pub latencies: Vec<Duration>,
    /// The request id (`x-request-id`) of every correct answer, and of every failed request.
    pub ok_ids: Vec<String>,
    pub failed_ids: Vec<String>,
    /// The longest any request took to end, answered or failed.
    pub slowest: Duration,
    pub elapsed: Duration,
}

impl LoadReport {
    pub fn requests_per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The q-quantile (0.5 = median) of successful request latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[index.min(sorted.len() - 1)]
    }

    pub fn summary(&self) -> String {
        format!(
            "{} ok, {} failed ({} unanswered, {} timed out), {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
            self.ok,
            self.failed,
            self.unanswered,
            self.timed_out,
            self.requests_per_second(),
            self.quantile(0.5).as_secs_f64() * 1e3,
            self.quantile(0.99).as_secs_f64() * 1e3
        )
    }
}

/// `clients` concurrent clients, each sending `POST /process` back to back with a payload of its
/// own, for `duration` (or `max_requests` each, whichever comes first). Each request has an
/// `x-request-id` of its own, unique to this run, which a correct answer must name again.
pub async fn run(
    client: &Client,
    clients: usize,
    duration: Duration,
    max_requests: usize,
) -> LoadReport {
    let start = Instant::now();
    let deadline = start + duration;
    let run = run_id();
    let report = Arc::new(std::sync::Mutex::new(LoadReport::default()));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let client = client.clone();
            let report = report.clone();
            let run = run.clone();
            tokio::spawn(async move {
                let mut i = 0;
                while Instant::now() < deadline && i < max_requests {
                    let payload = format!("client {c} request {i}");
                    let id = format!("{run}-{c}-{i}");
                    let sent = Instant::now();
                    let reply = client
                        .process_with_headers(&payload, &[("x-request-id", &id)])
                        .await;
                    let unanswered = reply.is_err();
                    let hung = reply.as_ref().is_err_and(is_timeout);
                    let outcome = check_named(reply, &payload, &id);
                    let took = sent.elapsed();
                    let mut report = report.lock().unwrap_or_else(|p| p.into_inner());
                    report.slowest = report.slowest.max(took);
                    report.unanswered += usize::from(unanswered);
                    report.timed_out += usize::from(hung);
                    match outcome {
                        Ok(()) => {
                            report.ok += 1;
                            report.latencies.push(took);
                            report.ok_ids.push(id);
                        }
                        Err(e) => {
                            report.failed += 1;
                            report.failed_ids.push(id);
                            if report.failures.len() < 5 {
                                report.failures.push(format!("{e:#}"));
                            }
                        }
                    }
                    i += 1;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let mut report = std::mem::take(&mut *report.lock().unwrap_or_else(|p| p.into_inner()));
    report.elapsed = start.elapsed();
    report
}

fn is_timeout(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<reqwest::Error>()
        .is_some_and(reqwest::Error::is_timeout)
}

/// A prefix for this run's request ids, so that two runs against the same sink never share one.
fn run_id() -> String {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("load-{}-{n}-{nanos:x}", std::process::id())
}

/// As [`check`], and the answer must name the request it answers.
fn check_named(reply: Result<Reply>, payload: &str, id: &str) -> Result<()> {
    let reply = reply.context("request failed")?;
    if reply.status == 200 && reply.request_id.as_deref() != Some(id) {
        bail!(
            "{payload:?}: the answer to request {id} named {:?}",
            reply.request_id
        );
    }
    check(Ok(reply), payload)
}

fn check(reply: Result<Reply>, payload: &str) -> Result<()> {
    let reply = reply.context("request failed")?;
    let expected = payload.to_uppercase();
    if reply.status != 200 || reply.body != expected {
        bail!("{payload:?}: got {} {:?}", reply.status, reply.body);
    }
    Ok(())
}
