//! Records/s per sink through the real path: wRPC over a local nats-server into the provider
//! binary, one record per `sink.write` call (what `logging.log` costs), with 1 and 32
//! concurrent writers. Run: `cargo bench -p neon-logging-provider` (NEON_BENCH_SECS sets the
//! seconds per cell, default 3). Needs nats-server, found as the tests find it.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{entry, link, Launch, Level, NatsServer, ProviderProcess, PROVIDER_KEY};

const WRITERS: [usize; 2] = [1, 32];

fn main() {
    // Current-thread on purpose: see the note on the wRPC client race in tests/provider.rs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let secs: u64 = std::env::var("NEON_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("stdout", vec![("sinks", "stdout".into())]),
        (
            "file fsync=never",
            vec![
                ("fsync", "never".into()),
                ("file_path", file("never.jsonl")),
            ],
        ),
        (
            "file fsync=batch",
            vec![
                ("fsync", "batch".into()),
                ("file_path", file("batch.jsonl")),
            ],
        ),
        (
            "file fsync=always",
            vec![
                ("fsync", "always".into()),
                ("file_path", file("always.jsonl")),
            ],
        ),
        ("nats (JetStream)", vec![("sinks", "nats".into())]),
        (
            "file+nats",
            vec![
                ("sinks", "file,nats".into()),
                ("file_path", file("both.jsonl")),
            ],
        ),
    ];
    let links = cases
        .iter()
        .enumerate()
        .map(|(i, (_, config))| {
            let pairs: Vec<(&str, &str)> = config.iter().map(|(k, v)| (*k, v.as_str())).collect();
            link(&format!("bench-{i}"), "default", PROVIDER_KEY, &pairs)
        })
        .collect();
    let provider = ProviderProcess::start(Launch {
        nats: &nats,
        lattice: "neon-bench",
        links,
        config: HashMap::new(),
    })
    .await;

    println!("records/s, one record per sink.write call, {secs} s per cell");
    println!("| sink | 1 writer | 32 writers |");
    println!("|---|---|---|");
    for (i, (name, _)) in cases.iter().enumerate() {
        let mut cells = Vec::new();
        for writers in WRITERS {
            let rate = measure(
                &provider,
                &format!("bench-{i}"),
                writers,
                Duration::from_secs(secs),
            )
            .await;
            cells.push(format!("{rate:.0}"));
        }
        println!("| {name} | {} | {} |", cells[0], cells[1]);
    }
}

async fn measure(
    provider: &ProviderProcess,
    source: &str,
    writers: usize,
    window: Duration,
) -> f64 {
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let caller = provider.caller(source, "default").await;
        let (done, count) = (done.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                let message =
                    format!("bench writer {w} record {i} with a realistic length of text");
                if let Err(e) = caller.write(&[entry("bench", &message, Level::Info)]).await {
                    panic!("bench write failed: {e}");
                }
                count.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(window).await;
    done.store(true, Ordering::Relaxed);
    let counted = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    for task in tasks {
        task.await.expect("bench writer");
    }
    counted as f64 / elapsed.as_secs_f64()
}
