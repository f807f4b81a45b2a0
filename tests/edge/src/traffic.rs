//! Steady traffic while the edge lattice is changed under it: a few clients, each sending
//! POST /process with a payload of its own and checking the answer, until stopped. Every
//! outcome is kept with its time, so a test can count the failures of any window.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Outcome {
    /// The request's `x-request-id`, which its records carry.
    pub id: String,
    /// When the request was sent.
    pub started: Instant,
    /// When its answer (or error) came.
    pub at: Instant,
    pub ok: bool,
    /// What went wrong (status and body, or the client error), for failures.
    pub error: Option<String>,
}

pub struct Traffic {
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

/// How long one request may take: longer than the host's 2 s RPC timeout, so a failure inside
/// the lattice comes back as an HTTP error, and a hung request is still counted, not waited on.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between a client's requests: a steady load of about 100 req/s that leaves the two
/// cores to the lattice being tested.
const PACE: Duration = Duration::from_millis(30);

impl Traffic {
    pub fn start(http_port: u16, clients: usize) -> Result<Self> {
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let url = format!("http://127.0.0.1:{http_port}/process");
        // Request ids unique to this run: the stream may hold an earlier run's records.
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut workers = Vec::new();
        for client_no in 0..clients {
            // No connection reuse: the http-server provider may close a kept-alive connection
            // after a response (README, known limits), which would count as a lattice failure.
            let client = reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .pool_max_idle_per_host(0)
                .build()?;
            let (outcomes, stop, url) = (outcomes.clone(), stop.clone(), url.clone());
            workers.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let payload = format!("edge {client_no} {n}");
                    let expected = payload.to_uppercase();
                    let id = format!("edge-{run}-{client_no}-{n}");
                    let started = Instant::now();
                    let sent = client
                        .post(&url)
                        .header("x-request-id", &id)
                        .body(payload)
                        .send()
                        .await;
                    let error = match sent {
                        Ok(reply) => {
                            let status = reply.status();
                            let body = reply.text().await.unwrap_or_default();
                            (status != 200 || body != expected)
                                .then(|| format!("{status} {body:?}"))
                        }
                        Err(e) => Some(format!("client error: {e}")),
                    };
                    let outcome = Outcome {
                        id,
                        started,
                        at: Instant::now(),
                        ok: error.is_none(),
                        error,
                    };
                    if let Ok(mut all) = outcomes.lock() {
                        all.push(outcome);
                    }
                    tokio::time::sleep(PACE).await;
                }
            }));
        }
        Ok(Self {
            outcomes,
            stop,
            workers,
        })
    }

    /// Outcomes so far (a copy).
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Outcomes of requests sent and answered within [from, to).
    pub fn within(&self, from: Instant, to: Instant) -> Vec<Outcome> {
        self.outcomes()
            .into_iter()
            .filter(|o| o.started >= from && o.at < to)
            .collect()
    }

    /// Outcomes of requests that finished in [from, to).
    pub fn window(&self, from: Instant, to: Instant) -> Window {
        let outcomes: Vec<Outcome> = self
            .outcomes()
            .into_iter()
            .filter(|o| o.at >= from && o.at < to)
            .collect();
        Window { outcomes }
    }

    /// Waits until `streak` requests in a row, finished after `since`, succeeded; returns when
    /// the first of them finished. Bounded by `limit`.
    pub async fn wait_healthy(
        &self,
        since: Instant,
        streak: usize,
        limit: Duration,
    ) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let outcomes = self.outcomes();
            let after: Vec<&Outcome> = outcomes.iter().filter(|o| o.at >= since).collect();
            let run = after.iter().rev().take_while(|o| o.ok).count();
            if run >= streak {
                return Some(after[after.len() - run].at);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            let _ = worker.await;
        }
        let outcomes = self.outcomes.lock().map(|o| o.clone()).unwrap_or_default();
        outcomes
    }
}

pub struct Window {
    pub outcomes: Vec<Outcome>,
}

impl Window {
    pub fn ok(&self) -> usize {
        self.outcomes.iter().filter(|o| o.ok).count()
    }

    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.ok()
    }

    /// Up to three distinct failure reasons, for messages.
    pub fn reasons(&self) -> Vec<String> {
        let mut reasons: Vec<String> = Vec::new();
        for error in self.outcomes.iter().filter_map(|o| o.error.clone()) {
            if !reasons.contains(&error) && reasons.len() < 3 {
                reasons.push(error);
            }
        }
        reasons
    }
}
