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
async fn failing_sink_is_reported_without_trapping() {
    let state = HostState::new(&[]).with_failing_sink("disk full");
    let state = log_with(state, &[("one", Level::Info), ("two", Level::Critical)]).await;
    assert!(state.sink.is_empty());
    let stderr = state.stderr();
    assert_eq!(
        stderr.matches("disk full").count(),
        2,
        "each refused record is reported on stderr: {stderr}"
    );
}
