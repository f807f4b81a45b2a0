//! Hostile HTTP against the running pipeline (the composed wiring behind the host's built-in
//! HTTP server, on a private lattice): requests a well-behaved client never sends get the right
//! status, nothing crashes or sticks, and the app answers normally afterwards.

use std::time::Duration;

use anyhow::{Context, Result};
use neon_lattice_tests::deploy::deploy_wiring;
use neon_lattice_tests::raw_http::{post, Connection};
use neon_ops::load::Reply;
use neon_ops::{Lattice, Wiring};

/// The gateway's body limit in the repository's manifests (`max_body_bytes`).
const LIMIT: usize = 1 << 20;
const WAIT: Duration = Duration::from_secs(15);

/// One request on a fresh connection, its answer.
fn once(port: u16, request: &[u8]) -> Result<Reply> {
    let mut connection = Connection::open(port)?;
    connection.send(request)?;
    connection.answer(WAIT)
}

fn hostile_requests(port: u16) -> Result<usize> {
    let mut tried = 0;
    let mut check = |what: &str, request: &[u8], status: u16, body: Option<&str>| -> Result<()> {
        tried += 1;
        let answer = once(port, request).with_context(|| what.to_string())?;
        answer.expect(status, body, what)
    };

    check(
        "chunked body without a length",
        b"POST /process HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
        200,
        Some("HELLO"),
    )?;
    check(
        "HTTP/1.0 with a Host header",
        b"POST /process HTTP/1.0\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello",
        200,
        Some("HELLO"),
    )?;
    check(
        "HTTP/1.0 without a Host header",
        b"POST /process HTTP/1.0\r\ncontent-length: 5\r\n\r\nhello",
        200,
        Some("HELLO"),
    )?;
    check(
        "a body of exactly the limit",
        &post("/process", &vec![b'a'; LIMIT]),
        200,
        None,
    )?;
    check(
        "a body one byte over the limit",
        &post("/process", &vec![b'a'; LIMIT + 1]),
        413,
        None,
    )?;
    check(
        "a chunked body over the limit",
        &{
            let chunk = vec![b'a'; 64 * 1024];
            let mut request =
                b"POST /process HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            for _ in 0..(LIMIT / chunk.len() + 1) {
                request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                request.extend_from_slice(&chunk);
                request.extend_from_slice(b"\r\n");
            }
            request.extend_from_slice(b"0\r\n\r\n");
            request
        },
        413,
        None,
    )?;
    let huge_header = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-junk: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    check("a 1 MiB header", huge_header.as_bytes(), 431, None)?;
    let many_headers: String = (0..500).map(|i| format!("x-h{i}: v\r\n")).collect();
    let many = format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n");
    check("500 headers", many.as_bytes(), 431, None)?;
    check("junk bytes", b"\x16\x03\x01\x00\xa5junk\r\n\r\n", 400, None)?;
    check(
        "a request line without a version",
        b"GET /healthz\r\n\r\n",
        400,
        None,
    )?;

    // Pipelined keep-alive requests: every one answered, in order.
    let mut connection = Connection::open(port)?;
    let mut pipelined = Vec::new();
    for word in ["one", "two", "three"] {
        pipelined.extend_from_slice(&post("/process", word.as_bytes()));
    }
    pipelined.extend_from_slice(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    connection.send(&pipelined)?;
    for (n, want) in ["ONE", "TWO", "THREE", "ok"].iter().enumerate() {
        tried += 1;
        let answer = connection
            .answer(WAIT)
            .with_context(|| format!("pipelined answer {n}"))?;
        answer.expect(200, Some(want), &format!("pipelined answer {n}"))?;
    }

    // A body trickled a byte at a time.
    tried += 1;
    let mut slow = Connection::open(port)?;
    slow.send(b"POST /process HTTP/1.1\r\nhost: x\r\ncontent-length: 12\r\n\r\n")?;
    slow.trickle(b"slow and low", Duration::from_millis(100))?;
    slow.answer(WAIT)?
        .expect(200, Some("SLOW AND LOW"), "trickled body")?;
    Ok(tried)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_changes_nothing() -> Result<()> {
    let lattice = Lattice::start("hostile-http").await?;
    let (rendered, client) = deploy_wiring(&lattice, Wiring::Composed, "neon-hostile").await?;

    let port = rendered.http_port;
    let tried = tokio::task::spawn_blocking(move || hostile_requests(port)).await??;

    // Nothing is stuck: the app serves ordinary requests as before.
    for n in 0..20 {
        client
            .post("/process", format!("after {n}"))
            .await?
            .expect(
                200,
                Some(&format!("AFTER {n}")),
                "after the hostile requests",
            )?;
    }
    eprintln!("hostile HTTP: {tried} requests, each answered as expected; 20 ordinary ones after, all 200");
    lattice.down()
}
