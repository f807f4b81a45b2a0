//! The provider binary against a real nats-server, driven as the wasmCloud host and a
//! component would drive it: HostData on stdin, links over NATS, calls over wRPC.

mod common;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use common::{
    entry, eventually, link, read_records, stream_records, Launch, Level, NatsServer,
    ProviderProcess, PROVIDER_KEY,
};

// Every test runs its wRPC client on Tokio's current-thread runtime: the client in
// wrpc-transport-nats 0.29 as published routes all replies through one demux task that can see
// a reply before the subscription command that precedes it, drop it, and leave the call waiting
// forever. The workspace builds against the patched crate (patches/), which fixes that; one
// thread keeps these tests independent of it (tests/lattice/tests/wrpc_reply_race.rs covers it).

/// No test may hang: the whole body, processes included, gets this long.
async fn bounded(body: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(120), body)
        .await
        .expect("test exceeded its time bound");
}

fn path_str(p: &std::path::Path) -> String {
    p.to_str().expect("utf-8 temp path").to_string()
}

#[tokio::test]
async fn file_and_stream_hold_the_same_records() {
    bounded(async {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let logger_file = dir.path().join("logger.jsonl");
        let processor_file = dir.path().join("processor.jsonl");
        let provider = ProviderProcess::start(Launch {
            nats: &nats,
            lattice: "neon-test",
            links: vec![
                link(
                    "app-logger",
                    "default",
                    PROVIDER_KEY,
                    &[
                        ("sinks", "file,nats"),
                        ("file_path", &path_str(&logger_file)),
                    ],
                ),
                link(
                    "app-processor",
                    "default",
                    PROVIDER_KEY,
                    &[("file_path", &path_str(&processor_file))],
                ),
            ],
            config: HashMap::new(),
        })
        .await;

        // sink.write, as the logger component calls it.
        let logger = provider.caller("app-logger", "default").await;
        let nasty = "two\nlines with \"quotes\" and a \\ backslash";
        logger
            .write(&[
                entry("app-processor", "Initiating data sequence...", Level::Info),
                entry("app-processor", nasty, Level::Warn),
                entry("", "no source given", Level::Critical),
            ])
            .await
            .expect("write");

        // logging.log, as a processor linked straight to the provider calls it.
        let processor = provider.caller("app-processor", "default").await;
        processor
            .log("Sequence complete.", Level::Info)
            .await
            .expect("logging.log");

        let records = read_records(&logger_file);
        assert_eq!(records.len(), 3, "{records:?}");
        let keys: Vec<&str> = records[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "ts", "level", "source", "message", "host_id", "lattice", "seq",
        ];
        expected.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected, "exactly the documented fields");
        assert_eq!(records[0]["ts"], "2025-11-24T16:00:00.000Z");
        assert_eq!(records[0]["level"], "info");
        assert_eq!(records[1]["level"], "warn");
        assert_eq!(records[1]["message"], nasty);
        assert_eq!(records[2]["level"], "critical");
        assert_eq!(
            records[2]["source"], "app-logger",
            "empty source falls back to the link's"
        );
        for r in &records {
            assert_eq!(r["host_id"], provider.host_id.as_str());
            assert_eq!(r["lattice"], "neon-test");
        }
        let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq grows: {seqs:?}");

        let logged = read_records(&processor_file);
        assert_eq!(logged.len(), 1);
        assert_eq!(
            logged[0]["source"], "app-processor",
            "the caller's component id"
        );
        assert_eq!(logged[0]["message"], "Sequence complete.");

        // The stream holds the very same JSON, one message per record.
        let client = nats.client().await;
        let streamed = stream_records(&client, "NEON_LOGS", "neon.logs.neon-test.app-logger").await;
        assert_eq!(streamed, records);

        // 32 concurrent writers: all answered Ok, every record once.
        let calls = (0..32).map(|i| {
            let logger = &logger;
            async move {
                logger
                    .write(&[entry(
                        "app-processor",
                        &format!("concurrent {i}"),
                        Level::Info,
                    )])
                    .await
            }
        });
        for result in futures::future::join_all(calls).await {
            result.expect("concurrent write");
        }
        let records = read_records(&logger_file);
        assert_eq!(records.len(), 35);
        let unique: HashSet<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
        assert_eq!(unique.len(), 35);
        assert_eq!(
            stream_records(&client, "NEON_LOGS", "neon.logs.neon-test.app-logger").await,
            records
        );

        let (healthy, message) = provider.health().await;
        assert!(healthy, "{message}");
        assert!(message.contains("records_written=36"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn links_put_and_deleted_at_runtime_are_keyed_by_link_name() {
    bounded(async {
        let nats = NatsServer::start();
        let provider = ProviderProcess::start(Launch {
            nats: &nats,
            lattice: "neon-test",
            links: vec![],
            config: HashMap::new(),
        })
        .await;
        let main_file = provider.dir().join("main.jsonl");
        let audit_file = provider.dir().join("audit.jsonl");
        let main = provider.caller("app-processor", "default").await;
        let audit = provider.caller("app-processor", "audit").await;

        let err = main
            .write(&[entry("p", "too early", Level::Info)])
            .await
            .unwrap_err();
        assert!(err.contains("has no link named `default`"), "{err}");

        let main_link = link(
            "app-processor",
            "default",
            PROVIDER_KEY,
            &[("file_path", &path_str(&main_file))],
        );
        let audit_link = link(
            "app-processor",
            "audit",
            PROVIDER_KEY,
            &[("file_path", &path_str(&audit_file))],
        );
        provider.put_link(&main_link).await;
        provider.put_link(&audit_link).await;
        eventually(
            Duration::from_secs(10),
            "both links to be ready",
            || async { main.write(&[]).await.is_ok() && audit.write(&[]).await.is_ok() },
        )
        .await;

        main.write(&[entry("p", "to main", Level::Info)])
            .await
            .unwrap();
        audit
            .write(&[entry("p", "to audit", Level::Warn)])
            .await
            .unwrap();
        assert_eq!(read_records(&main_file)[0]["message"], "to main");
        assert_eq!(read_records(&audit_file)[0]["message"], "to audit");
        assert_eq!(
            read_records(&main_file).len(),
            1,
            "the second link did not take over the first"
        );

        provider.delete_link(&audit_link).await;
        eventually(
            Duration::from_secs(10),
            "the audit link to be gone",
            || async {
                // An empty batch: probing must not write records.
                audit.write(&[]).await.is_err()
            },
        )
        .await;
        let err = audit
            .write(&[entry("p", "after delete", Level::Info)])
            .await
            .unwrap_err();
        assert!(err.contains("has no link named `audit`"), "{err}");
        main.write(&[entry("p", "main still works", Level::Info)])
            .await
            .unwrap();
        assert_eq!(
            read_records(&audit_file).len(),
            1,
            "nothing written after removal"
        );
        assert_eq!(read_records(&main_file).len(), 2);
    })
    .await;
}

#[tokio::test]
async fn invalid_config_refuses_only_that_link() {
    bounded(async {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let good_file = dir.path().join("good.jsonl");
        let provider = ProviderProcess::start(Launch {
            nats: &nats,
            lattice: "neon-test",
            links: vec![
                link(
                    "app-bad",
                    "default",
                    PROVIDER_KEY,
                    &[("sinks", "file,syslog")],
                ),
                link(
                    "app-good",
                    "default",
                    PROVIDER_KEY,
                    &[("file_path", &path_str(&good_file))],
                ),
                link(
                    "app-dup",
                    "default",
                    PROVIDER_KEY,
                    &[("file_path", &path_str(&good_file))],
                ),
            ],
            config: HashMap::from([("state_dir".to_string(), path_str(dir.path()))]),
        })
        .await;

        let bad = provider.caller("app-bad", "default").await;
        let err = bad
            .write(&[entry("b", "x", Level::Info)])
            .await
            .unwrap_err();
        assert!(err.contains("unknown sink `syslog`"), "{err}");

        let good = provider.caller("app-good", "default").await;
        good.write(&[entry("g", "fine", Level::Info)])
            .await
            .unwrap();
        assert_eq!(read_records(&good_file).len(), 1);

        let dup = provider.caller("app-dup", "default").await;
        let err = dup
            .write(&[entry("d", "x", Level::Info)])
            .await
            .unwrap_err();
        assert!(err.contains("already written by the link"), "{err}");

        // A bad number put at runtime is refused with the key named; the good link carries on.
        provider
            .put_link(&link(
                "app-late",
                "default",
                PROVIDER_KEY,
                &[("max_bytes", "64MiB")],
            ))
            .await;
        let late = provider.caller("app-late", "default").await;
        eventually(
            Duration::from_secs(10),
            "the late link to be refused",
            || async {
                late.write(&[entry("l", "x", Level::Info)])
                    .await
                    .is_err_and(|e| e.contains("`max_bytes` = `64MiB`"))
            },
        )
        .await;
        good.write(&[entry("g", "still fine", Level::Info)])
            .await
            .unwrap();

        // A link without file_path writes to <state_dir>/<source>.jsonl.
        provider
            .put_link(&link("app-default-path", "default", PROVIDER_KEY, &[]))
            .await;
        let caller = provider.caller("app-default-path", "default").await;
        eventually(Duration::from_secs(10), "the default-path link", || async {
            caller
                .write(&[entry("x", "default path", Level::Info)])
                .await
                .is_ok()
        })
        .await;
        assert_eq!(
            read_records(&dir.path().join("app-default-path.jsonl")).len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn unwritable_file_fails_the_batch_and_the_stream_keeps_none_of_it() {
    bounded(async {
        let nats = NatsServer::start();
        // /dev/full takes the open and refuses every write (ENOSPC): a full disk, even for
        // root, who ignores permission bits. Each link needs a path of its own: a symlink.
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full.jsonl");
        std::os::unix::fs::symlink("/dev/full", &full).unwrap();
        let provider = ProviderProcess::start(Launch {
            nats: &nats,
            lattice: "neon-test",
            links: vec![
                link(
                    "app-logger",
                    "default",
                    PROVIDER_KEY,
                    &[("sinks", "nats,file"), ("file_path", "/dev/full")],
                ),
                link(
                    "app-processor",
                    "default",
                    PROVIDER_KEY,
                    &[("file_path", &path_str(&full))],
                ),
            ],
            config: HashMap::new(),
        })
        .await;

        let logger = provider.caller("app-logger", "default").await;
        let err = logger
            .write(&[
                entry("p", "one", Level::Info),
                entry("p", "two", Level::Info),
                entry("p", "three", Level::Info),
            ])
            .await
            .unwrap_err();
        assert!(err.contains("/dev/full"), "{err}");
        // JetStream took the records before the file failed; they were deleted again.
        let client = nats.client().await;
        let left = stream_records(&client, "NEON_LOGS", "neon.logs.neon-test.app-logger").await;
        assert!(
            left.is_empty(),
            "stream kept part of a failed batch: {left:?}"
        );

        let (healthy, message) = provider.health().await;
        assert!(!healthy, "{message}");
        assert!(message.contains("failing[app-logger/default]"), "{message}");

        // logging.log returns nothing: the call itself fails, with the provider's reason, and
        // the drop is counted.
        let processor = provider.caller("app-processor", "default").await;
        let failed = processor
            .log("lost", Level::Critical)
            .await
            .expect_err("a log call whose record was not written must fail");
        let reason = format!("{failed:#}");
        assert!(
            reason.contains("record not written") && reason.contains("full.jsonl"),
            "the caller should learn why: {reason}"
        );
        let (_, message) = provider.health().await;
        assert!(message.contains("dropped_log_records=1"), "{message}");
        eventually(
            Duration::from_secs(5),
            "the drop in the provider's log",
            || async { provider.stderr_text().contains("dropped") },
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn lost_stream_fails_the_batch_and_the_file_keeps_none_of_it() {
    bounded(async {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("logger.jsonl");
        let provider = ProviderProcess::start(Launch {
            nats: &nats,
            lattice: "neon-test",
            links: vec![link(
                "app-logger",
                "default",
                PROVIDER_KEY,
                &[
                    ("sinks", "file,nats"),
                    ("file_path", &path_str(&file)),
                    ("stream", "LOST"),
                    ("nats_retries", "1"),
                    ("nats_ack_timeout_ms", "300"),
                ],
            )],
            config: HashMap::new(),
        })
        .await;
        let logger = provider.caller("app-logger", "default").await;
        logger
            .write(&[
                entry("p", "kept 1", Level::Info),
                entry("p", "kept 2", Level::Info),
            ])
            .await
            .unwrap();

        let client = nats.client().await;
        async_nats::jetstream::new(client.clone())
            .delete_stream("LOST")
            .await
            .expect("delete the stream");

        let started = std::time::Instant::now();
        let err = logger
            .write(&[
                entry("p", "lost 1", Level::Info),
                entry("p", "lost 2", Level::Info),
            ])
            .await
            .unwrap_err();
        assert!(err.contains("LOST"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "bounded retry");
        let messages: Vec<String> = read_records(&file)
            .iter()
            .map(|r| r["message"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(messages, ["kept 1", "kept 2"]);
    })
    .await;
}

#[tokio::test]
async fn a_dedicated_log_server_going_away_fails_writes_quickly() {
    bounded(async {
        let lattice_nats = NatsServer::start();
        let mut log_nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("edge.jsonl");
        let provider = ProviderProcess::start(Launch {
            nats: &lattice_nats,
            lattice: "neon-test",
            links: vec![link(
                "app-logger",
                "default",
                PROVIDER_KEY,
                &[
                    ("sinks", "nats,file"),
                    ("file_path", &path_str(&file)),
                    ("nats_url", &log_nats.url),
                    ("subject", "edge.logs"),
                ],
            )],
            config: HashMap::new(),
        })
        .await;
        let logger = provider.caller("app-logger", "default").await;
        logger
            .write(&[entry("p", "before", Level::Info)])
            .await
            .unwrap();
        let log_client = log_nats.client().await;
        assert_eq!(
            stream_records(&log_client, "NEON_LOGS", "edge.logs")
                .await
                .len(),
            1
        );
        drop(log_client);

        log_nats.kill();
        let started = std::time::Instant::now();
        let err = logger
            .write(&[entry("p", "after", Level::Info)])
            .await
            .unwrap_err();
        assert!(err.contains("NEON_LOGS"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "bounded retry");
        assert_eq!(
            read_records(&file).len(),
            1,
            "the file did not take the failed batch"
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_writes_every_acknowledged_record() {
    bounded(async {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.jsonl");
        let mut provider = ProviderProcess::start(Launch {
            nats: &nats,
            lattice: "neon-test",
            links: vec![link(
                "app-logger",
                "default",
                PROVIDER_KEY,
                &[
                    ("sinks", "stdout,file"),
                    ("file_path", &path_str(&file)),
                    ("fsync", "never"),
                ],
            )],
            config: HashMap::new(),
        })
        .await;

        // 8 writers keep writing while the host stops the provider.
        let mut writers = Vec::new();
        for w in 0..8 {
            let caller = provider.caller("app-logger", "default").await;
            writers.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0..2_000 {
                    let message = format!("w{w} r{i}");
                    match caller
                        .write_with_timeout(
                            &[entry("p", &message, Level::Info)],
                            Duration::from_secs(2),
                        )
                        .await
                    {
                        Ok(Ok(())) => acknowledged.push(message),
                        _ => break,
                    }
                }
                acknowledged
            }));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let reply = provider.shutdown_like_the_host().await;
        assert_eq!(reply, "shutting down");

        let mut acknowledged = HashSet::new();
        for writer in writers {
            acknowledged.extend(writer.await.unwrap());
        }
        assert!(
            !acknowledged.is_empty(),
            "the writers got some calls through"
        );
        let in_file: HashSet<String> = read_records(&file)
            .iter()
            .map(|r| r["message"].as_str().unwrap().to_string())
            .collect();
        let missing: Vec<_> = acknowledged.difference(&in_file).collect();
        assert!(
            missing.is_empty(),
            "acknowledged but not in the file: {missing:?}"
        );
        let on_stdout = provider.stdout_text();
        assert_eq!(
            on_stdout.lines().count(),
            in_file.len(),
            "stdout mirrors the file"
        );
    })
    .await;
}
