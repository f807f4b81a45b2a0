//! pipeline-composed.wasm (gateway + processor + logger fused by `wac compose`) over HTTP, with a
//! host-side sink: the HTTP semantics of the gateway, every request's records in one
//! `sink.write`, and no 200 for a request whose records were not written.

mod common;

use neon_harness::body::full;
use neon_harness::{Artifact, HostState, HttpReply, Level};

async fn send(state: HostState, method: &str, path: &str, body: &[u8]) -> HttpReply {
    let request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("content-length", body.len())
        .body(full(body.to_vec()))
        .expect("valid request");
    common::harness()
        .http_to(Artifact::Pipeline, state, request)
        .await
        .expect("pipeline call")
}

fn levels_and_messages(reply: &HttpReply) -> Vec<(Level, String)> {
    reply
        .state
        .sink
        .iter()
        .map(|e| (e.level, e.message.clone()))
        .collect()
}

#[tokio::test]
async fn a_request_writes_its_records_in_one_sink_write() {
    let reply = send(HostState::new(&[]), "POST", "/process", b"hello").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "HELLO");
    assert_eq!(reply.state.sink_writes, 1);
    assert_eq!(
        levels_and_messages(&reply),
        [
            (Level::Info, "Initiating data sequence...".to_string()),
            (Level::Info, "Sequence complete.".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_rejected_payload_is_400_and_its_records_are_written_too() {
    let reply = send(HostState::new(&[]), "POST", "/process", b"").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.text(), "Empty payload");
    assert_eq!(reply.state.sink_writes, 1);
    assert_eq!(
        levels_and_messages(&reply),
        [
            (Level::Info, "Initiating data sequence...".to_string()),
            (Level::Warn, "Null data packet received.".to_string()),
        ]
    );
}

#[tokio::test]
async fn records_the_sink_refuses_make_the_request_a_500_naming_why() {
    let state = HostState::new(&[]).with_failing_sink("disk full");
    let reply = send(state, "POST", "/process", b"hello").await;
    assert_eq!(reply.status, 500, "{}", reply.text());
    assert_eq!(
        reply.text(),
        "The request's log records were not written: \
         neon logger: sink refused 2 records, not written: disk full"
    );
    assert!(reply.state.sink.is_empty());
}

#[tokio::test]
async fn requests_that_log_nothing_write_nothing() {
    let reply = send(HostState::new(&[]), "GET", "/healthz", b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.state.sink_writes, 0, "healthz");
    let reply = send(HostState::new(&[]), "GET", "/process", b"").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.state.sink_writes, 0, "405");
    let state = HostState::new(&[("max_body_bytes", "4")]);
    let reply = send(state, "POST", "/process", b"too long").await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.state.sink_writes, 0, "413");
}
