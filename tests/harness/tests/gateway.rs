//! The gateway through wasmtime-wasi-http, with a host-side `processing` that records its
//! inputs and answers like the processor (empty -> Err("Empty payload"), else uppercase).

mod common;

use std::sync::atomic::Ordering;

use neon_harness::body::{full, CountingBody, RequestBody};
use neon_harness::{HostState, HttpReply};

const MIB: usize = 1 << 20;

fn processing_like_the_processor(data: &[u8]) -> Result<String, String> {
    if data.is_empty() {
        return Err("Empty payload".to_string());
    }
    Ok(String::from_utf8_lossy(data).to_uppercase())
}

fn state(config: &[(&str, &str)]) -> HostState {
    HostState::new(config).with_processing(processing_like_the_processor)
}

fn request(
    method: &str,
    path: &str,
    body: RequestBody,
    length: Option<usize>,
) -> hyper::Request<RequestBody> {
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"));
    if let Some(length) = length {
        builder = builder.header("content-length", length);
    }
    builder.body(body).expect("valid request")
}

async fn send(state: HostState, request: hyper::Request<RequestBody>) -> HttpReply {
    common::harness()
        .http(state, request)
        .await
        .expect("gateway call")
}

async fn post(config: &[(&str, &str)], body: Vec<u8>) -> HttpReply {
    let length = body.len();
    send(
        state(config),
        request("POST", "/process", full(body), Some(length)),
    )
    .await
}

#[tokio::test]
async fn post_process_returns_the_result() {
    let reply = post(&[], b"hello".to_vec()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "HELLO");
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(reply.state.processed, [b"hello".to_vec()]);
}

#[tokio::test]
async fn processing_error_is_a_400_with_its_text() {
    let reply = post(&[], Vec::new()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.text(), "Empty payload");
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let reply = post(&[], vec![b'a'; MIB]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), MIB);
}

#[tokio::test]
async fn oversize_declared_body_is_413_without_processing() {
    let reply = post(&[], vec![b'a'; 2 * MIB]).await;
    assert_eq!(reply.status, 413);
    assert!(reply.text().contains("too large"), "{}", reply.text());
    assert!(reply.state.processed.is_empty());
}

#[tokio::test]
async fn oversize_streamed_body_is_stopped_while_streaming() {
    // 10 MiB in 64 KiB chunks, no Content-Length: the gateway has to count as it reads.
    let chunk = 64 * 1024;
    let chunks = 160;
    let (body, pulled) = CountingBody::new(chunk, chunks);
    let body = http_body_util::BodyExt::boxed(body);
    let reply = send(state(&[]), request("POST", "/process", body, None)).await;
    assert_eq!(reply.status, 413);
    assert!(reply.state.processed.is_empty());
    let read = pulled.load(Ordering::SeqCst);
    assert!(
        read * chunk <= 2 * MIB,
        "read {read} chunks ({} KiB) of a 10 MiB body before answering 413",
        read * chunk / 1024
    );
}

#[tokio::test]
async fn max_body_bytes_comes_from_config() {
    let config = [("max_body_bytes", "10")];
    assert_eq!(post(&config, vec![b'a'; 10]).await.status, 200);
    assert_eq!(post(&config, vec![b'a'; 11]).await.status, 413);
}

#[tokio::test]
async fn invalid_max_body_bytes_falls_back_to_the_default_and_says_so() {
    let config = [("max_body_bytes", "lots")];
    let reply = post(&config, vec![b'a'; MIB]).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.state.stderr().contains("max_body_bytes"),
        "{}",
        reply.state.stderr()
    );
    assert_eq!(post(&config, vec![b'a'; MIB + 1]).await.status, 413);
}

#[tokio::test]
async fn wrong_method_on_process_is_405_with_allow() {
    let reply = send(state(&[]), request("GET", "/process", full(""), None)).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.headers["allow"], "POST");
    assert!(reply.state.processed.is_empty());
}

#[tokio::test]
async fn healthz_is_ok() {
    let reply = send(state(&[]), request("GET", "/healthz", full(""), None)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "ok");
    let post = send(state(&[]), request("POST", "/healthz", full(""), None)).await;
    assert_eq!(post.status, 405);
}

/// What `wash call` on the gateway reaches: it sends every request to `/`.
#[tokio::test]
async fn root_names_the_routes() {
    let reply = send(state(&[]), request("GET", "/", full(""), None)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "Neon gateway: POST /process with a payload, GET /healthz"
    );
    let post = send(state(&[]), request("POST", "/", full("x"), Some(1))).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.headers["allow"], "GET");
    assert_eq!(post.text(), reply.text());
    assert!(post.state.processed.is_empty());
}

#[tokio::test]
async fn unknown_paths_are_404() {
    for path in ["/processes", "/process/x", "/nope?x=1", "//process"] {
        let reply = send(state(&[]), request("POST", path, full("x"), Some(1))).await;
        assert_eq!(reply.status, 404, "{path}");
    }
}

#[tokio::test]
async fn query_string_does_not_change_the_route() {
    let reply = send(
        state(&[]),
        request("POST", "/process?trace=1", full("abc"), Some(3)),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "ABC");
}
