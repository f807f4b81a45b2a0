//! The processor's seed semantics, with a host-side `logging` that records every call.

mod common;

use neon_harness::{Artifact, HostState, Level};

async fn process(data: &[u8]) -> (Result<String, String>, Vec<(String, Level)>) {
    let (result, state) = common::harness()
        .process(Artifact::Processor, HostState::new(&[]), data)
        .await
        .expect("processor call");
    (result, state.logs)
}

fn log(message: &str, level: Level) -> (String, Level) {
    (message.to_string(), level)
}

#[tokio::test]
async fn uppercases_and_logs_start_and_completion() {
    let (result, logs) = process(b"hello").await;
    assert_eq!(result, Ok("HELLO".to_string()));
    assert_eq!(
        logs,
        [
            log("Initiating data sequence...", Level::Info),
            log("Sequence complete.", Level::Info),
        ]
    );
}

#[tokio::test]
async fn empty_payload_is_rejected_with_a_warning() {
    let (result, logs) = process(b"").await;
    assert_eq!(result, Err("Empty payload".to_string()));
    assert_eq!(
        logs,
        [
            log("Initiating data sequence...", Level::Info),
            log("Null data packet received.", Level::Warn),
        ]
    );
}

#[tokio::test]
async fn invalid_utf8_is_replaced_not_refused() {
    let (result, logs) = process(b"caf\xc3\xa9 \xff\xfe ok").await;
    assert_eq!(result, Ok("CAFÉ \u{FFFD}\u{FFFD} OK".to_string()));
    assert_eq!(logs.len(), 2);
}

#[tokio::test]
async fn uppercasing_follows_unicode() {
    let (result, _) = process("straße ǆ".as_bytes()).await;
    assert_eq!(result, Ok("STRASSE Ǆ".to_string()));
}

#[tokio::test]
async fn binary_payload_of_one_mebibyte_is_processed_whole() {
    let data = vec![b'x'; 1 << 20];
    let (result, _) = process(&data).await;
    let output = result.expect("ok");
    assert_eq!(output.len(), 1 << 20);
    assert!(output.bytes().all(|b| b == b'X'));
}
