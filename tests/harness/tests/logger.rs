//! The logger's policy: level filter, source, redaction, config errors and sink failures,
//! with a host-side `sink` that records what reaches it.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use neon_harness::{Entry, HostState, Level};

async fn log_with(state: HostState, calls: &[(&str, Level)]) -> HostState {
    let calls: Vec<(String, Level)> = calls.iter().map(|(m, l)| (m.to_string(), *l)).collect();
    common::harness()
        .log(state, &calls)
        .await
        .expect("logger call")
}

async fn sink_after(config: &[(&str, &str)], calls: &[(&str, Level)]) -> Vec<Entry> {
    log_with(HostState::new(config), calls).await.sink
}

fn summary(entries: &[Entry]) -> Vec<(Level, String, String)> {
    entries
        .iter()
        .map(|e| (e.level, e.message.clone(), e.source.clone()))
        .collect()
}

fn now_ms() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    now.as_millis() as u64
}

#[tokio::test]
async fn each_call_becomes_one_entry_with_defaults() {
    let before = now_ms();
    let entries = sink_after(
        &[],
        &[
            ("a", Level::Info),
            ("b", Level::Warn),
            ("c", Level::Critical),
        ],
    )
    .await;
    let after = now_ms();
    assert_eq!(
        summary(&entries),
        [
            (Level::Info, "a".into(), "neon".into()),
            (Level::Warn, "b".into(), "neon".into()),
            (Level::Critical, "c".into(), "neon".into()),
        ]
    );
    for entry in &entries {
        assert!(
            (before..=after).contains(&entry.timestamp_ms),
            "timestamp {} outside the call's window {before}..={after}",
            entry.timestamp_ms
        );
    }
}

#[tokio::test]
async fn min_level_drops_lower_records() {
    let calls = [
        ("i", Level::Info),
        ("w", Level::Warn),
        ("c", Level::Critical),
    ];
    let warn = sink_after(&[("min_level", "warn")], &calls).await;
    assert_eq!(
        summary(&warn)
            .iter()
            .map(|e| e.1.as_str())
            .collect::<Vec<_>>(),
        ["w", "c"]
    );
    let critical = sink_after(&[("min_level", "Critical")], &calls).await;
    assert_eq!(
        summary(&critical)
            .iter()
            .map(|e| e.1.as_str())
            .collect::<Vec<_>>(),
        ["c"]
    );
}

#[tokio::test]
async fn source_is_stamped_on_every_entry() {
    let entries = sink_after(
        &[("source", "edge-7")],
        &[("x", Level::Info), ("y", Level::Warn)],
    )
    .await;
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.source == "edge-7"));
}

#[tokio::test]
async fn redaction_rules_mask_secrets_before_the_sink() {
    let cases = [
        (
            "Authorization: Bearer abc.def.ghi",
            "Authorization: Bearer [REDACTED]",
        ),
        (
            "login password=hunter2 done",
            "login password=[REDACTED] done",
        ),
        ("secret=s3cr3t&next=1", "secret=[REDACTED]&next=1"),
        ("token=t0k3n", "token=[REDACTED]"),
        ("paid with 4111111111111111", "paid with [REDACTED]"),
        (
            "paid with 5500-0000-0000-0004 ok",
            "paid with [REDACTED] ok",
        ),
        ("order 12345678 shipped", "order 12345678 shipped"),
    ];
    let calls: Vec<(&str, Level)> = cases
        .iter()
        .map(|(input, _)| (*input, Level::Info))
        .collect();
    let entries = sink_after(&[], &calls).await;
    let messages: Vec<&str> = entries.iter().map(|e| e.message.as_str()).collect();
    let expected: Vec<&str> = cases.iter().map(|(_, masked)| *masked).collect();
    assert_eq!(messages, expected);
}

#[tokio::test]
async fn bad_config_uses_defaults_and_warns_once_naming_the_key() {
    let entries = sink_after(
        &[("min_level", "loud"), ("source", "svc")],
        &[("first", Level::Info), ("second", Level::Info)],
    )
    .await;
    assert_eq!(
        entries.len(),
        3,
        "one warning and both records: {:?}",
        summary(&entries)
    );
    assert_eq!(entries[0].level, Level::Warn);
    assert!(
        entries[0].message.contains("min_level") && entries[0].message.contains("loud"),
        "warning names the key and value: {}",
        entries[0].message
    );
    // The default min_level (info) applies, and the valid key still takes effect.
    assert_eq!(
        summary(&entries[1..]),
        [
            (Level::Info, "first".into(), "svc".into()),
            (Level::Info, "second".into(), "svc".into()),
        ]
    );
}

#[tokio::test]
async fn failing_sink_fails_the_call_and_is_reported() {
    let state = HostState::new(&[]).with_failing_sink("disk full");
    let (state, outcome) = common::harness()
        .try_log(state, "one", Level::Info)
        .await
        .expect("logger instance");
    assert!(
        outcome.is_err(),
        "a refused record must fail the call, so the caller cannot answer as if it was kept"
    );
    assert!(state.sink.is_empty());
    let stderr = state.stderr();
    assert!(
        stderr.contains("neon logger: sink refused 1 record, not written: disk full"),
        "the refusal is reported on stderr: {stderr}"
    );
}

fn calls(items: &[(&str, Level)]) -> Vec<(String, Level)> {
    items.iter().map(|(m, l)| (m.to_string(), *l)).collect()
}

#[tokio::test]
async fn a_batch_reaches_the_sink_in_one_write() {
    let (state, flushed) = common::harness()
        .log_batch(
            HostState::new(&[("source", "svc")]),
            &calls(&[
                ("one", Level::Info),
                ("two", Level::Warn),
                ("three", Level::Critical),
            ]),
        )
        .await
        .expect("logger instance");
    assert_eq!(flushed, Ok(()));
    assert_eq!(
        state.sink_writes, 1,
        "one sink round trip for the whole batch"
    );
    assert_eq!(
        summary(&state.sink),
        [
            (Level::Info, "one".into(), "svc".into()),
            (Level::Warn, "two".into(), "svc".into()),
            (Level::Critical, "three".into(), "svc".into()),
        ]
    );
}

#[tokio::test]
async fn a_batch_keeps_filtering_redaction_and_the_config_warning() {
    let (state, flushed) = common::harness()
        .log_batch(
            HostState::new(&[("min_level", "loud")]),
            &calls(&[("password=hunter2", Level::Info)]),
        )
        .await
        .expect("logger instance");
    assert_eq!(flushed, Ok(()));
    assert_eq!(state.sink_writes, 1);
    assert_eq!(state.sink.len(), 2, "{:?}", state.sink);
    assert!(state.sink[0].message.contains("invalid min_level"));
    assert!(!state.sink[1].message.contains("hunter2"));
}

#[tokio::test]
async fn an_empty_batch_writes_nothing() {
    let (state, flushed) = common::harness()
        .log_batch(
            HostState::new(&[("min_level", "critical")]),
            &calls(&[("quiet", Level::Info)]),
        )
        .await
        .expect("logger instance");
    assert_eq!(flushed, Ok(()));
    assert_eq!(state.sink_writes, 0);
}

#[tokio::test]
async fn a_refused_batch_is_an_error_naming_why() {
    let (state, flushed) = common::harness()
        .log_batch(
            HostState::new(&[]).with_failing_sink("disk full"),
            &calls(&[("one", Level::Info), ("two", Level::Info)]),
        )
        .await
        .expect("logger instance");
    assert_eq!(
        flushed,
        Err("neon logger: sink refused 2 records, not written: disk full".to_string())
    );
    assert_eq!(state.sink_writes, 1);
    assert!(state.sink.is_empty());
}
